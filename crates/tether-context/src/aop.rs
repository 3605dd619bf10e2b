//! Spring Python's AOP classes by their own names: `springpython.aop.ProxyFactoryObject` (an
//! object that stands for its `target`, every call going through its `interceptors`) and
//! `springpython.aop.RegexpMethodPointcutAdvisor` (its `advice` only for the methods one of its
//! `patterns` matches). An interceptor is any object whose class gives
//! [`Component::interceptor`]; `interceptors` and `advice` take one reference or a `<list>` of
//! them, as Spring Python's own contexts write them.
//!
//! | class | property | meaning | default |
//! |---|---|---|---|
//! | `ProxyFactoryObject` | `target` | a ref to the object calls reach, or a registered class name | required |
//! | | `interceptors` | refs to interceptors or advisors, outermost first | none |
//! | `RegexpMethodPointcutAdvisor` | `advice` | refs to interceptors | required |
//! | | `patterns` | regular expressions (Python's `re.match`: anchored at the start) on the method name | required |
//!
//! `ctx.get::<dyn T>(id)` on a `ProxyFactoryObject` gives a `T` whose calls run the chain and
//! then the target, in process. A `target` may also be a class name (`<value>pkg.Class
//! </value>`, as two of Spring Python's own test contexts write it): the container makes a new
//! object of that registered class for it.

use crate::component::Component;
use crate::error::ContextError;
use crate::remoting::props::interceptors_prop;
use crate::value::ContextValue;
use std::sync::Arc;
use tether_core::{BoxFuture, Call, Invoker, LocalInvoker, RemoteError, Value};
use tether_remoting::{Intercepted, Interceptor, Next};

/// The class names.
pub const PROXY_FACTORY_OBJECT: &str = "springpython.aop.ProxyFactoryObject";
/// The advisor's class name.
pub const REGEXP_ADVISOR: &str = "springpython.aop.RegexpMethodPointcutAdvisor";

/// `springpython.aop.ProxyFactoryObject`.
#[derive(Default)]
pub struct ProxyFactoryObject {
    target: Option<crate::object::ObjectRef>,
    interceptors: Vec<Arc<dyn Interceptor>>,
    invoker: Option<Arc<dyn Invoker>>,
}

impl Component for ProxyFactoryObject {
    fn class_name_properties(&self) -> &'static [&'static str] {
        &["target"]
    }

    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), ContextError> {
        match name {
            "target" => match value {
                ContextValue::Object(o) => self.target = Some(o),
                other => {
                    return Err(format!(
                        "property 'target' expects a ref to an object or the name of a registered class, got {}",
                        other.describe()
                    )
                    .into())
                }
            },
            "interceptors" => self.interceptors = interceptors_prop(name, &value)?,
            other => {
                return Err(
                    format!("has no property '{other}' (expected target, interceptors)").into(),
                )
            }
        }
        Ok(())
    }

    fn properties_set(&mut self) -> Result<(), ContextError> {
        let target = self.target.as_ref().ok_or("target must be set")?;
        let local: Arc<dyn Invoker> = Arc::new(LocalInvoker::new(target.dispatcher()?));
        self.invoker = Some(Intercepted::wrap(&self.interceptors, local));
        Ok(())
    }

    fn invoker(&self) -> Option<Arc<dyn Invoker>> {
        self.invoker.clone()
    }
}

/// `springpython.aop.RegexpMethodPointcutAdvisor`.
#[derive(Default)]
pub struct RegexpMethodPointcutAdvisor {
    advice: Vec<Arc<dyn Interceptor>>,
    patterns: Vec<regex::Regex>,
    advisor: Option<Arc<Advisor>>,
}

/// The advice, for the methods the patterns match.
struct Advisor {
    advice: Vec<Arc<dyn Interceptor>>,
    patterns: Vec<regex::Regex>,
}

impl Interceptor for Advisor {
    fn invoke<'a>(
        &'a self,
        call: Call,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Value, RemoteError>> {
        Box::pin(async move { next.around(&self.advice).proceed(call).await })
    }

    fn applies_to(&self, method: &str) -> bool {
        self.patterns.iter().any(|p| p.is_match(method))
    }
}

impl Component for RegexpMethodPointcutAdvisor {
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), ContextError> {
        match name {
            "advice" => self.advice = interceptors_prop(name, &value)?,
            "patterns" => {
                let items: Vec<&ContextValue> = match value.as_seq() {
                    Some(items) => items.iter().collect(),
                    None => vec![&value],
                };
                self.patterns = items
                    .into_iter()
                    .map(|i| {
                        let p = i.to_string_value()?;
                        // Python's re.match: anchored at the start only.
                        regex::Regex::new(&format!("^(?:{p})")).map_err(|e| {
                            ContextError::from(format!("property 'patterns': {p:?}: {e}"))
                        })
                    })
                    .collect::<Result<_, _>>()?;
            }
            other => {
                return Err(format!("has no property '{other}' (expected advice, patterns)").into())
            }
        }
        Ok(())
    }

    fn properties_set(&mut self) -> Result<(), ContextError> {
        if self.advice.is_empty() {
            return Err("advice must be set".into());
        }
        if self.patterns.is_empty() {
            return Err("patterns must be set".into());
        }
        self.advisor = Some(Arc::new(Advisor {
            advice: self.advice.clone(),
            patterns: self.patterns.clone(),
        }));
        Ok(())
    }

    fn interceptor(&self) -> Option<Arc<dyn Interceptor>> {
        self.advisor.clone().map(|a| a as Arc<dyn Interceptor>)
    }
}
