//! NUMA placement, on a simulated topology (so every CI run tests it on a one-node machine),
//! and on this machine's own.

use std::sync::Arc;

use gc_core::numa::{NodeId, NodeInfo, NumaError, Placement, SimulatedTopology, Topology};
use gc_core::{Arena, Gc, HeapConfig, Lock, NumaPolicy, Rootable, Trace};

#[derive(Trace)]
struct Node<'gc> {
    value: u64,
    next: Lock<Option<Gc<'gc, Node<'gc>>>>,
}

type List = Rootable![Vec<Gc<'_, Node<'_>>>];

fn config(policy: NumaPolicy, topology: &Arc<SimulatedTopology>) -> HeapConfig {
    config_with_blocks(policy, topology, 64 * 1024)
}

/// As [`config`], with blocks of `block_size` bytes. The block pool is per block size and
/// process-wide: a test that counts how blocks are bound takes a size of its own, so that no
/// other test's free blocks (bound under another simulated topology) are handed to it.
fn config_with_blocks(
    policy: NumaPolicy,
    topology: &Arc<SimulatedTopology>,
    block_size: usize,
) -> HeapConfig {
    HeapConfig::builder()
        .nursery_size(256 * 1024)
        .block_size(block_size)
        .large_object_threshold(4 * 1024)
        .numa(policy)
        .topology(topology.clone())
        .verify(true)
        .build()
        .unwrap()
}

/// Allocates `n` nodes (kept) and promotes them.
fn grow(arena: &mut Arena<List>, n: u64) {
    arena.mutate_root(|mc, list| {
        for i in 0..n {
            list.push(Gc::new(mc, Node { value: i, next: Lock::new(None) }));
        }
    });
    arena.collect_minor();
}

#[test]
fn local_policy_follows_the_thread() {
    let topology = Arc::new(SimulatedTopology::new(2, 2));
    topology.set_current_cpu(1); // node 0
    let mut arena = Arena::<List>::new(config(NumaPolicy::Local, &topology), |_| Vec::new());
    let stats = arena.numa_stats();
    assert_eq!(stats.policy, NumaPolicy::Local);
    assert!(stats.simulated);
    assert_eq!(stats.current_node, Some(0));
    // The nominal nursery was first-touched on node 0.
    assert_eq!(stats.nodes[0].nursery_pages_local, 256 * 1024 / 4096);
    assert_eq!(stats.nursery_local_fraction(), 1.0);
    grow(&mut arena, 10_000);
    let stats = arena.numa_stats();
    assert!(stats.nodes[0].blocks_placed > 0 && stats.nodes[1].blocks_placed == 0, "{stats}");

    // The thread moves to node 1: the next collection migrates the nursery, and promotes into
    // blocks of node 1.
    topology.set_current_cpu(3);
    assert_eq!(arena.numa_stats().nursery_local_fraction(), 0.0);
    grow(&mut arena, 10_000);
    let stats = arena.numa_stats();
    assert_eq!(stats.nodes[1].migrations, 1, "{stats}");
    assert_eq!(stats.current_node, Some(1));
    assert_eq!(stats.nursery_local_fraction(), 1.0, "{stats}");
    assert!(stats.nodes[1].blocks_placed > 0, "{stats}");
    arena.mutate(|_, list| {
        assert_eq!(list.iter().map(|n| n.value).sum::<u64>(), 2 * (0..10_000).sum::<u64>())
    });
}

#[test]
fn interleave_and_fixed_policies() {
    let topology = Arc::new(SimulatedTopology::new(2, 1));
    let mut arena = Arena::<List>::new(config(NumaPolicy::Interleave, &topology), |_| Vec::new());
    grow(&mut arena, 20_000);
    let stats = arena.numa_stats();
    let (a, b) = (stats.nodes[0].blocks_placed, stats.nodes[1].blocks_placed);
    assert!(a > 0 && b > 0 && a.abs_diff(b) <= 1, "{stats}");

    let mut arena = Arena::<List>::new(config(NumaPolicy::Fixed(1), &topology), |_| Vec::new());
    grow(&mut arena, 20_000);
    let stats = arena.numa_stats();
    assert_eq!(stats.nodes[0].blocks_placed, 0, "{stats}");
    assert!(stats.nodes[1].blocks_placed > 0);
    assert_eq!(
        stats.nodes[1].nursery_pages_local + stats.nodes[1].nursery_pages_remote,
        64,
        "{stats}"
    );
}

#[test]
fn a_full_node_falls_back_to_another_without_failing() {
    // Node 0 has room for the nursery and a few blocks only.
    let topology = Arc::new(SimulatedTopology::new(2, 1).with_limit(0, 512 * 1024));
    topology.set_current_cpu(0);
    let config = config_with_blocks(NumaPolicy::Local, &topology, 128 * 1024);
    let mut arena = Arena::<List>::new(config, |_| Vec::new());
    for _ in 0..5 {
        grow(&mut arena, 20_000);
    }
    let stats = arena.numa_stats();
    assert!(stats.nodes[0].fallbacks > 0, "{stats}");
    assert!(stats.nodes[1].blocks_placed > 0, "{stats}");
    arena.collect_full();
    arena.mutate(|_, list| assert_eq!(list.len(), 100_000));
}

