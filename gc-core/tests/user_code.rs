//! User code that a collection runs, at every call site the crate docs list ("User code
//! during a collection"): object destructors in each space, ephemeron-table values,
//! weak-value-table keys, finalization tokens, the drop of panic payloads, the heap-limit
//! callback, and the same at arena drop. Each panics there, two at a time, the second with a
//! payload whose own `Drop` panics: the first panic is resumed after the collection, every
//! other destructor has run exactly once, the heap verifies, every surviving object is intact,
//! and the next collections work.

mod common;

use std::cell::Cell;
use std::panic::{catch_unwind, panic_any, AssertUnwindSafe};

use common::{builder, config, DropCounter, DropToken};
use gc_core::{
    Arena, EphemeronTable, FinalizationRegistry, Gc, HeapConfig, Lock, RefLock, Rootable, Trace,
    WeakValueTable,
};

/// A panic payload whose `Drop` panics too.
struct NastyPayload;

impl Drop for NastyPayload {
    fn drop(&mut self) {
        // A zero-sized payload: the collector leaks the payload of this nested panic rather
        // than risk dropping it, and Valgrind's leak check would count a boxed one.
        panic_any(NestedPanic);
    }
}

/// The payload of a `NastyPayload`'s own panic.
struct NestedPanic;

/// How a `Fragile` value's destructor behaves.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Fuse {
    Quiet,
    Panic,
    NastyPanic,
}

/// The fuses of `n` values: two of them blow, first (in allocation order, which the
/// collections' walks follow) one with a plain panic, then one with a payload that panics when
/// dropped: the second payload is the one the collector must drop.
fn fuses(n: usize) -> impl Iterator<Item = Fuse> {
    (0..n).map(move |i| match i {
        _ if i == n / 3 => Fuse::Panic,
        _ if i == 2 * n / 3 => Fuse::NastyPanic,
        _ => Fuse::Quiet,
    })
}

fn blow(fuse: Fuse) {
    match fuse {
        Fuse::Quiet => {}
        Fuse::Panic => panic!("a destructor panicked"),
        Fuse::NastyPanic => panic_any(NastyPayload),
    }
}

/// A `'static` value whose destructor may panic; its token counts the drop either way.
#[derive(Trace)]
#[trace(require_static)]
struct Fragile {
    fuse: Fuse,
    _token: DropToken,
}

impl Drop for Fragile {
    fn drop(&mut self) {
        blow(self.fuse)
    }
}

/// The same, large enough for the large-object space (the tests' threshold is 2 KiB).
#[derive(Trace)]
#[trace(require_static)]
struct LargeFragile {
    _inline: [u64; 512],
    _fragile: Fragile,
}

/// A weak-value table key whose destructor may panic.
#[derive(PartialEq, Eq, Hash)]
struct FragileKey(u32, Fuse, Rc);

type Rc = std::rc::Rc<()>;

impl Drop for FragileKey {
    fn drop(&mut self) {
        blow(self.1)
    }
}

/// A node of the live structure that must come through intact.
#[derive(Trace)]
struct Node<'gc> {
    id: u64,
    next: Lock<Option<Gc<'gc, Node<'gc>>>>,
}

fn chain<'gc>(mc: &gc_core::Mutation<'gc>, n: u64) -> Gc<'gc, Node<'gc>> {
    let mut head = Gc::new(mc, Node { id: 0, next: Lock::new(None) });
    for id in 1..n {
        head = Gc::new(mc, Node { id, next: Lock::new(Some(head)) });
    }
    head
}

fn check_chain<'gc>(head: Gc<'gc, Node<'gc>>, n: u64) {
    let mut at = Some(head);
    let mut expect = n;
    while let Some(node) = at {
        expect -= 1;
        assert_eq!(node.id, expect);
        at = node.next.get();
    }
    assert_eq!(expect, 0);
}

/// Runs `f`, which must panic with the first of the fuses' panics: a plain one, or the
/// payload that panics when dropped (leaked here, as a careful embedder would).
fn expect_fuse_panic(f: impl FnOnce()) {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("the destructor's panic is resumed");
    if err.is::<NastyPayload>() {
        std::mem::forget(err);
    } else {
        assert_eq!(err.downcast_ref::<&str>(), Some(&"a destructor panicked"));
    }
}

#[derive(Clone, Copy, Debug)]
enum Space {
    Young,
    Old,
    Large,
}

