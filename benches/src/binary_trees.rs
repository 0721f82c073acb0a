//! binary-trees, as the Benchmarks Game defines it: a stretch tree of depth `max + 1`, a
//! long-lived tree of depth `max`, then for every even depth `d` from 4 to `max`,
//! `2^(max - d + 4)` trees of depth `d`, each built bottom-up and walked. The checksum is the
//! sum of the node counts walked, which the program's reference output prints line by line.
//!
//! Nodes are immutable (two child pointers, no payload) in every implementation.

use gc_core::{Arena, Gc, HeapConfig, Mutation, Rootable, Trace};

use crate::common::{gc_arena_collect, Impl, Outcome, Pauses};

const MIN_DEPTH: u32 = 4;

/// Node counts of every line of the reference output, summed.
pub fn expected_checksum(max_depth: u32) -> u64 {
    let max_depth = max_depth.max(MIN_DEPTH + 2);
    let nodes = |d: u32| (1u64 << (d + 1)) - 1;
    let mut sum = nodes(max_depth + 1) + nodes(max_depth);
    for d in (MIN_DEPTH..=max_depth).step_by(2) {
        sum += (1u64 << (max_depth - d + MIN_DEPTH)) * nodes(d);
    }
    sum
}

/// The depths of the iterated trees and how many trees of each.
fn schedule(max_depth: u32) -> impl Iterator<Item = (u32, u64)> {
    (MIN_DEPTH..=max_depth).step_by(2).map(move |d| (d, 1u64 << (max_depth - d + MIN_DEPTH)))
}

/// Runs binary-trees at `max_depth` with `imp`; asserts the checksum.
pub fn run(imp: Impl, max_depth: u32) -> Outcome {
    let outcome = match imp {
        Impl::GcCore => {
            let (sum, stats, pauses) = gc_core_pauses(max_depth, HeapConfig::default());
            Outcome { gc: Some((stats, pauses)), ..Outcome::checksum(sum) }
        }
        Impl::Bumpalo => Outcome::checksum(bumpalo(max_depth)),
        Impl::Box => Outcome::checksum(boxed(max_depth)),
        Impl::Rc => Outcome::checksum(rc(max_depth)),
        Impl::Dumpster => Outcome::checksum(dumpster(max_depth)),
        Impl::BoaGc => Outcome::checksum(boa_gc(max_depth)),
        Impl::GcArena => Outcome::checksum(gc_arena(max_depth)),
        Impl::RustGc => Outcome::checksum(rust_gc(max_depth)),
    };
    assert_eq!(outcome.checksum, expected_checksum(max_depth), "{imp}: wrong checksum");
    outcome
}

#[derive(Trace)]
struct Node<'gc> {
    left: Option<Gc<'gc, Node<'gc>>>,
    right: Option<Gc<'gc, Node<'gc>>>,
}

fn bottom_up<'gc>(mc: &Mutation<'gc>, depth: u32) -> Gc<'gc, Node<'gc>> {
    if depth == 0 {
        Gc::new(mc, Node { left: None, right: None })
    } else {
        let left = bottom_up(mc, depth - 1);
        let right = bottom_up(mc, depth - 1);
        Gc::new(mc, Node { left: Some(left), right: Some(right) })
    }
}

fn check(node: &Node<'_>) -> u64 {
    1 + match (node.left, node.right) {
        (Some(l), Some(r)) => check(&l) + check(&r),
        _ => 0,
    }
}

/// binary-trees on gc-core: each tree is built and walked in one `mutate` call, and the
/// arena collects between calls (`collect_if_due`), as the API intends.
pub fn gc_core(max_depth: u32, config: HeapConfig) -> (u64, gc_core::Stats) {
    let (sum, stats, _) = gc_core_pauses(max_depth, config);
    (sum, stats)
}

