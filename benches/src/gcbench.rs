//! GCBench, after Hans Boehm's (John Ellis and Pete Kovac's Java version): a stretch tree, a
//! long-lived tree built top-down and a long-lived array of doubles, then for every even depth
//! `d` from 4 to the maximum, `2 · nodes(stretch) / nodes(d)` trees of depth `d` built
//! top-down (allocate a node, then mutate it to point at its children: write barriers) and as
//! many built bottom-up, each dropped at once.
//!
//! Sizes: `stretch` is the stretch tree's depth; the long-lived tree and the deepest temporary
//! trees have depth `stretch - 2` (Boehm's proportions: 18, 16, 4..=16). The node has two child
//! pointers and two `i32`s, as in the original.
//!
//! The checksum adds the nodes each construction made (counted during construction), the
//! long-lived tree's nodes again (counted by a walk at the end) and `1000 · array[1000]`.

use gc_core::{field, Arena, Gc, HeapConfig, Lock, Mutation, Rootable, Trace};

use crate::common::{Impl, Outcome, Pauses};

const MIN_DEPTH: u32 = 4;
const ARRAY_SIZE: usize = 500_000;

/// Boehm's sizes for a stretch depth.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    stretch: u32,
    long_lived: u32,
    max: u32,
}

impl Sizes {
    fn new(stretch: u32) -> Sizes {
        let stretch = stretch.max(MIN_DEPTH + 2);
        Sizes { stretch, long_lived: stretch - 2, max: stretch - 2 }
    }

    /// The depths of the temporary trees, and how many of each (each kind).
    fn schedule(self) -> impl Iterator<Item = (u32, u64)> {
        (MIN_DEPTH..=self.max)
            .step_by(2)
            .map(move |d| (d, 2 * tree_size(self.stretch) / tree_size(d)))
    }
}

fn tree_size(depth: u32) -> u64 {
    (1u64 << (depth + 1)) - 1
}

/// The checksum every implementation must return for `stretch`.
pub fn expected_checksum(stretch: u32) -> u64 {
    let s = Sizes::new(stretch);
    let mut sum = tree_size(s.stretch) + 2 * tree_size(s.long_lived) + 1;
    for (d, iters) in s.schedule() {
        sum += 2 * iters * tree_size(d);
    }
    sum
}

fn array_value(i: usize) -> f64 {
    if i < ARRAY_SIZE / 2 {
        1.0 / i as f64
    } else {
        0.0
    }
}

fn array_check(a1000: f64) -> u64 {
    assert_eq!(a1000, 1.0 / 1000.0, "the long-lived array was corrupted");
    (a1000 * 1000.0).round() as u64
}

/// Runs GCBench at `stretch` with `imp`; asserts the checksum.
pub fn run(imp: Impl, stretch: u32) -> Outcome {
    let s = Sizes::new(stretch);
    let outcome = match imp {
        Impl::GcCore => gc_core(s, HeapConfig::default()),
        Impl::Bumpalo => Outcome::checksum(bump_impl::run(s)),
        Impl::Box => Outcome::checksum(box_impl::run(s)),
        Impl::Rc => Outcome::checksum(rc_impl::run(s)),
        Impl::Dumpster => Outcome::checksum(dumpster_impl::run(s)),
        Impl::BoaGc => Outcome::checksum(boa_impl::run(s)),
        Impl::GcArena => Outcome::checksum(gc_arena_impl::run(s)),
        Impl::RustGc => Outcome::checksum(rust_gc_impl::run(s)),
    };
    assert_eq!(outcome.checksum, expected_checksum(stretch), "{imp}: wrong checksum");
    outcome
}

#[derive(Trace)]
struct Node<'gc> {
    left: Lock<Option<Gc<'gc, Node<'gc>>>>,
    right: Lock<Option<Gc<'gc, Node<'gc>>>>,
    i: i32,
    j: i32,
}

