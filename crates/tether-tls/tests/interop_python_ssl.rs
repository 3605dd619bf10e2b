//! tether-tls against Python's `ssl` (OpenSSL), both directions, with the sample PKI that
//! `generate_sample_pki` (`tether pki`) writes; and the PKI against the `openssl` command.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use tether_test_support::python;
use tether_tls::{
    generate_sample_pki, CertReqs, ClientTls, ClientTlsSettings, ServerTls, ServerTlsSettings,
    TlsErrorKind, TlsVersions,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PASSWORD: &str = "1234";

fn peer_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/tls_peer.py")
}

fn pki(tag: &str, password: Option<&str>) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tether-tls-{tag}-{}", std::process::id()));
    generate_sample_pki(&dir, password).expect("sample PKI");
    dir
}

fn server_settings(dir: &Path, reqs: CertReqs) -> ServerTlsSettings {
    let mut s = ServerTlsSettings::new(dir.join("server-cert.pem"), dir.join("server-key.pem"))
        .client_certs(dir.join("ca-chain.pem"), reqs);
    s.key_password = Some(PASSWORD.into());
    s.handshake_timeout = Duration::from_secs(2);
    s
}

/// A line echo over TLS: each connection's handshake runs on its own task; the reply names the
/// verified subject's commonName.
async fn serve(tls: ServerTls) -> (u16, tokio::task::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let h = tokio::spawn(async move {
        loop {
            let Ok((tcp, peer)) = l.accept().await else {
                return;
            };
            let tls = tls.clone();
            tokio::spawn(async move {
                let Ok(acc) = tls.accept(tcp, Some(peer)).await else {
                    return;
                };
                let cn = acc
                    .subject
                    .as_ref()
                    .and_then(|s| s.get("commonName").map(str::to_string))
                    .unwrap_or_else(|| "-".into());
                let mut r = tokio::io::BufReader::new(acc.stream);
                let mut line = String::new();
                if r.read_line(&mut line).await.is_ok() {
                    let _ = r
                        .get_mut()
                        .write_all(format!("tether saw {cn}: {line}").as_bytes())
                        .await;
                    let _ = r.get_mut().shutdown().await;
                }
            });
        }
    });
    (port, h)
}

fn python_client(port: u16, dir: &Path, with_cert: bool) -> (i32, String) {
    let mut cmd = Command::new(python());
    cmd.arg(peer_script())
        .arg("client")
        .arg(port.to_string())
        .arg(dir.join("ca-chain.pem"));
    if with_cert {
        cmd.arg(dir.join("client-cert.pem"))
            .arg(dir.join("client-key.pem"))
            .arg(PASSWORD);
    }
    let out = cmd.output().expect("run python");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    )
}

#[test]
fn openssl_accepts_both_leaves_against_the_chain() {
    let dir = pki("openssl", None);
    for leaf in ["server-cert.pem", "client-cert.pem"] {
        let out = Command::new("openssl")
            .arg("verify")
            .arg("-CAfile")
            .arg(dir.join("ca-chain.pem"))
            .arg(dir.join(leaf))
            .output()
            .expect("the openssl command (scripts/test.sh installs it)");
        assert!(
            out.status.success(),
            "{leaf}: {}",
            String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr)
        );
    }
    // The client's subject is the seed's.
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in"])
        .arg(dir.join("client-cert.pem"))
        .output()
        .unwrap();
    let subject = String::from_utf8_lossy(&out.stdout).to_string();
    for part in ["CN=My Client", "O=My Company", "ST=My State"] {
        assert!(subject.contains(part), "{subject}");
    }
    // An encrypted key opens with its password, in openssl too.
    let enc = pki("openssl-enc", Some(PASSWORD));
    let out = Command::new("openssl")
        .args(["pkey", "-noout", "-passin", "pass:1234", "-in"])
        .arg(enc.join("client-key.pem"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(dir).ok();
    std::fs::remove_dir_all(enc).ok();
}

#[tokio::test]
async fn python_client_with_certificate_passes_verify_fields() {
    let dir = pki("fields", Some(PASSWORD));
    let settings = server_settings(&dir, CertReqs::Required)
        .verify_field("commonName", "My Client")
        .verify_field("organizationName", "My Company")
        .verify_field("stateOrProvinceName", "My State");
    let (port, h) = serve(ServerTls::new(&settings).unwrap()).await;
    let d = dir.clone();
    let (code, out) = tokio::task::spawn_blocking(move || python_client(port, &d, true))
        .await
        .unwrap();
    assert_eq!((code, out.as_str()), (0, "tether saw My Client: hello"));
    // Without a certificate the handshake fails on the Python side.
    let d = dir.clone();
    let (code, out) = tokio::task::spawn_blocking(move || python_client(port, &d, false))
        .await
        .unwrap();
    assert_eq!(code, 3, "{out}");
    h.abort();
    std::fs::remove_dir_all(dir).ok();
}

/// What Python's `ssl` negotiates with a tether server of `versions`, capped at `max`.
fn python_version(port: u16, dir: &Path, max: Option<&str>) -> (i32, String) {
    let mut cmd = Command::new(python());
    cmd.arg(peer_script())
        .arg("version")
        .arg(port.to_string())
        .arg(dir.join("ca-chain.pem"))
        .args(max);
    let out = cmd.output().expect("run python");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    )
}

