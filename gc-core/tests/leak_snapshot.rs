#![cfg(feature = "leak-debug")]
//! The `.heapsnapshot` export read back by an independent reader, the `v8-heap-parser` crate
//! (a port of Chrome DevTools' snapshot code): it parses, its dominator tree gives every node
//! the retained size we computed, our shortest paths are paths of its graph, and object ids
//! survive moves.

mod common;

use std::collections::HashMap;

use gc_core::{field, Arena, EphemeronTable, Gc, GcWeak, Handle, HeapAnalysis, HeapConfig};
use gc_core::{RefLock, Rootable, Trace};

#[derive(Trace)]
struct Node<'gc> {
    children: RefLock<Vec<Gc<'gc, Node<'gc>>>>,
    weak: RefLock<Option<GcWeak<'gc, Node<'gc>>>>,
    payload: Gc<'gc, [u8]>,
}

#[derive(Trace)]
struct Key {
    id: u32,
}

#[derive(Trace)]
struct World<'gc> {
    /// Allocated between the nodes and traced first (promoted first); dropped to make holes
    /// that compaction closes.
    fillers: Vec<Gc<'gc, str>>,
    nodes: Vec<Gc<'gc, Node<'gc>>>,
    table: EphemeronTable<'gc, Key, Gc<'gc, Node<'gc>>>,
    keys: Vec<Gc<'gc, Key>>,
    name: Option<Gc<'gc, str>>,
}

