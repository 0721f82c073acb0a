//! Heap snapshots in V8's `.heapsnapshot` format (Chrome DevTools' Memory panel, memlab,
//! `v8-heap-parser`, …).
//!
//! Layout, node for node the retention graph of [`super::analysis`]:
//!
//! ```text
//! index 0        ""               synthetic, id 1    the snapshot's root
//! index 1        (GC roots)       synthetic, id 3
//! index 2        (Arena root)     synthetic, id 5    → one node per field of the root value
//! index 3        (Handles)        synthetic, id 7    → one node per handle
//! then           arena root.x     synthetic, even ids (2, 4, …)
//! then           handle "name"    synthetic, even ids
//! then           the objects      "object" (or "string" for `str`), odd ids ≥ 9
//! ```
//!
//! Object ids are the leak-debug mode's birth ids (`2 × id + 9`): stable for an object's life,
//! through every move, so two snapshots of one heap can be diffed (DevTools' Comparison view).
//! Without leak-debug mode, objects that were asked for an identity hash keep theirs
//! (`2³¹ + 2 × hash + 1`); the others are numbered per snapshot (`3 × 2³⁰ + 2 × index + 1`).
//!
//! Edges: a named field or a path is a `property` edge named by its path (`.children[3]`,
//! `::Some.0`); a pointer that is a slice element is an `element` edge; an empty path (a
//! handle, a root that is one `Gc`) is an `internal` edge `(value)`; weak references and
//! ephemeron keys are `weak` edges, and so is an ephemeron table's edge to a value. Instead,
//! the key of each ephemeron entry gets an `internal` edge to the value, named as V8 names it
//! (`part of key (K @1) -> value (V @2) pair in WeakMap (table @3)`): the value lives while
//! the key does. Allocation sites are in `locations` (object index, script id, line and
//! column, 0-based); script `n` is the `n`th file of `snapshot.gc_core_scripts`.

use std::collections::HashMap;
use std::io::{self, Write};

use super::analysis::{Analysis, EdgeAt};
use super::format::{type_name, FastMap};
use crate::debug::graph::{EdgeKind, GraphEdge};
use crate::trace::Label;

const NODE_FIELDS: usize = 7;

const NODE_TYPE_STRING: u32 = 2;
const NODE_TYPE_OBJECT: u32 = 3;
const NODE_TYPE_SYNTHETIC: u32 = 9;

const EDGE_ELEMENT: u32 = 1;
const EDGE_PROPERTY: u32 = 2;
const EDGE_INTERNAL: u32 = 3;
const EDGE_WEAK: u32 = 6;

const META: &str = r#"{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint","object shape"],"string","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"],"trace_function_info_fields":["function_id","name","script_name","script_id","line","column"],"trace_node_fields":["id","function_info_index","count","size","children"],"sample_fields":["timestamp_us","last_assigned_id"],"location_fields":["object_index","script_id","line","column"]}"#;

/// The snapshot id of object `object`.
pub(crate) fn object_id(analysis: &Analysis, object: usize) -> u64 {
    let o = &analysis.graph.objects[object];
    const BIRTH: u64 = 1 << 61;
    const INDEX: u64 = 1 << 62;
    if o.stable_id && o.id & BIRTH != 0 && o.id & INDEX == 0 {
        2 * (o.id - BIRTH) + 9
    } else if o.stable_id {
        (1 << 31) + 2 * o.id + 1
    } else {
        3 * (1 << 30) + 2 * object as u64 + 1
    }
}

/// The snapshot id of retention node `node`.
pub(crate) fn node_id(analysis: &Analysis, node: usize) -> u64 {
    match node {
        0 => 3,
        1 => 5,
        2 => 7,
        n if n < analysis.base => 2 * (n as u64 - 2),
        n => object_id(analysis, n - analysis.base),
    }
}

/// The snapshot node index (in nodes, not in array elements) of retention node `node`.
pub(crate) fn node_index(node: usize) -> usize {
    node + 1
}

struct Strings {
    index: FastMap<String, u32>,
    list: Vec<String>,
}

impl Strings {
    fn new() -> Strings {
        let mut s = Strings { index: FastMap::default(), list: Vec::new() };
        s.get("");
        s
    }

    fn get(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.list.len() as u32;
        self.list.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }
}

