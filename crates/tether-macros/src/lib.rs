//! Procedural macros of tether; use them through the `tether` facade (`#[tether::service]`,
//! `#[tether::component]`), whose docs show the whole picture.
//!
//! All generated code names the framework through `::tether::__private::…`, so a user crate
//! needs only `tether` in its `Cargo.toml` (neither `async-trait` nor `inventory`). Inside the
//! framework's own crates, or when `tether` is renamed, pass the root explicitly:
//! `#[tether::service(crate = "my_tether")]`.
//!
//! Layout: `args.rs` parses the attribute arguments, `method.rs` checks one trait method and
//! reads its `#[tether(...)]` options, `service.rs` generates the trait, proxy, dispatcher,
//! glue and blocking trait (and handles `impl` blocks), `component.rs` the class registration.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod args;
mod component;
mod method;
mod service;

use proc_macro::TokenStream;

/// Makes a trait a tether service, or registers an implementation of one.
///
/// On a trait `X` it rewrites the trait into a dyn-compatible shape (boxed `Send` futures, as
/// `async-trait` does, with `Send + Sync` supertraits) and generates `XProxy` (the client
/// side), `XDispatcher<S>` (the server side), `impl Remotable for dyn X`,
/// `impl<S: X> UpcastFrom<S> for dyn X` and the blocking trait `XBlocking` implemented for
/// `Blocking<dyn X>`. Every method must be `async fn name(&self, plain_name: Type, ...)`
/// returning `Result<T, E>` with `E: From<RemoteError> + Into<RemoteError>`.
///
/// Arguments bind positionally or by keyword (the parameter name); `Option<T>` parameters may be
/// omitted. `&str` / `&[T]` / `&T` parameters are received owned and lent to the implementation.
///
/// A method returning `Result<ValueStream, E>` streams its result (a remote iterator): the
/// dispatcher's `dispatch_reply` answers `Reply::Stream`, its `dispatch` collects the items into
/// a list, and the proxy method returns the stream of `Invoker::invoke_stream`.
///
/// Method options: `#[tether(name = "getData")]` (wire name), `#[tether(oneway)]` (no reply;
/// must return `Result<(), E>`), `#[tether(getter = "attr")]` / `#[tether(setter = "attr")]`
/// (an exposed attribute read and written through `__getattr__` / `__setattr__`).
///
/// On `impl X for S` it applies the same rewrite (so the impl matches the trait) and, when the
/// impl is not generic, submits the facet "`S` provides `dyn X`" to the inventory registry.
#[proc_macro_attribute]
pub fn service(attr: TokenStream, item: TokenStream) -> TokenStream {
    service::expand(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Registers a type under a class name for XML contexts: `#[tether::component("server.Service")]`.
///
/// The type must implement `Default` (instances are built with `Default::default()`) and be
/// `Send + Sync + 'static`. Which traits it serves is declared by `#[tether::service] impl`.
#[proc_macro_attribute]
pub fn component(attr: TokenStream, item: TokenStream) -> TokenStream {
    component::expand(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
