//! The `tether` binary: the command line of [`tether_cli`] with the built-in classes (and any
//! `#[tether::component]` classes linked in).

fn main() -> std::process::ExitCode {
    tether_cli::run_main(tether::ClassRegistry::from_inventory())
}
