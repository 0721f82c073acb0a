//! Where an arena's memory goes on a NUMA machine.
//!
//! Policies ([`NumaPolicy`](crate::NumaPolicy)): `Local` (default) places the nursery on the node
//! of the thread that made the arena, bound before first touch and first-touched from that
//! thread, and re-bound (pages migrated) when a collection finds the thread on another node;
//! old-generation blocks come from the node of the thread that promotes into them. `Interleave`
//! spreads both over all nodes; `Fixed(n)` puts both on node `n`; `Off` asks nothing.
//!
//! Every request goes through a [`Topology`]: the machine's own, a simulated one in tests, or
//! one the user implemented. If the machine has no NUMA support, or the kernel refuses a call
//! with `ENOSYS`, `EINVAL` or `ENODEV`, the arena quietly runs as `Off` and its statistics say
//! why.
//!
//! A topology is the user's code, and is treated as hostile (the fallbacks are documented on
//! [`Topology`]):
//! - every call is made under `catch_unwind`; a panic turns NUMA off for the arena (the
//!   payload is dropped under `catch_unwind` too, and forgotten if its own `Drop` panics);
//! - its node list is taken once, at creation, sorted and deduplicated; an empty list turns
//!   NUMA off; statistics are kept per listed node, so a node id costs nothing however large;
//! - a `current_node` that is not listed counts as unknown;
//! - it is never called while the heap's state is borrowed: the mutator's allocation paths
//!   take a [`Binder`] (a detached copy of what placing a range needs), release the borrow,
//!   call it, and settle its [`Bound`] afterwards ([`Placer::settle`]); the node of the arena's
//!   thread is asked at creation and at each minor collection, and cached for the blocks in
//!   between. During a collection (which holds the arena by `&mut`, so nothing the topology can
//!   reach leads to it) and at creation it is called directly, still under `catch_unwind`.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::config::NumaPolicy;
use crate::stats::{NodeStats, NumaStats};
use crate::sys::numa::{self, NodeId, NumaError, Placement, Topology};

/// The topology in use: the system's (detected once for the process) or one given in the
/// configuration.
#[derive(Clone)]
pub(crate) enum TopologyRef {
    System(&'static numa::LinuxTopology),
    Custom(Arc<dyn Topology>),
}

impl TopologyRef {
    fn get(&self) -> &dyn Topology {
        match self {
            TopologyRef::System(t) => *t,
            TopologyRef::Custom(t) => &**t,
        }
    }
}

#[derive(Clone, Copy, Default)]
struct Counters {
    bytes_placed: u64,
    blocks_placed: u64,
    migrations: u64,
    fallbacks: u64,
}

/// Calls the topology (the user's code): a panic is caught and becomes the reason NUMA is
/// turned off. The panic's payload is dropped here, under `catch_unwind` as well: a payload
/// whose own `Drop` panics is forgotten (leaked) rather than let through.
fn guarded<T>(method: &str, f: impl FnOnce() -> T) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => Ok(value),
        Err(payload) => {
            let why = format!("Topology::{method} panicked: {}", message(&*payload));
            drop_payload(payload);
            Err(why)
        }
    }
}

fn message(payload: &(dyn Any + Send)) -> &str {
    match payload.downcast_ref::<&str>() {
        Some(s) => s,
        None => payload.downcast_ref::<String>().map_or("(not a string)", |s| s.as_str()),
    }
}

fn drop_payload(payload: Box<dyn Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(again);
    }
}

/// A refusal from the topology, reduced to what the placer acts on. Made inside the guarded
/// call, so that a user's error (a `NumaError::Os` may hold any `io::Error`) is dropped there,
/// not where the heap's state is borrowed.
enum Refusal {
    /// NUMA is unavailable: why.
    Unsupported(String),
    /// The node (as the topology names it) is full.
    Full(NodeId),
    /// Anything else: the request is not placed, NUMA stays on.
    Other,
}

fn refusal(err: NumaError) -> Refusal {
    match err {
        NumaError::Unsupported(why) => Refusal::Unsupported(why),
        NumaError::NodeFull(node) => Refusal::Full(node),
        _ => Refusal::Other,
    }
}

