//! The call context reaches service code: a typed service method reads the peer address and
//! annotations its server decoded, through `CallContext::current()`, with no parameter for it.

use std::sync::Arc;
use tether::{Call, CallContext, LocalInvoker, Remotable, RemoteError, TlsSubject};

#[tether::service]
pub trait WhoAmI {
    async fn peer(&self) -> Result<String, RemoteError>;
    async fn subject(&self) -> Result<String, RemoteError>;
}

struct Impl;

#[tether::service]
impl WhoAmI for Impl {
    async fn peer(&self) -> Result<String, RemoteError> {
        Ok(CallContext::current()
            .and_then(|c| c.peer)
            .map(|p| p.ip().to_string())
            .unwrap_or_else(|| "none".into()))
    }
    async fn subject(&self) -> Result<String, RemoteError> {
        Ok(CallContext::current()
            .and_then(|c| c.tls_subject)
            .and_then(|s| s.get("commonName").map(str::to_string))
            .unwrap_or_else(|| "none".into()))
    }
}

#[tokio::test]
async fn the_dispatcher_scopes_the_context_around_the_method() {
    let d = <dyn WhoAmI as Remotable>::dispatcher(Arc::new(Impl));
    let ctx = CallContext::new()
        .with_peer("10.1.2.3:4000".parse().unwrap())
        .with_tls_subject(Arc::new(TlsSubject {
            fields: vec![("commonName".into(), "My Client".into())],
        }));
    let v = d
        .dispatch(Call::new("subject", vec![]).context(ctx.clone()))
        .await
        .unwrap();
    assert_eq!(v, tether::Value::str("My Client"));
    let v = d
        .dispatch(Call::new("peer", vec![]).context(ctx))
        .await
        .unwrap();
    assert_eq!(v, tether::Value::str("10.1.2.3"));
    // Outside a dispatch there is no context.
    assert!(CallContext::current().is_none());
    let local = <dyn WhoAmI as Remotable>::proxy(Arc::new(LocalInvoker::new(d)));
    assert_eq!(local.peer().await.unwrap(), "none");
}

#[tokio::test]
async fn the_pyro_daemon_fills_in_the_peer() {
    use tether::pyro::{Daemon, DaemonConfig, Proxy};
    let daemon = Daemon::bind(DaemonConfig {
        host: "127.0.0.1".into(),
        ..DaemonConfig::default()
    })
    .await
    .unwrap();
    let uri = daemon
        .register("who", <dyn WhoAmI as Remotable>::dispatcher(Arc::new(Impl)))
        .unwrap();
    let proxy = <dyn WhoAmI as Remotable>::proxy(Arc::new(Proxy::new(&uri).unwrap()));
    assert_eq!(proxy.peer().await.unwrap(), "127.0.0.1");
    assert_eq!(proxy.subject().await.unwrap(), "none");
    daemon.shutdown().await;
}
