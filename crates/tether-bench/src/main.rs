//! # tether-bench: tether against raw TCP, tarpc and Python Pyro5/Pyro4, side by side, in one run
//!
//! `scripts/bench.sh` builds this in release and runs it. It is a benchmark, not a test: it
//! asserts nothing, it prints tables of calls/s, latency and the ratio of every row to raw TCP
//! measured in the same run, then checks the targets of the benchmark issue.
//!
//! Every measurement runs a server process and a client process, both this binary (hidden
//! `serve`/`client` subcommands) or the Python peer script, so `taskset` can place them:
//! - **pinned**: both on CPU 0. A round trip then costs what the software costs; on this 2-vCPU
//!   machine a wake-up across CPUs costs ~75 µs, which would otherwise hide it.
//! - **split**: server on CPU 0, client on CPU 1, as a deployment would run.
//!
//! Modules: `workload` (rows, result lines), `drive` (the timed client loops), `raw` (the
//! baseline), `tarpc_echo` (the Rust competitor), `tether_rows` (tether's daemon and proxy;
//! `serve tether-service`: the same echo with the dispatcher `#[tether::service]` generates),
//! `orchestrate` (processes, pinning, tables), and the row groups that stand apart: `pool_rows`,
//! `gateway_rows`, `observe_rows` (what tracing and metrics cost a server), `scale` (`--scale`),
//! `http_floor` (`serve http-floor:hessian|xmlrpc`: the least a server can spend on an HTTP
//! peer's call, for reading the foreign-client rows), and `pyro5_frames` (`client
//! pyro5-frames`: a Pyro5 load far cheaper per call than a proxy, to saturate a server),
//! `pyro_floor` (`serve pyro-floor`: the least a server can spend on a Python Pyro5 or Pyro4
//! client's call), and `footprint` (`serve raw-tokio:code|loop`: the raw echo with the same
//! extra instructions straight or in a loop, for what a call's code footprint costs).

/// The `tether` binary's allocator (mimalloc, arenas committed as used) for every block under
/// 256 KiB, so the calls of every row cost what they cost in `tether`; larger blocks (the 1 MiB
/// rows' buffers) from glibc's allocator, tuned below to keep freed memory. mimalloc hands a
/// 1 MiB block that was just freed out again as memory to fault in: the raw rows, which
/// allocate a reply buffer per echo, then took twice as long (0.8 -> 1.6 ms) while tether's,
/// which keep their buffers, did not change, a ratio flattering tether for the allocator's
/// sake. Each block's allocator follows from its size, so a free finds it again.
struct BenchAlloc;

/// Blocks of this size and more come from glibc's allocator.
const LARGE_BLOCK: usize = 256 * 1024;

// SAFETY: every block is allocated and freed by the same allocator, chosen by its size (which
// `dealloc` and `realloc` are given); a `realloc` across the threshold moves the block.
unsafe impl std::alloc::GlobalAlloc for BenchAlloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        if layout.size() >= LARGE_BLOCK {
            std::alloc::System.alloc(layout)
        } else {
            Mimalloc.alloc(layout)
        }
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        if layout.size() >= LARGE_BLOCK {
            std::alloc::System.alloc_zeroed(layout)
        } else {
            Mimalloc.alloc_zeroed(layout)
        }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        if layout.size() >= LARGE_BLOCK {
            std::alloc::System.dealloc(ptr, layout)
        } else {
            Mimalloc.dealloc(ptr, layout)
        }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        match (layout.size() >= LARGE_BLOCK, new >= LARGE_BLOCK) {
            (true, true) => std::alloc::System.realloc(ptr, layout, new),
            (false, false) => Mimalloc.realloc(ptr, layout, new),
            _ => {
                let Ok(to) = std::alloc::Layout::from_size_align(new, layout.align()) else {
                    return std::ptr::null_mut();
                };
                let moved = self.alloc(to);
                if !moved.is_null() {
                    std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new));
                    self.dealloc(ptr, layout);
                }
                moved
            }
        }
    }
}

tether_cli::mimalloc_type!(Mimalloc);

#[global_allocator]
static ALLOC: BenchAlloc = BenchAlloc;

tether_cli::mimalloc_lazy_commit!();

mod chart;
mod cpu;
mod crypto_floor;
mod drive;
mod footprint;
mod gateway_rows;
mod get_data;
mod hessian_rows;
mod http_floor;
mod observe_load;
mod observe_loop;
mod observe_pair;
mod observe_rows;
mod opts;
mod orchestrate;
mod pool_rows;
mod pyro3_rows;
mod pyro5_frames;
mod pyro_floor;
mod raw;
mod scale;
mod served;
mod tarpc_echo;
mod tether_rows;
mod workload;
mod xmlrpc_rows;

use clap::{Parser, Subcommand};
use drive::BoxErr;
use std::time::Duration;
use workload::{ClientOpts, Workload};

