//! The seed's own stack (Spring Python 1.3.0.RC1 + Pyro 3.16 on Python 2.7) against tether,
//! both ways, with the seed's XML unchanged but for the port (a free one instead of 7000):
//! its `client.py` gets `CLIENT: You got remote data => Hello` from `quickstart-server run
//! server.xml` (tether run with the quickstart's classes), and tether's client, and `tether
//! call`, get it from its `server.py`.
//!
//! Python 2 comes from `$TETHER_PYTHON2` with the packages in `$TETHER_PY2_SITE` (what
//! `scripts/test.sh` installs; defaults: pyenv's 2.7.18 and `<root>/.py2`).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(30);

fn qs(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(file)
}

fn python2() -> Command {
    let root = qs("../..");
    let exe = std::env::var_os("TETHER_PYTHON2")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".pyenv/versions/2.7.18/bin/python2.7")
        });
    let site = std::env::var_os("TETHER_PY2_SITE")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".py2"));
    assert!(
        exe.exists() && site.join("springpython").exists(),
        "Python 2.7 with Spring Python 1.3 not found ({}, {}): run scripts/test.sh",
        exe.display(),
        site.display()
    );
    let mut c = Command::new(exe);
    c.env("PYTHONPATH", site).env("PYTHONUNBUFFERED", "1");
    c.kill_on_drop(true);
    c
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The seed's XML files in a fresh directory, with port 7000 replaced by `port`, plus the
/// seed's Python files.
fn workdir(name: &str, port: u16) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tether-seed-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["server.xml", "client.xml"] {
        let xml = std::fs::read_to_string(qs(f))
            .unwrap()
            .replace("7000", &port.to_string());
        std::fs::write(dir.join(f), xml).unwrap();
    }
    for f in ["server.py", "client.py"] {
        std::fs::copy(qs(&format!("python/{f}")), dir.join(f)).unwrap();
    }
    dir
}

async fn wait_for_port(port: u16) {
    timeout(LIMIT, async {
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the server did not listen in time");
}

async fn stop(mut child: tokio::process::Child) {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
    }
    if timeout(Duration::from_secs(10), child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeds_python2_client_calls_tether_run_server_xml() {
    let port = free_port();
    let dir = workdir("client", port);
    let mut server = Command::new(env!("CARGO_BIN_EXE_quickstart-server"))
        .args(["run", "server.xml", "--log", "debug"])
        .current_dir(&dir)
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    wait_for_port(port).await;
    let out = timeout(
        LIMIT,
        python2()
            .args(["client.py", "client.xml"])
            .current_dir(&dir)
            .output(),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "CLIENT: You got remote data => Hello\n"
    );
    stop(server).await;
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tether_client_calls_the_seeds_python2_server() {
    let port = free_port();
    let dir = workdir("server", port);
    let server = python2()
        .args(["server.py", "server.xml"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port).await;
    let out = timeout(
        LIMIT,
        Command::new(env!("CARGO_BIN_EXE_quickstart-client"))
            .arg(dir.join("client.xml"))
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "CLIENT: You got remote data => Hello\n"
    );
    stop(server).await;
    std::fs::remove_dir_all(dir).ok();
}
