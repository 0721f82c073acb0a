//! Model-based testing of gc-core: programs of heap operations, replayed against the real heap
//! and against a plain-Rust model of the object graph, compared after every collection.
//!
//! The same [`Op`] definition drives the proptest suite (`tests/model.rs`) and the fuzz target
//! (`fuzz/fuzz_targets/heap_ops.rs`).
//!
//! Objects are numbered by the executor. Operations name objects by an index into the sorted
//! list of objects reachable in the model at that moment (taken modulo its length), so every
//! generated program is valid and shrinks well.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use gc_core::{Arena, CollectionKind, Gc, Handle, HeapConfig, Lock, Mutation, Rootable, Trace};

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
    }
}

#[derive(Trace)]
struct Obj<'gc> {
    id: u64,
    payload: Lock<u64>,
    edges: Gc<'gc, [Lock<Option<Gc<'gc, Obj<'gc>>>>]>,
    #[trace(skip)]
    _token: Token,
}

type ObjRoot = Rootable![Obj<'_>];

#[derive(Clone, Debug)]
struct ModelObj {
    payload: u64,
    edges: Vec<Option<u64>>,
}

/// The model: the object graph in plain Rust.
#[derive(Default)]
struct Model {
    objects: BTreeMap<u64, ModelObj>,
    roots: Vec<u64>,
    handles: Vec<u64>,
    next_id: u64,
}

impl Model {
    fn reachable(&self) -> BTreeSet<u64> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<u64> = self.roots.iter().chain(&self.handles).copied().collect();
        while let Some(id) = stack.pop() {
            if seen.insert(id) {
                stack.extend(self.objects[&id].edges.iter().flatten());
            }
        }
        seen
    }
}

fn nth(set: &BTreeSet<u64>, index: usize) -> Option<u64> {
    (!set.is_empty()).then(|| *set.iter().nth(index % set.len()).unwrap())
}

