//! The collector: promotion, compaction, destructors, remembered set, large objects.

mod common;

use common::{config, DropCounter, DropToken};
use gc_core::{field, Arena, CollectionKind, Gc, HeapConfig, Lock, RefLock, Rootable, Trace};

#[derive(Trace)]
struct Node<'gc> {
    value: u64,
    next: Lock<Option<Gc<'gc, Node<'gc>>>>,
}

fn sum<'gc>(head: Option<Gc<'gc, Node<'gc>>>) -> (u64, usize) {
    let (mut total, mut len, mut at) = (0, 0, head);
    while let Some(node) = at {
        total += node.value;
        len += 1;
        at = node.next.get();
    }
    (total, len)
}

#[test]
fn survivors_are_promoted_and_the_nursery_is_emptied() {
    let mut arena = Arena::<Rootable![Option<Gc<'_, Node<'_>>>]>::new(config(), |_| None);
    arena.mutate_root(|mc, head| {
        for i in 0..100 {
            let node = Gc::new(mc, Node { value: i, next: Lock::new(*head) });
            *head = Some(node);
        }
        // garbage
        for i in 0..1000 {
            Gc::new(mc, Node { value: i, next: Lock::new(None) });
        }
    });
    assert!(arena.stats().nursery_used > 0);
    arena.collect_minor();
    let stats = arena.stats();
    assert_eq!(stats.nursery_used, 0);
    assert_eq!(stats.minor.count, 1);
    assert_eq!(stats.bytes_promoted, 100 * 24, "exactly the survivors are promoted");
    arena.mutate(|_, head| assert_eq!(sum(*head), ((0..100).sum(), 100)));
    arena.collect_full();
    arena.mutate(|_, head| assert_eq!(sum(*head), ((0..100).sum(), 100)));
}

#[test]
fn cycles_are_collected() {
    let drops = DropCounter::default();

    #[derive(Trace)]
    struct Ring<'gc> {
        #[trace(skip)]
        _token: DropToken,
        next: Lock<Option<Gc<'gc, Ring<'gc>>>>,
    }

    let mut arena = Arena::<Rootable![Option<Gc<'_, Ring<'_>>>]>::new(config(), |_| None);
    arena.mutate_root(|mc, root| {
        let first = Gc::new(mc, Ring { _token: drops.token(), next: Lock::new(None) });
        let mut last = first;
        for _ in 1..1000 {
            let ring = Gc::new(mc, Ring { _token: drops.token(), next: Lock::new(Some(last)) });
            last = ring;
        }
        field!(Gc::write(mc, first), Ring, next).set(Some(last));
        *root = Some(first);
    });
    arena.collect_full();
    assert_eq!(drops.count(), 0, "a rooted ring stays");
    arena.mutate_root(|_, root| *root = None);
    arena.collect_minor();
    assert_eq!(drops.count(), 0, "the ring is old now: a minor collection does not free it");
    arena.collect_full();
    assert_eq!(drops.count(), 1000, "the unrooted ring is dropped, once each");
    assert_eq!(arena.census().live_objects, 0);
    arena.collect_full();
    assert_eq!(drops.count(), 1000);
}

