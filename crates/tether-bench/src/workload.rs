//! What one client run measures, and how its result travels back to the orchestrator.
//!
//! Every client (Rust or Python) runs one [`Workload`] against one server and prints exactly one
//! `RESULT ...` line on stdout; the orchestrator parses it with [`Measurement::parse`]. Keeping
//! the format to plain `key=value` pairs lets the Python peer script print the same line.

use std::fmt;
use std::time::Duration;

/// The three rows of the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Workload {
    /// One connection, one small echo call at a time: calls/s and per-call p50/p99.
    Seq,
    /// Many connections (one client each) calling at once: aggregate calls/s.
    Conc,
    /// One connection echoing a 1 MiB byte string: median round trip.
    Big,
}

impl Workload {
    /// All rows, in the order they are run and printed.
    pub const ALL: [Workload; 3] = [Workload::Seq, Workload::Conc, Workload::Big];

    /// The name used on the command line of the client subcommand.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Seq => "seq",
            Workload::Conc => "conc",
            Workload::Big => "big",
        }
    }

    /// Parses [`Workload::name`] back.
    pub fn parse(s: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == s)
    }
}

/// The small echo argument: a short string, like Pyro5's own echo examples send.
pub const SMALL_ARG: &str = "hello, tether";

/// Size of the raw-TCP request and reply for the small row, chosen to match a Pyro5 msgpack
/// INVOKE frame of `echo("hello, tether")` (40-byte header plus ~35 bytes of payload), so the
/// raw baseline moves as many bytes as the RPC rows do.
pub const RAW_SMALL_SIZE: usize = 76;

/// The big row's payload size: 1 MiB.
pub const BIG_SIZE: usize = 1 << 20;

/// Upper bound on any frame the raw and tarpc servers accept (a decoder without a limit is a
/// memory bomb, even in a benchmark).
pub const MAX_FRAME: usize = 16 << 20;

/// Knobs for one client run.
#[derive(Clone, Debug)]
pub struct ClientOpts {
    /// `host:port` of the server.
    pub addr: String,
    /// Which row.
    pub workload: Workload,
    /// Measuring time.
    pub secs: Duration,
    /// Warm-up time before measuring (connections are made before it).
    pub warmup: Duration,
    /// Connections for [`Workload::Conc`].
    pub conns: usize,
}

/// Most calls one sequential run records (bounds the latency vector).
pub const MAX_SEQ_CALLS: usize = 2_000_000;
/// Most calls one big-echo run makes.
pub const MAX_BIG_CALLS: usize = 400;
/// Fewest calls one big-echo run makes, even past its time (a median of 1 is no median).
pub const MIN_BIG_CALLS: usize = 5;

/// What a client run reports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Measurement {
    /// Calls completed while measuring.
    pub calls: u64,
    /// Seconds spent measuring.
    pub secs: f64,
    /// Median per-call latency, µs (Seq and Big).
    pub p50_us: f64,
    /// 99th percentile per-call latency, µs (Seq and Big).
    pub p99_us: f64,
    /// The server process's CPU time per call, µs (0: not measured); set by the orchestrator.
    pub server_cpu_us: f64,
}

impl Measurement {
    /// Calls per second.
    pub fn rate(&self) -> f64 {
        if self.secs > 0.0 {
            self.calls as f64 / self.secs
        } else {
            0.0
        }
    }

    /// Builds a measurement from per-call latencies in nanoseconds.
    pub fn from_latencies(mut lat_ns: Vec<u64>, secs: f64) -> Measurement {
        lat_ns.sort_unstable();
        let pct = |p: f64| -> f64 {
            if lat_ns.is_empty() {
                return 0.0;
            }
            let i = ((lat_ns.len() as f64 - 1.0) * p).round() as usize;
            lat_ns[i.min(lat_ns.len() - 1)] as f64 / 1000.0
        };
        Measurement {
            calls: lat_ns.len() as u64,
            secs,
            p50_us: pct(0.50),
            p99_us: pct(0.99),
            server_cpu_us: 0.0,
        }
    }

    /// The median of several rounds of one cell: median rate (as `calls` per one second),
    /// median p50 and median p99, each taken on its own.
    pub fn median_of(ms: &[Measurement]) -> Measurement {
        Measurement {
            calls: median(ms.iter().map(Measurement::rate).collect()).round() as u64,
            secs: 1.0,
            p50_us: median(ms.iter().map(|m| m.p50_us).collect()),
            p99_us: median(ms.iter().map(|m| m.p99_us).collect()),
            server_cpu_us: median(
                ms.iter()
                    .map(|m| m.server_cpu_us)
                    .filter(|c| *c > 0.0)
                    .collect(),
            ),
        }
    }

    /// Parses a `RESULT calls=.. secs=.. p50_us=.. p99_us=..` line.
    pub fn parse(line: &str) -> Option<Measurement> {
        let rest = line.trim().strip_prefix("RESULT")?;
        let mut m = Measurement::default();
        for kv in rest.split_whitespace() {
            let (k, v) = kv.split_once('=')?;
            match k {
                "calls" => m.calls = v.parse().ok()?,
                "secs" => m.secs = v.parse().ok()?,
                "p50_us" => m.p50_us = v.parse().ok()?,
                "p99_us" => m.p99_us = v.parse().ok()?,
                _ => {}
            }
        }
        Some(m)
    }
}

impl fmt::Display for Measurement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RESULT calls={} secs={:.6} p50_us={:.3} p99_us={:.3}",
            self.calls, self.secs, self.p50_us, self.p99_us
        )
    }
}

/// The median of some figures (the mean of the middle two for an even count; 0 for none):
/// every table of the bench reports rounds this way.
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_line_round_trips() {
        let m = Measurement::from_latencies(vec![5_000, 1_000, 3_000, 2_000, 4_000], 0.5);
        assert_eq!(m.calls, 5);
        assert_eq!(m.p50_us, 3.0);
        assert_eq!(Measurement::parse(&m.to_string()), Some(m));
        assert_eq!(Measurement::parse("garbage"), None);
        assert_eq!(Measurement::parse("RESULT calls=x"), None);
    }

    #[test]
    fn median_of_rounds() {
        let r = |calls, p50_us| Measurement {
            calls,
            secs: 2.0,
            p50_us,
            p99_us: p50_us * 2.0,
            server_cpu_us: 0.0,
        };
        let m = Measurement::median_of(&[r(100, 9.0), r(300, 1.0), r(200, 5.0)]);
        assert_eq!((m.rate(), m.p50_us, m.p99_us), (100.0, 5.0, 10.0));
    }
}
