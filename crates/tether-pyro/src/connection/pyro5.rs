//! Pyro5 messages over the generic reader: reading a whole message (annotations parsed,
//! payload inflated, a detached byte string given its payload offset) and encoding one into
//! the write buffer (optionally compressed, large byte strings spliced).

use super::*;

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S, Pyro5> {
    /// Reads one Pyro5 message (annotations parsed, payload inflated). `Ok(None)` means the
    /// peer closed cleanly between messages; `idle` and `frame` as in [`Self::read_frame`].
    pub async fn read_message(
        &mut self,
        idle: Option<Duration>,
        frame: Option<Duration>,
    ) -> Result<Option<Message>, FrameError<Header>> {
        let Some(f) = self.read_frame(idle, frame).await? else {
            return Ok(None);
        };
        let max = self.max_message_size;
        let Some(d) = f.detached else {
            return Message::from_body_limited(f.header, f.body, max, self.inflate_ratio).map(Some);
        };
        // The payload arrived without the detached bytes: parse it at its cut length, then
        // give the message its declared length back and the bytes their payload offset.
        let mut cut = f.header;
        cut.data_len -= d.data.len() as u32;
        let mut msg = Message::from_body_limited(cut, f.body, max, self.inflate_ratio)?;
        msg.header.data_len = f.header.data_len;
        msg.detached = Some(Detached {
            at: d.at - f.header.annotations_len as usize,
            data: d.data,
        });
        Ok(Some(msg))
    }

    /// Encodes and sends one message in a single write. `payload` appends the serialized
    /// payload to the buffer it is given.
    pub async fn send(
        &mut self,
        header: Header,
        annotations: &[Annotation],
        payload: impl FnOnce(&mut Vec<u8>) -> Result<(), RemoteError>,
    ) -> Result<(), RemoteError> {
        self.encode(header, annotations, payload)?;
        self.flush_encoded().await
    }

    /// Encodes a message into the write buffer without sending it (see [`Self::flush_encoded`]);
    /// lets a caller report an encoding failure differently from a socket failure.
    pub fn encode(
        &mut self,
        header: Header,
        annotations: &[Annotation],
        payload: impl FnOnce(&mut Vec<u8>) -> Result<(), RemoteError>,
    ) -> Result<(), RemoteError> {
        let res = encode_into(
            &mut self.write_buf,
            header,
            annotations,
            self.max_message_size,
            payload,
        );
        self.finish_encode(res)
    }

    /// Like [`Self::encode`], for a payload writer that may leave large byte strings out of the
    /// buffer (e.g. [`crate::Serializer::encode_spliced`]); returns them, to be passed to
    /// [`Self::flush_spliced`] together with the buffer. With compression on, the message is
    /// flattened and compressed here and no splices are returned.
    pub fn encode_spliced<'v>(
        &mut self,
        header: Header,
        annotations: &[Annotation],
        payload: impl FnOnce(&mut Vec<u8>, &mut Vec<Splice<'v>>) -> Result<(), RemoteError>,
    ) -> Result<Vec<Splice<'v>>, RemoteError> {
        let mut splices = Vec::new();
        let res = encode_into_spliced(
            &mut self.write_buf,
            header,
            annotations,
            self.max_message_size,
            &mut splices,
            payload,
        );
        let res = res.and_then(|()| {
            let order = if self.compress {
                flatten(&mut self.write_buf, &mut splices)
            } else {
                check_splices(self.write_buf.len(), &splices)
            };
            order.map_err(|e| EncodeError::Payload(RemoteError::serialization(e.to_string())))
        });
        self.finish_encode(res)?;
        Ok(splices)
    }

    /// Compresses an encoded message if asked to; maps an encoding failure to its error and
    /// leaves the buffer empty then.
    fn finish_encode(
        &mut self,
        res: Result<(), EncodeError<RemoteError>>,
    ) -> Result<(), RemoteError> {
        match res {
            Ok(()) => {
                if self.compress {
                    crate::message::compress_in_place(&mut self.write_buf);
                }
                Ok(())
            }
            Err(EncodeError::Payload(e)) => {
                self.write_buf.clear();
                Err(e)
            }
            Err(EncodeError::TooLarge { size, max }) => {
                self.write_buf.clear();
                Err(RemoteError::new(
                    tether_core::ErrorKind::MessageTooLarge,
                    format!("message too large ({size}, max={max})"),
                ))
            }
        }
    }
}
