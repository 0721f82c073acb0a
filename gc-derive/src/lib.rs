//! `#[derive(Trace)]` and `Rootable!` for `gc-core`.
//!
//! Use them through `gc_core`, which re-exports both: the generated code names everything by
//! absolute `::gc_core::...` paths.

mod attrs;
mod bounds;
mod expand;
mod rootable;

use proc_macro::TokenStream;

/// Derives `gc_core::Trace` for a struct or an enum.
///
/// Every field is traced, and `NEEDS_TRACE` is true if any field's type needs tracing. Each
/// type parameter gets a `T: Trace` bound. A field whose type names the type itself
/// (`Box<Self>`, `Vec<Expr>`) counts as needing tracing: asking its type would be a cycle in
/// const evaluation. Mutually recursive types (`A` holds a `Vec<B>`, `B` a `Vec<A>`) still hit
/// that cycle; if they hold no `Gc`, mark one `require_static`.
///
/// Field options:
///
/// - `#[trace(skip)]`: the field is neither traced nor counted in `NEEDS_TRACE`. Its type
///   must be `'static`, which guarantees that it holds no `Gc`.
///
/// Type options:
///
/// - `#[trace(bound = "T: Trace, U: 'static")]`: these predicates replace the automatic
///   `T: Trace` bounds (for parameters that appear only in `PhantomData`, say).
/// - `#[trace(unsafe_drop)]`: allows a `Drop` impl. Without it, a `Drop` impl for the type
///   fails to compile (conflicting implementations of `MustNotImplDrop`), because `drop` could
///   reach managed objects that were already freed or moved. With it, you promise that `drop`
///   never touches a `Gc`, and make the promise in unsafe code: the type must also implement
///   the unsafe trait `gc_core::UncheckedDrop`.
/// - `#[trace(require_static)]`: the type is `'static` and so holds no `Gc`: `NEEDS_TRACE` is
///   `false`, nothing is traced, the fields need not implement `Trace`, and a `Drop` impl is
///   allowed. The impl applies only where the type is `'static`.
///
/// Untraced parts must be `'static` (a `Gc` never is), and the type checker, not a constant,
/// enforces it: a skipped field is asserted `'static` in the body of `trace`, which rustc
/// checks whether or not the type is used; a `require_static` type (or a user `bound` that
/// makes a part `'static`) is `Trace` only where it is `'static`, so each use that needs
/// `Trace` (the arena root, an allocation, another type's field) refuses it with a `Gc`
/// inside. The same holds for the untraced parts of `gc_core`'s own impls (map keys, set
/// elements, `Cell`, `Rc`...): a type parameter used only there needs `bound = "T: 'static"`.
#[proc_macro_derive(Trace, attributes(trace))]
pub fn derive_trace(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive_trace(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Names a root type for `gc_core::Arena`: a type-level function from the brand lifetime to
/// the root type.
///
/// - `Rootable!['gc => Vm<'gc>]` names the brand explicitly.
/// - `Rootable![Vm<'_>]` takes every `'_` in the type as the brand.
/// - `Rootable![u32]`: a root without the brand is fine too.
#[proc_macro]
#[allow(non_snake_case)] // named like the type it stands for
pub fn Rootable(input: TokenStream) -> TokenStream {
    rootable::expand(input.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}
