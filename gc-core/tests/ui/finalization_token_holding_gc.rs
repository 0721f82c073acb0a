// Claim: a finalization token cannot hold a `Gc`: the collector keeps tokens outside the heap
// and never traces them, so `FinalizationRegistry<T>` requires `T: 'static`, which a `Gc`
// never is. Without it the token would reach its dead target after the collection freed it.
// The registry's doc example uses a plain token (`u32`).
use gc_core::{Arena, FinalizationRegistry, Gc, HeapConfig, Mutation, Rootable};

fn register<'gc>(mc: &Mutation<'gc>, registry: &FinalizationRegistry<Gc<'gc, String>>) {
    let target = Gc::new(mc, "target".to_string());
    registry.register(mc, target, target);
}

fn main() {
    let arena = Arena::<Rootable![()]>::new(HeapConfig::default(), |_| ());
    arena.mutate(|mc, _| register(mc, &FinalizationRegistry::new()));
}