#[test]
fn destructors_run_exactly_once_in_every_space() {
    let drops = DropCounter::default();

    #[derive(Trace)]
    struct Tracked {
        #[trace(skip)]
        _token: DropToken,
        #[trace(skip)]
        _pad: [u8; 32],
    }

    #[derive(Trace)]
    struct BigTracked {
        #[trace(skip)]
        _token: DropToken,
        #[trace(skip)]
        _pad: Box<[u8]>,
        #[trace(skip)]
        _inline: [u64; 512],
    }

    let mut arena = Arena::<Rootable![Vec<Gc<'_, Tracked>>]>::new(config(), |_| Vec::new());
    // Dies in the nursery.
    arena.mutate(|mc, _| {
        for _ in 0..10 {
            Gc::new(mc, Tracked { _token: drops.token(), _pad: [0; 32] });
        }
    });
    arena.collect_minor();
    assert_eq!(drops.count(), 10);
    // Survives a minor collection, dies in the old generation.
    arena.mutate_root(|mc, root| {
        for _ in 0..10 {
            root.push(Gc::new(mc, Tracked { _token: drops.token(), _pad: [0; 32] }));
        }
    });
    arena.collect_minor();
    assert_eq!(drops.count(), 10);
    arena.mutate_root(|_, root| root.truncate(3));
    arena.collect_full();
    assert_eq!(drops.count(), 17);
    // Large objects.
    arena.mutate(|mc, _| {
        for _ in 0..3 {
            Gc::new(
                mc,
                BigTracked { _token: drops.token(), _pad: vec![1; 10].into(), _inline: [0; 512] },
            );
        }
    });
    arena.collect_full();
    assert_eq!(drops.count(), 20);
    // The rest when the arena goes.
    drop(arena);
    assert_eq!(drops.count(), 23);
}

#[test]
fn dead_old_objects_are_dropped_when_the_arena_is() {
    let drops = DropCounter::default();

    #[derive(Trace)]
    struct Tracked {
        #[trace(skip)]
        _token: DropToken,
    }

    let mut arena = Arena::<Rootable![Vec<Gc<'_, Tracked>>]>::new(config(), |_| Vec::new());
    arena.mutate_root(|mc, root| {
        for _ in 0..50 {
            root.push(Gc::new(mc, Tracked { _token: drops.token() }));
        }
    });
    arena.collect_minor();
    // Dead in the old generation, not yet swept by a full collection.
    arena.mutate_root(|_, root| root.clear());
    arena.collect_minor();
    assert_eq!(drops.count(), 0);
    drop(arena);
    assert_eq!(drops.count(), 50);
}

#[test]
fn full_collection_leaves_no_holes() {
    let mut arena = Arena::<Rootable![Vec<Gc<'_, Node<'_>>>]>::new(config(), |_| Vec::new());
    arena.mutate_root(|mc, root| {
        for i in 0..20_000 {
            root.push(Gc::new(mc, Node { value: i, next: Lock::new(None) }));
        }
    });
    arena.collect_minor();
    // Free every other object, and a run in the middle: holes everywhere.
    arena.mutate_root(|_, root| {
        let mut i = 0;
        root.retain(|_| {
            i += 1;
            i % 2 == 0 && !(5_000..9_000).contains(&i)
        });
    });
    let census = arena.census();
    assert!(census.fragmentation > 0.3, "holes before compaction: {census}");
    let blocks_before = arena.stats().old_blocks;
    arena.collect_full();
    let census = arena.census();
    assert_eq!(census.old_holes, 0, "{census}");
    assert_eq!(census.fragmentation, 0.0);
    let stats = arena.stats();
    assert_eq!(stats.fragmentation, 0.0);
    assert!(stats.fragmentation_before_last_full > 0.3, "{stats}");
    assert!(stats.old_blocks < blocks_before * 6 / 10, "{} -> {}", blocks_before, stats.old_blocks);
    assert_eq!(stats.live_after_last_full, 8_000 * 24);
    arena.mutate(|_, root| {
        let values: Vec<u64> = root.iter().map(|n| n.value).collect();
        let expected: Vec<u64> = (0..20_000u64)
            .filter(|i| (i + 1) % 2 == 0 && !(5_000..9_000).contains(&(i + 1)))
            .collect();
        assert_eq!(values, expected);
    });
}

#[test]
fn compaction_preserves_allocation_order() {
    let mut arena = Arena::<Rootable![Vec<Gc<'_, Node<'_>>>]>::new(config(), |_| Vec::new());
    arena.mutate_root(|mc, root| {
        for i in 0..5_000 {
            root.push(Gc::new(mc, Node { value: i, next: Lock::new(None) }));
        }
    });
    arena.collect_minor();
    arena.mutate_root(|_, root| root.retain(|n| n.value % 3 == 0));
    arena.collect_full();
    arena.mutate(|_, root| {
        let addrs: Vec<usize> = root.iter().map(|n| Gc::as_ptr(*n) as usize).collect();
        // Within a block, survivors keep their relative order and sit back to back.
        let adjacent = addrs.windows(2).filter(|w| w[1] == w[0] + 24).count();
        assert!(adjacent as f64 > 0.95 * (addrs.len() - 1) as f64, "{adjacent} of {}", addrs.len());
    });
}

#[test]
fn old_to_young_edges_are_found_through_the_remembered_set() {
    let mut arena =
        Arena::<Rootable![Gc<'_, RefLock<Vec<Gc<'_, Node<'_>>>>>]>::new(config(), |mc| {
            Gc::new(mc, RefLock::new(Vec::new()))
        });
    arena.collect_minor(); // the vector object is old now
    for round in 0..20u64 {
        arena.mutate(|mc, list| {
            let node = Gc::new(mc, Node { value: round, next: Lock::new(None) });
            list.borrow_mut(mc).push(node);
        });
        arena.collect_minor();
    }
    arena.mutate(|_, list| {
        let values: Vec<u64> = list.borrow().iter().map(|n| n.value).collect();
        assert_eq!(values, (0..20).collect::<Vec<_>>());
    });
    arena.collect_full();
    arena.mutate(|_, list| assert_eq!(list.borrow().len(), 20));
}

#[test]
fn a_mutate_call_may_allocate_more_than_the_nursery() {
    // The nursery grows within the call; the next minor collection evacuates the survivors
    // and gives the extension back.
    let mut arena = Arena::<Rootable![Option<Gc<'_, Node<'_>>>]>::new(config(), |_| None);
    arena.mutate_root(|mc, head| {
        for i in 0..100_000 {
            *head = Some(Gc::new(mc, Node { value: i, next: Lock::new(*head) }));
        }
        for i in 0..100_000 {
            Gc::new(mc, Node { value: i, next: Lock::new(None) }); // garbage
        }
    });
    let stats = arena.stats();
    assert_eq!(stats.nursery_used, 200_000 * 24);
    assert_eq!(stats.bytes_pretenured, 0);
    assert!(stats.committed >= 200_000 * 24, "{stats}");
    assert_eq!(arena.collect_if_due(), Some(CollectionKind::Minor));
    let stats = arena.stats();
    assert_eq!(stats.bytes_promoted, 100_000 * 24, "only the survivors are copied");
    assert!(stats.committed < 100_000 * 24 * 2, "the extension was given back: {stats}");
    arena.mutate(|_, head| assert_eq!(sum(*head), ((0..100_000).sum(), 100_000)));
    arena.collect_full();
    arena.mutate(|_, head| assert_eq!(sum(*head), ((0..100_000).sum(), 100_000)));
}

#[test]
fn past_the_nursery_reservation_allocation_spills_into_the_old_generation() {
    let config = HeapConfig::builder()
        .nursery_size(64 * 1024)
        .nursery_reserve(128 * 1024)
        .block_size(16 * 1024)
        .large_object_threshold(2 * 1024)
        .verify(true)
        .build()
        .unwrap();
    let drops = DropCounter::default();

    #[derive(Trace)]
    struct Tracked<'gc> {
        #[trace(skip)]
        _token: DropToken,
        next: Option<Gc<'gc, Tracked<'gc>>>,
    }

    let mut arena = Arena::<Rootable![Option<Gc<'_, Tracked<'_>>>]>::new(config, |_| None);
    arena.mutate_root(|mc, head| {
        for _ in 0..20_000 {
            *head = Some(Gc::new(mc, Tracked { _token: drops.token(), next: *head }));
            Gc::new(mc, Tracked { _token: drops.token(), next: None });
        }
    });
    let stats = arena.stats();
    assert!(stats.bytes_pretenured > 0, "{stats}");
    arena.verify().unwrap();
    assert!(arena.collect_if_due().is_some());
    arena.collect_full();
    assert_eq!(drops.count(), 20_000, "the garbage, in the nursery and spilled, is dropped");
    arena.mutate(|_, head| {
        let (mut n, mut at) = (0, *head);
        while let Some(t) = at {
            n += 1;
            at = t.next;
        }
        assert_eq!(n, 20_000);
    });
    drop(arena);
    assert_eq!(drops.count(), 40_000);
}

