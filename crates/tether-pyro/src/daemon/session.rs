//! One client connection: CONNECT handshake first, then INVOKE and PING until the client
//! leaves, the daemon shuts down, or the client breaks the protocol.
//!
//! What a misbehaving client gets (Python's daemon does much the same):
//! - a frame that is not Pyro5 (bad tag, version, magic), a truncated frame, a stalled frame,
//!   an unexpected message type, or an unknown serializer id: the connection is closed and the
//!   reason logged; nothing can be sent that the client would understand;
//! - a frame over the size limit: a `ProtocolError` reply when the header is usable, then close
//!   (the body is never read, so the stream cannot be resynchronised);
//! - INVOKE before CONNECT: CONNECTFAIL with Python's text, then close;
//! - a payload that does not decode: a `SerializeError` reply; the connection stays usable.
//!
//! Each connection runs in its own task and reads with deadlines, so no client can stall another.

use super::latch::{LatchWait, CLOSING, SHED, STOPPING};
use super::{route, Shared, State, DAEMON_OBJECT_ID};
use crate::exception;
use crate::message::Annotation;
use crate::metadata::Metadata;
use crate::pyro5::{flags, msg_type, FrameError, Header};
use crate::serializer::Serializer;
use crate::socket::Socket;
use crate::wire::{WireConnection, WireVersion};
use std::sync::Arc;
use tether_core::{RemoteError, Value};
use tokio::sync::OwnedSemaphorePermit;
use tracing::Instrument;

const LOG: &str = "tether::pyro::daemon";

/// Serves one accepted connection. The permit is held for the connection's lifetime.
pub(super) async fn run(
    shared: Arc<Shared>,
    stream: Socket,
    peer: String,
    permit: OwnedSemaphorePermit,
) {
    let span = tracing::debug_span!(target: "tether::pyro::daemon", "pyro_connection", %peer);
    let _counted = shared.stats.open();
    let conn_id = shared.new_conn_id();
    let entry = shared.open_conn(conn_id);
    // What every call of this connection knows about its caller (see `CallContext`).
    let mut context = tether_core::CallContext::new();
    context.peer = peer.parse().ok();
    let stream = match (&shared.config.tls, stream) {
        (None, s) => Some(s),
        (Some(tls), Socket::Tcp(tcp)) => match tls.accept(tcp, context.peer).await {
            Ok(accepted) => {
                context.tls_subject = accepted.subject;
                Some(Socket::TlsServer(Box::new(accepted.stream)))
            }
            // Logged by the TLS layer (a refused subject at ERROR, the rest at DEBUG).
            Err(_) => None,
        },
        (Some(_), _) => {
            super::quiet::warn_limited!(
                shared.warn_limit,
                "TLS is configured but the connection is not TCP, closing"
            );
            None
        }
    };
    if let Some(stream) = stream {
        serve(shared.clone(), stream, conn_id, &entry, context)
            .instrument(span)
            .await;
    }
    shared.conns.close(conn_id);
    // Its item streams linger for a reconnect, unless the daemon is stopping.
    let stopping = *shared.state.borrow() != State::Running;
    shared
        .streams
        .disconnect(conn_id, shared.config.stream_linger, stopping);
    drop(permit);
}

