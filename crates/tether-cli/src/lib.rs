//! # tether-cli: the `tether` command line, as a library
//!
//! The `tether` binary is [`run_main`] with the built-in classes. A user's own binary calls
//! [`run_main`] with a registry that also holds its classes (`server.Service`) and gets the
//! same commands:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     let registry = tether::ClassRegistry::from_inventory(); // + registry.register::<...>()
//!     tether_cli::run_main(registry)
//! }
//! ```
//!
//! One file per command, each a clap `Args` struct and one async function:
//! - `run.rs`: `run FILE.xml...` serves application contexts until SIGINT/SIGTERM.
//! - `echo.rs`: `echo-server` serves the echo service on any registered protocol.
//! - `call.rs`: `call URL METHOD [ARG...]`, tether's grpcurl.
//! - `bench.rs`: `bench URL METHOD [ARG...]`, tether's ghz.
//! - `pki.rs`: `pki DIR` writes the sample PKI.
//! - `ns.rs`: `ns` runs a Pyro name server, or with a command queries one like Pyro's `nsc`
//!   (reached through the facade's `tether::pyro`).
//! - `target.rs`: what `call` and `bench` call (a URL through the protocol registry, or an
//!   object of an application context) and how their arguments parse.
//! - `signals.rs`: SIGINT/SIGTERM for the serving commands, held from the first moment so a
//!   signal during start-up ends in a graceful shutdown, not a kill.
//! - `logging.rs`: the log subscriber (`TETHER_LOG` filter; plain lines, colour only on a
//!   terminal, or Python's `logging` layout with `--log-format python`).
//! - `allocator.rs`: [`mimalloc_allocator!`], the `tether` binary's allocator (feature
//!   `mimalloc`), for a user's binary to take as well.
//!
//! Every command but `ns` (and `echo-server -N`, which starts a name server) reaches wires only
//! through the registry's
//! [`tether::context::remoting::Protocol`]s (and their [`tether::remoting::Shell`]s for
//! printing results and reading arguments), so a new protocol is callable from the shell the
//! day it is registered.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod admin;
#[cfg(feature = "mimalloc")]
#[doc(hidden)]
pub mod allocator;
mod bench;
mod bench_report;
mod call;
mod describe;
mod duration;
mod echo;
mod gateway;
mod literal;
mod logging;
mod ns;
mod pki;
mod run;
mod signals;
mod target;

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use tether::context::ClassRegistry;

pub use logging::{init_logging, set_log_format, LogFormat};

#[derive(Parser, Debug)]
#[command(
    name = "tether",
    version,
    about = "Configuration-driven remoting for Rust (Spring Python's remoting, Pyro, ...)",
    after_help = "Environment:
  TETHER_LOG            the log filter: error, warn, info, debug, trace, or e.g. springpython=debug
                        (default: info for `run`, error for `bench`, warn for the others;
                        `tether run --log` overrides it)
  OTEL_*                OpenTelemetry's variables: spans (and log records, metrics) exported over
                        OTLP, e.g. OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME (default: off)
  TOKIO_WORKER_THREADS  run on tokio's multi-thread runtime with this many workers (default: one
                        thread when the process may use one CPU, its affinity or cgroup quota;
                        else a worker per CPU)"
)]
struct Cli {
    /// How log lines read: plain (`LEVEL target: message`) or python (`asctime - name -
    /// levelname - message`, the layout of the seed's examples).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Plain)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Load Spring Python XML application contexts and serve their exporters until SIGINT/SIGTERM.
    Run(run::RunArgs),
    /// Serve the echo service (`test.echoserver`) on a registered protocol, like Pyro5's echoserver.
    EchoServer(echo::EchoServerArgs),
    /// Call one method of a remote object (or of an object of a context) and print the result.
    Call(call::CallArgs),
    /// Load-test one method: N connections, a duration or a call count, latency percentiles.
    Bench(bench::BenchArgs),
    /// Write the sample PKI (root CA, signing CA, server and client certificates) into DIR.
    Pki(pki::PkiArgs),
    /// Run a Pyro name server, or (with a command: list, lookup, register, remove, ping, ...)
    /// query one, like Pyro's nsc.
    Ns(ns::NsArgs),
    /// Serve a remote object of one wire on another: every call is forwarded (a gateway).
    Gateway(gateway::GatewayArgs),
    /// List a remote object's methods, one a line (Pyro metadata, XML-RPC introspection).
    List(describe::ListArgs),
    /// Describe a remote object's methods and attributes (or one of them).
    Describe(describe::DescribeArgs),
    /// Print a completion script for SHELL (bash, zsh, fish, elvish, powershell) on stdout.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) on stdout: `tether man > tether.1`.
    Man,
}

