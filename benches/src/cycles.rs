//! cycles: `n` nodes in doubly-linked rings of 1024 (each node points at its successor and its
//! predecessor, strongly, the last back at the first), each ring built, walked once forwards
//! and once backwards, then dropped. The checksum is the sum of the values walked.
//!
//! At the end each collector runs its own full collection and the run reports the nodes still
//! allocated: `Rc` leaks every ring (reference counts never reach zero in a cycle); `Box`
//! cannot express the cycle with ownership, so it links raw pointers and frees each ring
//! explicitly; bumpalo resets its arena after each ring. gc-core counts from its heap
//! statistics (bytes in the old generation, large space and nursery ÷ the node's 32 bytes),
//! gc-arena from its live `Gc` count; `Rc`, dumpster, boa_gc and rust-gc, which have no such
//! statistic, carry a zero-sized field whose constructor and destructor count live nodes (the
//! growth of malloc's bytes in use is no measure: dumpster, for one, keeps its bookkeeping's
//! capacity after freeing every node).

use gc_core::{field, Arena, CollectionKind, Gc, HeapConfig, Lock, Rootable, Trace};

use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

use crate::common::{Impl, Outcome, Pauses};

/// Nodes per ring.
pub const RING: u64 = 1024;

/// The checksum for `n` nodes (rounded down to whole rings).
pub fn expected_checksum(n: u64) -> u64 {
    let nodes = n / RING * RING;
    // Every value 0..nodes, walked twice.
    nodes * nodes.saturating_sub(1)
}

/// Live nodes of the peers that count them with [`Tracked`].
static LIVE_NODES: AtomicI64 = AtomicI64::new(0);

/// A zero-sized field that counts live nodes (single-threaded: a load and a store, no locked
/// instruction).
struct Tracked;

impl Tracked {
    #[inline(always)]
    fn new() -> Tracked {
        LIVE_NODES.store(LIVE_NODES.load(Relaxed) + 1, Relaxed);
        Tracked
    }
}

impl Drop for Tracked {
    #[inline(always)]
    fn drop(&mut self) {
        LIVE_NODES.store(LIVE_NODES.load(Relaxed) - 1, Relaxed);
    }
}

// SAFETY: `Tracked` holds no `Gc`.
unsafe impl<V: dumpster::Visitor> dumpster::TraceWith<V> for Tracked {
    fn accept(&self, _: &mut V) -> Result<(), ()> {
        Ok(())
    }
}

/// Runs cycles with `n` nodes on `imp`; asserts the checksum. `unreclaimed` is the number of
/// nodes still allocated after the final collection.
pub fn run(imp: Impl, n: u64) -> Outcome {
    let rings = n / RING;
    let live_before = LIVE_NODES.load(Relaxed);
    let mut outcome = match imp {
        Impl::GcCore => gc_core(rings, HeapConfig::default()),
        Impl::Bumpalo => Outcome::checksum(bump_impl::run(rings)),
        Impl::Box => Outcome::checksum(box_impl::run(rings)),
        Impl::Rc => Outcome::checksum(rc_impl::run(rings)),
        Impl::Dumpster => {
            let sum = dumpster_impl::run(rings);
            dumpster::unsync::collect();
            Outcome::checksum(sum)
        }
        Impl::BoaGc => {
            let sum = boa_impl::run(rings);
            boa_gc::force_collect();
            Outcome::checksum(sum)
        }
        Impl::RustGc => {
            let sum = rust_gc_impl::run(rings);
            gc::force_collect();
            Outcome::checksum(sum)
        }
        Impl::GcArena => gc_arena_impl::run(rings),
    };
    if outcome.unreclaimed.is_none() {
        outcome.unreclaimed = Some(match imp {
            Impl::Rc | Impl::Dumpster | Impl::BoaGc | Impl::RustGc => {
                LIVE_NODES.load(Relaxed) - live_before
            }
            // Freed explicitly, or their arena reset.
            _ => 0,
        });
    }
    assert_eq!(outcome.checksum, expected_checksum(n), "{imp}: wrong checksum");
    outcome
}

#[derive(Trace)]
struct Node<'gc> {
    value: u64,
    next: Lock<Option<Gc<'gc, Node<'gc>>>>,
    prev: Lock<Option<Gc<'gc, Node<'gc>>>>,
}

