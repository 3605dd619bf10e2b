//! `--admin HOST:PORT` of the serving commands (`run`, `echo-server`, `ns`): the admin
//! endpoint (`/metrics`, `/healthz`, `/readyz`), bound before the command starts serving so
//! that `/readyz` says 503 while it starts; with port 0 the chosen address is printed as
//! `admin uri: http://HOST:PORT`, like `echo uri:`.

use tether::observe::{AdminServer, Phase, Readiness};

/// The admin endpoint of one command, if `--admin` asked for one.
pub(crate) struct Admin(Option<AdminServer>);

impl Admin {
    /// Binds `spec` (`HOST:PORT`) when given; prints its URI.
    pub(crate) async fn start(spec: Option<&str>) -> Result<Admin, String> {
        let Some(spec) = spec else {
            return Ok(Admin(None));
        };
        let (host, port) =
            tether::observe::admin::split_host_port(spec).map_err(|e| format!("--admin {e}"))?;
        let server = AdminServer::bind(&host, port, Readiness::new())
            .await
            .map_err(|e| format!("--admin {spec}: {}", e.message()))?;
        crate::say(&format!("admin uri: {}", server.url()));
        Ok(Admin(Some(server)))
    }

    /// Sets what `/readyz` reports.
    pub(crate) fn set(&self, phase: Phase) {
        if let Some(s) = &self.0 {
            s.readiness().set(phase);
        }
    }

    /// Stops the endpoint.
    pub(crate) async fn stop(&self) {
        if let Some(s) = &self.0 {
            s.shutdown().await;
        }
    }
}
