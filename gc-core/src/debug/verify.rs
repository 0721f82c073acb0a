//! The heap verifier (HotSpot's VerifyBeforeGC/VerifyAfterGC, V8's --verify-heap).
//!
//! It indexes every space by parsing it from start to end (so every header must be sane and
//! every size must land on the next object), then walks everything reachable from the root and
//! the handles with an explicit stack, checking each pointer:
//!
//! - it designates the start of an object in the nursery (below the bump pointer), in one of
//!   the old generation's blocks (below the block's top) or in the large-object space;
//! - after a collection, nothing points into the nursery;
//! - between collections, a pointer from an old or large object into the nursery is covered by
//!   the write barrier: the source is remembered, or lies in a range the mutator allocated in
//!   the old generation since the last collection (which the next minor collection scans).
//!
//! It also checks the side structures: mark bitmaps clear between collections, the remembered
//! set and the `REMEMBERED` bits agree, every nursery object with a destructor is listed, and
//! every block holding such an object is flagged. Problems are reported with the path that
//! reached the bad pointer (`root.field[3]`, `Node@0x… .next`).

use std::collections::{HashMap, HashSet};
use std::fmt;

use super::census::Census;
use crate::collector::cards::is_dirty;
use crate::collector::{Mode, RootTracer};
use crate::heap::Heap;
use crate::raw::{
    type_info_of_word, ObjPtr, TypeInfo, FLAGS, FORWARDED, HASHED, LARGE, MAGIC, MARKED, PINNED,
    REMEMBERED,
};
use crate::space::block::Geometry;
use crate::trace::{Label, Tracer};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Phase {
    BeforeCollection,
    AfterCollection,
    Standalone,
}

/// What the verifier found wrong.
#[derive(Clone, Debug)]
pub struct VerifyError {
    problems: Vec<String>,
}

impl VerifyError {
    /// Each problem, described.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "heap verification found {} problem(s):", self.problems.len())?;
        for problem in self.problems.iter().take(20) {
            writeln!(f, "  {problem}")?;
        }
        if self.problems.len() > 20 {
            writeln!(f, "  ...")?;
        }
        Ok(())
    }
}

impl std::error::Error for VerifyError {}

/// A fixed-size bit set, one bit per heap word. (Not `bitvec`: its `BitSlice` references
/// carry no permission for the words they designate, which Miri reports as undefined
/// behaviour under both borrow models, ferrilab/bitvec#193.)
struct Bits(Vec<u64>);

impl Bits {
    fn zeros(len: usize) -> Bits {
        Bits(vec![0; len.div_ceil(64)])
    }

    fn get(&self, index: usize) -> bool {
        self.0[index / 64] & (1 << (index % 64)) != 0
    }

    fn set(&mut self, index: usize, on: bool) {
        let word = &mut self.0[index / 64];
        let mask = 1 << (index % 64);
        *word = if on { *word | mask } else { *word & !mask };
    }

