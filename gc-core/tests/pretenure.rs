//! Pretenuring: a site whose objects survive is tenured, its objects are placed in the old
//! generation and stay correct (with the verifier on), and it goes back to the nursery when
//! its objects stop surviving.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use common::{builder, config, DropCounter, DropToken};
use gc_core::{Arena, Gc, HeapConfig, Lock, Mutation, Rootable, Trace};

#[derive(Trace)]
struct Entry<'gc> {
    key: u64,
    /// Allocated at another site, which is never tenured, just before the entry: young while
    /// a tenured entry points at it.
    name: Gc<'gc, str>,
    next: Lock<Option<Gc<'gc, Entry<'gc>>>>,
    #[trace(skip)]
    _token: DropToken,
}

type Table = Rootable![Vec<Gc<'_, Entry<'_>>>];

/// The one allocation site of names. Nine in ten of its strings die young, so it is never
/// tenured: the names of tenured entries are nursery objects when the entries are made.
fn name<'gc>(mc: &Mutation<'gc>, key: u64) -> Gc<'gc, str> {
    for _ in 0..9 {
        string(mc, "garbage");
    }
    string(mc, &format!("entry-{key}"))
}

fn string<'gc>(mc: &Mutation<'gc>, s: &str) -> Gc<'gc, str> {
    mc.alloc_str(s)
}

/// The one allocation site of entries.
fn entry<'gc>(
    mc: &Mutation<'gc>,
    key: u64,
    next: Option<Gc<'gc, Entry<'gc>>>,
    drops: &DropCounter,
) -> Gc<'gc, Entry<'gc>> {
    let name = name(mc, key);
    Gc::new(mc, Entry { key, name, next: Lock::new(next), _token: drops.token() })
}

/// Adds `count` entries that all survive, with short-lived garbage from another site between
/// them, then reaches a safepoint.
fn grow(arena: &mut Arena<Table>, count: u64, drops: &DropCounter) {
    arena.mutate_root(|mc, table| {
        for _ in 0..count {
            let key = table.len() as u64;
            let next = table.last().copied();
            table.push(entry(mc, key, next, drops));
            Gc::new(mc, [key; 4]);
        }
    });
    arena.collect_if_due();
}

fn check(arena: &mut Arena<Table>) {
    arena.mutate(|_, table| {
        for (i, e) in table.iter().enumerate() {
            assert_eq!(e.key, i as u64);
            assert_eq!(&*e.name, format!("entry-{i}"));
            assert_eq!(e.next.get().map(|n| n.key), i.checked_sub(1).map(|k| k as u64));
        }
    });
}

#[test]
fn a_site_whose_objects_survive_is_tenured_and_they_stay_correct() {
    let drops = DropCounter::default();
    let mut arena = Arena::<Table>::new(config(), |_| Vec::new());
    let mut tenured_at = None;
    for round in 0..200 {
        grow(&mut arena, 100, &drops);
        if tenured_at.is_none() && arena.stats().pretenured_sites > 0 {
            tenured_at = Some(round);
        }
    }
    let stats = arena.stats();
    let tenured_at = tenured_at.expect("the entry site is tenured");
    assert!(tenured_at < 100, "tenured after {tenured_at} rounds");
    assert!(stats.pretenured_sites >= 1);
    assert!(stats.bytes_pretenured > stats.bytes_promoted, "{stats}");
    check(&mut arena);
    arena.collect_full();
    check(&mut arena);
    // Destructors of tenured objects run once, at the full collection that frees them.
    arena.mutate_root(|_, table| table.truncate(1000));
    arena.collect_full();
    assert_eq!(drops.count(), 20_000 - 1000);
    check(&mut arena);
    drop(arena);
    assert_eq!(drops.count(), 20_000);
}