#[tokio::test]
async fn ssl_version_pins_what_python_negotiates() {
    let dir = pki("versions", Some(PASSWORD));
    let mut results = Vec::new();
    for versions in ["ssl.PROTOCOL_SSLv23", "ssl.PROTOCOL_TLSv1_2", "TLSv1_3"] {
        let mut settings = server_settings(&dir, CertReqs::None);
        settings.versions = versions.parse::<TlsVersions>().unwrap();
        let (port, h) = serve(ServerTls::new(&settings).unwrap()).await;
        for max in [None, Some("1.2")] {
            let d = dir.clone();
            let r = tokio::task::spawn_blocking(move || python_version(port, &d, max))
                .await
                .unwrap();
            results.push((versions, max, r));
        }
        h.abort();
    }
    let ok = |v: &str| (0, v.to_string());
    let refused = (3, "ERROR SSLError".to_string());
    assert_eq!(
        results,
        [
            ("ssl.PROTOCOL_SSLv23", None, ok("TLSv1.3")),
            ("ssl.PROTOCOL_SSLv23", Some("1.2"), ok("TLSv1.2")),
            ("ssl.PROTOCOL_TLSv1_2", None, ok("TLSv1.2")),
            ("ssl.PROTOCOL_TLSv1_2", Some("1.2"), ok("TLSv1.2")),
            ("TLSv1_3", None, ok("TLSv1.3")),
            ("TLSv1_3", Some("1.2"), refused),
        ]
    );
    std::fs::remove_dir_all(dir).ok();
}

/// `ciphers` as an OpenSSL cipher string chooses the TLS 1.2 suite Python's `ssl` gets.
#[tokio::test]
async fn ciphers_choose_the_suite_python_negotiates() {
    let dir = pki("ciphers", Some(PASSWORD));
    let mut got = Vec::new();
    for spec in [
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE+AES256:!CHACHA20",
        "HIGH:!AESGCM",
    ] {
        let mut settings = server_settings(&dir, CertReqs::None);
        settings.ciphers = Some(spec.into());
        let (port, h) = serve(ServerTls::new(&settings).unwrap()).await;
        let d = dir.clone();
        let out = tokio::task::spawn_blocking(move || {
            let o = Command::new(python())
                .arg(peer_script())
                .args(["cipher", &port.to_string()])
                .arg(d.join("ca-chain.pem"))
                .output()
                .unwrap();
            String::from_utf8_lossy(&o.stdout).trim().to_string()
        })
        .await
        .unwrap();
        got.push(out);
        h.abort();
    }
    assert_eq!(
        got,
        [
            "ECDHE-ECDSA-CHACHA20-POLY1305",
            "ECDHE-ECDSA-AES256-GCM-SHA384",
            "ECDHE-ECDSA-CHACHA20-POLY1305"
        ]
    );
    // a string that leaves no suite tether has is refused when the settings are built
    let mut settings = server_settings(&dir, CertReqs::None);
    settings.ciphers = Some("RC4-SHA:DES-CBC3-SHA".into());
    let e = ServerTls::new(&settings).unwrap_err();
    assert!(e.message().contains("names none"), "{e}");
    std::fs::remove_dir_all(dir).ok();
}

