//! A call's deadline (`CallContext::deadline`) bounds the proxy's wait, against Python's own
//! echoserver (its `slow()` sleeps 2 s) and with the proxy's own timeout still in force.

mod common;
use common::{python_echoserver, within};
use std::time::{Duration, Instant};
use tether_core::{Call, CallContext, ErrorKind, Value};
use tether_pyro::Proxy;

#[tokio::test]
async fn the_earlier_of_deadline_and_timeout_wins() {
    let (_server, uri) = python_echoserver();
    let proxy = Proxy::new(&uri).unwrap();
    assert_eq!(
        proxy
            .call(Call::new("echo", vec![Value::Int(1)]))
            .await
            .unwrap(),
        Value::Int(1)
    );
    let started = Instant::now();
    let ctx = CallContext::new().with_deadline(Instant::now() + Duration::from_millis(300));
    let e = within(10, proxy.call(Call::new("slow", vec![]).context(ctx)))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(started.elapsed() < Duration::from_millis(1900));
    // A generous deadline leaves the proxy's own (shorter) timeout in force.
    let short = Proxy::new(&uri)
        .unwrap()
        .with_timeout(Duration::from_millis(300));
    let ctx = CallContext::new().with_deadline(Instant::now() + Duration::from_secs(60));
    let e = within(10, short.call(Call::new("slow", vec![]).context(ctx)))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
}
