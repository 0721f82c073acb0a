// A traced `HashMap`'s hasher is not traced, so it must not hold a `Gc`: a `Gc` seed would be
// freed by the next collection while the map still uses it.
use std::collections::HashMap;

use gc_core::{Arena, Gc, HeapConfig, Rootable};

type Map<'gc> = HashMap<u32, u32, Gc<'gc, String>>;

fn main() {
    let mut arena = Arena::<Rootable![Map<'_>]>::new(HeapConfig::default(), |mc| {
        HashMap::with_hasher(Gc::new(mc, "seed".to_string()))
    });
    arena.collect_minor();
}
