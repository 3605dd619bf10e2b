//! `--scale`: how costs grow with the size of the work, each curve printed with its growth
//! exponent (the slope of log time against log size over the upper half of the curve: 1 is
//! linear, 0 is flat, 2 quadratic). Anything worse than linear is a bug to fix, and the curve
//! stays as its regression row. In-process (one runtime, loopback), but for the connection
//! curve's server, which has a process of its own; release build.
//!
//! Curves: the payload of a Pyro5 echo (13 B to 63 MiB, under the 64 MiB message limit); clients connecting and calling once
//! (1 to 10,000, to a server in a process of its own) and a call's latency and the server's
//! memory per connection beside that many idle connections; an application
//! context's start and close (10,000 to 180,000 objects); a pool's call with 3 to 1,000
//! members; name-server registrations and lookups (1,000 to 100,000 entries); endpoints followed
//! from a real etcd (10 to 10,000: the first list, and one more endpoint seen).

use crate::drive::BoxErr;
use crate::gateway_rows::protocol;
use crate::opts::RunOpts;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tether::remoting::{ClientOptions, ServerOptions};
use tether_core::{Call, Invoker, Value};

struct Curve {
    name: &'static str,
    x_unit: &'static str,
    /// What the time is for.
    what: &'static str,
    /// (size, seconds)
    points: Vec<(f64, f64)>,
    /// The time should not grow with the size at all.
    flat: bool,
}

impl Curve {
    /// Least-squares slope of ln(t) on ln(x) over the upper half of the points.
    fn exponent(&self) -> Option<f64> {
        let n = self.points.len();
        let pts: Vec<(f64, f64)> = self.points[n / 2..]
            .iter()
            .filter(|(x, t)| *x > 0.0 && *t > 0.0)
            .map(|(x, t)| (x.ln(), t.ln()))
            .collect();
        if pts.len() < 2 {
            return None;
        }
        let m = pts.len() as f64;
        let (sx, sy) = pts.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
        let (mx, my) = (sx / m, sy / m);
        let (num, den) = pts.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
            (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
        });
        (den > 0.0).then(|| num / den)
    }

    fn print(&self) {
        println!();
        println!("### {} ({})", self.name, self.what);
        println!();
        println!("| {} | time | per unit |", self.x_unit);
        println!("|---:|---:|---:|");
        for (x, t) in &self.points {
            println!("| {x:.0} | {} | {} |", secs(*t), secs(t / x));
        }
        match self.exponent() {
            Some(e) => println!(
                "\ngrowth exponent {e:.2} ({})",
                match (self.flat, e) {
                    (true, e) if e < 0.3 => "flat, as it should be",
                    (true, _) => "GROWS: should be flat",
                    (false, e) if e > 1.2 => "WORSE THAN LINEAR",
                    (false, _) => "linear or better",
                }
            ),
            None => println!("\ngrowth exponent: not enough points"),
        }
    }
}

fn secs(t: f64) -> String {
    if t >= 1.0 {
        format!("{t:.2} s")
    } else if t >= 1e-3 {
        format!("{:.2} ms", t * 1e3)
    } else {
        format!("{:.2} µs", t * 1e6)
    }
}

/// A Pyro5 echo server; its object URL.
fn echo_server() -> Result<(Arc<dyn tether::remoting::ExportServer>, String), BoxErr> {
    let p = protocol("pyro5")?;
    let mut options = ServerOptions::default();
    options.limits.max_connections = Some(20_000);
    let server = p.bind("127.0.0.1", "127.0.0.1:0".parse()?, &options)?;
    let uri = server.register("echo", Arc::new(tether_core::echo::EchoService::new(false)))?;
    let url = p.object_url(&uri, "echo");
    Ok((server, url))
}

fn msgpack() -> ClientOptions {
    let mut o = ClientOptions::default();
    o.serializer = Some("msgpack".into());
    o
}

