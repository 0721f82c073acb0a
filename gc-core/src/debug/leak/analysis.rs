//! The analysis every report is computed from: the heap graph turned into a *retention graph*
//! (virtual nodes for the roots, strong edges only, ephemeron values retained by their keys),
//! the shortest retainer path of every object (breadth first), and the dominator tree with
//! retained sizes (semi-NCA, a Lengauer–Tarjan variant). Everything is iterative: no
//! recursion, memory linear in the graph.
//!
//! # The retention graph
//!
//! ```text
//! node 0            (GC roots)      the virtual super-root
//! node 1            (Arena root)    → one group node per first step of the root's paths
//! node 2            (Handles)       → one node per handle
//! 3 .. 3+G          groups          `arena root.listeners`, `arena root.cache`, …
//! 3+G .. base       handles         `handle "name"`
//! base ..           objects         in the heap graph's order
//! ```
//!
//! Edges: a strong edge of the graph is kept; weak edges (weak references, ephemeron keys) are
//! dropped; an ephemeron value edge (table → value) is replaced by an edge from the entry's
//! *key* to the value, because the entry lives exactly as long as its key does (the table
//! being alive is the normal case; a key kept alive by mistake is the leak to show). This is
//! also what V8's heap snapshots record for a `WeakMap` entry (a "part of key -> value pair"
//! edge from the key); the table's own edge to the value is written as weak.
//!
//! The layout is the heap snapshot's too (`snapshot.rs`), node for node and edge for edge, so
//! that independent readers of the snapshot (Chrome DevTools, memlab, `v8-heap-parser`)
//! compute the same retained sizes and paths.

use crate::debug::graph::{EdgeKind, GraphEdge, HeapGraph, RootKind};
use crate::trace::Label;

/// "No node" / "no edge" in the `u32` arrays.
pub(crate) const NONE: u32 = u32::MAX;

/// A graph edge: in the root edge list or in the objects' edge list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EdgeAt {
    Root(u32),
    Object(u32),
}

/// Where a retention edge comes from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Origin {
    /// Between virtual nodes.
    Virtual,
    /// A strong graph edge.
    Edge(EdgeAt),
    /// An ephemeron value, from its key. `edge` is the ephemeron edge (table → value), `table`
    /// the retention node holding the table (an object, or the root group).
    EphemeronKey { edge: EdgeAt, key_edge: EdgeAt, table: u32 },
}

/// An arena root group: the root edges whose path starts with the same step.
#[derive(Clone, Debug)]
pub(crate) struct Group {
    /// The first step, or `None` for edges with an empty path (a root that is one `Gc`).
    pub(crate) label: Option<Label>,
    /// Its edges (all kinds), as indices into the root edge list, in order.
    pub(crate) edges: Vec<u32>,
}

impl Group {
    /// `arena root.listeners`.
    pub(crate) fn name(&self) -> String {
        match self.label {
            Some(label) => format!("arena root{label}"),
            None => "arena root".to_string(),
        }
    }
}

/// A derived edge: from key object `key` to value object `to`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Derived {
    pub(crate) key: u32,
    pub(crate) to: u32,
    pub(crate) edge: EdgeAt,
    /// The key's weak edge (its path is the table's place in its owner).
    pub(crate) key_edge: EdgeAt,
    pub(crate) table: u32,
}

/// The heap graph with its retention graph, paths and dominators.
#[derive(Debug)]
pub(crate) struct Analysis {
    pub(crate) graph: HeapGraph,
    pub(crate) groups: Vec<Group>,
    /// The graph's root index of each handle node.
    pub(crate) handles: Vec<usize>,
    /// The first object node.
    pub(crate) base: usize,
    /// Derived ephemeron edges, by key object (CSR over objects).
    pub(crate) derived_first: Vec<u32>,
    pub(crate) derived: Vec<Derived>,
    /// The retention graph (CSR).
    pub(crate) first: Vec<u32>,
    pub(crate) targets: Vec<u32>,
    pub(crate) origins: Vec<Origin>,
    /// Shortest paths: the retention edge (index into `targets`) that reached each node, and
    /// its source.
    pub(crate) parent_edge: Vec<u32>,
    pub(crate) parent_node: Vec<u32>,
    /// Immediate dominators (retention node ids; `NONE` if unreachable; the super-root is its
    /// own).
    pub(crate) idom: Vec<u32>,
    /// Retained sizes (0 for unreachable nodes).
    pub(crate) retained: Vec<u64>,
    /// Whether each node is reachable in the retention graph.
    pub(crate) reached: Vec<bool>,
}

