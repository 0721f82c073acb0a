//! A tour of gc-core: build a graph full of cycles, collect, print the statistics.
//!
//! `cargo run --release -p demo`

use gc_core::{field, Arena, Gc, HeapConfig, Lock, RefLock, Rootable, Trace};

/// A person in a social graph: friendships are mutual, so the graph is full of cycles.
#[derive(Trace)]
struct Person<'gc> {
    name: Gc<'gc, str>,
    friends: RefLock<Vec<Gc<'gc, Person<'gc>>>>,
    best_friend: Lock<Option<Gc<'gc, Person<'gc>>>>,
}

#[derive(Trace)]
struct Town<'gc> {
    people: Vec<Gc<'gc, Person<'gc>>>,
}

fn befriend<'gc>(mc: &gc_core::Mutation<'gc>, a: Gc<'gc, Person<'gc>>, b: Gc<'gc, Person<'gc>>) {
    // `Gc::write` runs the write barrier; `field!` projects the permission onto one field.
    field!(Gc::write(mc, a), Person, friends)
        .borrow_mut()
        .push(b);
    field!(Gc::write(mc, b), Person, friends)
        .borrow_mut()
        .push(a);
}

fn section(title: &str) {
    println!("\n== {title}");
}

fn main() {
    let mut arena =
        Arena::<Rootable![Town<'_>]>::new(HeapConfig::default(), |_| Town { people: Vec::new() });

    section("a town of 200,000 people, each with friends in a ring and a best friend");
    arena.mutate_root(|mc, town| {
        for i in 0..200_000 {
            let name = mc.alloc_str(&format!("person-{i}"));
            let person = Gc::new(
                mc,
                Person {
                    name,
                    friends: RefLock::new(Vec::new()),
                    best_friend: Lock::new(None),
                },
            );
            town.people.push(person);
        }
        let n = town.people.len();
        for i in 0..n {
            let (a, b) = (town.people[i], town.people[(i + 1) % n]);
            befriend(mc, a, b);
            let best = town.people[(i * 7919) % n];
            field!(Gc::write(mc, a), Person, best_friend).set(Some(best));
        }
    });
    println!("{}", arena.stats());

    section("everyone is rooted: a minor collection promotes them, a full one compacts");
    arena.collect_minor();
    arena.collect_full();
    println!("{}", arena.stats());
    println!("census: {}", arena.census());

    section("half the town moves away (the graph stays cyclic)");
    arena.mutate_root(|_, town| {
        let mut i = 0;
        town.people.retain(|_| {
            i += 1;
            i % 2 == 0
        });
    });
    println!("census before collecting: {}", arena.census());
    arena.collect_full();
    println!("{}", arena.stats());
    println!("census after: {}", arena.census());

    section("the rest leave: every cycle is garbage");
    arena.mutate_root(|_, town| town.people.clear());
    arena.collect_full();
    println!("{}", arena.stats());
    println!("census: {}", arena.census());
}
