//! Checking: the heap verifier, the census, and zapping of freed memory.

pub(crate) mod census;
pub(crate) mod verify;

/// The word written over freed heap memory when the verifier is on, so that a stale pointer
/// into it reads an impossible header (HotSpot's heap mangling).
pub(crate) const ZAP_WORD: usize = 0xdead_beef_dead_beef;

/// Overwrites `[from, to)` with [`ZAP_WORD`].
///
/// # Safety
/// The range is writable, 8-aligned, and holds nothing live.
pub(crate) unsafe fn zap(from: usize, to: usize) {
    let mut at = from;
    while at < to {
        // SAFETY: precondition.
        unsafe { *(at as *mut usize) = ZAP_WORD };
        at += 8;
    }
}
