//! One exchange on the connection: encode a call, send it, read and check its reply.

use super::*;

impl Proxy {
    /// Sends one INVOKE and (unless oneway) reads its RESULT, connecting first if needed.
    ///
    /// Not an `async fn` (nor are the callers that hand a call down): an `async fn` keeps its
    /// arguments in its future for its whole life, so each layer that passes the call on would
    /// hold another copy of it, and copy it, in every call's future.
    pub(super) fn exchange(
        &self,
        call: Call,
        kwargs_none: bool,
        extra_flags: u16,
    ) -> impl std::future::Future<Output = Result<Option<Message>, RemoteError>> + Send + '_ {
        self.exchange_to(call, kwargs_none, extra_flags, None)
    }

    /// [`Self::exchange`], to `object` instead of the proxy's own object when given (the
    /// daemon object, for stream items).
    pub(super) fn exchange_to<'a>(
        &'a self,
        call: Call,
        kwargs_none: bool,
        extra_flags: u16,
        object: Option<&'a str>,
    ) -> impl std::future::Future<Output = Result<Option<Message>, RemoteError>> + Send + 'a {
        let s = &self.settings;
        self.bounded(call.context.deadline, async move {
            let mut st = tether_core::lock::lock_now(&self.state).await;
            // Taken out while in use: if this future is dropped mid-call, the half-used
            // connection is dropped with it instead of being reused out of sync.
            // A connection the server closed while we were idle is replaced before anything is
            // sent on it (so this is not a retry: the call has not been made yet).
            let mut live = match st.live.take() {
                Some(l) if !l.conn.is_stale() => l,
                Some(mut l) => {
                    tracing::debug!(target: "tether::pyro::proxy", "idle connection closed by the server, reconnecting");
                    l.conn.shutdown().await;
                    self.open(&mut st.seq).await.map_err(RemoteError::not_sent)?
                }
                None => self.open(&mut st.seq).await.map_err(RemoteError::not_sent)?,
            };
            st.seq = st.seq.wrapping_add(1);
            let seq = st.seq;
            let oneway =
                call.oneway || (object.is_none() && live.meta.oneway.contains(&call.method));
            let (annotations, trace_id) = carried(&call.context, s.timeout);
            let f = extra_flags | if oneway { flags::ONEWAY } else { 0 };
            let header = Header::new(msg_type::INVOKE, crate::pyro5::serializer_id(s.serializer), f, seq)
                .with_corr_id(s.corr_id.or(trace_id));
            let target = object.unwrap_or(&live.object);
            // Large byte strings are written from the call's arguments themselves (vectored),
            // not copied; msgpack writes the payload straight from the call's parts.
            let encoded = if s.serializer == Serializer::Msgpack {
                live.conn.encode_spliced(header, &annotations, |b, sp| {
                    crate::serializer::msgpack::encode_invoke_spliced(
                        target,
                        &call.method,
                        &call.args,
                        (!kwargs_none).then_some(call.kwargs.as_slice()),
                        b,
                        sp,
                        crate::serializer::SPLICE_THRESHOLD,
                    )
                })
            } else {
                // (Only msgpack splices: the text serializers copy everything into `b`.)
                let payload = self.call_payload(target, call, kwargs_none);
                live.conn
                    .encode_spliced(header, &annotations, |b, _| s.serializer.encode(&payload, b))
                    .map(|_| Vec::new())
            };
            let splices = match encoded {
                Ok(splices) => splices,
                Err(e) => {
                    // Nothing was sent: the connection is still good.
                    st.live = Some(live);
                    return Err(e.not_sent());
                }
            };
            live.conn.flush_spliced(&splices).await?;
            if oneway {
                st.live = Some(live);
                return Ok(None);
            }
            let reply = read_reply(&mut live.conn).await?;
            let h = reply.header;
            if h.msg_type != msg_type::RESULT {
                return Err(RemoteError::protocol(format!(
                    "invalid msg type {} received (expected: 5)",
                    h.msg_type
                )));
            }
            if h.seq != seq {
                return Err(RemoteError::protocol(format!(
                    "invoke: reply sequence out of sync, got {} expected {seq}",
                    h.seq
                )));
            }
            if h.serializer_id != crate::pyro5::serializer_id(s.serializer) {
                return Err(RemoteError::serialization(format!(
                    "invalid serializer in response: {}",
                    h.serializer_id
                )));
            }
            st.live = Some(live);
            Ok(Some(reply))
        })
    }

    /// The INVOKE payload, built by moving the call's values (no copy of large arguments):
    /// `(object, method, vargs, kwargs)`, or json's `{"object", "method", "params", "kwargs"}`;
    /// the same shapes as [`Serializer::encode_call`].
    pub(super) fn call_payload(&self, object: &str, call: Call, kwargs_none: bool) -> Value {
        let kwargs = if kwargs_none {
            Value::None
        } else {
            Value::Map(
                call.kwargs
                    .into_iter()
                    .map(|(k, v)| (Value::Str(k), v))
                    .collect(),
            )
        };
        match self.settings.serializer {
            Serializer::Json => Value::Map(vec![
                (Value::str("object"), Value::str(object)),
                (Value::str("method"), Value::Str(call.method)),
                (Value::str("params"), Value::List(call.args)),
                (Value::str("kwargs"), kwargs),
            ]),
            ser => Value::Tuple(vec![
                Value::str(object),
                Value::Str(call.method),
                ser.vargs(call.args),
                kwargs,
            ]),
        }
    }

    pub(super) fn decode_result(&self, mut reply: Message) -> Result<Value, RemoteError> {
        let detached = reply.take_detached();
        let mut value = self.settings.serializer.decode_detached(
            &reply.payload,
            detached,
            &self.settings.limits,
        )?;
        if self.settings.wire == WireVersion::Pyro4 {
            crate::pyro4::dialect::to_pyro5(&mut value);
        }
        let f = reply.header.flags;
        if f & flags::ITEMSTREAMRESULT != 0 {
            return Err(RemoteError::protocol(
                "unexpected streamed result (an iterator inside a batch, metadata or stream item)",
            ));
        }
        if f & flags::EXCEPTION != 0 {
            return Err(exception::from_value(&value));
        }
        Ok(value)
    }
}

/// The annotations that carry a call's context to a tether server (trace parent and state,
/// the time left, and the call's own annotations with 4-byte keys), and the trace id, which
/// becomes the message's correlation id (what Python peers read as
/// `current_context.correlation_id`). Servers that do not know these annotations ignore them.
fn carried(
    context: &tether_core::CallContext,
    timeout: Option<std::time::Duration>,
) -> (Vec<crate::message::Annotation>, Option<[u8; 16]>) {
    use crate::message::Annotation;
    let out = tether_core::trace::Outgoing::of(context, timeout);
    if out.is_empty() && context.annotations.is_empty() {
        return (Vec::new(), None);
    }
    let key = |k: &str| <[u8; 4]>::try_from(k.as_bytes()).ok();
    let mut v: Vec<Annotation> = context
        .annotations
        .iter()
        .filter_map(|(k, d)| {
            Some(Annotation {
                id: key(k)?,
                data: bytes::Bytes::copy_from_slice(d),
            })
        })
        .filter(|a| &a.id != b"CORR" && &a.id != b"HMAC")
        .collect();
    out.annotations(|k, text| {
        if let Some(id) = key(k) {
            v.retain(|a| a.id != id);
            v.push(Annotation {
                id,
                data: bytes::Bytes::from(text.into_bytes()),
            });
        }
    });
    let trace_id = out.trace_id();
    (v, trace_id)
}
