//! `tether call`, `tether bench` and `tether pki` as black boxes, against Python's own Pyro5
//! echoserver: `tether call` prints exactly what a Python client with the same serializer
//! prints (`repr()` of what it received), and exits with the documented codes.

use std::process::{Command, Output};

mod common;
use common::{python, python_echoserver, root, start, uri_of, Proc};

fn tether(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(args)
        .output()
        .expect("run tether")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

const LITERALS: [&str; 12] = [
    "42",
    "-7",
    "12345678901234567890123",
    "'héllo \\n wörld 🎉'",
    "\"it's\"",
    "[1, (2,), {'a': None}]",
    "(1.5, -0.0, 1e300, 0.1)",
    "{1: 'one', 'two': [True, False]}",
    "{1, 2}",
    "b'\\x00bytes'",
    "()",
    "[[[[]]]]",
];

/// What a Python client prints for `echo(literal)` with `serializer`: one line per literal
/// (`ERR` when Python cannot send it).
fn python_reprs(uri: &str, serializer: &str, literals: &[&str]) -> Vec<String> {
    let code = r#"
import ast, sys, Pyro5.api
Pyro5.api.config.SERIALIZER = sys.argv[2]
p = Pyro5.api.Proxy(sys.argv[1])
for lit in sys.argv[3:]:
    try:
        print(repr(p.echo(ast.literal_eval(lit))))
    except Exception as e:
        print("ERR")
"#;
    let out = Command::new(python())
        .args(["-c", code, uri, serializer])
        .args(literals)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
fn call_prints_what_a_python_client_prints() {
    let (mut server, uri) = python_echoserver();
    let literals: Vec<&str> = LITERALS.to_vec();
    for ser in ["serpent", "json", "msgpack", "marshal"] {
        let want = python_reprs(&uri, ser, &literals);
        assert_eq!(want.len(), literals.len());
        for (lit, want) in literals.iter().zip(&want) {
            let out = tether(&["call", &uri, "echo", lit, "--serializer", ser]);
            if want == "ERR" {
                assert!(
                    !out.status.success(),
                    "{ser} {lit}: Python failed, tether did not"
                );
                continue;
            }
            assert!(out.status.success(), "{ser} {lit}: {}", text(&out.stderr));
            assert_eq!(text(&out.stdout).trim_end(), want, "{ser} {lit}");
        }
    }
    // Keyword arguments, --json.
    let out = tether(&["call", &uri, "echo", "message=[1, 'x']", "--json"]);
    assert_eq!(text(&out.stdout).trim_end(), "[1, \"x\"]");
    let _ = tether(&["call", &uri, "shutdown"]);
    let _ = server.0.wait();
}

#[test]
fn call_exit_codes() {
    let (mut server, uri) = python_echoserver();
    // A remote exception: 1, class and message on stderr (traceback with -v).
    let out = tether(&["call", &uri, "error"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).trim_end(),
        "ValueError: this is the generated error from echoserver echo() method"
    );
    let out = tether(&["call", "-v", &uri, "error"]);
    assert!(
        text(&out.stderr).contains("Traceback"),
        "{}",
        text(&out.stderr)
    );
    // Wrong arguments are the remote TypeError, as Python words it.
    let out = tether(&["call", &uri, "echo"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("TypeError: "),
        "{}",
        text(&out.stderr)
    );
    // Not a literal: usage error, 2.
    let out = tether(&["call", &uri, "echo", "hello"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not a Python literal"));
    // No protocol claims the URL: 5. Nothing listens: 3.
    let out = tether(&["call", "gopher://x/y", "echo", "1"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(text(&out.stderr).contains("no protocol claims"));
    // The forms it knows, each once (Hessian and XML-RPC share http://, Pyro5 and Pyro4 PYRO:).
    let forms = text(&out.stderr);
    for form in ["http://", "https://", "PYRO:", "PYRONAME:", "PYROLOC://"] {
        assert_eq!(
            forms.matches(&format!(" {form},")).count()
                + forms.matches(&format!(" {form})")).count(),
            1,
            "{form} in {forms}"
        );
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("PYRO:x@127.0.0.1:{port}");
    let out = tether(&["call", &dead, "echo", "1"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    // A timeout: 3.
    let out = tether(&["call", "--timeout", "0.3", &uri, "slow"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    // Oneway prints nothing and returns at once.
    let out = tether(&["call", "--oneway", &uri, "oneway_echo", "1"]);
    assert!(out.status.success() && out.stdout.is_empty());
    let _ = tether(&["call", &uri, "shutdown"]);
    let _ = server.0.wait();
}

#[test]
fn call_and_bench_an_object_of_a_context() {
    let dir = std::env::temp_dir().join(format!("tether-call-ctx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (mut server, uri) = python_echoserver();
    let xml = dir.join("ctx.xml");
    std::fs::write(
        &xml,
        format!(
            r#"<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
  <object id="localEcho" class="tether.echo.EchoService"/>
  <object id="remoteEcho" class="tether.ProxyFactory">
    <property name="service_url" value="{uri}"/>
  </object>
</objects>"#
        ),
    )
    .unwrap();
    let ctx = xml.to_str().unwrap();
    for id in ["localEcho", "remoteEcho"] {
        let out = tether(&["call", "--context", ctx, id, "echo", "(1, 'two')"]);
        assert!(out.status.success(), "{id}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout).trim_end(), "(1, 'two')", "{id}");
    }
    let out = tether(&["call", "--context", ctx, "nope", "echo", "1"]);
    assert_eq!(out.status.code(), Some(5));
    // bench over the context's proxy: exactly N calls, JSON summary.
    let out = tether(&[
        "bench",
        "--context",
        ctx,
        "remoteEcho",
        "echo",
        "'x'",
        "-c",
        "3",
        "-n",
        "300",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = text(&out.stdout);
    for key in [
        "\"calls\": 300,",
        "\"errors\": {}",
        "\"calls_per_s\":",
        "\"p50_us\":",
        "\"p90_us\":",
        "\"p99_us\":",
        "\"max_us\":",
    ] {
        assert!(summary.contains(key), "{key} missing in {summary}");
    }
    // Errors are counted by kind, never fatal.
    let out = tether(&[
        "bench",
        &uri,
        "error",
        "-n",
        "50",
        "--json",
        "--max-errors",
        "50",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Past --max-errors (default 0) the exit is 1, the summary printed all the same.
    let strict = tether(&["bench", &uri, "error", "-n", "5", "--json", "-z", "2s"]);
    assert_eq!(strict.status.code(), Some(1));
    assert!(text(&strict.stdout).contains("\"remote\": 5"));
    assert!(
        text(&out.stdout).contains("\"errors\": {\"remote\": 50}"),
        "{}",
        text(&out.stdout)
    );
    let _ = tether(&["call", &uri, "shutdown"]);
    let _ = server.0.wait();
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn pki_writes_the_seed_files_and_openssl_accepts_them() {
    let dir = std::env::temp_dir().join(format!("tether-pki-{}", std::process::id()));
    let out = tether(&["pki", dir.to_str().unwrap(), "--password", "1234"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("SAMPLE keys"));
    for f in [
        "ca-root-cert.pem",
        "ca-root-key.pem",
        "ca-signing-cert.pem",
        "ca-signing-key.pem",
        "ca-chain.pem",
        "server-cert.pem",
        "server-key.pem",
        "client-cert.pem",
        "client-key.pem",
    ] {
        assert!(dir.join(f).exists(), "{f}");
    }
    for leaf in ["server-cert.pem", "client-cert.pem"] {
        let v = Command::new("openssl")
            .arg("verify")
            .arg("-CAfile")
            .arg(dir.join("ca-chain.pem"))
            .arg(dir.join(leaf))
            .output()
            .expect("openssl");
        assert!(v.status.success(), "{leaf}: {}", text(&v.stderr));
    }
    let key = std::fs::read_to_string(dir.join("client-key.pem")).unwrap();
    assert!(key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    std::fs::remove_dir_all(dir).ok();
    let _ = root();
}

#[test]
fn echo_server_on_an_unknown_protocol_names_the_known_ones() {
    let out = tether(&["echo-server", "--protocol", "carrier-pigeon"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("pyro5"), "{}", text(&out.stderr));
}

#[test]
fn echo_server_and_call_over_tls_with_client_certificates() {
    let dir = std::env::temp_dir().join(format!("tether-cli-tls-{}", std::process::id()));
    let d = |f: &str| dir.join(f).to_str().unwrap().to_string();
    assert!(
        tether(&["pki", dir.to_str().unwrap(), "--password", "1234"])
            .status
            .success()
    );
    let (mut server, lines) = start(Command::new(env!("CARGO_BIN_EXE_tether")).args([
        "echo-server",
        "-H",
        "127.0.0.1",
        "-p",
        "0",
        "--tls-cert",
        &d("server-cert.pem"),
        "--tls-key",
        &d("server-key.pem"),
        "--tls-key-password",
        "1234",
        "--tls-ca",
        &d("ca-chain.pem"),
        "--cert-reqs",
        "required",
    ]));
    let uri = uri_of(&lines);
    let tls = [
        "--tls-ca".to_string(),
        d("ca-chain.pem"),
        "--tls-cert".to_string(),
        d("client-cert.pem"),
        "--tls-key".to_string(),
        d("client-key.pem"),
        "--tls-key-password".to_string(),
        "1234".to_string(),
    ];
    let mut args: Vec<&str> = vec!["call"];
    args.extend(tls.iter().map(String::as_str));
    args.extend([uri.as_str(), "echo", "'over tls'"]);
    let out = tether(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim_end(), "'over tls'");
    // Without a client certificate: no answer (3); without TLS at all: a broken exchange.
    let out = tether(&["call", "--tls-ca", &d("ca-chain.pem"), &uri, "echo", "1"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let out = tether(&["call", "--timeout", "3", &uri, "echo", "1"]);
    assert!(!out.status.success());
    // Python's Pyro5 with SSL=True and the same client certificate.
    let code = r#"
import sys, Pyro5.api
c = Pyro5.api.config
d = sys.argv[2]
c.SSL = True
c.SSL_CACERTS = d + "/ca-chain.pem"
c.SSL_CLIENTCERT = d + "/client-cert.pem"
c.SSL_CLIENTKEY = d + "/client-key.pem"
c.SSL_CLIENTKEYPASSWD = "1234"
with Pyro5.api.Proxy(sys.argv[1]) as p:
    print(repr(p.echo([1, "two"])))
    p.shutdown()
"#;
    let py = Command::new(python())
        .args(["-c", code, &uri, dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        text(&py.stdout).trim_end(),
        "[1, 'two']",
        "{}",
        text(&py.stderr)
    );
    let _ = server.0.wait();
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn call_reaches_a_python_pyro4_server_with_and_without_a_key() {
    for key in [None, Some("k3y")] {
        let mut cmd = Command::new(python());
        cmd.args([
            "-u",
            "-m",
            "Pyro4.test.echoserver",
            "-H",
            "127.0.0.1",
            "-p",
            "0",
        ]);
        if let Some(k) = key {
            cmd.env("PYRO_HMAC_KEY", k);
        }
        let (_py, lines) = start(&mut cmd);
        let uri = uri_of(&lines);
        let mut args = vec!["call", "--protocol", "pyro4"];
        if let Some(k) = key {
            args.extend(["--hmac-key", k]);
        }
        let mut echo = args.clone();
        echo.extend([uri.as_str(), "echo", "('x', 1, None)"]);
        let out = tether(&echo);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout).trim_end(), "('x', 1, None)");
        let mut error = args.clone();
        error.extend([uri.as_str(), "error"]);
        let out = tether(&error);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("ValueError: expected error from echoserver error() method"),
            "{}",
            text(&out.stderr)
        );
        let mut shutdown = args.clone();
        shutdown.extend([uri.as_str(), "shutdown"]);
        assert!(tether(&shutdown).status.success());
    }
    // a key without --protocol pyro4 is a usage error
    let out = tether(&["call", "--hmac-key", "k", "PYRO:x@127.0.0.1:1", "echo"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn echo_server_tls_dir_requires_client_certs_and_call_reaches_a_python_ssl_server() {
    let dir = std::env::temp_dir().join(format!("tether-cli-tlsdir-{}", std::process::id()));
    let d = |f: &str| dir.join(f).to_str().unwrap().to_string();
    assert!(tether(&["pki", dir.to_str().unwrap()]).status.success());
    // tether echo-server --tls DIR --require-client-cert, with its log on stderr
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tether"));
    cmd.args(["echo-server", "-H", "127.0.0.1", "-p", "0", "--tls"])
        .arg(&dir)
        .arg("--require-client-cert")
        .env("RUST_LOG", "error")
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.stdout(std::process::Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut server = Proc(child);
    let uri = {
        use std::io::BufRead;
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.starts_with("echo uri:"))
            .unwrap()
            .trim_start_matches("echo uri: ")
            .to_string()
    };
    let out = tether(&[
        "call",
        "--tls",
        dir.to_str().unwrap(),
        &uri,
        "echo",
        "'mutual'",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim_end(), "'mutual'");
    // Python Pyro5 without a client certificate: refused; it learns only that the
    // connection closed, and the server logs the refusal at ERROR with the address.
    let code = r#"
import sys, Pyro5.api, Pyro5.errors
c = Pyro5.api.config
c.SSL = True
c.SSL_CACERTS = sys.argv[2] + "/ca-chain.pem"
try:
    Pyro5.api.Proxy(sys.argv[1]).echo(1)
    print("served")
except Pyro5.errors.CommunicationError as e:
    print("refused")
"#;
    let py = Command::new(python())
        .args(["-c", code, &uri, dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(text(&py.stdout).trim(), "refused", "{}", text(&py.stderr));
    let _ = server.0.kill();
    let _ = server.0.wait();
    let mut log = String::new();
    std::io::Read::read_to_string(&mut { stderr }, &mut log).unwrap();
    assert!(
        log.contains("ERROR")
            && log.contains("TLS client refused")
            && log.contains("from_addr=127.0.0.1:"),
        "{log}"
    );

    // tether call --tls-ca against Python's Pyro5 echoserver with SSL (server certificate only)
    let (_py, lines) = start(
        Command::new(python())
            .args([
                "-u",
                "-m",
                "Pyro5.utils.echoserver",
                "-H",
                "localhost",
                "-p",
                "0",
            ])
            .env("PYRO_SSL", "1")
            .env("PYRO_SSL_SERVERCERT", d("server-cert.pem"))
            .env("PYRO_SSL_SERVERKEY", d("server-key.pem")),
    );
    let py_uri = uri_of(&lines);
    let out = tether(&[
        "call",
        "--tls-ca",
        &d("ca-chain.pem"),
        &py_uri,
        "echo",
        "[1, 'two']",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim_end(), "[1, 'two']");
    let _ = tether(&["call", "--tls-ca", &d("ca-chain.pem"), &py_uri, "shutdown"]);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn echo_server_over_xmlrpc_with_client_certificates_for_python_and_tether_call() {
    let dir = std::env::temp_dir().join(format!("tether-cli-xmlrpc-{}", std::process::id()));
    assert!(tether(&["pki", dir.to_str().unwrap()]).status.success());
    let (mut server, lines) = start(
        Command::new(env!("CARGO_BIN_EXE_tether"))
            .args([
                "echo-server",
                "--protocol",
                "xmlrpc",
                "-H",
                "localhost",
                "-p",
                "0",
                "--tls",
            ])
            .arg(&dir)
            .arg("--require-client-cert"),
    );
    let url = uri_of(&lines);
    assert!(
        url.starts_with("https://localhost:") && url.ends_with("/RPC2"),
        "{url}"
    );
    let code = r#"
import ssl, sys, xmlrpc.client
d = sys.argv[2]
ctx = ssl.create_default_context(cafile=d + "/ca-chain.pem")
ctx.load_cert_chain(d + "/client-cert.pem", d + "/client-key.pem")
p = xmlrpc.client.ServerProxy(sys.argv[1], context=ctx, allow_none=True)
print(repr(p.echo([1, "two", None])))
try:
    p.error()
except xmlrpc.client.Fault as f:
    print(f.faultCode, f.faultString)
"#;
    let py = Command::new(python())
        .args(["-c", code, &url, dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        text(&py.stdout),
        "[1, 'two', None]\n1 <class 'ValueError'>:this is the generated error from echoserver echo() method\n",
        "{}",
        text(&py.stderr)
    );
    let out = tether(&[
        "call",
        "--protocol",
        "xmlrpc",
        "--tls",
        dir.to_str().unwrap(),
        &url,
        "echo",
        "{'a': [1, 2.5]}",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim_end(), "{'a': [1, 2.5]}");
    // without a client certificate: no answer
    let out = tether(&[
        "call",
        "--protocol",
        "xmlrpc",
        "--tls-ca",
        dir.join("ca-chain.pem").to_str().unwrap(),
        &url,
        "echo",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let out = tether(&[
        "call",
        "--protocol",
        "xmlrpc",
        "--tls",
        dir.to_str().unwrap(),
        &url,
        "shutdown",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let _ = server.0.wait();
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn xmlrpc_server_writes_pythons_access_line_per_request() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args([
            "echo-server",
            "--protocol",
            "xmlrpc",
            "-H",
            "127.0.0.1",
            "-p",
            "0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut server = Proc(child);
    let url = {
        use std::io::BufRead;
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.starts_with("echo uri:"))
            .unwrap()
            .trim_start_matches("echo uri: ")
            .to_string()
    };
    let out = tether(&["call", "--protocol", "xmlrpc", &url, "echo", "'logged'"]);
    assert_eq!(
        text(&out.stdout).trim(),
        "'logged'",
        "{}",
        text(&out.stderr)
    );
    // A verbose proxy (Spring Python's SSLClient verbose=True) prints the HTTP exchange to
    // stdout the way Python's xmlrpc.client does: send: b'POST ...', reply: 'HTTP/1.1 200 OK\r\n',
    // header: ..., body: b'...'.
    let dir = std::env::temp_dir().join(format!("tether-xmlrpc-verbose-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let xml = dir.join("client.xml");
    std::fs::write(
        &xml,
        format!(
            r#"<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
  <object id="echo" class="tether.xmlrpc.ProxyFactory">
    <property name="service_url" value="{url}"/>
    <property name="verbose" value="True"/>
  </object>
</objects>"#
        ),
    )
    .unwrap();
    let out = tether(&[
        "call",
        "--context",
        xml.to_str().unwrap(),
        "echo",
        "echo",
        "'seen'",
    ]);
    std::fs::remove_dir_all(&dir).ok();
    // Python's http.client prints the exchange to stdout, before the result.
    let trace = text(&out.stdout);
    assert_eq!(trace.lines().last(), Some("'seen'"), "{trace}");
    let lines: Vec<&str> = trace.lines().collect();
    assert!(
        lines[0].starts_with("send: b'POST /RPC2 HTTP/1.1\\r\\nHost: 127.0.0.1:")
            && lines[0].contains("\\r\\nContent-Type: text/xml\\r\\n")
            && lines[0].ends_with("\\r\\n\\r\\n'"),
        "{trace}"
    );
    assert!(
        lines[1].starts_with("send: b\"<?xml version='1.0'?>\\n<methodCall>")
            && lines[1].contains("<string>seen</string>"),
        "{trace}"
    );
    assert_eq!(lines[2], "reply: 'HTTP/1.1 200 OK\\r\\n'", "{trace}");
    assert!(
        lines
            .iter()
            .any(|l| l.eq_ignore_ascii_case("header: content-type: text/xml")),
        "{trace}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("body: b\"<?xml")
            && l.contains("<methodResponse>")
            && l.contains("seen")),
        "{trace}"
    );
    let pid = server.0.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let _ = server.0.wait();
    let mut log = String::new();
    std::io::Read::read_to_string(&mut { stderr }, &mut log).unwrap();
    // 127.0.0.1 - - [01/Dec/2026 22:00:00] "POST /RPC2 HTTP/1.1" 200 -
    let line = log
        .lines()
        .find(|l| l.contains("\"POST /RPC2 HTTP/1.1\" 200 -"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        line.starts_with("127.0.0.1 - - [") && line.contains("] \"POST"),
        "{line}"
    );
}
