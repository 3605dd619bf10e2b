//! Quick sequential-call rate: `cargo run --release -p tether-pyro --example seq_calls [URI] [serializer]`.
//! Without a URI it starts an in-process daemon with the echo service and measures
//! tether → tether; with one, it measures tether → that server (e.g. Python's echoserver).
//! The real benchmark lives in tether-bench; this is a smoke figure.

use std::sync::Arc;
use std::time::{Duration, Instant};
use tether_core::echo::EchoService;
use tether_core::{Call, Value};
use tether_pyro::{Daemon, DaemonConfig, Proxy, Serializer};

#[tokio::main]
async fn main() -> Result<(), tether_core::RemoteError> {
    let mut args = std::env::args().skip(1);
    let uri_arg = args.next().filter(|a| a != "-");
    let ser = args
        .next()
        .and_then(|s| Serializer::from_name(&s))
        .unwrap_or(Serializer::Serpent);
    let mut _daemon = None;
    let uri = match uri_arg {
        Some(u) => u,
        None => {
            let d = Daemon::bind(DaemonConfig {
                host: "127.0.0.1".into(),
                ..Default::default()
            })
            .await?;
            let u = d.register("test.echoserver", Arc::new(EchoService::default()))?;
            _daemon = Some(d);
            u
        }
    };
    let proxy = Proxy::new(&uri)?.with_serializer(ser);
    let call = || Call::new("echo", vec![Value::str("Hello")]);
    proxy.call(call()).await?;
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(3) && n < 200_000 {
        proxy.call(call()).await?;
        n += 1;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    println!(
        "{} sequential echo calls/s ({}, {uri})",
        rate.round(),
        ser.name()
    );
    Ok(())
}
