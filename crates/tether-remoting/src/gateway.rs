//! [`Forward`]: a proxy (or a pool) served as an object, which is what makes tether a gateway
//! between wires: an exporter of any wire whose `service` is a proxy factory forwards each call
//! (method, positional and keyword arguments, oneway, the caller's deadline and trace) as
//! values to the target, and answers with its result or its error, worded so the caller's wire
//! can read it.
//!
//! Methods: a Pyro client asks for the object's methods when it connects. The forwarder answers
//! with what the target's wire reports ([`Invoker::describe`]: Pyro's metadata, XML-RPC's
//! `system.listMethods`), asked once when it is made and again after a call while it does not
//! know them (the target was down at start); a list given in the configuration wins. A target
//! whose wire cannot list (Hessian, Pyro 3) and no list given: every method name is accepted
//! and forwarded (Pyro servers pass unknown names on; a Python Pyro client then needs the list
//! to call anything, so give `methods`).

use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tether_core::{
    AttrInfo, BoxFuture, Call, Description, Dispatch, Invoker, MethodInfo, RemoteError, Reply,
    Value,
};

/// Most method names a forwarder takes from a target's description (names are kept for the
/// process's life, so a hostile target cannot make it grow without bound).
pub const MAX_FORWARDED_NAMES: usize = 4096;

struct Known {
    methods: Vec<MethodInfo>,
    attrs: Vec<AttrInfo>,
}

/// A target behind a [`Dispatch`]: calls in, calls out.
pub struct Forward {
    target: Arc<dyn Invoker>,
    known: OnceLock<Known>,
}

fn leak(names: &[String]) -> Vec<&'static str> {
    names
        .iter()
        .take(MAX_FORWARDED_NAMES)
        .map(|n| &*Box::leak(n.clone().into_boxed_str()))
        .collect()
}

impl Forward {
    /// Forwards to `target`; methods not known yet.
    pub fn new(target: Arc<dyn Invoker>) -> Self {
        Forward {
            target,
            known: OnceLock::new(),
        }
    }

    /// Forwards to `target`, answering with `methods` (a configured list).
    pub fn with_methods(target: Arc<dyn Invoker>, methods: &[String]) -> Self {
        let f = Forward::new(target);
        f.learn(&Description {
            methods: methods.to_vec(),
            ..Description::default()
        });
        f
    }

    /// Whether the methods are known.
    pub fn knows_methods(&self) -> bool {
        self.known.get().is_some()
    }

    fn learn(&self, d: &Description) {
        let oneway = &d.oneway;
        let methods = leak(&d.methods)
            .into_iter()
            .map(|name| MethodInfo {
                name,
                // Parameters are the target's business: arguments pass as they came.
                params: tether_core::ANY_ARGS,
                oneway: oneway.iter().any(|o| o == name),
            })
            .collect();
        let attrs = leak(&d.attrs)
            .into_iter()
            .map(|name| AttrInfo {
                name,
                writable: true,
            })
            .collect();
        let _ = self.known.set(Known { methods, attrs });
    }

