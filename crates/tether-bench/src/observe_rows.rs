//! The observability rows: what tracing and metrics cost a server. Six Pyro5 echo servers of
//! this binary run side by side, fresh processes every round: plain (`serve observed:off`: no
//! exporter, no metrics), with
//! the call metrics only, with tracing only (every call traced, 100% sampled, and exported
//! over OTLP/HTTP to a sink this process runs), and with both; a placebo (no observer, a
//! known ~600 instructions of arithmetic per call: what a row reads for a server that much
//! slower); and a second plain server as the control (its ratio to the first is the
//! measurement's own noise). The same client load
//! is driven at each in turn, in short slices, alternating, and the table gives calls/s and
//! the server's CPU time per call (all its threads, the span exporter's included), and their
//! ratios to the plain server (the median of each round's ratio).
//! Unpinned: the exporter thread is part of the cost and gets whatever CPU is free.
//! The same loads are then driven at one server with observed and unobserved objects side
//! by side ([`crate::observe_pair`]), which leaves out the differences between processes.

use crate::drive::BoxErr;
use crate::observe_load::{drive, pin_self, warm, Placebo, Sample, Sink};
use crate::opts::RunOpts;
use crate::served::Served;
use crate::workload::median;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tether::remoting::ClientOptions;
use tether_core::Invoker;

/// Serves Pyro5's echo, observed or not (`serve observed:off|metrics|tracing|on`), or
/// unobserved behind the [`Placebo`] (`serve observed:placebo`); prints `URL <url>`.
pub async fn serve(mode: &str) -> Result<(), BoxErr> {
    if mode == "placebo" {
        let echo = Arc::new(tether_core::echo::EchoService::new(false));
        return crate::gateway_rows::serve_object("pyro5", Arc::new(Placebo(echo))).await;
    }
    let telemetry = crate::observe_loop::observe_as(mode)?;
    let r = crate::gateway_rows::serve_wire("pyro5").await;
    drop(telemetry);
    r
}

/// How long a server is left alone after a slice before its CPU time is read (the span
/// exporter sends every 100 ms here).
const SETTLE: Duration = Duration::from_millis(200);

/// How many slices each server's measurement of a round is cut into: the servers are driven
/// a slice each in turn, so a change in the machine's speed during a round (frequent on a
/// shared VM) falls on every server alike instead of on whichever ran then.
fn slices(secs: f64) -> usize {
    ((secs / 0.25).round() as usize).clamp(1, 8)
}

