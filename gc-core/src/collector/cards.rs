//! Card marking for large slices (`Gc::write_at`).
//!
//! The remembered set has object granularity: one store into an old array makes the next
//! minor collection rescan the whole array. A VM's global table or a large buffer written here
//! and there would be rescanned in full after every slice of work (measured: 770,000 slots per
//! minor collection in the `vm` workload, p99 pause 11 ms). For a slice of at least
//! `MIN_CARDS` cards, `Gc::write_at` marks only the card of the written element, a run of
//! elements covering about `CARD_BYTES` (64), in a side bitmap per slice (`HeapState::cards`); the
//! minor collection traces the elements of the dirty cards only.
//!
//! The bitmaps live beside the heap, not in it: only slices written since the last minor
//! collection have one, and they are dropped after it. A slice that is also remembered whole
//! (`Gc::write` on it) is scanned whole.

use crate::raw::{ObjPtr, TypeInfo};
use crate::trace::Tracer;

/// Bytes of elements a card covers (rounded to whole elements): a cache line, so that a
/// store costs the next minor collection one line of scanning. With 512-byte cards (HotSpot's
/// size) the `vm` workload's random stores still dirtied a quarter of its table's cards
/// between two minor collections; the bitmap of a slice is 1/512 of its size at this size.
pub(crate) const CARD_BYTES: usize = 64;
/// Slices with fewer cards (under 1 KiB) are remembered whole: scanning them costs less than
/// a card table.
pub(crate) const MIN_CARDS: usize = 16;

/// Elements per card for a slice type.
#[inline]
fn per_card(info: &TypeInfo) -> usize {
    (CARD_BYTES / info.elem_size.max(1)).max(1)
}

/// The number of cards of a slice of `len` elements of type `info`, or `None` if it should
/// be remembered whole (small, or its elements hold no pointers).
pub(crate) fn count(info: &TypeInfo, len: usize) -> Option<usize> {
    info.trace_range?;
    let cards = len.div_ceil(per_card(info));
    (cards >= MIN_CARDS).then_some(cards)
}

/// The card of element `index`.
#[inline]
pub(crate) fn of_element(info: &TypeInfo, index: usize) -> usize {
    index / per_card(info)
}

/// Traces the elements of the dirty cards of `obj`, a card-marked slice.
///
/// # Safety
/// `obj` is a live slice object of type `info` (one with `trace_range`) and `len` elements,
/// which the tracer may rewrite; `bits` was made for it by the barrier.
pub(crate) unsafe fn trace_dirty(
    obj: ObjPtr,
    info: &TypeInfo,
    len: usize,
    bits: &[u64],
    tracer: &mut Tracer<'_>,
) {
    let trace = info.trace_range.expect("card-marked slices have a range tracer");
    let per_card = per_card(info);
    for (w, &word) in bits.iter().enumerate() {
        let mut rest = word;
        while rest != 0 {
            let card = w * 64 + rest.trailing_zeros() as usize;
            rest &= rest - 1;
            let from = card * per_card;
            // SAFETY: precondition; the range lies within the slice.
            unsafe { trace(obj, from, (from + per_card).min(len), tracer) };
        }
    }
}

/// Whether element `index` of a card-marked slice lies in a dirty card (for the verifier).
pub(crate) fn is_dirty(info: &TypeInfo, bits: &[u64], index: usize) -> bool {
    let card = of_element(info, index);
    bits.get(card / 64).is_some_and(|w| w & (1 << (card % 64)) != 0)
}
