//! The safe API: allocation, deref, formatting, cells, handles, configuration, panics.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use common::{config, DropCounter, DropToken};
use gc_core::{
    field, Arena, CollectionKind, ConfigError, Gc, Handle, HeapConfig, Lock, RefLock, Rootable,
    Trace,
};

#[derive(Trace, Debug)]
struct Pair<'gc> {
    name: Gc<'gc, str>,
    other: Lock<Option<Gc<'gc, Pair<'gc>>>>,
}

#[test]
fn gc_is_copy_deref_and_forwards_formatting() {
    let arena = Arena::<Rootable![()]>::new(config(), |_| ());
    arena.mutate(|mc, _| {
        let n = Gc::new(mc, 42u32);
        let m = n;
        assert_eq!(*n + *m, 84);
        assert_eq!(format!("{n} {n:?} {:?}", mc.alloc_str("hi")), "42 42 \"hi\"");
        assert!(Gc::ptr_eq(n, m));
        let other = Gc::new(mc, 42u32);
        assert!(!Gc::ptr_eq(n, other));
        assert_eq!(n, other, "equality compares the pointees");
        assert!(format!("{n:p}").starts_with("0x"));
        let s: Gc<'_, str> = mc.alloc_str("héllo");
        assert_eq!(s.len(), 6);
        assert_eq!(s.to_uppercase(), "HÉLLO");
        let v: Gc<'_, [i32]> = mc.alloc_slice_copy(&[1, 2, 3]);
        assert_eq!(&*v, &[1, 2, 3]);
        let w: Gc<'_, [String]> = mc.alloc_slice_clone(&["a".to_string(), "b".to_string()]);
        assert_eq!(w.join("+"), "a+b");
        let x: Gc<'_, [usize]> = mc.alloc_slice_from_iter((0..5).map(|i| i * i));
        assert_eq!(&*x, &[0, 1, 4, 9, 16]);
    });
}

#[test]
fn lock_and_reflock_mutation_through_the_barrier() {
    let mut arena = Arena::<Rootable![Gc<'_, Pair<'_>>]>::new(config(), |mc| {
        Gc::new(mc, Pair { name: mc.alloc_str("a"), other: Lock::new(None) })
    });
    arena.collect_full(); // the pair is old
    arena.mutate(|mc, a| {
        let b = Gc::new(mc, Pair { name: mc.alloc_str("b"), other: Lock::new(Some(*a)) });
        field!(Gc::write(mc, *a), Pair, other).set(Some(b));
    });
    arena.collect_minor();
    arena.mutate(|_, a| {
        let b = a.other.get().unwrap();
        assert_eq!(&*b.name, "b");
        assert!(Gc::ptr_eq(b.other.get().unwrap(), *a));
    });

    let mut arena = Arena::<Rootable![Gc<'_, RefLock<Vec<Gc<'_, str>>>>]>::new(config(), |mc| {
        Gc::new(mc, RefLock::new(vec![]))
    });
    arena.collect_full();
    arena.mutate(|mc, v| {
        v.borrow_mut(mc).push(mc.alloc_str("x"));
        Gc::write(mc, *v).borrow_mut().push(mc.alloc_str("y"));
        Gc::write(mc, *v).unlock().borrow_mut().push(mc.alloc_str("z"));
    });
    arena.collect_minor();
    arena.mutate(|_, v| assert_eq!(v.borrow().iter().map(|s| &**s).collect::<String>(), "xyz"));

    let mut arena =
        Arena::<Rootable![Gc<'_, Lock<u64>>]>::new(config(), |mc| Gc::new(mc, Lock::new(1)));
    arena.collect_minor();
    arena.mutate(|mc, n| {
        n.set(mc, n.get() + 1);
        assert_eq!(Lock::take(Gc::write(mc, *n)), 2);
    });
    arena.mutate(|_, n| assert_eq!(n.get(), 0));
}

type NodeRoot = Rootable![Pair<'_>];

#[test]
fn handles_keep_objects_alive_and_follow_them() {
    let mut arena = Arena::<Rootable![()]>::new(config(), |_| ());
    let handles: Vec<Handle<NodeRoot>> = arena.mutate(|mc, _| {
        (0..10)
            .map(|i| {
                let p = Gc::new(
                    mc,
                    Pair { name: mc.alloc_str(&format!("p{i}")), other: Lock::new(None) },
                );
                mc.handle::<NodeRoot>(p)
            })
            .collect()
    });
    let before: Vec<usize> =
        arena.mutate(|mc, _| handles.iter().map(|h| Gc::as_ptr(mc.fetch(h)) as usize).collect());
    arena.collect_minor();
    arena.collect_full();
    let after: Vec<usize> =
        arena.mutate(|mc, _| handles.iter().map(|h| Gc::as_ptr(mc.fetch(h)) as usize).collect());
    assert_ne!(before, after, "the objects moved");
    arena.mutate(|mc, _| {
        for (i, h) in handles.iter().enumerate() {
            assert_eq!(&*mc.fetch(h).name, format!("p{i}"));
        }
    });
    let live = arena.census().live_objects;
    assert_eq!(live, 20);
    let clone = handles[3].clone();
    drop(handles);
    arena.collect_full();
    assert_eq!(arena.census().live_objects, 2, "only the cloned handle's object is left");
    arena.mutate(|mc, _| assert_eq!(&*mc.fetch(&clone).name, "p3"));
    assert!(clone.site().file().ends_with("api.rs"));
}

#[test]
fn a_handle_from_another_arena_is_refused() {
    let a = Arena::<Rootable![()]>::new(config(), |_| ());
    let b = Arena::<Rootable![()]>::new(config(), |_| ());
    let h = a.mutate(|mc, _| mc.handle::<Rootable![u32]>(Gc::new(mc, 7u32)));
    let err = catch_unwind(AssertUnwindSafe(|| b.mutate(|mc, _| *mc.fetch(&h)))).unwrap_err();
    let msg = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()));
    assert!(msg.unwrap().contains("other than the one that created it"));
    assert_eq!(a.mutate(|mc, _| *mc.fetch(&h)), 7);
}

