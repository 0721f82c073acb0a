//! Scaling: N threads, each with its own arena, allocating trees and collecting, for N = 1
//! and 2, with NUMA placement `Local` (the default) and `Off`. Every thread does the same
//! work, so with no hidden global lock on the allocation and collection paths, the throughput
//! (elements per second, all threads together) of two threads is twice that of one on two
//! idle cores; and on a one-node machine `Local` costs what `Off` does.

use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gc_core::{Arena, Gc, HeapConfig, Mutation, NumaPolicy, Rootable, Trace};

/// Nodes per tree; a unit of work builds one tree, keeps every eighth alive for a while, and
/// gives the heap a chance to collect.
const DEPTH: u32 = 10;
const NODES: u64 = (1 << (DEPTH + 1)) - 1;
const KEPT: usize = 16;

#[derive(Trace)]
struct Node<'gc> {
    left: Option<Gc<'gc, Node<'gc>>>,
    right: Option<Gc<'gc, Node<'gc>>>,
}

fn tree<'gc>(mc: &Mutation<'gc>, depth: u32) -> Gc<'gc, Node<'gc>> {
    let children = (depth > 0).then(|| (tree(mc, depth - 1), tree(mc, depth - 1)));
    Gc::new(mc, Node { left: children.map(|c| c.0), right: children.map(|c| c.1) })
}

type Kept = Rootable![Vec<Gc<'_, Node<'_>>>];

/// One thread's share: `units` trees on its own arena.
fn work(policy: NumaPolicy, units: u64) {
    let config = HeapConfig::builder().numa(policy).build().expect("a valid configuration");
    let mut arena = Arena::<Kept>::new(config, |_| Vec::new());
    for unit in 0..units {
        arena.mutate_root(|mc, kept| {
            let t = tree(mc, DEPTH);
            if unit % 8 == 0 {
                if kept.len() == KEPT {
                    kept.remove(0);
                }
                kept.push(t);
            }
        });
        arena.collect_if_due();
    }
}

fn run(policy: NumaPolicy, threads: usize, units: u64) -> Duration {
    let start = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                start.wait();
                work(policy, units);
            });
        }
        start.wait();
        let began = Instant::now();
        // The scope joins the threads before returning.
        began
    })
    .elapsed()
}

fn threads(c: &mut Criterion) {
    let mut group = c.benchmark_group("threads");
    group.sample_size(20);
    for (name, policy) in [("local", NumaPolicy::Local), ("off", NumaPolicy::Off)] {
        for threads in [1, 2] {
            group.throughput(Throughput::Elements(NODES * threads as u64));
            group.bench_function(BenchmarkId::new(name, threads), |b| {
                b.iter_custom(|iters| run(policy, threads, iters))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, threads);
criterion_main!(benches);
