//! # tether-http: the HTTP layer of tether's HTTP wires
//!
//! Hessian and XML-RPC both carry one request and one reply per HTTP POST. What they share is
//! here, so every rule about hostile clients is written once:
//!
//! - `server/`: [`HttpServer`], HTTP/1.1 keep-alive over TCP or TLS (the shared
//!   `tether-tls` layer: client certificates and `verify_fields` checked after the handshake,
//!   before any HTTP), with a connection limit, header and body timeouts (the header timeout
//!   kept by one task for every connection, not a timer each), a body size limit
//!   (checked on the declared length before reading), a reply the client does not take within
//!   the body timeout closing the connection, gzip request bodies (bounded inflate) and
//!   gzip replies when asked, an access log line per request if wanted, graceful shutdown. A wire
//!   implements [`Handler`]: a complete request in, a complete reply out. Not hyper either:
//!   `server/connection.rs` parses a request where it lies in the read buffer and writes a
//!   reply in one write (`guard.rs` is the slow-loris guard, `date.rs` the Date header).
//! - `client/`: [`HttpClient`], one keep-alive connection (TCP_NODELAY, TLS with hostname
//!   checks). Not hyper: a call is one write and buffered reads on the caller's own task
//!   (`client/connection.rs` frames replies by Content-Length, chunks or close, each length
//!   checked against the limit first), which halves the client's cost of a small call and
//!   lets a verbose client print exactly the bytes it sent, as Python's does.
//! - `head.rs`: how both read a head (the start line and the header lines) where it lies in
//!   the read buffer, in one pass, each header handed to the caller as it is read; it accepts
//!   exactly what httparse accepts (a differential test holds it to that).
//! - `body.rs`: how both read a body, by length or in chunks, off their read buffer: every
//!   length checked against the limit first, memory reserved as the bytes come (at most
//!   256 KiB ahead of them), never to the length a peer claims.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod body;
mod client;
mod head;
mod name;
mod server;

pub use client::{
    check_header_name, context_headers, header_name_allowed, HttpClient, HttpReply, Sent,
};
pub use server::{Handler, HttpConfig, HttpRequest, HttpResponse, HttpServer, Method};

/// Reads `data` as what a server sent (the fuzz target `http_reply`): replies one after the
/// other, as a kept-alive connection would, until the bytes end or one fails. Not an API.
#[doc(hidden)]
pub fn fuzz_reply(data: &[u8]) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    rt.block_on(async {
        let mut conn = client::connection::ClientConnection::new(Box::new(
            client::connection::Replay::new(data),
        ));
        for _ in 0..64 {
            if conn.read_reply(1 << 20).await.is_err() {
                break;
            }
        }
    });
}

/// Reads `data` as what a client sent (the fuzz target `http_request`): requests one after the
/// other, heads and bodies, as a kept-alive connection would, until the bytes end or one
/// fails. Not an API.
#[doc(hidden)]
pub fn fuzz_request(data: &[u8]) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    rt.block_on(async {
        let mut conn = server::fuzz_connection(Box::new(client::connection::Replay::new(data)));
        for _ in 0..64 {
            if !server::fuzz_one(&mut conn).await {
                break;
            }
        }
    });
}
