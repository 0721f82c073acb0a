// Claim: a type deriving `Trace` cannot implement `Drop` unless it opts out with
// `#[trace(unsafe_drop)]` or `#[trace(require_static)]`: `drop` could reach objects that the
// collector already freed or moved. The opted-out versions are `pass/derive_opt_outs.rs`.
use gc_core::{Gc, Trace};

#[derive(Trace)]
struct Finalized<'gc> {
    target: Gc<'gc, u32>,
}

impl Drop for Finalized<'_> {
    fn drop(&mut self) {
        println!("{}", *self.target);
    }
}

fn main() {}
