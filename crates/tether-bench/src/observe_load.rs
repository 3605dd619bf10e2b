//! What the observability rows drive and read: the client load ([`drive`], [`warm`]), what
//! a slice of it measured ([`Sample`]), the placebo object, the OTLP receiver standing in for a
//! collector ([`Sink`]), and pinning the client to a CPU. Shared by the rows that compare
//! server processes ([`crate::observe_rows`]) and the rows within one server
//! ([`crate::observe_pair`]).

use crate::drive::BoxErr;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tether_core::{Call, Invoker, Value};

/// How many rounds of arithmetic the [`Placebo`] spins per call: about 600 instructions, what
/// the call metrics add to a Pyro5 server's call (both measured with callgrind), touching no
/// memory but its stack.
const PLACEBO_ROUNDS: u64 = 84;

/// An object that spins [`PLACEBO_ROUNDS`] before each call of the one it wraps: a known,
/// small cost per call, with no observer, so each row shows what a server that is that much
/// slower reads there. A row that moves much more than the placebo's share of a call measures
/// the load's balance between client and server, not the cost added.
pub(crate) struct Placebo(pub(crate) Arc<dyn tether_core::Dispatch>);

impl Placebo {
    fn spin() {
        let mut x = std::hint::black_box(0x9E37_79B9_7F4A_7C15u64);
        for i in 0..PLACEBO_ROUNDS {
            // Through black_box each round: the loop is run, not folded.
            x = std::hint::black_box(x.wrapping_mul(0xBF58_476D_1CE4_E5B9).wrapping_add(i));
        }
        std::hint::black_box(x);
    }
}

impl tether_core::Dispatch for Placebo {
    fn methods(&self) -> &[tether_core::MethodInfo] {
        self.0.methods()
    }
    fn attrs(&self) -> &[tether_core::AttrInfo] {
        self.0.attrs()
    }
    fn method(&self, name: &str) -> Option<&tether_core::MethodInfo> {
        self.0.method(name)
    }
    fn dispatch(
        &self,
        call: Call,
    ) -> tether_core::BoxFuture<'_, Result<Value, tether_core::RemoteError>> {
        Self::spin();
        self.0.dispatch(call)
    }
    fn dispatch_reply(
        &self,
        call: Call,
    ) -> tether_core::BoxFuture<'_, Result<tether_core::Reply, tether_core::RemoteError>> {
        Self::spin();
        self.0.dispatch_reply(call)
    }
}

/// An OTLP/HTTP receiver that answers 200 to every request and counts the requests and their
/// bytes (it does not decode them: the spans' content is tested elsewhere). It stands in for a
/// collector on another machine: in the split placement its threads keep to the client's CPU
/// (see [`Sink::keep_to`]), so reading the spans does not take the server's CPU from it.
pub(crate) struct Sink {
    pub(crate) port: u16,
    pub(crate) requests: Arc<AtomicU64>,
    pub(crate) bytes: Arc<AtomicU64>,
    /// The CPU that connections accepted from now on are read on (`usize::MAX`: any).
    cpu: Arc<AtomicUsize>,
}

impl Sink {
    pub(crate) fn start() -> Result<Sink, BoxErr> {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = l.local_addr()?.port();
        let requests = Arc::new(AtomicU64::new(0));
        let bytes = Arc::new(AtomicU64::new(0));
        let cpu = Arc::new(AtomicUsize::new(usize::MAX));
        let (r, b, c) = (requests.clone(), bytes.clone(), cpu.clone());
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let (r, b) = (r.clone(), b.clone());
                let on = c.load(Ordering::Relaxed);
                std::thread::spawn(move || {
                    if on != usize::MAX {
                        pin_self(on);
                    }
                    let _ = Self::serve(s, &r, &b);
                });
            }
        });
        Ok(Sink {
            port,
            requests,
            bytes,
            cpu,
        })
    }

    /// Reads the connections accepted from now on (each server process's exporter opens its
    /// own) on CPU `cpu` only.
    pub(crate) fn keep_to(&self, cpu: usize) {
        self.cpu.store(cpu, Ordering::Relaxed);
    }

    /// HTTP/1.1 with keep-alive: headers, `Content-Length` bytes, a 200, again.
    fn serve(s: std::net::TcpStream, r: &AtomicU64, b: &AtomicU64) -> std::io::Result<()> {
        let mut w = s.try_clone()?;
        let mut rd = BufReader::new(s);
        loop {
            let mut len = 0usize;
            let mut line = String::new();
            loop {
                line.clear();
                if rd.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                let l = line.trim_end();
                if l.is_empty() {
                    break;
                }
                if let Some((k, v)) = l.split_once(':') {
                    if k.eq_ignore_ascii_case("content-length") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0u8; len];
            rd.read_exact(&mut body)?;
            r.fetch_add(1, Ordering::Relaxed);
            b.fetch_add(len as u64, Ordering::Relaxed);
            w.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n")?;
        }
    }
}