impl Analysis {
    pub(crate) fn new(graph: HeapGraph) -> Analysis {
        let mut analysis = Analysis::layout(graph);
        analysis.build_csr();
        analysis.shortest_paths();
        analysis.dominators();
        analysis
    }

    /// The layout and the ephemeron edges only (what a heap snapshot needs).
    pub(crate) fn layout(graph: HeapGraph) -> Analysis {
        let (groups, handles) = layout(&graph);
        let base = 3 + groups.len() + handles.len();
        let (derived_first, derived) = ephemeron_edges(&graph, &groups, base);
        Analysis {
            graph,
            groups,
            handles,
            base,
            derived_first,
            derived,
            first: Vec::new(),
            targets: Vec::new(),
            origins: Vec::new(),
            parent_edge: Vec::new(),
            parent_node: Vec::new(),
            idom: Vec::new(),
            retained: Vec::new(),
            reached: Vec::new(),
        }
    }

    /// Number of retention nodes.
    pub(crate) fn len(&self) -> usize {
        self.base + self.graph.objects.len()
    }

    /// The retention node of object `i`.
    pub(crate) fn node_of(&self, object: usize) -> usize {
        self.base + object
    }

    /// The object of retention node `node`, if it is one.
    pub(crate) fn object_of(&self, node: usize) -> Option<usize> {
        node.checked_sub(self.base)
    }

    /// The retention node of group `g`.
    pub(crate) fn group_node(&self, group: usize) -> usize {
        3 + group
    }

    /// The retention node of handle `h` (index into `handles`).
    pub(crate) fn handle_node(&self, handle: usize) -> usize {
        3 + self.groups.len() + handle
    }

    /// The graph edge `at`.
    pub(crate) fn edge(&self, at: EdgeAt) -> &GraphEdge {
        match at {
            EdgeAt::Root(i) => &self.graph.root_edge_list[i as usize],
            EdgeAt::Object(i) => &self.graph.edges[i as usize],
        }
    }

    /// The shallow size of a node (0 for virtual nodes).
    pub(crate) fn size(&self, node: usize) -> u64 {
        self.object_of(node).map_or(0, |o| self.graph.objects[o].size as u64)
    }

    /// Derived edges whose key is object `object`.
    pub(crate) fn derived_of(&self, object: usize) -> &[Derived] {
        &self.derived[self.derived_first[object] as usize..self.derived_first[object + 1] as usize]
    }

    /// The retention edges out of `node`: targets and origins.
    pub(crate) fn out(&self, node: usize) -> std::ops::Range<usize> {
        self.first[node] as usize..self.first[node + 1] as usize
    }

