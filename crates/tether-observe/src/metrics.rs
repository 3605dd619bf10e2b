//! Metrics: call durations per side, wire, object, method and error type (OpenTelemetry's
//! `rpc.server.call.duration` / `rpc.client.call.duration`, in seconds), calls in flight, and
//! every figure servers and pools keep ([`tether_core::stats`]), written as Prometheus text.
//!
//! Each call site owns its series; a call finds its series in a small per-thread cache (on a
//! miss, by method under a read lock) and adds to atomics in its thread's stripe, so the
//! workers of a busy server share no cache line per call. The methods of one site are capped
//! (a client calling random names cannot grow the registry): past [`MAX_METHODS`] they count
//! as `_OTHER`, and so do a method's error types past [`MAX_ERRORS`].

use crate::span::error_type;
use crate::stripe::{self, Padded, STRIPES};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tether_core::stats::SampleKind;
use tether_core::{BoxFuture, Call, RemoteError, Value};
use tether_remoting::observe::{CallSite, Side};
use tether_remoting::{Interceptor, Next};

/// Bucket bounds of the duration histograms, in seconds (100 µs to 10 s).
pub const BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// [`BUCKETS`] in nanoseconds (what a call's duration is compared with).
const BUCKET_NANOS: [u64; BUCKETS.len()] = {
    let mut n = [0u64; BUCKETS.len()];
    let mut i = 0;
    while i < BUCKETS.len() {
        n[i] = (BUCKETS[i] * 1e9 + 0.5) as u64;
        i += 1;
    }
    n
};

/// Most distinct method names one site keeps series for.
pub const MAX_METHODS: usize = 256;

/// Most distinct error types one method of a site keeps series for (a peer choosing
/// exception names cannot grow the registry either): past it they count as `_OTHER`.
pub const MAX_ERRORS: usize = 32;

/// One stripe's counts: a count per bucket and one past the last (their total is the count
/// of calls, so a call adds to two counters, not three), and the sum of durations.
#[derive(Default)]
struct HistogramStripe {
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

/// A duration histogram, in [stripes](crate::stripe).
#[derive(Default)]
pub(crate) struct Histogram {
    stripes: [Padded<HistogramStripe>; STRIPES],
}

impl Histogram {
    fn observe(&self, nanos: u64) {
        let me = stripe::mine();
        let s = &self.stripes[me.index].0;
        let i = BUCKET_NANOS
            .iter()
            .position(|b| nanos <= *b)
            .unwrap_or(BUCKETS.len());
        me.add(&s.buckets[i], 1);
        me.add(&s.sum_nanos, nanos);
    }

