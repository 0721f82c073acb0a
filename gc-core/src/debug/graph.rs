//! The heap as a graph: every object reachable from the roots, and every edge, with the path
//! of field, variant and index names that leads from an object to the pointer. The leak
//! reports, the class histogram and the heap snapshots are computed from it; embedders can
//! write their own analyses on it.
//!
//! It is built by tracing each reachable object once with `trace_labeled`, breadth first from
//! the roots (so object order is distance order), with explicit queues: no recursion, memory
//! proportional to the graph.

use std::collections::VecDeque;
use std::fmt;
use std::panic::Location;

use crate::identity::AddrMap;
use crate::raw::{ObjPtr, LARGE};
use crate::trace::Label;

/// Which space an object is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Space {
    /// The nursery (allocated since the last collection).
    Nursery,
    /// An old-generation block.
    Old,
    /// The large-object space.
    Large,
}

/// An object of the graph.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct GraphObject {
    /// An id stable for the object's life, through every move, when it is known (leak-debug
    /// mode records one for every object at allocation; otherwise objects that were asked
    /// for their identity hash have theirs), else a number unique within this graph.
    pub id: u64,
    /// Whether `id` is stable across graphs.
    pub stable_id: bool,
    /// The type's name.
    pub type_name: &'static str,
    /// Shallow size in bytes, header included.
    pub size: usize,
    /// The object's address now (it changes when the object moves).
    pub address: usize,
    /// The space it is in.
    pub space: Space,
    /// Where it was allocated (leak-debug mode).
    pub site: Option<&'static Location<'static>>,
    /// The collection count when it was allocated (leak-debug mode).
    pub birth: Option<u64>,
}

/// What an edge means for liveness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EdgeKind {
    /// Keeps its target alive.
    Strong,
    /// A weak reference, or an ephemeron table's key: does not keep its target alive.
    Weak,
    /// Inside an ephemeron table's value: keeps its target alive only while the entry's key
    /// lives.
    Ephemeron,
}

/// An edge from an object (or a root) to an object.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct GraphEdge {
    /// The target's index in [`HeapGraph::objects`].
    pub to: usize,
    /// The path from the source to the pointer: `[Field("children"), Index(3)]`.
    pub path: Vec<Label>,
    /// What the edge means for liveness.
    pub kind: EdgeKind,
}

impl GraphEdge {
    /// The path as text: `.children[3]`.
    pub fn path_text(&self) -> String {
        self.path.iter().map(|l| l.to_string()).collect()
    }
}

/// Which kind of root.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RootKind {
    /// The arena's root value.
    Arena,
    /// A [`Handle`](crate::Handle) (or the handle of a [`Pinned`](crate::Pinned) guard).
    Handle,
}

/// A root of the graph.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct GraphRoot {
    /// Which kind of root.
    pub kind: RootKind,
    /// A label for reports: `arena root`, or `handle "name"`.
    pub label: String,
    /// Where a handle was created.
    pub site: Option<&'static Location<'static>>,
    /// The name an embedder gave a handle.
    pub name: Option<String>,
}

impl fmt::Display for GraphRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)?;
        if let Some(site) = self.site {
            write!(f, " (created at {site})")?;
        }
        Ok(())
    }
}

/// The reachable heap as a graph ([`Arena::heap_graph`](crate::Arena::heap_graph)).
#[derive(Clone, Debug, Default)]
pub struct HeapGraph {
    pub(crate) objects: Vec<GraphObject>,
    pub(crate) roots: Vec<GraphRoot>,
    pub(crate) edges: Vec<GraphEdge>,
    /// Object `i`'s edges are `edges[object_edges[i]..object_edges[i + 1]]`.
    pub(crate) object_edges: Vec<usize>,
    /// Root `r`'s edges are `root_edge_list[root_edges[r]..root_edges[r + 1]]`.
    pub(crate) root_edges: Vec<usize>,
    pub(crate) root_edge_list: Vec<GraphEdge>,
}

