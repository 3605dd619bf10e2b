//! The Hessian rows: tether's Hessian server and proxy, against Caucho's Java ones and
//! python-hessian. The service is the Java peer's `getData(String)` (returns
//! `"You got remoted data: " + s`), served by tether as [`BenchGetData`].

use crate::drive::{AsyncClient, BoxErr};
use std::sync::Arc;
use tether_core::{bind_args, BoxFuture, Call, Dispatch, MethodInfo, RemoteError, Value};
use tether_hessian::{HessianProxy, HessianServer, ServerConfig};

static GET_DATA: MethodInfo = MethodInfo {
    name: "getData",
    params: &["s"],
    oneway: false,
};

/// `getData(s)` → `"You got remoted data: " + s`, as the Java peer's service.
struct BenchGetData;

impl Dispatch for BenchGetData {
    fn methods(&self) -> &[MethodInfo] {
        std::slice::from_ref(&GET_DATA)
    }

    fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(async move {
            let mut a = bind_args(GET_DATA.name, GET_DATA.params, call.args, call.kwargs)?;
            match a.pop() {
                Some(Value::Str(s)) => Ok(Value::Str(format!("You got remoted data: {s}"))),
                other => Err(RemoteError::type_error(format!(
                    "getData takes a string, not {other:?}"
                ))),
            }
        })
    }
}

/// Serves [`BenchGetData`] at `/test` on 127.0.0.1; runs until killed.
pub async fn serve(announce: fn(u16)) -> Result<(), BoxErr> {
    let server = HessianServer::bind(ServerConfig {
        host: "127.0.0.1".into(),
        ..Default::default()
    })
    .await?;
    server.register("test", Arc::new(BenchGetData))?;
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
