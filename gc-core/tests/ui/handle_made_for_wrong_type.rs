// Claim: a `Handle` can only be made for an object of the type its `Rootable` names.
use gc_core::{Arena, Gc, Handle, HeapConfig, Rootable};

fn main() {
    let arena = Arena::<Rootable![()]>::new(HeapConfig::default(), |_| ());
    let handle: Handle<Rootable![String]> = arena.mutate(|mc, _| mc.handle(Gc::new(mc, 7u32)));
    drop(handle);
}
