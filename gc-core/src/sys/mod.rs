//! The only module that maps memory: anonymous mappings for the nursery and the old
//! generation's blocks, and giving pages back to the OS.
//!
//! Under Miri (`cfg(miri)`), which cannot run `mmap`, the same functions are served by std's
//! allocator (see [`miri`]): a mapping is a zeroed allocation, giving pages back zeroes them.
//!
//! Provenance: the heap keeps addresses as `usize` (object headers hold forwarding addresses,
//! side tables and block bitmaps are keyed by address, blocks are found by masking), so every
//! mapping's provenance is *exposed* here, once, when it is made, and the heap turns its
//! addresses back into pointers with `std::ptr::with_exposed_provenance_mut` (see
//! `crate::raw::ptr_at`). Miri therefore runs with `-Zmiri-permissive-provenance`.

use std::io;

pub mod numa;

#[cfg(miri)]
mod miri;
#[cfg(miri)]
pub(crate) use miri::{commit, decommit, discard, map_aligned, reserve_aligned, unmap};

/// Maps `len` bytes of zeroed, readable and writable memory aligned to `align` (a power of two
/// no smaller than the page size), reserving no swap: pages are committed on first touch.
#[cfg(not(miri))]
pub(crate) fn map_aligned(len: usize, align: usize) -> io::Result<*mut u8> {
    debug_assert!(align.is_power_of_two() && len % page_size() == 0);
    if injected_failure() {
        return Err(io::Error::from_raw_os_error(libc::ENOMEM));
    }
    let align = align.max(page_size());
    let over = len.checked_add(align - page_size()).ok_or(io::ErrorKind::OutOfMemory)?;
    // SAFETY: an anonymous private mapping at an address of the kernel's choosing touches no
    // existing memory.
    let raw = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            over,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if raw == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    let raw = raw.cast::<u8>();
    let head = raw.addr().next_multiple_of(align) - raw.addr();
    let tail = over - head - len;
    // Offsets inside the mapping keep its provenance.
    let aligned = raw.wrapping_add(head);
    // SAFETY: both trimmed ranges lie inside the mapping just made and hold nothing.
    unsafe {
        if head > 0 {
            libc::munmap(raw.cast(), head);
        }
        if tail > 0 {
            libc::munmap(aligned.wrapping_add(len).cast(), tail);
        }
    }
    // Exposed: the heap keeps the addresses of this memory as integers (see above).
    aligned.expose_provenance();
    Ok(aligned)
}

/// The size of a transparent huge page on x86-64 (and arm64 with 4 KiB pages).
pub(crate) const HUGE_PAGE: usize = 2 << 20;

/// Maps a [`HUGE_PAGE`]-sized and -aligned range, as [`map_aligned`], and, if `huge`, asks
/// for transparent huge pages for it where the kernel offers them on request.
pub(crate) fn map_huge_chunk(huge: bool) -> io::Result<*mut u8> {
    let ptr = map_aligned(HUGE_PAGE, HUGE_PAGE)?;
    // (Under Miri the chunk is an allocation of std's: there is no page to advise on.)
    if huge && !cfg!(miri) {
        // Advisory only: without THP the chunk is made of ordinary pages.
        // SAFETY: our fresh mapping.
        unsafe { libc::madvise(ptr.cast(), HUGE_PAGE, libc::MADV_HUGEPAGE) };
    }
    Ok(ptr)
}

/// Reserves `len` bytes of address space aligned to `align`, inaccessible and uncommitted:
/// [`commit`] makes parts of it usable.
#[cfg(not(miri))]
pub(crate) fn reserve_aligned(len: usize, align: usize) -> io::Result<*mut u8> {
    let ptr = map_aligned(len, align)?;
    // SAFETY: the range was just mapped by us and holds nothing.
    if unsafe { libc::mprotect(ptr.cast(), len, libc::PROT_NONE) } != 0 {
        let err = io::Error::last_os_error();
        // SAFETY: mapped above, unused.
        unsafe { unmap(ptr, len) };
        return Err(err);
    }
    Ok(ptr)
}

