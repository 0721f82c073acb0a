//! The large-object space: objects above the size threshold, each allocated on its own from the
//! global allocator, never moved, marked in their header and swept in a full collection.

use std::alloc::{alloc, dealloc, Layout};
use std::io;

use crate::raw::{place, ObjPtr, WORD};

pub(crate) struct LargeObject {
    pub(crate) obj: ObjPtr,
    base: *mut u8,
    layout: Layout,
}

#[derive(Default)]
pub(crate) struct LargeObjectSpace {
    pub(crate) objects: Vec<LargeObject>,
    pub(crate) bytes: usize,
}

impl LargeObjectSpace {
    /// Allocates room for an object of `size` bytes whose payload, `payload_offset` bytes after
    /// the header, needs `align`. The caller writes the header.
    pub(crate) fn alloc(
        &mut self,
        size: usize,
        payload_offset: usize,
        align: usize,
    ) -> io::Result<ObjPtr> {
        let align = align.max(WORD);
        let pad = align - WORD;
        let layout =
            Layout::from_size_align(size + pad, align).map_err(|_| io::ErrorKind::OutOfMemory)?;
        // SAFETY: the layout has a non-zero size (every object has a header).
        let base = unsafe { alloc(layout) };
        if base.is_null() {
            return Err(io::ErrorKind::OutOfMemory.into());
        }
        // Exposed: the heap keeps the object's address as an integer (see `crate::raw::ptr_at`).
        let start = place(base.expose_provenance(), payload_offset, align);
        debug_assert!(start + size <= base.addr() + layout.size());
        self.bytes += layout.size();
        // SAFETY: `start` is inside a fresh allocation aligned to at least 8.
        let obj = unsafe { ObjPtr::from_addr(start) };
        self.objects.push(LargeObject { obj, base, layout });
        Ok(obj)
    }

    /// Frees the objects for which `dead` answers true, after calling it (it runs their
    /// destructors).
    pub(crate) fn sweep(&mut self, mut dead: impl FnMut(ObjPtr) -> bool) -> usize {
        let mut freed = 0;
        self.objects.retain(|large| {
            if !dead(large.obj) {
                return true;
            }
            freed += large.layout.size();
            // SAFETY: allocated by `alloc` with this layout; the object is dead and dropped.
            unsafe { dealloc(large.base, large.layout) };
            false
        });
        self.bytes -= freed;
        freed
    }
}

impl Drop for LargeObjectSpace {
    fn drop(&mut self) {
        for large in self.objects.drain(..) {
            // SAFETY: allocated by `alloc` with this layout; the arena dropped the objects.
            unsafe { dealloc(large.base, large.layout) };
        }
    }
}
