//! The `tether` binary: the command line of [`tether_cli`] with the built-in classes (and any
//! `#[tether::component]` classes linked in), plus the seed's quickstart service, so that
//! `tether run server.xml` serves Spring Python's quick-start XML as it is.

use tether::RemoteError;

// mimalloc, with its arenas committed as they are used (see `tether_cli`'s `allocator.rs`).
#[cfg(feature = "mimalloc")]
tether_cli::mimalloc_allocator!();

/// The interface of the seed's quick-start service.
#[tether::service]
trait QuickstartData {
    /// Returns "You got remote data => {param}".
    async fn get_data(&self, param: String) -> Result<String, RemoteError>;
}

/// Spring Python's quick-start `server.Service` (`get_data(param)`), known to the `tether`
/// command only (a program built on `tether_cli` registers its own classes).
#[tether::component("server.Service")]
#[derive(Default)]
struct QuickstartService;

#[tether::service]
impl QuickstartData for QuickstartService {
    async fn get_data(&self, param: String) -> Result<String, RemoteError> {
        Ok(format!("You got remote data => {param}"))
    }
}

fn main() -> std::process::ExitCode {
    tether_cli::run_main(tether::ClassRegistry::from_inventory())
}
