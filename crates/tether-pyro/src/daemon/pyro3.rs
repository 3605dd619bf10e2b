//! A Pyro 3 client's session on the daemon (see `crate::pyro3` for the wire): challenge,
//! `CONNECT`, `GRANTED`, then one request frame and one reply frame at a time, in order.
//!
//! The same rules as the Pyro4/5 sessions hold: the handshake is timed, reads are bounded by
//! the idle and frame timeouts and the message size limit (Pyro 3's own cap:
//! [`Pyro3Settings::max_body`]), calls run through the shared routing (exposure checks,
//! oneway permits, call timeout, panics caught), and a connection can be shed while idle.
//!
//! What a misbehaving Pyro 3 client gets: a bad frame, a checksum error, an XML pickle, a
//! pickle that is not accepted (a global such as `os.system`, an opcode outside the set, a
//! limit reached), or a request for an unknown object: a `ProtocolError` reply (what Pyro 3
//! sends) and the connection closed; nothing it sent is ever run.

use super::conns::ConnEntry;
use super::latch::{LatchWait, SHED};
use super::objects::ObjectCache;
use super::route::{self, Reply};
use super::Shared;
use crate::connection::Connection;
use crate::framing::FrameError;
use crate::pyro3::request::{self, DAEMON_GUID};
use crate::pyro3::{auth, capsule, frame, pickle, Denied, Pyro3, Pyro3Settings, GRANTED};
use crate::socket::Socket;
use std::sync::Arc;
use tether_core::{CallContext, RemoteError, Value};
use tracing::Instrument;

const LOG: &str = "tether::pyro::daemon";

/// What the session needs of the connection it runs on.
pub(super) struct Session<'a> {
    pub conn_id: u64,
    pub entry: &'a ConnEntry,
    pub oneway: &'a Arc<tokio::sync::Semaphore>,
    /// Any of: the connection is shed, the daemon stops.
    pub stopping: &'a mut LatchWait,
    /// The daemon closes.
    pub closing: &'a mut LatchWait,
}

type Conn = Connection<Socket, Pyro3>;

/// Sends one reply frame; false when the connection is gone.
async fn send(conn: &mut Conn, settings: &Pyro3Settings, compress: bool, body: &[u8]) -> bool {
    let buf = conn.write_buffer();
    buf.clear();
    frame::encode(body, compress, settings.checksum, buf);
    conn.flush_encoded().await.is_ok()
}

/// Sends an exception reply.
async fn send_error(
    conn: &mut Conn,
    settings: &Pyro3Settings,
    compress: bool,
    e: &RemoteError,
) -> bool {
    let mut body = Vec::new();
    if capsule::write(e, settings.send_tracebacks, &mut body).is_err() {
        return false;
    }
    send(conn, settings, compress, &body).await
}

/// Serves a client that stayed silent: challenge it, then serve its calls.
pub(super) async fn serve(
    shared: &Arc<Shared>,
    stream: Socket,
    settings: &Pyro3Settings,
    s: Session<'_>,
    mut context: CallContext,
) {
    let cfg = &shared.config;
    let compress = cfg.compress_replies;
    let mut conn: Conn = Connection::with_format(stream, settings.max_body);
    conn.set_write_timeout(Some(cfg.write_timeout));
    conn.set_budget(Some(shared.budget.clone()));
    context.protocol = Some("pyro3");

    // The challenge, then the client's CONNECT and token.
    let challenge = auth::challenge();
    let opening = async {
        if !send(&mut conn, settings, false, &challenge).await {
            return None;
        }
        match conn.read_frame(None, Some(cfg.frame_timeout)).await {
            Ok(Some(f)) => frame::open(&f.header, f.body, 64, 1).ok(),
            _ => None,
        }
    };
    let connect = tokio::select! {
        _ = s.stopping.reached() => return,
        r = tokio::time::timeout(cfg.handshake_timeout, opening) => r,
    };
    let Ok(Some(connect)) = connect else {
        tracing::debug!(target: LOG, "Pyro 3 client sent no valid CONNECT in time, closing");
        return;
    };
    let Some(token) = connect.strip_prefix(b"CONNECT") else {
        tracing::debug!(target: LOG, "Pyro 3 client sent something else than CONNECT, closing");
        return;
    };
    let admitted = match &settings.passphrase {
        None => true,
        Some(p) => auth::verify(&challenge, &auth::ident(Some(p)), token),
    };
    if !admitted {
        tracing::warn!(target: LOG, peer = ?context.peer, "Pyro 3 client refused: wrong identification");
        let _ = conn.send_raw(&Denied::Security.bytes()).await;
        conn.shutdown().await;
        return;
    }
    if conn.send_raw(GRANTED).await.is_err() {
        return;
    }
    shared.conns.established(s.entry);
    tracing::debug!(target: LOG, "Pyro 3 handshake done");

    let read_limits = crate::pyro3::read_limits(settings.max_body);
    // The object this connection called last (see objects.rs).
    let mut objects = ObjectCache::default();
    // (A connection shed while a call runs ends the loop at its next turn.)
    loop {
        let next = tokio::select! {
            biased;
            why = s.stopping.reached() => {
                if why & SHED != 0 {
                    tracing::debug!(target: LOG, "idle connection closed to make room for a new client");
                }
                break;
            }
            r = conn.read_frame(cfg.idle_timeout, Some(cfg.frame_timeout)) => r,
        };
        let f = match next {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(FrameError::Timeout) => {
                tracing::debug!(target: LOG, "connection idle or stalled, closing");
                break;
            }
            Err(FrameError::TooLarge { size, max, .. }) => {
                super::quiet::warn_limited!(
                    shared.warn_limit,
                    "Pyro 3 request of {size} bytes refused (max {max})"
                );
                let e = RemoteError::protocol(format!("message too large ({size}, max={max})"));
                send_error(&mut conn, settings, compress, &e).await;
                break;
            }
            Err(FrameError::Truncated) | Err(FrameError::Io(_)) => break,
            Err(e) => {
                super::quiet::warn_limited!(
                    shared.warn_limit,
                    "Pyro 3 protocol error: {e}, closing"
                );
                let e = RemoteError::protocol("invalid header");
                send_error(&mut conn, settings, compress, &e).await;
                break;
            }
        };
        shared.conns.busy(s.entry);
        let decoded = frame::open(&f.header, f.body, settings.max_body, cfg.max_inflate_ratio)
            .and_then(|body| request::decode(&body, &read_limits, &cfg.limits));
        let req = match decoded {
            Ok(r) => r,
            Err(e) => {
                super::quiet::warn_limited!(shared.warn_limit, "Pyro 3 request refused: {e}");
                send_error(
                    &mut conn,
                    settings,
                    compress,
                    &RemoteError::protocol(e.message()),
                )
                .await;
                break;
            }
        };
        let (reply, close) = call(
            shared,
            req,
            &context,
            &mut objects,
            s.oneway,
            s.closing,
            s.conn_id,
        )
        .await;
        let sent = match reply {
            Reply::None => true,
            Reply::Value(v, _) => {
                // (A small reply fits at once; a larger one grows from there.)
                let mut body = Vec::with_capacity(256);
                match pickle::write(&v, &mut body) {
                    Ok(()) => send(&mut conn, settings, compress, &body).await,
                    Err(e) => send_error(&mut conn, settings, compress, &e).await,
                }
            }
            Reply::Error(e) => send_error(&mut conn, settings, compress, &e).await,
            Reply::Stream(id) => {
                shared.streams.close(&Value::Str(id));
                let e = RemoteError::exception(
                    "builtins.TypeError",
                    "an iterator or generator cannot be returned over Pyro 3",
                );
                send_error(&mut conn, settings, compress, &e).await
            }
        };
        if !sent || close {
            break;
        }
        shared.conns.done(s.entry);
    }
    conn.shutdown().await;
}

