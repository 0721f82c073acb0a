//! A block of the old generation: a fixed-size, size-aligned piece of memory.
//!
//! ```text
//! [ BlockMeta | mark bitmap | slot bitmap | objects ... top | free ]
//! ^ base (aligned to the block size)   (each bitmap: one bit per 8-byte word of the block)
//! ```
//!
//! Because blocks are aligned to their size, the block of any object is found by masking its
//! address, and so is its mark bit: marking touches no side table lookup. The slot bitmap
//! records, during a full collection's marking, which words of the block's live objects are
//! pointer slots, so that updating them later needs no `Trace` impl (1.6 % of the block). The bitmap holds a
//! bit per word of the whole block (the bits of the header words are never set), which keeps
//! the index arithmetic a shift.

use crate::debug::checkers;
use crate::raw::{ptr_at, ObjPtr, WORD};

/// Per-block state, at the start of the block.
#[repr(C)]
pub(crate) struct BlockMeta {
    /// End of the objects: `[data_start, top)` parses as a sequence of objects.
    pub(crate) top: usize,
    /// Bytes of marked objects, valid during a full collection.
    pub(crate) live: usize,
    /// Some object in the block has a destructor: a full collection must look for dead ones.
    pub(crate) has_drop: bool,
    /// The NUMA node the block is bound to, if any.
    pub(crate) node: Option<u32>,
}

/// Sizes derived from the configured block size.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Geometry {
    pub(crate) size: usize,
    pub(crate) bitmap_words: usize,
    pub(crate) data_offset: usize,
}

const BITMAP_OFFSET: usize = 64;

impl Geometry {
    pub(crate) fn new(size: usize) -> Geometry {
        debug_assert!(size.is_power_of_two());
        let bits = size / WORD;
        let bitmap_words = bits.div_ceil(64);
        Geometry { size, bitmap_words, data_offset: BITMAP_OFFSET + 2 * bitmap_words * 8 }
    }

    /// Bytes available for objects in one block.
    pub(crate) fn capacity(&self) -> usize {
        self.size - self.data_offset
    }

    /// The block holding the old-generation object `obj`.
    #[inline(always)]
    pub(crate) fn block_of(&self, obj: ObjPtr) -> Block {
        Block(obj.addr() & !(self.size - 1))
    }
}

/// A handle to a block (its base address).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub(crate) struct Block(usize);

impl Block {
    /// # Safety
    /// `base` is the base of a mapped block of `geom.size` bytes, aligned to its size.
    pub(crate) unsafe fn from_base(base: usize) -> Block {
        Block(base)
    }

    #[inline(always)]
    pub(crate) fn base(self) -> usize {
        self.0
    }

