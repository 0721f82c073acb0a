// Claim: `#[trace(require_static)]` (nothing traced) only applies to `'static` types, so a
// type holding a `Gc` cannot use it to have its pointers skipped: it is not `Trace` at all
// with a brand, and cannot be allocated.
use gc_core::{Arena, Gc, HeapConfig, Rootable, Trace};

#[derive(Trace)]
#[trace(require_static)]
struct Untraced<'gc> {
    hidden: Gc<'gc, u32>,
}

fn main() {
    let arena = Arena::<Rootable![()]>::new(HeapConfig::default(), |_| ());
    arena.mutate(|mc, _| {
        let hidden = Gc::new(mc, 1u32);
        Gc::new(mc, Untraced { hidden });
    });
}