fn gc_core(rings: u64, config: HeapConfig) -> Outcome {
    let mut pauses = Pauses::default();
    let mut arena = Arena::<Rootable![()]>::new(config, |_| ());
    let mut sum = 0;
    for r in 0..rings {
        sum += arena.mutate(|mc, _| {
            let base = r * RING;
            let first =
                Gc::new(mc, Node { value: base, next: Lock::new(None), prev: Lock::new(None) });
            let mut last = first;
            for v in base + 1..base + RING {
                let node = Gc::new(
                    mc,
                    Node { value: v, next: Lock::new(None), prev: Lock::new(Some(last)) },
                );
                field!(Gc::write(mc, last), Node, next).set(Some(node));
                last = node;
            }
            field!(Gc::write(mc, last), Node, next).set(Some(first));
            field!(Gc::write(mc, first), Node, prev).set(Some(last));
            let (mut sum, mut at) = (0, first);
            for _ in 0..RING {
                sum += at.value;
                at = at.next.get().unwrap();
            }
            for _ in 0..RING {
                at = at.prev.get().unwrap();
                sum += at.value;
            }
            sum
        });
        pauses.safepoint(&mut arena);
    }
    pauses.collect(&mut arena, CollectionKind::Full);
    let stats = arena.stats();
    let bytes = stats.old_used + stats.large_bytes + stats.nursery_used;
    let unreclaimed = bytes.div_ceil(std::mem::size_of::<Node<'_>>() + 8) as i64;
    Outcome { unreclaimed: Some(unreclaimed), gc: Some((stats, pauses)), ..Outcome::checksum(sum) }
}

mod box_impl {
    use super::RING;

    struct Node {
        value: u64,
        next: *mut Node,
        prev: *mut Node,
    }

    /// Builds a ring of raw pointers, walks it, frees it node by node.
    pub(super) fn run(rings: u64) -> u64 {
        let mut sum = 0;
        for r in 0..rings {
            let base = r * RING;
            let new = |value, prev| {
                Box::into_raw(Box::new(Node { value, next: std::ptr::null_mut(), prev }))
            };
            let first = new(base, std::ptr::null_mut());
            let mut last = first;
            // SAFETY: every pointer dereferenced below came from `Box::into_raw` in this ring
            // and is freed only in the last loop, after which none is used.
            unsafe {
                for v in base + 1..base + RING {
                    let node = new(v, last);
                    (*last).next = node;
                    last = node;
                }
                (*last).next = first;
                (*first).prev = last;
                let mut at = first;
                for _ in 0..RING {
                    sum += (*at).value;
                    at = (*at).next;
                }
                for _ in 0..RING {
                    at = (*at).prev;
                    sum += (*at).value;
                }
                let mut at = first;
                for _ in 0..RING {
                    let next = (*at).next;
                    drop(Box::from_raw(at));
                    at = next;
                }
            }
        }
        sum
    }
}

mod bump_impl {
    use std::cell::Cell;

    use super::RING;

    struct Node<'b> {
        value: u64,
        next: Cell<Option<&'b Node<'b>>>,
        prev: Cell<Option<&'b Node<'b>>>,
    }

    pub(super) fn run(rings: u64) -> u64 {
        let mut bump = bumpalo::Bump::new();
        let mut sum = 0;
        for r in 0..rings {
            let base = r * RING;
            let first =
                &*bump.alloc(Node { value: base, next: Cell::new(None), prev: Cell::new(None) });
            let mut last = first;
            for v in base + 1..base + RING {
                let node = &*bump.alloc(Node {
                    value: v,
                    next: Cell::new(None),
                    prev: Cell::new(Some(last)),
                });
                last.next.set(Some(node));
                last = node;
            }
            last.next.set(Some(first));
            first.prev.set(Some(last));
            let mut at = first;
            for _ in 0..RING {
                sum += at.value;
                at = at.next.get().unwrap();
            }
            for _ in 0..RING {
                at = at.prev.get().unwrap();
                sum += at.value;
            }
            bump.reset();
        }
        sum
    }
}

/// The peers whose nodes are `P<Node>` with interior-mutable links share one body. (Each module
/// declares its `Node` itself: dumpster's derive does not work on a struct made by a
/// `macro_rules!` macro.)
macro_rules! shared_ring_impl {
    ($ptr:ident, $cell:ident) => {
        pub(super) fn run(rings: u64) -> u64 {
            let mut sum = 0;
            for r in 0..rings {
                let base = r * RING;
                let first = $ptr::new(Node {
                    _tracked: Tracked::new(),
                    value: base,
                    next: $cell::new(None),
                    prev: $cell::new(None),
                });
                let mut last = first.clone();
                for v in base + 1..base + RING {
                    let node = $ptr::new(Node {
                        _tracked: Tracked::new(),
                        value: v,
                        next: $cell::new(None),
                        prev: $cell::new(Some(last.clone())),
                    });
                    *last.next.borrow_mut() = Some(node.clone());
                    last = node;
                }
                *last.next.borrow_mut() = Some(first.clone());
                *first.prev.borrow_mut() = Some(last.clone());
                drop(last);
                let mut at = first;
                for _ in 0..RING {
                    sum += at.value;
                    let next = at.next.borrow().clone().unwrap();
                    at = next;
                }
                for _ in 0..RING {
                    let prev = at.prev.borrow().clone().unwrap();
                    at = prev;
                    sum += at.value;
                }
            }
            sum
        }
    };
}

