//! `run FILE.xml... [--log LEVEL]`: load contexts, serve until SIGINT/SIGTERM, shut down
//! gracefully. A library call so that a user's own binary (with its classes registered) gets
//! the same command line as the `tether` binary.

use crate::{ApplicationContext, ClassRegistry};
use std::path::PathBuf;
use std::process::ExitCode;

/// What `run` was asked to do.
#[derive(Debug, PartialEq, Eq)]
pub struct RunArgs {
    /// The context files, in order.
    pub files: Vec<PathBuf>,
    /// The log level or filter (`debug`, `info`, `springpython=debug`); default `info`.
    pub log: String,
}

/// The usage text.
pub const USAGE: &str = "usage: run FILE.xml... [--log LEVEL]\n  \
    Loads the application context files, serves their exporters until SIGINT/SIGTERM, then shuts down gracefully.\n  \
    --log LEVEL   error, warn, info (default), debug, trace, or a tracing filter such as springpython=debug";

/// Parses `run FILE.xml... [--log LEVEL]` (the program name already removed).
pub fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<RunArgs, String> {
    let mut it = args.into_iter();
    match it.next().as_deref() {
        Some("run") => {}
        Some("-h" | "--help" | "help") => return Err(USAGE.to_string()),
        Some(other) => return Err(format!("unknown command {other:?}\n{USAGE}")),
        None => return Err(USAGE.to_string()),
    }
    let mut files = Vec::new();
    let mut log = "info".to_string();
    while let Some(a) = it.next() {
        if a == "--log" {
            log = it
                .next()
                .ok_or_else(|| format!("--log needs a level\n{USAGE}"))?;
        } else if let Some(l) = a.strip_prefix("--log=") {
            log = l.to_string();
        } else if a == "-h" || a == "--help" {
            return Err(USAGE.to_string());
        } else if a.starts_with("--") {
            return Err(format!("unknown option {a:?}\n{USAGE}"));
        } else {
            files.push(PathBuf::from(a));
        }
    }
    if files.is_empty() {
        return Err(format!("run needs at least one context file\n{USAGE}"));
    }
    Ok(RunArgs { files, log })
}

/// Installs a `tracing` subscriber printing `LEVEL target: message` lines to stderr.
pub fn init_logging(filter: &str) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .map_err(|e| format!("bad --log value {filter:?}: {e}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init()
        .map_err(|e| format!("cannot install the logger: {e}"))
}

/// Parses `std::env::args`, runs the contexts with `registry`, and returns the exit code.
pub fn run_main(registry: ClassRegistry) -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = init_logging(&args.log) {
        eprintln!("{e}");
        return ExitCode::from(2);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        match run(registry, &args.files).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Starts one context over `files`, waits for SIGINT/SIGTERM, closes it.
pub async fn run(registry: ClassRegistry, files: &[PathBuf]) -> Result<(), crate::ContextError> {
    let mut b = ApplicationContext::builder().registry(registry);
    for f in files {
        b = b.xml_file(f);
    }
    let ctx = b.start().await?;
    let servers = ctx.holder().server_addrs();
    tracing::info!(target: "tether.run", "context started ({} objects, serving on {:?}); waiting for SIGINT/SIGTERM",
        ctx.singleton_ids().len(), servers);
    wait_for_signal().await;
    tracing::info!(target: "tether.run", "shutting down");
    ctx.close().await;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM (SIGINT only off Unix).
pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn parses_run() {
        let a = parse_args(s(&["run", "a.xml", "b.xml", "--log", "debug"])).unwrap();
        assert_eq!(
            a.files,
            vec![PathBuf::from("a.xml"), PathBuf::from("b.xml")]
        );
        assert_eq!(a.log, "debug");
        assert_eq!(
            parse_args(s(&["run", "--log=warn", "a.xml"])).unwrap().log,
            "warn"
        );
        assert!(parse_args(s(&["run"])).is_err());
        assert!(parse_args(s(&["serve", "a.xml"])).is_err());
        assert!(parse_args(s(&["run", "a.xml", "--log"])).is_err());
        assert!(parse_args(s(&["run", "a.xml", "--bogus"])).is_err());
    }
}