impl HeapGraph {
    /// The objects, in breadth-first order from the roots.
    pub fn objects(&self) -> &[GraphObject] {
        &self.objects
    }

    /// The roots: the arena root first, then the handles.
    pub fn roots(&self) -> &[GraphRoot] {
        &self.roots
    }

    /// The edges out of object `object`.
    pub fn edges(&self, object: usize) -> &[GraphEdge] {
        &self.edges[self.object_edges[object]..self.object_edges[object + 1]]
    }

    /// The edges out of root `root`.
    pub fn root_edges(&self, root: usize) -> &[GraphEdge] {
        &self.root_edge_list[self.root_edges[root]..self.root_edges[root + 1]]
    }

    /// The index of the object with id `id`.
    pub fn find(&self, id: u64) -> Option<usize> {
        self.objects.iter().position(|o| o.id == id)
    }

    /// The index of the object at `address` now.
    pub fn find_address(&self, address: usize) -> Option<usize> {
        self.objects.iter().position(|o| o.address == address)
    }

    /// Total shallow bytes.
    pub fn total_size(&self) -> usize {
        self.objects.iter().map(|o| o.size).sum()
    }
}

/// The tracer mode that builds the graph.
pub(crate) struct GraphBuilder {
    pub(crate) index: AddrMap<usize>,
    pub(crate) queue: VecDeque<ObjPtr>,
    pub(crate) found: Vec<ObjPtr>,
    pub(crate) edges: Vec<GraphEdge>,
    /// Weak edges, resolved once the graph is complete: `(source edge list position, target)`.
    pub(crate) path: Vec<Label>,
    /// Tracing the value of an ephemeron entry: edges found are `Ephemeron`.
    pub(crate) in_ephemeron: usize,
    pub(crate) weak_targets: Vec<(usize, ObjPtr)>,
}

impl GraphBuilder {
    pub(crate) fn new() -> Self {
        GraphBuilder {
            index: AddrMap::default(),
            queue: VecDeque::new(),
            found: Vec::new(),
            edges: Vec::new(),
            path: Vec::new(),
            in_ephemeron: 0,
            weak_targets: Vec::new(),
        }
    }

    fn index_of(&mut self, target: ObjPtr) -> usize {
        let next = self.found.len();
        let found = &mut self.found;
        let queue = &mut self.queue;
        *self.index.entry(target.addr()).or_insert_with(|| {
            found.push(target);
            queue.push_back(target);
            next
        })
    }

    /// A strong pointer.
    pub(crate) fn visit(&mut self, target: ObjPtr) {
        let to = self.index_of(target);
        let kind = if self.in_ephemeron > 0 { EdgeKind::Ephemeron } else { EdgeKind::Strong };
        self.edges.push(GraphEdge { to, path: self.path.clone(), kind });
    }

    /// A weak pointer: kept if its target turns out to be in the graph.
    pub(crate) fn visit_weak(&mut self, target: ObjPtr) {
        self.weak_targets.push((self.edges.len(), target));
        self.edges.push(GraphEdge {
            to: usize::MAX,
            path: self.path.clone(),
            kind: EdgeKind::Weak,
        });
    }
}

/// Whether an object is large (for `Space`).
pub(crate) fn space_of(obj: ObjPtr, young: bool) -> Space {
    if young {
        Space::Nursery
    // SAFETY: a reachable object's header is readable.
    } else if unsafe { obj.header() } & LARGE != 0 {
        Space::Large
    } else {
        Space::Old
    }
}

