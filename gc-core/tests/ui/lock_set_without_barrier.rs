// Claim: a `Lock` reached by a plain deref of a `Gc` (no `Gc::write`, so no write barrier)
// cannot be written: `set` exists only on `Write<Lock<T>>`.
// The barriered version is `pass/barriered_writes.rs`.
use gc_core::{Arena, Gc, HeapConfig, Lock, Rootable, Trace};

#[derive(Trace)]
struct Node<'gc> {
    next: Lock<Option<Gc<'gc, Node<'gc>>>>,
}

fn main() {
    let arena = Arena::<Rootable![Gc<'_, Node<'_>>]>::new(HeapConfig::default(), |mc| {
        Gc::new(
            mc,
            Node {
                next: Lock::new(None),
            },
        )
    });
    arena.mutate(|mc, root| {
        let young = Gc::new(
            mc,
            Node {
                next: Lock::new(None),
            },
        );
        root.next.set(Some(young));
    });
}
