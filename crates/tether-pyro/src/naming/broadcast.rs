//! The broadcast responder: answers Pyro's `locate_ns()` discovery. A client sends the nine
//! bytes `GET_NSURI` over UDP (to the broadcast address, port 9091 by default) and the
//! responder answers with the name server's URI as text. A responder bound to an unspecified
//! address (`0.0.0.0`) answers with the address of the interface that faces the client, as
//! Python's does.
//!
//! Replies are rate-limited (at most [`MAX_REPLIES_PER_SECOND`]): a UDP responder answers
//! spoofed sources too, and must not become a traffic amplifier.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

/// What a client sends.
pub const REQUEST: &[u8] = b"GET_NSURI";
/// Pyro's default broadcast port.
pub const BC_PORT: u16 = crate::uri::NS_BCPORT;
/// Most replies sent in one second.
pub const MAX_REPLIES_PER_SECOND: u32 = 100;

/// A running responder; stops when dropped or with [`Responder::stop`].
#[derive(Debug)]
pub struct Responder {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Responder {
    /// Binds `bind` (UDP) and answers every `GET_NSURI` with `ns_host:ns_port`'s URI.
    pub async fn start(
        bind: SocketAddr,
        ns_host: String,
        ns_port: u16,
    ) -> std::io::Result<Responder> {
        let sock = UdpSocket::bind(bind).await?;
        sock.set_broadcast(true)?;
        let addr = sock.local_addr()?;
        let sock = Arc::new(sock);
        let task = tokio::spawn(async move {
            let mut buf = [0u8; 100];
            let mut window = tokio::time::Instant::now();
            let mut sent = 0u32;
            loop {
                let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                    continue;
                };
                if !is_request(&buf[..n]) {
                    continue;
                }
                let now = tokio::time::Instant::now();
                if now.duration_since(window) >= std::time::Duration::from_secs(1) {
                    window = now;
                    sent = 0;
                }
                if sent >= MAX_REPLIES_PER_SECOND {
                    continue;
                }
                sent += 1;
                let host = match ns_host.parse::<IpAddr>() {
                    Ok(ip) if ip.is_unspecified() => facing(from).await.unwrap_or(ns_host.clone()),
                    _ => ns_host.clone(),
                };
                let uri = format!(
                    "PYRO:{}@{}",
                    super::NAME_SERVER_ID,
                    crate::uri::Location::Tcp {
                        host,
                        port: ns_port
                    }
                );
                tracing::debug!(target: "tether::pyro::naming", %from, "broadcast locate answered");
                let _ = sock.send_to(uri.as_bytes(), from).await;
            }
        });
        Ok(Responder { addr, task })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops answering.
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Whether a datagram the responder got is a locate request (anything else is ignored).
pub fn is_request(datagram: &[u8]) -> bool {
    datagram == REQUEST
}

/// A locate reply's text, decoded as Python decodes it (ISO-8859-1: every byte is a
/// character), for the caller to read as a URI.
pub fn reply_text(datagram: &[u8]) -> String {
    datagram.iter().map(|&b| b as char).collect()
}

/// The local address the system would use to reach `peer` (no packet is sent).
async fn facing(peer: SocketAddr) -> Option<String> {
    let any: SocketAddr = if peer.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let s = UdpSocket::bind(any).await.ok()?;
    s.connect(peer).await.ok()?;
    Some(s.local_addr().ok()?.ip().to_string())
}

/// Asks for a name server by broadcast (Python's `locate_ns` without a host): sends
/// `GET_NSURI` to each of `targets` up to three times, waiting 0.7 s for an answer each time.
pub async fn locate(targets: &[SocketAddr]) -> Option<String> {
    let sock = UdpSocket::bind(SocketAddr::from(([0, 0, 0, 0], 0)))
        .await
        .ok()?;
    sock.set_broadcast(true).ok()?;
    let mut buf = [0u8; 100];
    for _ in 0..3 {
        for t in targets {
            let _ = sock.send_to(REQUEST, t).await;
        }
        if let Ok(Ok((n, _))) = tokio::time::timeout(
            std::time::Duration::from_millis(700),
            sock.recv_from(&mut buf),
        )
        .await
        {
            return Some(reply_text(&buf[..n]));
        }
    }
    None
}
