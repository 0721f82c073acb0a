// The accepted twins of `cell_holding_gc`, `refcell_holding_gc` and `hashmap_gc_key`:
// `Lock`/`RefLock` around the `Gc`s, plain `Cell`/`RefCell` around `'static` data, and a
// `HashMap` keyed by a plain value with `Gc` values.
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use gc_core::{field, Arena, Gc, HeapConfig, Lock, RefLock, Rootable, Trace};

#[derive(Trace)]
struct Table<'gc> {
    slot: Lock<Option<Gc<'gc, u32>>>,
    items: RefLock<Vec<Gc<'gc, u32>>>,
    hits: Cell<u32>,
    log: RefCell<Vec<String>>,
    map: HashMap<String, Gc<'gc, str>>,
}

fn main() {
    let mut arena = Arena::<Rootable![Gc<'_, Table<'_>>]>::new(HeapConfig::default(), |mc| {
        let map = [("k".to_string(), mc.alloc_str("v"))].into_iter().collect();
        Gc::new(
            mc,
            Table {
                slot: Lock::new(None),
                items: RefLock::new(Vec::new()),
                hits: Cell::new(0),
                log: RefCell::new(Vec::new()),
                map,
            },
        )
    });
    arena.collect_full();
    arena.mutate(|mc, table| {
        let w = Gc::write(mc, *table);
        field!(w, Table, slot).set(Some(Gc::new(mc, 1u32)));
        field!(w, Table, items).borrow_mut().push(Gc::new(mc, 2u32));
        table.hits.set(table.hits.get() + 1);
        table.log.borrow_mut().push("written".to_string());
    });
    arena.collect_minor();
    arena.mutate(|_, table| {
        assert_eq!(*table.slot.get().unwrap(), 1);
        assert_eq!(*table.items.borrow()[0], 2);
        assert_eq!(table.hits.get(), 1);
        assert_eq!(&*table.map["k"], "v");
    });
}
