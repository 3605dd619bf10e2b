//! At debug level the daemon puts each call in a `pyro_call` span (its object and method),
//! entered while the call runs, so a service's own events show which call they belong to; at a
//! quieter level the same calls make no span at all (the daemon does not wrap them).

mod common;
use common::*;
use std::sync::{Arc, Mutex};
use tether_core::{Call, Value};
use tether_pyro::{DaemonConfig, Proxy};
use tracing::span::{Attributes, Id};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// What the subscriber saw of `pyro_call` spans: `new <fields>` and `enter`.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

#[derive(Default)]
struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Seen {
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        if attrs.metadata().name() == "pyro_call" {
            let mut f = Fields::default();
            attrs.record(&mut f);
            self.0
                .lock()
                .unwrap()
                .push(format!("new {}", f.0.trim_end()));
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if ctx.span(id).is_some_and(|s| s.name() == "pyro_call") {
            self.0.lock().unwrap().push("enter".into());
        }
    }
}

/// Serves the test service and makes one echo call under a subscriber at `level` (this
/// thread's default: the test's runtime runs the daemon's tasks on this thread).
async fn one_call(level: LevelFilter) -> Vec<String> {
    let seen = Seen::default();
    let subscriber = tracing_subscriber::registry()
        .with(seen.clone())
        .with(level);
    let _guard = tracing::subscriber::set_default(subscriber);
    let (daemon, uri, _svc) = tether_test_service(DaemonConfig::default()).await;
    let proxy = Proxy::new(&uri).unwrap();
    let v = within(10, proxy.call(Call::new("echo", vec![Value::str("hi")])))
        .await
        .unwrap();
    assert_eq!(v, Value::str("hi"));
    daemon.shutdown().await;
    seen.take()
}

#[tokio::test]
async fn at_debug_level_each_call_runs_in_its_span() {
    let seen = one_call(LevelFilter::DEBUG).await;
    let new = seen
        .iter()
        .filter(|s| s.starts_with("new ") && s.contains("method=echo"))
        .count();
    assert_eq!(new, 1, "{seen:?}");
    assert!(
        seen.iter().any(|s| s.contains("object=test.service")),
        "the span names the object: {seen:?}"
    );
    assert!(
        seen.iter().any(|s| s == "enter"),
        "the call's span is entered while it runs: {seen:?}"
    );
}

#[tokio::test]
async fn at_info_level_calls_make_no_span() {
    let seen = one_call(LevelFilter::INFO).await;
    assert!(seen.is_empty(), "{seen:?}");
}
