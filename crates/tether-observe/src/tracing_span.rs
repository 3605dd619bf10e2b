//! Spans for calls: the [`TracingObserver`] puts a [`TracingInterceptor`] at every call site
//! (a client span per call of a proxy and per pool attempt, an internal span per pool call, a
//! server span per call an exporter runs), named `service/method` and attributed after
//! OpenTelemetry's RPC conventions, and hands the span's context to the wire so the next
//! machine's span joins the same trace.

use crate::ids;
use crate::pipeline::Pipeline;
use crate::span::{call_now, error_type, unix_at, CallInstant, SpanKind, SpanParts};
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tether_core::{BoxFuture, Call, CallContext, RemoteError, TraceContext, Value};
use tether_remoting::observe::{CallSite, Side};
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

impl TracingObserver {
    /// A tracing interceptor for calls at `site`.
    pub(crate) fn tracer(&self, site: &Arc<CallSite>) -> TracingInterceptor {
        TracingInterceptor::new(self.pipeline.clone(), self.sampler, site.clone())
    }
}

/// A span around each call at one site.
pub struct TracingInterceptor {
    pipeline: Arc<Pipeline>,
    sampler: Sampler,
    site: Arc<CallSite>,
    /// Tells this interceptor's entries in [`FIXED`] from another's (an address could be
    /// reused after this one is dropped; a number is not).
    id: u64,
    /// The fixed part of the first (wire, method) spanned here: most sites are called for one
    /// method above all, whose spans then skip the thread's cache (set once, read by every
    /// thread without writing its cache line).
    first: std::sync::OnceLock<Fixed>,
}

impl TracingInterceptor {
    /// Spans for calls at `site` into `pipeline` (the XML class's interceptor uses an internal
    /// site of its own).
    pub fn new(pipeline: Arc<Pipeline>, sampler: Sampler, site: Arc<CallSite>) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        crate::span::clock_base();
        TracingInterceptor {
            pipeline,
            sampler,
            site,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            first: std::sync::OnceLock::new(),
        }
    }
}

/// The encoded fields fixed per (interceptor, wire, method) (`otlp::fixed_part`), as this
/// thread last made them: most of a span's bytes, copied instead of encoded on every call.
/// Small and scanned; a thread serves few methods, and an entry evicted is made again.
struct Fixed {
    owner: u64,
    system: &'static str,
    /// The method's name: the same `&'static` as the spans' when they have one (then found
    /// by address, without comparing the text).
    method: std::borrow::Cow<'static, str>,
    bytes: Box<[u8]>,
}

impl Fixed {
    /// Whether these are the fixed fields of `span`'s wire and method (the method found by
    /// address when it is the same `&'static` text).
    fn is(&self, span: &SpanStart) -> bool {
        crate::same_wire(self.system, span.system)
            && (std::ptr::eq(self.method.as_ref(), span.method.as_ref())
                || *self.method == *span.method)
    }
}

const FIXED_KEPT: usize = 32;

thread_local! {
    static FIXED: RefCell<(Vec<Fixed>, usize)> = const { RefCell::new((Vec::new(), 0)) };
}

/// A span begun: what [`OpenSpan::close`] needs once the call has run.
pub(crate) struct SpanStart {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    parent: Option<TraceContext>,
    method: std::borrow::Cow<'static, str>,
    system: &'static str,
    peer: Option<std::net::SocketAddr>,
    /// The call's deadline: a span whose call is dropped past it ended in a timeout.
    deadline: Option<Instant>,
}

/// Boxes of span starts this thread has finished with, for the next spans it begins: a span
/// then costs no allocation (the box of a span ended on another thread stays there).
const SPARE_STARTS: usize = 64;

thread_local! {
    // The boxes are the point: each is an allocation a later span reuses as it is.
    #[allow(clippy::vec_box)]
    static SPARES: RefCell<Vec<Box<SpanStart>>> = const { RefCell::new(Vec::new()) };
}

