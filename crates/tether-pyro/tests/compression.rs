//! zlib compression (Pyro's `COMPRESSION=True`): compressed requests from tether reach Python's
//! server, compressed replies from tether's daemon reach Python's client, and both ends of
//! tether interoperate; small payloads stay uncompressed.

mod common;
use common::*;
use std::time::Duration;
use tether_core::{Call, Value};
use tether_pyro::{DaemonConfig, Proxy};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_messages_interoperate_both_ways() {
    let big = Value::str("compress me, please! ".repeat(5000));
    // tether proxy (compressing) → Python echoserver
    let (_py, py_uri) = python_echoserver();
    for ser in SERIALIZERS {
        let p = Proxy::new(&py_uri)
            .unwrap()
            .with_serializer(ser)
            .with_compression(true);
        assert_eq!(
            within(30, p.call(Call::new("echo", vec![big.clone()])))
                .await
                .unwrap(),
            big
        );
        assert_eq!(
            within(30, p.call(Call::new("echo", vec![Value::Int(1)])))
                .await
                .unwrap(),
            Value::Int(1)
        );
    }
    // tether daemon (compressing replies) ← tether proxy (compressing) and Python client
    let (daemon, uri, _echo) = tether_echo(DaemonConfig {
        compress_replies: true,
        ..Default::default()
    })
    .await;
    for ser in SERIALIZERS {
        let p = Proxy::new(&uri)
            .unwrap()
            .with_serializer(ser)
            .with_compression(true);
        assert_eq!(
            within(30, p.call(Call::new("echo", vec![big.clone()])))
                .await
                .unwrap(),
            big
        );
    }
    let code = r#"
import sys, Pyro5.api
from Pyro5 import protocol
seen = []
orig = protocol.ReceivingMessage.add_payload
def spy(self, payload):
    seen.append(self.flags & protocol.FLAGS_COMPRESSED)
    return orig(self, payload)
protocol.ReceivingMessage.add_payload = spy
p = Pyro5.api.Proxy(sys.argv[1])
s = "x" * 100000
assert p.echo(s) == s
assert p.echo("tiny") == "tiny"
print(seen[-2:])
"#;
    let u = uri.clone();
    let out =
        tokio::task::spawn_blocking(move || run_python(&["-c", code, &u], Duration::from_secs(60)))
            .await
            .unwrap();
    assert_eq!(out.trim(), "[2, 0]", "big reply compressed, tiny one not");
    daemon.shutdown().await;
}
