// Claim: a `Gc` cannot be returned out of `mutate`. Its brand `'gc` is chosen by the arena for
// that one call; after it, a collection may move or free the object.
use gc_core::{Arena, Gc, HeapConfig, Rootable};

fn main() {
    let arena = Arena::<Rootable![()]>::new(HeapConfig::default(), |_| ());
    let escaped = arena.mutate(|mc, _| Gc::new(mc, 1u32));
    drop(escaped);
}
