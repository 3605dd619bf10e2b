//! One Pyro5 message: header, annotation chunks and payload, and how a body is parsed
//! (annotations split off, payload inflated when [`flags::COMPRESSED`] is set) and encoded
//! (header + annotations + payload in one buffer, so each message goes out in one write).

use crate::pyro5::{flags, FrameError, Header, HEADER_SIZE};
use crate::serializer::{Detached, Splice};
use bytes::Bytes;
use std::io::Read;

/// One annotation chunk: a 4-character ASCII id and its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    /// The id, e.g. `*b"CORR"`; Pyro5 itself uses `STRM` and `BLBI`.
    pub id: [u8; 4],
    /// The chunk's bytes.
    pub data: Bytes,
}

/// A received (or to-be-sent) message.
#[derive(Clone, Debug)]
pub struct Message {
    /// The header. After [`Message::from_body`], `data_len` is the inflated length and the
    /// COMPRESSED flag is cleared, as Python's receiver does.
    pub header: Header,
    /// Annotation chunks in wire order.
    pub annotations: Vec<Annotation>,
    /// The (inflated) payload. Complete, except when a connection that detaches large byte
    /// strings cut one out (see [`Message::take_detached`]): decode it with the serializer's
    /// `*_detached` methods then.
    pub payload: Bytes,
    /// The byte string cut out of `payload` while it was received, if any.
    pub(crate) detached: Option<Detached>,
}

impl Message {
    /// Builds a message from a validated header and its body (annotations + payload, exactly
    /// `header.body_len()` bytes). `max_size` caps the inflated payload.
    pub fn from_body(header: Header, body: Bytes, max_size: usize) -> Result<Message, FrameError> {
        Self::from_body_limited(header, body, max_size, DEFAULT_INFLATE_RATIO)
    }

    /// [`Message::from_body`] with a compressed payload allowed to inflate to at most
    /// `inflate_ratio` times its size (at least [`INFLATE_ALLOWANCE`]), checked while inflating.
    pub fn from_body_limited(
        mut header: Header,
        mut body: Bytes,
        max_size: usize,
        inflate_ratio: usize,
    ) -> Result<Message, FrameError> {
        let ann_len = header.annotations_len as usize;
        if body.len() != ann_len + header.data_len as usize {
            return Err(FrameError::BadAnnotations(
                "body length does not match the header",
            ));
        }
        let mut annotations = Vec::new();
        if ann_len > 0 {
            let mut chunks = body.split_to(ann_len);
            while !chunks.is_empty() {
                if chunks.len() < 8 {
                    return Err(FrameError::BadAnnotations("truncated chunk header"));
                }
                let mut id = [0u8; 4];
                id.copy_from_slice(&chunks[..4]);
                let len = u32::from_be_bytes([chunks[4], chunks[5], chunks[6], chunks[7]]) as usize;
                if len > chunks.len() - 8 {
                    return Err(FrameError::BadAnnotations(
                        "annotation chunk length exceeds remaining data",
                    ));
                }
                let _ = chunks.split_to(8);
                annotations.push(Annotation {
                    id,
                    data: chunks.split_to(len),
                });
            }
        }
        let mut payload = body;
        if header.flags & flags::COMPRESSED != 0 {
            let cap = max_size.min(
                payload
                    .len()
                    .saturating_mul(inflate_ratio)
                    .max(INFLATE_ALLOWANCE),
            );
            payload = inflate(&payload, cap)?;
            header.flags &= !flags::COMPRESSED;
            header.data_len = payload.len() as u32;
        }
        Ok(Message {
            header,
            annotations,
            payload,
            detached: None,
        })
    }

    /// Takes the byte string the connection cut out of the payload (`None` when the payload is
    /// complete), to hand to `Serializer::decode_detached` together with the payload.
    pub fn take_detached(&mut self) -> Option<Detached> {
        self.detached.take()
    }

    /// Whether a byte string was cut out of the payload (and not taken yet).
    pub fn has_detached(&self) -> bool {
        self.detached.is_some()
    }

    /// Looks up an annotation by id.
    pub fn annotation(&self, id: &[u8; 4]) -> Option<&Bytes> {
        self.annotations
            .iter()
            .find(|a| &a.id == id)
            .map(|a| &a.data)
    }
}

