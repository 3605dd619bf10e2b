//! The echo service (`tether_core::echo::EchoService`) under the class name
//! `tether.echo.EchoService`, for checking a setup: `<object id="echo" class="tether.echo.EchoService"/>`
//! plus an exporter gives the same server as `python -m Pyro5.utils.echoserver`.
//! Property: `verbose` (`true`/`false`, default false).

use crate::component::Component;
use crate::error::ContextError;
use crate::registry::ClassRegistry;
use crate::value::ContextValue;
use std::sync::Arc;
use tether_core::echo::EchoService;
use tether_core::Dispatch;

/// The class name of the built-in echo service.
pub const ECHO_CLASS: &str = "tether.echo.EchoService";

/// The echo service as a context object.
#[derive(Default)]
pub struct EchoComponent {
    verbose: bool,
    /// `error()`'s wording per wire, from the registry's protocols.
    error_texts: Vec<(&'static str, &'static str)>,
    service: std::sync::OnceLock<Arc<EchoService>>,
}

impl EchoComponent {
    /// The service (created on first use with the configured `verbose`).
    pub fn service(&self) -> Arc<EchoService> {
        self.service
            .get_or_init(|| {
                Arc::new(EchoService::with_error_texts(
                    self.verbose,
                    self.error_texts.iter().copied(),
                ))
            })
            .clone()
    }
}

impl Component for EchoComponent {
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), ContextError> {
        match name {
            "verbose" => self.verbose = value.to_bool()?,
            other => return Err(format!("has no property '{other}' (expected verbose)").into()),
        }
        Ok(())
    }

    fn dispatcher(&self) -> Option<Arc<dyn Dispatch>> {
        Some(self.service())
    }
}

pub(crate) fn register(r: &mut ClassRegistry) {
    r.register_with(ECHO_CLASS, |args| {
        let mut echo = EchoComponent {
            error_texts: args.protocols().echo_error_texts(),
            ..EchoComponent::default()
        };
        let (pos, named) = args.into_parts();
        if !pos.is_empty() {
            return Err("takes no positional constructor arguments".into());
        }
        for (n, v) in named {
            echo.set_property(&n, v)?;
        }
        Ok(echo)
    });
}
