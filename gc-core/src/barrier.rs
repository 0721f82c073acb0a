//! `Write<T>`: proof, carried in the type, that the write barrier has run for an object.

use std::ops::Deref;

/// A reference to (part of) a managed object for which the write barrier has run in the
/// current `mutate` call. Obtain one with [`Gc::write`](crate::Gc::write); project it onto a
/// field with [`field!`](crate::field); mutate [`Lock`](crate::Lock) and
/// [`RefLock`](crate::RefLock) fields through it.
#[repr(transparent)]
pub struct Write<T: ?Sized> {
    // `*const ()` keeps it `!Send`/`!Sync`, like the objects it points into.
    _not_send: std::marker::PhantomData<*const ()>,
    inner: T,
}

impl<T: ?Sized> Write<T> {
    /// Asserts that the barrier has run for the object `value` belongs to.
    ///
    /// # Safety
    /// 1. If `value` is (inside) a managed object, `Gc::write` was called on that object in the
    ///    current `mutate` call, or `value` is (inside) element `i` of a managed slice and
    ///    `Gc::write_at` was called on that slice and `i`.
    /// 2. The returned reference does not outlive that `mutate` call.
    #[inline(always)]
    pub unsafe fn assume(value: &T) -> &Write<T> {
        // SAFETY: `Write<T>` is `repr(transparent)` over `T` (the marker is zero-sized), so the
        // cast preserves layout and metadata; the barrier obligations are the caller's.
        unsafe { &*(value as *const T as *const Write<T>) }
    }

    /// The plain reference, giving up write access.
    #[inline(always)]
    pub fn as_inner(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> Deref for Write<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized + std::fmt::Debug> std::fmt::Debug for Write<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.inner, f)
    }
}

impl<T> Write<Option<T>> {
    /// Projects through an `Option`.
    #[inline(always)]
    pub fn as_write(&self) -> Option<&Write<T>> {
        // SAFETY: the barrier that covers the option covers its contents.
        self.inner.as_ref().map(|v| unsafe { Write::assume(v) })
    }
}

impl<T> Write<[T]> {
    /// Projects onto one element of a slice. Panics if `i` is out of bounds.
    #[inline(always)]
    pub fn at(&self, i: usize) -> &Write<T> {
        // SAFETY: the barrier that covers the slice covers its elements.
        unsafe { Write::assume(&self.inner[i]) }
    }
}

/// Projects a `&Write<Struct>` onto one of its fields: `field!(write, Struct, field)` is a
/// `&Write<FieldType>`.
///
/// The field is reached by a destructuring pattern, which never dereferences, so the
/// projection cannot pass through a pointer into another object.
///
/// ```
/// use gc_core::{field, Arena, Gc, HeapConfig, Lock, Rootable, Trace};
///
/// #[derive(Trace)]
/// struct Counter<'gc> {
///     hits: Lock<u32>,
///     last: Lock<Option<Gc<'gc, str>>>,
/// }
///
/// let arena = Arena::<Rootable![Gc<'_, Counter<'_>>]>::new(HeapConfig::default(), |mc| {
///     Gc::new(mc, Counter { hits: Lock::new(0), last: Lock::new(None) })
/// });
/// arena.mutate(|mc, counter| {
///     let w = Gc::write(mc, *counter);
///     field!(w, Counter, hits).set(counter.hits.get() + 1);
///     field!(w, Counter, last).set(Some(mc.alloc_str("hello")));
///     assert_eq!(counter.hits.get(), 1);
/// });
/// ```
#[macro_export]
macro_rules! field {
    ($write:expr, $type:path, $field:tt) => {{
        let write: &$crate::Write<$type> = $write;
        let $type { $field: ref field, .. } = *$crate::Write::as_inner(write);
        // SAFETY: the field belongs to the object the barrier ran for, reached without any
        // dereference, and the result lives no longer than `write`.
        unsafe { $crate::Write::assume(field) }
    }};
}
