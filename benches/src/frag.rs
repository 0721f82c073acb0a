//! frag, in three phases: (1) `n` small byte objects of 16 to 64 bytes; (2) 90 % of them freed
//! at random (dropped from the table, which is then shrunk); (3) as many bytes as phase 1
//! allocated, in objects of 2 to 8 KiB. Then each collector runs its own full collection, and
//! the resident set is compared with the live payload bytes: an allocator that cannot reuse
//! the small holes for the large objects, or a collector that does not compact or give memory
//! back, shows it here.
//!
//! Payloads are inline where the implementation allows it, boxed inside a managed
//! `Box<[u8]>` otherwise (gc-arena, boa_gc, rust-gc), as in [`crate::churn`]. The table is a
//! `Vec` for the Rust peers; gc-core's is in its heap, in card-marked chunks, as the HotSpot
//! port's is an array in its heap: a 4-million-slot `Vec` root would be scanned by every minor
//! collection.

use gc_core::{Arena, CollectionKind, Gc, HeapConfig, Lock, Mutation, Rootable, Trace};

use crate::common::{gc_arena_collect, rss, Impl, Outcome, Pauses, Rng};

const SMALL: (usize, usize) = (16, 64);
const LARGE: (usize, usize) = (2 * 1024, 8 * 1024);
/// One in `KEEP` small objects survives phase 2.
const KEEP: u64 = 10;
const SMALL_SLICE: usize = 10_000;
const LARGE_SLICE: usize = 100;

/// The three phases' random streams: small objects, survivors, large objects.
struct Plan {
    small: Rng,
    keep: Rng,
    large: Rng,
    n: usize,
}

impl Plan {
    fn new(n: usize) -> Plan {
        Plan { small: Rng::new(1), keep: Rng::new(2), large: Rng::new(3), n }
    }

    /// Phase 1: (len, byte) of each small object.
    fn small(&mut self) -> impl Iterator<Item = (usize, u8)> + '_ {
        (0..self.n).map(|_| (self.small.range(SMALL.0, SMALL.1), self.small.next_u64() as u8))
    }

    /// Phase 2: whether the next small object survives.
    fn keep(&mut self) -> bool {
        self.keep.below(KEEP) == 0
    }

    /// Phase 3: (len, byte) of each large object, until `bytes` are allocated.
    fn large(&mut self, bytes: u64) -> impl Iterator<Item = (usize, u8)> + '_ {
        let mut done = 0u64;
        std::iter::from_fn(move || {
            if done >= bytes {
                return None;
            }
            let len = self.large.range(LARGE.0, LARGE.1);
            done += len as u64;
            Some((len, self.large.next_u64() as u8))
        })
    }
}

fn object_sum(bytes: &[u8]) -> u64 {
    bytes.len() as u64 * (bytes[0] as u64 + 1) + bytes[bytes.len() - 1] as u64
}

fn table_sums<'a>(table: impl Iterator<Item = &'a [u8]>) -> (u64, u64) {
    table.fold((0, 0), |(sum, live), b| (sum + object_sum(b), live + b.len() as u64))
}

/// The checksum and live bytes, computed from the plan alone.
pub fn expected(n: usize) -> (u64, u64) {
    let mut plan = Plan::new(n);
    let small: Vec<_> = plan.small().collect();
    let bytes = small.iter().map(|&(len, _)| len as u64).sum();
    let mut table: Vec<_> = small.into_iter().filter(|_| plan.keep()).collect();
    table.extend(plan.large(bytes));
    let sum = table.iter().map(|&(len, b)| len as u64 * (b as u64 + 1) + b as u64).sum();
    (sum, table.iter().map(|&(len, _)| len as u64).sum())
}

