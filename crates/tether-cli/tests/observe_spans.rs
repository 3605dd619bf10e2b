//! Spans on every wire: a call from a tether client to a tether server gives a client span and
//! a server span in one trace (the server's parent is the client's span), named and attributed
//! after OpenTelemetry's RPC conventions; the caller's deadline travels and stops the server's
//! work; a pool call shows each attempt, the failed one and the retry.

use std::sync::Arc;
use std::time::{Duration, Instant};
use tether::observe::{SpanKind, SpanRecord};
use tether::remoting::{ClientOptions, ProtocolSet, ServerOptions};
use tether_core::echo::EchoService;
use tether_core::{Call, CallContext, Value};

fn protocols() -> ProtocolSet {
    tether::ClassRegistry::from_inventory().protocols().clone()
}

async fn spans_after(mem: &tether::observe::MemorySpans) -> Vec<SpanRecord> {
    assert!(
        tokio::task::spawn_blocking(|| tether::observe::flush(Duration::from_secs(5)))
            .await
            .unwrap_or(false)
    );
    mem.spans()
}

fn one<'a>(spans: &'a [SpanRecord], kind: SpanKind, system: &str, method: &str) -> &'a SpanRecord {
    let found: Vec<&SpanRecord> = spans
        .iter()
        .filter(|s| {
            s.kind == kind
                && s.attr("rpc.system").as_deref() == Some(system)
                && s.attr("rpc.method").as_deref() == Some(method)
        })
        .collect();
    assert_eq!(found.len(), 1, "{kind:?} {system} {method}: {spans:#?}");
    found[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_wire_gives_one_trace_per_call_and_carries_the_deadline() {
    let (telemetry, mem) =
        tether::observe::init_in_memory(Default::default(), Duration::from_millis(20));
    let protocols = protocols();
    // Pyro 3 carries no annotations: its client and server spans are in two traces.
    let wires = ["pyro5", "pyro4", "hessian", "xmlrpc", "pyro3"];
    for name in wires {
        let p = protocols.by_name(name).expect(name).clone();
        let server = p
            .bind(
                "127.0.0.1",
                "127.0.0.1:0".parse().unwrap(),
                &ServerOptions::default(),
            )
            .expect("bind");
        let object = p.shell().echo_object_name();
        let uri = server
            .register(object, Arc::new(EchoService::new(false)))
            .expect("register");
        let url = p.object_url(&uri, object);
        let proxy = p.proxy(&url, &ClientOptions::default()).expect("proxy");
        let v = proxy
            .invoke(Call::new("echo", vec![Value::Str("hi".into())]))
            .await
            .expect("echo");
        assert_eq!(v, Value::Str("hi".into()));
        let e = proxy.invoke(Call::new("error", vec![])).await.unwrap_err();
        // Each wire names the error its own way (Hessian: Java's IllegalArgumentException).
        assert!(e.class().is_some(), "{name}: {e}");
        if name != "pyro3" {
            // The caller waits 300 ms for a method that takes 5 s: the server stops too.
            let call = Call::new("slow", vec![]).context(
                CallContext::new().with_deadline(Instant::now() + Duration::from_millis(300)),
            );
            let started = Instant::now();
            let e = proxy.invoke(call).await.unwrap_err();
            assert!(started.elapsed() < Duration::from_secs(3), "{name}: {e}");
        }
        server.shutdown().await;
    }
    // The server span of `slow` ends at the deadline, well before the 5 s the method takes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let spans = spans_after(&mem).await;
    for name in wires {
        let client = one(&spans, SpanKind::Client, name, "echo");
        let server = one(&spans, SpanKind::Server, name, "echo");
        assert_eq!(client.name(), server.name(), "{name}");
        assert!(client.name().ends_with("/echo"), "{}", client.name());
        assert_eq!(client.attr("server.address").as_deref(), Some("127.0.0.1"));
        assert!(server.attr("network.peer.address").is_some(), "{name}");
        assert_eq!(client.error, None);
        if name == "pyro3" {
            assert_ne!(client.trace_id, server.trace_id);
            continue;
        }
        assert_eq!(server.trace_id, client.trace_id, "{name}: one trace");
        assert_eq!(server.parent_span_id, Some(client.span_id), "{name}");
        let err_client = one(&spans, SpanKind::Client, name, "error");
        let err_server = one(&spans, SpanKind::Server, name, "error");
        assert_eq!(err_server.trace_id, err_client.trace_id);
        for s in [err_client, err_server] {
            assert!(
                s.attr("error.type")
                    .is_some_and(|t| t.ends_with("Error") || t.ends_with("Exception")),
                "{name}: {s:?}"
            );
            assert!(s.error.is_some());
        }
        let slow = one(&spans, SpanKind::Server, name, "slow");
        let took = Duration::from_nanos(slow.end_unix_nanos - slow.start_unix_nanos);
        assert_eq!(
            slow.attr("error.type").as_deref(),
            Some("timeout"),
            "{name}"
        );
        assert!(
            took < Duration::from_secs(2),
            "{name}: the server worked on for {took:?}"
        );
    }
    assert!(telemetry.shutdown(Duration::from_secs(5)));
}
