//! The floor of an HTTP peer's call on the server's side (`serve http-floor:hessian` /
//! `serve http-floor:xmlrpc`): a blocking responder, one connection at a time, that reads
//! each request's head and body and writes one canned reply (what tether's server answers to
//! the benchmark's call), keeping the connection while the client does. It does no HTTP or
//! codec work a real server must do, so its CPU per call is what the kernel and the wake-ups
//! of that client's traffic cost any server: a foreign-client row cannot be cheaper.

use crate::drive::BoxErr;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use tether_core::Value;

/// Most bytes one request may have (head and body); a larger one closes the connection.
const MAX_REQUEST: usize = 64 * 1024;

/// The reply to the benchmark's call of `peer`'s service, with its HTTP head: the body is
/// written by the wire's own codec, as tether's server writes it.
fn canned(peer: &str) -> Result<Vec<u8>, BoxErr> {
    let (content_type, body) = match peer {
        // getData("Hello"), answered in Hessian 1 (python-hessian's version; Java reads both).
        "hessian" => {
            let mut b = Vec::new();
            tether_hessian::codec::write_reply(
                false,
                &Value::str("You got remoted data: Hello"),
                &mut b,
            )?;
            ("x-application/hessian", b)
        }
        // pow(41, 3).
        "xmlrpc" => (
            "text/xml",
            tether_xmlrpc::codec::write_response(&Value::Int32(68921), &Default::default())?
                .into_bytes(),
        ),
        other => return Err(format!("no HTTP floor for {other:?} (hessian, xmlrpc)").into()),
    };
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    reply.extend_from_slice(&body);
    Ok(reply)
}

/// Serves `peer`'s canned reply on `listener` until the process is stopped, one connection at
/// a time on this thread (the foreign clients are sequential; python-hessian opens a
/// connection per call, and a thread per connection would cost more than the call).
pub fn serve(peer: &str, listener: TcpListener) -> Result<(), BoxErr> {
    let reply = canned(peer)?;
    for conn in listener.incoming() {
        serve_conn(conn?, &reply);
    }
    Ok(())
}

/// Where a request that starts `buf` ends, once its head and body are all there.
fn request_end(buf: &[u8]) -> Option<usize> {
    let head = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let text = std::str::from_utf8(&buf[..head]).ok()?;
    let body: usize = text
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let end = head + 4 + body;
    (buf.len() >= end).then_some(end)
}

fn serve_conn(mut conn: TcpStream, reply: &[u8]) {
    if conn.set_nodelay(true).is_err() {
        return;
    }
    let mut buf = vec![0u8; MAX_REQUEST];
    let mut have = 0;
    loop {
        match conn.read(&mut buf[have..]) {
            Ok(0) | Err(_) => return,
            Ok(n) => have += n,
        }
        while let Some(end) = request_end(&buf[..have]) {
            if conn.write_all(reply).is_err() {
                return;
            }
            buf.copy_within(end..have, 0);
            have -= end;
        }
        if have == buf.len() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_ends_after_its_body() {
        let r = b"POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcPOST";
        assert_eq!(request_end(r), Some(r.len() - 4));
        assert_eq!(request_end(&r[..r.len() - 6]), None);
        assert_eq!(request_end(b"GET / HTTP/1.1\r\n\r\n"), Some(18));
        assert!(canned("pyro5").is_err());
    }
}
