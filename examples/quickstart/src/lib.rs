//! The seed's example in Rust: the service (`DataService`, class `server.Service`), plus the
//! high-availability pieces (`server.NamedService`, `client.HighAvailabilityService`).
//!
//! Binaries: `quickstart-server` (the `run FILE.xml... [--log LEVEL]` command line with these
//! classes registered), `quickstart-client` (loads `client.xml` or `applicationContext.xml` and
//! calls `get_data("Hello")`), `quickstart-ha-client` (calls through the round-robin pool).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tether::context::{ClassRegistry, Component, ContextValue};
use tether::RemoteError;

/// The service interface: the same for the local object and the proxy.
#[tether::service]
pub trait DataService {
    /// Returns "You got remote data => {param}".
    async fn get_data(&self, param: String) -> Result<String, RemoteError>;
}

/// The implementation, under the class name the XML uses.
#[tether::component("server.Service")]
#[derive(Default)]
pub struct Service;

#[tether::service]
impl DataService for Service {
    async fn get_data(&self, param: String) -> Result<String, RemoteError> {
        Ok(format!("You got remote data => {param}"))
    }
}

/// A service that says which server answered (property `server_id`), for the HA demo.
#[derive(Default)]
pub struct NamedService {
    server_id: String,
}

impl Component for NamedService {
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), String> {
        match name {
            "server_id" => self.server_id = value.to_string_value()?,
            other => return Err(format!("has no property '{other}' (expected server_id)")),
        }
        Ok(())
    }
}

#[tether::service]
impl DataService for NamedService {
    async fn get_data(&self, param: String) -> Result<String, RemoteError> {
        Ok(format!(
            "You got remote data => {param} (from server {})",
            self.server_id
        ))
    }
}

/// A small example-level pool: round-robin over the `services` list, skipping a server that
/// fails with a retryable error. (A real pool layer belongs to tether-cluster.)
#[derive(Default)]
pub struct HighAvailabilityService {
    services: Vec<Arc<dyn DataService>>,
    next: AtomicUsize,
}

impl Component for HighAvailabilityService {
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), String> {
        if name != "services" {
            return Err(format!("has no property '{name}' (expected services)"));
        }
        let items = value
            .as_seq()
            .ok_or("property 'services' expects a <list> of refs")?;
        for item in items {
            let obj = item
                .as_object()
                .ok_or("each item of 'services' must be a ref")?;
            self.services.push(obj.get::<dyn DataService>()?);
        }
        Ok(())
    }
}

#[tether::service]
impl DataService for HighAvailabilityService {
    async fn get_data(&self, param: String) -> Result<String, RemoteError> {
        let n = self.services.len();
        let mut last = RemoteError::new(tether::ErrorKind::NoLiveServer, "the pool is empty");
        for _ in 0..n {
            let i = self.next.fetch_add(1, Ordering::Relaxed) % n;
            match self.services[i].get_data(param.clone()).await {
                Ok(v) => return Ok(v),
                Err(e) if e.is_retryable() => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }
}

/// The class registry of this example: tether's built-ins, `server.Service` (submitted by
/// `#[tether::component]`), and the two HA classes registered by hand.
pub fn registry() -> ClassRegistry {
    let mut r = ClassRegistry::from_inventory();
    r.register::<NamedService>("server.NamedService");
    r.register::<HighAvailabilityService>("client.HighAvailabilityService");
    r
}
