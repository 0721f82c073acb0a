//! Weak references, ephemeron and weak-value tables, identity hashes, finalization.

mod common;

use std::collections::HashMap;

use common::config;
use gc_core::{
    field, Arena, CollectionKind, EphemeronTable, FinalizationRegistry, Gc, GcWeak, Lock, RefLock,
    Rootable, Trace, WeakValueTable,
};

#[derive(Trace)]
struct Node<'gc> {
    id: u32,
    next: Lock<Option<Gc<'gc, Node<'gc>>>>,
}

fn node<'gc>(mc: &gc_core::Mutation<'gc>, id: u32) -> Gc<'gc, Node<'gc>> {
    Gc::new(mc, Node { id, next: Lock::new(None) })
}

#[derive(Trace)]
struct Holder<'gc> {
    strong: RefLock<Vec<Gc<'gc, Node<'gc>>>>,
    weak: RefLock<Vec<GcWeak<'gc, Node<'gc>>>>,
}

fn holder<'gc>() -> Holder<'gc> {
    Holder { strong: RefLock::new(Vec::new()), weak: RefLock::new(Vec::new()) }
}

type HolderRoot = Rootable![Holder<'_>];

fn ids<'gc>(weak: &[GcWeak<'gc, Node<'gc>>]) -> Vec<Option<u32>> {
    weak.iter().map(|w| w.upgrade().map(|n| n.id)).collect()
}

#[test]
fn weak_references_follow_moves_and_clear_on_death() {
    for kinds in [
        [CollectionKind::Minor, CollectionKind::Full],
        [CollectionKind::Full, CollectionKind::Minor],
    ] {
        let mut arena = Arena::<HolderRoot>::new(config(), |_| holder());
        arena.mutate_root(|mc, h| {
            for id in 0..10 {
                let n = node(mc, id);
                h.weak.get_mut().push(Gc::downgrade(n));
                if id % 2 == 0 {
                    h.strong.get_mut().push(n);
                }
            }
        });
        arena.collect(kinds[0]);
        let expect: Vec<Option<u32>> = (0..10).map(|i| (i % 2 == 0).then_some(i)).collect();
        arena.mutate(|_, h| assert_eq!(ids(&h.weak.borrow()), expect));
        arena.collect(kinds[1]);
        arena.mutate(|_, h| assert_eq!(ids(&h.weak.borrow()), expect));
        arena.mutate_root(|_, h| h.strong.get_mut().truncate(2));
        arena.collect_full();
        let expect: Vec<Option<u32>> =
            (0..10).map(|i| (i < 4 && i % 2 == 0).then_some(i)).collect();
        arena.mutate(|_, h| {
            assert_eq!(ids(&h.weak.borrow()), expect);
            // The live ones are the same objects as the strong pointers.
            assert!(Gc::ptr_eq(h.weak.borrow()[2].upgrade().unwrap(), h.strong.borrow()[1]));
        });
    }
}

#[test]
fn a_weak_pointer_in_an_old_object_to_a_young_one() {
    let mut arena =
        Arena::<Rootable![Gc<'_, Holder<'_>>]>::new(config(), |mc| Gc::new(mc, holder()));
    arena.collect_full(); // the holder is old; what it is given next is young
    arena.mutate(|mc, h| {
        let dies = node(mc, 1);
        let lives = node(mc, 2);
        let w = Gc::write(mc, *h);
        field!(w, Holder, weak).borrow_mut().extend([Gc::downgrade(dies), Gc::downgrade(lives)]);
        field!(w, Holder, strong).borrow_mut().push(lives);
    });
    arena.collect_minor();
    arena.mutate(|_, h| {
        assert_eq!(ids(&h.weak.borrow()), vec![None, Some(2)]);
        assert!(Gc::ptr_eq(h.weak.borrow()[1].upgrade().unwrap(), h.strong.borrow()[0]));
    });
    arena.mutate(|mc, h| field!(Gc::write(mc, *h), Holder, strong).borrow_mut().clear());
    arena.collect_minor();
    arena.mutate(|_, h| {
        assert_eq!(
            ids(&h.weak.borrow()),
            vec![None, Some(2)],
            "old: only a full collection frees it"
        )
    });
    arena.collect_full();
    arena.mutate(|_, h| assert_eq!(ids(&h.weak.borrow()), vec![None, None]));
}