#[test]
fn off_asks_nothing() {
    let topology = Arc::new(SimulatedTopology::new(2, 1));
    let mut arena = Arena::<List>::new(config(NumaPolicy::Off, &topology), |_| Vec::new());
    grow(&mut arena, 10_000);
    let stats = arena.numa_stats();
    assert_eq!(stats.policy, NumaPolicy::Off);
    assert!(stats.degraded.is_none());
    assert!(stats.nodes.is_empty());
}

/// A topology whose kernel refuses everything, as one without NUMA support would.
#[derive(Debug)]
struct Refusing;

impl Topology for Refusing {
    fn nodes(&self) -> Vec<NodeInfo> {
        vec![NodeInfo {
            id: 0,
            cpus: vec![0],
            mem_total: None,
            mem_free: None,
            distances: vec![10],
        }]
    }
    fn current_node(&self) -> Option<NodeId> {
        Some(0)
    }
    fn bind(&self, _: usize, _: usize, _: NodeId) -> Result<(), NumaError> {
        Err(NumaError::Unsupported("mbind: ENOSYS".into()))
    }
    fn interleave(&self, _: usize, _: usize, _: &[NodeId]) -> Result<(), NumaError> {
        Err(NumaError::Unsupported("mbind: ENOSYS".into()))
    }
    fn migrate(&self, _: usize, _: usize, _: NodeId) -> Result<(), NumaError> {
        Err(NumaError::Unsupported("mbind: ENOSYS".into()))
    }
    fn query(&self, _: usize, _: usize) -> Result<Placement, NumaError> {
        Err(NumaError::Unsupported("move_pages: ENOSYS".into()))
    }
}

#[test]
fn a_kernel_without_numa_degrades_to_off_and_says_so() {
    let config = HeapConfig::builder().topology(Arc::new(Refusing)).verify(true).build().unwrap();
    let mut arena = Arena::<List>::new(config, |_| Vec::new());
    grow(&mut arena, 1_000);
    let stats = arena.numa_stats();
    assert_eq!(stats.policy, NumaPolicy::Off);
    assert_eq!(stats.configured, NumaPolicy::Local);
    assert!(stats.degraded.as_deref().unwrap().contains("ENOSYS"), "{stats}");
}

#[test]
fn this_machine_places_the_nursery_locally() {
    // On a one-node machine everything is local, and the statistics prove it with move_pages.
    let mut arena = Arena::<List>::new(HeapConfig::default(), |_| Vec::new());
    grow(&mut arena, 10_000);
    let stats = arena.numa_stats();
    if let Some(reason) = &stats.degraded {
        eprintln!("NUMA unavailable here: {reason}");
        return;
    }
    assert_eq!(stats.policy, NumaPolicy::Local);
    assert_eq!(stats.nursery_local_fraction(), 1.0, "{stats}");
    let local: usize = stats.nodes.iter().map(|n| n.nursery_pages_local).sum();
    assert!(local > 0);
}

#[test]
fn an_explicit_full_collection_gives_the_nursery_pages_back() {
    // move_pages tells resident pages from pages never touched (or given back).
    let mut arena = Arena::<List>::new(HeapConfig::default(), |_| Vec::new());
    grow(&mut arena, 100_000); // more than the nursery: every page touched
    let stats = arena.numa_stats();
    if let Some(reason) = &stats.degraded {
        eprintln!("NUMA unavailable here: {reason}");
        return;
    }
    let resident = |arena: &mut Arena<List>| -> (usize, usize) {
        let stats = arena.numa_stats();
        let touched = stats.nodes.iter().map(|n| n.nursery_pages_local + n.nursery_pages_remote);
        (touched.sum(), stats.nodes.iter().map(|n| n.nursery_pages_untouched).sum())
    };
    assert!(resident(&mut arena).0 > 0);
    arena.collect_full();
    assert_eq!(resident(&mut arena).0, 0, "{}", arena.numa_stats());
    // Allocation faults them in again, and the objects are intact.
    grow(&mut arena, 100_000);
    assert!(resident(&mut arena).0 > 0);
    arena.mutate(|_, list| {
        assert_eq!(list.len(), 200_000);
        assert!(list.iter().enumerate().all(|(i, n)| n.value == i as u64 % 100_000));
    });
}

#[test]
fn many_threads_each_with_an_arena_share_the_block_pool() {
    let topology = Arc::new(SimulatedTopology::new(2, 2));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let topology = topology.clone();
            std::thread::spawn(move || {
                topology.set_current_cpu(t);
                let mut arena =
                    Arena::<List>::new(config(NumaPolicy::Local, &topology), |_| Vec::new());
                for round in 0..20 {
                    grow(&mut arena, 2_000);
                    if round % 5 == 4 {
                        arena.mutate_root(|_, list| list.retain(|n| n.value % 2 == 0));
                        arena.collect_full();
                    }
                }
                let stats = arena.numa_stats();
                let node = t / 2;
                assert!(stats.nodes[node].blocks_placed > 0, "{stats}");
                assert_eq!(stats.nodes[1 - node].blocks_placed, 0, "{stats}");
                arena.mutate(|_, list| list.len())
            })
        })
        .collect();
    for thread in threads {
        assert!(thread.join().unwrap() > 0);
    }
}

#[test]
fn reserved_blocks_are_used() {
    let config =
        HeapConfig::builder().block_size(32 * 1024).large_object_threshold(4096).build().unwrap();
    gc_core::reserve(&config, 1 << 20).unwrap();
    let mut arena = Arena::<List>::new(config, |_| Vec::new());
    grow(&mut arena, 10_000);
    arena.mutate(|_, list| assert_eq!(list.len(), 10_000));
}
