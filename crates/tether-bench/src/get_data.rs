//! The one-string service of the Hessian and Pyro 3 rows: a method that answers its string
//! argument behind a fixed prefix, as the peers' own services do (Caucho's `getData` and the
//! seed's `get_data`).

use tether_core::{bind_args, BoxFuture, Call, Dispatch, MethodInfo, RemoteError, Value};

/// `method(s)` → `prefix + s`.
pub struct GetData {
    /// The method (name and parameter).
    pub method: &'static MethodInfo,
    /// What the answer starts with.
    pub prefix: &'static str,
}

impl Dispatch for GetData {
    fn methods(&self) -> &[MethodInfo] {
        std::slice::from_ref(self.method)
    }

    fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(async move {
            let m = self.method;
            let mut a = bind_args(m.name, m.params, call.args, call.kwargs)?;
            match a.pop() {
                Some(Value::Str(s)) => {
                    // Concatenated as the peers' `prefix + s` (Python, Java) does: one
                    // allocation of the right size (format! would grow its buffer).
                    let mut text = String::with_capacity(self.prefix.len() + s.len());
                    text.push_str(self.prefix);
                    text.push_str(&s);
                    Ok(Value::Str(text))
                }
                other => Err(RemoteError::type_error(format!(
                    "{} takes a string, not {other:?}",
                    m.name
                ))),
            }
        })
    }
}
