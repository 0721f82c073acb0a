//! Minor collection: evacuate the live nursery objects into the old generation.
//!
//! Two phases, so that user code (the `Trace` impls) never runs while the heap is half-updated:
//!
//! 1. **Trace and copy** from the roots: the arena root, the handles, the remembered set (old
//!    and large objects written since the last collection) and the old-generation ranges the
//!    mutator filled while the nursery was full. Each nursery object reached is copied into the
//!    old generation (depth first, from an explicit stack: objects reached together are placed
//!    together), its header becomes a forwarding word, and the *original* is traced. No slot
//!    is rewritten yet; each slot that points into the nursery is recorded: in a bitmap if it
//!    lies inside a young object (one bit per word, no memory per pointer), in a list
//!    otherwise (the root, old objects, buffers that objects own outside the heap). Ephemerons
//!    are resolved to a fixpoint. If a `Trace` impl panics (or memory for the copies cannot be
//!    mapped), the forwarding words are undone from the copies, which hold the original
//!    headers, and the old generation is rewound: the heap is exactly as before.
//! 2. **Commit**: rewrite every recorded slot (a slot inside a young object is rewritten in its
//!    copy); clear or redirect weak slots; drop the dead objects that have destructors (listed
//!    at allocation); empty the nursery.
//!
//! The work is proportional to the survivors and the pointers to them, not to the nursery's
//! size.

use std::io;

use super::weak::{self, MinorLiveness, Place, WeakWork};
use super::{cards, trace_object, DropPanics, Mode, RootTracer};
use crate::heap::{Heap, HeapState};
use crate::raw::{copy_object, type_info_of_word, ObjPtr, FORWARDED, REMEMBERED, WORD};
use crate::space::old_gen::OldGen;
use crate::trace::Tracer;

/// The tracing phase's state.
pub(crate) struct YoungMarker<'a> {
    pub(crate) nursery_start: usize,
    pub(crate) nursery_len: usize,
    old: &'a mut OldGen,
    /// One bit per word of the nursery's used part: the object starting there was copied.
    marks: Vec<u64>,
    /// One bit per word of the nursery's used part: the word is a slot, inside a live young
    /// object, that points into the nursery.
    slot_bits: Vec<u64>,
    stack: Vec<ObjPtr>,
    /// Slots outside the nursery that point into it.
    slots: Vec<usize>,
    /// The young object being traced, `[container, container_end)` (0 for roots and old
    /// objects).
    pub(crate) container: usize,
    pub(crate) container_end: usize,
    pub(crate) weak: WeakWork,
    promoted: usize,
    /// Set if the old generation could not take a copy: tracing stops, and the collection is
    /// undone.
    failed: Option<io::Error>,
}

impl YoungMarker<'_> {
    #[inline(always)]
    pub(crate) fn is_young(&self, obj: ObjPtr) -> bool {
        obj.addr().wrapping_sub(self.nursery_start) < self.nursery_len
    }

    pub(crate) fn is_marked_or_old(&self, obj: ObjPtr) -> bool {
        if !self.is_young(obj) {
            return true;
        }
        let (word, mask) = self.bit(obj);
        self.marks[word] & mask != 0
    }

    #[inline(always)]
    fn bit(&self, obj: ObjPtr) -> (usize, u64) {
        let index = (obj.addr() - self.nursery_start) / WORD;
        (index / 64, 1u64 << (index % 64))
    }

    /// The place of a slot at `addr`, translated to the container's copy if it is young.
    pub(crate) fn place(&self, addr: usize) -> Place {
        Place { container: self.container, addr }
    }

    #[inline(always)]
    pub(crate) fn visit(&mut self, slot: &mut ObjPtr) {
        let target = *slot;
        if !self.is_young(target) {
            return;
        }
        let addr = slot as *mut ObjPtr as usize;
        if addr.wrapping_sub(self.container) < self.container_end - self.container {
            let index = (addr - self.nursery_start) / WORD;
            self.slot_bits[index / 64] |= 1u64 << (index % 64);
        } else {
            debug_assert!(
                !self.is_young(ObjPtr::from_addr_checked(addr)),
                "a slot in the nursery outside the object being traced"
            );
            self.slots.push(addr);
        }
        let (word, mask) = self.bit(target);
        if self.marks[word] & mask == 0 {
            self.marks[word] |= mask;
            self.stack.push(target);
        }
    }

    /// Copies `obj` into the old generation and leaves a forwarding word; false if the old
    /// generation cannot grow.
    fn copy(&mut self, obj: ObjPtr) -> bool {
        // SAFETY: a marked young object, not yet copied: its header is its type.
        let info = unsafe { obj.type_info() };
        // SAFETY: as above; a slice's length word follows its header.
        let size = unsafe { obj.size_with(info) };
        let copy = match self.old.alloc(size, info.payload_offset(), info.align) {
            Ok(copy) => copy,
            Err(err) => {
                self.failed = Some(err);
                return false;
            }
        };
        // SAFETY: `copy` is fresh old-generation space of `size` bytes, `obj` is `size` bytes
        // of nursery; the original's header becomes the forwarding word (the copy keeps it).
        unsafe {
            copy_object(obj, copy, size);
            obj.set_header(copy.addr() | FORWARDED);
        }
        if info.drop.is_some() {
            // SAFETY: the block is ours; no other reference to its metadata is live.
            unsafe { self.old.geom.block_of(copy).meta().has_drop = true };
        }
        self.promoted += size;
        true
    }
}

