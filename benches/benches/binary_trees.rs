//! binary-trees (Benchmarks Game) on gc-core and on `Box`, same run, same checksum.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use gc_benches::binary_trees;
use gc_core::HeapConfig;

/// Depth at which gc-core runs about a second on the reference machine.
const DEPTH: u32 = 19;

fn bench(c: &mut Criterion) {
    let expected = binary_trees::expected_checksum(DEPTH);
    assert_eq!(binary_trees::gc_core(DEPTH, HeapConfig::default()).0, expected);
    assert_eq!(binary_trees::boxed(DEPTH), expected);
    let mut group = c.benchmark_group("binary_trees");
    group.sample_size(10);
    group.bench_function(BenchmarkId::new("gc-core", DEPTH), |b| {
        b.iter(|| binary_trees::gc_core(DEPTH, HeapConfig::default()).0)
    });
    group.bench_function(BenchmarkId::new("box", DEPTH), |b| b.iter(|| binary_trees::boxed(DEPTH)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
