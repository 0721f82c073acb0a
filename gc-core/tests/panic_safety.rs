//! Panics in user code wherever the collector calls it, and memory exhaustion: the heap stays
//! consistent and usable, and nothing reachable is lost.

mod common;

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use common::{config, DropCounter, DropToken};
use gc_core::{
    Arena, CollectionKind, EphemeronTable, Gc, HeapConfig, Lock, RefLock, Rootable, Trace, Tracer,
};

thread_local! {
    /// Trace calls left before `Bomb::trace` panics (0: never).
    static FUSE: Cell<usize> = const { Cell::new(0) };
}

fn arm(calls: usize) {
    FUSE.with(|f| f.set(calls));
}

/// A node whose hand-written `Trace` impl panics when the fuse runs out.
struct Bomb<'gc> {
    id: u64,
    next: Lock<Option<Gc<'gc, Bomb<'gc>>>>,
}

// SAFETY: traces its one pointer, in place; panicking is allowed.
unsafe impl<'gc> Trace for Bomb<'gc> {
    const NEEDS_TRACE: bool = true;
    fn trace(&mut self, tracer: &mut Tracer<'_>) {
        FUSE.with(|f| match f.get() {
            0 => {}
            1 => {
                f.set(0);
                panic!("trace panicked");
            }
            n => f.set(n - 1),
        });
        self.next.trace(tracer)
    }
}

type Chain = Rootable![Vec<Gc<'_, Bomb<'_>>>];

/// The test configuration without the verifier at every collection: the verifier traces the
/// heap with the same `Trace` impls before each collection, so an armed fuse would blow in the
/// verifier and never reach the collector. These tests verify explicitly, disarmed.
fn unverified() -> gc_core::HeapConfig {
    common::builder().verify(false).build().unwrap()
}

fn build(arena: &mut Arena<Chain>, n: u64) {
    arena.mutate_root(|mc, heads| {
        let mut prev = None;
        for id in 0..n {
            let node = Gc::new(mc, Bomb { id, next: Lock::new(prev) });
            prev = Some(node);
            if id % 100 == 99 {
                heads.push(node);
            }
        }
    });
}

/// Every chain still holds `n` nodes with the right ids.
fn check(arena: &mut Arena<Chain>, n: u64) {
    arena.verify().expect("verifies");
    arena.mutate(|_, heads| {
        let mut seen = 0;
        for head in heads {
            let mut at = Some(*head);
            let mut expect = head.id as i64;
            while let Some(node) = at {
                assert_eq!(node.id as i64, expect);
                expect -= 1;
                seen += 1;
                at = node.next.get();
            }
        }
        assert_eq!(seen, (1..=n / 100).map(|k| k * 100).sum::<u64>());
    });
}

#[test]
fn a_trace_panic_abandons_the_collection_and_leaves_the_heap_as_it_was() {
    for kind in [CollectionKind::Minor, CollectionKind::Full] {
        for fuse in [1, 2, 500, 1_000] {
            let mut arena = Arena::<Chain>::new(unverified(), |_| Vec::new());
            build(&mut arena, 1_000);
            if kind == CollectionKind::Full {
                arena.collect_minor(); // the chains are old: the full collection marks them
            }
            let before = arena.census();
            arm(fuse);
            let result = catch_unwind(AssertUnwindSafe(|| arena.collect(kind)));
            arm(0);
            let err = result.expect_err("the trace panic propagates");
            assert_eq!(err.downcast_ref::<&str>(), Some(&"trace panicked"), "{kind:?} fuse {fuse}");
            assert_eq!(arena.census(), before, "nothing moved or died");
            check(&mut arena, 1_000);
            // Without the fuse, the same collection succeeds and keeps everything.
            arena.collect(kind);
            arena.collect_full();
            check(&mut arena, 1_000);
            build(&mut arena, 1_000);
            arena.collect_minor();
        }
    }
}

