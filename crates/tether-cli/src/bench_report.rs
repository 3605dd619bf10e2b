//! What `tether bench` prints when it is done: the latencies of the successful calls in an HDR
//! histogram (every call counted, 3 significant digits, 1 µs to an hour, a few tens of KB
//! whatever the run's length), and the summary as text (with a text histogram, as ghz prints
//! it), JSON, CSV or a standalone HTML page with the latency chart drawn in SVG.

use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Latencies are recorded in microseconds, 1 µs to an hour (longer ones count as an hour).
pub(crate) fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("constant, valid bounds")
}

/// One endpoint of a pool, as the summary reports it.
pub(crate) struct Endpoint {
    pub url: String,
    pub calls: u64,
    pub failures: u64,
    pub ejections: u64,
    pub ejected: bool,
}

/// Everything a summary says.
pub(crate) struct Summary {
    pub target: String,
    pub method: String,
    pub calls: u64,
    pub errors: BTreeMap<String, u64>,
    pub seconds: f64,
    pub connections: u32,
    pub latency: Histogram<u64>,
    pub endpoints: Vec<Endpoint>,
}

/// The percentiles every format reports.
const PERCENTILES: [(f64, &str); 5] = [
    (50.0, "p50"),
    (90.0, "p90"),
    (99.0, "p99"),
    (99.9, "p99.9"),
    (100.0, "max"),
];

