//! Streamed results on the client: a call whose reply is a stream id becomes a lazy
//! [`ValueStream`] that fetches items on this proxy's connection ([`RemoteStream`]).

use super::*;

impl Proxy {
    /// Sends a call and returns its value or, for a streamed result, the remote stream.
    pub(super) fn call_reply(
        &self,
        call: Call,
    ) -> impl std::future::Future<Output = Result<Reply, RemoteError>> + Send + '_ {
        use futures_util::FutureExt;
        let kwargs_none = call.method == GETATTR || call.method == SETATTR;
        // A combinator, not an `async` block: a block would hold the exchange's future as a
        // capture and again where it awaits it (an `async fn` would hold the call as well).
        self.exchange(call, kwargs_none, 0)
            .map(move |reply| self.reply_of(reply?))
    }

    /// The reply of an exchange: a value, or the stream its RESULT announces.
    pub(super) fn reply_of(&self, reply: Option<Message>) -> Result<Reply, RemoteError> {
        let Some(reply) = reply else {
            return Ok(Reply::Value(Value::None));
        };
        if reply.header.flags & flags::ITEMSTREAMRESULT == 0 {
            return self.decode_result(reply).map(Reply::Value);
        }
        let id = reply
            .annotation(b"STRM")
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        if id.is_empty() {
            return Err(RemoteError::protocol(
                "result of call is an iterator, but the server is not configured to allow streaming",
            ));
        }
        Ok(Reply::Stream(ValueStream::from_source(RemoteStream {
            proxy: self.clone(),
            id: Some(id),
        })))
    }

    /// Fetches the next item of stream `id`; `None` at its end (`StopIteration`).
    pub(super) async fn next_stream_item(&self, id: &str) -> Option<Result<Value, RemoteError>> {
        let call = Call::new("get_next_stream_item", vec![Value::str(id)]);
        let reply = match self
            .exchange_to(call, false, 0, Some(DAEMON_OBJECT_ID))
            .await
        {
            Ok(Some(reply)) => reply,
            Ok(None) => {
                return Some(Err(RemoteError::protocol(
                    "no reply to get_next_stream_item",
                )))
            }
            Err(e) => return Some(Err(e)),
        };
        match self.decode_result(reply) {
            Ok(v) => Some(Ok(v)),
            Err(e) if e.class() == Some("builtins.StopIteration") => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// A server-side stream read through a proxy; closes it on the server when dropped early.
pub(super) struct RemoteStream {
    proxy: Proxy,
    /// `None` once the stream ended (the server has removed it by itself then).
    id: Option<String>,
}

impl StreamSource for RemoteStream {
    fn next_item(&mut self) -> BoxFuture<'_, Option<Result<Value, RemoteError>>> {
        Box::pin(async move {
            let id = self.id.as_deref()?;
            let item = self.proxy.next_stream_item(id).await;
            if !matches!(item, Some(Ok(_))) {
                // End or error: the server removed the stream already (or it is unreachable).
                self.id = None;
            }
            item
        })
    }
}

impl Drop for RemoteStream {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        // Stopped early: tell the server (oneway), as Python's iterator does on close().
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            tracing::debug!(target: "tether::pyro::proxy", "no runtime to close stream {id}; the server's limits will drop it");
            return;
        };
        let proxy = self.proxy.clone();
        rt.spawn(async move {
            let call = Call::new("close_stream", vec![Value::Str(id)]).oneway();
            if let Err(e) = proxy
                .exchange_to(call, false, 0, Some(DAEMON_OBJECT_ID))
                .await
            {
                tracing::debug!(target: "tether::pyro::proxy", "close_stream failed: {e}");
            }
        });
    }
}
