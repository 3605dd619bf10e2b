//! A pool written without `timeout` or `deadline` notices a member that stops answering (a
//! process stopped with SIGSTOP: its host still completes TCP handshakes, nothing answers): a
//! method marked idempotent loses no call and is answered by the other member; a method that
//! is not fails with an error saying the call may have reached the member; both within a few
//! seconds instead of waiting for the member; and the member is back once it answers again.

mod common;

use common::{start, Proc};
use std::process::Command;
use std::time::{Duration, Instant};
use tether::context::ApplicationContext;
use tether_core::{Call, Value};

fn echo_server() -> (Proc, String) {
    let (p, lines) = start(Command::new(env!("CARGO_BIN_EXE_tether")).args([
        "echo-server",
        "--protocol",
        "pyro5",
        "-H",
        "127.0.0.1",
        "-p",
        "0",
    ]));
    (p, common::uri_of(&lines))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_member_is_noticed_with_the_defaults() {
    let (a, url_a) = echo_server();
    let (_b, url_b) = echo_server();
    let xml = format!(
        r#"<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
  <object id="safe" class="tether.cluster.PoolProxyFactory">
    <property name="service_urls"><list><value>{url_a}</value><value>{url_b}</value></list></property>
    <property name="idempotent_methods"><list><value>echo</value></list></property>
  </object>
  <object id="unsafe" class="tether.cluster.PoolProxyFactory">
    <property name="service_urls"><list><value>{url_a}</value><value>{url_b}</value></list></property>
  </object>
</objects>"#
    );
    let ctx = ApplicationContext::builder()
        .registry(tether::ClassRegistry::from_inventory())
        .xml_str(xml, Some("pools.xml"))
        .start()
        .await
        .unwrap();
    let safe = ctx.get_object("safe").unwrap().invoker().unwrap();
    let unsafe_ = ctx.get_object("unsafe").unwrap().invoker().unwrap();
    for p in [&safe, &unsafe_] {
        for i in 0..4 {
            assert_eq!(
                p.invoke(Call::new("echo", vec![Value::Int(i)]))
                    .await
                    .unwrap(),
                Value::Int(i)
            );
        }
    }
    a.signal("STOP");
    // Idempotent: every call answered (by the other member), none waits long.
    let mut longest = Duration::ZERO;
    for i in 0..6 {
        let t = Instant::now();
        let v = tokio::time::timeout(
            Duration::from_secs(10),
            safe.invoke(Call::new("echo", vec![Value::Int(i)])),
        )
        .await
        .expect("a call waited on the stopped member");
        assert_eq!(v.unwrap(), Value::Int(i));
        longest = longest.max(t.elapsed());
    }
    // Not idempotent: the calls that went to the stopped member fail, saying it may have run.
    let mut failed = 0;
    for i in 0..4 {
        let r = tokio::time::timeout(
            Duration::from_secs(10),
            unsafe_.invoke(Call::new("echo", vec![Value::Int(i)])),
        )
        .await
        .expect("a call waited on the stopped member");
        if let Err(e) = r {
            assert!(e.may_have_reached_server(), "{e}");
            assert!(e.message().contains("may have reached"), "{e}");
            failed += 1;
        }
    }
    assert!(failed >= 1, "no call met the stopped member");
    a.signal("CONT");
    // Back in the pool once it answers: round robin reaches it again.
    let end = Instant::now() + Duration::from_secs(20);
    let pool = ctx
        .get_as::<tether::cluster::component::PoolProxyFactory>("safe")
        .unwrap()
        .pool()
        .unwrap();
    loop {
        let _ = safe.invoke(Call::new("echo", vec![Value::Int(0)])).await;
        if pool.stats().iter().all(|s| !s.ejected) {
            break;
        }
        assert!(
            Instant::now() < end,
            "the member did not come back: {:?}",
            pool.stats()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("longest idempotent call with a stopped member: {longest:?}");
    ctx.close().await;
}
