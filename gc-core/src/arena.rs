//! The arena: a heap, its root, and the entry points: `mutate` and the collections.

use std::marker::PhantomData;
use std::mem::ManuallyDrop;

use crate::collector::{self, CollectionKind};
use crate::config::HeapConfig;
use crate::debug::census::Census;
use crate::debug::verify::{self, Phase, VerifyError};
use crate::handle::Handle;
use crate::heap::Heap;
use crate::mutation::Mutation;
use crate::pin::Pinned;
use crate::stats::Stats;
use crate::trace::{Label, Trace, Tracer};

/// A type-level function from a brand `'a` to the arena's root type, `Root<'a, R>`.
///
/// Write it with the [`Rootable!`](macro@crate::Rootable) macro: `Rootable![Vm<'_>]` (every `'_` is
/// the brand) or `Rootable!['gc => Vm<'gc>]`.
pub trait Rootable<'a>: 'static {
    /// The root type for the brand `'a`.
    type Root: ?Sized + 'a;
}

/// The root type of `R` for the brand `'a`.
pub type Root<'a, R> = <R as Rootable<'a>>::Root;

/// What `Rootable!` expands to: a sized stand-in for `dyn for<'a> Rootable<'a, Root = ...>`.
#[doc(hidden)]
#[allow(missing_debug_implementations)]
pub struct __DynRootable<T: ?Sized>(PhantomData<T>);

impl<'a, T: ?Sized + Rootable<'a>> Rootable<'a> for __DynRootable<T> {
    type Root = <T as Rootable<'a>>::Root;
}

/// Why an arena could not be created.
#[derive(Debug)]
#[non_exhaustive]
pub enum ArenaError {
    /// Mapping the nursery failed.
    OutOfMemory(std::io::Error),
}

impl std::fmt::Display for ArenaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArenaError::OutOfMemory(err) => write!(f, "cannot map the nursery: {err}"),
        }
    }
}

impl std::error::Error for ArenaError {}

/// A garbage-collected heap and its root.
///
/// All access to managed objects happens inside [`mutate`](Arena::mutate) (or
/// [`mutate_root`](Arena::mutate_root)), whose closure receives a branded [`Mutation`]
/// context and the root. Collections happen between `mutate` calls, when the root and the
/// handles are the only ways into the heap, so the collector can move every object.
///
/// ```
/// use gc_core::{field, Arena, Gc, HeapConfig, RefLock, Rootable, Trace};
///
/// #[derive(Trace)]
/// struct Node<'gc> {
///     value: u32,
///     next: RefLock<Option<Gc<'gc, Node<'gc>>>>,
/// }
///
/// // The root: a ring of two nodes pointing at each other.
/// let mut arena = Arena::<Rootable![Gc<'_, Node<'_>>]>::new(HeapConfig::default(), |mc| {
///     let a = Gc::new(mc, Node { value: 1, next: RefLock::new(None) });
///     let b = Gc::new(mc, Node { value: 2, next: RefLock::new(Some(a)) });
///     *field!(Gc::write(mc, a), Node, next).borrow_mut() = Some(b);
///     a
/// });
/// arena.collect_full();
/// arena.mutate(|_mc, a| {
///     let b = a.next.borrow().unwrap();
///     assert_eq!((a.value, b.value), (1, 2));
///     assert!(Gc::ptr_eq(b.next.borrow().unwrap(), *a));
/// });
/// ```
pub struct Arena<R: for<'a> Rootable<'a>>
where
    for<'a> Root<'a, R>: Sized,
{
    pub(crate) heap: Heap,
    pub(crate) root: ManuallyDrop<Root<'static, R>>,
    near_limit: Option<Box<dyn FnMut(usize, usize)>>,
}