/// Makes `[ptr, ptr + len)` of a reservation readable and writable (zeroed on first touch),
/// and asks for transparent huge pages where the kernel offers them on request.
///
/// # Safety
/// The range is page-aligned and inside a reservation made by [`reserve_aligned`].
#[cfg(not(miri))]
pub(crate) unsafe fn commit(ptr: *mut u8, len: usize) -> io::Result<()> {
    if injected_failure() {
        return Err(io::Error::from_raw_os_error(libc::ENOMEM));
    }
    // SAFETY: precondition: our reservation.
    if unsafe { libc::mprotect(ptr.cast(), len, libc::PROT_READ | libc::PROT_WRITE) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // Advisory only: a failure (no THP support) changes nothing.
    // SAFETY: precondition: our mapping.
    unsafe { libc::madvise(ptr.cast(), len, libc::MADV_HUGEPAGE) };
    Ok(())
}

/// Gives the pages of `[ptr, ptr + len)` back to the OS and makes the range inaccessible again.
///
/// # Safety
/// The range is page-aligned, inside a reservation made by [`reserve_aligned`], and holds
/// nothing live.
#[cfg(not(miri))]
pub(crate) unsafe fn decommit(ptr: *mut u8, len: usize) {
    // SAFETY: precondition; MADV_DONTNEED on a private anonymous mapping only drops its pages.
    unsafe {
        libc::madvise(ptr.cast(), len, libc::MADV_DONTNEED);
        libc::mprotect(ptr.cast(), len, libc::PROT_NONE);
    }
}

/// Gives the pages of `[ptr, ptr + len)` back to the OS; they read as zero afterwards.
///
/// # Safety
/// The range is page-aligned, part of a mapping made by `map_aligned`, and holds nothing live.
#[cfg(not(miri))]
pub(crate) unsafe fn discard(ptr: *mut u8, len: usize) {
    // SAFETY: precondition; MADV_DONTNEED on a private anonymous mapping only drops its pages.
    let rc = unsafe { libc::madvise(ptr.cast(), len, libc::MADV_DONTNEED) };
    debug_assert_eq!(rc, 0, "madvise failed: {}", io::Error::last_os_error());
}

/// Unmaps memory mapped by [`map_aligned`].
///
/// # Safety
/// `[ptr, ptr + len)` was mapped by `map_aligned` (or is a page-aligned part of such a
/// mapping) and nothing refers into it any more.
#[cfg(not(miri))]
pub(crate) unsafe fn unmap(ptr: *mut u8, len: usize) {
    // SAFETY: precondition.
    let rc = unsafe { libc::munmap(ptr.cast(), len) };
    debug_assert_eq!(rc, 0, "munmap failed: {}", io::Error::last_os_error());
}

/// Asks the C allocator to return the free memory it holds to the OS (glibc's `malloc_trim`;
/// nothing elsewhere).
pub(crate) fn trim_malloc() {
    // (Miri has no `malloc_trim`, and nothing to trim.)
    #[cfg(all(target_os = "linux", target_env = "gnu", not(miri)))]
    // SAFETY: malloc_trim has no preconditions; it only releases free memory.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The size of a page.
pub(crate) fn page_size() -> usize {
    use std::sync::OnceLock;
    static PAGE: OnceLock<usize> = OnceLock::new();
    // SAFETY: sysconf has no preconditions.
    *PAGE.get_or_init(|| unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize)
}

/// Resident set and peak resident set of this process, in bytes, from `/proc/self/status`.
pub fn memory_usage() -> Option<(usize, usize)> {
    // Miri isolates the program from the file system.
    if cfg!(miri) {
        return None;
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<usize> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: usize = line[name.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

thread_local! {
    /// Mappings left to fail on this thread (fault injection for the tests).
    static FAIL_MAPS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn injected_failure() -> bool {
    FAIL_MAPS.with(|left| {
        let n = left.get();
        if n > 0 {
            left.set(n - 1);
        }
        n > 0
    })
}

/// Makes the next `n` memory mappings of this thread fail with `ENOMEM`, as an exhausted OS
/// would: the tests check that every caller turns that into a typed error or a clean panic,
/// with the heap intact.
pub fn fail_next_maps(n: usize) {
    FAIL_MAPS.with(|left| left.set(n));
}