/// Pyro 3's class for errors of the protocol itself.
fn protocol_error(text: &str) -> RemoteError {
    RemoteError::exception("Pyro.errors.ProtocolError", text)
}

/// Runs one request; the flag says to close the connection after the reply (as Pyro 3 does
/// after an unknown object id).
async fn call(
    shared: &Arc<Shared>,
    req: request::Request,
    context: &CallContext,
    objects: &mut ObjectCache,
    oneway_permits: &Arc<tokio::sync::Semaphore>,
    closing: &mut LatchWait,
    conn_id: u64,
) -> (Reply, bool) {
    let request::Request { object, mut call } = req;
    let oneway = call.oneway;
    let answer = |r: Result<Value, RemoteError>| match r {
        _ if oneway => Reply::None,
        Ok(v) => Reply::Value(v, false),
        Err(e) => Reply::Error(e),
    };
    if matches!(
        call.method.as_str(),
        "remote_supply_code" | "remote_retrieve_code"
    ) {
        return (
            answer(Err(protocol_error("mobile code is not supported"))),
            false,
        );
    }
    if object == DAEMON_GUID {
        let r = match (call.method.as_str(), call.args.as_slice()) {
            ("ResolvePYROLOC", [Value::Str(name)]) => match shared.object(name) {
                Some(_) => Ok(Value::Str(name.clone())),
                None => Err(RemoteError::exception_with_args(
                    "Pyro.errors.NamingError",
                    vec![
                        Value::str("no object found by this name"),
                        Value::Str(name.clone()),
                    ],
                )),
            },
            (m, _) => Err(RemoteError::attribute_error(format!(
                "'Daemon' object has no attribute '{m}'"
            ))),
        };
        return (answer(r), false);
    }
    let Some(obj) = shared.objects.lookup(objects, &object) else {
        tracing::debug!(target: LOG, object = %object, "Pyro 3 call to an unknown object");
        return (answer(Err(protocol_error("unknown object ID"))), true);
    };
    if let Err(e) = route::check(obj.as_ref(), &call) {
        return (answer(Err(e)), false);
    }
    call.context.clone_from(context);
    if let Some(t) = shared.config.call_timeout {
        call.context.deadline = Some(std::time::Instant::now() + t);
    }
    let span = tracing::debug_span!(target: "tether::pyro::daemon", "pyro_call", object = %object, method = %call.method, oneway);
    if oneway {
        // Spawned on its own task: it owns its object and its call.
        let obj = obj.clone();
        let task = Box::pin(async move { obj.dispatch_reply(call).await }).instrument(span);
        let reply = route::run_task(
            shared,
            task,
            oneway,
            false,
            oneway_permits,
            conn_id,
            closing,
        )
        .await;
        return (reply, false);
    }
    // A call the connection waits for borrows the object, and its future is the object's
    // own (not one holding the call, moved from function to function), wrapped in its span
    // only when the span is on (see route::invoke).
    if span.is_disabled() {
        let task = obj.dispatch_reply(call);
        return (
            route::answer(shared, task, false, conn_id, closing).await,
            false,
        );
    }
    let task = obj.dispatch_reply(call).instrument(span);
    (
        route::answer(shared, task, false, conn_id, closing).await,
        false,
    )
}
