//! The generated `XBlocking` trait: synchronous service calls from a plain `#[test]` fn (no
//! async runtime), and a clear error instead of tokio's panic when called inside a runtime.

use std::sync::Arc;
use tether::{Blocking, BlockingRuntime, ErrorKind, LocalInvoker, Remotable, RemoteError};

#[tether::service]
pub trait DataService {
    async fn get_data(&self, param: String) -> Result<String, RemoteError>;
    async fn shout(&self, text: &str) -> Result<String, RemoteError>;
}

pub struct Service;

#[tether::service]
impl DataService for Service {
    async fn get_data(&self, param: String) -> Result<String, RemoteError> {
        Ok(format!("You got remote data => {param}"))
    }
    async fn shout(&self, text: &str) -> Result<String, RemoteError> {
        Ok(text.to_uppercase())
    }
}

#[test]
fn sync_calls_from_plain_code_local_and_proxied() {
    let rt = BlockingRuntime::new().unwrap();
    let local: Arc<dyn DataService> = Arc::new(Service);
    // The proxy's LocalInvoker spawns on the blocking runtime.
    let proxy = <dyn DataService>::proxy(Arc::new(LocalInvoker::of(local.clone())));
    for svc in [local, proxy] {
        let svc = Blocking::new(svc, rt.clone());
        assert_eq!(
            svc.get_data("Hello".into()).unwrap(),
            "You got remote data => Hello"
        );
        assert_eq!(svc.shout("hi").unwrap(), "HI");
    }
}

#[test]
fn refused_inside_a_runtime_instead_of_panicking() {
    let rt = BlockingRuntime::new().unwrap();
    let svc = Blocking::new(Arc::new(Service) as Arc<dyn DataService>, rt);
    let inner = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let err = inner
        .block_on(async { svc.get_data("x".into()) })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.message().contains("inside an async runtime"), "{err}");
    // Building a blocking runtime inside a runtime is refused as well.
    let err = inner.block_on(async { BlockingRuntime::new().err() });
    assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::Config));
    // Dropping the facade (and its runtime) inside async code does not panic either.
    inner.block_on(async move { drop(svc) });
}