/// As [`gc_core`], with every pause.
pub fn gc_core_pauses(max_depth: u32, config: HeapConfig) -> (u64, gc_core::Stats, Pauses) {
    let max_depth = max_depth.max(MIN_DEPTH + 2);
    let mut pauses = Pauses::default();
    let mut arena = Arena::<Rootable![Option<Gc<'_, Node<'_>>>]>::new(config, |_| None);
    let mut sum = arena.mutate(|mc, _| check(&bottom_up(mc, max_depth + 1)));
    pauses.safepoint(&mut arena);
    arena.mutate_root(|mc, long_lived| *long_lived = Some(bottom_up(mc, max_depth)));
    pauses.safepoint(&mut arena);
    for (depth, iterations) in schedule(max_depth) {
        for _ in 0..iterations {
            sum += arena.mutate(|mc, _| check(&bottom_up(mc, depth)));
            pauses.safepoint(&mut arena);
        }
    }
    sum += arena.mutate(|_, long_lived| check(&long_lived.unwrap()));
    (sum, arena.stats(), pauses)
}

struct BoxNode {
    left: Option<Box<BoxNode>>,
    right: Option<Box<BoxNode>>,
}

fn box_bottom_up(depth: u32) -> Box<BoxNode> {
    if depth == 0 {
        Box::new(BoxNode { left: None, right: None })
    } else {
        Box::new(BoxNode {
            left: Some(box_bottom_up(depth - 1)),
            right: Some(box_bottom_up(depth - 1)),
        })
    }
}

fn box_check(node: &BoxNode) -> u64 {
    1 + match (&node.left, &node.right) {
        (Some(l), Some(r)) => box_check(l) + box_check(r),
        _ => 0,
    }
}

/// binary-trees with `Box` (malloc).
pub fn boxed(max_depth: u32) -> u64 {
    let max_depth = max_depth.max(MIN_DEPTH + 2);
    let mut sum = box_check(&box_bottom_up(max_depth + 1));
    let long_lived = box_bottom_up(max_depth);
    for (depth, iterations) in schedule(max_depth) {
        for _ in 0..iterations {
            sum += box_check(&box_bottom_up(depth));
        }
    }
    sum + box_check(&long_lived)
}

struct BumpNode<'b> {
    left: Option<&'b BumpNode<'b>>,
    right: Option<&'b BumpNode<'b>>,
}

fn bump_bottom_up(bump: &bumpalo::Bump, depth: u32) -> &BumpNode<'_> {
    if depth == 0 {
        bump.alloc(BumpNode { left: None, right: None })
    } else {
        let left = bump_bottom_up(bump, depth - 1);
        let right = bump_bottom_up(bump, depth - 1);
        bump.alloc(BumpNode { left: Some(left), right: Some(right) })
    }
}

fn bump_check(node: &BumpNode<'_>) -> u64 {
    1 + match (node.left, node.right) {
        (Some(l), Some(r)) => bump_check(l) + bump_check(r),
        _ => 0,
    }
}

/// binary-trees with bumpalo: no node is ever freed; the arena of a temporary tree is reset
/// (its memory reused) once the tree is walked, as the Benchmarks Game's arena programs do. The
/// upper bound on allocation speed.
pub fn bumpalo(max_depth: u32) -> u64 {
    let max_depth = max_depth.max(MIN_DEPTH + 2);
    let mut scratch = bumpalo::Bump::new();
    let mut sum = bump_check(bump_bottom_up(&scratch, max_depth + 1));
    scratch.reset();
    let long_bump = bumpalo::Bump::new();
    let long_lived = bump_bottom_up(&long_bump, max_depth);
    for (depth, iterations) in schedule(max_depth) {
        for _ in 0..iterations {
            sum += bump_check(bump_bottom_up(&scratch, depth));
            scratch.reset();
        }
    }
    sum + bump_check(long_lived)
}

mod rc_impl {
    use std::rc::Rc;

    pub(super) struct Node {
        left: Option<Rc<Node>>,
        right: Option<Rc<Node>>,
    }