#[derive(Parser)]
#[command(
    name = "tether-bench",
    about = "tether vs raw TCP, tarpc and Python Pyro5 (see scripts/bench.sh)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    run: opts::RunOpts,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve one echo implementation on 127.0.0.1 and print `PORT <n>` (internal).
    #[command(hide = true)]
    Serve {
        /// raw-std, raw-tokio, raw-tls, tarpc, tether or tether-tls.
        kind: String,
    },
    /// Call an observed echo object in a loop and print one LOOP line (internal).
    #[command(hide = true)]
    ObserveLoop {
        /// off, metrics, tracing or on.
        mode: String,
        /// Calls to time.
        calls: u64,
    },
    /// Run one client workload and print one RESULT line (internal).
    #[command(hide = true)]
    Client {
        /// raw-std, raw-tokio, raw-tls, tarpc, tether, tether4 (the Pyro4 wire) or tether-tls.
        kind: String,
        /// host:port of the server.
        addr: String,
        /// seq, conc or big.
        workload: String,
        /// Seconds to measure.
        secs: f64,
        /// Seconds of warm-up.
        warmup: f64,
        /// Connections for the conc workload.
        conns: usize,
    },
}

/// Keeps glibc from handing 1 MiB buffers back to the kernel after every call.
///
/// By default glibc serves a 1 MiB allocation with a fresh `mmap` (or trims the heap top when
/// it is freed), so every 1 MiB echo page-faults its buffers in again: ~500 faults per call in
/// the client, more than the transfer itself costs. That would bury the differences between the
/// stacks under allocator noise, so every Rust process of the benchmark (raw, tarpc and tether
/// alike) keeps freed memory instead. A service moving big payloads can do the same
/// (`MALLOC_MMAP_THRESHOLD_`/`MALLOC_TRIM_THRESHOLD_` environment variables, or another allocator).
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before any thread is spawned.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}

/// Gives `tracing` a subscriber that takes nothing, as tether's own commands always have one
/// (their log, at `info` unless asked otherwise): a debug span is then decided off once per
/// call site. Without any subscriber, `tracing` hands every span it skips to the `log` crate
/// instead (its `log` feature is on in this build, through tarpc), a cost per call that the
/// `tether` binary does not have.
fn quiet_tracing() {
    let _ = tracing::subscriber::set_global_default(tracing::subscriber::NoSubscriber::default());
}

fn main() {
    tune_malloc();
    quiet_tracing();
    let cli = Cli::parse();
    let result = match cli.cmd {
        None if cli.run.scale => scale::run(&cli.run),
        None => orchestrate::run(&cli.run),
        Some(Cmd::Serve { kind }) => serve(&kind),
        Some(Cmd::ObserveLoop { mode, calls }) => observe_loop::child(&mode, calls),
        Some(Cmd::Client {
            kind,
            addr,
            workload,
            secs,
            warmup,
            conns,
        }) => client(&kind, addr, &workload, secs, warmup, conns),
    };
    if let Err(e) = result {
        eprintln!("tether-bench: {e}");
        std::process::exit(1);
    }
}

/// The servers' tokio runtime, the same for every Rust server (the raw rows' included): the
/// `tether` binary's rule ([`tether_cli::runtime`]), one thread when the process may use one
/// CPU (`taskset -c N`, the pinned and split placements), else a worker per CPU.
fn runtime() -> Result<tokio::runtime::Runtime, BoxErr> {
    Ok(tether_cli::runtime()?)
}

/// The clients' tokio runtime: current-thread, so the timed loop polls the socket itself.
///
/// With a multi-thread runtime, `block_on` runs the loop on the main thread while the I/O
/// driver runs on a worker, which adds a thread wake-up to every call (a futex round trip, as
/// much as the RPC stacks' own cost) and would measure the harness instead of the stacks. A
/// client process has one CPU anyway.
fn client_runtime() -> Result<tokio::runtime::Runtime, BoxErr> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn announce(port: u16) {
    println!("PORT {port}");
}

