// The accepted twins of the escape, mixed-brand and handle cases: values leave `mutate` only
// as plain data or as a `Handle`, nested arenas exchange plain data, and a handle is fetched
// as the type it was made for.
use gc_core::{field, Arena, Gc, Handle, HeapConfig, Lock, Rootable, Trace};

#[derive(Trace)]
struct Node<'gc> {
    value: u32,
    next: Lock<Option<Gc<'gc, Node<'gc>>>>,
}

type NodeRoot = Rootable![Gc<'_, Node<'_>>];

fn new_arena(value: u32) -> Arena<NodeRoot> {
    Arena::new(HeapConfig::default(), |mc| {
        Gc::new(
            mc,
            Node {
                value,
                next: Lock::new(None),
            },
        )
    })
}

fn main() {
    let mut a = new_arena(1);
    let b = new_arena(2);
    let copied: u32 = a.mutate(|_, root| root.value);
    a.mutate(|mc_a, root_a| {
        b.mutate(|_, root_b| {
            // Plain data crosses between arenas; a fresh object of `a` is made from it.
            let value = root_b.value;
            let fresh = Gc::new(
                mc_a,
                Node {
                    value,
                    next: Lock::new(None),
                },
            );
            field!(Gc::write(mc_a, *root_a), Node, next).set(Some(fresh));
        });
    });
    let handle: Handle<Rootable![u32]> = a.mutate(|mc, _| mc.handle(Gc::new(mc, 7u32)));
    a.collect_full();
    a.mutate(|mc, root| {
        let seven: Gc<'_, u32> = mc.fetch(&handle);
        assert_eq!((copied, root.next.get().unwrap().value, *seven), (1, 2, 7));
    });
}