    /// Sets the bit to `on`; returns what it was.
    fn replace(&mut self, index: usize, on: bool) -> bool {
        let was = self.get(index);
        self.set(index, on);
        was
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Space {
    Nursery,
    Old,
    Large,
}

struct BlockIndex {
    starts: Bits,
    visited: Bits,
    top: usize,
    data_start: usize,
    live: usize,
}

#[derive(Clone)]
enum Source {
    Root,
    Handle(&'static std::panic::Location<'static>),
    Object {
        obj: ObjPtr,
        name: &'static str,
        /// The object is old or large, not remembered, and outside the overflow ranges.
        must_not_point_young: bool,
        /// Its dirty cards, if it is a card-marked slice: its elements in those cards may
        /// point into the nursery.
        cards: Option<(Vec<u64>, &'static TypeInfo)>,
    },
}

pub(crate) struct Checker {
    phase: Phase,
    nursery_start: usize,
    nursery_reserved: usize,
    nursery_top: usize,
    nursery_starts: Bits,
    nursery_visited: Bits,
    geom: Geometry,
    blocks: HashMap<usize, BlockIndex>,
    large: HashMap<usize, bool>,
    overflow: Vec<(usize, usize)>,
    source: Source,
    path: Vec<Label>,
    stack: Vec<ObjPtr>,
    problems: Vec<String>,
    census: Census,
}

const MAX_PROBLEMS: usize = 100;

impl Checker {
    fn problem(&mut self, what: fmt::Arguments<'_>) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(what.to_string());
        }
    }

    fn describe_path(&self) -> String {
        let mut out = match &self.source {
            Source::Root => String::new(),
            Source::Handle(site) => format!("handle created at {site}"),
            Source::Object { obj, name, .. } => format!("{name}@{obj:?} "),
        };
        for label in &self.path {
            out.push_str(&label.to_string());
        }
        out
    }

    pub(crate) fn enter(&mut self, label: Label) {
        self.path.push(label);
    }

    pub(crate) fn leave(&mut self) {
        self.path.pop();
    }

    /// Checks one pointer and queues its target.
    pub(crate) fn visit(&mut self, target: ObjPtr) {
        self.check(target, true)
    }

    /// Checks a weak pointer: it must be as valid as a strong one, but is not followed.
    pub(crate) fn visit_weak(&mut self, target: ObjPtr) {
        self.check(target, false)
    }

    fn check(&mut self, target: ObjPtr, follow: bool) {
        let addr = target.addr();
        let space;
        let first_visit;
        if addr.wrapping_sub(self.nursery_start) < self.nursery_reserved {
            let index = (addr - self.nursery_start) / 8;
            if addr >= self.nursery_top || !self.nursery_starts.get(index) {
                // (`index` is in bounds when `addr` is below the top.)
                let path = self.describe_path();
                return self.problem(format_args!(
                    "{path} -> {addr:#x}: points into the nursery, not at an object"
                ));
            }
            if self.phase == Phase::AfterCollection {
                let path = self.describe_path();
                self.problem(format_args!(
                    "{path} -> {addr:#x}: points into the nursery after a collection"
                ));
            }
            let unremembered = match &self.source {
                Source::Object { must_not_point_young: true, cards, .. } => {
                    // A card-marked slice may point young from the elements of its dirty cards.
                    !cards.as_ref().is_some_and(|(bits, info)| {
                        matches!(self.path.first(), Some(&Label::Index(i)) if is_dirty(info, bits, i))
                    })
                }
                _ => false,
            };
            if unremembered {
                let path = self.describe_path();
                self.problem(format_args!(
                    "{path} -> {addr:#x}: an old object points into the nursery but was not remembered \
                     (a write bypassed the barrier)"
                ));
            }
            space = Space::Nursery;
            first_visit = !self.nursery_visited.replace(index, true);
        } else if let Some(block) = self.blocks.get_mut(&(addr & !(self.geom.size - 1))) {
            let bit = (addr & (self.geom.size - 1)) / 8;
            if addr >= block.top || addr < block.data_start || !block.starts.get(bit) {
                let path = self.describe_path();
                return self.problem(format_args!(
                    "{path} -> {addr:#x}: points into an old block, not at an object"
                ));
            }
            space = Space::Old;
            first_visit = !block.visited.replace(bit, true);
        } else if let Some(visited) = self.large.get_mut(&addr) {
            space = Space::Large;
            first_visit = !std::mem::replace(visited, true);
        } else {
            let path = self.describe_path();
            return self.problem(format_args!(
                "{path} -> {addr:#x}: dangling: not an object of this heap"
            ));
        }
        if first_visit && !follow {
            // Not reached yet: only through a weak edge so far.
            self.unvisit(target, space);
        } else if first_visit {
            // SAFETY: indexed above as the start of a parsed object.
            let size = unsafe { target.size() };
            self.census.record(space == Space::Nursery, space == Space::Old, size);
            if let Some(block) = (space == Space::Old)
                .then(|| self.blocks.get_mut(&(addr & !(self.geom.size - 1))))
                .flatten()
            {
                block.live += size;
            }
            self.stack.push(target);
        }
    }
}

impl Checker {
    /// Forgets that `target` was visited (it was only checked through a weak edge).
    fn unvisit(&mut self, target: ObjPtr, space: Space) {
        let addr = target.addr();
        match space {
            Space::Nursery => self.nursery_visited.set((addr - self.nursery_start) / 8, false),
            Space::Old => {
                if let Some(block) = self.blocks.get_mut(&(addr & !(self.geom.size - 1))) {
                    block.visited.set((addr & (self.geom.size - 1)) / 8, false);
                }
            }
            Space::Large => {
                self.large.insert(addr, false);
            }
        }
    }
}

/// Parses `[from, to)` as objects, checking each header; calls `f(object, type, header)`,
/// which may report a problem.
/// Stops at the first object that does not parse.
///
/// # Safety
/// The range is readable.
unsafe fn parse(
    from: usize,
    to: usize,
    allowed_flags: usize,
    what: &str,
    problems: &mut Vec<String>,
    mut f: impl FnMut(ObjPtr, &'static TypeInfo, usize) -> Option<String>,
) {
    let mut at = from;
    while at < to {
        // SAFETY: precondition: readable; `at` is 8-aligned and non-zero.
        let obj = unsafe { ObjPtr::from_addr(at) };
        // SAFETY: readable.
        let word = unsafe { obj.header() };
        let bad = |problems: &mut Vec<String>, why: &str| {
            problems.push(format!("{what}: object at {at:#x} has a bad header {word:#x}: {why}"));
        };
        if word & FORWARDED != 0 {
            return bad(problems, "forwarded (or zapped) outside a collection");
        }
        if word & FLAGS & !allowed_flags != 0 {
            return bad(problems, "unexpected flag bits");
        }
        if word & !FLAGS == 0 {
            return bad(problems, "null type");
        }
        // SAFETY: the word is not forwarded; a corrupt type pointer is caught by the magic
        // check unless it points at unmapped memory, which no collector bug seen so far does.
        let info = unsafe { type_info_of_word(word) };
        if info.magic != MAGIC {
            return bad(problems, "type pointer does not point at type information");
        }
        // SAFETY: a slice's length word follows its header, inside the range.
        let size = unsafe { obj.size_with(info) };
        if size == 0 || at + size > to {
            return bad(problems, "size overruns its space");
        }
        if let Some(problem) = f(obj, info, word) {
            problems.push(problem);
        }
        at += size;
    }
}

/// Verifies the heap; returns the census of what is reachable.
pub(crate) fn check(
    heap: &mut Heap,
    roots: RootTracer<'_>,
    phase: Phase,
) -> Result<Census, VerifyError> {
    let nursery_start = heap.nursery.start;
    let nursery_top = heap.nursery.cursor.get();
    let nursery_words = heap.nursery.used() / 8;
    let heap_nursery_reserved = heap.nursery.reserved();
    let listed_drops: HashSet<ObjPtr> = heap.nursery.drops_snapshot().into_iter().collect();
    let state = heap.state.get_mut();
    let mut problems = Vec::new();

    // Index the nursery.
    let mut nursery_starts = Bits::zeros(nursery_words);
    // SAFETY: `[start, top)` is the nursery's allocated part.
    unsafe {
        parse(nursery_start, nursery_top, HASHED, "nursery", &mut problems, |obj, info, _| {
            nursery_starts.set((obj.addr() - nursery_start) / 8, true);
            (info.drop.is_some() && !listed_drops.contains(&obj)).then(|| {
                format!(
                    "nursery object {}@{obj:?} has a destructor but is not in the drop list",
                    info.name()
                )
            })
        })
    };

    // Index the old generation.
    let geom = state.old.geom;
    let remembered: HashSet<ObjPtr> = state.remembered.iter().copied().collect();
    let mut remembered_seen = 0;
    let mut blocks = HashMap::new();
    for &block in &state.old.blocks {
        // SAFETY: our block.
        let meta = unsafe { block.meta() };
        let data_start = block.data_start(&geom);
        if meta.top < data_start || meta.top > block.end(&geom) {
            problems.push(format!(
                "block {:#x}: top {:#x} outside the block",
                block.base(),
                meta.top
            ));
            continue;
        }
        // SAFETY: our block; read only.
        let marked = unsafe { block.marks(&geom) }.iter().any(|&word| word != 0);
        if phase != Phase::AfterCollection && marked {
            problems.push(format!("block {:#x}: mark bits set between collections", block.base()));
        }
        let mut starts = Bits::zeros(geom.size / 8);
        let mut needs_drop_flag = false;
        // SAFETY: `[data_start, top)` is the block's object area.
        unsafe {
            parse(
                data_start,
                meta.top,
                REMEMBERED | HASHED | PINNED,
                "old block",
                &mut problems,
                |obj, info, word| {
                    starts.set(block.bit(obj.addr()), true);
                    needs_drop_flag |= info.drop.is_some();
                    if word & REMEMBERED == 0 {
                        return None;
                    }
                    remembered_seen += 1;
                    (!remembered.contains(&obj)).then(|| {
                        format!(
                            "old object {}@{obj:?} has its REMEMBERED bit set but is not in the \
                         remembered set",
                            info.name()
                        )
                    })
                },
            )
        };
        if needs_drop_flag && !meta.has_drop {
            problems.push(format!(
                "block {:#x} holds objects with destructors but is not flagged",
                block.base()
            ));
        }
        blocks.insert(
            block.base(),
            BlockIndex {
                starts,
                visited: Bits::zeros(geom.size / 8),
                top: meta.top,
                data_start,
                live: 0,
            },
        );
    }

    if state.old.count_used() != state.old.used_bytes() {
        problems.push(format!(
            "old generation: {} bytes used in its blocks, but the counter says {}",
            state.old.count_used(),
            state.old.used_bytes()
        ));
    }

    // Index the large objects.
    let mut large = HashMap::new();
    for object in &state.los.objects {
        let obj = object.obj;
        // SAFETY: a large object is a lone allocation holding one object.
        let word = unsafe { obj.header() };
        if word & (FORWARDED | MARKED) != 0 || word & LARGE == 0 {
            problems.push(format!("large object {obj:?} has a bad header {word:#x}"));
            continue;
        }
        // SAFETY: checked not forwarded.
        if unsafe { type_info_of_word(word) }.magic != MAGIC {
            problems.push(format!("large object {obj:?} has a bad type pointer {word:#x}"));
            continue;
        }
        if word & REMEMBERED != 0 {
            remembered_seen += 1;
            if !remembered.contains(&obj) {
                problems.push(format!(
                    "large object {obj:?} is REMEMBERED but not in the remembered set"
                ));
            }
        }
        large.insert(obj.addr(), false);
    }
    if remembered_seen != remembered.len() {
        problems.push(format!(
            "the remembered set has {} entries but {remembered_seen} objects have the REMEMBERED bit",
            remembered.len()
        ));
    }
    if phase == Phase::AfterCollection && !remembered.is_empty() {
        problems.push("the remembered set is not empty after a collection".into());
    }

    // The side tables name objects, reachable or not (yet) swept: each must be an object.
    let is_object = |addr: usize| -> bool {
        if addr.wrapping_sub(nursery_start) < heap_nursery_reserved {
            addr < nursery_top && nursery_starts.get((addr - nursery_start) / 8)
        } else if let Some(block) = blocks.get(&(addr & !(geom.size - 1))) {
            addr >= block.data_start
                && addr < block.top
                && block.starts.get((addr & (geom.size - 1)) / 8)
        } else {
            large.contains_key(&addr)
        }
    };
    // Card-marked slices: old slices whose type traces element ranges; none after a collection.
    for (&addr, bits) in &state.cards {
        let old = addr.wrapping_sub(nursery_start) >= heap_nursery_reserved;
        // SAFETY: read only after `is_object` confirmed an object starts there.
        let info = (old && is_object(addr))
            .then(|| unsafe { type_info_of_word(*(addr as *const usize) & !FLAGS) });
        match info {
            Some(info) if info.trace_range.is_some() && !bits.is_empty() => {}
            _ => problems.push(format!("card table: {addr:#x} is not an old slice of pointers")),
        }
    }
    if phase == Phase::AfterCollection && !state.cards.is_empty() {
        problems.push("card tables are left after a collection".into());
    }
    for (addr, young) in state.identities.addresses() {
        // SAFETY: read only after `is_object` confirmed an object starts there.
        if !is_object(addr) || unsafe { *(addr as *const usize) } & HASHED == 0 {
            problems.push(format!("identity table: {addr:#x} is not a hashed object"));
        } else if young != (addr.wrapping_sub(nursery_start) < heap_nursery_reserved) {
            problems.push(format!("identity table: {addr:#x} is filed in the wrong generation"));
        }
    }
    for entry in state.pins.iter() {
        let addr = entry.obj.addr();
        // SAFETY: read only after `is_object` confirmed an object starts there.
        if !is_object(addr) || unsafe { *(addr as *const usize) } & PINNED == 0 {
            problems.push(format!("pin table: {addr:#x} is not a pinned object"));
        } else if addr.wrapping_sub(nursery_start) < heap_nursery_reserved {
            problems.push(format!("pin table: {addr:#x} is young"));
        }
    }
    #[cfg(feature = "leak-debug")]
    for addr in state.births.addresses() {
        if !is_object(addr) {
            problems.push(format!("leak-debug records: {addr:#x} is not an object"));
        }
    }
    #[cfg(feature = "leak-debug")]
    for watch in state.watches.all() {
        if !is_object(watch.obj.addr()) {
            problems.push(format!("leak-debug watch for {:?}, which is not an object", watch.obj));
        }
    }
    for target in state.finalizers.targets() {
        if !is_object(target.addr()) {
            problems
                .push(format!("finalization registration for {target:?}, which is not an object"));
        }
    }

    // Walk everything reachable.
    let overflow: Vec<(usize, usize)> = state
        .old
        .overflow
        .iter()
        // SAFETY: our blocks.
        .map(|&(start, block)| (start, unsafe { block.meta() }.top))
        .collect();
    let mut checker = Checker {
        phase,
        nursery_start,
        nursery_reserved: heap.nursery.reserved(),
        nursery_top,
        nursery_starts,
        nursery_visited: Bits::zeros(nursery_words),
        geom,
        blocks,
        large,
        overflow,
        source: Source::Root,
        path: Vec::new(),
        stack: Vec::new(),
        problems,
        census: Census::default(),
    };
    roots(&mut Tracer::new(Mode::Check(&mut checker)));
    for slot in state.handles.slots() {
        checker.source = Source::Handle(slot.site);
        checker.visit(slot.ptr.get());
    }
    while let Some(obj) = checker.stack.pop() {
        // SAFETY: a parsed, reachable object.
        let word = unsafe { obj.header() };
        // SAFETY: parsed: not forwarded.
        let info = unsafe { type_info_of_word(word) };
        let old = !(obj.addr() >= nursery_start && obj.addr() < nursery_top);
        let in_overflow = checker.overflow.iter().any(|&(s, e)| obj.addr() >= s && obj.addr() < e);
        let must_not_point_young = old && word & REMEMBERED == 0 && !in_overflow;
        checker.source = Source::Object {
            obj,
            name: info.name(),
            must_not_point_young,
            cards: must_not_point_young
                .then(|| state.cards.get(&obj.addr()).map(|bits| (bits.clone(), info)))
                .flatten(),
        };
        checker.path.clear();
        if let Some(trace) = info.trace_labeled {
            // SAFETY: a live object; the verifier has exclusive access and rewrites nothing.
            unsafe { trace(obj, &mut Tracer::new(Mode::Check(&mut checker))) };
        }
    }

    let mut census = checker.census;
    census.finish(checker.blocks.values().map(|b| (b.live, b.top - b.data_start)), geom.capacity());
    if checker.problems.is_empty() {
        Ok(census)
    } else {
        Err(VerifyError { problems: checker.problems })
    }
}

/// Verifies, panicking with the problems found.
pub(crate) fn check_or_panic(heap: &mut Heap, roots: RootTracer<'_>, phase: Phase) {
    if let Err(err) = check(heap, roots, phase) {
        panic!("gc-core verifier ({phase:?}): {err}");
    }
}

#[cfg(test)]
mod tests {
    use crate::{Arena, FinalizationRegistry, Gc, HeapConfig, Rootable};

    /// The verifier checks the finalization registrations' targets: moved off an object
    /// start, a target is reported.
    #[test]
    fn a_finalization_target_off_an_object_is_reported() {
        let registry = FinalizationRegistry::new();
        let config = HeapConfig::builder().verify(true).build().unwrap();
        let mut arena = Arena::<Rootable![Vec<Gc<'_, [u64; 2]>>]>::new(config, |_| Vec::new());
        arena.mutate_root(|mc, root| {
            for young in [false, true] {
                let obj = Gc::new(mc, [1, 2]);
                registry.register(mc, obj, young);
                root.push(obj);
            }
        });
        arena.verify().unwrap();
        let finalizers = &mut arena.heap.state.get_mut().finalizers;
        finalizers.shift_targets_for_test(8);
        let err = arena.verify().unwrap_err();
        assert_eq!(
            err.problems().iter().filter(|p| p.contains("finalization registration")).count(),
            2,
            "{err}"
        );
        arena.heap.state.get_mut().finalizers.shift_targets_for_test(-8);
        arena.verify().unwrap();
        arena.collect_full();
        assert_eq!(registry.take(), None);
    }
}