/// How many times its compressed size a payload may inflate to, by default: a zlib bomb
/// (65 KB of zeros inflates to 64 MiB) is refused after a few milliseconds of work instead of
/// after inflating to the message size limit.
pub const DEFAULT_INFLATE_RATIO: usize = 100;
/// A compressed payload may always inflate to this much, whatever its ratio (1 MiB).
pub const INFLATE_ALLOWANCE: usize = 1 << 20;

/// Inflates a zlib stream, refusing to produce more than `max` bytes (a zip bomb must not be
/// able to get around the message size limit).
pub fn inflate(data: &[u8], max: usize) -> Result<Bytes, FrameError> {
    let mut out = Vec::with_capacity(data.len().saturating_mul(2).min(max).min(1 << 20));
    let mut decoder = flate2::read::ZlibDecoder::new(data).take(max as u64 + 1);
    decoder
        .read_to_end(&mut out)
        .map_err(|e| FrameError::Decompress(e.to_string()))?;
    if out.len() > max {
        return Err(FrameError::Decompress(format!(
            "inflated payload exceeds {max} bytes (the message size limit, or the inflate ratio limit)"
        )));
    }
    Ok(Bytes::from(out))
}

/// Encodes a whole message into `out` (cleared first): header, annotations, then whatever
/// `payload` appends. The payload is written in place (no intermediate buffer) and the header's
/// lengths are patched afterwards. Fails if the message would exceed `max_size`.
pub fn encode_into<E>(
    out: &mut Vec<u8>,
    header: Header,
    annotations: &[Annotation],
    max_size: usize,
    payload: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
) -> Result<(), EncodeError<E>> {
    encode_into_spliced(
        out,
        header,
        annotations,
        max_size,
        &mut Vec::new(),
        |o, _| payload(o),
    )
}

/// [`encode_into`] for a payload writer that may leave large byte strings out of `out` and
/// record them in `splices` instead (see [`Splice`]; offsets are into `out`, i.e. they count
/// the header and annotations). The header's payload length counts the spliced bytes, so `out`
/// with the splices inserted is the complete message.
pub fn encode_into_spliced<'v, E>(
    out: &mut Vec<u8>,
    mut header: Header,
    annotations: &[Annotation],
    max_size: usize,
    splices: &mut Vec<Splice<'v>>,
    payload: impl FnOnce(&mut Vec<u8>, &mut Vec<Splice<'v>>) -> Result<(), E>,
) -> Result<(), EncodeError<E>> {
    out.clear();
    splices.clear();
    out.resize(HEADER_SIZE, 0);
    for a in annotations {
        out.extend_from_slice(&a.id);
        out.extend_from_slice(&(a.data.len() as u32).to_be_bytes());
        out.extend_from_slice(&a.data);
    }
    let ann_len = out.len() - HEADER_SIZE;
    payload(out, splices).map_err(EncodeError::Payload)?;
    let spliced: usize = splices.iter().map(|s| s.data.len()).sum();
    let data_len = out.len() - HEADER_SIZE - ann_len + spliced;
    let total = ann_len + data_len;
    if total > max_size || data_len > u32::MAX as usize || ann_len > u32::MAX as usize {
        return Err(EncodeError::TooLarge {
            size: total,
            max: max_size,
        });
    }
    header.flags &= !flags::COMPRESSED;
    header.data_len = data_len as u32;
    header.annotations_len = ann_len as u32;
    let mut head = [0u8; HEADER_SIZE];
    header.encode(&mut head);
    out[..HEADER_SIZE].copy_from_slice(&head);
    Ok(())
}

/// Inserts the splices into `out` (they are drained), giving the contiguous message; for the
/// paths that need one (compression). Splices whose offsets are out of order or beyond `out`
/// are an encoder bug: they are refused rather than written wrongly.
pub fn flatten(out: &mut Vec<u8>, splices: &mut Vec<Splice<'_>>) -> Result<(), SpliceOrderError> {
    if splices.is_empty() {
        return Ok(());
    }
    check_splices(out.len(), splices)?;
    let extra: usize = splices.iter().map(|s| s.data.len()).sum();
    let mut flat = Vec::with_capacity(out.len() + extra);
    let mut from = 0;
    for s in splices.drain(..) {
        flat.extend_from_slice(&out[from..s.at]);
        flat.extend_from_slice(s.data);
        from = s.at;
    }
    flat.extend_from_slice(&out[from..]);
    *out = flat;
    Ok(())
}

