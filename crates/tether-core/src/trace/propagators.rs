//! Which formats a call's trace context and baggage travel in: OpenTelemetry's
//! `OTEL_PROPAGATORS`, one setting for the process that every wire reads as it writes a call
//! out or reads one in.
//!
//! The setting is a single atomic word (read on every call by every worker, so no lock and no
//! shared counter), holding up to four propagators in the order they were listed (the order
//! matters when a request carries the same trace in two formats: the last one listed wins, as
//! in OpenTelemetry's composite propagator) and, apart, which are present, so the question
//! every call asks (is baggage on? is any trace format on?) is one bit test.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

/// One format a call's context travels in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Propagator {
    /// W3C trace context: `traceparent` and `tracestate` (on Pyro: tether's own annotations).
    TraceContext,
    /// W3C baggage: the `baggage` header (on Pyro: the `BAGG` annotation).
    Baggage,
    /// Zipkin's single `b3` header (HTTP wires).
    B3,
    /// Zipkin's `X-B3-TraceId`, `X-B3-SpanId` and `X-B3-Sampled` headers (HTTP wires).
    B3Multi,
}

impl Propagator {
    const ALL: [Propagator; 4] = [
        Propagator::TraceContext,
        Propagator::Baggage,
        Propagator::B3,
        Propagator::B3Multi,
    ];

    /// The name `OTEL_PROPAGATORS` gives it.
    pub fn name(self) -> &'static str {
        match self {
            Propagator::TraceContext => "tracecontext",
            Propagator::Baggage => "baggage",
            Propagator::B3 => "b3",
            Propagator::B3Multi => "b3multi",
        }
    }

    const fn code(self) -> u32 {
        match self {
            Propagator::TraceContext => 1,
            Propagator::Baggage => 2,
            Propagator::B3 => 3,
            Propagator::B3Multi => 4,
        }
    }

    fn from_code(c: u32) -> Option<Propagator> {
        Propagator::ALL.into_iter().find(|p| p.code() == c)
    }

    /// Whether it carries the trace (rather than baggage).
    pub fn carries_trace(self) -> bool {
        self != Propagator::Baggage
    }
}

/// An ordered set of [`Propagator`]s, each at most once. The default is OpenTelemetry's:
/// `tracecontext,baggage`.
///
/// Bits 0–15 hold the codes in order, four bits each (0 ends the list); bits 16–19 say which
/// codes are present (bit 16 + code − 1).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Propagators(u32);

/// The presence bit of `p`.
const fn bit(p: Propagator) -> u32 {
    1 << (15 + p.code())
}

/// The presence bits of the formats that carry the trace.
const TRACE_BITS: u32 =
    bit(Propagator::TraceContext) | bit(Propagator::B3) | bit(Propagator::B3Multi);

impl Default for Propagators {
    fn default() -> Self {
        Propagators::of(&[Propagator::TraceContext, Propagator::Baggage])
    }
}

impl Propagators {
    /// No propagator: nothing is written, and what a request carries is not read.
    pub const NONE: Propagators = Propagators(0);

    /// `list` in its order, duplicates dropped.
    pub fn of(list: &[Propagator]) -> Propagators {
        let mut bits = 0u32;
        let mut n = 0;
        for p in list {
            if !Propagators(bits).contains(*p) {
                bits |= p.code() << (4 * n) | bit(*p);
                n += 1;
            }
        }
        Propagators(bits)
    }

    /// Reads `OTEL_PROPAGATORS`' syntax: names separated by commas (`tracecontext`,
    /// `baggage`, `b3`, `b3multi`), or `none`. Spaces around names are ignored, duplicates
    /// count once. Any other name is an error that names it: tether does not guess at a
    /// format it cannot write (`jaeger`, `xray` and `ottrace` are not built).
    pub fn parse(text: &str) -> Result<Propagators, String> {
        let names: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        let mut list = Vec::new();
        for name in &names {
            let lower = name.to_ascii_lowercase();
            if lower == "none" {
                if names.len() > 1 {
                    return Err(format!(
                        "OTEL_PROPAGATORS={text:?}: none cannot be combined with other propagators"
                    ));
                }
                return Ok(Propagators::NONE);
            }
            match Propagator::ALL.into_iter().find(|p| p.name() == lower) {
                Some(p) => list.push(p),
                None => {
                    return Err(format!(
                        "OTEL_PROPAGATORS: {name:?} is not supported (tracecontext, baggage, b3, b3multi or none)"
                    ))
                }
            }
        }
        Ok(Propagators::of(&list))
    }

