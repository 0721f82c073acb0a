//! `Rootable![...]`: a type-level function from the brand lifetime to the root type.
//!
//! `for<'gc> Rootable<'gc, Root = T<'gc>>` is a higher-ranked bound, which only a trait object
//! can carry as a type, so the macro names `dyn for<'gc> Rootable<'gc, Root = ...>`, wrapped in
//! `__DynRootable` to make it sized.

use proc_macro2::{Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};
use quote::quote;
use syn::parse::{ParseStream, Parser};
use syn::{Lifetime, Token, Type};

pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let (brand, root) = parse.parse2(input)?;
    Ok(quote! {
        ::gc_core::__DynRootable<dyn for<#brand> ::gc_core::Rootable<#brand, Root = #root>>
    })
}

/// `'gc => Type`, or `Type` with `'_` standing for the brand.
fn parse(input: ParseStream<'_>) -> syn::Result<(Lifetime, Type)> {
    // No type starts with a lifetime (a bare `'a + Trait` object is not allowed), so a
    // leading lifetime is the brand.
    if input.peek(Lifetime) {
        let brand = input.parse()?;
        if !input.peek(Token![=>]) {
            return Err(input.error("expected `=>` after the brand: `Rootable!['gc => Vm<'gc>]`"));
        }
        input.parse::<Token![=>]>()?;
        return Ok((brand, parse_type(input)?));
    }
    // The brand is named by the macro; `call_site` makes it resolve like the `'_`s it replaces.
    let brand =
        Lifetime { apostrophe: Span::call_site(), ident: Ident::new(BRAND, Span::call_site()) };
    let tokens = replace_elided(input.parse()?);
    Ok((brand, parse_type.parse2(tokens)?))
}

/// The name of the brand when the input elides it.
const BRAND: &str = "__gc";

fn parse_type(input: ParseStream<'_>) -> syn::Result<Type> {
    if input.is_empty() {
        return Err(input
            .error("expected the root type: `Rootable![Vm<'_>]` or `Rootable!['gc => Vm<'gc>]`"));
    }
    let ty = input.parse()?;
    if !input.is_empty() {
        return Err(input.error("unexpected tokens after the root type"));
    }
    Ok(ty)
}

/// Replaces every `'_` in `tokens` with the brand, inside groups too: a type passed through a
/// `macro_rules` `$t:ty` arrives wrapped in an invisible (`None`-delimited) group.
fn replace_elided(tokens: TokenStream) -> TokenStream {
    let mut out = Vec::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            // A lifetime is two tokens: a joint `'` and an identifier.
            TokenTree::Punct(apostrophe)
                if apostrophe.as_char() == '\'' && apostrophe.spacing() == Spacing::Joint =>
            {
                match tokens.peek() {
                    Some(TokenTree::Ident(ident)) if ident == "_" => {
                        let at = |span: Span| Span::call_site().located_at(span);
                        let mut brand_apostrophe = Punct::new('\'', Spacing::Joint);
                        brand_apostrophe.set_span(at(apostrophe.span()));
                        out.push(TokenTree::Punct(brand_apostrophe));
                        out.push(TokenTree::Ident(Ident::new(BRAND, at(ident.span()))));
                        tokens.next();
                    }
                    _ => out.push(TokenTree::Punct(apostrophe)),
                }
            }
            TokenTree::Group(group) => {
                let mut replaced = Group::new(group.delimiter(), replace_elided(group.stream()));
                replaced.set_span(group.span());
                out.push(TokenTree::Group(replaced));
            }
            token => out.push(token),
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::Delimiter;

    /// The expansion without spaces, or the error.
    fn expand_str(input: TokenStream) -> String {
        expand(input)
            .map_or_else(|err| format!("error: {err}"), |out| out.to_string().replace(' ', ""))
    }

    #[test]
    fn names_the_brand() {
        assert_eq!(
            expand_str(quote!('gc => Vm<'gc>)),
            "::gc_core::__DynRootable<dynfor<'gc>::gc_core::Rootable<'gc,Root=Vm<'gc>>>"
        );
        assert_eq!(
            expand_str(quote!(u32)),
            "::gc_core::__DynRootable<dynfor<'__gc>::gc_core::Rootable<'__gc,Root=u32>>"
        );
    }

    #[test]
    fn replaces_elided_lifetimes_everywhere() {
        // What `macro_rules` makes of `$t:ty`: an invisible group.
        let invisible = Group::new(Delimiter::None, quote!(Gc<'_, (Vm<'_>, [&'_ str; 2])>));
        let out = expand_str(quote!(#invisible));
        assert_eq!(
            out,
            "::gc_core::__DynRootable<dynfor<'__gc>::gc_core::Rootable<'__gc,\
             Root=Gc<'__gc,(Vm<'__gc>,[&'__gcstr;2])>>>"
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert!(expand_str(quote!()).starts_with("error: "));
        assert!(expand_str(quote!(u32 u32)).starts_with("error: unexpected tokens"));
        assert!(expand_str(quote!('gc Vm<'gc>)).starts_with("error: expected `=>`"));
        assert!(expand_str(quote!('gc =>)).starts_with("error: "));
    }
}
