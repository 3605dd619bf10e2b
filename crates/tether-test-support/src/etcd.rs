//! [`LocalEtcd`]: a real etcd (Debian's `etcd-server`) of a test's own.

use std::time::Duration;

/// An etcd server of its own on free loopback ports, in a fresh data directory, for tests,
/// and demos (the binary is `$ETCD`, else `etcd` from Debian's `etcd-server` in
/// `/usr/bin` or `/usr/local/bin`). Killed, and its directory removed, on drop.
pub struct LocalEtcd {
    child: std::process::Child,
    dir: std::path::PathBuf,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl LocalEtcd {
    /// Starts it and waits (at most 20 s) until its client port answers.
    pub fn start() -> Result<LocalEtcd, String> {
        let exe = std::env::var_os("ETCD")
            .map(std::path::PathBuf::from)
            .into_iter()
            .chain(["/usr/bin/etcd", "/usr/local/bin/etcd"].map(std::path::PathBuf::from))
            .find(|p| p.exists())
            .ok_or("etcd not found: install Debian's etcd-server (or set ETCD)")?;
        let (client, peer) = (crate::free_port(), crate::free_port());
        let dir = std::env::temp_dir().join(format!("tether-etcd-{}-{client}", std::process::id()));
        let c = format!("http://127.0.0.1:{client}");
        let p = format!("http://127.0.0.1:{peer}");
        let child = std::process::Command::new(exe)
            .arg("--data-dir")
            .arg(&dir)
            .args([
                "--name",
                "local",
                "--listen-client-urls",
                &c,
                "--advertise-client-urls",
                &c,
            ])
            .args([
                "--listen-peer-urls",
                &p,
                "--initial-advertise-peer-urls",
                &p,
            ])
            .args([
                "--initial-cluster",
                &format!("local={p}"),
                "--log-level",
                "error",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start etcd: {e}"))?;
        let etcd = LocalEtcd {
            child,
            dir,
            endpoint: c,
        };
        let start = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", client)).is_err() {
            if start.elapsed() > Duration::from_secs(20) {
                return Err("etcd did not start within 20 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(etcd)
    }

    /// Its client port.
    pub fn port(&self) -> u16 {
        self.endpoint
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for LocalEtcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::fs::remove_dir_all(&self.dir).ok();
    }
}