impl Summary {
    fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.calls as f64 / self.seconds
        } else {
            0.0
        }
    }

    pub(crate) fn failed(&self) -> u64 {
        self.errors.values().sum()
    }

    fn at(&self, p: f64) -> u64 {
        if self.latency.is_empty() {
            0
        } else if p >= 100.0 {
            self.latency.max()
        } else {
            self.latency.value_at_quantile(p / 100.0)
        }
    }

    /// Ten buckets of equal width from the fastest to the slowest call: (upper bound, count).
    fn buckets(&self) -> Vec<(u64, u64)> {
        if self.latency.is_empty() {
            return Vec::new();
        }
        let (lo, hi) = (self.latency.min(), self.latency.max());
        let width = ((hi - lo) / 10).max(1);
        let mut out: Vec<(u64, u64)> = (1..=10).map(|i| (lo + width * i, 0)).collect();
        if let Some(last) = out.last_mut() {
            last.0 = last.0.max(hi);
        }
        for v in self.latency.iter_recorded() {
            let value = v.value_iterated_to();
            let i = (((value.saturating_sub(lo)) / width) as usize).min(9);
            out[i].1 += v.count_at_value();
        }
        out
    }

    /// The human summary, with a text histogram.
    pub(crate) fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} calls in {:.2} s on {} connection(s): {:.0} calls/s",
            self.calls,
            self.seconds,
            self.connections,
            self.rate()
        );
        let p: Vec<String> = PERCENTILES
            .iter()
            .map(|(q, name)| format!("{name} {} us", self.at(*q)))
            .collect();
        let _ = writeln!(s, "latency (successful calls): {}", p.join(", "));
        if !self.latency.is_empty() {
            let _ = writeln!(
                s,
                "  min {} us, mean {:.1} us, stdev {:.1} us",
                self.latency.min(),
                self.latency.mean(),
                self.latency.stdev()
            );
            let _ = writeln!(s, "latency histogram (us):");
            let buckets = self.buckets();
            let most = buckets.iter().map(|b| b.1).max().unwrap_or(1).max(1);
            for (le, n) in &buckets {
                let bar = "■".repeat(((n * 40).div_ceil(most)) as usize);
                let _ = writeln!(s, "  {le:>10} [{n}]\t|{bar}");
            }
        }
        if self.errors.is_empty() {
            s.push_str("errors: none\n");
        } else {
            let e: Vec<String> = self
                .errors
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            let _ = writeln!(s, "errors: {}", e.join(", "));
        }
        // Through a pool: the calls, failures and ejections of each endpoint.
        for e in &self.endpoints {
            let _ = writeln!(
                s,
                "endpoint {}: {} calls, {} failures, {} ejections{}",
                e.url,
                e.calls,
                e.failures,
                e.ejections,
                if e.ejected { " (ejected now)" } else { "" }
            );
        }
        s.pop();
        s
    }

    /// One JSON object.
    pub(crate) fn json(&self) -> String {
        let js = |t: &str| crate::call::json(&tether_core::Value::Str(t.to_string()));
        let errors: Vec<String> = self
            .errors
            .iter()
            .map(|(k, n)| format!("{}: {n}", js(k)))
            .collect();
        let buckets: Vec<String> = self
            .buckets()
            .iter()
            .map(|(le, n)| format!("{{\"le_us\": {le}, \"count\": {n}}}"))
            .collect();
        let mut s = format!(
            "{{\"calls\": {}, \"errors\": {{{}}}, \"calls_per_s\": {:.1}, \"p50_us\": {}, \"p90_us\": {}, \"p99_us\": {}, \"p999_us\": {}, \"max_us\": {}, \"min_us\": {}, \"mean_us\": {:.1}, \"histogram\": [{}], \"connections\": {}, \"seconds\": {:.3}",
            self.calls,
            errors.join(", "),
            self.rate(),
            self.at(50.0),
            self.at(90.0),
            self.at(99.0),
            self.at(99.9),
            self.at(100.0),
            if self.latency.is_empty() { 0 } else { self.latency.min() },
            if self.latency.is_empty() { 0.0 } else { self.latency.mean() },
            buckets.join(", "),
            self.connections,
            self.seconds
        );
        if !self.endpoints.is_empty() {
            let eps: Vec<String> = self
                .endpoints
                .iter()
                .map(|e| {
                    format!(
                        "{{\"url\": {}, \"calls\": {}, \"failures\": {}, \"ejections\": {}, \"ejected\": {}}}",
                        js(&e.url),
                        e.calls,
                        e.failures,
                        e.ejections,
                        e.ejected
                    )
                })
                .collect();
            let _ = write!(s, ", \"endpoints\": [{}]", eps.join(", "));
        }
        s.push('}');
        s
    }

    /// A header line and one row.
    pub(crate) fn csv(&self) -> String {
        format!(
            "calls,failed,calls_per_s,p50_us,p90_us,p99_us,max_us,connections,seconds,p999_us,min_us,mean_us\n{},{},{:.1},{},{},{},{},{},{:.3},{},{},{:.1}",
            self.calls,
            self.failed(),
            self.rate(),
            self.at(50.0),
            self.at(90.0),
            self.at(99.0),
            self.at(100.0),
            self.connections,
            self.seconds,
            self.at(99.9),
            if self.latency.is_empty() { 0 } else { self.latency.min() },
            if self.latency.is_empty() { 0.0 } else { self.latency.mean() },
        )
    }

    /// A standalone page: the summary, the percentiles, and the latency histogram as an SVG
    /// bar chart (no script, no external file).
    pub(crate) fn html(&self) -> String {
        let esc = |t: &str| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let mut s = String::new();
        let _ = write!(
            s,
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>tether bench: {m}</title>\n\
             <style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}\
             td,th{{border:1px solid #ccc;padding:4px 10px;text-align:right}}th{{background:#f4f4f4}}</style>\n\
             </head><body>\n<h1>tether bench</h1>\n<p>{t} <code>{m}</code></p>\n",
            m = esc(&self.method),
            t = esc(&self.target)
        );
        let _ = write!(
            s,
            "<table><tr><th>calls</th><th>failed</th><th>calls/s</th><th>connections</th><th>seconds</th></tr>\n\
             <tr><td>{}</td><td>{}</td><td>{:.0}</td><td>{}</td><td>{:.2}</td></tr></table>\n",
            self.calls,
            self.failed(),
            self.rate(),
            self.connections,
            self.seconds
        );
        s.push_str("<h2>Latency of the successful calls (µs)</h2>\n<table><tr>");
        for (_, name) in PERCENTILES {
            let _ = write!(s, "<th>{name}</th>");
        }
        s.push_str("</tr><tr>");
        for (q, _) in PERCENTILES {
            let _ = write!(s, "<td>{}</td>", self.at(q));
        }
        s.push_str("</tr></table>\n");
        s.push_str(&self.svg_histogram());
        if !self.errors.is_empty() {
            s.push_str("<h2>Errors</h2>\n<table>");
            for (k, n) in &self.errors {
                let _ = write!(s, "<tr><th>{}</th><td>{n}</td></tr>", esc(k));
            }
            s.push_str("</table>\n");
        }
        if !self.endpoints.is_empty() {
            s.push_str("<h2>Endpoints</h2>\n<table><tr><th>url</th><th>calls</th><th>failures</th><th>ejections</th></tr>");
            for e in &self.endpoints {
                let _ = write!(
                    s,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&e.url),
                    e.calls,
                    e.failures,
                    e.ejections
                );
            }
            s.push_str("</table>\n");
        }
        s.push_str("</body></html>");
        s
    }

    /// The latency histogram as an SVG bar chart: one bar per bucket, its upper bound under it.
    fn svg_histogram(&self) -> String {
        let buckets = self.buckets();
        let (w, h, left, bottom) = (640.0, 300.0, 60.0, 40.0);
        let mut s = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"latency histogram\">\n"
        );
        let most = buckets.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f64;
        let plot_h = h - bottom - 20.0;
        let bar_w = (w - left - 10.0) / buckets.len().max(1) as f64;
        let _ = writeln!(
            s,
            "<line x1=\"{left}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" stroke=\"#333\"/>",
            y = h - bottom,
            x2 = w - 10.0
        );
        let _ = writeln!(
            s,
            "<text x=\"{x}\" y=\"14\" font-size=\"12\" text-anchor=\"end\">{}</text>",
            most as u64,
            x = left - 6.0
        );
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\">latency, µs (upper bound of each bucket); bars: calls</text>",
            left + (w - left) / 2.0,
            h - 4.0
        );
        for (i, (le, n)) in buckets.iter().enumerate() {
            let bh = plot_h * (*n as f64) / most;
            let x = left + bar_w * i as f64;
            let _ = writeln!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#4a7ebb\"><title>≤ {le} µs: {n} calls</title></rect>",
                x + 2.0,
                h - bottom - bh,
                bar_w - 4.0
            );
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{le}</text>",
                x + bar_w / 2.0,
                h - bottom + 14.0
            );
        }
        s.push_str("</svg>\n");
        s
    }
}
