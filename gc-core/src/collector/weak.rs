//! Weak edges during a collection: weak references, ephemerons, and the tables built on them.
//!
//! Tracing does not follow a weak edge; it records where the edge is. An ephemeron (a key held
//! weakly, a value held only while the key lives) traces its value at once if its key is
//! already known to be live, and is otherwise deferred. Once the strong graph is traced, the
//! deferred ephemerons whose key has become live are traced, which may make more keys live:
//! this runs to a fixpoint (the semantics of JavaScript's `WeakMap`, Lua's weak-key tables).
//! All of that is the tracing phase, where user code runs and nothing has moved yet.
//!
//! In the commit phase (no user code but destructors), every recorded weak slot is cleared
//! (target dead) or redirected (target moved), and every table that registered a sweep drops
//! its entries whose key (or value) died.

use super::{DropPanics, Mode};
use crate::raw::{ObjPtr, FORWARDED, LARGE, MARKED};
use crate::space::block::Geometry;
use crate::trace::{Trace, Tracer};

/// Traces a type-erased value.
///
/// # Safety
/// The pointer designates a live `V` of the type the function was made for.
pub(crate) type ValueTraceFn = unsafe fn(*mut (), &mut Tracer<'_>);

/// Drops the entries of a type-erased table whose weak parts died, redirecting the others.
///
/// # Safety
/// The pointer designates a live table of the type the function was made for; the
/// collector has exclusive access.
pub(crate) type SweepFn = unsafe fn(*mut (), &dyn Liveness, &mut DropPanics);

/// Where a recorded slot or table is: at `addr`, inside the young object starting at
/// `container` if `addr` is young (a minor collection moves that object before the slot is
/// updated, so the address is translated to the copy), or 0.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Place {
    pub(crate) container: usize,
    pub(crate) addr: usize,
}

/// An ephemeron whose key was not known to be live when it was traced.
pub(crate) struct Deferred {
    key: Place,
    /// The end of the young object holding the entry (see `Place::container`).
    container_end: usize,
    value: *mut (),
    trace: ValueTraceFn,
}

pub(crate) struct Sweep {
    table: Place,
    sweep: SweepFn,
}

/// The weak work recorded while tracing, kept between collections to reuse its buffers.
#[derive(Default)]
pub(crate) struct WeakWork {
    pub(crate) slots: Vec<Place>,
    pub(crate) ephemerons: Vec<Deferred>,
    pub(crate) sweeps: Vec<Sweep>,
}

impl WeakWork {
    /// Nothing recorded: the state between collections (an abandoned one clears its work).
    pub(crate) fn is_empty(&self) -> bool {
        self.slots.is_empty() && self.ephemerons.is_empty() && self.sweeps.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.ephemerons.clear();
        self.sweeps.clear();
    }
}

/// Whether an object survives (or, while tracing, is known to survive so far).
pub(crate) trait Liveness {
    /// `None` if `obj` is dead (or not yet known to be live, while tracing); its address now
    /// if it lives.
    fn live(&self, obj: ObjPtr) -> Option<ObjPtr>;
}

/// Minor collections, after the copy: old objects live; a young one lives if it was copied.
pub(crate) struct MinorLiveness {
    pub(crate) nursery_start: usize,
    pub(crate) nursery_len: usize,
}

impl Liveness for MinorLiveness {
    #[inline]
    fn live(&self, obj: ObjPtr) -> Option<ObjPtr> {
        if obj.addr().wrapping_sub(self.nursery_start) >= self.nursery_len {
            return Some(obj);
        }
        // SAFETY: a young object's header is readable until the nursery is reset.
        let word = unsafe { obj.header() };
        // SAFETY: a forwarding word holds the address of the copy.
        (word & FORWARDED != 0).then(|| unsafe { ObjPtr::from_addr(word & !FORWARDED) })
    }
}

/// Full collections, after marking and before anything moves: an object lives if marked.
pub(crate) struct FullLiveness {
    pub(crate) geom: Geometry,
}

impl Liveness for FullLiveness {
    #[inline]
    fn live(&self, obj: ObjPtr) -> Option<ObjPtr> {
        // SAFETY: objects referenced from the heap are valid until the sweep frees them, and
        // liveness is only asked before it.
        let word = unsafe { obj.header() };
        let marked = if word & LARGE != 0 {
            word & MARKED != 0
        } else {
            // SAFETY: a block object: its bitmap is in its block.
            unsafe { self.geom.block_of(obj).is_marked(obj.addr()) }
        };
        marked.then_some(obj)
    }
}

impl Mode<'_> {
    fn weak_work(&mut self) -> Option<&mut WeakWork> {
        match self {
            Mode::Minor(marker) => Some(&mut marker.weak),
            Mode::Mark(marker) => Some(&mut marker.weak),
            Mode::Check(_) | Mode::Graph(_) => None,
        }
    }

    /// Liveness as far as tracing has got.
    fn known_live(&self, obj: ObjPtr) -> bool {
        match self {
            Mode::Minor(marker) => marker.is_marked_or_old(obj),
            Mode::Mark(marker) => (FullLiveness { geom: marker.geom }).live(obj).is_some(),
            Mode::Check(_) | Mode::Graph(_) => true,
        }
    }

    /// The place of a slot at `addr`, for the mode's records.
    fn place(&self, addr: usize) -> Place {
        match self {
            Mode::Minor(marker) => marker.place(addr),
            _ => Place { container: 0, addr },
        }
    }

    #[inline]
    pub(crate) fn visit_weak(&mut self, slot: &mut Option<ObjPtr>) {
        let Some(target) = *slot else { return };
        let addr = slot as *mut Option<ObjPtr> as usize;
        match self {
            // Old targets do not move or die in a minor collection: nothing to record.
            Mode::Minor(marker) if !marker.is_young(target) => {}
            Mode::Check(checker) => checker.visit_weak(target),
            Mode::Graph(builder) => builder.visit_weak(target),
            _ => {
                let place = self.place(addr);
                self.weak_work().expect("a collecting mode").slots.push(place);
            }
        }
    }

    pub(crate) fn defer(&mut self, key: Place, value: *mut (), trace: ValueTraceFn) {
        let container_end = match self {
            Mode::Minor(marker) => marker.container_end,
            _ => 0,
        };
        if let Some(work) = self.weak_work() {
            work.ephemerons.push(Deferred { key, container_end, value, trace });
        }
    }
}