/// One measurement: calls made and the server's CPU nanoseconds over `secs`.
#[derive(Default)]
pub(crate) struct Sample {
    pub(crate) calls: u64,
    pub(crate) secs: f64,
    pub(crate) cpu_ns: u64,
}

impl Sample {
    /// Adds another slice's measurement to this one.
    pub(crate) fn add(&mut self, m: &Sample) {
        self.calls += m.calls;
        self.secs += m.secs;
        self.cpu_ns += m.cpu_ns;
    }
    pub(crate) fn rate(&self) -> f64 {
        self.calls as f64 / self.secs
    }
    pub(crate) fn cpu_us(&self) -> f64 {
        self.cpu_ns as f64 / 1e3 / self.calls.max(1) as f64
    }
}

/// Warms a server up: every connection open and every series made, then the full load for a
/// while (the server is a fresh process: its allocator, caches and socket buffers settle).
pub(crate) async fn warm(proxies: &[Arc<dyn Invoker>], secs: f64) -> Result<(), BoxErr> {
    let call = || Call::new("echo", vec![Value::str("Hello")]);
    for p in proxies {
        for _ in 0..50 {
            p.invoke(call()).await?;
        }
    }
    let warm_until = Instant::now() + Duration::from_secs_f64((secs / 4.0).min(0.5));
    futures::future::try_join_all(proxies.iter().map(|p| async move {
        while Instant::now() < warm_until {
            p.invoke(call()).await?;
        }
        Ok::<(), BoxErr>(())
    }))
    .await?;
    Ok(())
}

/// `conns` proxies (a connection each) calling `echo("Hello")` for `secs`: back to back, or
/// paced to `rate` calls/s in all (each connection at its share, started a share apart; a
/// connection that falls behind catches up back to back). Pacing spins on the client's CPU,
/// so it is used where the client has a CPU of its own (split).
pub(crate) async fn drive(
    proxies: &[Arc<dyn Invoker>],
    secs: f64,
    pid: u32,
    rate: Option<f64>,
    settle: Duration,
) -> Result<Sample, BoxErr> {
    let call = || Call::new("echo", vec![Value::str("Hello")]);
    let before = crate::cpu::process_cpu_ns(pid).ok_or("no server CPU time")?;
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(secs);
    let each = rate.map(|r| Duration::from_secs_f64(proxies.len() as f64 / r.max(1.0)));
    let n_conns = proxies.len() as u32;
    let counts =
        futures::future::try_join_all(proxies.iter().zip(0u32..).map(|(p, k)| async move {
            let mut n = 0u64;
            let mut due = start + each.map_or(Duration::ZERO, |d| d * k / n_conns);
            while Instant::now() < until {
                if let Some(d) = each {
                    while Instant::now() < due {
                        tokio::task::yield_now().await;
                    }
                    due += d;
                }
                p.invoke(call()).await?;
                n += 1;
            }
            Ok::<u64, BoxErr>(n)
        }))
        .await?;
    let took = start.elapsed().as_secs_f64();
    // The spans of the last moments leave within the schedule delay: wait `settle` for them,
    // so their export counts here and does not run into the next server's measurement.
    tokio::time::sleep(settle).await;
    let after = crate::cpu::process_cpu_ns(pid).ok_or("no server CPU time")?;
    Ok(Sample {
        calls: counts.iter().sum(),
        secs: took,
        cpu_ns: crate::cpu::cpu_between(before, after),
    })
}

/// Keeps this process (the client) on CPU `cpu`; false where the machine has no such CPU.
pub(crate) fn pin_self(cpu: usize) -> bool {
    if std::thread::available_parallelism().map_or(1, |n| n.get()) <= cpu {
        return false;
    }
    // SAFETY: the set is a plain bit mask on the stack, sized as the call is told.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}