mod rc_impl {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::{Tracked, RING};

    struct Node {
        _tracked: Tracked,
        value: u64,
        next: RefCell<Option<Rc<Node>>>,
        prev: RefCell<Option<Rc<Node>>>,
    }

    shared_ring_impl!(Rc, RefCell);
}

mod dumpster_impl {
    use std::cell::RefCell;

    use dumpster::unsync::Gc;
    use dumpster::Trace;

    use super::{Tracked, RING};

    #[derive(Trace)]
    struct Node {
        _tracked: Tracked,
        value: u64,
        next: RefCell<Option<Gc<Node>>>,
        prev: RefCell<Option<Gc<Node>>>,
    }

    shared_ring_impl!(Gc, RefCell);
}

mod boa_impl {
    use boa_gc::{Finalize, Gc, GcRefCell, Trace};

    use super::{Tracked, RING};

    #[derive(Trace, Finalize)]
    struct Node {
        #[unsafe_ignore_trace]
        _tracked: Tracked,
        value: u64,
        next: GcRefCell<Option<Gc<Node>>>,
        prev: GcRefCell<Option<Gc<Node>>>,
    }

    shared_ring_impl!(Gc, GcRefCell);
}

// rust-gc's derive (gc_derive 0.5) puts its impls in an anonymous constant.
#[allow(non_local_definitions)]
mod rust_gc_impl {
    use gc::{Finalize, Gc, GcCell, Trace};

    use super::{Tracked, RING};

    #[derive(Trace, Finalize)]
    struct Node {
        #[unsafe_ignore_trace]
        _tracked: Tracked,
        value: u64,
        next: GcCell<Option<Gc<Node>>>,
        prev: GcCell<Option<Gc<Node>>>,
    }

    shared_ring_impl!(Gc, GcCell);
}

mod gc_arena_impl {
    use gc_arena::barrier::unlock;
    use gc_arena::{Arena, Collect, Gc, Lock, Rootable};

    use super::RING;
    use crate::common::{gc_arena_collect, Outcome};

    #[derive(Collect)]
    #[collect(no_drop)]
    struct Node<'gc> {
        value: u64,
        next: Lock<Option<Gc<'gc, Node<'gc>>>>,
        prev: Lock<Option<Gc<'gc, Node<'gc>>>>,
    }

    /// Counts the unreclaimed nodes before the arena is dropped.
    pub(super) fn run(rings: u64) -> Outcome {
        let mut arena = Arena::<Rootable![()]>::new(|_| ());
        let mut sum = 0;
        for r in 0..rings {
            sum += arena.mutate(|mc, _| {
                let base = r * RING;
                let first =
                    Gc::new(mc, Node { value: base, next: Lock::new(None), prev: Lock::new(None) });
                let mut last = first;
                for v in base + 1..base + RING {
                    let node = Gc::new(
                        mc,
                        Node { value: v, next: Lock::new(None), prev: Lock::new(Some(last)) },
                    );
                    unlock!(Gc::write(mc, last), Node, next).set(Some(node));
                    last = node;
                }
                unlock!(Gc::write(mc, last), Node, next).set(Some(first));
                unlock!(Gc::write(mc, first), Node, prev).set(Some(last));
                let (mut sum, mut at) = (0, first);
                for _ in 0..RING {
                    sum += at.value;
                    at = at.next.get().unwrap();
                }
                for _ in 0..RING {
                    at = at.prev.get().unwrap();
                    sum += at.value;
                }
                sum
            });
            gc_arena_collect(&mut arena);
        }
        arena.finish_cycle();
        let unreclaimed = arena.metrics().total_gc_count() as i64;
        Outcome { unreclaimed: Some(unreclaimed), ..Outcome::checksum(sum) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_implementation_agrees() {
        for imp in Impl::ALL {
            let outcome = run(imp, 16 * RING);
            let leaked = if imp == Impl::Rc { 16 * RING as i64 } else { 0 };
            assert_eq!(outcome.unreclaimed, Some(leaked), "{imp}: {outcome:?}");
        }
    }
}
