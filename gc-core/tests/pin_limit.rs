//! Pinning and the heap limit.

mod common;

use common::config;
use gc_core::{AllocError, Arena, Gc, Handle, HeapConfig, Lock, Rootable, Trace};

#[derive(Trace)]
struct Node<'gc> {
    id: u64,
    next: Lock<Option<Gc<'gc, Node<'gc>>>>,
}

fn small_config() -> HeapConfig {
    config()
}

#[test]
fn objects_allocated_pinned_never_move() {
    let mut arena = Arena::<Rootable![(Vec<Gc<'_, Node<'_>>>, Vec<Gc<'_, [u64; 4]>>)]>::new(
        small_config(),
        |_| (Vec::new(), Vec::new()),
    );
    // Promote a batch of nodes, then pin an object behind them, ten times over: pinned
    // objects end up between movable ones.
    for k in 0..10u64 {
        arena.mutate_root(|mc, (nodes, _)| {
            for i in 0..300 {
                nodes.push(Gc::new(mc, Node { id: k * 300 + i, next: Lock::new(None) }));
            }
        });
        arena.collect_minor();
        arena.mutate_root(|mc, (_, pinned)| pinned.push(mc.alloc_pinned([k * 300; 4])));
    }
    let addresses: Vec<usize> =
        arena.mutate(|_, (_, pinned)| pinned.iter().map(|p| Gc::as_ptr(*p) as usize).collect());
    let mut holes_seen = 0.0f64;
    for round in 0..100 {
        // Free a different part of the movable objects each round, and allocate more: the
        // survivors slide around the pinned ones.
        arena.mutate_root(|mc, (nodes, _)| {
            nodes.retain(|n| (n.id + round) % 7 != 0);
            for i in 0..300 {
                nodes.push(Gc::new(
                    mc,
                    Node { id: 10_000 * (round + 1) + i, next: Lock::new(None) },
                ));
            }
        });
        if round % 2 == 0 {
            arena.collect_minor();
        }
        arena.collect_full();
        holes_seen = holes_seen.max(arena.stats().fragmentation);
        arena.mutate(|_, (_, pinned)| {
            let now: Vec<usize> = pinned.iter().map(|p| Gc::as_ptr(*p) as usize).collect();
            assert_eq!(now, addresses, "round {round}");
            for (k, p) in pinned.iter().enumerate() {
                assert_eq!(**p, [k as u64 * 300; 4]);
            }
        });
    }
    // Pinning leaves room the sliding could not fill, and the fragmentation figure shows it.
    assert!(holes_seen > 0.0 && holes_seen < 0.5, "{holes_seen}");
    // Dead pinned objects are reclaimed like any other.
    arena.mutate_root(|_, (_, pinned)| pinned.clear());
    arena.collect_full();
    arena.collect_full();
    assert_eq!(arena.stats().fragmentation, 0.0);
}

#[test]
fn a_pinned_guard_keeps_an_object_in_place_while_it_lives() {
    type NodeRoot = Rootable![Node<'_>];
    let mut arena = Arena::<Rootable![Vec<Gc<'_, Node<'_>>>]>::new(small_config(), |_| Vec::new());
    let handle: Handle<NodeRoot> = arena.mutate_root(|mc, nodes| {
        for i in 0..2000 {
            nodes.push(Gc::new(mc, Node { id: i, next: Lock::new(None) }));
        }
        mc.handle::<NodeRoot>(nodes[1500])
    });
    // Young: pinning promotes it first.
    let pinned = arena.pin(&handle);
    let address = pinned.as_ptr() as usize;
    arena.mutate(|mc, _| {
        assert_eq!(Gc::as_ptr(mc.fetch(&handle)) as usize, address);
        assert_eq!(mc.fetch(&handle).id, 1500);
    });
    for round in 0..20u64 {
        arena.mutate_root(|_, nodes| nodes.retain(|n| n.id % 5 != round % 5));
        arena.collect_full();
        arena.mutate(|mc, _| {
            let node = mc.fetch(pinned.handle());
            assert_eq!(Gc::as_ptr(node) as usize, address, "round {round}");
            assert_eq!(node.id, 1500);
        });
    }
    // Without the guard (and, after the first round, without anything else rooting what is
    // in front of it) it moves again.
    drop(pinned);
    arena.mutate_root(|_, nodes| nodes.clear());
    arena.collect_full();
    arena.mutate(|mc, _| assert_ne!(Gc::as_ptr(mc.fetch(&handle)) as usize, address));
}

fn limited(max: usize) -> HeapConfig {
    HeapConfig::builder()
        .nursery_size(64 * 1024)
        .block_size(16 * 1024)
        .large_object_threshold(2 * 1024)
        .max_heap(max)
        .verify(true)
        .build()
        .unwrap()
}

#[test]
fn filling_the_heap_gives_a_typed_error_and_the_heap_recovers() {
    let mut arena =
        Arena::<Rootable![Vec<Gc<'_, Node<'_>>>]>::new(limited(1 << 20), |_| Vec::new());
    let mut failures = 0;
    for round in 0..3 {
        // Fill: every node rooted, until the limit says no.
        let filled = arena.mutate_root(|mc, nodes| {
            let mut n = 0;
            loop {
                match Gc::try_new(mc, Node { id: n, next: Lock::new(None) }) {
                    Ok(node) => nodes.push(node),
                    Err((AllocError::HeapLimit { limit, .. }, value)) => {
                        assert_eq!(limit, 1 << 20);
                        assert_eq!(value.id, n, "the value is given back");
                        return n;
                    }
                    Err((err, _)) => panic!("unexpected {err}"),
                }
                n += 1;
            }
        });
        failures += 1;
        assert!(filled > 1000, "round {round}: only {filled} fit");
        arena.verify().expect("consistent at the limit");
        assert!(arena.stats().heap_size <= 1 << 20, "{}", arena.stats());
        // Other allocation kinds fail the same way, and the plain variants would panic.
        arena.mutate(|mc, _| {
            assert!(matches!(
                mc.try_alloc_slice_copy(&[0u8; 200_000]),
                Err(AllocError::HeapLimit { .. })
            ));
            assert!(matches!(
                mc.try_alloc_str(&"x".repeat(100_000)),
                Err(AllocError::HeapLimit { .. })
            ));
        });
        // Free most roots: the next safepoint collects, and allocation works again.
        arena.mutate_root(|_, nodes| nodes.truncate(100));
        assert!(arena.collect_if_due().is_some());
        arena.collect_full();
        arena.verify().unwrap();
        arena.mutate_root(|mc, nodes| {
            for i in 0..1000 {
                nodes.push(Gc::new(mc, Node { id: i, next: Lock::new(None) }));
            }
        });
        arena.mutate_root(|_, nodes| nodes.truncate(100));
        arena.collect_full();
    }
    assert_eq!(failures, 3);
}

#[test]
fn the_plain_variants_panic_with_a_clear_message() {
    let arena = Arena::<Rootable![Vec<Gc<'_, [u8]>>]>::new(limited(1 << 20), |_| Vec::new());
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        arena.mutate(|mc, _| {
            let mut keep = Vec::new();
            loop {
                keep.push(mc.alloc_slice_copy(&[1u8; 4000]));
            }
        })
    }))
    .unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.starts_with("gc-core: heap limit of 1048576 bytes reached"), "{msg}");
}

