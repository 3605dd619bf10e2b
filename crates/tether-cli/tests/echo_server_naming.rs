//! `tether echo-server -n` and `-N`, as Pyro's echoserver has them: `-n` registers the echo
//! object with a name server found as Pyro's `locate_ns` finds one (here Python's own Pyro5
//! name server, found through `PYRO_NS_PORT` as Pyro's configuration reads it), and removes it
//! on a graceful shutdown; `-N` starts a name server too. Python clients then reach the echo
//! object by `PYRONAME:test.echoserver`.
mod common;
use common::*;
use std::process::Command;
use tether_test_support::free_port;

/// Python calls echo(`text`) on `PYRONAME:test.echoserver` with `PYRO_NS_PORT=port` (Pyro4
/// when `pyro4`); returns what it printed.
fn python_by_name(port: u16, pyro4: bool, text: &str) -> String {
    let api = if pyro4 { "Pyro4" } else { "Pyro5.api" };
    let out = Command::new(python())
        .args([
            "-c",
            &format!(
                "import sys, {api} as p; print(p.Proxy('PYRONAME:test.echoserver').echo(sys.argv[1]))"
            ),
            text,
        ])
        .env("PYRO_NS_PORT", port.to_string())
        .env("PYRO_NS_HOST", "127.0.0.1")
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn terminate(p: &mut Proc) -> std::process::ExitStatus {
    p.signal("TERM");
    p.0.wait().unwrap()
}

#[test]
fn dash_n_registers_with_pythons_name_server_and_leaves_it_on_shutdown() {
    // Each wire with Python's name server of that Pyro: a Pyro4 echo server lists itself in
    // Pyro4's, in Pyro4's wire.
    for (protocol, pyro4, ns_module, locate) in [
        ("pyro5", false, "Pyro5.nameserver", "Pyro5.api.locate_ns"),
        ("pyro4", true, "Pyro4.naming", "Pyro4.locateNS"),
    ] {
        let port = free_port();
        let (_ns, _) = start_until(
            Command::new(python())
                .args(["-u", "-m", ns_module, "-n", "127.0.0.1", "-x", "-p"])
                .arg(port.to_string()),
            "NS running on",
        );
        let names = || {
            let out = Command::new(python())
                .args([
                    "-c",
                    &format!("import sys, Pyro4, Pyro5.api; print(sorted({locate}('127.0.0.1', int(sys.argv[1])).list()))"),
                    &port.to_string(),
                ])
                .output()
                .expect("run python");
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let (mut echo, lines) = start(
            Command::new(env!("CARGO_BIN_EXE_tether"))
                .args([
                    "echo-server",
                    "-n",
                    "-v",
                    "-H",
                    "127.0.0.1",
                    "--protocol",
                    protocol,
                ])
                .env("PYRO_NS_PORT", port.to_string()),
        );
        assert!(
            lines.iter().any(|l| l.starts_with("using a name server")),
            "{lines:?}"
        );
        assert_eq!(python_by_name(port, pyro4, "by name"), "by name");
        assert!(
            names().contains("test.echoserver"),
            "{protocol}: {}",
            names()
        );
        assert!(terminate(&mut echo).success());
        // A graceful shutdown takes the entry out again.
        assert!(
            !names().contains("test.echoserver"),
            "{protocol}: {}",
            names()
        );
    }
}

#[test]
fn dash_capital_n_starts_a_name_server_too() {
    let port = free_port();
    let (mut echo, lines) = start(
        Command::new(env!("CARGO_BIN_EXE_tether"))
            .args(["echo-server", "-N", "-v", "-H", "127.0.0.1"])
            .env("PYRO_NS_PORT", port.to_string()),
    );
    assert!(
        lines.contains(&format!(
            "using name server at PYRO:Pyro.NameServer@127.0.0.1:{port}"
        )),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"not using a broadcast server".to_string()),
        "{lines:?}"
    );
    assert_eq!(python_by_name(port, false, "started here"), "started here");
    assert!(terminate(&mut echo).success());
}

#[test]
fn naming_needs_a_pyro_wire() {
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args([
            "echo-server",
            "-n",
            "-H",
            "127.0.0.1",
            "--protocol",
            "xmlrpc",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pyro5 or pyro4"));
}
