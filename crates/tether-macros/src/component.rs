//! `#[component("class.Name")]`: registers a type under the class name XML contexts use.

use crate::args::{self, ComponentArgs};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Generics, Ident, Item};

pub fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let ComponentArgs { name, root } = args::parse(attr)?;
    let parsed: Item = syn::parse2(item.clone())?;
    let (ident, generics): (&Ident, &Generics) = match &parsed {
        Item::Struct(s) => (&s.ident, &s.generics),
        Item::Enum(e) => (&e.ident, &e.generics),
        other => {
            return Err(syn::Error::new(
                other.span(),
                "`#[tether::component]` goes on a struct or an enum",
            ))
        }
    };
    if !generics.params.is_empty() {
        return Err(syn::Error::new(
            generics.span(),
            "`#[tether::component]` types cannot be generic: a class name must stand for one type (register generic types explicitly)",
        ));
    }
    let p = quote!(#root::__private);
    // Spanned at the type's name so a missing `Default` is reported there.
    let entry = quote_spanned! {ident.span()=>
        #p::tether_core::__private::glue::class_entry::<#ident>(#name)
    };
    Ok(quote! {
        #item
        #p::inventory::submit! { #entry }
    })
}
