//! The heap behind an arena: the spaces, the remembered set, the handle table, and the
//! allocation and write-barrier paths the mutator uses.

use std::cell::RefCell;
use std::io;

use crate::collector::pretenure::{site_bit, Pretenuring, Route};
use crate::config::{HeapConfig, MIN_LARGE_OBJECT_THRESHOLD};
use crate::handle::HandleTable;
use crate::raw::{fill, header_word, place, ObjPtr, TypeInfo, FLAGS, HASHED, LARGE, REMEMBERED};
use crate::space::los::LargeObjectSpace;
use crate::space::nursery::Nursery;
use crate::space::old_gen::OldGen;
use crate::stats::Stats;

/// Objects aligned to more than this go to the large-object space.
const MAX_BLOCK_ALIGN: usize = 256;

pub(crate) struct Heap {
    /// Distinguishes arenas, so that a handle is never used with another arena's heap.
    pub(crate) id: u64,
    pub(crate) nursery: Nursery,
    /// Copy of the configured threshold, next to the nursery for the allocation fast path.
    large_threshold: usize,
    /// The tenured allocation sites' bits (see [`crate::collector::pretenure::site_bit`]): an
    /// allocation whose site's bit is set takes the slow path.
    pub(crate) tenured_sites: std::cell::Cell<u64>,
    /// Leak-debug mode is on: every allocation is recorded.
    #[cfg(feature = "leak-debug")]
    pub(crate) leak_debug: bool,
    /// Everything the fast paths do not touch. Borrowed only by code that does not call out to
    /// user code, so a borrow never overlaps another.
    pub(crate) state: RefCell<HeapState>,
}

pub(crate) struct HeapState {
    pub(crate) config: HeapConfig,
    pub(crate) old: OldGen,
    pub(crate) los: LargeObjectSpace,
    /// Old and large objects written since the last collection (their `REMEMBERED` bit set).
    pub(crate) remembered: Vec<ObjPtr>,
    /// Card-marked slices: old slices written through `Gc::write_at` since the last minor
    /// collection, by address, with their dirty cards (see [`crate::collector::cards`]). An
    /// object that is also `REMEMBERED` is scanned whole instead.
    pub(crate) cards: crate::identity::AddrMap<Vec<u64>>,
    pub(crate) handles: HandleTable,
    pub(crate) stats: Stats,
    /// Bytes allocated outside the nursery since the last collection.
    pub(crate) debt: usize,
    /// A full collection is due when the old generation and large objects exceed this.
    pub(crate) full_threshold: usize,
    /// Stress mode alternates minor and full collections.
    pub(crate) stress_next_full: bool,
    pub(crate) pacing: crate::collector::Pacing,
    /// Scratch for collections, kept to avoid reallocating: the tracing work stack.
    pub(crate) stack: Vec<ObjPtr>,
    /// Scratch for full collections: the saved header of each live block object.
    pub(crate) saved_headers: Vec<usize>,
    /// Scratch for collections: weak slots, deferred ephemerons, table sweeps.
    pub(crate) weak: crate::collector::weak::WeakWork,
    /// Scratch for minor collections: the mark and slot bitmaps of the nursery.
    pub(crate) young_marks: Vec<u64>,
    pub(crate) young_slots: Vec<u64>,
    /// Scratch for collections: the recorded slots that no bitmap covers.
    pub(crate) slot_addrs: Vec<usize>,
    /// Identity hashes of the objects that were asked for one.
    pub(crate) identities: crate::identity::Identities,
    /// Finalization registrations.
    pub(crate) finalizers: crate::finalize::Finalizers,
    /// Pinned objects.
    pub(crate) pins: crate::pin::Pins,
    /// Allocation sites' survival and which of them allocate in the old generation.
    pub(crate) pretenure: Pretenuring,
    /// Leak-debug mode: every object's allocation site and birth.
    #[cfg(feature = "leak-debug")]
    pub(crate) births: crate::debug::births::Births,
    /// Leak-debug mode: the objects expected to die.
    #[cfg(feature = "leak-debug")]
    pub(crate) watches: crate::debug::watch::Watches,
}

