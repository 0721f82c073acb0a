//! Model-based testing of gc-core: programs of heap operations, replayed against the real heap
//! and against a plain-Rust model of the object graph, compared after every collection.
//!
//! The same [`Op`] definition drives the proptest suite (`tests/model.rs`) and the fuzz target
//! (`fuzz/fuzz_targets/heap_ops.rs`).
//!
//! Objects are numbered by the executor. Operations name objects by an index into the sorted
//! list of objects reachable in the model at that moment (taken modulo its length), so every
//! generated program is valid and shrinks well.
//!
//! The model knows the graph exactly: strong edges, one weak slot per object, an ephemeron
//! table (key → value, the value reachable only while the key is), finalization
//! registrations and identity hashes. What it cannot know is *when* an unreachable old object
//! is freed: a minor collection frees only young garbage, and not even all of it (an old dead
//! object that was written since the last collection keeps its young targets alive until the
//! next full collection). So the heap's drop log is the witness of death, and the checks are:
//!
//! - never dropped while reachable, never dropped twice; after a full collection, dropped
//!   exactly when unreachable;
//! - the reachable graph (payloads, edges, roots) is the model's;
//! - a weak slot is empty exactly when its target was dropped; an ephemeron entry exists
//!   exactly when its key was not dropped; a finalization token is delivered exactly once, for
//!   exactly the registrations of dropped objects; identity hashes never change.
//!
//! Panics are injected where a collection runs user code ([`Op::Arm`]): the objects'
//! destructors, the ephemeron table's values, and the tokens of registrations whose registry
//! was dropped (each `Register` also registers with a registry dropped at once). An armed fuse
//! panics in the n-th such destructor of the next collections (or of the arena's drop), and
//! optionally again in the one after, with a payload whose own `Drop` panics. The collection
//! must resume one of those panics and leave the heap exactly as if none had happened: the
//! checks are the same.

#[cfg(feature = "leak-debug")]
pub mod leak;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use gc_core::{
    field, Arena, CollectionKind, EphemeronTable, FinalizationRegistry, Gc, GcWeak, Handle,
    HeapConfig, Lock, Mutation, RefLock, Rootable, Trace,
};

/// Edge slots in a small object; a "large" object has enough slots to exceed the test
/// configuration's large-object threshold.
pub const SMALL_SLOTS: usize = 3;
/// Edge slots of a large object.
pub const LARGE_SLOTS: usize = 400;

/// One step of a program.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Op {
    /// Allocates an object with a payload and roots it in the arena root.
    Alloc {
        /// Payload.
        payload: u64,
        /// Whether its edge array is large (goes to the large-object space).
        large: bool,
    },
    /// Allocates `count` objects and drops them at once (garbage).
    Garbage {
        /// How many.
        count: u8,
    },
    /// Points `from`'s edge `slot` at `to`.
    Link {
        /// Source object (index into the reachable objects).
        from: usize,
        /// Edge slot (modulo the object's slot count).
        slot: u16,
        /// Target object (index into the reachable objects).
        to: usize,
    },
    /// Clears `from`'s edge `slot`.
    Unlink {
        /// Source object.
        from: usize,
        /// Edge slot.
        slot: u16,
    },
    /// Points `from`'s weak slot at `to`.
    WeakLink {
        /// Source object.
        from: usize,
        /// Target object.
        to: usize,
    },
    /// Clears `from`'s weak slot.
    ClearWeak {
        /// Source object.
        from: usize,
    },
    /// Sets `key → value` in the ephemeron table.
    EphemeronSet {
        /// Key object.
        key: usize,
        /// Value object.
        value: usize,
    },
    /// Removes a reachable key from the ephemeron table.
    EphemeronRemove {
        /// Index into the table's reachable keys.
        key: usize,
    },
    /// Registers an object with the finalization registry.
    Register {
        /// The object.
        obj: usize,
    },
    /// Asks for an object's identity hash.
    Identity {
        /// The object.
        obj: usize,
    },
    /// Adds an object to the arena root.
    Root {
        /// The object.
        obj: usize,
    },
    /// Removes an entry of the arena root.
    Unroot {
        /// Index into the root entries.
        index: usize,
    },
    /// Creates a handle to an object.
    Handle {
        /// The object.
        obj: usize,
    },
    /// Drops a handle.
    DropHandle {
        /// Index into the live handles.
        index: usize,
    },
    /// Changes an object's payload.
    Write {
        /// The object.
        obj: usize,
        /// New payload.
        payload: u64,
    },
    /// A minor collection.
    Minor,
    /// A full collection.
    Full,
    /// `collect_if_due`.
    IfDue,
    /// Arms the fuse: the `after`-th destructor that a collection (or the arena's drop) runs
    /// from now on panics; with `nasty`, the one after it panics too, with a payload whose own
    /// `Drop` panics.
    Arm {
        /// Destructors to let through, plus one.
        after: u8,
        /// Whether a second panic follows, with a payload that panics when dropped.
        nasty: bool,
    },
}

