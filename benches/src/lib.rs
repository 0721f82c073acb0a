//! Workloads shared by the criterion benches and the `workloads` binary: each implemented for
//! gc-core and for a baseline in the same run (`Box`, bumpalo), each returning a checksum the
//! callers compare, so that every implementation provably does the same work.

pub mod alloc;
pub mod binary_trees;