/// How a request to place a range went: what [`Placer::settle`] records.
#[must_use]
pub(crate) enum Bound {
    /// Placed on the node asked for (or nothing was asked: `None`).
    To(Option<NodeId>),
    /// `asked` was full: placed on `got` instead, if anywhere.
    FellBack { asked: NodeId, got: Option<NodeId> },
    /// Refused for another reason (an invalid request, a failed system call): not placed,
    /// NUMA stays on.
    Refused,
    /// The topology says NUMA is unavailable: why.
    Unsupported(String),
    /// The topology panicked: why.
    Panicked(String),
}

/// What placing a range needs, detached from the [`Placer`], so that the heap's state need not
/// be borrowed while the topology runs (see the module docs). Cheap to make: an `Arc` and a
/// few words.
#[derive(Clone)]
pub(crate) struct Binder {
    topology: TopologyRef,
    policy: NumaPolicy,
    nodes: Arc<[NodeId]>,
    nursery_node: Option<NodeId>,
}

impl Binder {
    /// Binds a block or chunk freshly mapped (before first touch) to `node`, or to another
    /// node if it is full.
    pub(crate) fn bind_block(&self, base: usize, size: usize, node: Option<NodeId>) -> Bound {
        let Some(node) = node else { return Bound::To(None) };
        let topology = self.topology.get();
        let bind = |node| guarded("bind", || topology.bind(base, size, node).map_err(refusal));
        match bind(node) {
            Ok(Ok(())) => Bound::To(Some(node)),
            Ok(Err(Refusal::Full(_))) => {
                let Some(other) = self.nodes.iter().copied().find(|&n| n != node) else {
                    return Bound::FellBack { asked: node, got: None };
                };
                match bind(other) {
                    Ok(result) => Bound::FellBack { asked: node, got: result.ok().map(|()| other) },
                    Err(why) => Bound::Panicked(why),
                }
            }
            Ok(Err(Refusal::Unsupported(why))) => Bound::Unsupported(why),
            Ok(Err(Refusal::Other)) => Bound::Refused,
            Err(why) => Bound::Panicked(why),
        }
    }

    /// Binds a part of the nursery just committed (an extension within a `mutate` call, or the
    /// nominal nursery at creation) like the rest, before anything touches it: to the
    /// nursery's node, or interleaved. A full node is counted as a fallback; the kernel places
    /// the pages elsewhere.
    pub(crate) fn bind_extension(&self, start: usize, len: usize) -> Bound {
        let topology = self.topology.get();
        let (node, result) = match (self.policy, self.nursery_node) {
            (NumaPolicy::Interleave, _) => (
                None,
                guarded("interleave", || {
                    topology.interleave(start, len, &self.nodes).map_err(refusal)
                }),
            ),
            (NumaPolicy::Off, _) | (_, None) => return Bound::To(None),
            (_, Some(node)) => {
                (Some(node), guarded("bind", || topology.bind(start, len, node).map_err(refusal)))
            }
        };
        match result {
            Ok(Ok(())) => Bound::To(node),
            Ok(Err(Refusal::Full(full))) => Bound::FellBack { asked: full, got: None },
            Ok(Err(Refusal::Unsupported(why))) => Bound::Unsupported(why),
            Ok(Err(Refusal::Other)) => Bound::Refused,
            Err(why) => Bound::Panicked(why),
        }
    }
}

pub(crate) struct Placer {
    topology: Option<TopologyRef>,
    configured: NumaPolicy,
    in_effect: NumaPolicy,
    degraded: Option<String>,
    /// The nodes the topology listed at creation: ascending, no duplicates, never empty while
    /// a policy is in effect.
    nodes: Arc<[NodeId]>,
    /// The nursery's node (`Local` and `Fixed`). With `Local`, the node of the arena's thread
    /// as the topology last answered (at creation, then at each minor collection): new blocks
    /// come from it too.
    nursery_node: Option<NodeId>,
    next_interleaved: usize,
    /// Per node of `nodes`, at the same index.
    counters: Vec<Counters>,
}