/// Runs frag with `n` small objects on `imp`; asserts the checksum and live bytes.
pub fn run(imp: Impl, n: usize) -> Outcome {
    let (sum, live, final_rss) = match imp {
        Impl::GcCore => return gc_core(n, HeapConfig::default()),
        Impl::Bumpalo => bump(n),
        Impl::Box => with_table(n, |b| Box::<[u8]>::from(b), || ()),
        Impl::Rc => with_table(n, |b| std::rc::Rc::<[u8]>::from(b), || ()),
        Impl::Dumpster => {
            with_table(n, |b| dumpster::unsync::Gc::<[u8]>::from(b), dumpster::unsync::collect)
        }
        Impl::BoaGc => {
            with_table(n, |b| boa_gc::Gc::new(Box::<[u8]>::from(b)), boa_gc::force_collect)
        }
        Impl::RustGc => with_table(n, |b| gc::Gc::new(Box::<[u8]>::from(b)), gc::force_collect),
        Impl::GcArena => gc_arena(n),
    };
    finish(imp, n, sum, live, final_rss, None)
}

fn finish(
    imp: Impl,
    n: usize,
    sum: u64,
    live: u64,
    final_rss: usize,
    gc: Option<(gc_core::Stats, Pauses)>,
) -> Outcome {
    assert_eq!((sum, live), expected(n), "{imp}: wrong checksum or live bytes");
    Outcome { live_bytes: Some(live), final_rss: Some(final_rss), gc, ..Outcome::checksum(sum) }
}

fn with_table<P>(n: usize, make: impl Fn(&[u8]) -> P, collect: impl Fn()) -> (u64, u64, usize)
where
    P: std::ops::Deref,
    P::Target: AsRef<[u8]>,
{
    let mut plan = Plan::new(n);
    let mut scratch = [0u8; LARGE.1];
    let mut table: Vec<P> = Vec::with_capacity(n);
    let mut bytes = 0;
    for (len, byte) in plan.small() {
        scratch[..len].fill(byte);
        table.push(make(&scratch[..len]));
        bytes += len as u64;
    }
    table.retain(|_| plan.keep());
    table.shrink_to_fit();
    collect();
    for (len, byte) in plan.large(bytes) {
        scratch[..len].fill(byte);
        table.push(make(&scratch[..len]));
    }
    collect();
    let final_rss = rss();
    let (sum, live) = table_sums(table.iter().map(|p| (**p).as_ref()));
    (sum, live, final_rss)
}

/// Bump allocation frees nothing: the freed small objects' space stays.
fn bump(n: usize) -> (u64, u64, usize) {
    let bump = bumpalo::Bump::new();
    let mut plan = Plan::new(n);
    let mut scratch = [0u8; LARGE.1];
    let mut table: Vec<&[u8]> = Vec::with_capacity(n);
    let mut bytes = 0;
    for (len, byte) in plan.small() {
        scratch[..len].fill(byte);
        table.push(bump.alloc_slice_copy(&scratch[..len]));
        bytes += len as u64;
    }
    table.retain(|_| plan.keep());
    table.shrink_to_fit();
    for (len, byte) in plan.large(bytes) {
        scratch[..len].fill(byte);
        table.push(bump.alloc_slice_copy(&scratch[..len]));
    }
    let final_rss = rss();
    let (sum, live) = table_sums(table.iter().copied());
    (sum, live, final_rss)
}

/// gc-core's table lives in the heap, in chunks of `CHUNK` slots written through
/// `Gc::write_at` (as the HotSpot port's table is an array in its heap): a minor collection
/// scans the root's few chunk pointers and the chunks' dirty cards, not millions of slots.
const CHUNK: usize = 1024;

type Chunk<'gc> = Gc<'gc, [Lock<Option<Gc<'gc, [u8]>>>]>;

#[derive(Trace, Default)]
struct Table<'gc> {
    chunks: Vec<Chunk<'gc>>,
    len: usize,
}

