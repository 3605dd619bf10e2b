//! Misbehaving Pyro4 clients (the foundation's bad-input set for Pyro4's framing): a bad
//! checksum, a bad or missing HMAC, a declared length of 2 GiB, an annotation length that lies,
//! a negative length, and a valid CONNECT truncated at every byte. Each gets an error reply or
//! a close, within bounded time, while a Pyro4 and a Pyro5 client keep being served.

mod common;
use common::*;
use std::time::Duration;
use tether_core::{Call, Value};
use tether_pyro::pyro4::{Header4, HmacKey, HEADER_SIZE};
use tether_pyro::{DaemonConfig, Proxy, WireVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug)]
enum Got {
    Frame(Header4, Vec<u8>),
    Closed,
}

fn frame(msg_type: u16, ser: u16, flags: u16, seq: u16, anns: &[u8], payload: &[u8]) -> Vec<u8> {
    let h = Header4 {
        msg_type,
        flags,
        seq,
        data_len: payload.len() as u32,
        serializer_id: ser,
        annotations_len: anns.len() as u16,
    };
    let mut b = [0u8; HEADER_SIZE];
    h.encode(&mut b);
    let mut out = b.to_vec();
    out.extend_from_slice(anns);
    out.extend_from_slice(payload);
    out
}

fn connect_frame() -> Vec<u8> {
    frame(
        1,
        1,
        0x10,
        0,
        b"",
        b"# serpent utf-8 python3.2\n{'handshake':'hello','object':'test.echoserver'}",
    )
}

async fn read(s: &mut TcpStream) -> Got {
    tokio::time::timeout(Duration::from_secs(10), async {
        let mut head = [0u8; HEADER_SIZE];
        if s.read_exact(&mut head).await.is_err() {
            return Got::Closed;
        }
        let h = Header4::parse(&head, 1 << 20).expect("a valid reply header");
        let mut body = vec![0u8; h.body_len() as usize];
        if s.read_exact(&mut body).await.is_err() {
            return Got::Closed;
        }
        Got::Frame(h, body)
    })
    .await
    .expect("the server answered or closed within 10 s")
}

async fn expect_closed(s: &mut TcpStream, what: &str) {
    let got = read(s).await;
    assert!(
        matches!(got, Got::Closed),
        "{what}: expected a close, got {got:?}"
    );
}

