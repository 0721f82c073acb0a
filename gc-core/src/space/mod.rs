//! The spaces objects live in: the nursery, the old generation's blocks, large objects.

pub(crate) mod block;
pub(crate) mod los;
pub(crate) mod nursery;
pub(crate) mod old_gen;
pub(crate) mod placement;
pub(crate) mod pool;
