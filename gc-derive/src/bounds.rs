//! The generics of the generated `Trace` impl.

use syn::{parse_quote, GenericParam, Generics, WherePredicate};

use crate::attrs::TypeAttrs;

/// The type's own generics plus the predicates the `Trace` impl needs:
///
/// - by default `T: Trace` for every type parameter, since the fields built from `T` are
///   traced (lifetimes and const parameters need nothing);
/// - with `bound = "..."`, exactly the given predicates instead;
/// - with `require_static`, no `Trace` bound (nothing is traced) but `Self: 'static`: the impl
///   claims that no `Gc` hides inside, which only a `'static` type can promise.
pub(crate) fn trace_generics(generics: &Generics, attrs: &TypeAttrs) -> Generics {
    let mut generics = generics.clone();
    let mut predicates: Vec<WherePredicate> = match &attrs.bound {
        Some(bound) => bound.iter().cloned().collect(),
        None if attrs.require_static => Vec::new(),
        None => generics
            .params
            .iter()
            .filter_map(|param| match param {
                GenericParam::Type(param) => {
                    let ident = &param.ident;
                    Some(parse_quote!(#ident: ::gc_core::Trace))
                }
                GenericParam::Lifetime(_) | GenericParam::Const(_) => None,
            })
            .collect(),
    };
    if attrs.require_static {
        predicates.push(parse_quote!(Self: 'static));
    }
    generics.make_where_clause().predicates.extend(predicates);
    generics
}
