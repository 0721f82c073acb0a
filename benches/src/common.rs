//! What the workloads share: the implementations compared, a fixed-seed PRNG, memory
//! measurement, the gc-core safepoint that records every pause, and gc-arena's debt-paced
//! collection.

use std::fmt;
use std::time::Duration;

use gc_core::{Arena, CollectionKind, Root, Rootable, Trace};

/// One implementation of a workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Impl {
    /// This project's collector.
    GcCore,
    /// Bump allocation, never freeing an object (arenas are reset only where the whole
    /// structure dies at once): the upper bound on allocation speed.
    Bumpalo,
    /// `Box` (malloc) with explicit ownership, and explicit frees where there are cycles.
    Box,
    /// `Rc` (with `RefCell` where the workload mutates).
    Rc,
    /// `dumpster::unsync` (reference counting with cycle detection).
    Dumpster,
    /// `boa_gc` (Boa's mark-sweep collector).
    BoaGc,
    /// `gc-arena` (incremental mark-sweep, branded API like gc-core's).
    GcArena,
    /// `gc` (rust-gc, mark-sweep with rooting by counts).
    RustGc,
}

impl Impl {
    /// Every implementation, in the order of the comparison table's columns.
    pub const ALL: [Impl; 8] = [
        Impl::GcCore,
        Impl::Bumpalo,
        Impl::Box,
        Impl::Rc,
        Impl::Dumpster,
        Impl::BoaGc,
        Impl::GcArena,
        Impl::RustGc,
    ];

    /// The name used on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            Impl::GcCore => "gc-core",
            Impl::Bumpalo => "bumpalo",
            Impl::Box => "box",
            Impl::Rc => "rc",
            Impl::Dumpster => "dumpster",
            Impl::BoaGc => "boa_gc",
            Impl::GcArena => "gc-arena",
            Impl::RustGc => "rust-gc",
        }
    }

    /// The implementation called `name`.
    pub fn from_name(name: &str) -> Option<Impl> {
        Impl::ALL.into_iter().find(|i| i.name() == name)
    }
}

impl fmt::Display for Impl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// SplitMix64: a fixed-seed generator, so that every implementation sees the same sequence.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (multiply-shift; the bias is negligible for the sizes used here).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// A number in `lo..=hi`.
    #[inline]
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below((hi - lo + 1) as u64) as usize
    }
}

/// Resident set size now, in bytes (0 where `/proc/self/status` is missing).
pub fn rss() -> usize {
    gc_core::memory_usage().map_or(0, |(rss, _)| rss)
}

/// Peak resident set size of the process so far, in bytes.
pub fn peak_rss() -> usize {
    gc_core::memory_usage().map_or(0, |(_, peak)| peak)
}

/// Every pause of one arena, in order, as the collector's own statistics give them.
#[derive(Clone, Debug, Default)]
pub struct Pauses {
    /// Minor collection pauses.
    pub minor: Vec<Duration>,
    /// Full collection pauses.
    pub full: Vec<Duration>,
}

impl Pauses {
    /// The arena's safepoint: runs the collection that is due and records its pause
    /// (`stats().minor.last` or `.full.last`).
    #[inline]
    pub fn safepoint<R>(&mut self, arena: &mut Arena<R>) -> Option<CollectionKind>
    where
        R: for<'a> Rootable<'a>,
        for<'a> Root<'a, R>: Sized + Trace,
    {
        let kind = arena.collect_if_due()?;
        self.record(kind, &arena.stats());
        Some(kind)
    }

    /// Runs a collection of `kind` explicitly and records its pause.
    pub fn collect<R>(&mut self, arena: &mut Arena<R>, kind: CollectionKind)
    where
        R: for<'a> Rootable<'a>,
        for<'a> Root<'a, R>: Sized + Trace,
    {
        arena.collect(kind);
        self.record(kind, &arena.stats());
    }

    fn record(&mut self, kind: CollectionKind, stats: &gc_core::Stats) {
        match kind {
            CollectionKind::Minor => self.minor.push(stats.minor.last),
            CollectionKind::Full => self.full.push(stats.full.last),
        }
    }

    /// p50, p99 and max of the minor pauses.
    pub fn minor_summary(&self) -> Summary {
        Summary::of(&self.minor)
    }

    /// p50, p99 and max of the full pauses.
    pub fn full_summary(&self) -> Summary {
        Summary::of(&self.full)
    }
}

/// Percentiles of a set of pauses (nearest rank: the p-th percentile is the smallest pause
/// that at least p % of the pauses do not exceed).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Summary {
    /// How many pauses.
    pub count: usize,
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Longest.
    pub max: Duration,
    /// Sum.
    pub total: Duration,
}

impl Summary {
    /// Summarises `pauses` (in any order).
    pub fn of(pauses: &[Duration]) -> Summary {
        let mut sorted = pauses.to_vec();
        sorted.sort_unstable();
        Summary {
            count: sorted.len(),
            p50: percentile(&sorted, 50.0),
            p99: percentile(&sorted, 99.0),
            max: sorted.last().copied().unwrap_or_default(),
            total: sorted.iter().sum(),
        }
    }
}

/// The nearest-rank `p`-th percentile of an ascending slice (zero if it is empty).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// What one run of a workload reports besides its wall time.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// The checksum every implementation must agree on.
    pub checksum: u64,
    /// Payload bytes live at the end (churn, frag).
    pub live_bytes: Option<u64>,
    /// Resident set at the end, after the implementation's own full collection (churn, frag).
    pub final_rss: Option<usize>,
    /// Objects still allocated after everything was dropped and collected (cycles; see
    /// [`crate::cycles`] for how each implementation counts them).
    pub unreclaimed: Option<i64>,
    /// gc-core's statistics and every pause.
    pub gc: Option<(gc_core::Stats, Pauses)>,
}

impl Outcome {
    /// An outcome with only a checksum.
    pub fn checksum(checksum: u64) -> Outcome {
        Outcome { checksum, ..Outcome::default() }
    }
}

/// gc-arena's recommended pacing: collect between `mutate` calls when the allocation debt
/// exceeds a granularity (piccolo, gc-arena's main user, uses 1024).
pub const GC_ARENA_GRANULARITY: f64 = 1024.0;

/// Pays gc-arena's allocation debt if it is above [`GC_ARENA_GRANULARITY`].
#[inline]
pub fn gc_arena_collect<R>(arena: &mut gc_arena::Arena<R>)
where
    R: for<'a> gc_arena::Rootable<'a>,
    for<'a> gc_arena::arena::Root<'a, R>: gc_arena::Collect<'a>,
{
    if arena.metrics().allocation_debt() > GC_ARENA_GRANULARITY {
        arena.collect_debt();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let ms = |v: u64| Duration::from_millis(v);
        let pauses: Vec<_> = (1..=100).rev().map(ms).collect();
        let s = Summary::of(&pauses);
        assert_eq!((s.count, s.p50, s.p99, s.max), (100, ms(50), ms(99), ms(100)));
        let s = Summary::of(&[ms(3)]);
        assert_eq!((s.p50, s.p99, s.max), (ms(3), ms(3), ms(3)));
        assert_eq!(Summary::of(&[]).p99, Duration::ZERO);
    }

    #[test]
    fn rng_is_fixed_and_in_range() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..1000 {
            let x = a.range(16, 1024);
            assert_eq!(x, b.range(16, 1024));
            assert!((16..=1024).contains(&x));
        }
    }
}
