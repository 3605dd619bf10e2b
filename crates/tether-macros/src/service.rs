//! `#[service]`: on a trait, generates everything a service needs; on an `impl Trait for Type`
//! block, applies the matching rewrite and submits the facet.
//!
//! For `trait X` the output is (all framework paths through `<root>::__private`):
//! - `trait X: Send + Sync` with `#[async_trait]` applied (boxed `Send` futures, so `dyn X` works);
//! - `XProxy`: implements `X` by sending `Call`s through an `Arc<dyn Invoker>`;
//! - `XDispatcher<S: ?Sized>(pub Arc<S>)`: `Dispatch` for every `S: X`, binding positional and
//!   keyword arguments by parameter name;
//! - `impl Remotable for dyn X` (with the static method and attribute tables) and
//!   `impl<S: X> UpcastFrom<S> for dyn X`;
//! - `trait XBlocking` with synchronous methods, implemented for `Blocking<dyn X>`.

use crate::args::{self, ServiceArgs};
use crate::method::{Kind, Method};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, ImplItem, Item, ItemImpl, ItemTrait, LitStr, Path, TraitItem, Type};

pub fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let ServiceArgs { root } = args::parse(attr)?;
    match syn::parse2::<Item>(item)? {
        Item::Trait(t) => expand_trait(&root, t),
        Item::Impl(i) => expand_impl(&root, i),
        other => Err(syn::Error::new(
            other.span(),
            "`#[tether::service]` goes on a trait (to define a service) or on an `impl YourTrait for YourType` block",
        )),
    }
}

fn strip_tether_attrs(attrs: &mut Vec<Attribute>) {
    attrs.retain(|a| !a.path().is_ident("tether"));
}

fn doc_attrs(attrs: &[Attribute]) -> Vec<&Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("doc")).collect()
}

fn expand_impl(root: &Path, mut imp: ItemImpl) -> syn::Result<TokenStream> {
    let Some((bang, trait_path, _)) = &imp.trait_ else {
        return Err(syn::Error::new(
            imp.self_ty.span(),
            "`#[tether::service]` on an impl block needs a trait: `impl YourService for YourType`",
        ));
    };
    if let Some(b) = bang {
        return Err(syn::Error::new(
            b.span(),
            "negative impls cannot be services",
        ));
    }
    let trait_path = trait_path.clone();
    for item in &mut imp.items {
        if let ImplItem::Fn(f) = item {
            strip_tether_attrs(&mut f.attrs);
        }
    }
    let p = quote!(#root::__private);
    // Generic impls (or impls over types with lifetimes) have no single type to register;
    // they use explicit registration instead.
    let submit = if imp.generics.params.is_empty() {
        let self_ty = &imp.self_ty;
        quote! {
            #p::inventory::submit! {
                #p::tether_core::FacetEntry::of::<#self_ty, dyn #trait_path>()
            }
        }
    } else {
        quote!()
    };
    Ok(quote! {
        #[#p::async_trait::async_trait]
        #imp
        #submit
    })
}