/// Mean time of one `echo(arg)` through `inv`, over at least one call and about 300 ms.
async fn mean_echo(inv: &dyn Invoker, arg: &Value) -> Result<f64, BoxErr> {
    let call = || Call::new("echo", vec![arg.clone()]);
    inv.invoke(call()).await?; // warm
    let start = Instant::now();
    let mut n = 0u32;
    while n == 0 || (start.elapsed() < Duration::from_millis(300) && n < 100_000) {
        inv.invoke(call()).await?;
        n += 1;
    }
    Ok(start.elapsed().as_secs_f64() / f64::from(n))
}

async fn payload(url: &str, quick: bool) -> Result<Curve, BoxErr> {
    let p = protocol("pyro5")?.proxy(url, &msgpack())?;
    let mut sizes = vec![13usize, 1 << 10, 64 << 10, 1 << 20, 16 << 20];
    if !quick {
        // The largest that fits the default 64 MiB message limit with its framing.
        sizes.push(63 << 20);
    }
    let mut points = Vec::new();
    for s in sizes {
        let t = mean_echo(p.as_ref(), &Value::Bytes(vec![7u8; s])).await?;
        points.push((s as f64, t));
    }
    Ok(Curve {
        name: "payload",
        x_unit: "bytes",
        what: "one Pyro5 msgpack echo call, sequential",
        points,
        flat: false,
    })
}

/// The server of the connection curve, run as a child process (`serve scale-echo`): a Pyro5
/// echo server as [`echo_server`], with room for every connection of the curve. Runs until
/// killed.
pub async fn serve_echo(announce: fn(u16)) -> Result<(), BoxErr> {
    let (server, _url) = echo_server()?;
    announce(server.local_addr().port());
    std::future::pending::<()>().await;
    Ok(())
}

/// The `serve scale-echo` child of the connection curve: its own process, so that the
/// curve's 10,000 connections take 10,000 descriptors on each side (this machine's hard
/// limit is 20,000 a process), and so that its memory is the server's alone.
struct EchoChild {
    child: std::process::Child,
    url: String,
}

impl EchoChild {
    fn start() -> Result<EchoChild, BoxErr> {
        use std::io::BufRead;
        let mut child = std::process::Command::new(std::env::current_exe()?)
            .args(["serve", "scale-echo"])
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        let port = child
            .stdout
            .take()
            .map(std::io::BufReader::new)
            .and_then(|out| {
                out.lines()
                    .take(20)
                    .map_while(Result::ok)
                    .find_map(|l| l.strip_prefix("PORT ").map(str::to_string))
            });
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            return Err("the scale-echo server did not start".into());
        };
        Ok(EchoChild {
            child,
            url: format!("PYRO:echo@127.0.0.1:{port}"),
        })
    }

    /// The server process's resident memory, in bytes.
    fn rss(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kb * 1024)
    }
}

impl Drop for EchoChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server's resident memory per open connection, by connections open.
struct Memory(Vec<(usize, Option<f64>)>);

impl Memory {
    fn print(&self) {
        println!();
        println!("### server memory per open connection (a fresh echo server's resident memory with them open, less its own before them, divided by the connections; target ≤ 8 KiB). The last column is what each connection added beyond the previous row's: the allocator's fixed part (its per-thread heaps, taken as the first connections arrive) drops out of it");
        println!();
        println!("| open connections | bytes each | added per connection |");
        println!("|---:|---:|---:|");
        let mut before: Option<(usize, f64)> = None;
        for (n, b) in &self.0 {
            let added = match (before, b) {
                (Some((m, total)), Some(b)) if *n > m => {
                    format!("{:.0}", (b * *n as f64 - total) / (*n - m) as f64)
                }
                _ => "–".to_string(),
            };
            match b {
                Some(b) => println!("| {n} | {b:.0} | {added} |"),
                None => println!("| {n} | – | – |"),
            }
            before = b.map(|b| (*n, b * *n as f64));
        }
    }
}

