//! The header word and the erased object pointer.

use std::ptr::NonNull;

use super::type_info::{Kind, TypeInfo};

/// Size of the header word in bytes.
pub(crate) const HEADER: usize = 8;
/// Granule of every size and address in the heap.
pub(crate) const WORD: usize = 8;

/// The header holds a forwarding address (the new header address), not a type pointer.
/// Forwarding addresses are 8-aligned, so bits 1..6 are zero when this bit is set.
pub(crate) const FORWARDED: usize = 1 << 0;
/// The object is in the remembered set (the write barrier fired since the last collection).
pub(crate) const REMEMBERED: usize = 1 << 1;
/// The object lives in the large-object space (never moved, marked in its header).
pub(crate) const LARGE: usize = 1 << 2;
/// Mark bit of a large object during a full collection (old-generation objects use the side
/// bitmap of their block instead).
pub(crate) const MARKED: usize = 1 << 3;
/// The object has an identity hash, kept in the heap's identity table under its address.
pub(crate) const HASHED: usize = 1 << 4;
/// The object never moves (allocated pinned, or pinned by a `Pinned` guard).
pub(crate) const PINNED: usize = 1 << 5;
/// All flag bits: `TypeInfo` is aligned to 64 bytes.
pub(crate) const FLAGS: usize = 63;

/// Rounds `n` up to a multiple of `align` (a power of two).
#[inline(always)]
pub(crate) const fn align_up(n: usize, align: usize) -> usize {
    (n + align - 1) & !(align - 1)
}

/// An erased pointer to the header of a managed object.
///
/// It is only a pointer: every dereferencing method is `unsafe` and requires that the pointer
/// designates the header of an object that is valid for the access, which the collector's
/// invariants (checked by the verifier) guarantee for every pointer reachable from the roots.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub(crate) struct ObjPtr(NonNull<usize>);

impl std::fmt::Debug for ObjPtr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#x}", self.addr())
    }
}

impl ObjPtr {
    /// # Safety
    /// `addr` is non-zero and 8-aligned.
    #[inline(always)]
    pub(crate) unsafe fn from_addr(addr: usize) -> ObjPtr {
        debug_assert!(addr != 0 && addr % WORD == 0, "bad object address {addr:#x}");
        // SAFETY: the caller promises a non-zero address (precondition).
        ObjPtr(unsafe { NonNull::new_unchecked(super::ptr_at(addr)) })
    }

    /// For assertions: an address as an `ObjPtr` without dereferencing it (null becomes 8).
    pub(crate) fn from_addr_checked(addr: usize) -> ObjPtr {
        // SAFETY: never null; only compared.
        ObjPtr(unsafe { NonNull::new_unchecked(super::ptr_at(addr.max(WORD))) })
    }

    #[inline(always)]
    pub(crate) fn addr(self) -> usize {
        self.0.as_ptr().addr()
    }

    #[inline(always)]
    pub(crate) fn as_ptr(self) -> *mut usize {
        self.0.as_ptr()
    }

    /// The raw header word.
    ///
    /// # Safety
    /// `self` points at a readable object header.
    #[inline(always)]
    pub(crate) unsafe fn header(self) -> usize {
        // SAFETY: precondition.
        unsafe { *self.0.as_ptr() }
    }

    /// # Safety
    /// `self` points at a writable object header, and no reference to the header word is live.
    #[inline(always)]
    pub(crate) unsafe fn set_header(self, word: usize) {
        // SAFETY: precondition.
        unsafe { *self.0.as_ptr() = word }
    }

