//! tether's own rows: a `tether_pyro::Daemon` serving an echo object (plain or over TLS),
//! called by Python Pyro5 and Pyro4 and by `tether_pyro::Proxy` on either wire.
//!
//! The echo object is [`BenchEcho`], one method doing nothing but return its argument: the same
//! work as the Python peer's `Echo.echo`, so the rows compare the remoting stacks, not the
//! services. (`tether_core::echo::EchoService` has more methods and logging hooks that a
//! benchmark should not depend on.)

use crate::drive::{AsyncClient, BoxErr};
use crate::workload::SMALL_ARG;
use std::sync::Arc;
use tether_core::{bind_args, BoxFuture, Call, Dispatch, Invoker, MethodInfo, RemoteError, Value};
use tether_pyro::{Daemon, DaemonConfig, Proxy, Serializer, WireVersion};

static ECHO: MethodInfo = MethodInfo {
    name: "echo",
    params: &["value"],
    oneway: false,
};

/// The echo object served by the tether daemon: `echo(value)` returns `value`.
struct BenchEcho;

impl Dispatch for BenchEcho {
    fn methods(&self) -> &[MethodInfo] {
        std::slice::from_ref(&ECHO)
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

/// The PKI directory of the TLS rows (`tether pki`'s files), from `TETHER_BENCH_PKI`.
fn pki_dir() -> Result<std::path::PathBuf, BoxErr> {
    std::env::var_os("TETHER_BENCH_PKI")
        .map(std::path::PathBuf::from)
        .ok_or_else(|| "TETHER_BENCH_PKI is not set (the orchestrator sets it)".into())
}

/// The server side of the TLS rows: the sample PKI's server certificate.
pub fn server_tls() -> Result<tether_tls::ServerTls, BoxErr> {
    let dir = pki_dir()?;
    let settings =
        tether_tls::ServerTlsSettings::new(dir.join("server-cert.pem"), dir.join("server-key.pem"));
    Ok(tether_tls::ServerTls::new(&settings)?)
}

/// The client side of the TLS rows: the sample PKI's CA chain.
pub fn client_tls() -> Result<tether_tls::ClientTls, BoxErr> {
    let settings = tether_tls::ClientTlsSettings::new(pki_dir()?.join("ca-chain.pem"));
    Ok(tether_tls::ClientTls::new(&settings)?)
}

/// Serves [`BenchEcho`] as object `echo` on a tether daemon on 127.0.0.1 (which answers
/// Pyro5 and Pyro4 clients alike), over TLS when `tls`; runs until killed.
pub async fn serve(announce: fn(u16), tls: bool) -> Result<(), BoxErr> {
    let tls = if tls { Some(server_tls()?) } else { None };
    let daemon = Daemon::bind(DaemonConfig {
        host: "127.0.0.1".into(),
        port: 0,
        tls,
        ..Default::default()
    })
    .await?;
    daemon.register("echo", Arc::new(BenchEcho))?;
    let port = daemon
        .local_addr()
        .ok_or("daemon has no TCP address")?
        .port();
    announce(port);
    daemon.wait().await;
    Ok(())
}

/// One tether proxy (one connection) to the echo object at `addr`.
pub struct TetherClient {
    proxy: Proxy,
    small: Call,
}

impl TetherClient {
    /// Builds a proxy for `PYRO:echo@addr` (or `PYRO:addr` when `addr` names its object,
    /// `object@host:port`) with the serializer named by
    /// `TETHER_BENCH_SERIALIZER` (default msgpack), on the `wire` given, over TLS when `tls`;
    /// it connects on the first call, which the drivers make before the clock starts.
    pub fn connect(addr: &str, wire: WireVersion, tls: bool) -> Result<TetherClient, BoxErr> {
        let name = std::env::var("TETHER_BENCH_SERIALIZER").unwrap_or_else(|_| "msgpack".into());
        let serializer =
            Serializer::from_name(&name).ok_or_else(|| format!("unknown serializer {name:?}"))?;
        let uri = if addr.contains('@') {
            format!("PYRO:{addr}")
        } else {
            format!("PYRO:echo@{addr}")
        };
        let mut proxy = Proxy::new(&uri)?
            .with_serializer(serializer)
            .with_wire(wire);
        if tls {
            proxy = proxy.with_tls(client_tls()?);
        }
        Ok(TetherClient {
            proxy,
            small: Call::new("echo", vec![Value::Str(SMALL_ARG.into())]),
        })
    }
}

impl AsyncClient for TetherClient {
    async fn small(&mut self) -> Result<(), BoxErr> {
        // Building the Call is part of the cost a user pays per call, so it is cloned here.
        match self.proxy.invoke(self.small.clone()).await? {
            Value::Str(s) if s == SMALL_ARG => Ok(()),
            other => Err(format!("tether echo returned {other:?}").into()),
        }
    }

    async fn big(&mut self, payload: Vec<u8>) -> Result<Vec<u8>, BoxErr> {
        match self
            .proxy
            .invoke(Call::new("echo", vec![Value::Bytes(payload)]))
            .await?
        {
            Value::Bytes(b) => Ok(b),
            other => Err(format!(
                "tether big echo returned a {:?}",
                std::mem::discriminant(&other)
            )
            .into()),
        }
    }
}