/// Runs the observability rows and prints their table.
pub fn run(opts: &RunOpts) -> Result<(), BoxErr> {
    let secs = opts.secs.unwrap_or(if opts.quick { 0.5 } else { 2.0 });
    // `--only observe-pair`: the rows within one server alone.
    let pair_only =
        opts.only.iter().any(|o| o == "observe-pair") && !opts.only.iter().any(|o| o == "observe");
    let rounds = opts.rounds.unwrap_or(if opts.quick { 1 } else { 5 }).max(1);
    let sink = Sink::start()?;
    let endpoint = format!("http://127.0.0.1:{}", sink.port);
    let tracing_env = [
        ("OTEL_TRACES_EXPORTER", "otlp"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_TRACES_SAMPLER", "always_on"),
        // Export often enough that the queue never overflows at full speed.
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "65536"),
    ];
    let untraced = [("OTEL_TRACES_EXPORTER", "none")];
    let variants = [
        ("off", "off", &untraced[..]),
        ("metrics", "metrics only", &untraced[..]),
        ("tracing", "tracing only", &tracing_env[..]),
        ("on", "tracing and metrics", &tracing_env[..]),
        // No observer: a known ~600 instructions of arithmetic per call (see `Placebo`).
        (
            "placebo",
            "placebo (no observer, ~600 instructions a call)",
            &untraced[..],
        ),
        // A second plain server: its ratio to the first is this measurement's own noise, what
        // a difference must exceed to mean anything.
        ("off", "off again (control)", &untraced[..]),
    ];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let pyro5 = crate::gateway_rows::protocol("pyro5")?;
    if !pair_only {
        println!();
        println!(
            "## Observability: what tracing (every call, exported over OTLP/HTTP) and metrics cost a Pyro5 echo server ({rounds} round(s) of {secs} s; each round six fresh server processes (a placebo's, and last a second plain one, the control), driven in turn in slices of {:.2} s in a new order; medians, and ratios as the median of each round's own)", secs / slices(secs) as f64
        );
        println!();
        println!(
            "Unpinned, the server, its span exporter, the client and the OTLP sink share both CPUs; split, the server (workers and exporter) has CPU 0 to itself, and the client and the sink (in a deployment, a collector elsewhere) CPU 1 (the last rows pace the client at 60% of what the plain server served flat out: CPU per call below saturation), so calls/s is what one CPU of server serves."
        );
        println!();
        println!(
            "| placement | load | server | calls/s | ratio to off | server CPU µs/call | ratio to off |"
        );
        println!("|---|---|---|---:|---:|---:|---:|");
    }
    // The rows within one server (see observe_pair), printed after this table.
    let mut pair_rows = Vec::new();
    for split in [false, true] {
        if split && !pin_self(1) {
            println!("| split | – | – | not measured: cannot pin to CPU 1 | | | |");
            continue;
        }
        if split {
            sink.keep_to(1);
        }
        // The last load is the same 16 connections paced at 60% of what the plain server
        // served flat out (split only): a server's CPU per call below saturation, where a
        // slower server does not also make its clients wait and wake more often.
        let mut saturated = None;
        let loads: &[(usize, bool)] = if split {
            &[(1, false), (16, false), (16, true)]
        } else {
            &[(1, false), (16, false)]
        };
        for &(conns, paced) in loads.iter().filter(|_| !pair_only) {
            let rate = if paced {
                saturated.map(|r: f64| r * 0.6)
            } else {
                None
            };
            let mut rates = vec![Vec::new(); variants.len()];
            let mut cpus = vec![Vec::new(); variants.len()];
            for round in 0..rounds {
                // Fresh server processes every round: a process's own luck (where its memory
                // and threads landed) would otherwise follow it through every round and show
                // as a difference between the variants.
                let servers = variants
                    .iter()
                    .map(|(mode, _, env)| {
                        Served::spawn_on(
                            &format!("observed:{mode}"),
                            "URL ",
                            env,
                            split.then_some(0),
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let proxies = servers
                    .iter()
                    .map(|s| {
                        (0..conns)
                            .map(|_| Ok(pyro5.proxy(&s.1, &ClientOptions::default())?))
                            .collect::<Result<Vec<Arc<dyn Invoker>>, BoxErr>>()
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                for p in &proxies {
                    rt.block_on(warm(p, secs))?;
                }
                // Slices in turn, a new order each round and each slice: no server always
                // follows the same one.
                let n = servers.len();
                let cut = slices(secs);
                let mut sum: Vec<Sample> = (0..n).map(|_| Sample::default()).collect();
                for slice in 0..cut {
                    for k in 0..n {
                        let i = (k + round + slice) % n;
                        let m = rt.block_on(drive(
                            &proxies[i],
                            secs / cut as f64,
                            servers[i].pid(),
                            rate,
                            SETTLE,
                        ))?;
                        sum[i].add(&m);
                    }
                }
                for (i, m) in sum.iter().enumerate() {
                    rates[i].push(m.rate());
                    cpus[i].push(m.cpu_us());
                }
            }
            // Each ratio is the median of the rounds' own ratios (the variants of one round
            // ran one after the other, under the same conditions).
            let paired = |v: &[Vec<f64>], i: usize| {
                median(
                    v[i].iter()
                        .zip(&v[0])
                        .map(|(a, b)| a / b)
                        .collect::<Vec<f64>>(),
                )
            };
            let rate_ratios: Vec<f64> = (0..rates.len()).map(|i| paired(&rates, i)).collect();
            let cpu_ratios: Vec<f64> = (0..cpus.len()).map(|i| paired(&cpus, i)).collect();
            let rates: Vec<f64> = rates.into_iter().map(median).collect();
            let cpus: Vec<f64> = cpus.into_iter().map(median).collect();
            if conns > 1 && !paced {
                saturated = rates.first().copied();
            }
            let place = if split { "split" } else { "unpinned" };
            let load = match (conns, rate) {
                (1, _) => "sequential".to_string(),
                (_, Some(r)) => format!("{conns} connections at {r:.0} calls/s"),
                _ => format!("{conns} connections"),
            };
            for (i, (_, label, _)) in variants.iter().enumerate() {
                println!(
                    "| {place} | {load} | {label} | {:.0} | {:.2} | {:.2} | {:.2} |",
                    rates[i], rate_ratios[i], cpus[i], cpu_ratios[i]
                );
            }
        }
        // The same loads on one server of four objects, one observed; the paced load is a
        // share of what its plain object served flat out.
        let mut plain_saturated = None;
        for &(conns, paced) in loads {
            let rate = if paced {
                plain_saturated.map(|r: f64| r * 0.6)
            } else {
                None
            };
            let (rows, plain) = crate::observe_pair::measure(
                &rt,
                &tracing_env,
                &sink,
                split,
                conns,
                rate,
                secs,
                rounds,
            )?;
            if conns > 1 && !paced {
                plain_saturated = Some(plain);
            }
            pair_rows.extend(rows);
        }
    }
    crate::observe_pair::print(&pair_rows, rounds, secs);
    if pair_only {
        return Ok(());
    }
    let calls = if opts.quick { 100_000 } else { 400_000 };
    let layer = crate::observe_loop::measure(rounds, calls, &tracing_env)?;
    println!();
    println!(
        "The layer alone, no network: an echo object behind the interceptors a server gets, called {calls} times in a loop by one thread in a process on one CPU (its span exporter included), {rounds} round(s), median:"
    );
    println!();
    println!("| server | CPU ns/call | added to off, ns/call |");
    println!("|---|---:|---:|");
    let off = layer.first().map_or(0.0, |l| l.1);
    for ((_, label, _), (_, cpu, _)) in variants.iter().zip(&layer) {
        println!("| {label} | {cpu:.0} | {:.0} |", cpu - off);
    }
    // Give the last batch time to leave, then say whether spans arrived at all.
    std::thread::sleep(Duration::from_millis(300));
    println!();
    println!(
        "The sink received {} OTLP requests ({} KB of spans).",
        sink.requests.load(Ordering::Relaxed),
        sink.bytes.load(Ordering::Relaxed) / 1000
    );
    Ok(())
}
