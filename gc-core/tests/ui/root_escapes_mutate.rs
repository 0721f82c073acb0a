// Claim: the root `Gc` handed to `mutate` is branded like any other: it cannot be copied out.
use gc_core::{Arena, Gc, HeapConfig, Rootable};

fn main() {
    let arena = Arena::<Rootable![Gc<'_, u32>]>::new(HeapConfig::default(), |mc| Gc::new(mc, 1u32));
    let escaped = arena.mutate(|_, root| *root);
    drop(escaped);
}
