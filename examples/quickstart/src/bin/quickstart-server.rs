//! The seed's server.py: `quickstart-server run server.xml [--log debug]` serves until SIGINT/SIGTERM.
fn main() -> std::process::ExitCode {
    tether::context::cli::run_main(quickstart::registry())
}
