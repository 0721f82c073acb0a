//! The process-wide block pool: fixed-size blocks for every arena's old generation, with one
//! free list per NUMA node.
//!
//! An arena takes a block when its old generation needs one (for promotion, from the node of
//! the promoting thread) and gives blocks back after a full collection. The pool keeps free
//! blocks mapped for reuse up to a retention cap; past it, a block's pages go back to the OS
//! (`madvise(MADV_DONTNEED)`) while its address range stays mapped and ready. `reserve` maps and
//! faults blocks in up front (memory pools and preallocation: the classic defences against
//! fragmentation and against allocation stalls), and reserved blocks count toward the cap.
//!
//! Locking is per node and per block (256 KiB by default), never on an object allocation or a
//! collection's inner loop. The structure is model-checked with loom (`tests/loom.rs`).

use crate::sync::{AtomicUsize, Mutex, Ordering};

/// A free block: its base address, its node, and whether its pages were given back to the OS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FreeBlock {
    pub(crate) base: usize,
    pub(crate) node: Option<u32>,
    pub(crate) cold: bool,
}

/// The free lists of one block size.
#[derive(Debug)]
pub(crate) struct BlockPool {
    block_size: usize,
    /// One list per node; the last one for blocks whose node is not known (NUMA off).
    lists: Vec<Mutex<Vec<FreeBlock>>>,
    /// Warm (resident) free blocks, all nodes together.
    warm: AtomicUsize,
    retain: AtomicUsize,
}

impl BlockPool {
    /// A pool for blocks of `block_size` bytes on `nodes` nodes, keeping up to `retain` warm
    /// free blocks.
    pub(crate) fn new(block_size: usize, nodes: usize, retain: usize) -> Self {
        BlockPool {
            block_size,
            lists: (0..=nodes).map(|_| Mutex::new(Vec::new())).collect(),
            warm: AtomicUsize::new(0),
            retain: AtomicUsize::new(retain),
        }
    }

    fn list(&self, node: Option<u32>) -> usize {
        node.map_or(self.lists.len() - 1, |n| (n as usize).min(self.lists.len() - 2))
    }

    /// A free block of `node` (warm ones first), if the pool has one there.
    pub(crate) fn take(&self, node: Option<u32>) -> Option<FreeBlock> {
        let mut list = self.lists[self.list(node)].lock().unwrap();
        // Warm blocks sit at the end; a cold one is taken only when no warm one is left.
        let block = list.pop()?;
        drop(list);
        if !block.cold {
            self.warm.fetch_sub(1, Ordering::Relaxed);
        }
        Some(block)
    }

    /// A free block of any node other than `node`, for when `node` has none.
    pub(crate) fn take_elsewhere(&self, node: Option<u32>) -> Option<FreeBlock> {
        let skip = self.list(node);
        (0..self.lists.len()).filter(|&i| i != skip).find_map(|i| {
            let block = self.lists[i].lock().unwrap().pop()?;
            if !block.cold {
                self.warm.fetch_sub(1, Ordering::Relaxed);
            }
            Some(block)
        })
    }

    /// Gives a block back. Returns true if it stays warm; false if the caller must give its
    /// pages back to the OS (past the retention cap) — the block is filed as cold either way.
    pub(crate) fn give(&self, base: usize, node: Option<u32>) -> bool {
        let warm = self.warm.fetch_add(1, Ordering::Relaxed) < self.retain.load(Ordering::Relaxed);
        if !warm {
            self.warm.fetch_sub(1, Ordering::Relaxed);
        }
        let mut list = self.lists[self.list(node)].lock().unwrap();
        if warm {
            list.push(FreeBlock { base, node, cold: false });
        } else {
            list.insert(0, FreeBlock { base, node, cold: true });
        }
        warm
    }

    /// Files a block that was never touched (the uncarved rest of a huge-page chunk) as cold.
    pub(crate) fn give_untouched(&self, base: usize, node: Option<u32>) {
        self.lists[self.list(node)].lock().unwrap().insert(0, FreeBlock { base, node, cold: true });
    }

    /// Files a reserved block (warm), raising the retention cap to keep it.
    pub(crate) fn add_reserved(&self, base: usize, node: Option<u32>) {
        self.retain.fetch_add(1, Ordering::Relaxed);
        self.warm.fetch_add(1, Ordering::Relaxed);
        self.lists[self.list(node)].lock().unwrap().push(FreeBlock { base, node, cold: false });
    }

