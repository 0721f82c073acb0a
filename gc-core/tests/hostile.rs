//! What a user may implement, treated as hostile: a `numa::Topology` that re-enters the arena,
//! panics (with payloads that panic when dropped) or answers nonsense; `Into<String>` watch
//! reasons that allocate, write or panic; configurations at the edges of every size.
//!
//! Re-entry needs no unsafe code: an arena behind an `Rc` in a thread-local can be mutated from
//! anywhere on its thread while an outer `mutate` runs (`mutate` takes `&self`).

mod common;

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;

use gc_core::numa::{NodeId, NodeInfo, NumaError, Placement, SimulatedTopology, Topology};
use gc_core::{field, Arena, Gc, HeapConfig, Lock, NumaPolicy, Rootable, Trace};

#[derive(Trace)]
struct Cell2<'gc> {
    value: u64,
    next: Lock<Option<Gc<'gc, Cell2<'gc>>>>,
}

type Root = Rootable![Gc<'_, Cell2<'_>>];

// ---------------------------------------------------------------------------------------------
// A topology that does what the test asks, in the method the test names.
// ---------------------------------------------------------------------------------------------

const CURRENT: u32 = 1;
const BIND: u32 = 2;
const INTERLEAVE: u32 = 4;
const MIGRATE: u32 = 8;
const QUERY: u32 = 16;
const NODES: u32 = 32;
const SIMULATED: u32 = 64;
const ALL: u32 = 127;

thread_local! {
    /// What a re-entering topology method runs (set by the test, on the arena's thread).
    static REENTRY: RefCell<Option<Box<dyn Fn()>>> = const { RefCell::new(None) };
    /// Set while `REENTRY` runs: the allocation it does may call the topology again.
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

/// A panic payload whose own `Drop` panics.
struct PanickyPayload;

impl Drop for PanickyPayload {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("the payload's drop panicked");
        }
    }
}

#[derive(Debug)]
struct Hostile {
    inner: SimulatedTopology,
    /// What `nodes()` answers instead of the simulated nodes.
    nodes: Option<Vec<NodeInfo>>,
    /// What `current_node()` answers instead of the simulated thread's node.
    current: Option<Option<NodeId>>,
    /// Methods that panic (with a `&str`), and that panic with a `PanickyPayload`.
    panics: AtomicU32,
    panicky_payloads: AtomicU32,
    /// Methods that run `REENTRY`.
    reenters: AtomicU32,
    /// Times `REENTRY` ran.
    reentered: AtomicUsize,
    /// What `bind` answers, if not the simulation's.
    bind_full: Option<NodeId>,
    /// What `query` answers, if not the simulation's.
    query: Option<Placement>,
    /// Calls of `current_node`: without an override, the thread moves to the next node at
    /// each call (so that collections migrate the nursery).
    moves: AtomicUsize,
    count: usize,
}

impl Hostile {
    fn new(nodes: usize) -> Hostile {
        Hostile {
            inner: SimulatedTopology::new(nodes, 1),
            nodes: None,
            current: None,
            panics: AtomicU32::new(0),
            panicky_payloads: AtomicU32::new(0),
            reenters: AtomicU32::new(0),
            reentered: AtomicUsize::new(0),
            bind_full: None,
            query: None,
            moves: AtomicUsize::new(0),
            count: nodes,
        }
    }

    fn enter(&self, method: u32) {
        if self.panicky_payloads.load(Ordering::Relaxed) & method != 0 {
            std::panic::panic_any(PanickyPayload);
        }
        if self.panics.load(Ordering::Relaxed) & method != 0 {
            panic!("hostile topology");
        }
        if self.reenters.load(Ordering::Relaxed) & method != 0 && !INSIDE.get() {
            INSIDE.set(true);
            REENTRY.with(|r| {
                if let Some(f) = r.borrow().as_ref() {
                    self.reentered.fetch_add(1, Ordering::Relaxed);
                    f();
                }
            });
            INSIDE.set(false);
        }
    }
}

