//! The unsafe core: the object header word, per-type information, and the layout of an object.
//!
//! Every managed object is laid out as
//!
//! ```text
//! sized T : [header: usize][T, padded to 8 bytes]
//! [T]/str : [header: usize][len: usize][elements, padded to 8 bytes]
//! ```
//!
//! An object is addressed by its *header* (`ObjPtr`). The payload always starts 8 (sized) or 16
//! (slices) bytes after it, so a `Gc<'gc, [T]>` is a thin pointer. Every object size is a multiple
//! of 8, and every object starts on an 8-byte boundary. Types aligned to more than 8 bytes are
//! placed so that the payload is aligned; the gap in front is filled with one-word filler objects,
//! so that a space stays parseable from start to end (HotSpot's filler objects).
//!
//! The header word holds a pointer to the type's `'static` [`TypeInfo`] (aligned to 64, so the
//! low six bits are free for flags), or, during a collection, a forwarding address.

mod header;
mod type_info;

pub(crate) use header::*;
pub(crate) use type_info::*;
pub use type_info::{GcObject, TypeInfo};

/// The pointer to the heap address `addr`.
///
/// The heap keeps its addresses as integers: forwarding addresses in headers, side tables
/// keyed by address, blocks found by masking an address, slots recorded by address during a
/// collection. Carrying a pointer (with its provenance) through all of those is not possible
/// (a header word is a `usize` that holds either a type pointer or a forwarding address), so
/// every range of heap memory has its provenance *exposed* when it is made (`crate::sys` for
/// the nursery and the blocks, the large-object space for its objects; slots outside the heap
/// are exposed by the `as usize` cast that records them), and this is where an address becomes
/// a pointer again. Miri checks it with `-Zmiri-permissive-provenance`.
#[inline(always)]
pub(crate) fn ptr_at<T>(addr: usize) -> *mut T {
    std::ptr::with_exposed_provenance_mut(addr)
}

/// Asks the CPU to start loading the cache line at `addr` (a hint: never faults, whatever the
/// address).
#[inline(always)]
pub(crate) fn prefetch(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch is a hint; it does not access memory architecturally, so any
        // address is allowed (and it needs no provenance) (SSE, which has it, is part of the x86-64 baseline).
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::without_provenance(addr)) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}