#[test]
fn a_tenured_site_whose_objects_die_goes_back_to_the_nursery() {
    let drops = DropCounter::default();
    let mut arena = Arena::<Table>::new(config(), |_| Vec::new());
    while arena.stats().pretenured_sites == 0 {
        grow(&mut arena, 100, &drops);
        assert!(arena.stats().minor.count < 1000, "the entry site is never tenured");
    }
    // The same sites now make garbage: about 7 MiB of it, over 100 nurseries of the test
    // configuration.
    let (pretenured_before, sites) =
        (arena.stats().bytes_pretenured, arena.stats().pretenured_sites);
    let mut untenured_after = None;
    for round in 0..1200u64 {
        arena.mutate_root(|mc, table| {
            let next = table.last().copied();
            for key in 0..100 {
                entry(mc, key, next, &drops);
            }
        });
        arena.collect_if_due();
        if untenured_after.is_none() && arena.stats().pretenured_sites == 0 {
            untenured_after = Some(round);
        }
    }
    let stats = arena.stats();
    assert_eq!(stats.pretenured_sites, 0, "{stats}");
    assert!(untenured_after.is_some());
    // A trial comes after 16 nurseries of a site's tenured allocation (seen at the reviews,
    // every 4 nurseries of tenured allocation): the garbage placed in the old generation
    // before a site went back is bounded by that.
    let misplaced = stats.bytes_pretenured - pretenured_before;
    assert!(
        misplaced <= sites as u64 * 20 * 64 * 1024,
        "{misplaced} bytes of garbage pretenured by {sites} sites"
    );
    check(&mut arena);
    arena.collect_full();
    check(&mut arena);
}

#[test]
fn with_pretenuring_off_every_small_object_starts_in_the_nursery() {
    let drops = DropCounter::default();
    let config = builder().pretenuring(false).build().unwrap();
    assert!(!config.pretenuring() && HeapConfig::default().pretenuring());
    let mut arena = Arena::<Table>::new(config, |_| Vec::new());
    for _ in 0..200 {
        grow(&mut arena, 100, &drops);
    }
    let stats = arena.stats();
    assert_eq!((stats.pretenured_sites, stats.bytes_pretenured), (0, 0), "{stats}");
    check(&mut arena);
}

#[test]
fn a_panic_while_filling_a_tenured_slice_leaves_the_heap_consistent() {
    type Slices = Rootable![Vec<Gc<'_, [Lock<Option<Gc<'_, u64>>>]>>];
    let fill = |arena: &mut Arena<Slices>, panic_at: Option<usize>| {
        arena.mutate_root(|mc, slices| {
            let slice = mc.alloc_slice_fill_with(32, |i| {
                assert_ne!(Some(i), panic_at, "injected panic");
                Lock::new(Some(Gc::new(mc, i as u64)))
            });
            slices.push(slice);
        });
    };
    let mut arena = Arena::<Slices>::new(config(), |_| Vec::new());
    while arena.stats().pretenured_sites == 0 {
        for _ in 0..20 {
            fill(&mut arena, None);
        }
        arena.collect_if_due();
        assert!(arena.stats().minor.count < 1000, "the slice site is never tenured");
    }
    let before = arena.stats().bytes_pretenured;
    for _ in 0..8 {
        let panicked = catch_unwind(AssertUnwindSafe(|| fill(&mut arena, Some(7))));
        assert!(panicked.is_err());
        fill(&mut arena, None);
    }
    assert!(arena.stats().bytes_pretenured > before, "the slices were tenured");
    arena.collect_minor();
    arena.collect_full();
    arena.mutate(|_, slices| {
        for slice in slices {
            for (i, cell) in slice.iter().enumerate() {
                assert_eq!(cell.get().map(|v| *v), Some(i as u64));
            }
        }
    });
}

