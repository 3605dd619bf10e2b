//! The observability layer's own cost per call, without a network: a Pyro5 echo object behind
//! the observers a server gets (`observe-loop off|metrics|tracing|on`), called in a loop on
//! one thread, in a process pinned to one CPU so its span exporter's work is counted against
//! the calls. The difference to `off` is what observing a call costs; compared with a
//! server's CPU per call (the server rows) it gives the share a saturated server pays.

use crate::drive::BoxErr;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tether::remoting::observe::{observe_dispatch, CallSite};
use tether_core::echo::EchoService;
use tether_core::{Call, Value};

/// Turns on what `mode` (`off`, `metrics`, `tracing`, `on`) asks for in this process: tracing
/// follows OpenTelemetry's variables, which the parent set for `tracing` and `on` (checked
/// here), metrics are switched on. The returned pipeline is flushed when dropped.
pub fn observe_as(mode: &str) -> Result<tether::observe::Telemetry, BoxErr> {
    let telemetry = tether::observe::init("tether-bench");
    let (metrics, tracing) = match mode {
        "off" => (false, false),
        "metrics" => (true, false),
        "tracing" => (false, true),
        "on" => (true, true),
        m => return Err(format!("observation mode {m:?}?").into()),
    };
    if telemetry.is_tracing() != tracing {
        return Err(format!("{mode} but tracing is {}", telemetry.is_tracing()).into());
    }
    if metrics {
        tether::observe::enable_metrics();
    }
    Ok(telemetry)
}

/// This process's CPU time (every thread), in nanoseconds.
fn process_cpu_ns() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which lives on this stack.
    if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) } != 0 {
        return 0;
    }
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// The child: `calls` echo calls through the chain `mode` turns on; prints
/// `LOOP <cpu ns per call> <wall ns per call>`.
pub fn child(mode: &str, calls: u64) -> Result<(), BoxErr> {
    let telemetry = observe_as(mode)?;
    let peer: SocketAddr = "127.0.0.1:40000".parse()?;
    let site = CallSite::server("pyro5", "echo", "127.0.0.1:9090".parse()?);
    let object = observe_dispatch(site, Arc::new(EchoService::default()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let run = |n: u64| {
        rt.block_on(async {
            for _ in 0..n {
                let mut call = Call::new("echo", vec![Value::str("Hello")]);
                call.context.peer = Some(peer);
                call.context.protocol = Some("pyro5");
                object.dispatch_reply(call).await?;
            }
            Ok::<(), tether_core::RemoteError>(())
        })
    };
    run(calls / 10)?;
    std::thread::sleep(Duration::from_millis(200));
    let cpu = process_cpu_ns();
    let start = Instant::now();
    run(calls)?;
    let wall = start.elapsed().as_nanos() as u64;
    // Let the exporter send what the loop left, so its work counts.
    std::thread::sleep(Duration::from_millis(300));
    let cpu = process_cpu_ns().saturating_sub(cpu);
    println!(
        "LOOP {:.1} {:.1}",
        cpu as f64 / calls as f64,
        wall as f64 / calls as f64
    );
    drop(telemetry);
    Ok(())
}

/// Runs each mode `rounds` times in turn (a fresh process each, on CPU 0 when there is one)
/// and returns the median CPU and wall nanoseconds per call, by mode.
pub fn measure(
    rounds: usize,
    calls: u64,
    tracing_env: &[(&str, &str)],
) -> Result<Vec<(&'static str, f64, f64)>, BoxErr> {
    let modes = ["off", "metrics", "tracing", "on"];
    let exe = std::env::current_exe()?;
    let pin = std::thread::available_parallelism().map_or(1, |n| n.get()) > 1;
    let mut got = vec![(Vec::new(), Vec::new()); modes.len()];
    for round in 0..rounds {
        for k in 0..modes.len() {
            let i = (k + round) % modes.len();
            let mode = modes[i];
            let mut cmd = if pin {
                let mut c = Command::new("taskset");
                c.args(["-c", "0"]).arg(&exe);
                c
            } else {
                Command::new(&exe)
            };
            cmd.args(["observe-loop", mode, &calls.to_string()]);
            if mode == "tracing" || mode == "on" {
                cmd.envs(tracing_env.iter().copied());
            } else {
                cmd.env("OTEL_TRACES_EXPORTER", "none");
            }
            let out = cmd.output()?;
            let text = String::from_utf8_lossy(&out.stdout);
            let line = text
                .lines()
                .find_map(|l| l.strip_prefix("LOOP "))
                .ok_or_else(|| {
                    format!(
                        "observe-loop {mode}: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    )
                })?;
            let mut f = line.split_whitespace().map(|v| v.parse::<f64>());
            let (Some(Ok(cpu)), Some(Ok(wall))) = (f.next(), f.next()) else {
                return Err(format!("observe-loop {mode} printed {line:?}").into());
            };
            got[i].0.push(cpu);
            got[i].1.push(wall);
        }
    }
    Ok(modes
        .iter()
        .zip(got)
        .map(|(m, (c, w))| (*m, crate::workload::median(c), crate::workload::median(w)))
        .collect())
}