/// Finds every object reachable in the heap, by id.
fn heap_objects<'gc>(
    mc: &Mutation<'gc>,
    roots: &[Gc<'gc, Obj<'gc>>],
    handles: &[Handle<ObjRoot>],
) -> Result<BTreeMap<u64, Gc<'gc, Obj<'gc>>>, String> {
    let mut found: BTreeMap<u64, Gc<'gc, Obj<'gc>>> = BTreeMap::new();
    let mut stack: Vec<Gc<'gc, Obj<'gc>>> = roots.to_vec();
    stack.extend(handles.iter().map(|h| mc.fetch(h)));
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
    Ok(found)
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

/// As [`run`], with a bug injected.
pub fn run_with_fault(ops: &[Op], config: HeapConfig, fault: Option<Fault>) -> Result<(), String> {
    let log: DropLog = Rc::default();
    let mut model = Model::default();
    let mut handles: Vec<Handle<ObjRoot>> = Vec::new();
    let mut arena = Arena::<Rootable![Vec<Gc<'_, Obj<'_>>>]>::new(config, |_| Vec::new());

    for (step, op) in ops.iter().enumerate() {
        let reachable = model.reachable();
        let result = match *op {
            Op::Alloc { payload, large } => {
                let id = model.next_id;
                model.next_id += 1;
                let slots = if large { LARGE_SLOTS } else { SMALL_SLOTS };
                model.objects.insert(id, ModelObj { payload, edges: vec![None; slots] });
                model.roots.push(id);
                let log = log.clone();
                arena.mutate_root(|mc, roots| {
                    let edges = mc.alloc_slice_fill_with(slots, |_| Lock::new(None));
                    roots.push(Gc::new(
                        mc,
                        Obj { id, payload: Lock::new(payload), edges, _token: Token { id, log } },
                    ));
                });
                Ok(())
            }
            Op::Garbage { count } => {
                for _ in 0..count {
                    let id = model.next_id;
                    model.next_id += 1;
                    model
                        .objects
                        .insert(id, ModelObj { payload: 0, edges: vec![None; SMALL_SLOTS] });
                    let log = log.clone();
                    arena.mutate(|mc, _| {
                        let edges = mc.alloc_slice_fill_with(SMALL_SLOTS, |_| Lock::new(None));
                        Gc::new(
                            mc,
                            Obj { id, payload: Lock::new(0), edges, _token: Token { id, log } },
                        );
                    });
                }
                Ok(())
            }
            Op::Link { from, slot, to } => match (nth(&reachable, from), nth(&reachable, to)) {
                (Some(from), Some(to)) => {
                    let edges = &mut model.objects.get_mut(&from).unwrap().edges;
                    let slot = slot as usize % edges.len();
                    edges[slot] = Some(to);
                    arena.mutate(|mc, roots| {
                        let objs = heap_objects(mc, roots, &handles)?;
                        let (source, target) = (objs[&from], objs[&to]);
                        if fault == Some(Fault::UnbarrieredLink) {
                            // SAFETY: not safe at all: this is the injected bug.
                            unsafe { gc_core::Write::assume(&source.edges[slot]) }
                                .set(Some(target));
                        } else {
                            Gc::write(mc, source.edges).at(slot).set(Some(target));
                        }
                        Ok(())
                    })
                }
                _ => Ok(()),
            },
            Op::Unlink { from, slot } => match nth(&reachable, from) {
                Some(from) => {
                    let edges = &mut model.objects.get_mut(&from).unwrap().edges;
                    let slot = slot as usize % edges.len();
                    edges[slot] = None;
                    arena.mutate(|mc, roots| {
                        let objs = heap_objects(mc, roots, &handles)?;
                        Gc::write(mc, objs[&from].edges).at(slot).set(None);
                        Ok(())
                    })
                }
                None => Ok(()),
            },
            Op::Root { obj } => match nth(&reachable, obj) {
                Some(id) => {
                    model.roots.push(id);
                    arena.mutate_root(|mc, roots| {
                        let objs = heap_objects(mc, roots, &handles)?;
                        roots.push(objs[&id]);
                        Ok(())
                    })
                }
                None => Ok(()),
            },
            Op::Unroot { index } => {
                if !model.roots.is_empty() {
                    let index = index % model.roots.len();
                    model.roots.remove(index);
                    arena.mutate_root(|_, roots| {
                        roots.remove(index);
                    });
                }
                Ok(())
            }
            Op::Handle { obj } => match nth(&reachable, obj) {
                Some(id) => {
                    model.handles.push(id);
                    let handle = arena.mutate(|mc, roots| {
                        heap_objects(mc, roots, &handles)
                            .map(|objs| mc.handle::<ObjRoot>(objs[&id]))
                    })?;
                    handles.push(handle);
                    Ok(())
                }
                None => Ok(()),
            },
            Op::DropHandle { index } => {
                if !handles.is_empty() {
                    let index = index % handles.len();
                    model.handles.remove(index);
                    handles.remove(index);
                }
                Ok(())
            }
            Op::Write { obj, payload } => match nth(&reachable, obj) {
                Some(id) => {
                    model.objects.get_mut(&id).unwrap().payload = payload;
                    arena.mutate(|mc, roots| {
                        let objs = heap_objects(mc, roots, &handles)?;
                        gc_core::field!(Gc::write(mc, objs[&id]), Obj, payload).set(payload);
                        Ok(())
                    })
                }
                None => Ok(()),
            },
            Op::Minor => {
                arena.collect(CollectionKind::Minor);
                check(&arena, &model, &handles, &log, false)
            }
            Op::Full => {
                arena.collect(CollectionKind::Full);
                check(&arena, &model, &handles, &log, true)
            }
            Op::IfDue => {
                let kind = arena.collect_if_due();
                check(&arena, &model, &handles, &log, kind == Some(CollectionKind::Full))
            }
        };
        result.map_err(|e| format!("step {step} ({op:?}): {e}"))?;
    }

    arena.collect(CollectionKind::Full);
    check(&arena, &model, &handles, &log, true)
        .map_err(|e| format!("final full collection: {e}"))?;
    drop(handles);
    drop(arena);
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

/// Compares the heap with the model after a collection.
fn check<R>(
    arena: &Arena<R>,
    model: &Model,
    handles: &[Handle<ObjRoot>],
    log: &DropLog,
    after_full: bool,
) -> Result<(), String>
where
    R: for<'a> gc_core::Rootable<'a, Root = Vec<Gc<'a, Obj<'a>>>>,
{
    let reachable = model.reachable();
    let log = log.borrow();
    for (&id, &count) in log.iter() {
        if count > 1 {
            return Err(format!("object {id} dropped {count} times"));
        }
        if reachable.contains(&id) {
            return Err(format!("object {id} was dropped while reachable"));
        }
    }
    if after_full {
        for &id in model.objects.keys() {
            if !reachable.contains(&id) && !log.contains_key(&id) {
                return Err(format!("object {id} is unreachable but survived a full collection"));
            }
        }
    }
    drop(log);
    arena.mutate(|mc, roots| {
        let objs = heap_objects(mc, roots, handles)?;
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
        }
        let root_ids: Vec<u64> = roots.iter().map(|r| r.id).collect();
        if root_ids != model.roots {
            return Err(format!("root holds {root_ids:?}, the model {:?}", model.roots));
        }
        Ok(())
    })
}

/// A configuration for model runs: verifier on, tiny spaces.
pub fn test_config(stress: bool) -> HeapConfig {
    HeapConfig::builder()
        .nursery_size(64 * 1024)
        .block_size(16 * 1024)
        .large_object_threshold(2 * 1024)
        .min_full_heap(128 * 1024)
        .verify(true)
        .stress(stress)
        .build()
        .expect("valid configuration")
}