impl<'gc> Node<'gc> {
    fn leaf(mc: &Mutation<'gc>) -> Gc<'gc, Node<'gc>> {
        Gc::new(mc, Node { left: Lock::new(None), right: Lock::new(None), i: 0, j: 0 })
    }
}

/// Top-down: gives `node` children, then populates them. Returns the nodes allocated.
fn populate<'gc>(mc: &Mutation<'gc>, depth: u32, node: Gc<'gc, Node<'gc>>) -> u64 {
    if depth == 0 {
        return 0;
    }
    let (left, right) = (Node::leaf(mc), Node::leaf(mc));
    let w = Gc::write(mc, node);
    field!(w, Node, left).set(Some(left));
    field!(w, Node, right).set(Some(right));
    2 + populate(mc, depth - 1, left) + populate(mc, depth - 1, right)
}

/// Bottom-up. Returns the tree and the nodes allocated.
fn make_tree<'gc>(mc: &Mutation<'gc>, depth: u32) -> (Gc<'gc, Node<'gc>>, u64) {
    if depth == 0 {
        (Node::leaf(mc), 1)
    } else {
        let (l, nl) = make_tree(mc, depth - 1);
        let (r, nr) = make_tree(mc, depth - 1);
        let node =
            Gc::new(mc, Node { left: Lock::new(Some(l)), right: Lock::new(Some(r)), i: 0, j: 0 });
        (node, 1 + nl + nr)
    }
}

fn walk(node: &Node<'_>) -> u64 {
    1 + match (node.left.get(), node.right.get()) {
        (Some(l), Some(r)) => walk(&l) + walk(&r),
        _ => 0,
    }
}

#[derive(Trace)]
struct Root<'gc> {
    long_lived: Option<Gc<'gc, Node<'gc>>>,
    array: Option<Gc<'gc, [f64]>>,
}

