//! The expansion of `#[derive(Trace)]`.
//!
//! Hygiene: the locals the expansion introduces (`tracer`, the field bindings) are
//! `mixed_site`, so no name in the user's types can capture or be captured by them. The code
//! built from a field's type is *located* at that type, so that a missing `Trace` impl is
//! reported at the field, while still resolving like the rest of the expansion.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, Ident, Index, LitStr, Member, Type};

use crate::attrs::{self, Errors, TypeAttrs};
use crate::bounds;

/// A destructurable shape: the struct itself, or one variant of an enum.
struct Shape<'a> {
    /// `None` for a struct.
    variant: Option<&'a Ident>,
    fields: Vec<Field<'a>>,
}

struct Field<'a> {
    /// The name or index, as written in a pattern.
    member: Member,
    /// The name recorded by `trace_labeled`: the field name without `r#`, or the index.
    label: String,
    ty: &'a Type,
    skip: bool,
    /// The type names the type being derived (`Box<Self>`, `Vec<Expr>`): see `needs_trace`.
    recursive: bool,
}

impl Field<'_> {
    /// Where the code for this field is reported.
    fn span(&self) -> Span {
        Span::mixed_site().located_at(self.ty.span())
    }
}

pub(crate) fn derive_trace(input: &DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let attrs = attrs::type_attrs(&input.attrs, &mut errors);
    let shapes = match &input.data {
        Data::Struct(data) => vec![shape(&input.ident, None, &data.fields, &mut errors)],
        Data::Enum(data) => data
            .variants
            .iter()
            .map(|variant| {
                attrs::variant_attrs(&variant.attrs, &mut errors);
                shape(&input.ident, Some(&variant.ident), &variant.fields, &mut errors)
            })
            .collect(),
        Data::Union(data) => {
            return Err(syn::Error::new(
                data.union_token.span,
                "Trace cannot be derived for unions",
            ))
        }
    };
    if !attrs.require_static {
        if let Some(span) = repr_packed(&input.attrs) {
            errors.push(syn::Error::new(
                span,
                "Trace cannot be derived for `#[repr(packed)]` types: tracing needs a \
                 reference to each field, and packed fields may be misaligned",
            ));
        }
    }
    errors.finish()?;

    let trace_impl = trace_impl(input, &attrs, &shapes);
    // `require_static` types hold no `Gc`, so their `drop` cannot reach one.
    let drop_guard =
        (attrs.unsafe_drop.is_none() && !attrs.require_static).then(|| drop_guard(input));
    Ok(quote! {
        const _: () = {
            #trace_impl
            #drop_guard
        };
    })
}

fn shape<'a>(
    name: &Ident,
    variant: Option<&'a Ident>,
    fields: &'a Fields,
    errors: &mut Errors,
) -> Shape<'a> {
    let fields = fields
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let (member, label) = match &field.ident {
                Some(ident) => (Member::Named(ident.clone()), ident.unraw().to_string()),
                None => (Member::Unnamed(Index::from(i)), i.to_string()),
            };
            Field {
                member,
                label,
                ty: &field.ty,
                skip: attrs::field_attrs(&field.attrs, errors).skip,
                recursive: mentions(field.ty.to_token_stream(), name),
            }
        })
        .collect();
    Shape { variant, fields }
}

/// Whether `tokens` name the type `name` (or `Self`).
fn mentions(tokens: TokenStream, name: &Ident) -> bool {
    tokens.into_iter().any(|token| match token {
        TokenTree::Ident(ident) => ident == *name || ident == "Self",
        TokenTree::Group(group) => mentions(group.stream(), name),
        TokenTree::Punct(_) | TokenTree::Literal(_) => false,
    })
}

/// The span of a `packed` in a `#[repr(...)]`, if any.
fn repr_packed(attrs: &[Attribute]) -> Option<Span> {
    let mut packed = None;
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("repr")) {
        // A malformed `repr` is rustc's to report; this only looks for `packed`.
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("packed") {
                packed = Some(meta.path.span());
            }
            if meta.input.peek(syn::token::Paren) {
                let args;
                syn::parenthesized!(args in meta.input);
                args.parse::<TokenStream>()?;
            }
            Ok(())
        });
    }
    packed
}

