//! Full collection: mark the old generation and the large objects, then slide the live block
//! objects together (Lisp-2 style sliding compaction, in block order).
//!
//! Runs right after a minor collection, so the nursery is empty and the remembered set clear.
//!
//! 1. **Mark** from the root and the handles with an explicit stack: block objects in their
//!    block's side bitmap (adding up live bytes per block), large objects in their header.
//!    Every pointer slot traced is recorded, so that no `Trace` impl runs again: if one panics
//!    while marking, the marks are cleared and the heap is exactly as before; after marking,
//!    only destructors (whose panics are caught) run user code.
//! 2. **Drop** the dead: walk the blocks that hold objects with destructors, run those of the
//!    unmarked ones; sweep the large-object space.
//! 3. **Plan**: visit the live block objects in order (blocks in allocation order, objects by
//!    address within a block) and give each the next free place, skipping to the next block
//!    when it does not fit. The header is saved aside and replaced by the forwarding address.
//!    Sliding preserves allocation order, so objects allocated together stay together.
//! 4. **Update** every recorded slot (in the root, the handles, live block and large objects)
//!    to the forwarding address.
//! 5. **Move** each object to its place (`memmove`: a destination never lies after its
//!    source), restore its header, and clear the bitmaps. Blocks past the last destination are
//!    empty and go back.
//!
//! Afterwards the blocks holding objects have no holes: fragmentation is zero by construction
//! (alignment padding aside).

use std::mem::take;

use super::weak::{self, FullLiveness, WeakWork};
use super::{trace_object, DropPanics, Mode, RootTracer};
use crate::heap::Heap;
use crate::identity::AddrMap;
use crate::raw::{
    fill, place, prefetch, type_info_of_word, ObjPtr, FORWARDED, LARGE, MARKED, PINNED, REMEMBERED,
    WORD,
};
use crate::space::block::{Block, Geometry};
use crate::trace::Tracer;

pub(crate) struct Marker {
    pub(crate) geom: Geometry,
    pub(crate) stack: Vec<ObjPtr>,
    /// Strong slots traced outside the heap's objects (the root, handles, buffers objects own).
    slots: Vec<usize>,
    /// The slot bitmaps of the large objects traced (block objects use their block's).
    large_slots: AddrMap<Vec<u64>>,
    /// The object being traced, `[container, container_end)`, and whether it is large.
    container: usize,
    container_end: usize,
    container_large: bool,
    /// Objects reached but not yet marked: their headers are being prefetched (see `mark`).
    pending: [Option<ObjPtr>; PREFETCH_DISTANCE],
    next_pending: usize,
    pub(crate) weak: WeakWork,
}

/// How many objects are in flight between being reached and being marked. A depth-first
/// trace reads a child's header right after the parent's: with nothing in between, every
/// far child is a cache miss the marker waits for (60% of marking time on an 8-million-node
/// tree). Delaying the mark by this many objects, with a prefetch when reached, overlaps the
/// misses (Cher, Hosking and Vijaykumar, "Software prefetching for mark-sweep garbage
/// collection", ASPLOS 2004).
const PREFETCH_DISTANCE: usize = 32;

impl Marker {
    /// Records a strong slot for the update phase, then marks its target.
    #[inline(always)]
    pub(crate) fn visit(&mut self, slot: &mut ObjPtr) {
        let addr = slot as *mut ObjPtr as usize;
        if addr.wrapping_sub(self.container) < self.container_end - self.container {
            if self.container_large {
                let bits =
                    self.large_slots.get_mut(&self.container).expect("registered when popped");
                let index = (addr - self.container) / WORD;
                bits[index / 64] |= 1u64 << (index % 64);
            } else {
                // SAFETY: the slot lies in the block object being traced.
                unsafe { self.geom.block_of(ObjPtr::from_addr(addr)).set_slot(&self.geom, addr) };
            }
        } else {
            self.slots.push(addr);
        }
        self.reach(*slot)
    }