#[test]
fn scanned_ranges_cover_objects_in_every_block_they_reach() {
    // Pinned objects go in ranges the next minor collection scans; a tenured site's
    // pointer-free objects go in no range but move allocation on to new blocks. A pinned
    // object after such a move must still be scanned: its young referent is only reachable
    // through it.
    type Root = Rootable![(Vec<Gc<'_, [u8]>>, Vec<Gc<'_, Lock<Option<Gc<'_, u64>>>>>)];
    // The one site of the byte objects.
    fn bytes<'gc>(mc: &Mutation<'gc>, i: usize) -> Gc<'gc, [u8]> {
        mc.alloc_slice_copy(&[i as u8; 200])
    }
    let mut arena = Arena::<Root>::new(config(), |_| (Vec::new(), Vec::new()));
    let fill = |arena: &mut Arena<Root>, count: usize| {
        arena.mutate_root(|mc, (kept, _)| {
            for i in 0..count {
                kept.push(bytes(mc, i));
            }
        });
    };
    while arena.stats().pretenured_sites == 0 {
        fill(&mut arena, 200);
        arena.collect_if_due();
        assert!(arena.stats().minor.count < 1000, "the byte site is never tenured");
    }
    let before = arena.stats().bytes_pretenured;
    arena.mutate_root(|mc, (kept, pins)| {
        for round in 0..4u64 {
            let young = Gc::new(mc, round);
            pins.push(mc.alloc_pinned(Lock::new(Some(young))));
            // Several blocks of tenured bytes (blocks are 16 KiB in the test configuration).
            for i in 0..400 {
                kept.push(bytes(mc, i));
            }
        }
    });
    assert!(arena.stats().bytes_pretenured - before > 4 * 400 * 200, "the bytes were tenured");
    arena.collect_minor();
    arena.collect_full();
    arena.mutate(|_, (_, pins)| {
        let values: Vec<u64> = pins.iter().map(|p| *p.get().unwrap()).collect();
        assert_eq!(values, [0, 1, 2, 3]);
    });
}

/// A plain record, allocated at one site only.
#[derive(Trace)]
struct Record {
    key: u64,
    _pad: [u64; 3],
}

fn record<'gc>(mc: &Mutation<'gc>, key: u64) -> Gc<'gc, Record> {
    Gc::new(mc, Record { key, _pad: [key; 3] })
}

/// A tenured site whose objects die, in a program that allocates nothing else: the nursery
/// stays empty, so no minor collection comes by itself, nor a full one (the threshold is far):
/// pretenuring asks for the minor collections that review its decision, and the site goes
/// back to the nursery.
#[test]
fn a_tenured_site_is_reviewed_when_it_is_all_the_program_allocates() {
    if std::env::var_os("GC_CORE_STRESS").is_some() {
        return; // stress mode replaces the pacing under test
    }
    let config = builder().min_full_heap(256 << 20).build().unwrap();
    let mut arena = Arena::<Rootable![Vec<Gc<'_, Record>>]>::new(config, |_| Vec::new());
    let mut rounds = 0;
    while arena.stats().pretenured_sites == 0 {
        arena.mutate_root(|mc, root| {
            for _ in 0..100 {
                let key = root.len() as u64;
                root.push(record(mc, key));
            }
        });
        arena.collect_if_due();
        rounds += 1;
        assert!(rounds < 2_000, "the record site is never tenured");
    }
    let minors = arena.stats().minor.count;
    // Now only garbage from that site: 100 records of 40 bytes a round, a 64 KiB nursery
    // every 16 rounds.
    let mut back_after = None;
    for round in 0..2_000u64 {
        arena.mutate(|mc, _| {
            for key in 0..100 {
                record(mc, key);
            }
        });
        arena.collect_if_due();
        if arena.stats().pretenured_sites == 0 {
            back_after = Some(round);
            break;
        }
    }
    let stats = arena.stats();
    let back_after = back_after.unwrap_or_else(|| panic!("still tenured: {stats}"));
    assert!(stats.minor.count > minors, "pretenuring asked for minor collections: {stats}");
    assert!(back_after < 1_000, "back in the nursery after {back_after} rounds: {stats}");
    arena.mutate(|_, root| assert!(root.iter().enumerate().all(|(i, r)| r.key == i as u64)));
}
