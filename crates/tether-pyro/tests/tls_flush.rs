//! A message written over TLS reaches the peer whole even when the transport is full while it
//! is written. A TLS stream takes a message into its session faster than a full socket takes
//! the records, and hands the rest to the socket only when it is written to again or
//! flushed: a reply written at such a moment, with nothing written after it, would wait in
//! the sender while its caller waited for it (seen as a rare hang of 64 connections calling
//! over TLS on one CPU).

use std::time::Duration;
use tether_pyro::Connection;
use tether_tls::{ClientTls, ClientTlsSettings, ServerTls, ServerTlsSettings};
use tokio::io::AsyncReadExt;

#[tokio::test]
async fn a_message_over_tls_is_delivered_whole_when_the_transport_is_full() {
    let dir = std::env::temp_dir().join(format!("tether-pyro-tls-flush-{}", std::process::id()));
    tether_tls::generate_sample_pki(&dir, None).expect("sample PKI");
    let server = ServerTls::new(&ServerTlsSettings::new(
        dir.join("server-cert.pem"),
        dir.join("server-key.pem"),
    ))
    .expect("server TLS");
    let client =
        ClientTls::new(&ClientTlsSettings::new(dir.join("ca-chain.pem"))).expect("client TLS");

    // A transport that holds 2 KiB: a 256 KiB message fills it many times over.
    let (near, far) = tokio::io::duplex(2048);
    let message: Vec<u8> = (0..256 * 1024u32).map(|i| (i % 251) as u8).collect();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();

    let sent = message.clone();
    let sender = tokio::spawn(async move {
        let accepted = server.accept(near, None).await.expect("TLS accept");
        let mut conn: Connection<_> = Connection::new(accepted.stream, 1 << 20);
        conn.write_buffer().extend_from_slice(&sent);
        conn.flush_encoded().await.expect("written");
        // Nothing more is written on this connection until the reader is done.
        let _ = done_rx.await;
    });

    let mut stream = client
        .connect("localhost", far, Duration::from_secs(5))
        .await
        .expect("TLS connect");
    let mut got = vec![0u8; message.len()];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut got)).await;
    let _ = done_tx.send(());
    match read {
        Ok(Ok(_)) => assert!(got == message, "the message arrived changed"),
        Ok(Err(e)) => panic!("reading the message failed: {e}"),
        Err(_) => {
            panic!("the message's end never arrived: it was left in the sender's TLS session")
        }
    }
    sender.await.expect("sender");
    let _ = std::fs::remove_dir_all(&dir);
}
