//! [`ProcessObserver`]: what [`init`](crate::init) and [`enable_metrics`](crate::enable_metrics)
//! put at every call site. One [`Watch`] per site does whatever the process has turned on (a
//! span, the call's metrics, or both): a call observed both ways goes through one future, and
//! two clock readings instead of four. The public [`TracingObserver`] and [`MetricsObserver`]
//! watch the same way, each with its half.

use crate::metrics::{MetricsInterceptor, MetricsObserver};
use crate::tracing_span::{TracingInterceptor, TracingObserver};
use crate::watch::Watch;
use std::sync::Arc;
use tether_core::{Dispatch, Invoker};
use tether_remoting::observe::{CallSite, Observer};
use tether_remoting::Interceptor;

/// Installed once per process; each site made afterwards gets spans if a pipeline is running
/// then, and metrics if they are on then.
pub(crate) struct ProcessObserver;

impl ProcessObserver {
    fn watch(&self, site: &Arc<CallSite>) -> Watch {
        let tracing = crate::current_pipeline()
            .map(|(p, sampler)| TracingInterceptor::new(p, sampler, site.clone()));
        let metrics = crate::metrics_enabled().then(|| MetricsInterceptor::new(site.clone()));
        Watch::new(tracing, metrics)
    }
}

impl TracingObserver {
    fn watch(&self, site: &Arc<CallSite>) -> Watch {
        Watch::new(Some(self.tracer(site)), None)
    }
}

impl MetricsObserver {
    fn watch(&self, site: &Arc<CallSite>) -> Watch {
        Watch::metrics(site)
    }
}

/// The [`Observer`] of a type whose whole work is one [`Watch`] per site (its `watch`): the
/// interceptor a chain asks for, the objects and the clients all come from it.
macro_rules! observer_by_watch {
    ($($t:ty),*) => {$(
        impl Observer for $t {
            fn interceptor(&self, site: &Arc<CallSite>) -> Option<Arc<dyn Interceptor>> {
                self.watch(site).interceptor()
            }
            fn observe_dispatch(
                &self,
                site: &Arc<CallSite>,
                object: Arc<dyn Dispatch>,
            ) -> Arc<dyn Dispatch> {
                self.watch(site).dispatch(object)
            }
            fn observe_invoker(
                &self,
                site: &Arc<CallSite>,
                client: Arc<dyn Invoker>,
            ) -> Arc<dyn Invoker> {
                self.watch(site).invoker(client)
            }
        }
    )*};
}

observer_by_watch!(ProcessObserver, TracingObserver, MetricsObserver);
