//! `tether echo-server` as a black box: it prints its URI like Python's echoserver, a Python
//! Pyro5 client gets the same results from it as from Python's echoserver (all serializers,
//! streamed `generator()` included),
//! it serves Unix sockets, and it stops on the echo's `shutdown()` and on SIGTERM.

use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::{echo_server_command, python, python_echoserver, root, start, uri_of, Proc};

fn run_client(uri: &str, ser: &str) -> String {
    let script = root().join("crates/tether-pyro/tests/python/echo_client.py");
    let out = Command::new(python())
        .arg(script)
        .args([uri, ser])
        .env("PYTHONHASHSEED", "0")
        .output()
        .expect("run python client");
    assert!(
        out.status.success(),
        "client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn call_python(code: &str, uri: &str) {
    let out = Command::new(python())
        .args(["-c", code, uri])
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn wait_exit(p: &mut Proc) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(st) = p.0.try_wait().unwrap() {
            return st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "server did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

const SHUTDOWN: &str = "import sys, Pyro5.api; Pyro5.api.Proxy(sys.argv[1]).shutdown()";

#[test]
fn echo_server_matches_pythons_and_shuts_down_remotely() {
    let (mut tether, lines) = start(Command::new(env!("CARGO_BIN_EXE_tether")).args([
        "echo-server",
        "-H",
        "127.0.0.1",
        "-p",
        "0",
    ]));
    assert_eq!(lines[0], "Starting tether's built-in test echo server.");
    assert_eq!(lines[1], "object name: test.echoserver");
    let tether_uri = uri_of(&lines);
    assert!(
        tether_uri.starts_with("PYRO:test.echoserver@127.0.0.1:"),
        "{tether_uri}"
    );
    let (mut py, py_uri) = python_echoserver();
    for ser in ["serpent", "json", "msgpack", "marshal"] {
        let a = run_client(&py_uri, ser);
        let b = run_client(&tether_uri, ser);
        assert!(a.ends_with("done\n"), "{a}");
        assert_eq!(
            a, b,
            "{ser}: tether echo-server differs from Python's echoserver"
        );
    }
    call_python(SHUTDOWN, &tether_uri);
    assert!(wait_exit(&mut tether).success());
    call_python(SHUTDOWN, &py_uri);
    let _ = wait_exit(&mut py);
}

#[test]
fn echo_server_on_a_unix_socket_stops_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("tether-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sock = dir.join("echo.sock");
    let (mut tether, lines) = start(Command::new(env!("CARGO_BIN_EXE_tether")).args([
        "echo-server",
        "-u",
        sock.to_str().unwrap(),
    ]));
    let uri = uri_of(&lines);
    assert_eq!(uri, format!("PYRO:test.echoserver@./u:{}", sock.display()));
    call_python(
        "import sys, Pyro5.api; assert Pyro5.api.Proxy(sys.argv[1]).echo('via unix') == 'via unix'",
        &uri,
    );
    let pid = tether.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    assert!(wait_exit(&mut tether).success());
    assert!(!sock.exists(), "socket file left behind");
    let _ = std::fs::remove_dir_all(&dir);
}

/// echo_client.py --pyro4's lines (with Pyro4's HMAC key, when not empty).
fn run_client4(uri: &str, ser: &str, key: &str) -> String {
    let script = root().join("crates/tether-pyro/tests/python/echo_client.py");
    let out = Command::new(python())
        .arg(script)
        .args([uri, ser, "--pyro4"])
        .args((!key.is_empty()).then_some(key))
        .env("PYTHONHASHSEED", "0")
        .output()
        .expect("run python client");
    assert!(
        out.status.success(),
        "client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `tether echo-server --protocol pyro4` and Python's `Pyro4.test.echoserver`, both with
/// the environment variable `var` = `value` (as Pyro4 reads its config); their processes and
/// URIs.
fn pyro4_echo_servers(var: &str, value: &str) -> [(Proc, String); 2] {
    let (tether, lines) = start(echo_server_command("pyro4").env(var, value));
    assert_eq!(lines[0], "Starting tether's built-in test echo server.");
    let tether_uri = uri_of(&lines);
    let (py, lines) = start(
        Command::new(python())
            .args([
                "-u",
                "-m",
                "Pyro4.test.echoserver",
                "-H",
                "127.0.0.1",
                "-p",
                "0",
            ])
            .env(var, value),
    );
    [(tether, tether_uri), (py, uri_of(&lines))]
}

/// Shuts both servers down remotely with the Python snippet `shutdown`; tether's must exit 0.
fn shut_down(servers: [(Proc, String); 2], shutdown: &str) {
    let [(mut tether, tether_uri), (mut py, py_uri)] = servers;
    call_python(shutdown, &tether_uri);
    assert!(wait_exit(&mut tether).success());
    call_python(shutdown, &py_uri);
    let _ = wait_exit(&mut py);
}

#[test]
fn echo_server_pyro4_with_a_key_matches_pythons_pyro4_echoserver() {
    let key = "pyro4 key";
    let servers = pyro4_echo_servers("PYRO_HMAC_KEY", key);
    let (tether_uri, py_uri) = (&servers[0].1, &servers[1].1);
    for ser in ["serpent", "json", "marshal"] {
        let a = run_client4(py_uri, ser, key);
        let b = run_client4(tether_uri, ser, key);
        assert!(a.ends_with("done\n"), "{a}");
        assert_eq!(
            a, b,
            "{ser}: tether echo-server --protocol pyro4 differs from Pyro4's"
        );
    }
    shut_down(
        servers,
        "import sys, Pyro4; p = Pyro4.Proxy(sys.argv[1]); p._pyroHmacKey = b'pyro4 key'; p.shutdown()",
    );
}

/// Pyro4's daemon refuses msgpack unless `SERIALIZERS_ACCEPTED` names it; told so through
/// Pyro4's own variable, both echo servers take it, and a Python Pyro4 client in msgpack gets
/// the same results from each.
#[test]
fn echo_server_pyro4_takes_msgpack_when_told_as_pyro4_does() {
    let servers = pyro4_echo_servers("PYRO_SERIALIZERS_ACCEPTED", "serpent,json,marshal,msgpack");
    let a = run_client4(&servers[1].1, "msgpack", "");
    let b = run_client4(&servers[0].1, "msgpack", "");
    assert!(a.ends_with("done\n"), "{a}");
    assert!(a.contains("bind with msgpack -> str:'bound'"), "{a}");
    assert_eq!(
        a, b,
        "msgpack: tether echo-server --protocol pyro4 differs from Pyro4's"
    );
    shut_down(
        servers,
        "import sys, Pyro4; Pyro4.Proxy(sys.argv[1]).shutdown()",
    );
}

#[test]
fn echo_server_over_hessian_for_python_hessian_and_tether_call() {
    let (mut server, lines) = start(Command::new(env!("CARGO_BIN_EXE_tether")).args([
        "echo-server",
        "--protocol",
        "hessian",
        "-H",
        "127.0.0.1",
        "-p",
        "0",
    ]));
    assert_eq!(lines[1], "object name: echo");
    let url = uri_of(&lines);
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/echo"),
        "{url}"
    );
    let code = "import sys\nfrom pyhessian.client import HessianProxy\nprint(repr(HessianProxy(sys.argv[1]).echo([1, 'two', None])))\n";
    let out = Command::new(python())
        .args(["-c", code, &url])
        .output()
        .unwrap();
    // python-hessian reads a Hessian list as a tuple (from Caucho's server too)
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "(1, 'two', None)",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let call = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tether"))
            .arg("call")
            .args(args)
            .output()
            .unwrap()
    };
    let out = call(&["--protocol", "hessian", &url, "echo", "['a', 2.5, None]"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "['a', 2.5, None]"
    );
    let out = call(&[&url, "error"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("IllegalArgumentException"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = call(&[&url, "shutdown"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(wait_exit(&mut server).success());
}

/// `tether echo-server --protocol pyro3`: a PYROLOC URL; the seed's Python 2 Pyro 3 client and
/// `tether call` reach it, and the same port still answers a Python Pyro5 client.
#[test]
fn echo_server_over_pyro3_for_python2_and_tether_call() {
    let (server, lines) = common::start(Command::new(env!("CARGO_BIN_EXE_tether")).args([
        "echo-server",
        "--protocol",
        "pyro3",
        "-H",
        "127.0.0.1",
        "-p",
        "0",
    ]));
    let url = lines
        .iter()
        .find_map(|l| l.strip_prefix("echo uri: "))
        .unwrap()
        .to_string();
    assert!(
        url.starts_with("PYROLOC://127.0.0.1:") && url.ends_with("/test.echoserver"),
        "{url}"
    );
    let code = "import sys, Pyro.core\nPyro.core.initClient(banner=0)\np = Pyro.core.getProxyForURI(sys.argv[1])\nprint p.echo((1, 'two', [3.5]))\ntry:\n    p.error()\nexcept ValueError, e:\n    print 'ValueError:', e\n";
    let out = common::python2().args(["-c", code, &url]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "(1, 'two', [3.5])\nValueError: this is the generated error from echoserver echo() method\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["call", &url, "echo", "{'k': None}"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "{'k': None}");
    let port = url
        .trim_start_matches("PYROLOC://127.0.0.1:")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let out = Command::new(common::python())
        .args([
            "-c",
            "import sys, Pyro5.api\nprint(Pyro5.api.Proxy(sys.argv[1]).echo('five'))",
            &format!("PYRO:test.echoserver@127.0.0.1:{port}"),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "five");
    drop(server);
}
