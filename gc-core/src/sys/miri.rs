//! The memory source under Miri, which cannot run `mmap`, `mprotect` or `madvise`: every
//! mapping is a zeroed allocation of std's allocator, with the same contract as the OS
//! functions of the parent module.
//!
//! - A mapping (`map_aligned`, `reserve_aligned`) is `alloc_zeroed` with the asked alignment,
//!   and `unmap` deallocates it: Miri then reports any access to a dropped nursery or chunk.
//! - A reservation is committed from the start (there is no protection to lift): `commit` does
//!   nothing, and Miri cannot catch an access beyond the committed part of the nursery.
//! - Giving pages back (`discard`, `decommit`) zeroes them: the heap relies on discarded
//!   memory reading as zero (a free block's bitmaps are taken as clear when it comes back
//!   from the pool; the nursery's pages are faulted in zeroed).
//! - Reservations are limited to [`MAX_RESERVATION`], as `ulimit -v` would limit them: a
//!   larger one fails with `ENOMEM`, and the nursery settles for less room to grow (its
//!   default reservation is 64 GiB of address space, which Miri would have to allocate).
//! - Mappings are never given back except the nursery's (the process's block pool keeps its
//!   blocks as addresses): the registry keeps a pointer to each, so that Miri's leak check
//!   sees them reachable from a static and still reports every other leak.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::collections::BTreeMap;
use std::io;
use std::sync::Mutex;

/// The largest mapping Miri is asked for (the default nursery, 4 MiB, still fits).
const MAX_RESERVATION: usize = 4 << 20;

/// A live mapping: the pointer it was made with (only kept, for the leak check), and its
/// layout for `unmap`.
struct Mapping {
    _ptr: *mut u8,
    layout: Layout,
}

// SAFETY: the pointer is only kept (for Miri's leak check) and handed back to `dealloc`,
// from whichever thread unmaps it.
unsafe impl Send for Mapping {}

/// Every live mapping, by start address.
static MAPPINGS: Mutex<BTreeMap<usize, Mapping>> = Mutex::new(BTreeMap::new());

fn mappings() -> std::sync::MutexGuard<'static, BTreeMap<usize, Mapping>> {
    // A panic while the lock is held leaves the map consistent (one insert or remove).
    MAPPINGS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// As the OS `map_aligned`: `len` zeroed bytes aligned to `align`.
pub(crate) fn map_aligned(len: usize, align: usize) -> io::Result<*mut u8> {
    debug_assert!(align.is_power_of_two() && len % super::page_size() == 0);
    if super::injected_failure() || len > MAX_RESERVATION {
        return Err(io::Error::from_raw_os_error(libc::ENOMEM));
    }
    let layout = Layout::from_size_align(len, align.max(super::page_size()))
        .map_err(|_| io::ErrorKind::OutOfMemory)?;
    // SAFETY: `len` is a non-zero multiple of the page size.
    let ptr = unsafe { alloc_zeroed(layout) };
    if ptr.is_null() {
        return Err(io::ErrorKind::OutOfMemory.into());
    }
    // Exposed: the heap keeps the addresses of this memory as integers (see the parent module).
    let addr = ptr.expose_provenance();
    mappings().insert(addr, Mapping { _ptr: ptr, layout });
    Ok(ptr)
}

/// As the OS `reserve_aligned`; the range is usable at once.
pub(crate) fn reserve_aligned(len: usize, align: usize) -> io::Result<*mut u8> {
    map_aligned(len, align)
}

/// As the OS `commit`: the reservation is already usable; only the injected failures remain.
///
/// # Safety
/// The range is page-aligned and inside a reservation made by [`reserve_aligned`].
pub(crate) unsafe fn commit(_ptr: *mut u8, _len: usize) -> io::Result<()> {
    if super::injected_failure() {
        return Err(io::Error::from_raw_os_error(libc::ENOMEM));
    }
    Ok(())
}

/// As the OS `decommit`: the range reads as zero when committed again.
///
/// # Safety
/// The range is page-aligned, inside a reservation made by [`reserve_aligned`], and holds
/// nothing live.
pub(crate) unsafe fn decommit(ptr: *mut u8, len: usize) {
    // SAFETY: precondition: writable memory of ours that holds nothing live.
    unsafe { discard(ptr, len) };
}

/// As the OS `discard`: the range reads as zero afterwards.
///
/// # Safety
/// The range is page-aligned, part of a mapping made by `map_aligned`, and holds nothing live.
pub(crate) unsafe fn discard(ptr: *mut u8, len: usize) {
    // SAFETY: precondition: `len` writable bytes of ours, nothing live in them.
    unsafe { std::ptr::write_bytes(ptr, 0, len) };
}

/// As the OS `unmap`, for a whole mapping (its only use: the nursery's reservation; blocks
/// are never unmapped).
///
/// # Safety
/// `[ptr, ptr + len)` was mapped by `map_aligned` and nothing refers into it any more.
pub(crate) unsafe fn unmap(ptr: *mut u8, len: usize) {
    let Mapping { layout, .. } =
        mappings().remove(&ptr.addr()).expect("unmap of a range that was not mapped");
    assert_eq!(layout.size(), len, "only whole mappings are unmapped under Miri");
    // SAFETY: precondition: allocated by `map_aligned` with this layout, unused now.
    unsafe { dealloc(ptr, layout) };
}
