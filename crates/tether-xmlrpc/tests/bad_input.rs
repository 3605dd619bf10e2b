//! Hostile XML-RPC clients: malformed XML, an entity-expansion bomb, an external entity,
//! 100,000-deep nesting, a 4 GiB Content-Length, a chunked body over the limit, a body that lies
//! about its length and stalls, headers that never end, and TLS handshakes that never finish.
//! Each gets a clear fault or HTTP error within bounded time; good clients keep being served.

#[path = "common.rs"]
mod common;
use common::*;
use std::sync::Arc;
use std::time::Duration;
use tether_core::{Call, Value};
use tether_xmlrpc::{XmlRpcConfig, XmlRpcProxy, XmlRpcServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn raw(addr: std::net::SocketAddr, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("answered or closed within 10 s");
    String::from_utf8_lossy(&out).into_owned()
}

fn post(body: &str) -> Vec<u8> {
    format!(
        "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn good(p: &XmlRpcProxy, n: i32) {
    let v = tokio::time::timeout(
        Duration::from_secs(10),
        p.call(Call::new("add", vec![Value::Int32(n), Value::Int32(1)])),
    )
    .await
    .expect("good client served in 10 s")
    .unwrap();
    assert_eq!(v, Value::Int32(n + 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_clear_errors_and_never_stall_good_clients() {
    let server = XmlRpcServer::bind(XmlRpcConfig {
        http: tether_http::HttpConfig {
            host: "127.0.0.1".into(),
            max_body: 1 << 20,
            body_timeout: Duration::from_millis(500),
            header_timeout: Duration::from_secs(1),
            log_requests: false,
            ..XmlRpcConfig::default().http
        },
        ..Default::default()
    })
    .await
    .unwrap();
    let url = server.register("calc", Arc::new(twin())).unwrap();
    let addr = server.local_addr();
    let p = XmlRpcProxy::new(&url).unwrap();
    good(&p, 0).await;
    let mut stuck = TcpStream::connect(addr).await.unwrap();
    stuck
        .write_all(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();

    let r = raw(
        addr,
        &post("<methodCall><methodName>add</methodName><params>"),
    )
    .await;
    assert!(
        r.starts_with("HTTP/1.1 200") && r.contains("ExpatError"),
        "{r}"
    );
    let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><methodCall><methodName>echo</methodName><params><param><value>&lol2;</value></param></params></methodCall>"#;
    let r = raw(addr, &post(bomb)).await;
    assert!(r.contains("faultCode") && r.contains("ExpatError"), "{r}");
    let external = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><methodCall><methodName>echo</methodName><params><param><value>&xxe;</value></param></params></methodCall>"#;
    let r = raw(addr, &post(external)).await;
    assert!(r.contains("faultCode") && !r.contains("root:"), "{r}");
    let mut deep = String::from("<methodCall><methodName>echo</methodName><params><param>");
    for _ in 0..5000 {
        deep.push_str("<value><array><data>");
    }
    let r = raw(addr, &post(&deep)).await;
    assert!(r.contains("faultCode"), "{}", &r[..r.len().min(300)]);
    good(&p, 1).await;
    let r = raw(addr, b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 4294967296\r\nConnection: close\r\n\r\n<").await;
    assert!(r.starts_with("HTTP/1.1 413"), "{r}");
    let mut chunked = b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for _ in 0..20 {
        chunked.extend_from_slice(format!("{:x}\r\n", 100_000).as_bytes());
        chunked.extend(std::iter::repeat_n(b'x', 100_000));
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let r = raw(addr, &chunked).await;
    assert!(r.starts_with("HTTP/1.1 413"), "{}", &r[..r.len().min(200)]);
    let r = raw(
        addr,
        b"GET /RPC2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        r.starts_with("HTTP/1.1 501") && r.contains("Unsupported method ('GET')"),
        "{r}"
    );
    let r = raw(
        addr,
        b"POST /elsewhere HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        r.starts_with("HTTP/1.1 404") && r.contains("No such page"),
        "{r}"
    );
    // a Content-Length that lies (100 declared, 10 sent): 408 after the body timeout
    let mut liar = TcpStream::connect(addr).await.unwrap();
    liar.write_all(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n<methodCal")
        .await
        .unwrap();
    good(&p, 2).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), liar.read_to_end(&mut out)).await;
    assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 408"));
    let mut buf = [0u8; 16];
    let _ = tokio::time::timeout(Duration::from_secs(10), stuck.read(&mut buf))
        .await
        .unwrap();
    good(&p, 3).await;
    server.shutdown().await;

    // TLS: sockets that never start or never finish their handshake stall nobody
    let dir = std::env::temp_dir().join(format!("tether-xmlrpc-bad-{}", std::process::id()));
    tether_tls::generate_sample_pki(&dir, None).unwrap();
    let mut s =
        tether_tls::ServerTlsSettings::new(dir.join("server-cert.pem"), dir.join("server-key.pem"));
    s.handshake_timeout = Duration::from_millis(500);
    let tls_server = XmlRpcServer::bind(XmlRpcConfig {
        http: tether_http::HttpConfig {
            host: "localhost".into(),
            tls: Some(tether_tls::ServerTls::new(&s).unwrap()),
            log_requests: false,
            ..XmlRpcConfig::default().http
        },
        ..Default::default()
    })
    .await
    .unwrap();
    let url = tls_server.register("calc", Arc::new(twin())).unwrap();
    let mut idle = Vec::new();
    for _ in 0..20 {
        let mut t = TcpStream::connect(tls_server.local_addr()).await.unwrap();
        t.write_all(b"\x16\x03\x01").await.unwrap(); // the start of a ClientHello, then nothing
        idle.push(t);
    }
    let ca = tether_tls::ClientTls::new(&tether_tls::ClientTlsSettings::new(
        dir.join("ca-chain.pem"),
    ))
    .unwrap();
    let p = XmlRpcProxy::new(&url).unwrap().with_tls(ca);
    good(&p, 4).await;
    // they are closed by the handshake timeout
    let mut b = [0u8; 8];
    let n = tokio::time::timeout(Duration::from_secs(10), idle[0].read(&mut b))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0);
    tls_server.shutdown().await;
    std::fs::remove_dir_all(dir).ok();
}