/// Runs a minor collection; returns the bytes promoted. If a `Trace` impl panics, or the old
/// generation cannot grow, the heap is left as it was and the panic (or a message) returned.
pub(crate) fn collect(
    heap: &mut Heap,
    roots: RootTracer<'_>,
    panics: &mut DropPanics,
) -> Result<usize, Box<dyn std::any::Any + Send>> {
    let nursery = &mut heap.nursery;
    let state = heap.state.get_mut();
    let used = nursery.used();
    // The thread may have moved to another node since the last collection: the nursery
    // follows it (and the copies below go to blocks of its node).
    state.old.placer.check_nursery(nursery.start, nursery.committed());

    // 1. Trace and copy.
    let bitmap_words = used.div_ceil(WORD * 64);
    let mut marks = std::mem::take(&mut state.young_marks);
    marks.clear();
    marks.resize(bitmap_words, 0);
    let mut slot_bits = std::mem::take(&mut state.young_slots);
    slot_bits.clear();
    slot_bits.resize(bitmap_words, 0);
    // Left empty by the last collection, completed or abandoned: a slot recorded by an
    // abandoned one would be rewritten in an object that may since have died.
    debug_assert!(state.weak.is_empty() && state.slot_addrs.is_empty() && state.stack.is_empty());
    let overflow = state.old.overflow_ranges();
    let checkpoint = state.old.checkpoint();
    let mut tracer = Tracer::new(Mode::Minor(YoungMarker {
        nursery_start: nursery.start,
        nursery_len: nursery.reserved(),
        old: &mut state.old,
        marks,
        slot_bits,
        stack: std::mem::take(&mut state.stack),
        slots: std::mem::take(&mut state.slot_addrs),
        container: 0,
        container_end: 0,
        weak: std::mem::take(&mut state.weak),
        promoted: 0,
        failed: None,
    }));
    let handles = &mut state.handles;
    let remembered = &state.remembered;
    let cards = &state.cards;
    let traced = DropPanics::catch_result(|| {
        // The roots' children go on the stack in order, to be copied first to last (see
        // `drain`): the root's own order survives promotion.
        in_order(&mut tracer, |tracer| roots(tracer));
        in_order(&mut tracer, |tracer| handles.trace(tracer));
        for &obj in remembered {
            // SAFETY: remembered objects are live old or large objects.
            in_order(&mut tracer, |tracer| unsafe { trace_object(obj, obj.type_info(), tracer) });
        }
        for (&addr, bits) in cards {
            // SAFETY: card-marked objects are live old or large slices (the barrier checked),
            // not forwarded: nothing has moved yet.
            let obj = unsafe { ObjPtr::from_addr(addr) };
            // SAFETY: as above.
            let (word, len) = unsafe { (obj.header(), obj.slice_len()) };
            if word & REMEMBERED == 0 {
                // SAFETY: as above; `bits` is this slice's.
                in_order(&mut tracer, |tracer| unsafe {
                    cards::trace_dirty(obj, type_info_of_word(word), len, bits, tracer)
                });
            }
        }
        for &(start, end) in &overflow {
            let mut at = start;
            while at < end {
                // SAFETY: `[start, end)` is a range of complete objects the mutator allocated.
                unsafe {
                    let obj = ObjPtr::from_addr(at);
                    let info = obj.type_info();
                    at += obj.size_with(info);
                    trace_object(obj, info, &mut tracer);
                }
            }
        }
        weak::fixpoint(&mut tracer, &mut drain);
    });
    let Mode::Minor(mut marker) = tracer.mode else { unreachable!() };
    let failure = match (traced, marker.failed.take()) {
        (Err(payload), _) => Some(payload),
        (Ok(()), Some(err)) => Some(Box::new(format!(
            "gc-core: out of memory promoting the survivors of a minor collection: {err}"
        )) as Box<dyn std::any::Any + Send>),
        (Ok(()), None) => None,
    };
    if let Some(payload) = failure {
        undo(&mut marker, nursery.start);
        marker.old.rewind(checkpoint);
        let scratch = marker.into_scratch();
        give_back(state, scratch);
        return Err(payload);
    }

    // 2. Commit.
    let guard = super::AbortOnUnwind;
    let promoted = marker.promoted;
    let live = MinorLiveness { nursery_start: nursery.start, nursery_len: nursery.reserved() };
    // The slots inside the copies (found through the slot bitmap, object by object), then
    // the slots elsewhere.
    let fix = |slot: *mut ObjPtr| {
        // SAFETY: a recorded slot, at its current address, pointing at a copied young object.
        unsafe {
            let target = *slot;
            if target.addr().wrapping_sub(live.nursery_start) < live.nursery_len {
                *slot = ObjPtr::from_addr(target.header() & !FORWARDED);
            }
        }
    };
    // Walk the slot bitmap and the mark bitmap together, in address order: each slot belongs
    // to the last object that starts at or before it, and is rewritten in that object's copy.
    // Objects without slots (strings, byte arrays) are never touched.
    let mut starts = MarkedStarts::new(&marker.marks);
    let mut container = usize::MAX;
    let mut copy = 0;
    for (index, &word) in marker.slot_bits.iter().enumerate() {
        let mut rest = word;
        while rest != 0 {
            let slot = index * 64 + rest.trailing_zeros() as usize;
            rest &= rest - 1;
            let start = starts.last_at_or_before(slot);
            if start != container {
                container = start;
                // SAFETY: a copied object: its header is the forwarding word.
                copy = unsafe { *((nursery.start + start * WORD) as *const usize) } & !FORWARDED;
            }
            fix((copy + (slot - start) * WORD) as *mut ObjPtr);
        }
    }
    for &addr in &marker.slots {
        fix(addr as *mut ObjPtr);
    }
    let locate = |place: Place| -> usize {
        if place.addr.wrapping_sub(live.nursery_start) < live.nursery_len {
            // A slot inside a young object: now in its copy.
            // SAFETY: the container was copied, so it holds a forwarding word.
            let copy = unsafe { *(place.container as *const usize) } & !FORWARDED;
            copy + (place.addr - place.container)
        } else {
            place.addr
        }
    };
    weak::commit(&mut marker.weak, &live, &locate, true, panics);
    marker.old.clear_overflow();
    marker.slots.clear();
    let scratch = marker.into_scratch();
    give_back(state, scratch);
    state.identities.after_minor(&live);
    state.finalizers.after_minor(&live);
    #[cfg(feature = "leak-debug")]
    {
        state.births.after_minor(&live);
        state.watches.after_minor(&live);
    }
    for &obj in &state.remembered {
        // SAFETY: a live old or large object; clearing the bit re-arms the barrier.
        unsafe { obj.set_header(obj.header() & !REMEMBERED) };
    }
    state.remembered.clear();
    state.cards.clear();

    // Destructors of the nursery objects that did not survive.
    let mut drops = nursery.take_drops();
    for &obj in &drops {
        // SAFETY: listed nursery objects are valid objects; a forwarded one survived.
        unsafe {
            let word = obj.header();
            if word & FORWARDED == 0 {
                if let Some(drop) = type_info_of_word(word).drop {
                    panics.run(drop, obj);
                }
            }
        }
    }
    drops.clear();
    nursery.restore_drops(drops);
    // SAFETY: the samples are nursery objects of this cycle, and the nursery is not reset yet.
    unsafe { state.pretenure.review(nursery.start, used) };
    nursery.reset(crate::debug::zapping(state.config.verify));
    nursery.set_cap(state.pretenure.limit_cap());
    heap.tenured_sites.set(state.pretenure.filter());
    drop(guard);
    Ok(promoted)
}

