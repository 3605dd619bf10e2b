//! Discovery on a real etcd (Debian's `etcd-server`, started here on loopback ports and
//! stopped by its pid): exporters' registrations under a lease, a pool that follows the
//! prefix live, a graceful removal, and a dead registrant whose lease expires.

use std::sync::Arc;
use std::time::{Duration, Instant};
use tether_cluster::discovery::etcd::{EtcdClient, Registration, Watch};
use tether_cluster::discovery::Members;
use tether_cluster::{Pool, PoolConfig};
use tether_core::{BoxFuture, Call, Invoker, RemoteError, Value};
use tether_test_support::LocalEtcd;

struct Named(String);

impl Invoker for Named {
    fn invoke(&self, _call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(async move { Ok(Value::Str(self.0.clone())) })
    }
}

async fn wait_for(pool: &Pool, want: &[&str], limit: Duration) {
    let start = Instant::now();
    loop {
        let mut urls = pool.urls();
        urls.sort();
        if urls == want {
            return;
        }
        assert!(start.elapsed() < limit, "pool is {urls:?}, wanted {want:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_follows_registrations_live() {
    let etcd = LocalEtcd::start().unwrap();
    let client = EtcdClient::new(&etcd.endpoint).unwrap();
    // Let etcd elect itself.
    let start = Instant::now();
    while client.list("/").await.is_err() {
        assert!(start.elapsed() < Duration::from_secs(20));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let prefix = "/tether/services/echo/";
    let a = Registration::start(client.clone(), &format!("{prefix}a"), "mem://a", 2)
        .await
        .unwrap();
    let watch = Watch::start(client.clone(), prefix).await.unwrap();
    assert_eq!(*watch.subscribe().borrow(), ["mem://a"]);
    let watched = watch.subscribe();
    let pool = Pool::new("echo", PoolConfig::default());
    pool.follow(
        Members::new(watched, watch),
        Arc::new(|url: &str| Ok(Arc::new(Named(url.to_string())) as Arc<dyn Invoker>)),
    );
    wait_for(&pool, &["mem://a"], Duration::from_secs(1)).await;
    // Grow: two more servers register.
    let b = Registration::start(client.clone(), &format!("{prefix}b"), "mem://b", 2)
        .await
        .unwrap();
    let c = Registration::start(client.clone(), &format!("{prefix}c"), "mem://c", 2)
        .await
        .unwrap();
    wait_for(
        &pool,
        &["mem://a", "mem://b", "mem://c"],
        Duration::from_secs(3),
    )
    .await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..6 {
        seen.insert(format!(
            "{:?}",
            pool.call(Call::new("m", vec![])).await.unwrap()
        ));
    }
    assert_eq!(seen.len(), 3);
    // Keep-alives hold the leases well past their TTL.
    tokio::time::sleep(Duration::from_secs(3)).await;
    wait_for(
        &pool,
        &["mem://a", "mem://b", "mem://c"],
        Duration::from_secs(1),
    )
    .await;
    // A graceful shutdown removes its key at once.
    b.close().await;
    wait_for(&pool, &["mem://a", "mem://c"], Duration::from_secs(2)).await;
    // A dead process stops keeping its lease alive: it expires (TTL 2 s) and the key goes.
    let t = Instant::now();
    drop(c);
    wait_for(&pool, &["mem://a"], Duration::from_secs(6)).await;
    assert!(
        t.elapsed() >= Duration::from_millis(500),
        "left by expiry, not at once"
    );
    a.close().await;
    wait_for(&pool, &[], Duration::from_secs(2)).await;
}

#[tokio::test]
async fn an_unreachable_etcd_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = EtcdClient::new(&format!("http://127.0.0.1:{port}")).unwrap();
    let e = Watch::start(client.clone(), "/x/").await.err().unwrap();
    assert!(e.to_string().contains("cannot connect"), "{e}");
    let e = Registration::start(client, "/x/a", "mem://a", 5)
        .await
        .err()
        .unwrap();
    assert!(e.to_string().contains("etcd"), "{e}");
    assert!(EtcdClient::new("http://:1").is_err());
    assert!(EtcdClient::new("host:notaport").is_err());
}

/// A server that answers every connection with `reply` and closes.
async fn scripted(reply: Vec<u8>) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let reply = reply.clone();
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(&reply).await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_lying_or_broken_gateway_is_a_clear_bounded_error() {
    let endless_header = [&b"HTTP/1.1 200 OK\r\nX-Filler: "[..], &vec![b'a'; 100_000]].concat();
    let endless_body = [
        &b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"header\": \""[..],
        &vec![b'a'; 100_000],
    ]
    .concat();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"HTTP/1.1 500 Internal\r\n\r\noops".to_vec(), "500"),
        (b"HTTP/1.1 200 OK\r\n\r\nnot json\n".to_vec(), "bad JSON"),
        (
            b"HTTP/1.1 200 OK\r\n\r\n{\"error\":\"etcdserver: no leader\",\"code\":14}\n".to_vec(),
            "no leader",
        ),
        (b"HTTP/1.1 200 OK\r\n\r\n".to_vec(), "empty reply"),
        (endless_header, "too long"),
        // A message that never ends: the reply's end stops it (16 MiB would too).
        (endless_body, "empty reply"),
    ];
    for (reply, want) in cases {
        let url = scripted(reply).await;
        let e = EtcdClient::new(&url).unwrap().grant(5).await.unwrap_err();
        assert!(e.to_string().contains(want), "{want}: {e}");
    }
}