async fn serve(
    shared: Arc<Shared>,
    stream: Socket,
    conn_id: u64,
    entry: &super::conns::ConnEntry,
    context: tether_core::CallContext,
) {
    let cfg = &shared.config;
    // What ends the session from outside (see latch.rs): stop reading once the connection is
    // shed or the daemon stops, abort a call in progress once the daemon closes.
    let mut stopping = LatchWait::new(entry.latch.clone(), SHED | STOPPING);
    let mut closing = LatchWait::new(entry.latch.clone(), CLOSING);
    // This connection's share of oneway calls (see DaemonConfig::max_oneway_per_connection).
    let oneway = Arc::new(tokio::sync::Semaphore::new(super::bounded_permits(
        cfg.max_oneway_per_connection,
    )));
    // The object this connection called last (see objects.rs).
    let mut objects = super::objects::ObjectCache::default();

    // A client that says nothing is a Pyro 3 client (the server speaks first there); the
    // first bytes of any other tell Pyro4 from Pyro5 (see wire.rs); then the CONNECT.
    let opening = async {
        if matches!(stream, Socket::Tcp(_))
            && tokio::time::timeout(cfg.silent_client_wait, stream.readable())
                .await
                .is_err()
        {
            return Ok(Opening::Silent(stream));
        }
        let mut conn = WireConnection::accept(
            stream,
            cfg.max_message_size,
            cfg.pyro4,
            cfg.hmac_key.clone(),
        )
        .await?;
        conn.set_compression(cfg.compress_replies);
        conn.set_max_inflate_ratio(cfg.max_inflate_ratio);
        conn.set_write_timeout(Some(cfg.write_timeout));
        conn.set_budget(Some(shared.budget.clone()));
        // Large byte strings in calls are received straight into their own buffers.
        conn.set_detach_large_bytes(Some(crate::serializer::SPLICE_THRESHOLD));
        let first = conn.read_message(None, Some(cfg.frame_timeout)).await;
        Ok::<_, std::io::Error>(Opening::Spoke(Box::new(conn), first))
    };
    let first = tokio::select! {
        why = stopping.reached() => {
            if why & SHED != 0 {
                tracing::debug!(target: LOG, "closed to make room for new connections (no CONNECT yet)");
            }
            return;
        }
        r = tokio::time::timeout(cfg.handshake_timeout + cfg.silent_client_wait, opening) => r,
    };
    let (mut conn, msg) = match first {
        Err(_) => {
            tracing::debug!(target: LOG, "no CONNECT within the handshake timeout, closing");
            return;
        }
        Ok(Err(e)) => {
            tracing::debug!(target: LOG, "connection lost before CONNECT: {e}");
            return;
        }
        Ok(Ok(Opening::Silent(stream))) => {
            #[cfg(feature = "pyro3")]
            if let Some(settings) = &cfg.pyro3 {
                let caller = super::pyro3::Session {
                    conn_id,
                    entry,
                    oneway: &oneway,
                    stopping: &mut stopping,
                    closing: &mut closing,
                };
                // Boxed: inline, the Pyro 3 session's future would make every connection's
                // task (Pyro4 and Pyro5 ones too, idle or not) 1.5 KB larger.
                return Box::pin(super::pyro3::serve(
                    &shared, stream, settings, caller, context,
                ))
                .await;
            }
            // Without Pyro 3 a silent client would wait forever for a server that waits for
            // it: Pyro 3's refusal ends that (a Python 2 client raises ConnectionDeniedError).
            tracing::debug!(target: LOG, "silent client (Pyro 3?) refused: Pyro 3 is not enabled");
            let mut stream = stream;
            let _ = tokio::time::timeout(cfg.write_timeout, async {
                let _ = tokio::io::AsyncWriteExt::write_all(&mut stream, b"DENIED0").await;
                let _ = tokio::io::AsyncWriteExt::shutdown(&mut stream).await;
            })
            .await;
            return;
        }
        Ok(Ok(Opening::Spoke(conn, first))) => (*conn, first),
    };
    let msg = match msg {
        Ok(Some(m)) => m,
        Ok(None) => return,
        Err(FrameError::Hmac(why)) => {
            // Pyro4 answers a CONNECT it cannot authenticate with CONNECTFAIL (signed with
            // its own key, if it has one); the client then reports the mismatch itself.
            tracing::info!(target: LOG, "Pyro4 client refused: {why}");
            let h = Header::new(msg_type::CONNECTFAIL, 1, 0, 0);
            let _ = conn
                .send(h, &[], |b| Serializer::Serpent.encode(&Value::str(why), b))
                .await;
            conn.shutdown().await;
            return;
        }
        Err(e) => return frame_error(&shared, &mut conn, e).await,
    };
    let wire = conn.version();
    let mut context = context;
    context.protocol = Some(wire.name());
    if !handshake(&shared, &mut conn, msg).await {
        conn.shutdown().await;
        return;
    }
    tracing::debug!(target: LOG, "handshake done");
    shared.conns.established(entry);

    // (A connection shed while a call runs ends the loop at its next turn.)
    loop {
        let next = tokio::select! {
            biased;
            why = stopping.reached() => {
                if why & SHED != 0 {
                    tracing::debug!(target: LOG, "idle connection closed to make room for a new client");
                }
                break;
            }
            r = conn.read_message(cfg.idle_timeout, Some(cfg.frame_timeout)) => r,
        };
        let msg = match next {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(FrameError::Timeout) => {
                tracing::debug!(target: LOG, "connection idle or stalled, closing");
                break;
            }
            Err(e) => return frame_error(&shared, &mut conn, e).await,
        };
        // Busy while its call runs: an idle connection may be shed, a busy one never.
        shared.conns.busy(entry);
        let h = msg.header;
        match h.msg_type {
            msg_type::PING => {
                let reply =
                    Header::new(msg_type::PING, h.serializer_id, 0, h.seq).with_corr_id(h.corr());
                // (the Pyro4 reply carries the CORR annotation, as Pyro4's does)
                let sent = conn
                    .send(reply, &[], |b| {
                        b.extend_from_slice(b"pong");
                        Ok(())
                    })
                    .await;
                if sent.is_err() {
                    break;
                }
            }
            msg_type::INVOKE => {
                let Some(ser) = accepted_serializer(&shared, wire, h.serializer_id) else {
                    super::quiet::warn_limited!(
                        shared.warn_limit,
                        "protocol error: unsupported serializer id {}, closing",
                        h.serializer_id
                    );
                    break;
                };
                let reply = route::invoke(
                    &shared,
                    ser,
                    msg,
                    route::Caller {
                        conn_id,
                        context: &context,
                        oneway: &oneway,
                        wire,
                        objects: &mut objects,
                    },
                    &mut closing,
                )
                .await;
                if !send_reply(&mut conn, ser, h, reply).await {
                    break;
                }
            }
            other => {
                super::quiet::warn_limited!(
                    shared.warn_limit,
                    "protocol error: invalid msg type {other} received (expected: 4,6), closing"
                );
                break;
            }
        }
        shared.conns.done(entry);
    }
    conn.shutdown().await;
}

