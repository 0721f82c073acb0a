//! `cargo run --release -p leak-demo --bin leak-measure`: the costs of leak-debug mode on a heap
//! of a million objects: bytes per object of the mode's records, allocation time with the mode
//! off and on, and the time of the reports against the time of one full collection.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use gc_core::{Arena, Gc, HeapConfig, Rootable, Trace};

#[derive(Trace)]
struct Link<'gc> {
    value: u64,
    next: Option<Gc<'gc, Link<'gc>>>,
}

#[derive(Trace)]
struct Leaf {
    value: [u64; 2],
}

#[derive(Trace)]
struct Heap<'gc> {
    chains: Vec<Gc<'gc, Link<'gc>>>,
    leaves: Vec<Gc<'gc, Leaf>>,
}

type HeapArena = Arena<Rootable![Heap<'_>]>;

const OBJECTS: usize = 1_000_000;

struct Count(usize);

impl Write for Count {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn rss() -> usize {
    gc_core::memory_usage().map_or(0, |(rss, _)| rss)
}

/// A million live objects: half in 1000 linked lists, half leaves in a table. Allocated in
/// slices of 10 000 with the safepoint between them. Returns the arena and the time spent
/// allocating.
fn build(leak_debug: bool) -> (HeapArena, Duration) {
    let config = HeapConfig::builder().leak_debug(leak_debug).build().unwrap();
    let mut arena = HeapArena::new(config, |_| Heap { chains: Vec::new(), leaves: Vec::new() });
    let mut allocating = Duration::ZERO;
    for slice in 0..OBJECTS / 10_000 {
        let start = Instant::now();
        arena.mutate_root(|mc, heap| {
            for i in 0..5_000 {
                let chain = (slice * 5_000 + i) % 1000;
                if heap.chains.len() <= chain {
                    heap.chains.push(Gc::new(mc, Link { value: 0, next: None }));
                } else {
                    let next = Some(heap.chains[chain]);
                    heap.chains[chain] = Gc::new(mc, Link { value: i as u64, next });
                }
                heap.leaves.push(Gc::new(mc, Leaf { value: [i as u64; 2] }));
            }
        });
        allocating += start.elapsed();
        arena.collect_if_due();
    }
    (arena, allocating)
}

/// Allocation throughput: 10 million short-lived objects (one in 100 kept for a while).
fn churn(leak_debug: bool) -> f64 {
    let config = HeapConfig::builder().leak_debug(leak_debug).build().unwrap();
    let mut arena = Arena::<Rootable![Vec<Gc<'_, Leaf>>]>::new(config, |_| Vec::new());
    let start = Instant::now();
    let n = 10_000_000;
    for slice in 0..n / 100_000 {
        arena.mutate_root(|mc, kept| {
            for i in 0..100_000u64 {
                let leaf = Gc::new(mc, Leaf { value: [i, slice] });
                if i % 100 == 0 {
                    kept.push(leaf);
                }
            }
            if kept.len() > 10_000 {
                kept.clear();
            }
        });
        arena.collect_if_due();
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

fn main() {
    let off = churn(false);
    let on = churn(true);
    println!(
        "allocation, 10M objects (mode off / on): {off:.1} ns / {on:.1} ns per object ({:.1}x)",
        on / off
    );

    let base = rss();
    let (mut plain, plain_alloc) = build(false);
    plain.collect_full();
    let plain_rss = rss() - base;
    let start = Instant::now();
    plain.collect_full();
    let plain_full = start.elapsed();
    drop(plain);

    let base = rss();
    let (mut arena, alloc) = build(true);
    arena.collect_full();
    let mode_rss = rss().saturating_sub(base);
    println!(
        "1M live objects: building {:.0} ms (mode off) / {:.0} ms (mode on); RSS {} MiB / {} MiB: \
         {:.0} bytes per object for the mode's records",
        plain_alloc.as_secs_f64() * 1e3,
        alloc.as_secs_f64() * 1e3,
        plain_rss >> 20,
        mode_rss >> 20,
        (mode_rss as f64 - plain_rss as f64) / OBJECTS as f64
    );

    let start = Instant::now();
    arena.collect_full();
    let with_hook = start.elapsed();
    let pause = arena.stats().full.last;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "full collection: {:.1} ms (mode off), {:.1} ms pause with the mode on, {:.1} ms with the \
         growth sample after it",
        ms(plain_full),
        ms(pause),
        ms(with_hook)
    );

    let start = Instant::now();
    let report = arena.leak_report();
    let report_time = start.elapsed();
    assert!(report.leaks.is_empty());
    let start = Instant::now();
    let histogram = arena.class_histogram();
    let histogram_time = start.elapsed();
    assert_eq!(histogram.total_instances, OBJECTS as u64);
    let before = rss();
    let start = Instant::now();
    let mut sink = Count(0);
    arena.write_heap_snapshot(&mut sink).unwrap();
    let snapshot_time = start.elapsed();
    let peak = gc_core::memory_usage().map_or(0, |(_, hwm)| hwm);
    println!(
        "leak report {:.0} ms ({:.1}x a full collection), class histogram {:.0} ms ({:.1}x), heap \
         snapshot {:.0} ms ({:.1}x, {} MiB of JSON)",
        ms(report_time),
        ms(report_time) / ms(pause),
        ms(histogram_time),
        ms(histogram_time) / ms(pause),
        ms(snapshot_time),
        ms(snapshot_time) / ms(pause),
        sink.0 >> 20
    );
    println!(
        "RSS before the snapshot {} MiB, peak of the process {} MiB",
        before >> 20,
        peak >> 20
    );
}
