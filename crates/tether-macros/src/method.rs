//! One trait method: checks that it has the shape the generated code needs (and says clearly
//! why when it does not), and reads its `#[tether(...)]` options.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{
    Attribute, FnArg, GenericArgument, Ident, LitStr, Pat, PathArguments, ReturnType, TraitItemFn,
    Type,
};

/// What the method is on the wire.
#[derive(Clone, PartialEq, Eq)]
pub enum Kind {
    /// A plain method (`oneway` or not).
    Method { oneway: bool },
    /// Reads attribute `name` through `__getattr__`.
    Getter(String),
    /// Writes attribute `name` through `__setattr__`.
    Setter(String),
}

/// One parameter after `&self`.
pub struct Param {
    /// Its name (the keyword-argument name on the wire).
    pub ident: Ident,
    /// Its declared type.
    pub ty: Type,
}

impl Param {
    /// The wire name (without `r#`).
    pub fn wire_name(&self) -> String {
        self.ident.unraw().to_string()
    }

    /// The referent if the parameter is a reference (`&str` → `str`).
    pub fn referent(&self) -> Option<&Type> {
        match &self.ty {
            Type::Reference(r) => Some(&r.elem),
            _ => None,
        }
    }

    /// Whether the parameter is an `Option<T>`, which a caller may omit (it then reads as
    /// `None`, like a Python parameter defaulting to `None`).
    pub fn is_option(&self) -> bool {
        match &self.ty {
            Type::Path(p) if p.qself.is_none() => {
                p.path.segments.last().is_some_and(|s| s.ident == "Option")
            }
            _ => false,
        }
    }

    /// The owned type the dispatcher deserializes before lending it (`&str` → `String`,
    /// `&[T]` → `Vec<T>`, `&T` → `T`).
    pub fn owned_type(&self) -> Type {
        match self.referent() {
            None => self.ty.clone(),
            Some(Type::Path(p)) if p.qself.is_none() && p.path.is_ident("str") => {
                syn::parse_quote!(::std::string::String)
            }
            Some(Type::Slice(s)) => {
                let elem = &s.elem;
                syn::parse_quote!(::std::vec::Vec<#elem>)
            }
            Some(other) => other.clone(),
        }
    }
}

/// A checked service method.
pub struct Method {
    /// The trait item with the `#[tether]` attributes removed.
    pub item: TraitItemFn,
    /// The Rust name.
    pub ident: Ident,
    /// The name on the wire.
    pub wire: String,
    /// Method, getter or setter.
    pub kind: Kind,
    /// Parameters after `&self`.
    pub params: Vec<Param>,
    /// The whole return type `Result<T, E>`.
    pub ret: Type,
    /// `T` of the return type.
    pub ok: Type,
    /// Whether `T` is `ValueStream`: the method streams its result (a plain method only).
    pub streams: bool,
}

/// Whether `ty` names `ValueStream` (`tether::ValueStream`, `ValueStream`, any path ending so).
fn is_value_stream(ty: &Type) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "ValueStream" && s.arguments.is_none()),
        _ => false,
    }
}

/// Options from `#[tether(...)]`.
#[derive(Default)]
struct Options {
    name: Option<LitStr>,
    oneway: Option<Span>,
    getter: Option<LitStr>,
    setter: Option<LitStr>,
}

