//! [`LocalEtcd`]: a real etcd (Debian's `etcd-server`) of a test's own.

use std::time::Duration;

/// The etcd binary: `$ETCD`, else Debian's `etcd-server` in `/usr/bin` or `/usr/local/bin`.
fn etcd_exe() -> Result<std::path::PathBuf, String> {
    std::env::var_os("ETCD")
        .map(std::path::PathBuf::from)
        .into_iter()
        .chain(["/usr/bin/etcd", "/usr/local/bin/etcd"].map(std::path::PathBuf::from))
        .find(|p| p.exists())
        .ok_or_else(|| "etcd not found: install Debian's etcd-server (or set ETCD)".to_string())
}

/// An etcd command for one member: its data directory and name, the client URLs it listens on
/// and advertises, its peer URL (listened on and advertised), errors only in its log.
fn member_command(
    exe: &std::path::Path,
    dir: &std::path::Path,
    name: &str,
    listen: &str,
    advertise: &str,
    peer: &str,
) -> std::process::Command {
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("--data-dir").arg(dir).args([
        "--name",
        name,
        "--listen-client-urls",
        listen,
        "--advertise-client-urls",
        advertise,
        "--listen-peer-urls",
        peer,
        "--initial-advertise-peer-urls",
        peer,
        "--log-level",
        "error",
    ]);
    cmd
}

/// An etcd server of its own on free loopback ports, in a fresh data directory, for tests,
/// and demos (the binary is `$ETCD`, else `etcd` from Debian's `etcd-server` in
/// `/usr/bin` or `/usr/local/bin`). Killed, and its directory removed, on drop.
pub struct LocalEtcd {
    child: std::process::Child,
    dir: std::path::PathBuf,
    /// `http://127.0.0.1:PORT` (`https://` when started with [`LocalEtcd::start_tls`]).
    pub endpoint: String,
}

/// How many times a single etcd is started on fresh ports when it exits at once (another
/// process took a port between [`crate::free_port`] and etcd's bind).
const ATTEMPTS: usize = 3;

/// The last lines of etcd's log, for an error message.
fn log_tail(log: &std::path::Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(12)..].join("\n")
}