async fn connections(quick: bool) -> Result<(Curve, Curve, Memory), BoxErr> {
    let p = protocol("pyro5")?;
    let counts: &[usize] = if quick {
        &[1, 64, 1000]
    } else {
        &[1, 64, 1000, 10_000]
    };
    let (mut connect, mut beside, mut memory) = (Vec::new(), Vec::new(), Vec::new());
    for &n in counts {
        // A fresh server for each count: memory freed by an earlier count's connections and
        // kept by the allocator would otherwise be reused and not show.
        let server = EchoChild::start()?;
        let url = server.url.clone();
        // The server's memory once it has served one connection and dropped it (its runtime,
        // buffers and tables warm): the base the connections' memory is counted from.
        p.proxy(&url, &msgpack())?
            .invoke(Call::new("echo", vec![Value::Int(1)]))
            .await?;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let base = server.rss();
        let start = Instant::now();
        let mut held: Vec<Arc<dyn Invoker>> = Vec::with_capacity(n);
        // 64 at a time: each connects and calls once.
        for chunk in (0..n).collect::<Vec<_>>().chunks(64) {
            let mut tasks = Vec::new();
            for _ in chunk {
                let c = p.proxy(&url, &msgpack())?;
                held.push(c.clone());
                tasks.push(tokio::spawn(async move {
                    c.invoke(Call::new("echo", vec![Value::Int(1)])).await
                }));
            }
            for t in tasks {
                t.await??;
            }
        }
        connect.push((n as f64, start.elapsed().as_secs_f64()));
        let t = mean_echo(held[0].as_ref(), &Value::Int(1)).await?;
        beside.push((n as f64, t));
        let per = match (base, server.rss()) {
            (Some(b), Some(now)) => Some(now.saturating_sub(b) as f64 / n as f64),
            _ => None,
        };
        memory.push((n, per));
        drop(held);
    }
    Ok((
        Curve {
            name: "clients",
            x_unit: "clients",
            what: "connect and call once each, 64 at a time",
            points: connect,
            flat: false,
        },
        Curve {
            name: "idle connections",
            x_unit: "open connections",
            what: "one call's latency beside them (flat is right)",
            points: beside,
            flat: true,
        },
        Memory(memory),
    ))
}

async fn context(quick: bool) -> Result<(Curve, Curve), BoxErr> {
    let sizes: &[usize] = if quick {
        &[10_000, 20_000, 40_000]
    } else {
        &[10_000, 20_000, 45_000, 90_000, 180_000]
    };
    let (mut start_pts, mut close_pts) = (Vec::new(), Vec::new());
    for &n in sizes {
        let mut xml = String::with_capacity(n * 64);
        xml.push_str(
            "<objects xmlns=\"http://www.springframework.org/springpython/schema/objects/1.1\">\n",
        );
        for i in 0..n {
            xml.push_str(&format!(
                "  <object id=\"o{i}\" class=\"tether.echo.EchoService\"/>\n"
            ));
        }
        xml.push_str("</objects>\n");
        let t = Instant::now();
        let ctx = tether::ApplicationContext::builder()
            .registry(tether::ClassRegistry::from_inventory())
            .xml_str(xml, Some("scale.xml"))
            .start()
            .await?;
        start_pts.push((n as f64, t.elapsed().as_secs_f64()));
        let t = Instant::now();
        ctx.close().await;
        close_pts.push((n as f64, t.elapsed().as_secs_f64()));
    }
    Ok((
        Curve {
            name: "context start",
            x_unit: "objects",
            what: "parse, build and start an XML context",
            points: start_pts,
            flat: false,
        },
        Curve {
            name: "context close",
            x_unit: "objects",
            what: "close it (every object's shutdown)",
            points: close_pts,
            flat: false,
        },
    ))
}

