//! Pyro5 over TLS through the shared `tether-tls` layer, against Python's Pyro5 with
//! `SSL=True`, both directions: client certificates, `verify_fields`, the verified subject in
//! the call context, a silent client that does not stall others.

mod common;
use common::python;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tether_core::{BoxFuture, Call, Dispatch, MethodInfo, RemoteError, Value};
use tether_pyro::{Daemon, DaemonConfig, Proxy};
use tether_tls::{CertReqs, ClientTls, ClientTlsSettings, ServerTls, ServerTlsSettings};

const PASSWORD: &str = "1234";

/// Answers `whoami()` with the verified subject's commonName and the peer's IP, from the call
/// context the daemon filled in.
struct WhoAmI;

static METHODS: [MethodInfo; 1] = [MethodInfo {
    name: "whoami",
    params: &[],
    oneway: false,
}];

impl Dispatch for WhoAmI {
    fn methods(&self) -> &[MethodInfo] {
        &METHODS
    }
    fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(async move {
            let cn = call
                .context
                .tls_subject
                .as_ref()
                .and_then(|s| s.get("commonName").map(str::to_string))
                .unwrap_or_else(|| "-".into());
            let ip = call
                .context
                .peer
                .map(|p| p.ip().to_string())
                .unwrap_or_default();
            Ok(Value::Str(format!("{cn} from {ip}")))
        })
    }
}

fn pki(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tether-pyro-tls-{tag}-{}", std::process::id()));
    tether_tls::generate_sample_pki(&dir, Some(PASSWORD)).unwrap();
    dir
}

fn server_tls(dir: &Path, common_name: &str) -> ServerTls {
    let mut s = ServerTlsSettings::new(dir.join("server-cert.pem"), dir.join("server-key.pem"))
        .client_certs(dir.join("ca-chain.pem"), CertReqs::Required)
        .verify_field("commonName", common_name)
        .verify_field("organizationName", "My Company");
    s.key_password = Some(PASSWORD.into());
    s.handshake_timeout = Duration::from_secs(2);
    ServerTls::new(&s).unwrap()
}

async fn tls_daemon(dir: &Path, common_name: &str) -> (Daemon, String) {
    let daemon = Daemon::bind(DaemonConfig {
        host: "127.0.0.1".into(),
        tls: Some(server_tls(dir, common_name)),
        ..DaemonConfig::default()
    })
    .await
    .unwrap();
    let uri = daemon.register("who", Arc::new(WhoAmI)).unwrap();
    (daemon, uri)
}

const PY_CLIENT: &str = r#"
import sys, Pyro5.api, Pyro5.errors
c = Pyro5.api.config
uri, d, with_cert = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
c.SSL = True
c.SSL_CACERTS = d + "/ca-chain.pem"
if with_cert:
    c.SSL_CLIENTCERT = d + "/client-cert.pem"
    c.SSL_CLIENTKEY = d + "/client-key.pem"
    c.SSL_CLIENTKEYPASSWD = "1234"
try:
    with Pyro5.api.Proxy(uri) as p:
        p._pyroTimeout = 10
        print(p.whoami())
except Exception as e:
    print("ERROR", type(e).__name__)
    sys.exit(3)
"#;