/// Waits until `port` accepts a connection, or `child` exits, or `limit` passes.
fn wait_for_port(
    child: &mut std::process::Child,
    port: u16,
    limit: Duration,
) -> Result<(), String> {
    let start = std::time::Instant::now();
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("etcd exited ({status})"));
        }
        if start.elapsed() > limit {
            return Err(format!("etcd did not open port {port} within {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl LocalEtcd {
    /// Starts it and waits (at most 20 s) until its client port answers.
    pub fn start() -> Result<LocalEtcd, String> {
        Self::start_also_on(None)
    }

    /// Starts it listening on loopback and, if given, on `addr` too (the same port): the
    /// machine's side of a test host's link, so a server in that host's namespace reaches it.
    pub fn start_also_on(addr: Option<&str>) -> Result<LocalEtcd, String> {
        Self::launch(addr, None)
    }

    /// Starts it serving HTTPS on its client port with this certificate and key (PEM files);
    /// clients are not asked for a certificate.
    pub fn start_tls(cert: &std::path::Path, key: &std::path::Path) -> Result<LocalEtcd, String> {
        Self::launch(None, Some((cert, key)))
    }

    fn launch(
        addr: Option<&str>,
        tls: Option<(&std::path::Path, &std::path::Path)>,
    ) -> Result<LocalEtcd, String> {
        let exe = etcd_exe()?;
        let mut last = String::new();
        for _ in 0..ATTEMPTS {
            let (client, peer) = (crate::free_port(), crate::free_port());
            if client == peer {
                continue;
            }
            let dir =
                std::env::temp_dir().join(format!("tether-etcd-{}-{client}", std::process::id()));
            let log = dir.with_extension("log");
            let scheme = if tls.is_some() { "https" } else { "http" };
            let c = format!("{scheme}://127.0.0.1:{client}");
            let listen = match addr {
                Some(a) => format!("{c},{scheme}://{a}:{client}"),
                None => c.clone(),
            };
            let p = format!("http://127.0.0.1:{peer}");
            let mut cmd = member_command(&exe, &dir, "local", &listen, &c, &p);
            cmd.args(["--initial-cluster", &format!("local={p}")]);
            if let Some((cert, key)) = tls {
                cmd.arg("--cert-file").arg(cert).arg("--key-file").arg(key);
            }
            let err = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
            let child = cmd
                .stdout(std::process::Stdio::null())
                .stderr(err)
                .spawn()
                .map_err(|e| format!("cannot start etcd: {e}"))?;
            let mut etcd = LocalEtcd {
                child,
                dir,
                endpoint: c,
            };
            match wait_for_port(&mut etcd.child, client, Duration::from_secs(20)) {
                Ok(()) => return Ok(etcd),
                Err(e) => last = format!("{e}; its log ends:\n{}", log_tail(&log)),
            }
        }
        Err(last)
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
        std::fs::remove_file(self.dir.with_extension("log")).ok();
    }
}

/// A three-member (or `n`-member) etcd cluster of a test's own, on free loopback ports; each
/// member can be killed and started again. Everything is stopped, and removed, on drop.
pub struct LocalEtcdCluster {
    exe: std::path::PathBuf,
    members: Vec<Member>,
    token: String,
}

struct Member {
    name: String,
    client: u16,
    peer: u16,
    dir: std::path::PathBuf,
    child: Option<std::process::Child>,
}

impl LocalEtcdCluster {
    /// Starts `n` members and waits (at most 30 s) until every client port answers.
    pub fn start(n: usize) -> Result<LocalEtcdCluster, String> {
        let exe = etcd_exe()?;
        let pid = std::process::id();
        let members: Vec<Member> = (0..n)
            .map(|i| {
                let client = crate::free_port();
                Member {
                    name: format!("m{i}"),
                    client,
                    peer: crate::free_port(),
                    dir: std::env::temp_dir().join(format!("tether-etcdc-{pid}-{client}")),
                    child: None,
                }
            })
            .collect();
        let mut c = LocalEtcdCluster {
            exe,
            members,
            token: format!("tether-{pid}-{}", crate::free_port()),
        };
        for i in 0..n {
            c.start_member(i, "new")?;
        }
        c.wait_all()?;
        Ok(c)
    }

    fn initial_cluster(&self) -> String {
        self.members
            .iter()
            .map(|m| format!("{}=http://127.0.0.1:{}", m.name, m.peer))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn start_member(&mut self, i: usize, state: &str) -> Result<(), String> {
        let ic = self.initial_cluster();
        let m = &mut self.members[i];
        let c = format!("http://127.0.0.1:{}", m.client);
        let p = format!("http://127.0.0.1:{}", m.peer);
        let child = member_command(&self.exe, &m.dir, &m.name, &c, &c, &p)
            .args(["--initial-cluster", &ic, "--initial-cluster-state", state])
            .args(["--initial-cluster-token", &self.token])
            .stdout(std::process::Stdio::null())
            .stderr(Self::log_file(m)?)
            .spawn()
            .map_err(|e| format!("cannot start etcd: {e}"))?;
        m.child = Some(child);
        Ok(())
    }

    /// Member `m`'s log (appended to across restarts), beside its data directory.
    fn log_file(m: &Member) -> Result<std::fs::File, String> {
        let log = m.dir.with_extension("log");
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| format!("{}: {e}", log.display()))
    }

    fn wait_all(&mut self) -> Result<(), String> {
        let start = std::time::Instant::now();
        for m in &mut self.members {
            let Some(child) = m.child.as_mut() else {
                continue;
            };
            let left = Duration::from_secs(30).saturating_sub(start.elapsed());
            wait_for_port(child, m.client, left).map_err(|e| {
                format!(
                    "etcd member {}: {e}; its log ends:\n{}",
                    m.name,
                    log_tail(&m.dir.with_extension("log"))
                )
            })?;
        }
        Ok(())
    }

    /// `host:port` of every member, comma-separated (what an `etcd://` URL takes).
    pub fn endpoints(&self) -> String {
        self.members
            .iter()
            .map(|m| format!("127.0.0.1:{}", m.client))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Member `i`'s client port.
    pub fn port(&self, i: usize) -> u16 {
        self.members[i].client
    }

    /// Kills member `i` (SIGKILL); its data stays, so it can come back.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.members[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts member `i` again, rejoining with its data.
    pub fn restart(&mut self, i: usize) -> Result<(), String> {
        self.start_member(i, "existing")?;
        self.wait_all()
    }
}

impl Drop for LocalEtcdCluster {
    fn drop(&mut self) {
        for m in &mut self.members {
            if let Some(mut c) = m.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
            std::fs::remove_dir_all(&m.dir).ok();
            std::fs::remove_file(m.dir.with_extension("log")).ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_etcd_that_exits_at_once_is_tried_again_and_its_log_quoted() {
        // A stand-in for etcd that complains and exits, as etcd does when a port it was given
        // is taken. (The only test in this crate that sets `ETCD`.)
        let dir = std::env::temp_dir().join(format!("tether-fake-etcd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let fake = dir.join("etcd");
        std::fs::write(
            &fake,
            "#!/bin/sh\necho \"listen tcp: bind: address already in use\" >&2\nexit 1\n",
        )
        .expect("script");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::env::set_var("ETCD", &fake);
        let started = std::time::Instant::now();
        let e = match LocalEtcd::start() {
            Ok(_) => panic!("a process that exits was taken for etcd"),
            Err(e) => e,
        };
        std::env::remove_var("ETCD");
        let _ = std::fs::remove_dir_all(&dir);
        // It noticed the exits (three tries) instead of waiting out the port.
        assert!(started.elapsed() < Duration::from_secs(10), "{e}");
        assert!(
            e.contains("etcd exited") && e.contains("address already in use"),
            "{e}"
        );
    }
}
