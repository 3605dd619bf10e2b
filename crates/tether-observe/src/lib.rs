//! # tether-observe: seeing and wrapping calls
//!
//! Spans, metrics and the admin endpoint for every wire, plugged in at the seam
//! ([`tether_remoting::observe`]): nothing here knows a wire, and no wire knows this crate.
//!
//! - `span.rs`: [`SpanRecord`] (one finished span), [`SpanKind`], the `error.type` of a failure.
//! - `ids.rs`: trace and span ids.
//! - `tracing_span.rs`: [`TracingObserver`] and [`TracingInterceptor`] (a span per call, named
//!   `service/method` with OpenTelemetry's RPC attributes, its context handed to the wire),
//!   [`Sampler`].
//! - `pipeline.rs`: [`Pipeline`] (bounded queue, batches, one exporter thread), [`Exporter`]
//!   (OTLP, console, memory).
//! - `process_observer.rs`: what `init` and `enable_metrics` put at every call site (spans,
//!   metrics, or both).
//! - `watch.rs`: a call's span and metrics taken where it starts and ends: one future per call
//!   around an object's or a client's own.
//! - `otlp.rs`: OTLP with protobuf bodies, encoded by hand, and the client that posts them
//!   (HTTP/1.1, or gRPC through `otlp_grpc.rs`: HTTP/2 with the `h2` crate), gzipped on request.
//! - `otlp_json.rs`: OTLP's JSON encoding (`http/json`), written from records.
//! - `otlp_logs.rs`: the program's `tracing` events as OTLP log records ([`otlp_logs::layer`]
//!   for its subscriber) and their exporter.
//! - `otlp_metrics.rs`: the metrics as OTLP (`ExportMetricsServiceRequest`) and the exporter
//!   that sends them every interval and at exit ([`otlp_metrics::MetricsExport`]).
//! - `env.rs`: OpenTelemetry's standard variables ([`TraceSettings`]).
//! - `metrics.rs`: [`MetricsObserver`] (durations, calls in flight), [`metrics::snapshot`] (every
//!   figure at one moment, every server's and pool's own included) and [`metrics::render`]
//!   (Prometheus text).
//! - `stripe.rs`: per-thread stripes for what every call updates (no shared cache line).
//! - `admin.rs`: [`AdminServer`] (`/metrics`, `/healthz`, `/readyz`) and [`Readiness`].
//! - `builtin.rs`: interceptors by name: deadline, retry, call logging, performance monitor.
//! - `component.rs`: all of them as XML classes ([`register`]).
//!
//! ## Turning it on
//! A program calls [`init`] once (the `tether` binary does, in every command): spans are
//! exported when OpenTelemetry's variables ask for it (`OTEL_EXPORTER_OTLP_ENDPOINT`, ...) and
//! flushed when the returned [`Telemetry`] is shut down or dropped. Metrics are on once an
//! [`AdminServer`] is bound, `OTEL_METRICS_EXPORTER=otlp` pushes them (sent once more when the
//! [`Telemetry`] ends), or [`enable_metrics`] is called. With none of these, no interceptor is
//! added anywhere. `OTEL_PROPAGATORS` chooses the formats every wire carries a call's trace and
//! baggage in ([`tether_core::trace::Propagators`]).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod admin;
pub mod builtin;
mod component;
pub mod env;
mod ids;
pub mod metrics;
pub mod otlp;
pub(crate) mod otlp_grpc;
pub mod otlp_json;
pub mod otlp_logs;
pub mod otlp_metrics;
pub mod pipeline;
mod process_observer;
pub mod span;
mod stripe;
pub mod tracing_span;
pub(crate) mod watch;

pub use admin::{AdminServer, Phase, Readiness};
pub use component::{register, AdminObject};
pub use env::TraceSettings;
pub use metrics::MetricsObserver;
pub use pipeline::{BatchSettings, Exporter, MemorySpans, Pipeline};
pub use span::{AttrValue, SpanKind, SpanRecord};
pub use tracing_span::{RootRule, Sampler, TracingInterceptor, TracingObserver};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tether_remoting::observe::{install, CallSite};
use tether_remoting::Interceptor;