/// Checks that splice offsets are non-decreasing and within a buffer of `len` bytes.
pub fn check_splices(len: usize, splices: &[Splice<'_>]) -> Result<(), SpliceOrderError> {
    let mut prev = 0;
    for s in splices {
        if s.at < prev || s.at > len {
            return Err(SpliceOrderError);
        }
        prev = s.at;
    }
    Ok(())
}

/// Splice offsets out of order or beyond the buffer (an encoder bug).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpliceOrderError;

impl std::fmt::Display for SpliceOrderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("internal error: spliced byte strings out of order")
    }
}

impl std::error::Error for SpliceOrderError {}

/// Payloads at most this long are never compressed (Pyro's threshold).
pub const COMPRESS_THRESHOLD: usize = 100;

/// Compresses the payload of a message built by [`encode_into`] in place, as Pyro does when
/// its `COMPRESSION` setting is on: zlib level 4 for payloads over [`COMPRESS_THRESHOLD`]
/// bytes, setting [`flags::COMPRESSED`] and the new length in the header.
pub fn compress_in_place(out: &mut Vec<u8>) {
    if out.len() < HEADER_SIZE {
        return;
    }
    let ann_len = u32::from_be_bytes([out[16], out[17], out[18], out[19]]) as usize;
    let start = HEADER_SIZE + ann_len;
    if out.len() <= start + COMPRESS_THRESHOLD {
        return;
    }
    let mut z = flate2::write::ZlibEncoder::new(
        Vec::with_capacity((out.len() - start) / 2),
        flate2::Compression::new(4),
    );
    // Writing to a Vec cannot fail.
    if std::io::Write::write_all(&mut z, &out[start..]).is_err() {
        return;
    }
    let Ok(compressed) = z.finish() else { return };
    out.truncate(start);
    out.extend_from_slice(&compressed);
    out[12..16].copy_from_slice(&(compressed.len() as u32).to_be_bytes());
    let f = u16::from_be_bytes([out[8], out[9]]) | flags::COMPRESSED;
    out[8..10].copy_from_slice(&f.to_be_bytes());
}

/// Why a message could not be encoded.
#[derive(Debug)]
pub enum EncodeError<E> {
    /// The payload writer failed (e.g. a value the serializer cannot carry).
    Payload(E),
    /// The message exceeds the size limit.
    TooLarge {
        /// Annotations plus payload.
        size: usize,
        /// The limit.
        max: usize,
    },
}

