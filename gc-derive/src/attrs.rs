//! Parsing of the `#[trace(...)]` options.
//!
//! Every mistake becomes a `syn::Error` at the offending tokens, and the errors of all the
//! attributes of one item are reported together rather than one per compile.

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{meta::ParseNestedMeta, Attribute, LitStr, Token, WherePredicate};

/// Options on the type.
#[derive(Default)]
pub(crate) struct TypeAttrs {
    /// `bound = "..."`: replaces the automatic bounds.
    pub(crate) bound: Option<Punctuated<WherePredicate, Token![,]>>,
    /// `unsafe_drop`: the type may implement `Drop` (and must implement the unsafe trait
    /// `UncheckedDrop`); the span of the option.
    pub(crate) unsafe_drop: Option<Span>,
    /// `require_static`: the type is `'static`, so it holds no `Gc`.
    pub(crate) require_static: bool,
}

/// Options on a field.
#[derive(Default)]
pub(crate) struct FieldAttrs {
    /// `skip`: neither traced nor counted in `NEEDS_TRACE`.
    pub(crate) skip: bool,
}

/// Collects errors so that one compile reports all of them.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, err: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(err),
            None => self.0 = Some(err),
        }
    }

    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// Where an attribute sits, which decides the options it may carry.
#[derive(Clone, Copy)]
enum Place {
    Type,
    Variant,
    Field,
}

impl Place {
    fn name(self) -> &'static str {
        match self {
            Place::Type => "a type",
            Place::Variant => "an enum variant",
            Place::Field => "a field",
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Place::Type => "expected `bound = \"...\"`, `unsafe_drop` or `require_static`",
            Place::Variant => "enum variants take no `trace` options",
            Place::Field => "expected `skip`",
        }
    }
}

const KEYS: &[(&str, Place)] = &[
    ("skip", Place::Field),
    ("bound", Place::Type),
    ("unsafe_drop", Place::Type),
    ("require_static", Place::Type),
];

pub(crate) fn type_attrs(attrs: &[Attribute], errors: &mut Errors) -> TypeAttrs {
    let mut out = TypeAttrs::default();
    let mut seen = Seen::default();
    for_each_option(attrs, Place::Type, errors, |key, meta| {
        match key {
            "bound" => {
                seen.once(meta)?;
                let lit: LitStr = meta.value()?.parse()?;
                let bound = lit.parse_with(Punctuated::parse_terminated).map_err(|err| {
                    syn::Error::new(lit.span(), format_args!("invalid `bound`: {err}"))
                })?;
                out.bound = Some(bound);
            }
            "unsafe_drop" => {
                if seen.flag(meta)? {
                    out.unsafe_drop = Some(meta.path.span());
                }
            }
            "require_static" => out.require_static = seen.flag(meta)?,
            _ => return Ok(false),
        }
        Ok(true)
    });
    if let (Some(unsafe_drop), Some(_)) = (seen.span("unsafe_drop"), seen.span("require_static")) {
        errors.push(syn::Error::new(
            unsafe_drop,
            "`unsafe_drop` is redundant with `require_static`, which allows `Drop` already",
        ));
    }
    out
}

/// Checks that a variant carries no options: there are none for variants.
pub(crate) fn variant_attrs(attrs: &[Attribute], errors: &mut Errors) {
    for_each_option(attrs, Place::Variant, errors, |_, _| Ok(false));
}

pub(crate) fn field_attrs(attrs: &[Attribute], errors: &mut Errors) -> FieldAttrs {
    let mut out = FieldAttrs::default();
    let mut seen = Seen::default();
    for_each_option(attrs, Place::Field, errors, |key, meta| {
        match key {
            "skip" => out.skip = seen.flag(meta)?,
            _ => return Ok(false),
        }
        Ok(true)
    });
    out
}

/// Calls `f` with the name and contents of each option of every `#[trace(...)]` in `attrs`.
/// `f` returns whether the option belongs at `place`; the others become errors.
fn for_each_option(
    attrs: &[Attribute],
    place: Place,
    errors: &mut Errors,
    mut f: impl FnMut(&str, &ParseNestedMeta<'_>) -> syn::Result<bool>,
) {
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("trace")) {
        let result = attr.parse_nested_meta(|meta| {
            let name = path_name(&meta.path);
            if f(&name, &meta)? {
                return Ok(());
            }
            Err(match KEYS.iter().find(|(key, _)| *key == name) {
                Some((_, home)) => meta.error(format_args!(
                    "`{name}` belongs on {}, not on {}",
                    home.name(),
                    place.name()
                )),
                None => meta
                    .error(format_args!("unknown `trace` option `{name}`: {}", place.expected())),
            })
        });
        if let Err(err) = result {
            errors.push(err);
        }
    }
}

fn path_name(path: &syn::Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    segments.join("::")
}

/// The options already given on one item, to reject duplicates.
#[derive(Default)]
struct Seen(Vec<(String, Span)>);

impl Seen {
    /// Records the option `meta` names, or rejects it as a duplicate.
    fn once(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        let name = path_name(&meta.path);
        if self.span(&name).is_some() {
            return Err(meta.error(format_args!("duplicate `trace` option `{name}`")));
        }
        self.0.push((name, syn::spanned::Spanned::span(&meta.path)));
        Ok(())
    }

    /// Records a valueless option: `skip`, not `skip = true` nor `skip(...)`.
    fn flag(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<bool> {
        self.once(meta)?;
        if meta.input.is_empty() || meta.input.peek(Token![,]) {
            Ok(true)
        } else {
            Err(syn::Error::new(
                meta.input.span(),
                format_args!("`{}` takes no value", path_name(&meta.path)),
            ))
        }
    }

    fn span(&self, name: &str) -> Option<Span> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, span)| *span)
    }
}
