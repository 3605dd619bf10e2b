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
        Self::spawn_env(kind, prefix, &[])
    }

    /// [`Served::spawn`] with these environment variables set for the process.
    pub fn spawn_env(kind: &str, prefix: &str, env: &[(&str, &str)]) -> Result<Served, BoxErr> {
        Self::spawn_on(kind, prefix, env, None)
    }

    /// [`Served::spawn_env`] on CPU `cpu` alone when given (under `taskset`).
    pub fn spawn_on(
        kind: &str,
        prefix: &str,
        env: &[(&str, &str)],
        cpu: Option<usize>,
    ) -> Result<Served, BoxErr> {
        let exe = std::env::current_exe()?;
        let mut cmd = match cpu {
            Some(n) => {
                let mut c = Command::new("taskset");
                c.args(["-c", &n.to_string()]).arg(exe);
                c
            }
            None => Command::new(exe),
        };
        let mut child = cmd
            .args(["serve", kind])
            .envs(env.iter().copied())
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

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.0.id()
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
