//! GCBench (after Boehm) on gc-core and every peer, same run, same checksum. The runner
//! (`workloads compare`) runs the full size (stretch depth 20); this bench a small one.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use gc_benches::common::Impl;
use gc_benches::gcbench;

const STRETCH: u32 = 14;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("gcbench");
    group.sample_size(10);
    for imp in Impl::ALL {
        group.bench_function(BenchmarkId::new(imp.name(), STRETCH), |b| {
            b.iter(|| gcbench::run(imp, STRETCH).checksum)
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
