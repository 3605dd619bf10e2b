//! How the server reads requests off a connection, as real clients send them: kept-alive and
//! HTTP/1.0 connections, pipelined requests, chunked bodies (Caucho's Java client posts in
//! chunks), `Expect: 100-continue` (curl's way with a large body), HEAD, absolute targets, and
//! the framings HTTP/1.1 says a server must refuse rather than guess at.

use std::sync::Arc;
use std::time::Duration;
use tether_core::BoxFuture;
use tether_http::{Handler, HttpConfig, HttpRequest, HttpResponse, HttpServer};
use tether_test_support::raw_http as raw;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Answers a POST to `/echo` with its body, `/slow` after 300 ms; any other request with its method, path and
/// `X-Tag` header.
struct Echo;

impl Handler for Echo {
    fn handle(&self, req: HttpRequest) -> BoxFuture<'_, HttpResponse> {
        Box::pin(async move {
            if req.path() == "/echo" && req.method == "POST" {
                HttpResponse::new(200, "application/octet-stream", req.body.to_vec())
            } else if req.path() == "/slow" {
                tokio::time::sleep(Duration::from_millis(300)).await;
                HttpResponse::new(200, "text/plain", "late")
            } else {
                let tag = req.header("x-tag").unwrap_or("-");
                let text = format!("{} {} {tag}", req.method, req.path());
                HttpResponse::new(200, "text/plain", text)
            }
        })
    }
}

async fn server() -> HttpServer {
    let config = HttpConfig {
        host: "127.0.0.1".into(),
        max_body: 1 << 20,
        body_timeout: Duration::from_secs(2),
        ..HttpConfig::default()
    };
    HttpServer::bind(config, Arc::new(Echo)).await.unwrap()
}

/// Reads one reply framed by its Content-Length (the server always sends one); the head and
/// the body.
async fn read_reply(s: &mut TcpStream, head_only: bool) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut byte))
            .await
            .expect("a reply within 10 s")
            .unwrap();
        assert_eq!(n, 1, "the connection closed inside a reply's head: {buf:?}");
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .expect("a Content-Length")
        .trim()
        .parse()
        .unwrap();
    let mut body = vec![0u8; if head_only { 0 } else { length }];
    s.read_exact(&mut body).await.unwrap();
    (head, body)
}

/// Whether the server closes `s` within 5 s without sending anything more.
async fn closes(s: &mut TcpStream) -> bool {
    let mut rest = Vec::new();
    matches!(
        tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut rest)).await,
        Ok(Ok(0))
    )
}

