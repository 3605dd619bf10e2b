//! Metrics: call durations per side, wire, object, method and error type (OpenTelemetry's
//! `rpc.server.call.duration` / `rpc.client.call.duration`, in seconds), calls in flight, and
//! every figure servers and pools keep ([`tether_core::stats`]), written as Prometheus text.
//!
//! Each call site owns its series; a call looks its series up by method under a read lock and
//! adds to atomics. The methods of one site are capped (a client calling random names cannot
//! grow the registry): past [`MAX_METHODS`] they count as `_OTHER`.

use crate::span::error_type;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;
use tether_core::stats::SampleKind;
use tether_core::{BoxFuture, Call, RemoteError, Value};
use tether_remoting::observe::{CallSite, Observer, Side};
use tether_remoting::{Interceptor, Next};

/// Bucket bounds of the duration histograms, in seconds (100 µs to 10 s).
pub const BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Most distinct method names one site keeps series for.
pub const MAX_METHODS: usize = 256;

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, secs: f64, nanos: u64) {
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

/// The series of one method at a site: one per (error type, wire), few enough to scan.
type MethodSeries = Vec<(String, &'static str, Arc<Histogram>)>;

/// The series of one call site.
struct SiteMetrics {
    site: Arc<CallSite>,
    in_flight: AtomicI64,
    series: RwLock<HashMap<String, MethodSeries>>,
}

fn find(list: &MethodSeries, error: &str, system: &'static str) -> Option<Arc<Histogram>> {
    list.iter()
        .find(|(e, s, _)| e == error && *s == system)
        .map(|(_, _, h)| h.clone())
}

impl SiteMetrics {
    /// The histogram of (method, error, wire); looked up by `&str` under a read lock, so a
    /// call allocates nothing once its series exists.
    fn histogram(&self, method: &str, error: &str, system: &'static str) -> Arc<Histogram> {
        {
            let map = self.series.read().unwrap_or_else(|p| p.into_inner());
            if let Some(h) = map.get(method).and_then(|l| find(l, error, system)) {
                return h;
            }
        }
        let mut map = self.series.write().unwrap_or_else(|p| p.into_inner());
        let method = if map.contains_key(method) || map.len() < MAX_METHODS {
            method
        } else {
            "_OTHER"
        };
        let list = map.entry(method.to_string()).or_default();
        if let Some(h) = find(list, error, system) {
            return h;
        }
        let h = Arc::new(Histogram::default());
        list.push((error.to_string(), system, h.clone()));
        h
    }
}

static SITES: Mutex<Vec<Arc<SiteMetrics>>> = Mutex::new(Vec::new());

/// Puts a [`MetricsInterceptor`] at every call site.
#[derive(Default)]
pub struct MetricsObserver;

impl Observer for MetricsObserver {
    fn interceptor(&self, site: &Arc<CallSite>) -> Option<Arc<dyn Interceptor>> {
        Some(Arc::new(MetricsInterceptor::new(site.clone())))
    }
}

/// Counts and times each call at one site.
pub struct MetricsInterceptor {
    metrics: Arc<SiteMetrics>,
}

impl MetricsInterceptor {
    /// Series for calls at `site`, added to what [`render`] writes.
    /// Sites that are the same (two proxies of one URL) share their series, so making
    /// proxies over and over does not grow the registry.
    pub fn new(site: Arc<CallSite>) -> Self {
        let mut sites = SITES.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = sites.iter().find(|m| *m.site == *site) {
            return MetricsInterceptor { metrics: m.clone() };
        }
        let metrics = Arc::new(SiteMetrics {
            site,
            in_flight: AtomicI64::new(0),
            series: RwLock::new(HashMap::new()),
        });
        sites.push(metrics.clone());
        MetricsInterceptor { metrics }
    }
}

struct InFlight<'a>(&'a AtomicI64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Interceptor for MetricsInterceptor {
    fn invoke<'a>(
        &'a self,
        call: Call,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Value, RemoteError>> {
        Box::pin(async move {
            let m = &*self.metrics;
            m.in_flight.fetch_add(1, Ordering::Relaxed);
            let _g = InFlight(&m.in_flight);
            let system = call.context.protocol.unwrap_or(m.site.system);
            let method = call.method.clone();
            let start = Instant::now();
            let r = next.proceed(call).await;
            let took = start.elapsed();
            let err = r.as_ref().err().map(error_type).unwrap_or_default();
            m.histogram(&method, &err, system)
                .observe(took.as_secs_f64(), took.as_nanos() as u64);
            r
        })
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    if inner.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", inner.join(","))
    }
}

fn number(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Every metric of the process in Prometheus' text format (version 0.0.4).
pub fn render() -> String {
    let mut out = String::with_capacity(4096);
    let sites: Vec<Arc<SiteMetrics>> = SITES.lock().unwrap_or_else(|p| p.into_inner()).clone();
    for (side, name, help) in [
        (
            Side::Server,
            "rpc_server_call_duration_seconds",
            "Duration of calls a server ran (OpenTelemetry rpc.server.call.duration).",
        ),
        (
            Side::Client,
            "rpc_client_call_duration_seconds",
            "Duration of calls a client sent, each pool attempt apart (OpenTelemetry rpc.client.call.duration).",
        ),
        (
            Side::Pool,
            "tether_pool_call_duration_seconds",
            "Duration of calls through a pool, retries included.",
        ),
        (
            Side::Local,
            "tether_local_call_duration_seconds",
            "Duration of calls through a metrics interceptor of the user's chain.",
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        // Sites with the same labels (two proxies of one URL) add up into one series.
        type Key = (&'static str, String, String, String);
        let mut merged: BTreeMap<Key, ([u64; BUCKETS.len()], u64, u64)> = BTreeMap::new();
        for s in sites.iter().filter(|s| s.site.side == side) {
            let series = s.series.read().unwrap_or_else(|p| p.into_inner());
            for (method, err, system, h) in series
                .iter()
                .flat_map(|(m, l)| l.iter().map(move |(e, s, h)| (m, e, *s, h)))
            {
                let e = merged
                    .entry((system, s.site.service.clone(), method.clone(), err.clone()))
                    .or_insert(([0; BUCKETS.len()], 0, 0));
                for (i, b) in h.buckets.iter().enumerate() {
                    e.0[i] += b.load(Ordering::Relaxed);
                }
                e.1 += h.count.load(Ordering::Relaxed);
                e.2 += h.sum_nanos.load(Ordering::Relaxed);
            }
        }
        for ((system, service, method, err), (buckets, count, sum)) in merged {
            let base = [
                ("rpc_system", system),
                ("rpc_service", service.as_str()),
                ("rpc_method", method.as_str()),
                ("error_type", err.as_str()),
            ];
            let mut cumulative = 0;
            for (i, b) in BUCKETS.iter().enumerate() {
                cumulative += buckets[i];
                let le = number(*b);
                let mut l = base.to_vec();
                l.push(("le", &le));
                let _ = writeln!(out, "{name}_bucket{} {cumulative}", labels(&l));
            }
            let mut l = base.to_vec();
            l.push(("le", "+Inf"));
            let _ = writeln!(out, "{name}_bucket{} {count}", labels(&l));
            let _ = writeln!(out, "{name}_sum{} {}", labels(&base), sum as f64 / 1e9);
            let _ = writeln!(out, "{name}_count{} {count}", labels(&base));
        }
    }
    let name = "tether_rpc_calls_in_flight";
    let _ = writeln!(
        out,
        "# HELP {name} Calls started and not yet finished, per side and object.\n# TYPE {name} gauge"
    );
    let mut gauges: BTreeMap<String, i64> = BTreeMap::new();
    for s in &sites {
        let side = match s.site.side {
            Side::Server => "server",
            Side::Client => "client",
            Side::Pool => "pool",
            Side::Local => "local",
        };
        let l = labels(&[
            ("side", side),
            ("rpc_system", s.site.system),
            ("rpc_service", &s.site.service),
        ]);
        *gauges.entry(l).or_default() += s.in_flight.load(Ordering::Relaxed);
    }
    for (l, v) in gauges {
        let _ = writeln!(out, "{name}{l} {v}");
    }
    // Servers' and pools' own figures, grouped by name.
    let mut families: BTreeMap<&'static str, (&'static str, SampleKind, Vec<String>)> =
        BTreeMap::new();
    tether_core::stats::collect(&mut |s| {
        let e = families
            .entry(s.name)
            .or_insert_with(|| (s.help, s.kind, Vec::new()));
        e.2.push(format!(
            "{}{} {}",
            s.name,
            labels(s.labels),
            number(s.value)
        ));
    });
    for (name, (help, kind, lines)) in families {
        let t = match kind {
            SampleKind::Counter => "counter",
            SampleKind::Gauge => "gauge",
        };
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {t}");
        for l in lines {
            let _ = writeln!(out, "{l}");
        }
    }
    out
}