impl Message {
    /// Builds a message from a validated Pyro4 header and its body, in Pyro5's terms (see
    /// [`crate::pyro4`]): the u16-length annotation chunks split off, the `HMAC` checked with
    /// `hmac` (Pyro4's rule: with a key a valid one is required, without a key none may be
    /// present), `CORR` moved into the correlation id, the payload inflated within `max_size`
    /// and `inflate_ratio`.
    pub fn from_pyro4_body(
        h4: crate::pyro4::Header4,
        body: Bytes,
        hmac: Option<&crate::pyro4::HmacKey>,
        max_size: usize,
        inflate_ratio: usize,
    ) -> Result<Message, FrameError> {
        use crate::pyro4::hmac::HMAC_ID;
        const CORR_ID: [u8; 4] = *b"CORR";
        let mut body = body;
        if body.len() as u64 != h4.body_len() {
            return Err(FrameError::BadAnnotations(
                "body length does not match the header",
            ));
        }
        let mut chunks = body.split_to(h4.annotations_len as usize);
        let mut annotations: Vec<Annotation> = Vec::new();
        while !chunks.is_empty() {
            if chunks.len() < 6 {
                return Err(FrameError::BadAnnotations("truncated chunk header"));
            }
            let mut id = [0u8; 4];
            id.copy_from_slice(&chunks[..4]);
            let len = u16::from_be_bytes([chunks[4], chunks[5]]) as usize;
            if len > chunks.len() - 6 {
                return Err(FrameError::BadAnnotations(
                    "annotation chunk length exceeds remaining data",
                ));
            }
            let _ = chunks.split_to(6);
            let data = chunks.split_to(len);
            // A dict on the Python side: a repeated id replaces the earlier one.
            annotations.retain(|a| a.id != id);
            annotations.push(Annotation { id, data });
        }
        let given = annotations.iter().position(|a| a.id == HMAC_ID);
        match (hmac, given) {
            (Some(key), Some(i)) => {
                let ok = key.verify(
                    &annotations[i].data,
                    &body,
                    annotations.iter().map(|a| (a.id, &a.data[..])),
                );
                if !ok {
                    return Err(FrameError::Hmac("message hmac mismatch"));
                }
                annotations.remove(i);
            }
            (None, None) => {}
            _ => return Err(FrameError::Hmac("hmac key config not symmetric")),
        }
        let mut header = crate::pyro4::normalize(h4);
        if let Some(i) = annotations.iter().position(|a| a.id == CORR_ID) {
            let corr = annotations.remove(i);
            if let Ok(id) = <[u8; 16]>::try_from(&corr.data[..]) {
                header = header.with_corr_id(Some(id));
            }
        }
        if header.flags & flags::COMPRESSED != 0 {
            let max = max_size;
            let cap = max.min(
                body.len()
                    .saturating_mul(inflate_ratio)
                    .max(INFLATE_ALLOWANCE),
            );
            body = inflate(&body, cap)?;
            header.flags &= !flags::COMPRESSED;
        }
        header.data_len = body.len() as u32;
        Ok(Message {
            header,
            annotations,
            payload: body,
            detached: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyro5::msg_type;

    fn compressed_frame(plain: &[u8]) -> (Header, Bytes) {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut z, plain).unwrap();
        let body = Bytes::from(z.finish().unwrap());
        let mut h = Header::new(msg_type::INVOKE, 1, flags::COMPRESSED, 1);
        h.data_len = body.len() as u32;
        (h, body)
    }

    #[test]
    fn inflation_is_bounded_by_ratio_while_inflating() {
        let max = 64 << 20;
        // 4 MiB of spaces is about 4 KB compressed: far over 100x and over the 1 MiB allowance.
        let (h, body) = compressed_frame(&vec![b' '; 4 << 20]);
        assert!(body.len() < 10_000);
        let e = Message::from_body(h, body.clone(), max).unwrap_err();
        assert!(e.to_string().contains("exceeds"), "{e}");
        // Allowed with a ratio that covers it.
        let m = Message::from_body_limited(h, body, max, 10_000).unwrap();
        assert_eq!(m.payload.len(), 4 << 20);
        // Anything up to the 1 MiB allowance inflates, whatever its ratio.
        let (h, body) = compressed_frame(&vec![0u8; 1 << 20]);
        assert_eq!(
            Message::from_body(h, body, max).unwrap().payload.len(),
            1 << 20
        );
    }

    #[test]
    fn annotations_and_compression_round_trip() {
        let mut out = Vec::new();
        let ann = [Annotation {
            id: *b"XTRA",
            data: Bytes::from_static(b"abc"),
        }];
        let text = b"hello hello hello hello hello hello".to_vec();
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(4));
        std::io::Write::write_all(&mut z, &text).unwrap();
        let compressed = z.finish().unwrap();
        encode_into::<()>(
            &mut out,
            Header::new(msg_type::RESULT, 1, 0, 3),
            &ann,
            1000,
            |o| {
                o.extend_from_slice(&compressed);
                Ok(())
            },
        )
        .unwrap();
        // mark compressed by hand (encode_into never compresses)
        out[9] |= flags::COMPRESSED as u8;
        let head: [u8; HEADER_SIZE] = out[..HEADER_SIZE].try_into().unwrap();
        let h = Header::parse(&head, 1000).unwrap();
        let m = Message::from_body(h, Bytes::copy_from_slice(&out[HEADER_SIZE..]), 1000).unwrap();
        assert_eq!(&m.payload[..], &text[..]);
        assert_eq!(m.annotation(b"XTRA").map(|b| &b[..]), Some(&b"abc"[..]));
        assert_eq!(m.header.flags & flags::COMPRESSED, 0);
        // the same bomb with a tiny cap is refused
        assert!(Message::from_body(h, Bytes::copy_from_slice(&out[HEADER_SIZE..]), 10).is_err());
    }

    #[test]
    fn lying_annotation_length_is_refused() {
        let mut h = Header::new(msg_type::INVOKE, 1, 0, 1);
        h.annotations_len = 10;
        let mut body = b"ABCD".to_vec();
        body.extend_from_slice(&u32::MAX.to_be_bytes());
        body.extend_from_slice(b"xx");
        assert!(Message::from_body(h, Bytes::from(body), 100).is_err());
    }
}
