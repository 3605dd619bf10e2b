//! Counters and gauges that servers and pools keep for whoever reads them.
//!
//! A server or a pool registers a [`StatsSource`] (held weakly: dropping the server drops its
//! figures) and bumps plain atomics as it works; nothing is formatted or looked up on the hot
//! path. A metrics endpoint calls [`collect`] when it is scraped and writes what it gets in its
//! own format. [`ServerStats`] is the ready-made source of a server (connections, shedding,
//! refused handshakes, back-pressure).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// Whether a sample only grows or goes up and down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleKind {
    /// A total since the source started.
    Counter,
    /// A level now.
    Gauge,
}

/// One figure of a source.
#[derive(Debug)]
pub struct Sample<'a> {
    /// The metric's name (`tether_server_connections`).
    pub name: &'static str,
    /// One line saying what it counts.
    pub help: &'static str,
    /// Counter or gauge.
    pub kind: SampleKind,
    /// Label names and values.
    pub labels: &'a [(&'static str, &'a str)],
    /// The figure.
    pub value: f64,
}

/// Something that has figures to report.
pub trait StatsSource: Send + Sync + 'static {
    /// Hands each of its samples to `out`.
    fn samples(&self, out: &mut dyn FnMut(Sample<'_>));
}

static SOURCES: Mutex<Vec<Weak<dyn StatsSource>>> = Mutex::new(Vec::new());

/// Adds `source` to what [`collect`] reads, for as long as it lives.
pub fn register(source: Weak<dyn StatsSource>) {
    let mut v = SOURCES.lock().unwrap_or_else(|p| p.into_inner());
    v.retain(|s| s.strong_count() > 0);
    v.push(source);
}

/// Hands every sample of every live source to `out`.
pub fn collect(out: &mut dyn FnMut(Sample<'_>)) {
    let live: Vec<Arc<dyn StatsSource>> = {
        let mut v = SOURCES.lock().unwrap_or_else(|p| p.into_inner());
        v.retain(|s| s.strong_count() > 0);
        v.iter().filter_map(Weak::upgrade).collect()
    };
    for s in live {
        s.samples(out);
    }
}

/// The figures of one server: what its limits did and how many connections it holds.
#[derive(Debug)]
pub struct ServerStats {
    system: &'static str,
    address: String,
    /// Connections open now.
    pub connections: AtomicI64,
    /// Connections accepted since start.
    pub accepted: AtomicU64,
    /// Idle connections closed to make room for new ones.
    pub shed: AtomicU64,
    /// Connections refused (no free worker, connection limit, failed TLS or Pyro handshake).
    pub refused: AtomicU64,
    /// Times a reader waited because replies were not being read (back-pressure).
    pub backpressure: AtomicU64,
}

impl ServerStats {
    /// Figures for the server of `system` (`pyro`, `http`) at `address`, registered with
    /// [`register`].
    pub fn registered(system: &'static str, address: String) -> Arc<ServerStats> {
        let s = Arc::new(ServerStats {
            system,
            address,
            connections: AtomicI64::new(0),
            accepted: AtomicU64::new(0),
            shed: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            backpressure: AtomicU64::new(0),
        });
        let weak: Weak<dyn StatsSource> = Arc::downgrade(&s) as Weak<dyn StatsSource>;
        register(weak);
        s
    }

    /// One connection opened; the guard counts it closed when dropped.
    pub fn open(self: &Arc<Self>) -> ConnectionGuard {
        self.accepted.fetch_add(1, Ordering::Relaxed);
        self.connections.fetch_add(1, Ordering::Relaxed);
        ConnectionGuard(self.clone())
    }

    /// Adds one to `counter` (one of this struct's counters).
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts one open connection of a [`ServerStats`] until dropped.
#[derive(Debug)]
pub struct ConnectionGuard(Arc<ServerStats>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

impl StatsSource for ServerStats {
    fn samples(&self, out: &mut dyn FnMut(Sample<'_>)) {
        let labels = [("server", self.system), ("address", self.address.as_str())];
        let l = &labels[..];
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
        out(Sample {
            name: "tether_server_connections",
            help: "Connections a server holds open now.",
            kind: SampleKind::Gauge,
            labels: l,
            value: self.connections.load(Ordering::Relaxed) as f64,
        });
        for (name, help, v) in [
            (
                "tether_server_connections_accepted_total",
                "Connections a server accepted.",
                &self.accepted,
            ),
            (
                "tether_server_connections_shed_total",
                "Idle connections a server closed to make room for new ones.",
                &self.shed,
            ),
            (
                "tether_server_connections_refused_total",
                "Connections a server refused (limits, failed handshakes).",
                &self.refused,
            ),
            (
                "tether_server_backpressure_total",
                "Times a server stopped reading a connection whose replies were not read.",
                &self.backpressure,
            ),
        ] {
            out(Sample {
                name,
                help,
                kind: SampleKind::Counter,
                labels: l,
                value: load(v),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_source_is_no_longer_read() {
        let s = ServerStats::registered("test", "127.0.0.1:1".into());
        let g = s.open();
        let mut seen = Vec::new();
        collect(&mut |x| {
            if x.labels.iter().any(|(_, v)| *v == "127.0.0.1:1") {
                seen.push((x.name, x.value));
            }
        });
        assert!(seen.contains(&("tether_server_connections", 1.0)));
        drop(g);
        drop(s);
        let mut after = 0;
        collect(&mut |x| {
            if x.labels.iter().any(|(_, v)| *v == "127.0.0.1:1") {
                after += 1;
            }
        });
        assert_eq!(after, 0);
    }
}