async fn good_clients_work(v4: &Proxy, v5: &Proxy, n: i64) {
    for p in [v4, v5] {
        let got = within(10, p.call(Call::new("echo", vec![Value::Int(n)]))).await;
        assert_eq!(got.unwrap(), Value::Int(n), "{:?}", p.wire());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_pyro4_clients_get_errors_or_closes_and_never_stall_good_ones() {
    let (daemon, uri, _echo) = tether_echo(DaemonConfig {
        max_message_size: 1024 * 1024,
        frame_timeout: Duration::from_millis(500),
        ..Default::default()
    })
    .await;
    let addr = daemon.local_addr().unwrap();
    let v4 = Proxy::new(&uri).unwrap().with_wire(WireVersion::Pyro4);
    let v5 = Proxy::new(&uri).unwrap();
    good_clients_work(&v4, &v5, 0).await;
    let dial = || async move { TcpStream::connect(addr).await.unwrap() };

    // a valid CONNECT is answered (the baseline for the cases below)
    let mut s = dial().await;
    s.write_all(&connect_frame()).await.unwrap();
    match read(&mut s).await {
        Got::Frame(h, _) => assert_eq!((h.msg_type, h.flags), (2, 0x10)),
        Got::Closed => panic!("valid CONNECT refused"),
    }

    // bad checksum: closed
    let mut bad = connect_frame();
    bad[23] ^= 0x55;
    let mut s = dial().await;
    s.write_all(&bad).await.unwrap();
    expect_closed(&mut s, "bad checksum").await;
    good_clients_work(&v4, &v5, 1).await;

    // a declared length of 2 GiB (checksum right): refused from the header, nothing allocated
    let mut huge = frame(1, 1, 0x10, 0, b"", b"");
    let mut h = Header4::parse(&huge[..HEADER_SIZE], usize::MAX).unwrap();
    h.data_len = i32::MAX as u32;
    let mut head = [0u8; HEADER_SIZE];
    h.encode(&mut head);
    huge[..HEADER_SIZE].copy_from_slice(&head);
    let mut s = dial().await;
    s.write_all(&huge).await.unwrap();
    expect_closed(&mut s, "2 GiB length").await;
    // ... and a negative one
    h.data_len = 0x8000_0000;
    h.encode(&mut head);
    let mut s = dial().await;
    s.write_all(&head).await.unwrap();
    expect_closed(&mut s, "negative length").await;
    good_clients_work(&v4, &v5, 2).await;

    // an annotation whose length runs past the annotations: closed
    let mut anns = b"XTRA".to_vec();
    anns.extend_from_slice(&60000u16.to_be_bytes());
    anns.extend_from_slice(b"abc");
    let mut s = dial().await;
    s.write_all(&frame(1, 1, 0x10, 0, &anns, b"{}"))
        .await
        .unwrap();
    expect_closed(&mut s, "lying annotation length").await;

    // an HMAC the daemon has no key for: CONNECTFAIL (unsigned), then closed
    let mut anns = b"HMAC".to_vec();
    anns.extend_from_slice(&20u16.to_be_bytes());
    anns.extend_from_slice(&[7; 20]);
    let body = b"# serpent utf-8 python3.2\n{'handshake':'hello','object':'test.echoserver'}";
    let mut s = dial().await;
    s.write_all(&frame(1, 1, 0x10, 0, &anns, body))
        .await
        .unwrap();
    match read(&mut s).await {
        Got::Frame(h, payload) => {
            assert_eq!((h.msg_type, h.annotations_len), (3, 0));
            assert!(String::from_utf8_lossy(&payload).contains("hmac key config not symmetric"));
        }
        Got::Closed => panic!("signed CONNECT to a keyless daemon: no CONNECTFAIL"),
    }
    expect_closed(&mut s, "after CONNECTFAIL").await;
    good_clients_work(&v4, &v5, 3).await;

    // a valid CONNECT cut at every byte, then the writer closes: a close, never a reply
    let whole = connect_frame();
    for cut in 1..whole.len() {
        let mut s = dial().await;
        s.write_all(&whole[..cut]).await.unwrap();
        s.shutdown().await.unwrap();
        expect_closed(&mut s, &format!("truncated at {cut}")).await;
    }
    // ... and stalled mid-frame: closed by the frame timeout
    let mut s = dial().await;
    s.write_all(&whole[..30]).await.unwrap();
    expect_closed(&mut s, "stalled").await;
    good_clients_work(&v4, &v5, 4).await;
    daemon.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_daemon_refuses_bad_signatures() {
    let (daemon, uri, _echo) = tether_echo(DaemonConfig {
        hmac_key: Some(HmacKey::new(b"right")),
        ..Default::default()
    })
    .await;
    let addr = daemon.local_addr().unwrap();
    let good = Proxy::new(&uri)
        .unwrap()
        .with_wire(WireVersion::Pyro4)
        .with_hmac_key(HmacKey::new(b"right"));
    assert_eq!(
        within(10, good.call(Call::new("echo", vec![Value::Int(1)])))
            .await
            .unwrap(),
        Value::Int(1)
    );
    // unsigned, and signed with garbage: CONNECTFAIL, signed with the daemon's key
    for anns in [Vec::new(), {
        let mut a = b"HMAC".to_vec();
        a.extend_from_slice(&20u16.to_be_bytes());
        a.extend_from_slice(&[9; 20]);
        a
    }] {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let body = b"# serpent utf-8 python3.2\n{'handshake':'hello','object':'test.echoserver'}";
        s.write_all(&frame(1, 1, 0x10, 0, &anns, body))
            .await
            .unwrap();
        match read(&mut s).await {
            Got::Frame(h, payload) => {
                assert_eq!(h.msg_type, 3);
                assert_eq!(h.annotations_len, 26, "the refusal is signed");
                let text = String::from_utf8_lossy(&payload);
                assert!(text.contains("hmac"), "{text}");
            }
            Got::Closed => panic!("no CONNECTFAIL"),
        }
        expect_closed(&mut s, "after CONNECTFAIL").await;
    }
    // a wrong key on INVOKE after a good handshake is impossible for a real client (the key
    // is per proxy); the good client is unaffected by all of the above
    assert_eq!(
        within(10, good.call(Call::new("echo", vec![Value::Int(2)])))
            .await
            .unwrap(),
        Value::Int(2)
    );
    daemon.shutdown().await;
}