#[test]
fn long_lists_do_not_overflow_the_stack() {
    // Ten million nodes: marked, compacted, evacuated and dropped with explicit stacks.
    let config = HeapConfig::builder().verify(false).build().unwrap();
    let mut arena = Arena::<Rootable![Option<Gc<'_, Node<'_>>>]>::new(config, |_| None);
    const N: u64 = 10_000_000;
    for chunk in 0..10 {
        arena.mutate_root(|mc, head| {
            for i in 0..N / 10 {
                *head =
                    Some(Gc::new(mc, Node { value: chunk * (N / 10) + i, next: Lock::new(*head) }));
            }
        });
        arena.collect_minor();
    }
    arena.collect_full();
    arena.mutate(|_, head| assert_eq!(sum(*head), (N * (N - 1) / 2, N as usize)));
    // Drop the front half, compact.
    arena.mutate_root(|_, head| {
        let mut at = *head;
        for _ in 0..N / 2 {
            at = at.unwrap().next.get();
        }
        *head = at;
    });
    arena.collect_full();
    assert_eq!(arena.stats().live_after_last_full, (N / 2) as usize * 24);
    arena.mutate(|_, head| assert_eq!(sum(*head), ((N / 2) * (N / 2 - 1) / 2, (N / 2) as usize)));
    drop(arena);
}