type ObjectsRoot =
    Rootable![(Option<Gc<'_, Node<'_>>>, Vec<Gc<'_, Fragile>>, Vec<Gc<'_, LargeFragile>>)];

/// Dead objects with panicking destructors, in each space, found by each kind of collection
/// that frees them.
#[test]
fn object_destructors() {
    for space in [Space::Young, Space::Old, Space::Large] {
        let drops = DropCounter::default();
        let mut arena = Arena::<ObjectsRoot>::new(config(), |_| (None, Vec::new(), Vec::new()));
        arena.mutate_root(|mc, (head, small, large)| {
            *head = Some(chain(mc, 2_000));
            for fuse in fuses(100) {
                let fragile = Fragile { fuse, _token: drops.token() };
                match space {
                    Space::Large => large
                        .push(Gc::new(mc, LargeFragile { _inline: [7; 512], _fragile: fragile })),
                    _ => small.push(Gc::new(mc, fragile)),
                }
            }
        });
        if !matches!(space, Space::Young) {
            arena.collect_minor();
        }
        let census = arena.census();
        arena.mutate_root(|_, (_, small, large)| {
            small.clear();
            large.clear();
        });
        match space {
            Space::Young => expect_fuse_panic(|| arena.collect_minor()),
            _ => {
                arena.collect_minor();
                expect_fuse_panic(|| arena.collect_full())
            }
        }
        assert_eq!(drops.count(), 100, "{space:?}: every destructor ran once");
        arena.verify().expect("verifies");
        assert!(arena.census() != census, "{space:?}: the dead are gone");
        arena.mutate(|_, (head, _, _)| check_chain(head.unwrap(), 2_000));
        arena.collect_minor();
        arena.collect_full();
        arena.mutate(|_, (head, _, _)| check_chain(head.unwrap(), 2_000));
        assert_eq!(drops.count(), 100, "{space:?}: and only once");
    }
}

/// Live objects with panicking destructors when the arena is dropped, in every space: all of
/// them are dropped, the first panic comes out of the arena's drop.
#[test]
fn object_destructors_at_arena_drop() {
    let drops = DropCounter::default();
    let mut arena = Arena::<ObjectsRoot>::new(config(), |_| (None, Vec::new(), Vec::new()));
    let make = |arena: &mut Arena<ObjectsRoot>| {
        arena.mutate_root(|mc, (head, small, large)| {
            *head = Some(chain(mc, 100));
            for (i, fuse) in fuses(30).enumerate() {
                let fragile = Fragile { fuse, _token: drops.token() };
                if i % 3 == 0 {
                    large.push(Gc::new(mc, LargeFragile { _inline: [7; 512], _fragile: fragile }));
                } else {
                    small.push(Gc::new(mc, fragile));
                }
            }
        })
    };
    make(&mut arena);
    arena.collect_minor(); // old and large
    make(&mut arena); // young and large
    expect_fuse_panic(move || drop(arena));
    assert_eq!(drops.count(), 60);
}

type EphemeronRoot = Rootable![(
    Option<Gc<'_, Node<'_>>>,
    Vec<Gc<'_, Node<'_>>>,
    Gc<'_, RefLock<EphemeronTable<'_, Node<'_>, Fragile>>>
)];