impl Placer {
    pub(crate) fn new(policy: NumaPolicy, custom: Option<Arc<dyn Topology>>) -> Placer {
        let mut placer = Placer {
            topology: None,
            configured: policy,
            in_effect: NumaPolicy::Off,
            degraded: None,
            nodes: Arc::new([]),
            nursery_node: None,
            next_interleaved: 0,
            counters: Vec::new(),
        };
        if policy == NumaPolicy::Off {
            return placer;
        }
        let topology = match custom {
            Some(t) => TopologyRef::Custom(t),
            None => match numa::system() {
                Ok(t) => TopologyRef::System(t),
                Err(err) => {
                    placer.degraded = Some(err.to_string());
                    return placer;
                }
            },
        };
        let mut nodes = match guarded("nodes", || {
            topology.get().nodes().into_iter().map(|n| n.id).collect::<Vec<NodeId>>()
        }) {
            Ok(nodes) => nodes,
            Err(why) => {
                placer.degraded = Some(why);
                return placer;
            }
        };
        nodes.sort_unstable();
        nodes.dedup();
        if nodes.is_empty() {
            placer.degraded = Some("the topology lists no NUMA node".into());
            return placer;
        }
        if let NumaPolicy::Fixed(node) = policy {
            if nodes.binary_search(&node).is_err() {
                placer.degraded = Some(format!("no NUMA node {node}"));
                return placer;
            }
        }
        placer.counters = vec![Counters::default(); nodes.len()];
        placer.nodes = nodes.into();
        placer.topology = Some(topology);
        placer.in_effect = policy;
        placer
    }

    /// Turns NUMA off for this arena, saying why.
    fn disable(&mut self, why: String) {
        self.degraded = Some(why);
        self.topology = None;
        self.in_effect = NumaPolicy::Off;
    }

    /// Records how a request went (see [`Binder`]); returns the node the range is on.
    pub(crate) fn settle(&mut self, bound: Bound) -> Option<NodeId> {
        match bound {
            Bound::To(node) => node,
            Bound::Refused => None,
            Bound::FellBack { asked, got } => {
                self.note_fallback(Some(asked));
                got
            }
            Bound::Unsupported(why) | Bound::Panicked(why) => {
                self.disable(why);
                None
            }
        }
    }

    /// What placing a range needs, to call with nothing borrowed; `None` if NUMA is off.
    pub(crate) fn binder(&self) -> Option<Binder> {
        Some(Binder {
            topology: self.topology.clone()?,
            policy: self.in_effect,
            nodes: self.nodes.clone(),
            nursery_node: self.nursery_node,
        })
    }

    /// The node of the calling thread, if the topology knows it and lists it. A panic turns
    /// NUMA off.
    fn current(&mut self) -> Result<Option<NodeId>, String> {
        let Some(topology) = &self.topology else { return Ok(None) };
        let node = match guarded("current_node", || topology.get().current_node()) {
            Ok(node) => node,
            Err(why) => {
                self.disable(why);
                return Ok(None);
            }
        };
        match node {
            Some(node) if self.nodes.binary_search(&node).is_err() => Err(format!(
                "Topology::current_node answered node {node}, which Topology::nodes does not list"
            )),
            node => Ok(node),
        }
    }

    /// Binds the nursery before first touch, then first-touches it from this (the arena's)
    /// thread. (Extensions are bound as they are committed: `Binder::bind_extension`.)
    pub(crate) fn setup_nursery(&mut self, start: usize, nominal: usize) {
        self.nursery_node = match self.in_effect {
            NumaPolicy::Fixed(node) => Some(node),
            NumaPolicy::Local => match self.current() {
                Ok(Some(node)) => Some(node),
                // The topology panicked: NUMA is off already.
                Ok(None) if self.topology.is_none() => return,
                Ok(None) => return self.disable("the current node is unknown".into()),
                Err(why) => return self.disable(why),
            },
            NumaPolicy::Interleave | NumaPolicy::Off => None,
        };
        let Some(binder) = self.binder() else { return };
        let bound = binder.bind_extension(start, nominal);
        let placed = matches!(bound, Bound::To(_));
        self.settle(bound);
        if placed {
            let page = crate::sys::page_size();
            for at in (start..start + nominal).step_by(page) {
                // SAFETY: the nominal nursery is committed (readable and writable) and holds
                // nothing yet; touching a page makes the kernel place it by the policy.
                unsafe { std::ptr::write_volatile(crate::raw::ptr_at::<u8>(at), 0) };
            }
        }
    }

    /// At a collection (the arena's thread is the one that runs it): if the thread has moved
    /// to another node, re-binds the nursery there and migrates its pages. The answer is kept
    /// for the blocks placed until the next collection.
    pub(crate) fn check_nursery(&mut self, start: usize, committed: usize) {
        if self.in_effect != NumaPolicy::Local {
            return;
        }
        let Ok(Some(now)) = self.current() else { return };
        if Some(now) == self.nursery_node {
            return;
        }
        let Some(topology) = self.topology.clone() else { return };
        let result =
            guarded("migrate", || topology.get().migrate(start, committed, now).map_err(refusal));
        self.nursery_node = Some(now);
        if let Some(counter) = self.counter(now) {
            counter.migrations += 1;
        }
        match result {
            Ok(Ok(())) | Ok(Err(Refusal::Other)) => {}
            Ok(Err(Refusal::Full(node))) => self.note_fallback(Some(node)),
            Ok(Err(Refusal::Unsupported(why))) | Err(why) => self.disable(why),
        }
    }

