//! `tether list URL` and `tether describe URL [METHOD]`: what a remote object exposes, from
//! its wire (Pyro5's metadata from tether's echo server and from Python's Pyro5, XML-RPC's
//! introspection from Python's `xmlrpc.server`); a wire that cannot tell says so.

mod common;

use common::{python, root, start_until};
use std::process::Command;

fn tether(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn pyro_metadata_lists_and_describes() {
    let (_p, urls) = common::echo_servers(&["pyro5"]);
    let (code, out, err) = tether(&["list", &urls[0]]);
    assert_eq!(code, 0, "{err}");
    let names: Vec<&str> = out.lines().collect();
    assert!(
        names.contains(&"echo") && names.contains(&"oneway_echo") && names.contains(&"generator"),
        "{out}"
    );
    let (code, out, _) = tether(&["describe", &urls[0]]);
    assert_eq!(code, 0);
    assert!(out.contains("oneway_echo: oneway method"), "{out}");
    assert!(out.contains("verbose: attribute"), "{out}");
    let (code, out, _) = tether(&["describe", &urls[0], "echo"]);
    assert_eq!((code, out.trim()), (0, "echo: method"));
    let (code, _, err) = tether(&["describe", &urls[0], "nothing"]);
    assert_eq!(code, 1);
    assert!(err.contains("no method or attribute"), "{err}");
    // Python's own Pyro5 server, the same way.
    let (_py, lines) = start_until(
        Command::new(python())
            .arg("-u")
            .arg(root().join("crates/tether-pyro/tests/python/test_server.py")),
        "server uri:",
    );
    let url = lines
        .last()
        .and_then(|l| l.strip_prefix("server uri: "))
        .unwrap()
        .to_string();
    let (code, out, err) = tether(&["list", &url]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.lines().any(|l| l == "greet") && out.lines().any(|l| l == "notify"),
        "{out}"
    );
}

#[test]
fn xmlrpc_introspection_lists_and_describes() {
    let (_xr, lines) = start_until(
        Command::new(python())
            .arg("-u")
            .arg(root().join("crates/tether-xmlrpc/tests/python/xmlrpc_peer.py"))
            .arg("serve"),
        "URL ",
    );
    let url = lines
        .last()
        .and_then(|l| l.strip_prefix("URL "))
        .unwrap()
        .to_string();
    let (code, out, err) = tether(&["list", &url, "--protocol", "xmlrpc"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["add", "echo", "fail", "pow"]
    );
    let (code, out, err) = tether(&["describe", &url, "pow", "--protocol", "xmlrpc"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("pow: method"), "{out}");
}

#[test]
fn a_wire_without_metadata_says_so() {
    let (_p, urls) = common::echo_servers(&["hessian"]);
    let (code, _, err) = tether(&["list", &urls[0]]);
    assert_eq!(code, 4);
    assert!(err.contains("cannot list"), "{err}");
}
