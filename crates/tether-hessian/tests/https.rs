//! Hessian over HTTPS through the shared TLS layer: a tether proxy reaches a tether server that
//! requires client certificates (with the sample PKI), one without a certificate is refused,
//! and one that does not trust the server's CA is refused too.

mod common;
use common::*;
use std::sync::Arc;
use std::time::Duration;
use tether_core::{Call, Value};
use tether_hessian::{HessianProxy, HessianServer, ServerConfig};
use tether_tls::{CertReqs, ClientTls, ClientTlsSettings, ServerTls, ServerTlsSettings};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_client_certificates() {
    let dir = std::env::temp_dir().join(format!("tether-hessian-tls-{}", std::process::id()));
    tether_tls::generate_sample_pki(&dir, None).unwrap();
    let mut s = ServerTlsSettings::new(dir.join("server-cert.pem"), dir.join("server-key.pem"));
    s.ca_certs = Some(dir.join("ca-chain.pem"));
    s.cert_reqs = CertReqs::Required;
    let server = HessianServer::bind(ServerConfig {
        host: "localhost".into(),
        tls: Some(ServerTls::new(&s).unwrap()),
        ..Default::default()
    })
    .await
    .unwrap();
    let url = server.register("test", Arc::new(Twin)).unwrap();
    assert!(url.starts_with("https://localhost:"), "{url}");
    let mut c = ClientTlsSettings::new(dir.join("ca-chain.pem"));
    c.certfile = Some(dir.join("client-cert.pem"));
    c.keyfile = Some(dir.join("client-key.pem"));
    let p = HessianProxy::new(&url)
        .unwrap()
        .with_tls(ClientTls::new(&c).unwrap())
        .with_timeout(Duration::from_secs(10));
    let got = p
        .call(Call::new("getData", vec![Value::str("tls")]))
        .await
        .unwrap();
    assert_eq!(got, Value::str("You got remoted data: tls"));
    // no client certificate: the handshake is refused
    let bare = HessianProxy::new(&url)
        .unwrap()
        .with_tls(ClientTls::new(&ClientTlsSettings::new(dir.join("ca-chain.pem"))).unwrap())
        .with_timeout(Duration::from_secs(10));
    assert!(bare
        .call(Call::new("getData", vec![Value::str("x")]))
        .await
        .is_err());
    // https without TLS settings: a clear configuration error
    let e = HessianProxy::new(&url)
        .unwrap()
        .call(Call::new("getData", vec![Value::str("x")]))
        .await
        .unwrap_err();
    assert!(e.message().contains("TLS settings"), "{e}");
    // the good client still works
    assert!(p.call(Call::new("ping", vec![])).await.is_ok());
    server.shutdown().await;
    std::fs::remove_dir_all(dir).ok();
}
