//! [`ProtocolSet`]: the protocols of a registry, found by name or by URL, each handed out
//! wrapped for the installed observers.

use crate::error::{TransportError, TransportErrorKind};
use crate::options::ClientOptions;
use crate::protocol::Protocol;
use std::fmt;
use std::sync::Arc;
use tether_core::Invoker;

/// The protocols of a registry, in registration order (a later one wins a URL both claim), and
/// which of them is the default (for `tether echo-server` without `--protocol`).
#[derive(Clone, Default)]
pub struct ProtocolSet(Arc<Vec<Arc<dyn Protocol>>>, Option<&'static str>);

impl fmt::Debug for ProtocolSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|p| p.name()))
            .finish()
    }
}

impl ProtocolSet {
    /// Adds `p` (replacing a protocol of the same name), wrapped in
    /// [`Observed`](crate::observe::Observed); returns the wrapped protocol, the one to hand out.
    pub fn push(&mut self, p: Arc<dyn Protocol>) -> Arc<dyn Protocol> {
        let p = crate::observe::Observed::wrap(p);
        let v = Arc::make_mut(&mut self.0);
        v.retain(|q| q.name() != p.name());
        v.push(p.clone());
        p
    }

    /// Makes the protocol called `name` the default (see [`default_protocol`](Self::default_protocol)).
    pub fn set_default(&mut self, name: &'static str) {
        self.1 = Some(name);
    }

    /// The default protocol: the one [`set_default`](Self::set_default) named, else the first
    /// registered.
    pub fn default_protocol(&self) -> Option<&Arc<dyn Protocol>> {
        self.1
            .and_then(|n| self.by_name(n))
            .or_else(|| self.0.first())
    }

    /// Every protocol, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Protocol>> {
        self.0.iter()
    }

    /// The protocol called `name`.
    pub fn by_name(&self, name: &str) -> Option<&Arc<dyn Protocol>> {
        self.0.iter().rev().find(|p| p.name() == name)
    }

    /// The protocol that claims `url` (the latest registered, when several do).
    pub fn for_url(&self, url: &str) -> Result<&Arc<dyn Protocol>, TransportError> {
        self.0.iter().rev().find(|p| p.claims(url)).ok_or_else(|| {
            // Each form once (several wires share `http://` or `PYRO:`), in registration order.
            let mut known: Vec<&str> = Vec::new();
            for prefix in self.0.iter().flat_map(|p| p.url_prefixes().iter().copied()) {
                if !known.contains(&prefix) {
                    known.push(prefix);
                }
            }
            TransportError::new(
                TransportErrorKind::BadUrl,
                format!(
                    "no protocol claims the URL {url:?} (known forms: {})",
                    if known.is_empty() {
                        "none: no protocol is registered".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            )
        })
    }

    /// Reads a command-line argument as a Python literal with the first wire that brings a
    /// reader for them ([`Shell::literal`](crate::Shell::literal)).
    pub fn literal(
        &self,
        text: &str,
    ) -> Option<Result<tether_core::Value, tether_core::RemoteError>> {
        self.0.iter().find_map(|p| p.shell().literal(text))
    }

    /// The echo service's `error()` wordings of every wire that has its own
    /// ([`Shell::echo_error_text`](crate::Shell::echo_error_text)), by protocol name, for
    /// `EchoService::with_error_texts`.
    pub fn echo_error_texts(&self) -> Vec<(&'static str, &'static str)> {
        self.0
            .iter()
            .filter_map(|p| p.shell().echo_error_text().map(|t| (p.name(), t)))
            .collect()
    }

    /// Makes a lazy client for `url` with whichever protocol claims it.
    pub fn proxy(
        &self,
        url: &str,
        options: &ClientOptions,
    ) -> Result<Arc<dyn Invoker>, TransportError> {
        self.for_url(url)?.proxy(url, options)
    }
}
