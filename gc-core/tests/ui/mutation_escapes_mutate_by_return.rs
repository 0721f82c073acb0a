// Claim: the `Mutation` context cannot be returned out of `mutate`.
use gc_core::{Arena, HeapConfig, Rootable};

fn main() {
    let arena = Arena::<Rootable![()]>::new(HeapConfig::default(), |_| ());
    let escaped = arena.mutate(|mc, _| mc);
    drop(escaped);
}
