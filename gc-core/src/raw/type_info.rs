//! `TypeInfo`: what the collector knows about the type of an object, one `'static` per type.

use std::mem::{align_of, needs_drop, size_of};

use super::header::{align_up, ObjPtr, HEADER, WORD};
use crate::trace::{Trace, Tracer};

/// Checked by the verifier: a header word that does not point at this value is corrupt.
pub(crate) const MAGIC: u32 = 0x6763_7479; // "gcty"

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    /// `[header][payload]`
    Sized,
    /// `[header][len][elements]`
    Slice,
}

/// Per-type information for the collector. One constant per type, promoted to `'static`.
///
/// Aligned to 64 bytes so that the low six bits of a header word are free for flags.
#[doc(hidden)]
#[allow(missing_debug_implementations)]
#[repr(C, align(64))]
pub struct TypeInfo {
    pub(crate) magic: u32,
    pub(crate) kind: Kind,
    /// Sized: total object size (header and padding included). Slice: unused.
    pub(crate) object_size: usize,
    /// Slice: size of one element.
    pub(crate) elem_size: usize,
    /// Alignment of the payload.
    pub(crate) align: usize,
    /// `None` when the type holds no `Gc` (`NEEDS_TRACE == false`): the collector skips it.
    pub(crate) trace: Option<TraceFn>,
    /// The labelled variant of `trace` (field, variant and index names), for the verifier's
    /// diagnostics and the reports.
    pub(crate) trace_labeled: Option<TraceFn>,
    /// Slices whose elements hold `Gc`s: traces the elements `[from, to)` only (a minor
    /// collection scanning the dirty cards of a card-marked slice).
    pub(crate) trace_range: Option<TraceRangeFn>,
    /// `None` when the type has no destructor.
    pub(crate) drop: Option<DropFn>,
    pub(crate) name: fn() -> &'static str,
}

