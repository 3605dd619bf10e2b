//! `tether gateway`, and an XML exporter whose `service` is a proxy factory: a remote object of
//! one wire served on another, with real peers at both ends. Calls, keyword arguments, the
//! target's methods answered to Pyro clients, errors mapped so the caller's wire can read them,
//! and a target that goes away and comes back while the gateway stays up.

mod common;

use common::{python, python2, root, start_until, start_with, Proc};
use std::process::Command;
use std::time::{Duration, Instant};
use tether_test_support::java_peer::{java_hessian_client, java_hessian_server};

/// Starts `tether gateway TARGET ARGS...`; returns it and its `gateway uri:`.
fn gateway(target: &str, args: &[&str]) -> (Proc, String) {
    start_with(
        Command::new(env!("CARGO_BIN_EXE_tether"))
            .args(["gateway", target])
            .args(args),
        "gateway uri: ",
    )
}

fn xmlrpc_server() -> (Proc, String) {
    start_with(
        Command::new(python())
            .arg("-u")
            .arg(root().join("crates/tether-xmlrpc/tests/python/xmlrpc_peer.py"))
            .arg("serve"),
        "URL ",
    )
}

fn pyro5_test_server() -> (Proc, String) {
    start_with(
        Command::new(python())
            .arg("-u")
            .arg(root().join("crates/tether-pyro/tests/python/test_server.py")),
        "server uri: ",
    )
}

/// Runs a Python 3 snippet with `argv[1]` = `url`; its stdout.
fn py(script: &str, url: &str) -> String {
    let out = Command::new(python())
        .args(["-c", script, url])
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "python failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const PYRO5_CLIENT: &str = r#"
import sys, Pyro5.api
p = Pyro5.api.Proxy(sys.argv[1])
print(repr(p.echo({"a": [1, 2.5, None, "é"]})))
print(p.add(2, 3))
try:
    p.fail("boom")
except Exception as e:
    print("raised", type(e).__name__, e)
print(sorted(p._pyroMethods))
"#;

#[test]
fn python_pyro5_client_reaches_python_xmlrpc() {
    let (_xr, xr_url) = xmlrpc_server();
    let (_gw, uri) = gateway(
        &xr_url,
        &[
            "--target-protocol",
            "xmlrpc",
            "--listen",
            "PYRO:svc@127.0.0.1:0",
        ],
    );
    assert!(uri.starts_with("PYRO:svc@127.0.0.1:"), "{uri}");
    let out = py(PYRO5_CLIENT, &uri);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "{'a': [1, 2.5, None, 'é']}");
    assert_eq!(lines[1], "5");
    assert!(
        lines[2].starts_with("raised ValueError") && lines[2].contains("boom"),
        "{out}"
    );
    assert_eq!(
        lines[3], "['add', 'echo', 'fail', 'pow']",
        "the target's methods, from its introspection"
    );
}

#[test]
fn python_xmlrpc_client_reaches_python_pyro5() {
    let (_py, target) = pyro5_test_server();
    let (_gw, uri) = gateway(
        &target,
        &[
            "--protocol",
            "xmlrpc",
            "--listen",
            "http://127.0.0.1:0/RPC2",
        ],
    );
    let out = py(
        r#"
import sys, xmlrpc.client
p = xmlrpc.client.ServerProxy(sys.argv[1], allow_none=True)
print(repr(p.echo([1, "two", {"k": 3.5}])))
print(p.greet("hello", "world"))
try:
    p.fail("x")
except xmlrpc.client.Fault as f:
    print("fault", f.faultString)
"#,
        &uri,
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "[1, 'two', {'k': 3.5}]");
    assert_eq!(lines[1], "hello, world!");
    assert!(
        lines[2].starts_with("fault")
            && lines[2].contains("ValueError")
            && lines[2].contains("bad param: x"),
        "{out}"
    );
}

