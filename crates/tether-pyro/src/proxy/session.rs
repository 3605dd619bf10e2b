//! Opening a connection: resolve the URI, connect, CONNECT with the handshake, learn the
//! metadata (falling back to `Pyro.Daemon.get_metadata`).

use super::*;

impl Proxy {
    /// Connects and performs the handshake. Boxed: the connect and handshake future (TLS
    /// included) is kilobytes, and inline it would make every call's future as large, to be
    /// copied into its box on every call although a connection opens once.
    /// The connection is boxed too: a call's future holds it across its awaits.
    pub(super) async fn open(&self, seq: &mut u16) -> Result<Box<Live>, RemoteError> {
        Box::pin(self.open_now(seq)).await.map(Box::new)
    }

    async fn open_now(&self, seq: &mut u16) -> Result<Live, RemoteError> {
        let s = &self.settings;
        let (object, location) = match &s.target {
            PyroUri::Direct { object, location } => (object.clone(), location.clone()),
            // Boxed: resolving uses a proxy to the name server, whose `open` lands here again.
            other => crate::resolve::resolve(other.clone(), self).await?,
        };
        let (object, location) = (object.as_str(), &location);
        let stream = match location {
            Location::Tcp { host, port } => {
                let tcp = TcpStream::connect((host.as_str(), *port))
                    .await
                    .map_err(|e| {
                        RemoteError::connection(format!("cannot connect to {location}: {e}"))
                            .with_source(e)
                    })?;
                match &s.tls {
                    None => Socket::tcp(tcp)?,
                    Some(tls) => {
                        tcp.set_nodelay(true)?;
                        let limit = s.timeout.unwrap_or(Duration::from_secs(10));
                        Socket::TlsClient(Box::new(tls.connect(host, tcp, limit).await?))
                    }
                }
            }
            Location::Unix(path) => Socket::Unix(UnixStream::connect(path).await.map_err(|e| {
                RemoteError::connection(format!("cannot connect to {location}: {e}")).with_source(e)
            })?),
        };
        let mut conn = WireConnection::new(stream, s.wire, s.max_message_size, s.hmac.clone());
        let v4 = s.wire == WireVersion::Pyro4;
        conn.set_compression(s.compress);
        // Large byte strings in results are received straight into their own buffers.
        conn.set_detach_large_bytes(Some(crate::serializer::SPLICE_THRESHOLD));
        let hello = Value::Map(vec![
            (Value::str("handshake"), s.handshake.clone()),
            (Value::str("object"), Value::str(object)),
        ]);
        // Pyro4 asks for the metadata in the reply (Pyro5 always gets it).
        let f = if v4 { crate::pyro4::META_ON_CONNECT } else { 0 };
        let header = Header::new(
            msg_type::CONNECT,
            crate::pyro5::serializer_id(s.serializer),
            f,
            *seq,
        )
        .with_corr_id(s.corr_id);
        conn.send(header, &[], |b| s.serializer.encode(&hello, b))
            .await?;
        let reply = read_reply(&mut conn).await.map_err(|e| {
            if e.kind() == tether_core::ErrorKind::Security {
                RemoteError::new(
                    e.kind(),
                    format!("cannot connect to {location}: {}", e.message()),
                )
            } else {
                e
            }
        })?;
        let data = if reply.payload.is_empty() {
            Value::None
        } else {
            match crate::pyro5::serializer_for_id(reply.header.serializer_id) {
                Some(ser) => ser.decode(&reply.payload, &s.limits)?,
                None => {
                    return Err(RemoteError::protocol(format!(
                        "handshake reply with unsupported serializer id {}",
                        reply.header.serializer_id
                    )))
                }
            }
        };
        match reply.header.msg_type {
            msg_type::CONNECTOK => {
                // A Pyro4 reply without META_ON_CONNECT is the bare handshake answer.
                let has_meta = !v4 || reply.header.flags & crate::pyro4::META_ON_CONNECT != 0;
                let meta = exception::field(&data, "meta")
                    .filter(|_| has_meta)
                    .map(Metadata::from_value)
                    .unwrap_or_default();
                let mut live = Live {
                    conn,
                    object: object.to_string(),
                    meta,
                };
                if live.meta.is_empty() && object != DAEMON_OBJECT_ID {
                    live.meta = self.fetch_metadata(&mut live, object, seq).await?;
                }
                Ok(live)
            }
            msg_type::CONNECTFAIL => {
                let reason = match &data {
                    Value::Str(s) => s.clone(),
                    other => other.to_string(),
                };
                Err(RemoteError::connection(format!(
                    "connection to {location} rejected: {reason}"
                )))
            }
            other => Err(RemoteError::protocol(format!(
                "cannot connect to {location}: invalid msg type {other} received"
            ))),
        }
    }

    /// `Pyro.Daemon.get_metadata(object)` on the fresh connection (when CONNECTOK had none).
    pub(super) async fn fetch_metadata(
        &self,
        live: &mut Live,
        object: &str,
        seq: &mut u16,
    ) -> Result<Metadata, RemoteError> {
        let s = &self.settings;
        let call = Call::new("get_metadata", vec![Value::str(object)]);
        *seq = seq.wrapping_add(1);
        let seq = *seq;
        let header = Header::new(
            msg_type::INVOKE,
            crate::pyro5::serializer_id(s.serializer),
            0,
            seq,
        )
        .with_corr_id(s.corr_id);
        live.conn
            .send(header, &[], |b| {
                s.serializer.encode_call(DAEMON_OBJECT_ID, &call, false, b)
            })
            .await?;
        let reply = read_reply(&mut live.conn).await?;
        let value = self.decode_result(reply)?;
        Ok(Metadata::from_value(&value))
    }
}

pub(super) async fn read_reply(conn: &mut WireConnection) -> Result<Message, RemoteError> {
    conn.read_message(None, None)
        .await?
        .ok_or_else(|| RemoteError::connection("connection closed by the server"))
}
