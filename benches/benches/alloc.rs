//! Small-object allocation throughput (ns per allocation), gc-core against `Rc` and bumpalo in
//! the same run; and allocation of objects that all survive, with and without pretenuring.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gc_benches::alloc;
use gc_core::HeapConfig;

const N: u64 = 1_000_000;

fn bench(c: &mut Criterion) {
    let expected = alloc::bumpalo(N);
    assert_eq!(alloc::gc_core(N, HeapConfig::default()), expected);
    assert_eq!(alloc::rc(N), expected);
    let mut group = c.benchmark_group("alloc_small");
    group.throughput(Throughput::Elements(N));
    group.bench_function(BenchmarkId::new("gc-core", N), |b| {
        b.iter(|| alloc::gc_core(N, HeapConfig::default()))
    });
    group.bench_function(BenchmarkId::new("rc", N), |b| b.iter(|| alloc::rc(N)));
    group.bench_function(BenchmarkId::new("bumpalo", N), |b| b.iter(|| alloc::bumpalo(N)));
    group.finish();

    // Objects that all survive: tenured allocation (pretenuring, the default) against
    // allocation in the nursery and promotion (pretenuring off).
    let expected = alloc::survivors_bumpalo(N);
    let off = HeapConfig::builder().pretenuring(false).build().expect("valid configuration");
    let (sum, stats) = alloc::survivors(N, HeapConfig::default());
    assert_eq!(sum, expected);
    assert!(stats.pretenured_sites > 0 && stats.bytes_pretenured > stats.bytes_promoted);
    assert_eq!(alloc::survivors(N, off.clone()).0, expected);
    let mut group = c.benchmark_group("alloc_survivors");
    group.throughput(Throughput::Elements(N));
    group.bench_function(BenchmarkId::new("gc-core", N), |b| {
        b.iter(|| alloc::survivors(N, HeapConfig::default()))
    });
    group.bench_function(BenchmarkId::new("gc-core-no-pretenuring", N), |b| {
        b.iter(|| alloc::survivors(N, off.clone()))
    });
    group
        .bench_function(BenchmarkId::new("bumpalo", N), |b| b.iter(|| alloc::survivors_bumpalo(N)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
