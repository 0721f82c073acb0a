//! The analysis behind the leak reports against brute force (`gc_testkit::leak`): on random
//! heaps (strong and weak edges, cycles, shared objects, handles), before and after objects
//! moved in minor and full collections, every retained size equals "the bytes that become
//! unreachable when this object is removed", and every reported path is a shortest strong
//! path from a root.

use std::collections::HashMap;

use gc_core::Space;
use gc_testkit::leak::{check, random_heap, Rng};

#[test]
fn retained_sizes_and_paths_match_brute_force_on_random_heaps() {
    for seed in 1..=12 {
        let (mut arena, handles) = random_heap(&mut Rng::new(seed), 60 + seed as usize * 10);
        check(&arena.heap_analysis()).unwrap();
        arena.collect_full();
        check(&arena.heap_analysis()).unwrap();
        drop(handles);
    }
}

#[test]
fn paths_and_retained_sizes_are_right_after_moves() {
    let (mut arena, mut handles) = random_heap(&mut Rng::new(99), 200);
    // Young: nothing has moved yet.
    let young = check(&arena.heap_analysis()).unwrap();
    // A minor collection moves every survivor out of the nursery.
    let before: Vec<(usize, Space)> =
        arena.heap_graph().objects().iter().map(|o| (o.address, o.space)).collect();
    arena.collect_minor();
    let after: Vec<usize> = arena.heap_graph().objects().iter().map(|o| o.address).collect();
    assert!(before.iter().any(|(_, s)| *s == Space::Nursery));
    assert!(
        before.iter().zip(&after).all(|((a, s), b)| (a != b) == (*s == Space::Nursery)),
        "every young object moved, the large ones did not"
    );
    let promoted = check(&arena.heap_analysis()).unwrap();
    assert_eq!(young, promoted, "same retained sizes and path lengths, by stable id");
    // Drop a handle and part of the root: the full collection frees objects and slides the
    // survivors into the holes.
    handles.pop();
    arena.mutate_root(|_, root| {
        root.pop();
    });
    let graph = arena.heap_graph();
    let before: HashMap<u64, usize> = graph.objects().iter().map(|o| (o.id, o.address)).collect();
    arena.collect_full();
    let analysis = arena.heap_analysis();
    let moved = analysis
        .graph()
        .objects()
        .iter()
        .filter(|o| before.get(&o.id).is_some_and(|&a| a != o.address))
        .count();
    assert!(moved > 0, "compaction moved objects");
    check(&analysis).unwrap();
    // A watched object that moved is still found, with its path.
    let target = analysis.graph().objects().len() - 1;
    let target_id = analysis.graph().objects()[target].id;
    arena.mutate(|mc, root| {
        mc.watch(root[0], "moved and watched");
    });
    arena.collect_minor();
    arena.collect_full();
    arena.collect_full();
    let report = arena.leak_report();
    assert_eq!(report.leak_count(), 1, "{report}");
    let leak = report.all_leaks().next().unwrap();
    let analysis = arena.heap_analysis();
    let index = analysis.graph().objects().iter().position(|o| o.id == leak.object.id).unwrap();
    assert_eq!(analysis.retained_size(index), Some(leak.object.retained_size));
    assert!(analysis.graph().objects().iter().any(|o| o.id == target_id));
    drop(handles);
}
