//! `tether bench URL METHOD [ARG...]` (or `--context FILE.xml OBJECT METHOD ...`): tether's
//! ghz. N connections call one method in a loop for a duration or a number of calls; a
//! progress line each second on stderr; then calls/s, latency percentiles and errors by kind.
//! A failed call is counted, never fatal to the run. (scripts/bench.sh is the comparative
//! benchmark; this is a tool for users.)

use crate::target::{build_call, CallSpec, TargetArgs};
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tether::context::ClassRegistry;
use tether_core::ErrorKind;

#[derive(clap::Args, Debug)]
pub(crate) struct BenchArgs {
    #[command(flatten)]
    spec: CallSpec,
    #[command(flatten)]
    how: TargetArgs,
    /// Connections (each with its own client, calling in a loop).
    #[arg(short = 'c', long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    connections: u32,
    /// How long to run: `10s`, `500ms`, `2m`, or plain seconds (ignored with --calls). `-z`
    /// as in ghz; `-d` is the arguments' data, as in `tether call`, grpcurl and ghz.
    #[arg(short = 'z', long, default_value = "10s", value_parser = crate::duration::parse)]
    duration: Duration,
    /// Stop after this many calls in all (instead of a duration).
    #[arg(short = 'n', long)]
    calls: Option<u64>,
    /// Print the summary as one JSON object (the same as --format json).
    #[arg(long)]
    json: bool,
    /// How the summary is printed: text (with a latency histogram), json (one object), csv (a
    /// header and one row) or html (a page with the latency chart).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Calls before the measured run, not counted: `2s`, `500ms` (default none).
    #[arg(long, value_parser = crate::duration::parse)]
    warmup: Option<Duration>,
    /// Open loop: this many calls a second in all, each timed from when it was due (so a slow
    /// server shows in the latencies instead of slowing the load). Default: closed loop, each
    /// worker calling as soon as its last call returned.
    #[arg(long, value_name = "CALLS_PER_S")]
    rate: Option<f64>,
    /// Concurrent callers (default: one per connection); several share a connection when
    /// there are more callers than connections.
    #[arg(long)]
    concurrency: Option<u32>,
    /// Exit 1 when more calls than this failed (the summary is printed either way).
    #[arg(long, default_value_t = 0)]
    max_errors: u64,
}

/// How the summary is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
    Csv,
    Html,
}

fn kind_label(k: ErrorKind) -> String {
    format!("{k:?}").to_ascii_lowercase()
}

struct Tally {
    latency: hdrhistogram::Histogram<u64>,
    errors: BTreeMap<String, u64>,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            latency: crate::bench_report::new_histogram(),
            errors: BTreeMap::new(),
        }
    }
}

