//! Hostile XML-RPC over good HTTP: malformed XML, an entity-expansion bomb, an external
//! entity, 5,000-deep nesting, GET and unknown paths. Each gets a clear fault or HTTP error
//! within bounded time; good clients keep being served. The HTTP layer's own limits (lengths,
//! timeouts, idle and slow clients, TLS handshakes) are tested once, in tether-http's
//! `bad_http.rs`.

#[path = "common.rs"]
mod common;
use common::*;
use std::sync::Arc;
use std::time::Duration;
use tether_core::{Call, Value};
use tether_test_support::raw_http as raw;
use tether_xmlrpc::{XmlRpcConfig, XmlRpcProxy, XmlRpcServer};

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
    good(&p, 2).await;
    server.shutdown().await;
}
