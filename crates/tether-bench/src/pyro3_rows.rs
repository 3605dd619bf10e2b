//! The Pyro 3 rows: the seed's Python 2 client (Pyro 3.16) against tether's daemon and against
//! the seed's Python 2 server, and tether's Pyro 3 proxy against tether. The service is the
//! seed's `get_data(param)` as `ServiceName`.

use crate::drive::{AsyncClient, BoxErr};
use crate::get_data::GetData;
use std::sync::Arc;
use tether_core::{Call, MethodInfo, Value};
use tether_pyro::pyro3::{Pyro3Proxy, Pyro3Settings};
use tether_pyro::{Daemon, DaemonConfig};

static GET_DATA: MethodInfo = MethodInfo {
    name: "get_data",
    params: &["param"],
    oneway: false,
};

/// Serves the seed's service over Pyro 3 on 127.0.0.1; runs until killed.
pub async fn serve(announce: fn(u16)) -> Result<(), BoxErr> {
    let daemon = Daemon::bind(DaemonConfig {
        host: "127.0.0.1".into(),
        pyro3: Some(Pyro3Settings::default()),
        ..DaemonConfig::default()
    })
    .await?;
    daemon.register(
        "ServiceName",
        Arc::new(GetData {
            method: &GET_DATA,
            prefix: "You got remote data => ",
        }),
    )?;
    announce(daemon.local_addr().map(|a| a.port()).unwrap_or(0));
    std::future::pending::<()>().await;
    Ok(())
}

/// One Pyro 3 proxy.
pub struct Pyro3Client {
    proxy: Pyro3Proxy,
    call: Call,
}

impl Pyro3Client {
    /// A proxy for `PYROLOC://addr/ServiceName`.
    pub fn connect(addr: &str) -> Result<Pyro3Client, BoxErr> {
        Ok(Pyro3Client {
            proxy: Pyro3Proxy::new(&format!("PYROLOC://{addr}/ServiceName"))?,
            call: Call::new("get_data", vec![Value::str("Hello")]),
        })
    }
}

impl AsyncClient for Pyro3Client {
    async fn small(&mut self) -> Result<(), BoxErr> {
        match self.proxy.call(self.call.clone()).await? {
            Value::Str(s) if s == "You got remote data => Hello" => Ok(()),
            other => Err(format!("get_data returned {other:?}").into()),
        }
    }

    async fn big(&mut self, _payload: Vec<u8>) -> Result<Vec<u8>, BoxErr> {
        Err("the Pyro 3 rows measure sequential calls only".into())
    }
}
