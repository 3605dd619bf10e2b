//! Misbehaving clients: each gets an error reply or a close, never stalls the server, and a
//! good client keeps working throughout.

mod common;
use common::raw::{self, Got};
use common::*;
use std::time::Duration;
use tether_core::{Call, Value};
use tether_pyro::pyro5::{flags, msg_type, HEADER_SIZE};
use tether_pyro::serializer::Serializer;
use tether_pyro::{DaemonConfig, Proxy};

/// Asserts the good client still gets answers.
async fn good_client_works(p: &Proxy, n: i64) {
    let got = within(10, p.call(Call::new("echo", vec![Value::Int(n)]))).await;
    assert_eq!(got.unwrap(), Value::Int(n));
}

fn expect_closed(got: Got, what: &str) {
    assert!(
        matches!(got, Got::Closed),
        "{what}: expected a close, got {got:?}"
    );
}

/// Expects a RESULT with the EXCEPTION flag whose payload names `class`.
fn expect_error_reply(got: Got, class: &str, what: &str) {
    match got {
        Got::Frame(h, payload) => {
            assert_eq!(h.msg_type, msg_type::RESULT, "{what}");
            assert!(h.flags & flags::EXCEPTION != 0, "{what}: no exception flag");
            let text = String::from_utf8_lossy(&payload);
            assert!(text.contains(class), "{what}: {text}");
        }
        Got::Closed => panic!("{what}: expected an error reply, got a close"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_clients_get_errors_or_closes_and_never_stall_good_ones() {
    let (daemon, uri, _svc) = tether_test_service(DaemonConfig {
        max_message_size: 1024 * 1024,
        frame_timeout: Duration::from_millis(500),
        ..Default::default()
    })
    .await;
    let addr = daemon.local_addr().unwrap();
    let good = Proxy::new(&uri).unwrap();
    good_client_works(&good, 0).await;

    // A client that connects and says nothing, and one stuck mid-frame, stay open while
    // everything below runs: neither may stall anyone.
    let _silent = raw::dial(addr).await;
    let mut stuck = raw::handshaken(addr, Serializer::Serpent, "test.service").await;
    raw::send(
        &mut stuck,
        &raw::frame(msg_type::INVOKE, 1, 0, 1, b"# serpent")[..HEADER_SIZE + 3],
    )
    .await;

    // garbage (an HTTP request) is refused at once
    let mut s = raw::dial(addr).await;
    raw::send(&mut s, b"GET / HTTP/1.0\r\n\r\n").await;
    expect_closed(raw::read(&mut s).await, "garbage");
    good_client_works(&good, 1).await;

    // wrong version (a Pyro4 header) and wrong magic
    let mut s = raw::dial(addr).await;
    let mut f = raw::connect(Serializer::Serpent, "test.service");
    f[4..6].copy_from_slice(&48u16.to_be_bytes());
    raw::send(&mut s, &f).await;
    expect_closed(raw::read(&mut s).await, "wrong version");
    let mut s = raw::dial(addr).await;
    let mut f = raw::connect(Serializer::Serpent, "test.service");
    f[38] = 0;
    raw::send(&mut s, &f).await;
    expect_closed(raw::read(&mut s).await, "wrong magic");
    good_client_works(&good, 2).await;

    // a declared 4 GiB body: refused from the header alone (nothing allocated, nothing read),
    // answered with a ProtocolError, then closed
    let mut s = raw::handshaken(addr, Serializer::Serpent, "test.service").await;
    let mut f = raw::frame(msg_type::INVOKE, 1, 0, 1, b"");
    f[12..16].copy_from_slice(&u32::MAX.to_be_bytes());
    raw::send(&mut s, &f).await;
    expect_error_reply(
        raw::read(&mut s).await,
        "Pyro5.errors.ProtocolError",
        "4 GiB length",
    );
    expect_closed(raw::read(&mut s).await, "after 4 GiB length");
    // the same in the annotations length, before the handshake
    let mut s = raw::dial(addr).await;
    let mut f = raw::connect(Serializer::Serpent, "test.service");
    f[16..20].copy_from_slice(&u32::MAX.to_be_bytes());
    raw::send(&mut s, &f).await;
    expect_closed(raw::read(&mut s).await, "4 GiB annotations");
    good_client_works(&good, 3).await;

    // a truncated frame followed by a close, and one that stalls past the frame timeout
    let mut s = raw::handshaken(addr, Serializer::Json, "test.service").await;
    raw::send(
        &mut s,
        &raw::frame(msg_type::INVOKE, 3, 0, 1, b"{\"object\": ")[..HEADER_SIZE + 5],
    )
    .await;
    drop(s);
    expect_closed(raw::read(&mut stuck).await, "stalled mid-frame");
    good_client_works(&good, 4).await;

    // lying annotation length inside a frame
    let mut s = raw::handshaken(addr, Serializer::Serpent, "test.service").await;
    let mut f = raw::frame(msg_type::INVOKE, 1, 0, 1, b"ABCD\xff\xff\xff\xffxx");
    f[12..16].copy_from_slice(&0u32.to_be_bytes());
    f[16..20].copy_from_slice(&10u32.to_be_bytes());
    raw::send(&mut s, &f).await;
    expect_closed(raw::read(&mut s).await, "lying annotation length");

    // invalid payloads in every serializer: a SerializeError reply, and the connection stays usable
    for (ser, junk) in [
        (
            Serializer::Serpent,
            &b"# serpent utf-8 python3.2\n('test.service','echo',(1,"[..],
        ),
        (Serializer::Serpent, b"__import__('os').system('true')"),
        (
            Serializer::Json,
            b"{\"object\": \"test.service\", \"method\": ",
        ),
        (Serializer::Json, b"[1, 2, 3]"),
        (Serializer::Msgpack, b"\x94\xb0"),
        (Serializer::Msgpack, b"\xdd\xff\xff\xff\xff"),
    ] {
        let mut s = raw::handshaken(addr, ser, "test.service").await;
        raw::send(
            &mut s,
            &raw::frame(
                msg_type::INVOKE,
                tether_pyro::pyro5::serializer_id(ser),
                0,
                1,
                junk,
            ),
        )
        .await;
        expect_error_reply(
            raw::read(&mut s).await,
            "SerializeError",
            &format!("{ser:?} junk"),
        );
        let mut ok = Vec::new();
        ser.encode_call(
            "test.service",
            &Call::new("echo", vec![Value::Int(9)]),
            false,
            &mut ok,
        )
        .unwrap();
        raw::send(
            &mut s,
            &raw::frame(
                msg_type::INVOKE,
                tether_pyro::pyro5::serializer_id(ser),
                0,
                2,
                &ok,
            ),
        )
        .await;
        match raw::read(&mut s).await {
            Got::Frame(h, payload) => {
                assert_eq!((h.seq, h.flags & flags::EXCEPTION), (2, 0), "{ser:?}");
                assert_eq!(
                    ser.decode(&payload, &Default::default()).unwrap(),
                    Value::Int(9)
                );
            }
            Got::Closed => panic!("{ser:?}: closed after a bad payload"),
        }
    }
    good_client_works(&good, 5).await;

    // an unknown serializer id (5: none of Pyro5's) on INVOKE: nothing can be answered; closed
    let mut s = raw::handshaken(addr, Serializer::Serpent, "test.service").await;
    raw::send(&mut s, &raw::frame(msg_type::INVOKE, 5, 0, 1, b"\xe3\x00")).await;
    expect_closed(raw::read(&mut s).await, "unknown serializer");
    // ... and on CONNECT: CONNECTFAIL with the reason, in serpent (which every client reads)
    for (id, name) in [(99u8, "id 99"), (5, "id 5")] {
        let mut s = raw::dial(addr).await;
        raw::send(&mut s, &raw::frame(msg_type::CONNECT, id, 0, 0, b"x")).await;
        match raw::read(&mut s).await {
            raw::Got::Frame(h, payload) => {
                assert_eq!((h.msg_type, h.serializer_id), (msg_type::CONNECTFAIL, 1));
                let text = String::from_utf8_lossy(&payload);
                assert!(
                    text.contains(&format!("serializer that is not accepted: {name}")),
                    "{text}"
                );
            }
            raw::Got::Closed => {
                panic!("unknown serializer {id} on CONNECT: closed without a reason")
            }
        }
        expect_closed(raw::read(&mut s).await, "after CONNECTFAIL");
    }

    // INVOKE before CONNECT: CONNECTFAIL with Python's text, then closed
    let mut s = raw::dial(addr).await;
    let mut call = Vec::new();
    Serializer::Serpent
        .encode_call(
            "test.service",
            &Call::new("echo", vec![Value::Int(1)]),
            false,
            &mut call,
        )
        .unwrap();
    raw::send(&mut s, &raw::frame(msg_type::INVOKE, 1, 0, 1, &call)).await;
    match raw::read(&mut s).await {
        Got::Frame(h, payload) => {
            assert_eq!(h.msg_type, msg_type::CONNECTFAIL);
            assert!(String::from_utf8_lossy(&payload)
                .contains("invalid msg type 4 received (expected: 1)"));
        }
        Got::Closed => panic!("INVOKE before CONNECT: expected CONNECTFAIL"),
    }
    expect_closed(raw::read(&mut s).await, "after CONNECTFAIL");

    // a RESULT sent to the server after the handshake: closed
    let mut s = raw::handshaken(addr, Serializer::Serpent, "test.service").await;
    raw::send(&mut s, &raw::frame(msg_type::RESULT, 1, 0, 1, b"None")).await;
    expect_closed(raw::read(&mut s).await, "RESULT to server");

    // a serialized-blob (KEEPSERIALIZED) request: refused with an error reply
    let mut s = raw::handshaken(addr, Serializer::Serpent, "test.service").await;
    raw::send(
        &mut s,
        &raw::frame(msg_type::INVOKE, 1, flags::KEEPSERIALIZED, 1, &call),
    )
    .await;
    expect_error_reply(raw::read(&mut s).await, "ProtocolError", "keepserialized");

    // a zlib bomb over the size limit is refused (SerializeError reply is not possible: closed)
    let mut s = raw::handshaken(addr, Serializer::Serpent, "test.service").await;
    let bomb = {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut z, &vec![b' '; 4 * 1024 * 1024]).unwrap();
        z.finish().unwrap()
    };
    raw::send(
        &mut s,
        &raw::frame(msg_type::INVOKE, 1, flags::COMPRESSED, 1, &bomb),
    )
    .await;
    expect_closed(raw::read(&mut s).await, "zlib bomb");

    good_client_works(&good, 6).await;
    // PING still answered
    within(10, good.ping()).await.unwrap();
    daemon.shutdown().await;
}
