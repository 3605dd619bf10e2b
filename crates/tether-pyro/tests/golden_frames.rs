//! Golden frames captured from real Pyro5 5.17 traffic (a Python client and server on loopback):
//! tether encodes the same bytes, parses the captured headers, and its daemon answers the
//! captured requests as Python's did.

mod common;
use common::raw::{self, Got};
use std::sync::Arc;
use tether_core::{BoxFuture, Call, Dispatch, MethodInfo, RemoteError, Value};
use tether_pyro::message::{encode_into, Annotation};
use tether_pyro::pyro5::{flags, msg_type, Header, HEADER_SIZE};
use tether_pyro::serializer::Serializer;
use tether_pyro::{Daemon, DaemonConfig};

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

fn encode(h: Header, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into::<()>(&mut out, h, &[], 1 << 20, |o| {
        o.extend_from_slice(payload);
        Ok(())
    })
    .unwrap();
    out
}

const SERPENT_HEAD: &[u8] = b"# serpent utf-8 python3.2\n";

#[test]
fn connect_and_invoke_frames_match_the_capture() {
    // CONNECT, 115 bytes
    let mut payload = Vec::new();
    let hello = Value::Map(vec![
        (Value::str("handshake"), Value::str("hello")),
        (Value::str("object"), Value::str("example.greeting")),
    ]);
    Serializer::Serpent.encode(&hello, &mut payload).unwrap();
    let mut expected_payload = SERPENT_HEAD.to_vec();
    expected_payload.extend_from_slice(b"{'handshake':'hello','object':'example.greeting'}");
    assert_eq!(payload, expected_payload);
    let frame = encode(Header::new(msg_type::CONNECT, 1, 0, 0), &payload);
    assert_eq!(frame.len(), 115);
    assert_eq!(
        frame[..HEADER_SIZE],
        hex("50 59 52 4f 01 f6 01 01 00 00 00 00 00 00 00 4b  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  00 00 00 00 00 00 4d c5")[..]
    );

    // INVOKE get_data("Hello"), 111 bytes
    let call = Call::new("get_data", vec![Value::str("Hello")]);
    let mut payload = Vec::new();
    Serializer::Serpent
        .encode_call("example.greeting", &call, false, &mut payload)
        .unwrap();
    let mut expected_payload = SERPENT_HEAD.to_vec();
    expected_payload.extend_from_slice(b"('example.greeting','get_data',('Hello',),{})");
    assert_eq!(payload, expected_payload);
    let frame = encode(Header::new(msg_type::INVOKE, 1, 0, 1), &payload);
    assert_eq!(frame.len(), 111);
    assert_eq!(
        frame[..16],
        hex("50 59 52 4f 01 f6 04 01 00 00 00 01 00 00 00 47")[..]
    );

    // msgpack and json INVOKE payloads
    let mut mp = Vec::new();
    Serializer::Msgpack
        .encode_call("example.greeting", &call, false, &mut mp)
        .unwrap();
    let mut expected = vec![0x94, 0xb0];
    expected.extend_from_slice(b"example.greeting");
    expected.push(0xa8);
    expected.extend_from_slice(b"get_data");
    expected.extend_from_slice(&[0x91, 0xa5]);
    expected.extend_from_slice(b"Hello");
    expected.push(0x80);
    assert_eq!(mp, expected);
    let mut js = Vec::new();
    Serializer::Json
        .encode_call("example.greeting", &call, false, &mut js)
        .unwrap();
    assert_eq!(
        String::from_utf8(js).unwrap(),
        r#"{"object": "example.greeting", "method": "get_data", "params": ["Hello"], "kwargs": {}}"#
    );

    // __getattr__ sends None for kwargs
    let mut ga = Vec::new();
    Serializer::Serpent
        .encode_call("example.greeting", &Call::get_attr("name"), true, &mut ga)
        .unwrap();
    assert!(ga.ends_with(b"('example.greeting','__getattr__',('name',),None)"));

    // PING
    let frame = encode(Header::new(msg_type::PING, 42, 0, 0), b"ping");
    assert_eq!(
        frame[..16],
        hex("50 59 52 4f 01 f6 06 2a 00 00 00 00 00 00 00 04")[..]
    );
    assert_eq!(&frame[38..], b"\x4d\xc5ping");

    // correlation id: flag 0x40 and the raw UUID bytes at 0x14
    let corr = hex("11 11 11 11 22 22 33 33 44 44 55 55 55 55 55 55");
    let h =
        Header::new(msg_type::INVOKE, 1, 0, 1).with_corr_id(Some(corr.clone().try_into().unwrap()));
    let frame = encode(h, b"x");
    assert_eq!(frame[8..10], [0x00, 0x40]);
    assert_eq!(frame[20..36], corr[..]);

    // annotations: id, u32 length, data; counted in annlen, not datalen
    let mut out = Vec::new();
    let ann = [Annotation {
        id: *b"STRM",
        data: bytes::Bytes::from_static(b"abc"),
    }];
    encode_into::<()>(
        &mut out,
        Header::new(msg_type::RESULT, 1, 0, 7),
        &ann,
        1 << 20,
        |o| {
            o.extend_from_slice(b"None");
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(out[12..20], hex("00 00 00 04 00 00 00 0b")[..]);
    assert_eq!(
        out[HEADER_SIZE..HEADER_SIZE + 11],
        *b"STRM\x00\x00\x00\x03abc"
    );
}

#[test]
fn captured_reply_headers_parse() {
    let result = hex(
        "50 59 52 4f 01 f6 05 01 00 40 00 01 00 00 00 38  00 00 00 00  77 fb b1 a6 0a 43 4e c8 9c 82 c3 ed f0 12 7a af  00 00 4d c5",
    );
    let h = Header::parse(&result.try_into().unwrap(), 1 << 30).unwrap();
    assert_eq!(
        (h.msg_type, h.serializer_id, h.flags, h.seq, h.data_len),
        (5, 1, 0x40, 1, 56)
    );
    assert_eq!(h.corr().unwrap()[..2], [0x77, 0xfb]);
    let mut exc = hex("50 59 52 4f 01 f6 05 01 00 41 00 02 00 00 02 78");
    exc.extend_from_slice(&[0; 22]);
    exc.extend_from_slice(&[0x4d, 0xc5]);
    let h = Header::parse(&exc.try_into().unwrap(), 1 << 30).unwrap();
    assert_eq!(
        (h.flags, h.seq, h.data_len),
        (flags::CORR_ID | flags::EXCEPTION, 2, 632)
    );
}

/// The test server of pyro.md §8, as far as the captures use it.
struct Greeting;
static GREETING: [MethodInfo; 2] = [
    MethodInfo {
        name: "get_data",
        params: &["p"],
        oneway: false,
    },
    MethodInfo {
        name: "notify",
        params: &["msg"],
        oneway: true,
    },
];
impl Dispatch for Greeting {
    fn methods(&self) -> &[MethodInfo] {
        &GREETING
    }
    fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(async move {
            match call.method.as_str() {
                "get_data" => Ok(Value::str(format!(
                    "You got remote data => {}",
                    call.args.first().and_then(Value::as_str).unwrap_or("")
                ))),
                "notify" => Ok(Value::None),
                m => Err(RemoteError::attribute_error(format!("no {m}"))),
            }
        })
    }
}

#[tokio::test]
async fn daemon_answers_the_captured_requests_like_python() {
    let daemon = Daemon::bind(DaemonConfig {
        host: "127.0.0.1".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    daemon
        .register("example.greeting", Arc::new(Greeting))
        .unwrap();
    let addr = daemon.local_addr().unwrap();
    let mut s = raw::dial(addr).await;

    // the captured CONNECT, byte for byte
    let mut connect = hex("50 59 52 4f 01 f6 01 01 00 00 00 00 00 00 00 4b");
    connect.extend_from_slice(&[0; 22]);
    connect.extend_from_slice(&[0x4d, 0xc5]);
    connect.extend_from_slice(SERPENT_HEAD);
    connect.extend_from_slice(b"{'handshake':'hello','object':'example.greeting'}");
    raw::send(&mut s, &connect).await;
    let Got::Frame(h, payload) = raw::read(&mut s).await else {
        panic!("closed")
    };
    assert_eq!(
        (h.msg_type, h.serializer_id, h.seq),
        (msg_type::CONNECTOK, 1, 0)
    );
    let text = String::from_utf8(payload).unwrap();
    assert!(
        text.starts_with("# serpent utf-8 python3.2\n{'handshake':'hello','meta':{'methods':{"),
        "{text}"
    );
    assert!(text.ends_with("'oneway':{'notify'},'attrs':()}}"), "{text}");

    // the captured INVOKE; the reply payload is Python's, byte for byte
    let mut invoke = hex("50 59 52 4f 01 f6 04 01 00 00 00 01 00 00 00 47");
    invoke.extend_from_slice(&[0; 22]);
    invoke.extend_from_slice(&[0x4d, 0xc5]);
    invoke.extend_from_slice(SERPENT_HEAD);
    invoke.extend_from_slice(b"('example.greeting','get_data',('Hello',),{})");
    raw::send(&mut s, &invoke).await;
    let Got::Frame(h, payload) = raw::read(&mut s).await else {
        panic!("closed")
    };
    assert_eq!(
        (h.msg_type, h.serializer_id, h.seq, h.flags),
        (msg_type::RESULT, 1, 1, 0)
    );
    assert_eq!(
        payload,
        b"# serpent utf-8 python3.2\n'You got remote data => Hello'"
    );

    // oneway notify (flags 0x0004, seq 3): no reply; then a PING is answered with pong
    let mut oneway = Vec::new();
    Serializer::Serpent
        .encode_call(
            "example.greeting",
            &Call::new("notify", vec![Value::str("hi")]),
            false,
            &mut oneway,
        )
        .unwrap();
    raw::send(
        &mut s,
        &raw::frame(msg_type::INVOKE, 1, flags::ONEWAY, 3, &oneway),
    )
    .await;
    raw::send(&mut s, &raw::frame(msg_type::PING, 42, 0, 0, b"ping")).await;
    let Got::Frame(h, payload) = raw::read(&mut s).await else {
        panic!("closed")
    };
    assert_eq!(
        (h.msg_type, h.serializer_id, h.seq),
        (msg_type::PING, 42, 0)
    );
    assert_eq!(payload, b"pong");

    // batch: reply flags 0x08 and a list
    let batch = b"# serpent utf-8 python3.2\n('example.greeting','<batch>',[('get_data',('a',),{}),('get_data',('b',),{})],None)";
    raw::send(
        &mut s,
        &raw::frame(msg_type::INVOKE, 1, flags::BATCH, 4, batch),
    )
    .await;
    let Got::Frame(h, payload) = raw::read(&mut s).await else {
        panic!("closed")
    };
    assert_eq!((h.seq, h.flags), (4, flags::BATCH));
    assert_eq!(
        payload,
        b"# serpent utf-8 python3.2\n['You got remote data => a','You got remote data => b']"
    );

    // a correlation id is echoed
    let corr: [u8; 16] = hex("11 11 11 11 22 22 33 33 44 44 55 55 55 55 55 55")
        .try_into()
        .unwrap();
    let mut f = raw::frame(
        msg_type::INVOKE,
        1,
        flags::CORR_ID,
        5,
        &invoke[HEADER_SIZE..],
    );
    f[20..36].copy_from_slice(&corr);
    raw::send(&mut s, &f).await;
    let Got::Frame(h, _) = raw::read(&mut s).await else {
        panic!("closed")
    };
    assert_eq!((h.seq, h.corr()), (5, Some(corr)));

    // unknown object: CONNECTFAIL 'unknown object'
    let mut s = raw::dial(addr).await;
    raw::send(&mut s, &raw::connect(Serializer::Serpent, "nosuchobject")).await;
    let Got::Frame(h, payload) = raw::read(&mut s).await else {
        panic!("closed")
    };
    assert_eq!(h.msg_type, msg_type::CONNECTFAIL);
    assert_eq!(payload, b"# serpent utf-8 python3.2\n'unknown object'");

    // json handshake: meta as arrays
    let mut s = raw::dial(addr).await;
    raw::send(&mut s, &raw::connect(Serializer::Json, "example.greeting")).await;
    let Got::Frame(h, payload) = raw::read(&mut s).await else {
        panic!("closed")
    };
    assert_eq!((h.msg_type, h.serializer_id), (msg_type::CONNECTOK, 3));
    let text = String::from_utf8(payload).unwrap();
    assert!(
        text.contains("\"oneway\": [\"notify\"], \"attrs\": []"),
        "{text}"
    );
    daemon.shutdown().await;
}

async fn read_frame(s: &mut tokio::net::TcpStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut head = [0u8; HEADER_SIZE];
    s.read_exact(&mut head).await.unwrap();
    let h = Header::parse(&head, 1 << 20).unwrap();
    let mut body = vec![0u8; h.body_len() as usize];
    s.read_exact(&mut body).await.unwrap();
    let mut all = head.to_vec();
    all.extend_from_slice(&body);
    all
}

/// A fake server that records what tether's proxy sends: the CONNECT and the first INVOKE must
/// be the captured Python client's bytes exactly (seq 0, then seq 1).
#[tokio::test]
async fn proxy_sends_the_captured_bytes() {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let connect = read_frame(&mut s).await;
        let meta = b"# serpent utf-8 python3.2\n{'handshake':'hello','meta':{'methods':{'get_data'},'oneway':(),'attrs':()}}";
        s.write_all(&raw::frame(msg_type::CONNECTOK, 1, flags::CORR_ID, 0, meta))
            .await
            .unwrap();
        let invoke = read_frame(&mut s).await;
        let reply = b"# serpent utf-8 python3.2\n'You got remote data => Hello'";
        s.write_all(&raw::frame(msg_type::RESULT, 1, flags::CORR_ID, 1, reply))
            .await
            .unwrap();
        (connect, invoke)
    });
    let proxy = tether_pyro::Proxy::new(&format!("PYRO:example.greeting@{addr}")).unwrap();
    let got = proxy
        .call(Call::new("get_data", vec![Value::str("Hello")]))
        .await
        .unwrap();
    assert_eq!(got, Value::str("You got remote data => Hello"));
    let (connect, invoke) = server.await.unwrap();
    let mut expected = hex("50 59 52 4f 01 f6 01 01 00 00 00 00 00 00 00 4b");
    expected.extend_from_slice(&[0; 22]);
    expected.extend_from_slice(&[0x4d, 0xc5]);
    expected.extend_from_slice(SERPENT_HEAD);
    expected.extend_from_slice(b"{'handshake':'hello','object':'example.greeting'}");
    assert_eq!(connect, expected);
    let mut expected = hex("50 59 52 4f 01 f6 04 01 00 00 00 01 00 00 00 47");
    expected.extend_from_slice(&[0; 22]);
    expected.extend_from_slice(&[0x4d, 0xc5]);
    expected.extend_from_slice(SERPENT_HEAD);
    expected.extend_from_slice(b"('example.greeting','get_data',('Hello',),{})");
    assert_eq!(invoke, expected);
}

/// When CONNECTOK carries no metadata, the proxy asks `Pyro.Daemon.get_metadata` (seq 1) before
/// the call (seq 2), as Python's proxy does.
#[tokio::test]
async fn proxy_falls_back_to_get_metadata() {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let _connect = read_frame(&mut s).await;
        let ok = b"# serpent utf-8 python3.2\n{'handshake':'hello','meta':{}}";
        s.write_all(&raw::frame(msg_type::CONNECTOK, 1, 0, 0, ok))
            .await
            .unwrap();
        let get_meta = read_frame(&mut s).await;
        let meta = b"# serpent utf-8 python3.2\n{'methods':{'get_data'},'oneway':(),'attrs':()}";
        s.write_all(&raw::frame(msg_type::RESULT, 1, 0, 1, meta))
            .await
            .unwrap();
        let invoke = read_frame(&mut s).await;
        s.write_all(&raw::frame(
            msg_type::RESULT,
            1,
            0,
            2,
            b"# serpent utf-8 python3.2\n'ok'",
        ))
        .await
        .unwrap();
        (get_meta, invoke)
    });
    let proxy = tether_pyro::Proxy::new(&format!("PYRO:example.greeting@{addr}")).unwrap();
    let got = proxy
        .call(Call::new("get_data", vec![Value::str("x")]))
        .await
        .unwrap();
    assert_eq!(got, Value::str("ok"));
    assert_eq!(
        proxy.metadata().await.unwrap().methods,
        vec!["get_data".to_string()]
    );
    let (get_meta, invoke) = server.await.unwrap();
    assert_eq!(u16::from_be_bytes([get_meta[10], get_meta[11]]), 1);
    assert!(get_meta.ends_with(b"('Pyro.Daemon','get_metadata',('example.greeting',),{})"));
    assert_eq!(u16::from_be_bytes([invoke[10], invoke[11]]), 2);
}