    /// Queues `obj` to be marked once its header has (probably) arrived in the cache.
    #[inline(always)]
    fn reach(&mut self, obj: ObjPtr) {
        prefetch(obj.addr());
        let slot = &mut self.pending[self.next_pending];
        self.next_pending = (self.next_pending + 1) % PREFETCH_DISTANCE;
        if let Some(earlier) = slot.replace(obj) {
            self.mark(earlier);
        }
    }

    /// Marks every object still queued; returns whether there were any.
    fn flush_pending(&mut self) -> bool {
        let mut any = false;
        for i in 0..PREFETCH_DISTANCE {
            if let Some(obj) = self.pending[i].take() {
                self.mark(obj);
                any = true;
            }
        }
        any
    }

    #[inline(always)]
    fn mark(&mut self, obj: ObjPtr) {
        // SAFETY: a pointer held by a live object designates a live object.
        let word = unsafe { obj.header() };
        debug_assert!(word & FORWARDED == 0, "marking reached a forwarded object {obj:?}");
        // SAFETY: not forwarded: the word holds the type.
        let info = unsafe { type_info_of_word(word) };
        if word & LARGE != 0 {
            if word & MARKED == 0 {
                // SAFETY: the collector owns the heap.
                unsafe { obj.set_header(word | MARKED) };
                if info.trace.is_some() {
                    self.stack.push(obj);
                }
            }
            return;
        }
        let block = self.geom.block_of(obj);
        // SAFETY: `obj` is in one of our blocks; no reference to its bitmap is live.
        if unsafe { block.mark(obj.addr()) } {
            // SAFETY: a block object; its metadata is ours.
            unsafe { block.meta().live += obj.size_with(info) };
            if info.trace.is_some() {
                self.stack.push(obj);
            }
        }
    }
}

/// Marks everything reachable from the objects queued so far.
fn drain_marks(tracer: &mut Tracer<'_>) {
    loop {
        let Mode::Mark(marker) = &mut tracer.mode else { unreachable!() };
        let Some(obj) = marker.stack.pop() else {
            if marker.flush_pending() {
                continue;
            }
            break;
        };
        // SAFETY: a marked, live object; the collector owns the heap.
        let (info, large) = unsafe { (obj.type_info(), obj.header() & LARGE != 0) };
        // SAFETY: as above.
        let size = unsafe { obj.size_with(info) };
        marker.container = obj.addr();
        marker.container_end = obj.addr() + size;
        marker.container_large = large;
        if large {
            marker
                .large_slots
                .entry(obj.addr())
                .or_insert_with(|| vec![0; (size / WORD).div_ceil(64)]);
        }
        // SAFETY: as above.
        unsafe { trace_object(obj, info, tracer) };
    }
    let Mode::Mark(marker) = &mut tracer.mode else { unreachable!() };
    marker.container = 0;
    marker.container_end = 0;
}

/// What a full collection measured.
pub(crate) struct FullOutcome {
    /// Bytes live in blocks and large objects.
    pub(crate) live: usize,
    /// Holes ÷ bytes of blocks holding live data, before compaction.
    pub(crate) fragmentation_before: f64,
    /// The same after compaction (alignment padding only).
    pub(crate) fragmentation_after: f64,
}

