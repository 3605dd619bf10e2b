//! The seed's example in Rust: the service (`DataService`, class `server.Service`), plus the
//! high-availability demo's `server.NamedService` (the pool itself is tether's
//! `tether.cluster.PoolProxyFactory`).
//!
//! Binaries: `quickstart-server` (the `run FILE.xml... [--log LEVEL]` command line with these
//! classes registered), `quickstart-client` (loads `client.xml` or `applicationContext.xml` and
//! calls `get_data("Hello")`), `quickstart-ha-client` (calls through the pool of ten servers).

use tether::context::ContextError;
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
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), ContextError> {
        match name {
            "server_id" => self.server_id = value.to_string_value()?,
            other => return Err(format!("has no property '{other}' (expected server_id)").into()),
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

/// The class registry of this example: tether's built-ins (the pool is
/// `tether.cluster.PoolProxyFactory`), `server.Service` (submitted by `#[tether::component]`),
/// and the HA demo's `server.NamedService`, registered by hand.
pub fn registry() -> ClassRegistry {
    let mut r = ClassRegistry::from_inventory();
    r.register::<NamedService>("server.NamedService");
    r
}
