//! The observability rows within one server: what tracing and metrics cost a call, with
//! everything else held equal.
//!
//! The other rows ([`crate::observe_rows`]) compare server processes, one per variant. Two
//! processes of the same binary differ by more than what they were told to do: where their
//! heap, stacks and code landed, which CPU caches they share with the client, what the VM did
//! while each ran. Their control (a second plain server) moves by a few percent from one run to
//! the next, as much as the cost being measured. Here one server process serves four echo
//! objects over one Pyro5 daemon: `plain` and `control`, registered before anything observes
//! (served as by a server with observation off), `placebo` (the plain echo behind the known
//! ~600 instructions a call of [`Placebo`]), and `observed`, registered once tracing (every
//! call, 100% sampled, exported over OTLP/HTTP) and metrics are on. The client drives each
//! object in turn, in short slices, in a new order every slice; a slice's calls/s and the
//! server's CPU time per call (all its threads, the span exporter's included) are compared
//! with the `plain` object's of the same round. What differs
//! between the objects is only what each call goes through, so the ratios measure that.
//!
//! The slices are short ([`SLICE`]) and many, so that the machine's changes of speed during a
//! round (a shared VM's are frequent and last longer than a slice) fall on every object alike.
//! There is no pause between them: the server exports its spans every [`EXPORT_DELAY`], a
//! fifth of a slice, so at most that share of an observed slice's export work is counted in
//! the slice after it.

use crate::drive::BoxErr;
use crate::observe_load::{drive, warm, Placebo, Sample, Sink};
use crate::served::Served;
use crate::workload::median;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tether::remoting::{ClientOptions, ServerOptions};
use tether_core::echo::EchoService;
use tether_core::{Dispatch, Invoker};

/// How long the client drives one object before it turns to the next.
const SLICE: f64 = 0.1;

/// The pair server's span export delay (`OTEL_BSP_SCHEDULE_DELAY`, ms): a fifth of a slice.
const EXPORT_DELAY: &str = "20";

/// The objects, in the order `serve observed:pair` prints their URLs.
const OBJECTS: [(&str, &str); 4] = [
    ("plain", "plain object (not observed)"),
    ("observed", "observed object (tracing and metrics)"),
    (
        "placebo",
        "placebo object (not observed, ~600 instructions a call)",
    ),
    ("control", "plain object again (control)"),
];

/// Serves the four objects on one Pyro5 daemon (see the module's docs); prints one line,
/// `URL` and the objects' URLs in [`OBJECTS`]' order, then runs until stopped. Tracing is set
/// up from OpenTelemetry's variables, as for `observed:on`.
pub async fn serve() -> Result<(), BoxErr> {
    let pyro5 = crate::gateway_rows::protocol("pyro5")?;
    let server = pyro5.bind(
        "127.0.0.1",
        "127.0.0.1:0".parse()?,
        &ServerOptions::default(),
    )?;
    let echo = || Arc::new(EchoService::new(false)) as Arc<dyn Dispatch>;
    let mut urls = Vec::new();
    // An object's observers are chosen when it is registered: these three get none.
    for name in ["plain", "placebo", "control"] {
        let object = if name == "placebo" {
            Arc::new(Placebo(echo())) as Arc<dyn Dispatch>
        } else {
            echo()
        };
        let uri = server.register(name, object)?;
        urls.push((name, pyro5.object_url(&uri, name)));
    }
    let telemetry = crate::observe_loop::observe_as("on")?;
    let uri = server.register("observed", echo())?;
    urls.push(("observed", pyro5.object_url(&uri, "observed")));
    let line: Vec<String> = OBJECTS
        .iter()
        .filter_map(|(name, _)| urls.iter().find(|(n, _)| n == name))
        .map(|(_, url)| url.clone())
        .collect();
    println!("URL {}", line.join(" "));
    std::future::pending::<()>().await;
    drop(telemetry);
    Ok(())
}