fn gc_core(s: Sizes, config: HeapConfig) -> Outcome {
    let mut pauses = Pauses::default();
    let mut arena =
        Arena::<Rootable![Root<'_>]>::new(config, |_| Root { long_lived: None, array: None });
    let mut sum = arena.mutate(|mc, _| make_tree(mc, s.stretch).1);
    pauses.safepoint(&mut arena);
    sum += arena.mutate_root(|mc, root| {
        let tree = Node::leaf(mc);
        root.long_lived = Some(tree);
        1 + populate(mc, s.long_lived, tree)
    });
    pauses.safepoint(&mut arena);
    arena.mutate_root(|mc, root| {
        root.array = Some(mc.alloc_slice_fill_with(ARRAY_SIZE, array_value));
    });
    pauses.safepoint(&mut arena);
    for (depth, iters) in s.schedule() {
        for _ in 0..iters {
            sum += arena.mutate(|mc, _| {
                let tree = Node::leaf(mc);
                1 + populate(mc, depth, tree)
            });
            pauses.safepoint(&mut arena);
        }
        for _ in 0..iters {
            sum += arena.mutate(|mc, _| make_tree(mc, depth).1);
            pauses.safepoint(&mut arena);
        }
    }
    sum += arena
        .mutate(|_, root| walk(&root.long_lived.unwrap()) + array_check(root.array.unwrap()[1000]));
    Outcome { gc: Some((arena.stats(), pauses)), ..Outcome::checksum(sum) }
}

mod box_impl {
    use super::{array_check, array_value, Sizes, ARRAY_SIZE};

    #[derive(Default)]
    struct Node {
        left: Option<Box<Node>>,
        right: Option<Box<Node>>,
        _i: i32,
        _j: i32,
    }

    fn populate(depth: u32, node: &mut Node) -> u64 {
        if depth == 0 {
            return 0;
        }
        let left = node.left.insert(Box::default());
        let nl = populate(depth - 1, left);
        let right = node.right.insert(Box::default());
        2 + nl + populate(depth - 1, right)
    }

    fn make_tree(depth: u32) -> (Box<Node>, u64) {
        if depth == 0 {
            (Box::default(), 1)
        } else {
            let (l, nl) = make_tree(depth - 1);
            let (r, nr) = make_tree(depth - 1);
            (Box::new(Node { left: Some(l), right: Some(r), _i: 0, _j: 0 }), 1 + nl + nr)
        }
    }

    fn walk(node: &Node) -> u64 {
        1 + match (&node.left, &node.right) {
            (Some(l), Some(r)) => walk(l) + walk(r),
            _ => 0,
        }
    }

    pub(super) fn run(s: Sizes) -> u64 {
        let mut sum = make_tree(s.stretch).1;
        let mut long_lived = Box::<Node>::default();
        sum += 1 + populate(s.long_lived, &mut long_lived);
        let array: Box<[f64]> = (0..ARRAY_SIZE).map(array_value).collect();
        for (depth, iters) in s.schedule() {
            for _ in 0..iters {
                let mut tree = Box::<Node>::default();
                sum += 1 + populate(depth, &mut tree);
                std::hint::black_box(&tree);
            }
            for _ in 0..iters {
                let (tree, n) = make_tree(depth);
                sum += n;
                std::hint::black_box(&tree);
            }
        }
        sum + walk(&long_lived) + array_check(array[1000])
    }
}

mod bump_impl {
    use std::cell::Cell;

    use bumpalo::Bump;

    use super::{array_check, array_value, Sizes, ARRAY_SIZE};

    #[derive(Default)]
    struct Node<'b> {
        left: Cell<Option<&'b Node<'b>>>,
        right: Cell<Option<&'b Node<'b>>>,
        _i: i32,
        _j: i32,
    }

    fn populate<'b>(bump: &'b Bump, depth: u32, node: &'b Node<'b>) -> u64 {
        if depth == 0 {
            return 0;
        }
        let left = &*bump.alloc(Node::default());
        let right = &*bump.alloc(Node::default());
        node.left.set(Some(left));
        node.right.set(Some(right));
        2 + populate(bump, depth - 1, left) + populate(bump, depth - 1, right)
    }

    fn make_tree(bump: &Bump, depth: u32) -> (&Node<'_>, u64) {
        if depth == 0 {
            (bump.alloc(Node::default()), 1)
        } else {
            let (l, nl) = make_tree(bump, depth - 1);
            let (r, nr) = make_tree(bump, depth - 1);
            let node = bump.alloc(Node {
                left: Cell::new(Some(l)),
                right: Cell::new(Some(r)),
                _i: 0,
                _j: 0,
            });
            (node, 1 + nl + nr)
        }
    }

    fn walk(node: &Node<'_>) -> u64 {
        1 + match (node.left.get(), node.right.get()) {
            (Some(l), Some(r)) => walk(l) + walk(r),
            _ => 0,
        }
    }

    /// No node is freed; a temporary tree's arena is reset once the tree is dropped.
    pub(super) fn run(s: Sizes) -> u64 {
        let mut scratch = Bump::new();
        let mut sum = make_tree(&scratch, s.stretch).1;
        scratch.reset();
        let long_bump = Bump::new();
        let long_lived = &*long_bump.alloc(Node::default());
        sum += 1 + populate(&long_bump, s.long_lived, long_lived);
        let array = long_bump.alloc_slice_fill_with(ARRAY_SIZE, array_value);
        for (depth, iters) in s.schedule() {
            for _ in 0..iters {
                let tree = &*scratch.alloc(Node::default());
                sum += 1 + populate(&scratch, depth, tree);
                std::hint::black_box(tree);
                scratch.reset();
            }
            for _ in 0..iters {
                let (tree, n) = make_tree(&scratch, depth);
                sum += n;
                std::hint::black_box(tree);
                scratch.reset();
            }
        }
        sum + walk(long_lived) + array_check(array[1000])
    }
}

