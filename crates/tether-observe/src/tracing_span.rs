//! Spans for calls: the [`TracingObserver`] puts a [`TracingInterceptor`] at every call site
//! (a client span per call of a proxy and per pool attempt, an internal span per pool call, a
//! server span per call an exporter runs), named `service/method` and attributed after
//! OpenTelemetry's RPC conventions, and hands the span's context to the wire so the next
//! machine's span joins the same trace.

use crate::ids;
use crate::pipeline::Pipeline;
use crate::span::{error_type, unix_at, SpanKind, SpanParts};
use std::sync::Arc;
use std::time::Instant;
use tether_core::{BoxFuture, Call, CallContext, RemoteError, TraceContext, Value};
use tether_remoting::observe::{CallSite, Observer, Side};
use tether_remoting::{Interceptor, Next};

/// Which new traces are recorded (OpenTelemetry's `OTEL_TRACES_SAMPLER`). A call that
/// continues a caller's trace follows the caller's sampled flag when the sampler is
/// parent-based.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampler {
    /// Every trace.
    AlwaysOn,
    /// None.
    AlwaysOff,
    /// This share of traces, by trace id (0.0 to 1.0).
    Ratio(f64),
    /// Follow the caller's flag; for new traces, the inner rule.
    ParentBased(RootRule),
}

/// A parent-based sampler's rule for traces that start here.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RootRule {
    /// Every new trace.
    AlwaysOn,
    /// No new trace.
    AlwaysOff,
    /// This share of new traces.
    Ratio(f64),
}

impl Default for Sampler {
    /// `parentbased_always_on`, OpenTelemetry's default.
    fn default() -> Self {
        Sampler::ParentBased(RootRule::AlwaysOn)
    }
}

fn by_ratio(trace_id: &[u8; 16], ratio: f64) -> bool {
    let mut low = [0u8; 8];
    low.copy_from_slice(&trace_id[8..]);
    let v = u64::from_be_bytes(low) >> 1;
    (v as f64) < ratio.clamp(0.0, 1.0) * (u64::MAX >> 1) as f64
}

impl Sampler {
    fn sample(&self, parent: Option<&TraceContext>, trace_id: &[u8; 16]) -> bool {
        let root = |r: &RootRule| match r {
            RootRule::AlwaysOn => true,
            RootRule::AlwaysOff => false,
            RootRule::Ratio(x) => by_ratio(trace_id, *x),
        };
        match self {
            Sampler::AlwaysOn => true,
            Sampler::AlwaysOff => false,
            Sampler::Ratio(x) => by_ratio(trace_id, *x),
            Sampler::ParentBased(r) => match parent.filter(|p| p.has_parent()) {
                Some(p) => p.is_sampled(),
                None => root(r),
            },
        }
    }
}

/// Puts a [`TracingInterceptor`] at every call site.
pub struct TracingObserver {
    pipeline: Arc<Pipeline>,
    sampler: Sampler,
}

impl TracingObserver {
    /// Spans go to `pipeline`, new traces chosen by `sampler`.
    pub fn new(pipeline: Arc<Pipeline>, sampler: Sampler) -> Self {
        TracingObserver { pipeline, sampler }
    }
}

impl Observer for TracingObserver {
    fn interceptor(&self, site: &Arc<CallSite>) -> Option<Arc<dyn Interceptor>> {
        Some(Arc::new(TracingInterceptor::new(
            self.pipeline.clone(),
            self.sampler,
            site.clone(),
        )))
    }
}

/// A span around each call at one site.
pub struct TracingInterceptor {
    pipeline: Arc<Pipeline>,
    sampler: Sampler,
    site: Arc<CallSite>,
    /// The site's attributes, encoded once for its own wire.
    site_attributes: Vec<u8>,
}

impl TracingInterceptor {
    /// Spans for calls at `site` into `pipeline` (the XML class's interceptor uses an internal
    /// site of its own).
    pub fn new(pipeline: Arc<Pipeline>, sampler: Sampler, site: Arc<CallSite>) -> Self {
        TracingInterceptor {
            pipeline,
            sampler,
            site_attributes: crate::otlp::site_attributes(&site, site.system),
            site,
        }
    }
}

/// A span begun: what [`TracingInterceptor::finish`] needs once the call has run.
pub(crate) struct SpanStart {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    parent: Option<TraceContext>,
    method: std::borrow::Cow<'static, str>,
    system: &'static str,
    peer: Option<std::net::SocketAddr>,
}

