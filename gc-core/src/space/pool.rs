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
//! collection's inner loop. The structure is model-checked with loom (`loom_tests` below).
//!
//! **Effects on a block's pages happen while one thread owns it, never after it is published.**
//! Once a block is in a free list, any thread may take it and write objects into it: a
//! discard, a fault-in or a binding done after that would zero or move the taker's objects
//! (issue 13: `give` was once called before the discard). So the pool itself performs the
//! effects that come with filing a block (discarding the pages of a block past the quota in
//! [`BlockPool::give`], faulting in a reserved one in [`BlockPool::add_reserved`]) before the
//! lock that publishes it, and callers bind a block's pages before it is first filed
//! (`old_gen::map_block`). Under loom, the pages of a block are a cell of the model ([`Pages`])
//! and each effect a write to it, so the model checker sees their order against the taker's
//! use.

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
    /// Warm (resident) free blocks, all nodes together, counting those being filed.
    warm: AtomicUsize,
    retain: AtomicUsize,
    /// The blocks' memory, as far as other threads can see it.
    pages: Pages,
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
            pages: Pages::default(),
        }
    }

    fn list(&self, node: Option<u32>) -> usize {
        node.map_or(self.lists.len() - 1, |n| (n as usize).min(self.lists.len() - 2))
    }

    /// A free block of `node` (warm ones first), if the pool has one there. The caller owns it
    /// exclusively from now on.
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

    /// Gives a block back. Returns true if it stays warm; false if it was past the retention
    /// cap, in which case its pages have been given back to the OS (and it is filed as cold).
    /// The discard happens here, before the block is published: from then on another thread
    /// may take it and fill it.
    ///
    /// # Safety
    /// `base` is a block of this pool's size, part of a mapping made by `sys::map_aligned`,
    /// holding nothing live; the caller owns it exclusively and gives up every access to it.
    pub(crate) unsafe fn give(&self, base: usize, node: Option<u32>) -> bool {
        let warm = self.warm.fetch_add(1, Ordering::Relaxed) < self.retain.load(Ordering::Relaxed);
        if !warm {
            self.warm.fetch_sub(1, Ordering::Relaxed);
            // SAFETY: precondition: the block is still ours alone, empty, and mapped.
            unsafe { self.pages.discard(base, self.block_size) };
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
    /// Its pages were bound (if at all) when the chunk was mapped, before this.
    pub(crate) fn give_untouched(&self, base: usize, node: Option<u32>) {
        self.lists[self.list(node)].lock().unwrap().insert(0, FreeBlock { base, node, cold: true });
    }

    /// Faults a reserved block's pages in (on the node it is bound to), then files it as warm,
    /// raising the retention cap to keep it.
    ///
    /// # Safety
    /// `base` is a block of this pool's size, freshly mapped (and bound) by the caller, who
    /// owns it exclusively and gives up every access to it.
    pub(crate) unsafe fn add_reserved(&self, base: usize, node: Option<u32>) {
        // SAFETY: precondition: ours alone, mapped, holding nothing.
        unsafe { self.pages.fault_in(base, self.block_size) };
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

/// The effects on the pages of the pool's blocks that other threads can observe. In a normal
/// build they are system calls and stores; under loom (`--cfg gc_loom`) each block's pages are
/// one cell of the model and each effect a write to it, so that loom reports any effect not
/// ordered with a taker's use of the block (the taker's use is the test's reads and writes of
/// the same cell, see `loom_tests`).
#[derive(Debug, Default)]
pub(crate) struct Pages {
    /// The model cells, by block base; registered before the pool is shared.
    #[cfg(gc_loom)]
    model: std::collections::BTreeMap<usize, ModelPages>,
}

/// The model of one block's pages: a loom cell shared by the threads that hand the block around.
#[cfg(gc_loom)]
#[derive(Debug)]
struct ModelPages(loom::cell::UnsafeCell<u64>);

// SAFETY: the cell stands for memory that threads really do share; whether their accesses are
// ordered is exactly what loom checks on every access (and reports when they are not).
#[cfg(gc_loom)]
unsafe impl Sync for ModelPages {}

impl Pages {
    /// Gives the pages of `[base, base + len)` back to the OS; they read as zero afterwards.
    ///
    /// # Safety
    /// The range is page-aligned, part of a mapping made by `sys::map_aligned`, holds nothing
    /// live, and no other thread can reach it.
    unsafe fn discard(&self, base: usize, len: usize) {
        #[cfg(not(gc_loom))]
        // SAFETY: precondition.
        unsafe {
            crate::sys::discard(crate::raw::ptr_at(base), len)
        };
        #[cfg(gc_loom)]
        {
            let _ = len;
            // SAFETY: the model's stand-in for the pages; loom checks the exclusivity.
            self.cell(base).with_mut(|pages| unsafe { *pages = 0 });
        }
    }

    /// Faults in the pages of `[base, base + len)` (where their binding says).
    ///
    /// # Safety
    /// The range is part of a mapping of ours, holds nothing, and no other thread can reach it.
    unsafe fn fault_in(&self, base: usize, len: usize) {
        #[cfg(not(gc_loom))]
        for page in (base..base + len).step_by(crate::sys::page_size()) {
            // SAFETY: precondition; touching a page faults it in on its node.
            unsafe { std::ptr::write_volatile(crate::raw::ptr_at::<u8>(page), 0) };
        }
        #[cfg(gc_loom)]
        {
            let _ = len;
            // SAFETY: as in `discard`.
            self.cell(base).with_mut(|pages| unsafe { *pages = 0 });
        }
    }

    /// Puts the block at `base` in the model (before the pool is shared).
    #[cfg(all(test, gc_loom))]
    fn model_block(&mut self, base: usize) {
        self.model.insert(base, ModelPages(loom::cell::UnsafeCell::new(0)));
    }

    #[cfg(gc_loom)]
    fn cell(&self, base: usize) -> &loom::cell::UnsafeCell<u64> {
        &self.model.get(&base).unwrap_or_else(|| panic!("block {base:#x} not in the model")).0
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
    //! --release loom` (see `.ci/run`). The blocks' pages are cells of the model ([`Pages`]):
    //! the pool's discards and fault-ins write them, and so does a thread that takes a block
    //! and fills it, so loom reports any effect on a block that is not ordered before its
    //! next owner's use.
    use loom::sync::Arc;
    use loom::thread;

    use super::*;

    /// A pool of 4 KiB blocks at the model addresses `bases`.
    fn pool(nodes: usize, retain: usize, bases: &[usize]) -> Arc<BlockPool> {
        let mut pool = BlockPool::new(4096, nodes, retain);
        for &base in bases {
            pool.pages.model_block(base);
        }
        Arc::new(pool)
    }

    /// What the owner of a block does with it: fill it with objects and read them back.
    fn fill(pool: &BlockPool, base: usize, value: u64) {
        let cell = pool.pages.cell(base);
        // SAFETY: the model's stand-in for the block's memory; loom checks the exclusivity.
        cell.with_mut(|pages| unsafe { *pages = value });
        // SAFETY: as above.
        assert_eq!(cell.with(|pages| unsafe { *pages }), value, "the block was changed under us");
    }

    /// Gives a model block back.
    fn give(pool: &BlockPool, base: usize, node: Option<u32>) -> bool {
        // SAFETY: a block of the model: no memory behind it, the pool only writes its cell.
        unsafe { pool.give(base, node) }
    }

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
            let pool = pool(2, 4, &[0x1000, 0x2000]);
            // SAFETY: blocks of the model.
            unsafe {
                pool.add_reserved(0x1000, Some(0));
                pool.add_reserved(0x2000, Some(1));
            }
            let threads: Vec<_> = [Some(0), Some(1)]
                .into_iter()
                .map(|node| {
                    let pool = pool.clone();
                    thread::spawn(move || {
                        let block =
                            pool.take(node).or_else(|| pool.take_elsewhere(node)).expect("a block");
                        fill(&pool, block.base, 7);
                        give(&pool, block.base, block.node);
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
            let pool = pool(1, 4, &[0x1000]);
            // SAFETY: a block of the model.
            unsafe { pool.add_reserved(0x1000, Some(0)) };
            let threads: Vec<_> = (0..2)
                .map(|_| {
                    let pool = pool.clone();
                    thread::spawn(move || {
                        let base = pool.take(Some(0))?.base;
                        fill(&pool, base, 7);
                        Some(base)
                    })
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
            let pool = pool(1, 1, &[0x1000, 0x2000]);
            let threads: Vec<_> = [0x1000, 0x2000]
                .into_iter()
                .map(|base| {
                    let pool = pool.clone();
                    thread::spawn(move || give(&pool, base, Some(0)))
                })
                .collect();
            let warm: Vec<bool> = threads.into_iter().map(|t| t.join().unwrap()).collect();
            assert_eq!(warm.iter().filter(|w| **w).count(), 1, "{warm:?}");
            assert_eq!(all_blocks(&pool), vec![0x1000, 0x2000]);
            assert_eq!(pool.free_blocks(), (1, 1));
        });
    }

    /// Issue 13, item 6: a block given back past the quota had its pages discarded after it
    /// was published, zeroing what a thread that took it in between had put there.
    #[test]
    fn loom_a_block_is_discarded_before_another_thread_can_take_it() {
        loom::model(|| {
            // No warm block is kept: every block given back is discarded.
            let pool = pool(1, 0, &[0x1000]);
            let owner = {
                let pool = pool.clone();
                thread::spawn(move || {
                    fill(&pool, 0x1000, 1);
                    assert!(!give(&pool, 0x1000, Some(0)), "past the quota");
                })
            };
            let taker = {
                let pool = pool.clone();
                thread::spawn(move || {
                    if let Some(block) = pool.take(Some(0)) {
                        assert!(block.cold);
                        fill(&pool, block.base, 2);
                        // SAFETY: as in `give`.
                        unsafe { pool.give(block.base, block.node) };
                    }
                })
            };
            owner.join().unwrap();
            taker.join().unwrap();
            assert_eq!(all_blocks(&pool), vec![0x1000]);
        });
    }

    /// A reserved block is faulted in (written) before it is filed.
    #[test]
    fn loom_a_reserved_block_is_faulted_in_before_another_thread_can_take_it() {
        loom::model(|| {
            let pool = pool(1, 0, &[0x1000]);
            let reserver = {
                let pool = pool.clone();
                // SAFETY: a block of the model, "mapped" by this thread.
                thread::spawn(move || unsafe { pool.add_reserved(0x1000, Some(0)) })
            };
            let taker = {
                let pool = pool.clone();
                thread::spawn(move || {
                    if let Some(block) = pool.take(Some(0)) {
                        fill(&pool, block.base, 2);
                    }
                })
            };
            reserver.join().unwrap();
            taker.join().unwrap();
        });
    }

    /// A fresh block's pages are bound by the thread that mapped it, then filed: the filing
    /// orders the binding before any taker's use (a binding after it would be reported).
    #[test]
    fn loom_a_fresh_block_is_bound_before_another_thread_can_take_it() {
        loom::model(|| {
            let pool = pool(1, 0, &[0x1000, 0x2000]);
            let mapper = {
                let pool = pool.clone();
                thread::spawn(move || {
                    // `map_block`'s binding of the chunk, then `Carver::give_rest`.
                    for base in [0x1000, 0x2000] {
                        fill(&pool, base, 1);
                        pool.give_untouched(base, Some(0));
                    }
                })
            };
            let taker = {
                let pool = pool.clone();
                thread::spawn(move || {
                    if let Some(block) = pool.take(Some(0)) {
                        fill(&pool, block.base, 2);
                    }
                })
            };
            mapper.join().unwrap();
            taker.join().unwrap();
        });
    }
}
