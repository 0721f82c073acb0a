// Claim: the `Mutation` context cannot be stored outside the `mutate` call (it would allow
// allocating, and minting `Gc`s, while a collection can run).
use gc_core::{Arena, HeapConfig, Mutation, Rootable};

fn main() {
    let arena = Arena::<Rootable![()]>::new(HeapConfig::default(), |_| ());
    let mut outside: Option<&Mutation<'_>> = None;
    arena.mutate(|mc, _| {
        outside = Some(mc);
    });
    drop(outside);
}
