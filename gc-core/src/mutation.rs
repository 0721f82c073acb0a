//! `Mutation<'gc>`: the branded context of a `mutate` call. It allocates, runs the write
//! barrier, and turns handles into `Gc`s.

use std::mem::needs_drop;
use std::panic::Location;
use std::rc::Rc;

use crate::arena::{Root, Rootable};
use crate::gc::{Gc, Invariant};
use crate::handle::{Handle, HandleSlot};
use crate::heap::{alloc_failed, AllocError, Heap};
use crate::raw::{GcObject, ObjPtr, TypeInfo, DEAD_BYTES, HEADER, WORD};
use crate::trace::Trace;

/// The context handed to a `mutate` closure: allocation, the write barrier, handles.
///
/// Its lifetime `'gc` is the brand of the call. It is invariant and chosen by the arena, so
/// nothing branded with it can be stored anywhere that outlives the call.
#[repr(transparent)]
pub struct Mutation<'gc> {
    heap: Heap,
    _invariant: Invariant<'gc>,
}

impl std::fmt::Debug for Mutation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mutation").finish_non_exhaustive()
    }
}

impl<'gc> Mutation<'gc> {
    /// # Safety
    /// No collection may run while the returned reference, or anything branded with `'gc`,
    /// is live: the caller picks a fresh, unnameable `'gc` (a `for<'gc>` closure).
    pub(crate) unsafe fn wrap(heap: &Heap) -> &Mutation<'gc> {
        // SAFETY: `Mutation` is `repr(transparent)` over `Heap` (the marker is zero-sized);
        // the brand obligations are the caller's.
        unsafe { &*(heap as *const Heap as *const Mutation<'gc>) }
    }

    pub(crate) fn heap(&self) -> &Heap {
        &self.heap
    }

    /// Allocates `value` in the heap: in the nursery, by bumping a pointer, unless it is
    /// larger than the large-object threshold. Panics if the heap limit is reached; see
    /// [`try_alloc`](Mutation::try_alloc).
    #[inline(always)]
    #[track_caller]
    pub fn alloc<T: Trace + 'gc>(&self, value: T) -> Gc<'gc, T> {
        match self.try_alloc(value) {
            Ok(gc) => gc,
            Err((err, _)) => alloc_failed(err),
        }
    }

    /// Allocates `value`, or gives it back with the reason if the heap limit is reached (or the
    /// OS refuses memory). The heap is unchanged by a failure.
    #[inline(always)]
    #[track_caller]
    pub fn try_alloc<T: Trace + 'gc>(&self, value: T) -> Result<Gc<'gc, T>, (AllocError, T)> {
        let info = <T as GcObject>::TYPE_INFO;
        let obj = match self.heap.alloc_raw(info, info.object_size, info) {
            Ok(obj) => obj,
            Err(err) => return Err((err, value)),
        };
        // SAFETY: `obj` is fresh space for a `T` after a header for `T`; the value is moved
        // in before anything can read the object.
        unsafe {
            std::ptr::write(obj.payload(info).cast::<T>(), value);
            Ok(Gc::from_obj(obj))
        }
    }

    /// Allocates `value` in the old generation, where it never moves: its address
    /// ([`Gc::as_ptr`]) stays valid for the object's life and can be handed to foreign code.
    /// Collections slide other objects around it.
    #[track_caller]
    pub fn alloc_pinned<T: Trace + 'gc>(&self, value: T) -> Gc<'gc, T> {
        let info = <T as GcObject>::TYPE_INFO;
        let obj =
            self.heap.alloc_pinned(info, info.object_size).unwrap_or_else(|e| alloc_failed(e));
        // SAFETY: as in `try_alloc`.
        unsafe {
            std::ptr::write(obj.payload(info).cast::<T>(), value);
            Gc::from_obj(obj)
        }
    }

    /// Allocates a copy of `s`.
    #[track_caller]
    pub fn alloc_str(&self, s: &str) -> Gc<'gc, str> {
        self.try_alloc_str(s).unwrap_or_else(|e| alloc_failed(e))
    }

