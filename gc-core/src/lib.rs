#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

// Lets the derive's `::gc_core::` paths resolve inside this crate's own tests and docs.
extern crate self as gc_core;

mod arena;
mod barrier;
mod cell;
mod collector;
mod config;
mod debug;
mod finalize;
mod gc;
mod handle;
mod heap;
mod identity;
mod mutation;
mod pin;
mod raw;
mod space;
mod stats;
mod sync;
mod sys;
mod tables;
mod trace;
mod trace_impls;
mod weak;

pub use arena::{Arena, ArenaError, Root, Rootable};
pub use barrier::Write;
pub use cell::{Lock, RefLock};
pub use collector::CollectionKind;
pub use config::{ConfigError, HeapConfig, HeapConfigBuilder, NumaPolicy};
pub use debug::census::Census;
pub use debug::graph::{EdgeKind, GraphEdge, GraphObject, GraphRoot, HeapGraph, RootKind, Space};
#[cfg(feature = "leak-debug")]
pub use debug::leak::*;
pub use debug::verify::VerifyError;
pub use finalize::FinalizationRegistry;
pub use gc::Gc;
pub use gc_derive::{Rootable, Trace};
pub use handle::Handle;
pub use heap::AllocError;
pub use mutation::Mutation;
pub use pin::Pinned;
pub use raw::GcObject;
pub use stats::{NodeStats, NumaStats, PauseStats, Stats};
pub use sys::memory_usage;
pub use sys::numa;
pub use tables::{EphemeronTable, WeakValueTable};
pub use trace::{Label, Trace, Tracer, UncheckedDrop};
pub use weak::GcWeak;

#[doc(hidden)]
pub use arena::__DynRootable;
#[doc(hidden)]
pub use raw::TypeInfo;

/// Maps `bytes` of old-generation blocks of `config`'s block size on the calling thread's node
/// (by `config`'s NUMA policy), faults them in, and files them in the process's block pool, so
/// that arenas allocate from ready memory (preallocation; the retention cap is raised to keep
/// them).
pub fn reserve(config: &HeapConfig, bytes: usize) -> std::io::Result<()> {
    let mut placer =
        space::placement::Placer::new(config.numa, config.topology.as_ref().map(|t| t.0.clone()));
    space::old_gen::reserve(config.block_size, config.huge_pages, bytes, &mut placer)
}

/// Fault injection for tests. Not part of the API.
#[doc(hidden)]
pub mod __testing {
    pub use crate::sys::fail_next_maps;
}

/// Items the derive's expansion refers to. Not part of the API.
#[doc(hidden)]
pub mod __private {
    /// Implemented for every type with a `Drop` impl. The derive implements it for the traced
    /// type as well, so that a `Drop` impl on a traced type is a conflicting-implementations
    /// error unless the type opts out with `#[trace(unsafe_drop)]`.
    pub trait MustNotImplDrop {}

    #[allow(drop_bounds)]
    impl<T: Drop + ?Sized> MustNotImplDrop for T {}

    /// Compiles only for `'static` types: fields marked `#[trace(skip)]` must hold no `Gc`.
    #[inline(always)]
    pub fn assert_static<T: ?Sized + 'static>() {}

    /// Compiles only for types that implement the unsafe trait `UncheckedDrop`: the promise
    /// behind `#[trace(unsafe_drop)]`.
    #[inline(always)]
    pub fn assert_unchecked_drop<T: ?Sized + crate::UncheckedDrop>() {}
}

/// The workspace README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct WorkspaceReadme;