/// The payload of an injected plain panic.
struct InjectedPanic;

/// The payload of an injected panic whose own `Drop` panics (with [`NestedPanic`]).
struct NastyPayload;

impl Drop for NastyPayload {
    fn drop(&mut self) {
        std::panic::panic_any(NestedPanic);
    }
}

/// The payload of the panic of a [`NastyPayload`]'s `Drop`.
struct NestedPanic;

/// Whether a panic payload is one the harness injects (for a panic hook that must let them
/// through, such as the fuzz targets', which otherwise aborts at every panic).
pub fn is_injected_panic(payload: &(dyn std::any::Any + Send)) -> bool {
    payload.is::<InjectedPanic>() || payload.is::<NastyPayload>() || payload.is::<NestedPanic>()
}

/// The fuse's state: `live` while a collection or the arena's drop runs (destructors that
/// the program runs itself, inside `mutate`, never panic).
#[derive(Clone, Copy, Default)]
struct FuseState {
    live: bool,
    /// Destructors until the next panic (0: disarmed).
    countdown: u32,
    nasty: bool,
    fired: u8,
}

thread_local! {
    static FUSE: std::cell::Cell<FuseState> = std::cell::Cell::new(FuseState::default());
    static FIRED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Panics injected on this thread so far (to check that programs do reach them).
pub fn injected_panics() -> u64 {
    FIRED.with(|f| f.get())
}

fn arm(after: u8, nasty: bool) {
    FUSE.with(|f| {
        let live = f.get().live;
        f.set(FuseState { live, countdown: u32::from(after) + 1, nasty, fired: 0 })
    });
}

/// Called by every destructor the harness owns: panics if the fuse says so.
fn fuse() {
    let fired = FUSE.with(|cell| {
        let mut f = cell.get();
        if !f.live || f.countdown == 0 {
            return None;
        }
        f.countdown -= 1;
        if f.countdown > 0 {
            cell.set(f);
            return None;
        }
        f.fired += 1;
        if f.nasty && f.fired == 1 {
            f.countdown = 1; // the next destructor panics too
        }
        cell.set(f);
        FIRED.with(|n| n.set(n.get() + 1));
        Some(f.fired)
    });
    match fired {
        Some(2) => std::panic::panic_any(NastyPayload),
        Some(_) => std::panic::panic_any(InjectedPanic),
        None => {}
    }
}

fn disarm() {
    FUSE.with(|f| f.set(FuseState::default()));
}

/// Runs `f` (a collection, or the arena's drop) with the fuse live. An injected panic is
/// swallowed (`None`): the collection completed and resumed it, which is what must happen;
/// any other panic (the verifier's) goes on.
fn with_fuse<R>(f: impl FnOnce() -> R) -> Option<R> {
    FUSE.with(|cell| cell.set(FuseState { live: true, ..cell.get() }));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    FUSE.with(|cell| cell.set(FuseState { live: false, ..cell.get() }));
    match outcome {
        Ok(r) => Some(r),
        Err(payload) if payload.is::<NastyPayload>() => {
            // Dropping it would panic: a careful embedder leaks it.
            std::mem::forget(payload);
            None
        }
        Err(payload) if payload.is::<InjectedPanic>() => None,
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

/// A `'static` value whose destructor goes through the fuse: an ephemeron table value's
/// companion, a dropped registry's token.
struct Fused;

impl Drop for Fused {
    fn drop(&mut self) {
        fuse()
    }
}

type DropLog = Rc<RefCell<HashMap<u64, u32>>>;

/// Records its object's id in the drop log when dropped.
struct Token {
    id: u64,
    log: DropLog,
}

impl Drop for Token {
    fn drop(&mut self) {
        *self.log.borrow_mut().entry(self.id).or_default() += 1;
        fuse()
    }
}

#[derive(Trace)]
struct Obj<'gc> {
    id: u64,
    payload: Lock<u64>,
    edges: Gc<'gc, [Lock<Option<Gc<'gc, Obj<'gc>>>>]>,
    weak: Lock<Option<GcWeak<'gc, Obj<'gc>>>>,
    #[trace(skip)]
    _token: Token,
}

/// An ephemeron table value: the object, and a destructor that may panic.
#[derive(Trace)]
struct Value<'gc> {
    obj: Gc<'gc, Obj<'gc>>,
    #[trace(skip)]
    _fused: Fused,
}

type Table<'gc> = EphemeronTable<'gc, Obj<'gc>, Value<'gc>>;

#[derive(Trace)]
struct Root<'gc> {
    objs: Vec<Gc<'gc, Obj<'gc>>>,
    table: Gc<'gc, RefLock<Table<'gc>>>,
}

