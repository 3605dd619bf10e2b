//! Spring Python's AOP classes by their own names: `springpython.aop.ProxyFactoryObject` (an
//! object that stands for its `target`, every call going through its `interceptors`; also
//! under `springpython.aop.ProxyFactory`, the form whose proxy a Python program asks for with
//! `getProxy()`: `get::<dyn T>` on it gives that proxy at once) and
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
//! | | `patterns` | regular expressions (Python's `re.match`: anchored at the start) on `Class.method` | required |
//!
//! As in Spring Python, a pattern sees the target's class without its module and the method
//! (`RemoteService1.getData`: `.*Data` and `RemoteService1\.get.*` match it, `get.*` does not)
//! when the advisor stands in a `ProxyFactoryObject`; in an `interceptors` list of an exporter,
//! proxy factory or pool (tether's own places, where Spring Python has no advisor) it sees the
//! method name alone. One difference, deliberate: in Spring Python 1.3 an advisor whose patterns
//! do not match calls the target at once, skipping the interceptors after it in the chain (and
//! one that is not first in the chain puts its advice in the wrong place); here it only steps
//! aside, and the rest of the chain runs.
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
/// Spring Python's builder form of [`PROXY_FACTORY_OBJECT`] (same properties); the container
/// hands out the proxy it would build.
pub const PROXY_FACTORY: &str = "springpython.aop.ProxyFactory";
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
        // What Python's `instance.__class__.__name__` gives: the class without its module.
        let class = target.class().rsplit('.').next().unwrap_or_default();
        self.invoker = Some(Intercepted::wrap(&bind(&self.interceptors, class), local));
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
    /// The target's class without its module, once the advisor stands in a
    /// `ProxyFactoryObject`: the patterns then see `Class.method`, as Spring Python's do.
    class: Option<String>,
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
        match &self.class {
            Some(class) => QUALIFIED.with(|q| {
                // `Class.method` in a buffer kept by the thread: no allocation per call.
                let mut q = q.borrow_mut();
                q.clear();
                q.push_str(class);
                q.push('.');
                q.push_str(method);
                self.patterns.iter().any(|p| p.is_match(&q))
            }),
            None => self.patterns.iter().any(|p| p.is_match(method)),
        }
    }

    fn for_target(&self, class: &str) -> Option<Arc<dyn Interceptor>> {
        Some(Arc::new(Advisor {
            // Advisors among the advice stand in front of the same target.
            advice: bind(&self.advice, class),
            patterns: self.patterns.clone(),
            class: Some(class.to_string()),
        }))
    }
}

thread_local! {
    /// Where an advisor writes `Class.method` to match its patterns against.
    static QUALIFIED: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// `chain` as it stands in front of an object of class `class` (see
/// [`Interceptor::for_target`]).
fn bind(chain: &[Arc<dyn Interceptor>], class: &str) -> Vec<Arc<dyn Interceptor>> {
    chain
        .iter()
        .map(|i| i.for_target(class).unwrap_or_else(|| i.clone()))
        .collect()
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
            class: None,
        }));
        Ok(())
    }

    fn interceptor(&self) -> Option<Arc<dyn Interceptor>> {
        self.advisor.clone().map(|a| a as Arc<dyn Interceptor>)
    }
}
