//! `#[derive(Trace)]` and `Rootable!`, through gc-core's public API.
//!
//! The collection tests build object graphs that are reachable *only* through derived fields,
//! move them with minor and full collections (the verifier on), then overwrite the space they
//! moved out of before reading them back. A field that `trace` missed would still point at its
//! object's old place: the verifier would report it, or the values read back would be wrong.
//! `census` counts what `trace_labeled` reaches, which checks the labelled path the same way.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet};
use std::marker::PhantomData;
use std::rc::Rc;

use gc_core::{field, Arena, Gc, HeapConfig, Lock, RefLock, Rootable, Trace};

fn verifying() -> HeapConfig {
    HeapConfig::builder().verify(true).build().unwrap()
}

fn needs_trace<T: Trace + ?Sized>() -> bool {
    T::NEEDS_TRACE
}

/// Moves everything: a minor collection empties the nursery, then churn refills it so that a
/// pointer left behind would read foreign bytes; a full collection compacts the old generation.
fn shake<R>(arena: &mut Arena<R>)
where
    R: for<'a> Rootable<'a>,
    for<'a> gc_core::Root<'a, R>: Sized + Trace,
{
    arena.collect_minor();
    arena.verify().unwrap();
    churn(arena);
    arena.collect_full();
    arena.verify().unwrap();
    churn(arena);
    arena.verify().unwrap();
}

fn churn<R>(arena: &Arena<R>)
where
    R: for<'a> Rootable<'a>,
    for<'a> gc_core::Root<'a, R>: Sized + Trace,
{
    arena.mutate(|mc, _| {
        for i in 0..2000 {
            mc.alloc_str(&format!("garbage garbage garbage {i}"));
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Types under test.

/// Implements nothing: only `skip` and `require_static` let a field hold it.
#[derive(Debug, PartialEq)]
struct NotTrace(u32);

#[derive(Trace)]
struct Plain {
    a: u32,
    b: String,
    c: Vec<(u8, bool)>,
}

#[derive(Trace)]
struct Leaf<'gc>(u32, Gc<'gc, str>);

#[derive(Trace)]
struct Unit;

#[derive(Trace)]
struct Named<'gc> {
    id: u32,
    left: Gc<'gc, Leaf<'gc>>,
    right: Option<Gc<'gc, Leaf<'gc>>>,
    strings: Vec<Gc<'gc, str>>,
    unit: Unit,
    #[trace(skip)]
    tag: &'static str,
    #[trace(skip)]
    opaque: NotTrace,
    r#type: Gc<'gc, str>,
}

#[derive(Trace)]
enum Shape<'gc> {
    Empty,
    Tuple(Gc<'gc, str>, u32, Gc<'gc, Leaf<'gc>>),
    Record {
        name: Gc<'gc, str>,
        next: Option<Gc<'gc, Shape<'gc>>>,
        #[trace(skip)]
        weight: NotTrace,
    },
    OnlySkipped(#[trace(skip)] String),
    Nested(Named<'gc>),
}

#[derive(Trace)]
enum Never {}

#[derive(Trace)]
enum Flag {
    On,
    Off(u8),
}

#[derive(Trace)]
struct Wrap<T>(T);

#[derive(Trace)]
struct Many<'gc, T: Clone, const N: usize>
where
    T: std::fmt::Debug,
{
    items: [T; N],
    name: Gc<'gc, str>,
}

#[derive(Trace)]
struct Boxed<T: ?Sized> {
    len: usize,
    inner: Box<T>,
}

/// The parameter appears only in `PhantomData`, so it needs no `Trace`.
#[derive(Trace)]
#[trace(bound = "")]
struct Tagged<'gc, T> {
    value: Gc<'gc, str>,
    marker: PhantomData<T>,
}

/// The given bound replaces the automatic `T: Trace`, and is enough for `Box<T>`.
#[derive(Trace)]
#[trace(bound = "T: Trace + Default")]
struct Defaulted<T> {
    inner: Box<T>,
}

/// A field and a type named like the expansion's locals, declared through `macro_rules`.
macro_rules! declare {
    ($name:ident, $ty:ty) => {
        #[derive(Trace)]
        struct $name<'gc> {
            tracer: $ty,
            __gc_field_0: Gc<'gc, str>,
            self_: Option<Gc<'gc, str>>,
        }
    };
}
declare!(Hygiene, Gc<'gc, str>);

/// A `'static` type with a `Drop` impl; its fields need not implement `Trace`.
#[derive(Trace)]
#[trace(require_static)]
struct Resource {
    opaque: NotTrace,
    drops: Rc<Cell<u32>>,
}

impl Drop for Resource {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
    }
}

#[derive(Trace)]
#[trace(require_static)]
struct StaticWrap<T>(T);

/// Holds a `Gc` and counts its drops, promising that `drop` never touches the `Gc`.
#[derive(Trace)]
#[trace(unsafe_drop)]
struct Finalized<'gc> {
    payload: Gc<'gc, str>,
    drops: Rc<Cell<u32>>,
}

// SAFETY: `drop` touches only the counter.
unsafe impl gc_core::UncheckedDrop for Finalized<'_> {}

impl Drop for Finalized<'_> {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
    }
}

