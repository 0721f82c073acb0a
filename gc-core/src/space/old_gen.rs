//! The old generation: blocks filled by bump allocation (promotion, and mutator allocation when
//! the nursery is full), compacted by sliding in a full collection.

use std::io;

use super::block::{Block, Geometry};
use crate::raw::{fill, place, ObjPtr};
use crate::sys;

/// See [`OldGen::checkpoint`].
#[derive(Clone, Copy)]
pub(crate) struct Checkpoint {
    blocks: usize,
    cursor: usize,
    used: usize,
}

pub(crate) struct OldGen {
    pub(crate) geom: Geometry,
    /// Blocks holding objects, in allocation order; the last one is being allocated into.
    pub(crate) blocks: Vec<Block>,
    /// Where free blocks come from and go back to (shared by every arena of the process).
    pool: std::sync::Arc<super::pool::BlockPool>,
    /// NUMA placement of new blocks (and of the nursery).
    pub(crate) placer: super::placement::Placer,
    /// Bump allocation in `blocks.last()`: `cursor` is its `top`.
    cursor: usize,
    limit: usize,
    /// Sum over the blocks of `top - data_start`, kept up to date (the pacing reads it at
    /// every safepoint).
    used: usize,
    /// Ranges of objects the mutator placed here since the last minor collection (the nursery
    /// was full, a pinned object, a tenured site's objects with pointers). They may point into
    /// the nursery without having been remembered, so the next minor collection scans them:
    /// `(first object, block)`, up to the block's top.
    pub(crate) overflow: Vec<(usize, Block)>,
    /// Whether a range makes a minor collection due (the nursery was full, or a pinned object:
    /// not for tenured objects, whose ranges wait for the next minor collection).
    force_minor: bool,
    /// Empty blocks kept resident for this arena's next promotions, up to `spare_budget`:
    /// after an automatic full collection the old generation grows back to its threshold
    /// before the next one, and a block given back to the OS would be faulted in and zeroed
    /// again (30 % of the time of a workload whose old generation turns over, in profiles).
    spares: Vec<Block>,
    spare_budget: usize,
    /// The huge-page chunks new blocks are carved from.
    carver: Carver,
}

/// Carves blocks smaller than a huge page out of huge-page-sized chunks, each bound to its NUMA
/// node as a whole before anything touches it, and mapped for transparent huge pages if the
/// configuration asks for them. A block mapped alone can never be backed by a huge page, nor
/// can a chunk whose blocks are bound one by one as they are first used (the binding splits
/// the mapping, and the first touch of a part faults small pages); a heap of huge pages takes
/// the TLB misses out of marking, compaction and the program's own walks over a large old
/// generation. Blocks are never unmapped (an empty block goes back to the pool with its pages
/// discarded), so carving is safe; a chunk is only mapped when one is needed.
#[derive(Debug)]
pub(crate) struct Carver {
    /// Ask for transparent huge pages.
    huge: bool,
    /// The chunks with blocks left to carve: usually one per node asked for (interleaving asks
    /// for each in turn). A block of a huge page or more is a chunk of its own.
    chunks: Vec<Chunk>,
}

/// A chunk being carved: `[next, end)` is not carved yet.
#[derive(Debug)]
struct Chunk {
    /// The node it was asked for, and the one it is bound to.
    asked: Option<u32>,
    got: Option<u32>,
    next: usize,
    end: usize,
}

impl Carver {
    fn new(huge: bool) -> Carver {
        Carver { huge, chunks: Vec::new() }
    }

    /// A block of `size` bytes from a chunk asked for `node`: its base and the chunk's node.
    fn carve(&mut self, node: Option<u32>, size: usize) -> Option<(usize, Option<u32>)> {
        let index = self.chunks.iter().position(|c| c.asked == node && c.next < c.end)?;
        let chunk = &mut self.chunks[index];
        let base = chunk.next;
        let got = chunk.got;
        chunk.next += size;
        if chunk.next >= chunk.end {
            self.chunks.swap_remove(index);
        }
        Some((base, got))
    }

