//! The classes every registry knows.
//!
//! | class name | what |
//! |---|---|
//! | `tether.ProxyFactory` | a [`ProxyFactory`] that speaks whichever registered protocol claims its `service_url` |
//! | `tether.echo.EchoService` | the echo service of `tether echo-server` |
//! | `springpython.aop.ProxyFactoryObject` (and `ProxyFactory`), `springpython.aop.RegexpMethodPointcutAdvisor` | Spring Python's AOP (see [`crate::aop`]) |
//! | `builtins.str`/`int`/`float`/`bool`/`complex`, `decimal.Decimal` | the typed shorthands (`<int id="p">7000</int>`) |
//!
//! Shorthand values: `int`/`long` → `Value::Int` (a big one → `Value::BigInt`), `float` →
//! `Value::Float`, `str`/`unicode` → `Value::Str`, `bool` → `Value::Bool` (`True`/`true` and
//! `False`/`false`; anything else is an error, where Python made every non-empty text true),
//! `decimal` → `Value::Str` of the checked decimal text (Value has no decimal type), `complex` →
//! `Value::Object{class:"complex", fields real, imag}`.
//!
//! Wires, directories and the pool class (`tether.cluster.PoolProxyFactory`) are registered
//! from above, by the `tether` facade ([`crate::Builtins`]).

use crate::component::CtorArgs;
use crate::error::ContextError;
use crate::registry::{ClassRegistry, Pending};
use crate::remoting::{ClassFamily, ProxyFactory, GENERIC_PROXY_CLASS};
use crate::value::ContextValue;
use tether_core::Value;

/// Built-ins handed down by a crate above the container: the `tether` facade submits one
/// that registers every wire, directory and pool class its cargo features compiled in (one
/// line each), so [`ClassRegistry::with_builtins`] knows them without the container naming
/// any wire. Submit with `inventory::submit!(tether_context::Builtins(my_fn))`; entries run in
/// an unspecified order after the container's own built-ins.
pub struct Builtins(pub fn(&mut ClassRegistry));

inventory::collect!(Builtins);

impl Default for ClassRegistry {
    fn default() -> Self {
        Self::from_inventory()
    }
}

impl ClassRegistry {
    /// The built-ins: typed shorthands, the echo service, the generic `tether.ProxyFactory`
    /// (see [`crate::builtins`]), and whatever the [`Builtins`] submitted from above add (with
    /// the `tether` facade: every wire, directory and pool compiled in).
    pub fn with_builtins() -> Self {
        let mut r = Self::empty();
        crate::builtins::register_all(&mut r);
        for b in inventory::iter::<Builtins> {
            (b.0)(&mut r);
        }
        r
    }

    /// The built-ins plus every class and facet submitted through `inventory` by the macros.
    pub fn from_inventory() -> Self {
        let mut r = Self::with_builtins();
        for e in tether_core::submitted_classes() {
            r.register_entry(e);
        }
        for f in tether_core::submitted_facets() {
            r.add_facet(*f);
        }
        r
    }
}

/// The class family of the generic proxy factory (it has no exporter of its own).
const GENERIC: ClassFamily = ClassFamily::plain("", GENERIC_PROXY_CLASS, "tether");