    fn build_csr(&mut self) {
        let n = self.len();
        let graph = &self.graph;
        let mut first = Vec::with_capacity(n + 1);
        let mut targets = Vec::with_capacity(graph.edges.len() + 16);
        let mut origins = Vec::with_capacity(graph.edges.len() + 16);
        let base = self.base as u32;
        // (GC roots) → (Arena root), (Handles).
        first.push(0);
        targets.extend([1, 2]);
        origins.extend([Origin::Virtual, Origin::Virtual]);
        // (Arena root) → groups.
        first.push(targets.len() as u32);
        for g in 0..self.groups.len() {
            targets.push(3 + g as u32);
            origins.push(Origin::Virtual);
        }
        // (Handles) → handles.
        first.push(targets.len() as u32);
        for h in 0..self.handles.len() {
            targets.push((3 + self.groups.len() + h) as u32);
            origins.push(Origin::Virtual);
        }
        for group in &self.groups {
            first.push(targets.len() as u32);
            for &e in &group.edges {
                let edge = &graph.root_edge_list[e as usize];
                if edge.kind == EdgeKind::Strong {
                    targets.push(base + edge.to as u32);
                    origins.push(Origin::Edge(EdgeAt::Root(e)));
                }
            }
        }
        for &root in &self.handles {
            first.push(targets.len() as u32);
            for e in graph.root_edges[root]..graph.root_edges[root + 1] {
                let edge = &graph.root_edge_list[e];
                if edge.kind == EdgeKind::Strong {
                    targets.push(base + edge.to as u32);
                    origins.push(Origin::Edge(EdgeAt::Root(e as u32)));
                }
            }
        }
        for object in 0..graph.objects.len() {
            first.push(targets.len() as u32);
            for e in graph.object_edges[object]..graph.object_edges[object + 1] {
                let edge = &graph.edges[e];
                if edge.kind == EdgeKind::Strong {
                    targets.push(base + edge.to as u32);
                    origins.push(Origin::Edge(EdgeAt::Object(e as u32)));
                }
            }
            let range =
                self.derived_first[object] as usize..self.derived_first[object + 1] as usize;
            for d in &self.derived[range] {
                targets.push(base + d.to);
                origins.push(Origin::EphemeronKey {
                    edge: d.edge,
                    key_edge: d.key_edge,
                    table: d.table,
                });
            }
        }
        first.push(targets.len() as u32);
        debug_assert_eq!(first.len(), n + 1);
        self.first = first;
        self.targets = targets;
        self.origins = origins;
    }

    /// Breadth first from the super-root, level by level, each level's nodes taken from the
    /// end of the list (the order memlab's path finder uses, so that where several shortest
    /// paths exist both pick the same one). A node is claimed by the first edge that reaches
    /// it.
    fn shortest_paths(&mut self) {
        let n = self.len();
        let mut parent_edge = vec![NONE; n];
        let mut parent_node = vec![NONE; n];
        let mut claimed = vec![false; n];
        claimed[0] = true;
        let mut current = vec![0u32];
        let mut next = Vec::new();
        while !current.is_empty() {
            while let Some(u) = current.pop() {
                let u = u as usize;
                for e in self.out(u) {
                    let v = self.targets[e] as usize;
                    if claimed[v] {
                        continue;
                    }
                    claimed[v] = true;
                    parent_edge[v] = e as u32;
                    parent_node[v] = u as u32;
                    next.push(v as u32);
                }
            }
            std::mem::swap(&mut current, &mut next);
        }
        self.parent_edge = parent_edge;
        self.parent_node = parent_node;
        self.reached = claimed;
    }