type ObjRoot = Rootable![Obj<'_>];

#[derive(Clone, Debug)]
struct ModelObj {
    payload: u64,
    edges: Vec<Option<u64>>,
    weak: Option<u64>,
}

/// The model: the object graph in plain Rust.
#[derive(Default)]
struct Model {
    objects: BTreeMap<u64, ModelObj>,
    roots: Vec<u64>,
    handles: Vec<u64>,
    table: BTreeMap<u64, u64>,
    registered: BTreeMap<u64, u32>,
    identities: BTreeMap<u64, u64>,
    /// Objects the heap dropped (known from the drop log after each collection).
    dropped: BTreeSet<u64>,
    next_id: u64,
}

impl Model {
    /// Strongly reachable objects: from the roots and handles through edges, and through the
    /// ephemeron table's values whose keys are reachable (to a fixpoint).
    fn reachable(&self) -> BTreeSet<u64> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<u64> = self.roots.iter().chain(&self.handles).copied().collect();
        loop {
            while let Some(id) = stack.pop() {
                if seen.insert(id) {
                    stack.extend(self.objects[&id].edges.iter().flatten());
                }
            }
            stack.extend(
                self.table
                    .iter()
                    .filter(|(k, v)| seen.contains(k) && !seen.contains(v))
                    .map(|(_, v)| *v),
            );
            if stack.is_empty() {
                return seen;
            }
        }
    }

    fn new_object(&mut self, payload: u64, slots: usize) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.objects.insert(id, ModelObj { payload, edges: vec![None; slots], weak: None });
        id
    }
}

fn nth(set: &BTreeSet<u64>, index: usize) -> Option<u64> {
    (!set.is_empty()).then(|| *set.iter().nth(index % set.len()).unwrap())
}

