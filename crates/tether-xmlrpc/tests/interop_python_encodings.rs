//! Requests in the character sets Python's client writes with `encoding=` (UTF-8, ISO-8859-1,
//! US-ASCII: named in the XML declaration, other characters as character references), both
//! ways: tether's client against Python's `SimpleXMLRPCServer`, Python's client against
//! tether's server.

#[path = "common.rs"]
mod common;
use common::*;
use std::process::Command;
use std::sync::Arc;
use tether_core::{Call, Value};
use tether_xmlrpc::{RequestEncoding, XmlRpcConfig, XmlRpcProxy, XmlRpcServer};

const TEXT: &str = "h\u{e9}llo \u{2713} \u{1F600}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tethers_client_writes_each_encoding_pythons_server_reads() {
    let (_server, url) = tokio::task::spawn_blocking(|| python_server(None))
        .await
        .unwrap();
    for enc in [
        RequestEncoding::Utf8,
        RequestEncoding::Latin1,
        RequestEncoding::Ascii,
    ] {
        let p = XmlRpcProxy::new(&url).unwrap().with_encoding(enc);
        let v = p
            .call(Call::new("echo", vec![Value::str(TEXT)]))
            .await
            .unwrap();
        assert_eq!(v, Value::str(TEXT), "{enc:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pythons_client_writes_each_encoding_tethers_server_reads() {
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
    let code = "import sys, xmlrpc.client\nfor enc in ('utf-8', 'iso-8859-1', 'us-ascii'):\n    p = xmlrpc.client.ServerProxy(sys.argv[1], encoding=enc)\n    print(enc, p.echo(sys.argv[2]) == sys.argv[2])\n";
    let url2 = url.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python())
            .args(["-c", code, &url2, TEXT])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "utf-8 True\niso-8859-1 True\nus-ascii True\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.shutdown().await;
}
