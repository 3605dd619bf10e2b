//! `#[tether::service]` methods returning `Result<ValueStream, E>` stream: the dispatcher's
//! `dispatch_reply` answers `Reply::Stream`, its plain `dispatch` collects the items, and the
//! proxy reads them lazily through `Invoker::invoke_stream`; over the Pyro daemon too.

use std::sync::Arc;
use tether::{Call, LocalInvoker, Remotable, RemoteError, Reply, Value, ValueStream};

/// A service with one streaming method.
#[tether::service]
pub trait Counter {
    /// Streams `0..n`.
    async fn count(&self, n: i64) -> Result<ValueStream, RemoteError>;
    /// An ordinary method next to it.
    async fn name(&self) -> Result<String, RemoteError>;
}

struct Impl;

#[tether::service]
impl Counter for Impl {
    async fn count(&self, n: i64) -> Result<ValueStream, RemoteError> {
        if n < 0 {
            return Err(RemoteError::value_error("n must not be negative"));
        }
        Ok(ValueStream::from_iter((0..n).map(Value::Int)))
    }

    async fn name(&self) -> Result<String, RemoteError> {
        Ok("counter".into())
    }
}

fn ints(n: i64) -> Vec<Value> {
    (0..n).map(Value::Int).collect()
}

#[tokio::test]
async fn dispatcher_streams_and_collects() {
    let d = <dyn Counter as Remotable>::dispatcher(Arc::new(Impl));
    let r = d
        .dispatch_reply(Call::new("count", vec![Value::Int(3)]))
        .await
        .unwrap();
    let Reply::Stream(s) = r else {
        panic!("not a stream")
    };
    assert_eq!(s.collect(10).await.unwrap(), ints(3));
    let v = d
        .dispatch(Call::new("count", vec![Value::Int(2)]))
        .await
        .unwrap();
    assert_eq!(v, Value::List(ints(2)));
    let r = d.dispatch_reply(Call::new("name", vec![])).await.unwrap();
    assert!(matches!(r, Reply::Value(Value::Str(ref s)) if s == "counter"));
    let e = d
        .dispatch_reply(Call::new("count", vec![Value::Int(-1)]))
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "ValueError: n must not be negative");
    let e = d
        .dispatch_reply(Call::new("count", vec![]))
        .await
        .unwrap_err();
    assert_eq!(e.class(), Some("builtins.TypeError"));
}

#[tokio::test]
async fn proxy_streams_over_the_local_invoker() {
    let proxy = <dyn Counter as Remotable>::proxy(Arc::new(LocalInvoker::of::<dyn Counter>(
        Arc::new(Impl),
    )));
    let mut s = proxy.count(4).await.unwrap();
    let mut got = Vec::new();
    while let Some(v) = s.next().await {
        got.push(v.unwrap());
    }
    assert_eq!(got, ints(4));
    assert_eq!(proxy.name().await.unwrap(), "counter");
    assert!(proxy.count(-1).await.is_err());
}

#[cfg(feature = "pyro")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_streams_over_the_pyro_daemon() {
    use tether::pyro::{Daemon, DaemonConfig, Proxy};
    let daemon = Daemon::bind(DaemonConfig {
        host: "127.0.0.1".into(),
        ..DaemonConfig::default()
    })
    .await
    .unwrap();
    let uri = daemon
        .register(
            "counter",
            <dyn Counter as Remotable>::dispatcher(Arc::new(Impl)),
        )
        .unwrap();
    let proxy = <dyn Counter as Remotable>::proxy(Arc::new(Proxy::new(&uri).unwrap()));
    let mut s = tokio::time::timeout(std::time::Duration::from_secs(10), proxy.count(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.next().await.unwrap().unwrap(), Value::Int(0));
    assert_eq!(daemon.open_streams(), 1);
    let rest = tokio::time::timeout(std::time::Duration::from_secs(10), s.collect(10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rest, (1..5).map(Value::Int).collect::<Vec<_>>());
    assert_eq!(daemon.open_streams(), 0);
    daemon.shutdown().await;
}
