// Claim: a `Gc` inside a plain `Cell` cannot be traced: `Cell<T>` is `Trace` only for `'static`
// contents, since writes through it would bypass the write barrier. Use `Lock` instead.
use std::cell::Cell;

use gc_core::{Gc, Trace};

#[derive(Trace)]
struct Unbarriered<'gc> {
    slot: Cell<Option<Gc<'gc, u32>>>,
}

fn main() {}
