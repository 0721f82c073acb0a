//! `Gc<'gc, T>`: a `Copy` pointer to a managed object, valid for one `mutate` call.

use std::cell::Cell;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::ops::Deref;

use crate::barrier::Write;
use crate::mutation::Mutation;
use crate::raw::{GcObject, ObjPtr};
use crate::trace::{Trace, Tracer};

/// Makes a type invariant in `'gc`, so that a brand can be neither widened nor narrowed.
pub(crate) type Invariant<'gc> = PhantomData<Cell<&'gc ()>>;

/// A pointer to a managed object of type `T`.
///
/// `Gc` is `Copy` and dereferences to `&T`. It carries the brand `'gc` of the
/// [`mutate`](crate::Arena::mutate) call that produced it and cannot leave that call: between
/// `mutate` calls the collector may move the object, and only the arena's root and its
/// [`Handle`](crate::Handle)s lead into the heap.
///
/// Objects are immutable except through the barrier cells [`Lock`](crate::Lock) and
/// [`RefLock`](crate::RefLock) (or any `'static` interior mutability: `Cell<u32>` is fine),
/// reached with [`Gc::write`].
///
/// Comparison and hashing forward to the pointee, like `Box` and `Rc`: an object's address
/// changes when it moves, so it is no identity. Use [`Gc::ptr_eq`] to compare identity.
pub struct Gc<'gc, T: ?Sized + 'gc> {
    pub(crate) ptr: ObjPtr,
    _marker: PhantomData<(&'gc T, Invariant<'gc>)>,
}

impl<'gc, T: ?Sized + 'gc> Clone for Gc<'gc, T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}

impl<'gc, T: ?Sized + 'gc> Copy for Gc<'gc, T> {}

impl<'gc, T: ?Sized + 'gc> Gc<'gc, T> {
    /// # Safety
    /// `ptr` is the header of a live object of type `T`, valid for `'gc`.
    #[inline(always)]
    pub(crate) unsafe fn from_obj(ptr: ObjPtr) -> Self {
        Gc { ptr, _marker: PhantomData }
    }

    /// Whether two pointers designate the same object.
    #[inline(always)]
    pub fn ptr_eq(this: Gc<'gc, T>, other: Gc<'gc, T>) -> bool {
        this.ptr == other.ptr
    }

    /// A number that identifies the object for its whole life, through every move: unique in
    /// its heap, so it serves as a hash and as an id (a `HashMap<u64, _>` keyed by identity).
    ///
    /// The first call for an object files it in a side table (about the cost of a hash-map
    /// insert); later calls look it up. Objects never asked cost nothing.
    pub fn identity_hash(this: Gc<'gc, T>, mc: &Mutation<'gc>) -> u64 {
        mc.heap().identity(this.ptr, true).expect("assigned on demand")
    }
}

impl<'gc, T: Trace + 'gc> Gc<'gc, T> {
    /// Allocates `value` in the heap. Same as [`Mutation::alloc`].
    #[inline(always)]
    #[track_caller]
    pub fn new(mc: &Mutation<'gc>, value: T) -> Gc<'gc, T> {
        mc.alloc(value)
    }

    /// Allocates `value`, or gives it back if the heap limit is reached. Same as
    /// [`Mutation::try_alloc`].
    #[inline(always)]
    #[track_caller]
    pub fn try_new(mc: &Mutation<'gc>, value: T) -> Result<Gc<'gc, T>, (crate::AllocError, T)> {
        mc.try_alloc(value)
    }
}

impl<'gc, T: ?Sized + GcObject + 'gc> Gc<'gc, T> {
    /// The object, for the whole `mutate` call (a plain `Deref` borrows only the `Gc`).
    #[inline(always)]
    #[allow(clippy::should_implement_trait)] // `AsRef` is implemented too; this one keeps `'gc`.
    pub fn as_ref(self) -> &'gc T {
        // SAFETY: a `Gc<'gc, T>` designates a live `T` for all of `'gc`: no collection runs
        // during a `mutate` call, and objects change only through interior mutability.
        unsafe { T::deref_raw(self.ptr.as_ptr()) }
    }

    /// The address of the object's payload. It is stable only until the end of the current
    /// `mutate` call: a collection may move the object.
    #[inline(always)]
    pub fn as_ptr(self) -> *const T {
        self.as_ref()
    }

    /// Runs the write barrier on the object and grants write access to it, through which its
    /// [`Lock`](crate::Lock) and [`RefLock`](crate::RefLock) fields can be mutated.
    ///
    /// The barrier records an old object in the remembered set the first time it is written
    /// after a collection, so that the next minor collection finds the young objects it may
    /// now point to.
    #[inline(always)]
    pub fn write(mc: &Mutation<'gc>, gc: Self) -> &'gc Write<T> {
        mc.write_barrier(gc.ptr);
        // SAFETY: the barrier has just run for this object, and `'gc` ends before the next
        // collection, which is when the barrier must run again.
        unsafe { Write::assume(gc.as_ref()) }
    }
}

