//! The seed's Pyro 3.16 client on Python 2.7 against tether's daemon: every value type,
//! exceptions, keyword calls, oneway, an unknown name, with and without checksums and
//! compression, with identification; it gets the same answers as from Pyro 3's own daemon
//! (serving the same methods), apart from the differences the README lists.

mod common;

use common::*;
use std::sync::Arc;
use std::time::Duration;
use tether_core::echo::EchoService;
use tether_pyro::pyro3::Pyro3Settings;
use tether_pyro::{Daemon, DaemonConfig};

async fn tether_daemon(settings: Pyro3Settings) -> (Daemon, String) {
    let config = DaemonConfig {
        host: "127.0.0.1".into(),
        pyro3: Some(settings),
        silent_client_wait: Duration::from_millis(200),
        ..DaemonConfig::default()
    };
    let daemon = Daemon::bind(config).await.unwrap();
    daemon
        .register("echo", Arc::new(EchoService::new(false)))
        .unwrap();
    let port = daemon.local_addr().unwrap().port();
    (daemon, format!("PYROLOC://127.0.0.1:{port}/echo"))
}

fn scenario(url: &str, env: &[(&str, &str)]) -> String {
    let script = script("pyro3_peer.py");
    run_python2(
        &[script.to_str().unwrap(), "client", url],
        env,
        Duration::from_secs(60),
    )
}

/// Labels where tether answers differently by design (the README lists them): argument
/// errors use Python 3's words; text that is all ASCII comes back as `str` (tether has one
/// string type); a frozenset comes back as a set.
const DIFFERENT_BY_DESIGN: [(&str, &str); 4] = [
    ("wrong-arity ", ""),
    ("unicode-ascii ", "unicode-ascii str 'plain'"),
    ("unicode-empty ", "unicode-empty str ''"),
    ("frozenset ", "frozenset set set(['a'])"),
];

