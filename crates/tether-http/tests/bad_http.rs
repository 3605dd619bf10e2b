//! Misbehaving HTTP clients against the HTTP layer every HTTP wire (Hessian, XML-RPC) serves
//! on, written once here: headers that never end, a flood of idle connections, a declared
//! length of 4 GiB, a chunked body that grows past the limit, a gzip body that inflates past
//! it, a body that lies about its length and stalls, an unknown Content-Encoding, garbage
//! instead of HTTP, TLS sockets that never finish their handshake, and a client that never
//! reads its replies. Each gets a clear HTTP
//! error (or a close) within bounded time, and a good client is served throughout. What each
//! wire does with a bad body of its own format is tested in its crate.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;
use tether_core::BoxFuture;
use tether_http::{Handler, HttpClient, HttpConfig, HttpRequest, HttpResponse, HttpServer};
use tether_test_support::raw_http as raw;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Answers a POST to `/echo` with its body, anything else with 404.
struct Echo;

impl Handler for Echo {
    fn handle(&self, req: HttpRequest) -> BoxFuture<'_, HttpResponse> {
        Box::pin(async move {
            if req.path() == "/echo" && req.method == "POST" {
                HttpResponse::new(200, "application/octet-stream", req.body.to_vec())
            } else {
                HttpResponse::new(404, "text/plain", "no such page")
            }
        })
    }
}

/// A good client's call, which must be answered within 10 s whatever else is going on.
async fn good(client: &HttpClient, n: u32) {
    let body = format!("call {n}").into_bytes();
    let call = client.post("application/octet-stream", &[], body.clone());
    let reply = tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .expect("a good client is served within 10 s")
        .unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, body);
}