/// Registers every built-in class of the container into `r`. The wires' class names come
/// from above ([`crate::Builtins`], [`ClassRegistry::register_protocol`]).
pub fn register_all(r: &mut ClassRegistry) {
    r.register_with(GENERIC_PROXY_CLASS, |args| {
        let set = args.protocols().clone();
        ProxyFactory::from_args(ProxyFactory::by_url(GENERIC, set), args)
    });
    r.register_factory("builtins.str", |a| {
        shorthand(a, |s| Ok(Value::Str(s.to_string())))
    });
    r.register_factory("builtins.int", |a| shorthand(a, parse_int));
    r.register_factory("builtins.float", |a| {
        shorthand(a, |s| {
            s.trim()
                .parse::<f64>()
                .map(Value::Float)
                .map_err(|_| ContextError::from(format!("{s:?} is not a float")))
        })
    });
    r.register_factory("builtins.bool", |a| {
        shorthand(a, |s| match s.trim() {
            "True" | "true" => Ok(Value::Bool(true)),
            "False" | "false" => Ok(Value::Bool(false)),
            other => Err(format!("{other:?} is not a bool (expected True or False)").into()),
        })
    });
    r.register_factory("decimal.Decimal", |a| {
        shorthand(a, |s| {
            let t = s.trim();
            let digits = t.trim_start_matches(['+', '-']);
            let ok = !digits.is_empty()
                && digits.chars().all(|c| {
                    c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+'
                })
                && digits.chars().filter(|c| *c == '.').count() <= 1
                && digits
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit() || c == '.');
            if ok {
                Ok(Value::Str(t.to_string()))
            } else {
                Err(format!("{s:?} is not a decimal").into())
            }
        })
    });
    r.register_factory("builtins.complex", |a| shorthand(a, parse_complex));
    crate::echo::register(r);
    r.register::<crate::aop::ProxyFactoryObject>(crate::aop::PROXY_FACTORY_OBJECT);
    r.register::<crate::aop::ProxyFactoryObject>(crate::aop::PROXY_FACTORY);
    r.register::<crate::aop::RegexpMethodPointcutAdvisor>(crate::aop::REGEXP_ADVISOR);
}

fn parse_int(s: &str) -> Result<Value, ContextError> {
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Ok(Value::Int(i));
    }
    if t.len() <= 4300 {
        if let Ok(b) = t.parse::<tether_core::BigInt>() {
            return Ok(Value::from_bigint(b));
        }
    }
    Err(format!("{s:?} is not an integer").into())
}

fn parse_complex(s: &str) -> Result<Value, ContextError> {
    let t = s.trim().trim_start_matches('(').trim_end_matches(')');
    let bad = || format!("{s:?} is not a complex number (expected like 1+2j)");
    let (real, imag) = if let Some(body) = t.strip_suffix(['j', 'J']) {
        match body
            .rfind(['+', '-'])
            .filter(|i| *i > 0 && !matches!(body.as_bytes()[i - 1], b'e' | b'E'))
        {
            Some(i) => {
                let im = &body[i..];
                let im = if im == "+" || im == "-" {
                    format!("{im}1")
                } else {
                    im.to_string()
                };
                (
                    body[..i].parse::<f64>().map_err(|_| bad())?,
                    im.parse::<f64>().map_err(|_| bad())?,
                )
            }
            None => (
                0.0,
                if body.is_empty() {
                    1.0
                } else {
                    body.parse::<f64>().map_err(|_| bad())?
                },
            ),
        }
    } else {
        (t.parse::<f64>().map_err(|_| bad())?, 0.0)
    };
    Ok(Value::object(
        "complex",
        vec![
            ("real".into(), Value::Float(real)),
            ("imag".into(), Value::Float(imag)),
        ],
    ))
}

fn shorthand(
    args: CtorArgs,
    parse: impl Fn(&str) -> Result<Value, ContextError>,
) -> Result<Pending, ContextError> {
    let (pos, named) = args.into_parts();
    if !named.is_empty() || pos.len() != 1 {
        return Err(ContextError::from(
            "a typed shorthand takes exactly one text value",
        ));
    }
    let v = match &pos[0] {
        ContextValue::Value(Value::Str(s)) => parse(s)?,
        ContextValue::Value(v) => parse(&match v {
            Value::Bool(true) => "True".to_string(),
            Value::Bool(false) => "False".to_string(),
            other => return Ok(Pending::value(other.clone())),
        })?,
        other => return Err(format!("expected text, got {}", other.describe()).into()),
    };
    Ok(Pending::value(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complex_forms() {
        let f = |s| match parse_complex(s).unwrap() {
            Value::Object(o) => (o.fields[0].1.clone(), o.fields[1].1.clone()),
            _ => unreachable!(),
        };
        assert_eq!(f("1+2j"), (Value::Float(1.0), Value::Float(2.0)));
        assert_eq!(f("(3-4j)"), (Value::Float(3.0), Value::Float(-4.0)));
        assert_eq!(f("5j"), (Value::Float(0.0), Value::Float(5.0)));
        assert_eq!(f("2.5"), (Value::Float(2.5), Value::Float(0.0)));
        assert!(parse_complex("x").is_err());
    }
}
