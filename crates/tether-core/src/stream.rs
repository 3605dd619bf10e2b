//! Streaming results: [`ValueStream`], what a method answers when it returns an iterator or a
//! generator (Pyro's "remote iterators"), and [`Reply`], a single value or such a stream.
//!
//! A stream is pulled, never pushed: the consumer asks for the next item and the producer
//! computes it then (an iterator) or has buffered at most `capacity` items ahead (a channel).
//! That is what lets a server keep many open streams without holding their items in memory,
//! and what lets a Pyro client fetch one item per round trip (`get_next_stream_item`).
//!
//! Dropping a [`ValueStream`] ends it: an iterator is dropped, a channel's producer sees its
//! [`ValueSender::send`] fail, and a remote stream (a proxy's) tells its server to close it.

use crate::{BoxFuture, RemoteError, Value};
use tokio::sync::mpsc;

/// A source of stream items that needs to await to produce them, e.g. a proxy fetching items
/// from a server. Implement it to build a [`ValueStream`] with [`ValueStream::from_source`];
/// clean-up on early stop (say, telling the server) belongs in its `Drop`.
pub trait StreamSource: Send + 'static {
    /// The next item; `None` once the stream has ended. After an `Err` item or `None`, the
    /// stream is not polled again.
    fn next_item(&mut self) -> BoxFuture<'_, Option<Result<Value, RemoteError>>>;
}

enum Inner {
    Iter(Box<dyn Iterator<Item = Value> + Send>),
    Channel(mpsc::Receiver<Result<Value, RemoteError>>),
    Source(Box<dyn StreamSource>),
    Done,
}

/// An asynchronous stream of `Result<Value, RemoteError>` items: a streamed method result.
///
/// An `Err` item ends the stream (like an exception raised inside a Python generator); after
/// it, and after the end, [`ValueStream::next`] returns `None`.
pub struct ValueStream {
    inner: Inner,
}

impl std::fmt::Debug for ValueStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.inner {
            Inner::Iter(_) => "iter",
            Inner::Channel(_) => "channel",
            Inner::Source(_) => "source",
            Inner::Done => "done",
        };
        f.debug_struct("ValueStream").field("kind", &kind).finish()
    }
}

impl ValueStream {
    /// A stream over an iterator; each item is computed when it is asked for (a Rust iterator
    /// is lazy like a Python generator). The iterator runs in the task that polls the stream,
    /// so it should not block for long.
    #[allow(clippy::should_implement_trait)] // lazy, unlike `FromIterator`, which must collect
    pub fn from_iter<I>(items: I) -> Self
    where
        I: IntoIterator<Item = Value>,
        I::IntoIter: Send + 'static,
    {
        ValueStream {
            inner: Inner::Iter(Box::new(items.into_iter())),
        }
    }

    /// A stream fed by a producer (typically a spawned task) through a bounded channel of
    /// `capacity` items (at least 1): the producer computes at most that far ahead of the
    /// consumer, and learns that the consumer went away when [`ValueSender::send`] fails.
    /// The stream ends when every sender is dropped.
    pub fn channel(capacity: usize) -> (ValueSender, ValueStream) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (
            ValueSender { tx },
            ValueStream {
                inner: Inner::Channel(rx),
            },
        )
    }

    /// A stream over a [`StreamSource`].
    pub fn from_source(source: impl StreamSource) -> Self {
        ValueStream {
            inner: Inner::Source(Box::new(source)),
        }
    }

    /// A stream that has already ended.
    pub fn empty() -> Self {
        ValueStream { inner: Inner::Done }
    }

    /// The next item, or `None` at the end. An `Err` item is the last one.
    pub async fn next(&mut self) -> Option<Result<Value, RemoteError>> {
        let item = match &mut self.inner {
            Inner::Iter(it) => it.next().map(Ok),
            Inner::Channel(rx) => rx.recv().await,
            Inner::Source(src) => src.next_item().await,
            Inner::Done => None,
        };
        if !matches!(item, Some(Ok(_))) {
            // Ended or failed: release the producer now rather than when the stream is dropped.
            self.inner = Inner::Done;
        }
        item
    }

    /// Reads the whole stream into a list of at most `max_items` items. More items than that
    /// is an error (`builtins.ValueError`), and the rest of the stream is dropped (closed) so an
    /// endless generator cannot exhaust the caller's memory.
    pub async fn collect(mut self, max_items: usize) -> Result<Vec<Value>, RemoteError> {
        let mut out = Vec::new();
        while let Some(item) = self.next().await {
            if out.len() >= max_items {
                return Err(RemoteError::value_error(format!(
                    "streamed result has more than {max_items} items; \
                     iterate it with invoke_stream instead of collecting it"
                )));
            }
            out.push(item?);
        }
        Ok(out)
    }
}

/// The producing end of [`ValueStream::channel`]. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ValueSender {
    tx: mpsc::Sender<Result<Value, RemoteError>>,
}

