//! Handshake validation (Pyro's `validateHandshake` / `_pyroHandshake`): a daemon with a
//! validator refuses clients with the wrong handshake data (CONNECTFAIL with the reason) and
//! answers the right ones with its own reply, for tether and Python clients.

mod common;
use common::*;
use std::time::Duration;
use tether_core::{Call, ErrorKind, Value};
use tether_pyro::{DaemonConfig, HandshakeValidator, Proxy};

fn config() -> DaemonConfig {
    DaemonConfig {
        handshake: Some(HandshakeValidator::new(|data| match data.get("secret") {
            Some(Value::Str(s)) if s == "sesame" => Ok(Value::str("welcome")),
            _ => Err("bad secret".to_string()),
        })),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validator_accepts_and_refuses_tether_and_python_clients() {
    let (daemon, uri, _svc) = tether_test_service(config()).await;
    let secret = |s: &str| Value::Map(vec![(Value::str("secret"), Value::str(s))]);
    for ser in SERIALIZERS {
        let good = Proxy::new(&uri)
            .unwrap()
            .with_serializer(ser)
            .with_handshake(secret("sesame"));
        let v = Value::Int(5);
        assert_eq!(
            within(10, good.call(Call::new("echo", vec![v.clone()])))
                .await
                .unwrap(),
            v
        );
        let bad = Proxy::new(&uri)
            .unwrap()
            .with_serializer(ser)
            .with_handshake(secret("guess"));
        let e = within(10, bad.call(Call::new("echo", vec![v])))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Connection);
        assert!(e.message().ends_with("rejected: bad secret"), "{e}");
        let plain = Proxy::new(&uri).unwrap().with_serializer(ser);
        assert!(within(10, plain.connect()).await.is_err());
    }
    let code = r#"
import sys, Pyro5.api, Pyro5.errors
seen = []
class P(Pyro5.api.Proxy):
    def _pyroValidateHandshake(self, response):
        seen.append(response)
p = P(sys.argv[1])
p._pyroHandshake = {"secret": "sesame"}
print(p.echo("in"), seen[0])
q = Pyro5.api.Proxy(sys.argv[1])
q._pyroHandshake = {"secret": "nope"}
try:
    q.echo(1)
except Pyro5.errors.CommunicationError as e:
    print(str(e).split("rejected: ")[-1])
"#;
    let u = uri.clone();
    let out =
        tokio::task::spawn_blocking(move || run_python(&["-c", code, &u], Duration::from_secs(60)))
            .await
            .unwrap();
    assert_eq!(out, "in welcome\nbad secret\n");
    daemon.shutdown().await;
}
