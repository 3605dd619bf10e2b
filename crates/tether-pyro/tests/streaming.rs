//! Streamed results (remote iterators and generators), both ways:
//! - a tether proxy iterates generators of Python servers (echoserver, the test server)
//!   lazily (`invoke_stream`) and collected (`call`), stops early (close_stream reaches the
//!   server), and is bounded when collecting an endless generator;
//! - the tether daemon keeps streams like Python (any connection may read them, linger after
//!   a disconnect, lifetime, unknown ids) and bounds them (per connection, per daemon), and
//!   drops them on disconnect (no linger), after the linger, and on shutdown.

mod common;
use common::*;
use std::time::Duration;
use tether_core::{Call, Invoker, LocalInvoker, Value};
use tether_pyro::{DaemonConfig, Limits, Proxy};

fn strs(items: &[&str]) -> Vec<Value> {
    items.iter().map(|s| Value::str(*s)).collect()
}

/// Polls `f` until true (bounded).
async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not reached within 10 s: {what}");
}

async fn next(s: &mut tether_core::ValueStream) -> Option<Value> {
    within(10, s.next()).await.map(|r| r.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tether_proxy_iterates_pythons_echoserver_generator() {
    let (_py, uri) = python_echoserver();
    for ser in SERIALIZERS {
        let p = Proxy::new(&uri).unwrap().with_serializer(ser);
        let mut s = within(10, p.invoke_stream(Call::new("generator", vec![])))
            .await
            .unwrap();
        let mut got = Vec::new();
        while let Some(v) = next(&mut s).await {
            got.push(v);
        }
        assert_eq!(got, strs(&["one", "two", "three"]), "{ser:?}");
        assert!(s.next().await.is_none());
        // Collected by a plain call, and through the Invoker trait.
        let v = within(10, p.call(Call::new("generator", vec![])))
            .await
            .unwrap();
        assert_eq!(v, Value::List(strs(&["one", "two", "three"])), "{ser:?}");
        let inv: &dyn Invoker = &p;
        let s = within(10, inv.invoke_stream(Call::new("generator", vec![])))
            .await
            .unwrap();
        assert_eq!(s.collect(10).await.unwrap().len(), 3);
        // The proxy is still in sync.
        let v = within(10, p.call(Call::new("echo", vec![Value::Int(7)])))
            .await
            .unwrap();
        assert_eq!(v, Value::Int(7));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tether_proxy_on_python_test_server_generators_early_close_and_bounds() {
    let (_py, uri) =
        start_python_server(&[script("test_server.py").to_str().unwrap()], "server uri:");
    for ser in SERIALIZERS {
        let p = Proxy::new(&uri).unwrap().with_serializer(ser);
        let open = || async {
            within(10, p.call(Call::new("open_streams", vec![])))
                .await
                .unwrap()
        };
        let v = within(10, p.call(Call::new("count", vec![Value::Int(5)])))
            .await
            .unwrap();
        assert_eq!(v, Value::List((0..5).map(Value::Int).collect()));
        // Lazy: items come one by one from an endless generator; dropping the stream early
        // sends close_stream, and the Python daemon forgets the stream.
        let mut s = within(10, p.invoke_stream(Call::new("endless", vec![])))
            .await
            .unwrap();
        for i in 0..3 {
            assert_eq!(next(&mut s).await, Some(Value::Int(i)));
        }
        assert_eq!(open().await, Value::Int(1));
        drop(s);
        for _ in 0..200 {
            if open().await == Value::Int(0) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(open().await, Value::Int(0), "{ser:?}: stream not closed");
        // Collecting an endless generator stops at the item limit, and closes the stream.
        let small = p.clone().with_limits(Limits {
            max_items: 10,
            ..Limits::default()
        });
        let e = within(10, small.call(Call::new("endless", vec![])))
            .await
            .unwrap_err();
        assert!(e.message().contains("more than 10 items"), "{e}");
        for _ in 0..200 {
            if open().await == Value::Int(0) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            open().await,
            Value::Int(0),
            "{ser:?}: collected stream not closed"
        );
        // An exception inside the generator ends the stream with that exception.
        let mut s = within(10, p.invoke_stream(Call::new("failing_generator", vec![])))
            .await
            .unwrap();
        assert_eq!(next(&mut s).await, Some(Value::str("first")));
        let e = within(10, s.next()).await.unwrap().unwrap_err();
        assert_eq!(e.to_string(), "ValueError: generator failed");
        assert!(s.next().await.is_none());
        // A non-iterable result cannot be streamed.
        let e = within(10, p.invoke_stream(Call::new("echo", vec![Value::Int(1)])))
            .await
            .unwrap_err();
        assert_eq!(e.class(), Some("builtins.TypeError"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tether_proxy_on_tether_daemon_lazy_collected_early_drop_and_shutdown() {
    let (daemon, uri, echo) = tether_echo(DaemonConfig::default()).await;
    for ser in SERIALIZERS {
        let p = Proxy::new(&uri).unwrap().with_serializer(ser);
        let v = within(10, p.call(Call::new("generator", vec![])))
            .await
            .unwrap();
        assert_eq!(v, Value::List(strs(&["one", "two", "three"])));
        let mut s = within(10, p.invoke_stream(Call::new("generator", vec![])))
            .await
            .unwrap();
        assert_eq!(next(&mut s).await, Some(Value::str("one")));
        assert_eq!(daemon.open_streams(), 1);
        drop(s);
        eventually("early drop closes the stream", || {
            daemon.open_streams() == 0
        })
        .await;
        let s = within(10, p.invoke_stream(Call::new("generator", vec![])))
            .await
            .unwrap();
        assert_eq!(within(10, s.collect(3)).await.unwrap().len(), 3);
        assert_eq!(daemon.open_streams(), 0, "an ended stream is removed");
    }
    // The in-process loopback streams too.
    let local = LocalInvoker::new(std::sync::Arc::new(echo));
    let s = local
        .invoke_stream(Call::new("generator", vec![]))
        .await
        .unwrap();
    assert_eq!(s.collect(3).await.unwrap(), strs(&["one", "two", "three"]));
    // Shutdown drops open streams.
    let p = Proxy::new(&uri).unwrap();
    let mut s = within(10, p.invoke_stream(Call::new("generator", vec![])))
        .await
        .unwrap();
    assert_eq!(next(&mut s).await, Some(Value::str("one")));
    assert_eq!(daemon.open_streams(), 1);
    within(20, daemon.shutdown()).await;
    assert_eq!(daemon.open_streams(), 0);
    assert!(within(10, s.next()).await.unwrap().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_limits_refuse_clearly_and_the_server_keeps_serving() {
    let (daemon, uri, _echo) = tether_echo(DaemonConfig {
        max_streams_per_connection: 2,
        max_streams: 3,
        ..DaemonConfig::default()
    })
    .await;
    let p = Proxy::new(&uri).unwrap();
    let gen = || Call::new("generator", vec![]);
    let a = within(10, p.invoke_stream(gen())).await.unwrap();
    let b = within(10, p.invoke_stream(gen())).await.unwrap();
    let e = within(10, p.invoke_stream(gen())).await.unwrap_err();
    assert_eq!(e.class(), Some("Pyro5.errors.PyroError"));
    assert!(
        e.message()
            .contains("too many open item streams on this connection (limit 2)"),
        "{e}"
    );
    assert_eq!(daemon.open_streams(), 2);
    // Another connection may open one more, then the daemon-wide limit applies.
    let q = Proxy::new(&uri).unwrap();
    let c = within(10, q.invoke_stream(gen())).await.unwrap();
    let e = within(10, q.invoke_stream(gen())).await.unwrap_err();
    assert!(e.message().contains("on this server (limit 3)"), "{e}");
    // Still serving, and reading the held streams works.
    let v = within(10, p.call(Call::new("echo", vec![Value::Int(1)])))
        .await
        .unwrap();
    assert_eq!(v, Value::Int(1));
    assert_eq!(within(10, a.collect(3)).await.unwrap().len(), 3);
    drop((b, c));
    eventually("dropped streams are closed", || daemon.open_streams() == 0).await;
    let s = within(10, p.invoke_stream(gen())).await.unwrap();
    assert_eq!(within(10, s.collect(3)).await.unwrap().len(), 3);
    daemon.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_frees_streams_without_linger_and_after_the_linger() {
    // No linger: the stream goes with its connection.
    let (daemon, uri, _e) = tether_echo(DaemonConfig {
        stream_linger: Duration::ZERO,
        ..DaemonConfig::default()
    })
    .await;
    let p = Proxy::new(&uri).unwrap();
    let mut s = within(10, p.invoke_stream(Call::new("generator", vec![])))
        .await
        .unwrap();
    assert_eq!(next(&mut s).await, Some(Value::str("one")));
    std::mem::forget(s); // no close_stream: only the disconnect may free it
    p.close().await;
    eventually("stream dropped at disconnect", || {
        daemon.open_streams() == 0
    })
    .await;
    daemon.shutdown().await;

    // A 1 s linger: still there right after the disconnect, gone after the housekeeper ran.
    let (daemon, uri, _e) = tether_echo(DaemonConfig {
        stream_linger: Duration::from_secs(1),
        ..DaemonConfig::default()
    })
    .await;
    let p = Proxy::new(&uri).unwrap();
    let s = within(10, p.invoke_stream(Call::new("generator", vec![])))
        .await
        .unwrap();
    std::mem::forget(s);
    p.close().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(daemon.open_streams(), 1, "lingers after the disconnect");
    eventually("stream dropped after the linger", || {
        daemon.open_streams() == 0
    })
    .await;
    daemon.shutdown().await;

    // A lifetime: dropped even while its connection is open.
    let (daemon, uri, _e) = tether_echo(DaemonConfig {
        stream_lifetime: Some(Duration::from_millis(500)),
        ..DaemonConfig::default()
    })
    .await;
    let p = Proxy::new(&uri).unwrap();
    let mut s = within(10, p.invoke_stream(Call::new("generator", vec![])))
        .await
        .unwrap();
    eventually("stream dropped after its lifetime", || {
        daemon.open_streams() == 0
    })
    .await;
    let e = within(10, s.next()).await.unwrap().unwrap_err();
    assert_eq!(e.to_string(), "PyroError: item stream terminated");
    daemon.shutdown().await;
}

/// A Python client opens a stream, reads one item, disconnects, and reads the rest on a new
/// connection (the linger); its early close() removes a stream; unknown ids are refused.
const PY_STREAMS: &str = r#"
import sys, Pyro5.api
uri, ser = sys.argv[1], sys.argv[2]
p = Pyro5.api.Proxy(uri); p._pyroSerializer = ser
p._pyroRawWireResponse = True
msg = p._pyroInvoke("generator", (), {})
p._pyroRawWireResponse = False
sid = bytes(msg.annotations["STRM"]).decode()
d = Pyro5.api.Proxy(uri.replace("test.echoserver", "Pyro.Daemon")); d._pyroSerializer = ser
first = d.get_next_stream_item(sid)
d._pyroRelease(); p._pyroRelease()
d2 = Pyro5.api.Proxy(uri.replace("test.echoserver", "Pyro.Daemon")); d2._pyroSerializer = ser
rest = [d2.get_next_stream_item(sid), d2.get_next_stream_item(sid)]
try:
    d2.get_next_stream_item(sid); end = "no end"
except StopIteration:
    end = "StopIteration"
g = p.generator(); g1 = next(g); g.close()
try:
    d2.get_next_stream_item("00000000-0000-0000-0000-000000000000"); unknown = "no error"
except Exception as e:
    unknown = "%s: %s" % (type(e).__name__, e)
print([first] + rest + [end, g1, unknown])
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_reads_a_stream_after_reconnecting_and_closes_early() {
    let (daemon, uri, _e) = tether_echo(DaemonConfig::default()).await;
    for ser in SERIALIZERS {
        let u = uri.clone();
        let out = tokio::task::spawn_blocking(move || {
            run_python(&["-c", PY_STREAMS, &u, ser.name()], Duration::from_secs(60))
        })
        .await
        .unwrap();
        assert_eq!(
            out.trim(),
            "['one', 'two', 'three', 'StopIteration', 'one', 'PyroError: item stream terminated']",
            "{ser:?}"
        );
        eventually("python's close() removed the stream", || {
            daemon.open_streams() == 0
        })
        .await;
    }
    daemon.shutdown().await;
}

/// A service whose stream panics on its second item, and one that streams lazily from a
/// producer task.
struct Streamer;

static STREAMER_METHODS: [tether_core::MethodInfo; 2] = [
    tether_core::MethodInfo {
        name: "panicky",
        params: &[],
        oneway: false,
    },
    tether_core::MethodInfo {
        name: "produced",
        params: &["n"],
        oneway: false,
    },
];

impl tether_core::Dispatch for Streamer {
    fn methods(&self) -> &[tether_core::MethodInfo] {
        &STREAMER_METHODS
    }

    fn dispatch(
        &self,
        call: Call,
    ) -> tether_core::BoxFuture<'_, Result<Value, tether_core::RemoteError>> {
        Box::pin(async move { self.dispatch_reply(call).await?.into_value(1000).await })
    }

    fn dispatch_reply(
        &self,
        call: Call,
    ) -> tether_core::BoxFuture<'_, Result<tether_core::Reply, tether_core::RemoteError>> {
        Box::pin(async move {
            let stream = match call.method.as_str() {
                "panicky" => tether_core::ValueStream::from_iter((0..3).map(|i| {
                    assert!(i < 1, "item {i} exploded");
                    Value::Int(i)
                })),
                _ => {
                    let n = call.args.first().and_then(Value::as_i64).unwrap_or(0);
                    let (tx, s) = tether_core::ValueStream::channel(2);
                    tokio::spawn(async move {
                        for i in 0..n {
                            if !tx.send(Value::Int(i)).await {
                                return;
                            }
                        }
                    });
                    s
                }
            };
            Ok(tether_core::Reply::Stream(stream))
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_stream_becomes_an_error_and_producer_streams_work() {
    let daemon = tether_pyro::Daemon::bind(DaemonConfig {
        host: "127.0.0.1".into(),
        ..DaemonConfig::default()
    })
    .await
    .unwrap();
    let uri = daemon
        .register("streamer", std::sync::Arc::new(Streamer))
        .unwrap();
    let p = Proxy::new(&uri).unwrap();
    let mut s = within(10, p.invoke_stream(Call::new("panicky", vec![])))
        .await
        .unwrap();
    assert_eq!(next(&mut s).await, Some(Value::Int(0)));
    let e = within(10, s.next()).await.unwrap().unwrap_err();
    assert_eq!(e.class(), Some("builtins.RuntimeError"));
    assert!(e.message().contains("item 1 exploded"), "{e}");
    assert_eq!(daemon.open_streams(), 0, "a failed stream is removed");
    let v = within(10, p.call(Call::new("produced", vec![Value::Int(50)])))
        .await
        .unwrap();
    assert_eq!(v, Value::List((0..50).map(Value::Int).collect()));
    // A plain Invoker::invoke through the in-process loopback collects too.
    let local = LocalInvoker::new(std::sync::Arc::new(Streamer));
    let v = local
        .invoke(Call::new("produced", vec![Value::Int(3)]))
        .await
        .unwrap();
    assert_eq!(v, Value::List((0..3).map(Value::Int).collect()));
    daemon.shutdown().await;
}
