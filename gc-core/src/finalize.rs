//! Post-mortem finalization, like JavaScript's `FinalizationRegistry`.
//!
//! A registration pairs an object with a token. When a collection finds the object dead, the
//! token goes to the registry's queue, where the embedder takes it at a safepoint (to close a
//! file, free a foreign resource). The token is `'static`, so it holds no `Gc`: the dead object
//! can never be reached again, by construction. No resurrection, no finalizer running on a
//! half-dead object.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;

use crate::collector::weak::Liveness;
use crate::collector::DropPanics;
use crate::gc::Gc;
use crate::mutation::Mutation;
use crate::raw::{ObjPtr, FORWARDED};

struct Inner<T> {
    ready: RefCell<VecDeque<T>>,
    /// Registry handles alive: when none is left, pending tokens are dropped undelivered.
    handles: Cell<usize>,
    pending: Cell<usize>,
}

/// A queue of tokens, each delivered once the object it was registered with has died.
///
/// ```
/// use gc_core::{Arena, FinalizationRegistry, Gc, HeapConfig, Rootable};
///
/// let registry = FinalizationRegistry::<u32>::new();
/// let mut arena = Arena::<Rootable![Option<Gc<'_, String>>]>::new(HeapConfig::default(), |_| None);
/// arena.mutate_root(|mc, root| {
///     let file = Gc::new(mc, "a file".to_string());
///     registry.register(mc, file, 7); // e.g. its descriptor
///     *root = Some(file);
/// });
/// arena.collect_full();
/// assert_eq!(registry.take(), None); // still rooted
/// arena.mutate_root(|_, root| *root = None);
/// arena.collect_full();
/// assert_eq!(registry.take(), Some(7));
/// ```
pub struct FinalizationRegistry<T: 'static> {
    inner: Rc<Inner<T>>,
}

impl<T: 'static> FinalizationRegistry<T> {
    /// An empty registry. It can take registrations from any number of arenas.
    pub fn new() -> Self {
        FinalizationRegistry {
            inner: Rc::new(Inner {
                ready: RefCell::new(VecDeque::new()),
                handles: Cell::new(1),
                pending: Cell::new(0),
            }),
        }
    }

    /// Registers `target`: `token` is delivered to this registry after a collection finds
    /// `target` dead.
    pub fn register<'gc, U: ?Sized + 'gc>(&self, mc: &Mutation<'gc>, target: Gc<'gc, U>, token: T) {
        self.inner.pending.set(self.inner.pending.get() + 1);
        let entry = Box::new(Entry { registry: self.inner.clone(), token });
        mc.heap().state.borrow_mut().finalizers.register(
            target.ptr,
            mc.heap().nursery.contains(target.ptr.addr()),
            entry,
        );
    }

    /// The next token whose object has died, if any.
    pub fn take(&self) -> Option<T> {
        self.inner.ready.borrow_mut().pop_front()
    }

    /// All the tokens whose objects have died.
    pub fn drain(&self) -> Vec<T> {
        self.inner.ready.borrow_mut().drain(..).collect()
    }

    /// Registrations whose object has not been found dead yet.
    pub fn pending(&self) -> usize {
        self.inner.pending.get()
    }
}

impl<T: 'static> Default for FinalizationRegistry<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: 'static> Clone for FinalizationRegistry<T> {
    fn clone(&self) -> Self {
        self.inner.handles.set(self.inner.handles.get() + 1);
        FinalizationRegistry { inner: self.inner.clone() }
    }
}

impl<T: 'static> Drop for FinalizationRegistry<T> {
    fn drop(&mut self) {
        self.inner.handles.set(self.inner.handles.get() - 1);
    }
}

impl<T: 'static> fmt::Debug for FinalizationRegistry<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FinalizationRegistry")
            .field("ready", &self.inner.ready.borrow().len())
            .field("pending", &self.inner.pending.get())
            .finish()
    }
}

/// A registration, type-erased for the heap.
trait Pending {
    fn deliver(self: Box<Self>);
    /// Drops the registration undelivered.
    fn discard(self: Box<Self>);
    fn abandoned(&self) -> bool;
}

struct Entry<T: 'static> {
    registry: Rc<Inner<T>>,
    token: T,
}

