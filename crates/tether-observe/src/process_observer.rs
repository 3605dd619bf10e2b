//! [`ProcessObserver`]: what [`init`](crate::init) and [`enable_metrics`](crate::enable_metrics)
//! put at every call site. One interceptor per site does whatever the process has turned on
//! (a span, the call's metrics, or both), so a call observed both ways goes through one layer:
//! one future, and two clock readings instead of four.

use crate::metrics::MetricsInterceptor;
use crate::span::call_now;
use crate::tracing_span::{OpenSpan, TracingInterceptor};
use std::sync::Arc;
use tether_core::{BoxFuture, Call, RemoteError, Value};
use tether_remoting::observe::{CallSite, Observer};
use tether_remoting::{Interceptor, Next};

/// Installed once per process; each site made afterwards gets spans if a pipeline is running
/// then, and metrics if they are on then.
pub(crate) struct ProcessObserver;

impl Observer for ProcessObserver {
    fn interceptor(&self, site: &Arc<CallSite>) -> Option<Arc<dyn Interceptor>> {
        let tracing = crate::current_pipeline()
            .map(|(p, sampler)| TracingInterceptor::new(p, sampler, site.clone()));
        let metrics = crate::metrics_enabled().then(|| MetricsInterceptor::new(site.clone()));
        match (tracing, metrics) {
            (None, None) => None,
            (Some(t), None) => Some(Arc::new(t)),
            (None, Some(m)) => Some(Arc::new(m)),
            (Some(t), Some(m)) => Some(Arc::new(Both(t, m))),
        }
    }
}

/// A span and the metrics of each call, in one layer.
struct Both(TracingInterceptor, MetricsInterceptor);

impl Interceptor for Both {
    fn invoke<'a>(
        &'a self,
        mut call: Call,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Value, RemoteError>> {
        let counted = self.1.begin(&call);
        let span = self.0.begin(&mut call, Some(counted.method()));
        let start = call_now();
        let open = span.map(|s| OpenSpan::new(&self.0, s, start));
        let rest = next.proceed(call);
        Box::pin(async move {
            let result = rest.await;
            let took = call_now().saturating_duration_since(start);
            self.1.finish(counted, took, &result);
            if let Some(open) = open {
                open.close(took, &result);
            }
            result
        })
    }
}