#[test]
fn ephemerons_keep_values_only_while_keys_live() {
    type Table<'gc> = EphemeronTable<'gc, Node<'gc>, Gc<'gc, Node<'gc>>>;
    type Root = Rootable![(Vec<Gc<'_, Node<'_>>>, Gc<'_, RefLock<Table<'_>>>)];
    for kind in [CollectionKind::Minor, CollectionKind::Full] {
        let mut arena = Arena::<Root>::new(config(), |mc| {
            (Vec::new(), Gc::new(mc, RefLock::new(Table::new())))
        });
        if kind == CollectionKind::Full {
            arena.collect_full(); // the table object is old; the keys will be young
        }
        arena.mutate_root(|mc, (keys, table)| {
            let mut t = table.borrow_mut(mc);
            // 1: key rooted, value reachable only through the table: kept.
            let k1 = node(mc, 1);
            t.insert(mc, k1, node(mc, 101));
            keys.push(k1);
            // 2: key unrooted: the entry goes, and its value with it.
            t.insert(mc, node(mc, 2), node(mc, 102));
            // 3: the value points back at its own key: that must not keep the key alive.
            let k3 = node(mc, 3);
            let v3 = Gc::new(mc, Node { id: 103, next: Lock::new(Some(k3)) });
            t.insert(mc, k3, v3);
            // 4 -> 5: key 5 is reachable only through the value of key 4, which is rooted.
            let k4 = node(mc, 4);
            let k5 = node(mc, 5);
            let v4 = Gc::new(mc, Node { id: 104, next: Lock::new(Some(k5)) });
            t.insert(mc, k4, v4);
            t.insert(mc, k5, node(mc, 105));
            keys.push(k4);
        });
        arena.collect(kind);
        if kind == CollectionKind::Minor {
            arena.collect_minor();
        }
        arena.mutate(|mc, (keys, table)| {
            let t = table.borrow();
            assert_eq!(t.len(), 3, "entries 1, 4 and 5 remain");
            assert_eq!(t.get(mc, keys[0]).unwrap().id, 101);
            let v4 = *t.get(mc, keys[1]).unwrap();
            let k5 = v4.next.get().unwrap();
            assert_eq!(t.get(mc, k5).unwrap().id, 105);
            let mut values: Vec<u32> = t.iter().map(|(_, v)| v.id).collect();
            values.sort();
            assert_eq!(values, vec![101, 104, 105]);
        });
        // Drop key 4: entries 4 and 5 go together (a chain of ephemerons).
        arena.mutate_root(|_, (keys, _)| {
            keys.pop();
        });
        arena.collect_full();
        arena.mutate(|_, (_, table)| assert_eq!(table.borrow().len(), 1));
        // Left: key 1, its value, and the table object.
        assert_eq!(arena.census().live_objects, 3, "{}", arena.census());
    }
}

#[test]
fn chains_of_ephemerons_across_two_tables() {
    type Table<'gc> = EphemeronTable<'gc, Node<'gc>, Gc<'gc, Node<'gc>>>;
    type Root =
        Rootable![(Vec<Gc<'_, Node<'_>>>, Gc<'_, RefLock<Table<'_>>>, Gc<'_, RefLock<Table<'_>>>)];
    let mut arena = Arena::<Root>::new(config(), |mc| {
        (
            Vec::new(),
            Gc::new(mc, RefLock::new(Table::new())),
            Gc::new(mc, RefLock::new(Table::new())),
        )
    });
    arena.mutate_root(|mc, (roots, a, b)| {
        // a: k0 -> k1; b: k1 -> k2; a: k2 -> v.  Only k0 is rooted.
        let (k0, k1, k2, v) = (node(mc, 0), node(mc, 1), node(mc, 2), node(mc, 99));
        a.borrow_mut(mc).insert(mc, k0, k1);
        b.borrow_mut(mc).insert(mc, k1, k2);
        a.borrow_mut(mc).insert(mc, k2, v);
        roots.push(k0);
    });
    for kind in [CollectionKind::Minor, CollectionKind::Full, CollectionKind::Full] {
        arena.collect(kind);
        arena.mutate(|mc, (roots, a, b)| {
            let k1 = *a.borrow().get(mc, roots[0]).unwrap();
            let k2 = *b.borrow().get(mc, k1).unwrap();
            assert_eq!(a.borrow().get(mc, k2).unwrap().id, 99);
        });
    }
    arena.mutate_root(|_, (roots, _, _)| roots.clear());
    arena.collect_full();
    arena.mutate(|_, (_, a, b)| assert_eq!((a.borrow().len(), b.borrow().len()), (0, 0)));
}