/// The marked object starts in address order, for a walk that only moves forward.
struct MarkedStarts<'a> {
    marks: &'a [u64],
    /// The word of `marks` being read, and its bits not yet passed.
    index: usize,
    rest: u64,
    /// The last start passed.
    last: usize,
}

impl<'a> MarkedStarts<'a> {
    fn new(marks: &'a [u64]) -> Self {
        MarkedStarts { marks, index: 0, rest: marks.first().copied().unwrap_or(0), last: 0 }
    }

    /// The greatest marked start at or before `word` (calls must not go backwards).
    fn last_at_or_before(&mut self, word: usize) -> usize {
        loop {
            while self.rest == 0 {
                // The next word's starts all lie past `word`: stop before reading it.
                if self.index + 1 >= self.marks.len() || (self.index + 1) * 64 > word {
                    return self.last;
                }
                self.index += 1;
                self.rest = self.marks[self.index];
            }
            let next = self.index * 64 + self.rest.trailing_zeros() as usize;
            if next > word {
                return self.last;
            }
            self.last = next;
            self.rest &= self.rest - 1;
        }
    }
}

/// Calls `f(word index, address)` for each marked object, in address order.
fn for_each_marked(marks: &[u64], start: usize, mut f: impl FnMut(usize, usize)) {
    for (index, &word) in marks.iter().enumerate() {
        let mut rest = word;
        while rest != 0 {
            let first = index * 64 + rest.trailing_zeros() as usize;
            rest &= rest - 1;
            f(first, start + first * WORD);
        }
    }
}