static METRICS_ON: AtomicBool = AtomicBool::new(false);
static PIPELINE: Mutex<Option<(Arc<Pipeline>, Sampler)>> = Mutex::new(None);

/// Turns call metrics on for the process (idempotent): every server bound, proxy made and pool
/// built from now on is counted.
pub fn enable_metrics() {
    METRICS_ON.store(true, Ordering::SeqCst);
    install_process_observer();
}

/// Installs the [`ProcessObserver`](process_observer::ProcessObserver) the first time either
/// spans or metrics are turned on.
fn install_process_observer() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if !INSTALLED.swap(true, Ordering::SeqCst) {
        span::clock_base();
        install(Arc::new(process_observer::ProcessObserver));
    }
}

/// The running span pipeline and its sampler, if tracing is on.
fn current_pipeline() -> Option<(Arc<Pipeline>, Sampler)> {
    PIPELINE.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Whether [`enable_metrics`] ran.
pub fn metrics_enabled() -> bool {
    METRICS_ON.load(Ordering::SeqCst)
}

/// The process's span pipeline and metrics exporter, kept until [`Telemetry::shutdown`].
/// Dropping it flushes too.
#[must_use = "spans and metrics are flushed when this is shut down or dropped"]
pub struct Telemetry {
    pipeline: Option<Arc<Pipeline>>,
    metrics: Option<otlp_metrics::MetricsExport>,
    logs: Option<otlp_logs::LogsExport>,
}

impl Telemetry {
    /// Whether spans are being exported.
    pub fn is_tracing(&self) -> bool {
        self.pipeline.is_some()
    }

    /// Whether metrics are being pushed over OTLP.
    pub fn is_exporting_metrics(&self) -> bool {
        self.metrics.is_some()
    }

    /// Exports what is queued and the metrics once more (waiting at most `timeout` for each)
    /// and stops. Returns whether every span and the last metrics left.
    pub fn shutdown(mut self, timeout: Duration) -> bool {
        self.finish(timeout)
    }

    fn finish(&mut self, timeout: Duration) -> bool {
        let spans = self.finish_spans(timeout);
        let metrics = self.metrics.take().is_none_or(|m| m.shutdown(timeout));
        let logs = self.logs.take().is_none_or(|l| l.shutdown(timeout));
        spans && metrics && logs
    }

    fn finish_spans(&mut self, timeout: Duration) -> bool {
        match self.pipeline.take() {
            Some(p) => {
                let ok = p.shutdown(timeout);
                let mut g = PIPELINE.lock().unwrap_or_else(|e| e.into_inner());
                if g.as_ref().is_some_and(|(q, _)| Arc::ptr_eq(q, &p)) {
                    *g = None;
                }
                ok
            }
            None => true,
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        self.finish(Duration::from_secs(5));
    }
}

/// Sets tracing up as OpenTelemetry's variables ask ([`mod@env`]), naming the process `program`
/// when `OTEL_SERVICE_NAME` does not. A variable that cannot be read is logged (WARN, naming
/// it) and tracing stays off.
pub fn init(program: &str) -> Telemetry {
    match TraceSettings::from_env(program) {
        Ok(s) => {
            for u in &s.unsupported {
                tracing::warn!(target: "tether::observe", "{u}");
            }
            init_with(s)
        }
        Err(e) => {
            tracing::warn!(target: "tether::observe", "tracing is off: {e}");
            Telemetry {
                pipeline: None,
                metrics: None,
                logs: None,
            }
        }
    }
}

/// Sets tracing up with `settings` (no pipeline when they export nothing), the formats every
/// wire carries a call's trace and baggage in, and the OTLP metrics export when they ask for
/// it (which turns metrics on).
pub fn init_with(settings: TraceSettings) -> Telemetry {
    tether_core::trace::set_propagators(settings.propagators);
    let metrics =
        settings.metrics.as_ref().and_then(|m| {
            match otlp_metrics::MetricsExport::start(
                m.target.clone(),
                settings.resource.clone(),
                m.interval,
                m.temporality,
            ) {
                Ok(export) => {
                    enable_metrics();
                    Some(export)
                }
                Err(e) => {
                    tracing::warn!(target: "tether::observe", "metrics export is off: {e}");
                    None
                }
            }
        });
    let logs = settings.logs.as_ref().and_then(|l| {
        match otlp_logs::LogsExport::start(
            l.target.clone(),
            settings.resource.clone(),
            l.delay,
            l.max_queue,
            l.max_batch,
        ) {
            Ok(export) => Some(export),
            Err(e) => {
                tracing::warn!(target: "tether::observe", "logs export is off: {e}");
                None
            }
        }
    });
    let mut t = init_spans(settings);
    t.metrics = metrics;
    t.logs = logs;
    t
}

fn init_spans(settings: TraceSettings) -> Telemetry {
    if !settings.enabled() {
        return Telemetry {
            pipeline: None,
            metrics: None,
            logs: None,
        };
    }
    let mut exporters = Vec::new();
    if let Some(t) = settings.otlp.clone() {
        match otlp::OtlpClient::new(t) {
            Ok(c) => exporters.push(Exporter::Otlp(Box::new(c))),
            Err(e) => {
                tracing::warn!(target: "tether::observe", "tracing is off: {e}");
                return Telemetry {
                    pipeline: None,
                    metrics: None,
                    logs: None,
                };
            }
        }
    }
    if settings.console {
        exporters.push(Exporter::Console);
    }
    start(
        exporters,
        settings.resource,
        settings.sampler,
        settings.batch,
    )
}

/// Records spans in memory (tests, and programs that read their own): every call from now on
/// is traced with `sampler`; the spans arrive every `delay` or on flush.
pub fn init_in_memory(sampler: Sampler, delay: Duration) -> (Telemetry, MemorySpans) {
    let mem = MemorySpans::default();
    let t = start(
        vec![Exporter::Memory(mem.clone())],
        vec![(
            "service.name".into(),
            AttrValue::Str("unknown_service:tether".into()),
        )],
        sampler,
        BatchSettings {
            schedule_delay: delay,
            ..BatchSettings::default()
        },
    );
    (t, mem)
}

fn start(
    exporters: Vec<Exporter>,
    resource: Vec<(String, AttrValue)>,
    sampler: Sampler,
    batch: BatchSettings,
) -> Telemetry {
    let pipeline = Pipeline::start(exporters, resource, batch);
    *PIPELINE.lock().unwrap_or_else(|e| e.into_inner()) = Some((pipeline.clone(), sampler));
    install_process_observer();
    Telemetry {
        pipeline: Some(pipeline),
        metrics: None,
        logs: None,
    }
}

/// Exports every queued span now (waiting at most `timeout`); `true` when there is no
/// pipeline.
pub fn flush(timeout: Duration) -> bool {
    let p = PIPELINE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map(|(p, _)| p.clone());
    p.is_none_or(|p| p.flush(timeout))
}

/// A tracing interceptor for a chain of the user's: spans into the process's pipeline, or
/// (without one) only the trace context passed on.
pub(crate) fn local_tracing(site: Arc<CallSite>) -> Arc<dyn Interceptor> {
    match current_pipeline() {
        Some((pipeline, sampler)) => Arc::new(TracingInterceptor::new(pipeline, sampler, site)),
        None => {
            let off = Pipeline::start(Vec::new(), Vec::new(), BatchSettings::default());
            Arc::new(TracingInterceptor::new(off, Sampler::AlwaysOff, site))
        }
    }
}

/// Whether two wire names (`rpc.system`) are the same: they are the wires' own `&'static`
/// constants, so the same address almost always settles it without comparing the text.
#[inline]
pub(crate) fn same_wire(a: &'static str, b: &'static str) -> bool {
    std::ptr::eq(a, b) || a == b
}