    /// Per-bucket counts, count and sum of every stripe.
    fn totals(&self) -> ([u64; BUCKETS.len()], u64, u64) {
        let mut t = ([0; BUCKETS.len()], 0, 0);
        for Padded(s) in &self.stripes {
            for (i, b) in s.buckets.iter().enumerate() {
                let n = b.load(Ordering::Relaxed);
                if let Some(c) = t.0.get_mut(i) {
                    *c += n;
                }
                t.1 += n;
            }
            t.2 += s.sum_nanos.load(Ordering::Relaxed);
        }
        t
    }
}

/// A gauge in stripes (a call may end on another thread than it started: only the sum means
/// anything).
#[derive(Default)]
struct Gauge([Padded<AtomicI64>; STRIPES]);

impl Gauge {
    fn add(&self, v: i64) {
        let me = stripe::mine();
        me.add_signed(&self.0[me.index].0, v);
    }
    fn get(&self) -> i64 {
        self.0.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
    }
}

/// The series of one method at a site: one per (error type, wire), few enough to scan.
/// Series live as long as the process (like the site that holds them), so calls hold them by
/// `&'static` and count without touching a reference count.
struct MethodSeries {
    /// The method's name, kept once.
    name: &'static str,
    series: Vec<(String, &'static str, &'static Histogram)>,
}

impl MethodSeries {
    fn find(&self, error: &str, system: &'static str) -> Option<&'static Histogram> {
        self.series
            .iter()
            .find(|(e, s, _)| e == error && *s == system)
            .map(|(_, _, h)| *h)
    }
}

/// The series of one call site.
struct SiteMetrics {
    site: Arc<CallSite>,
    in_flight: Gauge,
    series: RwLock<HashMap<&'static str, MethodSeries>>,
    /// The first method counted here under its own name, with its wire and histogram: most
    /// sites are called for one method above all, which is then found without a look into
    /// the thread's cache (set once, read by every thread without writing its cache line).
    first: std::sync::OnceLock<Cached>,
}

impl SiteMetrics {
    /// The histogram of (method, error, wire) and the method's name as counted (`_OTHER` past
    /// [`MAX_METHODS`]). Made on first use; a call normally finds it in [`CACHE`] instead.
    fn histogram(
        &self,
        method: &str,
        error: &str,
        system: &'static str,
    ) -> (&'static str, &'static Histogram) {
        {
            let map = self.series.read().unwrap_or_else(|p| p.into_inner());
            if let Some(m) = map.get(method) {
                if let Some(h) = m.find(error, system) {
                    return (m.name, h);
                }
            }
        }
        let mut map = self.series.write().unwrap_or_else(|p| p.into_inner());
        let method = if map.contains_key(method) || map.len() < MAX_METHODS {
            method
        } else {
            "_OTHER"
        };
        let m = match map.get_mut(method) {
            Some(m) => m,
            None => {
                let name: &'static str = Box::leak(method.to_string().into_boxed_str());
                map.entry(name).or_insert(MethodSeries {
                    name,
                    series: Vec::new(),
                })
            }
        };
        if let Some(h) = m.find(error, system) {
            return (m.name, h);
        }
        let error = if m.series.len() < MAX_ERRORS || error.is_empty() {
            error
        } else {
            "_OTHER"
        };
        if let Some(h) = m.find(error, system) {
            return (m.name, h);
        }
        let h: &'static Histogram = Box::leak(Box::default());
        m.series.push((error.to_string(), system, h));
        (m.name, h)
    }
}

/// A successful call's series, as this thread last found it: (site, wire, method) → (the
/// method's name as counted, its histogram). Small and scanned: a thread serves few methods.
struct Cached {
    site: usize,
    system: &'static str,
    name: &'static str,
    histogram: &'static Histogram,
}

const CACHE_SIZE: usize = 32;

thread_local! {
    static CACHE: std::cell::RefCell<(Vec<Cached>, usize)> =
        const { std::cell::RefCell::new((Vec::new(), 0)) };
}

impl SiteMetrics {
    /// [`SiteMetrics::histogram`] of a call that did not fail, through this thread's cache.
    /// Also says whether the name as counted is `method` itself (not `_OTHER`).
    fn ok_series(
        &self,
        method: &str,
        system: &'static str,
    ) -> (&'static str, &'static Histogram, bool) {
        if let Some(f) = self.first.get() {
            if crate::same_wire(f.system, system) && f.name == method {
                return (f.name, f.histogram, true);
            }
        }
        let me = self as *const SiteMetrics as usize;
        let hit = CACHE.with(|c| {
            c.borrow()
                .0
                .iter()
                .find(|e| e.site == me && crate::same_wire(e.system, system) && e.name == method)
                .map(|e| (e.name, e.histogram, true))
        });
        if let Some(hit) = hit {
            return hit;
        }
        let (name, histogram) = self.histogram(method, "", system);
        let exact = name == method;
        if exact {
            let _ = self.first.set(Cached {
                site: me,
                system,
                name,
                histogram,
            });
            CACHE.with(|c| {
                let (list, next) = &mut *c.borrow_mut();
                let e = Cached {
                    site: me,
                    system,
                    name,
                    histogram,
                };
                if list.len() < CACHE_SIZE {
                    list.push(e);
                } else {
                    list[*next] = e;
                    *next = (*next + 1) % CACHE_SIZE;
                }
            });
        }
        (name, histogram, exact)
    }
}

static SITES: Mutex<Vec<Arc<SiteMetrics>>> = Mutex::new(Vec::new());

/// Puts a [`MetricsInterceptor`] at every call site.
#[derive(Default)]
pub struct MetricsObserver;

/// Counts and times each call at one site.
pub struct MetricsInterceptor {
    metrics: Arc<SiteMetrics>,
}

impl MetricsInterceptor {
    /// Series for calls at `site`, added to what [`render`] writes.
    /// Sites that are the same (two proxies of one URL) share their series, so making
    /// proxies over and over does not grow the registry.
    pub fn new(site: Arc<CallSite>) -> Self {
        crate::span::clock_base();
        let mut sites = SITES.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = sites.iter().find(|m| *m.site == *site) {
            return MetricsInterceptor { metrics: m.clone() };
        }
        let metrics = Arc::new(SiteMetrics {
            site,
            in_flight: Gauge::default(),
            series: RwLock::new(HashMap::new()),
            first: std::sync::OnceLock::new(),
        });
        sites.push(metrics.clone());
        MetricsInterceptor { metrics }
    }
}

/// A call counted in flight until it is dropped (a call cut short still leaves the gauge).
pub(crate) struct InFlight<'a>(&'a Gauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.add(-1);
    }
}

