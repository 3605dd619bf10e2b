//! Misbehaving HTTP clients against tether's Hessian server: GET, an unknown path, garbage and
//! truncated bodies, nesting and ref bombs, a 4 GiB Content-Length, a body over the limit, a
//! body that stalls, headers that never end, a flood of idle connections. Each gets a clear
//! HTTP error (or a close) within bounded time, and a good client is served throughout.

mod common;
use common::*;
use std::sync::Arc;
use std::time::Duration;
use tether_core::{Call, Value};
use tether_hessian::{HessianProxy, HessianServer, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn raw(addr: std::net::SocketAddr, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("the server answered or closed within 10 s");
    String::from_utf8_lossy(&out).into_owned()
}

fn post(body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST /test HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

async fn good(p: &HessianProxy, n: i32) {
    let v = tokio::time::timeout(
        Duration::from_secs(10),
        p.call(Call::new("add", vec![Value::Int32(n), Value::Int32(1)])),
    )
    .await
    .expect("good client served within 10 s")
    .unwrap();
    assert_eq!(v, Value::Int32(n + 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_clear_errors_and_never_stall_good_clients() {
    let server = HessianServer::bind(ServerConfig {
        host: "127.0.0.1".into(),
        max_body: 1 << 20,
        body_timeout: Duration::from_millis(500),
        header_timeout: Duration::from_secs(1),
        max_connections: 64,
        ..Default::default()
    })
    .await
    .unwrap();
    let url = server.register("test", Arc::new(Twin)).unwrap();
    let addr = server.local_addr();
    let p = HessianProxy::new(&url).unwrap();
    good(&p, 0).await;

    // idle sockets and one stuck in its headers stay open while everything below runs
    let mut idle = Vec::new();
    for _ in 0..40 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    let mut stuck = TcpStream::connect(addr).await.unwrap();
    stuck
        .write_all(b"POST /test HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();

    let r = raw(
        addr,
        b"GET /test HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        r.starts_with("HTTP/1.1 500") && r.contains("<h1>Hessian Requires POST</h1>"),
        "{r}"
    );
    let r = raw(
        addr,
        b"POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 404"), "{r}");
    let r = raw(addr, &post(b"GET / garbage")).await;
    assert!(
        r.starts_with("HTTP/1.1 500") && r.contains("unknown Hessian message code"),
        "{r}"
    );
    good(&p, 1).await;
    // a valid call cut at every byte
    let whole = b"H\x02\x00C\x03add\x92\x92\x93";
    for cut in 0..whole.len() {
        let r = raw(addr, &post(&whole[..cut])).await;
        assert!(r.starts_with("HTTP/1.1 500"), "cut {cut}: {r}");
    }
    // nesting bomb, ref loop, a string that lies about its length
    let mut deep = b"H\x02\x00C\x04echo\x91".to_vec();
    deep.extend(std::iter::repeat_n(0x79, 100_000));
    let r = raw(addr, &post(&deep)).await;
    assert!(r.contains("nested deeper"), "{r}");
    let r = raw(addr, &post(b"H\x02\x00C\x04echo\x91WQ\x90Z")).await;
    assert!(r.contains("loop"), "{r}");
    let r = raw(addr, &post(b"H\x02\x00C\x04echo\x91S\xff\xffabc")).await;
    assert!(r.contains("impossible"), "{r}");
    good(&p, 2).await;
    // 4 GiB declared: refused from the header, the body is never read
    let r = raw(addr, b"POST /test HTTP/1.1\r\nHost: x\r\nContent-Length: 4294967296\r\nConnection: close\r\n\r\nH").await;
    assert!(r.starts_with("HTTP/1.1 413"), "{r}");
    // a chunked body that grows past the limit
    let mut chunked = b"POST /test HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for _ in 0..20 {
        chunked.extend_from_slice(format!("{:x}\r\n", 100_000).as_bytes());
        chunked.extend(std::iter::repeat_n(b'x', 100_000));
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let r = raw(addr, &chunked).await;
    assert!(r.starts_with("HTTP/1.1 413"), "{}", &r[..r.len().min(200)]);
    // a body that stalls: 408 after body_timeout
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"POST /test HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nH\x02")
        .await
        .unwrap();
    good(&p, 3).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut out)).await;
    let r = String::from_utf8_lossy(&out);
    assert!(r.starts_with("HTTP/1.1 408"), "{r}");
    // the one stuck in its headers was closed by the header timeout
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(10), stuck.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    let _ = n;
    good(&p, 4).await;
    drop(idle);
    server.shutdown().await;
}