#[test]
fn weak_value_tables_drop_dead_values() {
    let mut arena = Arena::<Rootable![(Vec<Gc<'_, str>>, WeakValueTable<'_, String, str>)]>::new(
        config(),
        |_| (Vec::new(), WeakValueTable::new()),
    );
    arena.mutate_root(|mc, (keep, table)| {
        for i in 0..100 {
            let s = mc.alloc_str(&format!("s{i}"));
            table.insert(format!("s{i}"), s);
            if i % 10 == 0 {
                keep.push(s);
            }
        }
    });
    arena.collect_minor();
    arena.mutate(|_, (_, table)| {
        assert_eq!(table.len(), 10);
        assert_eq!(&*table.get("s30").unwrap(), "s30");
        assert!(table.get("s31").is_none());
    });
    arena.mutate_root(|_, (keep, _)| keep.truncate(3));
    arena.collect_full();
    arena.mutate(|_, (_, table)| {
        let mut keys: Vec<&String> = table.iter().map(|(k, _)| k).collect();
        keys.sort();
        assert_eq!(keys, ["s0", "s10", "s20"]);
    });
}

#[test]
fn identity_hashes_survive_moves() {
    let mut arena = Arena::<Rootable![Vec<Gc<'_, Node<'_>>>]>::new(config(), |_| Vec::new());
    // Fewer nodes and rounds under Miri (~1000x slower), still past round 10 and through full
    // and minor collections.
    let (nodes, rounds) = if cfg!(miri) { (120, 12) } else { (1000, 30) };
    // Every third node gets an identity; garbage between them makes everything move.
    let expected: HashMap<u32, u64> = arena.mutate_root(|mc, root| {
        for i in 0..nodes {
            root.push(node(mc, i));
            node(mc, 10_000 + i);
        }
        root.iter().filter(|n| n.id % 3 == 0).map(|n| (n.id, Gc::identity_hash(*n, mc))).collect()
    });
    let by_identity: HashMap<u64, u32> = expected.iter().map(|(&id, &hash)| (hash, id)).collect();
    assert_eq!(by_identity.len(), expected.len(), "identities are unique");
    for round in 0..rounds {
        let kind = if round % 3 == 0 { CollectionKind::Full } else { CollectionKind::Minor };
        arena.collect(kind);
        arena.mutate(|mc, root| {
            for _ in 0..nodes / 5 {
                node(mc, 0); // more garbage
            }
            for n in root.iter().filter(|n| n.id % 3 == 0) {
                let hash = Gc::identity_hash(*n, mc);
                assert_eq!(hash, expected[&n.id], "round {round}");
                assert_eq!(by_identity[&hash], n.id, "a map keyed by identity still works");
            }
        });
        if round == 10 {
            // Free half of them: their table entries go, the others keep theirs.
            arena.mutate_root(|_, root| root.retain(|n| n.id % 2 == 0));
        }
    }
    arena.mutate(|_, root| assert_eq!(root.len(), nodes as usize / 2));
}

#[test]
fn finalization_tokens_are_delivered_once_after_death() {
    let registry = FinalizationRegistry::<u32>::new();
    let mut arena = Arena::<Rootable![Vec<Gc<'_, Node<'_>>>]>::new(config(), |_| Vec::new());
    arena.mutate_root(|mc, root| {
        for i in 0..20 {
            let n = node(mc, i);
            registry.register(mc, n, i);
            if i < 10 {
                root.push(n);
            }
        }
    });
    assert_eq!(registry.pending(), 20);
    arena.collect_minor();
    let mut got = registry.drain();
    got.sort();
    assert_eq!(got, (10..20).collect::<Vec<_>>(), "the young dead, at the minor collection");
    arena.collect_full();
    assert_eq!(registry.take(), None);
    arena.mutate_root(|_, root| root.truncate(5));
    arena.collect_minor();
    assert_eq!(registry.take(), None, "old objects die only in full collections");
    arena.collect_full();
    let mut got = registry.drain();
    got.sort();
    assert_eq!(got, (5..10).collect::<Vec<_>>());
    assert_eq!(registry.pending(), 5);
    arena.collect_full();
    assert!(registry.drain().is_empty(), "each token once");
}

#[test]
fn a_dropped_registry_frees_its_registrations() {
    let mut arena = Arena::<Rootable![Vec<Gc<'_, Node<'_>>>]>::new(config(), |_| Vec::new());
    let token = std::rc::Rc::new(());
    {
        let registry = FinalizationRegistry::new();
        arena.mutate_root(|mc, root| {
            let n = node(mc, 1);
            registry.register(mc, n, token.clone());
            root.push(n);
        });
    }
    assert_eq!(std::rc::Rc::strong_count(&token), 2);
    arena.collect_minor();
    assert_eq!(std::rc::Rc::strong_count(&token), 1, "the token was dropped with the registration");
}

