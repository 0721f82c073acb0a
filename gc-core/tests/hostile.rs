//! What a user may implement, treated as hostile: a `numa::Topology` that re-enters the arena,
//! panics (with payloads that panic when dropped) or answers nonsense; `Into<String>` watch
//! reasons that allocate, write or panic; configurations at the edges of every size.

mod common;

use gc_core::{Arena, Gc, HeapConfig, NumaPolicy, Rootable};

// ---------------------------------------------------------------------------------------------
// Watch reasons (leak-debug): evaluated before the heap is touched.
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "leak-debug")]
mod watch {
    use std::cell::RefCell;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    use super::*;
    use gc_core::{field, Lock, Mutation, Trace};

    #[derive(Trace)]
    struct Cell2<'gc> {
        value: u64,
        next: Lock<Option<Gc<'gc, Cell2<'gc>>>>,
    }

    type Root = Rootable![Gc<'_, Cell2<'_>>];

    /// Sets the `Probe`s' drops apart from the values they were made with.
    struct Probe(u64);

    thread_local! {
        static DROPPED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
    }

    impl Drop for Probe {
        fn drop(&mut self) {
            DROPPED.with(|d| d.borrow_mut().push(self.0));
        }
    }

    const MAGIC: u64 = 0x5afe_5afe;

    #[derive(Trace)]
    struct Canary {
        #[trace(skip)]
        _probe: Probe,
    }

    /// Every `Probe` dropped on this thread so far held `MAGIC`: no destructor ran on a
    /// half-made object.
    fn only_whole_canaries_dropped() -> usize {
        DROPPED.with(|d| {
            let d = d.borrow();
            assert!(d.iter().all(|&v| v == MAGIC), "a destructor ran on stale words: {d:x?}");
            d.len()
        })
    }

    /// A reason that runs the barrier on an old object and stores a young one in it.
    struct Writes<'a, 'gc>(&'a Mutation<'gc>, Gc<'gc, Cell2<'gc>>);

    impl From<Writes<'_, '_>> for String {
        fn from(Writes(mc, old): Writes<'_, '_>) -> String {
            let old = Gc::write(mc, old);
            let young = Gc::new(mc, Cell2 { value: 7, next: Lock::new(None) });
            field!(old, Cell2, next).set(Some(young));
            "written".into()
        }
    }

    /// A reason that allocates an object with a destructor.
    struct Allocates<'a, 'gc>(&'a Mutation<'gc>);

    impl From<Allocates<'_, '_>> for String {
        fn from(Allocates(mc): Allocates<'_, '_>) -> String {
            Gc::new(mc, Canary { _probe: Probe(MAGIC) });
            "allocated".into()
        }
    }

    struct Panics;

    impl From<Panics> for String {
        fn from(_: Panics) -> String {
            panic!("the reason panicked")
        }
    }

    fn leak_arena() -> Arena<Root> {
        let mut arena =
            Arena::<Root>::new(common::builder().leak_debug(true).build().unwrap(), |mc| {
                Gc::new(mc, Cell2 { value: 0, next: Lock::new(None) })
            });
        arena.collect_minor();
        arena
    }

    #[test]
    fn a_reason_may_write_an_old_object() {
        let mut arena = leak_arena();
        let result = catch_unwind(AssertUnwindSafe(|| {
            arena.mutate(|mc, root| {
                let dying = Gc::new(mc, 1u64);
                mc.watch(dying, Writes(mc, *root));
            })
        }));
        arena.verify().expect("the barrier's bit and the remembered set agree");
        result.expect("the reason ran outside the heap's bookkeeping");
        arena.collect_minor();
        arena.mutate(|_, root| assert_eq!(root.next.get().unwrap().value, 7));
    }

    #[test]
    fn a_reason_may_allocate() {
        let mut arena = leak_arena();
        // Stale words in the nursery where the reason's object will go.
        arena.mutate(|mc, _| {
            for _ in 0..100 {
                Gc::new(mc, [0x4141_4141_4141usize; 4]);
            }
        });
        arena.collect_minor();
        let result = catch_unwind(AssertUnwindSafe(|| {
            arena.mutate(|mc, _| {
                let dying = Gc::new(mc, 1u64);
                mc.watch(dying, Allocates(mc));
            })
        }));
        arena.verify().unwrap();
        arena.collect_minor();
        arena.collect_full();
        assert!(only_whole_canaries_dropped() <= 1);
        result.expect("the reason ran outside the heap's bookkeeping");
        assert_eq!(only_whole_canaries_dropped(), 1);
        let report = arena.leak_report();
        assert!(report.to_string().len() < 100_000);
    }

    #[test]
    fn a_panicking_reason_leaves_the_heap_as_it_was() {
        let mut arena = leak_arena();
        let census = arena.census();
        let result =
            catch_unwind(AssertUnwindSafe(|| arena.mutate(|mc, root| mc.watch(*root, Panics))));
        assert!(result.is_err());
        arena.verify().unwrap();
        assert_eq!(arena.census(), census);
        assert!(arena.leak_report().leaks.is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// Configurations at the edges of every setting.
// ---------------------------------------------------------------------------------------------

#[test]
fn every_setting_is_validated_at_its_edges() {
    use gc_core::HeapConfigBuilder;
    const KIB: usize = 1024;
    const MIB: usize = 1024 * KIB;
    const MAX: usize = isize::MAX as usize / 4;
    type Edit = fn(HeapConfigBuilder) -> HeapConfigBuilder;
    // (what, the edit, the field refused: `None` if accepted)
    let cases: &[(&str, Edit, Option<&str>)] = &[
        ("nursery 0", |b| b.nursery_size(0), Some("nursery_size")),
        ("nursery below min", |b| b.nursery_size(64 * KIB - 1), Some("nursery_size")),
        ("nursery min", |b| b.nursery_size(64 * KIB), None),
        ("nursery unaligned", |b| b.nursery_size(64 * KIB + 1), None),
        ("nursery usize::MAX", |b| b.nursery_size(usize::MAX), Some("nursery_size")),
        (
            "nursery past max",
            |b| b.nursery_size(MAX + 1).nursery_reserve(MAX),
            Some("nursery_size"),
        ),
        ("reserve usize::MAX", |b| b.nursery_reserve(usize::MAX), Some("nursery_reserve")),
        ("reserve isize::MAX", |b| b.nursery_reserve(isize::MAX as usize), Some("nursery_reserve")),
        ("reserve past max", |b| b.nursery_reserve(MAX + 1), Some("nursery_reserve")),
        ("reserve max", |b| b.nursery_reserve(MAX), None),
        ("reserve 0", |b| b.nursery_reserve(0), Some("nursery_reserve")),
        ("reserve below nursery", |b| b.nursery_reserve(4 * MIB - 1), Some("nursery_reserve")),
        ("reserve = nursery", |b| b.nursery_reserve(4 * MIB), None),
        ("reserve unaligned", |b| b.nursery_reserve(4 * MIB + 1), None),
        ("block 0", |b| b.block_size(0), Some("block_size")),
        ("block not a power of two", |b| b.block_size(48 * KIB), Some("block_size")),
        ("block below min", |b| b.block_size(2 * KIB), Some("block_size")),
        ("block above max", |b| b.block_size(128 * MIB), Some("block_size")),
        ("block usize::MAX", |b| b.block_size(usize::MAX), Some("block_size")),
        ("block 2^63", |b| b.block_size(1 << 63), Some("block_size")),
        ("block min", |b| b.block_size(4 * KIB).large_object_threshold(KIB), None),
        ("block max", |b| b.block_size(64 * MIB), None),
        ("threshold 0", |b| b.large_object_threshold(0), Some("large_object_threshold")),
        ("threshold below min", |b| b.large_object_threshold(255), Some("large_object_threshold")),
        ("threshold min", |b| b.large_object_threshold(256), None),
        ("threshold unaligned", |b| b.large_object_threshold(1001), None),
        ("threshold a quarter block", |b| b.large_object_threshold(64 * KIB), None),
        (
            "threshold past a quarter",
            |b| b.large_object_threshold(64 * KIB + 1),
            Some("large_object_threshold"),
        ),
        (
            "threshold usize::MAX",
            |b| b.large_object_threshold(usize::MAX),
            Some("large_object_threshold"),
        ),
        ("growth 0", |b| b.growth_factor(0.0), Some("growth_factor")),
        ("growth 1", |b| b.growth_factor(1.0), Some("growth_factor")),
        ("growth negative", |b| b.growth_factor(-2.0), Some("growth_factor")),
        ("growth NaN", |b| b.growth_factor(f64::NAN), Some("growth_factor")),
        ("growth infinite", |b| b.growth_factor(f64::INFINITY), Some("growth_factor")),
        ("growth just above 1", |b| b.growth_factor(1.000_001), None),
        ("growth f64::MAX", |b| b.growth_factor(f64::MAX), None),
        ("min full heap 0", |b| b.min_full_heap(0), None),
        ("min full heap usize::MAX", |b| b.min_full_heap(usize::MAX), None),
        ("max heap 0", |b| b.max_heap(0), Some("max_heap")),
        ("max heap below min", |b| b.max_heap(4 * MIB + MIB - 1), Some("max_heap")),
        ("max heap min", |b| b.max_heap(4 * MIB + MIB), None),
        ("max heap usize::MAX", |b| b.max_heap(usize::MAX), None),
        ("near limit 0", |b| b.near_limit(0.0), Some("near_limit")),
        ("near limit negative", |b| b.near_limit(-0.5), Some("near_limit")),
        ("near limit NaN", |b| b.near_limit(f64::NAN), Some("near_limit")),
        ("near limit above 1", |b| b.near_limit(1.000_001), Some("near_limit")),
        ("near limit infinite", |b| b.near_limit(f64::INFINITY), Some("near_limit")),
        ("near limit 1", |b| b.near_limit(1.0), None),
        ("near limit tiny", |b| b.near_limit(f64::MIN_POSITIVE), None),
        ("watch collections 0", |b| b.leak_watch_collections(0), Some("leak_watch_collections")),
        ("watch collections u32::MAX", |b| b.leak_watch_collections(u32::MAX), None),
        (
            "leak debug",
            |b| b.leak_debug(true),
            if cfg!(feature = "leak-debug") { None } else { Some("leak_debug") },
        ),
        ("Fixed node absent", |b| b.numa(NumaPolicy::Fixed(u32::MAX)), None),
    ];
    for &(what, edit, refused) in cases {
        match (edit(HeapConfig::builder().verify(true)).build(), refused) {
            (Err(err), Some(field)) => {
                assert_eq!(err.field(), field, "{what}: {err}");
                assert!(!err.to_string().is_empty());
            }
            (Ok(config), None) => {
                // An accepted configuration makes a working arena, or a typed error: no panic.
                let arena = Arena::<Rootable![Gc<'_, u64>]>::try_new(config, |mc| Gc::new(mc, 7));
                let Ok(mut arena) = arena else { continue };
                arena.mutate(|mc, _| {
                    Gc::new(mc, [1u64; 100]);
                });
                arena.collect_full();
                arena.mutate(|_, root| assert_eq!(**root, 7, "{what}"));
            }
            (result, _) => panic!("{what}: expected {refused:?}, got {result:?}"),
        }
    }
}
