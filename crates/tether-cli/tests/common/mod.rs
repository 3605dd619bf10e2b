//! Helpers shared by the black-box tests of the `tether` binary.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Child;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python with the Pyro5 peer installed (`TETHER_PYTHON`, else `<root>/.venv/bin/python`).
pub fn python() -> PathBuf {
    let p = std::env::var_os("TETHER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/bin/python"));
    assert!(
        p.exists(),
        "Python peer not found at {}: run scripts/test.sh to install the peers",
        p.display()
    );
    p
}

/// A child process killed and reaped on drop, so a failing test leaves nothing running.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
