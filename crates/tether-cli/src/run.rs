//! `tether run FILE.xml... [--log LEVEL]`: load contexts, serve until SIGINT/SIGTERM, shut down
//! gracefully.

use crate::logging::init_logging;
use crate::signals::Held;
use std::path::PathBuf;
use std::process::ExitCode;
use tether::context::{ApplicationContext, ClassRegistry};

#[derive(clap::Args, Debug)]
pub(crate) struct RunArgs {
    /// The context files, in order (later definitions win).
    #[arg(required = true, value_name = "FILE.xml")]
    files: Vec<PathBuf>,
    /// Log level or tracing filter: error, warn, info, debug, trace, or e.g.
    /// `springpython=debug` (default: `TETHER_LOG`, else info).
    #[arg(long)]
    log: Option<String>,
    /// Serve the admin endpoint on HOST:PORT: /metrics (Prometheus), /healthz, /readyz
    /// (port 0: a free port, printed as `admin uri: http://HOST:PORT`).
    #[arg(long, value_name = "HOST:PORT")]
    admin: Option<String>,
}

pub(crate) async fn run(registry: ClassRegistry, args: RunArgs, held: Option<Held>) -> ExitCode {
    let filter = args
        .log
        .clone()
        .unwrap_or_else(|| crate::logging::env_filter("info"));
    if let Err(e) = init_logging(&filter) {
        eprintln!("tether: {e}");
        return ExitCode::from(2);
    }
    // Signal handlers are installed now, before the context starts; a SIGTERM or SIGINT at
    // any moment of start-up (held until here since `main` began) ends in a graceful shutdown
    // once the context has started.
    let mut signals = match crate::signals::watch(held) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tether: cannot watch for signals: {e}");
            return ExitCode::FAILURE;
        }
    };
    let admin = match crate::admin::Admin::start(args.admin.as_deref()).await {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tether: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::debug!(target: "tether.run", "runtime: {}", match tokio::runtime::Handle::current().runtime_flavor() {
        tokio::runtime::RuntimeFlavor::CurrentThread => "current-thread (the process may use one CPU)",
        _ => "multi-thread",
    });
    let mut b = ApplicationContext::builder().registry(registry);
    for f in &args.files {
        b = b.xml_file(f);
    }
    let ctx = match b.start().await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tether: {e}");
            return ExitCode::FAILURE;
        }
    };
    admin.set(tether::observe::Phase::Serving);
    tracing::info!(target: "tether.run", "context started ({} objects, serving on {:?}); waiting for SIGINT/SIGTERM",
        ctx.singleton_ids().len(), ctx.holder().server_addrs());
    signals.wait().await;
    tracing::info!(target: "tether.run", "shutting down");
    signals
        .or_exit_on_second(async {
            // Not ready from here on: before exporters leave their directories and drain.
            admin.set(tether::observe::Phase::Draining);
            ctx.close().await;
            admin.stop().await;
        })
        .await;
    ExitCode::SUCCESS
}