impl<R: for<'a> Rootable<'a>> Arena<R>
where
    for<'a> Root<'a, R>: Sized + Trace,
{
    /// Creates an arena with `config`, its root made by `f`. Panics if the nursery cannot be
    /// mapped; see [`try_new`](Arena::try_new).
    pub fn new<F>(config: HeapConfig, f: F) -> Arena<R>
    where
        F: for<'gc> FnOnce(&'gc Mutation<'gc>) -> Root<'gc, R>,
    {
        Self::try_new(config, f).unwrap_or_else(|err| panic!("gc-core: {err}"))
    }

    /// Creates an arena, or reports why the heap could not be mapped.
    pub fn try_new<F>(config: HeapConfig, f: F) -> Result<Arena<R>, ArenaError>
    where
        F: for<'gc> FnOnce(&'gc Mutation<'gc>) -> Root<'gc, R>,
    {
        let heap = Heap::new(config.with_env_overrides()).map_err(ArenaError::OutOfMemory)?;
        // SAFETY: the brand is fresh (`f` is generic over it), and no collection can run
        // before the root is stored in the arena.
        let root = f(unsafe { Mutation::wrap(&heap) });
        let root = ManuallyDrop::new(root);
        // SAFETY: `Root<'gc, R>` and `Root<'static, R>` differ only in a lifetime: same
        // layout. From now on the root is only reached through `mutate`, which rebrands it.
        let root =
            unsafe { std::ptr::read(&*root as *const Root<'_, R> as *const Root<'static, R>) };
        Ok(Arena { heap, root: ManuallyDrop::new(root), near_limit: None })
    }

    /// Runs `f` with the heap and a shared reference to the root. No collection happens
    /// during the call; everything branded `'gc` stays inside it.
    #[inline]
    pub fn mutate<F, T>(&self, f: F) -> T
    where
        F: for<'gc> FnOnce(&'gc Mutation<'gc>, &'gc Root<'gc, R>) -> T,
    {
        // SAFETY: `f` is generic over the brand, so it cannot store branded values outside
        // the call, and `&self` excludes collections (they need `&mut self`) for its duration.
        // The root is rebranded: same layout.
        unsafe {
            let mc = Mutation::wrap(&self.heap);
            let root = &*(&*self.root as *const Root<'static, R> as *const Root<'_, R>);
            f(mc, root)
        }
    }

    /// As [`mutate`](Arena::mutate), with mutable access to the root. Storing into the root
    /// needs no barrier: the root is traced in full at every collection.
    #[inline]
    pub fn mutate_root<F, T>(&mut self, f: F) -> T
    where
        F: for<'gc> FnOnce(&'gc Mutation<'gc>, &'gc mut Root<'gc, R>) -> T,
    {
        // SAFETY: as in `mutate`; `&mut self` makes the root reference unique.
        unsafe {
            let mc = Mutation::wrap(&self.heap);
            let root = &mut *(&mut *self.root as *mut Root<'static, R> as *mut Root<'_, R>);
            f(mc, root)
        }
    }

    /// Runs a minor collection: evacuates the live nursery objects into the old generation.
    pub fn collect_minor(&mut self) {
        self.collect(CollectionKind::Minor)
    }

    /// Runs a full collection: a minor one, then marks the old generation and slides it
    /// together. It gives memory back: every empty block (to the block pool, which keeps a
    /// few warm and returns the rest to the OS), the empty nursery's pages (faulted in again
    /// as allocation reaches them), large scratch buffers, and the C allocator's free memory
    /// (glibc's `malloc_trim`).
    pub fn collect_full(&mut self) {
        self.collect(CollectionKind::Full)
    }

    /// Runs the collection that is due, if any, and says which. Call it between `mutate`
    /// slices: it is the arena's safepoint. In stress mode every call collects, alternating
    /// minor and full collections.
    ///
    /// A full collection started here keeps the blocks it empties resident, up to the room the
    /// old generation has to grow before the next full collection is due (growth factor ×
    /// live): promotion reuses them instead of faulting in fresh pages. [`collect_full`]
    /// gives every empty block back.
    ///
    /// [`collect_full`]: Arena::collect_full
    pub fn collect_if_due(&mut self) -> Option<CollectionKind> {
        let kind = collector::due(&mut self.heap)?;
        self.run_collection(kind, true);
        Some(kind)
    }

    /// Runs a collection of the given kind. An explicit full collection gives every block it
    /// empties back (a pacing-triggered one keeps some resident for the heap to grow back
    /// into: see [`collect_if_due`](Arena::collect_if_due)).
    pub fn collect(&mut self, kind: CollectionKind) {
        self.run_collection(kind, false)
    }

    fn run_collection(&mut self, kind: CollectionKind, automatic: bool) {
        let root = &mut *self.root;
        let roots = &mut |t: &mut Tracer<'_>| trace_root(root, t);
        let mut panics = collector::DropPanics::default();
        if let Some(payload) = collector::collect(&mut self.heap, roots, kind, automatic) {
            panics.keep(payload);
        }
        // The heap is consistent again: what follows may run user code (the callback, and
        // leak-debug's growth tracking), and the collection's own panic is resumed after it.
        #[cfg(feature = "leak-debug")]
        if kind == CollectionKind::Full && self.heap.leak_debug {
            self.after_full_collection_for_leaks();
        }
        if let Some(callback) = &mut self.near_limit {
            let state = self.heap.state.get_mut();
            if let Some(limit) = state.config.max_heap {
                let size = state.heap_size(self.heap.nursery.committed());
                if size as f64 >= limit as f64 * state.config.near_limit {
                    panics.catch(|| callback(size, limit));
                }
            }
        }
        panics.resume();
    }

    /// NUMA placement of this arena's memory: the policy in effect, and per node the blocks
    /// placed, the nursery's pages (measured now, with `move_pages`), migrations and fallbacks.
    pub fn numa_stats(&mut self) -> crate::NumaStats {
        let start = self.heap.nursery.start;
        let committed = self.heap.nursery.committed();
        let placer = &mut self.heap.state.get_mut().old.placer;
        let nursery = placer.nursery_placement(start, committed);
        placer.stats(nursery)
    }

    /// Calls `callback(heap_size, max_heap)` after every collection that leaves the heap past
    /// the configured `near_limit` fraction of `max_heap` (an embedder may warn, or shed
    /// caches). Without a `max_heap`, it is never called.
    pub fn on_near_limit(&mut self, callback: impl FnMut(usize, usize) + 'static) {
        self.near_limit = Some(Box::new(callback));
    }

    /// Pins the object a handle holds: it stays alive and in place until the returned guard is
    /// dropped (and the next collection runs), so its address can be handed to foreign code.
    /// A young object is promoted first, by a minor collection: the nursery is emptied by
    /// every minor collection, so nothing in it can stay in place.
    ///
    /// Panics if the handle belongs to another arena.
    pub fn pin<P: for<'a> Rootable<'a>>(&mut self, handle: &Handle<P>) -> Pinned<P> {
        assert_eq!(
            handle.slot.heap_id, self.heap.id,
            "gc-core: a handle was pinned in an arena other than the one that created it"
        );
        if self.heap.nursery.contains(handle.slot.ptr.get().addr()) {
            self.collect_minor();
        }
        let obj = handle.slot.ptr.get();
        let guard = std::rc::Rc::new(());
        // SAFETY: rooted by the handle, so live; not young (promoted above).
        let info = unsafe {
            self.heap.state.get_mut().pins.pin(obj, Some(guard.clone()));
            obj.type_info()
        };
        Pinned::new(handle.clone(), guard, obj.payload(info))
    }

    /// A snapshot of the statistics.
    pub fn stats(&self) -> Stats {
        let state = self.heap.state.borrow();
        let mut stats = state.stats.clone();
        stats.nursery_used = self.heap.nursery.used();
        stats.bytes_allocated += stats.nursery_used as u64;
        stats.old_used = state.old.used_bytes();
        stats.old_blocks = state.old.blocks.len();
        stats.old_spare_blocks = state.old.spare_blocks();
        stats.pretenured_sites = state.pretenure.tenured_sites();
        stats.large_objects = state.los.objects.len();
        stats.large_bytes = state.los.bytes;
        stats.committed =
            self.heap.nursery.committed() + state.old.committed_bytes() + state.los.bytes;
        stats.heap_size = state.heap_size(self.heap.nursery.committed());
        stats
    }

    /// The configuration in force (environment overrides applied).
    pub fn config(&self) -> HeapConfig {
        self.heap.state.borrow().config.clone()
    }

    /// Runs the heap verifier now: every object reachable from the root and the handles is a
    /// well-formed object in a live space, every space parses, and every pointer from an old
    /// object into the nursery is remembered.
    pub fn verify(&mut self) -> Result<(), VerifyError> {
        let root = &mut *self.root;
        verify::check(
            &mut self.heap,
            &mut |t: &mut Tracer<'_>| trace_root(root, t),
            Phase::Standalone,
        )
        .map(|_| ())
    }

    /// The reachable heap as a graph: objects, edges with field paths, roots (see
    /// [`HeapGraph`](crate::HeapGraph)). Walks everything reachable, like a collection's
    /// marking, without moving anything.
    pub fn heap_graph(&mut self) -> crate::HeapGraph {
        let root = &mut *self.root;
        crate::debug::graph::build(&mut self.heap, &mut |t: &mut Tracer<'_>| trace_root(root, t))
    }

    /// Measures the heap by walking everything reachable: live objects and bytes, and the old
    /// generation's fragmentation at this moment.
    pub fn census(&mut self) -> Census {
        let root = &mut *self.root;
        match verify::check(
            &mut self.heap,
            &mut |t: &mut Tracer<'_>| trace_root(root, t),
            Phase::Standalone,
        ) {
            Ok(census) => census,
            Err(err) => panic!("gc-core: the heap is corrupt: {err}"),
        }
    }
}

pub(crate) fn trace_root<T: Trace + ?Sized>(root: &mut T, tracer: &mut Tracer<'_>) {
    // The labelled path only costs in the verifier's and the reports' modes; the collections
    // take `trace`.
    match tracer.mode {
        crate::collector::Mode::Check(_) => {
            tracer.enter(Label::Field("root"));
            root.trace_labeled(tracer);
            tracer.leave();
        }
        crate::collector::Mode::Graph(_) => root.trace_labeled(tracer),
        _ => root.trace(tracer),
    }
}

/// Bytes the heap holds now.
#[allow(dead_code)]
pub(crate) fn committed(heap: &mut Heap) -> usize {
    let nursery = heap.nursery.committed();
    let state = heap.state.get_mut();
    nursery + state.old.committed_bytes() + state.los.bytes
}

impl<R: for<'a> Rootable<'a>> Drop for Arena<R>
where
    for<'a> Root<'a, R>: Sized,
{
    fn drop(&mut self) {
        // The root first, while every object it may reach is still in place; then the heap
        // (a field), which runs the destructors of the objects and unmaps the spaces.
        // SAFETY: dropped once, never used again.
        unsafe { ManuallyDrop::drop(&mut self.root) };
    }
}

impl<R: for<'a> Rootable<'a>> std::fmt::Debug for Arena<R>
where
    for<'a> Root<'a, R>: Sized,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Arena").field("heap", &self.heap.id).finish_non_exhaustive()
    }
}
