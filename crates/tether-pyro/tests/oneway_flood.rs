//! A client that streams oneway calls at a slow method gets back-pressure instead of growing the
//! server: at most `max_oneway_per_connection` run at once for it, at most `max_oneway_calls` in
//! all, and another client is still served meanwhile.

mod common;
use common::within;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tether_core::{BoxFuture, Call, Dispatch, MethodInfo, RemoteError, Value};
use tether_pyro::{Daemon, DaemonConfig, Proxy};

#[derive(Default)]
struct Slow {
    running: AtomicUsize,
    most: AtomicUsize,
    done: AtomicUsize,
}

static METHODS: [MethodInfo; 2] = [
    MethodInfo {
        name: "slow",
        params: &[],
        oneway: true,
    },
    MethodInfo {
        name: "ping",
        params: &[],
        oneway: false,
    },
];

impl Dispatch for Slow {
    fn methods(&self) -> &[MethodInfo] {
        &METHODS
    }
    fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(async move {
            if call.method == "slow" {
                let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
                self.most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                self.running.fetch_sub(1, Ordering::SeqCst);
                self.done.fetch_add(1, Ordering::SeqCst);
            }
            Ok(Value::None)
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oneway_calls_are_bounded_per_connection_and_in_total() {
    let slow = Arc::new(Slow::default());
    let daemon = Daemon::bind(DaemonConfig {
        host: "127.0.0.1".into(),
        max_oneway_per_connection: 4,
        max_oneway_calls: 6,
        ..DaemonConfig::default()
    })
    .await
    .unwrap();
    let uri = daemon.register("slow", slow.clone()).unwrap();
    // Two flooding clients, 40 oneway calls each, sent as fast as the server lets them.
    let mut floods = Vec::new();
    for _ in 0..2 {
        let p = Proxy::new(&uri).unwrap();
        floods.push(tokio::spawn(async move {
            for _ in 0..40 {
                p.call(Call::new("slow", vec![]).oneway()).await.unwrap();
            }
        }));
    }
    // A third client is answered while they flood.
    let good = Proxy::new(&uri).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = Instant::now();
    within(10, good.call(Call::new("ping", vec![])))
        .await
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    for f in floods {
        within(30, f).await.unwrap();
    }
    // Every call ran, never more than the limits at once.
    let deadline = Instant::now() + Duration::from_secs(20);
    while slow.done.load(Ordering::SeqCst) < 80 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(slow.done.load(Ordering::SeqCst), 80);
    let most = slow.most.load(Ordering::SeqCst);
    assert!((2..=6).contains(&most), "at most 6 at once, saw {most}");
    daemon.shutdown().await;
}
