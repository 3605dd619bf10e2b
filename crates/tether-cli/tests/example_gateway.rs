//! examples/gateway: the seed's Python 2 `client.py`, unchanged, reaches a Java Hessian
//! service through `tether run gateway.xml` (the seed's `server.xml` with a
//! `HessianProxyFactory` as the exporter's service); a Java exception reaches it readable.

mod common;

use common::{python2, root, start_until};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tether_test_support::{free_port, hessian_jar, java, Proc};

#[test]
fn the_seed_client_reaches_a_java_service_through_the_example_gateway() {
    let dir = std::env::temp_dir().join(format!("tether-example-gw-{}", std::process::id()));
    let classes = dir.join("classes");
    std::fs::create_dir_all(&classes).unwrap();
    let st = Command::new("javac")
        .arg("-cp")
        .arg(hessian_jar())
        .arg("-d")
        .arg(&classes)
        .arg(root().join("examples/gateway/java/QuickstartService.java"))
        .status()
        .expect("javac");
    assert!(st.success());
    let cp = format!("{}:{}", hessian_jar().display(), classes.display());
    let (_java, lines) = start_until(
        Command::new(java())
            .args(tether_test_support::java_peer::OPENS)
            .args(["-cp", &cp, "QuickstartService", "0"]),
        "READY ",
    );
    let java_url = lines
        .last()
        .and_then(|l| l.strip_prefix("READY "))
        .unwrap()
        .to_string();

    let port = free_port();
    let xml = std::fs::read_to_string(root().join("examples/gateway/gateway.xml"))
        .unwrap()
        .replace("http://127.0.0.1:8080/service", &java_url)
        .replace("\"7000\"", &format!("\"{port}\""));
    std::fs::write(dir.join("gateway.xml"), xml).unwrap();
    let client_xml = std::fs::read_to_string(root().join("examples/quickstart/client.xml"))
        .unwrap()
        .replace("127.0.0.1:7000", &format!("127.0.0.1:{port}"));
    std::fs::write(dir.join("client.xml"), client_xml).unwrap();
    std::fs::copy(
        root().join("examples/quickstart/python/client.py"),
        dir.join("client.py"),
    )
    .unwrap();
    let _gateway = Proc(
        Command::new(env!("CARGO_BIN_EXE_tether"))
            .args(["run", "gateway.xml"])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("tether run"),
    );
    let end = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < end, "the gateway never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = python2()
        .args(["client.py", "client.xml"])
        .current_dir(&dir)
        .output()
        .expect("python2 client.py");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.trim(), "CLIENT: Java got remote data => Hello");
    // A Java exception, read by the Python 2 client.
    let out = python2()
        .args([
            "-c",
            "import Pyro.core, sys\nPyro.core.initClient(banner=0)\np = Pyro.core.getProxyForURI(sys.argv[1])\ntry:\n    p.get_data('')\nexcept Exception, e:\n    print e.__class__.__name__, e\n",
            &format!("PYROLOC://127.0.0.1:{port}/ServiceName"),
        ])
        .output()
        .expect("python2");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("java.lang.IllegalArgumentException") && text.contains("an empty param"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
