//! Full collection: mark the old generation and the large objects, then slide the live block
//! objects together (Lisp-2 style sliding compaction, in block order).
//!
//! Runs right after a minor collection, so the nursery is empty and the remembered set clear.
//!
//! 1. **Mark** from the root and the handles with an explicit stack: block objects in their
//!    block's side bitmap (adding up live bytes per block), large objects in their header.
//! 2. **Drop** the dead: walk the blocks that hold objects with destructors, run those of the
//!    unmarked ones; sweep the large-object space.
//! 3. **Plan**: visit the live block objects in order (blocks in allocation order, objects by
//!    address within a block) and give each the next free place, skipping to the next block
//!    when it does not fit. The header is saved aside and replaced by the forwarding address.
//!    Sliding preserves allocation order, so objects allocated together stay together.
//! 4. **Update** every reference (root, handles, live block and large objects) to the
//!    forwarding address.
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
use crate::raw::{fill, place, type_info_of_word, ObjPtr, FORWARDED, LARGE, MARKED, REMEMBERED};
use crate::space::block::{Block, Geometry};
use crate::trace::Tracer;

pub(crate) struct Marker {
    pub(crate) geom: Geometry,
    pub(crate) stack: Vec<ObjPtr>,
    pub(crate) weak: WeakWork,
}

impl Marker {
    #[inline(always)]
    pub(crate) fn visit(&mut self, obj: ObjPtr) {
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
        let Some(obj) = marker.stack.pop() else { break };
        // SAFETY: a marked, live object; the collector owns the heap.
        unsafe { trace_object(obj, obj.type_info(), tracer) };
    }
}

