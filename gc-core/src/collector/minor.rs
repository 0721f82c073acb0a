//! Minor collection: evacuate the live nursery objects into the old generation.
//!
//! Roots are the arena root, the handles, the remembered set (old and large objects written
//! since the last collection) and the old-generation ranges the mutator filled while the
//! nursery was full. Each nursery object reached is copied to the old generation once; its
//! header becomes a forwarding word, and every later reference to it is redirected. Copies are
//! scanned from an explicit stack, never by recursion. The work is proportional to the
//! survivors (plus the destructors of the dead, which are listed at allocation), not to the
//! nursery's size.

use super::weak::{self, MinorLiveness, WeakWork};
use super::{fatal, trace_object, DropPanics, Mode, RootTracer};
use crate::heap::Heap;
use crate::raw::{copy_object, type_info_of_word, ObjPtr, FORWARDED, REMEMBERED};
use crate::space::old_gen::OldGen;
use crate::trace::Tracer;

pub(crate) struct Evacuator<'a> {
    pub(crate) nursery_start: usize,
    pub(crate) nursery_len: usize,
    old: &'a mut OldGen,
    pub(crate) stack: Vec<ObjPtr>,
    pub(crate) weak: WeakWork,
    promoted: usize,
}

impl Evacuator<'_> {
    #[inline(always)]
    pub(crate) fn is_young(&self, obj: ObjPtr) -> bool {
        obj.addr().wrapping_sub(self.nursery_start) < self.nursery_len
    }

    #[inline(always)]
    pub(crate) fn visit(&mut self, slot: &mut ObjPtr) {
        if slot.addr().wrapping_sub(self.nursery_start) < self.nursery_len {
            // SAFETY: a pointer into the nursery held by a live object designates a nursery
            // object, evacuated (forwarded) or not.
            let word = unsafe { slot.header() };
            *slot = if word & FORWARDED != 0 {
                // SAFETY: a forwarding word holds the address of the copy.
                unsafe { ObjPtr::from_addr(word & !FORWARDED) }
            } else {
                self.evacuate(*slot, word)
            };
        }
    }

    fn evacuate(&mut self, obj: ObjPtr, word: usize) -> ObjPtr {
        // SAFETY: `word` is the header of a live, not yet forwarded nursery object.
        let info = unsafe { type_info_of_word(word) };
        // SAFETY: as above; a slice's length word follows its header.
        let size = unsafe { obj.size_with(info) };
        let copy = self.old.alloc(size, info.payload_offset(), info.align).unwrap_or_else(|err| {
            fatal(format_args!("out of memory promoting {size} bytes: {err}"))
        });
        // SAFETY: `copy` is fresh old-generation space of `size` bytes, `obj` is `size` bytes of
        // nursery; they do not overlap. The old header becomes the forwarding word.
        unsafe {
            copy_object(obj, copy, size);
            obj.set_header(copy.addr() | FORWARDED);
        }
        if info.trace.is_some() {
            self.stack.push(copy);
        }
        if info.drop.is_some() {
            // SAFETY: the block is ours; no other reference to its metadata is live.
            unsafe { self.old.geom.block_of(copy).meta().has_drop = true };
        }
        self.promoted += size;
        copy
    }
}

/// Runs a minor collection; returns the bytes promoted.
pub(crate) fn collect(heap: &mut Heap, roots: RootTracer<'_>, panics: &mut DropPanics) -> usize {
    let nursery = &mut heap.nursery;
    let state = heap.state.get_mut();
    let overflow = state.old.take_overflow();
    let mut remembered = std::mem::take(&mut state.remembered);
    let mut tracer = Tracer::new(Mode::Minor(Evacuator {
        nursery_start: nursery.start,
        nursery_len: nursery.reserved(),
        old: &mut state.old,
        stack: std::mem::take(&mut state.stack),
        weak: std::mem::take(&mut state.weak),
        promoted: 0,
    }));

    roots(&mut tracer);
    state.handles.trace(&mut tracer);
    for &obj in &remembered {
        // SAFETY: remembered objects are live old or large objects; the collector owns the
        // heap. Clearing the bit re-arms the barrier for the next cycle.
        unsafe {
            let word = obj.header();
            obj.set_header(word & !REMEMBERED);
            trace_object(obj, type_info_of_word(word), &mut tracer);
        }
    }
    remembered.clear();
    state.remembered = remembered;
    for (start, end) in overflow {
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
    let live = MinorLiveness { nursery_start: nursery.start, nursery_len: nursery.reserved() };
    weak::finish(&mut tracer, &live, &mut drain);
    state.identities.after_minor(&live);
    state.finalizers.after_minor(&live);

    let Mode::Minor(mut evacuator) = tracer.mode else { unreachable!() };
    state.stack = evacuator.stack;
    evacuator.weak.clear();
    state.weak = evacuator.weak;
    let promoted = evacuator.promoted;

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
    nursery.reset(state.config.verify);
    promoted
}

/// Scans the evacuated objects until no more are left.
fn drain(tracer: &mut Tracer<'_>) {
    loop {
        let Mode::Minor(evacuator) = &mut tracer.mode else { unreachable!() };
        let Some(obj) = evacuator.stack.pop() else {
            break;
        };
        // SAFETY: a fresh copy of a live object, in the old generation.
        unsafe { trace_object(obj, obj.type_info(), tracer) };
    }
}
