//! Python's `xmlrpc.client` against tether's server: the same scenario (every value type, nil,
//! faults, wrong argument counts, introspection, multicall) gets the same answers from tether's
//! server as from Python's own `SimpleXMLRPCServer` serving the same functions.

#[path = "common.rs"]
mod common;
use common::*;
use std::sync::Arc;
use tether_xmlrpc::{XmlRpcConfig, XmlRpcServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_gets_the_same_answers_from_tether_as_from_python() {
    let (_py, py_url) = python_server(None);
    let server = XmlRpcServer::bind(XmlRpcConfig {
        http: tether_http::HttpConfig {
            host: "127.0.0.1".into(),
            log_requests: false,
            ..XmlRpcConfig::default().http
        },
        ..Default::default()
    })
    .await
    .unwrap();
    let url = server.register("calc", Arc::new(twin())).unwrap();
    let (a, b) = (py_url.clone(), url.clone());
    let p = tokio::task::spawn_blocking(move || run_peer(&["scenario", &a]))
        .await
        .unwrap();
    let t = tokio::task::spawn_blocking(move || run_peer(&["scenario", &b]))
        .await
        .unwrap();
    assert!(p.ends_with("done\n"), "{p}");
    let diff: Vec<String> = p
        .lines()
        .zip(t.lines())
        .filter(|(x, y)| x != y)
        .map(|(x, y)| format!("python: {x}\ntether: {y}"))
        .collect();
    assert!(
        diff.is_empty(),
        "answers differ:\n{}\n--- tether:\n{t}",
        diff.join("\n")
    );
    server.shutdown().await;
}
