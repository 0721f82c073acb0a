// Claim: `Write::assume` (forging proof that the barrier ran) is an `unsafe fn`.
use gc_core::{field, Arena, Gc, HeapConfig, Lock, Rootable, Trace, Write};

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
        let forged: &Write<Node<'_>> = Write::assume(Gc::as_ref(*root));
        field!(forged, Node, next).set(Some(young));
    });
}
