//! [`Interceptor`]: code between a caller and the wire, on both sides (Spring Python's
//! `MethodInterceptor`): around each call a proxy, a pool or a proxy factory sends
//! ([`Intercepted`]), and around each call an exporter dispatches ([`InterceptedDispatch`]).
//!
//! A chain is a list; each interceptor gets the call and a [`Next`], and decides whether and how
//! to [`proceed`](Next::proceed) (with the call as it is or changed), and what to make of the
//! answer. An interceptor that does not [`apply`](Interceptor::applies_to) to a method is
//! skipped for it (an advisor's pointcut). On an exporter, a method no interceptor applies to
//! keeps its streamed results (remote iterators); one an interceptor applies to answers with
//! one value (what the target's `dispatch` gives, e.g. the collected list).

use std::sync::Arc;
use tether_core::{
    AttrInfo, BoxFuture, Call, Dispatch, Invoker, MethodInfo, RemoteError, Reply, Value,
};

/// Code around a call.
pub trait Interceptor: Send + Sync + 'static {
    /// Handles `call`; `next.proceed(call)` runs the rest of the chain and the call itself.
    fn invoke<'a>(
        &'a self,
        call: Call,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Value, RemoteError>>;

    /// Whether this interceptor handles `method` at all. Default: every method.
    fn applies_to(&self, method: &str) -> bool {
        let _ = method;
        true
    }

    /// This interceptor as it stands in front of objects of class `class` (the name the
    /// context declared, without its module: `SampleService`), for one whose choice depends on
    /// the target's class, as Spring Python's regexp advisor matches `Class.method`; called
    /// once, when the chain is built. Default `None`: the same interceptor whatever the class.
    fn for_target(&self, class: &str) -> Option<Arc<dyn Interceptor>> {
        let _ = class;
        None
    }
}

/// What the end of a chain calls.
#[derive(Clone, Copy)]
enum End<'a> {
    Invoker(&'a dyn Invoker),
    Dispatch(&'a dyn Dispatch),
    /// A function (an observed server's end that keeps a stream aside).
    Run(&'a dyn RunEnd),
    /// Another chain's rest (an advisor's advice runs inside its place in the outer chain).
    Then(&'a Next<'a>),
}

/// The rest of a chain, handed to each interceptor.
#[derive(Clone, Copy)]
pub struct Next<'a> {
    chain: &'a [Arc<dyn Interceptor>],
    end: End<'a>,
}

impl<'a> Next<'a> {
    /// Runs the rest of the chain, then the call itself.
    pub fn proceed(self, call: Call) -> BoxFuture<'a, Result<Value, RemoteError>> {
        let mut chain = self.chain;
        while let Some((first, rest)) = chain.split_first() {
            if first.applies_to(&call.method) {
                return first.invoke(
                    call,
                    Next {
                        chain: rest,
                        end: self.end,
                    },
                );
            }
            chain = rest;
        }
        match self.end {
            End::Invoker(i) => i.invoke(call),
            End::Dispatch(d) => d.dispatch(call),
            End::Then(next) => next.proceed(call),
            End::Run(f) => f.run(call),
        }
    }

    /// A chain that runs `chain` and then goes on with this one (an advisor runs its advice
    /// this way).
    pub fn around<'b>(&'b self, chain: &'b [Arc<dyn Interceptor>]) -> Next<'b> {
        Next {
            chain,
            end: End::Then(self),
        }
    }
}

/// What an [`End::Run`] calls.
pub(crate) trait RunEnd: Sync {
    fn run(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>>;
}

/// Runs `call` through `chain`, then `end`.
pub(crate) fn run_with<'a>(
    chain: &'a [Arc<dyn Interceptor>],
    end: &'a dyn RunEnd,
    call: Call,
) -> BoxFuture<'a, Result<Value, RemoteError>> {
    Next {
        chain,
        end: End::Run(end),
    }
    .proceed(call)
}

/// A chain of interceptors (cheap to clone).
pub type Chain = Arc<[Arc<dyn Interceptor>]>;

/// A client whose calls go through a chain first: what proxy factories and pools hand out
/// when they have interceptors.
pub struct Intercepted {
    chain: Chain,
    target: Arc<dyn Invoker>,
}

impl Intercepted {
    /// `target` behind `chain`.
    pub fn new(chain: Chain, target: Arc<dyn Invoker>) -> Self {
        Intercepted { chain, target }
    }

    /// `target` behind `chain`, or `target` itself when the chain is empty.
    pub fn wrap(chain: &[Arc<dyn Interceptor>], target: Arc<dyn Invoker>) -> Arc<dyn Invoker> {
        if chain.is_empty() {
            target
        } else {
            Arc::new(Intercepted::new(chain.into(), target))
        }
    }
}

impl Invoker for Intercepted {
    fn invoke(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Next {
            chain: &self.chain,
            end: End::Invoker(&*self.target),
        }
        .proceed(call)
    }

    fn describe(&self) -> BoxFuture<'_, Result<Option<tether_core::Description>, RemoteError>> {
        self.target.describe()
    }

    /// A method no interceptor applies to keeps its streamed reply; one an interceptor applies
    /// to answers with one value.
    fn invoke_reply(&self, call: Call) -> BoxFuture<'_, Result<Reply, RemoteError>> {
        if self.chain.iter().any(|i| i.applies_to(&call.method)) {
            Box::pin(async move { self.invoke(call).await.map(Reply::Value) })
        } else {
            self.target.invoke_reply(call)
        }
    }
}

/// A dispatcher whose calls go through a chain first: what an exporter serves when it has
/// interceptors. Its methods and attributes are the target's.
pub struct InterceptedDispatch {
    chain: Chain,
    target: Arc<dyn Dispatch>,
}

impl InterceptedDispatch {
    /// `target` behind `chain`, or `target` itself when the chain is empty.
    pub fn wrap(chain: &[Arc<dyn Interceptor>], target: Arc<dyn Dispatch>) -> Arc<dyn Dispatch> {
        if chain.is_empty() {
            target
        } else {
            Arc::new(InterceptedDispatch {
                chain: chain.into(),
                target,
            })
        }
    }
}

impl Dispatch for InterceptedDispatch {
    fn methods(&self) -> &[MethodInfo] {
        self.target.methods()
    }

    fn attrs(&self) -> &[AttrInfo] {
        self.target.attrs()
    }

    fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Next {
            chain: &self.chain,
            end: End::Dispatch(&*self.target),
        }
        .proceed(call)
    }

    fn dispatch_reply(&self, call: Call) -> BoxFuture<'_, Result<Reply, RemoteError>> {
        if self.chain.iter().any(|i| i.applies_to(&call.method)) {
            Box::pin(async move { self.dispatch(call).await.map(Reply::Value) })
        } else {
            self.target.dispatch_reply(call)
        }
    }
}
