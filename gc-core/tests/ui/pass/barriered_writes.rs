// The barriered twins of `lock_set_without_barrier`, `lock_take_without_barrier`,
// `reflock_borrow_mut_without_barrier`, `field_projection_through_gc` and the `Write::assume`
// cases: the same writes, through `Gc::write` (and `field!`), compile and work.
use gc_core::{field, Arena, Gc, HeapConfig, Lock, RefLock, Rootable, Trace, Write};

#[derive(Trace)]
struct Node<'gc> {
    next: Lock<Option<Gc<'gc, Node<'gc>>>>,
    items: RefLock<Vec<Gc<'gc, u32>>>,
}

fn node<'gc>() -> Node<'gc> {
    Node {
        next: Lock::new(None),
        items: RefLock::new(Vec::new()),
    }
}

fn main() {
    let mut arena =
        Arena::<Rootable![Gc<'_, Node<'_>>]>::new(HeapConfig::default(), |mc| Gc::new(mc, node()));
    arena.collect_full(); // the root is old: the barrier matters
    arena.mutate(|mc, root| {
        let young = Gc::new(mc, node());
        // `lock_set_without_barrier`, barriered.
        field!(Gc::write(mc, *root), Node, next).set(Some(young));
        // `reflock_borrow_mut_without_barrier`, barriered, both ways.
        field!(Gc::write(mc, *root), Node, items)
            .borrow_mut()
            .push(Gc::new(mc, 1u32));
        // `field_projection_through_gc`, barriered: a second `Gc::write` for the inner object.
        field!(Gc::write(mc, young), Node, items)
            .borrow_mut()
            .push(Gc::new(mc, 2u32));
        // `write_assume_*`: the unsafe escape hatch, inside `unsafe`, on a value that is not
        // in the heap (the only case that needs no barrier).
        let local = Lock::new(0u32);
        // SAFETY: `local` is not a managed object, so no barrier is needed.
        unsafe { Write::assume(&local) }.set(3);
        assert_eq!(local.get(), 3);
    });
    arena.collect_minor();
    arena.mutate(|mc, root| {
        let young = root.next.get().unwrap();
        assert_eq!(*root.items.borrow()[0], 1);
        assert_eq!(*young.items.borrow()[0], 2);
        // `lock_take_without_barrier`, barriered.
        assert!(Lock::take(field!(Gc::write(mc, *root), Node, next)).is_some());
    });
    arena.mutate(|_, root| assert!(root.next.get().is_none()));
}
