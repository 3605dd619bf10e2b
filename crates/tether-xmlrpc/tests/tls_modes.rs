//! Spring Python's three security modes against Python's `xmlrpc.client` with `ssl`: encrypt
//! only; a client certificate required; subject fields checked. Each accepts the right client
//! and refuses no certificate, a certificate from an untrusted CA, a wrong commonName, a
//! missing field, and TLS 1.1. And tether's client over HTTPS to Python's server.

#[path = "common.rs"]
mod common;
use common::*;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tether_core::{Call, Value};
use tether_tls::{CertReqs, ClientTls, ClientTlsSettings, ServerTls, ServerTlsSettings};
use tether_xmlrpc::{XmlRpcConfig, XmlRpcProxy, XmlRpcServer};

async fn server(dir: &Path, reqs: CertReqs, fields: &[(&str, &str)]) -> (XmlRpcServer, String) {
    let mut s = ServerTlsSettings::new(dir.join("server-cert.pem"), dir.join("server-key.pem"));
    s.ca_certs = Some(dir.join("ca-chain.pem"));
    s.cert_reqs = reqs;
    s.verify_fields = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let server = XmlRpcServer::bind(XmlRpcConfig {
        http: tether_http::HttpConfig {
            host: "localhost".into(),
            tls: Some(ServerTls::new(&s).unwrap()),
            log_requests: false,
            ..XmlRpcConfig::default().http
        },
        ..Default::default()
    })
    .await
    .unwrap();
    let url = server.register("calc", Arc::new(twin())).unwrap();
    (server, url)
}

fn call(url: &str, dir: &Path, cert: Option<&Path>, maxver: Option<&str>) -> String {
    let d = dir.to_str().unwrap().to_string();
    let (c, k) = match cert {
        Some(p) => (
            p.join("client-cert.pem").to_str().unwrap().to_string(),
            p.join("client-key.pem").to_str().unwrap().to_string(),
        ),
        None => ("-".to_string(), "-".to_string()),
    };
    let mut args = vec!["call", url, &d, &c, &k];
    if let Some(m) = maxver {
        args.push(m);
    }
    run_peer(&args).trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_security_modes_with_python_clients() {
    let base = std::env::temp_dir().join(format!("tether-xmlrpc-tls-{}", std::process::id()));
    let (pki, rogue) = (base.join("pki"), base.join("rogue"));
    tether_tls::generate_sample_pki(&pki, None).unwrap();
    tether_tls::generate_sample_pki(&rogue, None).unwrap();
    let run = |url: String, cert: Option<std::path::PathBuf>, maxver: Option<&'static str>| {
        let pki = pki.clone();
        tokio::task::spawn_blocking(move || call(&url, &pki, cert.as_deref(), maxver))
    };

    // 1. encrypt only: the whole scenario over HTTPS
    let (s, url) = server(&pki, CertReqs::None, &[]).await;
    let (u, d) = (url.clone(), pki.to_str().unwrap().to_string());
    let out = tokio::task::spawn_blocking(move || run_peer(&["scenario", &u, &d]))
        .await
        .unwrap();
    assert!(
        out.ends_with("done\n") && out.contains("echo 8 -> str:'héllo wörld ✓ 😀'"),
        "{out}"
    );
    assert_eq!(
        run(url.clone(), None, Some("1.1")).await.unwrap(),
        "refused: SSLError"
    );
    s.shutdown().await;

    // 2. a client certificate required
    let (s, url) = server(&pki, CertReqs::Required, &[]).await;
    assert_eq!(
        run(url.clone(), Some(pki.clone()), None).await.unwrap(),
        "ok"
    );
    assert!(run(url.clone(), None, None)
        .await
        .unwrap()
        .starts_with("refused"));
    assert!(run(url.clone(), Some(rogue.clone()), None)
        .await
        .unwrap()
        .starts_with("refused"));
    s.shutdown().await;

    // 3. subject fields checked
    let good = [
        ("commonName", "My Client"),
        ("organizationalUnitName", "My Unit"),
        ("countryName", "US"),
    ];
    let (s, url) = server(&pki, CertReqs::Required, &good).await;
    assert_eq!(
        run(url.clone(), Some(pki.clone()), None).await.unwrap(),
        "ok"
    );
    assert!(run(url.clone(), None, None)
        .await
        .unwrap()
        .starts_with("refused"));
    s.shutdown().await;
    let (s, url) = server(&pki, CertReqs::Required, &[("commonName", "Somebody Else")]).await;
    assert!(run(url.clone(), Some(pki.clone()), None)
        .await
        .unwrap()
        .starts_with("refused"));
    s.shutdown().await;
    let (s, url) = server(&pki, CertReqs::Required, &[("FOO", "BAR")]).await;
    assert!(run(url.clone(), Some(pki.clone()), None)
        .await
        .unwrap()
        .starts_with("refused"));
    s.shutdown().await;
    // verify_fields without client certificates is a configuration error
    let mut bad = ServerTlsSettings::new(pki.join("server-cert.pem"), pki.join("server-key.pem"));
    bad.verify_fields = vec![("commonName".into(), "x".into())];
    assert!(ServerTls::new(&bad).is_err());

    // tether's client: to Python's HTTPS server, and with its certificate to tether's
    let (_py, py_url) = python_server(Some(pki.to_str().unwrap()));
    let ca = ClientTls::new(&ClientTlsSettings::new(pki.join("ca-chain.pem"))).unwrap();
    let p = XmlRpcProxy::new(&py_url)
        .unwrap()
        .with_tls(ca)
        .with_timeout(Duration::from_secs(10));
    let v = Value::List(vec![
        Value::Int32(1),
        Value::str("two"),
        Value::Float(2.5),
        Value::None,
    ]);
    assert_eq!(p.call(Call::new("echo", vec![v.clone()])).await.unwrap(), v);
    let e = p
        .call(Call::new("fail", vec![Value::str("boom")]))
        .await
        .unwrap_err();
    assert_eq!(
        (e.class(), e.args().first()),
        (Some("builtins.ValueError"), Some(&Value::str("boom")))
    );
    let (s, url) = server(&pki, CertReqs::Required, &good).await;
    let mut c = ClientTlsSettings::new(pki.join("ca-chain.pem"));
    c.certfile = Some(pki.join("client-cert.pem"));
    c.keyfile = Some(pki.join("client-key.pem"));
    let p = XmlRpcProxy::new(&url)
        .unwrap()
        .with_tls(ClientTls::new(&c).unwrap());
    assert_eq!(
        p.call(Call::new("pow", vec![Value::Int32(41), Value::Int32(3)]))
            .await
            .unwrap(),
        Value::Int32(68921)
    );
    s.shutdown().await;
    std::fs::remove_dir_all(base).ok();
}