static NEXT_HEAP_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Heap {
    pub(crate) fn new(config: HeapConfig) -> io::Result<Heap> {
        let nursery = Nursery::new(config.nursery_size, config.nursery_reserve)?;
        let mut placer = crate::space::placement::Placer::new(
            config.numa,
            config.topology.as_ref().map(|t| t.0.clone()),
        );
        placer.setup_nursery(nursery.start, nursery.size());
        let large_threshold = config.large_object_threshold;
        #[cfg(feature = "leak-debug")]
        let leak_debug = config.leak_debug;
        let old = OldGen::new(config.block_size, config.huge_pages, placer);
        let full_threshold = config.min_full_heap;
        let pretenure = Pretenuring::new(
            config.pretenuring,
            config.pretenure_everything,
            nursery.start,
            config.nursery_size,
        );
        let filter = pretenure.filter();
        nursery.set_cap(pretenure.limit_cap());
        Ok(Heap {
            id: NEXT_HEAP_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            nursery,
            large_threshold,
            tenured_sites: std::cell::Cell::new(filter),
            #[cfg(feature = "leak-debug")]
            leak_debug,
            state: RefCell::new(HeapState {
                config,
                old,
                los: LargeObjectSpace::default(),
                remembered: Vec::new(),
                cards: Default::default(),
                handles: HandleTable::default(),
                stats: Stats::default(),
                debt: 0,
                full_threshold,
                stress_next_full: false,
                pacing: Default::default(),
                stack: Vec::new(),
                saved_headers: Vec::new(),
                weak: Default::default(),
                young_marks: Vec::new(),
                young_slots: Vec::new(),
                slot_addrs: Vec::new(),
                identities: Default::default(),
                finalizers: Default::default(),
                pins: Default::default(),
                pretenure,
                #[cfg(feature = "leak-debug")]
                births: Default::default(),
                #[cfg(feature = "leak-debug")]
                watches: Default::default(),
            }),
        })
    }

    /// Allocates an object of `size` bytes placed as `info` requires, with the header
    /// `header` (usually `info` itself; `DEAD_BYTES` while a slice is being filled).
    #[inline(always)]
    #[track_caller]
    pub(crate) fn alloc_raw(
        &self,
        info: &'static TypeInfo,
        size: usize,
        header: &'static TypeInfo,
    ) -> Result<ObjPtr, AllocError> {
        // For most types the first two comparisons are decided at compile time, and so is
        // the site's bit.
        if (size <= MIN_LARGE_OBJECT_THRESHOLD || size <= self.large_threshold)
            && info.align <= MAX_BLOCK_ALIGN
            && self.tenured_sites.get() & site_bit(std::panic::Location::caller()) == 0
        {
            if let Some(obj) = self.bump(info, size, header, self.nursery.limit.get()) {
                return Ok(obj);
            }
        }
        self.alloc_slow(info, size, header)
    }

    /// Bump allocation in the nursery, up to `limit`.
    #[inline(always)]
    #[track_caller]
    fn bump(
        &self,
        info: &'static TypeInfo,
        size: usize,
        header: &'static TypeInfo,
        limit: usize,
    ) -> Option<ObjPtr> {
        let (start, end) = self.fit(info, size, limit)?;
        // Side tables first: if recording fails (the state is borrowed by re-entrant code), no
        // object was made.
        #[cfg(feature = "leak-debug")]
        if self.leak_debug {
            // SAFETY: `start` is an 8-aligned, non-zero nursery address.
            let obj = unsafe { ObjPtr::from_addr(start) };
            self.state.borrow_mut().record_birth(obj, true, std::panic::Location::caller());
        }
        // SAFETY: `fit` found the space.
        Some(unsafe { self.commit_bump(start, end, header) })
    }

    /// Where an object of `size` bytes placed as `info` requires would go in the nursery, up
    /// to `limit`: `(start, end)`.
    #[inline(always)]
    fn fit(&self, info: &'static TypeInfo, size: usize, limit: usize) -> Option<(usize, usize)> {
        let start = place(self.nursery.cursor.get(), info.payload_offset(), info.align);
        (start + size <= limit).then_some((start, start + size))
    }

    /// Makes the object at `[start, end)` found by `fit`: the header, the destructor list, and
    /// last the cursor. Nothing here fails or calls out, so no half-made object is ever listed.
    ///
    /// # Safety
    /// `(start, end)` was returned by `fit` and the cursor has not moved since.
    #[inline(always)]
    unsafe fn commit_bump(&self, start: usize, end: usize, header: &'static TypeInfo) -> ObjPtr {
        let cursor = self.nursery.cursor.get();
        // SAFETY: `[cursor, end)` is free nursery space: `cursor` is the first free byte and
        // `fit` checked `end` against a limit that is at most the end of the committed part.
        unsafe {
            crate::debug::checkers::unpoison(cursor, end);
            if start != cursor {
                fill(cursor, start);
            }
            let obj = ObjPtr::from_addr(start);
            obj.set_header(header_word(header, 0));
            if header.drop.is_some() {
                self.nursery.push_drop(obj);
            }
            self.nursery.cursor.set(end);
            obj
        }
    }

    /// Allocation past the fast path's limit: a sample or a tenured site for pretenuring (see
    /// [`crate::collector::pretenure`]), a full nursery, or an object that is not young.
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn alloc_slow(
        &self,
        info: &'static TypeInfo,
        size: usize,
        header: &'static TypeInfo,
    ) -> Result<ObjPtr, AllocError> {
        let site = std::panic::Location::caller();
        let young = (size <= MIN_LARGE_OBJECT_THRESHOLD || size <= self.large_threshold)
            && info.align <= MAX_BLOCK_ALIGN;
        if young {
            let mut state = self.state.borrow_mut();
            let (index, route) = state.pretenure.route(site, size, self.nursery.cursor.get());
            let Route::Nursery { sample } = route else {
                // One borrow for the route and the allocation, unless a new block is needed:
                // this is every allocation of a tenured site.
                let (offset, align) = (info.payload_offset(), info.align);
                if !state.old.fits(size, offset, align) {
                    drop(state);
                    state = self.old_space(size, offset, align)?;
                }
                return state.alloc_tenured(info, size, header, site);
            };
            drop(state);
            loop {
                if let Some((start, end)) = self.fit(info, size, self.nursery.end()) {
                    if sample || self.leak_debug() {
                        // Side tables first, as in `bump`.
                        let mut state = self.state.borrow_mut();
                        // SAFETY: `start` is an 8-aligned, non-zero nursery address.
                        let obj = unsafe { ObjPtr::from_addr(start) };
                        #[cfg(feature = "leak-debug")]
                        if self.leak_debug {
                            state.record_birth(obj, true, site);
                        }
                        if sample {
                            let used = end - self.nursery.start;
                            state.pretenure.sampled(obj, index, end, used);
                            self.nursery.set_cap(state.pretenure.limit_cap());
                        }
                    }
                    // SAFETY: `fit` found the space; the cursor has not moved since.
                    return Ok(unsafe { self.commit_bump(start, end, header) });
                }
                // The nursery is full within this `mutate` call: grow it (see `Nursery`).
                let step = self.nursery.extension_step(size + info.align);
                self.state.borrow().check_limit(self.nursery.committed(), step)?;
                let committed = self.nursery.committed();
                if !self.nursery.extend(step) {
                    break;
                }
                // The topology (the user's code) runs with nothing borrowed.
                let binder = self.state.borrow().old.placer.binder();
                if let Some(binder) = binder {
                    let bound = binder.bind_extension(self.nursery.start + committed, step);
                    self.state.borrow_mut().old.placer.settle(bound);
                }
            }
        }
        self.alloc_outside_nursery(info, size, header, Placement::Overflow, site)
    }

    /// Whether leak-debug mode records allocations.
    #[inline(always)]
    fn leak_debug(&self) -> bool {
        #[cfg(feature = "leak-debug")]
        return self.leak_debug;
        #[cfg(not(feature = "leak-debug"))]
        false
    }

    /// Allocates an object that never moves.
    #[track_caller]
    pub(crate) fn alloc_pinned(
        &self,
        info: &'static TypeInfo,
        size: usize,
    ) -> Result<ObjPtr, AllocError> {
        let site = std::panic::Location::caller();
        self.alloc_outside_nursery(info, size, info, Placement::Pinned, site)
    }

    /// Allocation in the large-object space or in the old generation (see
    /// [`HeapState::alloc_outside_nursery`]).
    fn alloc_outside_nursery(
        &self,
        info: &'static TypeInfo,
        size: usize,
        header: &'static TypeInfo,
        placement: Placement,
        site: &'static std::panic::Location<'static>,
    ) -> Result<ObjPtr, AllocError> {
        let mut state = if size > self.large_threshold || info.align > MAX_BLOCK_ALIGN {
            self.state.borrow_mut()
        } else {
            self.old_space(size, info.payload_offset(), info.align)?
        };
        state.alloc_outside_nursery(info, size, header, placement, self.nursery.committed(), site)
    }

    /// The heap's state, borrowed, with room in the current old-generation block for an object
    /// of `size` bytes whose payload at `payload_offset` needs `align`.
    ///
    /// A new block comes from what the old generation has at hand (spares, the pool, the rest
    /// of a chunk), without calling out. If a fresh chunk must be mapped, it is bound to its
    /// NUMA node through the topology, which is the user's code: that runs with the borrow
    /// released (it may re-enter the arena: allocate, write, make handles), and the chunk is
    /// filed afterwards.
    fn old_space(
        &self,
        size: usize,
        payload_offset: usize,
        align: usize,
    ) -> Result<std::cell::RefMut<'_, HeapState>, AllocError> {
        let out_of_memory = |source| AllocError::OutOfMemory { requested: size, source };
        loop {
            let mut state = self.state.borrow_mut();
            if state.old.fits(size, payload_offset, align) {
                return Ok(state);
            }
            let block_size = state.config.block_size;
            state.check_limit(self.nursery.committed(), block_size)?;
            let request = match state.old.take_block() {
                Ok(()) => return Ok(state),
                Err(request) => request,
            };
            let binder = state.old.placer.binder();
            drop(state);
            let chunk = request.fulfil(binder.as_ref());
            drop(binder);
            // Filed, the chunk gives the next turn its block (unless re-entrant code took it).
            self.state.borrow_mut().old.file_chunk(chunk).map_err(out_of_memory)?;
        }
    }

    /// Makes a slice object whose elements were filled under a `DEAD_BYTES` header into an
    /// object of type `info` with `len` elements.
    ///
    /// # Safety
    /// `obj` was allocated by `alloc_raw(info, size, &DEAD_BYTES)` in this heap, and its `len`
    /// elements are initialised.
    pub(crate) unsafe fn commit_slice(&self, obj: ObjPtr, info: &'static TypeInfo, len: usize) {
        // SAFETY: precondition: a slice object with a length word.
        unsafe {
            let flags = obj.header() & FLAGS;
            *obj.as_ptr().add(1) = len;
            obj.set_header(header_word(info, flags));
        }
        // Old-generation blocks were flagged by `alloc_outside_nursery`; large objects are
        // swept by their header.
        if info.drop.is_some() && self.nursery.contains(obj.addr()) {
            self.nursery.push_drop(obj);
        }
    }

    /// The write barrier: remembers an old object the first time it is written after a
    /// collection.
    #[inline(always)]
    pub(crate) fn write_barrier(&self, obj: ObjPtr) {
        if !self.nursery.contains(obj.addr()) {
            // SAFETY: `obj` is a live object (it comes from a `Gc`).
            let word = unsafe { obj.header() };
            if word & REMEMBERED == 0 {
                self.remember(obj, word);
            }
        }
    }

    /// The write barrier for element `index` of the slice `obj`: a large old slice has only
    /// the card of that element marked, so the next minor collection scans that card, not the
    /// whole slice; anything else is remembered whole, as by `write_barrier`.
    #[inline(always)]
    pub(crate) fn write_barrier_at(&self, obj: ObjPtr, index: usize) {
        if !self.nursery.contains(obj.addr()) {
            // SAFETY: `obj` is a live object (it comes from a `Gc`).
            let word = unsafe { obj.header() };
            if word & REMEMBERED == 0 {
                self.remember_card(obj, word, index);
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn remember_card(&self, obj: ObjPtr, word: usize, index: usize) {
        // SAFETY: a live slice object, not forwarded (the mutator runs).
        let (info, len) = unsafe { (crate::raw::type_info_of_word(word), obj.slice_len()) };
        let Some(cards) = crate::collector::cards::count(info, len) else {
            return self.remember(obj, word);
        };
        let mut state = self.state.borrow_mut();
        let bits = state.cards.entry(obj.addr()).or_insert_with(|| vec![0; cards.div_ceil(64)]);
        let card = crate::collector::cards::of_element(info, index);
        bits[card / 64] |= 1 << (card % 64);
    }

    /// The identity of `obj` (see [`crate::identity`]), assigned now if `assign` and it has
    /// none.
    pub(crate) fn identity(&self, obj: ObjPtr, assign: bool) -> Option<u64> {
        // SAFETY: `obj` is a live object (it comes from a `Gc`).
        let word = unsafe { obj.header() };
        if word & HASHED == 0 && !assign {
            return None;
        }
        let young = self.nursery.contains(obj.addr());
        let id = self.state.borrow_mut().identities.get(obj, young, word & HASHED == 0 || assign);
        // SAFETY: as above; no reference to the header word is held.
        unsafe { obj.set_header(word | HASHED) };
        id
    }

    #[cold]
    #[inline(never)]
    fn remember(&self, obj: ObjPtr, word: usize) {
        // The remembered set first, the header bit last: if the entry cannot be made (the
        // state is borrowed), the barrier has changed nothing and runs again next time.
        self.state.borrow_mut().remembered.push(obj);
        // SAFETY: `obj` is a live object; no reference to its header word is held.
        unsafe { obj.set_header(word | REMEMBERED) };
    }
}

impl HeapState {
    /// Gives back the collection's scratch buffers when they grew large: a heap that shrank
    /// should not keep the work lists of its biggest collection. True if it gave any back.
    pub(crate) fn release_scratch(&mut self) -> bool {
        const KEEP: usize = 1 << 16;
        fn release<T>(v: &mut Vec<T>) -> bool {
            let large = v.capacity() > KEEP;
            if large {
                *v = Vec::new();
            }
            large
        }
        // Not short-circuiting: every buffer is looked at.
        release(&mut self.stack)
            | release(&mut self.saved_headers)
            | release(&mut self.young_marks)
            | release(&mut self.young_slots)
            | release(&mut self.slot_addrs)
            | release(&mut self.weak.slots)
    }

    /// Leak-debug mode: files an object's allocation site and birth.
    #[cfg(feature = "leak-debug")]
    #[cold]
    #[inline(never)]
    pub(crate) fn record_birth(
        &mut self,
        obj: ObjPtr,
        young: bool,
        site: &'static std::panic::Location<'static>,
    ) {
        let epoch = self.stats.minor.count + self.stats.full.count;
        self.births.record(obj, young, site, epoch);
    }

    /// Leak-debug mode: files a fresh old or large object (between its space being taken and
    /// its header written: nothing between can fail but an allocation, which aborts).
    #[inline(always)]
    #[allow(unused_variables)]
    fn record_old_birth(&mut self, obj: ObjPtr, site: &'static std::panic::Location<'static>) {
        #[cfg(feature = "leak-debug")]
        if self.config.leak_debug {
            self.record_birth(obj, false, site);
        }
    }

    /// Allocation in the large-object space, or in the old generation: both may now receive
    /// pointers to nursery objects without a barrier (the object is being initialised), so a
    /// large object is remembered, and an old-generation range allocated because the nursery
    /// is full (or for a pinned object) is scanned by the next minor collection.
    ///
    /// An old-generation object must fit in the current block (see [`Heap::old_space`]): no
    /// block is taken here, so no topology is called under the borrow.
    pub(crate) fn alloc_outside_nursery(
        &mut self,
        info: &'static TypeInfo,
        size: usize,
        header: &'static TypeInfo,
        placement: Placement,
        nursery_committed: usize,
        site: &'static std::panic::Location<'static>,
    ) -> Result<ObjPtr, AllocError> {
        let offset = info.payload_offset();
        let out_of_memory = |source| AllocError::OutOfMemory { requested: size, source };
        let obj;
        let mut flags = 0;
        if size > self.config.large_object_threshold || info.align > MAX_BLOCK_ALIGN {
            self.check_limit(nursery_committed, size)?;
            obj = self.los.alloc(size, offset, info.align).map_err(out_of_memory)?;
            flags |= LARGE;
            self.record_old_birth(obj, site);
            if info.trace.is_some() {
                flags |= REMEMBERED;
                self.remembered.push(obj);
            }
        } else {
            debug_assert!(self.old.fits(size, offset, info.align), "no room: see `old_space`");
            obj = self.old.alloc_overflow(size, offset, info.align).map_err(out_of_memory)?;
            self.record_old_birth(obj, site);
            if info.drop.is_some() {
                // SAFETY: the block is ours; no other reference to its metadata is live.
                unsafe { self.old.geom.block_of(obj).meta().has_drop = true };
            }
            if placement != Placement::Pinned {
                self.stats.bytes_pretenured += size as u64;
            }
        }
        // SAFETY: fresh space for the object.
        unsafe { obj.set_header(header_word(header, flags)) };
        if placement == Placement::Pinned {
            // SAFETY: a fresh object outside the nursery, its header written.
            unsafe { self.pins.pin(obj, None) };
        }
        self.debt += size;
        self.stats.bytes_allocated += size as u64;
        Ok(obj)
    }

    /// An object of a tenured allocation site (see [`crate::collector::pretenure`]), no larger
    /// than the large-object threshold: bump allocation in the old generation. It may receive
    /// pointers to nursery objects without a barrier (it is being initialised), so if its type
    /// has pointers it goes in a range the next minor collection scans (as objects placed when
    /// the nursery is full do: contiguous, no remembered-set entry or header bit per object).
    /// It must fit in the current block (see [`Heap::old_space`]).
    #[inline]
    pub(crate) fn alloc_tenured(
        &mut self,
        info: &'static TypeInfo,
        size: usize,
        header: &'static TypeInfo,
        site: &'static std::panic::Location<'static>,
    ) -> Result<ObjPtr, AllocError> {
        let offset = info.payload_offset();
        debug_assert!(self.old.fits(size, offset, info.align), "no room: see `old_space`");
        let obj = if info.trace.is_some() {
            self.old.alloc_scanned(size, offset, info.align)
        } else {
            self.old.alloc(size, offset, info.align)
        }
        .map_err(|source| AllocError::OutOfMemory { requested: size, source })?;
        self.record_old_birth(obj, site);
        if info.drop.is_some() {
            // SAFETY: the block is ours; no other reference to its metadata is live.
            unsafe { self.old.geom.block_of(obj).meta().has_drop = true };
        }
        // SAFETY: fresh space for the object.
        unsafe { obj.set_header(header_word(header, 0)) };
        self.stats.bytes_pretenured += size as u64;
        self.stats.bytes_allocated += size as u64;
        self.debt += size;
        Ok(obj)
    }

    /// The size of the heap: what counts against `max_heap`. Blocks and the nursery count in
    /// full (they are what the heap holds from the OS), retained free blocks do not.
    pub(crate) fn heap_size(&self, nursery_committed: usize) -> usize {
        nursery_committed + self.old.blocks.len() * self.config.block_size + self.los.bytes
    }

    /// Fails if growing the heap by `more` bytes would pass `max_heap`.
    pub(crate) fn check_limit(
        &self,
        nursery_committed: usize,
        more: usize,
    ) -> Result<(), AllocError> {
        match self.config.max_heap {
            Some(limit) if self.heap_size(nursery_committed) + more > limit => {
                Err(AllocError::HeapLimit {
                    requested: more,
                    heap_size: self.heap_size(nursery_committed),
                    limit,
                })
            }
            _ => Ok(()),
        }
    }
}

/// Why an object is allocated outside the nursery by [`HeapState::alloc_outside_nursery`]
/// (large objects go to their space whatever the reason; tenured sites' objects go through
/// [`HeapState::alloc_tenured`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placement {
    /// The nursery cannot grow within this `mutate` call.
    Overflow,
    /// Asked for: the object never moves.
    Pinned,
}

/// Why an allocation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum AllocError {
    /// The heap would grow past the configured `max_heap`. Collecting at the next safepoint
    /// ([`Arena::collect_if_due`](crate::Arena::collect_if_due) does when the heap is near its
    /// limit) may make room; the heap is consistent and usable meanwhile.
    HeapLimit {
        /// Bytes the heap needed to grow by.
        requested: usize,
        /// The heap's size now.
        heap_size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The OS refused memory.
    OutOfMemory {
        /// Bytes of the allocation.
        requested: usize,
        /// The error from the OS or the allocator.
        source: io::Error,
    },
}

impl std::fmt::Display for AllocError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AllocError::HeapLimit { requested, heap_size, limit } => write!(
                f,
                "heap limit of {limit} bytes reached: {heap_size} bytes in use, {requested} more \
                 needed (a full collection at the next safepoint may free some)"
            ),
            AllocError::OutOfMemory { requested, source } => {
                write!(f, "out of memory allocating {requested} bytes: {source}")
            }
        }
    }
}

