//! What a call does with the pool's endpoints (Dubbo's cluster modes).

/// A cluster mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One endpoint; on a transport failure, up to `retries` more on other endpoints, with
    /// back-off. A call is retried only when it cannot have run (its request never left), or
    /// when its method is marked idempotent. The default, with 2 retries.
    Failover {
        /// Extra attempts after the first. Default 2.
        retries: u32,
    },
    /// One attempt; its error is the answer (for calls that must not be repeated).
    Failfast,
    /// One attempt; a failure is logged and answered with `None` (for calls whose result
    /// nobody needs, such as audit logging).
    Failsafe,
    /// The call goes to `n` endpoints at once; the first success answers (for reads where
    /// latency matters more than load).
    Forking {
        /// How many endpoints at once. Default 2.
        n: usize,
    },
    /// The call goes to every live endpoint; it fails if any fails (for invalidating caches
    /// or pushing configuration). The answer is the last endpoint's.
    Broadcast,
}

impl Default for Mode {
    fn default() -> Self {
        Mode::Failover { retries: 2 }
    }
}

impl Mode {
    /// Parses `failover`, `failfast`, `failsafe`, `forking` or `broadcast` (`retries` and
    /// `forks` set the numbers).
    pub fn parse(s: &str, retries: u32, forks: usize) -> Option<Mode> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "failover" => Mode::Failover { retries },
            "failfast" => Mode::Failfast,
            "failsafe" => Mode::Failsafe,
            "forking" => Mode::Forking { n: forks.max(1) },
            "broadcast" => Mode::Broadcast,
            _ => return None,
        })
    }
}
