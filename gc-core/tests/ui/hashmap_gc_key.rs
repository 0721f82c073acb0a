// Claim: the keys of a traced `HashMap` cannot hold a `Gc` (the collector could not rewrite
// them in place). `HashMap<K, V>` is `Trace` only for `K: 'static`, which a `Gc` never is, so
// the derive's own impl fails to type-check, whether or not the type is ever used.
// `pass/containers.rs` keys the same map by a plain value; `untraced/` has every other
// untraced part in every position.
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
