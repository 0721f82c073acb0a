//! The heap graph: objects, labelled edges, roots.

mod common;

use common::config;
use gc_core::{field, EdgeKind, Gc, GcWeak, Lock, RefLock, RootKind, Rootable, Trace};

#[derive(Trace)]
struct Node<'gc> {
    name: Gc<'gc, str>,
    children: RefLock<Vec<Gc<'gc, Node<'gc>>>>,
    parent: Lock<Option<GcWeak<'gc, Node<'gc>>>>,
}

#[derive(Trace)]
enum Shape<'gc> {
    Leaf,
    Pair(Gc<'gc, Node<'gc>>, Gc<'gc, Node<'gc>>),
}

#[test]
fn the_graph_names_every_edge() {
    let mut arena =
        gc_core::Arena::<Rootable![(Option<Gc<'_, Node<'_>>>, Shape<'_>)]>::new(config(), |_| {
            (None, Shape::Leaf)
        });
    let handle = arena.mutate_root(|mc, (tree, shape)| {
        let node = |name: &str| {
            Gc::new(
                mc,
                Node {
                    name: mc.alloc_str(name),
                    children: RefLock::new(Vec::new()),
                    parent: Lock::new(None),
                },
            )
        };
        let root = node("root");
        for i in 0..3 {
            let child = node(&format!("child{i}"));
            field!(Gc::write(mc, child), Node, parent).set(Some(Gc::downgrade(root)));
            field!(Gc::write(mc, root), Node, children).borrow_mut().push(child);
        }
        *tree = Some(root);
        *shape = Shape::Pair(root, node("lonely"));
        mc.named_handle::<Rootable![str]>(mc.alloc_str("kept by a handle"), "the handle")
    });
    for round in 0..2 {
        let graph = arena.heap_graph();
        // 5 nodes, their 5 names, the handle's string.
        assert_eq!(graph.objects().len(), 11, "round {round}");
        assert_eq!(graph.roots().len(), 2);
        assert_eq!(graph.roots()[0].kind, RootKind::Arena);
        assert_eq!(graph.roots()[1].kind, RootKind::Handle);
        assert_eq!(graph.roots()[1].name.as_deref(), Some("the handle"));
        assert!(graph.roots()[1].site.unwrap().file().ends_with("graph.rs"));
        let root_paths: Vec<String> = graph.root_edges(0).iter().map(|e| e.path_text()).collect();
        assert_eq!(root_paths, [".0", ".1::Pair.0", ".1::Pair.1"]);
        let root_node = graph.root_edges(0)[0].to;
        assert!(
            graph.objects()[root_node].type_name.starts_with("graph::Node"),
            "{:?}",
            graph.objects()[root_node]
        );
        let paths: Vec<String> = graph.edges(root_node).iter().map(|e| e.path_text()).collect();
        assert_eq!(paths, [".name", ".children[0]", ".children[1]", ".children[2]"]);
        let child = graph.edges(root_node)[1].to;
        let weak: Vec<_> = graph.edges(child).iter().filter(|e| e.kind == EdgeKind::Weak).collect();
        assert_eq!(weak.len(), 1);
        assert_eq!(weak[0].to, root_node);
        assert_eq!(weak[0].path_text(), ".parent");
        let strings = graph.objects().iter().filter(|o| o.type_name == "str").count();
        assert_eq!(strings, 6);
        arena.collect_full();
    }
    drop(handle);
    arena.collect_full();
    assert_eq!(arena.heap_graph().objects().len(), 10);
}

#[cfg(feature = "leak-debug")]
#[test]
fn leak_debug_mode_records_sites_and_births_through_moves() {
    let config = gc_core::HeapConfig::builder().verify(true).leak_debug(true).build().unwrap();
    let mut arena = gc_core::Arena::<Rootable![Vec<Gc<'_, u64>>]>::new(config, |_| Vec::new());
    let line = line!() + 2;
    arena.mutate_root(|mc, v| {
        v.extend((0..100).map(|i| Gc::new(mc, i)));
    });
    arena.collect_minor();
    arena.mutate_root(|mc, v| {
        v.retain(|x| **x % 2 == 0);
        v.push(Gc::new(mc, 1000));
    });
    let ids_before: Vec<u64> = arena.heap_graph().objects().iter().map(|o| o.id).collect();
    arena.collect_full();
    let graph = arena.heap_graph();
    assert_eq!(graph.objects().len(), 51);
    for object in graph.objects() {
        assert!(object.stable_id);
        let site = object.site.expect("recorded");
        assert!(site.file().ends_with("graph.rs"));
        if object.birth == Some(0) {
            assert_eq!(site.line(), line);
        } else {
            assert_eq!(object.birth, Some(1), "born after the first collection");
        }
    }
    let ids_after: Vec<u64> = graph.objects().iter().map(|o| o.id).collect();
    assert_eq!(ids_before, ids_after, "ids survive the moves");
}

/// An ephemeron table in the heap: its keys are weak edges, its values' pointers ephemeron
/// edges, and the weak-value table's values weak edges.
#[test]
fn the_graph_of_ephemeron_and_weak_value_tables() {
    use gc_core::{EphemeronTable, WeakValueTable};
    type Root = Rootable![(
        Vec<Gc<'_, str>>,
        Gc<'_, RefLock<EphemeronTable<'_, str, Gc<'_, str>>>>,
        WeakValueTable<'_, u32, str>,
        Gc<'_, Vec<Gc<'_, str>>>
    )];
    let mut arena = gc_core::Arena::<Root>::new(config(), |mc| {
        let after = Gc::new(mc, vec![mc.alloc_str("strong")]);
        (Vec::new(), Gc::new(mc, RefLock::new(EphemeronTable::new())), WeakValueTable::new(), after)
    });
    arena.mutate_root(|mc, (keys, table, weak, _)| {
        for i in 0..3 {
            let key = mc.alloc_str(&format!("key{i}"));
            keys.push(key);
            table.borrow_mut(mc).insert(mc, key, mc.alloc_str(&format!("value{i}")));
            weak.insert(i, key);
        }
    });
    for round in 0..2 {
        let graph = arena.heap_graph();
        // 3 keys, 3 values, the table; a vector and its string, traced after the table.
        assert_eq!(graph.objects().len(), 9, "round {round}");
        let table = graph
            .objects()
            .iter()
            .position(|o| o.type_name.contains("EphemeronTable"))
            .expect("the table is an object");
        let edges = graph.edges(table);
        let kinds = |kind: EdgeKind| edges.iter().filter(|e| e.kind == kind).count();
        assert_eq!((kinds(EdgeKind::Weak), kinds(EdgeKind::Ephemeron)), (3, 3), "{edges:?}");
        for edge in edges.iter().filter(|e| e.kind == EdgeKind::Ephemeron) {
            assert!(graph.objects()[edge.to].type_name == "str");
        }
        let weak_roots = graph.root_edges(0).iter().filter(|e| e.kind == EdgeKind::Weak).count();
        assert_eq!(weak_roots, 3, "the weak-value table's values");
        let after = graph
            .objects()
            .iter()
            .position(|o| o.type_name.starts_with("alloc::vec::Vec"))
            .expect("the vector is an object");
        assert!(after > table, "traced after the table");
        let kinds: Vec<EdgeKind> = graph.edges(after).iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [EdgeKind::Strong], "past the table's values, edges are strong again");
        arena.collect_full();
    }
}
