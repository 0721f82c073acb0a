//! Weak edges during a collection: weak references, ephemerons, and the tables built on them.
//!
//! Tracing does not follow a weak edge; it records where the edge is (`slots`). An ephemeron
//! (a key held weakly, a value held only while the key lives) traces its value at once if its
//! key is already known to be live, and is otherwise deferred. Once the strong graph is done,
//! the deferred ephemerons whose key has become live are traced, which may make more keys live:
//! this runs to a fixpoint (the semantics of JavaScript's `WeakMap`, Lua's weak-key tables).
//! Then every recorded weak slot is cleared (target dead) or redirected (target moved), and
//! every table that registered a sweep drops its entries whose key (or value) died.

use super::Mode;
use crate::raw::{ObjPtr, FORWARDED, LARGE, MARKED};
use crate::space::block::Geometry;
use crate::trace::{Trace, Tracer};

/// Traces a type-erased value.
///
/// # Safety
/// The pointer designates a live `V` of the type the function was made for, which the
/// tracer may rewrite.
pub(crate) type ValueTraceFn = unsafe fn(*mut (), &mut Tracer<'_>);

/// Drops the entries of a type-erased table whose weak parts died, redirecting the others.
///
/// # Safety
/// The pointer designates a live table of the type the function was made for; the
/// collector has exclusive access.
pub(crate) type SweepFn = unsafe fn(*mut (), &dyn Liveness);

/// An ephemeron whose key was not known to be live when it was traced.
pub(crate) struct Deferred {
    key: *mut Option<ObjPtr>,
    value: *mut (),
    trace: ValueTraceFn,
}

pub(crate) struct Sweep {
    table: *mut (),
    sweep: SweepFn,
}

/// The weak work recorded while tracing, kept between collections to reuse its buffers.
#[derive(Default)]
pub(crate) struct WeakWork {
    pub(crate) slots: Vec<*mut Option<ObjPtr>>,
    pub(crate) ephemerons: Vec<Deferred>,
    pub(crate) sweeps: Vec<Sweep>,
}

impl WeakWork {
    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.ephemerons.clear();
        self.sweeps.clear();
    }
}

/// Whether an object survived the collection, once the strong graph is traced.
pub(crate) trait Liveness {
    /// `None` if `obj` is dead (or not yet known to be live, during the fixpoint); its
    /// address now (after evacuation) if it lives.
    fn live(&self, obj: ObjPtr) -> Option<ObjPtr>;
}

/// Minor collections: old objects live; a young one lives if it was evacuated.
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

/// Whether a key is live, as far as the tracer knows now.
pub(crate) enum KeyStatus {
    Live,
    Unknown,
    Absent,
}

