//! tether's own rows: a `tether_pyro::Daemon` serving an echo object, called by Python Pyro5
//! and by `tether_pyro::Proxy`.
//!
//! The echo object is [`BenchEcho`], one method doing nothing but return its argument: the same
//! work as the Python peer's `Echo.echo`, so the rows compare the remoting stacks, not the
//! services. (`tether_core::echo::EchoService` has more methods and logging hooks that a
//! benchmark should not depend on.)

use crate::drive::{AsyncClient, BoxErr};
use std::sync::Arc;
use tether_core::{bind_args, BoxFuture, Call, Dispatch, MethodInfo, RemoteError, Value};
use tether_pyro::{Daemon, DaemonConfig};

static ECHO: MethodInfo = MethodInfo {
    name: "echo",
    params: &["value"],
    oneway: false,
};

/// The echo object served by the tether daemon: `echo(value)` returns `value`.
struct BenchEcho;

impl Dispatch for BenchEcho {
    fn methods(&self) -> Vec<&'static MethodInfo> {
        vec![&ECHO]
    }

    fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(async move {
            if call.method != ECHO.name {
                return Err(RemoteError::exception(
                    "builtins.AttributeError",
                    format!("no method {:?}", call.method),
                ));
            }
            let mut args = bind_args(ECHO.name, ECHO.params, call.args, call.kwargs)?;
            Ok(args.pop().unwrap_or(Value::None))
        })
    }
}

/// Serves [`BenchEcho`] as object `echo` on a tether daemon on 127.0.0.1; runs until killed.
pub async fn serve(announce: fn(u16)) -> Result<(), BoxErr> {
    let daemon = Daemon::bind(DaemonConfig {
        host: "127.0.0.1".into(),
        port: 0,
        ..Default::default()
    })
    .await?;
    daemon.register("echo", Arc::new(BenchEcho))?;
    let port = daemon.local_addr().ok_or("daemon has no TCP address")?.port();
    announce(port);
    daemon.wait().await;
    Ok(())
}

/// A tether proxy connection; not wired yet (waiting for `tether_pyro::Proxy`).
pub struct TetherClient;

impl TetherClient {
    /// Would connect a tether proxy to `addr`; not wired yet.
    pub fn connect(_addr: &str) -> Result<TetherClient, BoxErr> {
        Err("tether client rows not wired yet (tether_pyro::Proxy pending)".into())
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
