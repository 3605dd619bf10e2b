//! Processes a test starts, stopped by pid whatever the test's outcome, and free ports.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A child process that is stopped when dropped: SIGTERM (so servers shut down as they
/// would), then SIGKILL after two seconds, then reaped.
pub struct Proc(pub Child);

impl Proc {
    /// Spawns `cmd`; panics with the command line if it cannot start.
    pub fn spawn(cmd: &mut Command) -> Proc {
        match cmd.spawn() {
            Ok(c) => Proc(c),
            Err(e) => panic!("cannot start {cmd:?}: {e}"),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Sends `signal` (a name `kill` understands: TERM, KILL, STOP, CONT) to the process.
    pub fn signal(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([format!("-{signal}"), self.pid().to_string()])
            .status();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(Some(_))) {
            return;
        }
        self.signal("TERM");
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (for peers that cannot bind port 0 and
/// report it). Never the same port twice in one process, so tests running side by side do not
/// hand one port to two servers.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    for _ in 0..64 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free port on 127.0.0.1: {e}"));
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
    panic!("no fresh free port on 127.0.0.1 in 64 tries")
}
