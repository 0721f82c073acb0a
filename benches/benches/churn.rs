//! churn (live byte objects of 16 to 1024 bytes, half replaced 20 times) on gc-core and every
//! peer, same run, same checksum. The runner (`workloads compare`) runs 200,000 live objects
//! and reports RSS ÷ live bytes; this bench a small size, for time only.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use gc_benches::churn;
use gc_benches::common::Impl;

const LIVE: usize = 20_000;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("churn");
    group.sample_size(10);
    for imp in Impl::ALL {
        group.bench_function(BenchmarkId::new(imp.name(), LIVE), |b| {
            b.iter(|| churn::run(imp, LIVE).checksum)
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
