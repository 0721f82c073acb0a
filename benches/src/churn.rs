//! churn: a table of `n` live byte objects of 16 to 1024 bytes (uniform), then 20 rounds that
//! each replace `n / 2` objects at random slots with new ones of random size; every payload is
//! filled with one random byte. A fixed-seed PRNG makes every implementation see the same
//! sequence. At the end, each collector runs its own full collection, and the resident set is
//! compared with the live payload bytes.
//!
//! Payloads are inline where the implementation can allocate a dynamically sized object
//! (gc-core `Gc<[u8]>`, `Rc<[u8]>`, dumpster `Gc<[u8]>`, `Box<[u8]>`, a bumpalo slice); the
//! others (gc-arena, boa_gc, rust-gc) box the bytes inside a managed `Box<[u8]>`, which is what
//! their documentation offers for runtime-sized data.

use gc_core::{Arena, CollectionKind, Gc, HeapConfig, Rootable};

use crate::common::{gc_arena_collect, rss, Impl, Outcome, Pauses, Rng};

const SEED: u64 = 0x00c0_ffee;
const ROUNDS: usize = 20;
const MIN_LEN: usize = 16;
const MAX_LEN: usize = 1024;
/// Replacements per `mutate` call for the branded arenas.
const SLICE: usize = 1_000;

/// One operation: put a fresh object of `len` bytes, all `byte`, into `slot`.
#[derive(Clone, Copy, Debug)]
struct Op {
    slot: usize,
    len: usize,
    byte: u8,
}

/// The operations of a run with `n` live objects: the initial fill (slots in order), then the
/// rounds' replacements.
fn ops(n: usize) -> impl Iterator<Item = Op> {
    let mut rng = Rng::new(SEED);
    let mut i = 0;
    let total = n + ROUNDS * (n / 2);
    std::iter::from_fn(move || {
        if i == total {
            return None;
        }
        let slot = if i < n { i } else { rng.below(n as u64) as usize };
        i += 1;
        let len = rng.range(MIN_LEN, MAX_LEN);
        let byte = rng.next_u64() as u8;
        Some(Op { slot, len, byte })
    })
}

/// What the checksum takes from one object.
fn object_sum(bytes: &[u8]) -> u64 {
    bytes.len() as u64 * (bytes[0] as u64 + 1) + bytes[bytes.len() - 1] as u64
}

/// The checksum and live bytes of the final table, computed from the operations alone.
pub fn expected(n: usize) -> (u64, u64) {
    let mut table = vec![(0usize, 0u8); n];
    for op in ops(n) {
        table[op.slot] = (op.len, op.byte);
    }
    let sum = table.iter().map(|&(len, b)| len as u64 * (b as u64 + 1) + b as u64).sum();
    (sum, table.iter().map(|&(len, _)| len as u64).sum())
}

/// Runs churn with `n` live objects on `imp`; asserts the checksum and live bytes.
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

/// The checksum and live bytes of a table.
fn table_sums<'a>(table: impl Iterator<Item = &'a [u8]>) -> (u64, u64) {
    table.fold((0, 0), |(sum, live), b| (sum + object_sum(b), live + b.len() as u64))
}

/// The implementations whose objects live in a plain `Vec` table (their pointers root
/// themselves or own their objects). `collect` is the implementation's full collection, run
/// at the end; the resident set is measured after it, while the table is alive.
fn with_table<P>(n: usize, make: impl Fn(&[u8]) -> P, collect: impl Fn()) -> (u64, u64, usize)
where
    P: std::ops::Deref,
    P::Target: AsRef<[u8]>,
{
    let mut scratch = [0u8; MAX_LEN];
    let mut table: Vec<Option<P>> = Vec::with_capacity(n);
    table.resize_with(n, || None);
    for op in ops(n) {
        scratch[..op.len].fill(op.byte);
        table[op.slot] = Some(make(&scratch[..op.len]));
    }
    collect();
    let final_rss = rss();
    let (sum, live) = table_sums(table.iter().map(|p| (**p.as_ref().unwrap()).as_ref()));
    (sum, live, final_rss)
}

fn bump(n: usize) -> (u64, u64, usize) {
    let bump = bumpalo::Bump::new();
    let mut scratch = [0u8; MAX_LEN];
    let mut table: Vec<&[u8]> = vec![&[]; n];
    for op in ops(n) {
        scratch[..op.len].fill(op.byte);
        table[op.slot] = bump.alloc_slice_copy(&scratch[..op.len]);
    }
    let final_rss = rss();
    let (sum, live) = table_sums(table.iter().copied());
    (sum, live, final_rss)
}

fn gc_core(n: usize, config: HeapConfig) -> Outcome {
    let mut pauses = Pauses::default();
    let mut arena = Arena::<Rootable![Vec<Option<Gc<'_, [u8]>>>]>::new(config, |_| vec![None; n]);
    let mut scratch = [0u8; MAX_LEN];
    let mut ops = ops(n).peekable();
    while ops.peek().is_some() {
        arena.mutate_root(|mc, table| {
            for op in ops.by_ref().take(SLICE) {
                scratch[..op.len].fill(op.byte);
                table[op.slot] = Some(mc.alloc_slice_copy(&scratch[..op.len]));
            }
        });
        pauses.safepoint(&mut arena);
    }
    pauses.collect(&mut arena, CollectionKind::Full);
    let final_rss = rss();
    let (sum, live) =
        arena.mutate(|_, table| table_sums(table.iter().map(|g| Gc::as_ref(g.unwrap()))));
    finish(Impl::GcCore, n, sum, live, final_rss, Some((arena.stats(), pauses)))
}

fn gc_arena(n: usize) -> (u64, u64, usize) {
    use gc_arena::{Arena, Gc, Rootable};
    let mut arena = Arena::<Rootable![Vec<Option<Gc<'_, Box<[u8]>>>>]>::new(|_| vec![None; n]);
    let mut scratch = [0u8; MAX_LEN];
    let mut ops = ops(n).peekable();
    while ops.peek().is_some() {
        arena.mutate_root(|mc, table| {
            for op in ops.by_ref().take(SLICE) {
                scratch[..op.len].fill(op.byte);
                table[op.slot] = Some(Gc::new(mc, Box::from(&scratch[..op.len])));
            }
        });
        gc_arena_collect(&mut arena);
    }
    arena.finish_cycle();
    let final_rss = rss();
    let (sum, live) =
        arena.mutate(|_, table| table_sums(table.iter().map(|g| &Gc::as_ref(g.unwrap())[..])));
    (sum, live, final_rss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_implementation_agrees() {
        for imp in Impl::ALL {
            let outcome = run(imp, 2_000);
            assert!(outcome.live_bytes.unwrap() > 2_000 * MIN_LEN as u64);
        }
    }
}