    /// The propagators, in their order.
    pub fn iter(self) -> impl Iterator<Item = Propagator> {
        (0..4).map_while(move |i| Propagator::from_code((self.0 >> (4 * i)) & 15))
    }

    /// Whether `p` is one of them.
    pub fn contains(self, p: Propagator) -> bool {
        self.0 & bit(p) != 0
    }

    /// Whether any of them carries the trace (`tracecontext`, `b3`, `b3multi`).
    pub fn carries_trace(self) -> bool {
        self.0 & TRACE_BITS != 0
    }

    /// Whether baggage travels.
    pub fn carries_baggage(self) -> bool {
        self.contains(Propagator::Baggage)
    }

    /// The same set as the Pyro wires read it: the trace in tether's own annotations (W3C's
    /// form) whenever any trace propagator is on, B3 having no place there; baggage as set.
    pub fn for_annotations(self) -> Propagators {
        let mut list = [Propagator::TraceContext; 2];
        let mut n = 0;
        if self.carries_trace() {
            n += 1;
        }
        if self.carries_baggage() {
            list[n] = Propagator::Baggage;
            n += 1;
        }
        Propagators::of(&list[..n])
    }

    /// Whether there is none.
    pub fn is_none(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Propagators {
    /// `OTEL_PROPAGATORS`' form: `tracecontext,baggage`, or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_none() {
            return f.write_str("none");
        }
        for (i, p) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(p.name())?;
        }
        Ok(())
    }
}

impl fmt::Debug for Propagators {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Propagators({self})")
    }
}

/// The process's setting: `tracecontext,baggage` (codes 1 then 2, both present).
static CURRENT: AtomicU32 =
    AtomicU32::new(0x21 | bit(Propagator::TraceContext) | bit(Propagator::Baggage));

/// The propagators every wire of this process uses from now on (`tether::observe::init`
/// sets them from `OTEL_PROPAGATORS`).
pub fn set_propagators(p: Propagators) {
    CURRENT.store(p.0, Ordering::Relaxed);
}

/// The propagators this process's wires use. Default `tracecontext,baggage`.
pub fn propagators() -> Propagators {
    Propagators(CURRENT.load(Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_otel_names_in_order_once_each() {
        assert_eq!(Propagators::default().to_string(), "tracecontext,baggage");
        assert_eq!(propagators(), Propagators::default());
        let p = Propagators::parse(" b3multi, tracecontext ,b3multi,B3 ").expect("valid");
        assert_eq!(p.to_string(), "b3multi,tracecontext,b3");
        assert!(p.carries_trace() && !p.carries_baggage());
        assert_eq!(Propagators::parse("none"), Ok(Propagators::NONE));
        assert_eq!(Propagators::parse(""), Ok(Propagators::NONE));
        assert!(Propagators::parse("baggage").is_ok_and(|p| !p.carries_trace()));
        let b3 = Propagators::parse("b3multi,baggage").expect("valid");
        assert_eq!(b3.for_annotations(), Propagators::default());
        assert_eq!(Propagators::NONE.for_annotations(), Propagators::NONE);
        let all = "tracecontext,baggage,b3,b3multi";
        assert_eq!(
            Propagators::parse(all).map(|p| p.to_string()),
            Ok(all.into())
        );
        for bad in ["jaeger", "tracecontext,xray", "none,b3", "trace context"] {
            let e = Propagators::parse(bad).expect_err(bad);
            assert!(e.contains("OTEL_PROPAGATORS"), "{e}");
        }
    }
}