impl TracingInterceptor {
    /// Gives the call its span's trace context (which the wire carries on); returns the span
    /// to finish, or `None` when the sampler leaves this trace out. `name` is the method's
    /// name kept for the process's life, when the caller has one (the span then copies none).
    pub(crate) fn begin(&self, call: &mut Call, name: Option<&'static str>) -> Option<SpanStart> {
        let site = &*self.site;
        // A server continues what the wire carried; a client or a pool continues the span it
        // is called from (its caller's context, or the call being served on this task).
        let parent = match site.side {
            Side::Server => call.context.trace.take(),
            Side::Client | Side::Pool | Side::Local => call
                .context
                .trace
                .take()
                .or_else(|| CallContext::current().and_then(|c| c.trace)),
        };
        let trace_id = parent
            .as_ref()
            .map(|p| p.trace_id)
            .unwrap_or_else(ids::trace_id);
        let sampled = self.sampler.sample(parent.as_ref(), &trace_id);
        let span_id = ids::span_id();
        call.context.trace = Some(TraceContext {
            trace_id,
            span_id,
            flags: u8::from(sampled),
            state: parent.as_ref().and_then(|p| p.state.clone()),
        });
        sampled.then(|| SpanStart {
            trace_id,
            span_id,
            parent,
            method: match name {
                Some(n) if n == call.method => std::borrow::Cow::Borrowed(n),
                _ => std::borrow::Cow::Owned(call.method.clone()),
            },
            system: call.context.protocol.unwrap_or(site.system),
            peer: call.context.peer,
        })
    }

    /// Records the span of a call that ran from `start` to `end` (Unix nanoseconds).
    pub(crate) fn finish(
        &self,
        span: SpanStart,
        start: u64,
        end: u64,
        result: &Result<Value, RemoteError>,
    ) {
        let site = &*self.site;
        let kind = match site.side {
            Side::Client => SpanKind::Client,
            Side::Server => SpanKind::Server,
            Side::Pool | Side::Local => SpanKind::Internal,
        };
        let (error_type, error) = match result {
            Ok(_) => (None, None),
            Err(e) => (Some(error_type(e)), Some(e.message())),
        };
        let parent = span.parent.as_ref();
        self.pipeline.record_parts(&SpanParts {
            trace_id: span.trace_id,
            span_id: span.span_id,
            parent_span_id: parent.filter(|p| p.has_parent()).map(|p| p.span_id),
            trace_state: parent.and_then(|p| p.state.as_ref()),
            kind,
            start_unix_nanos: start,
            end_unix_nanos: end.max(start),
            site: &self.site,
            system: span.system,
            method: &span.method,
            peer: span.peer,
            error_type: error_type.as_deref(),
            error,
            site_attributes: (span.system == site.system).then_some(&self.site_attributes[..]),
        });
    }
}

impl Interceptor for TracingInterceptor {
    fn invoke<'a>(
        &'a self,
        mut call: Call,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Value, RemoteError>> {
        let Some(span) = self.begin(&mut call, None) else {
            return next.proceed(call);
        };
        let start = Instant::now();
        // The rest of the chain is started here, so this future holds only what the span
        // needs afterwards (not the call: moving a large future into its box costs per call).
        let rest = next.proceed(call);
        Box::pin(async move {
            let result = rest.await;
            let at = unix_at(start);
            let took = start.elapsed().as_nanos() as u64;
            self.finish(span, at, at.saturating_add(took), &result);
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samplers_follow_their_rules() {
        let id = [0xffu8; 16];
        let sampled = TraceContext::new([1; 16], [1; 8]);
        let unsampled = TraceContext {
            flags: 0,
            ..sampled.clone()
        };
        let pb = Sampler::default();
        assert!(pb.sample(Some(&sampled), &id));
        assert!(!pb.sample(Some(&unsampled), &id));
        assert!(pb.sample(None, &id));
        assert!(!Sampler::Ratio(0.0).sample(None, &id));
        assert!(Sampler::Ratio(1.0).sample(None, &[0; 16]));
        let half: usize = (0..1000u32)
            .filter(|_| Sampler::Ratio(0.5).sample(None, &ids::trace_id()))
            .count();
        assert!((350..650).contains(&half), "{half}");
    }
}