/// A node large enough for the large-object space (the tests' threshold is 2 KiB).
#[derive(Trace)]
struct Big<'gc> {
    id: u32,
    _pad: [u64; 400],
    next: Lock<Option<Gc<'gc, Node<'gc>>>>,
}

type BigRoot = Rootable![(
    Vec<Gc<'_, Big<'_>>>,
    Vec<GcWeak<'_, Big<'_>>>,
    Gc<'_, RefLock<EphemeronTable<'_, Big<'_>, Gc<'_, Node<'_>>>>>
)];

/// Large objects as weak targets, ephemeron keys and finalization targets: the liveness of a
/// large object is its header's mark, not a block's bitmap. Alive through full collections
/// they keep their entries; dead, they lose them.
#[test]
fn large_objects_as_weak_targets_ephemeron_keys_and_finalization_targets() {
    let registry = FinalizationRegistry::<u32>::new();
    let mut arena = Arena::<BigRoot>::new(config(), |mc| {
        (Vec::new(), Vec::new(), Gc::new(mc, RefLock::new(EphemeronTable::new())))
    });
    arena.mutate_root(|mc, (bigs, weak, table)| {
        for id in 0..6 {
            let big = Gc::new(mc, Big { id, _pad: [u64::from(id); 400], next: Lock::new(None) });
            bigs.push(big);
            weak.push(Gc::downgrade(big));
            table.borrow_mut(mc).insert(mc, big, node(mc, 100 + id));
            registry.register(mc, big, id);
        }
    });
    for round in 0..3 {
        arena.collect_full();
        assert_eq!(registry.take(), None, "round {round}: all alive");
        arena.mutate(|mc, (bigs, weak, table)| {
            for (big, weak) in bigs.iter().zip(weak) {
                assert_eq!(weak.upgrade().map(|b| b.id), Some(big.id), "round {round}");
                let value = table.borrow().get(mc, *big).map(|n| n.id);
                assert_eq!(value, Some(100 + big.id), "round {round}");
            }
            assert_eq!(table.borrow().len(), 6);
        });
    }
    // The odd ones die.
    arena.mutate_root(|_, (bigs, _, _)| bigs.retain(|b| b.id % 2 == 0));
    arena.collect_minor();
    assert_eq!(registry.take(), None, "large objects die only in full collections");
    arena.collect_full();
    let mut delivered = registry.drain();
    delivered.sort();
    assert_eq!(delivered, [1, 3, 5]);
    arena.mutate(|_, (_, weak, table)| {
        let alive: Vec<Option<u32>> = weak.iter().map(|w| w.upgrade().map(|b| b.id)).collect();
        assert_eq!(alive, [Some(0), None, Some(2), None, Some(4), None]);
        let table = table.borrow();
        assert_eq!(table.len(), 3);
        let mut keys: Vec<u32> = table
            .iter()
            .map(|(k, v)| {
                assert_eq!(v.id, 100 + k.id);
                k.id
            })
            .collect();
        keys.sort();
        assert_eq!(keys, [0, 2, 4]);
    });
}

type MovedRoot = Rootable![(Vec<Gc<'_, Node<'_>>>, Vec<Gc<'_, Node<'_>>>)];

/// Registrations, weak slots and identity hashes follow objects that compaction slides down
/// (garbage allocated before them dies first), through several full collections, and the
/// registration is delivered for the right object when it finally dies.
#[test]
fn registrations_follow_objects_that_compaction_moves() {
    let registry = FinalizationRegistry::<u32>::new();
    let mut arena = Arena::<MovedRoot>::new(config(), |_| (Vec::new(), Vec::new()));
    arena.mutate_root(|mc, (garbage, kept)| {
        for id in 0..3_000 {
            let n = node(mc, id);
            if id % 3 == 0 {
                registry.register(mc, n, id);
                kept.push(n);
            } else {
                garbage.push(n);
            }
        }
    });
    arena.collect_minor(); // all old, interleaved
    let addresses = |arena: &mut Arena<MovedRoot>| {
        arena
            .mutate(|_, (_, kept)| kept.iter().map(|n| Gc::as_ptr(*n) as usize).collect::<Vec<_>>())
    };
    let before = addresses(&mut arena);
    arena.mutate_root(|_, (garbage, _)| garbage.clear());
    arena.collect_full();
    let after = addresses(&mut arena);
    assert!(
        before.iter().zip(&after).filter(|(a, b)| a != b).count() > 500,
        "compaction moved them"
    );
    assert_eq!(registry.take(), None);
    // Every third kept object dies, one full collection at a time.
    for round in 0..3u32 {
        arena.mutate_root(|_, (_, kept)| kept.retain(|n| n.id % 9 != round * 3));
        arena.collect_full();
        let mut got = registry.drain();
        got.sort();
        let expected: Vec<u32> = (0..3_000).filter(|id| id % 9 == round * 3).collect();
        assert_eq!(got, expected, "round {round}");
    }
    assert_eq!(registry.pending(), 0);
}

