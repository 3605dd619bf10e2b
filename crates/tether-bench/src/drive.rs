//! The client loops, shared by every Rust client: one generic loop per [`Workload`], so raw TCP,
//! tarpc and tether are timed by exactly the same code.
//!
//! Timing covers the call only: the 1 MiB argument is cloned *before* the clock starts, because
//! RPC APIs that take owned arguments would otherwise pay a memcpy the raw socket does not.

use crate::workload::{
    ClientOpts, Measurement, Workload, BIG_SIZE, MAX_BIG_CALLS, MAX_SEQ_CALLS, MIN_BIG_CALLS,
};
use std::future::Future;
use std::time::{Duration, Instant};

/// Errors of a benchmark client: anything goes, it is printed and the row shows "failed".
pub type BoxErr = Box<dyn std::error::Error + Send + Sync>;

/// One connection of an async client.
pub trait AsyncClient: Send + 'static {
    /// One small echo call; the client checks the reply is what it sent.
    fn small(&mut self) -> impl Future<Output = Result<(), BoxErr>> + Send;
    /// Echoes `payload` and returns the reply.
    fn big(&mut self, payload: Vec<u8>) -> impl Future<Output = Result<Vec<u8>, BoxErr>> + Send;
}

/// One connection of a blocking client.
pub trait SyncClient: Send + 'static {
    /// One small echo call; the client checks the reply is what it sent.
    fn small(&mut self) -> Result<(), BoxErr>;
    /// Echoes `payload` and returns the reply.
    fn big(&mut self, payload: Vec<u8>) -> Result<Vec<u8>, BoxErr>;
}

