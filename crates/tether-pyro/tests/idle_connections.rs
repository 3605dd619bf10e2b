//! Ten thousand idle established connections cost at most 9 KiB of server memory each (7.8 KB measured), and a
//! new client is still served, with one documented setting (`max_connections`).

mod common;
use common::{python, script, tether_echo, within};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use tether_core::{Call, Value};
use tether_pyro::{DaemonConfig, Proxy};

/// Raises the soft open-files limit towards `want`; returns the limit in force.
fn raise_fd_limit(want: u64) -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < want {
            let raised = libc::rlimit {
                rlim_cur: want.min(lim.rlim_max),
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = raised.rlim_cur;
            }
        }
    }
    lim.rlim_cur
}

/// Resident memory of this process, in bytes.
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_idle_connections_are_cheap() {
    const N: usize = 10_000;
    raise_fd_limit(N as u64 + 1024);
    let (daemon, uri, _) = tether_echo(DaemonConfig {
        max_connections: N + 64,
        ..DaemonConfig::default()
    })
    .await;
    let addr = daemon.local_addr().unwrap();
    let before = rss();
    // The clients live in a Python process, so only the server's memory is measured here.
    let mut child = Command::new(python())
        .arg(script("hold_connections.py"))
        .args([
            addr.ip().to_string(),
            addr.port().to_string(),
            N.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    let line = within(120, line).await.unwrap().unwrap();
    assert_eq!(
        line.trim(),
        format!("held {N}"),
        "the client could not hold them all"
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let per = rss().saturating_sub(before) / N as u64;
    eprintln!("{N} idle established connections: {per} bytes of server memory each");
    // 7.76 KB measured in a release build, 7.8 KB in a debug one, with or without the Pyro 3
    // wire compiled in (the aim is 8 KiB). The bound leaves 1 KiB for another allocator's
    // layout; it caught a connection's task grown by a future held inline (9.3–9.8 KB: a
    // call's, or the Pyro 3 session's; see session.rs's a_connections_task_stays_small).
    assert!(per <= 9 * 1024, "{per} bytes per idle connection");
    // A new client is still served.
    let p = Proxy::new(&uri).unwrap();
    assert_eq!(
        within(10, p.call(Call::new("echo", vec![Value::Int(1)])))
            .await
            .unwrap(),
        Value::Int(1)
    );
    drop(child.stdin.take());
    let _ = child.kill();
    let _ = child.wait();
    daemon.shutdown().await;
}
