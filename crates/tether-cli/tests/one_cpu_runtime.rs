//! On one CPU the binary runs on a current-thread runtime, and everything a context does at
//! start and close still works there: `tether run` under `taskset -c 0` lists its exporter in a
//! real etcd (Debian's `etcd-server`, started here on a loopback port, stopped by its pid),
//! serves calls through a pool that follows etcd (in this test's own current-thread runtime),
//! and withdraws its entry at SIGTERM before it exits.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tether::cluster::discovery::etcd::EtcdClient;
use tether::context::{ApplicationContext, ClassRegistry};
use tether_core::{Call, Value};
use tether_test_support::{LocalEtcd, Proc};

/// A directory for this test's files, removed with it.
struct Dir(std::path::PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn listed(client: &EtcdClient, prefix: &str) -> Vec<String> {
    match client.list(prefix).await {
        Ok((kvs, _)) => kvs.into_iter().map(|(_, v)| v).collect(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_context_on_one_cpu_lists_serves_and_withdraws_in_a_real_etcd() {
    let etcd = LocalEtcd::start().expect("etcd");
    let client = EtcdClient::new(&etcd.endpoint).expect("etcd client");
    let t = Instant::now();
    while client.list("/").await.is_err() {
        assert!(t.elapsed() < Duration::from_secs(20), "etcd did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let dir = Dir(std::env::temp_dir().join(format!("tether-one-cpu-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let discovery = format!("etcd://127.0.0.1:{}/tether/services/", etcd.port());
    let server_xml = dir.0.join("server.xml");
    std::fs::write(
        &server_xml,
        common::listed_echo_xml("127.0.0.1", 0, &discovery),
    )
    .unwrap();
    let log = dir.0.join("server.log");
    let mut server = Proc::spawn(
        Command::new("taskset")
            .args(["-c", "0"])
            .arg(env!("CARGO_BIN_EXE_tether"))
            .arg("run")
            .arg(&server_xml)
            .args(["--log", "tether.run=debug,info"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap()),
    );
    let prefix = "/tether/services/echo/";
    let t = Instant::now();
    let urls = loop {
        let urls = listed(&client, prefix).await;
        if !urls.is_empty() {
            break urls;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the exporter did not list itself: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(urls.len(), 1, "{urls:?}");
    assert!(urls[0].starts_with("PYRO:echo@127.0.0.1:"), "{urls:?}");

    let pool_xml = format!(
        r#"<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
  <object id="service" class="tether.cluster.PoolProxyFactory">
    <property name="discovery" value="{discovery}echo/"/>
  </object>
</objects>"#
    );
    let ctx = ApplicationContext::builder()
        .registry(ClassRegistry::from_inventory())
        .xml_str(pool_xml, Some("client.xml"))
        .start()
        .await
        .unwrap();
    let invoker = ctx.get_object("service").unwrap().invoker().unwrap();
    let t = Instant::now();
    let mut answer = invoker.invoke(Call::new("echo", vec![Value::Int(1)])).await;
    while answer.is_err() && t.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        answer = invoker.invoke(Call::new("echo", vec![Value::Int(1)])).await;
    }
    assert_eq!(answer.unwrap(), Value::Int(1));
    for i in 0..20 {
        let v = invoker
            .invoke(Call::new("echo", vec![Value::Int(i)]))
            .await
            .unwrap();
        assert_eq!(v, Value::Int(i));
    }
    ctx.close().await;

    // SIGTERM: the entry goes at once (not by its lease expiring) and the process exits 0.
    server.signal("TERM");
    let t = Instant::now();
    let status = loop {
        if let Some(s) = server.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "no exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status:?}");
    assert!(
        listed(&client, prefix).await.is_empty(),
        "the entry outlived the process"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("runtime: current-thread"), "{text}");
}