/// # Safety
/// The object is a live object of the type this function was made for, and the tracer is
/// allowed to rewrite its pointers (a collection has exclusive access to the heap).
pub(crate) type TraceFn = unsafe fn(ObjPtr, &mut Tracer<'_>);
/// # Safety
/// As [`TraceFn`], for a slice object; `from <= to <= len`.
pub(crate) type TraceRangeFn = unsafe fn(ObjPtr, usize, usize, &mut Tracer<'_>);
/// # Safety
/// The object is an object of the type this function was made for, never dropped before and
/// never used again.
pub(crate) type DropFn = unsafe fn(ObjPtr);

impl TypeInfo {
    #[inline(always)]
    pub(crate) const fn payload_offset(&self) -> usize {
        match self.kind {
            Kind::Sized => HEADER,
            Kind::Slice => HEADER + WORD,
        }
    }

    /// Size of a slice object of `len` elements; the caller checked it does not overflow.
    #[inline(always)]
    pub(crate) const fn slice_object_size(&self, len: usize) -> usize {
        HEADER + WORD + align_up(len * self.elem_size, WORD)
    }

    /// Size of a slice object of `len` elements, or `None` on overflow.
    pub(crate) fn checked_slice_object_size(&self, len: usize) -> Option<usize> {
        let bytes = len.checked_mul(self.elem_size)?;
        // Keep every size well inside `isize`, as `Layout` requires.
        if bytes > isize::MAX as usize / 2 {
            return None;
        }
        Some(HEADER + WORD + align_up(bytes, WORD))
    }

    pub(crate) fn name(&self) -> &'static str {
        (self.name)()
    }

    const fn of_sized<T: Trace>() -> TypeInfo {
        TypeInfo {
            magic: MAGIC,
            kind: Kind::Sized,
            object_size: HEADER + align_up(size_of::<T>(), WORD),
            elem_size: 0,
            align: align_of::<T>(),
            trace: if T::NEEDS_TRACE { Some(trace_sized::<T>) } else { None },
            trace_labeled: if T::NEEDS_TRACE { Some(trace_sized_labeled::<T>) } else { None },
            trace_range: None,
            drop: if needs_drop::<T>() { Some(drop_sized::<T>) } else { None },
            name: std::any::type_name::<T>,
        }
    }

    const fn of_slice<T: Trace>() -> TypeInfo {
        TypeInfo {
            magic: MAGIC,
            kind: Kind::Slice,
            object_size: 0,
            elem_size: size_of::<T>(),
            align: align_of::<T>(),
            trace: if T::NEEDS_TRACE { Some(trace_slice::<T>) } else { None },
            trace_labeled: if T::NEEDS_TRACE { Some(trace_slice_labeled::<T>) } else { None },
            trace_range: if T::NEEDS_TRACE { Some(trace_slice_range::<T>) } else { None },
            drop: if needs_drop::<T>() { Some(drop_slice::<T>) } else { None },
            name: std::any::type_name::<[T]>,
        }
    }
}

/// One-word object used to fill alignment gaps.
pub(crate) static FILLER: TypeInfo = TypeInfo {
    magic: MAGIC,
    kind: Kind::Sized,
    object_size: WORD,
    elem_size: 0,
    align: WORD,
    trace: None,
    trace_labeled: None,
    trace_range: None,
    drop: None,
    name: || "(filler)",
};

/// A byte array that is no longer an object: what a slice whose construction panicked becomes.
pub(crate) static DEAD_BYTES: TypeInfo = TypeInfo {
    magic: MAGIC,
    kind: Kind::Slice,
    object_size: 0,
    elem_size: 1,
    align: 1,
    trace: None,
    trace_labeled: None,
    trace_range: None,
    drop: None,
    name: || "(dead bytes)",
};

/// # Safety
/// As [`TraceFn`], for `T`.
unsafe fn trace_sized<T: Trace>(obj: ObjPtr, t: &mut Tracer<'_>) {
    // SAFETY: precondition: the payload is a live `T` and we have exclusive access.
    unsafe { (*obj.as_ptr().cast::<u8>().add(HEADER).cast::<T>()).trace(t) }
}

/// # Safety
/// As [`TraceFn`], for `T`.
unsafe fn trace_sized_labeled<T: Trace>(obj: ObjPtr, t: &mut Tracer<'_>) {
    // SAFETY: precondition: the payload is a live `T` and we have exclusive access.
    unsafe { (*obj.as_ptr().cast::<u8>().add(HEADER).cast::<T>()).trace_labeled(t) }
}

/// # Safety
/// As [`TraceFn`], for `[T]`.
unsafe fn slice_mut<'a, T>(obj: ObjPtr) -> &'a mut [T] {
    // SAFETY: precondition: a slice object of `len` initialized elements.
    unsafe {
        let len = obj.slice_len();
        std::slice::from_raw_parts_mut(
            obj.as_ptr().cast::<u8>().add(HEADER + WORD).cast::<T>(),
            len,
        )
    }
}

/// # Safety
/// As [`TraceFn`], for `[T]`.
unsafe fn trace_slice<T: Trace>(obj: ObjPtr, t: &mut Tracer<'_>) {
    // SAFETY: precondition.
    unsafe { slice_mut::<T>(obj) }.trace(t)
}

/// # Safety
/// As [`TraceFn`], for `[T]`.
unsafe fn trace_slice_labeled<T: Trace>(obj: ObjPtr, t: &mut Tracer<'_>) {
    // SAFETY: precondition.
    unsafe { slice_mut::<T>(obj) }.trace_labeled(t)
}

/// # Safety
/// As [`TraceRangeFn`], for `[T]`.
unsafe fn trace_slice_range<T: Trace>(obj: ObjPtr, from: usize, to: usize, t: &mut Tracer<'_>) {
    // SAFETY: precondition.
    let elements = unsafe { slice_mut::<T>(obj) };
    for element in &mut elements[from..to] {
        element.trace(t);
    }
}

/// # Safety
/// As [`DropFn`], for `T`.
unsafe fn drop_sized<T>(obj: ObjPtr) {
    // SAFETY: precondition: a `T` never dropped before and never used again.
    unsafe { std::ptr::drop_in_place(obj.as_ptr().cast::<u8>().add(HEADER).cast::<T>()) }
}

/// # Safety
/// As [`DropFn`], for `[T]`.
unsafe fn drop_slice<T>(obj: ObjPtr) {
    // SAFETY: precondition: `len` elements never dropped before and never used again.
    unsafe { std::ptr::drop_in_place(slice_mut::<T>(obj)) }
}

mod sealed {
    pub trait Sealed {}
    impl<T: crate::Trace> Sealed for T {}
    impl<T: crate::Trace> Sealed for [T] {}
    impl Sealed for str {}
}

/// Types that can live behind a [`Gc`](crate::Gc): every sized `T: Trace`, `[T]` for `T: Trace`,
/// and `str`. Sealed; the collector relies on the layout each implementation describes.
///
/// # Safety
/// Implemented only in this crate: `TYPE_INFO` describes the object layout that `deref_raw`
/// reads.
pub unsafe trait GcObject: sealed::Sealed {
    #[doc(hidden)]
    const TYPE_INFO: &'static TypeInfo;

    #[doc(hidden)]
    /// # Safety
    /// `header` is the header of a live object of type `Self`, which outlives `'a` and is not
    /// mutated except through interior mutability while the reference is live.
    unsafe fn deref_raw<'a>(header: *const usize) -> &'a Self;
}

// SAFETY: `of_sized::<T>` describes `[header][T]`, and `deref_raw` reads the `T` after the header.
unsafe impl<T: Trace> GcObject for T {
    const TYPE_INFO: &'static TypeInfo = &TypeInfo::of_sized::<T>();

    #[inline(always)]
    unsafe fn deref_raw<'a>(header: *const usize) -> &'a T {
        // SAFETY: precondition: a live `T` follows the header.
        unsafe { &*header.cast::<u8>().add(HEADER).cast::<T>() }
    }
}

// SAFETY: `of_slice::<T>` describes `[header][len][T; len]`, which `deref_raw` reads.
unsafe impl<T: Trace> GcObject for [T] {
    const TYPE_INFO: &'static TypeInfo = &TypeInfo::of_slice::<T>();

    #[inline(always)]
    unsafe fn deref_raw<'a>(header: *const usize) -> &'a [T] {
        // SAFETY: precondition: a live slice object, its length in the word after the header.
        unsafe {
            let len = *header.add(1);
            std::slice::from_raw_parts(header.cast::<u8>().add(HEADER + WORD).cast::<T>(), len)
        }
    }
}

// SAFETY: a `str` object is a `[u8]` object holding UTF-8, checked when it was allocated.
unsafe impl GcObject for str {
    const TYPE_INFO: &'static TypeInfo =
        &TypeInfo { name: std::any::type_name::<str>, ..TypeInfo::of_slice::<u8>() };

    #[inline(always)]
    unsafe fn deref_raw<'a>(header: *const usize) -> &'a str {
        // SAFETY: precondition; the bytes were copied from a `&str`, so they are UTF-8.
        unsafe { std::str::from_utf8_unchecked(<[u8]>::deref_raw(header)) }
    }
}
