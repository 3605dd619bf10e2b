//! The floor of a Python Pyro client's call on the server's side (`serve pyro-floor`): a
//! blocking responder, one connection at a time, that reads each Pyro5 or Pyro4 message (the
//! version read off the first one) and writes a canned reply: `CONNECTOK` with the echo
//! object's metadata to the handshake, and to every call a `RESULT` holding the benchmark's
//! string, in the serializer the client used, under the call's sequence number. It decodes
//! no call and runs nothing, so its CPU per call is what the kernel, the wake-ups and the
//! context switches of that client's traffic cost any server: what a foreign-client row is
//! read against. (The raw TCP echo, with a Rust client, is cheaper than this: a Python
//! client's process and traffic make every switch to the server dearer.)

use crate::drive::BoxErr;
use crate::workload::SMALL_ARG;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use tether_core::Value;
use tether_pyro::pyro4::{serializer_id_from_v4, Header4};
use tether_pyro::pyro5::{msg_type, serializer_for_id, Header};
use tether_pyro::Serializer;

/// Most bytes one message may have; a larger one closes the connection.
const MAX_MESSAGE: usize = 64 * 1024;

/// Which Pyro wire a connection speaks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Version {
    Pyro5,
    Pyro4,
}

/// A message's parts the responder needs: type, sequence number, serializer (as the
/// internal id), and where the message ends.
struct Seen {
    kind: u8,
    seq: u16,
    serializer: u8,
    end: usize,
}

/// Serves canned replies on `listener` until the process is stopped, one connection at a time
/// on this thread (the foreign clients are sequential).
pub fn serve(listener: TcpListener) -> Result<(), BoxErr> {
    for conn in listener.incoming() {
        let _ = serve_conn(conn?);
    }
    Ok(())
}

/// The payloads of the two replies, in `serializer`: the handshake's answer with the echo
/// object's metadata (its one method), and the call's result (the benchmark's string, which
/// the Python peer sends and checks).
fn payloads(serializer: Serializer) -> Result<(Vec<u8>, Vec<u8>), BoxErr> {
    let list = |items: &[&str]| Value::List(items.iter().map(|s| Value::str(*s)).collect());
    let ok = Value::Map(vec![
        (Value::str("handshake"), Value::str("hello")),
        (
            Value::str("meta"),
            Value::Map(vec![
                (Value::str("methods"), list(&["echo"])),
                (Value::str("oneway"), list(&[])),
                (Value::str("attrs"), list(&[])),
            ]),
        ),
    ]);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    serializer.encode(&ok, &mut a)?;
    serializer.encode(&Value::str(SMALL_ARG), &mut b)?;
    Ok((a, b))
}

/// One reply: `kind` with `payload`, answering a message of sequence `seq` in `serializer`.
fn reply(version: Version, kind: u8, seq: u16, serializer: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.clear();
    match version {
        Version::Pyro5 => {
            let mut h = Header::new(kind, serializer, 0, seq);
            h.data_len = payload.len() as u32;
            let mut head = [0u8; tether_pyro::pyro5::HEADER_SIZE];
            h.encode(&mut head);
            out.extend_from_slice(&head);
        }
        Version::Pyro4 => {
            // A Pyro4 client reads the metadata off CONNECTOK only when it is flagged
            // (META_ON_CONNECT); else it asks the daemon for it with a call.
            let h = Header4 {
                msg_type: u16::from(kind),
                flags: if kind == msg_type::CONNECTOK { 0x10 } else { 0 },
                seq,
                data_len: payload.len() as u32,
                serializer_id: tether_pyro::pyro4::serializer_id_to_v4(serializer),
                annotations_len: 0,
            };
            let mut head = [0u8; tether_pyro::pyro4::HEADER_SIZE];
            h.encode(&mut head);
            out.extend_from_slice(&head);
        }
    }
    out.extend_from_slice(payload);
}

/// The message at the start of `buf`, once it is all there (`Ok(None)` until then).
fn message(version: Version, buf: &[u8]) -> Result<Option<Seen>, BoxErr> {
    match version {
        Version::Pyro5 => {
            let Some(head) = buf.first_chunk::<{ tether_pyro::pyro5::HEADER_SIZE }>() else {
                return Ok(None);
            };
            let h = Header::parse(head, MAX_MESSAGE).map_err(|e| format!("{e:?}"))?;
            let end = head.len() + h.body_len() as usize;
            Ok((buf.len() >= end).then_some(Seen {
                kind: h.msg_type,
                seq: h.seq,
                serializer: h.serializer_id,
                end,
            }))
        }
        Version::Pyro4 => {
            if buf.len() < tether_pyro::pyro4::HEADER_SIZE {
                return Ok(None);
            }
            let h = Header4::parse(buf, MAX_MESSAGE).map_err(|e| format!("{e:?}"))?;
            let end = tether_pyro::pyro4::HEADER_SIZE + h.body_len() as usize;
            Ok((buf.len() >= end).then_some(Seen {
                kind: u8::try_from(h.msg_type).unwrap_or(u8::MAX),
                seq: h.seq,
                serializer: serializer_id_from_v4(h.serializer_id),
                end,
            }))
        }
    }
}