impl Tracer<'_> {
    /// Reports a weak pointer slot: the collector clears it if its target dies and redirects
    /// it if the target moves, but the slot does not keep the target alive.
    #[inline]
    pub(crate) fn visit_weak(&mut self, slot: &mut Option<ObjPtr>) {
        self.mode.visit_weak(slot)
    }

    /// Reports an ephemeron: `value` is traced only once `key` is known to be live.
    ///
    /// `key` and `value` must stay where they are until the collection ends (they are inside
    /// an object or the root, which only the collection's commit phase moves).
    #[inline]
    pub(crate) fn ephemeron<V: Trace>(&mut self, key: &mut Option<ObjPtr>, value: &mut V) {
        let Some(target) = *key else { return };
        match &mut self.mode {
            Mode::Check(checker) => {
                checker.visit_weak(target);
                return value.trace_labeled(self);
            }
            Mode::Graph(builder) => {
                builder.visit_weak(target);
                builder.in_ephemeron += 1;
                value.trace_labeled(self);
                if let Mode::Graph(builder) = &mut self.mode {
                    builder.in_ephemeron -= 1;
                }
                return;
            }
            _ => {}
        }
        let place = self.mode.place(key as *mut Option<ObjPtr> as usize);
        if self.mode.known_live(target) {
            self.mode.visit_weak(key);
            value.trace(self);
        } else {
            self.mode.defer(place, value as *mut V as *mut (), trace_erased::<V>);
        }
    }

    /// Asks for `sweep(table)` in the commit phase (the table is in an object or the root,
    /// where it stays until then, or moves with its young object).
    #[inline]
    pub(crate) fn register_sweep(&mut self, table: *mut (), sweep: SweepFn) {
        let place = self.mode.place(table as usize);
        if let Some(work) = self.mode.weak_work() {
            work.sweeps.push(Sweep { table: place, sweep });
        }
    }
}

/// # Safety
/// As [`ValueTraceFn`], for `V`.
unsafe fn trace_erased<V: Trace>(value: *mut (), tracer: &mut Tracer<'_>) {
    // SAFETY: precondition.
    unsafe { (*(value as *mut V)).trace(tracer) }
}

/// The tracing phase's end: runs the ephemeron fixpoint. `drain` finishes the strong tracing
/// work queued so far.
pub(crate) fn fixpoint(tracer: &mut Tracer<'_>, drain: &mut dyn FnMut(&mut Tracer<'_>)) {
    loop {
        drain(tracer);
        let work = tracer.mode.weak_work().expect("a collecting mode");
        let pending = std::mem::take(&mut work.ephemerons);
        let mut progressed = false;
        let mut waiting = Vec::new();
        for deferred in pending {
            // SAFETY: the key slot is where it was traced (nothing moves while tracing).
            let key = unsafe { &mut *(deferred.key.addr as *mut Option<ObjPtr>) };
            match *key {
                Some(target) if tracer.mode.known_live(target) => {
                    tracer.mode.visit_weak(key);
                    if let Mode::Minor(marker) = &mut tracer.mode {
                        marker.container = deferred.key.container;
                        marker.container_end = deferred.container_end;
                    }
                    // SAFETY: the value is the key's entry's, in the same place.
                    unsafe { (deferred.trace)(deferred.value, tracer) };
                    progressed = true;
                }
                Some(_) => waiting.push(deferred),
                None => {}
            }
        }
        let work = tracer.mode.weak_work().expect("a collecting mode");
        work.ephemerons.append(&mut waiting);
        if !progressed {
            break;
        }
    }
    // What is still waiting has a dead key: the sweeps drop those entries.
    tracer.mode.weak_work().expect("a collecting mode").ephemerons.clear();
}

/// The commit phase of weak work: clears (or, through `live`, redirects) the recorded weak
/// slots, then runs the sweeps. `locate` turns a recorded place into the current address.
/// With `redirect` (minor collections, where `live` gives the copy's address) live slots are
/// redirected now; without it (full collections, before planning) they are left in
/// `work.slots` for the update phase.
pub(crate) fn commit(
    work: &mut WeakWork,
    live: &dyn Liveness,
    locate: &dyn Fn(Place) -> usize,
    redirect: bool,
    panics: &mut DropPanics,
) {
    work.slots.retain(|&place| {
        // SAFETY: a recorded slot in a live object or the root, at its current address.
        let slot = unsafe { &mut *(locate(place) as *mut Option<ObjPtr>) };
        match slot.map(|target| live.live(target)) {
            Some(Some(now)) => {
                if redirect {
                    *slot = Some(now);
                }
                !redirect
            }
            Some(None) => {
                *slot = None;
                false
            }
            None => false,
        }
    });
    // After the slots: a weak-value table drops the entries whose slot was just cleared.
    for sweep in work.sweeps.drain(..) {
        let table = locate(sweep.table);
        // SAFETY: registered by a live table, now at `table`. Dropping entries runs user
        // destructors: the sweep catches their panics, keeping them for after the collection.
        unsafe { (sweep.sweep)(table as *mut (), live, panics) };
    }
}
