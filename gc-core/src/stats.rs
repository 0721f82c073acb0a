//! Statistics of an arena: collections, pauses, bytes.

use std::fmt;
use std::time::Duration;

/// Count and pause times of one kind of collection.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PauseStats {
    /// Collections of this kind so far.
    pub count: u64,
    /// Pause of the latest one.
    pub last: Duration,
    /// Longest pause.
    pub max: Duration,
    /// Sum of the pauses.
    pub total: Duration,
}

impl PauseStats {
    pub(crate) fn record(&mut self, pause: Duration) {
        self.count += 1;
        self.last = pause;
        self.max = self.max.max(pause);
        self.total += pause;
    }
}

/// A snapshot of an arena's statistics ([`Arena::stats`](crate::Arena::stats)).
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Stats {
    /// Minor collections: the nursery evacuated into the old generation.
    pub minor: PauseStats,
    /// Full collections: mark, then slide the old generation together.
    pub full: PauseStats,
    /// Bytes allocated by the mutator, headers included.
    pub bytes_allocated: u64,
    /// Bytes evacuated from the nursery into the old generation.
    pub bytes_promoted: u64,
    /// Bytes the mutator placed directly in the old generation: from tenured allocation
    /// sites (see the crate docs, "Pretenuring"), or because the nursery was full within one
    /// `mutate` call.
    pub bytes_pretenured: u64,
    /// Allocation sites tenured now: their objects go straight to the old generation.
    pub pretenured_sites: usize,
    /// Bytes live in the old generation and the large-object space after the last full
    /// collection.
    pub live_after_last_full: usize,
    /// Bytes in use in the nursery now.
    pub nursery_used: usize,
    /// Bytes below the tops of the old generation's blocks now (objects, and dead objects not
    /// yet compacted away).
    pub old_used: usize,
    /// Blocks holding objects in the old generation.
    pub old_blocks: usize,
    /// Empty blocks the old generation keeps resident for its next promotions (an automatic
    /// full collection keeps up to the old generation's headroom; an explicit one none).
    pub old_spare_blocks: usize,
    /// Objects in the large-object space, and their bytes.
    pub large_objects: usize,
    /// Bytes of the large-object space.
    pub large_bytes: usize,
    /// Bytes the heap holds from the OS and the allocator: nursery, blocks (retained free
    /// ones included) and large objects.
    pub committed: usize,
    /// What counts against `max_heap`: the committed nursery, the blocks in use, large objects.
    pub heap_size: usize,
    /// Old-generation fragmentation found by the last full collection's marking, before it
    /// compacted: free bytes between objects (dead objects) inside blocks that hold live data,
    /// divided by the bytes of those blocks.
    pub fragmentation_before_last_full: f64,
    /// The same measure right after the last full collection's compaction: 0 unless types
    /// aligned to more than 8 bytes left alignment padding. [`Arena::census`](crate::Arena::census)
    /// measures it at any moment.
    pub fragmentation: f64,
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
        writeln!(
            f,
            "minor collections: {:>6}  pause last {:?} max {:?} total {:?}",
            self.minor.count, self.minor.last, self.minor.max, self.minor.total
        )?;
        writeln!(
            f,
            "full collections:  {:>6}  pause last {:?} max {:?} total {:?}",
            self.full.count, self.full.last, self.full.max, self.full.total
        )?;
        writeln!(
            f,
            "allocated {:.2} MiB, promoted {:.2} MiB, pretenured {:.2} MiB ({} sites tenured now)",
            mib(self.bytes_allocated as usize),
            mib(self.bytes_promoted as usize),
            mib(self.bytes_pretenured as usize),
            self.pretenured_sites
        )?;
        writeln!(
            f,
            "nursery used {:.2} MiB; old gen {:.2} MiB in {} blocks ({} spare); large {:.2} MiB in {} objects",
            mib(self.nursery_used),
            mib(self.old_used),
            self.old_blocks,
            self.old_spare_blocks,
            mib(self.large_bytes),
            self.large_objects
        )?;
        writeln!(
            f,
            "live after last full {:.2} MiB; committed {:.2} MiB",
            mib(self.live_after_last_full),
            mib(self.committed)
        )?;
        write!(
            f,
            "fragmentation {:.2}% (before the last compaction: {:.2}%)",
            self.fragmentation * 100.0,
            self.fragmentation_before_last_full * 100.0
        )
    }
}

/// NUMA placement of one node, for one arena ([`Arena::numa_stats`](crate::Arena::numa_stats)).
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct NodeStats {
    /// The node.
    pub node: u32,
    /// Bytes of old-generation blocks this arena placed on the node.
    pub bytes_placed: u64,
    /// Old-generation blocks this arena placed on the node.
    pub blocks_placed: u64,
    /// Nursery pages on this node, if it is the node the arena's thread runs on now (measured
    /// with `move_pages` when the statistics are taken).
    pub nursery_pages_local: usize,
    /// Nursery pages on this node, if it is not the thread's node.
    pub nursery_pages_remote: usize,
    /// Committed nursery pages not yet touched (counted on the thread's node).
    pub nursery_pages_untouched: usize,
    /// Times the nursery followed the thread to this node.
    pub migrations: u64,
    /// Times memory wanted on this node came from another (the node was full).
    pub fallbacks: u64,
}

/// An arena's NUMA placement (in the style of HotSpot's `NUMAStats`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct NumaStats {
    /// The policy in effect: `Off` if it degraded.
    pub policy: crate::NumaPolicy,
    /// The policy configured.
    pub configured: crate::NumaPolicy,
    /// Why the policy degraded to `Off`, if it did.
    pub degraded: Option<String>,
    /// Whether the topology is simulated.
    pub simulated: bool,
    /// The node the calling thread runs on now.
    pub current_node: Option<u32>,
    /// Per node.
    pub nodes: Vec<NodeStats>,
}

impl NumaStats {
    /// Fraction of the present nursery pages that are on the thread's current node (1.0 when
    /// there are none).
    pub fn nursery_local_fraction(&self) -> f64 {
        let local: usize = self.nodes.iter().map(|n| n.nursery_pages_local).sum();
        let remote: usize = self.nodes.iter().map(|n| n.nursery_pages_remote).sum();
        if local + remote == 0 {
            1.0
        } else {
            local as f64 / (local + remote) as f64
        }
    }
}

impl fmt::Display for NumaStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NUMA policy {:?}", self.policy)?;
        if let Some(reason) = &self.degraded {
            write!(f, " (configured {:?}, off: {reason})", self.configured)?;
        }
        if self.simulated {
            f.write_str(" [simulated topology]")?;
        }
        for n in &self.nodes {
            write!(
                f,
                "\n  node {}: {} blocks ({:.1} MiB) placed; nursery pages {} local, {} remote, {} \
                 untouched; {} migrations, {} fallbacks",
                n.node,
                n.blocks_placed,
                n.bytes_placed as f64 / (1 << 20) as f64,
                n.nursery_pages_local,
                n.nursery_pages_remote,
                n.nursery_pages_untouched,
                n.migrations,
                n.fallbacks
            )?;
        }
        Ok(())
    }
}
