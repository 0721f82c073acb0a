//! Allocation throughput of small objects: `n` objects of 16 bytes of payload, allocated in
//! `mutate` slices of 10,000 with `collect_if_due` between them. Each object points at the one
//! allocated before it (young-to-young pointers, the common case); one in 100 is kept alive,
//! unlinked, in a ring of 1,000 (so minor collections have survivors to promote, and the old
//! generation fills with garbage for full collections to compact).

use std::rc::Rc;

use gc_core::{Arena, Gc, HeapConfig, Lock, Rootable, Trace};

use crate::common::Pauses;

#[derive(Trace)]
struct Small<'gc> {
    value: u64,
    next: Option<Gc<'gc, Small<'gc>>>,
}

const SLICE: u64 = 10_000;
const KEEP: usize = 1_000;

/// Returns the sum of the values of the objects alive at the end.
pub fn gc_core(n: u64, config: HeapConfig) -> u64 {
    gc_core_stats(n, config).0
}

/// As [`gc_core`], with the arena's statistics.
pub fn gc_core_stats(n: u64, config: HeapConfig) -> (u64, gc_core::Stats) {
    let (sum, stats, _) = gc_core_pauses(n, config);
    (sum, stats)
}

/// As [`gc_core`], with the arena's statistics and every pause.
pub fn gc_core_pauses(n: u64, config: HeapConfig) -> (u64, gc_core::Stats, Pauses) {
    let mut pauses = Pauses::default();
    let mut arena = Arena::<Rootable![Vec<Lock<Option<Gc<'_, Small<'_>>>>>]>::new(config, |_| {
        (0..KEEP).map(|_| Lock::new(None)).collect()
    });
    let mut i = 0;
    while i < n {
        arena.mutate_root(|mc, ring| {
            let mut prev = None;
            for _ in 0..SLICE.min(n - i) {
                if i % 100 == 0 {
                    let kept = Gc::new(mc, Small { value: i, next: None });
                    *ring[(i / 100) as usize % KEEP].get_mut() = Some(kept);
                } else {
                    prev = Some(Gc::new(mc, Small { value: i, next: prev }));
                }
                i += 1;
            }
        });
        pauses.safepoint(&mut arena);
    }
    let sum = arena.mutate(|_, ring| ring.iter().filter_map(|s| s.get()).map(|s| s.value).sum());
    (sum, arena.stats(), pauses)
}

struct BoxSmall {
    value: u64,
    _next: Option<Rc<BoxSmall>>,
}

/// The same with `Rc`. (A slice's chain is freed as a whole when the slice ends, by `Rc`'s
/// recursive drop; slices are short enough for that.)
pub fn rc(n: u64) -> u64 {
    let mut ring: Vec<Option<Rc<BoxSmall>>> = vec![None; KEEP];
    let mut i = 0;
    while i < n {
        let mut prev = None;
        for _ in 0..SLICE.min(n - i) {
            if i % 100 == 0 {
                ring[(i / 100) as usize % KEEP] = Some(Rc::new(BoxSmall { value: i, _next: None }));
            } else {
                prev = Some(Rc::new(BoxSmall { value: i, _next: prev }));
            }
            i += 1;
        }
    }
    ring.iter().flatten().map(|s| s.value).sum()
}

/// Bump allocation that never frees: the upper bound.
pub fn bumpalo(n: u64) -> u64 {
    struct BumpSmall<'b> {
        value: u64,
        _next: Option<&'b BumpSmall<'b>>,
    }
    let bump = bumpalo::Bump::new();
    let mut ring: Vec<Option<&BumpSmall<'_>>> = vec![None; KEEP];
    let mut i = 0;
    while i < n {
        let mut prev = None;
        for _ in 0..SLICE.min(n - i) {
            if i % 100 == 0 {
                ring[(i / 100) as usize % KEEP] =
                    Some(bump.alloc(BumpSmall { value: i, _next: None }));
            } else {
                prev = Some(&*bump.alloc(BumpSmall { value: i, _next: prev }));
            }
            i += 1;
        }
    }
    ring.iter().flatten().map(|s| s.value).sum()
}

/// Allocation of objects that all survive: a list of `n` nodes, each pointing at the one
/// before, built in `mutate` slices of 10,000 with `collect_if_due` between them. With
/// pretenuring the site is tenured after two minor collections and the nodes are allocated
/// in the old generation; without it each is allocated in the nursery and promoted. Returns
/// the sum of the values, walking the list.
pub fn survivors(n: u64, config: HeapConfig) -> (u64, gc_core::Stats) {
    let mut arena = Arena::<Rootable![Option<Gc<'_, Small<'_>>>]>::new(config, |_| None);
    let mut i = 0;
    while i < n {
        arena.mutate_root(|mc, head| {
            for _ in 0..SLICE.min(n - i) {
                *head = Some(Gc::new(mc, Small { value: i, next: *head }));
                i += 1;
            }
        });
        arena.collect_if_due();
    }
    let sum = arena.mutate(|_, head| {
        let (mut sum, mut at) = (0, *head);
        while let Some(node) = at {
            sum += node.value;
            at = node.next;
        }
        sum
    });
    (sum, arena.stats())
}

/// The same list in a bumpalo arena (never freed: the bound on allocating and linking).
pub fn survivors_bumpalo(n: u64) -> u64 {
    struct Node<'b> {
        value: u64,
        next: Option<&'b Node<'b>>,
    }
    let bump = bumpalo::Bump::new();
    let mut head: Option<&Node<'_>> = None;
    for i in 0..n {
        head = Some(bump.alloc(Node { value: i, next: head }));
    }
    let (mut sum, mut at) = (0, head);
    while let Some(node) = at {
        sum += node.value;
        at = node.next;
    }
    sum
}