#[test]
fn large_objects_do_not_move() {
    let mut arena = Arena::<Rootable![Vec<Gc<'_, [u8]>>]>::new(config(), |_| Vec::new());
    let addrs: Vec<usize> = arena.mutate_root(|mc, root| {
        for i in 0..5u8 {
            root.push(mc.alloc_slice_fill_with(10_000, |j| i.wrapping_add(j as u8)));
            Gc::new(mc, [0u64; 8]); // garbage in between
        }
        root.iter().map(|s| s.as_ptr() as *const u8 as usize).collect()
    });
    for _ in 0..3 {
        arena.collect_full();
        arena.collect_minor();
    }
    arena.mutate(|_, root| {
        let now: Vec<usize> = root.iter().map(|s| s.as_ptr() as *const u8 as usize).collect();
        assert_eq!(now, addrs);
        for (i, s) in root.iter().enumerate() {
            assert!(s.iter().enumerate().all(|(j, &b)| b == (i as u8).wrapping_add(j as u8)));
        }
    });
    assert_eq!(arena.stats().large_objects, 5);
    arena.mutate_root(|_, root| root.truncate(2));
    arena.collect_full();
    assert_eq!(arena.stats().large_objects, 2);
}

#[test]
fn a_100_mib_slice_works() {
    let mut arena = Arena::<Rootable![Option<Gc<'_, [u8]>>]>::new(HeapConfig::default(), |_| None);
    const LEN: usize = 100 << 20;
    arena.mutate_root(|mc, root| {
        let big = mc.alloc_slice_fill_with(LEN, |i| (i % 251) as u8);
        *root = Some(big);
    });
    arena.collect_full();
    arena.mutate(|_, root| {
        let big = root.unwrap();
        assert_eq!(big.len(), LEN);
        assert!(big.iter().enumerate().step_by(4093).all(|(i, &b)| b == (i % 251) as u8));
    });
    assert!(arena.stats().large_bytes >= LEN);
    arena.mutate_root(|_, root| *root = None);
    arena.collect_full();
    assert_eq!(arena.stats().large_bytes, 0);
}

#[test]
fn over_aligned_types_keep_their_alignment() {
    #[derive(Trace, Clone, Copy, PartialEq, Debug)]
    #[repr(align(32))]
    struct Wide {
        a: u128,
    }
    let mut arena =
        Arena::<Rootable![Vec<(Gc<'_, Wide>, Gc<'_, u8>)>]>::new(config(), |_| Vec::new());
    arena.mutate_root(|mc, root| {
        for i in 0..2_000u32 {
            root.push((Gc::new(mc, Wide { a: (i * 7) as u128 }), Gc::new(mc, (i * 7) as u8)));
            Gc::new(mc, 0u8);
        }
    });
    for kind in [CollectionKind::Minor, CollectionKind::Full, CollectionKind::Full] {
        arena.collect(kind);
        arena.mutate_root(|_, root| {
            for (w, b) in root.iter() {
                assert_eq!(Gc::as_ptr(*w) as usize % 32, 0);
                assert_eq!(**b, w.a as u8);
            }
            let before = root.len();
            let mut k = 0;
            root.retain(|_| {
                k += 1;
                k % 2 == 0
            });
            assert!(root.len() < before);
        });
    }
}

#[test]
fn zero_sized_types_and_empty_slices() {
    #[derive(Trace)]
    struct Unit;
    let mut arena =
        Arena::<Rootable![(Vec<Gc<'_, Unit>>, Gc<'_, [u32]>, Gc<'_, str>)]>::new(config(), |mc| {
            (vec![Gc::new(mc, Unit), Gc::new(mc, Unit)], mc.alloc_slice_copy(&[]), mc.alloc_str(""))
        });
    arena.collect_full();
    arena.mutate(|_, (units, empty, s)| {
        assert_eq!(units.len(), 2);
        assert!(!Gc::ptr_eq(units[0], units[1]));
        assert!(empty.is_empty());
        assert_eq!(&**s, "");
    });
}

#[test]
fn slices_of_pointers_are_traced() {
    let mut arena = Arena::<Rootable![Gc<'_, [Gc<'_, str>]>]>::new(config(), |mc| {
        let strings: Vec<Gc<'_, str>> = (0..100).map(|i| mc.alloc_str(&format!("s{i}"))).collect();
        mc.alloc_slice_copy(&strings)
    });
    arena.collect_minor();
    arena.collect_full();
    arena.mutate(|_, slice| {
        for (i, s) in slice.iter().enumerate() {
            assert_eq!(&**s, format!("s{i}"));
        }
    });
}

/// Regression: the minor collection rewrites each slot in its object's copy, found by walking
/// the mark and slot bitmaps together. Copies are made in tracing order, not address order,
/// so a slot attributed to the wrong object lands in the wrong copy. Here the root lists the
/// parents in the reverse of their allocation order, and objects of mixed sizes put object
/// starts and their slots on both sides of every bitmap word boundary.
#[test]
fn slots_are_rewritten_in_their_own_copy() {
    #[derive(Trace)]
    struct Parent<'gc> {
        pad: Box<[u64]>,
        inline: [u64; 3],
        child: Gc<'gc, Node<'gc>>,
        sibling: Lock<Option<Gc<'gc, Parent<'gc>>>>,
    }
    let mut arena = Arena::<Rootable![Vec<Gc<'_, Parent<'_>>>]>::new(config(), |_| Vec::new());
    for round in 0..4u64 {
        arena.mutate_root(|mc, parents| {
            let mut made = Vec::new();
            for i in 0..3000u64 {
                let child = Gc::new(mc, Node { value: round * 10_000 + i, next: Lock::new(None) });
                if i % 3 == 0 {
                    mc.alloc_slice_copy(&vec![0u8; (i % 7) as usize * 8 + 1]); // shifts the layout
                }
                let prev = made.last().copied();
                made.push(Gc::new(
                    mc,
                    Parent {
                        pad: vec![i; 1].into(),
                        inline: [i; 3],
                        child,
                        sibling: Lock::new(prev),
                    },
                ));
            }
            made.reverse();
            parents.extend(made);
        });
        arena.collect_minor();
        arena.mutate(|_, parents| {
            for p in parents.iter().filter(|p| p.child.value / 10_000 == round) {
                let i = p.child.value % 10_000;
                assert_eq!((p.inline, &*p.pad), ([i; 3], &[i][..]), "round {round}");
                if let Some(s) = p.sibling.get() {
                    assert_eq!(s.child.value + 1, p.child.value);
                }
            }
        });
    }
    arena.collect_full();
}

