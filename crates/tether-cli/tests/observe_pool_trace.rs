//! A trace through a pool with one member gone: the pool's span holds one client span per
//! attempt, the failed attempt (error.type `connection`) and the retry that reached a server,
//! whose server span continues the trace. The XML's interceptors run around the pool call and
//! around each attempt, and the pool's figures reach the metrics.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tether::observe::SpanKind;
use tether::remoting::{ClientOptions, Interceptor, Next, ServerOptions};
use tether_core::echo::EchoService;
use tether_core::{BoxFuture, Call, RemoteError, Value};

/// Counts the calls it sees (registered as an XML class below).
#[derive(Default)]
struct Counter(Arc<AtomicUsize>);

impl Interceptor for Counter {
    fn invoke<'a>(
        &'a self,
        call: Call,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Value, RemoteError>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        next.proceed(call)
    }
}

static POOL_CALLS: std::sync::LazyLock<Arc<AtomicUsize>> = std::sync::LazyLock::new(Arc::default);
static ATTEMPTS: std::sync::LazyLock<Arc<AtomicUsize>> = std::sync::LazyLock::new(Arc::default);

struct CounterObject(Arc<AtomicUsize>);
impl tether::context::Component for CounterObject {
    fn interceptor(&self) -> Option<Arc<dyn Interceptor>> {
        Some(Arc::new(Counter(self.0.clone())))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_attempt_and_its_retry_are_in_the_pool_call_trace() {
    let (telemetry, mem) =
        tether::observe::init_in_memory(Default::default(), Duration::from_millis(20));
    tether::observe::enable_metrics();
    let mut registry = tether::ClassRegistry::from_inventory();
    registry.register_with("test.PoolCounter", |_| {
        Ok(CounterObject(POOL_CALLS.clone()))
    });
    registry.register_with("test.AttemptCounter", |_| {
        Ok(CounterObject(ATTEMPTS.clone()))
    });
    let p = registry
        .protocols()
        .by_name("pyro5")
        .expect("pyro5")
        .clone();
    let mut urls = Vec::new();
    let mut servers = Vec::new();
    for _ in 0..2 {
        let s = p
            .bind(
                "127.0.0.1",
                "127.0.0.1:0".parse().unwrap(),
                &ServerOptions::default(),
            )
            .expect("bind");
        let uri = s
            .register("echo", Arc::new(EchoService::new(false)))
            .expect("register");
        urls.push(p.object_url(&uri, "echo"));
        servers.push(s);
    }
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
  <object id="pool_counter" class="test.PoolCounter"/>
  <object id="attempt_counter" class="test.AttemptCounter"/>
  <object id="service" class="tether.cluster.PoolProxyFactory">
    <property name="service_urls"><list><value>{}</value><value>{}</value></list></property>
    <property name="balance"><value>round_robin</value></property>
    <property name="idempotent_methods"><list><value>echo</value></list></property>
    <property name="interceptors"><ref object="pool_counter"/></property>
    <property name="attempt_interceptors"><list><ref object="attempt_counter"/></list></property>
  </object>
</objects>"#,
        urls[0], urls[1]
    );
    let ctx = tether::ApplicationContext::builder()
        .registry(registry)
        .xml_str(xml, Some("pool.xml"))
        .start()
        .await
        .expect("context");
    let pool = ctx
        .get_object("service")
        .expect("pool")
        .invoker()
        .expect("invoker");
    // The first member goes away; round robin sends every other call to it first.
    servers[0].shutdown().await;
    for i in 0..4 {
        let v = pool
            .invoke(Call::new("echo", vec![Value::Int(i)]))
            .await
            .expect("the pool retries on the live member");
        assert_eq!(v, Value::Int(i));
    }
    assert_eq!(POOL_CALLS.load(Ordering::SeqCst), 4);
    assert!(
        ATTEMPTS.load(Ordering::SeqCst) >= 5,
        "{}",
        ATTEMPTS.load(Ordering::SeqCst)
    );
    assert!(
        tokio::task::spawn_blocking(|| tether::observe::flush(Duration::from_secs(5)))
            .await
            .unwrap_or(false)
    );
    let spans = mem.spans();
    let pools: Vec<_> = spans
        .iter()
        .filter(|s| {
            s.kind == SpanKind::Internal && s.attr("tether.pool").as_deref() == Some("service")
        })
        .collect();
    assert_eq!(pools.len(), 4, "{spans:#?}");
    let mut retried = 0;
    for pool_span in pools {
        let attempts: Vec<_> = spans
            .iter()
            .filter(|s| s.kind == SpanKind::Client && s.parent_span_id == Some(pool_span.span_id))
            .collect();
        assert!(!attempts.is_empty());
        assert!(attempts.iter().all(|a| a.trace_id == pool_span.trace_id));
        let failed: Vec<_> = attempts.iter().filter(|a| a.error.is_some()).collect();
        let ok: Vec<_> = attempts.iter().filter(|a| a.error.is_none()).collect();
        assert_eq!(ok.len(), 1);
        let served = spans
            .iter()
            .filter(|s| s.kind == SpanKind::Server && s.parent_span_id == Some(ok[0].span_id))
            .count();
        assert_eq!(
            served, 1,
            "the attempt that got through has its server span"
        );
        if let Some(f) = failed.first() {
            assert_eq!(f.attr("error.type").as_deref(), Some("connection"), "{f:?}");
            assert_eq!(
                f.attr("server.port"),
                urls[0].rsplit(':').next().map(str::to_string)
            );
            retried += 1;
        }
    }
    assert!(retried >= 1, "no call met the dead member");
    let text = tether::observe::metrics::render();
    assert!(
        text.contains("tether_pool_retries_total{pool=\"service\"}"),
        "{text}"
    );
    assert!(text.contains("tether_pool_call_duration_seconds_count{rpc_system=\"pool\",rpc_service=\"service\",rpc_method=\"echo\"} 4"), "{text}");
    assert!(
        text.contains("tether_pool_endpoint_failures_total{pool=\"service\""),
        "{text}"
    );
    ctx.close().await;
    servers[1].shutdown().await;
    drop(ClientOptions::default());
    assert!(telemetry.shutdown(Duration::from_secs(5)));
}