    /// Immediate dominators by semi-NCA (Georgiadis' variant of Lengauer–Tarjan: semidominators
    /// with path compression, then nearest common ancestors in the DFS tree), and retained
    /// sizes summed up the dominator tree. Iterative throughout.
    fn dominators(&mut self) {
        let n = self.len();
        // Predecessors (CSR).
        let mut pred_first = vec![0u32; n + 1];
        for &t in &self.targets {
            pred_first[t as usize + 1] += 1;
        }
        for i in 0..n {
            pred_first[i + 1] += pred_first[i];
        }
        let mut fill = pred_first.clone();
        let mut preds = vec![0u32; self.targets.len()];
        for u in 0..n {
            for e in self.out(u) {
                let v = self.targets[e] as usize;
                preds[fill[v] as usize] = u as u32;
                fill[v] += 1;
            }
        }
        drop(fill);

        // Depth-first preorder numbers, 1-based (0: not reached).
        let mut pre = vec![0u32; n];
        let mut vertex = vec![0u32; n + 1];
        let mut parent = vec![0u32; n + 1];
        let mut count = 0u32;
        let mut stack: Vec<(u32, u32)> = vec![(0, self.first[0])];
        count += 1;
        pre[0] = count;
        vertex[count as usize] = 0;
        while let Some(top) = stack.last_mut() {
            let (u, e) = *top;
            if e == self.first[u as usize + 1] {
                stack.pop();
                continue;
            }
            top.1 += 1;
            let v = self.targets[e as usize];
            if pre[v as usize] == 0 {
                count += 1;
                pre[v as usize] = count;
                vertex[count as usize] = v;
                parent[count as usize] = pre[u as usize];
                stack.push((v, self.first[v as usize]));
            }
        }
        let reached = count as usize;

        // Semidominators, in decreasing preorder.
        let mut semi: Vec<u32> = (0..=reached as u32).collect();
        let mut label: Vec<u32> = (0..=reached as u32).collect();
        let mut ancestor = vec![0u32; reached + 1];
        let mut path = Vec::new();
        for w in (2..=reached).rev() {
            let v = vertex[w] as usize;
            for &u in &preds[pred_first[v] as usize..pred_first[v + 1] as usize] {
                let pu = pre[u as usize];
                if pu == 0 {
                    continue;
                }
                let x = eval(pu, &mut ancestor, &mut label, &semi, &mut path);
                if semi[x as usize] < semi[w] {
                    semi[w] = semi[x as usize];
                }
            }
            ancestor[w] = parent[w];
        }
        drop(ancestor);
        drop(label);

        // Immediate dominators: the nearest ancestor of the DFS parent not below the
        // semidominator.
        let mut idom_pre = vec![0u32; reached + 1];
        idom_pre[1] = 1;
        for w in 2..=reached {
            let mut d = parent[w];
            while d > semi[w] {
                d = idom_pre[d as usize];
            }
            idom_pre[w] = d;
        }

        // Retained sizes, children before parents.
        let mut size = vec![0u64; reached + 1];
        for w in 1..=reached {
            size[w] = self.size(vertex[w] as usize);
        }
        for w in (2..=reached).rev() {
            let d = idom_pre[w] as usize;
            size[d] += size[w];
        }

        let mut idom = vec![NONE; n];
        let mut retained = vec![0u64; n];
        for w in 1..=reached {
            let v = vertex[w] as usize;
            idom[v] = vertex[idom_pre[w] as usize];
            retained[v] = size[w];
        }
        self.idom = idom;
        self.retained = retained;
    }

    /// The retention nodes of the shortest path from the super-root to `node` (inclusive), or
    /// `None` if it is not reachable.
    pub(crate) fn path_nodes(&self, node: usize) -> Option<Vec<usize>> {
        if !self.reached[node] {
            return None;
        }
        let mut nodes = vec![node];
        let mut at = node;
        while self.parent_node[at] != NONE {
            at = self.parent_node[at] as usize;
            nodes.push(at);
        }
        nodes.reverse();
        Some(nodes)
    }

    /// Whether object node `node` dominates (or is) object node `other`.
    #[allow(dead_code)]
    pub(crate) fn dominates(&self, node: usize, other: usize) -> bool {
        let mut at = other;
        loop {
            if at == node {
                return true;
            }
            let up = self.idom[at];
            if up == NONE || up as usize == at {
                return false;
            }
            at = up as usize;
        }
    }

    /// The name of a virtual node.
    pub(crate) fn virtual_name(&self, node: usize) -> String {
        match node {
            0 => "(GC roots)".into(),
            1 => "(Arena root)".into(),
            2 => "(Handles)".into(),
            n if n < 3 + self.groups.len() => self.groups[n - 3].name(),
            n => self.graph.roots[self.handles[n - 3 - self.groups.len()]].label.clone(),
        }
    }
}

