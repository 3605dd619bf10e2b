//! Hostile Pyro 3 input: pickles that would run code in Python (`os.system`, `eval`, every
//! opcode outside the accepted set), memo bombs, deep and self-referencing nesting, lying
//! lengths, truncation at every byte; and, on a live daemon, frames that lie or break the
//! protocol. Each gets an error reply or a close, memory stays bounded, nothing is run, and
//! other clients keep being served.

use std::sync::Arc;
use std::time::Duration;
use tether_core::echo::EchoService;
use tether_core::{Call, Value};
use tether_pyro::pyro3::pickle::{self, ReadLimits};
use tether_pyro::pyro3::request;
use tether_pyro::pyro3::{auth, frame, Pyro3Proxy, Pyro3Settings};
use tether_pyro::serializer::Limits;
use tether_pyro::{Daemon, DaemonConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn decode(p: &[u8]) -> Result<Value, String> {
    let parsed = pickle::read(p, &ReadLimits::default()).map_err(|e| e.to_string())?;
    pickle::to_value(&parsed, parsed.root, &Limits::default()).map_err(|e| e.to_string())
}

#[test]
fn code_is_never_run_and_foreign_names_are_refused() {
    let marker = std::env::temp_dir().join(format!("tether-pyro3-pwned-{}", std::process::id()));
    let cmd = format!("touch {}", marker.display());
    let mut system = b"\x80\x02cos\nsystem\nX".to_vec();
    system.extend_from_slice(&(cmd.len() as u32).to_le_bytes());
    system.extend_from_slice(cmd.as_bytes());
    system.extend_from_slice(b"\x85R.");
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (system, "os.system is not accepted"),
        (
            b"c__builtin__\neval\n(S'1+1'\ntR.".to_vec(),
            "__builtin__.eval is not accepted",
        ),
        (
            b"(S'id'\nios\nsystem\n.".to_vec(),
            "os.system is not accepted",
        ),
        (
            b"\x80\x02csubprocess\nPopen\n)\x81.".to_vec(),
            "subprocess.Popen is not accepted",
        ),
        (
            b"\x80\x02cos\nsystem\n.".to_vec(),
            "where data was expected",
        ),
        (b"cos\nsys tem\n.".to_vec(), "not a dotted name"),
    ];
    for (p, want) in cases {
        let e = decode(&p).unwrap_err();
        assert!(e.contains(want), "{e}");
    }
    assert!(!marker.exists(), "nothing may run");
}

#[test]
fn opcodes_outside_the_set_are_refused_by_name() {
    for (op, name) in [
        (b'P', "PERSID"),
        (b'Q', "BINPERSID"),
        (0x82, "EXT1"),
        (0x83, "EXT2"),
        (0x84, "EXT4"),
        (0x8c, "SHORT_BINUNICODE"),
        (0x8e, "BINBYTES8"),
        (0x93, "STACK_GLOBAL"),
        (0x94, "MEMOIZE"),
        (0x95, "FRAME"),
        (b'B', "BINBYTES"),
        (b'C', "SHORT_BINBYTES"),
    ] {
        let e = decode(&[b'N', op, 0, 0, 0, 0, b'.']).unwrap_err();
        assert!(e.contains(name), "{name}: {e}");
    }
    let e = decode(&[0xfe, b'.']).unwrap_err();
    assert!(e.contains("unknown opcode 0xfe"), "{e}");
    let e = decode(b"\x80\x03N.").unwrap_err();
    assert!(e.contains("pickle protocol 3"), "{e}");
}

