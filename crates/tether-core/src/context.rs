//! [`CallContext`]: what a server knows about one call besides its arguments (who sent it,
//! over what, until when), and how service code reads it.
//!
//! A server fills the context of every [`Call`](crate::Call) it decodes; the generated
//! dispatcher of `#[tether::service]` runs the implementation inside
//! [`CallContext::scope`], so a typed service method reads it with [`CallContext::current`]
//! without a parameter for it. A client may set a deadline and annotations on the context of a
//! call it sends; each wire documents which annotations travel.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// The context of one call.
#[derive(Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct CallContext {
    /// When the caller stops waiting. Default `None` (no deadline).
    pub deadline: Option<Instant>,
    /// The peer's address, when the call came over TCP. Default `None`.
    pub peer: Option<SocketAddr>,
    /// The subject of the client certificate the TLS layer verified. Default `None` (no TLS,
    /// or no client certificate).
    pub tls_subject: Option<Arc<TlsSubject>>,
    /// Protocol annotations (Pyro's 4-letter keys with their bytes). Default empty.
    pub annotations: Vec<(String, Vec<u8>)>,
    /// The wire the call arrived on (`"pyro5"`, `"pyro4"`, ...), for services that answer
    /// each wire in its own words. Default `None` (a local call).
    pub protocol: Option<&'static str>,
    /// The trace this call belongs to: on a server, the caller's span as the wire carried it;
    /// on a client, the span the call is sent from (the wire writes it out). Default `None`.
    pub trace: Option<crate::TraceContext>,
    /// The W3C baggage the call carries (`key=value` pairs, as the `baggage` header writes
    /// them; see [`crate::trace::baggage`]): on a server, what the caller sent; on a client,
    /// what to send (when `None`, the baggage of the call being served on this task goes on).
    /// Default `None`.
    pub baggage: Option<Arc<str>>,
}

/// Written out so that [`Clone::clone_from`] goes field by field: a server gives every call
/// it decodes its connection's context with `call.context.clone_from(&connection)`, where
/// the call's own is the empty default, and a whole clone with the old value's drop would be
/// about twice the work on every call.
impl Clone for CallContext {
    fn clone(&self) -> Self {
        CallContext {
            deadline: self.deadline,
            peer: self.peer,
            tls_subject: self.tls_subject.clone(),
            annotations: self.annotations.clone(),
            protocol: self.protocol,
            trace: self.trace.clone(),
            baggage: self.baggage.clone(),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        // Destructured so that a field added to the struct must be added here.
        let CallContext {
            deadline,
            peer,
            tls_subject,
            annotations,
            protocol,
            trace,
            baggage,
        } = source;
        self.deadline = *deadline;
        self.peer = *peer;
        self.protocol = *protocol;
        // The parts that hold memory, each only when one side has it: over plain TCP a
        // connection's context has none, and a decoded call's own is empty.
        if tls_subject.is_some() || self.tls_subject.is_some() {
            self.tls_subject.clone_from(tls_subject);
        }
        if !annotations.is_empty() || !self.annotations.is_empty() {
            self.annotations.clone_from(annotations);
        }
        if trace.is_some() || self.trace.is_some() {
            self.trace.clone_from(trace);
        }
        if baggage.is_some() || self.baggage.is_some() {
            self.baggage.clone_from(baggage);
        }
    }
}

tokio::task_local! {
    static CURRENT: CallContext;
}

/// Whether this process has seen any baggage (read from a wire, set on a context, or in a
/// scope): until it has, a client call need not look for its served call's baggage (a
/// task-local lookup on every call of every proxy).
static BAGGAGE_SEEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Notes that baggage is in use in this process (see [`CallContext::current_baggage`]).
pub(crate) fn baggage_seen() {
    BAGGAGE_SEEN.store(true, std::sync::atomic::Ordering::Relaxed);
}

impl CallContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the deadline.
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Sets the peer address.
    pub fn with_peer(mut self, peer: SocketAddr) -> Self {
        self.peer = Some(peer);
        self
    }

    /// Sets the verified TLS subject.
    pub fn with_tls_subject(mut self, subject: Arc<TlsSubject>) -> Self {
        self.tls_subject = Some(subject);
        self
    }