#[test]
fn the_near_limit_callback_is_told() {
    let mut arena =
        Arena::<Rootable![Vec<Gc<'_, Node<'_>>>]>::new(limited(1 << 20), |_| Vec::new());
    let calls = std::rc::Rc::new(std::cell::Cell::new(0));
    let seen = calls.clone();
    arena.on_near_limit(move |size, limit| {
        assert!(size as f64 >= 0.9 * limit as f64);
        seen.set(seen.get() + 1);
    });
    arena.mutate_root(|mc, nodes| {
        for i in 0..10_000 {
            nodes.push(Gc::new(mc, Node { id: i, next: Lock::new(None) }));
        }
    });
    arena.collect_minor();
    assert_eq!(calls.get(), 0, "far from the limit");
    arena.mutate_root(|mc, nodes| {
        while let Ok(node) = Gc::try_new(mc, Node { id: 0, next: Lock::new(None) }) {
            nodes.push(node);
        }
    });
    arena.collect_minor();
    assert_eq!(calls.get(), 1);
}

/// Objects of mixed sizes slide past a pinned one in the middle of the heap (the compaction's
/// destination reaches its block from below, with objects from later blocks): none is placed
/// over it (with objects of one size, the room in front of it is always a whole number of
/// them, which would hide an off-by-one in the check).
#[test]
fn mixed_sizes_slide_around_a_pinned_object() {
    type Slices = Rootable![Vec<Gc<'_, [u64]>>];
    let mut arena = Arena::<Slices>::new(small_config(), |_| Vec::new());
    let handle = arena.mutate_root(|mc, root| {
        for i in 0..6_000u64 {
            let len = 1 + (i * 7 % 5) as usize;
            root.push(mc.alloc_slice_fill_with(len, |j| i * 100 + j as u64));
        }
        mc.handle::<Rootable![[u64]]>(root[3_000])
    });
    arena.collect_minor();
    let pinned = arena.pin(&handle);
    let address = pinned.as_ptr() as *const u64 as usize;
    for round in 0..6u64 {
        arena.mutate_root(|_, root| {
            root.retain(|s| (s[0] / 100 + round) % 3 != 0 || s[0] == 300_000)
        });
        arena.collect_full();
        arena.verify().unwrap();
        arena.mutate(|mc, root| {
            let p = mc.fetch(pinned.handle());
            assert_eq!(p.as_ptr() as *const u64 as usize, address, "round {round}");
            assert!(p.iter().enumerate().all(|(j, &w)| w == 300_000 + j as u64), "round {round}");
            for s in root.iter() {
                let i = s[0] / 100;
                assert_eq!(s.len(), 1 + (i * 7 % 5) as usize);
                assert!(
                    s.iter().enumerate().all(|(j, &w)| w == i * 100 + j as u64),
                    "round {round}"
                );
            }
        });
    }
}
