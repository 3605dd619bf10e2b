//! A light Pyro5 load generator (`tether-bench client pyro5-frames PYRO:obj@host:port ...`):
//! one connection that sends a call prepared once (its frame encoded up front, only the
//! sequence number patched per call) and checks each reply's header without decoding its
//! payload. It costs the client a fraction of what a proxy costs per call, so a Pyro5 server
//! it drives from another CPU is the slower side: a load for finding where a server saturates,
//! or for profiling a saturated server, without the client's own cost setting the pace.

use crate::drive::BoxErr;
use std::net::SocketAddr;
use tether_core::{Call, Value};
use tether_pyro::message::encode_into;
use tether_pyro::pyro5::{flags, msg_type, Header, HEADER_SIZE};
use tether_pyro::Serializer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The most a reply here may be (the echo of a short string is under 100 bytes).
const MAX_REPLY: usize = 64 * 1024;

/// One connection calling `echo("Hello")` on one object.
pub struct FrameClient {
    stream: TcpStream,
    /// The INVOKE message, sequence number at bytes 10..12.
    invoke: Vec<u8>,
    seq: u16,
    buf: Vec<u8>,
}

/// `PYRO:object@host:port` split into the object and its address.
pub fn parse_url(url: &str) -> Result<(String, SocketAddr), BoxErr> {
    let rest = url.strip_prefix("PYRO:").ok_or("not a PYRO: URL")?;
    let (object, addr) = rest.rsplit_once('@').ok_or("no @ in the URL")?;
    Ok((object.to_string(), addr.parse()?))
}

fn message(
    msg: u8,
    seq: u16,
    payload: impl FnOnce(&mut Vec<u8>) -> Result<(), tether_core::RemoteError>,
) -> Result<Vec<u8>, BoxErr> {
    let mut out = Vec::new();
    let header = Header::new(
        msg,
        tether_pyro::pyro5::serializer_id(Serializer::Msgpack),
        0,
        seq,
    );
    encode_into(&mut out, header, &[], MAX_REPLY, payload)
        .map_err(|e| format!("cannot encode a Pyro5 message: {e:?}"))?;
    Ok(out)
}

impl FrameClient {
    /// Connects to the Pyro5 object at `url` and runs the handshake.
    pub async fn connect(url: &str) -> Result<FrameClient, BoxErr> {
        let (object, addr) = parse_url(url)?;
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let hello = Value::Map(vec![
            (Value::str("handshake"), Value::str("hello")),
            (Value::str("object"), Value::str(object.as_str())),
        ]);
        let connect = message(msg_type::CONNECT, 0, |o| {
            Serializer::Msgpack.encode(&hello, o)
        })?;
        let call = Call::new("echo", vec![Value::str("Hello")]);
        let invoke = message(msg_type::INVOKE, 0, |o| {
            Serializer::Msgpack.encode_call(&object, &call, false, o)
        })?;
        let mut c = FrameClient {
            stream,
            invoke,
            seq: 0,
            buf: Vec::with_capacity(4096),
        };
        c.stream.write_all(&connect).await?;
        let (kind, _) = c.reply().await?;
        if kind != msg_type::CONNECTOK {
            return Err(format!("the server refused the connection (message type {kind})").into());
        }
        Ok(c)
    }

    /// Reads one whole message; returns its type and sequence number.
    async fn reply(&mut self) -> Result<(u8, u16), BoxErr> {
        while self.buf.len() < HEADER_SIZE {
            self.fill().await?;
        }
        let mut head = [0u8; HEADER_SIZE];
        head.copy_from_slice(&self.buf[..HEADER_SIZE]);
        let header = Header::parse(&head, MAX_REPLY).map_err(|e| format!("bad reply: {e:?}"))?;
        // (`parse` bounded the body by MAX_REPLY.)
        let whole = HEADER_SIZE + header.body_len() as usize;
        while self.buf.len() < whole {
            self.fill().await?;
        }
        self.buf.drain(..whole);
        if header.flags & flags::EXCEPTION != 0 {
            return Err("the call failed on the server".into());
        }
        Ok((header.msg_type, header.seq))
    }

    async fn fill(&mut self) -> Result<(), BoxErr> {
        if self.stream.read_buf(&mut self.buf).await? == 0 {
            return Err("the server closed the connection".into());
        }
        Ok(())
    }

    /// One call: the prepared frame with the next sequence number; its reply checked.
    pub async fn call(&mut self) -> Result<(), BoxErr> {
        self.seq = self.seq.wrapping_add(1);
        self.invoke[10..12].copy_from_slice(&self.seq.to_be_bytes());
        self.stream.write_all(&self.invoke).await?;
        let (kind, seq) = self.reply().await?;
        if kind != msg_type::RESULT || seq != self.seq {
            return Err(format!("reply of type {kind}, sequence {seq}").into());
        }
        Ok(())
    }
}

impl crate::drive::AsyncClient for FrameClient {
    async fn small(&mut self) -> Result<(), BoxErr> {
        self.call().await
    }

    async fn big(&mut self, _payload: Vec<u8>) -> Result<Vec<u8>, BoxErr> {
        Err("the light Pyro5 client makes small calls only".into())
    }
}