/// Ephemeron-table entries whose keys die: every value is dropped, and no entry with a dead
/// key is left in the table (issue 13, item 2: `retain` stopped at the first panic and left
/// dead keys behind, which `iter` then handed out).
#[test]
fn ephemeron_table_values() {
    for full in [false, true] {
        let drops = DropCounter::default();
        let mut arena = Arena::<EphemeronRoot>::new(config(), |mc| {
            (None, Vec::new(), Gc::new(mc, RefLock::new(EphemeronTable::new())))
        });
        arena.mutate_root(|mc, (head, keys, table)| {
            *head = Some(chain(mc, 1_000));
            for (i, fuse) in fuses(100).enumerate() {
                let key = Gc::new(mc, Node { id: i as u64, next: Lock::new(None) });
                keys.push(key);
                table.borrow_mut(mc).insert(mc, key, Fragile { fuse, _token: drops.token() });
            }
        });
        if full {
            arena.collect_minor();
        }
        // Half the keys die: the even ones stay.
        arena.mutate_root(|_, (_, keys, _)| keys.retain(|k| k.id % 2 == 0));
        let collect = |arena: &mut Arena<EphemeronRoot>| {
            if full {
                arena.collect_full()
            } else {
                arena.collect_minor()
            }
        };
        // The panicking values are at keys 33 (odd, dies) and 66 (even): kill 66 too.
        arena.mutate_root(|_, (_, keys, _)| keys.retain(|k| k.id != 66));
        let before = drops.count();
        assert_eq!(before, 0);
        expect_fuse_panic(|| collect(&mut arena));
        assert_eq!(drops.count(), 51, "full: {full}: 50 odd keys and key 66");
        arena.verify().expect("verifies");
        arena.mutate(|mc, (head, keys, table)| {
            check_chain(head.unwrap(), 1_000);
            let table = table.borrow();
            assert_eq!(table.len(), 49, "full: {full}: no dead key left");
            let mut seen = 0;
            for (key, value) in table.iter() {
                assert!(key.id % 2 == 0 && key.id != 66, "full: {full}: a dead key: {}", key.id);
                assert_eq!(value.fuse, Fuse::Quiet);
                seen += 1;
            }
            assert_eq!(seen, 49);
            for key in keys.iter() {
                assert!(table.contains_key(mc, *key));
            }
        });
        arena.collect_full();
        arena.verify().expect("verifies");
        assert_eq!(drops.count(), 51, "full: {full}: each value dropped once");
        arena.mutate_root(|_, (_, keys, _)| keys.clear());
        arena.collect_full();
        assert_eq!(drops.count(), 100);
    }
}

type WeakValuesRoot = Rootable![(Vec<Gc<'_, Node<'_>>>, WeakValueTable<'_, FragileKey, Node<'_>>)];

/// Weak-value-table entries whose values die: every key is dropped (their destructors panic),
/// no entry is left behind.
#[test]
fn weak_value_table_keys() {
    for full in [false, true] {
        let keys = Rc::new(());
        let mut arena =
            Arena::<WeakValuesRoot>::new(config(), |_| (Vec::new(), WeakValueTable::new()));
        arena.mutate_root(|mc, (values, table)| {
            for (i, fuse) in fuses(100).enumerate() {
                let value = Gc::new(mc, Node { id: i as u64, next: Lock::new(None) });
                values.push(value);
                table.insert(FragileKey(i as u32, fuse, keys.clone()), value);
            }
        });
        if full {
            arena.collect_minor();
        }
        // The values of the panicking keys (33 and 66) die with the odd ones.
        arena.mutate_root(|_, (values, _)| values.retain(|v| v.id % 2 == 0 && v.id != 66));
        if full {
            arena.collect_minor();
            assert_eq!(Rc::strong_count(&keys), 1 + 100, "old values die in full collections");
            expect_fuse_panic(|| arena.collect_full());
        } else {
            expect_fuse_panic(|| arena.collect_minor());
        }
        arena.verify().expect("verifies");
        assert_eq!(Rc::strong_count(&keys), 1 + 49, "full: {full}: the dead entries' keys");
        arena.mutate(|_, (values, table)| {
            assert_eq!(table.len(), 49);
            for value in values {
                let key = FragileKey(value.id as u32, Fuse::Quiet, Rc::default());
                assert_eq!(table.get(&key).unwrap().id, value.id);
            }
            assert_eq!(table.iter().count(), 49);
        });
        arena.mutate_root(|_, (values, _)| values.clear());
        arena.collect_full();
        assert_eq!(Rc::strong_count(&keys), 1);
    }
}

type RegistrationsRoot = Rootable![(Option<Gc<'_, Node<'_>>>, Vec<Gc<'_, Node<'_>>>)];

/// Finalization tokens dropped by the collection because their registry is gone (issue 13,
/// item 3: the drop ran outside the panic catching, in the middle of a minor collection's
/// commit).
#[test]
fn finalization_tokens_of_a_dropped_registry() {
    for full in [false, true] {
        let drops = DropCounter::default();
        let mut arena = Arena::<RegistrationsRoot>::new(config(), |_| (None, Vec::new()));
        {
            let registry = FinalizationRegistry::<Fragile>::new();
            arena.mutate_root(|mc, (head, targets)| {
                *head = Some(chain(mc, 1_000));
                for fuse in fuses(100) {
                    let target = Gc::new(mc, Node { id: 0, next: Lock::new(None) });
                    registry.register(mc, target, Fragile { fuse, _token: drops.token() });
                    targets.push(target);
                }
            });
            if full {
                arena.collect_minor();
            }
        }
        arena.mutate_root(|_, (_, targets)| targets.clear());
        if full {
            arena.collect_minor();
            assert_eq!(drops.count(), 0, "old targets die in full collections");
            expect_fuse_panic(|| arena.collect_full());
        } else {
            expect_fuse_panic(|| arena.collect_minor());
        }
        assert_eq!(drops.count(), 100, "full: {full}");
        arena.verify().expect("verifies");
        arena.mutate(|_, (head, _)| check_chain(head.unwrap(), 1_000));
        arena.collect_full();
        arena.mutate(|_, (head, _)| check_chain(head.unwrap(), 1_000));
        assert_eq!(drops.count(), 100);
    }
}

