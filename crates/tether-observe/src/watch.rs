//! [`Watch`]: a call's span and metrics, taken where the call starts and where it ends.
//!
//! An object or a client watched this way is wrapped in one future per call around its own
//! (not in a chain of interceptors, each with its own future, and a future to keep a streamed
//! reply aside): what an observed server pays per call is its clock readings, its counts and
//! its span, and little else. Streamed replies pass through as streams: the span and the
//! count end when the stream is handed back.

use crate::metrics::{CallStart, MetricsInterceptor};
use crate::span::{call_now, CallInstant};
use crate::tracing_span::{OpenSpan, TracingInterceptor};
use std::sync::Arc;
use tether_core::{
    AttrInfo, BoxFuture, Call, Description, Dispatch, Invoker, MethodInfo, RemoteError, Reply,
    Value, ValueStream,
};
use tether_remoting::observe::CallSite;
use tether_remoting::{Interceptor, Next};

/// A span, the call's metrics, or both, for the calls at one site.
pub(crate) struct Watch {
    tracing: Option<TracingInterceptor>,
    metrics: Option<MetricsInterceptor>,
}

/// A call begun: what [`Watch::end`] needs.
struct Begun<'a> {
    counted: Option<CallStart<'a>>,
    open: Option<OpenSpan<'a>>,
    start: CallInstant,
}

impl Watch {
    /// Spans from `tracing`, counts from `metrics` (either may be absent).
    pub(crate) fn new(
        tracing: Option<TracingInterceptor>,
        metrics: Option<MetricsInterceptor>,
    ) -> Watch {
        Watch { tracing, metrics }
    }

    /// The metrics of the calls at `site`, no span.
    pub(crate) fn metrics(site: &Arc<CallSite>) -> Watch {
        Watch::new(None, Some(MetricsInterceptor::new(site.clone())))
    }

    fn is_empty(&self) -> bool {
        self.tracing.is_none() && self.metrics.is_none()
    }

    /// This watch as an interceptor in a chain (`None` when there is nothing to watch with).
    pub(crate) fn interceptor(self) -> Option<Arc<dyn Interceptor>> {
        (!self.is_empty()).then(|| Arc::new(self) as Arc<dyn Interceptor>)
    }

    /// Counts the call in flight, gives it its span's context (which the wire carries on),
    /// and reads the clock once.
    fn begin(&self, call: &mut Call) -> Begun<'_> {
        let counted = self.metrics.as_ref().map(|m| m.begin(call));
        let span = self.tracing.as_ref().and_then(|t| {
            t.begin(call, counted.as_ref().and_then(CallStart::own_name))
                .map(|s| (t, s))
        });
        let start = call_now();
        Begun {
            counted,
            open: span.map(|(t, s)| OpenSpan::new(t, s, start)),
            start,
        }
    }

    /// Reads the clock once more and records the call (failed with `failure`, if it did).
    fn end(&self, begun: Begun<'_>, failure: Option<&RemoteError>) {
        let took = call_now().saturating_duration_since(begun.start);
        if let (Some(m), Some(c)) = (&self.metrics, begun.counted) {
            m.finish(c, took, failure);
        }
        if let Some(open) = begun.open {
            open.close(took, failure);
        }
    }

    /// `object` watched (itself when there is nothing to watch with).
    pub(crate) fn dispatch(self, object: Arc<dyn Dispatch>) -> Arc<dyn Dispatch> {
        if self.is_empty() {
            object
        } else {
            Arc::new(WatchedDispatch {
                watch: self,
                object,
            })
        }
    }

    /// `client` watched (itself when there is nothing to watch with).
    pub(crate) fn invoker(self, client: Arc<dyn Invoker>) -> Arc<dyn Invoker> {
        if self.is_empty() {
            client
        } else {
            Arc::new(WatchedInvoker {
                watch: self,
                client,
            })
        }
    }

    /// `run`'s future for `call`, begun and ended around it, in one box.
    fn around<'a, T: Send + 'a>(
        &'a self,
        mut call: Call,
        run: impl FnOnce(Call) -> BoxFuture<'a, Result<T, RemoteError>>,
    ) -> BoxFuture<'a, Result<T, RemoteError>> {
        let begun = self.begin(&mut call);
        // The call is handed on here, so the box holds only the inner future and what the
        // end needs (moving a large future into its box costs per call).
        let rest = run(call);
        Box::pin(async move {
            let r = rest.await;
            self.end(begun, r.as_ref().err());
            r
        })
    }
}

/// A watch in a chain (a site that asks for interceptors, such as a chain of the user's).
impl Interceptor for Watch {
    fn invoke<'a>(
        &'a self,
        call: Call,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Value, RemoteError>> {
        self.around(call, |call| next.proceed(call))
    }
}

