//! The seed's demo as separate processes: `server run server.xml --log debug` and `client`,
//! on a free port (the XML is copied with port 7000 replaced by 0).
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_and_client_in_two_processes() {
    let dir = std::env::temp_dir().join(format!("tether-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server_xml = std::fs::read_to_string(qs("server.xml"))
        .unwrap()
        .replace("\"7000\"", "\"0\"");
    std::fs::write(dir.join("server.xml"), server_xml).unwrap();

    let mut server = Command::new(env!("CARGO_BIN_EXE_quickstart-server"))
        .args(["run", "server.xml", "--log", "debug"])
        .current_dir(&dir)
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let mut log = Vec::new();
    let port: u16 = timeout(LIMIT, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            log.push(line.clone());
            if let Some(rest) = line.split("serving on [127.0.0.1:").nth(1) {
                return rest.split(']').next().unwrap().parse().unwrap();
            }
        }
        panic!("server ended early: {log:#?}");
    })
    .await
    .unwrap();

    let client_xml = std::fs::read_to_string(qs("client.xml"))
        .unwrap()
        .replace(":7000/", &format!(":{port}/"));
    std::fs::write(dir.join("client.xml"), client_xml).unwrap();
    for file in [dir.join("client.xml"), qs("applicationContext.xml")] {
        let out = timeout(
            LIMIT,
            Command::new(env!("CARGO_BIN_EXE_quickstart-client"))
                .arg(&file)
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
    }

    // graceful stop on SIGTERM
    let pid = server.id().unwrap().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    timeout(LIMIT, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            log.push(line);
        }
    })
    .await
    .unwrap();
    let status = timeout(LIMIT, server.wait()).await.unwrap().unwrap();
    assert!(status.success(), "{status:?}");
    let text = log.join("\n");
    for want in [
        "springpython.remoting.pyro.PyroServiceExporter: Exporting ServiceName as a Pyro service at 127.0.0.1:0",
        "springpython.remoting.pyro.PyroDaemonHolder: Registering ServiceName at 127.0.0.1:0 with the Pyro server",
        "springpython.remoting.pyro.PyroDaemonHolder: Pyro thread needs to be started at 127.0.0.1:0",
        "springpython.remoting.pyro.PyroDaemonHolder._PyroThread: Starting up Pyro server thread for 127.0.0.1:",
        "Deregistering ServiceName at 127.0.0.1:0 with the Pyro server",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn unknown_class_names_the_registered_ones() {
    let dir = std::env::temp_dir().join(format!("tether-quickstart-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("bad.xml"),
        "<objects>\n<object id=\"x\" class=\"server.Nope\"/>\n</objects>",
    )
    .unwrap();
    let out = timeout(
        LIMIT,
        Command::new(env!("CARGO_BIN_EXE_quickstart-server"))
            .args(["run", "bad.xml"])
            .current_dir(&dir)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.xml:2: object 'x': unknown class 'server.Nope'")
            && err.contains("server.Service"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