/// A call begun: what [`MetricsInterceptor::finish`] needs once it has run.
pub(crate) struct CallStart<'a> {
    _in_flight: InFlight<'a>,
    method: &'static str,
    /// Whether `method` is the call's own name (not `_OTHER`).
    exact: bool,
    system: &'static str,
    ok: &'static Histogram,
}

impl CallStart<'_> {
    /// The call's method name, kept for the process's life, unless it is counted as
    /// `_OTHER` (past the cap).
    pub(crate) fn own_name(&self) -> Option<&'static str> {
        self.exact.then_some(self.method)
    }
}

impl MetricsInterceptor {
    /// Counts the call in flight and finds its series (before the call is consumed: a
    /// success then counts without a lookup, and a failure finds its series by the name
    /// kept here).
    pub(crate) fn begin(&self, call: &Call) -> CallStart<'_> {
        let m = &*self.metrics;
        let system = call.context.protocol.unwrap_or(m.site.system);
        let (method, ok, exact) = m.ok_series(&call.method, system);
        m.in_flight.add(1);
        CallStart {
            _in_flight: InFlight(&m.in_flight),
            method,
            exact,
            system,
            ok,
        }
    }

    /// Adds a call that took `took` and failed with `failure`, if it did.
    pub(crate) fn finish(
        &self,
        call: CallStart<'_>,
        took: Duration,
        failure: Option<&RemoteError>,
    ) {
        let h = match failure {
            None => call.ok,
            Some(e) => {
                self.metrics
                    .histogram(call.method, &error_type(e), call.system)
                    .1
            }
        };
        h.observe(took.as_nanos() as u64);
    }
}

