//! High availability with real processes: a real etcd and `tether run` servers that register
//! in it; eight clients calling continuously through one `tether.cluster.PoolProxyFactory`
//! (discovery on etcd, `echo` marked idempotent). One server is SIGKILLed, one SIGSTOPped (a
//! hang, not a refusal), both come back, the pool grows to four and shrinks to two. Zero
//! calls may fail; the times to eject and to re-admit and the calls each server got are
//! printed (never asserted: timings belong to the benchmark).

mod common;
use common::Proc;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tether::cluster::component::PoolProxyFactory;
use tether::context::{ApplicationContext, ClassRegistry};
use tether_core::{Call, Value};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn server_xml(dir: &std::path::Path, etcd: u16, n: usize) -> std::path::PathBuf {
    let f = dir.join(format!("server{n}.xml"));
    let discovery = format!("etcd://127.0.0.1:{etcd}/tether/services/");
    std::fs::write(&f, common::listed_echo_xml("127.0.0.1", 0, &discovery)).unwrap();
    f
}

fn start_server(xml: &std::path::Path) -> Proc {
    Proc(
        Command::new(env!("CARGO_BIN_EXE_tether"))
            .arg("run")
            .arg(xml)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

fn signal(p: &Proc, sig: &str) {
    let pid = p.0.id().to_string();
    assert!(Command::new("kill")
        .args([sig, &pid])
        .status()
        .unwrap()
        .success());
}

/// Waits (bounded) until `cond` holds; returns how long it took.
async fn until(what: &str, limit: Duration, cond: impl Fn() -> bool) -> Duration {
    let t = Instant::now();
    while !cond() {
        assert!(t.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    t.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_clients_ride_through_kill_stop_restart_grow_and_shrink() {
    let etcd = tether_test_support::LocalEtcd::start().unwrap();
    let etcd_port = etcd.port();
    let dir = std::env::temp_dir().join(format!("tether-ha-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let xml: Vec<_> = (0..4).map(|n| server_xml(&dir, etcd_port, n)).collect();
    let mut servers: Vec<Option<Proc>> = (0..3).map(|n| Some(start_server(&xml[n]))).collect();
    servers.push(None);

    let client = format!(
        r#"<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
  <object id="service" class="tether.cluster.PoolProxyFactory">
    <property name="discovery" value="etcd://127.0.0.1:{etcd_port}/tether/services/echo/"/>
    <property name="idempotent_methods"><list><value>echo</value></list></property>
    <property name="timeout" value="0.5"/>
    <property name="deadline" value="5"/>
    <property name="eject_after" value="2"/>
    <property name="ejection" value="0.5"/>
    <property name="probe_timeout" value="0.3"/>
  </object>
</objects>"#
    );
    let ctx = ApplicationContext::builder()
        .registry(ClassRegistry::from_inventory())
        .xml_str(client, Some("client.xml"))
        .start()
        .await
        .unwrap();
    let factory = ctx.get_as::<PoolProxyFactory>("service").unwrap();
    let invoker = ctx.get_object("service").unwrap().invoker().unwrap();
    // The first call starts the discovery; it may find fewer than three at first.
    let start = Instant::now();
    let pool = factory.pool().unwrap();
    loop {
        let _ = invoker.invoke(Call::new("echo", vec![Value::Int(0)])).await;
        if pool.urls().len() == 3 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "servers did not register: {:?}",
            pool.urls()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Eight clients, calling continuously.
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let errors = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut clients = Vec::new();
    for c in 0..8i64 {
        let (inv, stop, ok, failed, errors) = (
            invoker.clone(),
            stop.clone(),
            ok.clone(),
            failed.clone(),
            errors.clone(),
        );
        clients.push(tokio::spawn(async move {
            let mut i = 0i64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let v = Value::Int(c * 1_000_000 + i);
                match inv.invoke(Call::new("echo", vec![v.clone()])).await {
                    Ok(got) if got == v => ok.fetch_add(1, Ordering::Relaxed),
                    Ok(other) => {
                        errors
                            .lock()
                            .unwrap()
                            .push(format!("wrong answer {other:?}"));
                        failed.fetch_add(1, Ordering::Relaxed)
                    }
                    Err(e) => {
                        errors.lock().unwrap().push(e.to_string());
                        failed.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
        }));
    }
    // The calls each server got, sampled (a server that leaves takes its counters with it).
    let seen: Arc<std::sync::Mutex<BTreeMap<String, u64>>> = Arc::default();
    let sampler = {
        let (pool, seen, stop) = (pool.clone(), seen.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                for s in pool.stats() {
                    let mut m = seen.lock().unwrap();
                    let e = m.entry(s.url).or_default();
                    *e = (*e).max(s.calls);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let mut report = Vec::new();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let ejections =
        |pool: &tether::cluster::Pool| -> u64 { pool.stats().iter().map(|s| s.ejections).sum() };

    // SIGKILL server 0: refused connections, ejected, then its lease expires.
    let (n, e) = (pool.urls().len(), ejections(&pool));
    signal(servers[0].as_ref().unwrap(), "-KILL");
    let t0 = Instant::now();
    let gone = until(
        "a killed server leaves the live set",
        Duration::from_secs(10),
        || ejections(&pool) > e || pool.urls().len() < n,
    )
    .await;
    report.push(format!("SIGKILL: out of the live set after {gone:?}"));
    let left = until(
        "the killed server's lease expires",
        Duration::from_secs(10),
        || pool.urls().len() == 2,
    )
    .await;
    report.push(format!(
        "SIGKILL: lease expired, pool of 2 after {:?}",
        t0.elapsed().max(left)
    ));
    servers[0].take();

    // SIGSTOP server 1: a hang. Its calls time out (0.5 s), it is ejected, its lease lapses.
    let (n, e) = (pool.urls().len(), ejections(&pool));
    signal(servers[1].as_ref().unwrap(), "-STOP");
    let t1 = Instant::now();
    until(
        "a hung server leaves the live set",
        Duration::from_secs(10),
        || ejections(&pool) > e || pool.urls().len() < n,
    )
    .await;
    report.push(format!(
        "SIGSTOP: out of the live set after {:?}",
        t1.elapsed()
    ));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Both come back: SIGCONT (it registers again) and a new process for the killed one.
    signal(servers[1].as_ref().unwrap(), "-CONT");
    servers[0] = Some(start_server(&xml[0]));
    let t2 = Instant::now();
    until("both servers are back", Duration::from_secs(15), || {
        pool.urls().len() == 3 && pool.stats().iter().all(|s| !s.ejected)
    })
    .await;
    report.push(format!(
        "SIGCONT + restart: all 3 live again after {:?}",
        t2.elapsed()
    ));

    // Grow to four, then shrink to two (graceful shutdowns delete their keys).
    servers[3] = Some(start_server(&xml[3]));
    let t3 = Instant::now();
    until("the pool grows to 4", Duration::from_secs(15), || {
        pool.urls().len() == 4
    })
    .await;
    report.push(format!("grow: 4 members after {:?}", t3.elapsed()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    signal(servers[2].as_ref().unwrap(), "-TERM");
    signal(servers[3].as_ref().unwrap(), "-TERM");
    let t4 = Instant::now();
    until("the pool shrinks to 2", Duration::from_secs(15), || {
        pool.urls().len() == 2
    })
    .await;
    report.push(format!(
        "shrink (SIGTERM): 2 members after {:?}",
        t4.elapsed()
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;

    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    sampler.await.unwrap();
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    eprintln!("--- high availability run ---");
    for line in &report {
        eprintln!("{line}");
    }
    eprintln!("calls: {ok} answered, {failed} failed");
    for (url, calls) in seen.lock().unwrap().iter() {
        eprintln!("  {url}: {calls} calls");
    }
    for s in pool.stats() {
        eprintln!("  now: {s:?}");
    }
    assert_eq!(
        failed,
        0,
        "idempotent calls under failover: {:?}",
        errors.lock().unwrap()
    );
    assert!(ok > 100, "the clients ran ({ok} calls)");
    assert!(
        seen.lock().unwrap().values().filter(|c| **c > 0).count() >= 4,
        "calls spread over the servers as they came and went: {:?}",
        seen.lock().unwrap()
    );
    ctx.close().await;
    drop(servers);
    std::fs::remove_dir_all(dir).ok();
}

/// The same from the command line: `tether bench --context pool.xml service echo ...` over
/// three `tether echo-server`s, one of them SIGKILLed in the middle of the run: no failed
/// call, and the per-endpoint lines show who took the calls and who was ejected.
#[test]
fn tether_bench_through_a_pool_rides_through_a_kill() {
    let (servers, urls) = common::echo_servers(&["pyro5", "pyro5", "pyro5"]);
    let dir = std::env::temp_dir().join(format!("tether-ha-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let xml = dir.join("pool.xml");
    let values: String = urls.iter().map(|u| format!("<value>{u}</value>")).collect();
    std::fs::write(
        &xml,
        format!(
            r#"<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
  <object id="service" class="tether.cluster.PoolProxyFactory">
    <property name="service_urls"><list>{values}</list></property>
    <property name="idempotent_methods"><list><value>echo</value></list></property>
    <property name="timeout" value="1"/>
  </object>
</objects>"#
        ),
    )
    .unwrap();
    let bench = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["bench", "--context"])
        .arg(&xml)
        .args(["service", "echo", "1", "-c", "8", "-z", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(1));
    signal(&servers[0], "-KILL");
    let out = bench.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{text}");
    assert!(out.status.success(), "{text}");
    assert!(text.contains("errors: none"), "{text}");
    let killed = text
        .lines()
        .find(|l| l.starts_with(&format!("endpoint {}:", urls[0])))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(killed.contains("(ejected now)"), "{killed}");
    for u in &urls[1..] {
        assert!(text.contains(&format!("endpoint {u}:")), "{text}");
    }
    std::fs::remove_dir_all(dir).ok();
}

/// Discovery through a Pyro name server (`tether ns`): a pool over every name with a prefix
/// follows registrations and removals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_follows_a_pyro_name_server_prefix() {
    let port = free_port();
    let (_ns, _) = common::start_until(
        Command::new(env!("CARGO_BIN_EXE_tether")).args([
            "ns",
            "-n",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-x",
        ]),
        "URI = ",
    );
    let (servers, uris) = common::echo_servers(&["pyro5", "pyro5", "pyro5"]);
    let ns = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_tether"))
            .args(["ns", "-n", "127.0.0.1", "-p", &port.to_string()])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ns(&["register", "example.echo.1", &uris[0]]);
    ns(&["register", "example.echo.2", &uris[1]]);
    ns(&["register", "other.thing", &uris[2]]);
    let client = format!(
        r#"<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
  <object id="service" class="tether.cluster.PoolProxyFactory">
    <property name="discovery" value="pyro-ns://127.0.0.1:{port}/example.echo."/>
    <property name="discovery_interval" value="0.1"/>
    <property name="idempotent_methods"><list><value>echo</value></list></property>
  </object>
</objects>"#
    );
    let ctx = ApplicationContext::builder()
        .registry(ClassRegistry::from_inventory())
        .xml_str(client, Some("client.xml"))
        .start()
        .await
        .unwrap();
    let invoker = ctx.get_object("service").unwrap().invoker().unwrap();
    let v = invoker
        .invoke(Call::new("echo", vec![Value::Int(5)]))
        .await
        .unwrap();
    assert_eq!(v, Value::Int(5));
    let pool = ctx
        .get_as::<PoolProxyFactory>("service")
        .unwrap()
        .pool()
        .unwrap();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(sorted(pool.urls()), sorted(uris[..2].to_vec()));
    ns(&["register", "example.echo.3", &uris[2]]);
    until(
        "the pool grows with the name server",
        Duration::from_secs(5),
        || pool.urls().len() == 3,
    )
    .await;
    ns(&["remove", "example.echo.1"]);
    until(
        "the pool shrinks with the name server",
        Duration::from_secs(5),
        || pool.urls().len() == 2 && !pool.urls().contains(&uris[0]),
    )
    .await;
    for _ in 0..6 {
        invoker
            .invoke(Call::new("echo", vec![Value::Int(1)]))
            .await
            .unwrap();
    }
    ctx.close().await;
    // By metadata (PYROMETA:): the objects that carry every tag.
    ns(&["setmeta", "example.echo.2", "blue", "fast"]);
    ns(&["setmeta", "example.echo.3", "blue"]);
    let client = format!(
        r#"<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
  <object id="service" class="tether.cluster.PoolProxyFactory">
    <property name="discovery" value="pyro-ns://127.0.0.1:{port}/?meta=blue,fast"/>
  </object>
</objects>"#
    );
    let ctx = ApplicationContext::builder()
        .registry(ClassRegistry::from_inventory())
        .xml_str(client, Some("meta.xml"))
        .start()
        .await
        .unwrap();
    let invoker = ctx.get_object("service").unwrap().invoker().unwrap();
    invoker
        .invoke(Call::new("echo", vec![Value::Int(2)]))
        .await
        .unwrap();
    let pool = ctx
        .get_as::<PoolProxyFactory>("service")
        .unwrap()
        .pool()
        .unwrap();
    assert_eq!(pool.urls(), [uris[1].clone()]);
    ctx.close().await;
    drop(servers);
}

/// One pool over three wires (Pyro5, Hessian, XML-RPC `tether echo-server`s), one member a
/// ref to a proxy factory, weighted: the calls follow the weights, and the per-endpoint
/// counters say so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_weighted_pool_over_three_wires_and_a_ref() {
    let (servers, uris) = common::echo_servers(&["pyro5", "hessian", "xmlrpc"]);
    let client = format!(
        r#"<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
  <object id="overXmlRpc" class="tether.xmlrpc.ProxyFactory">
    <property name="service_url" value="{xmlrpc}"/>
  </object>
  <object id="service" class="tether.cluster.PoolProxyFactory">
    <property name="service_urls"><list>
      <value>{pyro}</value>
      <value>{hessian}</value>
      <ref object="overXmlRpc"/>
    </list></property>
    <property name="balance" value="weighted_random"/>
    <property name="weights"><dict>
      <entry><key><value>{pyro}</value></key><value>6</value></entry>
      <entry><key><value>overXmlRpc</value></key><value>3</value></entry>
    </dict></property>
  </object>
</objects>"#,
        pyro = uris[0],
        hessian = uris[1],
        xmlrpc = uris[2]
    );
    let ctx = ApplicationContext::builder()
        .registry(ClassRegistry::from_inventory())
        .xml_str(client, Some("mixed.xml"))
        .start()
        .await
        .unwrap();
    let invoker = ctx.get_object("service").unwrap().invoker().unwrap();
    for i in 0..1000 {
        let v = Value::str(format!("m{i}"));
        let got = invoker
            .invoke(Call::new("echo", vec![v.clone()]))
            .await
            .unwrap();
        assert_eq!(got, v);
    }
    let pool = ctx
        .get_as::<PoolProxyFactory>("service")
        .unwrap()
        .pool()
        .unwrap();
    let calls = |key: &str| {
        pool.stats()
            .iter()
            .find(|s| s.url == key)
            .map(|s| s.calls)
            .unwrap_or_else(|| panic!("{key}: {:?}", pool.stats()))
    };
    let (pyro, hessian, xmlrpc) = (calls(&uris[0]), calls(&uris[1]), calls("ref:overXmlRpc"));
    eprintln!("weights 6:1:3 gave {pyro}:{hessian}:{xmlrpc}");
    assert_eq!(pyro + hessian + xmlrpc, 1000);
    // Expected 600:100:300; bounds at about five standard deviations.
    assert!(
        (450..=750).contains(&pyro)
            && (30..=200).contains(&hessian)
            && (180..=420).contains(&xmlrpc),
        "{pyro}:{hessian}:{xmlrpc}"
    );
    ctx.close().await;
    drop(servers);
}