async fn pool(url: &str, quick: bool) -> Result<Curve, BoxErr> {
    let p = protocol("pyro5")?;
    let sizes: &[usize] = if quick {
        &[3, 30, 300]
    } else {
        &[3, 30, 300, 1000]
    };
    let mut points = Vec::new();
    for &m in sizes {
        let config = tether_cluster::PoolConfig {
            idempotent: ["echo".to_string()].into_iter().collect(),
            ..tether_cluster::PoolConfig::default()
        };
        let pool = tether_cluster::Pool::new("scale", config);
        for i in 0..m {
            // Distinct members (one connection each) on the same server.
            pool.add(&format!("{url}#{i}"), p.proxy(url, &msgpack())?);
        }
        for _ in 0..2 * m {
            pool.call(Call::new("echo", vec![Value::Int(1)])).await?;
        }
        let t = mean_echo(&pool, &Value::Int(1)).await?;
        points.push((m as f64, t));
    }
    Ok(Curve {
        name: "pool members",
        x_unit: "members",
        what: "one call through the pool, round robin (flat is right)",
        points,
        flat: true,
    })
}

fn name_server(quick: bool) -> Result<(Curve, Curve), BoxErr> {
    use tether_pyro::naming::{NameServer, Store};
    let sizes: &[usize] = if quick {
        &[1000, 4000, 16_000]
    } else {
        &[1000, 10_000, 30_000, 100_000]
    };
    let (mut reg, mut look) = (Vec::new(), Vec::new());
    for &n in sizes {
        let ns = NameServer::new(Store::memory(), "PYRO:Pyro.NameServer@127.0.0.1:9090")?;
        let t = Instant::now();
        for i in 0..n {
            ns.handle(Call::new(
                "register",
                vec![
                    Value::Str(format!("svc.{i}")),
                    Value::Str(format!("PYRO:obj{i}@127.0.0.1:{}", 1024 + i % 60_000)),
                ],
            ))?;
        }
        reg.push((n as f64, t.elapsed().as_secs_f64()));
        let lookups = 10_000;
        let t = Instant::now();
        for i in 0..lookups {
            ns.handle(Call::new(
                "lookup",
                vec![Value::Str(format!("svc.{}", (i * 7919) % n))],
            ))?;
        }
        look.push((n as f64, t.elapsed().as_secs_f64() / lookups as f64));
    }
    Ok((
        Curve {
            name: "name server register",
            x_unit: "entries",
            what: "register that many names (in memory)",
            points: reg,
            flat: false,
        },
        Curve {
            name: "name server lookup",
            x_unit: "entries",
            what: "one lookup among them (flat is right)",
            points: look,
            flat: true,
        },
    ))
}

/// Hessian 2 decoding of a list of n objects (three fields each).
fn hessian_decode(quick: bool) -> Result<Curve, BoxErr> {
    use tether_hessian::codec::{decode_h2, encode_h2, Limits};
    let sizes: &[usize] = if quick {
        &[1000, 10_000]
    } else {
        &[1000, 10_000, 100_000]
    };
    let mut points = Vec::new();
    for &n in sizes {
        let list = Value::List(
            (0..n)
                .map(|i| {
                    Value::object(
                        "example.Person",
                        vec![
                            ("name".into(), Value::str("Ann")),
                            ("age".into(), Value::Int32((i % 90) as i32)),
                            ("tags".into(), Value::List(vec![Value::str("t1")])),
                        ],
                    )
                })
                .collect(),
        );
        let mut bytes = Vec::new();
        encode_h2(&list, &mut bytes)?;
        let limits = Limits::default();
        let mut times = Vec::new();
        for _ in 0..7 {
            let t = Instant::now();
            let v = decode_h2(&bytes, &limits)?;
            times.push(t.elapsed().as_secs_f64());
            drop(v);
        }
        times.sort_by(f64::total_cmp);
        points.push((n as f64, times[times.len() / 2]));
    }
    Ok(Curve {
        name: "Hessian decode",
        x_unit: "objects in a list",
        what: "decode_h2 of the list, median of 7",
        points,
        flat: false,
    })
}

