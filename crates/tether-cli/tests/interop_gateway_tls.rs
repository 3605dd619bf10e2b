//! A gateway with each side configured on its own: plain Pyro 3 in (the seed's Python 2
//! client), XML-RPC over mutual TLS out (Python's `xmlrpc` + `ssl` requiring a client
//! certificate), from Spring Python's own class names in one XML context.

mod common;

use common::{python, python2, root, start_until};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tether_test_support::{free_port, Proc};

#[test]
fn plain_pyro3_in_mutual_tls_xmlrpc_out() {
    let dir = std::env::temp_dir().join(format!("tether-gwtls-{}", std::process::id()));
    let pki = dir.join("pki");
    let st = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["pki", pki.to_str().unwrap()])
        .stdout(Stdio::null())
        .status()
        .expect("tether pki");
    assert!(st.success());
    let (_xr, lines) = start_until(
        Command::new(python())
            .arg("-u")
            .arg(root().join("crates/tether-xmlrpc/tests/python/xmlrpc_peer.py"))
            .args(["serve", pki.to_str().unwrap(), "require"]),
        "URL ",
    );
    let target = lines
        .last()
        .and_then(|l| l.strip_prefix("URL "))
        .expect("URL")
        .to_string();
    assert!(target.starts_with("https://"));
    let port = free_port();
    let context = |with_cert: bool| {
        let cert = if with_cert {
            format!(
                r#"<property name="certfile"><value>{p}/client-cert.pem</value></property>
    <property name="keyfile"><value>{p}/client-key.pem</value></property>"#,
                p = pki.display()
            )
        } else {
            String::new()
        };
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
  <object id="secure" class="springpython.remoting.xmlrpc.SSLClient">
    <property name="uri"><value>{target}</value></property>
    <property name="ca_certs"><value>{p}/ca-chain.pem</value></property>
    {cert}
  </object>
  <object id="exporter" class="springpython.remoting.pyro.PyroServiceExporter">
    <property name="service" ref="secure"/>
    <property name="service_name"><value>ServiceName</value></property>
    <property name="service_host"><value>127.0.0.1</value></property>
    <property name="service_port"><value>{port}</value></property>
  </object>
</objects>"#,
            p = pki.display()
        )
    };
    let call = |expect_ok: bool| {
        let out = python2()
            .args([
                "-c",
                "import sys, Pyro.core\nPyro.core.initClient(banner=0)\np = Pyro.core.getProxyForURI(sys.argv[1])\ntry:\n    print p.add(20, 22)\n    print repr(p.echo(u'through TLS'))\nexcept Exception, e:\n    print 'raised', e.__class__.__name__, e\n",
                &format!("PYROLOC://127.0.0.1:{port}/ServiceName"),
            ])
            .output()
            .expect("python2");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{}\n{text}",
            String::from_utf8_lossy(&out.stderr)
        );
        if expect_ok {
            assert!(
                text.starts_with("42\n") && text.contains("through TLS"),
                "{text}"
            );
        } else {
            assert!(text.starts_with("raised"), "{text}");
        }
    };
    for (with_cert, ok) in [(true, true), (false, false)] {
        let xml = dir.join(format!("gateway-{with_cert}.xml"));
        std::fs::write(&xml, context(with_cert)).unwrap();
        let _run = Proc(
            Command::new(env!("CARGO_BIN_EXE_tether"))
                .args(["run", xml.to_str().unwrap()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("tether run"),
        );
        let end = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < end, "the gateway never listened");
            std::thread::sleep(Duration::from_millis(50));
        }
        // Without a client certificate the target refuses the gateway, and the Python 2
        // client gets a remote error (the gateway stays up).
        call(ok);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
