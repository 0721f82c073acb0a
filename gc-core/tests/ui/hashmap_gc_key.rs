// Claim: the keys of a traced `HashMap` cannot hold a `Gc` (the collector could not rewrite
// them in place). It is a const assertion, so it fires when the type is used: here, allocated.
// `pass/containers.rs` keys the same map by a plain value.
use std::collections::HashMap;

use gc_core::{Arena, Gc, HeapConfig, Rootable, Trace};

#[derive(Trace)]
struct Table<'gc> {
    map: HashMap<Gc<'gc, str>, u32>,
}

fn main() {
    let arena = Arena::<Rootable![()]>::new(HeapConfig::default(), |_| ());
    arena.mutate(|mc, _| {
        Gc::new(
            mc,
            Table {
                map: HashMap::new(),
            },
        );
    });
}