/// Endpoints followed from etcd: a watch's first list of N, and one more endpoint seen.
/// `Err` names why there is no etcd to measure against (not installed, did not start).
async fn etcd(quick: bool) -> Result<Result<(Curve, Curve), String>, BoxErr> {
    use tether_cluster::discovery::etcd::Watch;
    use tether_cluster::discovery::EtcdClient;
    let server = match tether_test_support::LocalEtcd::start() {
        Ok(s) => s,
        Err(why) => return Ok(Err(why)),
    };
    let client = EtcdClient::new(&server.endpoint)?;
    let sizes: &[usize] = if quick {
        &[10, 100, 1000]
    } else {
        &[10, 100, 1000, 10_000]
    };
    let (mut first, mut one_more) = (Vec::new(), Vec::new());
    let mut have = 0;
    for &n in sizes {
        while have < n {
            client
                .put(
                    &format!("/scale/{have}"),
                    &format!("PYRO:obj@10.0.{}.{}:9090", have / 250, have % 250),
                    None,
                )
                .await?;
            have += 1;
        }
        let t = Instant::now();
        let watch = Watch::start(client.clone(), "/scale/").await?;
        first.push((n as f64, t.elapsed().as_secs_f64()));
        let mut rx = watch.subscribe();
        // The median of seven: a put waits for etcd's disk sync, which now and then takes tens
        // of milliseconds whatever the number of endpoints.
        let mut times = Vec::new();
        for _ in 0..7 {
            let t = Instant::now();
            client
                .put(
                    &format!("/scale/{have}"),
                    &format!("PYRO:obj@10.0.{}.{}:9090", have / 250, have % 250),
                    None,
                )
                .await?;
            have += 1;
            tokio::time::timeout(Duration::from_secs(30), async {
                while rx.borrow().len() < have {
                    if rx.changed().await.is_err() {
                        break;
                    }
                }
            })
            .await?;
            times.push(t.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        one_more.push((n as f64, times[times.len() / 2]));
    }
    drop(server);
    Ok(Ok((
        Curve {
            name: "etcd: endpoints listed",
            x_unit: "endpoints",
            what: "a watch's first read of that many endpoints",
            points: first,
            flat: false,
        },
        Curve {
            name: "etcd: one more endpoint",
            x_unit: "endpoints followed",
            what: "from its put to the watch's list holding it, median of 7",
            points: one_more,
            flat: true,
        },
    )))
}

/// Runs every curve and prints it.
pub fn run(opts: &RunOpts) -> Result<(), BoxErr> {
    let quick = opts.quick;
    // --only picks curves: payload, clients, pool, context, etcd, hessian, ns.
    let want = |k: &str| opts.only.is_empty() || opts.only.iter().any(|o| o == k);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    println!("## Scale curves (in-process, loopback; growth exponent over the upper half)");
    let mut curves = Vec::new();
    let mut memory = None;
    rt.block_on(async {
        let (server, url) = echo_server()?;
        if want("payload") {
            curves.push(payload(&url, quick).await?);
        }
        if want("clients") {
            let (a, b, m) = connections(quick).await?;
            curves.push(a);
            curves.push(b);
            memory = Some(m);
        }
        if want("pool") {
            curves.push(pool(&url, quick).await?);
        }
        server.shutdown().await;
        if want("context") {
            let (a, b) = context(quick).await?;
            curves.push(a);
            curves.push(b);
        }
        if want("etcd") {
            match etcd(quick).await? {
                Ok((a, b)) => {
                    curves.push(a);
                    curves.push(b);
                }
                Err(why) => println!("\n### etcd\n\nSKIPPED: {why}"),
            }
        }
        Ok::<_, BoxErr>(())
    })?;
    if want("hessian") {
        curves.push(hessian_decode(quick)?);
    }
    if want("ns") {
        let (a, b) = name_server(quick)?;
        curves.push(a);
        curves.push(b);
    }
    for c in &curves {
        c.print();
    }
    if let Some(m) = memory {
        m.print();
    }
    Ok(())
}