impl<'gc> Table<'gc> {
    fn push(&mut self, mc: &Mutation<'gc>, object: Gc<'gc, [u8]>) {
        if self.len % CHUNK == 0 {
            self.chunks.push(mc.alloc_slice_fill_with(CHUNK, |_| Lock::new(None)));
        }
        let chunk = self.chunks[self.len / CHUNK];
        Gc::write_at(mc, chunk, self.len % CHUNK).set(Some(object));
        self.len += 1;
    }

    fn iter(&self) -> impl Iterator<Item = Gc<'gc, [u8]>> + '_ {
        self.chunks.iter().flat_map(|chunk| chunk.iter().map_while(|slot| slot.get()))
    }
}

fn gc_core(n: usize, config: HeapConfig) -> Outcome {
    let mut pauses = Pauses::default();
    let mut arena = Arena::<Rootable![Table<'_>]>::new(config, |_| Table::default());
    let mut plan = Plan::new(n);
    let mut scratch = [0u8; LARGE.1];
    let mut bytes = 0;
    {
        let mut small = plan.small().peekable();
        while small.peek().is_some() {
            arena.mutate_root(|mc, table| {
                for (len, byte) in small.by_ref().take(SMALL_SLICE) {
                    scratch[..len].fill(byte);
                    table.push(mc, mc.alloc_slice_copy(&scratch[..len]));
                    bytes += len as u64;
                }
            });
            pauses.safepoint(&mut arena);
        }
    }
    // Phase 2: the survivors go to a new table; the old one's chunks become garbage.
    arena.mutate_root(|mc, table| {
        let mut kept = Table::default();
        for object in table.iter() {
            if plan.keep() {
                kept.push(mc, object);
            }
        }
        *table = kept;
    });
    pauses.safepoint(&mut arena);
    let mut large = plan.large(bytes).peekable();
    while large.peek().is_some() {
        arena.mutate_root(|mc, table| {
            for (len, byte) in large.by_ref().take(LARGE_SLICE) {
                scratch[..len].fill(byte);
                table.push(mc, mc.alloc_slice_copy(&scratch[..len]));
            }
        });
        pauses.safepoint(&mut arena);
    }
    pauses.collect(&mut arena, CollectionKind::Full);
    let final_rss = rss();
    let (sum, live) = arena.mutate(|_, table| table_sums(table.iter().map(Gc::as_ref)));
    finish(Impl::GcCore, n, sum, live, final_rss, Some((arena.stats(), pauses)))
}

fn gc_arena(n: usize) -> (u64, u64, usize) {
    use gc_arena::{Arena, Gc, Rootable};
    let mut arena = Arena::<Rootable![Vec<Gc<'_, Box<[u8]>>>]>::new(|_| Vec::with_capacity(n));
    let mut plan = Plan::new(n);
    let mut scratch = [0u8; LARGE.1];
    let mut bytes = 0;
    {
        let mut small = plan.small().peekable();
        while small.peek().is_some() {
            arena.mutate_root(|mc, table| {
                for (len, byte) in small.by_ref().take(SMALL_SLICE) {
                    scratch[..len].fill(byte);
                    table.push(Gc::new(mc, Box::from(&scratch[..len])));
                    bytes += len as u64;
                }
            });
            gc_arena_collect(&mut arena);
        }
    }
    arena.mutate_root(|_, table| {
        table.retain(|_| plan.keep());
        table.shrink_to_fit();
    });
    gc_arena_collect(&mut arena);
    let mut large = plan.large(bytes).peekable();
    while large.peek().is_some() {
        arena.mutate_root(|mc, table| {
            for (len, byte) in large.by_ref().take(LARGE_SLICE) {
                scratch[..len].fill(byte);
                table.push(Gc::new(mc, Box::from(&scratch[..len])));
            }
        });
        gc_arena_collect(&mut arena);
    }
    arena.finish_cycle();
    let final_rss = rss();
    let (sum, live) = arena.mutate(|_, table| table_sums(table.iter().map(|g| &***g)));
    (sum, live, final_rss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_implementation_agrees() {
        for imp in Impl::ALL {
            run(imp, 20_000);
        }
    }
}