impl Command {
    /// Whether the command serves until SIGINT/SIGTERM (and so holds them from the start).
    fn serves(&self) -> bool {
        match self {
            Command::Run(_) | Command::EchoServer(_) | Command::Gateway(_) => true,
            Command::Ns(a) => a.serves(),
            _ => false,
        }
    }
}

/// Parses the process's arguments and runs the command with `registry`'s classes and
/// protocols. Exit codes: 0 success, 1 a remote exception (`call`) or a failure of the
/// command, 2 a usage error; `call` documents more.
pub fn run_main(registry: ClassRegistry) -> ExitCode {
    run_with_args(registry, std::env::args_os())
}

/// [`run_main`] with explicit arguments (the first is the program name).
pub fn run_with_args<I, T>(registry: ClassRegistry, args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    set_log_format(cli.log_format);
    // Before the runtime's threads exist, so that they inherit the mask (see `signals.rs`).
    let held = cli.command.serves().then(signals::Held::hold);
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tether: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Spans are exported when OpenTelemetry's variables ask for it, in every command, and
    // flushed before the process exits (a one-shot `tether call` included).
    let telemetry = match tether::observe::TraceSettings::from_env("tether") {
        Ok(s) => {
            for u in &s.unsupported {
                eprintln!("tether: {u}");
            }
            tether::observe::init_with(s)
        }
        Err(e) => {
            eprintln!("tether: tracing is off: {e}");
            tether::observe::init_with(Default::default())
        }
    };
    let code = runtime.block_on(async move {
        match cli.command {
            Command::Run(a) => run::run(registry, a, held).await,
            Command::EchoServer(a) => echo::echo_server(registry, a, held).await,
            Command::Call(a) => call::call(registry, a).await,
            Command::Bench(a) => bench::bench(registry, a).await,
            Command::Pki(a) => pki::pki(a),
            Command::Ns(a) => ns::ns(a, held).await,
            Command::Gateway(a) => gateway::gateway(registry, a, held).await,
            Command::List(a) => describe::list(registry, a).await,
            Command::Completions { shell } => {
                let mut cmd = <Cli as clap::CommandFactory>::command();
                let mut out = Vec::new();
                clap_complete::generate(shell, &mut cmd, "tether", &mut out);
                print_all(&out)
            }
            Command::Man => {
                let cmd = <Cli as clap::CommandFactory>::command();
                let mut out = Vec::new();
                match clap_mangen::Man::new(cmd).render(&mut out) {
                    Ok(()) => print_all(&out),
                    Err(e) => {
                        eprintln!("tether man: {e}");
                        ExitCode::FAILURE
                    }
                }
            }
            Command::Describe(a) => describe::describe(registry, a).await,
        }
    });
    if !telemetry.shutdown(std::time::Duration::from_secs(10)) {
        eprintln!("tether: some spans could not be exported before exit");
    }
    code
}

/// The runtime every command runs on: one thread when the process may use one CPU, else
/// tokio's multi-thread runtime with a worker per CPU.
///
/// The CPUs are [`std::thread::available_parallelism`]'s: the process's affinity (`taskset`)
/// and its cgroup's CPU quota (a container limited to one CPU). With one CPU a multi-thread
/// runtime's worker and the main thread take turns on it anyway, and its scheduler costs every
/// server 650-680 instructions a call more than a current-thread one (clock readings for its
/// poll-time average, the work-stealing handshakes), 9% of a Pyro5 daemon's call. `TOKIO_WORKER_THREADS`,
/// when set, picks the multi-thread runtime with that many workers, as in any tokio program.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let one_cpu = std::thread::available_parallelism().is_ok_and(|n| n.get() == 1);
    if one_cpu && std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    }
}

/// Writes `bytes` on stdout (a reader that went away, as `| head` does, is not an error).
fn print_all(bytes: &[u8]) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
    ExitCode::SUCCESS
}

/// Prints a line and flushes at once: a test harness reads these lines through a pipe.
pub(crate) fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
