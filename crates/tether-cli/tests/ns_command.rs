//! `tether ns` as a black box: the server prints its URI like Python's, Python's own `nsc`
//! drives it unchanged, `tether ns list|lookup|register|remove|ping` print what `nsc` prints
//! (against tether's server and Python's), registrations survive a restart with `--storage`,
//! and the server stops on SIGTERM.

use std::process::{Command, Output};
use std::time::Duration;

mod common;
use common::{python, start_until, Proc};

fn tether(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(args)
        .output()
        .expect("run tether")
}

fn nsc(args: &[&str]) -> Output {
    Command::new(python())
        .args(["-m", "Pyro5.nsc"])
        .args(args)
        .output()
        .expect("run nsc")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The output with each printed metadata set's items sorted (Python prints a set in hash
/// order, tether sorted).
fn sorted_sets(s: &str) -> String {
    s.lines()
        .map(|l| match (l.find('{'), l.rfind('}')) {
            (Some(a), Some(b)) if a < b => {
                let mut items: Vec<&str> = l[a + 1..b].split(", ").collect();
                items.sort();
                format!("{}{{{}}}{}\n", &l[..a], items.join(", "), &l[b + 1..])
            }
            _ => format!("{l}\n"),
        })
        .collect()
}

/// `tether ns` on a free port keeping its registrations in `storage` (given as `--storage
/// FILE`, or as Pyro's `-s sql:FILE` when `pyro_form`).
/// Returns the server, its URI and the lines it printed up to it.
fn start_ns(storage: &std::path::Path, pyro_form: bool) -> (Proc, String, Vec<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tether"));
    cmd.args(["ns", "-n", "127.0.0.1", "-p", "0"]);
    if pyro_form {
        cmd.arg("-s").arg(format!("sql:{}", storage.display()));
    } else {
        cmd.arg("--storage").arg(storage);
    }
    let (p, lines) = start_until(&mut cmd, "URI = ");
    let uri = lines
        .last()
        .unwrap()
        .trim_start_matches("URI = ")
        .to_string();
    (p, uri, lines)
}

fn sigterm(p: &mut Proc) {
    let pid = p.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let start = std::time::Instant::now();
    while p.0.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "ns did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn tether_ns_with_pythons_nsc_and_its_own_commands() {
    let dir = std::env::temp_dir().join(format!("tether-cli-ns-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let storage = dir.join("ns.sqlite");
    let _ = std::fs::remove_file(&storage);
    let (mut server, uri, lines) = start_ns(&storage, false);
    // A fresh store: no line about it (Pyro's name servers print one only when the store holds
    // more than their own entry).
    assert!(
        !lines.iter().any(|l| l.starts_with("Persistent store")),
        "{lines:?}"
    );
    let port = uri.rsplit(':').next().unwrap().to_string();
    let at = ["-n", "127.0.0.1", "-p", port.as_str()];
    let ours = |cmd: &[&str]| {
        let mut a = vec!["ns"];
        a.extend(cmd);
        a.extend(at);
        tether(&a)
    };
    let theirs = |cmd: &[&str]| {
        let mut a = at.to_vec();
        a.extend(cmd);
        nsc(&a)
    };
    // Python's nsc registers, tether's command shows it, and the other way round
    assert_eq!(
        text(&theirs(&["register", "py.one", "PYRO:one@localhost:1111"])),
        "Registered py.one\n"
    );
    let o = ours(&["register", "rs.two", "PYRO:two@localhost:2222"]);
    assert!(o.status.success());
    assert_eq!(text(&o), "Registered rs.two\n");
    assert_eq!(
        text(&ours(&["setmeta", "rs.two", "blue", "red"])),
        "Metadata updated\n"
    );
    for cmd in [
        vec!["ping"],
        vec!["list"],
        vec!["list", "rs."],
        vec!["listmatching", "py.*"],
        vec!["lookup", "rs.two"],
        vec!["yplookup_all", "red"],
        vec!["yplookup_any", "blue", "green"],
        vec!["lookup", "nope"],
    ] {
        let (a, b) = (ours(&cmd), theirs(&cmd));
        assert_eq!(
            sorted_sets(&text(&a)),
            sorted_sets(&text(&b)),
            "tether ns {cmd:?} prints what nsc prints"
        );
    }
    assert_eq!(ours(&["lookup", "nope"]).status.code(), Some(1));
    assert_eq!(text(&ours(&["remove", "py.one"])), "Removed py.one\n");
    assert_eq!(text(&theirs(&["remove", "py.one"])), "Nothing removed\n");
    // a restart with the same storage keeps the registration (the file named as Pyro's
    // name server takes it, `-s sql:FILE`)
    sigterm(&mut server);
    let (mut server, uri2, lines) = start_ns(&storage, true);
    // Counting its own entry, as Python's Pyro5 name server prints it.
    assert!(
        lines.contains(&"Persistent store contains 2 existing registrations.".to_string()),
        "{lines:?}"
    );
    let port2 = uri2.rsplit(':').next().unwrap().to_string();
    let o = tether(&["ns", "lookup", "rs.two", "-n", "127.0.0.1", "-p", &port2]);
    assert_eq!(
        text(&o),
        "PYRO:two@localhost:2222\nmetadata: {'blue', 'red'}\n"
    );
    sigterm(&mut server);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn pyros_storage_forms_and_start_lines() {
    // `memory` is the default; Pyro's dbm storage is not built, and says so. (And, as Pyro's
    // name server does on a loopback host, it says it starts no broadcast responder, -x or not.)
    let (mut server, lines) = start_until(
        Command::new(env!("CARGO_BIN_EXE_tether")).args([
            "ns",
            "-n",
            "127.0.0.1",
            "-p",
            "0",
            "-x",
            "-s",
            "memory",
        ]),
        "URI = ",
    );
    assert_eq!(lines[0], "Not starting broadcast server for localhost.");
    sigterm(&mut server);
    let o = tether(&["ns", "-n", "127.0.0.1", "-p", "0", "-s", "dbm:/tmp/x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("dbm storage is not built"),
        "{o:?}"
    );
}

#[test]
fn tether_ns_commands_against_pythons_name_server() {
    let (_py, lines) = start_until(
        Command::new(python()).args(["-u", "-m", "Pyro5.nameserver", "-n", "127.0.0.1", "-p", "0"]),
        "URI = ",
    );
    let uri = lines
        .last()
        .unwrap()
        .trim_start_matches("URI = ")
        .to_string();
    let port = uri.rsplit(':').next().unwrap().to_string();
    let at = ["-n", "127.0.0.1", "-p", port.as_str()];
    let mut reg = vec!["ns", "register", "x.y", "PYRO:x@localhost:9"];
    reg.extend(at);
    assert_eq!(text(&tether(&reg)), "Registered x.y\n");
    let mut list = vec!["ns", "list"];
    list.extend(at);
    let mut nsc_list = at.to_vec();
    nsc_list.push("list");
    assert_eq!(text(&tether(&list)), text(&nsc(&nsc_list)));
    let mut ping = vec!["ns", "ping"];
    ping.extend(at);
    assert_eq!(text(&tether(&ping)), "Name server ping ok.\n");
}

/// `-u PATH`, as Pyro's name server and nsc have it: tether's name server on a Unix socket with
/// Python's nsc, and tether's commands against Python's name server on one; the banner is the
/// one Python's prints, and the socket file goes with a graceful shutdown.
#[test]
fn unix_socket_both_ways() {
    let dir = std::env::temp_dir().join(format!("tether-cli-ns-unix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ours = dir.join("tether-ns.sock");
    let path = ours.to_str().unwrap();
    let (mut server, lines) = start_until(
        Command::new(env!("CARGO_BIN_EXE_tether")).args(["ns", "-u", path]),
        "URI = ",
    );
    assert_eq!(
        lines,
        [
            format!("NS running on ./u:{path} (Unix domain socket)"),
            format!("URI = PYRO:Pyro.NameServer@./u:{path}"),
        ]
    );
    assert_eq!(
        text(&nsc(&[
            "-u",
            path,
            "register",
            "py.one",
            "PYRO:one@localhost:1111"
        ])),
        "Registered py.one\n"
    );
    let o = tether(&["ns", "lookup", "py.one", "-u", path]);
    assert_eq!(text(&o), "PYRO:one@localhost:1111\n", "{o:?}");
    assert_eq!(
        sorted_sets(&text(&tether(&["ns", "list", "-u", path]))),
        sorted_sets(&text(&nsc(&["-u", path, "list"])))
    );
    sigterm(&mut server);
    assert!(!ours.exists(), "the socket file stayed");

    let theirs = dir.join("python-ns.sock");
    let path = theirs.to_str().unwrap();
    let (_py, py_lines) = start_until(
        Command::new(python()).args(["-u", "-m", "Pyro5.nameserver", "-u", path]),
        "URI = ",
    );
    assert_eq!(
        py_lines[0],
        format!("NS running on ./u:{path} (Unix domain socket)")
    );
    assert_eq!(
        text(&tether(&[
            "ns",
            "register",
            "rs.two",
            "PYRO:two@localhost:2222",
            "-u",
            path
        ])),
        "Registered rs.two\n"
    );
    assert_eq!(
        text(&nsc(&["-u", path, "lookup", "rs.two"])),
        text(&tether(&["ns", "lookup", "rs.two", "-u", path]))
    );
    std::fs::remove_dir_all(dir).ok();
}