/// One load's rows for the four objects: `conns` connections to each, back to back or paced
/// to `rate` calls/s; the server on CPU 0 when `split`. Returns the table's rows and, when
/// saturated, the plain object's calls/s (what the paced load is a share of).
#[allow(clippy::too_many_arguments)]
pub fn measure(
    rt: &tokio::runtime::Runtime,
    tracing_env: &[(&str, &str)],
    sink: &Sink,
    split: bool,
    conns: usize,
    rate: Option<f64>,
    secs: f64,
    rounds: usize,
) -> Result<(Vec<String>, f64), BoxErr> {
    let pyro5 = crate::gateway_rows::protocol("pyro5")?;
    let n = OBJECTS.len();
    let mut rates = vec![Vec::new(); n];
    let mut cpus = vec![Vec::new(); n];
    let mut rate_ratios = vec![Vec::new(); n];
    let mut cpu_ratios = vec![Vec::new(); n];
    // OTLP bytes the sink received while each object was driven, and that object's calls.
    let mut otlp = vec![(0u64, 0u64); n];
    for round in 0..rounds {
        // A fresh server every round: one process's luck does not follow every round.
        let env: Vec<(&str, &str)> = tracing_env
            .iter()
            .map(|&(k, v)| match k {
                "OTEL_BSP_SCHEDULE_DELAY" => (k, EXPORT_DELAY),
                _ => (k, v),
            })
            .collect();
        let server = Served::spawn_on("observed:pair", "URL ", &env, split.then_some(0))?;
        let urls: Vec<&str> = server.1.split_whitespace().collect();
        if urls.len() != n {
            return Err(format!("observed:pair printed {:?}", server.1).into());
        }
        let proxies = urls
            .iter()
            .map(|url| {
                (0..conns)
                    .map(|_| Ok(pyro5.proxy(url, &ClientOptions::default())?))
                    .collect::<Result<Vec<Arc<dyn Invoker>>, BoxErr>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        for p in &proxies {
            rt.block_on(warm(p, secs))?;
        }
        let cut = slices(secs);
        let mut sum: Vec<Sample> = (0..n).map(|_| Sample::default()).collect();
        for slice in 0..cut {
            for k in 0..n {
                let i = (k + round + slice) % n;
                let bytes = sink.bytes.load(Ordering::Relaxed);
                let m = rt.block_on(drive(
                    &proxies[i],
                    secs / cut as f64,
                    server.pid(),
                    rate,
                    Duration::ZERO,
                ))?;
                otlp[i].0 += sink.bytes.load(Ordering::Relaxed) - bytes;
                otlp[i].1 += m.calls;
                sum[i].add(&m);
            }
        }
        for (i, m) in sum.iter().enumerate() {
            rates[i].push(m.rate());
            cpus[i].push(m.cpu_us());
            rate_ratios[i].push(m.rate() / sum[0].rate());
            cpu_ratios[i].push(m.cpu_us() / sum[0].cpu_us());
        }
    }
    let place = if split { "split" } else { "unpinned" };
    let load = match (conns, rate) {
        (1, _) => "sequential".to_string(),
        (_, Some(r)) => format!("{conns} connections at {r:.0} calls/s"),
        _ => format!("{conns} connections"),
    };
    let plain_rate = median(rates[0].clone());
    let rows = OBJECTS
        .iter()
        .enumerate()
        .map(|(i, (_, label))| {
            format!(
                "| {place} | {load} | {label} | {:.0} | {:.3} | {:.2} | {:.3} | {:.0} |",
                median(rates[i].clone()),
                median(rate_ratios[i].clone()),
                median(cpus[i].clone()),
                median(cpu_ratios[i].clone()),
                otlp[i].0 as f64 / otlp[i].1.max(1) as f64,
            )
        })
        .collect();
    Ok((rows, plain_rate))
}

/// How many slices of about [`SLICE`] make `secs` per object.
fn slices(secs: f64) -> usize {
    ((secs / SLICE).round() as usize).max(1)
}

/// Prints the rows [`measure`] made, with their heading.
pub fn print(rows: &[String], rounds: usize, secs: f64) {
    println!();
    println!(
        "### Within one server: four objects on one Pyro5 daemon, one observed ({rounds} round(s) of {secs} s per object, a fresh server each round, the objects driven in turn in slices of {:.2} s in a new order; medians, ratios as the median of each round's own)",
        secs / slices(secs) as f64
    );
    println!();
    println!(
        "The same process serves all four, so the ratios hold everything but the call's path equal: the plain object's row is the server with observation off, the observed object's the server with it on; the control's ratio is what remains of the noise. OTLP B/call: span bytes the collector received while the object was driven, a check that only the observed object's calls were traced."
    );
    println!();
    println!(
        "| placement | load | object | calls/s | ratio to plain | server CPU µs/call | ratio to plain | OTLP B/call |"
    );
    println!("|---|---|---|---:|---:|---:|---:|---:|");
    for r in rows {
        println!("{r}");
    }
}
