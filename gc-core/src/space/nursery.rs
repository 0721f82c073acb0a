//! The nursery: one contiguous region, bump-allocated by the mutator, emptied by each minor
//! collection.
//!
//! The nursery is *elastic*. Collections only happen between `mutate` calls, so a call that
//! allocates more than the configured size cannot be interrupted by a minor collection the way
//! a JVM's allocation failure would be. Rather than placing the excess in the old generation
//! (where it would survive until a full collection, however short-lived it is), the nursery
//! reserves a large range of address space up front and commits it in steps of the configured
//! size as such a call needs it. The next minor collection evacuates the survivors of the
//! whole range at a cost proportional to the survivors, and gives the extension's pages back.
//! Whether an address is young stays one range comparison.

use std::cell::{Cell, UnsafeCell};
use std::io;

use crate::raw::ObjPtr;
use crate::sys;

/// Huge-page alignment, so that transparent huge pages can back the nursery.
const ALIGN: usize = 2 << 20;

pub(crate) struct Nursery {
    pub(crate) start: usize,
    /// Size of the reservation: `[start, start + reserved)` is young.
    reserved: usize,
    /// The configured size: a minor collection is due once it is used.
    nominal: usize,
    /// Next free byte: `[start, cursor)` parses as objects.
    pub(crate) cursor: Cell<usize>,
    /// Where the allocation fast path stops: the end of the committed part, or before it
    /// where pretenuring wants to see an allocation (`min(end, cap)`).
    pub(crate) limit: Cell<usize>,
    /// End of the committed part.
    end: Cell<usize>,
    /// Pretenuring's cap on `limit` (see [`crate::collector::pretenure`]).
    cap: Cell<usize>,
    /// Objects allocated since the last minor collection whose type has a destructor: a minor
    /// collection drops those that did not survive, at a cost proportional to their number,
    /// not to the nursery size.
    drops: UnsafeCell<Vec<ObjPtr>>,
}

impl Nursery {
    /// A nursery of `size` bytes that may grow to `reserve` bytes within one `mutate` call.
    pub(crate) fn new(size: usize, reserve: usize) -> io::Result<Nursery> {
        let mut reserved = reserve.max(size).next_multiple_of(sys::page_size());
        let start = loop {
            match sys::reserve_aligned(reserved, ALIGN) {
                Ok(ptr) => break ptr,
                // Address space may be limited (`ulimit -v`): settle for less room to grow.
                Err(_) if reserved / 4 >= size => {
                    reserved = (reserved / 4).next_multiple_of(sys::page_size())
                }
                Err(err) => return Err(err),
            }
        };
        // SAFETY: the first `size` bytes of our fresh reservation.
        if let Err(err) = unsafe { sys::commit(start, size) } {
            // SAFETY: reserved above, unused.
            unsafe { sys::unmap(start, reserved) };
            return Err(err);
        }
        // `sys` exposed the reservation's provenance: addresses in it are kept as integers.
        let start = start.addr();
        Ok(Nursery {
            start,
            reserved,
            nominal: size,
            cursor: Cell::new(start),
            limit: Cell::new(start + size),
            end: Cell::new(start + size),
            cap: Cell::new(usize::MAX),
            drops: UnsafeCell::new(Vec::new()),
        })
    }

    /// Whether `addr` is young (in the reservation).
    #[inline(always)]
    pub(crate) fn contains(&self, addr: usize) -> bool {
        addr.wrapping_sub(self.start) < self.reserved
    }

    /// Size of the reservation.
    pub(crate) fn reserved(&self) -> usize {
        self.reserved
    }

    /// Bytes allocated since the last minor collection.
    pub(crate) fn used(&self) -> usize {
        self.cursor.get() - self.start
    }

    /// The configured size.
    pub(crate) fn size(&self) -> usize {
        self.nominal
    }

    /// Bytes committed now.
    pub(crate) fn committed(&self) -> usize {
        self.end.get() - self.start
    }

    /// End of the committed part: the slow path allocates up to here.
    #[inline]
    pub(crate) fn end(&self) -> usize {
        self.end.get()
    }

    /// Caps the fast path's limit at `cap` (pretenuring's next sample point; `usize::MAX` caps
    /// nothing).
    #[inline]
    pub(crate) fn set_cap(&self, cap: usize) {
        self.cap.set(cap);
        self.limit.set(self.end.get().min(cap));
    }

    /// How much an extension for an allocation of `bytes` commits.
    pub(crate) fn extension_step(&self, bytes: usize) -> usize {
        bytes.next_multiple_of(self.nominal)
    }

    /// Commits `step` more bytes of the reservation (an `extension_step`); false if the
    /// reservation is exhausted or the OS refuses.
    pub(crate) fn extend(&self, step: usize) -> bool {
        let limit = self.end.get();
        if limit + step > self.start + self.reserved {
            return false;
        }
        // SAFETY: `[limit, limit + step)` is page-aligned (the nominal size is a page multiple)
        // and inside our reservation, beyond the committed part.
        if unsafe { sys::commit(crate::raw::ptr_at(limit), step) }.is_err() {
            return false;
        }
        self.end.set(limit + step);
        self.set_cap(self.cap.get());
        true
    }

    /// Records an object that has a destructor.
    #[inline(always)]
    pub(crate) fn push_drop(&self, obj: ObjPtr) {
        // SAFETY: the vector is only reached through this method and the `&mut self` methods
        // below; `push` does not call out to other code, and the nursery is not shared between
        // threads (`Cell` makes it `!Sync`).
        unsafe { (*self.drops.get()).push(obj) }
    }

    pub(crate) fn take_drops(&mut self) -> Vec<ObjPtr> {
        std::mem::take(self.drops.get_mut())
    }

    pub(crate) fn drops_snapshot(&mut self) -> Vec<ObjPtr> {
        self.drops.get_mut().clone()
    }

    pub(crate) fn restore_drops(&mut self, mut list: Vec<ObjPtr>) {
        list.clear();
        *self.drops.get_mut() = list;
    }

    /// Gives the pages of the empty nursery back to the OS. The range stays committed (and
    /// bound to its NUMA node): the pages are faulted in again, zeroed, as allocation reaches
    /// them.
    pub(crate) fn discard(&mut self) {
        debug_assert_eq!(self.cursor.get(), self.start, "the nursery is empty");
        // SAFETY: `[start, end)` is page-aligned, committed by us, and holds nothing live:
        // the nursery is empty.
        unsafe { sys::discard(crate::raw::ptr_at(self.start), self.end.get() - self.start) };
    }

    /// Empties the nursery and gives back the pages of any extension.
    pub(crate) fn reset(&mut self, zap: bool) {
        let used_end = self.cursor.get();
        let nominal_end = self.start + self.nominal;
        if zap {
            // SAFETY: every object in the nursery is dead or evacuated.
            unsafe { crate::debug::zap(self.start, used_end.min(nominal_end)) };
        }
        let limit = self.end.get();
        if limit > nominal_end {
            // SAFETY: the extension lies in our reservation and holds nothing live now.
            unsafe { sys::decommit(crate::raw::ptr_at(nominal_end), limit - nominal_end) };
            self.end.set(nominal_end);
            self.set_cap(self.cap.get());
        }
        self.cursor.set(self.start);
    }
}

impl Drop for Nursery {
    fn drop(&mut self) {
        // SAFETY: reserved by `reserve_aligned` with this size; the arena dropped its objects.
        unsafe { sys::unmap(crate::raw::ptr_at(self.start), self.reserved) };
    }
}