    pub(super) fn bottom_up(depth: u32) -> Rc<Node> {
        if depth == 0 {
            Rc::new(Node { left: None, right: None })
        } else {
            Rc::new(Node { left: Some(bottom_up(depth - 1)), right: Some(bottom_up(depth - 1)) })
        }
    }

    pub(super) fn check(node: &Node) -> u64 {
        1 + match (&node.left, &node.right) {
            (Some(l), Some(r)) => check(l) + check(r),
            _ => 0,
        }
    }
}

/// binary-trees with `Rc`.
pub fn rc(max_depth: u32) -> u64 {
    use rc_impl::{bottom_up, check};
    let max_depth = max_depth.max(MIN_DEPTH + 2);
    let mut sum = check(&bottom_up(max_depth + 1));
    let long_lived = bottom_up(max_depth);
    for (depth, iterations) in schedule(max_depth) {
        for _ in 0..iterations {
            sum += check(&bottom_up(depth));
        }
    }
    sum + check(&long_lived)
}

mod dumpster_impl {
    use dumpster::unsync::Gc;
    use dumpster::Trace;

    #[derive(Trace)]
    pub(super) struct Node {
        left: Option<Gc<Node>>,
        right: Option<Gc<Node>>,
    }

    pub(super) fn bottom_up(depth: u32) -> Gc<Node> {
        if depth == 0 {
            Gc::new(Node { left: None, right: None })
        } else {
            Gc::new(Node { left: Some(bottom_up(depth - 1)), right: Some(bottom_up(depth - 1)) })
        }
    }

    pub(super) fn check(node: &Node) -> u64 {
        1 + match (&node.left, &node.right) {
            (Some(l), Some(r)) => check(l) + check(r),
            _ => 0,
        }
    }
}

/// binary-trees with dumpster's `unsync::Gc` (collections as its default condition decides).
pub fn dumpster(max_depth: u32) -> u64 {
    use dumpster_impl::{bottom_up, check};
    let max_depth = max_depth.max(MIN_DEPTH + 2);
    let mut sum = check(&bottom_up(max_depth + 1));
    let long_lived = bottom_up(max_depth);
    for (depth, iterations) in schedule(max_depth) {
        for _ in 0..iterations {
            sum += check(&bottom_up(depth));
        }
    }
    sum + check(&long_lived)
}

mod boa_impl {
    use boa_gc::{Finalize, Gc, Trace};

    #[derive(Trace, Finalize)]
    pub(super) struct Node {
        left: Option<Gc<Node>>,
        right: Option<Gc<Node>>,
    }

    pub(super) fn bottom_up(depth: u32) -> Gc<Node> {
        if depth == 0 {
            Gc::new(Node { left: None, right: None })
        } else {
            Gc::new(Node { left: Some(bottom_up(depth - 1)), right: Some(bottom_up(depth - 1)) })
        }
    }

    pub(super) fn check(node: &Node) -> u64 {
        1 + match (&node.left, &node.right) {
            (Some(l), Some(r)) => check(l) + check(r),
            _ => 0,
        }
    }
}

/// binary-trees with boa_gc (collections triggered by its allocation threshold).
pub fn boa_gc(max_depth: u32) -> u64 {
    use boa_impl::{bottom_up, check};
    let max_depth = max_depth.max(MIN_DEPTH + 2);
    let mut sum = check(&bottom_up(max_depth + 1));
    let long_lived = bottom_up(max_depth);
    for (depth, iterations) in schedule(max_depth) {
        for _ in 0..iterations {
            sum += check(&bottom_up(depth));
        }
    }
    sum + check(&long_lived)
}

// rust-gc's derive (gc_derive 0.5) puts its impls in an anonymous constant.
#[allow(non_local_definitions)]
mod rust_gc_impl {
    use gc::{Finalize, Gc, Trace};

    #[derive(Trace, Finalize)]
    pub(super) struct Node {
        left: Option<Gc<Node>>,
        right: Option<Gc<Node>>,
    }

