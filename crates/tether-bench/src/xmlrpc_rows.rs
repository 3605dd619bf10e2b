//! The XML-RPC rows: tether's XML-RPC server and client against Python's standard ones, over
//! HTTP, HTTPS and mutual TLS, all with keep-alive. The service is `pow(x, y)`.

use crate::drive::{AsyncClient, BoxErr};
use std::sync::Arc;
use tether_core::{Call, RemoteError, Value};
use tether_xmlrpc::{Functions, XmlRpcConfig, XmlRpcProxy, XmlRpcServer};

/// Which link: plain HTTP, HTTPS, or HTTPS with client certificates.
#[derive(Clone, Copy, PartialEq)]
pub enum Link {
    /// HTTP.
    Plain,
    /// HTTPS, server certificate only.
    Tls,
    /// HTTPS with a client certificate required.
    Mutual,
}

impl Link {
    /// From the row kind: `xmlrpc`, `xmlrpc-tls`, `xmlrpc-mtls`.
    pub fn of(kind: &str) -> Link {
        match kind {
            "xmlrpc-tls" => Link::Tls,
            "xmlrpc-mtls" => Link::Mutual,
            _ => Link::Plain,
        }
    }
}

fn pki() -> Result<std::path::PathBuf, BoxErr> {
    std::env::var_os("TETHER_BENCH_PKI")
        .map(std::path::PathBuf::from)
        .ok_or_else(|| "TETHER_BENCH_PKI is not set (the orchestrator sets it)".into())
}

/// The server's TLS over `link` (the sample PKI; none for plain HTTP).
pub fn server_tls(link: Link) -> Result<Option<tether_tls::ServerTls>, BoxErr> {
    if link == Link::Plain {
        return Ok(None);
    }
    server_tls_in(&pki()?, link).map(Some)
}

/// The server's TLS over `link` with the sample PKI in `dir`.
pub fn server_tls_in(dir: &std::path::Path, link: Link) -> Result<tether_tls::ServerTls, BoxErr> {
    let mut s =
        tether_tls::ServerTlsSettings::new(dir.join("server-cert.pem"), dir.join("server-key.pem"));
    if link == Link::Mutual {
        s.ca_certs = Some(dir.join("ca-chain.pem"));
        s.cert_reqs = tether_tls::CertReqs::Required;
    }
    Ok(tether_tls::ServerTls::new(&s)?)
}

/// Serves `pow` at `/RPC2` on 127.0.0.1; runs until killed.
pub async fn serve(announce: fn(u16), link: Link) -> Result<(), BoxErr> {
    let mut config = XmlRpcConfig::default();
    config.http.host = "127.0.0.1".into();
    config.http.log_requests = false;
    config.http.tls = server_tls(link)?;
    let server = XmlRpcServer::bind(config).await?;
    let f = Functions::new().add("pow", &["x", "y"], |a| match (&a[0], &a[1]) {
        (Value::Int32(x), Value::Int32(y)) if *y >= 0 => {
            Ok(Value::Int32(x.wrapping_pow(*y as u32)))
        }
        _ => Err(RemoteError::type_error("pow takes two ints")),
    });
    server.register("bench", Arc::new(f))?;
    announce(server.local_addr().port());
    std::future::pending::<()>().await;
    Ok(())
}

/// One XML-RPC client (one keep-alive connection).
pub struct XmlRpcClient {
    proxy: XmlRpcProxy,
    call: Call,
}

impl XmlRpcClient {
    /// A client for the server at `addr` over `link`.
    pub fn connect(addr: &str, link: Link) -> Result<XmlRpcClient, BoxErr> {
        let port = addr.rsplit(':').next().unwrap_or("0");
        let mut proxy = match link {
            Link::Plain => XmlRpcProxy::new(&format!("http://{addr}/RPC2"))?,
            _ => XmlRpcProxy::new(&format!("https://localhost:{port}/RPC2"))?,
        };
        if link != Link::Plain {
            let dir = pki()?;
            let mut c = tether_tls::ClientTlsSettings::new(dir.join("ca-chain.pem"));
            if link == Link::Mutual {
                c.certfile = Some(dir.join("client-cert.pem"));
                c.keyfile = Some(dir.join("client-key.pem"));
            }
            proxy = proxy.with_tls(tether_tls::ClientTls::new(&c)?);
        }
        Ok(XmlRpcClient {
            proxy,
            call: Call::new("pow", vec![Value::Int32(41), Value::Int32(3)]),
        })
    }
}

impl AsyncClient for XmlRpcClient {
    async fn small(&mut self) -> Result<(), BoxErr> {
        match self.proxy.call(self.call.clone()).await? {
            Value::Int32(68921) => Ok(()),
            other => Err(format!("pow returned {other:?}").into()),
        }
    }

    async fn big(&mut self, _payload: Vec<u8>) -> Result<Vec<u8>, BoxErr> {
        Err("the XML-RPC rows measure sequential calls only".into())
    }
}
