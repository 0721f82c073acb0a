//! NUMA: topology, placement and migration of memory. (Being written.)