#[test]
fn a_trace_panic_in_an_ephemeron_value_is_undone_too() {
    type Root =
        Rootable![(Vec<Gc<'_, Bomb<'_>>>, Gc<'_, RefLock<EphemeronTable<'_, Bomb<'_>, Bomb<'_>>>>)];
    let mut arena = Arena::<Root>::new(unverified(), |mc| {
        (Vec::new(), Gc::new(mc, RefLock::new(EphemeronTable::new())))
    });
    arena.mutate_root(|mc, (keys, table)| {
        for id in 0..100 {
            let key = Gc::new(mc, Bomb { id, next: Lock::new(None) });
            let value = Bomb { id: 1000 + id, next: Lock::new(Some(key)) };
            table.borrow_mut(mc).insert(mc, key, value);
            keys.push(key);
        }
    });
    for kind in [CollectionKind::Minor, CollectionKind::Full] {
        arm(150); // past the keys, into the values
        let result = catch_unwind(AssertUnwindSafe(|| arena.collect(kind)));
        arm(0);
        assert!(result.is_err());
        arena.verify().unwrap();
        arena.collect(kind);
        arena.mutate(|mc, (keys, table)| {
            for key in keys {
                assert_eq!(table.borrow().get(mc, *key).unwrap().id, 1000 + key.id);
            }
        });
    }
}

/// Weak slots recorded before a trace panic are forgotten with the abandoned collection: the
/// next collections, which move the objects, update exactly the slots of their own tracing
/// (a stale recorded slot would be rewritten or cleared after its object moved away).
#[test]
fn weak_slots_recorded_before_a_trace_panic_are_forgotten() {
    type Root = Rootable![(Vec<Gc<'_, Weakling<'_>>>, Vec<Gc<'_, Bomb<'_>>>)];
    #[derive(Trace)]
    struct Weakling<'gc> {
        id: u64,
        target: Lock<Option<gc_core::GcWeak<'gc, Bomb<'gc>>>>,
    }
    for kind in [CollectionKind::Minor, CollectionKind::Full] {
        for fuse in [50, 150, 299] {
            let mut arena = Arena::<Root>::new(unverified(), |_| (Vec::new(), Vec::new()));
            arena.mutate_root(|mc, (weaklings, bombs)| {
                for id in 0..300 {
                    let garbage = Gc::new(mc, Bomb { id: 10_000 + id, next: Lock::new(None) });
                    let bomb = Gc::new(mc, Bomb { id, next: Lock::new(Some(garbage)) });
                    // Weak slots first in the root, so they are recorded before the fuse blows.
                    let target = Lock::new(Some(Gc::downgrade(bomb)));
                    weaklings.push(Gc::new(mc, Weakling { id, target }));
                    bombs.push(bomb);
                }
            });
            if kind == CollectionKind::Full {
                arena.collect_minor();
                // Garbage in front of every live object, so the full collection moves them.
                arena.mutate_root(|mc, (_, bombs)| {
                    for bomb in bombs.iter() {
                        gc_core::field!(Gc::write(mc, *bomb), Bomb, next).set(None);
                    }
                });
                arena.collect_minor();
            }
            arm(fuse);
            let result = catch_unwind(AssertUnwindSafe(|| arena.collect(kind)));
            arm(0);
            assert!(result.is_err(), "{kind:?} {fuse}");
            arena.verify().unwrap();
            // Half the targets die, and a third of the objects holding the weak slots (a slot
            // recorded by the abandoned collection would now be in a dead object); the
            // collections move the rest.
            arena.mutate_root(|_, (weaklings, bombs)| {
                bombs.retain(|b| b.id % 2 == 0);
                weaklings.retain(|w| w.id % 3 != 0);
            });
            arena.collect(kind);
            arena.collect_full();
            arena.verify().unwrap();
            arena.mutate(|_, (weaklings, bombs)| {
                assert_eq!((bombs.len(), weaklings.len()), (150, 200));
                for w in weaklings {
                    let target = w.target.get().and_then(|t| t.upgrade());
                    if w.id % 2 == 0 {
                        assert_eq!(target.map(|t| t.id), Some(w.id), "{kind:?} {fuse}");
                    } else {
                        assert!(target.is_none(), "{kind:?} {fuse}: {} should be dead", w.id);
                    }
                }
            });
        }
    }
}