/// How a connection opened: silent (a Pyro 3 client, or nobody), or with its first message.
enum Opening {
    Silent(Socket),
    Spoke(
        Box<WireConnection>,
        Result<Option<crate::message::Message>, FrameError>,
    ),
}

/// The serializer for a (translated) header id, if this wire takes it: Pyro5 takes serpent,
/// marshal, json and msgpack; Pyro4 what the daemon's `pyro4_serializers_accepted` names
/// (serpent, marshal and json by default, as a Python Pyro4 daemon).
fn accepted_serializer(shared: &Shared, wire: WireVersion, id: u8) -> Option<Serializer> {
    crate::pyro5::serializer_for_id(id).filter(|s| {
        wire == WireVersion::Pyro5 || shared.config.pyro4_serializers_accepted.contains(s)
    })
}

/// Logs a framing error; answers an oversized INVOKE with a ProtocolError when it can.
async fn frame_error(shared: &Shared, conn: &mut WireConnection, e: FrameError) {
    match &e {
        FrameError::Truncated | FrameError::Io(_) => {
            tracing::debug!(target: LOG, "connection lost: {e}");
        }
        FrameError::TooLarge { header, .. } => {
            super::quiet::warn_limited!(shared.warn_limit, "protocol error: {e}, closing");
            if let (Some(ser), msg_type::INVOKE, 0) = (
                crate::pyro5::serializer_for_id(header.serializer_id),
                header.msg_type,
                header.flags & flags::ONEWAY,
            ) {
                let err = RemoteError::protocol(e.to_string());
                let _ = send_reply(conn, ser, *header, route::Reply::Error(err)).await;
            }
        }
        FrameError::Overloaded => super::quiet::warn_limited!(
            shared.warn_limit,
            "buffered-bytes budget spent (max_buffered_bytes), closing a connection sending a large message"
        ),
        _ => super::quiet::warn_limited!(shared.warn_limit, "protocol error: {e}, closing"),
    }
    conn.shutdown().await;
}