/// Builds the graph of everything reachable from the roots.
pub(crate) fn build(
    heap: &mut crate::heap::Heap,
    roots: crate::collector::RootTracer<'_>,
) -> HeapGraph {
    use crate::collector::Mode;
    use crate::trace::Tracer;

    let mut builder = GraphBuilder::new();
    let mut graph = HeapGraph::default();
    let nursery_start = heap.nursery.start;
    let nursery_len = heap.nursery.reserved();
    let state = heap.state.get_mut();

    // The roots: the arena root, then each handle.
    graph.root_edges.push(0);
    roots(&mut Tracer::new(Mode::Graph(&mut builder)));
    graph.roots.push(GraphRoot {
        kind: RootKind::Arena,
        label: "arena root".into(),
        site: None,
        name: None,
    });
    graph.root_edges.push(builder.edges.len());
    for slot in state.handles.slots() {
        builder.path.clear();
        builder.visit(slot.ptr.get());
        let label = match &slot.name {
            Some(name) => format!("handle \"{name}\""),
            None => "handle".to_string(),
        };
        graph.roots.push(GraphRoot {
            kind: RootKind::Handle,
            label,
            site: Some(slot.site),
            name: slot.name.clone(),
        });
        graph.root_edges.push(builder.edges.len());
    }
    let root_edge_count = builder.edges.len();

    // The objects, breadth first.
    let mut object_edges = vec![root_edge_count];
    let mut next = 0;
    while let Some(obj) = builder.queue.pop_front() {
        debug_assert_eq!(builder.found[next], obj);
        next += 1;
        builder.path.clear();
        // SAFETY: a reachable object; between `mutate` calls the arena has exclusive access,
        // and tracing in this mode only reads.
        unsafe {
            let info = obj.type_info();
            if let Some(trace) = info.trace_labeled {
                trace(obj, &mut Tracer::new(Mode::Graph(&mut builder)));
            }
        }
        object_edges.push(builder.edges.len());
    }

    // Weak edges whose target is not in the graph are dropped; positions shift accordingly.
    let mut keep = vec![true; builder.edges.len()];
    for &(position, target) in &builder.weak_targets {
        match builder.index.get(&target.addr()) {
            Some(&to) => builder.edges[position].to = to,
            None => keep[position] = false,
        }
    }
    let mut shifted = Vec::with_capacity(keep.len() + 1);
    let mut kept = 0;
    for &k in &keep {
        shifted.push(kept);
        kept += k as usize;
    }
    shifted.push(kept);
    let mut edges = Vec::with_capacity(kept);
    for (edge, k) in builder.edges.into_iter().zip(&keep) {
        if *k {
            edges.push(edge);
        }
    }
    graph.root_edge_list = edges.drain(..shifted[root_edge_count]).collect();
    graph.root_edges = graph.root_edges.iter().map(|&p| shifted[p]).collect();
    let base = shifted[root_edge_count];
    graph.object_edges = object_edges.iter().map(|&p| shifted[p] - base).collect();
    graph.edges = edges;

    #[cfg(feature = "leak-debug")]
    let births = state.births.by_address();
    let identities: AddrMap<u64> = state.identities.all().collect();
    for (index, &obj) in builder.found.iter().enumerate() {
        // SAFETY: a reachable object.
        let (info, size) = unsafe { (obj.type_info(), obj.size()) };
        let young = obj.addr().wrapping_sub(nursery_start) < nursery_len;
        let mut object = GraphObject {
            id: (1 << 62) + index as u64,
            stable_id: false,
            type_name: info.name(),
            size,
            address: obj.addr(),
            space: space_of(obj, young),
            site: None,
            birth: None,
        };
        if let Some(&id) = identities.get(&obj.addr()) {
            object.id = id;
            object.stable_id = true;
        }
        #[cfg(feature = "leak-debug")]
        if let Some(birth) = births.get(&obj.addr()) {
            // Birth ids and identities are counted apart: keep them apart in the id space.
            object.id = (1 << 61) + birth.id;
            object.stable_id = true;
            object.site = Some(birth.site);
            object.birth = Some(birth.epoch);
        }
        graph.objects.push(object);
    }
    graph
}
