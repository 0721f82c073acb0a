// Claim: `field!` cannot project through a `Gc` field into another object: the barrier ran for
// the outer object only, so the write to the inner one would be unrecorded.
use gc_core::{field, Arena, Gc, HeapConfig, Lock, Rootable, Trace};

#[derive(Trace)]
struct Node<'gc> {
    child: Gc<'gc, Node<'gc>>,
    value: Lock<Option<Gc<'gc, u32>>>,
}

fn main() {
    let arena = Arena::<Rootable![Option<Gc<'_, Node<'_>>>]>::new(HeapConfig::default(), |_| None);
    arena.mutate(|mc, root| {
        let outer = root.unwrap();
        let child = field!(Gc::write(mc, outer), Node, child);
        field!(child, Node, value).set(Some(Gc::new(mc, 1u32)));
    });
}