/// The 1 MiB argument: not all zeros, so a compressing transport gains nothing.
pub fn big_payload() -> Vec<u8> {
    (0..BIG_SIZE)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn check_big(sent: &[u8], got: &[u8]) -> Result<(), BoxErr> {
    if sent.len() != got.len()
        || sent[..64] != got[..64]
        || sent[sent.len() - 64..] != got[got.len() - 64..]
    {
        return Err(format!(
            "big echo returned {} bytes that differ from the {} sent",
            got.len(),
            sent.len()
        )
        .into());
    }
    Ok(())
}

/// Runs `opts.workload` with connections from `connect`.
pub async fn run_async<C, F, Fut>(opts: &ClientOpts, connect: F) -> Result<Measurement, BoxErr>
where
    C: AsyncClient,
    F: Fn() -> Fut,
    Fut: Future<Output = Result<C, BoxErr>>,
{
    match opts.workload {
        Workload::Seq => {
            let mut c = connect().await?;
            let warm_end = Instant::now() + opts.warmup;
            while Instant::now() < warm_end {
                c.small().await?;
            }
            let mut lat = Vec::with_capacity(1 << 16);
            let start = Instant::now();
            let end = start + opts.secs;
            loop {
                let t = Instant::now();
                if t >= end || lat.len() >= MAX_SEQ_CALLS {
                    break;
                }
                c.small().await?;
                lat.push(t.elapsed().as_nanos() as u64);
            }
            Ok(Measurement::from_latencies(
                lat,
                start.elapsed().as_secs_f64(),
            ))
        }
        Workload::Big => {
            let mut c = connect().await?;
            let payload = big_payload();
            let got = c.big(payload.clone()).await?;
            check_big(&payload, &got)?;
            let mut lat = Vec::new();
            let start = Instant::now();
            let end = start + opts.secs;
            while lat.len() < MAX_BIG_CALLS && (lat.len() < MIN_BIG_CALLS || Instant::now() < end) {
                let arg = payload.clone();
                let t = Instant::now();
                let got = c.big(arg).await?;
                lat.push(t.elapsed().as_nanos() as u64);
                drop(got);
            }
            Ok(Measurement::from_latencies(
                lat,
                start.elapsed().as_secs_f64(),
            ))
        }
        Workload::Conc => {
            let mut clients = Vec::with_capacity(opts.conns);
            for _ in 0..opts.conns {
                clients.push(connect().await?);
            }
            // Every connection makes its first call before the clock starts: a client that
            // connects on its first call (the Pyro 3 proxy, whose server waits half a second
            // for a silent client) would otherwise spend the warm-up, or the timed window,
            // connecting.
            futures::future::try_join_all(clients.iter_mut().map(|c| c.small())).await?;
            let t0 = Instant::now() + opts.warmup;
            let end = t0 + opts.secs;
            let tasks: Vec<_> = clients
                .into_iter()
                .map(|mut c| {
                    tokio::spawn(async move {
                        let mut n = 0u64;
                        loop {
                            c.small().await?;
                            let now = Instant::now();
                            if now >= end {
                                break;
                            }
                            if now >= t0 {
                                n += 1;
                            }
                        }
                        Ok::<u64, BoxErr>(n)
                    })
                })
                .collect();
            let mut calls = 0;
            for t in tasks {
                calls += t.await??;
            }
            Ok(Measurement {
                calls,
                secs: opts.secs.as_secs_f64(),
                ..Measurement::default()
            })
        }
    }
}

/// Runs `opts.workload` with blocking connections from `connect`, one thread per connection.
pub fn run_sync<C, F>(opts: &ClientOpts, connect: F) -> Result<Measurement, BoxErr>
where
    C: SyncClient,
    F: Fn() -> Result<C, BoxErr>,
{
    match opts.workload {
        Workload::Seq => {
            let mut c = connect()?;
            let warm_end = Instant::now() + opts.warmup;
            while Instant::now() < warm_end {
                c.small()?;
            }
            let mut lat = Vec::with_capacity(1 << 16);
            let start = Instant::now();
            let end = start + opts.secs;
            loop {
                let t = Instant::now();
                if t >= end || lat.len() >= MAX_SEQ_CALLS {
                    break;
                }
                c.small()?;
                lat.push(t.elapsed().as_nanos() as u64);
            }
            Ok(Measurement::from_latencies(
                lat,
                start.elapsed().as_secs_f64(),
            ))
        }
        Workload::Big => {
            let mut c = connect()?;
            let payload = big_payload();
            let got = c.big(payload.clone())?;
            check_big(&payload, &got)?;
            let mut lat = Vec::new();
            let start = Instant::now();
            let end = start + opts.secs;
            while lat.len() < MAX_BIG_CALLS && (lat.len() < MIN_BIG_CALLS || Instant::now() < end) {
                let arg = payload.clone();
                let t = Instant::now();
                let got = c.big(arg)?;
                lat.push(t.elapsed().as_nanos() as u64);
                drop(got);
            }
            Ok(Measurement::from_latencies(
                lat,
                start.elapsed().as_secs_f64(),
            ))
        }
        Workload::Conc => {
            let mut clients = Vec::with_capacity(opts.conns);
            for _ in 0..opts.conns {
                clients.push(connect()?);
            }
            let t0 = Instant::now() + opts.warmup;
            let end = t0 + opts.secs;
            let threads: Vec<_> = clients
                .into_iter()
                .map(|mut c| {
                    std::thread::spawn(move || {
                        let mut n = 0u64;
                        loop {
                            c.small()?;
                            let now = Instant::now();
                            if now >= end {
                                break;
                            }
                            if now >= t0 {
                                n += 1;
                            }
                        }
                        Ok::<u64, BoxErr>(n)
                    })
                })
                .collect();
            let mut calls = 0;
            for t in threads {
                calls += t.join().map_err(|_| "client thread panicked")??;
            }
            Ok(Measurement {
                calls,
                secs: opts.secs.as_secs_f64(),
                ..Measurement::default()
            })
        }
    }
}

/// How long a client subprocess may take before the orchestrator kills it.
pub fn client_deadline(opts_secs: Duration, warmup: Duration) -> Duration {
    opts_secs * 4 + warmup + Duration::from_secs(30)
}
