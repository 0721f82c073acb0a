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
    /// Bytes the mutator placed directly in the old generation because the nursery was full
    /// within one `mutate` call.
    pub bytes_pretenured: u64,
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
            "allocated {:.2} MiB, promoted {:.2} MiB, pretenured {:.2} MiB",
            mib(self.bytes_allocated as usize),
            mib(self.bytes_promoted as usize),
            mib(self.bytes_pretenured as usize)
        )?;
        writeln!(
            f,
            "nursery used {:.2} MiB; old gen {:.2} MiB in {} blocks; large {:.2} MiB in {} objects",
            mib(self.nursery_used),
            mib(self.old_used),
            self.old_blocks,
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