fn serve_conn(mut conn: TcpStream) -> Result<(), BoxErr> {
    conn.set_nodelay(true)?;
    let mut buf = vec![0u8; MAX_MESSAGE];
    let mut have = 0;
    let mut out = Vec::new();
    let mut version = None;
    // The canned payloads, made at the handshake in the client's serializer.
    let mut canned: Option<(u8, Vec<u8>, Vec<u8>)> = None;
    loop {
        match conn.read(&mut buf[have..])? {
            0 => return Ok(()),
            n => have += n,
        }
        let v = match version {
            Some(v) => v,
            None if have < 6 => continue,
            None => {
                let v = match u16::from_be_bytes([buf[4], buf[5]]) {
                    tether_pyro::pyro4::PROTOCOL_VERSION => Version::Pyro4,
                    _ => Version::Pyro5,
                };
                *version.insert(v)
            }
        };
        while let Some(m) = message(v, &buf[..have])? {
            if canned.as_ref().is_none_or(|c| c.0 != m.serializer) {
                let s = serializer_for_id(m.serializer).ok_or("unknown serializer")?;
                let (ok, result) = payloads(s)?;
                canned = Some((m.serializer, ok, result));
            }
            let (_, ok, result) = canned.as_ref().ok_or("no payloads")?;
            match m.kind {
                msg_type::CONNECT => {
                    reply(v, msg_type::CONNECTOK, m.seq, m.serializer, ok, &mut out)
                }
                msg_type::INVOKE => {
                    reply(v, msg_type::RESULT, m.seq, m.serializer, result, &mut out)
                }
                other => return Err(format!("message type {other}").into()),
            }
            conn.write_all(&out)?;
            buf.copy_within(m.end..have, 0);
            have -= m.end;
        }
        if have == buf.len() {
            return Ok(());
        }
    }
}

/// A Pyro 3 frame's header size, and where its body's length is (big-endian i32).
const PYRO3_HEADER: usize = tether_pyro::pyro3::frame::HEADER_SIZE;

/// A protocol-2 pickle of the short byte string `s` (what Python 2's cPickle writes for a
/// `str` under 256 bytes, without the memo entry): PROTO 2, SHORT_BINSTRING, STOP.
fn pickled_str(s: &str) -> Vec<u8> {
    let mut p = vec![0x80, 2, b'U', s.len() as u8];
    p.extend_from_slice(s.as_bytes());
    p.push(b'.');
    p
}

/// The same responder for the seed's Pyro 3 client (`serve pyro-floor:pyro3`), which speaks
/// first: a challenge, `GRANTED` to the client's answer, then canned pickles in order (Pyro 3
/// replies carry no sequence number): the object's id to the `PYROLOC` lookup, and the
/// seed's `get_data("Hello")` answer to every call after it.
pub fn serve_pyro3(listener: TcpListener) -> Result<(), BoxErr> {
    let frame = |body: &[u8]| {
        let mut out = Vec::new();
        tether_pyro::pyro3::frame::encode(body, false, false, &mut out);
        out
    };
    let challenge = frame(&[0u8; 16]);
    let lookup = frame(&pickled_str("c0000000011000001000000010000002"));
    let answer = frame(&pickled_str("You got remote data => Hello"));
    for conn in listener.incoming() {
        let _ = serve_pyro3_conn(conn?, &challenge, &lookup, &answer);
    }
    Ok(())
}

fn serve_pyro3_conn(
    mut conn: TcpStream,
    challenge: &[u8],
    lookup: &[u8],
    answer: &[u8],
) -> Result<(), BoxErr> {
    conn.set_nodelay(true)?;
    conn.write_all(challenge)?;
    let mut buf = vec![0u8; MAX_MESSAGE];
    let mut have = 0;
    // Frames read so far: the first is the client's CONNECT, the second its lookup.
    let mut frames = 0u64;
    loop {
        match conn.read(&mut buf[have..])? {
            0 => return Ok(()),
            n => have += n,
        }
        while have >= PYRO3_HEADER {
            let size = i32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
            let end = usize::try_from(size)
                .ok()
                .map(|s| s + PYRO3_HEADER)
                .filter(|&e| &buf[..4] == b"PYRO" && e <= MAX_MESSAGE)
                .ok_or("not a Pyro 3 frame")?;
            if have < end {
                break;
            }
            let reply = match frames {
                0 => &tether_pyro::pyro3::GRANTED[..],
                1 => lookup,
                _ => answer,
            };
            conn.write_all(reply)?;
            frames += 1;
            buf.copy_within(end..have, 0);
            have -= end;
        }
        if have == buf.len() {
            return Ok(());
        }
    }
}