    pub(super) fn bottom_up(depth: u32) -> Gc<Node> {
        if depth == 0 {
            Gc::new(Node { left: None, right: None })
        } else {
            Gc::new(Node { left: Some(bottom_up(depth - 1)), right: Some(bottom_up(depth - 1)) })
        }
    }

    pub(super) fn check(node: &Node) -> u64 {
        1 + match (&node.left, &node.right) {
            (Some(l), Some(r)) => check(l) + check(r),
            _ => 0,
        }
    }
}

/// binary-trees with rust-gc (collections triggered by its allocation threshold).
pub fn rust_gc(max_depth: u32) -> u64 {
    use rust_gc_impl::{bottom_up, check};
    let max_depth = max_depth.max(MIN_DEPTH + 2);
    let mut sum = check(&bottom_up(max_depth + 1));
    let long_lived = bottom_up(max_depth);
    for (depth, iterations) in schedule(max_depth) {
        for _ in 0..iterations {
            sum += check(&bottom_up(depth));
        }
    }
    sum + check(&long_lived)
}

mod gc_arena_impl {
    use gc_arena::{Collect, Gc, Mutation};

    #[derive(Collect)]
    #[collect(no_drop)]
    pub(super) struct Node<'gc> {
        left: Option<Gc<'gc, Node<'gc>>>,
        right: Option<Gc<'gc, Node<'gc>>>,
    }

    pub(super) fn bottom_up<'gc>(mc: &Mutation<'gc>, depth: u32) -> Gc<'gc, Node<'gc>> {
        if depth == 0 {
            Gc::new(mc, Node { left: None, right: None })
        } else {
            let left = bottom_up(mc, depth - 1);
            let right = bottom_up(mc, depth - 1);
            Gc::new(mc, Node { left: Some(left), right: Some(right) })
        }
    }

    pub(super) fn check(node: &Node<'_>) -> u64 {
        1 + match (node.left, node.right) {
            (Some(l), Some(r)) => check(&l) + check(&r),
            _ => 0,
        }
    }
}

/// binary-trees with gc-arena: one tree per `mutate` call, the debt paid between calls.
pub fn gc_arena(max_depth: u32) -> u64 {
    use gc_arena::{Arena, Gc, Rootable};
    use gc_arena_impl::{bottom_up, check, Node};
    let max_depth = max_depth.max(MIN_DEPTH + 2);
    let mut arena = Arena::<Rootable![Option<Gc<'_, Node<'_>>>]>::new(|_| None);
    let mut sum = arena.mutate(|mc, _| check(&bottom_up(mc, max_depth + 1)));
    gc_arena_collect(&mut arena);
    arena.mutate_root(|mc, long_lived| *long_lived = Some(bottom_up(mc, max_depth)));
    gc_arena_collect(&mut arena);
    for (depth, iterations) in schedule(max_depth) {
        for _ in 0..iterations {
            sum += arena.mutate(|mc, _| check(&bottom_up(mc, depth)));
            gc_arena_collect(&mut arena);
        }
    }
    sum + arena.mutate(|_, long_lived| check(&long_lived.unwrap()))
}

/// Builds a long-lived tree of `depth` and runs `rounds` full collections over it: the
/// collector's marking and sliding speed on a heap that is all live. Returns the stats.
pub fn full_collections(depth: u32, rounds: u32, config: HeapConfig) -> gc_core::Stats {
    let mut arena = Arena::<Rootable![Option<Gc<'_, Node<'_>>>]>::new(config, |_| None);
    arena.mutate_root(|mc, root| *root = Some(bottom_up(mc, depth)));
    arena.collect_minor();
    for _ in 0..rounds {
        arena.collect_full();
    }
    assert_eq!(arena.mutate(|_, root| check(&root.unwrap())), (1u64 << (depth + 1)) - 1);
    arena.stats()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_implementation_agrees() {
        for imp in Impl::ALL {
            run(imp, 8);
        }
    }
}