    /// Files a chunk mapped for `asked` and bound to `got`, to carve blocks from.
    fn file(&mut self, asked: Option<u32>, got: Option<u32>, base: usize, len: usize) {
        self.chunks.push(Chunk { asked, got, next: base, end: base + len });
    }

    /// Files the blocks not carved yet in `pool`, as free blocks never touched.
    fn give_rest(&mut self, size: usize, pool: &super::pool::BlockPool) {
        for chunk in self.chunks.drain(..) {
            for base in (chunk.next..chunk.end).step_by(size) {
                pool.give_untouched(base, chunk.got);
            }
        }
    }
}

impl OldGen {
    pub(crate) fn new(
        block_size: usize,
        huge_pages: bool,
        placer: super::placement::Placer,
    ) -> OldGen {
        OldGen {
            geom: Geometry::new(block_size),
            blocks: Vec::new(),
            pool: super::pool::shared(block_size),
            placer,
            cursor: 0,
            limit: 0,
            used: 0,
            overflow: Vec::new(),
            force_minor: false,
            spares: Vec::new(),
            spare_budget: 0,
            carver: Carver::new(huge_pages),
        }
    }

    /// Keeps up to `bytes` of empty blocks resident for this arena (see `spares`); the ones
    /// past it go back to the pool now.
    pub(crate) fn set_spare_budget(&mut self, bytes: usize) {
        self.spare_budget = bytes / self.geom.size;
        while self.spares.len() > self.spare_budget {
            let block = self.spares.pop().expect("more spares than the budget");
            self.give_back(block);
        }
    }

    /// Bump-allocates `size` bytes for an object whose payload at `payload_offset` needs
    /// `align`. The caller writes the header; alignment gaps are already filled.
    #[inline]
    pub(crate) fn alloc(
        &mut self,
        size: usize,
        payload_offset: usize,
        align: usize,
    ) -> io::Result<ObjPtr> {
        debug_assert!(size <= self.geom.capacity(), "object of {size} bytes in a block");
        let mut start = place(self.cursor, payload_offset, align);
        if start + size > self.limit || self.blocks.is_empty() {
            self.next_block()?;
            start = place(self.cursor, payload_offset, align);
        }
        let block = *self.blocks.last().expect("a current block");
        // SAFETY: the block is ours and mapped; no other reference to its metadata is live;
        // its top is `cursor`, and `[cursor, start + size)` is free space of it: claimed here.
        unsafe { block.claim_to(start + size) };
        // SAFETY: `[cursor, start)` is free space of the current block, claimed above.
        unsafe { fill(self.cursor, start) };
        self.used += start + size - self.cursor;
        self.cursor = start + size;
        // SAFETY: `start` is an 8-aligned, non-zero address inside the block.
        Ok(unsafe { ObjPtr::from_addr(start) })
    }

    /// Whether an object fits in the current block (no new block needed).
    pub(crate) fn fits(&self, size: usize, payload_offset: usize, align: usize) -> bool {
        !self.blocks.is_empty() && place(self.cursor, payload_offset, align) + size <= self.limit
    }

    /// Allocation by the mutator when the nursery is full (or of a pinned object): as
    /// `alloc`, and the object is recorded for scanning by the next minor collection, which
    /// is due at once.
    pub(crate) fn alloc_overflow(
        &mut self,
        size: usize,
        payload_offset: usize,
        align: usize,
    ) -> io::Result<ObjPtr> {
        let obj = self.alloc_scanned(size, payload_offset, align)?;
        self.force_minor = true;
        Ok(obj)
    }

    /// As `alloc`, and the object is recorded for scanning by the next minor collection,
    /// whenever it comes.
    pub(crate) fn alloc_scanned(
        &mut self,
        size: usize,
        payload_offset: usize,
        align: usize,
    ) -> io::Result<ObjPtr> {
        let obj = self.alloc(size, payload_offset, align)?;
        let block = *self.blocks.last().expect("a current block");
        // A range runs to its block's top: one per block (plain allocations in between, which
        // may have moved to another block, are inside a range or need no scanning).
        if self.overflow.last().map(|&(_, b)| b) != Some(block) {
            self.overflow.push((obj.addr(), block));
        }
        Ok(obj)
    }