#[test]
fn a_panic_inside_mutate_leaves_the_heap_usable() {
    let drops = DropCounter::default();

    #[derive(Trace)]
    struct Tracked<'gc> {
        #[trace(skip)]
        _token: DropToken,
        next: Option<Gc<'gc, Tracked<'gc>>>,
    }

    let mut arena =
        Arena::<Rootable![Gc<'_, RefLock<Vec<Gc<'_, Tracked<'_>>>>>]>::new(config(), |mc| {
            Gc::new(mc, RefLock::new(Vec::new()))
        });
    for round in 0..4 {
        let result = catch_unwind(AssertUnwindSafe(|| {
            arena.mutate(|mc, list| {
                let mut list = list.borrow_mut(mc);
                for _ in 0..100 {
                    let next = list.last().copied();
                    list.push(Gc::new(mc, Tracked { _token: drops.token(), next }));
                }
                // Garbage, then a panic in the middle of a slice fill, with a borrow held.
                let _ = mc.alloc_slice_fill_with(50, |i| {
                    if i == 25 {
                        panic!("boom in round {round}");
                    }
                    Tracked { _token: drops.token(), next: None }
                });
            })
        }));
        assert!(result.is_err());
        assert_eq!(
            drops.count(),
            25 * (round + 1),
            "the elements made before the panic were dropped"
        );
        arena.verify().expect("consistent after the panic");
        arena.collect(if round % 2 == 0 { CollectionKind::Minor } else { CollectionKind::Full });
        arena.mutate(|_, list| assert_eq!(list.borrow().len(), 100 * (round + 1)));
    }
    arena.mutate(|mc, list| list.borrow_mut(mc).truncate(10));
    arena.collect_full();
    assert_eq!(drops.count(), 100 + 390);
}

#[test]
fn a_panicking_destructor_is_resumed_after_the_collection() {
    #[derive(Trace)]
    #[trace(require_static)]
    struct Bomb(u32);
    impl Drop for Bomb {
        fn drop(&mut self) {
            if self.0 == 3 {
                panic!("bomb 3");
            }
        }
    }
    let mut arena = Arena::<Rootable![Vec<Gc<'_, u32>>]>::new(config(), |_| Vec::new());
    arena.mutate_root(|mc, root| {
        for i in 0..10 {
            Gc::new(mc, Bomb(i));
            root.push(Gc::new(mc, i));
        }
    });
    let err = catch_unwind(AssertUnwindSafe(|| arena.collect_minor())).unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"bomb 3"));
    arena.verify().unwrap();
    arena.collect_full();
    arena.mutate(|_, root| assert_eq!(root.iter().map(|g| **g).sum::<u32>(), 45));
}