    /// Allocates a copy of `s`, or fails at the heap limit.
    #[track_caller]
    pub fn try_alloc_str(&self, s: &str) -> Result<Gc<'gc, str>, AllocError> {
        // SAFETY: `str` objects are byte slice objects; the bytes copied are UTF-8.
        unsafe {
            self.alloc_copy(<str as GcObject>::TYPE_INFO, s.as_bytes()).map(|o| Gc::from_obj(o))
        }
    }

    /// Allocates a copy of `slice`.
    #[track_caller]
    pub fn alloc_slice_copy<T: Trace + Copy + 'gc>(&self, slice: &[T]) -> Gc<'gc, [T]> {
        self.try_alloc_slice_copy(slice).unwrap_or_else(|e| alloc_failed(e))
    }

    /// Allocates a copy of `slice`, or fails at the heap limit.
    #[track_caller]
    pub fn try_alloc_slice_copy<T: Trace + Copy + 'gc>(
        &self,
        slice: &[T],
    ) -> Result<Gc<'gc, [T]>, AllocError> {
        // SAFETY: the object type is `[T]` and the elements are `T`s.
        unsafe { self.alloc_copy(<[T] as GcObject>::TYPE_INFO, slice).map(|o| Gc::from_obj(o)) }
    }

    /// Allocates a clone of every element of `slice`.
    #[track_caller]
    pub fn alloc_slice_clone<T: Trace + Clone + 'gc>(&self, slice: &[T]) -> Gc<'gc, [T]> {
        self.alloc_slice_fill_with(slice.len(), |i| slice[i].clone())
    }

    /// Allocates a slice of `len` elements, the `i`th being `f(i)`.
    ///
    /// `f` may allocate. If it panics, the elements made so far are dropped and the space
    /// becomes a dead filler: the heap stays consistent.
    #[track_caller]
    pub fn alloc_slice_fill_with<T: Trace + 'gc>(
        &self,
        len: usize,
        f: impl FnMut(usize) -> T,
    ) -> Gc<'gc, [T]> {
        self.try_alloc_slice_fill_with(len, f).unwrap_or_else(|e| alloc_failed(e))
    }

    /// As [`alloc_slice_fill_with`](Mutation::alloc_slice_fill_with), or fails at the heap
    /// limit (before calling `f`).
    #[track_caller]
    pub fn try_alloc_slice_fill_with<T: Trace + 'gc>(
        &self,
        len: usize,
        mut f: impl FnMut(usize) -> T,
    ) -> Result<Gc<'gc, [T]>, AllocError> {
        self.alloc_slice_init(len, |i| Some(f(i)))
    }

    /// Allocates a slice holding the items of an iterator of exact size. Panics if the
    /// iterator yields fewer items than its `len` promised.
    #[track_caller]
    pub fn alloc_slice_from_iter<T, I>(&self, iter: I) -> Gc<'gc, [T]>
    where
        T: Trace + 'gc,
        I: IntoIterator<Item = T>,
        I::IntoIter: ExactSizeIterator,
    {
        let mut iter = iter.into_iter();
        self.alloc_slice_init(iter.len(), |_| iter.next()).unwrap_or_else(|e| alloc_failed(e))
    }

    #[track_caller]
    fn slice_size(info: &TypeInfo, len: usize) -> usize {
        info.checked_slice_object_size(len)
            .unwrap_or_else(|| panic!("gc-core: a slice of {len} elements is too large"))
    }

    /// # Safety
    /// `info` is the type info of `[T]` (or of `str`, when `T` is `u8` holding UTF-8).
    #[track_caller]
    unsafe fn alloc_copy<T: Copy>(
        &self,
        info: &'static TypeInfo,
        slice: &[T],
    ) -> Result<ObjPtr, AllocError> {
        let len = slice.len();
        let obj = self.heap.alloc_raw(info, Self::slice_size(info, len), info)?;
        // SAFETY: fresh space for `len` elements after the header and length word; copying
        // `Copy` values cannot panic, so the object is complete before anything reads it.
        unsafe {
            *obj.as_ptr().add(1) = len;
            std::ptr::copy_nonoverlapping(slice.as_ptr(), obj.payload(info).cast::<T>(), len);
        }
        Ok(obj)
    }

    /// Allocates `[T; len]` filled by `next(i)`, which may allocate, panic, or run short.
    #[track_caller]
    fn alloc_slice_init<T: Trace + 'gc>(
        &self,
        len: usize,
        mut next: impl FnMut(usize) -> Option<T>,
    ) -> Result<Gc<'gc, [T]>, AllocError> {
        let info = <[T] as GcObject>::TYPE_INFO;
        let size = Self::slice_size(info, len);
        // Until every element is in place the object is a dead byte array of the same size,
        // so that a panic (or a nested allocation) never leaves a half-built `[T]` behind.
        let obj = self.heap.alloc_raw(info, size, &DEAD_BYTES)?;
        // SAFETY: fresh space; the length word of a dead byte array counts bytes.
        unsafe { *obj.as_ptr().add(1) = size - HEADER - WORD };
        let elems = obj.payload(info).cast::<T>();

        struct Guard<T> {
            elems: *mut T,
            done: usize,
        }
        impl<T> Drop for Guard<T> {
            fn drop(&mut self) {
                if needs_drop::<T>() {
                    // SAFETY: the first `done` elements were written and are owned by the guard
                    // until the object is committed.
                    unsafe {
                        std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(
                            self.elems, self.done,
                        ))
                    }
                }
            }
        }
        let mut guard = Guard { elems, done: 0 };
        while guard.done < len {
            let Some(value) = next(guard.done) else {
                panic!("gc-core: an ExactSizeIterator yielded fewer items than its len ({len})");
            };
            // SAFETY: element `done` is inside the object and not yet written.
            unsafe { elems.add(guard.done).write(value) };
            guard.done += 1;
        }
        std::mem::forget(guard);
        // SAFETY: allocated with the `DEAD_BYTES` header for `info`; all `len` elements are
        // initialised. The result is a live `[T]` for `'gc`.
        unsafe {
            self.heap.commit_slice(obj, info, len);
            Ok(Gc::from_obj(obj))
        }
    }

    /// Roots `gc` outside `mutate`: the handle keeps it alive and gives it back in a later
    /// `mutate` call with [`fetch`](Mutation::fetch).
    #[track_caller]
    pub fn handle<R: for<'a> Rootable<'a>>(&self, gc: Gc<'gc, Root<'gc, R>>) -> Handle<R> {
        self.new_handle(gc, None, Location::caller())
    }

    /// As [`handle`](Mutation::handle), with a name for the leak reports and heap snapshots.
    #[track_caller]
    pub fn named_handle<R: for<'a> Rootable<'a>>(
        &self,
        gc: Gc<'gc, Root<'gc, R>>,
        name: impl Into<String>,
    ) -> Handle<R> {
        self.new_handle(gc, Some(name.into()), Location::caller())
    }

    fn new_handle<R: for<'a> Rootable<'a>>(
        &self,
        gc: Gc<'gc, Root<'gc, R>>,
        name: Option<String>,
        site: &'static Location<'static>,
    ) -> Handle<R> {
        let slot = Rc::new(HandleSlot {
            ptr: std::cell::Cell::new(gc.ptr),
            heap_id: self.heap.id,
            site,
            name,
        });
        self.heap.state.borrow_mut().handles.add(slot.clone());
        Handle::new(slot)
    }

    /// Leak-debug mode: `gc` is expected to die. If it is still alive after the configured
    /// number of full collections (`leak_watch_collections`, default 2), it is *retained*, and
    /// [`Arena::leak_report`](crate::Arena::leak_report) explains what keeps it. Does nothing
    /// when leak-debug mode is off.
    #[cfg(feature = "leak-debug")]
    #[track_caller]
    pub fn watch<T: ?Sized + 'gc>(&self, gc: Gc<'gc, T>, reason: impl Into<String>) {
        if !self.heap.leak_debug {
            return;
        }
        // The conversion is the caller's code: it may allocate, write, re-enter or panic, so it
        // runs before the heap's state is borrowed.
        let reason = reason.into();
        let young = self.heap.nursery.contains(gc.ptr.addr());
        let mut state = self.heap.state.borrow_mut();
        let full_at_watch = state.stats.full.count;
        state.watches.add(
            crate::debug::watch::Watch {
                obj: gc.ptr,
                reason,
                site: Location::caller(),
                full_at_watch,
            },
            young,
        );
    }

    /// The object a handle holds. Panics if the handle belongs to another arena.
    #[track_caller]
    pub fn fetch<R: for<'a> Rootable<'a>>(&self, handle: &Handle<R>) -> Gc<'gc, Root<'gc, R>> {
        assert_eq!(
            handle.slot.heap_id, self.heap.id,
            "gc-core: a handle was fetched in an arena other than the one that created it"
        );
        // SAFETY: the handle roots its object, and the handle table updates the slot when the
        // object moves, so it designates a live `Root<'gc, R>` (the type it was created with;
        // `R` fixes it up to the brand).
        unsafe { Gc::from_obj(handle.slot.ptr.get()) }
    }

    /// Runs the write barrier for `obj` (see [`Gc::write`]).
    #[inline(always)]
    pub(crate) fn write_barrier(&self, obj: ObjPtr) {
        self.heap.write_barrier(obj)
    }

    /// Runs the write barrier for element `index` of the slice `obj` (see [`Gc::write_at`]).
    #[inline(always)]
    pub(crate) fn write_barrier_at(&self, obj: ObjPtr, index: usize) {
        self.heap.write_barrier_at(obj, index)
    }
}