    /// With `Local`, asks for the node of the calling thread (for `reserve`, which places
    /// blocks without an arena).
    pub(crate) fn locate_thread(&mut self) {
        if self.in_effect == NumaPolicy::Local {
            if let Ok(Some(node)) = self.current() {
                self.nursery_node = Some(node);
            }
        }
    }

    /// The statistics of a listed node; `None` for a node the topology did not list.
    fn counter(&mut self, node: NodeId) -> Option<&mut Counters> {
        let index = self.nodes.binary_search(&node).ok()?;
        self.counters.get_mut(index)
    }

    fn note_fallback(&mut self, node: Option<NodeId>) {
        if let Some(counter) = node.and_then(|node| self.counter(node)) {
            counter.fallbacks += 1;
        }
    }

    /// The node a new old-generation block should come from. Asks the topology nothing: the
    /// node of the arena's thread (`Local`) is the one found at the last collection.
    pub(crate) fn block_node(&self) -> Option<NodeId> {
        match self.in_effect {
            NumaPolicy::Local => self.nursery_node,
            NumaPolicy::Fixed(node) => Some(node),
            NumaPolicy::Interleave => Some(self.nodes[self.next_interleaved % self.nodes.len()]),
            NumaPolicy::Off => None,
        }
    }

    /// Counts a block placed on `node` (taken from the pool or mapped), and a fallback if it
    /// came from another node than the one asked for. Interleaving moves on to the next node.
    pub(crate) fn placed_block(&mut self, asked: Option<NodeId>, got: Option<NodeId>, size: usize) {
        self.next_interleaved = self.next_interleaved.wrapping_add(1);
        if let Some(counter) = got.and_then(|node| self.counter(node)) {
            counter.blocks_placed += 1;
            counter.bytes_placed += size as u64;
        }
        if asked.is_some() && got != asked {
            self.note_fallback(asked);
        }
    }

    /// Where the nursery's committed pages are. The topology's counts are capped at the
    /// range's pages, so that no sum of them overflows.
    pub(crate) fn nursery_placement(
        &mut self,
        start: usize,
        committed: usize,
    ) -> Option<Placement> {
        let topology = self.topology.clone()?;
        let pages = committed.div_ceil(crate::sys::page_size());
        match guarded("query", || topology.get().query(start, committed).ok()) {
            Ok(placement) => placement.map(|mut p| {
                for (_, n) in &mut p.per_node {
                    *n = (*n).min(pages);
                }
                p.not_present = p.not_present.min(pages);
                p.unknown = p.unknown.min(pages);
                p
            }),
            Err(why) => {
                self.disable(why);
                None
            }
        }
    }

    pub(crate) fn stats(&mut self, nursery: Option<Placement>) -> NumaStats {
        let current = self.current().ok().flatten();
        let simulated = match self.topology.clone() {
            Some(topology) => match guarded("is_simulated", || topology.get().is_simulated()) {
                Ok(simulated) => simulated,
                Err(why) => {
                    self.disable(why);
                    false
                }
            },
            None => false,
        };
        let mut nodes: Vec<NodeStats> = self
            .nodes
            .iter()
            .zip(&self.counters)
            .map(|(&node, c)| NodeStats {
                node,
                bytes_placed: c.bytes_placed,
                blocks_placed: c.blocks_placed,
                migrations: c.migrations,
                fallbacks: c.fallbacks,
                ..NodeStats::default()
            })
            .collect();
        if let (Some(placement), Some(current)) = (&nursery, current) {
            for stats in &mut nodes {
                let pages = placement.on(stats.node);
                if stats.node == current {
                    stats.nursery_pages_local = pages;
                } else {
                    stats.nursery_pages_remote = pages;
                }
            }
            if let Some(stats) = nodes.iter_mut().find(|s| s.node == current) {
                stats.nursery_pages_untouched = placement.not_present;
            }
        }
        NumaStats {
            policy: self.in_effect,
            configured: self.configured,
            degraded: self.degraded.clone(),
            simulated,
            current_node: current,
            nodes,
        }
    }
}