#[test]
fn memo_bombs_deep_nesting_and_cycles_are_bounded() {
    // [L, L] of [L, L] of ... 60 levels through the memo: 2^60 items if copied.
    let mut bomb = b"\x80\x02]q\x000".to_vec();
    for i in 0..60u8 {
        bomb.extend_from_slice(&[b'(', b'h', i, b'h', i, b'l', b'q', i + 1, b'0']);
    }
    bomb.extend_from_slice(&[b'h', 60, b'.']);
    let t = std::time::Instant::now();
    let e = decode(&bomb).unwrap_err();
    assert!(e.contains("items") || e.contains("nesting"), "{e}");
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "refused at the budget, not expanded"
    );
    // 200,000 nested lists: the reader is iterative, the conversion stops at the depth limit.
    let mut deep = b"\x80\x02".to_vec();
    deep.extend(std::iter::repeat_n(b']', 200_000));
    deep.extend(std::iter::repeat_n(b'a', 199_999));
    deep.push(b'.');
    let e = decode(&deep).unwrap_err();
    assert!(e.contains("nesting deeper"), "{e}");
    // A list that holds itself.
    let e = decode(b"\x80\x02]q\x00h\x00a.").unwrap_err();
    assert!(
        e.contains("nesting deeper") || e.contains("holds itself"),
        "{e}"
    );
    // Memo entries and opcode count are capped.
    let mut puts = b"\x80\x02N".to_vec();
    for i in 0..200_000u32 {
        puts.push(b'r');
        puts.extend_from_slice(&i.to_le_bytes());
    }
    puts.push(b'.');
    let e = decode(&puts).unwrap_err();
    assert!(e.contains("memo entries"), "{e}");
    let limits = ReadLimits {
        max_ops: 1000,
        ..ReadLimits::default()
    };
    let many = [&b"\x80\x02"[..], &[b'N', b'0'].repeat(1000), b"N."].concat();
    let e = pickle::read(&many, &limits).unwrap_err();
    assert!(e.to_string().contains("opcodes"), "{e}");
}

#[test]
fn lying_lengths_and_truncation_are_errors() {
    // BINSTRING of 2 GiB with 3 bytes behind it: an error, nothing allocated for it.
    let e = decode(b"\x80\x02T\xff\xff\xff\x7fabc.").unwrap_err();
    assert!(e.contains("truncated"), "{e}");
    let e = decode(b"\x80\x02X\xff\xff\xff\xffabc.").unwrap_err();
    assert!(e.contains("truncated"), "{e}");
    let e = decode(b"\x80\x02\x8b\xff\xff\xff\x7f.").unwrap_err();
    assert!(e.contains("4 KiB") || e.contains("truncated"), "{e}");
    let e = decode(b"\x80\x02\x8b\xff\xff\xff\xff.").unwrap_err();
    assert!(e.contains("negative"), "{e}");
    // Every prefix of a real request fails cleanly.
    let mut body = Vec::new();
    let call = Call::new(
        "echo",
        vec![Value::Map(vec![(
            Value::str("k"),
            Value::List(vec![Value::Float(1.5)]),
        )])],
    )
    .kwarg("x", Value::str("é"));
    request::encode("echo", &call, &mut body).unwrap();
    assert!(request::decode(&body, &ReadLimits::default(), &Limits::default()).is_ok());
    for n in 0..body.len() {
        assert!(
            request::decode(&body[..n], &ReadLimits::default(), &Limits::default()).is_err(),
            "prefix {n}"
        );
    }
    // Bad request shapes.
    for (v, want) in [
        (Value::Int(1), "not a tuple"),
        (Value::Tuple(vec![Value::Int(1)]), "not a 4-tuple"),
        (
            Value::Tuple(vec![
                Value::Int(1),
                Value::str("m"),
                Value::Int(0),
                Value::Tuple(vec![]),
            ]),
            "object id",
        ),
        (
            Value::Tuple(vec![
                Value::str("o"),
                Value::str("m"),
                Value::Int(2),
                Value::Tuple(vec![]),
            ]),
            "keyword flag",
        ),
    ] {
        let mut b = Vec::new();
        pickle::write(&v, &mut b).unwrap();
        let e = request::decode(&b, &ReadLimits::default(), &Limits::default()).unwrap_err();
        assert!(e.to_string().contains(want), "{e}");
    }
}

async fn daemon() -> (Daemon, u16) {
    let config = DaemonConfig {
        host: "127.0.0.1".into(),
        pyro3: Some(Pyro3Settings::default()),
        silent_client_wait: Duration::from_millis(100),
        ..DaemonConfig::default()
    };
    let d = Daemon::bind(config).await.unwrap();
    d.register("echo", Arc::new(EchoService::new(false)))
        .unwrap();
    let port = d.local_addr().unwrap().port();
    (d, port)
}

