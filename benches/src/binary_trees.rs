//! binary-trees, as the Benchmarks Game defines it: a stretch tree of depth `max + 1`, a
//! long-lived tree of depth `max`, then for every even depth `d` from 4 to `max`,
//! `2^(max - d + 4)` trees of depth `d`, each built bottom-up and walked. The checksum is the
//! sum of the node counts walked, which the program's reference output prints line by line.

use gc_core::{Arena, Gc, HeapConfig, Mutation, Rootable, Trace};

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
    let max_depth = max_depth.max(MIN_DEPTH + 2);
    let mut arena = Arena::<Rootable![Option<Gc<'_, Node<'_>>>]>::new(config, |_| None);
    let mut sum = arena.mutate(|mc, _| check(&bottom_up(mc, max_depth + 1)));
    arena.collect_if_due();
    arena.mutate_root(|mc, long_lived| *long_lived = Some(bottom_up(mc, max_depth)));
    arena.collect_if_due();
    for depth in (MIN_DEPTH..=max_depth).step_by(2) {
        let iterations = 1u64 << (max_depth - depth + MIN_DEPTH);
        for _ in 0..iterations {
            sum += arena.mutate(|mc, _| check(&bottom_up(mc, depth)));
            arena.collect_if_due();
        }
    }
    sum += arena.mutate(|_, long_lived| check(&long_lived.unwrap()));
    (sum, arena.stats())
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

/// binary-trees with `Box` (malloc), the baseline of the same run.
pub fn boxed(max_depth: u32) -> u64 {
    let max_depth = max_depth.max(MIN_DEPTH + 2);
    let mut sum = box_check(&box_bottom_up(max_depth + 1));
    let long_lived = box_bottom_up(max_depth);
    for depth in (MIN_DEPTH..=max_depth).step_by(2) {
        for _ in 0..1u64 << (max_depth - depth + MIN_DEPTH) {
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

/// binary-trees with bumpalo: every tree in one arena that is never freed, the upper bound on
/// allocation speed (and the lower bound on nothing else: it keeps everything).
pub fn bumpalo(max_depth: u32) -> u64 {
    let max_depth = max_depth.max(MIN_DEPTH + 2);
    let bump = bumpalo::Bump::new();
    let mut sum = bump_check(bump_bottom_up(&bump, max_depth + 1));
    let long_lived = bump_bottom_up(&bump, max_depth);
    for depth in (MIN_DEPTH..=max_depth).step_by(2) {
        for _ in 0..1u64 << (max_depth - depth + MIN_DEPTH) {
            sum += bump_check(bump_bottom_up(&bump, depth));
        }
    }
    sum + bump_check(long_lived)
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
