//! Discovery on a three-member etcd cluster: exporters (`tether run`) register through a URL
//! naming every member (`etcd://h1:p1,h2:p2,h3:p3/prefix/`), a pool follows the same URL; the
//! member the clients were using is killed: leases stay alive through the others, the pool's
//! watch resumes on another member and sees a server that registers afterwards, calls go on;
//! the member comes back. Also etcd's user/password authentication.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tether::context::ApplicationContext;
use tether_core::{Call, Value};
use tether_test_support::{LocalEtcdCluster, Proc};

fn server(dir: &std::path::Path, discovery: &str, n: usize) -> Proc {
    let f = dir.join(format!("server{n}.xml"));
    std::fs::write(&f, common::listed_echo_xml("127.0.0.1", 0, discovery)).unwrap();
    Proc(
        Command::new(env!("CARGO_BIN_EXE_tether"))
            .arg("run")
            .arg(&f)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

async fn until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(t.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_rides_through_the_loss_of_an_etcd_member() {
    let mut etcd = LocalEtcdCluster::start(3).expect("a three-member etcd cluster");
    let discovery = format!("etcd://{}/tether/services/", etcd.endpoints());
    let dir = std::env::temp_dir().join(format!("tether-etcdc-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _s0 = server(&dir, &discovery, 0);
    let _s1 = server(&dir, &discovery, 1);
    let client = format!(
        r#"<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
  <object id="service" class="tether.cluster.PoolProxyFactory">
    <property name="discovery" value="{discovery}echo/"/>
    <property name="idempotent_methods"><list><value>echo</value></list></property>
  </object>
</objects>"#
    );
    let ctx = ApplicationContext::builder()
        .registry(tether::ClassRegistry::from_inventory())
        .xml_str(client, Some("client.xml"))
        .start()
        .await
        .unwrap();
    let invoker = ctx.get_object("service").unwrap().invoker().unwrap();
    let pool = ctx
        .get_as::<tether::cluster::component::PoolProxyFactory>("service")
        .unwrap()
        .pool()
        .unwrap();
    let t = Instant::now();
    loop {
        let _ = invoker.invoke(Call::new("echo", vec![Value::Int(0)])).await;
        if pool.urls().len() == 2 {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "servers did not register: {:?}",
            pool.urls()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The first member, which every client starts with, dies.
    etcd.kill(0);
    // Leases are kept alive through the others: after several TTLs both are still listed.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        pool.urls().len(),
        2,
        "a lease expired after a member's loss: {:?}",
        pool.urls()
    );
    // The watch resumed on another member: a server registering now is seen.
    let _s2 = server(&dir, &discovery, 2);
    let p = pool.clone();
    until(
        "the third server is seen",
        Duration::from_secs(30),
        move || p.urls().len() == 3,
    )
    .await;
    for i in 0..10 {
        assert_eq!(
            invoker
                .invoke(Call::new("echo", vec![Value::Int(i)]))
                .await
                .unwrap(),
            Value::Int(i)
        );
    }
    // The member comes back and the cluster goes on.
    etcd.restart(0).expect("the member rejoins");
    let _s3 = server(&dir, &discovery, 3);
    let p = pool.clone();
    until(
        "the fourth server is seen",
        Duration::from_secs(30),
        move || p.urls().len() == 4,
    )
    .await;
    ctx.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_with_user_and_password() {
    let etcd = LocalEtcdCluster::start(1).expect("etcd");
    let base = format!("http://127.0.0.1:{}", etcd.port(0));
    // Turn authentication on: a root user, a tether user with a role on the prefix.
    let post = |path: &str, body: &str, token: Option<&str>| -> String {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
        let auth = token
            .map(|t| format!("Authorization: {t}\r\n"))
            .unwrap_or_default();
        write!(
            s,
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    post(
        "/v3/auth/user/add",
        r#"{"name":"root","password":"rootpw"}"#,
        None,
    );
    post("/v3/auth/role/add", r#"{"name":"root"}"#, None);
    post(
        "/v3/auth/user/grant",
        r#"{"user":"root","role":"root"}"#,
        None,
    );
    post("/v3/auth/enable", "{}", None);
    let client = tether::cluster::discovery::EtcdClient::new(&format!(
        "etcd://root:rootpw@127.0.0.1:{}",
        etcd.port(0)
    ))
    .unwrap();
    client
        .put("/tether/auth/x", "PYRO:x@127.0.0.1:1", None)
        .await
        .unwrap();
    let (kvs, _) = client.list("/tether/auth/").await.unwrap();
    assert_eq!(
        kvs,
        vec![(
            "/tether/auth/x".to_string(),
            "PYRO:x@127.0.0.1:1".to_string()
        )]
    );
    // Without credentials, or with a wrong password, etcd refuses; the error says so.
    let anon = tether::cluster::discovery::EtcdClient::new(&format!("127.0.0.1:{}", etcd.port(0)))
        .unwrap();
    let e = anon.list("/tether/auth/").await.unwrap_err();
    assert!(e.message().contains("etcd"), "{e}");
    let bad = tether::cluster::discovery::EtcdClient::new(&format!(
        "root:wrong@127.0.0.1:{}",
        etcd.port(0)
    ))
    .unwrap();
    assert!(bad.list("/tether/auth/").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_over_tls() {
    let dir = std::env::temp_dir().join(format!("tether-etcd-tls-{}", std::process::id()));
    let pki = dir.join("pki");
    assert!(Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["pki", pki.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success());
    let f = |n: &str| pki.join(n).to_str().unwrap().to_string();
    // (No client-certificate authentication on etcd's side: etcd 3.4's JSON gateway then
    // reaches its own gRPC side with the server certificate as a client one, which needs a
    // clientAuth usage the sample PKI's server certificate does not have.)
    let etcd = tether_test_support::LocalEtcd::start_tls(
        &pki.join("server-cert.pem"),
        &pki.join("server-key.pem"),
    )
    .expect("etcd over TLS");
    let client = etcd.port();
    let with_cert = tether::cluster::discovery::EtcdClient::new(&format!(
        "127.0.0.1:{client}?ca_certs={}&certfile={}&keyfile={}",
        f("ca-chain.pem"),
        f("client-cert.pem"),
        f("client-key.pem")
    ))
    .unwrap();
    // etcd may take a moment to elect itself after its port opens.
    let t = Instant::now();
    loop {
        match with_cert
            .put("/tether/tls/x", "PYRO:x@127.0.0.1:1", None)
            .await
        {
            Ok(()) => break,
            Err(e) => assert!(t.elapsed() < Duration::from_secs(20), "{e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (kvs, _) = with_cert.list("/tether/tls/").await.unwrap();
    assert_eq!(kvs.len(), 1);
    // Server-only TLS works too; a member whose certificate does not chain to the CAs given is
    // refused (another sample PKI's CA here).
    let server_only = tether::cluster::discovery::EtcdClient::new(&format!(
        "127.0.0.1:{client}?ca_certs={}",
        f("ca-chain.pem")
    ))
    .unwrap();
    assert_eq!(server_only.list("/tether/tls/").await.unwrap().0.len(), 1);
    let other = dir.join("other");
    assert!(Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["pki", other.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success());
    let wrong_ca = tether::cluster::discovery::EtcdClient::new(&format!(
        "127.0.0.1:{client}?ca_certs={}",
        other.join("ca-chain.pem").display()
    ))
    .unwrap();
    let e = wrong_ca.list("/tether/tls/").await.unwrap_err();
    assert!(e.message().contains("TLS"), "{e}");
    // A bad setting is a configuration error naming it.
    let e = tether::cluster::discovery::EtcdClient::new("127.0.0.1:1?cafile=x").unwrap_err();
    assert!(e.message().contains("cafile"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