/// A full collection the pacing started keeps the blocks it emptied resident, up to the room
/// the old generation has to grow before the next one (promotion reuses them instead of
/// faulting in fresh pages); an explicit `collect_full` gives every empty block back. Either
/// way the heap is the same: only the spare blocks differ.
#[test]
fn automatic_full_collections_keep_spare_blocks_and_explicit_ones_return_them() {
    type Table = Rootable![Vec<Gc<'_, [u8]>>];
    let config = HeapConfig::builder()
        .verify(true)
        .nursery_size(64 * 1024)
        .block_size(16 * 1024)
        .large_object_threshold(2 * 1024)
        .min_full_heap(512 * 1024)
        .build()
        .unwrap();
    let mut arena = Arena::<Table>::new(config, |_| Vec::new());
    // Churn: a table of 2,000 byte objects, each replaced many times, so that the old
    // generation fills with garbage and automatic full collections compact it.
    arena.mutate_root(|mc, table| {
        table.extend((0..2000).map(|i| mc.alloc_slice_copy(&[i as u8; 100])));
    });
    let (mut automatic_fulls, mut kept_spares) = (0, false);
    for round in 0..12_000usize {
        arena.mutate_root(|mc, table| {
            let i = round * 7919 % table.len();
            table[i] = mc.alloc_slice_copy(&[round as u8; 100]);
        });
        if arena.collect_if_due() == Some(CollectionKind::Full) {
            automatic_fulls += 1;
            kept_spares |= arena.stats().old_spare_blocks > 0;
        }
    }
    assert!(automatic_fulls >= 2, "the churn triggers full collections ({automatic_fulls})");
    assert!(kept_spares, "an automatic full collection kept empty blocks resident");
    arena.collect_full();
    let stats = arena.stats();
    assert_eq!(stats.old_spare_blocks, 0, "an explicit full collection returns every empty block");
    assert_eq!(stats.committed, stats.heap_size, "nothing resident beyond the heap: {stats}");
    arena.mutate(|_, table| {
        assert_eq!(table.len(), 2000);
        assert!(table.iter().all(|bytes| bytes.len() == 100));
    });
}

thread_local! {
    static TRACED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A slot that counts how often the collector traces it.
struct Counted<'gc>(Lock<Option<Gc<'gc, u64>>>);

// SAFETY: traces its one `Gc` field.
unsafe impl<'gc> Trace for Counted<'gc> {
    const NEEDS_TRACE: bool = true;
    fn trace(&mut self, tracer: &mut gc_core::Tracer<'_>) {
        TRACED.with(|t| t.set(t.get() + 1));
        self.0.trace(tracer)
    }
}

type Slots<'gc> = Gc<'gc, [Counted<'gc>]>;

/// `Gc::write_at` on an old slice marks one card: the minor collection traces the elements of
/// that card (64 bytes: 8 slots) and finds the young object stored there, where `Gc::write`
/// makes it trace all 10,000 slots. In a block and in the large-object space alike.
#[test]
fn write_at_makes_minor_collections_scan_only_the_dirty_cards() {
    for threshold in [256 * 1024, 2 * 1024] {
        let config = HeapConfig::builder()
            .verify(true)
            .block_size(1024 * 1024)
            .large_object_threshold(threshold)
            .build()
            .unwrap();
        let mut arena = Arena::<Rootable![Slots<'_>]>::new(config, |mc| {
            mc.alloc_slice_fill_with(10_000, |_| Counted(Lock::new(None)))
        });
        arena.collect_minor();
        let traced_by = |arena: &mut Arena<Rootable![Slots<'_>]>, whole: bool| {
            arena.mutate(|mc, slots| {
                let young = Gc::new(mc, 1234u64);
                let w = if whole {
                    Gc::write(mc, *slots).at(1234)
                } else {
                    Gc::write_at(mc, *slots, 1234)
                };
                field!(w, Counted, 0).set(Some(young));
                // The other end of the slice: another card.
                field!(Gc::write_at(mc, *slots, 9_999), Counted, 0).set(Some(Gc::new(mc, 9_999)));
            });
            TRACED.with(|t| t.set(0));
            arena.collect_minor();
            let traced = TRACED.with(|t| t.get());
            arena.mutate(|_, slots| {
                assert_eq!(*slots[1234].0.get().unwrap(), 1234);
                assert_eq!(*slots[9_999].0.get().unwrap(), 9_999);
            });
            traced
        };
        // The verifier traces every slot too; what is left is the collection's own share.
        let verify_only = {
            TRACED.with(|t| t.set(0));
            arena.verify().unwrap();
            TRACED.with(|t| t.get())
        };
        let carded = traced_by(&mut arena, false) - 2 * verify_only;
        let whole = traced_by(&mut arena, true) - 2 * verify_only;
        assert_eq!(carded, 8 + 8, "two cards of 8 slots");
        assert_eq!(whole, 10_000, "remembered whole, the slice is scanned whole");
        arena.collect_full();
        arena.mutate(|_, slots| assert_eq!(*slots[9_999].0.get().unwrap(), 9_999));
    }
}

/// The verifier knows the cards: a young pointer stored (bypassing the barrier) into an element
/// outside the dirty cards of a card-marked slice is reported.
#[test]
fn a_store_outside_the_dirty_cards_is_reported_by_the_verifier() {
    let mut arena = Arena::<Rootable![Slots<'_>]>::new(HeapConfig::default(), |mc| {
        mc.alloc_slice_fill_with(10_000, |_| Counted(Lock::new(None)))
    });
    arena.collect_minor();
    arena.mutate(|mc, slots| {
        field!(Gc::write_at(mc, *slots, 10), Counted, 0).set(Some(Gc::new(mc, 10)));
    });
    arena.verify().expect("a store through the card's barrier is covered");
    arena.mutate(|mc, slots| {
        let young = Gc::new(mc, 5000);
        // SAFETY: not safe: the injected bug (card 0 is dirty, element 5000's card is not).
        let w = unsafe { gc_core::Write::assume(&slots[5000]) };
        field!(w, Counted, 0).set(Some(young));
    });
    let err = arena.verify().expect_err("the unbarriered store is found");
    assert!(err.to_string().contains("[5000]"), "{err}");
    assert!(err.to_string().contains("was not remembered"), "{err}");
    // Repair it through the barrier, and the heap is consistent again.
    arena.mutate(|mc, slots| {
        let w = Gc::write_at(mc, *slots, 5000);
        field!(w, Counted, 0).set(w.0.get());
    });
    arena.verify().unwrap();
    arena.collect_minor();
    arena.mutate(|_, slots| assert_eq!(*slots[5000].0.get().unwrap(), 5000));
}