pub(crate) fn collect(
    heap: &mut Heap,
    roots: RootTracer<'_>,
    panics: &mut DropPanics,
) -> Result<FullOutcome, Box<dyn std::any::Any + Send>> {
    let state = heap.state.get_mut();
    debug_assert!(
        heap.nursery.used() == 0 && state.remembered.is_empty() && state.cards.is_empty()
    );
    let geom = state.old.geom;
    state.pins.release_dropped();

    // 1. Mark.
    for &block in &state.old.blocks {
        // SAFETY: our block; bitmaps are clear between full collections.
        unsafe { block.meta().live = 0 };
    }
    // Left empty by the last collection, completed or abandoned (see `minor::collect`).
    debug_assert!(state.weak.is_empty() && state.stack.is_empty());
    let mut slots = take(&mut state.slot_addrs);
    slots.clear();
    let mut tracer = Tracer::new(Mode::Mark(Marker {
        geom,
        stack: take(&mut state.stack),
        slots,
        large_slots: AddrMap::default(),
        container: 0,
        container_end: 0,
        container_large: false,
        pending: [None; PREFETCH_DISTANCE],
        next_pending: 0,
        weak: take(&mut state.weak),
    }));
    let traced = DropPanics::catch_result(|| {
        roots(&mut tracer);
        state.handles.trace(&mut tracer);
        weak::fixpoint(&mut tracer, &mut drain_marks);
    });
    let Mode::Mark(mut marker) = tracer.mode else { unreachable!() };
    if let Err(payload) = traced {
        // Nothing but marks changed: clear them, and the heap is as it was.
        for &block in &state.old.blocks {
            // SAFETY: our blocks and large objects; no object has moved.
            unsafe {
                block.marks(&geom).fill(0);
                block.slot_words(&geom).fill(0);
            }
        }
        for large in &state.los.objects {
            // SAFETY: as above.
            unsafe { large.obj.set_header(large.obj.header() & !MARKED) };
        }
        marker.stack.clear();
        marker.pending = [None; PREFETCH_DISTANCE];
        marker.slots.clear();
        marker.weak.clear();
        state.stack = marker.stack;
        state.slot_addrs = marker.slots;
        state.weak = marker.weak;
        return Err(payload);
    }
    let guard = super::AbortOnUnwind;
    let blocks = take(&mut state.old.blocks);
    let live = FullLiveness { geom };
    weak::commit(&mut marker.weak, &live, &|place| place.addr, false, panics);
    state.identities.after_mark(&live);
    state.finalizers.after_mark(&live);
    #[cfg(feature = "leak-debug")]
    {
        state.births.after_mark(&live);
        state.watches.after_mark(&live);
    }
    state.pins.after_mark(&live);
    state.stack = take(&mut marker.stack);

    let mut holes = 0;
    let mut capacity_with_live = 0;
    let mut live_in_blocks = 0;
    for &block in &blocks {
        // SAFETY: our block.
        let meta = unsafe { block.meta() };
        live_in_blocks += meta.live;
        if meta.live > 0 {
            holes += meta.top - block.data_start(&geom) - meta.live;
            capacity_with_live += geom.capacity();
        }
    }
    let fragmentation_before = ratio(holes, capacity_with_live);

    // 2. Destructors of the dead.
    for &block in &blocks {
        // SAFETY: our block.
        if !unsafe { block.meta() }.has_drop {
            continue;
        }
        // SAFETY: headers are intact until the plan phase; the bitmap tells the live.
        unsafe {
            walk(block, &geom, |obj, info, _| {
                if let Some(drop) = info.drop {
                    if !block.is_marked(obj.addr()) {
                        panics.run(drop, obj);
                    }
                }
            });
        }
    }
    let mut live_large = 0;
    state.los.sweep(|obj| {
        // SAFETY: large objects are valid; an unmarked one is dead and dropped here once.
        unsafe {
            let word = obj.header();
            if word & MARKED != 0 {
                obj.set_header(word & !MARKED);
                live_large += obj.size();
                return false;
            }
            if let Some(drop) = type_info_of_word(word).drop {
                panics.run(drop, obj);
            }
            true
        }
    });

    // The dense prefix: leading blocks without a single dead byte stay as they are (their
    // objects would slide onto themselves). When every block is dense nothing moves at all,
    // and no reference needs updating.
    let prefix = blocks
        .iter()
        // SAFETY: our blocks.
        .take_while(|b| unsafe { b.meta() }.live == unsafe { b.meta() }.top - b.data_start(&geom))
        .count();
    let compacted = &blocks[prefix..];

    // 3. Plan. Pinned objects stay where they are, and the others slide around them.
    let mut pinned: Vec<Vec<(usize, usize)>> = vec![Vec::new(); compacted.len()];
    for entry in state.pins.iter() {
        let obj = entry.obj;
        // SAFETY: pinned objects in the table are live (the dead were dropped after marking).
        let word = unsafe { obj.header() };
        if word & LARGE == 0 {
            if let Some(i) = compacted.iter().position(|b| *b == geom.block_of(obj)) {
                // SAFETY: as above.
                let size = unsafe { obj.size() };
                pinned[i].push((obj.addr(), obj.addr() + size));
            }
        }
    }
    for list in &mut pinned {
        list.sort_unstable();
        list.dedup();
    }
    let mut saved = take(&mut state.saved_headers);
    saved.clear();
    let mut tops: Vec<usize> = compacted.iter().map(|b| b.data_start(&geom)).collect();
    // Free space the moves leave below a block's top (alignment, room before a pinned
    // object): filled once every object has moved, so that blocks parse.
    let mut gaps: Vec<(usize, usize)> = Vec::new();
    let mut dest = 0;
    let mut next_pinned = 0;
    let mut cursor = compacted.first().map_or(0, |b| b.data_start(&geom));
    for (source, &block) in compacted.iter().enumerate() {
        // SAFETY: our block; the closure does not touch the bitmap.
        unsafe {
            block.for_each_marked(&geom, |addr| {
                // A marked bit is the header of a live object, not yet forwarded.
                let obj = ObjPtr::from_addr(addr);
                let word = obj.header();
                let info = type_info_of_word(word);
                let size = obj.size_with(info);
                saved.push(word & !(REMEMBERED | MARKED));
                if word & PINNED != 0 {
                    obj.set_header(addr | FORWARDED);
                    tops[source] = tops[source].max(addr + size);
                    return;
                }
                let at = loop {
                    let at = place(cursor, info.payload_offset(), info.align);
                    if at + size > compacted[dest].end(&geom) {
                        pass_pinned(&pinned[dest][next_pinned..], &mut cursor, &mut gaps);
                        tops[dest] = tops[dest].max(cursor);
                        dest += 1;
                        next_pinned = 0;
                        cursor = compacted[dest].data_start(&geom);
                        continue;
                    }
                    if let Some(&(start, end)) = pinned[dest].get(next_pinned) {
                        if at + size > start {
                            gaps.push((cursor, start));
                            cursor = end;
                            next_pinned += 1;
                            continue;
                        }
                    }
                    break at;
                };
                debug_assert!(
                    dest < source || dest == source && at <= addr,
                    "sliding would move {obj:?} forward"
                );
                if at > cursor {
                    gaps.push((cursor, at));
                }
                obj.set_header(at | FORWARDED);
                cursor = at + size;
                tops[dest] = cursor;
            })
        };
    }
    // Pinned objects past the last object placed: their blocks keep them, and the room in
    // front of them.
    for (i, list) in pinned.iter().enumerate().skip(dest) {
        let mut at = if i == dest { cursor } else { compacted[i].data_start(&geom) };
        pass_pinned(&list[if i == dest { next_pinned } else { 0 }..], &mut at, &mut gaps);
        tops[i] = tops[i].max(at);
    }

    state.identities.after_plan();
    state.finalizers.after_plan();
    #[cfg(feature = "leak-debug")]
    {
        state.births.after_plan();
        state.watches.after_plan();
    }

    // 4. Update every recorded slot: in the blocks' slot bitmaps, the large objects' bitmaps,
    // the list of slots outside the heap, and the weak slots whose target lives.
    let fix = |slot: usize| {
        // SAFETY: a recorded slot of a live object, the root or a handle, holding a pointer to
        // a live object whose header is its type or a forwarding word.
        unsafe {
            let slot = slot as *mut ObjPtr;
            let word = (*slot).header();
            if word & FORWARDED != 0 {
                *slot = ObjPtr::from_addr(word & !FORWARDED);
            }
        }
    };
    let moving = !compacted.is_empty();
    for &block in &blocks {
        // SAFETY: our block; its slot bitmap is read and cleared.
        unsafe {
            if moving {
                block.drain_slots(&geom, fix);
            } else {
                block.slot_words(&geom).fill(0);
            }
        }
    }
    if moving {
        for (&start, bits) in &marker.large_slots {
            for (index, &word) in bits.iter().enumerate() {
                let mut rest = word;
                while rest != 0 {
                    fix(start + (index * 64 + rest.trailing_zeros() as usize) * WORD);
                    rest &= rest - 1;
                }
            }
        }
        marker
            .slots
            .iter()
            .copied()
            .chain(marker.weak.slots.iter().map(|place| place.addr))
            .for_each(fix);
    }
    marker.slots.clear();
    marker.weak.clear();
    state.slot_addrs = marker.slots;
    state.weak = marker.weak;

    // 5. Move.
    for (&block, &top) in compacted.iter().zip(&tops) {
        // SAFETY: our block; the flags are set again for the objects that land in it. Objects
        // and gaps land below the planned top, which may lie above the current one (in the
        // free tail an earlier collection left): that space is claimed before anything is
        // written there, and the top comes down to the planned one after the moves.
        unsafe {
            block.meta().has_drop = false;
            block.claim_to(block.meta().top.max(top));
        }
    }
    let mut index = 0;
    for &block in compacted {
        // SAFETY: `obj` is a live object with a forwarding word; `to` is its planned place,
        // at or before it (in block order), clear of pinned objects, and every object before
        // it has already moved out of the way. The bitmap is only read until it is cleared
        // after the block.
        unsafe {
            block.for_each_marked(&geom, |addr| {
                let obj = ObjPtr::from_addr(addr);
                let to = ObjPtr::from_addr(obj.header() & !FORWARDED);
                let word = saved[index];
                index += 1;
                let info = type_info_of_word(word);
                if to != obj {
                    std::ptr::copy(obj.as_ptr(), to.as_ptr(), obj.size_with(info) / WORD);
                }
                to.set_header(word);
                if info.drop.is_some() {
                    geom.block_of(to).meta().has_drop = true;
                }
            });
            block.marks(&geom).fill(0);
        }
    }
    for &block in &blocks[..prefix] {
        // SAFETY: our block.
        unsafe { block.marks(&geom) }.fill(0);
    }
    let mut padding = 0;
    for &(from, to) in &gaps {
        padding += to - from;
        // SAFETY: planned free space below a block's top; every object has moved.
        unsafe { fill(from, to) };
    }
    let mut kept: Vec<Block> = blocks[..prefix].to_vec();
    let mut released = Vec::new();
    for (&block, &top) in compacted.iter().zip(&tops) {
        // SAFETY: our block; every object has moved below `top`, so what is above it is free.
        unsafe { block.free_from(top) };
        if top > block.data_start(&geom) {
            kept.push(block);
        } else {
            released.push(block);
        }
    }
    let zap = crate::debug::zapping(state.config.verify);
    if zap {
        for &block in &kept {
            // SAFETY: the tail above a block's top holds nothing.
            unsafe { crate::debug::zap(block.meta().top, block.end(&geom)) };
        }
    }
    let kept_blocks = kept.len();
    state.saved_headers = saved;
    state.old.replace_blocks(kept, released, zap);
    drop(guard);

    Ok(FullOutcome {
        live: live_in_blocks + live_large,
        fragmentation_before,
        fragmentation_after: ratio(padding, kept_blocks * geom.capacity()),
    })
}

/// Moves `cursor` past the pinned objects of `pinned` (sorted), recording the room in front of
/// each as a gap to fill.
fn pass_pinned(pinned: &[(usize, usize)], cursor: &mut usize, gaps: &mut Vec<(usize, usize)>) {
    for &(start, end) in pinned {
        if start > *cursor {
            gaps.push((*cursor, start));
        }
        *cursor = (*cursor).max(end);
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Calls `f(object, type, size)` for each object of `block`, in address order.
///
/// # Safety
/// Every header in `[data_start, top)` holds a type (none is forwarded).
pub(crate) unsafe fn walk(
    block: Block,
    geom: &Geometry,
    mut f: impl FnMut(ObjPtr, &'static crate::raw::TypeInfo, usize),
) {
    let mut at = block.data_start(geom);
    // SAFETY: our block.
    let top = unsafe { block.meta() }.top;
    while at < top {
        // SAFETY: precondition: the range parses as objects.
        unsafe {
            let obj = ObjPtr::from_addr(at);
            let info = obj.type_info();
            let size = obj.size_with(info);
            f(obj, info, size);
            at += size;
        }
    }
}