impl ValueSender {
    /// Sends one item, waiting while the channel is full. `false` means the consumer is gone
    /// (the stream was closed or dropped): stop producing.
    pub async fn send(&self, item: Value) -> bool {
        self.tx.send(Ok(item)).await.is_ok()
    }

    /// Ends the stream with an error (the consumer sees it as the last item).
    pub async fn fail(self, error: RemoteError) {
        let _ = self.tx.send(Err(error)).await;
    }

    /// Whether the consumer is gone.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Resolves once the consumer is gone, e.g. to stop an idle producer.
    pub async fn closed(&self) {
        self.tx.closed().await
    }
}

/// What a call produced on the server side: a single value, or a stream of values.
#[derive(Debug)]
pub enum Reply {
    /// An ordinary result.
    Value(Value),
    /// A streamed result (the method returned an iterator or generator).
    Stream(ValueStream),
}

impl Reply {
    /// The reply as one value: a stream is collected into a `Value::List` of at most
    /// `max_items` items (see [`ValueStream::collect`]).
    pub async fn into_value(self, max_items: usize) -> Result<Value, RemoteError> {
        match self {
            Reply::Value(v) => Ok(v),
            Reply::Stream(s) => s.collect(max_items).await.map(Value::List),
        }
    }

    /// The reply as a stream: a list, tuple or set value streams its items; any other value is
    /// a `builtins.TypeError`, as iterating it in Python would be.
    pub fn into_stream(self) -> Result<ValueStream, RemoteError> {
        match self {
            Reply::Stream(s) => Ok(s),
            Reply::Value(Value::List(v) | Value::Tuple(v) | Value::Set(v)) => {
                Ok(ValueStream::from_iter(v))
            }
            Reply::Value(other) => Err(RemoteError::type_error(format!(
                "the result is not iterable: {}",
                other.type_name()
            ))),
        }
    }
}

/// Helpers for code generated by `#[tether::service]` for methods returning
/// `Result<ValueStream, E>`; not a public API.
#[doc(hidden)]
pub mod glue {
    use super::{Reply, ValueStream};
    use crate::{Call, Invoker, RemoteError, Value};
    use std::sync::Arc;

    /// Most items a dispatcher's plain `dispatch` collects from a streaming method.
    pub const MAX_COLLECTED_ITEMS: usize = crate::LocalInvoker::MAX_COLLECTED_ITEMS;

    /// Proxy side: the call's result as a stream.
    pub async fn invoke_stream<E: From<RemoteError>>(
        invoker: &Arc<dyn Invoker>,
        call: Result<Call, RemoteError>,
    ) -> Result<ValueStream, E> {
        Ok(invoker.invoke_stream(call?).await?)
    }

    /// Dispatcher side (`dispatch_reply`): the stream as a reply.
    pub fn reply_stream<E: Into<RemoteError>>(
        r: Result<ValueStream, E>,
    ) -> Result<Reply, RemoteError> {
        r.map(Reply::Stream).map_err(Into::into)
    }

    /// Dispatcher side (`dispatch`, which cannot stream): the items collected into a list.
    pub async fn reply_collected<E: Into<RemoteError>>(
        r: Result<ValueStream, E>,
    ) -> Result<Value, RemoteError> {
        let items = r.map_err(Into::into)?.collect(MAX_COLLECTED_ITEMS).await?;
        Ok(Value::List(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn iter_and_channel_streams() {
        rt().block_on(async {
            let s = ValueStream::from_iter(vec![Value::Int(1), Value::Int(2)]);
            assert_eq!(
                s.collect(10).await.unwrap(),
                vec![Value::Int(1), Value::Int(2)]
            );
            let (tx, mut s) = ValueStream::channel(1);
            let producer = tokio::spawn(async move {
                let mut n = 0;
                while tx.send(Value::Int(n)).await {
                    n += 1;
                }
                n
            });
            assert_eq!(s.next().await.unwrap().unwrap(), Value::Int(0));
            drop(s);
            // The producer notices the consumer is gone and stops (bounded by the capacity).
            assert!(producer.await.unwrap() <= 3);
            let (tx, s) = ValueStream::channel(4);
            tokio::spawn(async move {
                tx.send(Value::Int(1)).await;
                tx.fail(RemoteError::value_error("boom")).await;
            });
            let e = s.collect(10).await.unwrap_err();
            assert_eq!(e.to_string(), "ValueError: boom");
        });
    }

    #[test]
    fn collect_is_bounded_and_endless_streams_are_cut() {
        rt().block_on(async {
            let s = ValueStream::from_iter((0..).map(Value::Int));
            let e = s.collect(5).await.unwrap_err();
            assert!(e.message().contains("more than 5 items"), "{e}");
            let mut s = ValueStream::from_iter(vec![]);
            assert!(s.next().await.is_none());
            assert!(s.next().await.is_none());
            assert!(Reply::Value(Value::Int(1)).into_stream().is_err());
            let v = Reply::Stream(ValueStream::from_iter(vec![Value::Int(1)]))
                .into_value(1)
                .await
                .unwrap();
            assert_eq!(v, Value::List(vec![Value::Int(1)]));
        });
    }
}