/// Finds every object reachable in the heap, by id (strong edges and live-keyed ephemerons).
fn heap_objects<'gc>(
    mc: &Mutation<'gc>,
    root: &Root<'gc>,
    handles: &[Handle<ObjRoot>],
) -> Result<BTreeMap<u64, Gc<'gc, Obj<'gc>>>, String> {
    let mut found: BTreeMap<u64, Gc<'gc, Obj<'gc>>> = BTreeMap::new();
    let mut stack: Vec<Gc<'gc, Obj<'gc>>> = root.objs.clone();
    stack.extend(handles.iter().map(|h| mc.fetch(h)));
    loop {
        while let Some(obj) = stack.pop() {
            if let Some(prev) = found.get(&obj.id) {
                if !Gc::ptr_eq(*prev, obj) {
                    return Err(format!("two heap objects carry id {}", obj.id));
                }
                continue;
            }
            found.insert(obj.id, obj);
            stack.extend(obj.edges.iter().filter_map(|e| e.get()));
        }
        let table = root.table.borrow();
        stack.extend(
            table
                .iter()
                .filter(|(k, v)| found.contains_key(&k.id) && !found.contains_key(&v.obj.id))
                .map(|(_, v)| v.obj),
        );
        if stack.is_empty() {
            return Ok(found);
        }
    }
}

/// A bug to inject into the executor, to check that the checks catch it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// `Link` stores the edge without running the write barrier.
    UnbarrieredLink,
}

/// Runs `ops` against the heap (configured by `config`) and the model, checking them against
/// each other after every collection and at the end. Returns a description of the first
/// divergence; a verifier failure panics.
pub fn run(ops: &[Op], config: HeapConfig) -> Result<(), String> {
    run_with_fault(ops, config, None)
}

struct Harness {
    log: DropLog,
    registry: FinalizationRegistry<u64>,
    delivered: BTreeMap<u64, u32>,
    model: Model,
    handles: Vec<Handle<ObjRoot>>,
}

/// As [`run`], with a bug injected.
pub fn run_with_fault(ops: &[Op], config: HeapConfig, fault: Option<Fault>) -> Result<(), String> {
    disarm();
    let mut h = Harness {
        log: Rc::default(),
        registry: FinalizationRegistry::new(),
        delivered: BTreeMap::new(),
        model: Model::default(),
        handles: Vec::new(),
    };
    let mut arena = Arena::<Rootable![Root<'_>]>::new(config, |mc| Root {
        objs: Vec::new(),
        table: Gc::new(mc, RefLock::new(Table::new())),
    });

    for (step, op) in ops.iter().enumerate() {
        step_op(&mut arena, &mut h, op, fault).map_err(|e| format!("step {step} ({op:?}): {e}"))?;
    }

    with_fuse(|| arena.collect(CollectionKind::Full));
    check(&arena, &mut h, true).map_err(|e| format!("final full collection: {e}"))?;
    let Harness { log, model, handles, registry, .. } = h;
    drop(handles);
    with_fuse(move || drop(arena));
    disarm();
    drop(registry);
    let log = log.borrow();
    for id in 0..model.next_id {
        match log.get(&id) {
            Some(1) => {}
            other => {
                return Err(format!("object {id} dropped {other:?} times in all (expected once)"))
            }
        }
    }
    Ok(())
}

type TestArena = Arena<Rootable![Root<'_>]>;

fn alloc_obj<'gc>(
    mc: &Mutation<'gc>,
    id: u64,
    payload: u64,
    slots: usize,
    log: &DropLog,
) -> Gc<'gc, Obj<'gc>> {
    let edges = mc.alloc_slice_fill_with(slots, |_| Lock::new(None));
    Gc::new(
        mc,
        Obj {
            id,
            payload: Lock::new(payload),
            edges,
            weak: Lock::new(None),
            _token: Token { id, log: log.clone() },
        },
    )
}