fn config() -> HttpConfig {
    HttpConfig {
        host: "127.0.0.1".into(),
        max_body: 1 << 20,
        body_timeout: Duration::from_millis(500),
        header_timeout: Duration::from_secs(1),
        max_connections: 64,
        ..HttpConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_http_gets_clear_errors_and_never_stalls_good_clients() {
    let server = HttpServer::bind(config(), Arc::new(Echo)).await.unwrap();
    let addr = server.local_addr();
    let client = HttpClient::new(&format!("{}/echo", server.base_url())).unwrap();
    good(&client, 0).await;

    // idle sockets and one stuck in its headers stay open while everything below runs
    let mut idle = Vec::new();
    for _ in 0..40 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    let mut stuck = TcpStream::connect(addr).await.unwrap();
    stuck
        .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();

    // 4 GiB declared: refused from the header, the body is never read
    let r = raw(
        addr,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4294967296\r\nConnection: close\r\n\r\nx",
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 413"), "{r}");
    // a chunked body that grows past the limit
    let mut chunked =
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            .to_vec();
    for _ in 0..20 {
        chunked.extend_from_slice(format!("{:x}\r\n", 100_000).as_bytes());
        chunked.extend(std::iter::repeat_n(b'x', 100_000));
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let r = raw(addr, &chunked).await;
    assert!(r.starts_with("HTTP/1.1 413"), "{}", &r[..r.len().min(200)]);
    good(&client, 1).await;
    // a gzip bomb: 8 MiB of zeros in a few KiB, over the 1 MiB limit once inflated
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&vec![0u8; 8 << 20]).unwrap();
    let bomb = z.finish().unwrap();
    let mut req = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        bomb.len()
    )
    .into_bytes();
    req.extend_from_slice(&bomb);
    let r = raw(addr, &req).await;
    assert!(
        r.starts_with("HTTP/1.1 413") && r.contains("inflated"),
        "{r}"
    );
    // gzip that is not gzip, and an encoding nobody speaks
    let r = raw(
        addr,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 400"), "{r}");
    let r = raw(
        addr,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: br\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 501"), "{r}");
    // garbage instead of HTTP: an error or a close, never a hang
    let r = raw(addr, b"\x16\x03\x01\x00\x05hello\r\n\r\n").await;
    assert!(r.is_empty() || r.starts_with("HTTP/1.1 4"), "{r}");
    good(&client, 2).await;
    // a Content-Length that lies (100 declared, 10 sent): 408 after the body timeout
    let mut liar = TcpStream::connect(addr).await.unwrap();
    liar.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
        .await
        .unwrap();
    good(&client, 3).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), liar.read_to_end(&mut out)).await;
    let r = String::from_utf8_lossy(&out);
    assert!(r.starts_with("HTTP/1.1 408"), "{r}");
    // the one stuck in its headers was closed by the header timeout
    let mut buf = [0u8; 64];
    let _ = tokio::time::timeout(Duration::from_secs(10), stuck.read(&mut buf))
        .await
        .expect("a client stuck in its headers is closed by the header timeout");
    good(&client, 4).await;
    drop(idle);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_are_shed_and_the_rest_served() {
    let server = HttpServer::bind(
        HttpConfig {
            max_connections: 4,
            ..config()
        },
        Arc::new(Echo),
    )
    .await
    .unwrap();
    let addr = server.local_addr();
    let client = HttpClient::new(&format!("{}/echo", server.base_url())).unwrap();
    good(&client, 0).await; // holds one of the four slots (keep-alive)
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // a fifth is closed at once
    let mut extra = TcpStream::connect(addr).await.unwrap();
    let mut b = [0u8; 8];
    let n = tokio::time::timeout(Duration::from_secs(5), extra.read(&mut b))
        .await
        .expect("a connection over the limit is closed at once")
        .unwrap_or(0);
    assert_eq!(n, 0);
    // the kept-alive client is still served; the silent ones time out and free their slots
    good(&client, 1).await;
    drop(held);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_sockets_that_never_finish_their_handshake_stall_nobody() {
    let dir = std::env::temp_dir().join(format!("tether-http-bad-tls-{}", std::process::id()));
    tether_tls::generate_sample_pki(&dir, None).unwrap();
    let mut s =
        tether_tls::ServerTlsSettings::new(dir.join("server-cert.pem"), dir.join("server-key.pem"));
    s.handshake_timeout = Duration::from_millis(500);
    let server = HttpServer::bind(
        HttpConfig {
            host: "localhost".into(),
            tls: Some(tether_tls::ServerTls::new(&s).unwrap()),
            ..config()
        },
        Arc::new(Echo),
    )
    .await
    .unwrap();
    let mut idle = Vec::new();
    for _ in 0..20 {
        let mut t = TcpStream::connect(server.local_addr()).await.unwrap();
        t.write_all(b"\x16\x03\x01").await.unwrap(); // the start of a ClientHello, then nothing
        idle.push(t);
    }
    let ca = tether_tls::ClientTls::new(&tether_tls::ClientTlsSettings::new(
        dir.join("ca-chain.pem"),
    ))
    .unwrap();
    let client = HttpClient::new(&format!("{}/echo", server.base_url()))
        .unwrap()
        .with_tls(ca);
    good(&client, 0).await;
    // they are closed by the handshake timeout
    let mut b = [0u8; 8];
    let n = tokio::time::timeout(Duration::from_secs(10), idle[0].read(&mut b))
        .await
        .expect("closed within 10 s")
        .unwrap_or(0);
    assert_eq!(n, 0);
    server.shutdown().await;
    std::fs::remove_dir_all(dir).ok();
}

/// A client that sends requests and never reads the replies fills the socket's buffers; the
/// server closes it after the body timeout instead of holding its connection for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_its_replies_is_closed() {
    let server = HttpServer::bind(config(), Arc::new(Echo)).await.unwrap();
    let addr = server.local_addr();
    let mut s = TcpStream::connect(addr).await.unwrap();
    let body = vec![b'x'; 512 * 1024];
    let mut request = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    // Up to 256 MiB of requests (far more than loopback buffers hold), never reading: the
    // writes fail once the server has closed the connection.
    let writes = async {
        for _ in 0..512 {
            if s.write_all(&request).await.is_err() {
                return true;
            }
        }
        false
    };
    let closed = tokio::time::timeout(Duration::from_secs(30), writes)
        .await
        .expect("the server closed the connection within 30 s");
    assert!(
        closed,
        "the server took 256 MiB of requests whose replies nobody read"
    );
    let client = HttpClient::new(&format!("{}/echo", server.base_url())).unwrap();
    good(&client, 5).await;
    server.shutdown().await;
}