#[test]
fn an_old_generation_on_huge_pages_collects_like_any_other() {
    let config = common::builder().block_size(256 * 1024).huge_pages(true).build().unwrap();
    assert!(config.huge_pages() && !HeapConfig::default().huge_pages());
    let mut arena = Arena::<Rootable![Option<Gc<'_, Node<'_>>>]>::new(config, |_| None);
    for round in 0..20u64 {
        arena.mutate_root(|mc, head| {
            for i in 0..5_000 {
                let node = Gc::new(mc, Node { value: round * 5_000 + i, next: Lock::new(*head) });
                *head = Some(node);
            }
        });
        arena.collect_if_due();
    }
    arena.collect_full();
    arena.mutate(|_, head| assert_eq!(sum(*head), ((0..100_000).sum(), 100_000)));
    assert!(arena.stats().old_blocks > 8, "several chunks' worth of blocks");
}

/// Issue 13, item 9: a full collection poisons (in the checkers' builds) the free tail of each
/// block it keeps, and the next compaction slid objects into such a tail without unpoisoning
/// it: AddressSanitizer (`--cfg gc_asan`) reported `use-after-poison` on this ordinary program.
/// Every range that comes into use must be claimed (unpoisoned) first; in every build, the
/// objects (of alignments from 16 to 4096 bytes, of many sizes, pinned and unpinned across
/// compactions) come through intact and aligned.
#[test]
fn compactions_reuse_the_free_tails_left_by_earlier_ones() {
    macro_rules! aligned {
        ($($name:ident $align:literal),*) => {$(
            #[derive(Trace)]
            #[repr(align($align))]
            struct $name {
                tag: u64,
            }
        )*};
    }
    aligned!(A16 16, A64 64, A512 512, A4096 4096);

    #[derive(Trace)]
    enum Item<'gc> {
        A16(Gc<'gc, A16>),
        A64(Gc<'gc, A64>),
        A512(Gc<'gc, A512>),
        A4096(Gc<'gc, A4096>),
        Words(Gc<'gc, [u64]>),
    }

    fn check(tag: u64, item: &Item<'_>) {
        let (at, align, got) = match *item {
            Item::A16(o) => (Gc::as_ptr(o) as usize, 16, o.tag),
            Item::A64(o) => (Gc::as_ptr(o) as usize, 64, o.tag),
            Item::A512(o) => (Gc::as_ptr(o) as usize, 512, o.tag),
            Item::A4096(o) => (Gc::as_ptr(o) as usize, 4096, o.tag),
            Item::Words(o) => {
                assert!(o.iter().all(|&w| w == tag), "words of {tag:#x}");
                (Gc::as_ptr(o) as *const u64 as usize, 8, tag)
            }
        };
        assert_eq!(got, tag);
        assert_eq!(at % align, 0, "{tag:#x} lost its alignment");
    }

    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut random = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let config =
        common::builder().block_size(64 * 1024).large_object_threshold(8 * 1024).build().unwrap();
    let mut arena = Arena::<Rootable![Vec<(u64, Item<'_>)>]>::new(config, |_| Vec::new());
    let mut pins_64 = std::collections::VecDeque::new();
    let mut pins_4096 = std::collections::VecDeque::new();
    let mut next_tag = 1u64;
    for round in 0..30 {
        let kinds: Vec<u64> = (0..300).map(|_| random(5)).collect();
        let lens: Vec<usize> = (0..300).map(|_| 1 + random(300) as usize).collect();
        arena.mutate_root(|mc, items| {
            for (&kind, &len) in kinds.iter().zip(&lens) {
                let tag = next_tag;
                next_tag += 1;
                let item = match kind {
                    0 => Item::A16(Gc::new(mc, A16 { tag })),
                    1 => Item::A64(Gc::new(mc, A64 { tag })),
                    2 => Item::A512(Gc::new(mc, A512 { tag })),
                    3 => Item::A4096(Gc::new(mc, A4096 { tag })),
                    _ => Item::Words(mc.alloc_slice_copy(&vec![tag; len])),
                };
                items.push((tag, item));
            }
        });
        arena.collect_minor();
        // Pin a few objects for a few rounds: the others slide around them.
        let (h64, h4096) = arena.mutate(|mc, items| {
            let mut h64 = None;
            let mut h4096 = None;
            for (_, item) in items.iter().rev() {
                match *item {
                    Item::A64(o) if h64.is_none() => h64 = Some(mc.handle::<Rootable![A64]>(o)),
                    Item::A4096(o) if h4096.is_none() => {
                        h4096 = Some(mc.handle::<Rootable![A4096]>(o))
                    }
                    _ => {}
                }
            }
            (h64, h4096)
        });
        pins_64.extend(h64.map(|h| arena.pin(&h)));
        pins_4096.extend(h4096.map(|h| arena.pin(&h)));
        if round % 3 == 0 {
            pins_64.pop_front();
        }
        if round % 4 == 0 {
            pins_4096.pop_front();
        }
        let doomed: Vec<bool> = (0..arena.mutate(|_, items| items.len()))
            .map(|_| random(100) < 45 + (round % 3) as u64 * 10)
            .collect();
        arena.mutate_root(|_, items| {
            let mut doomed = doomed.iter();
            items.retain(|_| !*doomed.next().unwrap());
        });
        arena.collect_full();
        arena.mutate(|_, items| items.iter().for_each(|(tag, item)| check(*tag, item)));
    }
    drop((pins_64, pins_4096));
    arena.collect_full();
    arena.mutate(|_, items| items.iter().for_each(|(tag, item)| check(*tag, item)));
}