fn step_op(
    arena: &mut TestArena,
    h: &mut Harness,
    op: &Op,
    fault: Option<Fault>,
) -> Result<(), String> {
    let reachable = h.model.reachable();
    let model = &mut h.model;
    let handles = &mut h.handles;
    match *op {
        Op::Alloc { payload, large } => {
            let slots = if large { LARGE_SLOTS } else { SMALL_SLOTS };
            let id = model.new_object(payload, slots);
            model.roots.push(id);
            let log = &h.log;
            arena.mutate_root(|mc, root| root.objs.push(alloc_obj(mc, id, payload, slots, log)));
            Ok(())
        }
        Op::Garbage { count } => {
            for _ in 0..count {
                let id = model.new_object(0, SMALL_SLOTS);
                let log = &h.log;
                arena.mutate(|mc, _| {
                    alloc_obj(mc, id, 0, SMALL_SLOTS, log);
                });
            }
            Ok(())
        }
        Op::Link { from, slot, to } => {
            let (Some(from), Some(to)) = (nth(&reachable, from), nth(&reachable, to)) else {
                return Ok(());
            };
            let edges = &mut model.objects.get_mut(&from).unwrap().edges;
            let slot = slot as usize % edges.len();
            edges[slot] = Some(to);
            arena.mutate(|mc, root| {
                let objs = heap_objects(mc, root, handles)?;
                let (source, target) = (objs[&from], objs[&to]);
                if fault == Some(Fault::UnbarrieredLink) {
                    // SAFETY: not safe at all: this is the injected bug.
                    unsafe { gc_core::Write::assume(&source.edges[slot]) }.set(Some(target));
                } else if slot % 3 == 0 {
                    // The whole-object barrier...
                    Gc::write(mc, source.edges).at(slot).set(Some(target));
                } else {
                    // ...and the card-marking one (large objects' edges are card-marked).
                    Gc::write_at(mc, source.edges, slot).set(Some(target));
                }
                Ok(())
            })
        }
        Op::Unlink { from, slot } => {
            let Some(from) = nth(&reachable, from) else { return Ok(()) };
            let edges = &mut model.objects.get_mut(&from).unwrap().edges;
            let slot = slot as usize % edges.len();
            edges[slot] = None;
            arena.mutate(|mc, root| {
                let objs = heap_objects(mc, root, handles)?;
                Gc::write_at(mc, objs[&from].edges, slot).set(None);
                Ok(())
            })
        }
        Op::WeakLink { from, to } => {
            let (Some(from), Some(to)) = (nth(&reachable, from), nth(&reachable, to)) else {
                return Ok(());
            };
            model.objects.get_mut(&from).unwrap().weak = Some(to);
            arena.mutate(|mc, root| {
                let objs = heap_objects(mc, root, handles)?;
                field!(Gc::write(mc, objs[&from]), Obj, weak).set(Some(Gc::downgrade(objs[&to])));
                Ok(())
            })
        }
        Op::ClearWeak { from } => {
            let Some(from) = nth(&reachable, from) else { return Ok(()) };
            model.objects.get_mut(&from).unwrap().weak = None;
            arena.mutate(|mc, root| {
                let objs = heap_objects(mc, root, handles)?;
                field!(Gc::write(mc, objs[&from]), Obj, weak).set(None);
                Ok(())
            })
        }
        Op::EphemeronSet { key, value } => {
            let (Some(key), Some(value)) = (nth(&reachable, key), nth(&reachable, value)) else {
                return Ok(());
            };
            model.table.insert(key, value);
            arena.mutate(|mc, root| {
                let objs = heap_objects(mc, root, handles)?;
                let value = Value { obj: objs[&value], _fused: Fused };
                root.table.borrow_mut(mc).insert(mc, objs[&key], value);
                Ok(())
            })
        }
        Op::EphemeronRemove { key } => {
            let keys: BTreeSet<u64> =
                model.table.keys().filter(|k| reachable.contains(k)).copied().collect();
            let Some(key) = nth(&keys, key) else { return Ok(()) };
            model.table.remove(&key);
            arena.mutate(|mc, root| {
                let objs = heap_objects(mc, root, handles)?;
                match root.table.borrow_mut(mc).remove(mc, objs[&key]) {
                    Some(_) => Ok(()),
                    None => Err(format!("ephemeron key {key} was missing")),
                }
            })
        }
        Op::Register { obj } => {
            let Some(id) = nth(&reachable, obj) else { return Ok(()) };
            *model.registered.entry(id).or_default() += 1;
            let registry = &h.registry;
            arena.mutate(|mc, root| {
                let objs = heap_objects(mc, root, handles)?;
                registry.register(mc, objs[&id], id);
                // A registry dropped at once: the collection that finds the registration drops
                // its token, through the fuse.
                FinalizationRegistry::new().register(mc, objs[&id], Fused);
                Ok(())
            })
        }
        Op::Identity { obj } => {
            let Some(id) = nth(&reachable, obj) else { return Ok(()) };
            let hash = arena.mutate(|mc, root| {
                Ok::<_, String>(Gc::identity_hash(heap_objects(mc, root, handles)?[&id], mc))
            })?;
            match model.identities.insert(id, hash) {
                Some(old) if old != hash => {
                    Err(format!("object {id}: identity {old} became {hash}"))
                }
                _ => Ok(()),
            }
        }
        Op::Root { obj } => {
            let Some(id) = nth(&reachable, obj) else { return Ok(()) };
            model.roots.push(id);
            arena.mutate_root(|mc, root| {
                let objs = heap_objects(mc, root, handles)?;
                let obj = objs[&id];
                root.objs.push(obj);
                Ok(())
            })
        }
        Op::Unroot { index } => {
            if !model.roots.is_empty() {
                let index = index % model.roots.len();
                model.roots.remove(index);
                arena.mutate_root(|_, root| {
                    root.objs.remove(index);
                });
            }
            Ok(())
        }
        Op::Handle { obj } => {
            let Some(id) = nth(&reachable, obj) else { return Ok(()) };
            model.handles.push(id);
            let handle = arena.mutate(|mc, root| {
                heap_objects(mc, root, handles).map(|objs| mc.handle::<ObjRoot>(objs[&id]))
            })?;
            handles.push(handle);
            Ok(())
        }
        Op::DropHandle { index } => {
            if !handles.is_empty() {
                let index = index % handles.len();
                model.handles.remove(index);
                handles.remove(index);
            }
            Ok(())
        }
        Op::Write { obj, payload } => {
            let Some(id) = nth(&reachable, obj) else { return Ok(()) };
            model.objects.get_mut(&id).unwrap().payload = payload;
            arena.mutate(|mc, root| {
                let objs = heap_objects(mc, root, handles)?;
                field!(Gc::write(mc, objs[&id]), Obj, payload).set(payload);
                Ok(())
            })
        }
        Op::Minor => {
            with_fuse(|| arena.collect(CollectionKind::Minor));
            check(arena, h, false)
        }
        Op::Full => {
            with_fuse(|| arena.collect(CollectionKind::Full));
            check(arena, h, true)
        }
        Op::IfDue => {
            let fulls = arena.stats().full.count;
            with_fuse(|| arena.collect_if_due());
            check(arena, h, arena.stats().full.count > fulls)
        }
        Op::Arm { after, nasty } => {
            arm(after, nasty);
            Ok(())
        }
    }
}

