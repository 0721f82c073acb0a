//! A VM-like workload for pause times (gc-core only): a global table of about `live_mib` MiB of
//! objects in the old generation (records with a name string, eight number fields and a link,
//! held in chunks of 1,024 slots), then an interpreter loop run in slices of 1,000 operations
//! with `collect_if_due` between slices, the API's safepoint (a VM's fuel). Each operation
//! allocates a temporary (a boxed pair of floats, sometimes a small array) that dies at once;
//! some read a random record (pointer chasing through the old generation); one in 32 replaces a
//! random record with a new one (an old-to-young store through `Gc::write_at`, so a dirty card of its chunk;
//! the old record becomes garbage, so the old generation grows and full collections come
//! round); one in 256 links two records (an old-to-old store).
//!
//! Only the steady state's pauses are recorded: the build phase (which promotes the whole
//! table) and the collection that settles it are not.

use gc_core::{field, Arena, CollectionKind, Gc, HeapConfig, Lock, Mutation, Rootable, Trace};

use crate::common::{Outcome, Pauses, Rng};

/// Slots per chunk of the global table.
const CHUNK: usize = 1024;
/// Operations per `mutate` call.
const FUEL: usize = 1_000;
/// Bytes one record costs in the heap: the record (header and 88 bytes), its name (header,
/// length and 16 bytes), its slot.
const RECORD_BYTES: usize = 96 + 32 + 8;
/// Steady-state slices per MiB of live data.
const SLICES_PER_MIB: u64 = 1_500;

#[derive(Trace)]
struct Record<'gc> {
    key: u64,
    name: Gc<'gc, str>,
    fields: [u64; 8],
    link: Lock<Option<Gc<'gc, Record<'gc>>>>,
}

#[derive(Trace)]
struct Temp {
    a: f64,
    b: f64,
}

type Chunk<'gc> = Gc<'gc, [Lock<Option<Gc<'gc, Record<'gc>>>>]>;

fn record<'gc>(mc: &Mutation<'gc>, key: u64) -> Gc<'gc, Record<'gc>> {
    // "rec-" and the key in 12 hex digits, without going through the Rust heap.
    let mut name = *b"rec-000000000000";
    for (i, b) in name[4..].iter_mut().enumerate() {
        *b = b"0123456789abcdef"[(key >> (4 * (11 - i)) & 0xf) as usize];
    }
    let name = mc.alloc_str(std::str::from_utf8(&name).expect("ASCII"));
    let fields = std::array::from_fn(|i| key.wrapping_mul(i as u64 + 1));
    Gc::new(mc, Record { key, name, fields, link: Lock::new(None) })
}

/// Runs the VM workload with a table of about `live_mib` MiB.
pub fn run(live_mib: u64) -> Outcome {
    run_with(live_mib, live_mib * SLICES_PER_MIB, HeapConfig::default())
}

/// As [`run`], with the number of steady-state slices and the configuration given.
pub fn run_with(live_mib: u64, slices: u64, config: HeapConfig) -> Outcome {
    let records = ((live_mib as usize) << 20) / RECORD_BYTES;
    let chunks = records.div_ceil(CHUNK);
    let records = chunks * CHUNK;
    let mut arena = Arena::<Rootable![Vec<Chunk<'_>>]>::new(config, |_| Vec::new());
    for c in 0..chunks {
        arena.mutate_root(|mc, table| {
            let base = (c * CHUNK) as u64;
            table.push(
                mc.alloc_slice_fill_with(CHUNK, |i| Lock::new(Some(record(mc, base + i as u64)))),
            );
        });
        arena.collect_if_due();
    }
    arena.collect_full();

    let mut pauses = Pauses::default();
    let mut rng = Rng::new(42);
    let mut sum = 0u64;
    let mut next_key = records as u64;
    for _ in 0..slices {
        sum = sum.wrapping_add(arena.mutate(|mc, table| {
            let mut sum = 0u64;
            for _ in 0..FUEL {
                let r = rng.next_u64();
                // The temporaries: a boxed pair, and one time in eight a small array.
                let t = Gc::new(mc, Temp { a: (r & 0xffff) as f64, b: 0.5 });
                sum = sum.wrapping_add((t.a * t.b) as u64);
                if r >> 61 == 0 {
                    let v = mc.alloc_slice_copy(&[r, r >> 1, r >> 2, r >> 3]);
                    sum = sum.wrapping_add(v[3]);
                }
                let slot = ((r >> 20) % records as u64) as usize;
                let (chunk, i) = (table[slot / CHUNK], slot % CHUNK);
                match (r >> 8) & 0xff {
                    // One in 32: replace a record.
                    0..=7 => {
                        let new = record(mc, next_key);
                        next_key += 1;
                        Gc::write_at(mc, chunk, i).set(Some(new));
                    }
                    // One in 256: link two records.
                    8 => {
                        let other = (r as usize >> 40) % records;
                        let target = table[other / CHUNK][other % CHUNK].get();
                        if let Some(rec) = chunk[i].get() {
                            field!(Gc::write(mc, rec), Record, link).set(target);
                        }
                    }
                    // One in four: read a record and what it links to.
                    9..=72 => {
                        if let Some(rec) = chunk[i].get() {
                            sum = sum.wrapping_add(rec.key + rec.fields[7] + rec.name.len() as u64);
                            if let Some(linked) = rec.link.get() {
                                sum = sum.wrapping_add(linked.key);
                            }
                        }
                    }
                    _ => {}
                }
            }
            sum
        }));
        pauses.safepoint(&mut arena);
    }
    pauses.collect(&mut arena, CollectionKind::Full);
    let live = arena.stats().live_after_last_full as u64;
    Outcome {
        checksum: sum,
        live_bytes: Some(live),
        gc: Some((arena.stats(), pauses)),
        ..Outcome::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_vm_collects() {
        let outcome = run_with(2, 400, HeapConfig::default());
        let (_, pauses) = outcome.gc.unwrap();
        assert!(!pauses.minor.is_empty() && !pauses.full.is_empty());
        assert!(outcome.live_bytes.unwrap() > 1 << 20);
    }
}