/// A client with `cert_reqs=CERT_NONE` connects to a server whose certificate it cannot
/// verify (no `ca_certs`, a wrong host name); the default client refuses it.
#[tokio::test]
async fn a_client_without_verification_connects_where_a_verifying_one_refuses() {
    let dir = pki("noverify", Some(PASSWORD));
    let settings = server_settings(&dir, CertReqs::None);
    let (port, h) = serve(ServerTls::new(&settings).unwrap()).await;
    let insecure = ClientTls::new(&ClientTlsSettings {
        skip_server_verification: true,
        ..ClientTlsSettings::default()
    })
    .unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut s = insecure
        .connect("not.the.name", tcp, Duration::from_secs(5))
        .await
        .unwrap();
    s.write_all(b"unverified\n").await.unwrap();
    let mut got = String::new();
    tokio::io::BufReader::new(s)
        .read_line(&mut got)
        .await
        .unwrap();
    assert_eq!(got, "tether saw -: unverified\n");
    let verifying = ClientTls::new(&ClientTlsSettings::new(dir.join("ca-chain.pem"))).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    assert!(verifying
        .connect("not.the.name", tcp, Duration::from_secs(5))
        .await
        .is_err());
    h.abort();
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn ssl_version_names_python_writes() {
    for (text, want) in [
        ("ssl.PROTOCOL_SSLv23", TlsVersions::Tls12And13),
        ("PROTOCOL_TLS", TlsVersions::Tls12And13),
        ("ssl.PROTOCOL_TLS_SERVER", TlsVersions::Tls12And13),
        ("2", TlsVersions::Tls12And13),
        ("ssl.PROTOCOL_TLSv1_2", TlsVersions::Tls12),
        ("5", TlsVersions::Tls12),
        ("TLSv1_3", TlsVersions::Tls13),
    ] {
        assert_eq!(text.parse::<TlsVersions>().unwrap(), want, "{text}");
    }
    for old in [
        "ssl.PROTOCOL_TLSv1",
        "PROTOCOL_TLSv1_1",
        "PROTOCOL_SSLv3",
        "3",
    ] {
        let e = old.parse::<TlsVersions>().unwrap_err();
        assert!(e.message().contains("PROTOCOL_SSLv23"), "{e}");
    }
    assert!("TLSv9".parse::<TlsVersions>().is_err());
}

#[tokio::test]
async fn wrong_subject_is_refused_without_a_reply() {
    let dir = pki("refuse", Some(PASSWORD));
    let settings =
        server_settings(&dir, CertReqs::Required).verify_field("commonName", "Somebody Else");
    let tls = ServerTls::new(&settings).unwrap();
    let (port, h) = serve(tls.clone()).await;
    let d = dir.clone();
    let (code, out) = tokio::task::spawn_blocking(move || python_client(port, &d, true))
        .await
        .unwrap();
    assert_eq!(code, 3, "the client must see only a transport error: {out}");

    // The same refusal seen from Rust: the error names the field, both values and the peer.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let client = ClientTls::new(
        &ClientTlsSettings::new(dir.join("ca-chain.pem"))
            .client_cert(dir.join("client-cert.pem"), dir.join("client-key.pem")),
    );
    // The key is encrypted: without the password it is a configuration error.
    assert_eq!(client.unwrap_err().kind(), TlsErrorKind::Config);
    let mut cs = ClientTlsSettings::new(dir.join("ca-chain.pem"))
        .client_cert(dir.join("client-cert.pem"), dir.join("client-key.pem"));
    cs.key_password = Some(PASSWORD.into());
    let client = ClientTls::new(&cs).unwrap();
    let c = tokio::spawn(async move {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let s = client
            .connect("localhost", tcp, Duration::from_secs(5))
            .await;
        if let Ok(mut s) = s {
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf).await;
        }
    });
    let (tcp, peer) = l.accept().await.unwrap();
    let e = tls.accept(tcp, Some(peer)).await.unwrap_err();
    assert_eq!(e.kind(), TlsErrorKind::Refused);
    assert!(
        e.message().starts_with(
            "Expected the subject field 'commonName' to have value 'Somebody Else' instead of 'My Client'"
        ) && e.message().contains(&format!("from_addr={peer}")),
        "{e}"
    );
    c.await.unwrap();
    h.abort();
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn a_silent_client_does_not_stall_others() {
    let dir = pki("silent", Some(PASSWORD));
    let (port, h) =
        serve(ServerTls::new(&server_settings(&dir, CertReqs::Optional)).unwrap()).await;
    // Five connections that never say anything.
    let mut idle = Vec::new();
    for _ in 0..5 {
        idle.push(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
    }
    let d = dir.clone();
    let (code, out) = tokio::task::spawn_blocking(move || python_client(port, &d, false))
        .await
        .unwrap();
    assert_eq!((code, out.as_str()), (0, "tether saw -: hello"));
    // The silent ones are dropped once the handshake timeout (2 s here) passes.
    let mut s = idle.pop().unwrap();
    let mut buf = [0u8; 1];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
        .await
        .expect("closed within the handshake timeout")
        .unwrap_or(0);
    assert_eq!(n, 0);
    h.abort();
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn rust_client_against_python_server_checks_the_hostname() {
    let dir = pki("pyserver", None);
    let mut child = Command::new(python())
        .arg(peer_script())
        .arg("server")
        .arg(dir.join("ca-chain.pem"))
        .arg(dir.join("server-cert.pem"))
        .arg(dir.join("server-key.pem"))
        .arg("required")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line.trim().parse().unwrap();
    let client = ClientTls::new(
        &ClientTlsSettings::new(dir.join("ca-chain.pem"))
            .client_cert(dir.join("client-cert.pem"), dir.join("client-key.pem")),
    )
    .unwrap();
    for host in ["localhost", "127.0.0.1"] {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut s = client
            .connect(host, tcp, Duration::from_secs(5))
            .await
            .unwrap();
        s.write_all(b"hi\n").await.unwrap();
        let mut buf = vec![0u8; 256];
        let mut got = Vec::new();
        while !got.ends_with(b"\n") {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(String::from_utf8_lossy(&got), "python saw My Client: hi\n");
    }
    // The client's ssl_version: Python's server speaks 1.2 and 1.3; the pin decides.
    for (versions, want) in [
        (TlsVersions::Tls12And13, rustls::ProtocolVersion::TLSv1_3),
        (TlsVersions::Tls12, rustls::ProtocolVersion::TLSv1_2),
    ] {
        let mut settings = ClientTlsSettings::new(dir.join("ca-chain.pem"))
            .client_cert(dir.join("client-cert.pem"), dir.join("client-key.pem"));
        settings.versions = versions;
        let pinned = ClientTls::new(&settings).unwrap();
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut s = pinned
            .connect("localhost", tcp, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(s.get_ref().1.protocol_version(), Some(want), "{versions:?}");
        s.write_all(b"pinned\n").await.unwrap();
        let mut got = Vec::new();
        let mut buf = vec![0u8; 256];
        while !got.ends_with(b"\n") {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(
            String::from_utf8_lossy(&got),
            "python saw My Client: pinned\n"
        );
    }
    // A name the certificate does not carry is refused by the client.
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let e = client
        .connect("wrong.example", tcp, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), TlsErrorKind::Handshake, "{e}");
    child.kill().ok();
    child.wait().ok();
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn settings_mistakes_are_configuration_errors() {
    let dir = pki("config", None);
    let mut s = ServerTlsSettings::new(dir.join("server-cert.pem"), dir.join("server-key.pem"));
    s.verify_fields.push(("commonName".into(), "x".into()));
    let e = ServerTls::new(&s).unwrap_err();
    assert_eq!(e.kind(), TlsErrorKind::Config);
    assert!(e
        .message()
        .contains("verify_fields needs client certificates"));
    let mut s = ServerTlsSettings::new(dir.join("server-cert.pem"), dir.join("client-key.pem"));
    s.cert_reqs = CertReqs::None;
    assert_eq!(ServerTls::new(&s).unwrap_err().kind(), TlsErrorKind::Config);
    let s = ServerTlsSettings::new(dir.join("nope.pem"), dir.join("server-key.pem"));
    assert!(ServerTls::new(&s)
        .unwrap_err()
        .message()
        .contains("nope.pem"));
    assert!("CERT_REQUIRED".parse::<CertReqs>().is_ok());
    assert!("ssl.CERT_OPTIONAL".parse::<CertReqs>().is_ok());
    assert!("maybe".parse::<CertReqs>().is_err());
    std::fs::remove_dir_all(dir).ok();
}