    /// Free blocks now (warm, cold).
    #[allow(dead_code)] // for the tests, and statistics to come
    pub(crate) fn free_blocks(&self) -> (usize, usize) {
        let total: usize = self.lists.iter().map(|l| l.lock().unwrap().len()).sum();
        let warm = self.warm.load(Ordering::Relaxed);
        (warm, total - warm)
    }
}

/// Node lists per pool: enough for any machine we know, and for simulated topologies.
const POOL_NODES: usize = 64;
/// Free blocks kept warm (resident), in bytes per block size: enough to absorb the churn of a
/// collection cycle, little enough that a heap that shrank gives its memory back.
const RETAINED_BYTES: usize = 2 << 20;

/// The process's pool for blocks of `block_size` bytes. (Not used under loom, whose types
/// only live inside a model.)
pub(crate) fn shared(block_size: usize) -> std::sync::Arc<BlockPool> {
    use std::sync::{Arc, Mutex as StdMutex};
    static POOLS: StdMutex<Vec<Arc<BlockPool>>> = StdMutex::new(Vec::new());
    let mut pools = POOLS.lock().unwrap();
    if let Some(pool) = pools.iter().find(|p| p.block_size == block_size) {
        return pool.clone();
    }
    let pool =
        Arc::new(BlockPool::new(block_size, POOL_NODES, (RETAINED_BYTES / block_size).max(8)));
    pools.push(pool.clone());
    pool
}

#[cfg(all(test, gc_loom))]
mod loom_tests {
    //! Model checking of the pool: `RUSTFLAGS="--cfg gc_loom" cargo test -p gc-core --lib
    //! --release loom` (see `.ci/run`).
    use loom::sync::Arc;
    use loom::thread;

    use super::*;

    fn all_blocks(pool: &BlockPool) -> Vec<usize> {
        let mut all: Vec<usize> = pool
            .lists
            .iter()
            .flat_map(|l| l.lock().unwrap().iter().map(|b| b.base).collect::<Vec<_>>())
            .collect();
        all.sort();
        all
    }

    #[test]
    fn loom_take_and_give_never_lose_or_duplicate_a_block() {
        loom::model(|| {
            let pool = Arc::new(BlockPool::new(4096, 2, 4));
            pool.add_reserved(0x1000, Some(0));
            pool.add_reserved(0x2000, Some(1));
            let threads: Vec<_> = [Some(0), Some(1)]
                .into_iter()
                .map(|node| {
                    let pool = pool.clone();
                    thread::spawn(move || {
                        let block =
                            pool.take(node).or_else(|| pool.take_elsewhere(node)).expect("a block");
                        pool.give(block.base, block.node);
                        block.base
                    })
                })
                .collect();
            for t in threads {
                let base = t.join().unwrap();
                assert!(base == 0x1000 || base == 0x2000);
            }
            assert_eq!(all_blocks(&pool), vec![0x1000, 0x2000]);
            assert_eq!(pool.free_blocks(), (2, 0));
        });
    }

    #[test]
    fn loom_two_threads_taking_the_last_block() {
        loom::model(|| {
            let pool = Arc::new(BlockPool::new(4096, 1, 4));
            pool.add_reserved(0x1000, Some(0));
            let threads: Vec<_> = (0..2)
                .map(|_| {
                    let pool = pool.clone();
                    thread::spawn(move || pool.take(Some(0)).map(|b| b.base))
                })
                .collect();
            let got: Vec<Option<usize>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
            assert_eq!(got.iter().flatten().count(), 1, "exactly one thread gets it: {got:?}");
            assert!(all_blocks(&pool).is_empty());
        });
    }

    #[test]
    fn loom_gives_past_the_cap_go_cold() {
        loom::model(|| {
            let pool = Arc::new(BlockPool::new(4096, 1, 1));
            let threads: Vec<_> = [0x1000, 0x2000]
                .into_iter()
                .map(|base| {
                    let pool = pool.clone();
                    thread::spawn(move || pool.give(base, Some(0)))
                })
                .collect();
            let warm: Vec<bool> = threads.into_iter().map(|t| t.join().unwrap()).collect();
            assert_eq!(warm.iter().filter(|w| **w).count(), 1, "{warm:?}");
            assert_eq!(all_blocks(&pool), vec![0x1000, 0x2000]);
            assert_eq!(pool.free_blocks(), (1, 1));
        });
    }
}
