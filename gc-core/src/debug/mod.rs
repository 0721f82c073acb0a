//! Checking: the heap verifier, the census, and zapping of freed memory.

#[cfg(feature = "leak-debug")]
pub(crate) mod births;
pub(crate) mod census;
pub(crate) mod checkers;
pub(crate) mod graph;
#[cfg(feature = "leak-debug")]
pub(crate) mod leak;
pub(crate) mod verify;
#[cfg(feature = "leak-debug")]
pub(crate) mod watch;

/// The word written over freed heap memory when the verifier is on, so that a stale pointer
/// into it reads an impossible header (HotSpot's heap mangling).
pub(crate) const ZAP_WORD: usize = 0xdead_beef_dead_beef;

/// Overwrites `[from, to)` with [`ZAP_WORD`], then poisons it for the memory checkers (in the
/// builds made for them, see [`checkers`]).
///
/// # Safety
/// The range is writable, 8-aligned, and holds nothing live.
pub(crate) unsafe fn zap(from: usize, to: usize) {
    // The range may already be poisoned (a block's tail, zapped at every compaction).
    checkers::unpoison(from, to);
    let mut at = from;
    while at < to {
        // SAFETY: precondition.
        unsafe { *(at as *mut usize) = ZAP_WORD };
        at += 8;
    }
    checkers::poison(from, to);
}

/// Whether freed memory is zapped: with the verifier on, and in the checkers' builds.
pub(crate) fn zapping(verify: bool) -> bool {
    verify || checkers::POISON
}
