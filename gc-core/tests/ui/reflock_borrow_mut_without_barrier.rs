// Claim: a `RefLock` field reached by a plain deref of a `Gc` cannot be borrowed mutably:
// `borrow_mut` exists only on `Write<RefLock<T>>` (from `Gc::write`).
// The barriered version is `pass/barriered_writes.rs`.
use gc_core::{Arena, Gc, HeapConfig, RefLock, Rootable, Trace};

#[derive(Trace)]
struct List<'gc> {
    items: RefLock<Vec<Gc<'gc, u32>>>,
}

fn main() {
    let arena = Arena::<Rootable![Gc<'_, List<'_>>]>::new(HeapConfig::default(), |mc| {
        Gc::new(
            mc,
            List {
                items: RefLock::new(Vec::new()),
            },
        )
    });
    arena.mutate(|mc, root| {
        let young = Gc::new(mc, 1u32);
        root.items.borrow_mut().push(young);
    });
}
