//! The log subscriber of every command.

/// Installs a `tracing` subscriber printing `LEVEL target: message` lines to stderr, filtered
/// by `filter` (`info`, `debug`, `springpython=debug`, ...). Colour codes only when stderr is a
/// terminal, so a log file stays plain text.
// The message is what the command prints before going on without a log subscriber.
pub fn init_logging(filter: &str) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .map_err(|e| format!("bad log filter {filter:?}: {e}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init()
        .map_err(|e| format!("cannot install the logger: {e}"))
}

/// The filter from `TETHER_LOG`, else `default`.
pub(crate) fn env_filter(default: &str) -> String {
    std::env::var("TETHER_LOG").unwrap_or_else(|_| default.to_string())
}