fn comparable(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| !DIFFERENT_BY_DESIGN.iter().any(|(p, _)| l.starts_with(p)))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn same_answers_as_pyro3s_own_daemon() {
    let peer = script("pyro3_peer.py");
    let envs: [&[(&str, &str)]; 3] = [
        &[],
        &[("PYRO_CHECKSUM", "1"), ("PYRO_COMPRESSION", "1")],
        &[("PEER_PASSPHRASE", "sesame")],
    ];
    for env in envs {
        let (_py, py_url) =
            start_python2_server(&[peer.to_str().unwrap(), "server"], env, "pyro3 uri:");
        let settings = Pyro3Settings {
            passphrase: env
                .iter()
                .find(|(k, _)| *k == "PEER_PASSPHRASE")
                .map(|(_, v)| v.as_bytes().to_vec()),
            ..Pyro3Settings::default()
        };
        let (daemon, url) = tether_daemon(settings).await;
        let (from_py, from_tether) =
            tokio::task::spawn_blocking(move || (scenario(&py_url, env), scenario(&url, env)))
                .await
                .unwrap();
        assert!(from_py.lines().count() > 40, "{from_py}");
        let (t, p) = (comparable(&from_tether), comparable(&from_py));
        let diff: Vec<String> = t
            .iter()
            .zip(p.iter())
            .filter(|(a, b)| a != b)
            .map(|(a, b)| format!("tether: {a}\nPyro 3: {b}"))
            .collect();
        assert!(
            diff.is_empty() && t.len() == p.len(),
            "env {env:?}: {} lines differ:\n{}",
            diff.len(),
            diff.join("\n")
        );
        for (label, want) in DIFFERENT_BY_DESIGN.iter().filter(|(_, w)| !w.is_empty()) {
            assert!(
                from_tether.lines().any(|l| l == *want),
                "{label}: {from_tether}"
            );
        }
        let arity = from_tether
            .lines()
            .find(|l| l.starts_with("wrong-arity "))
            .unwrap_or("");
        assert!(
            arity.starts_with("wrong-arity EXC exceptions.TypeError (")
                && arity.contains("takes 2 positional arguments but 3 were given"),
            "{arity}"
        );
        daemon.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_passphrase_is_denied_for_security_reasons() {
    let (daemon, url) = tether_daemon(Pyro3Settings {
        passphrase: Some(b"right".to_vec()),
        ..Pyro3Settings::default()
    })
    .await;
    let code = r#"
import sys, Pyro.core, Pyro.errors
Pyro.core.initClient(banner=0)
for ident in (None, "wrong", "right"):
    p = Pyro.core.getProxyForURI(sys.argv[1])
    if ident: p._setIdentification(ident)
    try:
        r = p.echo("in")
        print ident, r
    except Pyro.errors.ConnectionDeniedError, e:
        print ident, "denied:", e
"#;
    let out = tokio::task::spawn_blocking(move || {
        run_python2(&["-c", code, &url], &[], Duration::from_secs(30))
    })
    .await
    .unwrap();
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "None denied: security reasons",
            "wrong denied: security reasons",
            "right in"
        ],
        "{out}"
    );
    daemon.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_pyro3_a_python2_client_is_denied_instead_of_hanging() {
    let config = DaemonConfig {
        host: "127.0.0.1".into(),
        silent_client_wait: Duration::from_millis(300),
        ..DaemonConfig::default()
    };
    let daemon = Daemon::bind(config).await.unwrap();
    let port = daemon.local_addr().unwrap().port();
    let code = r#"
import sys, time, Pyro.core, Pyro.errors
Pyro.core.initClient(banner=0)
t = time.time()
try:
    Pyro.core.getProxyForURI(sys.argv[1]).echo(1)
except Pyro.errors.ConnectionDeniedError, e:
    print "denied:", e, "after", int(time.time() - t < 5)
"#;
    let url = format!("PYROLOC://127.0.0.1:{port}/echo");
    let out = tokio::task::spawn_blocking(move || {
        run_python2(&["-c", code, &url], &[], Duration::from_secs(30))
    })
    .await
    .unwrap();
    assert_eq!(out.trim(), "denied: unspecified reason after 1", "{out}");
    daemon.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_port_serves_pyro3_pyro4_and_pyro5_clients() {
    let (daemon, url) = tether_daemon(Pyro3Settings::default()).await;
    let port = daemon.local_addr().unwrap().port();
    // Pyro5 and Pyro4 clients (Python 3) while a Pyro 3 client (Python 2) calls too.
    let py5 = format!("PYRO:echo@127.0.0.1:{port}");
    let p2 = tokio::task::spawn_blocking(move || {
        run_python2(
            &[
                "-c",
                "import sys, Pyro.core\nPyro.core.initClient(banner=0)\nprint Pyro.core.getProxyForURI(sys.argv[1]).echo('pyro3')",
                &url,
            ],
            &[],
            Duration::from_secs(30),
        )
    });
    let p5 = tokio::task::spawn_blocking(move || {
        run_python(
            &[
                "-c",
                "import sys, Pyro5.api\nprint(Pyro5.api.Proxy(sys.argv[1]).echo('pyro5'))",
                &py5,
            ],
            Duration::from_secs(30),
        )
    });
    let py4 = format!("PYRO:echo@127.0.0.1:{port}");
    let p4 = tokio::task::spawn_blocking(move || {
        run_python(
            &[
                "-c",
                "import sys, Pyro4\nprint(Pyro4.Proxy(sys.argv[1]).echo('pyro4'))",
                &py4,
            ],
            Duration::from_secs(30),
        )
    });
    assert_eq!(p2.await.unwrap().trim(), "pyro3");
    assert_eq!(p5.await.unwrap().trim(), "pyro5");
    assert_eq!(p4.await.unwrap().trim(), "pyro4");
    daemon.shutdown().await;
}
