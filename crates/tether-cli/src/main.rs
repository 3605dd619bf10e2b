//! The `tether` command.
//!
//! Subcommands, one function each:
//! - `echo-server`: serves tether's echo service (a twin of `python -m Pyro5.utils.echoserver`)
//!   as `test.echoserver` over the Pyro5 wire; the black-box target for interop tests.
//!
//! - `run FILE.xml... [--log LEVEL]`: loads Spring Python application contexts with the built-in
//!   classes (exporters, proxies, the echo service) and serves until SIGINT/SIGTERM. A user's own
//!   binary gets the same command line, with its own classes, from
//!   `tether::context::cli::run_main(registry)`.
//!
//! Add new subcommands as variants of [`Command`] and a function below, keeping `main` a plain
//! dispatcher.

use clap::{Parser, Subcommand};
use std::io::Write;
use std::sync::Arc;
use tether_core::echo::{EchoService, ECHO_OBJECT_ID};
use tether_pyro::{Daemon, DaemonConfig};

#[derive(Parser, Debug)]
#[command(
    name = "tether",
    version,
    about = "Configuration-driven remoting for Rust"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the echo service (`test.echoserver`) over Pyro5, like Pyro5's echoserver.
    EchoServer(EchoServerArgs),
    /// Load Spring Python XML application contexts and serve their exporters until SIGINT/SIGTERM.
    Run(RunArgs),
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// The context files, in order (later definitions win).
    #[arg(required = true, value_name = "FILE.xml")]
    files: Vec<std::path::PathBuf>,
    /// Log level or tracing filter: error, warn, info, debug, trace, or e.g. `springpython=debug`.
    #[arg(long, default_value = "info")]
    log: String,
}

#[derive(clap::Args, Debug)]
struct EchoServerArgs {
    /// Host name to bind the server on.
    #[arg(short = 'H', long, default_value = "localhost")]
    host: String,
    /// Port to bind the server on (0 = any free port).
    #[arg(short, long, default_value_t = 0)]
    port: u16,
    /// Unix domain socket path to bind the server on (instead of TCP).
    #[arg(short, long)]
    unixsocket: Option<String>,
    /// Print a line for every call (the service's `verbose` attribute).
    #[arg(short, long)]
    verbose: bool,
    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Command::Run(args) = cli.command {
        return run(args);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TETHER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tether: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::EchoServer(args) => echo_server(args).await,
            Command::Run(_) => Ok(()),
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tether: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Prints and flushes at once: a test harness reads these lines through a pipe.
fn say(quiet: bool, line: &str) {
    if !quiet {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

async fn echo_server(args: EchoServerArgs) -> Result<(), tether_core::RemoteError> {
    let quiet = args.quiet && !args.verbose;
    say(quiet, "Starting tether's built-in test echo server.");
    let config = DaemonConfig {
        host: args.host.clone(),
        port: args.port,
        ..Default::default()
    };
    let daemon = match &args.unixsocket {
        Some(path) => Daemon::bind_unix(path, config).await?,
        None => Daemon::bind(config).await?,
    };
    let echo = EchoService::new(args.verbose);
    let uri = daemon.register(ECHO_OBJECT_ID, Arc::new(echo.clone()))?;
    if args.verbose {
        say(quiet, "not using a name server.");
    }
    say(quiet, &format!("object name: {ECHO_OBJECT_ID}"));
    say(quiet, &format!("echo uri: {uri}"));
    say(quiet, "echoserver running.");

    tokio::select! {
        _ = echo.shutdown_requested() => {}
        _ = terminate_signal() => {}
        _ = daemon.wait() => {}
    }
    daemon.shutdown().await;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn terminate_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

/// `tether run`: the container's own command line with the built-in classes (and any classes
/// submitted with `#[tether::component]` in crates this binary links).
fn run(args: RunArgs) -> std::process::ExitCode {
    use tether::context::{cli, ClassRegistry};
    if let Err(e) = cli::init_logging(&args.log) {
        eprintln!("tether: {e}");
        return std::process::ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tether: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(ClassRegistry::from_inventory(), &args.files)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tether: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
