//! What a collection does, in order, and when one is due.
//!
//! A **minor** collection evacuates the live nursery objects into the old generation
//! ([`minor`]). A **full** collection first does a minor one, so the nursery is empty, then
//! marks the old generation and slides it together ([`full`]). Both run only between `mutate`
//! calls, when the root and the handles are the only ways into the heap, so every object may
//! move and every reference is rewritten.
//!
//! Pacing: a minor collection is due when the nursery cannot take the next `mutate` slice's
//! allocation (estimated from the slices seen so far), has overflowed, or pretenuring wants
//! its decisions reviewed (see [`pretenure`]); a full one when the
//! old generation and the large objects exceed `growth_factor` times the bytes live after the
//! previous full collection (and at least `min_full_heap`).

pub(crate) mod cards;
pub(crate) mod full;
pub(crate) mod minor;
pub(crate) mod pretenure;
pub(crate) mod weak;

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use crate::debug::verify::{self, Checker, Phase};
use crate::heap::Heap;
use crate::raw::ObjPtr;
use crate::trace::{Label, Tracer};

/// The kind of a collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CollectionKind {
    /// Evacuates the nursery.
    Minor,
    /// Evacuates the nursery, then marks and compacts the old generation.
    Full,
}

/// What a tracer does with each pointer it is shown. Collections trace only in their first
/// phase, where nothing moves: they mark and record the slots, and rewrite them later without
/// calling any `Trace` impl again.
// One `Mode` lives per collection, on the stack; boxing the marker would put an indirection
// on every pointer visited.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Mode<'a> {
    /// Mark live nursery objects; record the slots that point to them.
    Minor(minor::YoungMarker<'a>),
    /// Mark old and large objects; record every slot.
    Mark(full::Marker),
    /// The verifier (and the census) walking the heap.
    Check(&'a mut Checker),
    /// Building the heap graph for the reports.
    Graph(&'a mut crate::debug::graph::GraphBuilder),
}

impl Mode<'_> {
    #[inline(always)]
    pub(crate) fn visit(&mut self, slot: &mut ObjPtr) {
        match self {
            Mode::Minor(marker) => marker.visit(slot),
            Mode::Mark(marker) => marker.visit(slot),
            Mode::Check(checker) => checker.visit(*slot),
            Mode::Graph(builder) => builder.visit(*slot),
        }
    }

    #[inline]
    pub(crate) fn enter(&mut self, label: Label) {
        match self {
            Mode::Check(checker) => checker.enter(label),
            Mode::Graph(builder) => builder.path.push(label),
            _ => {}
        }
    }

    #[inline]
    pub(crate) fn leave(&mut self) {
        match self {
            Mode::Check(checker) => checker.leave(),
            Mode::Graph(builder) => {
                builder.path.pop();
            }
            _ => {}
        }
    }
}

/// Traces the arena's root (type-erased so the collector is not monomorphised per root type).
pub(crate) type RootTracer<'r> = &'r mut dyn FnMut(&mut Tracer<'_>);

/// Traces one object's pointers, if its type has any.
///
/// # Safety
/// `obj` is a live object of type `info` whose payload the tracer may rewrite.
#[inline(always)]
pub(crate) unsafe fn trace_object(
    obj: ObjPtr,
    info: &crate::raw::TypeInfo,
    tracer: &mut Tracer<'_>,
) {
    if let Some(trace) = info.trace {
        // SAFETY: precondition.
        unsafe { trace(obj, tracer) }
    }
}

/// Where a collection runs code that is not the crate's own: destructors of dead objects, of
/// table entries and of finalization tokens, and the drop of a panic payload. Each call is
/// caught here, so nothing unwinds through the collector; the first panic is kept and resumed
/// once the heap is consistent again (the crate docs list every such call site: "User code
/// during a collection").
#[derive(Default)]
pub(crate) struct DropPanics(Option<Box<dyn Any + Send + 'static>>);

impl DropPanics {
    /// Runs a destructor.
    ///
    /// # Safety
    /// As [`crate::raw::DropFn`].
    pub(crate) unsafe fn run(&mut self, drop: crate::raw::DropFn, obj: ObjPtr) {
        // SAFETY: precondition.
        self.catch(|| unsafe { drop(obj) })
    }

    /// Runs `f`, keeping its panic for later.
    pub(crate) fn catch(&mut self, f: impl FnOnce()) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
            self.keep(payload);
        }
    }

    /// Keeps `payload` to be resumed after the collection if it is the first; drops it
    /// otherwise.
    pub(crate) fn keep(&mut self, payload: Box<dyn Any + Send + 'static>) {
        if self.0.is_none() {
            self.0 = Some(payload);
        } else {
            drop_payload(payload);
        }
    }

    /// Keeps `payload` to be resumed in place of any panic kept so far (which is dropped).
    pub(crate) fn prefer(&mut self, payload: Box<dyn Any + Send + 'static>) {
        if let Some(old) = self.0.replace(payload) {
            drop_payload(old);
        }
    }

    /// Runs `f`, returning its panic.
    pub(crate) fn catch_result<R>(
        f: impl FnOnce() -> R,
    ) -> Result<R, Box<dyn Any + Send + 'static>> {
        catch_unwind(AssertUnwindSafe(f))
    }

    /// The panic kept, if any.
    pub(crate) fn take(mut self) -> Option<Box<dyn Any + Send + 'static>> {
        self.0.take()
    }

    pub(crate) fn resume(mut self) {
        if let Some(payload) = self.0.take() {
            std::panic::resume_unwind(payload)
        }
    }
}

