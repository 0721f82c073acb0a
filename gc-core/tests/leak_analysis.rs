#![cfg(feature = "leak-debug")]
//! The analysis behind the reports against brute force: on random heaps (strong and weak
//! edges, cycles, shared objects, handles), before and after objects moved in minor and full
//! collections, every retained size equals "the bytes that become unreachable when this object
//! is removed", and every reported path is a shortest strong path from a root.

use std::collections::{HashMap, VecDeque};

use gc_core::{field, Arena, EdgeKind, Gc, GcWeak, Handle, HeapAnalysis, HeapConfig, RefLock};
use gc_core::{Rootable, Space, Trace};

#[derive(Trace)]
struct Node<'gc> {
    children: RefLock<Vec<Gc<'gc, Node<'gc>>>>,
    weak: RefLock<Vec<GcWeak<'gc, Node<'gc>>>>,
    payload: Gc<'gc, [u8]>,
}

type NodeArena = Arena<Rootable![Vec<Gc<'_, Node<'_>>>]>;
type NodeHandle = Handle<Rootable![Node<'_>]>;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn config() -> HeapConfig {
    HeapConfig::builder()
        .leak_debug(true)
        .verify(true)
        .nursery_size(64 * 1024)
        .block_size(16 * 1024)
        .large_object_threshold(2 * 1024)
        .min_full_heap(256 * 1024)
        .build()
        .unwrap()
}

/// A random heap of `n` nodes: a few reachable from the root, some from handles, random strong
/// and weak edges (so cycles, shared subgraphs and garbage), payloads of varied sizes.
fn random_heap(seed: u64, n: usize) -> (NodeArena, Vec<NodeHandle>) {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut arena = NodeArena::new(config(), |_| Vec::new());
    let handles = arena.mutate_root(|mc, root| {
        let nodes: Vec<_> = (0..n)
            .map(|i| {
                let len = [8, 24, 100, 300, 3000][i % 5];
                Gc::new(
                    mc,
                    Node {
                        children: RefLock::new(Vec::new()),
                        weak: RefLock::new(Vec::new()),
                        payload: mc.alloc_slice_copy(&vec![0u8; len]),
                    },
                )
            })
            .collect();
        for _ in 0..n * 3 / 2 {
            let (a, b) = (nodes[rng.below(n)], nodes[rng.below(n)]);
            if rng.below(4) == 0 {
                field!(Gc::write(mc, a), Node, weak).borrow_mut().push(Gc::downgrade(b));
            } else {
                field!(Gc::write(mc, a), Node, children).borrow_mut().push(b);
            }
        }
        for _ in 0..3 {
            root.push(nodes[rng.below(n)]);
        }
        (0..3).map(|_| mc.handle(nodes[rng.below(n)])).collect()
    });
    (arena, handles)
}

/// Brute force on the graph: reachability from the roots over strong edges.
fn reachable(analysis: &HeapAnalysis, removed: Option<usize>) -> Vec<bool> {
    let graph = analysis.graph();
    let mut seen = vec![false; graph.objects().len()];
    let mut queue = VecDeque::new();
    for r in 0..graph.roots().len() {
        for e in graph.root_edges(r) {
            if e.kind == EdgeKind::Strong && Some(e.to) != removed && !seen[e.to] {
                seen[e.to] = true;
                queue.push_back(e.to);
            }
        }
    }
    while let Some(i) = queue.pop_front() {
        for e in graph.edges(i) {
            if e.kind == EdgeKind::Strong && Some(e.to) != removed && !seen[e.to] {
                seen[e.to] = true;
                queue.push_back(e.to);
            }
        }
    }
    seen
}

/// Distance (in objects) from the roots over strong edges.
fn distances(analysis: &HeapAnalysis) -> Vec<usize> {
    let graph = analysis.graph();
    let mut dist = vec![usize::MAX; graph.objects().len()];
    let mut queue = VecDeque::new();
    for r in 0..graph.roots().len() {
        for e in graph.root_edges(r) {
            if e.kind == EdgeKind::Strong && dist[e.to] == usize::MAX {
                dist[e.to] = 1;
                queue.push_back(e.to);
            }
        }
    }
    while let Some(i) = queue.pop_front() {
        for e in graph.edges(i) {
            if e.kind == EdgeKind::Strong && dist[e.to] == usize::MAX {
                dist[e.to] = dist[i] + 1;
                queue.push_back(e.to);
            }
        }
    }
    dist
}

/// Checks every object's retained size and path; returns the retained sizes by stable id.
fn check(analysis: &HeapAnalysis) -> HashMap<u64, (u64, usize)> {
    let graph = analysis.graph();
    let objects = graph.objects();
    let all = reachable(analysis, None);
    let total: u64 =
        objects.iter().zip(&all).filter(|(_, r)| **r).map(|(o, _)| o.size as u64).sum();
    let dist = distances(analysis);
    let by_snapshot_id: HashMap<u64, usize> =
        (0..objects.len()).map(|i| (analysis.snapshot_id(i), i)).collect();
    let mut out = HashMap::new();
    for x in 0..objects.len() {
        assert!(all[x], "the graph holds reachable objects only");
        let without = reachable(analysis, Some(x));
        let kept: u64 =
            objects.iter().zip(&without).filter(|(_, r)| **r).map(|(o, _)| o.size as u64).sum();
        let expected = total - kept;
        assert_eq!(analysis.retained_size(x), Some(expected), "object {x}: {:?}", objects[x]);
        // The path: GC roots, a category, a root, then objects, each a strong edge.
        let ids = analysis.path_snapshot_ids(x).expect("reachable");
        let path: Vec<usize> = ids[3..].iter().map(|id| by_snapshot_id[id]).collect();
        assert_eq!(path.len(), dist[x], "a shortest path to {x}");
        assert_eq!(*path.last().unwrap(), x);
        for pair in path.windows(2) {
            assert!(
                graph.edges(pair[0]).iter().any(|e| e.kind == EdgeKind::Strong && e.to == pair[1]),
                "a strong edge {} → {}",
                pair[0],
                pair[1]
            );
        }
        let text = analysis.path_text(x).unwrap();
        assert!(text.ends_with("::Node") || text.ends_with("[u8]"), "{text}");
        out.insert(objects[x].id, (expected, path.len()));
    }
    // Roots: the whole arena root, its fields, the handles; each at most the total.
    let roots = analysis.roots();
    assert!(roots.iter().all(|r| r.retained_size <= total));
    out
}

#[test]
fn retained_sizes_and_paths_match_brute_force_on_random_heaps() {
    for seed in 1..=12 {
        let (mut arena, handles) = random_heap(seed, 60 + seed as usize * 10);
        check(&arena.heap_analysis());
        arena.collect_full();
        check(&arena.heap_analysis());
        drop(handles);
    }
}

#[test]
fn paths_and_retained_sizes_are_right_after_moves() {
    let (mut arena, mut handles) = random_heap(99, 200);
    // Young: nothing has moved yet.
    let young = check(&arena.heap_analysis());
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
    let promoted = check(&arena.heap_analysis());
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
    check(&analysis);
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