#[tokio::test]
async fn kept_alive_pipelined_and_http_1_0_connections() {
    let server = server().await;
    let addr = server.local_addr();
    let mut s = TcpStream::connect(addr).await.unwrap();
    // Two requests in one write, and blank lines between them: two replies, in order.
    s.write_all(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none\r\n\
          GET /page?q=1 HTTP/1.1\r\nHost: x\r\nX-Tag: two\r\n\r\n",
    )
    .await
    .unwrap();
    let (head, body) = read_reply(&mut s, false).await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains("\r\ndate: ") && head.contains(" GMT\r\n"),
        "{head}"
    );
    assert!(!head.contains("connection:"), "{head}");
    assert_eq!(body, b"one");
    let (_, body) = read_reply(&mut s, false).await;
    assert_eq!(body, b"GET /page two");
    // An absolute target is read for its path.
    s.write_all(b"GET http://example.com:8080/abs#frag HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_reply(&mut s, false).await.1, b"GET /abs -");
    // HEAD: the length of what GET would send, and no body (the next reply follows at once).
    s.write_all(b"HEAD /page HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    let (head, _) = read_reply(&mut s, true).await;
    assert!(head.contains("content-length: 12\r\n"), "{head}"); // "HEAD /page -"
    assert_eq!(read_reply(&mut s, false).await.1, b"GET /after -");
    // Connection: close is answered, then the connection closes.
    s.write_all(b"GET /last HTTP/1.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (head, _) = read_reply(&mut s, false).await;
    assert!(head.contains("connection: close\r\n"), "{head}");
    assert!(closes(&mut s).await);

    // HTTP/1.0: closed after one reply, unless it asks to keep the connection.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /a HTTP/1.0\r\n\r\n").await.unwrap();
    let (head, body) = read_reply(&mut s, false).await;
    assert!(head.contains("connection: close\r\n"), "{head}");
    assert_eq!(body, b"GET /a -");
    assert!(closes(&mut s).await);
    let mut s = TcpStream::connect(addr).await.unwrap();
    for _ in 0..2 {
        s.write_all(b"GET /b HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
            .await
            .unwrap();
        let (head, body) = read_reply(&mut s, false).await;
        assert!(head.contains("connection: keep-alive\r\n"), "{head}");
        assert_eq!(body, b"GET /b -");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn chunked_bodies_and_expect_continue() {
    let server = server().await;
    let addr = server.local_addr();
    let mut s = TcpStream::connect(addr).await.unwrap();
    // Chunks with an extension and a trailer, sent in two pieces.
    s.write_all(b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    s.write_all(b"7\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_reply(&mut s, false).await.1, b"hello, world");

    // Expect: 100-continue: the body is sent only after the server's 100.
    s.write_all(b"POST /echo HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        .await
        .unwrap();
    let mut interim = [0u8; 25];
    tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut interim))
        .await
        .expect("100 Continue within 5 s")
        .unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    s.write_all(b"body").await.unwrap();
    assert_eq!(read_reply(&mut s, false).await.1, b"body");

    // Both framings: read as chunked, answered, and the connection is not reused.
    s.write_all(
        b"POST /echo HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    )
    .await
    .unwrap();
    let (head, body) = read_reply(&mut s, false).await;
    assert_eq!(body, b"ok");
    assert!(head.contains("connection: close\r\n"), "{head}");
    assert!(closes(&mut s).await);
    server.shutdown().await;
}

#[tokio::test]
async fn framings_a_server_must_not_guess_at_are_refused() {
    let server = server().await;
    let addr = server.local_addr();
    let cases: [(&[u8], &str); 7] = [
        (
            b"POST /echo HTTP/1.1\r\nContent-Length: 12a\r\n\r\n",
            "HTTP/1.1 400",
        ),
        (
            b"POST /echo HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 400",
        ),
        (
            b"POST /echo HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            "HTTP/1.1 400",
        ),
        (
            b"POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            "HTTP/1.1 501",
        ),
        (
            b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "HTTP/1.1 400",
        ),
        (
            b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
            "HTTP/1.1 400",
        ),
        // a chunk size of 2^64 - 1
        (
            b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
            "HTTP/1.1 413",
        ),
    ];
    for (request, status) in cases {
        let r = raw(addr, request).await;
        assert!(
            r.starts_with(status) && r.contains("connection: close"),
            "{:?}: {r}",
            String::from_utf8_lossy(request)
        );
    }
    // Too many headers, and a head over 64 KiB: 431.
    let mut many = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..200 {
        many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    assert!(raw(addr, &many).await.starts_with("HTTP/1.1 431"));
    let mut long = b"GET / HTTP/1.1\r\nX-Long: ".to_vec();
    long.extend(std::iter::repeat_n(b'a', 70_000));
    long.extend_from_slice(b"\r\n\r\n");
    assert!(raw(addr, &long).await.starts_with("HTTP/1.1 431"));
    // A connection that closes in the middle of a head or a body gets nothing, and the
    // server serves the next one.
    for cut in [
        &b"POST /echo HTTP/1.1\r\nContent-Le"[..],
        b"POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",
    ] {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(cut).await.unwrap();
        s.shutdown().await.unwrap();
        assert!(closes(&mut s).await);
    }
    let r = raw(
        addr,
        b"POST /echo HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    )
    .await;
    assert!(
        r.starts_with("HTTP/1.1 200") && r.ends_with("\r\n\r\nok"),
        "{r}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_finishes_the_request_in_progress_and_closes_idle_connections() {
    let server = server().await;
    let addr = server.local_addr();
    let mut idle = TcpStream::connect(addr).await.unwrap();
    let mut busy = TcpStream::connect(addr).await.unwrap();
    busy.write_all(b"GET /slow HTTP/1.1\r\n\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stopping = tokio::spawn({
        let server = server.clone();
        async move { server.shutdown().await }
    });
    // The idle connection closes at once; the busy one gets its reply, told it is the last.
    assert!(closes(&mut idle).await);
    let (head, body) = read_reply(&mut busy, false).await;
    assert_eq!(body, b"late");
    assert!(head.contains("connection: close\r\n"), "{head}");
    assert!(closes(&mut busy).await);
    stopping.await.unwrap();
}
