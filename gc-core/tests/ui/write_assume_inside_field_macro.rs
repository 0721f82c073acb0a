// Claim: `field!` expands to an `unsafe` block, but does not evaluate its argument inside it:
// passing `Write::assume(..)` to it still requires `unsafe`.
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
        field!(Write::assume(Gc::as_ref(*root)), Node, next).set(Some(young));
    });
}
