//! binary-trees (Benchmarks Game): gc-core against `Box` at depth 19, and against every peer at
//! a depth small enough for the slow ones; same run, same checksum. The runner
//! (`workloads compare`) runs depth 20 as separate processes.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use gc_benches::binary_trees;
use gc_benches::common::Impl;
use gc_core::HeapConfig;

/// Depth at which gc-core runs about a second on the reference machine.
const DEPTH: u32 = 19;
/// Depth of the comparison with every peer.
const PEERS_DEPTH: u32 = 14;

fn bench(c: &mut Criterion) {
    // Each iteration checks its checksum (so `--test`, one iteration, runs each once).
    let expected = binary_trees::expected_checksum(DEPTH);
    let mut group = c.benchmark_group("binary_trees");
    group.sample_size(10);
    group.bench_function(BenchmarkId::new("gc-core", DEPTH), |b| {
        b.iter(|| assert_eq!(binary_trees::gc_core(DEPTH, HeapConfig::default()).0, expected))
    });
    group.bench_function(BenchmarkId::new("box", DEPTH), |b| {
        b.iter(|| assert_eq!(binary_trees::boxed(DEPTH), expected))
    });
    group.finish();

    let mut group = c.benchmark_group("binary_trees_peers");
    group.sample_size(10);
    for imp in Impl::ALL {
        group.bench_function(BenchmarkId::new(imp.name(), PEERS_DEPTH), |b| {
            b.iter(|| binary_trees::run(imp, PEERS_DEPTH).checksum)
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
