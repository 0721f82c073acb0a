// Claim: a `Gc` cannot be stored into a variable that outlives the `mutate` call.
use gc_core::{Arena, Gc, HeapConfig, Rootable};

fn main() {
    let arena = Arena::<Rootable![()]>::new(HeapConfig::default(), |_| ());
    let mut outside: Option<Gc<'_, u32>> = None;
    arena.mutate(|mc, _| {
        outside = Some(Gc::new(mc, 1u32));
    });
    drop(outside);
}
