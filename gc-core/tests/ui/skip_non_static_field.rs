// Claim: a field marked `#[trace(skip)]` must be `'static` (so that it holds no `Gc` the
// collector would miss), and the error points at that field.
// The accepted version (a `'static` skipped field) is in `pass/derive_opt_outs.rs`.
use gc_core::{Gc, Trace};

#[derive(Trace)]
struct Holder<'gc> {
    traced: Gc<'gc, u32>,
    #[trace(skip)]
    hidden: Gc<'gc, u32>,
}

fn main() {}