fn parse_options(attrs: &mut Vec<Attribute>) -> syn::Result<Options> {
    let mut opts = Options::default();
    let mut err: Option<syn::Error> = None;
    attrs.retain(|attr| {
        if !attr.path().is_ident("tether") {
            return true;
        }
        let r = attr.parse_nested_meta(|meta| {
            let dup = |what: &str| meta.error(format!("`{what}` given twice"));
            if meta.path.is_ident("name") {
                if opts.name.is_some() {
                    return Err(dup("name"));
                }
                opts.name = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("oneway") {
                if opts.oneway.is_some() {
                    return Err(dup("oneway"));
                }
                opts.oneway = Some(meta.path.span());
            } else if meta.path.is_ident("getter") {
                if opts.getter.is_some() {
                    return Err(dup("getter"));
                }
                opts.getter = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("setter") {
                if opts.setter.is_some() {
                    return Err(dup("setter"));
                }
                opts.setter = Some(meta.value()?.parse()?);
            } else {
                return Err(meta.error(
                    "unknown tether option; expected `name = \"...\"`, `oneway`, `getter = \"...\"` or `setter = \"...\"`",
                ));
            }
            Ok(())
        });
        if let Err(e) = r {
            match &mut err {
                Some(all) => all.combine(e),
                None => err = Some(e),
            }
        }
        false
    });
    match err {
        Some(e) => Err(e),
        None => Ok(opts),
    }
}

/// `T` if `ty` is `Result<T, ...>` (any path ending in `Result`, so aliases such as
/// `io::Result<T>` or `tether::Result<T>` work too).
fn result_ok_type(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(t) if t.elems.is_empty())
}

fn check_wire_name(lit: &LitStr) -> syn::Result<String> {
    let s = lit.value();
    if s.is_empty() || s.starts_with("__") {
        return Err(syn::Error::new(
            lit.span(),
            "wire names must be non-empty and must not start with `__` (reserved for Pyro's own calls)",
        ));
    }
    Ok(s)
}

impl Method {
    /// Checks one trait method.
    pub fn parse(mut item: TraitItemFn) -> syn::Result<Method> {
        let opts = parse_options(&mut item.attrs)?;
        let sig = &item.sig;
        if sig.asyncness.is_none() {
            return Err(syn::Error::new(
                sig.fn_token.span,
                format!(
                    "tether service methods must be `async fn`: write `async fn {}(&self, ...)` (the same method runs locally or across the wire)",
                    sig.ident
                ),
            ));
        }
        if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
            return Err(syn::Error::new(
                sig.generics.span(),
                "tether service methods cannot be generic: the dispatcher must know the concrete type of every parameter and result",
            ));
        }
        if let Some(v) = &sig.variadic {
            return Err(syn::Error::new(
                v.span(),
                "variadic service methods are not supported",
            ));
        }
        let mut inputs = sig.inputs.iter();
        match inputs.next() {
            Some(FnArg::Receiver(r))
                if r.reference.is_some() && r.mutability.is_none() && r.colon_token.is_none() => {}
            Some(FnArg::Receiver(r)) => {
                return Err(syn::Error::new(
                    r.span(),
                    "tether service methods take `&self`: the service is shared (`Arc<dyn Trait>`), so it cannot be taken by value or by `&mut`",
                ));
            }
            _ => {
                return Err(syn::Error::new(
                    sig.ident.span(),
                    format!(
                        "tether service methods take `&self` first: write `async fn {}(&self, ...)`",
                        sig.ident
                    ),
                ));
            }
        }
        let mut params = Vec::new();
        for arg in inputs {
            let FnArg::Typed(pt) = arg else {
                return Err(syn::Error::new(arg.span(), "unexpected receiver"));
            };
            let ident = match &*pt.pat {
                Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => pi.ident.clone(),
                other => {
                    return Err(syn::Error::new(
                        other.span(),
                        "parameters of tether service methods must be plain names (no patterns): the name is the keyword-argument name on the wire",
                    ));
                }
            };
            match &*pt.ty {
                Type::Reference(r) if r.mutability.is_some() => {
                    return Err(syn::Error::new(
                        pt.ty.span(),
                        "`&mut` parameters cannot cross the wire; take the value (or `&T`) instead",
                    ));
                }
                Type::ImplTrait(_) => {
                    return Err(syn::Error::new(
                        pt.ty.span(),
                        "`impl Trait` parameters make the method generic; tether service methods need concrete types",
                    ));
                }
                _ => {}
            }
            params.push(Param {
                ident,
                ty: (*pt.ty).clone(),
            });
        }
        let (ret, ok) = match &sig.output {
            ReturnType::Type(_, ty) => match result_ok_type(ty) {
                Some(ok) => ((**ty).clone(), ok.clone()),
                None => {
                    return Err(syn::Error::new(
                        ty.span(),
                        "tether service methods must return `Result<T, E>` with `E: From<tether::RemoteError>`: a remote call can always fail",
                    ));
                }
            },
            ReturnType::Default => {
                return Err(syn::Error::new(
                    sig.paren_token.span.join(),
                    "tether service methods must return `Result<T, E>` with `E: From<tether::RemoteError>`: a remote call can always fail (use `Result<(), E>` for no result)",
                ));
            }
        };

        let ident = sig.ident.clone();
        let mut wire = ident.unraw().to_string();
        if let Some(name) = &opts.name {
            wire = check_wire_name(name)?;
        }
        let kind = match (&opts.getter, &opts.setter, opts.oneway) {
            (Some(g), None, None) => {
                if let Some(extra) = params.first() {
                    return Err(syn::Error::new(
                        extra.ident.span(),
                        "a `#[tether(getter)]` method takes only `&self`",
                    ));
                }
                Kind::Getter(check_wire_name(g)?)
            }
            (None, Some(s), None) => {
                if params.len() != 1 {
                    let at = params.get(1).map_or(sig.ident.span(), |p| p.ident.span());
                    return Err(syn::Error::new(
                        at,
                        "a `#[tether(setter)]` method takes `&self` and exactly one value",
                    ));
                }
                if !is_unit(&ok) {
                    return Err(syn::Error::new(
                        ok.span(),
                        "a `#[tether(setter)]` method must return `Result<(), E>`",
                    ));
                }
                Kind::Setter(check_wire_name(s)?)
            }
            (None, None, oneway) => {
                if oneway.is_some() && !is_unit(&ok) {
                    return Err(syn::Error::new(
                        ok.span(),
                        "a `#[tether(oneway)]` method must return `Result<(), E>`: the caller gets no reply, so there is no result to return",
                    ));
                }
                Kind::Method {
                    oneway: oneway.is_some(),
                }
            }
            _ => {
                return Err(syn::Error::new(
                    sig.ident.span(),
                    "`getter`, `setter` and `oneway` exclude each other",
                ));
            }
        };
        if opts.name.is_some() && !matches!(kind, Kind::Method { .. }) {
            return Err(syn::Error::new(
                sig.ident.span(),
                "`name` does not apply to getters and setters: their wire name is the attribute name",
            ));
        }
        let streams = is_value_stream(&ok);
        if streams && !matches!(kind, Kind::Method { oneway: false }) {
            return Err(syn::Error::new(
                ok.span(),
                "only plain (not oneway) methods can return a `ValueStream`",
            ));
        }
        Ok(Method {
            item,
            ident,
            wire,
            kind,
            params,
            ret,
            ok,
            streams,
        })
    }
}
