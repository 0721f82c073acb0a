//! Where an arena's memory goes on a NUMA machine.
//!
//! Policies ([`NumaPolicy`](crate::NumaPolicy)): `Local` (default) places the nursery on the node
//! of the thread that made the arena, bound before first touch and first-touched from that
//! thread, and re-bound (pages migrated) when a collection finds the thread on another node;
//! old-generation blocks come from the node of the thread that promotes into them. `Interleave`
//! spreads both over all nodes; `Fixed(n)` puts both on node `n`; `Off` asks nothing.
//!
//! Every request goes through a [`Topology`]: the machine's own, or a simulated one in tests.
//! If the machine has no NUMA support, or the kernel refuses a call with `ENOSYS`, `EINVAL` or
//! `ENODEV`, the arena quietly runs as `Off` and its statistics say why.

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

pub(crate) struct Placer {
    topology: Option<TopologyRef>,
    configured: NumaPolicy,
    in_effect: NumaPolicy,
    degraded: Option<String>,
    nodes: Vec<NodeId>,
    /// The node the nursery is bound to (`Local` and `Fixed`).
    nursery_node: Option<NodeId>,
    next_interleaved: usize,
    counters: Vec<Counters>,
}

impl Placer {
    pub(crate) fn new(policy: NumaPolicy, custom: Option<Arc<dyn Topology>>) -> Placer {
        let mut placer = Placer {
            topology: None,
            configured: policy,
            in_effect: NumaPolicy::Off,
            degraded: None,
            nodes: Vec::new(),
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
        placer.nodes = topology.get().nodes().iter().map(|n| n.id).collect();
        if let NumaPolicy::Fixed(node) = policy {
            if !placer.nodes.contains(&node) {
                placer.degraded = Some(format!("no NUMA node {node}"));
                return placer;
            }
        }
        let max = placer.nodes.iter().copied().max().unwrap_or(0) as usize;
        placer.counters = vec![Counters::default(); max + 1];
        placer.topology = Some(topology);
        placer.in_effect = policy;
        placer
    }

    /// Turns NUMA off for this arena after a refusal that means the kernel cannot do it.
    fn fail(&mut self, err: NumaError) {
        if let NumaError::Unsupported(reason) = &err {
            self.degraded = Some(reason.clone());
            self.topology = None;
            self.in_effect = NumaPolicy::Off;
        }
    }

    fn current(&self) -> Option<NodeId> {
        self.topology.as_ref()?.get().current_node()
    }

    /// Binds the nursery before first touch, then first-touches it from this (the arena's)
    /// thread. (Extensions are bound as they are committed: `bind_extension`.)
    pub(crate) fn setup_nursery(&mut self, start: usize, nominal: usize) {
        let Some(topology) = self.topology.clone() else { return };
        let result = match self.in_effect {
            NumaPolicy::Local | NumaPolicy::Fixed(_) => {
                let node = match self.in_effect {
                    NumaPolicy::Fixed(node) => Some(node),
                    _ => self.current(),
                };
                match node {
                    Some(node) => {
                        self.nursery_node = Some(node);
                        topology.get().bind(start, nominal, node)
                    }
                    None => Err(NumaError::Unsupported("the current node is unknown".into())),
                }
            }
            NumaPolicy::Interleave => topology.get().interleave(start, nominal, &self.nodes),
            NumaPolicy::Off => Ok(()),
        };
        match result {
            Ok(()) => {
                let page = crate::sys::page_size();
                for at in (start..start + nominal).step_by(page) {
                    // SAFETY: the nominal nursery is committed (readable and writable) and holds
                    // nothing yet; touching a page makes the kernel place it by the policy.
                    unsafe { std::ptr::write_volatile(crate::raw::ptr_at::<u8>(at), 0) };
                }
            }
            Err(NumaError::NodeFull(_)) => self.note_fallback(self.nursery_node),
            Err(err) => self.fail(err),
        }
    }

    /// Binds a part of the nursery just committed (an extension within a `mutate` call) like
    /// the rest, before anything touches it.
    pub(crate) fn bind_extension(&mut self, start: usize, len: usize) {
        let Some(topology) = self.topology.clone() else { return };
        let result = match (self.in_effect, self.nursery_node) {
            (NumaPolicy::Interleave, _) => topology.get().interleave(start, len, &self.nodes),
            (NumaPolicy::Off, _) | (_, None) => Ok(()),
            (_, Some(node)) => topology.get().bind(start, len, node),
        };
        match result {
            Ok(()) => {}
            Err(NumaError::NodeFull(node)) => self.note_fallback(Some(node)),
            Err(err) => self.fail(err),
        }
    }

    /// At a collection (the arena's thread is the one that runs it): if the thread has moved
    /// to another node, re-binds the nursery there and migrates its pages.
    pub(crate) fn check_nursery(&mut self, start: usize, committed: usize) {
        if self.in_effect != NumaPolicy::Local {
            return;
        }
        let Some(topology) = self.topology.clone() else { return };
        let Some(now) = self.current() else { return };
        if Some(now) == self.nursery_node {
            return;
        }
        let result = topology.get().migrate(start, committed, now);
        self.nursery_node = Some(now);
        self.counter(now).migrations += 1;
        match result {
            Ok(()) => {}
            Err(NumaError::NodeFull(node)) => self.note_fallback(Some(node)),
            Err(err) => self.fail(err),
        }
    }

    fn counter(&mut self, node: NodeId) -> &mut Counters {
        let index = node as usize;
        if index >= self.counters.len() {
            self.counters.resize(index + 1, Counters::default());
        }
        &mut self.counters[index]
    }

    fn note_fallback(&mut self, node: Option<NodeId>) {
        if let Some(node) = node {
            self.counter(node).fallbacks += 1;
        }
    }

    /// The node a new old-generation block should come from.
    pub(crate) fn block_node(&mut self) -> Option<NodeId> {
        match self.in_effect {
            NumaPolicy::Local => self.current(),
            NumaPolicy::Fixed(node) => Some(node),
            NumaPolicy::Interleave => {
                let node = self.nodes[self.next_interleaved % self.nodes.len()];
                self.next_interleaved += 1;
                Some(node)
            }
            NumaPolicy::Off => None,
        }
    }

    /// Binds a freshly mapped block (before first touch) to `node`; returns the node it is
    /// bound to (another one, counted as a fallback, if `node` is full).
    pub(crate) fn bind_block(
        &mut self,
        base: usize,
        size: usize,
        node: Option<NodeId>,
    ) -> Option<NodeId> {
        let (Some(topology), Some(node)) = (self.topology.clone(), node) else { return None };
        match topology.get().bind(base, size, node) {
            Ok(()) => Some(node),
            Err(NumaError::NodeFull(_)) => {
                self.note_fallback(Some(node));
                let other = self.nodes.iter().copied().find(|&n| n != node)?;
                topology.get().bind(base, size, other).ok().map(|()| other)
            }
            Err(err) => {
                self.fail(err);
                None
            }
        }
    }

    /// Counts a block placed on `node` (taken from the pool or mapped), and a fallback if it
    /// came from another node than the one asked for.
    pub(crate) fn placed_block(&mut self, asked: Option<NodeId>, got: Option<NodeId>, size: usize) {
        if let Some(node) = got {
            let counter = self.counter(node);
            counter.blocks_placed += 1;
            counter.bytes_placed += size as u64;
        }
        if asked.is_some() && got != asked {
            self.note_fallback(asked);
        }
    }

    /// Where the nursery's committed pages are.
    pub(crate) fn nursery_placement(&self, start: usize, committed: usize) -> Option<Placement> {
        self.topology.as_ref()?.get().query(start, committed).ok()
    }

    pub(crate) fn stats(&self, nursery: Option<Placement>) -> NumaStats {
        let current = self.current();
        let mut nodes: Vec<NodeStats> = self
            .nodes
            .iter()
            .map(|&node| {
                let c = self.counters.get(node as usize).copied().unwrap_or_default();
                NodeStats {
                    node,
                    bytes_placed: c.bytes_placed,
                    blocks_placed: c.blocks_placed,
                    migrations: c.migrations,
                    fallbacks: c.fallbacks,
                    ..NodeStats::default()
                }
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
            simulated: self.topology.as_ref().is_some_and(|t| t.get().is_simulated()),
            current_node: current,
            nodes,
        }
    }
}
