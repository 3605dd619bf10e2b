//! Pyro4 messages over the generic reader, translated to and from tether's internal (Pyro5)
//! form (see [`crate::pyro4`]): reading checks the HMAC over the payload as received, then
//! splits the u16-length annotation chunks off, moves `CORR` into the header's correlation
//! id and inflates; encoding writes the 24-byte header, the annotations (`CORR`, then `HMAC`
//! last, as Python does), the payload, compresses as Pyro4 does (at least 200 bytes and only
//! if smaller), then signs.

use super::*;
use crate::pyro4::hmac::{HMAC_ID, HMAC_LEN};
use crate::pyro4::{flags_to_v4, normalize, serializer_id_to_v4, Header4, HmacKey, Pyro4};
use crate::pyro5::flags;

/// Pyro4 compresses only payloads at least this long.
const COMPRESS_MIN_V4: usize = 200;
/// The correlation id's annotation.
const CORR_ID: [u8; 4] = *b"CORR";

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S, Pyro4> {
    /// Reads one Pyro4 message as a Pyro5-shaped [`Message`]. `hmac` is the shared key, if
    /// any: with one, a message without a valid `HMAC` is refused; without one, a message
    /// that has one is (Pyro4's rule).
    pub async fn read_message_v4(
        &mut self,
        idle: Option<Duration>,
        frame: Option<Duration>,
        hmac: Option<&HmacKey>,
    ) -> Result<Option<Message>, FrameError<Header>> {
        let f = match self.read_frame(idle, frame).await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(None),
            Err(e) => return Err(e.map_header(normalize)),
        };
        Message::from_pyro4_body(
            f.header,
            f.body,
            hmac,
            self.max_message_size,
            self.inflate_ratio,
        )
        .map(Some)
    }

    /// Encodes a message given in Pyro5 terms as a Pyro4 message into the write buffer (send
    /// it with [`Self::flush_encoded`]). Byte strings the payload writer splices are copied
    /// in: the signature needs the whole payload.
    pub fn encode_v4<'v>(
        &mut self,
        header: Header,
        annotations: &[Annotation],
        hmac: Option<&HmacKey>,
        payload: impl FnOnce(&mut Vec<u8>, &mut Vec<Splice<'v>>) -> Result<(), RemoteError>,
    ) -> Result<(), RemoteError> {
        let res = self.encode_v4_inner(header, annotations, hmac, payload);
        if res.is_err() {
            self.write_buf.clear();
        }
        res
    }

    fn encode_v4_inner<'v>(
        &mut self,
        header: Header,
        annotations: &[Annotation],
        hmac: Option<&HmacKey>,
        payload: impl FnOnce(&mut Vec<u8>, &mut Vec<Splice<'v>>) -> Result<(), RemoteError>,
    ) -> Result<(), RemoteError> {
        let hs = crate::pyro4::HEADER_SIZE;
        let out = &mut self.write_buf;
        out.clear();
        out.resize(hs, 0);
        // (id, offset of its data) of every chunk, to sign them afterwards.
        let mut chunks: Vec<([u8; 4], usize, usize)> = Vec::new();
        let mut put = |out: &mut Vec<u8>, id: [u8; 4], data: &[u8]| -> Result<(), RemoteError> {
            let len = u16::try_from(data.len()).map_err(|_| {
                RemoteError::protocol(format!(
                    "annotation {} is {} bytes; Pyro4 allows at most 65535",
                    String::from_utf8_lossy(&id),
                    data.len()
                ))
            })?;
            out.extend_from_slice(&id);
            out.extend_from_slice(&len.to_be_bytes());
            chunks.push((id, out.len(), data.len()));
            out.extend_from_slice(data);
            Ok(())
        };
        for a in annotations {
            if a.id != HMAC_ID && a.id != CORR_ID {
                put(out, a.id, &a.data)?;
            }
        }
        // Pyro4 servers leave the correlation id out of exception replies.
        if let (Some(corr), 0) = (header.corr(), header.flags & flags::EXCEPTION) {
            put(out, CORR_ID, &corr)?;
        }
        let sig_at = if hmac.is_some() {
            put(out, HMAC_ID, &[0u8; HMAC_LEN])?;
            Some(out.len() - HMAC_LEN)
        } else {
            None
        };
        let ann_len = out.len() - hs;
        let ann_len = u16::try_from(ann_len)
            .map_err(|_| RemoteError::protocol("annotations exceed Pyro4's 65535-byte limit"))?;
        let mut splices = Vec::new();
        payload(out, &mut splices)?;
        flatten(out, &mut splices).map_err(|e| RemoteError::serialization(e.to_string()))?;
        let start = hs + ann_len as usize;
        let mut f = flags_to_v4(header.flags) & !flags::COMPRESSED;
        if self.compress && out.len() - start >= COMPRESS_MIN_V4 {
            let mut z = flate2::write::ZlibEncoder::new(
                Vec::with_capacity((out.len() - start) / 2),
                flate2::Compression::new(4),
            );
            if std::io::Write::write_all(&mut z, &out[start..]).is_ok() {
                if let Ok(compressed) = z.finish() {
                    if compressed.len() < out.len() - start {
                        out.truncate(start);
                        out.extend_from_slice(&compressed);
                        f |= flags::COMPRESSED;
                    }
                }
            }
        }
        let data_len = out.len() - start;
        if data_len + ann_len as usize > self.max_message_size || data_len > i32::MAX as usize {
            return Err(RemoteError::new(
                tether_core::ErrorKind::MessageTooLarge,
                format!(
                    "message too large ({}, max={})",
                    data_len + ann_len as usize,
                    self.max_message_size.min(i32::MAX as usize)
                ),
            ));
        }
        if let (Some(key), Some(at)) = (hmac, sig_at) {
            let sig = {
                let payload = &out[start..];
                let anns = chunks
                    .iter()
                    .filter(|(id, _, _)| *id != HMAC_ID)
                    .map(|&(id, off, len)| (id, &out[off..off + len]));
                key.sign(payload, anns)
            };
            out[at..at + HMAC_LEN].copy_from_slice(&sig);
        }
        let h4 = Header4 {
            msg_type: u16::from(header.msg_type),
            flags: f,
            seq: header.seq,
            data_len: data_len as u32,
            serializer_id: serializer_id_to_v4(header.serializer_id),
            annotations_len: ann_len,
        };
        let mut head = [0u8; crate::pyro4::HEADER_SIZE];
        h4.encode(&mut head);
        out[..hs].copy_from_slice(&head);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyro5::msg_type;
    use tokio::io::AsyncWriteExt;

    /// The RESULT Python's Pyro4 daemon sends for get_data("Hello") (captured), but with the
    /// random CORR replaced by a fixed one.
    fn python_result() -> Vec<u8> {
        let mut b = vec![
            0x50, 0x59, 0x52, 0x4f, 0x00, 0x30, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
            0x00, 0x38, 0x00, 0x01, 0x00, 0x16, 0x00, 0x00, 0x35, 0x6e,
        ];
        b.extend_from_slice(b"CORR\x00\x10");
        b.extend_from_slice(&[0x11; 16]);
        b.extend_from_slice(b"# serpent utf-8 python3.2\n'You got remote data => Hello'");
        b
    }

    #[tokio::test]
    async fn reads_python_pyro4_result_and_writes_it_back_byte_for_byte() {
        let wire = python_result();
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let mut conn: Connection<_, Pyro4> = Connection::with_format(server, 1 << 20);
        client.write_all(&wire).await.unwrap();
        let m = conn
            .read_message_v4(None, None, None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m.header.msg_type, msg_type::RESULT);
        assert_eq!(m.header.serializer_id, 1);
        assert_eq!(m.header.corr(), Some([0x11; 16]));
        assert!(m.annotations.is_empty());
        let payload = m.payload.clone();
        conn.encode_v4(m.header, &[], None, |b, _| {
            b.extend_from_slice(&payload);
            Ok(())
        })
        .unwrap();
        assert_eq!(conn.write_buf, wire);
    }

    #[tokio::test]
    async fn hmac_is_checked_both_ways() {
        let key = HmacKey::new(b"secret");
        let (client, server) = tokio::io::duplex(1 << 16);
        let mut tx: Connection<_, Pyro4> = Connection::with_format(client, 1 << 20);
        let mut rx: Connection<_, Pyro4> = Connection::with_format(server, 1 << 20);
        let h = Header::new(msg_type::INVOKE, 3, 0, 1).with_corr_id(Some([7; 16]));
        let send = |tx: &mut Connection<_, Pyro4>, k: Option<&HmacKey>| {
            tx.encode_v4(h, &[], k, |b, _| {
                b.extend_from_slice(b"{\"x\": 1}");
                Ok(())
            })
            .unwrap();
        };
        // signed, checked with the same key: accepted, HMAC and CORR consumed
        send(&mut tx, Some(&key));
        tx.flush_encoded().await.unwrap();
        let m = rx
            .read_message_v4(None, None, Some(&key))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (m.header.serializer_id, m.header.corr()),
            (3, Some([7; 16]))
        );
        assert!(m.annotations.is_empty());
        // another key: mismatch
        send(&mut tx, Some(&HmacKey::new(b"other")));
        tx.flush_encoded().await.unwrap();
        let e = rx
            .read_message_v4(None, None, Some(&key))
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "message hmac mismatch");
        // unsigned to a keyed reader, and signed to a keyless one
        let (client, server) = tokio::io::duplex(1 << 16);
        let mut tx: Connection<_, Pyro4> = Connection::with_format(client, 1 << 20);
        let mut rx: Connection<_, Pyro4> = Connection::with_format(server, 1 << 20);
        send(&mut tx, None);
        tx.flush_encoded().await.unwrap();
        let e = rx
            .read_message_v4(None, None, Some(&key))
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "hmac key config not symmetric");
        let (client, server) = tokio::io::duplex(1 << 16);
        let mut tx: Connection<_, Pyro4> = Connection::with_format(client, 1 << 20);
        let mut rx: Connection<_, Pyro4> = Connection::with_format(server, 1 << 20);
        send(&mut tx, Some(&key));
        tx.flush_encoded().await.unwrap();
        let e = rx.read_message_v4(None, None, None).await.unwrap_err();
        assert_eq!(e.to_string(), "hmac key config not symmetric");
    }

    #[tokio::test]
    async fn lying_annotation_lengths_and_truncation_are_refused() {
        let wire = python_result();
        // the CORR chunk claims 0xffff bytes
        let mut bad = wire.clone();
        bad[28..30].copy_from_slice(&[0xff, 0xff]);
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let mut conn: Connection<_, Pyro4> = Connection::with_format(server, 1 << 20);
        client.write_all(&bad).await.unwrap();
        assert!(matches!(
            conn.read_message_v4(None, None, None).await,
            Err(FrameError::BadAnnotations(_))
        ));
        // truncated at every byte: an error (or a clean close at 0), never a message
        for cut in 0..wire.len() {
            let (mut client, server) = tokio::io::duplex(1 << 16);
            let mut conn: Connection<_, Pyro4> = Connection::with_format(server, 1 << 20);
            client.write_all(&wire[..cut]).await.unwrap();
            drop(client);
            let r = conn.read_message_v4(None, None, None).await;
            match r {
                Ok(None) => assert_eq!(cut, 0),
                Err(FrameError::Truncated) => assert!(cut > 0),
                other => panic!("cut {cut}: {other:?}"),
            }
        }
    }
}