/// An object served behind a [`Watch`].
struct WatchedDispatch {
    watch: Watch,
    object: Arc<dyn Dispatch>,
}

impl Dispatch for WatchedDispatch {
    fn methods(&self) -> &[MethodInfo] {
        self.object.methods()
    }
    fn attrs(&self) -> &[AttrInfo] {
        self.object.attrs()
    }
    fn method(&self, name: &str) -> Option<&MethodInfo> {
        self.object.method(name)
    }
    fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        self.watch.around(call, |call| self.object.dispatch(call))
    }
    fn dispatch_reply(&self, call: Call) -> BoxFuture<'_, Result<Reply, RemoteError>> {
        self.watch
            .around(call, |call| self.object.dispatch_reply(call))
    }
}

/// A client behind a [`Watch`].
struct WatchedInvoker {
    watch: Watch,
    client: Arc<dyn Invoker>,
}

impl Invoker for WatchedInvoker {
    fn invoke(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        self.watch.around(call, |call| self.client.invoke(call))
    }
    fn invoke_stream(&self, call: Call) -> BoxFuture<'_, Result<ValueStream, RemoteError>> {
        self.watch
            .around(call, |call| self.client.invoke_stream(call))
    }
    fn invoke_reply(&self, call: Call) -> BoxFuture<'_, Result<Reply, RemoteError>> {
        self.watch
            .around(call, |call| self.client.invoke_reply(call))
    }
    fn describe(&self) -> BoxFuture<'_, Result<Option<Description>, RemoteError>> {
        self.client.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers every call with a stream of 1, 2, 3 (or, asked for one value, the list).
    struct Counting;

    fn one_two_three() -> ValueStream {
        ValueStream::from_iter((1..=3).map(Value::Int))
    }

    impl Invoker for Counting {
        fn invoke(&self, _: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
            Box::pin(async { Ok(Value::List((1..=3).map(Value::Int).collect())) })
        }
        fn invoke_stream(&self, _: Call) -> BoxFuture<'_, Result<ValueStream, RemoteError>> {
            Box::pin(async { Ok(one_two_three()) })
        }
        fn invoke_reply(&self, _: Call) -> BoxFuture<'_, Result<Reply, RemoteError>> {
            Box::pin(async { Ok(Reply::Stream(one_two_three())) })
        }
    }

    impl Dispatch for Counting {
        fn methods(&self) -> &[MethodInfo] {
            &[]
        }
        fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
            Invoker::invoke(self, call)
        }
        fn dispatch_reply(&self, call: Call) -> BoxFuture<'_, Result<Reply, RemoteError>> {
            Invoker::invoke_reply(self, call)
        }
    }

    async fn items(reply: BoxFuture<'_, Result<Reply, RemoteError>>) -> Vec<Value> {
        match reply.await.expect("reply") {
            Reply::Stream(s) => s.collect(10).await.expect("items"),
            Reply::Value(v) => panic!("a value, not a stream: {v:?}"),
        }
    }

    /// A watched client or object keeps a streamed reply a stream (a remote iterator stays
    /// one), and its calls are counted.
    #[test]
    fn streams_pass_through_a_watch_and_are_counted() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let want = vec![Value::Int(1), Value::Int(2), Value::Int(3)];
        let client_site = Arc::new(CallSite::client("pyro5", "PYRO:watched@127.0.0.1:1"));
        let client = Watch::metrics(&client_site).invoker(Arc::new(Counting));
        let server_site = Arc::new(CallSite::server(
            "pyro5",
            "watched",
            "127.0.0.1:1".parse().expect("addr"),
        ));
        let object = Watch::metrics(&server_site).dispatch(Arc::new(Counting));
        rt.block_on(async {
            assert_eq!(
                items(client.invoke_reply(Call::new("count", vec![]))).await,
                want
            );
            let s = client.invoke_stream(Call::new("count", vec![])).await;
            assert_eq!(s.expect("stream").collect(10).await.expect("items"), want);
            assert_eq!(
                items(object.dispatch_reply(Call::new("count", vec![]))).await,
                want
            );
        });
        let text = crate::metrics::render();
        let count = |name: &str| {
            text.lines()
                .find(|l| {
                    l.starts_with(name)
                        && l.contains("rpc_service=\"watched\"")
                        && l.contains("rpc_method=\"count\"")
                })
                .map(|l| l.rsplit(' ').next().unwrap_or("").to_string())
        };
        assert_eq!(
            count("rpc_client_call_duration_seconds_count").as_deref(),
            Some("2")
        );
        assert_eq!(
            count("rpc_server_call_duration_seconds_count").as_deref(),
            Some("1")
        );
    }
}
