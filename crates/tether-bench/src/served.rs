//! [`Served`]: a server process of this binary (`serve KIND`) that announces itself with one
//! line, stopped when dropped. The pool and gateway rows and their targets run this way.

use crate::drive::BoxErr;
use std::io::BufRead;
use std::process::{Child, Command, Stdio};

/// The process and what its first line said after `prefix` (a port, a URL).
pub struct Served(Child, pub String);

impl Served {
    /// Starts `serve KIND` and reads its first line, which must start with `prefix`.
    pub fn spawn(kind: &str, prefix: &str) -> Result<Served, BoxErr> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["serve", kind])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let out = child.stdout.take().ok_or("no stdout")?;
        // The process is stopped by `Served`'s drop even if its line is wrong.
        let mut served = Served(child, String::new());
        let mut line = String::new();
        std::io::BufReader::new(out).read_line(&mut line)?;
        served.1 = line
            .trim()
            .strip_prefix(prefix)
            .ok_or_else(|| format!("{kind} printed {line:?}"))?
            .to_string();
        Ok(served)
    }

    /// Kills it now (a server that vanishes).
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kill();
    }
}