/// The peers whose nodes are `P<Node>` with interior-mutable child fields (`Rc<RefCell>`-style)
/// share one body, instantiated per pointer and cell type. (Each module declares its `Node`
/// itself: dumpster's derive does not work on a struct made by a `macro_rules!` macro.)
macro_rules! shared_node_impl {
    ($ptr:ident, $cell:ident) => {
        fn leaf() -> $ptr<Node> {
            $ptr::new(Node { left: $cell::new(None), right: $cell::new(None), _i: 0, _j: 0 })
        }

        fn populate(depth: u32, node: &Node) -> u64 {
            if depth == 0 {
                return 0;
            }
            let (left, right) = (leaf(), leaf());
            *node.left.borrow_mut() = Some(left.clone());
            *node.right.borrow_mut() = Some(right.clone());
            2 + populate(depth - 1, &left) + populate(depth - 1, &right)
        }

        fn make_tree(depth: u32) -> ($ptr<Node>, u64) {
            if depth == 0 {
                (leaf(), 1)
            } else {
                let (l, nl) = make_tree(depth - 1);
                let (r, nr) = make_tree(depth - 1);
                let node = $ptr::new(Node {
                    left: $cell::new(Some(l)),
                    right: $cell::new(Some(r)),
                    _i: 0,
                    _j: 0,
                });
                (node, 1 + nl + nr)
            }
        }

        fn walk(node: &Node) -> u64 {
            1 + match (&*node.left.borrow(), &*node.right.borrow()) {
                (Some(l), Some(r)) => walk(l) + walk(r),
                _ => 0,
            }
        }

        pub(super) fn run(s: Sizes) -> u64 {
            let mut sum = make_tree(s.stretch).1;
            let long_lived = leaf();
            sum += 1 + populate(s.long_lived, &long_lived);
            let array: Box<[f64]> = (0..ARRAY_SIZE).map(array_value).collect();
            for (depth, iters) in s.schedule() {
                for _ in 0..iters {
                    let tree = leaf();
                    sum += 1 + populate(depth, &tree);
                    std::hint::black_box(&tree);
                }
                for _ in 0..iters {
                    let (tree, n) = make_tree(depth);
                    sum += n;
                    std::hint::black_box(&tree);
                }
            }
            sum + walk(&long_lived) + array_check(array[1000])
        }
    };
}

mod rc_impl {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::{array_check, array_value, Sizes, ARRAY_SIZE};

    struct Node {
        left: RefCell<Option<Rc<Node>>>,
        right: RefCell<Option<Rc<Node>>>,
        _i: i32,
        _j: i32,
    }

    shared_node_impl!(Rc, RefCell);
}

mod dumpster_impl {
    use std::cell::RefCell;

    use dumpster::unsync::Gc;
    use dumpster::Trace;

    use super::{array_check, array_value, Sizes, ARRAY_SIZE};

    #[derive(Trace)]
    struct Node {
        left: RefCell<Option<Gc<Node>>>,
        right: RefCell<Option<Gc<Node>>>,
        _i: i32,
        _j: i32,
    }

    shared_node_impl!(Gc, RefCell);
}

mod boa_impl {
    use boa_gc::{Finalize, Gc, GcRefCell, Trace};

    use super::{array_check, array_value, Sizes, ARRAY_SIZE};

    #[derive(Trace, Finalize)]
    struct Node {
        left: GcRefCell<Option<Gc<Node>>>,
        right: GcRefCell<Option<Gc<Node>>>,
        _i: i32,
        _j: i32,
    }

    shared_node_impl!(Gc, GcRefCell);
}

// rust-gc's derive (gc_derive 0.5) puts its impls in an anonymous constant.
#[allow(non_local_definitions)]
mod rust_gc_impl {
    use gc::{Finalize, Gc, GcCell, Trace};

    use super::{array_check, array_value, Sizes, ARRAY_SIZE};

