//! Arguments of the two attributes: the optional `crate = "path"` root, and the component's
//! class name.

use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Path, Token};

/// The path generated code uses for the facade (`::tether` unless overridden).
pub fn default_root() -> Path {
    syn::parse_quote!(::tether)
}

/// Parses `crate = "path"` (the only argument of `#[service]`, the optional second one of
/// `#[component]`).
fn parse_crate(input: ParseStream<'_>) -> syn::Result<Path> {
    input.parse::<Token![crate]>()?;
    input.parse::<Token![=]>()?;
    let lit: LitStr = input.parse()?;
    lit.parse::<Path>()
}

/// `#[service]` / `#[service(crate = "path")]`.
pub struct ServiceArgs {
    pub root: Path,
}

impl Parse for ServiceArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Ok(ServiceArgs {
                root: default_root(),
            });
        }
        if !input.peek(Token![crate]) {
            return Err(input.error(
                "unknown argument: `#[tether::service]` takes no arguments except `crate = \"path\"`",
            ));
        }
        let root = parse_crate(input)?;
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after `crate = \"path\"`"));
        }
        Ok(ServiceArgs { root })
    }
}

/// `#[component("server.Service")]` / `#[component("server.Service", crate = "path")]`.
pub struct ComponentArgs {
    pub name: LitStr,
    pub root: Path,
}

impl Parse for ComponentArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(input.error(
                "`#[tether::component]` needs the class name XML contexts use, e.g. `#[tether::component(\"server.Service\")]`",
            ));
        }
        let name: LitStr = input.parse()?;
        if name.value().is_empty() {
            return Err(syn::Error::new(
                name.span(),
                "the class name must not be empty",
            ));
        }
        let mut root = default_root();
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
            if !input.is_empty() {
                root = parse_crate(input)?;
            }
        }
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the class name"));
        }
        Ok(ComponentArgs { name, root })
    }
}

/// Parses attribute arguments with a `Parse` impl.
pub fn parse<T: Parse>(tokens: TokenStream) -> syn::Result<T> {
    syn::parse2(tokens)
}