#[test]
fn invalid_configurations_are_typed_errors() {
    let b = HeapConfig::builder;
    assert!(matches!(b().nursery_size(0).build(), Err(ConfigError::NurseryTooSmall { .. })));
    assert!(matches!(
        b().block_size(100_000).build(),
        Err(ConfigError::BlockSizeNotPowerOfTwo { .. })
    ));
    assert!(matches!(b().block_size(1024).build(), Err(ConfigError::BlockSizeOutOfRange { .. })));
    assert!(matches!(
        b().block_size(64 * 1024).large_object_threshold(32 * 1024).build(),
        Err(ConfigError::ThresholdAboveBlock { .. })
    ));
    assert!(matches!(
        b().large_object_threshold(8).build(),
        Err(ConfigError::ThresholdTooSmall { .. })
    ));
    assert!(matches!(b().growth_factor(1.0).build(), Err(ConfigError::GrowthFactor { .. })));
    assert!(matches!(b().growth_factor(f64::NAN).build(), Err(ConfigError::GrowthFactor { .. })));
    let err = b().block_size(3).build().unwrap_err();
    assert_eq!(err.to_string(), "block size 3 bytes is not a power of two");
    let ok = b().nursery_size(100_000).build().unwrap();
    assert_eq!(ok.nursery_size() % 4096, 0, "rounded up to whole pages");
    assert_eq!(HeapConfig::default(), b().build().unwrap());
}