impl<'gc, T: Trace + 'gc> Gc<'gc, [T]> {
    /// Write access to one element of a slice, after the write barrier for that element.
    /// Panics if `index` is out of bounds.
    ///
    /// [`Gc::write`] remembers a whole old object, so the next minor collection rescans all
    /// of it; for a large array written here and there (a VM's global table, a big `Vec`-like
    /// buffer) that is a scan of every slot after a single store. `write_at` marks only the
    /// *card* of the element (the elements in 64 bytes: a cache line): the next minor collection
    /// scans the dirty cards only. Small slices are remembered whole either way.
    ///
    /// ```
    /// use gc_core::{Arena, Gc, HeapConfig, Lock, Rootable};
    ///
    /// type Table<'gc> = Gc<'gc, [Lock<Option<Gc<'gc, str>>>]>;
    /// let mut arena = Arena::<Rootable![Table<'_>]>::new(HeapConfig::default(), |mc| {
    ///     mc.alloc_slice_fill_with(10_000, |_| Lock::new(None))
    /// });
    /// arena.collect_minor(); // the table is old now
    /// arena.mutate(|mc, table| {
    ///     Gc::write_at(mc, *table, 1234).set(Some(mc.alloc_str("young")));
    /// });
    /// arena.collect_minor(); // scans one card of the table, not 10,000 slots
    /// arena.mutate(|_, table| assert_eq!(&*table[1234].get().unwrap(), "young"));
    /// ```
    #[inline(always)]
    pub fn write_at(mc: &Mutation<'gc>, this: Self, index: usize) -> &'gc Write<T> {
        let element = &Gc::as_ref(this)[index];
        mc.write_barrier_at(this.ptr, index);
        // SAFETY: the barrier has just run for the element's card (or the whole object), and
        // `'gc` ends before the next collection, which is when the barrier must run again.
        unsafe { Write::assume(element) }
    }
}

impl<'gc, T: ?Sized + GcObject + 'gc> Deref for Gc<'gc, T> {
    type Target = T;

    #[inline(always)]
    fn deref(&self) -> &T {
        self.as_ref()
    }
}

impl<'gc, T: ?Sized + GcObject + 'gc> AsRef<T> for Gc<'gc, T> {
    #[inline(always)]
    fn as_ref(&self) -> &T {
        Gc::as_ref(*self)
    }
}

impl<'gc, T: ?Sized + GcObject + fmt::Debug + 'gc> fmt::Debug for Gc<'gc, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<'gc, T: ?Sized + GcObject + fmt::Display + 'gc> fmt::Display for Gc<'gc, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<'gc, T: ?Sized + GcObject + 'gc> fmt::Pointer for Gc<'gc, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&self.as_ptr(), f)
    }
}

impl<'gc, T: ?Sized + GcObject + PartialEq + 'gc> PartialEq for Gc<'gc, T> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<'gc, T: ?Sized + GcObject + Eq + 'gc> Eq for Gc<'gc, T> {}

impl<'gc, T: ?Sized + GcObject + PartialOrd + 'gc> PartialOrd for Gc<'gc, T> {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        (**self).partial_cmp(&**other)
    }
}

impl<'gc, T: ?Sized + GcObject + Ord + 'gc> Ord for Gc<'gc, T> {
    #[inline]
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

impl<'gc, T: ?Sized + GcObject + Hash + 'gc> Hash for Gc<'gc, T> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

// SAFETY: reports its one pointer to the tracer, which may rewrite it.
unsafe impl<'gc, T: ?Sized + 'gc> Trace for Gc<'gc, T> {
    const NEEDS_TRACE: bool = true;

    #[inline(always)]
    fn trace(&mut self, tracer: &mut Tracer<'_>) {
        tracer.visit(&mut self.ptr)
    }
}
