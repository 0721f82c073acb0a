// Claim: in nested `mutate` calls of two arenas, a `Gc` of one arena cannot be stored into an
// object of the other, even through the barrier: the two brands are distinct and invariant.
use gc_core::{field, Arena, Gc, HeapConfig, Lock, Rootable, Trace};

#[derive(Trace)]
struct Node<'gc> {
    next: Lock<Option<Gc<'gc, Node<'gc>>>>,
}

type NodeRoot = Rootable![Gc<'_, Node<'_>>];

fn new_arena() -> Arena<NodeRoot> {
    Arena::new(HeapConfig::default(), |mc| {
        Gc::new(
            mc,
            Node {
                next: Lock::new(None),
            },
        )
    })
}

fn main() {
    let a = new_arena();
    let b = new_arena();
    a.mutate(|mc_a, root_a| {
        b.mutate(|_mc_b, root_b| {
            field!(Gc::write(mc_a, *root_a), Node, next).set(Some(*root_b));
        });
    });
}