/// Handles the first message; true if the connection may proceed.
async fn handshake(
    shared: &Shared,
    conn: &mut WireConnection,
    msg: crate::message::Message,
) -> bool {
    let h = msg.header;
    let v4 = conn.version() == WireVersion::Pyro4;
    let ser = accepted_serializer(shared, conn.version(), h.serializer_id);
    // Pyro4 sends the metadata only when CONNECT asks for it, and as lists.
    let meta_on_connect = !v4 || h.flags & crate::pyro4::META_ON_CONNECT != 0;
    let (kind, payload) = if h.msg_type != msg_type::CONNECT {
        let why = format!("invalid msg type {} received (expected: 1)", h.msg_type);
        super::quiet::warn_limited!(shared.warn_limit, "protocol error: {why}");
        (msg_type::CONNECTFAIL, Value::Str(why))
    } else if !v4 && shared.config.hmac_key.is_some() {
        // A key means "only clients that know it"; Pyro5 cannot prove that.
        let why = "this server requires Pyro4 with its shared HMAC key; Pyro5 clients are refused";
        tracing::info!(target: LOG, "Pyro5 client refused: {why}");
        (msg_type::CONNECTFAIL, Value::str(why))
    } else if let Some(ser) = ser {
        match ser.decode(&msg.payload, &shared.config.limits) {
            Ok(data) => {
                let object = exception::field(&data, "object")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let meta = match object.as_deref() {
                    // Pyro4 without META_ON_CONNECT names no object: nothing to look up.
                    _ if !meta_on_connect => Some(Metadata::default()),
                    Some(DAEMON_OBJECT_ID) => Some(route::daemon_metadata()),
                    Some(id) => shared.object(id).map(|o| Metadata::of(o.as_ref())),
                    None => None,
                };
                let answer = match &shared.config.handshake {
                    Some(v) => {
                        v.validate(exception::field(&data, "handshake").unwrap_or(&Value::None))
                    }
                    None => Ok(Value::str("hello")),
                };
                match (answer, meta) {
                    (Err(reason), _) => {
                        tracing::info!(target: LOG, "handshake refused: {reason}");
                        (msg_type::CONNECTFAIL, Value::Str(reason))
                    }
                    (Ok(answer), Some(_)) if !meta_on_connect => (msg_type::CONNECTOK, answer),
                    (Ok(answer), Some(meta)) => (
                        msg_type::CONNECTOK,
                        Value::Map(vec![
                            (Value::str("handshake"), answer),
                            (
                                Value::str("meta"),
                                if v4 {
                                    meta.to_lists_value()
                                } else {
                                    meta.to_value()
                                },
                            ),
                        ]),
                    ),
                    (Ok(_), None) => {
                        tracing::debug!(target: LOG, ?object, "handshake for unknown object");
                        (msg_type::CONNECTFAIL, Value::str("unknown object"))
                    }
                }
            }
            Err(e) => {
                super::quiet::warn_limited!(shared.warn_limit, "invalid CONNECT payload: {e}");
                (msg_type::CONNECTFAIL, Value::str(e.message()))
            }
        }
    } else {
        // pickle, dill, ...: refused with a reason the client can read, in serpent,
        // which every Pyro client decodes (it decodes by the reply's serializer id).
        let why = if v4 {
            // Pyro4's own words, and what this daemon accepts.
            let names: Vec<&str> = shared
                .config
                .pyro4_serializers_accepted
                .iter()
                .map(|s| s.name())
                .collect();
            format!(
                "message used serializer that is not accepted: {} (this server accepts {})",
                crate::pyro4::serializer_id_to_v4(h.serializer_id),
                names.join(", ")
            )
        } else {
            format!(
                "message used serializer that is not accepted: id {} (this server speaks serpent, marshal, json and msgpack)",
                h.serializer_id
            )
        };
        super::quiet::warn_limited!(shared.warn_limit, "CONNECT refused: {why}");
        (msg_type::CONNECTFAIL, Value::Str(why))
    };
    // Answer in the request's serializer; if it is unknown (only possible on the
    // wrong-message-type path) fall back to serpent, which every Pyro client has.
    let ser = ser.unwrap_or(Serializer::Serpent);
    let f = if v4 && kind == msg_type::CONNECTOK && meta_on_connect {
        crate::pyro4::META_ON_CONNECT
    } else {
        0
    };
    let header =
        Header::new(kind, crate::pyro5::serializer_id(ser), f, h.seq).with_corr_id(h.corr());
    let sent = conn.send(header, &[], |b| ser.encode(&payload, b)).await;
    kind == msg_type::CONNECTOK && sent.is_ok()
}

