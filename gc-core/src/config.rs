//! Heap configuration, validated by a builder: an invalid configuration is a typed error.

use std::fmt;

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// The smallest allowed large-object threshold. Objects up to this size are always placed in
/// the nursery, which lets the allocation fast path skip the threshold check for them.
pub(crate) const MIN_LARGE_OBJECT_THRESHOLD: usize = 256;
const MIN_NURSERY: usize = 64 * KIB;
const MIN_BLOCK: usize = 4 * KIB;
const MAX_BLOCK: usize = 64 * MIB;
/// The largest nursery size and reservation: far beyond any address space, and small enough
/// that no address computation over the nursery (rounding to pages and huge pages, start plus
/// size, extension steps) can overflow.
const MAX_NURSERY: usize = isize::MAX as usize / 4;

/// Where an arena's memory goes on a NUMA machine (see the crate docs' NUMA section).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum NumaPolicy {
    /// The nursery on the node of the arena's thread (re-bound, its pages migrated, when a
    /// collection finds the thread on another node); old-generation blocks from the node of the
    /// promoting thread.
    #[default]
    Local,
    /// Nursery and blocks spread over all nodes.
    Interleave,
    /// Everything on one node.
    Fixed(u32),
    /// No placement requests.
    Off,
}

/// A [`Topology`](crate::numa::Topology) given in a configuration (a simulated one, in tests):
/// compared by identity.
#[derive(Clone)]
pub(crate) struct TopologyHandle(pub(crate) std::sync::Arc<dyn crate::numa::Topology>);

impl PartialEq for TopologyHandle {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for TopologyHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The configuration of an [`Arena`](crate::Arena). Build one with [`HeapConfig::builder`];
/// `HeapConfig::default()` is what the builder gives without changes.
///
/// Two environment variables switch the checking modes on for every arena of a process,
/// whatever its configuration says, so a whole test suite can run under them:
/// `GC_CORE_VERIFY=1` (the heap verifier) and `GC_CORE_STRESS=1` (stress mode);
/// `GC_CORE_PRETENURING=0` switches pretenuring off and `GC_CORE_HUGE_PAGES=1` asks for huge
/// pages for the old generation, to compare a program with and without them.
#[derive(Clone, Debug, PartialEq)]
pub struct HeapConfig {
    pub(crate) nursery_size: usize,
    pub(crate) nursery_reserve: usize,
    pub(crate) block_size: usize,
    pub(crate) large_object_threshold: usize,
    pub(crate) growth_factor: f64,
    pub(crate) min_full_heap: usize,
    pub(crate) max_heap: Option<usize>,
    pub(crate) near_limit: f64,
    pub(crate) verify: bool,
    pub(crate) stress: bool,
    pub(crate) leak_debug: bool,
    pub(crate) leak_watch_collections: u32,
    pub(crate) pretenuring: bool,
    pub(crate) pretenure_everything: bool,
    pub(crate) huge_pages: bool,
    pub(crate) numa: NumaPolicy,
    pub(crate) topology: Option<TopologyHandle>,
}

impl Default for HeapConfig {
    fn default() -> Self {
        HeapConfig {
            nursery_size: 4 * MIB,
            nursery_reserve: 64 << 30,
            block_size: 256 * KIB,
            large_object_threshold: 16 * KIB,
            growth_factor: 2.0,
            min_full_heap: 32 * MIB,
            max_heap: None,
            near_limit: 0.9,
            verify: false,
            stress: false,
            leak_debug: false,
            leak_watch_collections: 2,
            pretenuring: true,
            pretenure_everything: false,
            huge_pages: false,
            numa: NumaPolicy::Local,
            topology: None,
        }
    }
}

impl HeapConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> HeapConfigBuilder {
        HeapConfigBuilder { config: HeapConfig::default() }
    }

