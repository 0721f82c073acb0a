//! Runs one workload once and prints its wall time, peak RSS and collector statistics:
//! `workloads binary-trees 20` or `workloads alloc 10000000`.

use std::time::Instant;

use gc_benches::{alloc, binary_trees};
use gc_core::HeapConfig;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (workload, size) = match args.as_slice() {
        [_, w, s, ..] => (w.as_str(), s.parse::<u64>().expect("size")),
        _ => {
            eprintln!(
                "usage: workloads (binary-trees DEPTH | box-binary-trees DEPTH | alloc N) [impl]"
            );
            std::process::exit(64);
        }
    };
    let start = Instant::now();
    let (checksum, stats) = match workload {
        "binary-trees" => {
            let (sum, stats) = binary_trees::gc_core(size as u32, HeapConfig::default());
            assert_eq!(sum, binary_trees::expected_checksum(size as u32));
            (sum, Some(stats))
        }
        "box-binary-trees" => (binary_trees::boxed(size as u32), None),
        "bumpalo-binary-trees" => (binary_trees::bumpalo(size as u32), None),
        "alloc" => {
            let (sum, stats) = alloc::gc_core_stats(size, HeapConfig::default());
            (sum, Some(stats))
        }
        "full-gc" => {
            (0, Some(binary_trees::full_collections(size as u32, 10, HeapConfig::default())))
        }
        other => panic!("unknown workload {other}"),
    };
    let wall = start.elapsed();
    let (_, peak) = gc_core::memory_usage().unwrap_or((0, 0));
    println!(
        "{workload} {size}: checksum {checksum}, wall {:.3} s, peak RSS {} MiB",
        wall.as_secs_f64(),
        peak >> 20
    );
    if let Some(stats) = stats {
        println!("{stats}");
    }
}