/// The names of edges, by kind and path: most edges share a few paths (`.next`, `[value]`),
/// so each is formatted once.
#[derive(Default)]
struct EdgeNames<'g> {
    cache: FastMap<(u8, &'g [Label]), u32>,
}

impl<'g> EdgeNames<'g> {
    /// `(type, name_or_index)` of a graph edge.
    fn spec(&mut self, edge: &'g GraphEdge, strings: &mut Strings) -> (u32, u32) {
        let (kind, tag) = match edge.kind {
            EdgeKind::Weak => (EDGE_WEAK, 0),
            EdgeKind::Ephemeron => (EDGE_WEAK, 1),
            EdgeKind::Strong => match edge.path.as_slice() {
                [] => return (EDGE_INTERNAL, strings.get("(value)")),
                [Label::Index(i)] if *i <= u32::MAX as usize => return (EDGE_ELEMENT, *i as u32),
                _ => (EDGE_PROPERTY, 2),
            },
        };
        let name = *self.cache.entry((tag, &edge.path)).or_insert_with(|| match tag {
            1 => strings.get(&format!("{} (ephemeron value)", edge.path_text())),
            _ => strings.get(&edge.path_text()),
        });
        (kind, name)
    }
}

/// Writes unsigned numbers separated by commas, a row per line, without the formatting
/// machinery (a snapshot is tens of millions of numbers).
struct Rows {
    buf: Vec<u8>,
    first: bool,
}

impl Rows {
    fn new() -> Rows {
        Rows { buf: Vec::with_capacity(64), first: true }
    }

    fn row(&mut self, w: &mut dyn Write, values: &[u64]) -> io::Result<()> {
        self.buf.clear();
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
        for (i, &v) in values.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            let mut digits = [0u8; 20];
            let mut n = v;
            let mut at = digits.len();
            loop {
                at -= 1;
                digits[at] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            self.buf.extend_from_slice(&digits[at..]);
        }
        self.buf.push(b'\n');
        w.write_all(&self.buf)
    }
}