    /// Size of the nursery in bytes (default 4 MiB).
    pub fn nursery_size(&self) -> usize {
        self.nursery_size
    }
    /// Address space reserved for the nursery to grow into within one `mutate` call
    /// (default 64 GiB; only what is used is ever committed).
    pub fn nursery_reserve(&self) -> usize {
        self.nursery_reserve
    }
    /// Size of an old-generation block in bytes (default 256 KiB).
    pub fn block_size(&self) -> usize {
        self.block_size
    }
    /// Objects larger than this many bytes go to the large-object space (default 16 KiB).
    pub fn large_object_threshold(&self) -> usize {
        self.large_object_threshold
    }
    /// A full collection is due when the old generation exceeds this factor times the bytes
    /// live after the previous one (default 2.0).
    pub fn growth_factor(&self) -> f64 {
        self.growth_factor
    }
    /// No full collection is due before the old generation reaches this size (default 32 MiB).
    pub fn min_full_heap(&self) -> usize {
        self.min_full_heap
    }
    /// The most the heap may hold (nursery, blocks in use, large objects), if limited.
    pub fn max_heap(&self) -> Option<usize> {
        self.max_heap
    }
    /// The fraction of `max_heap` past which the heap counts as near its limit.
    pub fn near_limit(&self) -> f64 {
        self.near_limit
    }
    /// Whether the heap verifier runs before and after every collection.
    pub fn verify(&self) -> bool {
        self.verify
    }
    /// Whether stress mode is on: every safepoint collects, alternating minor and full.
    pub fn stress(&self) -> bool {
        self.stress
    }
    /// Whether the old generation asks for transparent huge pages (default off).
    pub fn huge_pages(&self) -> bool {
        self.huge_pages
    }
    /// Whether allocation sites whose objects survive the nursery allocate in the old
    /// generation (default on; see the crate docs, "Pretenuring").
    pub fn pretenuring(&self) -> bool {
        self.pretenuring
    }

    /// The NUMA placement policy.
    pub fn numa(&self) -> NumaPolicy {
        self.numa
    }

    /// Whether leak-debug mode records allocation sites and watches (see the `leak-debug`
    /// cargo feature).
    pub fn leak_debug(&self) -> bool {
        self.leak_debug
    }
    /// Full collections a watched object may survive before it counts as retained.
    pub fn leak_watch_collections(&self) -> u32 {
        self.leak_watch_collections
    }

    /// Applies `GC_CORE_VERIFY`, `GC_CORE_STRESS`, `GC_CORE_PRETENURING=0`,
    /// `GC_CORE_HUGE_PAGES` and (with the `leak-debug` feature) `GC_CORE_LEAK_DEBUG`.
    pub(crate) fn with_env_overrides(mut self) -> Self {
        let on = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0");
        self.verify |= on("GC_CORE_VERIFY");
        self.stress |= on("GC_CORE_STRESS");
        self.pretenuring &= std::env::var("GC_CORE_PRETENURING").map_or(true, |v| v != "0");
        self.huge_pages |= on("GC_CORE_HUGE_PAGES");
        self.leak_debug |= cfg!(feature = "leak-debug") && on("GC_CORE_LEAK_DEBUG");
        self
    }
}

/// Builds a [`HeapConfig`], checking it in [`build`](HeapConfigBuilder::build).
#[derive(Clone, Debug)]
pub struct HeapConfigBuilder {
    config: HeapConfig,
}