fn python_client(uri: &str, dir: &Path, with_cert: bool) -> Output {
    Command::new(python())
        .args(["-c", PY_CLIENT, uri, dir.to_str().unwrap()])
        .arg(if with_cert { "1" } else { "0" })
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[tokio::test]
async fn python_pyro5_ssl_client_reaches_a_tls_daemon_with_its_subject() {
    let dir = pki("daemon");
    let (daemon, uri) = tls_daemon(&dir, "My Client").await;
    let (u, d) = (uri.clone(), dir.clone());
    let o = tokio::task::spawn_blocking(move || python_client(&u, &d, true))
        .await
        .unwrap();
    assert_eq!(
        out(&o),
        "My Client from 127.0.0.1",
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Without a client certificate the handshake fails: Python sees a communication error.
    let (u, d) = (uri.clone(), dir.clone());
    let o = tokio::task::spawn_blocking(move || python_client(&u, &d, false))
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    // A tether proxy over TLS gets the same.
    let mut cs = ClientTlsSettings::new(dir.join("ca-chain.pem"))
        .client_cert(dir.join("client-cert.pem"), dir.join("client-key.pem"));
    cs.key_password = Some(PASSWORD.into());
    let proxy = Proxy::new(&uri)
        .unwrap()
        .with_tls(ClientTls::new(&cs).unwrap());
    let v = proxy.call(Call::new("whoami", vec![])).await.unwrap();
    assert_eq!(v, Value::str("My Client from 127.0.0.1"));
    // A plain-TCP proxy gets no answer it can use.
    let plain = Proxy::new(&uri)
        .unwrap()
        .with_timeout(Duration::from_secs(3));
    assert!(plain.call(Call::new("whoami", vec![])).await.is_err());
    daemon.shutdown().await;
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn verify_fields_refuses_another_subject_and_a_silent_client_stalls_nobody() {
    let dir = pki("fields");
    let (daemon, uri) = tls_daemon(&dir, "Somebody Else").await;
    let (u, d) = (uri.clone(), dir.clone());
    let o = tokio::task::spawn_blocking(move || python_client(&u, &d, true))
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "refused: {}", out(&o));
    daemon.shutdown().await;

    // Ten silent TCP connections do not hold up a real client.
    let (daemon, uri) = tls_daemon(&dir, "My Client").await;
    let addr = daemon.local_addr().unwrap();
    let mut silent = Vec::new();
    for _ in 0..10 {
        silent.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    let (u, d) = (uri.clone(), dir.clone());
    let o = tokio::task::spawn_blocking(move || python_client(&u, &d, true))
        .await
        .unwrap();
    assert_eq!(out(&o), "My Client from 127.0.0.1");
    drop(silent);
    daemon.shutdown().await;
    std::fs::remove_dir_all(dir).ok();
}

const PY_SERVER: &str = r#"
import sys, Pyro5.api
c = Pyro5.api.config
d = sys.argv[1]
c.SSL = True
c.SSL_REQUIRECLIENTCERT = True
c.SSL_SERVERCERT = d + "/server-cert.pem"
c.SSL_SERVERKEY = d + "/server-key.pem"
c.SSL_SERVERKEYPASSWD = "1234"
c.SSL_CACERTS = d + "/ca-chain.pem"

@Pyro5.api.expose
class Who:
    def whoami(self):
        cert = Pyro5.api.current_context.client.getpeercert()
        subject = dict(p[0] for p in cert["subject"])
        return "python saw " + subject["commonName"]

daemon = Pyro5.api.Daemon(host="127.0.0.1", port=0)
print(daemon.register(Who, "who"), flush=True)
daemon.requestLoop()
"#;

#[tokio::test]
async fn tether_proxy_over_tls_calls_a_python_pyro5_ssl_daemon() {
    let dir = pki("pyserver");
    let mut child = Command::new(python())
        .args(["-c", PY_SERVER, dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let uri = line.trim().to_string();
    let mut cs = ClientTlsSettings::new(dir.join("ca-chain.pem"))
        .client_cert(dir.join("client-cert.pem"), dir.join("client-key.pem"));
    cs.key_password = Some(PASSWORD.into());
    let proxy = Proxy::new(&uri)
        .unwrap()
        .with_timeout(Duration::from_secs(10))
        .with_tls(ClientTls::new(&cs).unwrap());
    let v = proxy.call(Call::new("whoami", vec![])).await;
    child.kill().ok();
    child.wait().ok();
    assert_eq!(v.unwrap(), Value::str("python saw My Client"));
    std::fs::remove_dir_all(dir).ok();
}