    /// Asks the target what it exposes (at most `timeout`); `Ok(false)` when its wire cannot
    /// tell.
    pub async fn discover(&self, timeout: Duration) -> Result<bool, RemoteError> {
        if self.knows_methods() {
            return Ok(true);
        }
        let d = tokio::time::timeout(timeout, self.target.describe())
            .await
            .map_err(|_| RemoteError::timeout("the target did not say its methods in time"))??;
        match d {
            Some(d) => {
                self.learn(&d);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The target.
    pub fn target(&self) -> &Arc<dyn Invoker> {
        &self.target
    }
}

/// An error of the target as the caller's wire can carry it. Pyro's Python clients rebuild
/// only Python's own exception classes: an exception of another language (a Java
/// `java.lang.IllegalArgumentException` behind a Hessian target) reaches them as a
/// `builtins.Exception` whose message starts with the original class.
pub fn for_caller(e: RemoteError, caller: Option<&str>) -> RemoteError {
    let pyro = caller.is_some_and(|c| c.starts_with("pyro"));
    match e.class() {
        Some(class) if pyro && !python_class(class) => {
            let msg = format!("{class}: {}", e.message());
            RemoteError::exception("builtins.Exception", msg)
        }
        _ => e,
    }
}

fn python_class(class: &str) -> bool {
    [
        "builtins.",
        "exceptions.",
        "Pyro5.errors.",
        "Pyro4.errors.",
        "Pyro.errors.",
    ]
    .iter()
    .any(|p| class.starts_with(p))
        || !class.contains('.')
}

impl Dispatch for Forward {
    fn methods(&self) -> &[MethodInfo] {
        self.known.get().map(|k| &k.methods[..]).unwrap_or(&[])
    }

    fn attrs(&self) -> &[AttrInfo] {
        self.known.get().map(|k| &k.attrs[..]).unwrap_or(&[])
    }

    fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(async move {
            let caller = call.context.protocol;
            let r = self.target.invoke(self.outgoing(call)).await;
            self.after(r.is_ok()).await;
            r.map_err(|e| for_caller(e, caller))
        })
    }

    /// A streamed answer of the target (a Pyro remote iterator) is served on as a stream, to
    /// callers whose wire can iterate it.
    fn dispatch_reply(&self, call: Call) -> BoxFuture<'_, Result<Reply, RemoteError>> {
        Box::pin(async move {
            let caller = call.context.protocol;
            let r = self.target.invoke_reply(self.outgoing(call)).await;
            self.after(r.is_ok()).await;
            r.map_err(|e| for_caller(e, caller))
        })
    }
}

impl Forward {
    /// The call as it goes to the target: method, arguments, oneway (the caller's flag or the
    /// target's metadata), the caller's deadline, trace and baggage; who called and how stays
    /// here.
    fn outgoing(&self, call: Call) -> Call {
        let oneway = call.oneway || self.method(&call.method).is_some_and(|m| m.oneway);
        let mut context = tether_core::CallContext::new();
        context.deadline = call.context.deadline;
        context.trace = call.context.trace.clone();
        context.baggage = call.context.baggage.clone();
        Call::with_args(call.method, call.args, call.kwargs)
            .context(context)
            .set_oneway(oneway)
    }

    /// After a call that reached the target: learn its methods if they are not known yet.
    async fn after(&self, reached: bool) {
        if reached && !self.knows_methods() {
            let _ = self.discover(Duration::from_secs(2)).await;
        }
    }
}

/// A forwarder for `target` made from synchronous code on a tokio runtime (an exporter's
/// lifecycle hook): with `methods` when given, else asking the target what it exposes (at most
/// 3 s). A target that cannot be asked now is not an error: its methods are learnt after the
/// first call that reaches it, and a WARN says so. From async code, [`forwarder_async`].
pub fn forwarder(target: Arc<dyn Invoker>, methods: Option<&[String]>) -> Arc<Forward> {
    if let Some(m) = methods {
        return Arc::new(Forward::with_methods(target, m));
    }
    let f = Arc::new(Forward::new(target));
    let asked = f.clone();
    let r =
        crate::bind_on_current_runtime(async move { asked.discover(Duration::from_secs(3)).await });
    report_discovery(r);
    f
}

/// [`forwarder`] from async code: the target is asked on this task (nothing waits on a
/// thread), so it works on every runtime flavour.
pub async fn forwarder_async(target: Arc<dyn Invoker>, methods: Option<&[String]>) -> Arc<Forward> {
    if let Some(m) = methods {
        return Arc::new(Forward::with_methods(target, m));
    }
    let f = Arc::new(Forward::new(target));
    report_discovery(
        f.discover(Duration::from_secs(3))
            .await
            .map_err(|e| e.to_string()),
    );
    f
}

/// Logs what asking a target for its methods gave.
fn report_discovery<E: std::fmt::Display>(asked: Result<bool, E>) {
    match asked {
        Ok(true) => {}
        Ok(false) => {
            tracing::info!(target: "tether::gateway", "the target's wire cannot list its methods: every method name is forwarded (set `methods` for Pyro clients)")
        }
        Err(e) => {
            tracing::warn!(target: "tether::gateway", "cannot ask the target for its methods now ({e}); they are learnt after the first call that reaches it")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_exceptions_reach_pyro_callers_as_python_ones() {
        let java = || RemoteError::exception("java.lang.IllegalArgumentException", "bad");
        let e = for_caller(java(), Some("pyro5"));
        assert_eq!(e.class(), Some("builtins.Exception"));
        assert_eq!(e.message(), "java.lang.IllegalArgumentException: bad");
        let e = for_caller(java(), Some("xmlrpc"));
        assert_eq!(e.class(), Some("java.lang.IllegalArgumentException"));
        let py = RemoteError::exception("builtins.ValueError", "x");
        assert_eq!(
            for_caller(py, Some("pyro4")).class(),
            Some("builtins.ValueError")
        );
    }
}
