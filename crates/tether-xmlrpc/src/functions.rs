//! [`Functions`]: plain functions as a service, what Spring Python's `SSLServer` subclasses do
//! in `register_functions` (`self.register_function(pow)`).

use std::sync::Arc;
use tether_core::{bind_args, BoxFuture, Call, Dispatch, MethodInfo, RemoteError, Value};

type Function = Arc<dyn Fn(Vec<Value>) -> Result<Value, RemoteError> + Send + Sync>;

/// A set of named functions, served like an object's methods.
#[derive(Default, Clone)]
pub struct Functions {
    methods: Vec<MethodInfo>,
    functions: Vec<Function>,
}

impl std::fmt::Debug for Functions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.methods.iter().map(|m| m.name))
            .finish()
    }
}

impl Functions {
    /// No functions yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `name(params...)`; the function gets one value per parameter (Python's argument
    /// rules apply: a wrong count is a `TypeError` worded as CPython words it).
    pub fn add(
        mut self,
        name: &'static str,
        params: &'static [&'static str],
        f: impl Fn(Vec<Value>) -> Result<Value, RemoteError> + Send + Sync + 'static,
    ) -> Self {
        self.methods.push(MethodInfo {
            name,
            params,
            oneway: false,
        });
        self.functions.push(Arc::new(f));
        self
    }
}

impl Dispatch for Functions {
    fn methods(&self) -> &[MethodInfo] {
        &self.methods
    }

    fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(async move {
            let i = self
                .methods
                .iter()
                .position(|m| m.name == call.method)
                .ok_or_else(|| {
                    RemoteError::attribute_error(format!("no function {}", call.method))
                })?;
            let m = &self.methods[i];
            let args = bind_args(m.name, m.params, call.args, call.kwargs)?;
            (self.functions[i])(args)
        })
    }
}
