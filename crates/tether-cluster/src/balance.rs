//! Which live endpoint takes a call.

use crate::endpoint::Endpoint;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tether_core::Call;

/// A balancing policy.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Balance {
    /// Each endpoint in turn (the default).
    #[default]
    RoundRobin,
    /// At random, in proportion to each endpoint's weight (default 1).
    WeightedRandom,
    /// The less busy of two endpoints picked at random (the power of two choices over calls
    /// in flight): the least-loaded spread without scanning every endpoint.
    LeastActive,
    /// The same argument value goes to the same endpoint while the membership lasts, and
    /// only the keys of a leaving endpoint move (a hash ring, 160 points per endpoint).
    ConsistentHash {
        /// Which positional argument is the key (0 = the first).
        arg: usize,
    },
}

impl Balance {
    /// Parses `round_robin`, `weighted_random`, `least_active`, `consistent_hash` (key: the
    /// first argument) or `consistent_hash:N`.
    pub fn parse(s: &str) -> Option<Balance> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        Some(match s.as_str() {
            "round_robin" | "roundrobin" => Balance::RoundRobin,
            "weighted_random" | "random" => Balance::WeightedRandom,
            "least_active" | "p2c" | "leastactive" => Balance::LeastActive,
            "consistent_hash" => Balance::ConsistentHash { arg: 0 },
            other => match other.strip_prefix("consistent_hash:") {
                Some(n) => Balance::ConsistentHash {
                    arg: n.parse().ok()?,
                },
                None => return None,
            },
        })
    }
}

/// A hash ring: the live URLs it was built from, and its sorted (point, URL index) pairs.
type Ring = (Vec<String>, Vec<(u64, usize)>);

/// The balancer's state.
pub(crate) struct Balancer {
    pub policy: Balance,
    next: AtomicUsize,
    rng: AtomicU64,
    /// The hash ring of the last live set: its URLs and the sorted (point, URL index) pairs.
    ring: std::sync::Mutex<Ring>,
}

/// FNV-1a: a stable hash (the same in every process and run).
pub(crate) fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // FNV alone clusters on short keys; a final mix spreads them over the ring.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

impl Balancer {
    pub fn new(policy: Balance) -> Balancer {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15)
            | 1;
        Balancer {
            policy,
            next: AtomicUsize::new(0),
            rng: AtomicU64::new(seed),
            ring: std::sync::Mutex::new((Vec::new(), Vec::new())),
        }
    }

    /// A pseudo-random number (xorshift; good enough to spread calls).
    fn random(&self) -> u64 {
        let mut x = self.rng.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.store(x, Ordering::Relaxed);
        x
    }

    /// Picks one of `live` (not empty) for `call`.
    pub fn pick(&self, live: &[Arc<Endpoint>], call: &Call) -> usize {
        let n = live.len();
        if n == 1 {
            return 0;
        }
        match &self.policy {
            Balance::RoundRobin => self.next.fetch_add(1, Ordering::Relaxed) % n,
            Balance::WeightedRandom => {
                let total: u64 = live.iter().map(|e| e.weight as u64).sum();
                let mut r = self.random() % total.max(1);
                for (i, e) in live.iter().enumerate() {
                    if r < e.weight as u64 {
                        return i;
                    }
                    r -= e.weight as u64;
                }
                n - 1
            }
            Balance::LeastActive => {
                let a = (self.random() % n as u64) as usize;
                let mut b = (self.random() % (n as u64 - 1)) as usize;
                if b >= a {
                    b += 1;
                }
                let load = |i: usize| live[i].active.load(Ordering::Relaxed);
                if load(b) < load(a) {
                    b
                } else {
                    a
                }
            }
            Balance::ConsistentHash { arg } => {
                let key = call
                    .args
                    .get(*arg)
                    .map(tether_core::python::repr)
                    .unwrap_or_default();
                let k = fnv(key.as_bytes());
                // The ring: 160 points per endpoint; the key goes to the first point at or
                // after its hash (wrapping). Rebuilt when the live set changes, so an ejected
                // endpoint's keys move to their neighbours and come back when it does.
                let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
                if ring.0.len() != n || ring.0.iter().zip(live).any(|(u, e)| *u != e.url) {
                    let mut points: Vec<(u64, usize)> = live
                        .iter()
                        .enumerate()
                        .flat_map(|(i, e)| {
                            (0..160u32).map(move |v| (fnv(format!("{}#{v}", e.url).as_bytes()), i))
                        })
                        .collect();
                    points.sort_unstable();
                    *ring = (live.iter().map(|e| e.url.clone()).collect(), points);
                }
                let points = &ring.1;
                let at = points.partition_point(|(p, _)| *p < k);
                points
                    .get(at)
                    .or(points.first())
                    .map(|(_, i)| *i)
                    .unwrap_or(0)
            }
        }
    }
}
