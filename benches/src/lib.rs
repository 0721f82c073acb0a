//! Workloads shared by the criterion benches and the `workloads` binary (which the comparison
//! runner spawns, one process per run). Each workload is implemented for gc-core and for its
//! peers ([`common::Impl`]): `gc-arena`, `gc` (rust-gc), `dumpster`, `boa_gc`, `Rc`, `Box` and
//! `bumpalo`. Every implementation returns the same checksum, which the callers assert, so that
//! each provably does the same work.

pub mod alloc;
pub mod binary_trees;
pub mod churn;
pub mod common;
pub mod cycles;
pub mod frag;
pub mod gcbench;
pub mod vm;
