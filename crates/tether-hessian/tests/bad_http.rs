//! Bad Hessian over good HTTP against tether's Hessian server: GET, an unknown path, garbage
//! and truncated bodies, nesting and ref bombs, a string that lies about its length. Each gets
//! a clear HTTP error within bounded time, and a good client is served throughout. The HTTP
//! layer's own limits (lengths, timeouts, idle and slow clients, TLS) are tested once, in
//! tether-http's `bad_http.rs`.

mod common;
use common::*;
use std::sync::Arc;
use std::time::Duration;
use tether_core::{Call, Value};
use tether_hessian::{HessianProxy, HessianServer, ServerConfig};
use tether_test_support::raw_http as raw;

fn post(body: &[u8]) -> Vec<u8> {
    tether_test_support::post_request("/test", body)
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
    // nesting bomb, a string that lies about its length; a list holding itself is a loop, echoed
    // back as one (tests/loops.rs)
    let mut deep = b"H\x02\x00C\x04echo\x91".to_vec();
    deep.extend(std::iter::repeat_n(0x79, 100_000));
    let r = raw(addr, &post(&deep)).await;
    assert!(r.contains("nested deeper"), "{r}");
    let r = raw(addr, &post(b"H\x02\x00C\x04echo\x91WQ\x90Z")).await;
    assert!(r.starts_with("HTTP/1.1 200") && r.contains("RyQ"), "{r}");
    let r = raw(addr, &post(b"H\x02\x00C\x04echo\x91S\xff\xffabc")).await;
    assert!(r.contains("impossible"), "{r}");
    good(&p, 2).await;
    good(&p, 3).await;
    server.shutdown().await;
}
