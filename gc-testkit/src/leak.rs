//! Random heaps for the leak-debug analysis and a brute-force oracle for it, shared by the
//! property test (`tests/leak_analysis.rs`) and the `leak_analysis` fuzz target: every
//! retained size must equal "the bytes that become unreachable when this object is removed",
//! and every reported path must be a shortest strong path from a root.

use std::collections::{HashMap, VecDeque};

use gc_core::{field, Arena, EdgeKind, Gc, GcWeak, Handle, HeapAnalysis, HeapConfig, RefLock};
use gc_core::{Rootable, Trace};

/// A node of the random heaps: strong and weak edges and a payload of varied size (some
/// large enough for the large-object space).
#[derive(Trace)]
#[allow(missing_debug_implementations)] // a graph with cycles: no useful `Debug`
pub struct Node<'gc> {
    /// Strong edges.
    pub children: RefLock<Vec<Gc<'gc, Node<'gc>>>>,
    /// Weak edges (not followed by the analysis).
    pub weak: RefLock<Vec<GcWeak<'gc, Node<'gc>>>>,
    /// Bytes, so that sizes differ.
    pub payload: Gc<'gc, [u8]>,
}

/// An arena whose root holds some of the nodes.
pub type NodeArena = Arena<Rootable![Vec<Gc<'_, Node<'_>>>]>;
/// A handle to one node: another kind of root.
pub type NodeHandle = Handle<Rootable![Node<'_>]>;

/// Where a random heap's choices come from: a PRNG in tests, the fuzzer's bytes in fuzzing.
pub trait Choices {
    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize;
}

/// xorshift64.
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// A generator for `seed` (any value).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
}

impl Choices for Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The fuzzer's bytes, two at a time; zeros once they run out.
#[derive(Debug)]
pub struct Bytes<'a>(pub &'a [u8]);

impl Choices for Bytes<'_> {
    fn below(&mut self, n: usize) -> usize {
        let (take, rest) = self.0.split_at(self.0.len().min(2));
        self.0 = rest;
        let v = take.iter().fold(0usize, |v, &b| v << 8 | b as usize);
        v % n
    }
}

/// A small heap with leak-debug recording and the verifier on: every collection is checked.
pub fn config() -> HeapConfig {
    HeapConfig::builder()
        .leak_debug(true)
        .verify(true)
        .nursery_size(64 * 1024)
        .block_size(16 * 1024)
        .large_object_threshold(2 * 1024)
        .min_full_heap(256 * 1024)
        .build()
        .expect("a valid configuration")
}

/// A random heap of `n` nodes: a few reachable from the root, some from handles, random strong
/// and weak edges (so cycles, shared subgraphs and garbage), payloads of varied sizes.
pub fn random_heap(choices: &mut dyn Choices, n: usize) -> (NodeArena, Vec<NodeHandle>) {
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
            let (a, b) = (nodes[choices.below(n)], nodes[choices.below(n)]);
            if choices.below(4) == 0 {
                field!(Gc::write(mc, a), Node, weak).borrow_mut().push(Gc::downgrade(b));
            } else {
                field!(Gc::write(mc, a), Node, children).borrow_mut().push(b);
            }
        }
        for _ in 0..3 {
            root.push(nodes[choices.below(n)]);
        }
        (0..3).map(|_| mc.handle(nodes[choices.below(n)])).collect()
    });
    (arena, handles)
}

/// Breadth-first over strong edges from the roots, without `removed`: each object's distance
/// (in objects) from a root, `usize::MAX` for the unreachable.
fn distances(analysis: &HeapAnalysis, removed: Option<usize>) -> Vec<usize> {
    let graph = analysis.graph();
    let mut dist = vec![usize::MAX; graph.objects().len()];
    let mut queue = VecDeque::new();
    let root_edges = (0..graph.roots().len()).flat_map(|r| graph.root_edges(r));
    for e in root_edges {
        if e.kind == EdgeKind::Strong && Some(e.to) != removed && dist[e.to] == usize::MAX {
            dist[e.to] = 1;
            queue.push_back(e.to);
        }
    }
    while let Some(i) = queue.pop_front() {
        for e in graph.edges(i) {
            if e.kind == EdgeKind::Strong && Some(e.to) != removed && dist[e.to] == usize::MAX {
                dist[e.to] = dist[i] + 1;
                queue.push_back(e.to);
            }
        }
    }
    dist
}

/// Checks every object's retained size and path against brute force (quadratic: for small
/// heaps); returns each object's retained size and path length by stable id.
pub fn check(analysis: &HeapAnalysis) -> Result<HashMap<u64, (u64, usize)>, String> {
    let graph = analysis.graph();
    let objects = graph.objects();
    let bytes_reached = |dist: &[usize]| -> u64 {
        objects
            .iter()
            .zip(dist)
            .filter(|(_, d)| **d != usize::MAX)
            .map(|(o, _)| o.size as u64)
            .sum()
    };
    let dist = distances(analysis, None);
    let total = bytes_reached(&dist);
    let by_snapshot_id: HashMap<u64, usize> =
        (0..objects.len()).map(|i| (analysis.snapshot_id(i), i)).collect();
    let mut out = HashMap::new();
    for x in 0..objects.len() {
        if dist[x] == usize::MAX {
            return Err(format!("object {x} is in the graph but unreachable"));
        }
        let expected = total - bytes_reached(&distances(analysis, Some(x)));
        if analysis.retained_size(x) != Some(expected) {
            return Err(format!(
                "object {x} ({:?}): retained size {:?}, brute force {expected}",
                objects[x],
                analysis.retained_size(x)
            ));
        }
        // The path: GC roots, a category, a root, then objects, each a strong edge.
        let ids = analysis.path_snapshot_ids(x).ok_or(format!("no path to {x}"))?;
        let path: Vec<usize> = ids[3..].iter().map(|id| by_snapshot_id[id]).collect();
        if path.len() != dist[x] || path.last() != Some(&x) {
            return Err(format!("path {path:?} to {x}: not a shortest path ({})", dist[x]));
        }
        for pair in path.windows(2) {
            if !graph.edges(pair[0]).iter().any(|e| e.kind == EdgeKind::Strong && e.to == pair[1]) {
                return Err(format!("no strong edge {} → {} on the path to {x}", pair[0], pair[1]));
            }
        }
        let text = analysis.path_text(x).ok_or(format!("no path text for {x}"))?;
        if !(text.ends_with("::Node") || text.ends_with("[u8]")) {
            return Err(format!("path text of {x}: {text}"));
        }
        out.insert(objects[x].id, (expected, path.len()));
    }
    if let Some(root) = analysis.roots().iter().find(|r| r.retained_size > total) {
        return Err(format!("a root retains more than the heap: {root:?}"));
    }
    Ok(out)
}