fn expand_trait(root: &Path, mut tr: ItemTrait) -> syn::Result<TokenStream> {
    if !tr.generics.params.is_empty() || tr.generics.where_clause.is_some() {
        return Err(syn::Error::new(
            tr.generics.span(),
            "service traits cannot be generic: `dyn YourService` must name one concrete trait",
        ));
    }
    if let Some(a) = &tr.auto_token {
        return Err(syn::Error::new(a.span(), "auto traits cannot be services"));
    }
    let mut methods = Vec::new();
    let mut errors: Option<syn::Error> = None;
    for item in std::mem::take(&mut tr.items) {
        let r = match item {
            TraitItem::Fn(f) => Method::parse(f).map(|m| {
                methods.push(m);
            }),
            other => Err(syn::Error::new(
                other.span(),
                "service traits may contain only `async fn` methods",
            )),
        };
        if let Err(e) = r {
            match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            }
        }
    }
    if let Some(e) = errors {
        return Err(e);
    }
    check_names(&methods)?;
    tr.items = methods
        .iter()
        .map(|m| TraitItem::Fn(m.item.clone()))
        .collect();

    let p = quote!(#root::__private);
    let c = quote!(#p::tether_core);
    let g = quote!(#c::__private::glue);
    let ident = &tr.ident;
    let vis = &tr.vis;
    let name = ident.to_string();
    let proxy = format_ident!("{}Proxy", ident);
    let dispatcher = format_ident!("{}Dispatcher", ident);
    let blocking = format_ident!("{}Blocking", ident);

    // The trait: Send + Sync supertraits, async-trait's shape.
    if tr.colon_token.is_none() {
        tr.colon_token = Some(Default::default());
    }
    tr.supertraits.push(syn::parse_quote!(::core::marker::Send));
    tr.supertraits.push(syn::parse_quote!(::core::marker::Sync));

    let proxy_methods = methods.iter().map(|m| proxy_method(&c, &g, m));

    let sg = quote!(#c::__private::stream_glue);
    let arms = methods
        .iter()
        .filter(|m| matches!(m.kind, Kind::Method { .. }))
        .map(|m| dispatch_arm(&g, &sg, m, false));
    // Methods returning `ValueStream` also get an arm in `dispatch_reply`, which streams;
    // plain `dispatch` collects their items.
    let stream_arms: Vec<TokenStream> = methods
        .iter()
        .filter(|m| m.streams)
        .map(|m| dispatch_arm(&g, &sg, m, true))
        .collect();
    let stream_names: Vec<&String> = methods
        .iter()
        .filter(|m| m.streams)
        .map(|m| &m.wire)
        .collect();
    let dispatch_reply = if stream_arms.is_empty() {
        quote!()
    } else {
        quote! {
            fn dispatch_reply(
                &self,
                call: #c::Call,
            ) -> #c::BoxFuture<'_, ::core::result::Result<#c::Reply, #c::RemoteError>> {
                if ![#(#stream_names),*].contains(&call.method.as_str()) {
                    return #c::value_reply(#c::Dispatch::dispatch(self, call));
                }
                let #c::Call { method: __tether_method, args: __tether_args, kwargs: __tether_kwargs, context: __tether_context, .. } = call;
                ::std::boxed::Box::pin(__tether_context.scope(async move {
                    match __tether_method.as_str() {
                        #(#stream_arms)*
                        __tether_other => ::core::result::Result::Err(#g::no_method(__tether_other)),
                    }
                }))
            }
        }
    };
    let getattr_arms = methods.iter().filter_map(|m| match &m.kind {
        Kind::Getter(attr) => {
            let mi = &m.ident;
            Some(quote!(#attr => #g::reply(self.0.#mi().await),))
        }
        _ => None,
    });
    let setattr_arms = methods.iter().filter_map(|m| match &m.kind {
        Kind::Setter(attr) => {
            let mi = &m.ident;
            let ty = m.params[0].owned_type();
            let pass = if m.params[0].referent().is_some() {
                quote!(&__tether_v)
            } else {
                quote!(__tether_v)
            };
            Some(quote! {
                #attr => {
                    let __tether_v: #ty = #g::arg(#c::SETATTR, #attr, __tether_value)?;
                    #g::reply(self.0.#mi(#pass).await)
                }
            })
        }
        _ => None,
    });
    let read_only: Vec<&String> = methods
        .iter()
        .filter_map(|m| match &m.kind {
            Kind::Getter(a) if !has_setter(&methods, a) => Some(a),
            _ => None,
        })
        .collect();
    let read_only_arm = if read_only.is_empty() {
        quote!()
    } else {
        quote!(#(#read_only)|* => ::core::result::Result::Err(#g::read_only_attr(__tether_name.as_str())),)
    };

    let getattr_arms: Vec<TokenStream> = getattr_arms.collect();
    let setattr_arms: Vec<TokenStream> = setattr_arms.collect();
    let getattr_body = if getattr_arms.is_empty() {
        quote!(::core::result::Result::Err(#g::no_attr(__tether_name.as_str())))
    } else {
        quote! {
            match __tether_name.as_str() {
                #(#getattr_arms)*
                _ => ::core::result::Result::Err(#g::no_attr(__tether_name.as_str())),
            }
        }
    };
    let setattr_body = if getattr_arms.is_empty() {
        quote! {
            let (__tether_name, _) = #g::setattr_args(__tether_args, __tether_kwargs)?;
            ::core::result::Result::Err(#g::no_attr(__tether_name.as_str()))
        }
    } else if setattr_arms.is_empty() {
        quote! {
            let (__tether_name, _) = #g::setattr_args(__tether_args, __tether_kwargs)?;
            match __tether_name.as_str() {
                #read_only_arm
                _ => ::core::result::Result::Err(#g::no_attr(__tether_name.as_str())),
            }
        }
    } else {
        quote! {
            let (__tether_name, __tether_value) = #g::setattr_args(__tether_args, __tether_kwargs)?;
            match __tether_name.as_str() {
                #(#setattr_arms)*
                #read_only_arm
                _ => ::core::result::Result::Err(#g::no_attr(__tether_name.as_str())),
            }
        }
    };

    let method_infos = methods.iter().filter_map(|m| match m.kind {
        Kind::Method { oneway } => {
            let wire = &m.wire;
            let params = m.params.iter().map(|p| p.wire_name());
            Some(quote! {
                #c::MethodInfo { name: #wire, params: &[#(#params),*], oneway: #oneway }
            })
        }
        _ => None,
    });
    let n_methods = methods
        .iter()
        .filter(|m| matches!(m.kind, Kind::Method { .. }))
        .count();
    let attr_infos = methods.iter().filter_map(|m| match &m.kind {
        Kind::Getter(a) => {
            let writable = has_setter(&methods, a);
            Some(quote!(#c::AttrInfo { name: #a, writable: #writable }))
        }
        _ => None,
    });
    let n_attrs = methods
        .iter()
        .filter(|m| matches!(m.kind, Kind::Getter(_)))
        .count();

    let blocking_decls = methods.iter().map(|m| {
        let sig = blocking_sig(m);
        let docs = doc_attrs(&m.item.attrs);
        if docs.is_empty() {
            let doc = format!("Blocking version of `{}::{}`.", name, m.ident);
            quote!(#[doc = #doc] #sig;)
        } else {
            quote!(#(#docs)* #sig;)
        }
    });
    let blocking_impls = methods.iter().map(|m| {
        let sig = blocking_sig(m);
        let mi = &m.ident;
        let args = m.params.iter().map(|p| &p.ident);
        // Spanned at the return type: that is where a missing `From<RemoteError>` belongs.
        let body = quote_spanned! {m.ret.span()=>
            self.block_on(self.inner().#mi(#(#args),*))
        };
        quote!(#sig { #body })
    });

    let proxy_doc = format!(
        "Client side of [`{name}`]: implements it by sending each call through an [`Invoker`]({root}::Invoker) (generated by `#[tether::service]`).",
        root = quote!(#root).to_string().replace(' ', "")
    );
    let dispatcher_doc = format!(
        "Server side of [`{name}`]: routes `Call`s to an implementation, binding positional and keyword arguments by parameter name (generated by `#[tether::service]`)."
    );
    let blocking_doc = format!(
        "Synchronous methods of [`{name}`] for the blocking facade, implemented for `Blocking<dyn {name}>` (generated by `#[tether::service]`)."
    );

    Ok(quote! {
        #[#p::async_trait::async_trait]
        #tr

        #[doc = #proxy_doc]
        #[derive(Clone)]
        #vis struct #proxy {
            invoker: ::std::sync::Arc<dyn #c::Invoker>,
        }

        impl #proxy {
            /// A proxy that sends every call through `invoker`.
            #vis fn new(invoker: ::std::sync::Arc<dyn #c::Invoker>) -> Self {
                #proxy { invoker }
            }

            /// The invoker this proxy sends calls through.
            #vis fn invoker(&self) -> &::std::sync::Arc<dyn #c::Invoker> {
                &self.invoker
            }
        }

        impl ::core::fmt::Debug for #proxy {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(::core::concat!(::core::stringify!(#proxy), " { .. }"))
            }
        }

        #[#p::async_trait::async_trait]
        impl #ident for #proxy {
            #(#proxy_methods)*
        }

        #[doc = #dispatcher_doc]
        #vis struct #dispatcher<S: ?::core::marker::Sized>(pub ::std::sync::Arc<S>);

        impl<S: #ident + ?::core::marker::Sized + 'static> #c::Dispatch for #dispatcher<S> {
            fn methods(&self) -> &[#c::MethodInfo] {
                <dyn #ident as #c::Remotable>::methods()
            }

            fn attrs(&self) -> &[#c::AttrInfo] {
                <dyn #ident as #c::Remotable>::attrs()
            }

            fn dispatch(
                &self,
                call: #c::Call,
            ) -> #c::BoxFuture<'_, ::core::result::Result<#c::Value, #c::RemoteError>> {
                let #c::Call { method: __tether_method, args: __tether_args, kwargs: __tether_kwargs, context: __tether_context, .. } = call;
                ::std::boxed::Box::pin(__tether_context.scope(async move {
                    match __tether_method.as_str() {
                        #(#arms)*
                        #c::GETATTR => {
                            let __tether_name = #g::getattr_args(__tether_args, __tether_kwargs)?;
                            #getattr_body
                        }
                        #c::SETATTR => {
                            #setattr_body
                        }
                        __tether_other => ::core::result::Result::Err(#g::no_method(__tether_other)),
                    }
                }))
            }

            #dispatch_reply
        }

        impl #c::Remotable for dyn #ident {
            const NAME: &'static str = #name;

            fn methods() -> &'static [#c::MethodInfo] {
                static METHODS: [#c::MethodInfo; #n_methods] = [#(#method_infos),*];
                &METHODS
            }

            fn attrs() -> &'static [#c::AttrInfo] {
                static ATTRS: [#c::AttrInfo; #n_attrs] = [#(#attr_infos),*];
                &ATTRS
            }

            fn proxy(invoker: ::std::sync::Arc<dyn #c::Invoker>) -> ::std::sync::Arc<Self> {
                ::std::sync::Arc::new(#proxy::new(invoker))
            }

            fn dispatcher(target: ::std::sync::Arc<Self>) -> ::std::sync::Arc<dyn #c::Dispatch> {
                ::std::sync::Arc::new(#dispatcher(target))
            }
        }

        impl<S: #ident + 'static> #c::UpcastFrom<S> for dyn #ident {
            fn upcast(s: ::std::sync::Arc<S>) -> ::std::sync::Arc<Self> {
                s
            }
        }

        #[doc = #blocking_doc]
        #vis trait #blocking {
            #(#blocking_decls)*
        }

        impl #blocking for #c::Blocking<dyn #ident> {
            #(#blocking_impls)*
        }
    })
}

fn has_setter(methods: &[Method], attr: &str) -> bool {
    methods
        .iter()
        .any(|m| matches!(&m.kind, Kind::Setter(a) if a == attr))
}

/// Wire names must be unique; every setter needs a getter.
fn check_names(methods: &[Method]) -> syn::Result<()> {
    let mut seen: Vec<&str> = Vec::new();
    let mut getters: Vec<&str> = Vec::new();
    for m in methods {
        match &m.kind {
            Kind::Method { .. } => {
                if seen.contains(&m.wire.as_str()) {
                    return Err(syn::Error::new(
                        m.ident.span(),
                        format!("two methods have the wire name `{}`", m.wire),
                    ));
                }
                seen.push(&m.wire);
            }
            Kind::Getter(a) => {
                if getters.contains(&a.as_str()) {
                    return Err(syn::Error::new(
                        m.ident.span(),
                        format!("attribute `{a}` has two getters"),
                    ));
                }
                getters.push(a);
            }
            Kind::Setter(_) => {}
        }
    }
    let mut setters: Vec<&str> = Vec::new();
    for m in methods {
        if let Kind::Setter(a) = &m.kind {
            if !getters.contains(&a.as_str()) {
                return Err(syn::Error::new(
                    m.ident.span(),
                    format!(
                        "setter of attribute `{a}` has no `#[tether(getter = \"{a}\")]` method"
                    ),
                ));
            }
            if setters.contains(&a.as_str()) {
                return Err(syn::Error::new(
                    m.ident.span(),
                    format!("attribute `{a}` has two setters"),
                ));
            }
            setters.push(a);
        }
    }
    Ok(())
}

/// `fn name(&self, params...) -> Ret` (no `async`): the blocking trait's signature.
fn blocking_sig(m: &Method) -> TokenStream {
    let mi = &m.ident;
    let ret = &m.ret;
    let params = m.params.iter().map(|p| {
        let id = &p.ident;
        let ty = &p.ty;
        quote!(#id: #ty)
    });
    quote!(fn #mi(&self, #(#params),*) -> #ret)
}

/// One method of the proxy's `impl X for XProxy`.
fn proxy_method(c: &TokenStream, g: &TokenStream, m: &Method) -> TokenStream {
    let mi = &m.ident;
    let ret = &m.ret;
    let ok = &m.ok;
    let params = m.params.iter().map(|p| {
        let id = &p.ident;
        let ty = &p.ty;
        quote!(#id: #ty)
    });
    let values: Vec<TokenStream> = m
        .params
        .iter()
        .map(|par| {
            let id = &par.ident;
            match par.referent() {
                Some(elem) => quote!(#c::to_value::<#elem>(#id)),
                None => quote!(#c::to_value(&#id)),
            }
        })
        .collect();
    let call = match &m.kind {
        Kind::Method { oneway } => {
            let wire = &m.wire;
            quote!(#g::call(#wire, [#(#values),*], #oneway))
        }
        Kind::Getter(attr) => quote!(::core::result::Result::Ok(#c::Call::get_attr(#attr))),
        Kind::Setter(attr) => {
            let v = &values[0];
            quote!(#v.map(|__tether_v| #c::Call::set_attr(#attr, __tether_v)))
        }
    };
    // The conversion of the framework error into the user's error type is reported at the
    // user's return type if `E: From<RemoteError>` is missing.
    let invoke = if m.streams {
        quote_spanned! {ret.span()=>
            #c::__private::stream_glue::invoke_stream::<_>(&self.invoker, __tether_call).await
        }
    } else {
        quote_spanned! {ret.span()=>
            #g::invoke::<#ok, _>(&self.invoker, __tether_call).await
        }
    };
    quote! {
        async fn #mi(&self, #(#params),*) -> #ret {
            let __tether_call = #call;
            #invoke
        }
    }
}

/// One match arm of the dispatcher.
/// With `streaming` (the `dispatch_reply` arm of a `ValueStream` method) the reply is the
/// stream; otherwise a value (a `ValueStream` method's items collected into a list).
fn dispatch_arm(g: &TokenStream, sg: &TokenStream, m: &Method, streaming: bool) -> TokenStream {
    let mi = &m.ident;
    let wire = LitStr::new(&m.wire, m.ident.span());
    let names: Vec<String> = m.params.iter().map(|p| p.wire_name()).collect();
    let n = m.params.len();
    let slots: Vec<_> = (0..n).map(|i| format_ident!("__tether_a{}", i)).collect();
    let converts = m
        .params
        .iter()
        .zip(&slots)
        .zip(&names)
        .map(|((par, slot), pname)| {
            let id = &par.ident;
            let ty: Type = par.owned_type();
            quote!(let #id: #ty = #g::arg(#wire, #pname, #slot)?;)
        });
    let pass = m.params.iter().map(|par| {
        let id = &par.ident;
        if par.referent().is_some() {
            quote!(&#id)
        } else {
            quote!(#id)
        }
    });
    let optional: Vec<bool> = m.params.iter().map(|p| p.is_option()).collect();
    let bind = if n == 0 {
        quote!(#g::bind_none(#wire, __tether_args, __tether_kwargs)?;)
    } else if optional.contains(&true) {
        quote! {
            let [#(#slots),*] = #g::bind_defaults::<#n>(#wire, &[#(#names),*], &[#(#optional),*], __tether_args, __tether_kwargs)?;
        }
    } else {
        quote! {
            let [#(#slots),*] = #g::bind::<#n>(#wire, &[#(#names),*], __tether_args, __tether_kwargs)?;
        }
    };
    // Spanned at the return type: a missing `Into<RemoteError>` for the error type belongs there.
    let reply = if streaming {
        quote_spanned! {m.ret.span()=>
            #sg::reply_stream(self.0.#mi(#(#pass),*).await)
        }
    } else if m.streams {
        quote_spanned! {m.ret.span()=>
            #sg::reply_collected(self.0.#mi(#(#pass),*).await).await
        }
    } else {
        quote_spanned! {m.ret.span()=>
            #g::reply(self.0.#mi(#(#pass),*).await)
        }
    };
    quote! {
        #wire => {
            #bind
            #(#converts)*
            #reply
        }
    }
}