    /// Sets the trace context.
    pub fn with_trace(mut self, trace: crate::TraceContext) -> Self {
        self.trace = Some(trace);
        self
    }

    /// Sets baggage entry `key` to `value` (encoded as the `baggage` header needs; an entry of
    /// the same key is replaced). A key that is not an HTTP token, or baggage that would pass
    /// W3C's limits, leaves the baggage as it was.
    pub fn with_baggage(mut self, key: &str, value: &str) -> Self {
        if let Some(b) = crate::trace::baggage::with_entry(self.baggage.as_deref(), key, value) {
            baggage_seen();
            self.baggage = Some(b);
        }
        self
    }

    /// The value of baggage entry `key` (percent-decoded), if the call carries it.
    pub fn baggage(&self, key: &str) -> Option<String> {
        let text = self.baggage.as_deref()?;
        crate::trace::baggage::entries(text)
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// The annotation `key`'s bytes, if the call carries it.
    pub fn annotation(&self, key: &str) -> Option<&[u8]> {
        self.annotations
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }

    /// Adds an annotation.
    pub fn with_annotation(mut self, key: impl Into<String>, value: Vec<u8>) -> Self {
        self.annotations.push((key.into(), value));
        self
    }

    /// The context of the call being served on this task, if any: inside a service method
    /// called through a dispatcher, the context its server decoded.
    pub fn current() -> Option<CallContext> {
        CURRENT.try_with(Clone::clone).ok()
    }

    /// The baggage of the call being served on this task, if any (without copying the rest of
    /// its context).
    pub fn current_baggage() -> Option<Arc<str>> {
        if !BAGGAGE_SEEN.load(std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        CURRENT.try_with(|c| c.baggage.clone()).ok().flatten()
    }

    /// The trace of the call being served on this task, if any (without copying the rest of
    /// its context): what a log line written while serving it is correlated with.
    pub fn current_trace() -> Option<crate::TraceContext> {
        CURRENT.try_with(|c| c.trace.clone()).ok().flatten()
    }

    /// Runs `fut` with `self` as [`CallContext::current`].
    pub async fn scope<F: std::future::Future>(self, fut: F) -> F::Output {
        if self.baggage.is_some() {
            baggage_seen();
        }
        CURRENT.scope(self, fut).await
    }
}

/// The subject of a verified client certificate, as Python's `ssl` names its fields:
/// RFC 3280 long names (`commonName`, `organizationName`, `stateOrProvinceName`, ...; an
/// unknown attribute keeps its dotted OID), in certificate order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsSubject {
    /// `(long name, value)` for each attribute of each RDN, in order.
    pub fields: Vec<(String, String)>,
}

impl TlsSubject {
    /// The value of field `name` (the last one when the name repeats, as Spring Python's
    /// `verify_fields` reads it).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Display for TlsSubject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (n, v)) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n}={v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> CallContext {
        CallContext {
            deadline: Some(Instant::now()),
            peer: Some("10.1.2.3:4567".parse().expect("addr")),
            tls_subject: Some(Arc::new(TlsSubject {
                fields: vec![("commonName".into(), "client".into())],
            })),
            annotations: vec![("CORR".into(), vec![1, 2, 3])],
            protocol: Some("pyro5"),
            trace: Some(crate::TraceContext {
                trace_id: [1; 16],
                span_id: [2; 8],
                flags: 1,
                state: Some("k=v".into()),
            }),
            baggage: Some("a=b".into()),
        }
    }

    /// A clone, and a context cloned into over another's values (a call's default, or a full
    /// one), are equal to the source in every field.
    #[test]
    fn clone_and_clone_from_copy_every_field() {
        let source = full();
        assert_eq!(source.clone(), source);
        let mut empty = CallContext::default();
        empty.clone_from(&source);
        assert_eq!(empty, source);
        let mut other = CallContext {
            annotations: vec![("XXXX".into(), vec![9; 40])],
            protocol: Some("hessian"),
            ..CallContext::default()
        };
        other.clone_from(&source);
        assert_eq!(other, source);
        let mut back = full();
        back.clone_from(&CallContext::default());
        assert_eq!(back, CallContext::default());
    }
}
