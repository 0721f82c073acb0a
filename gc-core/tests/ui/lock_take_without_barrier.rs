// Claim: `Lock::take` writes, so it needs a `&Write<Lock<T>>`, not the `&Lock<T>` that a plain
// deref of a `Gc` gives.
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
    arena.mutate(|_, root| {
        Lock::take(&root.next);
    });
}