    /// # Safety
    /// The block is mapped and initialised, and no other reference to its metadata is live.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn meta<'a>(self) -> &'a mut BlockMeta {
        // SAFETY: precondition; the metadata sits at the aligned base.
        unsafe { &mut *ptr_at::<BlockMeta>(self.0) }
    }

    #[inline(always)]
    pub(crate) fn data_start(self, geom: &Geometry) -> usize {
        self.0 + geom.data_offset
    }

    #[inline(always)]
    pub(crate) fn end(self, geom: &Geometry) -> usize {
        self.0 + geom.size
    }

    /// The mark bitmap's words (bit `i % 64` of word `i / 64` is the mark bit of word `i` of
    /// the block).
    ///
    /// # Safety
    /// The block is mapped, and no other reference to its bitmap is live.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn marks<'a>(self, geom: &Geometry) -> &'a mut [u64] {
        // SAFETY: precondition; the bitmap words follow the metadata, inside the block.
        unsafe {
            std::slice::from_raw_parts_mut(ptr_at::<u64>(self.0 + BITMAP_OFFSET), geom.bitmap_words)
        }
    }

    /// Sets the mark bit of the object at `addr`; true if it was clear. The hot path of
    /// marking: one load and one store, no bit-slice bookkeeping.
    ///
    /// # Safety
    /// As for [`Block::marks`]; `addr` lies in this block.
    #[inline(always)]
    pub(crate) unsafe fn mark(self, addr: usize) -> bool {
        let bit = self.bit(addr);
        let word = ptr_at::<u64>(self.0 + BITMAP_OFFSET + bit / 64 * 8);
        let mask = 1u64 << (bit % 64);
        // SAFETY: precondition: the word is in this block's bitmap.
        unsafe {
            let old = *word;
            *word = old | mask;
            old & mask == 0
        }
    }

    /// Whether the object at `addr` is marked.
    ///
    /// # Safety
    /// As for [`Block::mark`].
    #[inline(always)]
    pub(crate) unsafe fn is_marked(self, addr: usize) -> bool {
        let bit = self.bit(addr);
        // SAFETY: precondition: the word is in this block's bitmap.
        unsafe { *ptr_at::<u64>(self.0 + BITMAP_OFFSET + bit / 64 * 8) & (1u64 << (bit % 64)) != 0 }
    }

    /// Calls `f` with the address of each marked object, in address order.
    ///
    /// # Safety
    /// As for [`Block::marks`]; `f` does not write to the bitmap.
    #[inline]
    pub(crate) unsafe fn for_each_marked(self, geom: &Geometry, mut f: impl FnMut(usize)) {
        // SAFETY: precondition: the bitmap words follow the metadata, inside the block.
        let words = unsafe {
            std::slice::from_raw_parts(ptr_at::<u64>(self.0 + BITMAP_OFFSET), geom.bitmap_words)
        };
        // The objects are visited in address order, but far apart (hundreds of bytes in a
        // typical heap): each header is a cache miss the hardware prefetcher does not
        // predict. The bitmap tells where the next ones are: their headers are prefetched
        // `AHEAD` objects before `f` reads them.
        const AHEAD: usize = 8;
        let mut ring = [0usize; AHEAD];
        let mut seen = 0usize;
        for (index, &word) in words.iter().enumerate() {
            let mut rest = word;
            while rest != 0 {
                let bit = index * 64 + rest.trailing_zeros() as usize;
                let addr = self.addr_of_bit(bit);
                crate::raw::prefetch(addr);
                let slot = &mut ring[seen % AHEAD];
                if seen >= AHEAD {
                    f(*slot);
                }
                *slot = addr;
                seen += 1;
                rest &= rest - 1;
            }
        }
        for i in seen.saturating_sub(AHEAD)..seen {
            f(ring[i % AHEAD]);
        }
    }

    /// The slot bitmap's words.
    ///
    /// # Safety
    /// As for [`Block::marks`], for the slot bitmap.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn slot_words<'a>(self, geom: &Geometry) -> &'a mut [u64] {
        // SAFETY: precondition; the slot bitmap follows the mark bitmap, inside the block.
        unsafe {
            std::slice::from_raw_parts_mut(
                ptr_at::<u64>(self.0 + BITMAP_OFFSET + geom.bitmap_words * 8),
                geom.bitmap_words,
            )
        }
    }

    /// Records that the word at `addr` (in this block) is a pointer slot.
    ///
    /// # Safety
    /// As for [`Block::mark`].
    #[inline(always)]
    pub(crate) unsafe fn set_slot(self, geom: &Geometry, addr: usize) {
        let bit = self.bit(addr);
        // SAFETY: precondition.
        unsafe { self.slot_words(geom)[bit / 64] |= 1u64 << (bit % 64) };
    }

    /// Calls `f` with the address of each recorded slot, then clears the slot bitmap.
    ///
    /// # Safety
    /// As for [`Block::marks`], for the slot bitmap.
    pub(crate) unsafe fn drain_slots(self, geom: &Geometry, mut f: impl FnMut(usize)) {
        // SAFETY: precondition.
        let words = unsafe { self.slot_words(geom) };
        for (index, word) in words.iter_mut().enumerate() {
            let mut rest = std::mem::take(word);
            while rest != 0 {
                f(self.addr_of_bit(index * 64 + rest.trailing_zeros() as usize));
                rest &= rest - 1;
            }
        }
    }

    /// Index of the mark bit of the object at `addr` in this block.
    #[inline(always)]
    pub(crate) fn bit(self, addr: usize) -> usize {
        (addr - self.0) / WORD
    }

    /// Address of the object whose mark bit is `bit`.
    #[inline(always)]
    pub(crate) fn addr_of_bit(self, bit: usize) -> usize {
        self.0 + bit * WORD
    }

    // The memory checkers' view of a block follows its top (in the builds made for them, see
    // `debug::checkers`): the bytes below the top are in use, the bytes above it are free
    // (poisoned). The top only moves through `claim_to` (which unpoisons what it adds: objects
    // are about to be written there) and `free_from` (which poisons what it drops), so nothing
    // is ever written to memory the checkers consider freed. (Issue 13: compaction once slid
    // objects into a block's tail, poisoned by the previous compaction, without unpoisoning
    // it.) In other builds both are the store alone.

    /// Raises the block's top to `top`, claiming `[old top, top)` for objects.
    ///
    /// # Safety
    /// As for [`Block::meta`]; `[old top, top)` is free space of this block.
    #[inline(always)]
    pub(crate) unsafe fn claim_to(self, top: usize) {
        // SAFETY: precondition.
        let meta = unsafe { self.meta() };
        debug_assert!(meta.top <= top, "claim_to lowers the top");
        checkers::unpoison(meta.top, top);
        meta.top = top;
    }

    /// Lowers the block's top to `top`, freeing `[top, old top)`.
    ///
    /// # Safety
    /// As for [`Block::meta`]; `top` is at least the start of the data, and nothing live lies
    /// in `[top, old top)`.
    #[inline(always)]
    pub(crate) unsafe fn free_from(self, top: usize) {
        // SAFETY: precondition.
        let meta = unsafe { self.meta() };
        debug_assert!(top <= meta.top, "free_from raises the top");
        checkers::poison(top, meta.top);
        meta.top = top;
    }

    /// Resets the metadata of a block that holds no objects: its top goes back to the start of
    /// the data, and all of the data is free for the checkers.
    ///
    /// # Safety
    /// As for [`Block::meta`]; the bitmap is all clear; nothing in the block is live.
    pub(crate) unsafe fn reset(self, geom: &Geometry) {
        // The old top may be anything (a block from the pool whose pages were discarded).
        checkers::poison(self.data_start(geom), self.end(geom));
        // SAFETY: precondition.
        let meta = unsafe { self.meta() };
        meta.top = self.data_start(geom);
        meta.live = 0;
        meta.has_drop = false;
        meta.node = None;
    }
}
