//! Spring Python's "Secure XML-RPC" examples, in Rust, with the files `tether pki DIR` writes:
//!
//! ```sh
//! tether pki pki/
//! cargo run -p secure-xmlrpc -- server pki/ encrypt      # or: require-cert, verify-fields
//! cargo run -p secure-xmlrpc -- client pki/ https://localhost:8000/RPC2
//! ```
//!
//! The server offers the seed's `pow(x, y)` and `listdir(path)` over HTTPS on localhost:8000;
//! the modes are the seed's three: encrypt only; a client certificate signed by the CA chain
//! required; and the client certificate's subject checked (`commonName` = `My Client`,
//! `organizationName` = `My Company`). The client presents `tether pki`'s client certificate and
//! prints `pow(41, 3)` and the first entries of `listdir('.')`. Python's client works the same
//! way (see the README).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use tether::xmlrpc::{Functions, XmlRpcConfig, XmlRpcProxy, XmlRpcServer};
use tether::{Call, RemoteError, Value};
use tether_tls::{CertReqs, ClientTls, ClientTlsSettings, ServerTls, ServerTlsSettings};

/// The seed's functions.
fn functions() -> Functions {
    Functions::new()
        .add("pow", &["x", "y"], |a| match (&a[0], &a[1]) {
            (Value::Int32(x), Value::Int32(y)) if *y >= 0 => {
                x.checked_pow(*y as u32).map(Value::Int32).ok_or_else(|| {
                    RemoteError::exception("builtins.OverflowError", "int exceeds XML-RPC limits")
                })
            }
            _ => Err(RemoteError::type_error("pow() takes two ints")),
        })
        .add("listdir", &["path"], |a| {
            let path = a[0]
                .as_str()
                .ok_or_else(|| RemoteError::type_error("listdir() takes a path"))?;
            let mut names: Vec<Value> = std::fs::read_dir(path)
                .map_err(|e| RemoteError::exception("builtins.FileNotFoundError", e.to_string()))?
                .filter_map(|e| e.ok())
                .map(|e| Value::Str(e.file_name().to_string_lossy().into_owned()))
                .collect();
            names.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            Ok(Value::List(names))
        })
}

async fn server(pki: &Path, mode: &str) -> Result<(), Box<dyn std::error::Error>> {
    let mut tls = ServerTlsSettings::new(pki.join("server-cert.pem"), pki.join("server-key.pem"));
    match mode {
        "encrypt" => {}
        "require-cert" | "verify-fields" => {
            tls.ca_certs = Some(pki.join("ca-chain.pem"));
            tls.cert_reqs = CertReqs::Required;
            if mode == "verify-fields" {
                tls.verify_fields = vec![
                    ("commonName".into(), "My Client".into()),
                    ("organizationName".into(), "My Company".into()),
                ];
            }
        }
        other => {
            return Err(
                format!("unknown mode {other:?} (encrypt, require-cert, verify-fields)").into(),
            )
        }
    }
    let mut config = XmlRpcConfig::default();
    config.http.host = "localhost".into();
    config.http.port = 8000;
    config.http.tls = Some(ServerTls::new(&tls)?);
    let server = XmlRpcServer::bind(config).await?;
    let url = server.register("funcs", Arc::new(functions()))?;
    println!("serving pow and listdir at {url} ({mode})");
    tokio::signal::ctrl_c().await?;
    server.shutdown().await;
    Ok(())
}

async fn client(pki: &Path, url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let mut tls = ClientTlsSettings::new(pki.join("ca-chain.pem"));
    tls.certfile = Some(pki.join("client-cert.pem"));
    tls.keyfile = Some(pki.join("client-key.pem"));
    let proxy = XmlRpcProxy::new(url)?.with_tls(ClientTls::new(&tls)?);
    let pow = proxy
        .call(Call::new("pow", vec![Value::Int32(41), Value::Int32(3)]))
        .await?;
    println!("pow(41, 3) = {pow}");
    let names = proxy
        .call(Call::new("listdir", vec![Value::str(".")]))
        .await?;
    let first: Vec<String> = names
        .as_seq()
        .unwrap_or(&[])
        .iter()
        .take(5)
        .map(|v| v.to_string())
        .collect();
    println!("listdir('.') starts with {}", first.join(", "));
    Ok(())
}

#[tokio::main]
async fn main() {
    // The seed's examples log with Python's `logging` layout; so does this one (TETHER_LOG
    // filters it, default info: the TLS refusals and the verified subjects of verify-fields).
    tether_cli::set_log_format(tether_cli::LogFormat::Python);
    let filter = std::env::var("TETHER_LOG").unwrap_or_else(|_| "info".into());
    if let Err(e) = tether_cli::init_logging(&filter) {
        eprintln!("secure-xmlrpc: {e}");
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["server", pki, mode] => server(&PathBuf::from(pki), mode).await,
        ["client", pki, url] => client(&PathBuf::from(pki), url).await,
        _ => Err("usage: secure-xmlrpc server PKI_DIR encrypt|require-cert|verify-fields\n       secure-xmlrpc client PKI_DIR URL".into()),
    };
    if let Err(e) = result {
        eprintln!("secure-xmlrpc: {e}");
        std::process::exit(1);
    }
}