impl HeapConfigBuilder {
    /// Size of the nursery in bytes: at least 64 KiB, at most `isize::MAX / 4`; rounded up
    /// to the page size.
    pub fn nursery_size(mut self, bytes: usize) -> Self {
        self.config.nursery_size = bytes;
        self
    }
    /// Address space reserved for the nursery. A `mutate` call that allocates more than the
    /// nursery size keeps allocating young objects in this reservation, committed as needed,
    /// and the next minor collection evacuates the survivors and gives the pages back. Past the
    /// reservation, allocation spills into the old generation (counted as pretenured). At
    /// least the nursery size, at most `isize::MAX / 4` bytes; where the address space is
    /// smaller (`ulimit -v`), the arena settles for a quarter, then a sixteenth... of it.
    pub fn nursery_reserve(mut self, bytes: usize) -> Self {
        self.config.nursery_reserve = bytes;
        self
    }
    /// Size of an old-generation block: a power of two from 4 KiB to 64 MiB.
    pub fn block_size(mut self, bytes: usize) -> Self {
        self.config.block_size = bytes;
        self
    }
    /// Objects above this size (header included) go to the large-object space: at least 256
    /// bytes and at most a quarter of the block size.
    pub fn large_object_threshold(mut self, bytes: usize) -> Self {
        self.config.large_object_threshold = bytes;
        self
    }
    /// Heap growth between full collections: a finite number above 1.
    pub fn growth_factor(mut self, factor: f64) -> Self {
        self.config.growth_factor = factor;
        self
    }
    /// The old-generation size below which no full collection is due.
    pub fn min_full_heap(mut self, bytes: usize) -> Self {
        self.config.min_full_heap = bytes;
        self
    }
    /// Limits the heap to `bytes` (nursery, old-generation blocks in use, large objects).
    /// Allocation that would pass it fails: the `try_` methods return
    /// [`AllocError::HeapLimit`](crate::AllocError), the others panic. Past the
    /// [`near_limit`](HeapConfigBuilder::near_limit) fraction, `collect_if_due` runs full
    /// collections and calls the arena's near-limit callback. At least the nursery size plus
    /// four blocks.
    pub fn max_heap(mut self, bytes: usize) -> Self {
        self.config.max_heap = Some(bytes);
        self
    }
    /// The fraction of `max_heap` past which the heap counts as near its limit (default 0.9;
    /// between 0 and 1).
    pub fn near_limit(mut self, fraction: f64) -> Self {
        self.config.near_limit = fraction;
        self
    }
    /// Runs the heap verifier before and after every collection.
    pub fn verify(mut self, on: bool) -> Self {
        self.config.verify = on;
        self
    }
    /// Collects at every safepoint, alternating minor and full collections.
    pub fn stress(mut self, on: bool) -> Self {
        self.config.stress = on;
        self
    }
    /// Lets allocation sites whose objects survive the nursery allocate in the old generation
    /// (default on). Off, every small object starts in the nursery and the allocation fast
    /// path is never diverted to sample sites.
    pub fn pretenuring(mut self, on: bool) -> Self {
        self.config.pretenuring = on;
        self
    }
    /// Asks for transparent huge pages for the old generation (default off; the nursery always
    /// asks). Blocks are carved from 2 MiB chunks either way, so the kernel can back each chunk
    /// with one huge page: a full collection of a 1 M-node tree runs 7–13 % faster (fewer TLB
    /// misses), but the kernel may stall a fault to find or compact a free 2 MiB page, and a
    /// virtual machine whose memory is backed lazily by its host pays for every first touch of
    /// a fresh huge page (see the crate docs, "NUMA"). `GC_CORE_HUGE_PAGES=1` turns it
    /// on for a whole process.
    pub fn huge_pages(mut self, on: bool) -> Self {
        self.config.huge_pages = on;
        self
    }
    /// For tests of the collector: every allocation site starts tenured, and each minor
    /// collection sends the tenured sites to a trial in the nursery and brings the others
    /// back, whatever their objects' survival, so that every object placement is exercised.
    #[doc(hidden)]
    pub fn pretenure_everything(mut self, on: bool) -> Self {
        self.config.pretenure_everything = on;
        self
    }
    /// The NUMA placement policy (default `Local`; it degrades to `Off`, and the statistics
    /// say so, on a machine without NUMA support).
    pub fn numa(mut self, policy: NumaPolicy) -> Self {
        self.config.numa = policy;
        self
    }
    /// Places memory through `topology` instead of the machine's own (a
    /// [`SimulatedTopology`](crate::numa::SimulatedTopology) in tests).
    pub fn topology(mut self, topology: std::sync::Arc<dyn crate::numa::Topology>) -> Self {
        self.config.topology = Some(TopologyHandle(topology));
        self
    }
    /// Leak-debug mode: records every object's allocation site and birth, and keeps the
    /// watches for the leak reports. Needs the `leak-debug` cargo feature (`build` refuses it
    /// otherwise): without the feature, none of it is compiled, and the allocation path and the
    /// collections do no extra work.
    pub fn leak_debug(mut self, on: bool) -> Self {
        self.config.leak_debug = on;
        self
    }
    /// Full collections a watched object may survive before it counts as retained (default
    /// 2; at least 1).
    pub fn leak_watch_collections(mut self, collections: u32) -> Self {
        self.config.leak_watch_collections = collections;
        self
    }