fn trace_impl(input: &DeriveInput, attrs: &TypeAttrs, shapes: &[Shape<'_>]) -> TokenStream {
    let name = &input.ident;
    let generics = bounds::trace_generics(&input.generics, attrs);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let tracer = Ident::new("tracer", Span::mixed_site());

    let items = if attrs.require_static {
        quote! {
            const NEEDS_TRACE: bool = false;
            #[inline]
            fn trace(&mut self, _: &mut ::gc_core::Tracer<'_>) {}
            fn trace_labeled(&mut self, _: &mut ::gc_core::Tracer<'_>) {}
        }
    } else {
        let traced = shapes.iter().flat_map(|s| &s.fields).filter(|f| !f.skip);
        let needs_trace = traced.map(needs_trace);
        let static_asserts =
            shapes.iter().flat_map(|s| &s.fields).filter(|f| f.skip).map(|field| {
                let ty = field.ty;
                quote_spanned!(field.span()=> ::gc_core::__private::assert_static::<#ty>();)
            });
        // `unsafe_drop` is an unsafe promise, so it must be made in unsafe code: an
        // `unsafe impl UncheckedDrop`, which `#![forbid(unsafe_code)]` rejects.
        let unchecked_drop = attrs.unsafe_drop.map(
            |span| quote_spanned!(span=> ::gc_core::__private::assert_unchecked_drop::<Self>();),
        );
        let trace = body(input, shapes, &tracer, false);
        let trace_labeled = body(input, shapes, &tracer, true);
        quote! {
            const NEEDS_TRACE: bool = false #(|| #needs_trace)*;
            #[inline]
            fn trace(&mut self, #tracer: &mut ::gc_core::Tracer<'_>) {
                // A skipped field holds no `Gc` only if it is `'static`.
                #(#static_asserts)*
                #unchecked_drop
                #trace
            }
            fn trace_labeled(&mut self, #tracer: &mut ::gc_core::Tracer<'_>) {
                #trace_labeled
            }
        }
    };

    // SAFETY (of the generated impl): `trace` visits every field that is not skipped, each once,
    // and a skipped field is asserted `'static`, so it holds no `Gc`; `NEEDS_TRACE` is true if
    // any traced field may hold one; `trace_labeled` visits the same fields.
    quote! {
        #[automatically_derived]
        unsafe impl #impl_generics ::gc_core::Trace for #name #ty_generics #where_clause {
            #items
        }
    }
}

/// `<Ty as Trace>::NEEDS_TRACE`, reported at the field.
///
/// Except for a field whose type names the type being derived: there the exact answer is a
/// cycle (`Expr::NEEDS_TRACE` would need `Box<Expr>::NEEDS_TRACE`, which is
/// `Expr::NEEDS_TRACE`), which rustc rejects. Such a field counts as needing trace instead,
/// which is always sound and costs only a walk that finds nothing when the type holds no `Gc`.
/// (A recursive type that holds no `Gc` can say so with `require_static`.)
fn needs_trace(field: &Field<'_>) -> TokenStream {
    let ty = field.ty;
    if field.recursive {
        quote_spanned!(field.span()=> true)
    } else {
        quote_spanned!(field.span()=> <#ty as ::gc_core::Trace>::NEEDS_TRACE)
    }
}

/// The body of `trace` (or of `trace_labeled`): destructure `self`, trace each field.
fn body(input: &DeriveInput, shapes: &[Shape<'_>], tracer: &Ident, labeled: bool) -> TokenStream {
    let is_enum = matches!(input.data, Data::Enum(_));
    let mut arms = Vec::new();
    let mut untraced_variants = false;
    for shape in shapes {
        let traced: Vec<(&Field<'_>, Ident)> = shape
            .fields
            .iter()
            .filter(|f| !f.skip)
            .enumerate()
            .map(|(i, f)| (f, Ident::new(&format!("__gc_field_{i}"), Span::mixed_site())))
            .collect();
        if traced.is_empty() {
            untraced_variants = true;
            continue;
        }
        let path = match shape.variant {
            Some(variant) => quote!(Self::#variant),
            None => quote!(Self),
        };
        let members = traced.iter().map(|(f, _)| &f.member);
        let bindings = traced.iter().map(|(_, binding)| binding);
        let pattern = quote!(#path { #(#members: #bindings,)* .. });
        let calls =
            traced.iter().map(|(field, binding)| trace_field(field, binding, tracer, labeled));
        let mut stmts = quote!(#(#calls)*);
        if let (true, Some(variant)) = (labeled, shape.variant) {
            let label = LitStr::new(&variant.unraw().to_string(), variant.span());
            stmts = quote! {
                ::gc_core::Tracer::enter(#tracer, ::gc_core::Label::Variant(#label));
                #stmts
                ::gc_core::Tracer::leave(#tracer);
            };
        }
        arms.push((pattern, stmts));
    }

    if !is_enum {
        return arms
            .into_iter()
            .map(|(pattern, stmts)| quote! { let #pattern = self; #stmts })
            .collect();
    }
    if arms.is_empty() {
        // Covers the empty enum as well: nothing to destructure, nothing to trace.
        return TokenStream::new();
    }
    let patterns = arms.iter().map(|(pattern, _)| pattern);
    let stmts = arms.iter().map(|(_, stmts)| stmts);
    let rest = untraced_variants.then(|| quote!(_ => {}));
    quote! {
        match self {
            #(#patterns => { #stmts })*
            #rest
        }
    }
}

/// Traces one field if its type may hold a `Gc`, reported at the field.
fn trace_field(field: &Field<'_>, binding: &Ident, tracer: &Ident, labeled: bool) -> TokenStream {
    let ty = field.ty;
    let span = field.span();
    let needs_trace = needs_trace(field);
    let call = if labeled {
        let label = LitStr::new(&field.label, span);
        quote_spanned! {span=>
            ::gc_core::Tracer::labeled::<#ty>(#tracer, ::gc_core::Label::Field(#label), #binding)
        }
    } else {
        quote_spanned!(span=> <#ty as ::gc_core::Trace>::trace(#binding, #tracer))
    };
    if field.recursive {
        // Not `if true`: that would read as a mistake in the expansion.
        return quote!(#call;);
    }
    quote! {
        if #needs_trace {
            #call;
        }
    }
}

/// `MustNotImplDrop` for the type: `gc_core` implements it for every `Drop` type, so a `Drop`
/// impl for this type would conflict with this one. It takes the type's own generics, which
/// a `Drop` impl must repeat exactly, so that the two always overlap.
fn drop_guard(input: &DeriveInput) -> TokenStream {
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #impl_generics ::gc_core::__private::MustNotImplDrop for #name #ty_generics
            #where_clause
        {
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(input: TokenStream) -> syn::Result<String> {
        derive_trace(&syn::parse2(input).unwrap()).map(|out| out.to_string())
    }

    fn error(input: TokenStream) -> String {
        match expand(input) {
            Ok(out) => panic!("expected an error, got {out}"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn guards_against_drop_unless_told() {
        let guard = "MustNotImplDrop";
        assert!(expand(quote!(
            struct A;
        ))
        .unwrap()
        .contains(guard));
        let unsafe_drop = quote!(
            #[trace(unsafe_drop)]
            struct A;
        );
        assert!(!expand(unsafe_drop).unwrap().contains(guard));
        let require_static = quote!(
            #[trace(require_static)]
            struct A(Foo);
        );
        let out = expand(require_static).unwrap();
        assert!(!out.contains(guard) && out.contains("Self : 'static"), "{out}");
    }

    #[test]
    fn bounds_every_type_parameter_unless_replaced() {
        let out = expand(quote!(
            struct A<'a, T: Clone, U, const N: usize>(T, U, &'a ());
        ))
        .unwrap();
        assert!(out.contains("T : :: gc_core :: Trace , U : :: gc_core :: Trace"), "{out}");
        assert!(!out.contains("'a : :: gc_core") && !out.contains("N : :: gc_core"), "{out}");
        let out = expand(quote!(
            #[trace(bound = "T: Foo")]
            struct A<T, U>(T, U);
        ))
        .unwrap();
        assert!(out.contains("where T : Foo") && !out.contains(":: gc_core :: Trace ,"), "{out}");
    }

    #[test]
    fn labels_fields_and_variants_by_name() {
        let out = expand(quote!(
            enum E {
                A { r#type: X },
                B(Y, #[trace(skip)] Z, W),
            }
        ))
        .unwrap();
        for label in [
            "Label :: Variant (\"A\")",
            "Label :: Field (\"type\")",
            "Label :: Variant (\"B\")",
            "Label :: Field (\"0\")",
            "Label :: Field (\"2\")",
        ] {
            assert!(out.contains(label), "{label} missing from {out}");
        }
        assert!(!out.contains("Label :: Field (\"1\")"), "{out}");
        assert!(out.contains("assert_static :: < Z >"), "{out}");
    }

    #[test]
    fn recursive_fields_need_trace_without_asking() {
        let out = expand(quote!(
            enum E {
                A(Box<E>),
                B(Vec<Self>),
                C(X),
            }
        ))
        .unwrap();
        assert!(!out.contains("< Box < E > as :: gc_core :: Trace > :: NEEDS_TRACE"), "{out}");
        assert!(!out.contains("< Vec < Self > as :: gc_core :: Trace > :: NEEDS_TRACE"), "{out}");
        assert!(
            out.contains("false || true || true || < X as :: gc_core :: Trace > :: NEEDS_TRACE"),
            "{out}"
        );
        assert!(out.contains("< Box < E > as :: gc_core :: Trace > :: trace"), "{out}");
    }

    #[test]
    fn rejects_what_it_cannot_trace() {
        assert_eq!(error(quote!(union U { a: u32 })), "Trace cannot be derived for unions");
        assert!(error(quote!(
            #[repr(C, packed(2))]
            struct P(u32);
        ))
        .contains("packed"));
        assert!(expand(quote!(
            #[repr(packed)]
            #[trace(require_static)]
            struct P(u32);
        ))
        .is_ok());
    }

    #[test]
    fn reports_every_bad_option() {
        let err = syn::parse2::<DeriveInput>(quote! {
            #[trace(skip)]
            #[trace(bound = 3)]
            enum E { #[trace(skip)] A(#[trace(unsafe_drop)] u32, #[trace(skip, skip)] u32) }
        })
        .unwrap();
        let errors: Vec<String> = match derive_trace(&err) {
            Ok(out) => panic!("expected errors, got {out}"),
            Err(err) => err.into_iter().map(|e| e.to_string()).collect(),
        };
        assert_eq!(
            errors,
            [
                "`skip` belongs on a field, not on a type",
                "expected string literal",
                "`skip` belongs on a field, not on an enum variant",
                "`unsafe_drop` belongs on a type, not on a field",
                "duplicate `trace` option `skip`",
            ]
        );
    }
}
