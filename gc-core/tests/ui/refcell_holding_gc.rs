// Claim: a `Gc` inside a plain `RefCell` cannot be traced: `RefCell<T>` is `Trace` only for
// `'static` contents. Use `RefLock` instead.
use std::cell::RefCell;

use gc_core::{Gc, Trace};

#[derive(Trace)]
struct Unbarriered<'gc> {
    items: RefCell<Vec<Gc<'gc, u32>>>,
}

fn main() {}