/// A box this thread finished with, when it has one.
fn spare() -> Option<Box<SpanStart>> {
    SPARES
        .try_with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.pop()))
        .ok()
        .flatten()
}

/// Keeps `span`'s box for this thread's next span (at most [`SPARE_STARTS`] are kept).
fn recycle(span: Box<SpanStart>) {
    let _ = SPARES.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            if s.len() < SPARE_STARTS {
                s.push(span);
            }
        }
    });
}

/// A span whose call is running. Recorded when the call ends, or, if the call's future is
/// dropped before that (its server shut down, its client went away), when it is dropped: as
/// a `timeout` past the call's deadline, else `cancelled`. A span is not lost with its call.
pub(crate) struct OpenSpan<'a> {
    tracer: &'a TracingInterceptor,
    /// Boxed: a call's future holds this while the call runs, and a large field there is
    /// copied each time the future moves (into its box, among others).
    span: Option<Box<SpanStart>>,
    start: CallInstant,
}

impl<'a> OpenSpan<'a> {
    pub(crate) fn new(
        tracer: &'a TracingInterceptor,
        span: Box<SpanStart>,
        start: CallInstant,
    ) -> Self {
        OpenSpan {
            tracer,
            span: Some(span),
            start,
        }
    }

    /// Records the span of a call that took `took` and failed with `failure`, if it did.
    pub(crate) fn close(mut self, took: std::time::Duration, failure: Option<&RemoteError>) {
        if let Some(span) = self.span.take() {
            let at = unix_at(self.start);
            let end = at.saturating_add(took.as_nanos() as u64);
            let (error_type, error) = match failure {
                None => (None, None),
                Some(e) => (Some(error_type(e)), Some(e.message())),
            };
            self.tracer
                .record(&span, at, end, error_type.as_deref(), error);
            recycle(span);
        }
    }
}

impl Drop for OpenSpan<'_> {
    fn drop(&mut self) {
        if let Some(span) = self.span.take() {
            let at = unix_at(self.start);
            let took = call_now().saturating_duration_since(self.start);
            let end = at.saturating_add(took.as_nanos() as u64);
            let (kind, why) = match span.deadline {
                Some(d) if d <= Instant::now() => {
                    ("timeout", "the call's deadline passed before it completed")
                }
                _ => ("cancelled", "the call was dropped before it completed"),
            };
            self.tracer.record(&span, at, end, Some(kind), Some(why));
            recycle(span);
        }
    }
}

impl TracingInterceptor {
    /// Gives the call its span's trace context (which the wire carries on); returns the span
    /// to finish, or `None` when the sampler leaves this trace out. `name` is the call's method
    /// name (the same text) kept for the process's life, when the caller has one (the span
    /// then copies none).
    pub(crate) fn begin(
        &self,
        call: &mut Call,
        name: Option<&'static str>,
    ) -> Option<Box<SpanStart>> {
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
        if !sampled {
            return None;
        }
        let method = match name {
            Some(n) => std::borrow::Cow::Borrowed(n),
            None => std::borrow::Cow::Owned(call.method.clone()),
        };
        let system = call.context.protocol.unwrap_or(site.system);
        let (peer, deadline) = (call.context.peer, call.context.deadline);
        // A spare box is filled field by field where it lies: the span start is not built on
        // the stack and then copied in (two copies of ~170 bytes a call).
        Some(match spare() {
            Some(mut b) => {
                b.trace_id = trace_id;
                b.span_id = span_id;
                b.parent = parent;
                b.method = method;
                b.system = system;
                b.peer = peer;
                b.deadline = deadline;
                b
            }
            None => Box::new(SpanStart {
                trace_id,
                span_id,
                parent,
                method,
                system,
                peer,
                deadline,
            }),
        })
    }