    /// Whether the nursery overflowed into the old generation, or a pinned object was
    /// allocated, since the last minor collection.
    pub(crate) fn overflowed(&self) -> bool {
        self.force_minor
    }

    /// The overflow ranges as `(start, end)`.
    pub(crate) fn overflow_ranges(&self) -> Vec<(usize, usize)> {
        self.overflow
            .iter()
            // SAFETY: the block is ours and mapped.
            .map(|&(start, block)| (start, unsafe { block.meta().top }))
            .collect()
    }

    /// Closes the overflow ranges (a minor collection scanned them).
    pub(crate) fn clear_overflow(&mut self) {
        self.overflow.clear();
        self.force_minor = false;
    }

    /// Where allocation stands, to `rewind` to if a minor collection is abandoned.
    pub(crate) fn checkpoint(&self) -> Checkpoint {
        Checkpoint { blocks: self.blocks.len(), cursor: self.cursor, used: self.used }
    }

    /// Forgets everything allocated since `checkpoint` (an abandoned collection's copies).
    pub(crate) fn rewind(&mut self, checkpoint: Checkpoint) {
        let geom = self.geom;
        for block in self.blocks.split_off(checkpoint.blocks) {
            self.release(block, false);
        }
        self.used = checkpoint.used;
        match self.blocks.last() {
            Some(&last) if checkpoint.cursor != 0 => {
                // SAFETY: the block is ours and mapped; what was allocated above the
                // checkpoint is forgotten (freed).
                unsafe { last.free_from(checkpoint.cursor) };
                self.cursor = checkpoint.cursor;
                self.limit = last.end(&geom);
            }
            _ => {
                self.cursor = 0;
                self.limit = 0;
            }
        }
    }

    /// Makes a new current block, mapping (and binding: the topology's code runs) a fresh
    /// chunk if none is at hand. For the collector and for `reserve`; the mutator's paths,
    /// which hold the heap's state borrowed, use `take_block` and `file_chunk` (see
    /// `Heap::old_space`).
    fn next_block(&mut self) -> io::Result<()> {
        loop {
            let Err(request) = self.take_block() else { return Ok(()) };
            let chunk = request.fulfil(self.placer.binder().as_ref());
            if self.file_chunk(chunk)? {
                return Ok(());
            }
        }
    }

    /// Makes a new current block from what is at hand, calling no user code: a spare, a block
    /// of the pool, or the rest of a chunk. Otherwise, the chunk to map and bind (with
    /// [`ChunkRequest::fulfil`], then [`OldGen::file_chunk`]).
    pub(crate) fn take_block(&mut self) -> Result<(), ChunkRequest> {
        let size = self.geom.size;
        let want = self.placer.block_node();
        // A spare on the wanted node, else any spare: it is resident, where a block from the
        // pool may have to be faulted in (and the placer's statistics record the mismatch).
        // SAFETY: our spare blocks, mapped.
        let on_node = self.spares.iter().rposition(|b| unsafe { b.meta() }.node == want);
        if let Some(i) = on_node.or(self.spares.len().checked_sub(1)) {
            let block = self.spares.swap_remove(i);
            // SAFETY: our spare block, mapped.
            let node = unsafe { block.meta() }.node;
            // SAFETY: an empty block of ours: its bitmaps were cleared before it became spare.
            unsafe { self.install(block, want, node) };
            return Ok(());
        }
        let (base, node) = match self.pool.take(want) {
            Some(free) => (free.base, free.node),
            None => match self.carver.carve(want, size) {
                Some(carved) => carved,
                None => return Err(ChunkRequest::new(size, want, self.carver.huge)),
            },
        };
        // SAFETY: a block of ours, mapped and size-aligned, free: its bitmaps are clear (zeroed
        // by the mapping, cleared by the full collection that emptied it, or given back to the
        // OS and read as zero).
        unsafe { self.install(Block::from_base(base), want, node) };
        Ok(())
    }