fn node(id: NodeId) -> NodeInfo {
    NodeInfo { id, cpus: vec![], mem_total: None, mem_free: None, distances: vec![] }
}

impl Topology for Hostile {
    fn nodes(&self) -> Vec<NodeInfo> {
        self.enter(NODES);
        self.nodes.clone().unwrap_or_else(|| self.inner.nodes())
    }
    fn current_node(&self) -> Option<NodeId> {
        self.enter(CURRENT);
        let moved = self.moves.fetch_add(1, Ordering::Relaxed) % self.count;
        self.current.unwrap_or(Some(moved as NodeId))
    }
    fn bind(&self, addr: usize, len: usize, node: NodeId) -> Result<(), NumaError> {
        self.enter(BIND);
        if let Some(full) = self.bind_full {
            return Err(NumaError::NodeFull(full));
        }
        self.inner.bind(addr, len, node)
    }
    fn interleave(&self, addr: usize, len: usize, nodes: &[NodeId]) -> Result<(), NumaError> {
        self.enter(INTERLEAVE);
        self.inner.interleave(addr, len, nodes)
    }
    fn migrate(&self, addr: usize, len: usize, node: NodeId) -> Result<(), NumaError> {
        self.enter(MIGRATE);
        self.inner.migrate(addr, len, node)
    }
    fn query(&self, addr: usize, len: usize) -> Result<Placement, NumaError> {
        self.enter(QUERY);
        match &self.query {
            Some(placement) => Ok(placement.clone()),
            None => self.inner.query(addr, len),
        }
    }
    fn is_simulated(&self) -> bool {
        self.enter(SIMULATED);
        true
    }
}

/// A configuration for `topology`, with blocks of `block_size` bytes. The block pool is
/// process-wide and per block size: a test that needs fresh chunks mapped (and so bound) takes
/// a block size of its own.
fn numa_config(policy: NumaPolicy, topology: Arc<dyn Topology>, block_size: usize) -> HeapConfig {
    common::builder()
        .block_size(block_size)
        .large_object_threshold(block_size / 4)
        .numa(policy)
        .topology(topology)
        .build()
        .unwrap()
}

/// An arena whose root is an old `Cell2`, shared through `REENTRY` with the topology.
fn shared_arena(config: HeapConfig) -> Rc<Arena<Root>> {
    let mut arena =
        Arena::<Root>::new(config, |mc| Gc::new(mc, Cell2 { value: 0, next: Lock::new(None) }));
    arena.collect_minor(); // the root is old
    let arena = Rc::new(arena);
    let shared = arena.clone();
    REENTRY.with(|r| {
        *r.borrow_mut() = Some(Box::new(move || {
            // The barrier on an old object, and a young object stored in it.
            shared.mutate(|mc, root| {
                let root = Gc::write(mc, *root);
                let young = Gc::new(mc, Cell2 { value: 7, next: Lock::new(None) });
                field!(root, Cell2, next).set(Some(young));
            })
        }))
    });
    arena
}

fn unshare(arena: Rc<Arena<Root>>) -> Arena<Root> {
    REENTRY.with(|r| r.borrow_mut().take());
    Rc::try_unwrap(arena).unwrap_or_else(|_| panic!("the arena is shared"))
}

/// Allocates pinned objects (in the old generation, through the mutator's allocation path)
/// until `done`, or `bytes` of them if `done` is `None`: new blocks, and fresh chunks, are
/// taken meanwhile.
fn pin_until(arena: &Arena<Root>, bytes: usize, done: Option<&dyn Fn() -> bool>) {
    for _ in 0..bytes / (16 * 520) {
        if done.is_some_and(|done| done()) {
            return;
        }
        arena.mutate(|mc, _| {
            for _ in 0..16 {
                mc.alloc_pinned([0u64; 64]);
            }
        });
    }
    assert!(done.is_none(), "the topology was never called back");
}