    /// Checks the configuration.
    pub fn build(self) -> Result<HeapConfig, ConfigError> {
        let mut c = self.config;
        if c.nursery_size < MIN_NURSERY {
            return Err(ConfigError::NurseryTooSmall { size: c.nursery_size, min: MIN_NURSERY });
        }
        let page = crate::sys::page_size();
        c.nursery_size = c
            .nursery_size
            .checked_next_multiple_of(page)
            .ok_or(ConfigError::NurseryTooLarge { size: c.nursery_size })?;
        if c.nursery_size > MAX_NURSERY {
            return Err(ConfigError::NurseryTooLarge { size: c.nursery_size });
        }
        if c.nursery_reserve > MAX_NURSERY {
            return Err(ConfigError::NurseryReserveTooLarge {
                reserve: c.nursery_reserve,
                max: MAX_NURSERY,
            });
        }
        if c.nursery_reserve < c.nursery_size {
            return Err(ConfigError::NurseryReserveTooSmall {
                reserve: c.nursery_reserve,
                nursery_size: c.nursery_size,
            });
        }
        if !c.block_size.is_power_of_two() {
            return Err(ConfigError::BlockSizeNotPowerOfTwo { size: c.block_size });
        }
        if !(MIN_BLOCK..=MAX_BLOCK).contains(&c.block_size) {
            return Err(ConfigError::BlockSizeOutOfRange {
                size: c.block_size,
                min: MIN_BLOCK,
                max: MAX_BLOCK,
            });
        }
        if c.large_object_threshold < MIN_LARGE_OBJECT_THRESHOLD {
            return Err(ConfigError::ThresholdTooSmall {
                threshold: c.large_object_threshold,
                min: MIN_LARGE_OBJECT_THRESHOLD,
            });
        }
        if c.large_object_threshold > c.block_size / 4 {
            return Err(ConfigError::ThresholdAboveBlock {
                threshold: c.large_object_threshold,
                block_size: c.block_size,
            });
        }
        if !(c.growth_factor.is_finite() && c.growth_factor > 1.0) {
            return Err(ConfigError::GrowthFactor { factor: c.growth_factor });
        }
        if let Some(limit) = c.max_heap {
            let min = c.nursery_size + 4 * c.block_size;
            if limit < min {
                return Err(ConfigError::MaxHeapTooSmall { limit, min });
            }
        }
        if c.leak_debug && !cfg!(feature = "leak-debug") {
            return Err(ConfigError::LeakDebugNotCompiled);
        }
        if c.leak_watch_collections == 0 {
            return Err(ConfigError::LeakWatchCollections);
        }
        if !(c.near_limit > 0.0 && c.near_limit <= 1.0) {
            return Err(ConfigError::NearLimit { fraction: c.near_limit });
        }
        Ok(c)
    }
}