    /// Files a chunk made by [`ChunkRequest::fulfil`] (records how its binding went), to
    /// carve blocks from. If it could not be mapped, takes any free block of the pool instead,
    /// as the current block, and returns true; fails if there is none.
    pub(crate) fn file_chunk(&mut self, chunk: FreshChunk) -> io::Result<bool> {
        match chunk.mapped {
            Ok((base, len, bound)) => {
                let got = self.placer.settle(bound);
                self.carver.file(chunk.asked, got, base, len);
                Ok(false)
            }
            // Out of memory to map: any free block will do.
            Err(err) => match self.pool.take_elsewhere(chunk.asked) {
                Some(free) => {
                    // SAFETY: a free block of the pool, as in `take_block`.
                    unsafe { self.install(Block::from_base(free.base), chunk.asked, free.node) };
                    Ok(true)
                }
                None => Err(err),
            },
        }
    }

    /// Makes `block` (placed on `node`, asked for on `asked`) the current block.
    ///
    /// # Safety
    /// `block` is an empty block of ours, mapped, its bitmaps clear.
    unsafe fn install(&mut self, block: Block, asked: Option<u32>, node: Option<u32>) {
        // SAFETY: precondition.
        unsafe {
            block.reset(&self.geom);
            block.meta().node = node;
        }
        self.placer.placed_block(asked, node, self.geom.size);
        self.blocks.push(block);
        self.cursor = block.data_start(&self.geom);
        self.limit = block.end(&self.geom);
    }

    /// After compaction: `kept` hold the objects (in order), `released` are empty.
    pub(crate) fn replace_blocks(&mut self, kept: Vec<Block>, released: Vec<Block>, zap: bool) {
        self.blocks = kept;
        for block in released {
            self.release(block, zap);
        }
        self.used = self.count_used();
        match self.blocks.last() {
            Some(&last) => {
                // SAFETY: the block is ours and mapped.
                self.cursor = unsafe { last.meta().top };
                self.limit = last.end(&self.geom);
            }
            None => {
                self.cursor = 0;
                self.limit = 0;
            }
        }
    }

    fn release(&mut self, block: Block, zap: bool) {
        let geom = self.geom;
        if zap {
            // SAFETY: the block holds no live object; zapping makes stale pointers into it
            // fail loudly in the verifier instead of reading plausible data.
            unsafe { crate::debug::zap(block.data_start(&geom), block.end(&geom)) };
        }
        if self.spares.len() < self.spare_budget {
            self.spares.push(block);
            return;
        }
        self.give_back(block);
    }

    /// Returns an empty block to the process's pool (which discards its pages, before anyone
    /// else can take it, if it is past the pool's quota of resident blocks).
    fn give_back(&mut self, block: Block) {
        // SAFETY: our block.
        let node = unsafe { block.meta() }.node;
        // SAFETY: the block is empty and ours alone, part of a mapping made by `map_aligned`
        // (directly or as part of a huge-page chunk); we forget it here.
        unsafe { self.pool.give(block.base(), node) };
    }

    /// Bytes occupied below the tops of the blocks (objects and the holes between them).
    pub(crate) fn used_bytes(&self) -> usize {
        self.used
    }

    /// `used_bytes` counted from the blocks (for the verifier and compaction).
    pub(crate) fn count_used(&self) -> usize {
        self.blocks
            .iter()
            // SAFETY: the blocks are ours and mapped.
            .map(|b| unsafe { b.meta().top } - b.data_start(&self.geom))
            .sum()
    }

    /// Empty blocks kept resident for the next promotions.
    pub(crate) fn spare_blocks(&self) -> usize {
        self.spares.len()
    }

    /// Bytes of the blocks holding objects, and of the spare ones.
    pub(crate) fn committed_bytes(&self) -> usize {
        (self.blocks.len() + self.spares.len()) * self.geom.size
    }
}