/// After re-entry: the write made from the topology is remembered, its young object
/// survives a minor collection, and the heap verifies.
fn check_reentered(arena: Rc<Arena<Root>>, topology: &Hostile) {
    let mut arena = unshare(arena);
    arena.verify().expect("the heap verifies after re-entry");
    arena.collect_minor();
    if topology.reentered.load(Ordering::Relaxed) > 0 {
        arena.mutate(|_, root| assert_eq!(root.next.get().expect("the young object").value, 7));
    }
    arena.collect_full();
    arena.verify().unwrap();
}

#[test]
fn a_topology_may_reenter_from_current_node() {
    let topology = Arc::new(Hostile::new(2));
    let arena = shared_arena(numa_config(NumaPolicy::Local, topology.clone(), 4 * 1024));
    topology.reenters.store(CURRENT, Ordering::Relaxed);
    // Before the fix, every new block asked for the current node with the heap's state
    // borrowed. The node is now asked at creation and at collections only (when no shared
    // reference to the arena exists): re-entry, if any, must work.
    let outcome = catch_unwind(AssertUnwindSafe(|| pin_until(&arena, 8 << 20, None)));
    topology.reenters.store(0, Ordering::Relaxed);
    if let Err(err) = outcome {
        unshare(arena).verify().expect("the heap verifies after a failed re-entry");
        std::panic::resume_unwind(err);
    }
    check_reentered(arena, &topology);
}

#[test]
fn a_topology_may_reenter_from_bind() {
    let topology = Arc::new(Hostile::new(2));
    let arena = shared_arena(numa_config(NumaPolicy::Local, topology.clone(), 8 * 1024));
    topology.reenters.store(BIND | INTERLEAVE | CURRENT, Ordering::Relaxed);
    let reentered = || topology.reentered.load(Ordering::Relaxed) > 0;
    let outcome = catch_unwind(AssertUnwindSafe(|| pin_until(&arena, 1 << 30, Some(&reentered))));
    topology.reenters.store(0, Ordering::Relaxed);
    if let Err(err) = outcome {
        unshare(arena).verify().expect("the heap verifies after a failed re-entry");
        std::panic::resume_unwind(err);
    }
    check_reentered(arena, &topology);
}

#[test]
fn a_topology_may_reenter_when_the_nursery_grows() {
    // Growing the nursery within a `mutate` call binds the new part (Interleave: `interleave`).
    let topology = Arc::new(Hostile::new(2));
    let arena = shared_arena(numa_config(NumaPolicy::Interleave, topology.clone(), 16 * 1024));
    topology.reenters.store(INTERLEAVE | BIND, Ordering::Relaxed);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        arena.mutate(|mc, _| {
            let keep: Vec<_> = (0..20_000u64).map(|i| Gc::new(mc, [i; 4])).collect();
            assert!(keep.iter().enumerate().all(|(i, g)| g[3] == i as u64));
        })
    }));
    topology.reenters.store(0, Ordering::Relaxed);
    if let Err(err) = outcome {
        unshare(arena).verify().expect("the heap verifies after a failed re-entry");
        std::panic::resume_unwind(err);
    }
    assert!(topology.reentered.load(Ordering::Relaxed) > 0, "the nursery grew and was bound");
    check_reentered(arena, &topology);
}

// ---------------------------------------------------------------------------------------------
// Panicking topologies: a documented fallback (NUMA off for the arena), never a half-updated
// heap.
// ---------------------------------------------------------------------------------------------

/// Builds, allocates, promotes, collects and asks for the NUMA statistics with `topology`.
fn exercise(policy: NumaPolicy, topology: Arc<dyn Topology>, block_size: usize) -> Arena<Root> {
    let mut arena = Arena::<Root>::new(numa_config(policy, topology.clone(), block_size), |mc| {
        Gc::new(mc, Cell2 { value: 0, next: Lock::new(None) })
    });
    for round in 0..4u64 {
        arena.mutate(|mc, root| {
            let mut last = *root;
            for i in 0..3_000 {
                let next = Gc::new(mc, Cell2 { value: round * 10_000 + i, next: Lock::new(None) });
                field!(Gc::write(mc, last), Cell2, next).set(Some(next));
                last = next;
            }
            for _ in 0..50 {
                mc.alloc_pinned([round; 32]);
            }
        });
        arena.collect_minor();
        let _ = arena.numa_stats();
    }
    arena.collect_full();
    arena.verify().unwrap();
    arena.mutate(|_, root| {
        let mut count = 0;
        let mut at = *root;
        while let Some(next) = at.next.get() {
            count += 1;
            at = next;
        }
        assert_eq!(count, 3_000, "the last chain is intact");
    });
    gc_core::reserve(&numa_config(policy, topology, block_size), 64 * 1024).unwrap();
    arena
}

