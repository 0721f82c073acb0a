//! frag (small objects, 90 % freed at random, then as many bytes of 2–8 KiB objects) on gc-core
//! and every peer, same run, same checksum. The runner (`workloads compare`) runs 4 M small
//! objects and reports RSS ÷ live bytes; this bench a small size, for time only.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use gc_benches::common::Impl;
use gc_benches::frag;

const SMALL: usize = 200_000;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("frag");
    group.sample_size(10);
    for imp in Impl::ALL {
        group.bench_function(BenchmarkId::new(imp.name(), SMALL), |b| {
            b.iter(|| frag::run(imp, SMALL).checksum)
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