/// `eval` of Lengauer–Tarjan with path compression, iterative: the vertex of minimum
/// semidominator on the forest path above `v` (excluding the forest root).
fn eval(v: u32, ancestor: &mut [u32], label: &mut [u32], semi: &[u32], path: &mut Vec<u32>) -> u32 {
    if ancestor[v as usize] == 0 {
        return v;
    }
    // Compress the path from `v` up to the child of the forest root.
    path.clear();
    let mut x = v;
    while ancestor[ancestor[x as usize] as usize] != 0 {
        path.push(x);
        x = ancestor[x as usize];
    }
    while let Some(w) = path.pop() {
        let a = ancestor[w as usize] as usize;
        if semi[label[a] as usize] < semi[label[w as usize] as usize] {
            label[w as usize] = label[a];
        }
        ancestor[w as usize] = ancestor[a];
    }
    label[v as usize]
}

/// The arena root's groups and the handles.
fn layout(graph: &HeapGraph) -> (Vec<Group>, Vec<usize>) {
    let mut groups: Vec<Group> = Vec::new();
    let mut handles = Vec::new();
    for (r, root) in graph.roots.iter().enumerate() {
        match root.kind {
            RootKind::Arena => {
                for e in graph.root_edges[r]..graph.root_edges[r + 1] {
                    let label = graph.root_edge_list[e].path.first().copied();
                    // Groups are few and usually met in runs: a linear search from the end.
                    match groups.iter().rposition(|g| g.label == label) {
                        Some(g) => groups[g].edges.push(e as u32),
                        None => groups.push(Group { label, edges: vec![e as u32] }),
                    }
                }
            }
            RootKind::Handle => handles.push(r),
        }
    }
    (groups, handles)
}

/// The key of the ephemeron edge at `j` in `list[start..]`: the nearest weak edge before it
/// whose path is a prefix of its path (the table pushes the key's weak edge, with the table's
/// path, right before tracing the value).
fn key_of(list: &[GraphEdge], start: usize, j: usize) -> Option<usize> {
    let path = &list[j].path;
    (start..j).rev().find(|&k| {
        let edge = &list[k];
        edge.kind == EdgeKind::Weak && path.starts_with(&edge.path)
    })
}

/// The derived key → value edges, by key object.
fn ephemeron_edges(graph: &HeapGraph, groups: &[Group], base: usize) -> (Vec<u32>, Vec<Derived>) {
    let mut derived = Vec::new();
    // The arena root's tables (a table in the root belongs to a group).
    if !graph.roots.is_empty() {
        let (start, end) = (graph.root_edges[0], graph.root_edges[1]);
        for j in start..end {
            if graph.root_edge_list[j].kind != EdgeKind::Ephemeron {
                continue;
            }
            if let Some(k) = key_of(&graph.root_edge_list, start, j) {
                let label = graph.root_edge_list[j].path.first().copied();
                let group = groups.iter().position(|g| g.label == label).unwrap_or(0);
                derived.push(Derived {
                    key: graph.root_edge_list[k].to as u32,
                    to: graph.root_edge_list[j].to as u32,
                    edge: EdgeAt::Root(j as u32),
                    key_edge: EdgeAt::Root(k as u32),
                    table: (3 + group) as u32,
                });
            }
        }
    }
    for object in 0..graph.objects.len() {
        let (start, end) = (graph.object_edges[object], graph.object_edges[object + 1]);
        for j in start..end {
            if graph.edges[j].kind != EdgeKind::Ephemeron {
                continue;
            }
            if let Some(k) = key_of(&graph.edges, start, j) {
                derived.push(Derived {
                    key: graph.edges[k].to as u32,
                    to: graph.edges[j].to as u32,
                    edge: EdgeAt::Object(j as u32),
                    key_edge: EdgeAt::Object(k as u32),
                    table: (base + object) as u32,
                });
            }
        }
    }
    // Group by key, keeping the order of discovery (counting sort).
    let objects = graph.objects.len();
    let mut first = vec![0u32; objects + 1];
    for d in &derived {
        first[d.key as usize + 1] += 1;
    }
    for i in 0..objects {
        first[i + 1] += first[i];
    }
    let mut fill = first.clone();
    let mut sorted = derived.clone();
    for d in derived {
        sorted[fill[d.key as usize] as usize] = d;
        fill[d.key as usize] += 1;
    }
    (first, sorted)
}
