//! The gateway rows: sequential calls/s of a client calling an echo target directly, against
//! the same calls through a gateway (an exporter of one wire whose service forwards to a proxy
//! of another, `tether_remoting::gateway::Forward`), for each pair measured, and the cost of
//! the hop. The target and the gateway are processes of this binary (`serve wire:NAME` and
//! `serve gateway:LISTEN:TARGET_WIRE:TARGET_URL`); the client runs here, on one thread. Unpinned: a hop is
//! a cross-process round trip, and its cost in a deployment includes the wake-ups.

use crate::drive::BoxErr;
use crate::opts::RunOpts;
use crate::served::Served;
use crate::workload::median;
use std::sync::Arc;
use std::time::Instant;
use tether::remoting::{ClientOptions, Protocol, ServerOptions};
use tether_core::{Call, Invoker, Value};

/// The pairs measured: (the caller's wire, the target's wire).
const PAIRS: &[(&str, &str)] = &[
    ("pyro5", "pyro5"),
    ("pyro4", "pyro5"),
    ("pyro3", "pyro5"),
    ("hessian", "pyro5"),
    ("xmlrpc", "pyro5"),
    ("pyro5", "hessian"),
    ("pyro5", "xmlrpc"),
];

/// The registered protocol called `name` (as the `tether` binary's registry has it).
pub(crate) fn protocol(name: &str) -> Result<Arc<dyn Protocol>, BoxErr> {
    let set = tether::ClassRegistry::from_inventory().protocols().clone();
    Ok(set
        .by_name(name)
        .ok_or_else(|| format!("no protocol {name}"))?
        .clone())
}

/// Serves tether's echo service on `wire` (`serve wire:NAME`); prints `URL <url>`.
pub async fn serve_wire(wire: &str) -> Result<(), BoxErr> {
    serve_object(wire, Arc::new(tether_core::echo::EchoService::new(false))).await
}

/// Serves `object` as the wire's echo object; prints `URL <url>`, then runs until stopped.
pub async fn serve_object(
    wire: &str,
    object: Arc<dyn tether_core::Dispatch>,
) -> Result<(), BoxErr> {
    let p = protocol(wire)?;
    let server = p.bind(
        "127.0.0.1",
        "127.0.0.1:0".parse()?,
        &ServerOptions::default(),
    )?;
    let name = p.shell().echo_object_name();
    let uri = server.register(name, object)?;
    println!("URL {}", p.object_url(&uri, name));
    std::future::pending::<()>().await;
    Ok(())
}

/// Serves a gateway on `listen` forwarding to `target` (`serve gateway:LISTEN:WIRE:URL`).
pub async fn serve_gateway(spec: &str) -> Result<(), BoxErr> {
    let mut parts = spec.splitn(3, ':');
    let (Some(listen), Some(wire), Some(target)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err("gateway:LISTEN:TARGET_WIRE:TARGET_URL".into());
    };
    let proxy = protocol(wire)?.proxy(target, &ClientOptions::default())?;
    let p = protocol(listen)?;
    let server = p.bind(
        "127.0.0.1",
        "127.0.0.1:0".parse()?,
        &ServerOptions::default(),
    )?;
    let object = p.shell().echo_object_name();
    let uri = server.register(
        object,
        Arc::new(tether::remoting::gateway::Forward::new(proxy)),
    )?;
    println!("URL {}", p.object_url(&uri, object));
    std::future::pending::<()>().await;
    Ok(())
}

fn client(wire: &str, url: &str) -> Result<Arc<dyn Invoker>, BoxErr> {
    Ok(protocol(wire)?.proxy(url, &ClientOptions::default())?)
}

/// Sequential calls/s through `inv` for `secs`.
async fn seq(inv: &dyn Invoker, secs: f64) -> Result<f64, BoxErr> {
    let call = || Call::new("echo", vec![Value::str("Hello")]);
    for _ in 0..200 {
        inv.invoke(call()).await?;
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        inv.invoke(call()).await?;
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Runs the gateway rows and prints their table.
pub fn run(opts: &RunOpts) -> Result<(), BoxErr> {
    let secs = opts.secs.unwrap_or(if opts.quick { 0.3 } else { 1.0 });
    let rounds = opts.rounds.unwrap_or(if opts.quick { 1 } else { 3 }).max(1);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut targets = std::collections::BTreeMap::new();
    for (_, to) in PAIRS {
        if !targets.contains_key(to) {
            targets.insert(*to, Served::spawn(&format!("wire:{to}"), "URL ")?);
        }
    }
    println!();
    println!(
        "## Gateway: calls direct to a target against calls through a gateway ({rounds} round(s), median, unpinned)"
    );
    println!();
    println!("| path | sequential calls/s | µs per call | ratio to direct | one hop adds |");
    println!("|---|---:|---:|---:|---:|");
    let mut direct_rate = std::collections::BTreeMap::new();
    for (to, served) in &targets {
        let c = client(to, &served.1)?;
        let mut r = Vec::new();
        for _ in 0..rounds {
            r.push(rt.block_on(seq(c.as_ref(), secs))?);
        }
        let rate = median(r);
        direct_rate.insert(*to, rate);
        println!(
            "| {to} client → {to} target (direct) | {rate:.0} | {:.1} | 1 | – |",
            1e6 / rate
        );
    }
    for (from, to) in PAIRS {
        let target = &targets[to].1;
        let gw = Served::spawn(&format!("gateway:{from}:{to}:{target}"), "URL ")?;
        let c = client(from, &gw.1)?;
        let mut r = Vec::new();
        for _ in 0..rounds {
            r.push(rt.block_on(seq(c.as_ref(), secs))?);
        }
        let rate = median(r);
        let direct = direct_rate[to];
        println!(
            "| {from} client → gateway → {to} target | {rate:.0} | {:.1} | {:.2}× | {:.0} µs |",
            1e6 / rate,
            rate / direct,
            1e6 / rate - 1e6 / direct
        );
    }
    Ok(())
}
