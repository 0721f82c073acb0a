//! A tour of gc-core: build a graph full of cycles, collect, print the statistics.
//!
//! `cargo run --release -p demo`

use gc_core::{field, Arena, Gc, HeapConfig, Lock, Mutation, RefLock, Rootable, Trace};

/// A person; families are full of cycles (spouses point at each other, children at their
/// parents and parents at their children).
#[derive(Trace)]
struct Person<'gc> {
    name: Gc<'gc, str>,
    spouse: Lock<Option<Gc<'gc, Person<'gc>>>>,
    parents: Vec<Gc<'gc, Person<'gc>>>,
    children: RefLock<Vec<Gc<'gc, Person<'gc>>>>,
}

/// The arena's root: the families still in town.
#[derive(Trace)]
struct Town<'gc> {
    families: Vec<Gc<'gc, Person<'gc>>>,
}

fn person<'gc>(
    mc: &Mutation<'gc>,
    name: &str,
    parents: Vec<Gc<'gc, Person<'gc>>>,
) -> Gc<'gc, Person<'gc>> {
    let p = Gc::new(
        mc,
        Person {
            name: mc.alloc_str(name),
            spouse: Lock::new(None),
            parents,
            children: RefLock::new(Vec::new()),
        },
    );
    for &parent in &p.parents {
        // `Gc::write` runs the write barrier; `field!` projects the permission onto a field.
        field!(Gc::write(mc, parent), Person, children).borrow_mut().push(p);
    }
    p
}

fn family<'gc>(mc: &Mutation<'gc>, i: usize) -> Gc<'gc, Person<'gc>> {
    let a = person(mc, &format!("parent-a-{i}"), vec![]);
    let b = person(mc, &format!("parent-b-{i}"), vec![]);
    field!(Gc::write(mc, a), Person, spouse).set(Some(b));
    field!(Gc::write(mc, b), Person, spouse).set(Some(a));
    for c in 0..3 {
        person(mc, &format!("child-{i}-{c}"), vec![a, b]);
    }
    a
}

fn show(arena: &mut Arena<Rootable![Town<'_>]>, title: &str) {
    println!("\n== {title}");
    println!("{}", arena.stats());
    println!("census: {}", arena.census());
}

fn main() {
    let mut arena =
        Arena::<Rootable![Town<'_>]>::new(HeapConfig::default(), |_| Town { families: Vec::new() });

    const FAMILIES: usize = 100_000;
    for slice in 0..10 {
        arena.mutate_root(|mc, town| {
            for i in 0..FAMILIES / 10 {
                town.families.push(family(mc, slice * FAMILIES / 10 + i));
            }
        });
        arena.collect_if_due();
    }
    show(
        &mut arena,
        "100,000 families of five (every family a knot of cycles), built in 10 slices",
    );

    arena.collect_full();
    show(&mut arena, "after a full collection: everything is live, nothing moves");

    arena.mutate_root(|_, town| {
        let mut i = 0;
        town.families.retain(|_| {
            i += 1;
            i % 2 == 0
        });
    });
    println!("\n== half the families leave town; before collecting:");
    println!("census: {}", arena.census());
    arena.collect_full();
    show(&mut arena, "after a full collection: their cycles are freed and the rest slid together");

    arena.mutate(|_, town| {
        let a = town.families[0];
        let b = a.spouse.get().unwrap();
        let child = a.children.borrow()[1];
        println!(
            "\n{} is married to {}; their child {} has parents {} and {}",
            &*a.name, &*b.name, &*child.name, &*child.parents[0].name, &*child.parents[1].name
        );
    });

    arena.mutate_root(|_, town| town.families.clear());
    arena.collect_full();
    show(&mut arena, "everyone leaves: every cycle is garbage, the heap is empty");
}
