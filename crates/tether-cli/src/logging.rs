//! The log subscriber of every command: `LEVEL target: message` lines by default, or Python's
//! `logging` layout (`--log-format python`: `%(asctime)s - %(name)s - %(levelname)s -
//! %(message)s`, the format the seed's examples configure), so a log read next to a Spring
//! Python one looks the same. The filter is `TETHER_LOG` in every command (or `tether run
//! --log`), with the logger names as targets (`springpython=debug`). With
//! `OTEL_LOGS_EXPORTER=otlp` the lines the filter passes are also sent over OTLP.

use std::fmt;
use std::sync::OnceLock;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// How log lines are laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `LEVEL target: message` (colour only on a terminal). The default.
    #[default]
    Plain,
    /// Python's `%(asctime)s - %(name)s - %(levelname)s - %(message)s` (UTC).
    Python,
}

static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// Chooses the layout for the commands of this process (the first choice wins).
pub fn set_log_format(format: LogFormat) {
    let _ = FORMAT.set(format);
}

/// Installs a `tracing` subscriber printing to stderr, filtered by `filter` (`info`, `debug`,
/// `springpython=debug`, ...), in the layout chosen with [`set_log_format`].
// The message is what the command prints before going on without a log subscriber.
pub fn init_logging(filter: &str) -> Result<(), String> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .map_err(|e| format!("bad log filter {filter:?}: {e}"))?;
    // The OTLP logs exporter's layer (when OTEL_LOGS_EXPORTER=otlp started one) sees what the
    // filter lets through, as the printed lines do.
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(tether::observe::otlp_logs::layer());
    let printed = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    match FORMAT.get().copied().unwrap_or_default() {
        LogFormat::Plain => registry
            .with(printed.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())))
            .try_init(),
        LogFormat::Python => registry
            .with(printed.with_ansi(false).event_format(PythonFormat))
            .try_init(),
    }
    .map_err(|e| format!("cannot install the logger: {e}"))
}

/// The filter from `TETHER_LOG`, else `default`.
pub(crate) fn env_filter(default: &str) -> String {
    std::env::var("TETHER_LOG").unwrap_or_else(|_| default.to_string())
}

/// Python's `logging` line: `2026-12-04 22:20:18,123 - name - LEVEL - message`.
struct PythonFormat;

impl<S, N> FormatEvent<S, N> for PythonFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let _ = ctx;
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        write!(
            writer,
            "{} - {} - {} - {}",
            asctime(),
            fields.logger.as_deref().unwrap_or(meta.target()),
            python_level(*meta.level()),
            fields.message
        )?;
        for (k, v) in &fields.rest {
            write!(writer, " {k}={v}")?;
        }
        writeln!(writer)
    }
}

/// An event's message, its `logger` field (a logger name chosen at run time, printed as
/// `%(name)s` in place of the target), and its other fields.
#[derive(Default)]
struct Fields {
    message: String,
    logger: Option<String>,
    rest: Vec<(&'static str, String)>,
}

impl tracing::field::Visit for Fields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        match field.name() {
            "logger" => self.logger = Some(value.to_string()),
            "message" => self.message = value.to_string(),
            name => self.rest.push((name, value.to_string())),
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "logger" => self.logger = Some(format!("{value:?}")),
            name => self.rest.push((name, format!("{value:?}"))),
        }
    }
}

/// Python's level names (it has WARNING, not WARN, and no TRACE).
fn python_level(level: Level) -> &'static str {
    match level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        Level::DEBUG | Level::TRACE => "DEBUG",
    }
}

/// `%(asctime)s`: `YYYY-MM-DD HH:MM:SS,mmm` (UTC).
fn asctime() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (y, m, d) = tether_core::python::civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02},{:03}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_layout_parts() {
        assert_eq!(python_level(Level::WARN), "WARNING");
        assert_eq!(python_level(Level::TRACE), "DEBUG");
        let t = asctime();
        // 2026-12-04 22:20:18,123
        assert_eq!(t.len(), 23, "{t}");
        assert_eq!(&t[4..5], "-");
        assert_eq!(&t[19..20], ",");
    }
}
