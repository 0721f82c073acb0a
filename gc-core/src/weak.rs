//! `GcWeak<'gc, T>`: a pointer that does not keep its object alive.

use std::fmt;
use std::marker::PhantomData;

use crate::gc::{Gc, Invariant};
use crate::raw::ObjPtr;
use crate::trace::{Trace, Tracer};

/// A weak pointer to a managed object: it does not keep the object alive, and
/// [`upgrade`](GcWeak::upgrade) gives `None` once a collection has found the object dead.
///
/// The collector redirects a weak pointer when its object moves (minor and full collections
/// alike) and clears it when the object dies, so a `GcWeak` is never dangling. Like a `Gc`, it
/// carries the brand of its `mutate` call; store it in the heap through the barrier cells.
///
/// ```
/// use gc_core::{Arena, Gc, GcWeak, HeapConfig, Lock, Rootable};
///
/// let mut arena = Arena::<Rootable![(Option<Gc<'_, str>>, Lock<Option<GcWeak<'_, str>>>)]>::new(
///     HeapConfig::default(),
///     |mc| {
///         let s = mc.alloc_str("kept only weakly");
///         (None, Lock::new(Some(Gc::downgrade(s))))
///     },
/// );
/// arena.collect_minor();
/// arena.mutate(|_, (_, weak)| assert!(weak.get().unwrap().upgrade().is_none()));
/// ```
pub struct GcWeak<'gc, T: ?Sized + 'gc> {
    pub(crate) ptr: Option<ObjPtr>,
    _marker: PhantomData<(&'gc T, Invariant<'gc>)>,
}

impl<'gc, T: ?Sized + 'gc> Clone for GcWeak<'gc, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<'gc, T: ?Sized + 'gc> Copy for GcWeak<'gc, T> {}

impl<'gc, T: ?Sized + 'gc> Gc<'gc, T> {
    /// A weak pointer to the same object.
    #[inline]
    pub fn downgrade(this: Gc<'gc, T>) -> GcWeak<'gc, T> {
        GcWeak { ptr: Some(this.ptr), _marker: PhantomData }
    }
}

impl<'gc, T: ?Sized + 'gc> GcWeak<'gc, T> {
    /// The object, unless a collection has found it dead.
    ///
    /// An object that became unreachable since the last collection can still be upgraded:
    /// liveness is decided by collections, and upgrading makes it reachable again.
    #[inline]
    pub fn upgrade(self) -> Option<Gc<'gc, T>> {
        // SAFETY: a slot that is still set designates an object that was live at the last
        // collection (or was allocated since), and objects are only freed by collections,
        // which clear the slot of every weak pointer to an object they free.
        self.ptr.map(|ptr| unsafe { Gc::from_obj(ptr) })
    }

    /// Whether a collection has found the object dead.
    #[inline]
    pub fn is_dead(self) -> bool {
        self.ptr.is_none()
    }

    /// Whether two weak pointers designate the same (live) object.
    #[inline]
    pub fn ptr_eq(this: Self, other: Self) -> bool {
        this.ptr.is_some() && this.ptr == other.ptr
    }
}

impl<T: ?Sized> fmt::Debug for GcWeak<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ptr {
            Some(ptr) => write!(f, "GcWeak({ptr:?})"),
            None => f.write_str("GcWeak(dead)"),
        }
    }
}

// SAFETY: reports its slot as weak: the collector clears it when the target dies and redirects
// it when the target moves.
unsafe impl<'gc, T: ?Sized + 'gc> Trace for GcWeak<'gc, T> {
    const NEEDS_TRACE: bool = true;

    #[inline]
    fn trace(&mut self, tracer: &mut Tracer<'_>) {
        tracer.visit_weak(&mut self.ptr)
    }
}
