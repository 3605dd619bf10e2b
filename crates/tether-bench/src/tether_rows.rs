//! tether's own rows: `tether_pyro::Daemon` serving the echo object and `tether_pyro::Proxy`
//! calling it. Not wired yet: the daemon and proxy are still being written, so these rows
//! report an error instead of a figure.

use crate::drive::{AsyncClient, BoxErr};

/// Would serve the echo object on a tether daemon; not wired yet.
pub async fn serve(_announce: fn(u16)) -> Result<(), BoxErr> {
    Err("tether rows not wired yet (tether_pyro::Daemon pending)".into())
}

/// A tether proxy connection; not wired yet.
pub struct TetherClient;

impl TetherClient {
    /// Would connect a tether proxy to `addr`; not wired yet.
    pub fn connect(_addr: &str) -> Result<TetherClient, BoxErr> {
        Err("tether rows not wired yet (tether_pyro::Proxy pending)".into())
    }
}

impl AsyncClient for TetherClient {
    async fn small(&mut self) -> Result<(), BoxErr> {
        Err("not wired".into())
    }

    async fn big(&mut self, _payload: Vec<u8>) -> Result<Vec<u8>, BoxErr> {
        Err("not wired".into())
    }
}
