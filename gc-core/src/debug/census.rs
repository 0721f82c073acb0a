//! The census: what a walk of everything reachable measures.

use std::fmt;

/// Live objects and bytes found by walking everything reachable from the root and the handles
/// ([`Arena::census`](crate::Arena::census)), and the old generation's fragmentation now.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Census {
    /// Reachable objects.
    pub live_objects: usize,
    /// Bytes of reachable objects, headers included.
    pub live_bytes: usize,
    /// Of which in the nursery.
    pub nursery_live_bytes: usize,
    /// Of which in the old generation's blocks.
    pub old_live_bytes: usize,
    /// Of which in the large-object space.
    pub large_live_bytes: usize,
    /// Old-generation blocks holding reachable objects.
    pub old_blocks_with_live: usize,
    /// Bytes below the tops of those blocks that hold no reachable object (dead objects and
    /// padding): the holes only compaction can reclaim.
    pub old_holes: usize,
    /// `old_holes` ÷ the bytes of the blocks holding reachable objects.
    pub fragmentation: f64,
}

impl Census {
    pub(crate) fn record(&mut self, nursery: bool, old: bool, size: usize) {
        self.live_objects += 1;
        self.live_bytes += size;
        if nursery {
            self.nursery_live_bytes += size;
        } else if old {
            self.old_live_bytes += size;
        } else {
            self.large_live_bytes += size;
        }
    }

    /// Adds the per-block figures: `(live bytes, bytes below top)` for each block.
    pub(crate) fn finish(&mut self, blocks: impl Iterator<Item = (usize, usize)>, capacity: usize) {
        for (live, used) in blocks {
            if live > 0 {
                self.old_blocks_with_live += 1;
                self.old_holes += used - live;
            }
        }
        let bytes = self.old_blocks_with_live * capacity;
        self.fragmentation = if bytes == 0 { 0.0 } else { self.old_holes as f64 / bytes as f64 };
    }
}

impl fmt::Display for Census {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} live objects, {} bytes (nursery {}, old {}, large {}); {} old blocks with live \
             data, {} bytes of holes: fragmentation {:.2}%",
            self.live_objects,
            self.live_bytes,
            self.nursery_live_bytes,
            self.old_live_bytes,
            self.large_live_bytes,
            self.old_blocks_with_live,
            self.old_holes,
            self.fragmentation * 100.0
        )
    }
}
