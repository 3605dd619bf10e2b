//! [`RunOpts`]: the command-line options of a benchmark run, shared by the orchestrator and
//! the pool rows.

/// Command-line options of a benchmark run.
#[derive(clap::Args, Clone, Debug)]
pub struct RunOpts {
    /// Short run (one round, 0.3 s per measurement): a smoke test of the whole benchmark.
    #[arg(long)]
    pub quick: bool,
    /// Seconds per measurement (default 0.6, or 0.3 with --quick).
    #[arg(long)]
    pub secs: Option<f64>,
    /// Rounds of every measurement; each cell shows the median (default 5, or 1 with --quick).
    #[arg(long)]
    pub rounds: Option<usize>,
    /// Connections in the concurrent row.
    #[arg(long, default_value_t = 64)]
    pub conns: usize,
    /// Pyro serializer for the Pyro rows: msgpack, serpent or json (json cannot carry bytes).
    #[arg(long, default_value = "msgpack")]
    pub serializer: String,
    /// Only these systems (comma-separated keys, see the table); default all.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Also write the ratios to raw TCP as an SVG chart to this file (scripts/bench.sh writes
    /// target/bench/bench.svg next to target/bench/bench.md).
    #[arg(long, value_name = "FILE")]
    pub svg: Option<std::path::PathBuf>,
    /// Run the scale curves instead of the tables (growth exponents; see scale.rs).
    #[arg(long)]
    pub scale: bool,
    /// Placements to run: pinned, split (comma-separated); default both.
    #[arg(long, value_delimiter = ',', default_values_t = [String::from("pinned"), String::from("split")])]
    pub modes: Vec<String>,
}
