//! The collector's own costs, outside any workload:
//!
//! - `full_gc`: one full collection of a heap of 2^20 live tree nodes (nothing to free,
//!   nothing moves: the cost of marking), and the same heap with 10 % of its pointers weak
//!   (each such node holds a `GcWeak` to a node that something else keeps alive);
//! - `identity_hash`: the first call on an object (which records it) and the calls after it,
//!   on young and on old objects.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gc_core::{Arena, Gc, GcWeak, HeapConfig, Mutation, Rootable, Trace};

const DEPTH: u32 = 19;
const NODES: u64 = (1 << (DEPTH + 1)) - 1;

#[derive(Trace)]
struct Node<'gc> {
    left: Option<Gc<'gc, Node<'gc>>>,
    right: Option<Gc<'gc, Node<'gc>>>,
    /// Every tenth node also refers weakly to its left child in the weak variant.
    weak: Option<GcWeak<'gc, Node<'gc>>>,
}

fn tree<'gc>(mc: &Mutation<'gc>, depth: u32, weak: bool, counter: &mut u64) -> Gc<'gc, Node<'gc>> {
    let (left, right) = if depth == 0 {
        (None, None)
    } else {
        (Some(tree(mc, depth - 1, weak, counter)), Some(tree(mc, depth - 1, weak, counter)))
    };
    *counter += 1;
    let weak = if weak && *counter % 10 == 0 { left.map(Gc::downgrade) } else { None };
    Gc::new(mc, Node { left, right, weak })
}

type TreeRoot = Rootable![Option<Gc<'_, Node<'_>>>];

fn full_gc(c: &mut Criterion) {
    let mut group = c.benchmark_group("full_gc");
    group.sample_size(10);
    group.throughput(Throughput::Elements(NODES));
    for (name, weak) in [("all_live_tree", false), ("tree_10pct_weak", true)] {
        let mut arena = Arena::<TreeRoot>::new(HeapConfig::default(), |_| None);
        arena.mutate_root(|mc, root| *root = Some(tree(mc, DEPTH, weak, &mut 0)));
        arena.collect_full();
        group.bench_function(BenchmarkId::new(name, NODES), |b| b.iter(|| arena.collect_full()));
    }
    group.finish();
}

#[derive(Trace)]
struct Leaf {
    value: u64,
}

type LeafRoot = Rootable![Vec<Gc<'_, Leaf>>];

/// Times `hash` over `batch` objects, allocated fresh for every batch (so that each call is a
/// first call when `again` is false) and promoted first when `old` is true.
fn hash_batches(iters: u64, old: bool, again: bool) -> Duration {
    const BATCH: u64 = 4096;
    let mut arena = Arena::<LeafRoot>::new(HeapConfig::default(), |_| Vec::new());
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let n = BATCH.min(iters - done);
        arena.mutate_root(|mc, leaves| {
            leaves.clear();
            leaves.extend((0..n).map(|value| Gc::new(mc, Leaf { value })));
        });
        if old {
            arena.collect_minor();
        }
        total += arena.mutate_root(|mc, leaves| {
            if again {
                for &leaf in leaves.iter() {
                    black_box(Gc::identity_hash(leaf, mc));
                }
            }
            let start = Instant::now();
            for &leaf in leaves.iter() {
                black_box(Gc::identity_hash(leaf, mc));
            }
            start.elapsed()
        });
        arena.collect_minor();
        done += n;
    }
    total
}

fn identity_hash(c: &mut Criterion) {
    let mut group = c.benchmark_group("identity_hash");
    group.throughput(Throughput::Elements(1));
    for (name, old, again) in [
        ("young_first", false, false),
        ("young_again", false, true),
        ("old_first", true, false),
        ("old_again", true, true),
    ] {
        group.bench_function(name, |b| b.iter_custom(|iters| hash_batches(iters, old, again)));
    }
    group.finish();
}

criterion_group!(benches, full_gc, identity_hash);
criterion_main!(benches);