/// Compares the heap with the model after a collection.
fn check(arena: &TestArena, h: &mut Harness, after_full: bool) -> Result<(), String> {
    let model = &mut h.model;
    let reachable = model.reachable();
    {
        let log = h.log.borrow();
        for (&id, &count) in log.iter() {
            if count > 1 {
                return Err(format!("object {id} dropped {count} times"));
            }
            if reachable.contains(&id) {
                return Err(format!("object {id} was dropped while reachable"));
            }
            model.dropped.insert(id);
        }
    }
    if after_full {
        for &id in model.objects.keys() {
            if !reachable.contains(&id) && !model.dropped.contains(&id) {
                return Err(format!("object {id} is unreachable but survived a full collection"));
            }
        }
    }
    // The model forgets what died: ephemeron entries of dead keys, weak slots to dead targets.
    let dropped = &model.dropped;
    model.table.retain(|k, _| !dropped.contains(k));
    for obj in model.objects.values_mut() {
        if obj.weak.is_some_and(|t| dropped.contains(&t)) {
            obj.weak = None;
        }
    }
    model.identities.retain(|id, _| !dropped.contains(id));

    // Finalization: exactly the registrations of dropped objects, each once.
    for id in h.registry.drain() {
        *h.delivered.entry(id).or_default() += 1;
    }
    for (&id, &count) in &model.registered {
        let delivered = h.delivered.get(&id).copied().unwrap_or(0);
        let expected = if model.dropped.contains(&id) { count } else { 0 };
        if delivered != expected {
            return Err(format!(
                "object {id}: {delivered} finalization tokens delivered, expected {expected}"
            ));
        }
    }
    if let Some(id) = h.delivered.keys().find(|id| !model.registered.contains_key(id)) {
        return Err(format!("a token was delivered for {id}, which was never registered"));
    }

    let handles = &h.handles;
    arena.mutate(|mc, root| {
        let objs = heap_objects(mc, root, handles)?;
        let ids: BTreeSet<u64> = objs.keys().copied().collect();
        if ids != reachable {
            return Err(format!("heap reaches {ids:?}, the model {reachable:?}"));
        }
        for (id, obj) in &objs {
            let expected = &model.objects[id];
            if obj.payload.get() != expected.payload {
                return Err(format!(
                    "object {id}: payload {} != {}",
                    obj.payload.get(),
                    expected.payload
                ));
            }
            let edges: Vec<Option<u64>> = obj.edges.iter().map(|e| e.get().map(|t| t.id)).collect();
            if edges != expected.edges {
                return Err(format!("object {id}: edges {edges:?} != {:?}", expected.edges));
            }
            let weak = obj.weak.get().and_then(|w| w.upgrade()).map(|t| t.id);
            if weak != expected.weak {
                return Err(format!(
                    "object {id}: weak slot holds {weak:?}, the model {:?}",
                    expected.weak
                ));
            }
            if let Some(&hash) = model.identities.get(id) {
                if Gc::identity_hash(*obj, mc) != hash {
                    return Err(format!("object {id}: its identity hash changed"));
                }
            }
        }
        let entries: BTreeMap<u64, u64> =
            root.table.borrow().iter().map(|(k, v)| (k.id, v.obj.id)).collect();
        if entries != model.table {
            return Err(format!("ephemeron table holds {entries:?}, the model {:?}", model.table));
        }
        let root_ids: Vec<u64> = root.objs.iter().map(|r| r.id).collect();
        if root_ids != model.roots {
            return Err(format!("root holds {root_ids:?}, the model {:?}", model.roots));
        }
        Ok(())
    })
}

/// A configuration for model runs: verifier on, tiny spaces.
pub fn test_config(stress: bool) -> HeapConfig {
    test_config_with(stress, false)
}

/// As [`test_config`]; with `pretenure_everything`, every allocation site starts tenured and
/// alternates between the old generation and the nursery at each minor collection, so that
/// programs too short to tenure a site by its survival still exercise pretenured objects.
pub fn test_config_with(stress: bool, pretenure_everything: bool) -> HeapConfig {
    HeapConfig::builder()
        .nursery_size(64 * 1024)
        .block_size(16 * 1024)
        .large_object_threshold(2 * 1024)
        .min_full_heap(128 * 1024)
        .verify(true)
        .stress(stress)
        .pretenure_everything(pretenure_everything)
        .build()
        .expect("valid configuration")
}