/// Writes the snapshot of `analysis` to `w` (buffer it: it writes numbers one at a time).
pub(crate) fn write(analysis: &Analysis, w: &mut dyn Write) -> io::Result<()> {
    let graph = &analysis.graph;
    let n = analysis.len();
    let mut strings = Strings::new();

    // Edge counts, in snapshot order.
    let mut edge_counts = Vec::with_capacity(n + 1);
    edge_counts.push(1); // root → (GC roots)
    edge_counts.push(2);
    edge_counts.push(analysis.groups.len());
    edge_counts.push(analysis.handles.len());
    for group in &analysis.groups {
        edge_counts.push(group.edges.len());
    }
    for &root in &analysis.handles {
        edge_counts.push(graph.root_edges[root + 1] - graph.root_edges[root]);
    }
    for object in 0..graph.objects.len() {
        edge_counts.push(graph.edges(object).len() + analysis.derived_of(object).len());
    }
    let edge_total: usize = edge_counts.iter().sum();

    write!(w, "{{\"snapshot\":{{\"meta\":{META},\"node_count\":{},\"edge_count\":{edge_total},\"trace_function_count\":0,\"gc_core_scripts\":", n + 1)?;
    // Scripts: the distinct files of the allocation sites.
    // Sites are `&'static Location`s: files are looked up by the location's address.
    let mut scripts: Vec<&'static str> = Vec::new();
    let mut by_name: HashMap<&'static str, u32> = HashMap::new();
    let mut script_of: FastMap<usize, u32> = FastMap::default();
    for o in &graph.objects {
        if let Some(site) = o.site {
            script_of.entry(site as *const _ as usize).or_insert_with(|| {
                *by_name.entry(site.file()).or_insert_with(|| {
                    scripts.push(site.file());
                    scripts.len() as u32 - 1
                })
            });
        }
    }
    serde_json::to_writer(&mut *w, &scripts)?;
    w.write_all(b"},\n\"nodes\":[")?;

    // Nodes. Type names are `&'static str`s: each is stripped of its lifetimes once.
    let mut type_names: FastMap<usize, u32> = FastMap::default();
    let mut rows = Rows::new();
    let mut node = |w: &mut dyn Write, kind: u32, name: u32, id: u64, size: u64, edges: usize| {
        rows.row(w, &[kind as u64, name as u64, id, size, edges as u64, 0, 0])
    };
    let root_name = strings.get("");
    node(w, NODE_TYPE_SYNTHETIC, root_name, 1, 0, edge_counts[0])?;
    for v in 0..n {
        let edges = edge_counts[v + 1];
        match analysis.object_of(v) {
            None => {
                let name = strings.get(&analysis.virtual_name(v));
                node(w, NODE_TYPE_SYNTHETIC, name, node_id(analysis, v), 0, edges)?;
            }
            Some(o) => {
                let object = &graph.objects[o];
                let kind =
                    if object.type_name == "str" { NODE_TYPE_STRING } else { NODE_TYPE_OBJECT };
                let key = object.type_name.as_ptr() as usize ^ (object.type_name.len() << 48);
                let name = *type_names
                    .entry(key)
                    .or_insert_with(|| strings.get(&type_name(object.type_name)));
                node(w, kind, name, object_id(analysis, o), object.size as u64, edges)?;
            }
        }
    }
    w.write_all(b"],\n\"edges\":[")?;

    // Edges.
    let mut rows = Rows::new();
    let mut names = EdgeNames::default();
    let mut edge = |w: &mut dyn Write, kind: u32, name: u32, to: usize| {
        rows.row(w, &[kind as u64, name as u64, (node_index(to) * NODE_FIELDS) as u64])
    };
    edge(w, EDGE_ELEMENT, 1, 0)?;
    edge(w, EDGE_ELEMENT, 1, 1)?;
    edge(w, EDGE_ELEMENT, 2, 2)?;
    for (g, group) in analysis.groups.iter().enumerate() {
        let name = match group.label {
            Some(label) => strings.get(&label.to_string()),
            None => strings.get("(value)"),
        };
        edge(w, EDGE_PROPERTY, name, analysis.group_node(g))?;
    }
    for h in 0..analysis.handles.len() {
        edge(w, EDGE_ELEMENT, h as u32 + 1, analysis.handle_node(h))?;
    }
    for group in &analysis.groups {
        for &e in &group.edges {
            let ge = &graph.root_edge_list[e as usize];
            let (kind, name) = names.spec(ge, &mut strings);
            edge(w, kind, name, analysis.node_of(ge.to))?;
        }
    }
    for &root in &analysis.handles {
        for ge in &graph.root_edge_list[graph.root_edges[root]..graph.root_edges[root + 1]] {
            let (kind, name) = names.spec(ge, &mut strings);
            edge(w, kind, name, analysis.node_of(ge.to))?;
        }
    }
    for object in 0..graph.objects.len() {
        for ge in graph.edges(object) {
            let (kind, name) = names.spec(ge, &mut strings);
            edge(w, kind, name, analysis.node_of(ge.to))?;
        }
        for d in analysis.derived_of(object) {
            let name =
                weak_map_name(analysis, d.key as usize, d.to as usize, d.table as usize, d.edge);
            let name = strings.get(&name);
            edge(w, EDGE_INTERNAL, name, analysis.node_of(d.to as usize))?;
        }
    }
    w.write_all(
        b"],\n\"trace_function_infos\":[],\n\"trace_tree\":[],\n\"samples\":[],\n\"locations\":[",
    )?;

    // Allocation sites.
    let mut rows = Rows::new();
    for (o, object) in graph.objects.iter().enumerate() {
        if let Some(site) = object.site {
            let index = node_index(analysis.node_of(o)) * NODE_FIELDS;
            let script = script_of[&(site as *const _ as usize)];
            let (line, column) = (site.line().saturating_sub(1), site.column().saturating_sub(1));
            rows.row(w, &[index as u64, script as u64, line as u64, column as u64])?;
        }
    }
    w.write_all(b"],\n\"strings\":[")?;
    for (i, s) in strings.list.iter().enumerate() {
        if i > 0 {
            w.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut *w, s)?;
    }
    w.write_all(b"]}\n")?;
    w.flush()
}

/// V8's name for a `WeakMap` entry's edge: memlab and DevTools parse the key's id from it.
fn weak_map_name(
    analysis: &Analysis,
    key: usize,
    value: usize,
    table: usize,
    _at: EdgeAt,
) -> String {
    let graph = &analysis.graph;
    format!(
        "part of key ({} @{}) -> value ({} @{}) pair in WeakMap (table @{})",
        type_name(graph.objects[key].type_name),
        object_id(analysis, key),
        type_name(graph.objects[value].type_name),
        object_id(analysis, value),
        node_id(analysis, table),
    )
}
