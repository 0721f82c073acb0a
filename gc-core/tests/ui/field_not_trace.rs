// Claim: every traced field's type must implement `Trace`, and the error points at that field.
use gc_core::{Gc, Trace};

struct NotTrace(u32);

#[derive(Trace)]
struct Holder<'gc> {
    traced: Gc<'gc, u32>,
    opaque: NotTrace,
}

fn main() {}
