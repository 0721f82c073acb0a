//! The barrier cells: `Lock<T>` (like `Cell`) and `RefLock<T>` (like `RefCell`), whose mutating
//! methods are reachable only through a [`Write`] reference, that is, after the write barrier.

use std::cell::{BorrowError, BorrowMutError, Cell, Ref, RefCell, RefMut};
use std::fmt;

use crate::barrier::Write;
use crate::gc::Gc;
use crate::mutation::Mutation;
use crate::trace::{Trace, Tracer};

/// A `Cell` whose contents may hold `Gc` pointers. Read it freely; write it through
/// `&Write<Lock<T>>` ([`Gc::write`] and [`field!`](crate::field)), or with
/// [`Gc::<Lock<T>>::set`](Gc::set) when the lock is the whole object.
#[repr(transparent)]
#[derive(Default)]
pub struct Lock<T: ?Sized> {
    cell: Cell<T>,
}

impl<T> Lock<T> {
    /// A new lock holding `value`.
    pub const fn new(value: T) -> Self {
        Lock { cell: Cell::new(value) }
    }

    /// Unwraps the value.
    pub fn into_inner(self) -> T {
        self.cell.into_inner()
    }
}

impl<T: Copy> Lock<T> {
    /// A copy of the value.
    #[inline(always)]
    pub fn get(&self) -> T {
        self.cell.get()
    }
}

impl<T: ?Sized> Lock<T> {
    /// Mutable access, when the lock is not (yet) in the heap.
    pub fn get_mut(&mut self) -> &mut T {
        self.cell.get_mut()
    }

    /// A raw pointer to the value.
    pub fn as_ptr(&self) -> *mut T {
        self.cell.as_ptr()
    }
}

impl<T: Default> Lock<T> {
    /// Takes the value, leaving `Default::default()`. Needs the barrier: it writes.
    pub fn take(this: &Write<Self>) -> T {
        this.unlock().take()
    }
}

impl<T: ?Sized> Write<Lock<T>> {
    /// The underlying `Cell`, free to mutate: the barrier has run.
    #[inline(always)]
    pub fn unlock(&self) -> &Cell<T> {
        &self.as_inner().cell
    }
}

impl<T> Write<Lock<T>> {
    /// Stores `value`.
    #[inline(always)]
    pub fn set(&self, value: T) {
        self.unlock().set(value)
    }

    /// Stores `value`, returning the old one.
    #[inline(always)]
    pub fn replace(&self, value: T) -> T {
        self.unlock().replace(value)
    }
}

impl<'gc, T: Copy + Trace + 'gc> Gc<'gc, Lock<T>> {
    /// A copy of the value.
    #[inline(always)]
    pub fn get(self) -> T {
        self.as_ref().get()
    }

    /// Runs the write barrier and stores `value`.
    #[inline(always)]
    pub fn set(self, mc: &Mutation<'gc>, value: T) {
        Gc::write(mc, self).set(value)
    }
}

impl<T: Copy + fmt::Debug> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Lock").field(&self.get()).finish()
    }
}

impl<T: Copy> Clone for Lock<T> {
    fn clone(&self) -> Self {
        Lock::new(self.get())
    }
}

// SAFETY: traces the contents; mutation of a `Lock` in the heap needs `Write`, so the barrier
// ran before any `Gc` was stored.
unsafe impl<T: Trace> Trace for Lock<T> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;

    #[inline]
    fn trace(&mut self, t: &mut Tracer<'_>) {
        self.cell.get_mut().trace(t)
    }

    fn trace_labeled(&mut self, t: &mut Tracer<'_>) {
        self.cell.get_mut().trace_labeled(t)
    }
}

/// A `RefCell` whose contents may hold `Gc` pointers. Borrow it freely; borrow it mutably
/// through `&Write<RefLock<T>>`, or with [`Gc::<RefLock<T>>::borrow_mut`](Gc::borrow_mut).
#[derive(Default)]
pub struct RefLock<T: ?Sized> {
    cell: RefCell<T>,
}

impl<T> RefLock<T> {
    /// A new lock holding `value`.
    pub const fn new(value: T) -> Self {
        RefLock { cell: RefCell::new(value) }
    }

    /// Unwraps the value.
    pub fn into_inner(self) -> T {
        self.cell.into_inner()
    }
}

impl<T: ?Sized> RefLock<T> {
    /// Borrows the value. Panics if it is mutably borrowed.
    #[inline]
    #[track_caller]
    pub fn borrow(&self) -> Ref<'_, T> {
        self.cell.borrow()
    }

    /// Borrows the value, or fails if it is mutably borrowed.
    #[inline]
    pub fn try_borrow(&self) -> Result<Ref<'_, T>, BorrowError> {
        self.cell.try_borrow()
    }

    /// Mutable access, when the lock is not (yet) in the heap.
    pub fn get_mut(&mut self) -> &mut T {
        self.cell.get_mut()
    }
}

impl<T: ?Sized> Write<RefLock<T>> {
    /// The underlying `RefCell`, free to mutate: the barrier has run.
    #[inline(always)]
    pub fn unlock(&self) -> &RefCell<T> {
        &self.as_inner().cell
    }

    /// Borrows the value mutably. Panics if it is borrowed.
    #[inline]
    #[track_caller]
    pub fn borrow_mut(&self) -> RefMut<'_, T> {
        self.unlock().borrow_mut()
    }

    /// Borrows the value mutably, or fails if it is borrowed.
    #[inline]
    pub fn try_borrow_mut(&self) -> Result<RefMut<'_, T>, BorrowMutError> {
        self.unlock().try_borrow_mut()
    }
}

impl<'gc, T: ?Sized + 'gc> Gc<'gc, RefLock<T>>
where
    RefLock<T>: crate::raw::GcObject,
{
    /// Borrows the value for the rest of the `mutate` call (until the `Ref` is dropped).
    #[inline]
    #[track_caller]
    pub fn borrow(self) -> Ref<'gc, T> {
        self.as_ref().borrow()
    }

    /// Runs the write barrier and borrows the value mutably.
    #[inline]
    #[track_caller]
    pub fn borrow_mut(self, mc: &Mutation<'gc>) -> RefMut<'gc, T> {
        Gc::write(mc, self).borrow_mut()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RefLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cell.try_borrow() {
            Ok(v) => f.debug_tuple("RefLock").field(&&*v).finish(),
            Err(_) => f.write_str("RefLock(<borrowed>)"),
        }
    }
}

// SAFETY: traces the contents; mutable borrows of a `RefLock` in the heap need `Write`, so the
// barrier ran before any `Gc` was stored. `get_mut` ignores a borrow flag left set by a leaked
// `RefMut`: the collector has exclusive access.
unsafe impl<T: ?Sized + Trace> Trace for RefLock<T> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;

    #[inline]
    fn trace(&mut self, t: &mut Tracer<'_>) {
        self.cell.get_mut().trace(t)
    }

    fn trace_labeled(&mut self, t: &mut Tracer<'_>) {
        self.cell.get_mut().trace_labeled(t)
    }
}