    /// Records the span of a call that ran from `start` to `end` (Unix nanoseconds) and
    /// failed with `error_type` and `error`, if it did.
    fn record(
        &self,
        span: &SpanStart,
        start: u64,
        end: u64,
        error_type: Option<&str>,
        error: Option<&str>,
    ) {
        let site = &*self.site;
        let kind = match site.side {
            Side::Client => SpanKind::Client,
            Side::Server => SpanKind::Server,
            Side::Pool | Side::Local => SpanKind::Internal,
        };
        let parent = span.parent.as_ref();
        let record = |fixed: Option<&[u8]>| {
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
                error_type,
                error,
                fixed,
            })
        };
        if !self.pipeline.encodes_early() {
            return record(None);
        }
        if let Some(f) = self.first.get() {
            if f.is(span) {
                return record(Some(&f.bytes));
            }
        }
        // (Not there while the thread is being torn down: then encoded in full.)
        let kept = FIXED.try_with(|cache| {
            let Ok(mut cache) = cache.try_borrow_mut() else {
                return record(None);
            };
            let (list, next) = &mut *cache;
            let found = list.iter().position(|f| f.owner == self.id && f.is(span));
            let i = match found {
                Some(i) => i,
                None => {
                    let f = Fixed {
                        owner: self.id,
                        system: span.system,
                        method: span.method.clone(),
                        bytes: crate::otlp::fixed_part(site, span.system, &span.method, kind)
                            .into_boxed_slice(),
                    };
                    if self.first.get().is_none() {
                        let _ = self.first.set(Fixed {
                            bytes: f.bytes.clone(),
                            method: f.method.clone(),
                            ..f
                        });
                    }
                    if list.len() < FIXED_KEPT {
                        list.push(f);
                        list.len() - 1
                    } else {
                        let i = *next;
                        list[i] = f;
                        *next = (i + 1) % FIXED_KEPT;
                        i
                    }
                }
            };
            record(Some(&list[i].bytes))
        });
        if kept.is_err() {
            record(None);
        }
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
        let start = call_now();
        let open = OpenSpan::new(self, span, start);
        // The rest of the chain is started here, so this future holds only what the span
        // needs afterwards (not the call: moving a large future into its box costs per call).
        let rest = next.proceed(call);
        Box::pin(async move {
            let result = rest.await;
            open.close(
                call_now().saturating_duration_since(start),
                result.as_ref().err(),
            );
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

    /// A call whose future is dropped before it ends still leaves its span: a timeout when
    /// its deadline had passed, else cancelled.
    #[test]
    fn a_call_cut_short_still_leaves_its_span() {
        struct Never;
        impl tether_core::Invoker for Never {
            fn invoke(&self, _: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
                Box::pin(std::future::pending())
            }
        }
        let mem = crate::MemorySpans::default();
        let pipeline = Pipeline::start(
            vec![crate::Exporter::Memory(mem.clone())],
            Vec::new(),
            Default::default(),
        );
        let site = Arc::new(CallSite::server(
            "pyro5",
            "svc",
            "127.0.0.1:9".parse().expect("addr"),
        ));
        let chain: Vec<Arc<dyn Interceptor>> = vec![Arc::new(TracingInterceptor::new(
            pipeline.clone(),
            Sampler::AlwaysOn,
            site,
        ))];
        let proxy = tether_remoting::Intercepted::new(chain.into(), Arc::new(Never));
        let past = Instant::now();
        let late = Call::new("late", vec![]).context(CallContext::new().with_deadline(past));
        drop(tether_core::Invoker::invoke(&proxy, late));
        drop(tether_core::Invoker::invoke(
            &proxy,
            Call::new("gone", vec![]),
        ));
        assert!(pipeline.flush(std::time::Duration::from_secs(5)));
        let spans = mem.spans();
        let kind_of = |m: &str| {
            spans
                .iter()
                .find(|s| s.method == m)
                .and_then(|s| s.error_type.clone())
        };
        assert_eq!(kind_of("late").as_deref(), Some("timeout"));
        assert_eq!(kind_of("gone").as_deref(), Some("cancelled"));
        assert!(spans.iter().all(|s| s.error.is_some()), "{spans:?}");
        pipeline.shutdown(std::time::Duration::from_secs(5));
    }
}