impl Drop for OldGen {
    fn drop(&mut self) {
        // The arena has dropped every object: the blocks go back to the pool for other arenas.
        for block in std::mem::take(&mut self.blocks) {
            // SAFETY: our blocks; their bitmaps are clear between collections.
            unsafe { block.reset(&self.geom) };
            self.release(block, false);
        }
        self.set_spare_budget(0);
        self.carver.give_rest(self.geom.size, &self.pool);
    }
}

/// A chunk to map for blocks of `node`: `len` bytes, one block of a huge page or more, or a
/// huge-page chunk to carve (`huge`: whether to ask for transparent huge pages for it).
#[must_use]
pub(crate) struct ChunkRequest {
    node: Option<u32>,
    len: usize,
    huge: Option<bool>,
}

impl ChunkRequest {
    fn new(block_size: usize, node: Option<u32>, huge: bool) -> ChunkRequest {
        // Under Miri each block is an allocation of its own: Miri then catches an access that
        // runs off a block, and each allocation's borrow tracking stays small.
        if block_size >= sys::HUGE_PAGE || cfg!(miri) {
            ChunkRequest { node, len: block_size, huge: None }
        } else {
            ChunkRequest { node, len: sys::HUGE_PAGE, huge: Some(huge) }
        }
    }
}

/// A chunk mapped and bound by [`ChunkRequest::fulfil`], to file with [`OldGen::file_chunk`].
#[must_use]
pub(crate) struct FreshChunk {
    asked: Option<u32>,
    /// The base, the length, and how binding went; or why mapping failed.
    mapped: io::Result<(usize, usize, super::placement::Bound)>,
}

impl ChunkRequest {
    /// Maps the chunk and binds it to its node before anything touches it. This is the part
    /// that runs the topology's code: the mutator calls it with nothing of the heap borrowed.
    pub(crate) fn fulfil(self, binder: Option<&super::placement::Binder>) -> FreshChunk {
        let mapped = match self.huge {
            Some(huge) => sys::map_huge_chunk(huge),
            None => sys::map_aligned(self.len, self.len),
        };
        let mapped = mapped.map(|base| {
            let base = base as usize;
            let bound = match binder {
                Some(binder) => binder.bind_block(base, self.len, self.node),
                None => super::placement::Bound::To(None),
            };
            (base, self.len, bound)
        });
        FreshChunk { asked: self.node, mapped }
    }
}

/// Maps a block (carved from `carver`'s chunk if smaller than a huge page) bound to `node`
/// before anything touches it, and before it (or any block of its chunk) can reach the pool:
/// a binding is an effect on the pages, and the pool's rule is that no effect follows
/// publication (see `pool`).
fn map_block(
    size: usize,
    node: Option<u32>,
    placer: &mut super::placement::Placer,
    carver: &mut Carver,
) -> io::Result<(usize, Option<u32>)> {
    loop {
        if let Some(carved) = carver.carve(node, size) {
            return Ok(carved);
        }
        let request = ChunkRequest::new(size, node, carver.huge);
        let (base, len, bound) = request.fulfil(placer.binder().as_ref()).mapped?;
        let got = placer.settle(bound);
        carver.file(node, got, base, len);
    }
}

/// Maps `bytes` of blocks bound to `node`, faults them in, and files them in the process's
/// pool: later promotions find memory ready, on the right node.
pub(crate) fn reserve(
    block_size: usize,
    huge_pages: bool,
    bytes: usize,
    placer: &mut super::placement::Placer,
) -> io::Result<()> {
    let pool = super::pool::shared(block_size);
    placer.locate_thread();
    let node = placer.block_node();
    let mut carver = Carver::new(huge_pages);
    for _ in 0..bytes.div_ceil(block_size) {
        let (base, node) = map_block(block_size, node, placer, &mut carver)?;
        // SAFETY: a fresh block of ours, bound to its node, not yet seen by anyone; the pool
        // faults it in before filing it.
        unsafe { pool.add_reserved(base, node) };
    }
    carver.give_rest(block_size, &pool);
    Ok(())
}