    #[derive(Trace, Finalize)]
    struct Node {
        left: GcCell<Option<Gc<Node>>>,
        right: GcCell<Option<Gc<Node>>>,
        _i: i32,
        _j: i32,
    }

    shared_node_impl!(Gc, GcCell);
}

mod gc_arena_impl {
    use gc_arena::barrier::unlock;
    use gc_arena::{Arena, Collect, Gc, Lock, Mutation, Rootable};

    use super::{array_check, array_value, Sizes, ARRAY_SIZE};
    use crate::common::gc_arena_collect;

    #[derive(Collect)]
    #[collect(no_drop)]
    struct Node<'gc> {
        left: Lock<Option<Gc<'gc, Node<'gc>>>>,
        right: Lock<Option<Gc<'gc, Node<'gc>>>>,
        _i: i32,
        _j: i32,
    }

    fn leaf<'gc>(mc: &Mutation<'gc>) -> Gc<'gc, Node<'gc>> {
        Gc::new(mc, Node { left: Lock::new(None), right: Lock::new(None), _i: 0, _j: 0 })
    }

    fn populate<'gc>(mc: &Mutation<'gc>, depth: u32, node: Gc<'gc, Node<'gc>>) -> u64 {
        if depth == 0 {
            return 0;
        }
        let (left, right) = (leaf(mc), leaf(mc));
        let w = Gc::write(mc, node);
        unlock!(w, Node, left).set(Some(left));
        unlock!(w, Node, right).set(Some(right));
        2 + populate(mc, depth - 1, left) + populate(mc, depth - 1, right)
    }

    fn make_tree<'gc>(mc: &Mutation<'gc>, depth: u32) -> (Gc<'gc, Node<'gc>>, u64) {
        if depth == 0 {
            (leaf(mc), 1)
        } else {
            let (l, nl) = make_tree(mc, depth - 1);
            let (r, nr) = make_tree(mc, depth - 1);
            let node = Gc::new(
                mc,
                Node { left: Lock::new(Some(l)), right: Lock::new(Some(r)), _i: 0, _j: 0 },
            );
            (node, 1 + nl + nr)
        }
    }

    fn walk(node: &Node<'_>) -> u64 {
        1 + match (node.left.get(), node.right.get()) {
            (Some(l), Some(r)) => walk(&l) + walk(&r),
            _ => 0,
        }
    }

    #[derive(Collect)]
    #[collect(no_drop)]
    struct Root<'gc> {
        long_lived: Option<Gc<'gc, Node<'gc>>>,
        array: Option<Gc<'gc, Box<[f64]>>>,
    }

    pub(super) fn run(s: Sizes) -> u64 {
        let mut arena =
            Arena::<Rootable![Root<'_>]>::new(|_| Root { long_lived: None, array: None });
        let mut sum = arena.mutate(|mc, _| make_tree(mc, s.stretch).1);
        gc_arena_collect(&mut arena);
        sum += arena.mutate_root(|mc, root| {
            let tree = leaf(mc);
            root.long_lived = Some(tree);
            1 + populate(mc, s.long_lived, tree)
        });
        gc_arena_collect(&mut arena);
        arena.mutate_root(|mc, root| {
            root.array = Some(Gc::new(mc, (0..ARRAY_SIZE).map(array_value).collect()));
        });
        gc_arena_collect(&mut arena);
        for (depth, iters) in s.schedule() {
            for _ in 0..iters {
                sum += arena.mutate(|mc, _| 1 + populate(mc, depth, leaf(mc)));
                gc_arena_collect(&mut arena);
            }
            for _ in 0..iters {
                sum += arena.mutate(|mc, _| make_tree(mc, depth).1);
                gc_arena_collect(&mut arena);
            }
        }
        sum + arena.mutate(|_, root| {
            walk(&root.long_lived.unwrap()) + array_check(root.array.unwrap()[1000])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_implementation_agrees() {
        for imp in Impl::ALL {
            run(imp, 10);
        }
    }
}
