//! cycles (doubly-linked rings of 1024 nodes built, walked and dropped) on gc-core and every
//! peer, same run, same checksum. The runner (`workloads compare`) runs 16 M nodes and
//! reports the bytes left unreclaimed; this bench a small size, for time only. (`Rc` leaks
//! every ring, by design of reference counting, here as in the runner.)

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gc_benches::common::Impl;
use gc_benches::cycles;

const NODES: u64 = 256 * cycles::RING;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("cycles");
    group.sample_size(10);
    group.throughput(Throughput::Elements(NODES));
    for imp in Impl::ALL {
        group.bench_function(BenchmarkId::new(imp.name(), NODES), |b| {
            b.iter(|| cycles::run(imp, NODES).checksum)
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
