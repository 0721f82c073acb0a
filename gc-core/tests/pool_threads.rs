//! The process-wide block pool under threads: arenas on several threads churn old-generation
//! blocks through it while its resident quota is full, so that every block given back has its
//! pages discarded, and every object is checked after every collection.
//!
//! A block given back must have its pages discarded before another thread can take it: a late
//! discard zeroes the objects the taker promoted into it in the meantime (issue 13, item 6).
//!
//! Sized to run in a few seconds in a debug build (it is part of `cargo test --workspace`);
//! `GC_CORE_POOL_STRESS=N` runs N times as many cycles, for manual runs in release.

mod common;

use std::sync::Arc;

use gc_core::numa::SimulatedTopology;
use gc_core::{Arena, Gc, HeapConfig, NumaPolicy, Rootable};

/// The pool is per block size: a size no other test of this binary uses, and small, so that a
/// collection gives back many blocks.
const BLOCK: usize = 8 * 1024;
/// Words per object, each holding the object's tag.
const WORDS: usize = 15;
/// Objects allocated per cycle, and the most an arena keeps.
const BATCH: usize = 200;
const KEEP: usize = 400;
/// More threads than cores, so that a thread is often preempted between two steps of giving
/// a block back. (Before the fix, in release, 150 cycles failed 17 runs of 20 with 16 threads
/// and 9 of 20 with 8; in debug, the default 300 cycles failed 16 of 20.)
const THREADS: usize = 16;

type Obj = [u64; WORDS];

fn config(policy: NumaPolicy, topology: Option<Arc<SimulatedTopology>>) -> HeapConfig {
    let mut builder = common::builder().block_size(BLOCK).large_object_threshold(1024).numa(policy);
    if let Some(topology) = topology {
        builder = builder.topology(topology);
    }
    builder.build().unwrap()
}

/// The tag of the `n`th object of thread `t`: never zero, and different per object.
fn tag(t: usize, n: usize) -> u64 {
    0x5a5a_0000_0000_0000 | ((t as u64) << 40) | n as u64
}

fn scale() -> usize {
    std::env::var("GC_CORE_POOL_STRESS").ok().and_then(|v| v.parse().ok()).unwrap_or(1)
}

/// Fills the quota of warm free blocks with blocks no other arena here reads: an arena with
/// NUMA off files its blocks in the list of blocks without a node, while the churning arenas
/// (bound to node 0) only take from node 0's list (another list only when mapping fails).
fn fill_the_resident_quota() {
    let mut arena =
        Arena::<Rootable![Vec<Gc<'_, Obj>>]>::new(config(NumaPolicy::Off, None), |_| Vec::new());
    // 4 MiB of objects: twice the quota (2 MiB of warm blocks per block size).
    for _ in 0..(4 << 20) / (BATCH * (WORDS + 1) * 8) {
        arena.mutate_root(|mc, objs| {
            for _ in 0..BATCH {
                objs.push(Gc::new(mc, [1; WORDS]));
            }
        });
        arena.collect_minor();
    }
    // Dropping the arena gives its blocks back: the first ones warm, up to the quota.
}

/// Checks every object's words against its tag.
fn check(t: usize, cycle: usize, objs: &[Gc<'_, Obj>], tags: &[u64]) {
    assert_eq!(objs.len(), tags.len());
    for (i, (obj, &want)) in objs.iter().zip(tags).enumerate() {
        if let Some(word) = obj.iter().position(|&w| w != want) {
            panic!(
                "thread {t}, cycle {cycle}: object {i} reads {:#x} at word {word}, not {want:#x} \
                 (its memory was discarded under it?)",
                obj[word]
            );
        }
    }
}

fn churn(t: usize, cycles: usize, topology: Arc<SimulatedTopology>) {
    let mut arena = Arena::<Rootable![Vec<Gc<'_, Obj>>]>::new(
        config(NumaPolicy::Fixed(0), Some(topology)),
        |_| Vec::new(),
    );
    let mut tags: Vec<u64> = Vec::new();
    let mut next = 0;
    for cycle in 0..cycles {
        arena.mutate_root(|mc, objs| {
            for _ in 0..BATCH {
                let tag = tag(t, next);
                next += 1;
                objs.push(Gc::new(mc, [tag; WORDS]));
                tags.push(tag);
            }
        });
        // Promotion takes blocks from the pool (node 0's list, where other threads give
        // theirs back).
        arena.collect_minor();
        arena.mutate(|_, objs| check(t, cycle, objs, &tags));
        // Every other cycle, drop every other object; then the oldest past `KEEP`. Compaction
        // empties blocks, which go back to the pool (a manual full collection keeps no spare
        // blocks) past its resident quota, so their pages are discarded.
        arena.mutate_root(|_, objs| {
            let keep: Vec<bool> = (0..objs.len()).map(|i| cycle % 2 == 1 || i % 2 == 1).collect();
            let mut kept = keep.iter();
            objs.retain(|_| *kept.next().unwrap());
            let mut kept = keep.iter();
            tags.retain(|_| *kept.next().unwrap());
            let excess = objs.len().saturating_sub(KEEP);
            objs.drain(..excess);
            tags.drain(..excess);
        });
        arena.collect_full();
        arena.mutate(|_, objs| check(t, cycle, objs, &tags));
    }
}

#[test]
fn threads_churning_blocks_through_a_full_pool_keep_their_objects() {
    fill_the_resident_quota();
    let topology = Arc::new(SimulatedTopology::new(1, 2));
    let cycles = 300 * scale();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let topology = topology.clone();
            std::thread::spawn(move || churn(t, cycles, topology))
        })
        .collect();
    for t in threads {
        t.join().expect("a churning thread failed");
    }
}
