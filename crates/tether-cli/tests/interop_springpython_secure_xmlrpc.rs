//! Secure XML-RPC against the seed's own stack (Spring Python 1.3.0.RC1 on Python 2.7, installed
//! by the test script into `.py2/`), both ways, in each of the seed's three modes (encrypted
//! only, a client certificate required, its subject fields checked), with every constructor
//! argument the seed documents given by position in the seed's order:
//! - the seed's `SSLServer` ← tether's `SSLClient` from an XML context (`tether call --context`);
//! - tether's `SSLServer` from an XML context (`tether run`) ← the seed's `SSLClient` (with the
//!   `transport` its Python 2.7 needs: see `seed_ssl_peer.py`).

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const MODES: [&str; 3] = ["encrypt", "require-cert", "verify-fields"];

fn peer() -> PathBuf {
    root().join("crates/tether-xmlrpc/tests/python2/seed_ssl_peer.py")
}

fn pki(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tether-seed-ssl-{tag}-{}", std::process::id()));
    let ok = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["pki", dir.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "tether pki");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let f = dir.join(name);
    std::fs::write(&f, text).unwrap();
    f
}

/// `<constructor-arg value=".."/>`, or `<null/>` for `None`.
fn arg(v: Option<&str>) -> String {
    match v {
        Some(v) => format!(r#"<constructor-arg value="{v}"/>"#),
        None => "<constructor-arg><null/></constructor-arg>".to_string(),
    }
}

#[test]
fn tethers_ssl_client_calls_the_seeds_ssl_server_in_each_mode() {
    let dir = pki("client");
    let d = |f: &str| dir.join(f).display().to_string();
    for mode in MODES {
        let mut server = Proc::spawn(
            python2()
                .arg(peer())
                .args(["server", dir.to_str().unwrap(), mode])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        let mut line = String::new();
        BufReader::new(server.0.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().to_string();
        assert!(
            port.parse::<u16>().is_ok(),
            "the seed's server said {line:?}"
        );
        let (key, cert) = if mode == "encrypt" {
            (None, None)
        } else {
            (Some(d("client-key.pem")), Some(d("client-cert.pem")))
        };
        // SSLClient(uri, ca_certs, keyfile, certfile, cert_reqs, ssl_version, transport,
        //           encoding, verbose, allow_none, use_datetime, timeout, strict)
        let args: String = [
            Some(format!("https://localhost:{port}/RPC2")),
            Some(d("ca-chain.pem")),
            key,
            cert,
            Some("ssl.CERT_REQUIRED".into()),
            Some("ssl.PROTOCOL_SSLv23".into()),
            None,
            Some("utf-8".into()),
            Some("False".into()),
            Some("True".into()),
            Some("False".into()),
            Some("20".into()),
            None,
        ]
        .iter()
        .map(|v| arg(v.as_deref()))
        .collect();
        let xml = write(
            &dir,
            &format!("client-{mode}.xml"),
            &format!(
                r#"<objects><object id="client" class="springpython.remoting.xmlrpc.SSLClient">{args}</object></objects>"#
            ),
        );
        let call = |method: &str, call_args: &[&str]| {
            let out = Command::new(env!("CARGO_BIN_EXE_tether"))
                .args(["call", "--context", xml.to_str().unwrap(), "client", method])
                .args(call_args)
                .output()
                .unwrap();
            (
                String::from_utf8_lossy(&out.stdout).trim().to_string(),
                String::from_utf8_lossy(&out.stderr).to_string(),
            )
        };
        let (out, err) = call("pow", &["2", "10"]);
        assert_eq!(out, "1024", "{mode}: {err}");
        let (out, err) = call("echo", &["['héllo', 1.5, {'k': True}]"]);
        assert_eq!(out, "['héllo', 1.5, {'k': True}]", "{mode}: {err}");
        drop(server);
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_seeds_ssl_client_calls_tethers_ssl_server_in_each_mode() {
    let dir = pki("server");
    let d = |f: &str| dir.join(f).display().to_string();
    for mode in MODES {
        let reqs = if mode == "encrypt" {
            "ssl.CERT_NONE"
        } else {
            "ssl.CERT_REQUIRED"
        };
        let fields = if mode == "verify-fields" {
            r#"<property name="verify_fields"><dict>
                 <entry><key><value>commonName</value></key><value>My Client</value></entry>
                 <entry><key><value>organizationName</value></key><value>My Company</value></entry>
               </dict></property>"#
        } else {
            ""
        };
        // SSLServer(host, port, keyfile, certfile, ca_certs, cert_reqs, ssl_version,
        //           do_handshake_on_connect, suppress_ragged_eofs, ciphers, log_requests)
        let args: String = [
            Some("localhost".to_string()),
            Some("0".into()),
            Some(d("server-key.pem")),
            Some(d("server-cert.pem")),
            Some(d("ca-chain.pem")),
            Some(reqs.into()),
            Some("ssl.PROTOCOL_SSLv23".into()),
            Some("True".into()),
            Some("True".into()),
            None,
            Some("False".into()),
        ]
        .iter()
        .map(|v| arg(v.as_deref()))
        .collect();
        let xml = write(
            &dir,
            &format!("server-{mode}.xml"),
            &format!(
                r#"<objects>
  <object id="echo" class="tether.echo.EchoService"/>
  <object id="server" class="springpython.remoting.xmlrpc.SSLServer">{args}
    <property name="service" ref="echo"/><property name="service_name" value="echo"/>{fields}
  </object>
</objects>"#
            ),
        );
        let mut server = Proc::spawn(
            Command::new(env!("CARGO_BIN_EXE_tether"))
                .args(["run", "--log", "tether.run=info"])
                .arg(&xml)
                .stdout(Stdio::null())
                .stderr(Stdio::piped()),
        );
        let stderr = server.0.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("serving on [").nth(1) {
                    let _ = tx.send(rest.split(']').next().unwrap_or("").to_string());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("no 'serving on' line within 30 s");
        let port = addr.rsplit(':').next().unwrap().to_string();
        let out = python2()
            .arg(peer())
            .args([
                "client",
                &format!("https://localhost:{port}/RPC2"),
                dir.to_str().unwrap(),
                mode,
                "echo",
            ])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "[u'h\\xe9llo', 1.5, {'k': True}]",
            "{mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        server.signal("TERM");
        drop(server);
    }
    std::fs::remove_dir_all(dir).ok();
}
