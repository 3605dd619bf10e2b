//! The HTTP client against scripted servers: every way a reply can be framed, and every way
//! a server can lie about it. Each case is a real TCP server on loopback that reads one
//! request and writes the given bytes.

use std::time::Duration;
use tether_core::ErrorKind;
use tether_http::HttpClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A server that answers each of its connections' requests with the next reply in `replies`
/// (then closes that connection if `close` is set), and counts the requests it read.
async fn scripted(replies: Vec<(Vec<u8>, bool)>) -> (String, tokio::task::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/RPC2", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut served = 0;
        let mut replies = replies.into_iter().peekable();
        'conns: while replies.peek().is_some() {
            let Ok(Ok((mut s, _))) =
                tokio::time::timeout(Duration::from_secs(5), listener.accept()).await
            else {
                break;
            };
            loop {
                let Some((reply, close)) = replies.next() else {
                    break 'conns;
                };
                let mut req = Vec::new();
                let mut buf = [0u8; 4096];
                // Read the head and the body (Content-Length) of one request.
                loop {
                    let n = match s.read(&mut buf).await {
                        Ok(0) | Err(_) => continue 'conns,
                        Ok(n) => n,
                    };
                    req.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&req).into_owned();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len: usize = text
                            .lines()
                            .find_map(|l| l.strip_prefix("Content-Length: "))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        if req.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                served += 1;
                s.write_all(&reply).await.unwrap();
                if close {
                    continue 'conns;
                }
            }
        }
        served
    });
    (url, task)
}

fn ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[tokio::test]
async fn content_length_chunked_and_close_framed_replies() {
    let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n".to_vec();
    let interim =
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec();
    let close_framed = b"HTTP/1.0 200 OK\r\n\r\nuntil the end".to_vec();
    let (url, server) = scripted(vec![
        (ok("first"), false),
        (chunked, false),
        (interim, false),
        (close_framed, true),
        (ok("new connection"), false),
    ])
    .await;
    let client = HttpClient::new(&url).unwrap();
    let bodies = [
        "first",
        "hello world",
        "ok",
        "until the end",
        "new connection",
    ];
    for want in bodies {
        let r = client
            .post("text/xml", &[], b"<x/>".to_vec())
            .await
            .unwrap();
        assert_eq!((r.status, &r.body[..]), (200, want.as_bytes()));
    }
    drop(client);
    assert_eq!(server.await.unwrap(), 5);
}

#[tokio::test]
async fn lying_and_broken_replies_are_clear_errors() {
    let cases: Vec<(&[u8], &str)> = vec![
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 4294967296\r\n\r\n",
            "over the limit",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            "closed after 5",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            "is not a number",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffff\r\n",
            "over the limit",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "bad chunk size",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
            "longer than its stated size",
        ),
        (b"garbage\r\n\r\n", "malformed HTTP reply"),
        (
            b"HTTP/1.1 200 OK\r\nContent-",
            "middle of the reply's headers",
        ),
    ];
    for (reply, want) in cases {
        let (url, server) = scripted(vec![(reply.to_vec(), true)]).await;
        let client = HttpClient::new(&url).unwrap();
        let e = client
            .post("text/xml", &[], b"<x/>".to_vec())
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains(want),
            "{:?}: {e}",
            String::from_utf8_lossy(reply)
        );
        // The request went out: it is not marked safe to send again.
        assert!(e.may_have_reached_server(), "{e}");
        drop(client);
        server.await.unwrap();
    }
}

#[tokio::test]
async fn headers_without_end_are_bounded() {
    let mut endless = b"HTTP/1.1 200 OK\r\n".to_vec();
    while endless.len() < 200 * 1024 {
        endless.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    }
    let (url, server) = scripted(vec![(endless, true)]).await;
    let client = HttpClient::new(&url).unwrap();
    let e = client
        .post("text/xml", &[], b"<x/>".to_vec())
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("headers are over") || e.to_string().contains("malformed"),
        "{e}"
    );
    assert_eq!(e.kind(), ErrorKind::Protocol);
    server.await.unwrap();
}

#[tokio::test]
async fn a_kept_alive_connection_closed_while_idle_is_replaced_once() {
    // The first connection answers one request then closes without saying so; the client
    // finds out on its next request, which goes out again on a new connection.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/RPC2", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        for reply in ["one", "two"] {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let _ = s.read(&mut buf).await.unwrap();
            s.write_all(&ok(reply)).await.unwrap();
            // Let the client read the reply, then drop the connection.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let client = HttpClient::new(&url).unwrap();
    let r = client.post("text/xml", &[], b"a".to_vec()).await.unwrap();
    assert_eq!(&r.body[..], b"one");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = client.post("text/xml", &[], b"b".to_vec()).await.unwrap();
    assert_eq!(&r.body[..], b"two");
    server.await.unwrap();
}

#[tokio::test]
async fn a_refused_connection_is_not_sent() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = HttpClient::new(&format!("http://127.0.0.1:{port}/")).unwrap();
    let e = client.post("text/xml", &[], vec![]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection);
    assert!(!e.may_have_reached_server(), "{e}");
}