impl Interceptor for MetricsInterceptor {
    fn invoke<'a>(
        &'a self,
        call: Call,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Value, RemoteError>> {
        let begun = self.begin(&call);
        let start = crate::span::call_now();
        // The rest of the chain is started here, so this future holds only what it needs
        // afterwards (not the call: moving a large future into its box costs per call).
        let rest = next.proceed(call);
        Box::pin(async move {
            let r = rest.await;
            self.finish(
                begun,
                crate::span::call_now().saturating_duration_since(start),
                r.as_ref().err(),
            );
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

/// One duration histogram's family: its names and its series.
#[derive(Clone, Debug)]
pub struct HistogramFamily {
    /// The Prometheus name (`rpc_server_call_duration_seconds`).
    pub prometheus_name: &'static str,
    /// OpenTelemetry's name (`rpc.server.call.duration`), in seconds.
    pub otel_name: &'static str,
    /// What it measures.
    pub help: &'static str,
    /// One series per wire, object, method and error type (sites with the same labels added
    /// up), in label order.
    pub series: Vec<HistogramSeries>,
}

/// One series of a duration histogram, its figures since the process began counting.
#[derive(Clone, Debug, PartialEq)]
pub struct HistogramSeries {
    /// `rpc.system`.
    pub system: &'static str,
    /// `rpc.service`.
    pub service: String,
    /// `rpc.method`.
    pub method: String,
    /// `error.type` (empty: the call succeeded).
    pub error_type: String,
    /// Calls per bucket of [`BUCKETS`] (not cumulative); calls over the last bound are
    /// `count` minus their sum.
    pub buckets: [u64; BUCKETS.len()],
    /// Calls.
    pub count: u64,
    /// Their durations' sum, in nanoseconds.
    pub sum_nanos: u64,
}

/// Calls in flight at one side of one object.
#[derive(Clone, Debug, PartialEq)]
pub struct InFlightSeries {
    /// `server`, `client`, `pool` or `local`.
    pub side: &'static str,
    /// `rpc.system`.
    pub system: &'static str,
    /// `rpc.service`.
    pub service: String,
    /// Calls started and not finished.
    pub value: i64,
}

/// One figure a server or pool reports ([`tether_core::stats`]), owned.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// Its name (`tether_server_connections`).
    pub name: &'static str,
    /// What it counts.
    pub help: &'static str,
    /// Counter or gauge.
    pub kind: SampleKind,
    /// Its labels.
    pub labels: Vec<(&'static str, String)>,
    /// The value.
    pub value: f64,
}

/// Every metric of the process at one moment: what `/metrics` writes as Prometheus text and
/// the OTLP metrics exporter sends.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The duration histograms (server, client, pool, local), each family even when empty.
    pub histograms: Vec<HistogramFamily>,
    /// Calls in flight, by side, wire and object (sites with the same labels added up).
    pub in_flight: Vec<InFlightSeries>,
    /// The servers' and pools' own figures, grouped by name.
    pub figures: Vec<Figure>,
}

/// The metrics of the process now.
pub fn snapshot() -> Snapshot {
    let sites: Vec<Arc<SiteMetrics>> = SITES.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let mut snap = Snapshot::default();
    for (side, prometheus_name, otel_name, help) in [
        (
            Side::Server,
            "rpc_server_call_duration_seconds",
            "rpc.server.call.duration",
            "Duration of calls a server ran (OpenTelemetry rpc.server.call.duration).",
        ),
        (
            Side::Client,
            "rpc_client_call_duration_seconds",
            "rpc.client.call.duration",
            "Duration of calls a client sent, each pool attempt apart (OpenTelemetry rpc.client.call.duration).",
        ),
        (
            Side::Pool,
            "tether_pool_call_duration_seconds",
            "tether.pool.call.duration",
            "Duration of calls through a pool, retries included.",
        ),
        (
            Side::Local,
            "tether_local_call_duration_seconds",
            "tether.local.call.duration",
            "Duration of calls through a metrics interceptor of the user's chain.",
        ),
    ] {
        // Sites with the same labels (two proxies of one URL) add up into one series.
        type Key = (&'static str, String, String, String);
        let mut merged: BTreeMap<Key, ([u64; BUCKETS.len()], u64, u64)> = BTreeMap::new();
        for s in sites.iter().filter(|s| s.site.side == side) {
            let series = s.series.read().unwrap_or_else(|p| p.into_inner());
            for (method, err, system, h) in series.values().flat_map(|m| {
                m.series
                    .iter()
                    .map(move |(e, s, h)| (m.name, e, *s, *h))
            }) {
                let e = merged
                    .entry((
                        system,
                        s.site.service.clone(),
                        method.to_string(),
                        err.clone(),
                    ))
                    .or_insert(([0; BUCKETS.len()], 0, 0));
                let (buckets, count, sum) = h.totals();
                for (i, b) in buckets.iter().enumerate() {
                    e.0[i] += b;
                }
                e.1 += count;
                e.2 += sum;
            }
        }
        snap.histograms.push(HistogramFamily {
            prometheus_name,
            otel_name,
            help,
            series: merged
                .into_iter()
                .map(
                    |((system, service, method, error_type), (buckets, count, sum_nanos))| {
                        HistogramSeries {
                            system,
                            service,
                            method,
                            error_type,
                            buckets,
                            count,
                            sum_nanos,
                        }
                    },
                )
                .collect(),
        });
    }
    let mut gauges: BTreeMap<(&'static str, &'static str, String), i64> = BTreeMap::new();
    for s in &sites {
        let side = match s.site.side {
            Side::Server => "server",
            Side::Client => "client",
            Side::Pool => "pool",
            Side::Local => "local",
        };
        *gauges
            .entry((side, s.site.system, s.site.service.clone()))
            .or_default() += s.in_flight.get();
    }
    snap.in_flight = gauges
        .into_iter()
        .map(|((side, system, service), value)| InFlightSeries {
            side,
            system,
            service,
            value,
        })
        .collect();
    let mut figures: Vec<Figure> = Vec::new();
    tether_core::stats::collect(&mut |s| {
        figures.push(Figure {
            name: s.name,
            help: s.help,
            kind: s.kind,
            labels: s.labels.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            value: s.value,
        });
    });
    // Grouped by name, each name's figures in the order they came.
    figures.sort_by_key(|f| f.name);
    snap.figures = figures;
    snap
}

/// Every metric of the process in Prometheus' text format (version 0.0.4).
pub fn render() -> String {
    render_snapshot(&snapshot())
}

/// `snap` in Prometheus' text format.
pub fn render_snapshot(snap: &Snapshot) -> String {
    let mut out = String::with_capacity(4096);
    for family in &snap.histograms {
        let (name, help) = (family.prometheus_name, family.help);
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for s in &family.series {
            let base = [
                ("rpc_system", s.system),
                ("rpc_service", s.service.as_str()),
                ("rpc_method", s.method.as_str()),
                ("error_type", s.error_type.as_str()),
            ];
            let mut cumulative = 0;
            for (i, b) in BUCKETS.iter().enumerate() {
                cumulative += s.buckets[i];
                let le = number(*b);
                let mut l = base.to_vec();
                l.push(("le", &le));
                let _ = writeln!(out, "{name}_bucket{} {cumulative}", labels(&l));
            }
            let mut l = base.to_vec();
            l.push(("le", "+Inf"));
            let _ = writeln!(out, "{name}_bucket{} {}", labels(&l), s.count);
            let _ = writeln!(
                out,
                "{name}_sum{} {}",
                labels(&base),
                s.sum_nanos as f64 / 1e9
            );
            let _ = writeln!(out, "{name}_count{} {}", labels(&base), s.count);
        }
    }
    let name = "tether_rpc_calls_in_flight";
    let _ = writeln!(
        out,
        "# HELP {name} Calls started and not yet finished, per side and object.\n# TYPE {name} gauge"
    );
    for g in &snap.in_flight {
        let l = labels(&[
            ("side", g.side),
            ("rpc_system", g.system),
            ("rpc_service", &g.service),
        ]);
        let _ = writeln!(out, "{name}{l} {}", g.value);
    }
    let mut last = "";
    for f in &snap.figures {
        if f.name != last {
            let t = match f.kind {
                SampleKind::Counter => "counter",
                SampleKind::Gauge => "gauge",
            };
            let _ = writeln!(out, "# HELP {} {}\n# TYPE {} {t}", f.name, f.help, f.name);
            last = f.name;
        }
        let l: Vec<(&str, &str)> = f.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let _ = writeln!(out, "{}{} {}", f.name, labels(&l), number(f.value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duration_lands_in_the_bucket_prometheus_means() {
        assert_eq!(BUCKET_NANOS[0], 100_000);
        assert_eq!(BUCKET_NANOS[4], 2_500_000);
        assert_eq!(BUCKET_NANOS[15], 10_000_000_000);
        let h = Histogram::default();
        // On a bound counts in it (`le`), one nanosecond past goes to the next.
        for n in [100_000, 100_001, 2_500_000, 10_000_000_001] {
            h.observe(n);
        }
        let (buckets, count, sum) = h.totals();
        assert_eq!((buckets[0], buckets[1], buckets[4]), (1, 1, 1));
        assert_eq!(buckets.iter().sum::<u64>(), 3, "one past the last bound");
        assert_eq!((count, sum), (4, 10_002_700_002));
    }

    /// The site's first method is found without the thread's cache; the others, and the same
    /// method over another wire, still get series of their own.
    #[test]
    fn each_method_and_wire_keeps_its_own_series() {
        let site = Arc::new(CallSite::server(
            "pyro5",
            "series-apart",
            "127.0.0.1:1".parse().expect("addr"),
        ));
        let m = MetricsInterceptor::new(site).metrics;
        let calls = [("first", "pyro5"), ("second", "pyro5"), ("first", "pyro4")];
        let mut seen = Vec::new();
        for _ in 0..3 {
            for (method, wire) in calls {
                let (name, h, exact) = m.ok_series(method, wire);
                assert_eq!((name, exact), (method, true));
                h.observe(1);
                seen.push((method, wire, h as *const Histogram));
            }
        }
        for (method, wire, h) in &seen {
            let same: Vec<_> = seen
                .iter()
                .filter(|(m2, w2, _)| (m2, w2) == (method, wire))
                .map(|(_, _, h2)| *h2)
                .collect();
            assert!(same.iter().all(|h2| h2 == h), "{method} over {wire}");
            let other = seen
                .iter()
                .filter(|(m2, w2, _)| (m2, w2) != (method, wire))
                .all(|(_, _, h2)| h2 != h);
            assert!(other, "{method} over {wire} shares a series");
        }
        let (_, h, _) = m.ok_series("first", "pyro5");
        assert_eq!(h.totals().1, 3);
    }
}
