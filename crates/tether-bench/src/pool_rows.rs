//! The pool rows (tether-cluster): a pool over one endpoint against a direct proxy (the
//! pool's own cost per call), calls/s over three servers against one, and the latency of a
//! call whose first endpoint was just killed. Servers are this binary's `serve tether`
//! processes (Pyro5 daemons serving `echo`); clients run here, on one thread.

use crate::drive::BoxErr;
use crate::opts::RunOpts;
use crate::served::Served;
use crate::workload::median;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tether_cluster::{Pool, PoolConfig};
use tether_core::{Call, Invoker, Value};
use tether_pyro::serializer::Serializer;
use tether_pyro::Proxy;

struct Server(Served, u16);

fn server() -> Result<Server, BoxErr> {
    let s = Served::spawn("tether", "PORT ")?;
    let port =
        s.1.parse()
            .map_err(|_| format!("server printed PORT {:?}", s.1))?;
    Ok(Server(s, port))
}

fn proxy(port: u16) -> Result<Arc<dyn Invoker>, BoxErr> {
    Ok(Arc::new(
        Proxy::new(&format!("PYRO:echo@127.0.0.1:{port}"))?.with_serializer(Serializer::Msgpack),
    ))
}

fn pool(ports: &[u16]) -> Result<Pool, BoxErr> {
    let config = PoolConfig {
        idempotent: ["echo".to_string()].into_iter().collect(),
        ..PoolConfig::default()
    };
    let p = Pool::new("bench", config);
    for port in ports {
        p.add(&format!("PYRO:echo@127.0.0.1:{port}"), proxy(*port)?);
    }
    Ok(p)
}

fn call() -> Call {
    Call::new("echo", vec![Value::Int(7)])
}

/// Sequential calls/s through `inv` for `secs`.
async fn seq(inv: &dyn Invoker, secs: f64) -> Result<f64, BoxErr> {
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

/// Calls/s of `clients` concurrent clients, each with its own pool over `ports`.
async fn conc(ports: &[u16], clients: usize, secs: f64) -> Result<f64, BoxErr> {
    let mut tasks = Vec::new();
    let deadline = Instant::now() + Duration::from_secs_f64(secs + 0.2);
    for _ in 0..clients {
        let p = pool(ports)?;
        tasks.push(tokio::spawn(async move {
            for _ in 0..50 {
                p.call(call()).await?;
            }
            let start = Instant::now();
            let mut n = 0u64;
            while Instant::now() < deadline {
                p.call(call()).await?;
                n += 1;
            }
            Ok::<_, tether_core::RemoteError>((n, start.elapsed().as_secs_f64()))
        }));
    }
    let mut rate = 0.0;
    for t in tasks {
        let (n, s) = t.await??;
        rate += n as f64 / s;
    }
    Ok(rate)
}

/// Runs the pool rows and prints their table.
pub fn run(opts: &RunOpts) -> Result<(), BoxErr> {
    let secs = opts.secs.unwrap_or(if opts.quick { 0.3 } else { 1.0 });
    let rounds = opts.rounds.unwrap_or(if opts.quick { 1 } else { 3 }).max(1);
    let servers: Vec<Server> = (0..3).map(|_| server()).collect::<Result<_, _>>()?;
    let ports: Vec<u16> = servers.iter().map(|s| s.1).collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (mut direct, mut pooled, mut one, mut three) = (vec![], vec![], vec![], vec![]);
    rt.block_on(async {
        let d = proxy(ports[0])?;
        let p = pool(&ports[..1])?;
        for r in 0..rounds {
            // Alternating which goes first, so warm-up favours neither.
            if r % 2 == 0 {
                direct.push(seq(d.as_ref(), secs).await?);
                pooled.push(seq(&p, secs).await?);
            } else {
                pooled.push(seq(&p, secs).await?);
                direct.push(seq(d.as_ref(), secs).await?);
            }
            one.push(conc(&ports[..1], 16, secs).await?);
            three.push(conc(&ports, 16, secs).await?);
        }
        Ok::<_, BoxErr>(())
    })?;
    // A call whose first endpoint was just killed: the pool (round-robin) goes to the victim
    // first, finds its connection dead, and retries on the other endpoint.
    let mut normal = Vec::new();
    let mut after_kill = Vec::new();
    for _ in 0..rounds.max(3) {
        let mut victim = server()?;
        let p = pool(&[victim.1, ports[1]])?;
        rt.block_on(async {
            for _ in 0..20 {
                p.call(call()).await?;
            }
            // Two calls: the next one goes to the victim again.
            let t = Instant::now();
            p.call(call()).await?;
            p.call(call()).await?;
            normal.push(t.elapsed().as_secs_f64() * 1e6 / 2.0);
            Ok::<_, BoxErr>(())
        })?;
        victim.0.kill();
        rt.block_on(async {
            let t = Instant::now();
            p.call(call()).await?;
            after_kill.push(t.elapsed().as_secs_f64() * 1e6);
            Ok::<_, BoxErr>(())
        })?;
    }
    let (direct, pooled, one, three) = (median(direct), median(pooled), median(one), median(three));
    let (normal, killed) = (median(normal), median(after_kill));
    println!();
    println!("## Pools (tether-cluster over tether's Pyro5 daemon, {rounds} round(s), median)");
    println!();
    println!("| row | value | ratio |");
    println!("|---|---:|---|");
    println!("| direct proxy, sequential calls/s | {direct:.0} | 1 |");
    println!(
        "| pool over that one endpoint, sequential calls/s | {pooled:.0} | {:.3}× ({:+.1}% per call; target ≤ 10%) |",
        pooled / direct,
        (direct / pooled - 1.0) * 100.0
    );
    println!("| 16 clients, each a pool over 1 server, calls/s | {one:.0} | 1 |");
    println!(
        "| 16 clients, each a pool over 3 servers, calls/s | {three:.0} | {:.2}× |",
        three / one
    );
    println!("| latency of a normal call, µs | {normal:.0} | 1 |");
    println!(
        "| latency of a call whose first endpoint was just killed (refused, retried elsewhere), µs | {killed:.0} | {:.1}× |",
        killed / normal
    );
    let overhead = direct / pooled - 1.0;
    println!();
    println!(
        "- {} pool overhead per call {:.1}% (target ≤ 10%)",
        if overhead <= 0.10 { "MET " } else { "MISS" },
        overhead * 100.0
    );
    drop(servers);
    Ok(())
}
