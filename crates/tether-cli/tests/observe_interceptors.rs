//! The built-in interceptors by their XML names, in Spring Python's `ProxyFactoryObject`: a
//! deadline that stops a slow call, retries of an idempotent method through connection
//! failures (and none for a method that is not), call logging and the performance monitor; and
//! the admin endpoint as an XML object, ready while its context serves and not ready once the
//! context starts closing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tether::context::Component;
use tether_core::{BoxFuture, Call, Dispatch, MethodInfo, RemoteError, Value};

/// `read` fails twice with a connection error, then answers; `write` always fails so; `slow`
/// takes 5 s.
#[derive(Default)]
struct Flaky {
    calls: Arc<AtomicUsize>,
}

static METHODS: [MethodInfo; 3] = [
    MethodInfo {
        name: "read",
        params: &[],
        oneway: false,
    },
    MethodInfo {
        name: "write",
        params: &[],
        oneway: false,
    },
    MethodInfo {
        name: "slow",
        params: &[],
        oneway: false,
    },
];

struct FlakyDispatch(Arc<AtomicUsize>, AtomicUsize);

impl Dispatch for FlakyDispatch {
    fn methods(&self) -> &[MethodInfo] {
        &METHODS
    }
    fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(async move {
            self.0.fetch_add(1, Ordering::SeqCst);
            match call.method.as_str() {
                "slow" => {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    Ok(Value::Str("late".into()))
                }
                "write" => Err(RemoteError::connection("connection reset")),
                _ if self.1.fetch_add(1, Ordering::SeqCst) < 2 => {
                    Err(RemoteError::connection("connection reset"))
                }
                _ => Ok(Value::Str("ok".into())),
            }
        })
    }
}

static CALLS: std::sync::LazyLock<Arc<AtomicUsize>> = std::sync::LazyLock::new(Arc::default);

impl Component for Flaky {
    fn dispatcher(&self) -> Option<Arc<dyn Dispatch>> {
        Some(Arc::new(FlakyDispatch(
            self.calls.clone(),
            AtomicUsize::new(0),
        )))
    }
}

const XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
  <object id="target" class="test.Flaky"/>
  <object id="deadline" class="tether.observe.DeadlineInterceptor">
    <property name="timeout"><value>0.3</value></property>
  </object>
  <object id="retry" class="tether.observe.RetryInterceptor">
    <property name="idempotent"><value>read|slow</value></property>
    <property name="attempts"><value>3</value></property>
    <property name="backoff"><value>0.01</value></property>
  </object>
  <object id="logging" class="tether.observe.CallLoggingInterceptor">
    <property name="level"><value>DEBUG</value></property>
  </object>
  <object id="monitor" class="tether.observe.PerformanceMonitorInterceptor"/>
  <object id="metrics" class="tether.observe.MetricsInterceptor"/>
  <object id="tracing" class="tether.observe.TracingInterceptor"/>
  <object id="proxied" class="springpython.aop.ProxyFactoryObject">
    <property name="target" ref="target"/>
    <property name="interceptors">
      <list>
        <ref object="tracing"/><ref object="metrics"/><ref object="monitor"/>
        <ref object="logging"/><ref object="deadline"/><ref object="retry"/>
      </list>
    </property>
  </object>
  <object id="admin" class="tether.observe.AdminServer">
    <property name="host"><value>127.0.0.1</value></property>
    <property name="port"><value>0</value></property>
  </object>
</objects>"#;

async fn get(addr: std::net::SocketAddr, path: &str) -> u16 {
    let req = format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n");
    let text = tether_test_support::raw_http(addr, req.as_bytes()).await;
    text.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_in_interceptors_and_the_admin_object_work_from_xml() {
    let mut registry = tether::ClassRegistry::from_inventory();
    registry.register_with("test.Flaky", |_| {
        Ok(Flaky {
            calls: CALLS.clone(),
        })
    });
    let ctx = tether::ApplicationContext::builder()
        .registry(registry)
        .xml_str(XML, Some("interceptors.xml"))
        .start()
        .await
        .expect("context");
    let proxied = ctx
        .get_object("proxied")
        .expect("proxied")
        .invoker()
        .expect("invoker");

    // read is idempotent: two connection failures, then the answer on the third try.
    let v = proxied
        .invoke(Call::new("read", vec![]))
        .await
        .expect("read retried");
    assert_eq!(v, Value::Str("ok".into()));
    assert_eq!(CALLS.load(Ordering::SeqCst), 3);
    // write is not, and its failure may have reached the server: no retry.
    let e = proxied
        .invoke(Call::new("write", vec![]))
        .await
        .unwrap_err();
    assert!(e.message().contains("connection reset"), "{e}");
    assert_eq!(CALLS.load(Ordering::SeqCst), 4);
    // slow: the deadline (0.3 s) ends it, and the retry does not go past the deadline.
    let started = Instant::now();
    let e = proxied.invoke(Call::new("slow", vec![])).await.unwrap_err();
    assert_eq!(e.kind(), tether_core::ErrorKind::Timeout, "{e}");
    assert!(started.elapsed() < Duration::from_secs(2));

    let text = tether::observe::metrics::render();
    assert!(
        text.contains(r#"tether_local_call_duration_seconds_count{rpc_system="local",rpc_service="metrics",rpc_method="read"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"rpc_method="write",error_type="connection"} 1"#),
        "{text}"
    );

    // The admin object: ready while the context serves, 503 once its close has begun.
    let admin = ctx
        .get_as::<tether::observe::AdminObject>("admin")
        .expect("admin");
    let addr = admin.server().expect("bound").local_addr();
    assert_eq!(get(addr, "/readyz").await, 200);
    assert_eq!(get(addr, "/healthz").await, 200);
    assert_eq!(get(addr, "/metrics").await, 200);
    ctx.close().await;
    assert_eq!(get(addr, "/readyz").await, 503);
}