impl Drop for DropPanics {
    /// A panic kept but not resumed (the thread is already unwinding) is dropped as carefully
    /// as any other.
    fn drop(&mut self) {
        if let Some(payload) = self.0.take() {
            drop_payload(payload);
        }
    }
}

/// Drops a panic payload that will not be resumed. Its `Drop` is user code too (a program
/// chooses payloads with `std::panic::panic_any`) and may panic: that panic is caught, and
/// its own payload leaked rather than dropped, since dropping it could panic again, without
/// end.
pub(crate) fn drop_payload(payload: Box<dyn Any + Send + 'static>) {
    if let Err(nested) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(nested);
    }
}

/// Aborts the process if a collection's commit phase unwinds. That phase runs user code only
/// through [`DropPanics`], which catches every panic (`Trace` impls ran in the tracing phase),
/// so an unwind there is a bug in the collector, and continuing with forwarding words in the
/// heap would be undefined behaviour.
pub(crate) struct AbortOnUnwind;

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "gc-core: a panic escaped from a collection's commit phase (a bug in gc-core); \
                 the heap cannot be recovered, aborting"
            );
            std::process::abort();
        }
    }
}

/// The minor or full collection due now, if any.
pub(crate) fn due(heap: &mut Heap) -> Option<CollectionKind> {
    let nursery_used = heap.nursery.used();
    let nursery_size = heap.nursery.size();
    let state = heap.state.get_mut();
    if state.config.stress {
        state.stress_next_full = !state.stress_next_full;
        return Some(if state.stress_next_full {
            CollectionKind::Minor
        } else {
            CollectionKind::Full
        });
    }
    // Estimate the next slice's allocation from the last one (decaying maximum).
    let allocated = nursery_used + state.debt;
    let since_check = allocated.saturating_sub(state.pacing.allocated_at_last_check);
    state.pacing.allocated_at_last_check = allocated;
    state.pacing.slice_estimate =
        since_check.max(state.pacing.slice_estimate - state.pacing.slice_estimate / 8);

    let old_size = state.old.used_bytes() + state.los.bytes;
    if old_size >= state.full_threshold {
        return Some(CollectionKind::Full);
    }
    if let Some(limit) = state.config.max_heap {
        // Near the limit: reclaim the old generation's garbage, if there is any to reclaim.
        let near = state.heap_size(heap.nursery.committed()) as f64
            >= limit as f64 * state.config.near_limit;
        if near && old_size > state.stats.live_after_last_full {
            return Some(CollectionKind::Full);
        }
    }
    // Tenured sites' decisions are reviewed at minor collections, which their allocation
    // does not bring about by filling the nursery.
    let forced = state.old.overflowed() || state.pretenure.review_due(nursery_used);
    let remaining = nursery_size.saturating_sub(nursery_used);
    if forced || remaining == 0 || remaining < state.pacing.slice_estimate.min(nursery_size / 2) {
        return Some(CollectionKind::Minor);
    }
    None
}

/// Pacing state.
#[derive(Default)]
pub(crate) struct Pacing {
    allocated_at_last_check: usize,
    slice_estimate: usize,
}

