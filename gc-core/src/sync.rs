//! The synchronisation primitives of the few structures shared between threads (the block
//! pool), from `std`, or from `loom` when model checking (`--cfg gc_loom`).

#[cfg(gc_loom)]
pub(crate) use loom::sync::{atomic::AtomicUsize, atomic::Ordering, Mutex};
#[cfg(not(gc_loom))]
pub(crate) use std::sync::{atomic::AtomicUsize, atomic::Ordering, Mutex};