/// The tables' lookups, removal and emptiness, before and after collections move the keys.
#[test]
fn table_lookups_and_removal() {
    type Root = Rootable![(
        Vec<Gc<'_, Node<'_>>>,
        Gc<'_, RefLock<EphemeronTable<'_, Node<'_>, u32>>>,
        WeakValueTable<'_, u32, Node<'_>>
    )];
    let mut arena = Arena::<Root>::new(config(), |mc| {
        (Vec::new(), Gc::new(mc, RefLock::new(EphemeronTable::new())), WeakValueTable::new())
    });
    arena.mutate_root(|mc, (keys, eph, weak)| {
        assert!(eph.borrow().is_empty() && weak.is_empty());
        for id in 0..10 {
            let n = node(mc, id);
            keys.push(n);
            eph.borrow_mut(mc).insert(mc, n, id * 10);
            weak.insert(id, n);
        }
        assert!(!eph.borrow().is_empty() && !weak.is_empty());
        let shown = format!("{:?} {weak:?}", eph.borrow());
        assert!(shown.contains(": 90") && shown.contains("9: Some("), "{shown}");
    });
    for kind in [CollectionKind::Minor, CollectionKind::Full] {
        arena.collect(kind);
        arena.mutate_root(|mc, (keys, eph, weak)| {
            let stranger = node(mc, 99);
            assert!(!eph.borrow().contains_key(mc, stranger));
            assert_eq!(eph.borrow().get(mc, stranger), None);
            assert_eq!(eph.borrow_mut(mc).remove(mc, stranger), None);
            assert!(weak.get(&99).is_none());
            assert_eq!(weak.remove(&99).map(|n| n.id), None);
            for key in keys.iter() {
                assert!(eph.borrow().contains_key(mc, *key), "{kind:?}");
                assert_eq!(weak.get(&key.id).map(|n| n.id), Some(key.id));
            }
            let last = *keys.last().unwrap();
            assert_eq!(eph.borrow_mut(mc).remove(mc, last), Some(last.id * 10));
            assert!(!eph.borrow().contains_key(mc, last));
            assert_eq!(eph.borrow_mut(mc).remove(mc, last), None);
            assert_eq!(weak.remove(&last.id).map(|n| n.id), Some(last.id));
            assert!(weak.get(&last.id).is_none());
            keys.pop();
        });
    }
    arena.mutate_root(|mc, (keys, eph, weak)| {
        assert_eq!((eph.borrow().len(), weak.len()), (8, 8));
        for key in keys.drain(..) {
            eph.borrow_mut(mc).remove(mc, key);
            weak.remove(&key.id);
        }
        assert!(eph.borrow().is_empty() && weak.is_empty());
    });
}

/// A registry stays alive while any clone of it does: tokens are delivered (one at a time
/// through `take`) as long as one handle is left, and dropped undelivered once none is.
#[test]
fn registry_clones_and_take() {
    let mut arena = Arena::<Rootable![Vec<Gc<'_, Node<'_>>>]>::new(config(), |_| Vec::new());
    let registry = FinalizationRegistry::<u32>::new();
    let clone = registry.clone();
    arena.mutate_root(|mc, root| {
        for i in 0..4 {
            let n = node(mc, i);
            clone.register(mc, n, i);
            root.push(n);
        }
    });
    drop(clone);
    arena.mutate_root(|_, root| root.truncate(2));
    arena.collect_minor();
    let mut got = vec![registry.take().unwrap(), registry.take().unwrap()];
    got.sort();
    assert_eq!(got, [2, 3], "delivered to the registry left");
    assert_eq!(registry.take(), None);
    assert_eq!(registry.pending(), 2);
    let token = std::rc::Rc::new(());
    let other = FinalizationRegistry::new();
    arena.mutate(|mc, root| other.register(mc, root[0], token.clone()));
    let copy = other.clone();
    drop(other);
    drop(copy);
    arena.mutate_root(|_, root| root.clear());
    arena.collect_full();
    assert_eq!(std::rc::Rc::strong_count(&token), 1, "no handle left: dropped undelivered");
    let mut rest = registry.drain();
    rest.sort();
    assert_eq!(rest, [0, 1]);
    assert_eq!(registry.pending(), 0);
}
