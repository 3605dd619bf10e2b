//! The Hessian rows: tether's Hessian server and proxy, against Caucho's Java ones and
//! python-hessian. The service is the Java peer's `getData(String)` (returns
//! `"You got remoted data: " + s`), served by tether as a [`GetData`].

use crate::drive::{AsyncClient, BoxErr};
use crate::get_data::GetData;
use std::sync::Arc;
use tether_core::{Call, MethodInfo, Value};
use tether_hessian::{HessianProxy, HessianServer, ServerConfig};

static GET_DATA: MethodInfo = MethodInfo {
    name: "getData",
    params: &["s"],
    oneway: false,
};

/// Serves `getData` at `/test` on 127.0.0.1; runs until killed.
pub async fn serve(announce: fn(u16)) -> Result<(), BoxErr> {
    let server = HessianServer::bind(ServerConfig {
        host: "127.0.0.1".into(),
        ..Default::default()
    })
    .await?;
    server.register(
        "test",
        Arc::new(GetData {
            method: &GET_DATA,
            prefix: "You got remoted data: ",
        }),
    )?;
    announce(server.local_addr().port());
    std::future::pending::<()>().await;
    Ok(())
}

/// One Hessian proxy (one keep-alive connection).
pub struct HessianClient {
    proxy: HessianProxy,
    call: Call,
}

impl HessianClient {
    /// A proxy for `http://addr/test`.
    pub fn connect(addr: &str) -> Result<HessianClient, BoxErr> {
        Ok(HessianClient {
            proxy: HessianProxy::new(&format!("http://{addr}/test"))?,
            call: Call::new("getData", vec![Value::str("Hello")]),
        })
    }
}

impl AsyncClient for HessianClient {
    async fn small(&mut self) -> Result<(), BoxErr> {
        match self.proxy.call(self.call.clone()).await? {
            Value::Str(s) if s == "You got remoted data: Hello" => Ok(()),
            other => Err(format!("getData returned {other:?}").into()),
        }
    }

    async fn big(&mut self, _payload: Vec<u8>) -> Result<Vec<u8>, BoxErr> {
        Err("the Hessian rows measure sequential calls only".into())
    }
}
