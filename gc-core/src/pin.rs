//! Pinning: objects that never move, so that their address can be handed to foreign code.
//!
//! An object is pinned for its whole life when allocated with
//! [`Mutation::alloc_pinned`](crate::Mutation::alloc_pinned), or for as long as a [`Pinned`]
//! guard lives ([`Arena::pin`](crate::Arena::pin)). A pinned object carries the `PINNED`
//! header bit and an entry in the heap's pin table; full collections slide the other objects
//! around it (the room they cannot fill in front of it shows in the fragmentation figure).
//! Young objects are never pinned: pinning one first promotes it, since the nursery is
//! emptied by every minor collection.

use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;

use crate::arena::Rootable;
use crate::collector::weak::Liveness;
use crate::handle::Handle;
use crate::raw::{ObjPtr, PINNED};

pub(crate) struct PinEntry {
    pub(crate) obj: ObjPtr,
    /// `None`: pinned for life. `Some`: pinned while a `Pinned` guard holds the other count.
    guard: Option<Rc<()>>,
}

/// The heap's pinned objects.
#[derive(Default)]
pub(crate) struct Pins {
    entries: Vec<PinEntry>,
}

impl Pins {
    pub(crate) fn iter(&self) -> impl Iterator<Item = &PinEntry> {
        self.entries.iter()
    }

    /// Pins `obj` (an old or large object) for life, or while `guard` has other owners.
    ///
    /// # Safety
    /// `obj` is a live object outside the nursery.
    pub(crate) unsafe fn pin(&mut self, obj: ObjPtr, guard: Option<Rc<()>>) {
        // The entry first, the header bit last: a bit is never set without its entry.
        self.entries.push(PinEntry { obj, guard });
        // SAFETY: precondition.
        unsafe { obj.set_header(obj.header() | PINNED) };
    }

    /// Unpins the objects whose guards were all dropped. (Called before marking.)
    pub(crate) fn release_dropped(&mut self) {
        let before = self.entries.len();
        let mut released = Vec::new();
        self.entries.retain(|e| match &e.guard {
            Some(guard) if Rc::strong_count(guard) == 1 => {
                released.push(e.obj);
                false
            }
            _ => true,
        });
        if self.entries.len() == before {
            return;
        }
        for obj in released {
            if !self.entries.iter().any(|e| e.obj == obj) {
                // SAFETY: a guarded object was rooted by its guard's handle until now: live.
                unsafe { obj.set_header(obj.header() & !PINNED) };
            }
        }
    }

    /// Drops the entries of objects that died. (Called after marking.)
    pub(crate) fn after_mark(&mut self, live: &dyn Liveness) {
        self.entries.retain(|e| live.live(e.obj).is_some());
    }
}

/// A guard that keeps an object alive and in place: while it lives, the object does not move,
/// so [`as_ptr`](Pinned::as_ptr) can be handed to foreign code. Made by
/// [`Arena::pin`](crate::Arena::pin); dropping it unpins the object at the next collection.
pub struct Pinned<R: for<'a> Rootable<'a>> {
    handle: Handle<R>,
    _guard: Rc<()>,
    payload: *const u8,
    _marker: PhantomData<R>,
}

impl<R: for<'a> Rootable<'a>> Pinned<R> {
    pub(crate) fn new(handle: Handle<R>, guard: Rc<()>, payload: *const u8) -> Self {
        Pinned { handle, _guard: guard, payload, _marker: PhantomData }
    }

    /// The address of the object's payload (its `T`, or the first element of a slice), stable
    /// while this guard lives.
    pub fn as_ptr(&self) -> *const u8 {
        self.payload
    }

    /// The handle that roots the object; fetch it in `mutate` to use the object.
    pub fn handle(&self) -> &Handle<R> {
        &self.handle
    }
}

impl<R: for<'a> Rootable<'a>> fmt::Debug for Pinned<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pinned").field("address", &self.payload).finish()
    }
}