#[test]
fn collect_if_due_follows_the_nursery_and_the_old_generation() {
    if std::env::var_os("GC_CORE_STRESS").is_some() {
        return; // stress mode replaces the pacing under test
    }
    let config = HeapConfig::builder()
        .nursery_size(256 * 1024)
        .min_full_heap(1 << 20)
        .verify(true)
        .build()
        .unwrap();
    let mut arena = Arena::<Rootable![Vec<Gc<'_, [u64; 4]>>]>::new(config, |_| Vec::new());
    assert_eq!(arena.collect_if_due(), None);
    let mut kinds = Vec::new();
    for i in 0..2_000u64 {
        arena.mutate_root(|mc, root| {
            for j in 0..40 {
                let obj = Gc::new(mc, [i, j, 0, 0]);
                if j == 0 {
                    root.push(obj);
                }
            }
            if root.len() > 500 {
                root.drain(..250);
            }
        });
        kinds.extend(arena.collect_if_due());
    }
    let stats = arena.stats();
    assert!(stats.minor.count >= 10, "{stats}");
    assert!(kinds.contains(&CollectionKind::Minor));
    assert_eq!(
        stats.bytes_pretenured, 0,
        "the pacing collects before the nursery overflows: {stats}"
    );
    assert!(stats.bytes_allocated >= 2_000 * 40 * 40);
    arena.mutate(|_, root| assert_eq!(root.last().unwrap()[0], 1_999));
}

/// The pacing's rules one at a time: a slice that took more than the nursery makes the next
/// collection due, but expects at most half a nursery of the slices after it; a full
/// collection is due past `min_full_heap`, then past `growth_factor` times what it left live;
/// near `max_heap`, a full collection is due only if the old generation grew since the last.
#[test]
fn the_pacing_rules() {
    if std::env::var_os("GC_CORE_STRESS").is_some() {
        return; // stress mode replaces the pacing under test
    }
    let config = HeapConfig::builder()
        .nursery_size(64 * 1024)
        .min_full_heap(512 * 1024)
        .growth_factor(2.0)
        .verify(true)
        .build()
        .unwrap();
    let mut arena = Arena::<Rootable![Vec<Gc<'_, [u8]>>]>::new(config, |_| Vec::new());
    // A slice of four nurseries.
    arena.mutate(|mc, _| {
        for _ in 0..256 {
            mc.alloc_slice_copy(&[0u8; 1000]);
        }
    });
    assert_eq!(arena.collect_if_due(), Some(CollectionKind::Minor));
    arena.mutate(|mc, _| {
        mc.alloc_slice_copy(&[0u8; 1000]);
    });
    assert_eq!(
        arena.collect_if_due(),
        None,
        "a later slice is expected to take half a nursery at most"
    );
    // 600 KiB old: past min_full_heap.
    for _ in 0..12 {
        arena.mutate_root(|mc, root| {
            for _ in 0..50 {
                root.push(mc.alloc_slice_copy(&[1u8; 1000]));
            }
        });
        arena.collect_minor();
    }
    assert_eq!(arena.collect_if_due(), Some(CollectionKind::Full));
    let live = arena.stats().live_after_last_full;
    assert!(live >= 600 * 1000, "{live}");
    // Live ~600 KiB: the next full collection is due at twice that, not before.
    arena.mutate_root(|mc, root| {
        for _ in 0..400 {
            root.push(mc.alloc_slice_copy(&[2u8; 1000]));
        }
    });
    arena.collect_minor();
    assert_ne!(arena.collect_if_due(), Some(CollectionKind::Full), "1.6 × live");
    arena.mutate_root(|mc, root| {
        for _ in 0..300 {
            root.push(mc.alloc_slice_copy(&[3u8; 1000]));
        }
    });
    arena.collect_minor();
    assert_eq!(arena.collect_if_due(), Some(CollectionKind::Full), "2.1 × live");
    arena.mutate(|_, root| assert!(root.iter().all(|s| s.len() == 1000)));
}

/// Near `max_heap`, a full collection is due when the old generation holds more than the
/// last full collection left live, and not when it holds only that (it would find nothing).
#[test]
fn near_the_limit_a_full_collection_is_due_only_if_the_old_generation_grew() {
    if std::env::var_os("GC_CORE_STRESS").is_some() {
        return; // stress mode replaces the pacing under test
    }
    let config = HeapConfig::builder()
        .nursery_size(64 * 1024)
        .block_size(16 * 1024)
        .large_object_threshold(2 * 1024)
        .min_full_heap(64 << 20)
        .max_heap(1 << 20)
        .near_limit(0.5)
        .verify(true)
        .build()
        .unwrap();
    let mut arena = Arena::<Rootable![Vec<Gc<'_, [u8]>>]>::new(config, |_| Vec::new());
    arena.mutate_root(|mc, root| {
        for _ in 0..500 {
            root.push(mc.alloc_slice_copy(&[1u8; 1000]));
        }
    });
    arena.collect_full();
    // ~550 KiB of a 1 MiB limit, all live: past the near-limit fraction, nothing to reclaim.
    assert_eq!(arena.collect_if_due(), None);
    arena.mutate_root(|mc, root| {
        root.truncate(400);
        for _ in 0..10 {
            root.push(mc.alloc_slice_copy(&[2u8; 1000]));
        }
    });
    arena.collect_minor();
    assert_eq!(arena.collect_if_due(), Some(CollectionKind::Full), "the old generation grew");
    arena.mutate(|_, root| assert_eq!(root.len(), 410));
}

#[test]
fn stress_mode_collects_at_every_safepoint() {
    let config = HeapConfig::builder().stress(true).verify(true).build().unwrap();
    let mut arena = Arena::<Rootable![Vec<Gc<'_, u32>>]>::new(config, |_| Vec::new());
    for i in 0..10 {
        arena.mutate_root(|mc, root| root.push(Gc::new(mc, i)));
        assert!(arena.collect_if_due().is_some());
    }
    let stats = arena.stats();
    assert_eq!((stats.minor.count, stats.full.count), (5, 5));
    arena.mutate(|_, root| assert_eq!(root.iter().map(|g| **g).sum::<u32>(), 45));
}

#[test]
fn statistics_describe_the_heap() {
    let mut arena = Arena::<Rootable![Vec<Gc<'_, [u8; 40]>>]>::new(config(), |_| Vec::new());
    arena.mutate_root(|mc, root| {
        for _ in 0..100 {
            root.push(Gc::new(mc, [0; 40]));
        }
    });
    let s = arena.stats();
    assert_eq!(s.nursery_used, 100 * 48);
    assert_eq!(s.bytes_allocated, 100 * 48);
    arena.collect_full();
    let s = arena.stats();
    assert_eq!((s.minor.count, s.full.count), (0, 1));
    assert_eq!(s.live_after_last_full, 100 * 48);
    assert_eq!(s.old_used, 100 * 48);
    assert!(s.full.last > std::time::Duration::ZERO && s.full.max >= s.full.last);
    assert!(s.committed >= 64 * 1024 + 16 * 1024);
    let text = s.to_string();
    assert!(text.contains("full collections:") && text.contains("fragmentation"), "{text}");
}