#[test]
fn panicking_destructors_in_every_space_are_resumed_after_the_collection() {
    thread_local! {
        static EXPLODE: Cell<bool> = const { Cell::new(true) };
    }
    #[derive(Trace)]
    #[trace(require_static)]
    struct Fragile {
        _big: Box<[u8]>,
        _token: DropToken,
    }
    impl Drop for Fragile {
        fn drop(&mut self) {
            if EXPLODE.with(|e| e.get()) {
                panic!("destructor panicked");
            }
        }
    }
    #[derive(Trace)]
    #[trace(require_static)]
    struct LargeFragile {
        _inline: [u64; 1024],
        _fragile: Fragile,
    }
    let drops = DropCounter::default();
    let mut arena = Arena::<Rootable![Vec<Gc<'_, Bomb<'_>>>]>::new(config(), |_| Vec::new());
    build(&mut arena, 1_000);
    let fragile = |drops: &DropCounter| Fragile { _big: vec![0; 10].into(), _token: drops.token() };
    // Young, old and large dead objects with panicking destructors, three each.
    arena.mutate(|mc, _| {
        for _ in 0..3 {
            Gc::new(mc, fragile(&drops));
        }
    });
    let err = catch_unwind(AssertUnwindSafe(|| arena.collect_minor())).unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"destructor panicked"));
    assert_eq!(drops.count(), 3, "every destructor ran, the first panic was resumed");
    check(&mut arena, 1_000);
    let keep = arena.mutate(|mc, _| {
        for _ in 0..3 {
            Gc::new(mc, LargeFragile { _inline: [0; 1024], _fragile: fragile(&drops) });
        }
        mc.handle::<Rootable![Fragile]>(Gc::new(mc, fragile(&drops)))
    });
    arena.collect_minor();
    drop(keep);
    let err = catch_unwind(AssertUnwindSafe(|| arena.collect_full())).unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"destructor panicked"));
    assert_eq!(drops.count(), 7);
    check(&mut arena, 1_000);
    arena.collect_full();
    check(&mut arena, 1_000);
    EXPLODE.with(|e| e.set(false));
}

#[test]
fn a_mapping_failure_while_promoting_leaves_the_heap_intact() {
    // More than a block of survivors (24-byte nodes, 16 KiB blocks); fewer under Miri.
    let n = if cfg!(miri) { 1_500 } else { 5_000 };
    let mut arena = Arena::<Chain>::new(config(), |_| Vec::new());
    build(&mut arena, n);
    let before = arena.census();
    gc_core::__testing::fail_next_maps(1);
    let err = catch_unwind(AssertUnwindSafe(|| arena.collect_minor())).unwrap_err();
    gc_core::__testing::fail_next_maps(0);
    let message = err.downcast_ref::<String>().expect("a message");
    assert!(message.contains("out of memory promoting"), "{message}");
    assert_eq!(arena.census(), before);
    check(&mut arena, n);
    arena.collect_minor();
    arena.collect_full();
    check(&mut arena, n);
}

#[test]
fn a_mapping_failure_while_allocating_is_a_typed_error() {
    // No room to grow the nursery: past it, allocation needs old-generation blocks.
    let config = HeapConfig::builder()
        .nursery_size(64 * 1024)
        .nursery_reserve(64 * 1024)
        .verify(true)
        .build()
        .unwrap();
    let arena = Arena::<Rootable![Vec<Gc<'_, [u8]>>]>::new(config, |_| Vec::new());
    arena.mutate(|mc, _| {
        // Past the nursery, the extension and then the old generation need mappings...
        // which fail.
        gc_core::__testing::fail_next_maps(usize::MAX);
        let mut made = Vec::new();
        let err = loop {
            match mc.try_alloc_slice_copy(&[7u8; 1000]) {
                Ok(s) => made.push(s),
                Err(err) => break err,
            }
            assert!(made.len() < 1000, "the nursery holds about 64 of them");
        };
        gc_core::__testing::fail_next_maps(0);
        assert!(err.to_string().contains("out of memory"), "{err}");
        assert!(made.iter().all(|s| s.iter().all(|&b| b == 7)));
        // The next allocation works again.
        mc.alloc_slice_copy(&[1u8; 1000]);
    });
    // One failure is absorbed (a smaller reservation for the nursery's growth); when the OS
    // refuses everything, creating an arena is a typed error.
    gc_core::__testing::fail_next_maps(1);
    assert!(Arena::<Rootable![()]>::try_new(HeapConfig::default(), |_| ()).is_ok());
    gc_core::__testing::fail_next_maps(usize::MAX);
    let err = Arena::<Rootable![()]>::try_new(HeapConfig::default(), |_| ()).unwrap_err();
    gc_core::__testing::fail_next_maps(0);
    assert!(err.to_string().contains("cannot map the nursery"), "{err}");
}