    /// The type of the object.
    ///
    /// # Safety
    /// `self` points at a readable object header that is not forwarded.
    #[inline(always)]
    pub(crate) unsafe fn type_info(self) -> &'static TypeInfo {
        // SAFETY: precondition.
        let word = unsafe { self.header() };
        debug_assert!(word & FORWARDED == 0, "type_info of a forwarded object at {self:?}");
        // SAFETY: a header that is not forwarded holds a `&'static TypeInfo` plus flag bits,
        // written by `init_header`.
        unsafe { type_info_of_word(word) }
    }

    /// The element count of a slice object.
    ///
    /// # Safety
    /// `self` points at the readable header of a slice object (its length word follows it).
    #[inline(always)]
    pub(crate) unsafe fn slice_len(self) -> usize {
        // SAFETY: precondition: the length word follows the header.
        unsafe { *self.0.as_ptr().add(1) }
    }

    /// Total size of the object in bytes (header, length word and padding included).
    ///
    /// # Safety
    /// As for [`ObjPtr::type_info`], and for a slice object its length word is readable.
    #[inline(always)]
    pub(crate) unsafe fn size(self) -> usize {
        // SAFETY: precondition.
        let info = unsafe { self.type_info() };
        // SAFETY: precondition.
        unsafe { self.size_with(info) }
    }

    /// Total size of the object, its type already known.
    ///
    /// # Safety
    /// `info` is the type of the object at `self`; for a slice, its length word is readable.
    #[inline(always)]
    pub(crate) unsafe fn size_with(self, info: &TypeInfo) -> usize {
        match info.kind {
            Kind::Sized => info.object_size,
            // SAFETY: precondition: a slice object has a readable length word.
            Kind::Slice => info.slice_object_size(unsafe { self.slice_len() }),
        }
    }

    /// The address of the payload.
    #[inline(always)]
    pub(crate) fn payload(self, info: &TypeInfo) -> *mut u8 {
        self.0.as_ptr().cast::<u8>().wrapping_add(info.payload_offset())
    }
}

/// # Safety
/// `word` is a header word that is not forwarded.
#[inline(always)]
pub(crate) unsafe fn type_info_of_word(word: usize) -> &'static TypeInfo {
    // SAFETY: precondition: the word is a `&'static TypeInfo` with flags in its low bits.
    unsafe { &*super::ptr_at::<TypeInfo>(word & !FLAGS) }
}

/// The header word for an object of type `info` with `flags`.
#[inline(always)]
pub(crate) fn header_word(info: &'static TypeInfo, flags: usize) -> usize {
    debug_assert!(flags & FORWARDED == 0 && flags & !FLAGS == 0);
    // Exposed: the header word is read back as a pointer by `type_info_of_word`.
    (info as *const TypeInfo).expose_provenance() | flags
}

/// Start address for an object whose payload sits `payload_offset` bytes after its header and
/// must be aligned to `align`, placed at or after `cursor`.
#[inline(always)]
pub(crate) fn place(cursor: usize, payload_offset: usize, align: usize) -> usize {
    if align <= WORD {
        cursor
    } else {
        align_up(cursor + payload_offset, align) - payload_offset
    }
}

/// Writes one-word filler objects over `[from, to)`, so that the range parses as objects.
///
/// # Safety
/// The range is writable, 8-aligned, and holds no live object.
pub(crate) unsafe fn fill(from: usize, to: usize) {
    debug_assert!(from <= to && from % WORD == 0 && to % WORD == 0);
    let filler = header_word(&super::type_info::FILLER, 0);
    let mut at = from;
    while at < to {
        // SAFETY: precondition: writable words.
        unsafe { *super::ptr_at::<usize>(at) = filler };
        at += WORD;
    }
}

/// Copies an object of `size` bytes (a multiple of 8). Most objects are a few words: a word
/// loop the compiler can unroll beats a call to `memcpy` for them.
///
/// The words are copied as `MaybeUninit<usize>`, never as `usize`: a payload holds pointers
/// (whose provenance an integer copy would strip, so that the copy's `Gc`s and `Box`es
/// could no longer be dereferenced) and padding (uninitialised bytes, which an integer read
/// may not see).
///
/// # Safety
/// `from` and `to` are 8-aligned, valid for `size` bytes, and do not overlap.
#[inline(always)]
pub(crate) unsafe fn copy_object(from: ObjPtr, to: ObjPtr, size: usize) {
    use std::mem::MaybeUninit;
    debug_assert!(size % WORD == 0);
    let from = from.as_ptr().cast::<MaybeUninit<usize>>();
    let to = to.as_ptr().cast::<MaybeUninit<usize>>();
    if size <= 8 * WORD {
        for i in 0..size / WORD {
            // SAFETY: precondition: `i` words into both objects.
            unsafe { *to.add(i) = *from.add(i) };
        }
    } else {
        // SAFETY: precondition.
        unsafe { std::ptr::copy_nonoverlapping(from, to, size / WORD) };
    }
}