#[test]
fn pyro4_client_reaches_a_pyro5_server() {
    let (_py, target) = pyro5_test_server();
    let (_gw, uri) = gateway(
        &target,
        &["--protocol", "pyro4", "--listen", "PYRO:svc@127.0.0.1:0"],
    );
    let out = py(
        r#"
import sys, Pyro4
Pyro4.config.SERIALIZER = "serpent"
p = Pyro4.Proxy(sys.argv[1])
print(repr(p.echo((1, "x"))))
print(p.greet("hi", punct="?"))
try:
    p.fail_key()
except KeyError as e:
    print("raised KeyError", e.args)
"#,
        &uri,
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "(1, 'x')");
    assert_eq!(lines[1], "hi, nobody?", "keyword arguments pass");
    assert_eq!(lines[2], "raised KeyError ('missing', 42)");
}

#[test]
fn python_pyro5_client_reaches_java_hessian() {
    let (_java, java_url) = java_hessian_server();
    let (_gw, uri) = gateway(
        &java_url,
        &[
            "--listen",
            "PYRO:svc@127.0.0.1:0",
            "--methods",
            "getData,add,fail,cons",
        ],
    );
    let out = py(
        r#"
import sys, Pyro5.api
p = Pyro5.api.Proxy(sys.argv[1])
print(p.getData("Hello"))
print(p.add(2, 3))
try:
    p.fail("boom")
except Exception as e:
    print("raised", type(e).__name__, e)
try:
    p.cons("a")
except Exception as e:
    print("raised", type(e).__name__, e)
print(p.add(1, 1))
"#,
        &uri,
    );
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("Hello"), "{out}");
    assert_eq!(lines[1], "5");
    assert_eq!(
        lines[2], "raised Exception java.lang.IllegalStateException: boom",
        "{out}"
    );
    // A reply holding a reference loop: serpent has no references, so the caller gets a clear
    // error and the connection goes on.
    assert!(
        lines[3].starts_with("raised") && lines[3].contains("reference loop"),
        "{out}"
    );
    assert_eq!(lines[4], "2", "{out}");
}

#[test]
fn python_hessian_reads_a_reference_loop_through_a_hessian_gateway() {
    let (_java, java_url) = java_hessian_server();
    let (_gw, uri) = gateway(
        &java_url,
        &[
            "--protocol",
            "hessian",
            "--listen",
            "http://127.0.0.1:0/svc",
        ],
    );
    let out = py(
        r#"
import sys
from pyhessian.client import HessianProxy
for version in (2, 1):
    c = HessianProxy(sys.argv[1], version=version).cons("a")
    print(version, type(c).__name__, c.first, c.rest is c)
"#,
        &uri,
    );
    assert_eq!(out, "2 Cons a True\n1 Cons a True\n", "{out}");
}

#[test]
fn java_hessian_client_reaches_python_pyro5() {
    let (_py, target) = start_with(
        Command::new(python()).args([
            "-u",
            "-c",
            r#"
import Pyro5.api
@Pyro5.api.expose
class S:
    def getData(self, s): return "python got " + s
    def add(self, a, b): return a + b
    def fail(self, msg): raise ValueError(msg)
d = Pyro5.api.Daemon(host="127.0.0.1")
print("server uri:", d.register(S(), "svc"), flush=True)
d.requestLoop()
"#,
        ]),
        "server uri: ",
    );
    let (_gw, uri) = gateway(
        &target,
        &[
            "--protocol",
            "hessian",
            "--listen",
            "http://127.0.0.1:0/svc",
        ],
    );
    let out = java_hessian_client(&["basic", &uri]);
    assert!(out.contains("getData -> String(python got Hello)"), "{out}");
    assert!(
        out.contains("add -> Integer(5)"),
        "an int comes back as a Java int: {out}"
    );
    assert!(
        out.contains("fail -> threw") && out.contains("boom"),
        "{out}"
    );
}

