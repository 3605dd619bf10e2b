//! `tether completions SHELL` and `tether man`: a completion script for each shell and a roff
//! manual page, on stdout; the same flags in every command (`-H/--host`, `-k/--hmac-key`).

use std::process::Command;

fn tether(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (code, out) = tether(&["completions", shell]);
        assert_eq!(code, 0, "{shell}");
        assert!(
            out.contains("gateway") && out.contains("echo-server"),
            "{shell}"
        );
    }
    let (code, out) = tether(&["man"]);
    assert_eq!(code, 0);
    assert!(
        out.contains(".TH tether 1") && out.contains("SUBCOMMANDS"),
        "{out}"
    );
}

/// `tether --help` and the manual page name the environment variables every command reads.
#[test]
fn the_environment_is_documented() {
    let (code, help) = tether(&["--help"]);
    assert_eq!(code, 0);
    let (_, man) = tether(&["man"]);
    for var in [
        "TETHER_LOG",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "TOKIO_WORKER_THREADS",
    ] {
        assert!(help.contains(var), "{var}: {help}");
        assert!(man.contains(var), "{var}: {man}");
    }
}

#[test]
fn the_same_flag_for_the_same_thing() {
    for cmd in ["echo-server", "ns"] {
        let (_, help) = tether(&[cmd, "--help"]);
        assert!(help.contains("-H, --host"), "{cmd}: {help}");
        assert!(help.contains("-k, --hmac-key"), "{cmd}: {help}");
    }
    for cmd in ["call", "bench", "list", "describe"] {
        let (_, help) = tether(&[cmd, "--help"]);
        assert!(help.contains("-k, --hmac-key"), "{cmd}: {help}");
        assert!(help.contains("--timeout <DURATION>"), "{cmd}: {help}");
    }
    // nsc's own spellings still work.
    let (code, _) = tether(&["ns", "yplookup_all", "--help"]);
    assert_eq!(code, 0);
}