pub(crate) async fn bench(registry: ClassRegistry, args: BenchArgs) -> ExitCode {
    if let Err(e) = crate::logging::init_logging(&crate::logging::env_filter("error")) {
        eprintln!("tether: {e}");
    }
    let protocols = registry.protocols().clone();
    let target = match args.how.resolve(registry, &args.spec.target).await {
        Ok(t) => t,
        Err(f) => {
            eprintln!("{}", f.message);
            return ExitCode::from(f.code);
        }
    };
    let call = match build_call(&protocols, &args.spec, false, &target) {
        Ok(c) => c,
        Err(f) => {
            eprintln!("{}", f.message);
            return ExitCode::from(f.code);
        }
    };
    if let Some(r) = args.rate {
        if !(r.is_finite() && r > 0.0) {
            eprintln!("tether bench: --rate must be a positive number of calls a second");
            return ExitCode::from(2);
        }
    }
    let format = if args.json { Format::Json } else { args.format };
    let mut invokers = Vec::new();
    for _ in 0..args.connections {
        match target.invoker() {
            Ok(i) => invokers.push(i),
            Err(f) => {
                eprintln!("{}", f.message);
                return ExitCode::from(f.code);
            }
        }
    }
    let budget = args.calls.map(AtomicU64::new).map(Arc::new);
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let warm_end = Instant::now() + args.warmup.unwrap_or_default();
    let start = warm_end;
    let deadline = args.calls.is_none().then(|| start + args.duration);
    let workers = args.concurrency.unwrap_or(args.connections).max(1);
    // Open loop: each worker's calls are due every `workers / rate` seconds.
    let interval = args
        .rate
        .map(|r| Duration::from_secs_f64(f64::from(workers) / r));
    let mut tasks = Vec::new();
    for w in 0..workers {
        let invoker = invokers[w as usize % invokers.len()].clone();
        let (call, budget, done, failed, stop, tally) = (
            call.clone(),
            budget.clone(),
            done.clone(),
            failed.clone(),
            stop.clone(),
            tally.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut local = Tally::default();
            while Instant::now() < warm_end && !stop.load(Ordering::Relaxed) {
                let _ = invoker.invoke(call.clone()).await;
            }
            // Spread the workers' first calls over one interval.
            let mut due = interval.map(|i| start + i.mul_f64(f64::from(w) / f64::from(workers)));
            loop {
                if stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                if let Some(b) = &budget {
                    // Take one call from the budget, or stop when it is spent.
                    if b.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                        .is_err()
                    {
                        break;
                    }
                }
                let t0 = match (due, interval) {
                    (Some(d), Some(i)) => {
                        tokio::time::sleep_until(d.into()).await;
                        due = Some(d + i);
                        d
                    }
                    _ => Instant::now(),
                };
                let r = invoker.invoke(call.clone()).await;
                let us = t0.elapsed().as_micros().min(u128::from(u64::MAX)) as u64;
                done.fetch_add(1, Ordering::Relaxed);
                match r {
                    Ok(_) => local.latency.saturating_record(us.max(1)),
                    Err(e) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        *local.errors.entry(kind_label(e.kind())).or_default() += 1;
                        // A broken connection fails fast; don't spin on it.
                        if !matches!(e.kind(), ErrorKind::Remote) {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                }
            }
            let mut t = tally.lock().unwrap_or_else(|p| p.into_inner());
            // Same bounds on both sides: adding cannot fail.
            let _ = t.latency.add(&local.latency);
            for (k, n) in local.errors {
                *t.errors.entry(k).or_default() += n;
            }
        }));
    }
    // Progress, once a second, until every worker is done (or SIGINT/SIGTERM stops them).
    let all = futures_join(tasks);
    tokio::pin!(all);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    let mut last = 0u64;
    let signal = tether::context::wait_for_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            _ = &mut all => break,
            _ = &mut signal => { stop.store(true, Ordering::Relaxed); }
            _ = tick.tick() => {
                let n = done.load(Ordering::Relaxed);
                eprintln!(
                    "tether bench: {:>6.1} s  {n} calls ({} errors)  {} calls/s",
                    start.elapsed().as_secs_f64(),
                    failed.load(Ordering::Relaxed),
                    n - last
                );
                last = n;
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let t = std::mem::take(&mut *tally.lock().unwrap_or_else(|p| p.into_inner()));
    let summary = crate::bench_report::Summary {
        target: args.spec.target.clone(),
        method: args.spec.method.clone(),
        calls: done.load(Ordering::Relaxed),
        errors: t.errors,
        seconds: elapsed,
        connections: args.connections,
        latency: t.latency,
        endpoints: target
            .pool_stats()
            .unwrap_or_default()
            .into_iter()
            .map(|s| crate::bench_report::Endpoint {
                url: s.url,
                calls: s.calls,
                failures: s.failures,
                ejections: s.ejections,
                ejected: s.ejected,
            })
            .collect(),
    };
    crate::say(&match format {
        Format::Json => summary.json(),
        Format::Csv => summary.csv(),
        Format::Html => summary.html(),
        Format::Text => summary.text(),
    });
    let failed = summary.failed();
    if failed > args.max_errors {
        eprintln!(
            "tether bench: {failed} calls failed (more than --max-errors {})",
            args.max_errors
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Waits for every task (a panicked worker is ignored; its calls were counted).
async fn futures_join(tasks: Vec<tokio::task::JoinHandle<()>>) {
    for t in tasks {
        let _ = t.await;
    }
}