// ---------------------------------------------------------------------------------------------
// NEEDS_TRACE.

const _: () = assert!(!<Plain as Trace>::NEEDS_TRACE, "evaluable at compile time");

#[test]
fn needs_trace_follows_the_fields() {
    // `'static` stands for any brand: `NEEDS_TRACE` does not depend on lifetimes.
    assert!(!needs_trace::<Plain>());
    assert!(!needs_trace::<Unit>());
    assert!(needs_trace::<Leaf<'static>>());
    assert!(needs_trace::<Named<'static>>());
    assert!(needs_trace::<Shape<'static>>());
    assert!(!needs_trace::<Never>());
    assert!(!needs_trace::<Flag>());
    assert!(!needs_trace::<Wrap<u32>>());
    assert!(!needs_trace::<Wrap<Wrap<String>>>());
    assert!(needs_trace::<Wrap<Gc<'static, u32>>>());
    assert!(needs_trace::<Wrap<Option<Leaf<'static>>>>());
    assert!(!needs_trace::<Boxed<[u32]>>());
    assert!(needs_trace::<Boxed<[Gc<'static, str>]>>());
    assert!(needs_trace::<Many<'static, u32, 3>>());
    assert!(needs_trace::<Tagged<'static, NotTrace>>());
    assert!(!needs_trace::<Defaulted<u32>>());
    assert!(needs_trace::<Hygiene<'static>>());
    assert!(!needs_trace::<Resource>());
    assert!(!needs_trace::<StaticWrap<Vec<String>>>());
    assert!(needs_trace::<Finalized<'static>>());
}

#[derive(Trace)]
struct AllSkipped {
    #[trace(skip)]
    a: NotTrace,
    #[trace(skip)]
    b: Rc<String>,
}

#[test]
fn skipped_fields_do_not_count() {
    assert!(!needs_trace::<AllSkipped>());
    let all = AllSkipped { a: NotTrace(1), b: Rc::new("b".into()) };
    assert_eq!((all.a, all.b.as_str()), (NotTrace(1), "b"));
}

// ---------------------------------------------------------------------------------------------
// Structs and enums survive collections.

#[derive(Trace)]
struct Everything<'gc> {
    named: Gc<'gc, Named<'gc>>,
    shapes: Vec<Gc<'gc, Shape<'gc>>>,
    flags: Vec<Flag>,
    tuple: Leaf<'gc>,
    many: Gc<'gc, Many<'gc, Gc<'gc, str>, 2>>,
    boxed: Boxed<[Gc<'gc, str>]>,
    wrap: Wrap<Gc<'gc, Leaf<'gc>>>,
    hygiene: Gc<'gc, Hygiene<'gc>>,
    tagged: Tagged<'gc, NotTrace>,
    defaulted: Defaulted<Option<Gc<'gc, str>>>,
}

fn build<'gc>(mc: &'gc gc_core::Mutation<'gc>) -> Everything<'gc> {
    let leaf = |n: u32, s: &str| Gc::new(mc, Leaf(n, mc.alloc_str(s)));
    let shared = leaf(1, "shared");
    let named = |id: u32| Named {
        id,
        left: shared,
        right: Some(leaf(id + 100, "right")),
        strings: (0..5).map(|i| mc.alloc_str(&format!("s{id}.{i}"))).collect(),
        unit: Unit,
        tag: "tag",
        opaque: NotTrace(id),
        r#type: mc.alloc_str("raw"),
    };
    let record = |name: &str, next| {
        Gc::new(mc, Shape::Record { name: mc.alloc_str(name), next, weight: NotTrace(7) })
    };
    let tail = record("tail", None);
    let shapes = vec![
        Gc::new(mc, Shape::Empty),
        Gc::new(mc, Shape::Tuple(mc.alloc_str("tuple"), 2, shared)),
        record("head", Some(tail)),
        Gc::new(mc, Shape::OnlySkipped("skipped".into())),
        Gc::new(mc, Shape::Nested(named(2))),
    ];
    Everything {
        named: Gc::new(mc, named(1)),
        shapes,
        flags: vec![Flag::On, Flag::Off(3)],
        tuple: Leaf(9, mc.alloc_str("inline")),
        many: Gc::new(
            mc,
            Many { items: [mc.alloc_str("m0"), mc.alloc_str("m1")], name: mc.alloc_str("many") },
        ),
        boxed: Boxed {
            len: 2,
            inner: vec![mc.alloc_str("b0"), mc.alloc_str("b1")].into_boxed_slice(),
        },
        wrap: Wrap(leaf(5, "wrapped")),
        hygiene: Gc::new(
            mc,
            Hygiene {
                tracer: mc.alloc_str("tracer"),
                __gc_field_0: mc.alloc_str("field0"),
                self_: Some(mc.alloc_str("self")),
            },
        ),
        tagged: Tagged { value: mc.alloc_str("tagged"), marker: PhantomData },
        defaulted: Defaulted { inner: Box::new(Some(mc.alloc_str("defaulted"))) },
    }
}

fn check_named(named: &Named<'_>, id: u32) {
    assert_eq!(named.id, id);
    assert_eq!((named.left.0, &*named.left.1), (1, "shared"));
    let right = named.right.unwrap();
    assert_eq!((right.0, &*right.1), (id + 100, "right"));
    let strings: Vec<&str> = named.strings.iter().map(|s| &**s).collect();
    let expected: Vec<String> = (0..5).map(|i| format!("s{id}.{i}")).collect();
    assert_eq!(strings, expected);
    assert_eq!((named.tag, &named.opaque), ("tag", &NotTrace(id)));
    assert_eq!(&*named.r#type, "raw");
}

fn check(all: &Everything<'_>) {
    check_named(&all.named, 1);
    assert!(matches!(*all.shapes[0], Shape::Empty));
    let Shape::Tuple(s, 2, leaf) = &*all.shapes[1] else { panic!("not a tuple") };
    assert_eq!(&**s, "tuple");
    assert!(Gc::ptr_eq(*leaf, all.named.left), "sharing survives the move");
    let Shape::Record { name, next: Some(next), weight } = &*all.shapes[2] else {
        panic!("not a record")
    };
    assert_eq!((&**name, weight), ("head", &NotTrace(7)));
    let Shape::Record { name, next: None, .. } = &**next else { panic!("not the tail") };
    assert_eq!(&**name, "tail");
    let Shape::OnlySkipped(s) = &*all.shapes[3] else { panic!("not skipped") };
    assert_eq!(s, "skipped");
    let Shape::Nested(named) = &*all.shapes[4] else { panic!("not nested") };
    check_named(named, 2);
    assert!(Gc::ptr_eq(named.left, all.named.left));
    assert!(matches!(all.flags[..], [Flag::On, Flag::Off(3)]));
    assert_eq!((all.tuple.0, &*all.tuple.1), (9, "inline"));
    let many: Vec<&str> = all.many.items.iter().map(|s| &**s).collect();
    assert_eq!((many, &*all.many.name), (vec!["m0", "m1"], "many"));
    let boxed: Vec<&str> = all.boxed.inner.iter().map(|s| &**s).collect();
    assert_eq!((all.boxed.len, boxed), (2, vec!["b0", "b1"]));
    assert_eq!((all.wrap.0 .0, &*all.wrap.0 .1), (5, "wrapped"));
    let h = &all.hygiene;
    assert_eq!((&*h.tracer, &*h.__gc_field_0), ("tracer", "field0"));
    assert_eq!(h.self_.as_deref(), Some("self"));
    assert_eq!(&*all.tagged.value, "tagged");
    assert_eq!(all.defaulted.inner.as_deref(), Some("defaulted"));
}

/// The objects `build` allocates, counted by hand: what `census` must find through
/// `trace_labeled`.
const EVERYTHING_OBJECTS: usize = {
    let shared = 2; // a leaf and its string
    let named_fields = 2 + 5 + 1; // the right leaf and its string, `strings`, `r#type`
    shared
        + (1 + named_fields) // named
        + 1 // Empty
        + 2 // Tuple and its string
        + 2 * 2 // the two records and their names
        + 1 // OnlySkipped
        + (1 + named_fields) // Nested
        + 1 // the inline leaf's string
        + 4 // many, its two items and its name
        + 2 // boxed
        + 2 // the wrapped leaf and its string
        + 4 // hygiene and its three strings
        + 1 // tagged
        + 1 // defaulted
};

#[test]
fn structs_and_enums_survive_collections() {
    let mut arena = Arena::<Rootable![Everything<'_>]>::new(verifying(), build);
    let before = arena.census().live_objects;
    assert_eq!(before, EVERYTHING_OBJECTS, "census walks every derived field");
    arena.mutate(|_, all| check(all));
    for _ in 0..3 {
        shake(&mut arena);
        arena.mutate(|_, all| check(all));
        assert_eq!(arena.census().live_objects, before);
    }
}

/// Derived objects in the old generation, written through the barrier, traced from the
/// remembered set.
#[derive(Trace)]
struct Cell2<'gc> {
    value: Lock<Option<Gc<'gc, str>>>,
    list: RefLock<Vec<Gc<'gc, Shape<'gc>>>>,
    fixed: Gc<'gc, str>,
}

#[test]
fn old_derived_objects_are_traced_after_writes() {
    let mut arena = Arena::<Rootable!['gc => Gc<'gc, Cell2<'gc>>]>::new(verifying(), |mc| {
        Gc::new(
            mc,
            Cell2 {
                value: Lock::new(None),
                list: RefLock::new(Vec::new()),
                fixed: mc.alloc_str("fixed"),
            },
        )
    });
    arena.collect_minor(); // the object is old from now on
    for round in 0..4u32 {
        arena.mutate(|mc, cell| {
            let w = Gc::write(mc, *cell);
            field!(w, Cell2, value).set(Some(mc.alloc_str(&format!("value {round}"))));
            let shape = Shape::Tuple(
                mc.alloc_str(&format!("shape {round}")),
                round,
                Gc::new(mc, Leaf(round, mc.alloc_str("leaf"))),
            );
            field!(w, Cell2, list).borrow_mut().push(Gc::new(mc, shape));
        });
        shake(&mut arena);
        arena.mutate(|_, cell| {
            assert_eq!(cell.value.get().as_deref(), Some(&*format!("value {round}")));
            assert_eq!(&*cell.fixed, "fixed");
            let list = cell.list.borrow();
            assert_eq!(list.len(), round as usize + 1);
            for (i, shape) in list.iter().enumerate() {
                let Shape::Tuple(s, n, leaf) = &**shape else { panic!("not a tuple") };
                assert_eq!((&**s, *n), (&*format!("shape {i}"), i as u32));
                assert_eq!((leaf.0, &*leaf.1), (i as u32, "leaf"));
            }
        });
    }
}

/// Recursive through ownership: the exact `NEEDS_TRACE` would be a const-evaluation cycle.
#[derive(Trace)]
enum Expr<'gc> {
    Leaf(Gc<'gc, str>),
    Add(Box<Expr<'gc>>, Box<Self>),
    List(Vec<Expr<'gc>>),
}

/// Recursive and `'static`: `require_static` gives the exact answer, so it can key a map.
#[derive(Trace, PartialEq, Eq, Hash)]
#[trace(require_static)]
enum Key {
    Atom(u32),
    List(Vec<Key>),
}

#[test]
fn recursive_types_are_traced() {
    assert!(needs_trace::<Expr<'static>>());
    assert!(!needs_trace::<Key>());
    type Root<'gc> = (Expr<'gc>, std::collections::HashMap<Key, Gc<'gc, str>>);
    let mut arena = Arena::<Rootable![Root<'_>]>::new(verifying(), |mc| {
        let leaf = |s: &str| Box::new(Expr::Leaf(mc.alloc_str(s)));
        let list = Expr::List(vec![*leaf("c"), Expr::Add(leaf("d"), leaf("e"))]);
        let expr = Expr::Add(Box::new(Expr::Add(leaf("a"), leaf("b"))), Box::new(list));
        let key = Key::List(vec![Key::Atom(1), Key::List(vec![])]);
        (expr, [(key, mc.alloc_str("value"))].into_iter().collect())
    });
    fn flatten(expr: &Expr<'_>, out: &mut String) {
        match expr {
            Expr::Leaf(s) => out.push_str(s),
            Expr::Add(a, b) => {
                flatten(a, out);
                flatten(b, out);
            }
            Expr::List(items) => items.iter().for_each(|e| flatten(e, out)),
        }
    }
    for _ in 0..2 {
        shake(&mut arena);
        arena.mutate(|_, (expr, map)| {
            let mut out = String::new();
            flatten(expr, &mut out);
            assert_eq!(out, "abcde");
            let key = Key::List(vec![Key::Atom(1), Key::List(vec![])]);
            assert_eq!(map.get(&key).map(|s| &**s), Some("value"));
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Untraced parts: `'static` keys, elements, hashers and cell contents are accepted in every
// position, and the traced values next to them are traced. (The same parts holding a `Gc` are
// compile errors: `tests/ui/untraced/`.)

/// A key type that implements nothing of the crate's: an untraced part needs only `'static`.
type Addr = std::net::Ipv4Addr;

/// Recursive (it names itself in a map's values) with `'static` keys and set elements: the
/// shape of the issue's `Node::neighbours`, with the `Gc`s where they are traced.
#[derive(Trace)]
struct Graph<'gc> {
    name: Gc<'gc, str>,
    by_name: RefLock<HashMap<String, Gc<'gc, Graph<'gc>>>>,
    ids: RefLock<HashSet<u32>>,
}

#[derive(Trace)]
enum Index<'gc> {
    Ordered(BTreeMap<Addr, Gc<'gc, str>>, BTreeSet<Addr>),
    Heap(BinaryHeap<u32>, Gc<'gc, str>),
}

/// A key parameter that appears only in the untraced place: bounded `'static` by hand (the
/// default `K: Trace` would not make the impl type-check).
#[derive(Trace)]
#[trace(bound = "K: 'static, V: Trace")]
struct Keyed<K, V> {
    map: HashMap<K, V>,
}

#[test]
fn untraced_parts_need_only_be_static() {
    assert!(!needs_trace::<HashMap<Addr, u32>>());
    assert!(needs_trace::<HashMap<Addr, Gc<'static, str>>>());
    assert!(needs_trace::<BTreeMap<Addr, Gc<'static, str>>>());
    assert!(!needs_trace::<HashSet<Addr>>() && !needs_trace::<BTreeSet<Addr>>());
    assert!(!needs_trace::<BinaryHeap<u32>>() && !needs_trace::<Rc<str>>());
    assert!(needs_trace::<Keyed<Addr, Gc<'static, str>>>());

    type Root<'gc> = (
        HashMap<Addr, Gc<'gc, str>>,
        Option<Box<BTreeMap<Addr, Gc<'gc, str>>>>,
        Lock<Option<HashSet<Addr>>>,
        RefLock<Vec<BinaryHeap<u32>>>,
        (Cell<u32>, std::cell::RefCell<Vec<u32>>, Rc<str>, std::sync::Arc<str>),
        Gc<'gc, Graph<'gc>>,
        Vec<Index<'gc>>,
        Keyed<Addr, Gc<'gc, str>>,
    );
    let addr = |i: u8| Addr::new(10, 0, 0, i);
    let mut arena = Arena::<Rootable![Root<'_>]>::new(verifying(), |mc| {
        let graph = |name: &str| {
            Gc::new(
                mc,
                Graph {
                    name: mc.alloc_str(name),
                    by_name: RefLock::new(HashMap::new()),
                    ids: RefLock::new(HashSet::from([7])),
                },
            )
        };
        let (a, b) = (graph("a"), graph("b"));
        field!(Gc::write(mc, a), Graph, by_name).borrow_mut().insert("b".to_string(), b);
        field!(Gc::write(mc, b), Graph, by_name).borrow_mut().insert("a".to_string(), a);
        (
            HashMap::from([(addr(1), mc.alloc_str("one"))]),
            Some(Box::new(BTreeMap::from([(addr(2), mc.alloc_str("two"))]))),
            Lock::new(Some(HashSet::from([addr(3)]))),
            RefLock::new(vec![BinaryHeap::from([4, 44])]),
            (Cell::new(5), std::cell::RefCell::new(vec![5]), Rc::from("five"), "five".into()),
            a,
            vec![
                Index::Ordered(
                    BTreeMap::from([(addr(6), mc.alloc_str("six"))]),
                    BTreeSet::from([addr(6)]),
                ),
                Index::Heap(BinaryHeap::from([6]), mc.alloc_str("heap")),
            ],
            Keyed { map: HashMap::from([(addr(8), mc.alloc_str("eight"))]) },
        )
    });
    for _ in 0..2 {
        shake(&mut arena);
        arena.mutate_root(|_, root| assert!(root.2.get_mut().as_ref().unwrap().contains(&addr(3))));
        arena.mutate(|_, (map, tree, _, heaps, cells, graph, index, keyed)| {
            assert_eq!(&*map[&addr(1)], "one");
            assert_eq!(&*tree.as_ref().unwrap()[&addr(2)], "two");
            assert_eq!(heaps.borrow()[0].peek(), Some(&44));
            assert_eq!((cells.0.get(), &*cells.2, &*cells.3), (5, "five", "five"));
            let b = graph.by_name.borrow()["b"];
            assert_eq!((&*graph.name, &*b.name), ("a", "b"));
            assert_eq!(&*b.by_name.borrow()["a"].name, "a");
            assert!(graph.ids.borrow().contains(&7));
            match (&index[0], &index[1]) {
                (Index::Ordered(tree, set), Index::Heap(heap, s)) => {
                    assert_eq!((&*tree[&addr(6)], set.len()), ("six", 1));
                    assert_eq!((heap.peek(), &**s), (Some(&6), "heap"));
                }
                _ => unreachable!(),
            }
            assert_eq!(&*keyed.map[&addr(8)], "eight");
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Drop.

#[test]
fn require_static_allows_drop() {
    let drops = Rc::new(Cell::new(0));
    let mut arena = Arena::<Rootable![Gc<'_, Resource>]>::new(verifying(), |mc| {
        Gc::new(mc, Resource { opaque: NotTrace(1), drops: drops.clone() })
    });
    arena.mutate(|mc, _| {
        for _ in 0..10 {
            Gc::new(mc, Resource { opaque: NotTrace(2), drops: drops.clone() });
        }
    });
    arena.collect_full();
    arena.verify().unwrap();
    assert_eq!(drops.get(), 10);
    arena.mutate(|_, root| assert_eq!(root.opaque, NotTrace(1)));
    arena.collect_full();
    assert_eq!(drops.get(), 10);
    drop(arena);
    assert_eq!(drops.get(), 11);

    let mut plain = StaticWrap(vec![String::from("x")]);
    // Nothing to trace: the derived impl exists and says so.
    assert!(!needs_trace::<StaticWrap<Vec<String>>>());
    plain.0.push("y".into());
    assert_eq!(plain.0.len(), 2);
}

fn finalized<'gc>(
    mc: &'gc gc_core::Mutation<'gc>,
    drops: &Rc<Cell<u32>>,
    payload: &str,
) -> Gc<'gc, Finalized<'gc>> {
    let payload = mc.alloc_str(payload);
    Gc::new(mc, Finalized { payload, drops: drops.clone() })
}

#[test]
fn unsafe_drop_runs_drop_once() {
    let drops = Rc::new(Cell::new(0));
    let mut arena =
        Arena::<Rootable![RefLock<Vec<Gc<'_, Finalized<'_>>>>]>::new(verifying(), |mc| {
            RefLock::new((0..20).map(|i| finalized(mc, &drops, &format!("kept {i}"))).collect())
        });
    // Old objects: half of them become unreachable after they were promoted.
    arena.collect_minor();
    arena.mutate_root(|_, list| list.get_mut().truncate(10));
    // Young objects that die without ever being promoted.
    arena.mutate(|mc, _| {
        for i in 0..5 {
            finalized(mc, &drops, &format!("young {i}"));
        }
    });
    arena.collect_full();
    arena.verify().unwrap();
    assert_eq!(drops.get(), 15, "every unreachable object was dropped");
    arena.mutate(|_, list| {
        let list = list.borrow();
        for (i, f) in list.iter().enumerate() {
            assert_eq!(&*f.payload, format!("kept {i}"));
        }
    });
    arena.collect_minor();
    arena.collect_full();
    assert_eq!(drops.get(), 15, "nothing is dropped twice");
    drop(arena);
    assert_eq!(drops.get(), 25, "the arena drops the rest");
}

// ---------------------------------------------------------------------------------------------
// Rootable!

fn same_type<T: ?Sized>(_: PhantomData<T>, _: PhantomData<T>) {}

macro_rules! root_of {
    ($t:ty) => {
        Rootable![$t]
    };
}

#[test]
fn rootable_spellings_name_one_type() {
    same_type(
        PhantomData::<Rootable![Gc<'_, Leaf<'_>>]>,
        PhantomData::<Rootable!['gc => Gc<'gc, Leaf<'gc>>]>,
    );
    same_type(
        PhantomData::<root_of!(Gc<'_, Leaf<'_>>)>,
        PhantomData::<Rootable!['x => Gc<'x, Leaf<'x>>]>,
    );
    same_type(
        PhantomData::<Rootable![(Vec<Gc<'_, str>>, [Option<Gc<'_, str>>; 2])]>,
        PhantomData::<Rootable!['a => (Vec<Gc<'a, str>>, [Option<Gc<'a, str>>; 2])]>,
    );
}

#[test]
fn rootable_without_a_lifetime() {
    let mut arena = Arena::<Rootable![u32]>::new(verifying(), |_| 7);
    arena.mutate_root(|_, n| *n += 1);
    arena.collect_full();
    assert_eq!(arena.mutate(|_, n| *n), 8);
}

#[test]
fn rootable_with_elided_and_named_brands() {
    let mut a = Arena::<Rootable![Gc<'_, str>]>::new(verifying(), |mc| mc.alloc_str("a"));
    let mut b = Arena::<Rootable!['gc => Wrap<Gc<'gc, str>>]>::new(verifying(), |mc| {
        Wrap(mc.alloc_str("b"))
    });
    let mut c = Arena::<root_of!(Vec<Gc<'_, Leaf<'_>>>)>::new(verifying(), |mc| {
        vec![Gc::new(mc, Leaf(3, mc.alloc_str("c")))]
    });
    shake(&mut a);
    shake(&mut b);
    shake(&mut c);
    a.mutate(|_, s| assert_eq!(&**s, "a"));
    b.mutate(|_, w| assert_eq!(&*w.0, "b"));
    c.mutate(|_, v| assert_eq!((v[0].0, &*v[0].1), (3, "c")));
}