fn serve(kind: &str) -> Result<(), BoxErr> {
    match kind {
        "raw-std" => {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            announce(l.local_addr()?.port());
            raw::serve_std(l)
        }
        "raw-tokio" => runtime()?.block_on(async {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            announce(l.local_addr()?.port());
            raw::serve_tokio(l).await
        }),
        "raw-tokio:code" | "raw-tokio:loop" => runtime()?.block_on(async {
            let pad = footprint::Pad::of(kind).ok_or("unknown pad")?;
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            announce(l.local_addr()?.port());
            footprint::serve(l, pad).await
        }),
        "raw-tls" => runtime()?.block_on(async {
            let tls = tether_rows::server_tls()?;
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            announce(l.local_addr()?.port());
            raw::serve_tls(l, tls).await
        }),
        "tarpc" => runtime()?.block_on(async {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            announce(l.local_addr()?.port());
            tarpc_echo::serve(l).await
        }),
        "tether" => runtime()?.block_on(tether_rows::serve(announce, false)),
        "tether-tls" => runtime()?.block_on(tether_rows::serve(announce, true)),
        "tether-service" => runtime()?.block_on(tether_rows::serve_service(announce)),
        "hessian" => runtime()?.block_on(hessian_rows::serve(announce)),
        "scale-echo" => runtime()?.block_on(scale::serve_echo(announce)),
        "pyro3" => runtime()?.block_on(pyro3_rows::serve(announce)),
        "xmlrpc" | "xmlrpc-tls" | "xmlrpc-mtls" => {
            runtime()?.block_on(xmlrpc_rows::serve(announce, xmlrpc_rows::Link::of(kind)))
        }
        "http-floor:xmlrpc-mtls" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(async {
                let tls = xmlrpc_rows::server_tls(xmlrpc_rows::Link::Mutual)?
                    .ok_or("no TLS for mutual TLS")?;
                let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                announce(l.local_addr()?.port());
                http_floor::serve_tls("xmlrpc-mtls", l, tls).await
            }),
        "pyro-floor:pyro3" => {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            announce(l.local_addr()?.port());
            pyro_floor::serve_pyro3(l)
        }
        "pyro-floor" => {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            announce(l.local_addr()?.port());
            pyro_floor::serve(l)
        }
        other if other.starts_with("http-floor:") => {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            announce(l.local_addr()?.port());
            http_floor::serve(&other["http-floor:".len()..], l)
        }
        other if other.starts_with("wire:") => {
            runtime()?.block_on(gateway_rows::serve_wire(&other["wire:".len()..]))
        }
        "observed:pair" => runtime()?.block_on(observe_pair::serve()),
        other if other.starts_with("observed:") => {
            runtime()?.block_on(observe_rows::serve(&other["observed:".len()..]))
        }
        other if other.starts_with("gateway:") => {
            runtime()?.block_on(gateway_rows::serve_gateway(&other["gateway:".len()..]))
        }
        other => Err(format!("unknown server kind {other:?}").into()),
    }
}

fn client(
    kind: &str,
    addr: String,
    workload: &str,
    secs: f64,
    warmup: f64,
    conns: usize,
) -> Result<(), BoxErr> {
    let opts = ClientOpts {
        addr,
        workload: Workload::parse(workload)
            .ok_or_else(|| format!("unknown workload {workload:?}"))?,
        secs: Duration::from_secs_f64(secs),
        warmup: Duration::from_secs_f64(warmup),
        conns,
    };
    let a = opts.addr.clone();
    let m = match kind {
        "raw-std" => drive::run_sync(&opts, || raw::StdClient::connect(&a))?,
        "raw-tokio" | "raw-tokio:code" | "raw-tokio:loop" => {
            client_runtime()?.block_on(drive::run_async(&opts, || {
                raw::TokioClient::connect(a.clone())
            }))?
        }
        "raw-tls" => {
            let tls = tether_rows::client_tls()?;
            client_runtime()?.block_on(drive::run_async(&opts, || {
                raw::TlsClient::connect(a.clone(), tls.clone())
            }))?
        }
        "tarpc" => client_runtime()?.block_on(drive::run_async(&opts, || {
            tarpc_echo::TarpcClient::connect(a.clone())
        }))?,
        "xmlrpc" | "xmlrpc-tls" | "xmlrpc-mtls" => {
            let link = xmlrpc_rows::Link::of(kind);
            client_runtime()?.block_on(drive::run_async(&opts, || {
                let a = a.clone();
                async move { xmlrpc_rows::XmlRpcClient::connect(&a, link) }
            }))?
        }
        "pyro3" => client_runtime()?.block_on(drive::run_async(&opts, || {
            let a = a.clone();
            async move { pyro3_rows::Pyro3Client::connect(&a) }
        }))?,
        "hessian" => client_runtime()?.block_on(drive::run_async(&opts, || {
            let a = a.clone();
            async move { hessian_rows::HessianClient::connect(&a) }
        }))?,
        // The light Pyro5 load generator (`PYRO:obj@host:port` as the address).
        "pyro5-frames" => client_runtime()?.block_on(drive::run_async(&opts, || {
            let a = a.clone();
            async move { pyro5_frames::FrameClient::connect(&a).await }
        }))?,
        "tether" | "tether4" | "tether-tls" | "tether-service" => {
            let wire = if kind == "tether4" {
                tether_pyro::WireVersion::Pyro4
            } else {
                tether_pyro::WireVersion::Pyro5
            };
            let tls = kind == "tether-tls";
            client_runtime()?.block_on(drive::run_async(&opts, || {
                let a = a.clone();
                async move { tether_rows::TetherClient::connect(&a, wire, tls) }
            }))?
        }
        other => return Err(format!("unknown client kind {other:?}").into()),
    };
    println!("{m}");
    Ok(())
}