/// Connects as a Pyro 3 client: reads the challenge, sends CONNECT, expects GRANTED.
async fn handshake(port: u16) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut challenge = [0u8; 34];
    s.read_exact(&mut challenge).await.unwrap();
    let mut body = b"CONNECT".to_vec();
    body.extend_from_slice(&auth::token(&challenge[18..], &auth::ident(None)));
    let mut f = Vec::new();
    frame::encode(&body, false, false, &mut f);
    s.write_all(&f).await.unwrap();
    let mut granted = [0u8; 7];
    s.read_exact(&mut granted).await.unwrap();
    assert_eq!(&granted, b"GRANTED");
    s
}

/// Reads until the server closes (bounded); returns what came.
async fn rest(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
        .await
        .expect("the server closes the connection")
        .ok();
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn a_live_daemon_answers_bad_frames_with_protocol_errors_and_keeps_serving() {
    let (d, port) = daemon().await;
    let good = Pyro3Proxy::new(&format!("PYROLOC://127.0.0.1:{port}/echo")).unwrap();
    let mut pickled_system = Vec::new();
    {
        let mut w = pickle::Writer::new(&mut pickled_system);
        // ("echo", "echo", 3, ((os.system("touch /tmp/never"),), {}))
        w.proto();
        w.op(b'(');
        w.text("echo");
        w.text("echo");
        w.value(&Value::Int(3)).unwrap();
        w.global("os", "system");
        w.text("touch /tmp/never");
        w.op(0x85);
        w.op(b'R');
        w.op(0x85);
        w.op(b'}');
        w.op(0x86);
        w.op(b't');
        w.stop();
    }
    let cases: Vec<(Vec<u8>, &str)> = vec![
        // A declared body of 2 GiB.
        (
            [&b"PYRO\x00\x05\x00\x12\x7f\xff\xff\xff\x00\x00\x00\x00\x00\x00"[..]].concat(),
            "message too large",
        ),
        // A negative length.
        (
            b"PYRO\x00\x05\x00\x12\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00".to_vec(),
            "invalid header",
        ),
        // Pyro5 after the Pyro 3 handshake.
        (
            b"PYRO\x01\xf6\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec(),
            "invalid header",
        ),
        // os.system in the object id position.
        (
            {
                let mut f = Vec::new();
                frame::encode(&pickled_system, false, false, &mut f);
                f
            },
            "os.system is not accepted",
        ),
        // The XML pickle flag.
        (
            b"PYRO\x00\x05\x00\x12\x00\x00\x00\x01\x00\x04\x00\x00\x00\x00N".to_vec(),
            "xml pickle",
        ),
        // A wrong checksum.
        (
            b"PYRO\x00\x05\x00\x12\x00\x00\x00\x01\x00\x02\x00\x00\x00\x07N".to_vec(),
            "checksum error",
        ),
        // An unknown object id.
        (
            {
                let mut b = Vec::new();
                request::encode("nope", &Call::new("echo", vec![]), &mut b).unwrap();
                let mut f = Vec::new();
                frame::encode(&b, false, false, &mut f);
                f
            },
            "unknown object ID",
        ),
    ];
    for (bytes, want) in cases {
        let mut s = handshake(port).await;
        s.write_all(&bytes).await.unwrap();
        let got = rest(&mut s).await;
        assert!(
            contains(&got, "ProtocolError") && contains(&got, want),
            "{want}: {}",
            String::from_utf8_lossy(&got)
        );
        // Others are still served.
        let v = good
            .call(Call::new("echo", vec![Value::Int(1)]))
            .await
            .unwrap();
        assert_eq!(v, Value::Int(1));
    }
    // Mobile code is refused; the connection goes on.
    let e = good
        .call(Call::new("remote_supply_code", vec![]))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("mobile code"), "{e}");
    // A frame cut off mid-body, and a client that never sends CONNECT.
    let mut s = handshake(port).await;
    s.write_all(b"PYRO\x00\x05\x00\x12\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00abc")
        .await
        .unwrap();
    drop(s);
    let _silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let v = good
        .call(Call::new("echo", vec![Value::str("ok")]))
        .await
        .unwrap();
    assert_eq!(v, Value::str("ok"));
    d.shutdown().await;
    assert!(!std::path::Path::new("/tmp/never").exists());
}