/// Undoes the copies of an abandoned collection: every copied original gets its header back
/// from its copy. (The caller rewinds the old generation, freeing the copies.)
fn undo(marker: &mut YoungMarker<'_>, nursery_start: usize) {
    for_each_marked(&marker.marks, nursery_start, |_, original| {
        // SAFETY: a marked original; if it was copied, its forwarding word leads to the copy,
        // whose header is the original header.
        unsafe {
            let word = *(original as *const usize);
            if word & FORWARDED != 0 {
                *(original as *mut usize) = *((word & !FORWARDED) as *const usize);
            }
        }
    });
    marker.slots.clear();
    marker.stack.clear();
    marker.weak.clear();
}

/// The scratch buffers, kept in the heap between collections.
struct Scratch {
    marks: Vec<u64>,
    slot_bits: Vec<u64>,
    stack: Vec<ObjPtr>,
    slots: Vec<usize>,
    weak: WeakWork,
}

impl YoungMarker<'_> {
    fn into_scratch(self) -> Scratch {
        Scratch {
            marks: self.marks,
            slot_bits: self.slot_bits,
            stack: self.stack,
            slots: self.slots,
            weak: self.weak,
        }
    }
}

/// Returns the scratch buffers to the heap for the next collection.
fn give_back(state: &mut HeapState, scratch: Scratch) {
    state.young_marks = scratch.marks;
    state.young_slots = scratch.slot_bits;
    state.stack = scratch.stack;
    state.slot_addrs = scratch.slots;
    state.weak = scratch.weak;
}

/// Runs `trace`, then reverses what it pushed, so that the first child pushed is the first
/// taken off the stack.
fn in_order(tracer: &mut Tracer<'_>, trace: impl FnOnce(&mut Tracer<'_>)) {
    let Mode::Minor(marker) = &mut tracer.mode else { unreachable!() };
    let from = marker.stack.len();
    trace(tracer);
    let Mode::Minor(marker) = &mut tracer.mode else { unreachable!() };
    marker.stack[from..].reverse();
}

/// Copies and traces the marked objects until no more are left. Objects are copied when they
/// are taken off the stack, and each object's children are pushed so that the first is taken
/// first: the copies are laid out in depth-first preorder, children after their parent and
/// the first child's whole subtree before the second child (the order most traversals follow).
fn drain(tracer: &mut Tracer<'_>) {
    loop {
        let Mode::Minor(marker) = &mut tracer.mode else { unreachable!() };
        let Some(obj) = marker.stack.pop() else { break };
        if marker.failed.is_some() || !marker.copy(obj) {
            continue; // the collection will be undone
        }
        // SAFETY: a copied young object: its copy holds its header, its payload is intact.
        let info = unsafe { type_info_of_word(*((obj.header() & !FORWARDED) as *const usize)) };
        // SAFETY: as above (a slice's length word is intact).
        let size = unsafe { obj.size_with(info) };
        marker.container = obj.addr();
        marker.container_end = obj.addr() + size;
        // SAFETY: as above; nothing is rewritten while tracing.
        in_order(tracer, |tracer| unsafe { trace_object(obj, info, tracer) });
    }
    let Mode::Minor(marker) = &mut tracer.mode else { unreachable!() };
    marker.container = 0;
    marker.container_end = 0;
}