/// Update mode: a forwarded object has moved (or will have, once the move phase ran).
#[inline(always)]
pub(crate) fn update(slot: &mut ObjPtr) {
    // SAFETY: a pointer held by a live object designates a live object, whose header is now
    // a forwarding word (block objects) or its type (large objects).
    let word = unsafe { slot.header() };
    if word & FORWARDED != 0 {
        // SAFETY: the forwarding word holds the new address.
        *slot = unsafe { ObjPtr::from_addr(word & !FORWARDED) };
    }
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
) -> FullOutcome {
    let state = heap.state.get_mut();
    debug_assert!(heap.nursery.used() == 0 && state.remembered.is_empty());
    let geom = state.old.geom;
    let blocks = take(&mut state.old.blocks);

    // 1. Mark.
    for &block in &blocks {
        // SAFETY: our block; bitmaps are clear between full collections.
        unsafe { block.meta().live = 0 };
    }
    let mut tracer = Tracer::new(Mode::Mark(Marker {
        geom,
        stack: take(&mut state.stack),
        weak: take(&mut state.weak),
    }));
    roots(&mut tracer);
    state.handles.trace(&mut tracer);
    let live = FullLiveness { geom };
    weak::finish(&mut tracer, &live, &mut drain_marks);
    state.identities.after_mark(&live);
    state.finalizers.after_mark(&live);
    let Mode::Mark(mut marker) = tracer.mode else { unreachable!() };
    state.stack = marker.stack;
    marker.weak.clear();
    state.weak = marker.weak;

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

    // 3. Plan.
    let mut saved = take(&mut state.saved_headers);
    saved.clear();
    let mut dest_index = prefix;
    let mut cursor = compacted.first().map_or(0, |b| b.data_start(&geom));
    for (source_index, &block) in compacted.iter().enumerate().map(|(i, b)| (i + prefix, b)) {
        // SAFETY: our block; the closure does not touch the bitmap.
        unsafe {
            block.for_each_marked(&geom, |addr| {
                // A marked bit is the header of a live object, not yet forwarded.
                let obj = ObjPtr::from_addr(addr);
                let word = obj.header();
                let info = type_info_of_word(word);
                let size = obj.size_with(info);
                let mut at = place(cursor, info.payload_offset(), info.align);
                while at + size > blocks[dest_index].end(&geom) {
                    dest_index += 1;
                    cursor = blocks[dest_index].data_start(&geom);
                    at = place(cursor, info.payload_offset(), info.align);
                }
                debug_assert!(
                    dest_index < source_index || dest_index == source_index && at <= addr,
                    "sliding would move {obj:?} forward"
                );
                saved.push(word & !(REMEMBERED | MARKED));
                obj.set_header(at | FORWARDED);
                cursor = at + size;
            })
        };
    }

    state.identities.after_plan();
    state.finalizers.after_plan();

    // 4. Update.
    if !compacted.is_empty() {
        let mut tracer = Tracer::new(Mode::Update);
        roots(&mut tracer);
        state.handles.trace(&mut tracer);
        for &block in &blocks[..prefix] {
            // SAFETY: a live object in a dense block, which keeps its header.
            unsafe {
                block.for_each_marked(&geom, |addr| {
                    let obj = ObjPtr::from_addr(addr);
                    trace_object(obj, obj.type_info(), &mut tracer);
                })
            };
        }
        let mut index = 0;
        for &block in compacted {
            // SAFETY: a live object at its old place; its saved header gives its type, and
            // its payload (and length word) are intact.
            unsafe {
                block.for_each_marked(&geom, |addr| {
                    trace_object(
                        ObjPtr::from_addr(addr),
                        type_info_of_word(saved[index]),
                        &mut tracer,
                    );
                    index += 1;
                })
            };
        }
        for large in &state.los.objects {
            // SAFETY: every large object left after the sweep is live.
            unsafe { trace_object(large.obj, large.obj.type_info(), &mut tracer) };
        }
    }

    // 5. Move.
    let mut index = 0;
    let mut dest: Option<Block> = None;
    let mut dest_cursor = 0;
    let mut padding = 0;
    for &block in compacted {
        // SAFETY: `obj` is a live object with a forwarding word; `to` is its planned place,
        // at or before it, and every object before it has already moved out of the way. The
        // bitmap is only read until it is cleared after the block.
        unsafe {
            block.for_each_marked(&geom, |addr| {
                let obj = ObjPtr::from_addr(addr);
                let to = ObjPtr::from_addr(obj.header() & !FORWARDED);
                let word = saved[index];
                index += 1;
                let info = type_info_of_word(word);
                let size = obj.size_with(info);
                let to_block = geom.block_of(to);
                if dest != Some(to_block) {
                    if let Some(prev) = dest {
                        prev.meta().top = dest_cursor;
                    }
                    dest = Some(to_block);
                    dest_cursor = to_block.data_start(&geom);
                    to_block.meta().has_drop = false;
                }
                if to.addr() > dest_cursor {
                    padding += to.addr() - dest_cursor;
                    fill(dest_cursor, to.addr());
                }
                if to != obj {
                    std::ptr::copy(obj.as_ptr().cast::<u8>(), to.as_ptr().cast::<u8>(), size);
                }
                to.set_header(word);
                dest_cursor = to.addr() + size;
                if info.drop.is_some() {
                    to_block.meta().has_drop = true;
                }
            });
            block.marks(&geom).fill(false);
        }
    }
    for &block in &blocks[..prefix] {
        // SAFETY: our block.
        unsafe { block.marks(&geom) }.fill(false);
    }
    let keep = match dest {
        Some(last) => {
            // SAFETY: our block.
            unsafe { last.meta().top = dest_cursor };
            blocks.iter().position(|&b| b == last).expect("destination is one of ours") + 1
        }
        None => prefix,
    };
    for &block in &blocks[keep..] {
        // SAFETY: our block, now empty; its bitmap is clear.
        unsafe { block.reset(&geom) };
    }
    let zap = state.config.verify;
    if zap {
        for &block in &blocks[..keep] {
            // SAFETY: the tail above a block's top holds nothing.
            unsafe { crate::debug::zap(block.meta().top, block.end(&geom)) };
        }
    }
    state.saved_headers = saved;
    state.old.blocks = blocks;
    state.old.truncate(keep, zap);

    FullOutcome {
        live: live_in_blocks + live_large,
        fragmentation_before,
        fragmentation_after: ratio(padding, keep * geom.capacity()),
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
