//! `tether run FILE.xml... [--log LEVEL]`: load contexts, serve until SIGINT/SIGTERM, shut down
//! gracefully.

use crate::logging::init_logging;
use std::path::PathBuf;
use std::process::ExitCode;
use tether::context::{ApplicationContext, ClassRegistry};

#[derive(clap::Args, Debug)]
pub(crate) struct RunArgs {
    /// The context files, in order (later definitions win).
    #[arg(required = true, value_name = "FILE.xml")]
    files: Vec<PathBuf>,
    /// Log level or tracing filter: error, warn, info, debug, trace, or e.g. `springpython=debug`.
    #[arg(long, default_value = "info")]
    log: String,
}

pub(crate) async fn run(registry: ClassRegistry, args: RunArgs) -> ExitCode {
    if let Err(e) = init_logging(&args.log) {
        eprintln!("tether: {e}");
        return ExitCode::from(2);
    }
    // Watch for signals from the start, so one that arrives while the context is starting
    // still ends in a graceful shutdown.
    let signalled = tokio::spawn(tether::context::wait_for_signal());
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
    tracing::info!(target: "tether.run", "context started ({} objects, serving on {:?}); waiting for SIGINT/SIGTERM",
        ctx.singleton_ids().len(), ctx.holder().server_addrs());
    let _ = signalled.await;
    tracing::info!(target: "tether.run", "shutting down");
    ctx.close().await;
    ExitCode::SUCCESS
}