/// Why a [`HeapConfig`] was refused.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The nursery is smaller than the minimum.
    NurseryTooSmall {
        /// Requested size.
        size: usize,
        /// Smallest allowed size.
        min: usize,
    },
    /// The nursery size cannot be mapped.
    NurseryTooLarge {
        /// Requested size.
        size: usize,
    },
    /// The nursery reservation is larger than any address space (and than the crate's address
    /// arithmetic allows).
    NurseryReserveTooLarge {
        /// Requested reservation.
        reserve: usize,
        /// Largest allowed reservation.
        max: usize,
    },
    /// The nursery reservation is smaller than the nursery.
    NurseryReserveTooSmall {
        /// Requested reservation.
        reserve: usize,
        /// Configured nursery size.
        nursery_size: usize,
    },
    /// The block size is not a power of two.
    BlockSizeNotPowerOfTwo {
        /// Requested size.
        size: usize,
    },
    /// The block size is outside the supported range.
    BlockSizeOutOfRange {
        /// Requested size.
        size: usize,
        /// Smallest allowed size.
        min: usize,
        /// Largest allowed size.
        max: usize,
    },
    /// The large-object threshold is below the minimum.
    ThresholdTooSmall {
        /// Requested threshold.
        threshold: usize,
        /// Smallest allowed threshold.
        min: usize,
    },
    /// The large-object threshold exceeds a quarter of the block size: objects that large
    /// would waste too much of a block, or not fit.
    ThresholdAboveBlock {
        /// Requested threshold.
        threshold: usize,
        /// Configured block size.
        block_size: usize,
    },
    /// The heap limit cannot hold the nursery and a few blocks.
    MaxHeapTooSmall {
        /// Requested limit.
        limit: usize,
        /// Smallest allowed limit for this nursery and block size.
        min: usize,
    },
    /// The near-limit fraction is not in (0, 1].
    NearLimit {
        /// Requested fraction.
        fraction: f64,
    },
    /// Leak-debug mode was asked for, but the `leak-debug` feature is not compiled in.
    LeakDebugNotCompiled,
    /// A watched object must be allowed at least one full collection.
    LeakWatchCollections,
    /// The growth factor is not a finite number above 1.
    GrowthFactor {
        /// Requested factor.
        factor: f64,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NurseryTooSmall { size, min } => {
                write!(f, "nursery size {size} bytes is below the minimum of {min} bytes")
            }
            ConfigError::NurseryTooLarge { size } => {
                write!(f, "nursery size {size} bytes is too large")
            }
            ConfigError::NurseryReserveTooLarge { reserve, max } => write!(
                f,
                "nursery reservation {reserve} bytes is above the maximum of {max} bytes"
            ),
            ConfigError::NurseryReserveTooSmall { reserve, nursery_size } => write!(
                f,
                "nursery reservation {reserve} bytes is smaller than the nursery ({nursery_size} bytes)"
            ),
            ConfigError::BlockSizeNotPowerOfTwo { size } => {
                write!(f, "block size {size} bytes is not a power of two")
            }
            ConfigError::BlockSizeOutOfRange { size, min, max } => {
                write!(f, "block size {size} bytes is outside {min}..={max} bytes")
            }
            ConfigError::ThresholdTooSmall { threshold, min } => write!(
                f,
                "large-object threshold {threshold} bytes is below the minimum of {min} bytes"
            ),
            ConfigError::ThresholdAboveBlock { threshold, block_size } => write!(
                f,
                "large-object threshold {threshold} bytes exceeds a quarter of the block size \
                 ({block_size} bytes)"
            ),
            ConfigError::MaxHeapTooSmall { limit, min } => write!(
                f,
                "heap limit {limit} bytes is below the minimum of {min} bytes (the nursery and four \
                 blocks)"
            ),
            ConfigError::NearLimit { fraction } => {
                write!(f, "near-limit fraction {fraction} is not in (0, 1]")
            }
            ConfigError::LeakDebugNotCompiled => f.write_str(
                "leak-debug mode needs gc-core's `leak-debug` cargo feature, which is not enabled"
            ),
            ConfigError::LeakWatchCollections => {
                f.write_str("leak_watch_collections must be at least 1")
            }
            ConfigError::GrowthFactor { factor } => {
                write!(f, "growth factor {factor} is not a finite number above 1")
            }
        }
    }
}

impl ConfigError {
    /// The setting at fault, named as its [`HeapConfigBuilder`] method (for a relation
    /// between two settings, the one the error is about: `nursery_reserve` below
    /// `nursery_size` names `nursery_reserve`).
    pub fn field(&self) -> &'static str {
        match self {
            ConfigError::NurseryTooSmall { .. } | ConfigError::NurseryTooLarge { .. } => {
                "nursery_size"
            }
            ConfigError::NurseryReserveTooLarge { .. }
            | ConfigError::NurseryReserveTooSmall { .. } => "nursery_reserve",
            ConfigError::BlockSizeNotPowerOfTwo { .. }
            | ConfigError::BlockSizeOutOfRange { .. } => "block_size",
            ConfigError::ThresholdTooSmall { .. } | ConfigError::ThresholdAboveBlock { .. } => {
                "large_object_threshold"
            }
            ConfigError::MaxHeapTooSmall { .. } => "max_heap",
            ConfigError::NearLimit { .. } => "near_limit",
            ConfigError::LeakDebugNotCompiled => "leak_debug",
            ConfigError::LeakWatchCollections => "leak_watch_collections",
            ConfigError::GrowthFactor { .. } => "growth_factor",
        }
    }
}

impl std::error::Error for ConfigError {}