impl std::error::Error for AllocError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AllocError::OutOfMemory { source, .. } => Some(source),
            AllocError::HeapLimit { .. } => None,
        }
    }
}

/// The panic of the allocation methods that have a `try_` variant.
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn alloc_failed(err: AllocError) -> ! {
    panic!("gc-core: {err}")
}

impl Drop for Heap {
    /// Runs the destructor of every object still in the heap, live or dead, each exactly once
    /// (dead old objects are dropped only by full collections, which then compact them away).
    /// The spaces unmap their memory afterwards, as the fields drop.
    fn drop(&mut self) {
        #[cfg(feature = "leak-debug")]
        crate::debug::leak::forget_growth(self.id);
        let mut panics = crate::collector::DropPanics::default();
        self.drop_all_objects(&mut panics);
        self.state.get_mut().finalizers.discard_all(&mut panics);
        // Already unwinding (the root's destructor panicked): the kept panic is dropped.
        if !std::thread::panicking() {
            panics.resume();
        }
    }
}

impl Heap {
    fn drop_all_objects(&mut self, panics: &mut crate::collector::DropPanics) {
        for obj in self.nursery.take_drops() {
            // SAFETY: listed nursery objects were never dropped; after a minor collection the
            // list is empty, so none was forwarded.
            unsafe {
                if let Some(drop) = obj.type_info().drop {
                    panics.run(drop, obj);
                }
            }
        }
        let state = self.state.get_mut();
        let geom = state.old.geom;
        for &block in &state.old.blocks {
            // SAFETY: our block.
            if !unsafe { block.meta() }.has_drop {
                continue;
            }
            // SAFETY: blocks parse as objects between collections; none was dropped yet.
            unsafe {
                crate::collector::full::walk(block, &geom, |obj, info, _| {
                    if let Some(drop) = info.drop {
                        panics.run(drop, obj);
                    }
                })
            };
        }
        for large in &state.los.objects {
            // SAFETY: a large object is dropped by the sweep that frees it, or here.
            unsafe {
                if let Some(drop) = large.obj.type_info().drop {
                    panics.run(drop, large.obj);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::panic::{catch_unwind, AssertUnwindSafe};

    use super::*;
    use crate::raw::GcObject;

    fn heap(leak_debug: bool) -> Heap {
        let config = HeapConfig::builder().leak_debug(leak_debug).verify(true).build().unwrap();
        Heap::new(config).unwrap()
    }

    /// The barrier run while the state is borrowed (as by user code called under the borrow)
    /// fails before setting the object's `REMEMBERED` bit: the bit never goes without its
    /// remembered-set entry.
    #[test]
    fn remember_sets_the_header_bit_last() {
        let heap = heap(false);
        let info = <u64 as GcObject>::TYPE_INFO;
        let obj = heap.alloc_pinned(info, info.object_size).unwrap();
        // SAFETY: the payload of the fresh `u64`.
        unsafe { obj.payload(info).cast::<u64>().write(1) };
        let borrowed = heap.state.borrow_mut();
        assert!(catch_unwind(AssertUnwindSafe(|| heap.write_barrier(obj))).is_err());
        drop(borrowed);
        // SAFETY: a live object.
        assert_eq!(unsafe { obj.header() } & REMEMBERED, 0);
        assert!(heap.state.borrow().remembered.is_empty());
        heap.write_barrier(obj);
        // SAFETY: as above.
        assert_ne!(unsafe { obj.header() } & REMEMBERED, 0);
        assert!(heap.state.borrow().remembered == vec![obj]);
    }

    /// An allocation whose birth cannot be recorded (leak-debug mode, the state borrowed)
    /// fails before making the object: no header, no destructor-list entry, the cursor unmoved.
    #[cfg(feature = "leak-debug")]
    #[test]
    fn a_birth_that_cannot_be_recorded_makes_no_object() {
        let mut heap = heap(true);
        let info = <String as GcObject>::TYPE_INFO;
        let borrowed = heap.state.borrow_mut();
        let result =
            catch_unwind(AssertUnwindSafe(|| heap.alloc_raw(info, info.object_size, info)));
        assert!(result.is_err());
        drop(borrowed);
        assert_eq!(heap.nursery.used(), 0);
        assert!(heap.nursery.take_drops().is_empty());
    }
}