/// Runs a collection of `kind`. `automatic`: the pacing asked for it (`collect_if_due`), so
/// the old generation will grow back to its threshold before the next full collection, and
/// the blocks a full collection empties stay resident for it, up to that headroom; an
/// explicit full collection gives every empty block back, and the nursery's pages.
///
/// Returns the first panic of the user code the collection ran (a `Trace` impl's, which
/// abandoned the collection, or a destructor's), for the caller to resume once it has
/// finished its own work: the heap is consistent and usable.
#[must_use = "the panic must be resumed"]
pub(crate) fn collect(
    heap: &mut Heap,
    roots: RootTracer<'_>,
    kind: CollectionKind,
    automatic: bool,
) -> Option<Box<dyn Any + Send + 'static>> {
    let verify = heap.state.get_mut().config.verify;
    if verify {
        verify::check_or_panic(heap, roots, Phase::BeforeCollection);
    }
    let start = Instant::now();
    let before = heap_bytes(heap);
    let mut panics = DropPanics::default();
    let nursery_used = heap.nursery.used();
    // A panic out of a `Trace` impl comes back as `Err`, with the heap as it was before that
    // collection (a full collection's minor part may have completed).
    let minor = minor::collect(heap, roots, &mut panics);
    let outcome = match (&minor, kind) {
        (Ok(_), CollectionKind::Full) => {
            // Keep what compaction empties, for now: trimmed below to the new headroom.
            heap.state.get_mut().old.set_spare_budget(if automatic { usize::MAX } else { 0 });
            let outcome = full::collect(heap, roots, &mut panics);
            if !automatic {
                // An explicit full collection gives memory back, the empty nursery's pages
                // too: they are faulted in again as allocation reaches them.
                heap.nursery.discard();
            }
            Some(outcome)
        }
        _ => None,
    };
    let pause = start.elapsed();
    let after = heap_bytes(heap);
    {
        let state = heap.state.get_mut();
        let stats = &mut state.stats;
        if let Ok(promoted) = minor {
            stats.bytes_allocated += nursery_used as u64;
            stats.bytes_promoted += promoted as u64;
            state.debt = 0;
            state.pacing.allocated_at_last_check = 0;
        }
        match kind {
            CollectionKind::Minor => stats.minor.record(pause),
            CollectionKind::Full => stats.full.record(pause),
        }
        if let Some(Ok(outcome)) = &outcome {
            stats.live_after_last_full = outcome.live;
            stats.fragmentation_before_last_full = outcome.fragmentation_before;
            stats.fragmentation = outcome.fragmentation_after;
            let grown = (outcome.live as f64 * state.config.growth_factor) as usize;
            state.full_threshold = grown.max(state.config.min_full_heap);
        }
        if kind == CollectionKind::Full {
            let mut headroom = state.full_threshold.saturating_sub(state.old.used_bytes());
            if let Some(limit) = state.config.max_heap {
                let size = state.heap_size(heap.nursery.committed());
                headroom = headroom.min(limit.saturating_sub(size));
            }
            state.old.set_spare_budget(if automatic { headroom } else { 0 });
        }
    }
    // A `tracing` subscriber is user code too.
    panics.catch(|| log(kind, pause, before, after, heap));
    if verify {
        // An abandoned collection left the heap as it was: check it as between collections.
        let done = minor.is_ok() && !matches!(outcome, Some(Err(_)));
        let phase = if done { Phase::AfterCollection } else { Phase::Standalone };
        verify::check_or_panic(heap, roots, phase);
    }
    // Minor collections keep their buffers for the next one; a full collection, which finds
    // out that the heap shrank, gives large ones back. An explicit one then has the C
    // allocator return its free memory: glibc raises its mmap threshold when a large block is
    // freed, so later buffers come from the brk heap and freeing them alone returns nothing
    // (frag: 17 MiB resident after its final collection, RSS ÷ live 1.26 -> 1.16).
    if kind == CollectionKind::Full && heap.state.get_mut().release_scratch() && !automatic {
        crate::sys::trim_malloc();
    }
    // User code last: the tokens of the registrations found dead (see `Finalizers`).
    heap.state.get_mut().finalizers.deliver(&mut panics);
    // A `Trace` impl's panic, which abandoned the collection, comes before a destructor's.
    if let Err(payload) = minor {
        panics.prefer(payload);
    }
    if let Some(Err(payload)) = outcome {
        panics.prefer(payload);
    }
    panics.take()
}

/// Bytes in use in the heap (nursery, old generation, large objects).
pub(crate) fn heap_bytes(heap: &mut Heap) -> usize {
    let nursery = heap.nursery.used();
    let state = heap.state.get_mut();
    nursery + state.old.used_bytes() + state.los.bytes
}

#[cfg(feature = "tracing")]
fn log(kind: CollectionKind, pause: Duration, before: usize, after: usize, heap: &mut Heap) {
    let committed = crate::arena::committed(heap);
    let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
    let kind = match kind {
        CollectionKind::Minor => "Young",
        CollectionKind::Full => "Full",
    };
    tracing::info!(
        target: "gc",
        kind,
        pause_us = pause.as_micros() as u64,
        before,
        after,
        committed,
        "Pause {kind} {:.1}M->{:.1}M({:.1}M) {:.3}ms",
        mib(before),
        mib(after),
        mib(committed),
        pause.as_secs_f64() * 1e3
    );
}

#[cfg(not(feature = "tracing"))]
#[inline(always)]
fn log(_: CollectionKind, _: Duration, _: usize, _: usize, _: &mut Heap) {}
