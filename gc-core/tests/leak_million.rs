#![cfg(feature = "leak-debug")]
//! A heap of a million objects: half of them one linked list (a path 500 000 references deep,
//! which any recursion would overflow the stack on), half a wide table. The leak report, the
//! histogram and the snapshot export work, without recursion and in memory linear in the heap.

use std::io::{self, Write};
use std::time::Instant;

use gc_core::{Arena, Gc, HeapConfig, Rootable, Trace};

#[derive(Trace)]
struct Link<'gc> {
    value: u64,
    next: Option<Gc<'gc, Link<'gc>>>,
}

#[derive(Trace)]
struct Leaf {
    value: u64,
}

#[derive(Trace)]
struct Big<'gc> {
    chain: Option<Gc<'gc, Link<'gc>>>,
    table: Vec<Gc<'gc, Leaf>>,
}

const HALF: usize = 500_000;

/// Counts bytes written.
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

#[test]
fn a_million_objects() {
    let config = HeapConfig::builder().leak_debug(true).build().unwrap();
    let mut arena =
        Arena::<Rootable![Big<'_>]>::new(config, |_| Big { chain: None, table: Vec::new() });
    arena.mutate_root(|mc, big| {
        let mut next = None;
        for i in 0..HALF {
            let link = Gc::new(mc, Link { value: i as u64, next });
            if i == 0 {
                // The deepest object of the chain.
                mc.watch(link, "the end of the chain");
            }
            next = Some(link);
        }
        big.chain = next;
        big.table.extend((0..HALF).map(|i| Gc::new(mc, Leaf { value: i as u64 })));
    });
    let start = Instant::now();
    arena.collect_full();
    let collection = start.elapsed();
    arena.collect_full();
    let heap_rss = rss();

    let start = Instant::now();
    let report = arena.leak_report();
    let report_time = start.elapsed();
    let report_rss = rss();
    assert_eq!(report.leak_count(), 1);
    let leak = report.all_leaks().next().unwrap();
    assert_eq!(leak.trace.steps.len(), HALF, "one step per link, and the root's");
    assert_eq!(leak.object.retained_size, 24);
    let suspects = leak.suspects();
    assert_eq!(suspects, ["arena root.chain"], "everything was allocated together");
    drop(report);

    let start = Instant::now();
    let mut sink = Count(0);
    arena.write_heap_snapshot(&mut sink).unwrap();
    let snapshot_time = start.elapsed();
    let snapshot_rss = rss();

    let analysis = arena.heap_analysis();
    assert_eq!(analysis.graph().objects().len(), 2 * HALF);
    // The whole chain is retained by the root's `chain` field.
    let roots = analysis.roots();
    let chain = roots.iter().find(|r| r.label == "arena root.chain").unwrap();
    assert_eq!(chain.retained_size, HALF as u64 * 24);
    let histogram = analysis.class_histogram();
    assert_eq!(histogram.get("leak_million::Link").unwrap().instances, HALF as u64);

    println!(
        "1M objects: full collection {collection:?}, leak report {report_time:?}, snapshot \
         {snapshot_time:?} ({} MiB); RSS heap {} MiB, after report {} MiB, after snapshot {} MiB",
        sink.0 >> 20,
        heap_rss >> 20,
        report_rss >> 20,
        snapshot_rss >> 20
    );
    // Linear memory: the analysis keeps well under 1 KiB per object.
    assert!(report_rss.saturating_sub(heap_rss) < 1 << 30);
}
