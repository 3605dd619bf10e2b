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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_replies_for_clients_that_ask() {
    let server = XmlRpcServer::bind(XmlRpcConfig {
        http: tether_http::HttpConfig {
            host: "127.0.0.1".into(),
            ..XmlRpcConfig::default().http
        },
        ..Default::default()
    })
    .await
    .unwrap();
    let url = server.register("calc", Arc::new(twin())).unwrap();
    // Python's client asks for gzip and inflates: a 20,000-character echo comes back whole
    let code = "import sys, xmlrpc.client\nprint(len(xmlrpc.client.ServerProxy(sys.argv[1]).echo('x' * 20000)))\n";
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python())
            .args(["-c", code, &url])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "20000");
    // on the wire the reply was gzipped
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = format!(
        "<?xml version='1.0'?><methodCall><methodName>echo</methodName><params><param><value>{}</value></param></params></methodCall>",
        "y".repeat(5000)
    );
    let mut s = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    let req = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).await.unwrap();
    let head = String::from_utf8_lossy(&reply[..reply.len().min(300)]).to_lowercase();
    assert!(head.contains("content-encoding: gzip"), "{head}");
    assert!(reply.len() < 2000, "{} bytes: not compressed", reply.len());
    server.shutdown().await;
}
