//! `tether call` speaks each wire as that wire's usual Python client does, against real peers:
//! integers go to Caucho's Java Hessian server as python-hessian sends them (`Integer` when they
//! fit 32 bits, else `Long`), typed literals reach Java as the types they name, results print
//! as python-hessian's and Python's XML-RPC client hold them (dates, objects with their class);
//! arguments come from `-d` text, a file or stdin; `--header` reaches a Python Pyro5 server as
//! an annotation and a Python XML-RPC server as an HTTP header.

mod common;

use common::{python, start_with, tether};
use std::io::Write;
use std::process::{Command, Stdio};
use tether_test_support::java_peer::java_hessian_server;

/// Runs Python 3 code with `argv[1]` = `url`; its stdout.
fn py(code: &str, url: &str) -> String {
    let out = Command::new(python())
        .args(["-c", code, url])
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn hessian_arguments_reach_java_as_the_types_they_name() {
    let (_java, url) = java_hessian_server();
    // Java's describe() answers each value's class.
    let (code, out) = tether(&[
        "call",
        &url,
        "describe",
        "{'a': 5, 'b': int64(5), 'c': 4294967296, 'd': int32(-7), \
          'e': datetime(2024, 1, 2, 3, 4, 5), 'f': typed('[int', [1, 2]), \
          'g': object('peer.Person', name='Ann', age=int32(3), tags=[]), 'h': b'xy', \
          'i': Binary(b'z'), 'j': 2.5, 'k': None}",
    ]);
    assert_eq!(code, 0, "{out}");
    for (key, class) in [
        ("a", "java.lang.Integer"),
        ("b", "java.lang.Long"),
        ("c", "java.lang.Long"),
        ("d", "java.lang.Integer"),
        ("e", "java.util.Date"),
        ("f", "[I"),
        ("g", "peer.Person"),
        ("h", "[B"),
        ("i", "[B"),
        ("j", "java.lang.Double"),
        ("k", "null"),
    ] {
        assert!(out.contains(&format!("'{key}': '{class}'")), "{key}: {out}");
    }
    // python-hessian sends a small int as an Integer too (a larger one it cannot send).
    let python_view = py(
        r#"
import sys
from pyhessian.client import HessianProxy
print(HessianProxy(sys.argv[1], version=2).describe({'a': 5})['types'])
"#,
        &url,
    );
    assert!(
        python_view.contains("'a': 'java.lang.Integer'"),
        "{python_view}"
    );
}

#[test]
fn hessian_results_print_as_python_hessian_holds_them() {
    let (_java, url) = java_hessian_server();
    let (code, out) = tether(&["call", &url, "addDay", "datetime(2024, 1, 2, 3, 4, 5)"]);
    assert_eq!(code, 0);
    let python = py(
        r#"
import sys, datetime
from pyhessian.client import HessianProxy
print(repr(HessianProxy(sys.argv[1], version=2).addDay(datetime.datetime(2024, 1, 2, 3, 4, 5))))
"#,
        &url,
    );
    assert_eq!(out, python, "a date prints as python-hessian's datetime");
    assert_eq!(out.trim(), "datetime.datetime(2024, 1, 3, 3, 4, 5)");
    // Objects print with their class, in Hessian 2 and in Hessian 1 (a typed map there).
    for serializer in ["hessian2", "hessian1"] {
        let (code, out) = tether(&[
            "call",
            &url,
            "makePerson",
            "'Ann'",
            "30",
            "--serializer",
            serializer,
        ]);
        assert_eq!(code, 0, "{serializer}");
        assert!(
            out.starts_with("peer.Person(") && out.contains("name='Ann'") && out.contains("age=30"),
            "{serializer}: {out}"
        );
        // What is printed reads back as the same object.
        let (code, back) = tether(&["call", &url, "birthday", out.trim()]);
        assert_eq!(code, 0, "{serializer}: {back}");
        assert!(back.contains("age=31"), "{serializer}: {back}");
    }
    let (_, out) = tether(&["call", &url, "cons", "'a'"]);
    assert_eq!(out.trim(), "peer.Cons(first='a', rest=...)");
}

#[test]
fn xmlrpc_dates_print_as_pythons_client_holds_them() {
    let (_server, url) = start_with(
        Command::new(python())
            .arg("-u")
            .arg(common::root().join("crates/tether-xmlrpc/tests/python/xmlrpc_peer.py"))
            .arg("serve"),
        "URL ",
    );
    let (code, out) = tether(&[
        "call",
        &url,
        "echo",
        "datetime(2024, 1, 2, 3, 4, 5)",
        "--protocol",
        "xmlrpc",
    ]);
    assert_eq!(code, 0, "{out}");
    let python = py(
        r#"
import sys, re, datetime, xmlrpc.client
r = xmlrpc.client.ServerProxy(sys.argv[1]).echo(datetime.datetime(2024, 1, 2, 3, 4, 5))
print(re.sub(r" at 0x[0-9a-f]+", "", repr(r)))
"#,
        &url,
    );
    assert_eq!(out, python);
}

#[test]
fn arguments_from_data_a_file_and_stdin() {
    let (_server, uri) = common::python_echoserver();
    let (code, out) = tether(&["call", &uri, "echo", "-d", r#"[{"a": [1, true, null]}]"#]);
    assert_eq!((code, out.trim()), (0, "{'a': [1, True, None]}"));
    let file = std::env::temp_dir().join(format!("tether-args-{}.txt", std::process::id()));
    std::fs::write(&file, "{'message': ('x', 2)}\n").unwrap();
    let at = format!("@{}", file.display());
    let (code, out) = tether(&["call", &uri, "echo", "-d", &at]);
    assert_eq!(
        (code, out.trim()),
        (0, "('x', 2)"),
        "a dict is keyword arguments"
    );
    let _ = std::fs::remove_file(&file);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["call", &uri, "echo", "-d", "@-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"['from stdin']")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "'from stdin'");
    // Not a list or a dict: a usage error.
    let (code, _) = tether(&["call", &uri, "echo", "-d", "5"]);
    assert_eq!(code, 2);
}

#[test]
fn headers_reach_a_python_pyro5_server_and_a_python_xmlrpc_server() {
    let (_pyro, uri) = start_with(
        Command::new(python()).args([
            "-u",
            "-c",
            r#"
import Pyro5.api, Pyro5.callcontext
@Pyro5.api.expose
class S:
    def seen(self):
        a = Pyro5.callcontext.current_context.annotations
        return bytes(a.get("XTRA", b"")).decode()
d = Pyro5.api.Daemon(host="127.0.0.1")
print("server uri:", d.register(S(), "svc"), flush=True)
d.requestLoop()
"#,
        ]),
        "server uri: ",
    );
    let (code, out) = tether(&["call", &uri, "seen", "--header", "XTRA=hello"]);
    assert_eq!((code, out.trim()), (0, "'hello'"));
    // A key that is not four bytes is refused before anything is sent.
    let (code, _) = tether(&["call", &uri, "seen", "--header", "toolong=1"]);
    assert_eq!(code, 2);

    let (_xr, url) = start_with(
        Command::new(python()).args([
            "-u",
            "-c",
            r#"
from xmlrpc.server import SimpleXMLRPCServer, SimpleXMLRPCRequestHandler
seen = {}
class H(SimpleXMLRPCRequestHandler):
    def decode_request_content(self, data):
        seen["x-tenant"] = self.headers.get("X-Tenant", "")
        return super().decode_request_content(data)
s = SimpleXMLRPCServer(("127.0.0.1", 0), requestHandler=H, logRequests=False)
s.register_function(lambda: seen.get("x-tenant", ""), "seen")
print("URL http://127.0.0.1:%d/RPC2" % s.server_address[1], flush=True)
s.serve_forever()
"#,
        ]),
        "URL ",
    );
    let (code, out) = tether(&[
        "call",
        &url,
        "seen",
        "--protocol",
        "xmlrpc",
        "--header",
        "X-Tenant=acme",
    ]);
    assert_eq!((code, out.trim()), (0, "'acme'"));
    let (code, _) = tether(&[
        "call",
        &url,
        "seen",
        "--protocol",
        "xmlrpc",
        "--header",
        "Content-Length=0",
    ]);
    assert_eq!(code, 2, "a header the request sets itself is refused");
}