impl Mode<'_> {
    fn weak_work(&mut self) -> Option<&mut WeakWork> {
        match self {
            Mode::Minor(evacuator) => Some(&mut evacuator.weak),
            Mode::Mark(marker) => Some(&mut marker.weak),
            Mode::Update | Mode::Check(_) => None,
        }
    }

    #[inline]
    pub(crate) fn visit_weak(&mut self, slot: &mut Option<ObjPtr>) {
        let Some(target) = *slot else { return };
        match self {
            Mode::Minor(evacuator) => {
                if evacuator.is_young(target) {
                    // SAFETY: a young object's header is readable until the nursery is reset.
                    let word = unsafe { target.header() };
                    if word & FORWARDED != 0 {
                        // SAFETY: a forwarding word holds the address of the copy.
                        *slot = Some(unsafe { ObjPtr::from_addr(word & !FORWARDED) });
                    } else {
                        evacuator.weak.slots.push(slot);
                    }
                }
            }
            Mode::Mark(marker) => marker.weak.slots.push(slot),
            Mode::Update => {
                let mut target = target;
                super::full::update(&mut target);
                *slot = Some(target);
            }
            Mode::Check(checker) => checker.visit_weak(target),
        }
    }

    /// Redirects a key that has moved, and tells whether it is live.
    pub(crate) fn key_status(&mut self, key: &mut Option<ObjPtr>) -> KeyStatus {
        let Some(target) = *key else { return KeyStatus::Absent };
        match self {
            Mode::Minor(evacuator) => {
                if !evacuator.is_young(target) {
                    return KeyStatus::Live;
                }
                let live = MinorLiveness {
                    nursery_start: evacuator.nursery_start,
                    nursery_len: evacuator.nursery_len,
                };
                match live.live(target) {
                    Some(copy) => {
                        *key = Some(copy);
                        KeyStatus::Live
                    }
                    None => KeyStatus::Unknown,
                }
            }
            Mode::Mark(marker) => match (FullLiveness { geom: marker.geom }).live(target) {
                Some(_) => KeyStatus::Live,
                None => KeyStatus::Unknown,
            },
            Mode::Update => {
                let mut target = target;
                super::full::update(&mut target);
                *key = Some(target);
                KeyStatus::Live
            }
            Mode::Check(checker) => {
                checker.visit_weak(target);
                KeyStatus::Live
            }
        }
    }

    pub(crate) fn defer(&mut self, key: *mut Option<ObjPtr>, value: *mut (), trace: ValueTraceFn) {
        if let Some(work) = self.weak_work() {
            work.ephemerons.push(Deferred { key, value, trace });
        }
    }

    pub(crate) fn register_sweep(&mut self, table: *mut (), sweep: SweepFn) {
        if let Some(work) = self.weak_work() {
            work.sweeps.push(Sweep { table, sweep });
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
    /// `key` and `value` must stay where they are until the collection ends (they are inside a
    /// live object or the root, which do not move before the weak phase).
    #[inline]
    pub(crate) fn ephemeron<V: Trace>(&mut self, key: &mut Option<ObjPtr>, value: &mut V) {
        match self.mode.key_status(key) {
            KeyStatus::Live => value.trace(self),
            KeyStatus::Unknown => {
                self.mode.defer(key, value as *mut V as *mut (), trace_erased::<V>)
            }
            KeyStatus::Absent => {}
        }
    }

    /// Asks for `sweep(table)` once liveness is known (the table is in a live object or the
    /// root, and stays where it is until then).
    #[inline]
    pub(crate) fn register_sweep(&mut self, table: *mut (), sweep: SweepFn) {
        self.mode.register_sweep(table, sweep)
    }
}

/// # Safety
/// As [`ValueTraceFn`], for `V`.
unsafe fn trace_erased<V: Trace>(value: *mut (), tracer: &mut Tracer<'_>) {
    // SAFETY: precondition.
    unsafe { (*(value as *mut V)).trace(tracer) }
}

/// Runs the ephemeron fixpoint, then clears or redirects the weak slots and sweeps the
/// tables. `drain` finishes the strong tracing work queued so far.
pub(crate) fn finish(
    tracer: &mut Tracer<'_>,
    live: &dyn Liveness,
    drain: &mut dyn FnMut(&mut Tracer<'_>),
) {
    loop {
        drain(tracer);
        let work = tracer.mode.weak_work().expect("a collecting mode");
        let pending = std::mem::take(&mut work.ephemerons);
        let mut progressed = false;
        let mut waiting = Vec::new();
        for deferred in pending {
            // SAFETY: the key slot is in a live object or the root, unmoved (precondition of
            // `Tracer::ephemeron`).
            let key = unsafe { *deferred.key };
            match key.map(|k| live.live(k)) {
                Some(Some(now)) => {
                    // SAFETY: as above; the value is the key's, in the same place.
                    unsafe {
                        *deferred.key = Some(now);
                        (deferred.trace)(deferred.value, tracer);
                    }
                    progressed = true;
                }
                Some(None) => waiting.push(deferred),
                None => {}
            }
        }
        let work = tracer.mode.weak_work().expect("a collecting mode");
        work.ephemerons.append(&mut waiting);
        if !progressed {
            break;
        }
    }
    let work = tracer.mode.weak_work().expect("a collecting mode");
    // What is still waiting has a dead key: the sweeps drop those entries.
    work.ephemerons.clear();
    for slot in work.slots.drain(..) {
        // SAFETY: the slot is in a live object or the root, unmoved.
        unsafe {
            if let Some(target) = *slot {
                *slot = live.live(target);
            }
        }
    }
    // After the slots: a weak-value table drops the entries whose slot was just cleared.
    for sweep in work.sweeps.drain(..) {
        // SAFETY: registered by a live table that has not moved.
        unsafe { (sweep.sweep)(sweep.table, live) };
    }
}
