//! The floor of an HTTP peer's call on the server's side (`serve http-floor:hessian` /
//! `serve http-floor:xmlrpc`): a blocking responder, one connection at a time, that reads
//! each request's head and body and writes one canned reply (what tether's server answers to
//! the benchmark's call), keeping the connection while the client does. It does no HTTP or
//! codec work a real server must do, so its CPU per call is what the kernel and the wake-ups
//! of that client's traffic cost any server: a foreign-client row cannot be cheaper.
//!
//! `serve http-floor:xmlrpc-mtls` is the same responder over mutual TLS (the sample PKI, a
//! client certificate required) on the stack tether's servers run on: tokio, and rustls
//! through tether's TLS layer. Its CPU per call adds what the records' encryption, and
//! reading through a TLS session, cost any server of that client.

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
        // pow(41, 3), over HTTP or mutual TLS.
        "xmlrpc" | "xmlrpc-mtls" => (
            "text/xml",
            tether_xmlrpc::codec::write_response(&Value::Int32(68921), &Default::default())?
                .into_bytes(),
        ),
        other => {
            return Err(
                format!("no HTTP floor for {other:?} (hessian, xmlrpc, xmlrpc-mtls)").into(),
            )
        }
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

/// [`serve`] over TLS: `peer`'s canned reply on `listener`, each connection's handshake done
/// by `tls`; runs until the process is stopped. One connection at a time, as [`serve`].
pub async fn serve_tls(
    peer: &str,
    listener: tokio::net::TcpListener,
    tls: tether_tls::ServerTls,
) -> Result<(), BoxErr> {
    let reply = canned(peer)?;
    loop {
        let (conn, addr) = listener.accept().await?;
        if conn.set_nodelay(true).is_err() {
            continue;
        }
        if let Ok(accepted) = tls.accept(conn, Some(addr)).await {
            let _ = serve_tls_conn(accepted.stream, &reply).await;
        }
    }
}

async fn serve_tls_conn<S>(mut conn: S, reply: &[u8]) -> std::io::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; MAX_REQUEST];
    let mut have = 0;
    loop {
        match conn.read(&mut buf[have..]).await? {
            0 => return Ok(()),
            n => have += n,
        }
        while let Some(end) = request_end(&buf[..have]) {
            conn.write_all(reply).await?;
            // Pushes the record out (one write per reply, as tether's server).
            conn.flush().await?;
            buf.copy_within(end..have, 0);
            have -= end;
        }
        if have == buf.len() {
            return Ok(());
        }
    }
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

    /// The mutual-TLS floor answers pipelined requests with the canned reply over TLS, and a
    /// client without a certificate gets nothing.
    #[tokio::test]
    async fn the_tls_floor_answers_over_mutual_tls_only() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let dir = std::env::temp_dir().join(format!("tether-bench-floor-{}", std::process::id()));
        tether_tls::generate_sample_pki(&dir, None).expect("sample PKI");
        let tls = crate::xmlrpc_rows::server_tls_in(&dir, crate::xmlrpc_rows::Link::Mutual)
            .expect("server TLS");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let server = tokio::spawn(async move { serve_tls("xmlrpc-mtls", listener, tls).await });
        let reply = canned("xmlrpc-mtls").expect("reply");
        let connect = |with_cert: bool| {
            let dir = dir.clone();
            async move {
                let mut c = tether_tls::ClientTlsSettings::new(dir.join("ca-chain.pem"));
                if with_cert {
                    c.certfile = Some(dir.join("client-cert.pem"));
                    c.keyfile = Some(dir.join("client-key.pem"));
                }
                let tcp = tokio::net::TcpStream::connect(addr).await?;
                let tls = tether_tls::ClientTls::new(&c)?;
                let stream = tls
                    .connect("localhost", tcp, std::time::Duration::from_secs(5))
                    .await?;
                Ok::<_, BoxErr>(stream)
            }
        };
        let mut stream = connect(true).await.expect("a client with a certificate");
        let request = b"POST /RPC2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
        stream
            .write_all(&[&request[..], &request[..]].concat())
            .await
            .expect("write");
        let mut got = vec![0u8; 2 * reply.len()];
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            stream.read_exact(&mut got),
        )
        .await
        .expect("in time")
        .expect("two replies");
        assert_eq!(got, [&reply[..], &reply[..]].concat());
        drop(stream);
        // Without a certificate the handshake (or the first read after it) fails.
        let refused = async {
            let mut s = connect(false).await?;
            s.write_all(request).await?;
            let mut b = [0u8; 1];
            match s.read(&mut b).await? {
                0 => Err::<(), BoxErr>("closed".into()),
                _ => Ok(()),
            }
        };
        let r = tokio::time::timeout(std::time::Duration::from_secs(5), refused)
            .await
            .expect("in time");
        assert!(r.is_err(), "a client without a certificate was answered");
        server.abort();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