const POLICIES: [NumaPolicy; 3] = [NumaPolicy::Local, NumaPolicy::Interleave, NumaPolicy::Fixed(1)];

#[test]
fn a_panicking_topology_turns_numa_off() {
    for (i, method) in
        [CURRENT, BIND, INTERLEAVE, MIGRATE, QUERY, NODES, SIMULATED, ALL].into_iter().enumerate()
    {
        for payload in [false, true] {
            for policy in POLICIES {
                let topology = Arc::new(Hostile::new(2));
                if payload {
                    topology.panicky_payloads.store(method, Ordering::Relaxed);
                } else {
                    topology.panics.store(method, Ordering::Relaxed);
                }
                let block = [4, 8, 16, 32, 64, 128, 256, 512][i] * 1024;
                let mut arena = exercise(policy, topology.clone(), block);
                let stats = arena.numa_stats();
                // Every policy asks for the nodes at creation, then binds the nursery (Local,
                // Fixed) or interleaves it; `exercise` asks for the statistics (the current
                // node, the nursery's placement, whether simulated); under Local the simulated
                // thread moves at each call, so the first collection migrates the nursery.
                let nursery = match policy {
                    NumaPolicy::Local => BIND | MIGRATE,
                    NumaPolicy::Interleave => INTERLEAVE,
                    _ => BIND,
                };
                let asked = method & (NODES | CURRENT | QUERY | SIMULATED | nursery) != 0;
                if asked {
                    assert_eq!(stats.policy, NumaPolicy::Off, "{method} {policy:?}: {stats}");
                    let why = stats.degraded.as_deref().unwrap_or_default();
                    assert!(why.contains("panicked"), "{method} {policy:?}: {stats}");
                }
                if stats.degraded.is_some() {
                    assert_eq!(stats.policy, NumaPolicy::Off, "{stats}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Topologies that answer nonsense.
// ---------------------------------------------------------------------------------------------

#[test]
fn an_empty_topology_degrades_to_off() {
    // Interleave first: it divided by the number of nodes.
    let policies = [NumaPolicy::Interleave, NumaPolicy::Local, NumaPolicy::Fixed(0)];
    for (policy, block) in policies.into_iter().zip([4 * 1024, 8 * 1024, 16 * 1024]) {
        let mut topology = Hostile::new(2);
        topology.nodes = Some(vec![]);
        let mut arena = exercise(policy, Arc::new(topology), block);
        let stats = arena.numa_stats();
        assert_eq!(stats.policy, NumaPolicy::Off, "{policy:?}: {stats}");
        assert!(stats.degraded.unwrap().contains("no NUMA node"), "{policy:?}");
    }
}

#[test]
fn a_current_node_that_does_not_exist_is_unknown() {
    for (current, block) in [(Some(5), 4 * 1024), (Some(u32::MAX), 8 * 1024), (None, 16 * 1024)] {
        let mut topology = Hostile::new(2);
        topology.current = Some(current);
        let mut arena = exercise(NumaPolicy::Local, Arc::new(topology), block);
        let stats = arena.numa_stats();
        assert_eq!(stats.policy, NumaPolicy::Off, "{current:?}: {stats}");
        assert!(stats.degraded.is_some());
        // Interleave does not need it, and keeps working.
        let mut topology = Hostile::new(2);
        topology.current = Some(current);
        let mut arena = exercise(NumaPolicy::Interleave, Arc::new(topology), block);
        assert_eq!(arena.numa_stats().policy, NumaPolicy::Interleave);
    }
}

#[test]
fn duplicate_unsorted_and_huge_node_ids_are_taken_as_a_set() {
    let mut topology = Hostile::new(2);
    topology.nodes = Some(vec![node(1), node(0), node(1), node(u32::MAX), node(0)]);
    let topology = Arc::new(topology);
    let mut arena = exercise(NumaPolicy::Interleave, topology.clone(), 4 * 1024);
    let stats = arena.numa_stats();
    assert_eq!(stats.policy, NumaPolicy::Interleave, "{stats}");
    let ids: Vec<NodeId> = stats.nodes.iter().map(|n| n.node).collect();
    assert_eq!(ids, vec![0, 1, u32::MAX]);

    // A node id near `u32::MAX` costs nothing: the statistics are per listed node.
    let mut topology = Hostile::new(2);
    topology.nodes = Some(vec![node(u32::MAX - 1), node(u32::MAX)]);
    topology.current = Some(Some(u32::MAX));
    let mut arena = exercise(NumaPolicy::Fixed(u32::MAX), Arc::new(topology), 8 * 1024);
    let stats = arena.numa_stats();
    assert_eq!(stats.nodes.len(), 2, "{stats}");
}

#[test]
fn a_topology_that_names_unknown_full_nodes_is_survived() {
    // `bind` says a node that does not exist is full: counted nowhere, no allocation sized by
    // the node id.
    let mut topology = Hostile::new(2);
    topology.bind_full = Some(u32::MAX);
    let mut arena = exercise(NumaPolicy::Local, Arc::new(topology), 4 * 1024);
    let stats = arena.numa_stats();
    assert_eq!(stats.nodes.len(), 2, "{stats}");
}

#[test]
fn a_query_that_answers_nonsense_only_shows_in_the_statistics() {
    let mut topology = Hostile::new(2);
    topology.query = Some(Placement {
        per_node: vec![(0, usize::MAX), (1, usize::MAX), (7, usize::MAX)],
        not_present: usize::MAX,
        unknown: usize::MAX,
    });
    let mut arena = exercise(NumaPolicy::Local, Arc::new(topology), 4 * 1024);
    let stats = arena.numa_stats();
    assert_eq!(stats.policy, NumaPolicy::Local);
    let fraction = stats.nursery_local_fraction();
    assert!((0.0..=1.0).contains(&fraction), "{stats}");
    assert!(!stats.to_string().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Watch reasons (leak-debug): evaluated before the heap is touched.
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "leak-debug")]
mod watch {
    use super::*;
    use gc_core::Mutation;

    /// Sets the `Probe`s' drops apart from the values they were made with.
    struct Probe(u64);

    thread_local! {
        static DROPPED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
    }

    impl Drop for Probe {
        fn drop(&mut self) {
            DROPPED.with(|d| d.borrow_mut().push(self.0));
        }
    }

    const MAGIC: u64 = 0x5afe_5afe;

    #[derive(Trace)]
    struct Canary {
        #[trace(skip)]
        _probe: Probe,
    }

    /// Every `Probe` dropped on this thread so far held `MAGIC`: no destructor ran on a
    /// half-made object.
    fn only_whole_canaries_dropped() -> usize {
        DROPPED.with(|d| {
            let d = d.borrow();
            assert!(d.iter().all(|&v| v == MAGIC), "a destructor ran on stale words: {d:x?}");
            d.len()
        })
    }

    /// A reason that runs the barrier on an old object and stores a young one in it.
    struct Writes<'a, 'gc>(&'a Mutation<'gc>, Gc<'gc, Cell2<'gc>>);

    impl From<Writes<'_, '_>> for String {
        fn from(Writes(mc, old): Writes<'_, '_>) -> String {
            let old = Gc::write(mc, old);
            let young = Gc::new(mc, Cell2 { value: 7, next: Lock::new(None) });
            field!(old, Cell2, next).set(Some(young));
            "written".into()
        }
    }

    /// A reason that allocates an object with a destructor.
    struct Allocates<'a, 'gc>(&'a Mutation<'gc>);

    impl From<Allocates<'_, '_>> for String {
        fn from(Allocates(mc): Allocates<'_, '_>) -> String {
            Gc::new(mc, Canary { _probe: Probe(MAGIC) });
            "allocated".into()
        }
    }

    struct Panics;

    impl From<Panics> for String {
        fn from(_: Panics) -> String {
            panic!("the reason panicked")
        }
    }

    fn leak_arena() -> Arena<Root> {
        let mut arena =
            Arena::<Root>::new(common::builder().leak_debug(true).build().unwrap(), |mc| {
                Gc::new(mc, Cell2 { value: 0, next: Lock::new(None) })
            });
        arena.collect_minor();
        arena
    }

    #[test]
    fn a_reason_may_write_an_old_object() {
        let mut arena = leak_arena();
        let result = catch_unwind(AssertUnwindSafe(|| {
            arena.mutate(|mc, root| {
                let dying = Gc::new(mc, 1u64);
                mc.watch(dying, Writes(mc, *root));
            })
        }));
        arena.verify().expect("the barrier's bit and the remembered set agree");
        result.expect("the reason ran outside the heap's bookkeeping");
        arena.collect_minor();
        arena.mutate(|_, root| assert_eq!(root.next.get().unwrap().value, 7));
    }

    #[test]
    fn a_reason_may_allocate() {
        let mut arena = leak_arena();
        // Stale words in the nursery where the reason's object will go.
        arena.mutate(|mc, _| {
            for _ in 0..100 {
                Gc::new(mc, [0x4141_4141_4141usize; 4]);
            }
        });
        arena.collect_minor();
        let result = catch_unwind(AssertUnwindSafe(|| {
            arena.mutate(|mc, _| {
                let dying = Gc::new(mc, 1u64);
                mc.watch(dying, Allocates(mc));
            })
        }));
        arena.verify().unwrap();
        arena.collect_minor();
        arena.collect_full();
        assert!(only_whole_canaries_dropped() <= 1);
        result.expect("the reason ran outside the heap's bookkeeping");
        assert_eq!(only_whole_canaries_dropped(), 1);
        let report = arena.leak_report();
        assert!(report.to_string().len() < 100_000);
    }

    #[test]
    fn a_panicking_reason_leaves_the_heap_as_it_was() {
        let mut arena = leak_arena();
        let census = arena.census();
        let result =
            catch_unwind(AssertUnwindSafe(|| arena.mutate(|mc, root| mc.watch(*root, Panics))));
        assert!(result.is_err());
        arena.verify().unwrap();
        assert_eq!(arena.census(), census);
        assert!(arena.leak_report().leaks.is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// Configurations at the edges of every setting.
// ---------------------------------------------------------------------------------------------

#[test]
fn every_setting_is_validated_at_its_edges() {
    use gc_core::HeapConfigBuilder;
    const KIB: usize = 1024;
    const MIB: usize = 1024 * KIB;
    const MAX: usize = isize::MAX as usize / 4;
    type Edit = fn(HeapConfigBuilder) -> HeapConfigBuilder;
    // (what, the edit, the field refused: `None` if accepted)
    let cases: &[(&str, Edit, Option<&str>)] = &[
        ("nursery 0", |b| b.nursery_size(0), Some("nursery_size")),
        ("nursery below min", |b| b.nursery_size(64 * KIB - 1), Some("nursery_size")),
        ("nursery min", |b| b.nursery_size(64 * KIB), None),
        ("nursery unaligned", |b| b.nursery_size(64 * KIB + 1), None),
        ("nursery usize::MAX", |b| b.nursery_size(usize::MAX), Some("nursery_size")),
        (
            "nursery past max",
            |b| b.nursery_size(MAX + 1).nursery_reserve(MAX),
            Some("nursery_size"),
        ),
        ("reserve usize::MAX", |b| b.nursery_reserve(usize::MAX), Some("nursery_reserve")),
        ("reserve isize::MAX", |b| b.nursery_reserve(isize::MAX as usize), Some("nursery_reserve")),
        ("reserve past max", |b| b.nursery_reserve(MAX + 1), Some("nursery_reserve")),
        ("reserve max", |b| b.nursery_reserve(MAX), None),
        ("reserve 0", |b| b.nursery_reserve(0), Some("nursery_reserve")),
        ("reserve below nursery", |b| b.nursery_reserve(4 * MIB - 1), Some("nursery_reserve")),
        ("reserve = nursery", |b| b.nursery_reserve(4 * MIB), None),
        ("reserve unaligned", |b| b.nursery_reserve(4 * MIB + 1), None),
        ("block 0", |b| b.block_size(0), Some("block_size")),
        ("block not a power of two", |b| b.block_size(48 * KIB), Some("block_size")),
        ("block below min", |b| b.block_size(2 * KIB), Some("block_size")),
        ("block above max", |b| b.block_size(128 * MIB), Some("block_size")),
        ("block usize::MAX", |b| b.block_size(usize::MAX), Some("block_size")),
        ("block 2^63", |b| b.block_size(1 << 63), Some("block_size")),
        ("block min", |b| b.block_size(4 * KIB).large_object_threshold(KIB), None),
        ("block max", |b| b.block_size(64 * MIB), None),
        ("threshold 0", |b| b.large_object_threshold(0), Some("large_object_threshold")),
        ("threshold below min", |b| b.large_object_threshold(255), Some("large_object_threshold")),
        ("threshold min", |b| b.large_object_threshold(256), None),
        ("threshold unaligned", |b| b.large_object_threshold(1001), None),
        ("threshold a quarter block", |b| b.large_object_threshold(64 * KIB), None),
        (
            "threshold past a quarter",
            |b| b.large_object_threshold(64 * KIB + 1),
            Some("large_object_threshold"),
        ),
        (
            "threshold usize::MAX",
            |b| b.large_object_threshold(usize::MAX),
            Some("large_object_threshold"),
        ),
        ("growth 0", |b| b.growth_factor(0.0), Some("growth_factor")),
        ("growth 1", |b| b.growth_factor(1.0), Some("growth_factor")),
        ("growth negative", |b| b.growth_factor(-2.0), Some("growth_factor")),
        ("growth NaN", |b| b.growth_factor(f64::NAN), Some("growth_factor")),
        ("growth infinite", |b| b.growth_factor(f64::INFINITY), Some("growth_factor")),
        ("growth just above 1", |b| b.growth_factor(1.000_001), None),
        ("growth f64::MAX", |b| b.growth_factor(f64::MAX), None),
        ("min full heap 0", |b| b.min_full_heap(0), None),
        ("min full heap usize::MAX", |b| b.min_full_heap(usize::MAX), None),
        ("max heap 0", |b| b.max_heap(0), Some("max_heap")),
        ("max heap below min", |b| b.max_heap(4 * MIB + MIB - 1), Some("max_heap")),
        ("max heap min", |b| b.max_heap(4 * MIB + MIB), None),
        ("max heap usize::MAX", |b| b.max_heap(usize::MAX), None),
        ("near limit 0", |b| b.near_limit(0.0), Some("near_limit")),
        ("near limit negative", |b| b.near_limit(-0.5), Some("near_limit")),
        ("near limit NaN", |b| b.near_limit(f64::NAN), Some("near_limit")),
        ("near limit above 1", |b| b.near_limit(1.000_001), Some("near_limit")),
        ("near limit infinite", |b| b.near_limit(f64::INFINITY), Some("near_limit")),
        ("near limit 1", |b| b.near_limit(1.0), None),
        ("near limit tiny", |b| b.near_limit(f64::MIN_POSITIVE), None),
        ("watch collections 0", |b| b.leak_watch_collections(0), Some("leak_watch_collections")),
        ("watch collections u32::MAX", |b| b.leak_watch_collections(u32::MAX), None),
        (
            "leak debug",
            |b| b.leak_debug(true),
            if cfg!(feature = "leak-debug") { None } else { Some("leak_debug") },
        ),
        ("Fixed node absent", |b| b.numa(NumaPolicy::Fixed(u32::MAX)), None),
    ];
    for &(what, edit, refused) in cases {
        match (edit(HeapConfig::builder().verify(true)).build(), refused) {
            (Err(err), Some(field)) => {
                assert_eq!(err.field(), field, "{what}: {err}");
                assert!(!err.to_string().is_empty());
            }
            (Ok(config), None) => {
                // An accepted configuration makes a working arena, or a typed error: no panic.
                let arena = Arena::<Rootable![Gc<'_, u64>]>::try_new(config, |mc| Gc::new(mc, 7));
                let Ok(mut arena) = arena else { continue };
                arena.mutate(|mc, _| {
                    Gc::new(mc, [1u64; 100]);
                });
                arena.collect_full();
                arena.mutate(|_, root| assert_eq!(**root, 7, "{what}"));
            }
            (result, _) => panic!("{what}: expected {refused:?}, got {result:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Handle names: converted before the heap is touched.
// ---------------------------------------------------------------------------------------------

/// A handle name that runs the barrier on an old object, stores a young one in it, and makes
/// a handle of its own.
struct Name<'a, 'gc>(&'a gc_core::Mutation<'gc>, Gc<'gc, Cell2<'gc>>);

impl From<Name<'_, '_>> for String {
    fn from(Name(mc, old): Name<'_, '_>) -> String {
        let old = Gc::write(mc, old);
        let young = Gc::new(mc, Cell2 { value: 7, next: Lock::new(None) });
        field!(old, Cell2, next).set(Some(young));
        std::mem::forget(mc.named_handle::<Rootable![Cell2<'_>]>(young, "inner"));
        "outer".into()
    }
}

#[test]
fn a_handle_name_may_write_and_make_handles() {
    let mut arena = Arena::<Root>::new(common::config(), |mc| {
        Gc::new(mc, Cell2 { value: 0, next: Lock::new(None) })
    });
    arena.collect_minor();
    let handle = arena.mutate(|mc, root| {
        let young = Gc::new(mc, Cell2 { value: 3, next: Lock::new(None) });
        mc.named_handle::<Rootable![Cell2<'_>]>(young, Name(mc, *root))
    });
    arena.verify().unwrap();
    arena.collect_minor();
    arena.mutate(|mc, root| {
        assert_eq!(root.next.get().unwrap().value, 7);
        assert_eq!(mc.fetch(&handle).value, 3);
    });
}

// ---------------------------------------------------------------------------------------------
// Callbacks.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_panicking_near_limit_callback_runs_after_the_collection() {
    // The callback runs when the collection's bookkeeping is complete (and the arena is held
    // by `&mut`, so it cannot re-enter): its panic leaves a consistent heap.
    let config = common::builder().max_heap(1 << 20).near_limit(f64::MIN_POSITIVE).build().unwrap();
    let mut arena =
        Arena::<Root>::new(config, |mc| Gc::new(mc, Cell2 { value: 0, next: Lock::new(None) }));
    arena.on_near_limit(|_, _| std::panic::panic_any(PanickyPayload));
    arena.mutate(|mc, root| {
        let young = Gc::new(mc, Cell2 { value: 1, next: Lock::new(None) });
        field!(Gc::write(mc, *root), Cell2, next).set(Some(young));
    });
    for _ in 0..2 {
        let census = arena.census();
        let result = catch_unwind(AssertUnwindSafe(|| arena.collect_full()));
        let payload = result.expect_err("the callback's panic propagates");
        // The payload's own drop panics when not unwinding: forget it.
        std::mem::forget(payload);
        arena.verify().unwrap();
        let now = arena.census();
        assert_eq!((now.live_objects, now.live_bytes), (census.live_objects, census.live_bytes));
    }
    arena.mutate(|_, root| assert_eq!(root.next.get().unwrap().value, 1));
}