/// Registrations still pending when the arena is dropped: their tokens are dropped, each once,
/// the first panic resumed.
#[test]
fn finalization_tokens_at_arena_drop() {
    let drops = DropCounter::default();
    let registry = FinalizationRegistry::<Fragile>::new();
    let mut arena = Arena::<RegistrationsRoot>::new(config(), |_| (None, Vec::new()));
    arena.mutate_root(|mc, (_, targets)| {
        for (i, fuse) in fuses(30).enumerate() {
            let target = Gc::new(mc, Node { id: 0, next: Lock::new(None) });
            registry.register(mc, target, Fragile { fuse, _token: drops.token() });
            if i % 2 == 0 {
                targets.push(target);
            }
        }
    });
    arena.collect_minor();
    assert_eq!(registry.drain().len(), 15);
    assert_eq!(drops.count(), 15);
    expect_fuse_panic(move || drop(arena));
    assert_eq!(drops.count(), 30);
    assert_eq!(registry.pending(), 0);
}

/// Two dead objects whose destructors panic, the second with a payload whose `Drop` panics
/// (issue 13, item 4), in a minor and a full collection, whichever runs first: no unwind
/// escapes the collector, every destructor runs.
#[test]
fn panic_payloads_that_panic_when_dropped() {
    for full in [false, true] {
        let drops = DropCounter::default();
        let mut arena = Arena::<ObjectsRoot>::new(config(), |_| (None, Vec::new(), Vec::new()));
        arena.mutate_root(|mc, (head, small, _)| {
            *head = Some(chain(mc, 500));
            for i in 0..100 {
                let fuse = if i < 2 { Fuse::NastyPanic } else { Fuse::Quiet };
                small.push(Gc::new(mc, Fragile { fuse, _token: drops.token() }));
            }
        });
        if full {
            arena.collect_minor();
        }
        arena.mutate_root(|_, (_, small, _)| small.clear());
        let err = catch_unwind(AssertUnwindSafe(|| {
            if full {
                arena.collect_full()
            } else {
                arena.collect_minor()
            }
        }))
        .expect_err("resumed");
        assert!(err.is::<NastyPayload>());
        std::mem::forget(err);
        assert_eq!(drops.count(), 100, "full: {full}");
        arena.verify().expect("verifies");
        arena.mutate(|_, (head, _, _)| check_chain(head.unwrap(), 500));
    }
}

/// The heap-limit callback panicking: the panic comes out of the collection that called it,
/// after the collection completed; a destructor's panic in the same collection is resumed
/// first.
#[test]
fn the_near_limit_callback() {
    let calls = std::rc::Rc::new(Cell::new(0));
    let config: HeapConfig = builder().max_heap(8 << 20).near_limit(0.001).build().unwrap();
    let mut arena = Arena::<ObjectsRoot>::new(config, |_| (None, Vec::new(), Vec::new()));
    let seen = calls.clone();
    arena.on_near_limit(move |_, _| {
        seen.set(seen.get() + 1);
        panic!("callback panicked");
    });
    arena.mutate_root(|mc, (head, _, _)| *head = Some(chain(mc, 500)));
    let err = catch_unwind(AssertUnwindSafe(|| arena.collect_minor())).unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"callback panicked"));
    assert_eq!(calls.get(), 1);
    arena.verify().expect("verifies");
    let drops = DropCounter::default();
    arena.mutate_root(|mc, (_, small, _)| {
        small.push(Gc::new(mc, Fragile { fuse: Fuse::Panic, _token: drops.token() }))
    });
    arena.mutate_root(|_, (_, small, _)| small.clear());
    expect_fuse_panic(|| arena.collect_minor());
    assert_eq!(calls.get(), 2, "called although a destructor panicked");
    arena.mutate(|_, (head, _, _)| check_chain(head.unwrap(), 500));
}
