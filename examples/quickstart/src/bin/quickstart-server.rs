//! The seed's server.py: `quickstart-server run server.xml [--log debug]` serves until SIGINT/SIGTERM (and has every other `tether` command, with the quickstart classes registered).
fn main() -> std::process::ExitCode {
    tether_cli::run_main(quickstart::registry())
}
