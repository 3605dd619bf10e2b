//! The futures of a proxy's call, written by hand.
//!
//! A call's future is one inner `async` block (the exchange on the connection, see call.rs)
//! wrapped in the call's time limit and then in the step that makes the reply a value. Written
//! with `lazy`/`then`/`map`, each wrapper moved the whole inner future (some 900 bytes) when it
//! started it or when it finished: four copies of it on every call. These two wrappers keep
//! the inner future where it was first put and only poll it.

use super::Proxy;
use crate::message::Message;
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};
use tether_core::{BoxFuture, RemoteError, Value};

pin_project! {
    /// `fut` within the proxy's timeout and the call's deadline, whichever ends first; the
    /// limit is worked out, and its timer made, when the future is first polled (as an `async
    /// fn` would), so a call's future can be made outside a runtime and awaited in one.
    pub(super) struct Bounded<'a, F> {
        #[pin]
        fut: F,
        // Boxed: a timer is some 100 bytes that a call without a limit would carry for
        // nothing, and a limit's timer costs more than its allocation.
        timer: Option<Pin<Box<tokio::time::Sleep>>>,
        // `Some` until the first poll.
        deadline: Option<Option<Instant>>,
        limit: Duration,
        proxy: &'a Proxy,
    }
}

impl<'a, F> Bounded<'a, F> {
    pub(super) fn new(proxy: &'a Proxy, deadline: Option<Instant>, fut: F) -> Self {
        Bounded {
            fut,
            timer: None,
            deadline: Some(deadline),
            limit: Duration::ZERO,
            proxy,
        }
    }
}

impl<T, F: Future<Output = Result<T, RemoteError>>> Future for Bounded<'_, F> {
    type Output = Result<T, RemoteError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Some(deadline) = this.deadline.take() {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let limit = match (this.proxy.settings.timeout, left) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if let Some(d) = limit {
                *this.limit = d;
                *this.timer = Some(Box::pin(tokio::time::sleep(d)));
            }
        }
        if let Poll::Ready(r) = this.fut.poll(cx) {
            return Poll::Ready(r);
        }
        match this.timer.as_mut().map(|t| t.as_mut().poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Err(RemoteError::timeout(format!(
                "call to {} timed out after {:?}",
                this.proxy.settings.uri, this.limit
            )))),
            _ => Poll::Pending,
        }
    }
}

pin_project! {
    /// A call's value: the exchange's reply decoded, or, when the server answers with a
    /// stream, the stream collected (at most `max` items).
    pub(super) struct Called<'a, F> {
        #[pin]
        exchange: F,
        proxy: &'a Proxy,
        max: usize,
        collect: Option<BoxFuture<'a, Result<Value, RemoteError>>>,
    }
}

impl<'a, F> Called<'a, F> {
    pub(super) fn new(proxy: &'a Proxy, max: usize, exchange: F) -> Self {
        Called {
            exchange,
            proxy,
            max,
            collect: None,
        }
    }
}

impl<F> Future for Called<'_, F>
where
    F: Future<Output = Result<Option<Message>, RemoteError>>,
{
    type Output = Result<Value, RemoteError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Some(collect) = this.collect {
            return collect.as_mut().poll(cx);
        }
        let reply = ready!(this.exchange.poll(cx)).and_then(|r| this.proxy.reply_of(r));
        match reply {
            Ok(tether_core::Reply::Value(v)) => Poll::Ready(Ok(v)),
            Ok(stream) => {
                let collect = this.collect.insert(Box::pin(stream.into_value(*this.max)));
                collect.as_mut().poll(cx)
            }
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}