impl<T: 'static> Pending for Entry<T> {
    fn deliver(self: Box<Self>) {
        let registry = &self.registry;
        registry.pending.set(registry.pending.get() - 1);
        if registry.handles.get() > 0 {
            registry.ready.borrow_mut().push_back(self.token);
        }
    }

    fn discard(self: Box<Self>) {
        let registry = &self.registry;
        registry.pending.set(registry.pending.get() - 1);
    }

    fn abandoned(&self) -> bool {
        self.registry.handles.get() == 0
    }
}

/// The heap's registrations, young and old apart so that a minor collection looks only at the
/// young ones.
///
/// Delivering a token is user code: when the registry is gone the token is dropped, and the
/// registry's last reference may go with it. So the collection only moves the registrations
/// of dead objects to `due`, and delivers them ([`Finalizers::deliver`]) once its bookkeeping
/// is complete, each under the panic catching of [`DropPanics`].
#[derive(Default)]
pub(crate) struct Finalizers {
    young: Vec<(ObjPtr, Box<dyn Pending>)>,
    old: Vec<(ObjPtr, Box<dyn Pending>)>,
    due: Vec<Box<dyn Pending>>,
}

impl Finalizers {
    fn register(&mut self, target: ObjPtr, young: bool, entry: Box<dyn Pending>) {
        if young {
            self.young.push((target, entry));
        } else {
            self.old.push((target, entry));
        }
    }

    /// After a minor collection: young registrations of dead objects are delivered, the others
    /// follow their objects.
    pub(crate) fn after_minor(&mut self, live: &dyn Liveness) {
        for (target, entry) in self.young.drain(..) {
            match live.live(target) {
                Some(now) if !entry.abandoned() => self.old.push((now, entry)),
                _ => self.due.push(entry),
            }
        }
    }

    /// After marking: registrations of dead objects are delivered.
    pub(crate) fn after_mark(&mut self, live: &dyn Liveness) {
        let mut kept = Vec::with_capacity(self.old.len());
        for (target, entry) in self.old.drain(..) {
            if live.live(target).is_some() && !entry.abandoned() {
                kept.push((target, entry));
            } else {
                self.due.push(entry);
            }
        }
        self.old = kept;
    }

    /// Delivers the tokens of the registrations found dead, each under `panics` (the end of a
    /// collection, when the heap is consistent again).
    pub(crate) fn deliver(&mut self, panics: &mut DropPanics) {
        // Taken first: a panic in one delivery leaves the others to deliver, and the list
        // consistent.
        for entry in std::mem::take(&mut self.due) {
            panics.catch(|| entry.deliver());
        }
    }

    /// The heap is going away: the registrations found dead are delivered, the others
    /// dropped undelivered (their objects were never found dead), each under `panics`.
    pub(crate) fn discard_all(&mut self, panics: &mut DropPanics) {
        self.deliver(panics);
        let young = std::mem::take(&mut self.young);
        let old = std::mem::take(&mut self.old);
        for (_, entry) in young.into_iter().chain(old) {
            panics.catch(|| entry.discard());
        }
    }

    /// After planning a compaction: registrations follow their objects.
    pub(crate) fn after_plan(&mut self) {
        for (target, _) in &mut self.old {
            // SAFETY: a live object; its header is its type or a forwarding word.
            let word = unsafe { target.header() };
            if word & FORWARDED != 0 {
                // SAFETY: the forwarding word holds the planned address.
                *target = unsafe { ObjPtr::from_addr(word & !FORWARDED) };
            }
        }
    }

    /// Moves every target by `bytes` (the verifier's own test corrupts the table with it).
    #[cfg(test)]
    pub(crate) fn shift_targets_for_test(&mut self, bytes: isize) {
        for (target, _) in self.young.iter_mut().chain(&mut self.old) {
            // SAFETY: not dereferenced until shifted back; the verifier checks it is not an
            // object start before reading.
            *target = unsafe { ObjPtr::from_addr(target.addr().wrapping_add_signed(bytes)) };
        }
    }

    pub(crate) fn targets(&self) -> impl Iterator<Item = ObjPtr> + '_ {
        self.young.iter().chain(&self.old).map(|(t, _)| *t)
    }
}