#[test]
fn the_seeds_python2_client_reaches_python3_xmlrpc_over_pyro3() {
    let (_xr, xr_url) = xmlrpc_server();
    let (_gw, uri) = gateway(
        &xr_url,
        &[
            "--target-protocol",
            "xmlrpc",
            "--protocol",
            "pyro3",
            "--listen",
            "PYROLOC://127.0.0.1:0/svc",
        ],
    );
    let out = python2()
        .args([
            "-c",
            r#"
import sys
import Pyro.core, Pyro.errors
Pyro.core.initClient(banner=0)
p = Pyro.core.getProxyForURI(sys.argv[1])
print repr(p.echo(u"from python 2"))
print p.add(40, 2)
try:
    p.fail("old")
except Exception, e:
    print "raised", e.__class__.__name__, e
"#,
            &uri,
        ])
        .output()
        .expect("python2");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    // Pyro 3's pickle subset gives Python 2 an ASCII text as `str`.
    assert!(lines[0].ends_with("'from python 2'"), "{text}");
    assert_eq!(lines[1], "42");
    assert!(
        lines[2].starts_with("raised ValueError") && lines[2].contains("old"),
        "{text}"
    );
}

#[test]
fn a_target_that_goes_away_gives_clean_errors_and_comes_back() {
    let port = tether_test_support::free_port();
    let target = |port: u16| {
        start_until(
            Command::new(env!("CARGO_BIN_EXE_tether")).args([
                "echo-server",
                "--protocol",
                "pyro5",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ]),
            "echo uri:",
        )
        .0
    };
    let t = target(port);
    let url = format!("PYRO:test.echoserver@127.0.0.1:{port}");
    let (_gw, uri) = gateway(
        &url,
        &["--listen", "PYRO:echo@127.0.0.1:0", "--timeout", "2"],
    );
    let script = r#"
import sys, Pyro5.api, Pyro5.errors
p = Pyro5.api.Proxy(sys.argv[1])
try:
    print(p.echo("up"))
except Exception as e:
    print("raised", type(e).__name__)
"#;
    assert_eq!(py(script, &uri).trim(), "up");
    drop(t);
    let down = py(script, &uri);
    assert!(down.starts_with("raised"), "{down}");
    let _t = target(port);
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let again = py(script, &uri);
        if again.trim() == "up" {
            break;
        }
        assert!(Instant::now() < end, "the gateway did not recover: {again}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn an_xml_exporter_of_a_proxy_factory_is_a_gateway() {
    let (_xr, xr_url) = xmlrpc_server();
    let dir = std::env::temp_dir().join(format!("tether-gw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let xml = dir.join("gateway.xml");
    let port = tether_test_support::free_port();
    std::fs::write(
        &xml,
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
  <object id="remote" class="tether.xmlrpc.ProxyFactory">
    <property name="service_url"><value>{xr_url}</value></property>
  </object>
  <object id="exporter" class="tether.pyro.ServiceExporter">
    <property name="service" ref="remote"/>
    <property name="service_name"><value>bridged</value></property>
    <property name="service_host"><value>127.0.0.1</value></property>
    <property name="service_port"><value>{port}</value></property>
  </object>
</objects>"#
        ),
    )
    .unwrap();
    let (_run, lines) = start_until(
        Command::new(env!("CARGO_BIN_EXE_tether")).args([
            "run",
            "--admin",
            "127.0.0.1:0",
            xml.to_str().unwrap(),
        ]),
        "admin uri:",
    );
    let admin = lines
        .iter()
        .find_map(|l| l.strip_prefix("admin uri: "))
        .expect("admin uri")
        .trim_start_matches("http://")
        .to_string();
    // Ready once the exporter serves.
    common::wait_ready(&format!("http://{admin}"), Duration::from_secs(20));
    let out = py(PYRO5_CLIENT, &format!("PYRO:bridged@127.0.0.1:{port}"));
    assert!(out.starts_with("{'a': [1, 2.5, None, 'é']}\n5\n"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_remote_iterator_streams_through_a_pyro_gateway_and_attributes_pass() {
    let (_t, lines) = start_until(
        Command::new(env!("CARGO_BIN_EXE_tether")).args([
            "echo-server",
            "--protocol",
            "pyro5",
            "-H",
            "127.0.0.1",
            "-p",
            "0",
        ]),
        "echo uri:",
    );
    let target = common::uri_of(&lines);
    let (_gw, uri) = gateway(
        &target,
        &["--listen", "PYRO:echo@127.0.0.1:0", "--timeout", "1"],
    );
    let out = py(
        r#"
import sys, Pyro5.api, Pyro5.errors
p = Pyro5.api.Proxy(sys.argv[1])
it = p.generator()
print(type(it).__name__, list(it))
print(p.verbose)
p.verbose = True
print(p.verbose)
p.oneway_echo("x")
print("oneway returned")
try:
    p.slow()
except Exception as e:
    print("raised", type(e).__name__)
"#,
        &uri,
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0], "_StreamResultIterator ['one', 'two', 'three']",
        "{out}"
    );
    assert_eq!(lines[1..3], ["False", "True"], "{out}");
    assert_eq!(lines[3], "oneway returned");
    // The gateway's own timeout (1 s) ends a call the target takes 5 s for.
    assert!(lines[4].starts_with("raised"), "{out}");
}

#[test]
fn the_seeds_python2_client_reaches_java_hessian_over_pyro3() {
    let (_java, java_url) = java_hessian_server();
    let (_gw, uri) = gateway(
        &java_url,
        &[
            "--protocol",
            "pyro3",
            "--listen",
            "PYROLOC://127.0.0.1:0/svc",
        ],
    );
    let out = python2()
        .args([
            "-c",
            r#"
import sys
import Pyro.core
Pyro.core.initClient(banner=0)
p = Pyro.core.getProxyForURI(sys.argv[1])
print p.getData("Hello")
print p.add(40, 2)
try:
    p.fail("old")
except Exception, e:
    print "raised", e.__class__.__name__, e
"#,
            &uri,
        ])
        .output()
        .expect("python2");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("Hello"), "{text}");
    assert_eq!(lines[1], "42");
    assert!(
        lines[2].contains("java.lang.IllegalStateException") && lines[2].contains("old"),
        "{text}"
    );
}

#[test]
fn a_pool_behind_a_gateway() {
    let mut targets = Vec::new();
    let mut urls = Vec::new();
    for _ in 0..2 {
        let (p, lines) = start_until(
            Command::new(env!("CARGO_BIN_EXE_tether")).args([
                "echo-server",
                "--protocol",
                "pyro5",
                "-H",
                "127.0.0.1",
                "-p",
                "0",
            ]),
            "echo uri:",
        );
        urls.push(common::uri_of(&lines));
        targets.push(p);
    }
    let dir = std::env::temp_dir().join(format!("tether-gwpool-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let xml = dir.join("pool-gateway.xml");
    let port = tether_test_support::free_port();
    std::fs::write(
        &xml,
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
  <object id="members" class="tether.cluster.PoolProxyFactory">
    <property name="service_urls"><list><value>{}</value><value>{}</value></list></property>
    <property name="idempotent_methods"><list><value>echo</value></list></property>
  </object>
  <object id="exporter" class="tether.xmlrpc.ServiceExporter">
    <property name="service" ref="members"/>
    <property name="service_name"><value>echo</value></property>
    <property name="service_host"><value>127.0.0.1</value></property>
    <property name="service_port"><value>{port}</value></property>
  </object>
</objects>"#,
            urls[0], urls[1]
        ),
    )
    .unwrap();
    let (_run, lines) = start_until(
        Command::new(env!("CARGO_BIN_EXE_tether")).args([
            "run",
            "--admin",
            "127.0.0.1:0",
            xml.to_str().unwrap(),
        ]),
        "admin uri:",
    );
    let admin = lines
        .iter()
        .find_map(|l| l.strip_prefix("admin uri: "))
        .expect("admin uri")
        .to_string();
    // Ready once the exporter serves (a fixed number of retries was not enough on a busy
    // machine: the context starts after the admin endpoint).
    common::wait_ready(&admin, Duration::from_secs(30));
    let script = r#"
import sys, xmlrpc.client
p = xmlrpc.client.ServerProxy(sys.argv[1])
print([p.echo(i) for i in range(6)])
"#;
    let url = format!("http://127.0.0.1:{port}/RPC2");
    assert_eq!(py(script, &url).trim(), "[0, 1, 2, 3, 4, 5]");
    // One member goes: the pool fails over, the XML-RPC client sees nothing.
    targets.remove(0);
    assert_eq!(py(script, &url).trim(), "[0, 1, 2, 3, 4, 5]");
    let _ = std::fs::remove_dir_all(&dir);
}