type WorldArena = Arena<Rootable![World<'_>]>;
type NodeHandle = Handle<Rootable![Node<'_>]>;

/// The shared test configuration, with leak-debug recording on.
fn config() -> HeapConfig {
    common::builder().leak_debug(true).build().unwrap()
}

/// A heap with shared subtrees, cycles, weak references, an ephemeron table whose keys are
/// kept by the root (values retained through their keys) and handles.
fn world(n: usize) -> (WorldArena, Vec<NodeHandle>) {
    let mut arena = WorldArena::new(config(), |_| World {
        fillers: Vec::new(),
        nodes: Vec::new(),
        table: EphemeronTable::new(),
        keys: Vec::new(),
        name: None,
    });
    let handles = arena.mutate_root(|mc, world| {
        let nodes: Vec<_> = (0..n)
            .map(|i| {
                world.fillers.push(mc.alloc_str("filler"));
                Gc::new(
                    mc,
                    Node {
                        children: RefLock::new(Vec::new()),
                        weak: RefLock::new(None),
                        payload: mc.alloc_slice_copy(&vec![1u8; [4, 40, 400][i % 3]]),
                    },
                )
            })
            .collect();
        for i in 0..n {
            let a = nodes[i];
            let children = [(i * 7 + 1) % n, (i * 13 + 5) % n, i / 2];
            for &c in &children[..1 + i % 3] {
                field!(Gc::write(mc, a), Node, children).borrow_mut().push(nodes[c]);
            }
            *field!(Gc::write(mc, a), Node, weak).borrow_mut() =
                Some(Gc::downgrade(nodes[(i + 3) % n]));
        }
        world.nodes.extend([nodes[0], nodes[n / 3]]);
        for k in 0..3 {
            let key = Gc::new(mc, Key { id: k });
            let value = Gc::new(
                mc,
                Node {
                    children: RefLock::new(vec![nodes[n - 1 - k as usize]]),
                    weak: RefLock::new(None),
                    payload: mc.alloc_slice_copy(&[9u8; 200]),
                },
            );
            world.table.insert(mc, key, value);
            if k != 2 {
                world.keys.push(key);
            }
        }
        world.name = Some(mc.alloc_str("world"));
        vec![mc.named_handle(nodes[n / 2], "middle"), mc.handle(nodes[n - 2])]
    });
    (arena, handles)
}

fn snapshot(analysis: &HeapAnalysis) -> (Vec<u8>, v8_heap_parser::Graph) {
    let mut bytes = Vec::new();
    analysis.write_heap_snapshot(&mut bytes).unwrap();
    let graph = v8_heap_parser::decode_slice(&bytes).expect("v8-heap-parser reads the snapshot");
    (bytes, graph)
}

fn verify(analysis: &HeapAnalysis) {
    let (bytes, parsed) = snapshot(analysis);
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let meta = &json["snapshot"]["meta"];
    for field in ["node_fields", "node_types", "edge_fields", "edge_types", "location_fields"] {
        assert!(meta[field].is_array(), "meta.{field}");
    }
    for field in ["trace_function_info_fields", "trace_node_fields", "sample_fields"] {
        assert!(meta[field].is_array(), "meta.{field}");
    }
    for list in ["nodes", "edges", "strings", "locations", "samples", "trace_tree"] {
        assert!(json[list].is_array(), "{list}");
    }

    // The root first, then (GC roots) and the categories.
    let nodes = parsed.nodes();
    assert_eq!(nodes[0].weight.id, 1);
    assert_eq!(nodes[1].weight.name(), "(GC roots)");
    assert_eq!(nodes[2].weight.name(), "(Arena root)");
    assert_eq!(nodes[3].weight.name(), "(Handles)");
    assert_eq!(nodes[0].weight.typ, v8_heap_parser::NodeType::Syntheic);

    let index: HashMap<u32, usize> =
        nodes.iter().enumerate().map(|(i, n)| (n.weight.id, i)).collect();
    assert_eq!(index.len(), nodes.len(), "ids are unique");
    let graph = analysis.graph();
    assert_eq!(nodes.len(), graph.objects().len() + 4 + analysis.roots().len() - 1);
    for (i, object) in graph.objects().iter().enumerate() {
        let node = &nodes[index[&(analysis.snapshot_id(i) as u32)]].weight;
        assert_eq!(node.self_size, object.size as u64);
        assert!(object.type_name.starts_with(node.name()) || node.name() == "str");
    }

    // Retained sizes: every node, synthetic ones included.
    for (id, retained) in analysis.snapshot_retained_sizes() {
        let i = index[&(id as u32)];
        assert_eq!(
            parsed.retained_size(i),
            retained,
            "retained size of node {id} ({})",
            nodes[i].weight.name()
        );
    }

    // Paths: every step is an edge of the parsed graph.
    for i in 0..graph.objects().len() {
        let Some(path) = analysis.path_snapshot_ids(i) else { continue };
        for pair in path.windows(2) {
            let (a, b) = (index[&(pair[0] as u32)], index[&(pair[1] as u32)]);
            assert!(parsed.children(a).contains(&b), "edge {} → {}", pair[0], pair[1]);
        }
    }
}

#[test]
fn v8_heap_parser_reads_our_snapshots_and_agrees() {
    for n in [10, 50, 300] {
        let (mut arena, handles) = world(n);
        verify(&arena.heap_analysis());
        arena.collect_minor();
        verify(&arena.heap_analysis());
        arena.collect_full();
        verify(&arena.heap_analysis());
        drop(handles);
    }
}

#[test]
fn ephemeron_values_are_retained_by_their_keys() {
    let (mut arena, _handles) = world(20);
    arena.collect_full();
    let analysis = arena.heap_analysis();
    let graph = analysis.graph();
    // The values of the two keys in `keys` are reachable through their keys.
    let values: Vec<usize> = (0..graph.objects().len())
        .filter(|&i| {
            analysis.path_text(i).is_some_and(|p| p.contains("(key in arena root.table) → value"))
        })
        .collect();
    assert!(!values.is_empty());
    for &v in &values {
        let path = analysis.path_text(v).unwrap();
        assert!(path.starts_with("arena root.keys["), "{path}");
    }
    // The third key is dead: its entry went at the collection.
    arena.mutate(|_, world| assert_eq!(world.table.len(), 2));
    let (bytes, _) = snapshot(&analysis);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("pair in WeakMap (table @"), "V8's name for an ephemeron edge");
}

#[test]
fn snapshot_ids_survive_moves() {
    let (mut arena, handles) = world(100);
    let ids = |arena: &mut WorldArena| -> HashMap<u64, u64> {
        let analysis = arena.heap_analysis();
        (0..analysis.graph().objects().len())
            .map(|i| (analysis.graph().objects()[i].id, analysis.snapshot_id(i)))
            .collect()
    };
    let young = ids(&mut arena);
    arena.collect_minor();
    let promoted = ids(&mut arena);
    let addresses = |arena: &mut WorldArena| -> HashMap<u64, usize> {
        arena.heap_graph().objects().iter().map(|o| (o.id, o.address)).collect()
    };
    let before = addresses(&mut arena);
    arena.mutate_root(|_, world| world.fillers.clear());
    arena.collect_full();
    let compacted = ids(&mut arena);
    let after = addresses(&mut arena);
    assert!(
        after.iter().filter(|(id, a)| before[id] != **a).count() > 10,
        "compaction moved objects"
    );
    // The young graph still holds the entry of the dead key (garbage until the collection).
    assert!(promoted.len() < young.len());
    for (id, snapshot_id) in &promoted {
        assert_eq!(young[id], *snapshot_id);
    }
    assert!(compacted.len() < promoted.len());
    for (id, snapshot_id) in &compacted {
        assert_eq!(young[id], *snapshot_id);
        assert_eq!(snapshot_id % 2, 1, "object ids are odd");
    }
    drop(handles);
}