/// Sends a call's reply; false if the connection is no longer usable.
async fn send_reply(
    conn: &mut WireConnection,
    ser: Serializer,
    req: Header,
    reply: route::Reply,
) -> bool {
    let header = |f: u16| {
        Header::new(msg_type::RESULT, req.serializer_id, f, req.seq).with_corr_id(req.corr())
    };
    let v4 = conn.version() == WireVersion::Pyro4;
    let err = match reply {
        route::Reply::None => return true,
        route::Reply::Stream(id) => {
            // As Python: flags EXCEPTION|ITEMSTREAMRESULT, the id in annotation STRM, and for
            // clients that don't know streams a ProtocolError as the payload.
            let ann = [Annotation {
                id: *b"STRM",
                data: bytes::Bytes::from(id.into_bytes()),
            }];
            let mut v = exception::to_value(&RemoteError::exception(
                "Pyro5.errors.ProtocolError",
                "result of call is an iterator",
            ));
            if v4 {
                crate::pyro4::dialect::to_pyro4(&mut v);
            }
            let f = flags::EXCEPTION | flags::ITEMSTREAMRESULT;
            return match conn.encode(header(f), &ann, |b| ser.encode(&v, b)) {
                Ok(()) => conn.flush_encoded().await.is_ok(),
                Err(_) => false,
            };
        }
        route::Reply::Value(mut v, batch) => {
            if v4 {
                crate::pyro4::dialect::to_pyro4(&mut v);
            }
            let f = if batch { flags::BATCH } else { 0 };
            // Large byte strings are written from `v` itself (vectored), not copied.
            match conn.encode_spliced(header(f), &[], |b, sp| ser.encode_spliced(&v, b, sp)) {
                Ok(splices) => return conn.flush_spliced(&splices).await.is_ok(),
                Err(e) => {
                    tracing::debug!(target: LOG, "result not serializable: {e}");
                    // Python sends the serializer's complaint back as the call's exception.
                    let class = if e.kind() == tether_core::ErrorKind::MessageTooLarge {
                        "Pyro5.errors.ProtocolError"
                    } else {
                        "Pyro5.errors.SerializeError"
                    };
                    RemoteError::exception(class, e.message().to_string())
                }
            }
        }
        route::Reply::Error(e) => e,
    };
    let mut v = exception::to_value(&err);
    if v4 {
        crate::pyro4::dialect::to_pyro4(&mut v);
    }
    if conn
        .encode(header(flags::EXCEPTION), &[], |b| ser.encode(&v, b))
        .is_err()
    {
        // The exception itself could not be serialized: send a bare PyroError, as Python does.
        let mut fallback = exception::to_value(&RemoteError::exception(
            "Pyro5.errors.PyroError",
            format!("Error serializing exception: {err}"),
        ));
        if v4 {
            crate::pyro4::dialect::to_pyro4(&mut fallback);
        }
        if conn
            .encode(header(flags::EXCEPTION), &[], |b| ser.encode(&fallback, b))
            .is_err()
        {
            return false;
        }
    }
    conn.flush_encoded().await.is_ok()
}

/// Answers a connection over the limit with CONNECTFAIL (if it sends CONNECT promptly), then
/// closes it.
pub(super) async fn refuse(shared: Arc<Shared>, stream: Socket) {
    let wait = std::time::Duration::from_secs(2);
    let cfg = &shared.config;
    let opening = async {
        let mut conn = WireConnection::accept(stream, 64 * 1024, cfg.pyro4, cfg.hmac_key.clone())
            .await
            .ok()?;
        let msg = conn.read_message(None, Some(wait)).await;
        Some((conn, msg))
    };
    let Ok(Some((mut conn, first))) = tokio::time::timeout(wait, opening).await else {
        return;
    };
    if let Ok(Some(msg)) = first {
        if let Some(ser) = crate::pyro5::serializer_for_id(msg.header.serializer_id) {
            let h = Header::new(
                msg_type::CONNECTFAIL,
                crate::pyro5::serializer_id(ser),
                0,
                msg.header.seq,
            )
            .with_corr_id(msg.header.corr());
            let why = Value::str("no free workers: the server's connection limit is reached");
            let _ = tokio::time::timeout(wait, conn.send(h, &[], |b| ser.encode(&why, b))).await;
        }
    }
    conn.shutdown().await;
    drop(shared);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection's task is most of what an idle connection costs (the aim is 8 KiB a
    /// connection, `tests/idle_connections.rs`): a large future held inline in it, such as a
    /// call's or a batch's, grows every connection, idle or not. Measured: 3.9 KB in a debug
    /// build, 5.3 KB in a release one; with the batch and oneway calls' futures inline they were
    /// 5.9 KB and 7.4 KB.
    #[tokio::test]
    async fn a_connections_task_stays_small() {
        let daemon = super::super::Daemon::bind(super::super::DaemonConfig {
            host: "127.0.0.1".into(),
            ..Default::default()
        })
        .await
        .expect("bind");
        let shared = daemon.handle.shared.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("listen");
        let addr = listener.local_addr().expect("addr");
        let (_client, accepted) =
            tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
        let (server, _) = accepted.expect("accept");
        let permit = shared.permits.clone().try_acquire_owned().expect("permit");
        let task = run(shared, Socket::Tcp(server), "test".into(), permit);
        let size = std::mem::size_of_val(&task);
        drop(task);
        eprintln!("a connection's task: {size} bytes");
        let bound = if cfg!(debug_assertions) { 5 } else { 6 } * 1024;
        assert!(
            size <= bound,
            "a connection's task is {size} bytes (at most {bound})"
        );
        daemon.shutdown().await;
    }
}
