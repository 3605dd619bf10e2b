//! Sockets that say nothing, or finish CONNECT and then idle, cannot lock new clients out: the
//! oldest silent socket and the idlest established connection make room.

mod common;
use common::{tether_echo, within};
use std::time::{Duration, Instant};
use tether_core::{Call, Value};
use tether_pyro::{DaemonConfig, Proxy};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

fn echo(v: i64) -> Call {
    Call::new("echo", vec![Value::Int(v)])
}

#[tokio::test]
async fn silent_sockets_are_shed_oldest_first() {
    let (daemon, uri, _) = tether_echo(DaemonConfig {
        max_connections: 100,
        max_pending_handshakes: 20,
        ..DaemonConfig::default()
    })
    .await;
    let addr = daemon.local_addr().unwrap();
    // 300 sockets that never send a byte: more than the connection limit.
    let mut silent = Vec::new();
    for _ in 0..300 {
        silent.push(TcpStream::connect(addr).await.unwrap());
    }
    // New clients are served at once, all of them.
    for i in 0..20 {
        let p = Proxy::new(&uri).unwrap();
        let t = Instant::now();
        assert_eq!(within(10, p.call(echo(i))).await.unwrap(), Value::Int(i));
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    }
    // The oldest silent sockets were closed to make room.
    let mut buf = [0u8; 64];
    let n = within(10, silent[0].read(&mut buf)).await.unwrap_or(0);
    assert_eq!(n, 0, "the oldest silent socket was closed");
    daemon.shutdown().await;
}

/// Sockets that say CONNECT and go idle, all at once, fill the daemon: a new client is served
/// at once, not after the idle ones have waited a while.
#[tokio::test]
async fn a_new_client_is_served_at_once_when_the_daemon_is_full_of_idle_connections() {
    let (daemon, uri, _) = tether_echo(DaemonConfig {
        max_connections: 20,
        ..DaemonConfig::default()
    })
    .await;
    let mut idle = Vec::new();
    for i in 0..20 {
        let p = Proxy::new(&uri).unwrap();
        assert_eq!(p.call(echo(i)).await.unwrap(), Value::Int(i));
        idle.push(p);
    }
    // No pause: each new client gets a slot right away, an idle connection closing for it.
    for i in 0..20 {
        let p = Proxy::new(&uri).unwrap();
        assert_eq!(within(10, p.call(echo(i))).await.unwrap(), Value::Int(i));
        idle.push(p);
    }
    daemon.shutdown().await;
}

#[tokio::test]
async fn idle_established_connections_make_room_busy_ones_do_not() {
    let (daemon, uri, _) = tether_echo(DaemonConfig {
        max_connections: 10,
        shed_idle_after: Duration::from_millis(200),
        ..DaemonConfig::default()
    })
    .await;
    // Ten clients connect, call once, then idle, holding every slot.
    let mut idle = Vec::new();
    for i in 0..10 {
        let p = Proxy::new(&uri).unwrap();
        assert_eq!(p.call(echo(i)).await.unwrap(), Value::Int(i));
        idle.push(p);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Ten new clients still get in, one idle connection closed for each.
    for i in 0..10 {
        let p = Proxy::new(&uri).unwrap();
        assert_eq!(within(10, p.call(echo(i))).await.unwrap(), Value::Int(i));
        tokio::time::sleep(Duration::from_millis(250)).await;
        idle.push(p);
    }
    // An old client whose connection was shed reconnects on its next call.
    assert_eq!(
        within(10, idle[0].call(echo(7))).await.unwrap(),
        Value::Int(7)
    );

    // Connections with a call running are never shed: ten slow calls fill the daemon, and a
    // new client is refused until they end.
    daemon.shutdown().await;
    let (daemon, uri, _) = tether_echo(DaemonConfig {
        max_connections: 2,
        shed_idle_after: Duration::from_millis(10),
        ..DaemonConfig::default()
    })
    .await;
    let mut busy = Vec::new();
    for _ in 0..2 {
        let p = Proxy::new(&uri).unwrap();
        busy.push(tokio::spawn(async move {
            p.call(Call::new("slow", vec![])).await
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let late = Proxy::new(&uri).unwrap();
    let e = within(10, late.call(echo(1))).await.unwrap_err();
    assert!(
        e.to_string().contains("rejected") || e.to_string().contains("limit"),
        "{e}"
    );
    for b in busy {
        assert!(
            within(10, b).await.unwrap().is_ok(),
            "a busy call was not cut"
        );
    }
    daemon.shutdown().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_after_the_write_timeout() {
    use common::raw;
    use tether_pyro::pyro5::{msg_type, serializer_id};
    use tether_pyro::serializer::Serializer;
    let (daemon, _uri, _) = tether_echo(DaemonConfig {
        write_timeout: Duration::from_millis(300),
        ..DaemonConfig::default()
    })
    .await;
    let addr = daemon.local_addr().unwrap();
    let mut s = raw::handshaken(addr, Serializer::Msgpack, "test.echoserver").await;
    // Ask for 16 echoes of 2 MiB and read none of them: the replies fill the socket buffers.
    let call = Call::new("echo", vec![Value::Bytes(vec![7u8; 2 << 20])]);
    let mut payload = Vec::new();
    Serializer::Msgpack
        .encode_call("test.echoserver", &call, false, &mut payload)
        .unwrap();
    for seq in 1..=16u16 {
        let f = raw::frame(
            msg_type::INVOKE,
            serializer_id(Serializer::Msgpack),
            0,
            seq,
            &payload,
        );
        raw::send(&mut s, &f).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    // The server gave up writing and closed: reading now drains what was sent, then ends.
    let mut replies = 0;
    while let raw::Got::Frame(..) = raw::read(&mut s).await {
        replies += 1;
    }
    assert!(
        replies < 16,
        "the connection was dropped, not served to the end"
    );
    daemon.shutdown().await;
}

#[tokio::test]
async fn partial_large_frames_share_one_budget() {
    use common::raw;
    use tether_pyro::pyro5::{msg_type, Header, HEADER_SIZE};
    use tether_pyro::serializer::Serializer;
    use tokio::io::AsyncWriteExt;
    let (daemon, uri, _) = tether_echo(DaemonConfig {
        max_buffered_bytes: 5 << 20,
        ..DaemonConfig::default()
    })
    .await;
    let addr = daemon.local_addr().unwrap();
    // Each stalled client declares a 2 MiB body and sends 100 KB of it.
    let stalled = || async move {
        let mut s = raw::handshaken(addr, Serializer::Serpent, "test.echoserver").await;
        let mut h = Header::new(msg_type::INVOKE, 1, 0, 1);
        h.data_len = 2 << 20;
        let mut head = [0u8; HEADER_SIZE];
        h.encode(&mut head);
        let _ = s.write_all(&head).await;
        let _ = s.write_all(&vec![b' '; 100_000]).await;
        s
    };
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(stalled().await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The third does not fit in 5 MiB: it is closed.
    let mut third = stalled().await;
    let mut buf = [0u8; 16];
    let n = within(10, third.read(&mut buf)).await.unwrap_or(0);
    assert_eq!(n, 0, "the connection over the budget is closed");
    // Small calls never wait on the budget.
    let p = Proxy::new(&uri).unwrap();
    assert_eq!(within(10, p.call(echo(5))).await.unwrap(), Value::Int(5));
    // When the stalled clients leave, a large message fits again.
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let big = Value::Bytes(vec![1u8; 3 << 20]);
    let got = within(10, p.call(Call::new("echo", vec![big.clone()])))
        .await
        .unwrap();
    assert_eq!(got, big);
    daemon.shutdown().await;
}
