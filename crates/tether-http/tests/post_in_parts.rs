//! A POST sent in parts (the span exporter's way: `HttpClient::send_parts`, its reply read
//! later with `HttpClient::reply`) against the HTTP layer's own server.

use std::sync::Arc;
use std::time::Duration;
use tether_core::BoxFuture;
use tether_http::{Handler, HttpClient, HttpConfig, HttpRequest, HttpResponse, HttpServer};

/// Answers a POST with its body.
struct Echo;

impl Handler for Echo {
    fn handle(&self, req: HttpRequest) -> BoxFuture<'_, HttpResponse> {
        Box::pin(
            async move { HttpResponse::new(200, "application/octet-stream", req.body.to_vec()) },
        )
    }
}

/// A POST sent in parts (the span exporter's way: `send_parts`, the reply read later) arrives
/// as one body, the parts in order, an empty one included; a large body is written from its
/// parts as it is; and the connection is kept for the next request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_sent_in_parts_arrives_whole_and_its_reply_can_wait() {
    let config = HttpConfig {
        host: "127.0.0.1".into(),
        max_body: 1 << 20,
        ..HttpConfig::default()
    };
    let server = HttpServer::bind(config, Arc::new(Echo)).await.unwrap();
    let client = HttpClient::new(&format!("{}/echo", server.base_url())).unwrap();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    for parts in [
        vec![&b"ab"[..], &b""[..], &b"cde"[..]],
        vec![&b"head"[..], &big[..], &big[..1000], &b"tail"[..]],
    ] {
        let sent = client
            .send_parts("application/octet-stream", &[], &parts)
            .await
            .unwrap();
        // Other work meanwhile: the reply waits in the socket.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let reply = client.reply(sent, &parts).await.unwrap();
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, parts.concat());
    }
    // The kept-alive connection still serves a plain POST.
    let reply = client
        .post("text/plain", &[], b"plain".to_vec())
        .await
        .unwrap();
    assert_eq!(&reply.body[..], b"plain");
    server.shutdown().await;
}
