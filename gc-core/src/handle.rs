//! Handles: roots held outside `mutate`, each keeping one object alive and following it when
//! it moves.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::panic::Location;
use std::rc::Rc;

use crate::arena::Rootable;
use crate::raw::ObjPtr;
use crate::trace::Tracer;

pub(crate) struct HandleSlot {
    pub(crate) ptr: Cell<ObjPtr>,
    pub(crate) heap_id: u64,
    /// Where the handle was created: named by the verifier and the leak reports.
    pub(crate) site: &'static Location<'static>,
    /// The name the embedder gave it, for the leak reports.
    pub(crate) name: Option<String>,
}

/// The arena's table of handles. A slot is dropped at the first collection after the last
/// `Handle` to it was dropped.
#[derive(Default)]
pub(crate) struct HandleTable {
    slots: Vec<Rc<HandleSlot>>,
}

impl HandleTable {
    pub(crate) fn add(&mut self, slot: Rc<HandleSlot>) {
        self.slots.push(slot);
    }

    /// Drops the slots no handle refers to any more, and traces the others.
    pub(crate) fn trace(&mut self, tracer: &mut Tracer<'_>) {
        self.slots.retain(|slot| Rc::strong_count(slot) > 1);
        for slot in &self.slots {
            // The collector records the slot's address and rewrites it later, so it gets the
            // cell's own storage, not a copy.
            // SAFETY: during a collection nothing else reads or writes the cell (handles are
            // only read inside `mutate`, and the arena is borrowed mutably).
            tracer.visit(unsafe { &mut *slot.ptr.as_ptr() });
        }
    }

    pub(crate) fn slots(&self) -> impl Iterator<Item = &HandleSlot> {
        self.slots.iter().map(|s| &**s)
    }
}

/// A root held outside `mutate`: it keeps its object alive across collections, and gives it
/// back, as a `Gc` with the new brand, inside a later `mutate` call
/// ([`Mutation::fetch`](crate::Mutation::fetch)).
///
/// `R` names the object's type through [`Rootable!`](macro@crate::Rootable):
/// `Handle<Rootable![Node<'_>]>` holds a `Gc<'gc, Node<'gc>>`. Cloning a handle is cheap and
/// designates the same object; the object stays rooted while any clone exists.
///
/// A handle belongs to the arena that made it: fetching it in another arena panics.
pub struct Handle<R: for<'a> Rootable<'a>> {
    pub(crate) slot: Rc<HandleSlot>,
    _marker: PhantomData<R>,
}

impl<R: for<'a> Rootable<'a>> Handle<R> {
    pub(crate) fn new(slot: Rc<HandleSlot>) -> Self {
        Handle { slot, _marker: PhantomData }
    }

    /// Where this handle was created.
    pub fn site(&self) -> &'static Location<'static> {
        self.slot.site
    }

    /// The name given at creation ([`Mutation::named_handle`](crate::Mutation::named_handle)).
    pub fn name(&self) -> Option<&str> {
        self.slot.name.as_deref()
    }

    /// Whether two handles designate the same object.
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        a.slot.ptr.get() == b.slot.ptr.get()
    }
}

impl<R: for<'a> Rootable<'a>> Clone for Handle<R> {
    fn clone(&self) -> Self {
        Handle::new(self.slot.clone())
    }
}

impl<R: for<'a> Rootable<'a>> fmt::Debug for Handle<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("object", &self.slot.ptr.get())
            .field("site", &format_args!("{}", self.slot.site))
            .finish()
    }
}
