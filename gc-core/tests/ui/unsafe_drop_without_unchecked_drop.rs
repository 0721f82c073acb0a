// `#[trace(unsafe_drop)]` is an unsafe promise (the destructor never reaches a `Gc`), so it
// must be made in unsafe code: without `unsafe impl UncheckedDrop`, the derive does not compile.
use gc_core::{Gc, Trace};

#[derive(Trace)]
#[trace(unsafe_drop)]
struct Finalized<'gc> {
    target: Gc<'gc, u32>,
}

impl Drop for Finalized<'_> {
    fn drop(&mut self) {}
}

fn main() {}
