//! Hash tables keyed by interned strings: fields, methods, globals.
//!
//! Open addressing with linear probing, like the reference. A key of a traced `HashMap`
//! cannot hold a `Gc` (the collector cannot rewrite keys in place), and a string's address
//! is no identity in a moving heap anyway: the probe starts at the string's cached hash and
//! compares keys by identity, which interning makes content equality.
//!
//! The entries are a slice object in the heap, so a table costs no `malloc` and no
//! destructor. Lox never deletes a field, method or global, so there are no tombstones.
//! Entries are 24 bytes (a key and a 16-byte value); to stay as dense as the reference's
//! NaN-boxed 16-byte entries, small tables start at 4 slots and fill further (`max_load`).

use std::cell::Cell;

use gc_core::{Gc, Lock, Mutation, Trace};

use crate::object::LoxString;
use crate::value::Value;

#[derive(Clone, Copy, Trace)]
pub(crate) struct Entry<'gc> {
    pub(crate) key: Option<Gc<'gc, LoxString<'gc>>>,
    pub(crate) value: Value<'gc>,
}

fn empty<'gc>() -> Entry<'gc> {
    Entry { key: None, value: Value::Nil }
}

pub(crate) type Entries<'gc> = Gc<'gc, [Lock<Entry<'gc>>]>;

#[derive(Trace)]
pub(crate) struct Table<'gc> {
    /// Capacity is zero or a power of two.
    pub(crate) entries: Lock<Entries<'gc>>,
    /// Changes without a `Gc`, so it needs no barrier.
    count: Cell<u32>,
    /// One bit per key present, chosen by the top bits of its hash: a lookup whose bit is
    /// clear misses without touching the entries. Calling a method looks for a field of that
    /// name first, and nearly always misses: this spares that miss a cache line.
    filter: Cell<u32>,
}

#[inline(always)]
pub(crate) fn filter_bit(key: Gc<'_, LoxString<'_>>) -> u32 {
    1 << (key.hash >> 27)
}

impl<'gc> Table<'gc> {
    /// An empty table, sharing `empty` (a zero-length entries object) until it grows.
    pub(crate) fn new(empty: Entries<'gc>) -> Self {
        Table { entries: Lock::new(empty), count: Cell::new(0), filter: Cell::new(0) }
    }

    #[inline]
    pub(crate) fn get(&self, key: Gc<'gc, LoxString<'gc>>) -> Option<Value<'gc>> {
        if self.filter.get() & filter_bit(key) == 0 {
            return None;
        }
        let entries = self.entries.get();
        match probe(&entries, key) {
            Probe::Found(i) => Some(entries[i].get().value),
            Probe::Vacant(_) | Probe::Full => None,
        }
    }

    /// Replaces the value of an existing key; false (and no change) if there is none.
    #[inline]
    pub(crate) fn replace(
        &self,
        mc: &Mutation<'gc>,
        key: Gc<'gc, LoxString<'gc>>,
        value: Value<'gc>,
    ) -> bool {
        if self.filter.get() & filter_bit(key) == 0 {
            return false;
        }
        let entries = self.entries.get();
        match probe(&entries, key) {
            Probe::Found(i) => {
                Gc::write_at(mc, entries, i).set(Entry { key: Some(key), value });
                true
            }
            Probe::Vacant(_) | Probe::Full => false,
        }
    }

    /// Sets `key` to `value` and says whether the key was new. If the table must grow,
    /// `install` receives the new entries and stores them into this table's `entries` field
    /// (through the barrier of the object that holds the table).
    #[inline]
    pub(crate) fn set(
        &self,
        mc: &Mutation<'gc>,
        key: Gc<'gc, LoxString<'gc>>,
        value: Value<'gc>,
        install: impl FnOnce(Entries<'gc>),
    ) -> bool {
        let entries = self.entries.get();
        let count = self.count.get() as usize;
        let slot = match probe(&entries, key) {
            Probe::Found(i) => {
                Gc::write_at(mc, entries, i).set(Entry { key: Some(key), value });
                return false;
            }
            Probe::Vacant(i) if count < max_load(entries.len()) => (entries, i),
            Probe::Vacant(_) | Probe::Full => {
                let grown = self.grown(mc);
                install(grown);
                match probe(&grown, key) {
                    Probe::Vacant(i) => (grown, i),
                    Probe::Found(_) | Probe::Full => unreachable!("a grown table has room"),
                }
            }
        };
        Gc::write_at(mc, slot.0, slot.1).set(Entry { key: Some(key), value });
        self.count.set(count as u32 + 1);
        self.filter.set(self.filter.get() | filter_bit(key));
        true
    }

    /// The entries rehashed into twice the capacity (at least 4).
    #[cold]
    fn grown(&self, mc: &Mutation<'gc>) -> Entries<'gc> {
        let old = self.entries.get();
        let capacity = (old.len() * 2).max(4);
        let new: Entries<'gc> = mc.alloc_slice_fill_with(capacity, |_| Lock::new(empty()));
        let w = Gc::write(mc, new);
        for entry in old.iter().map(Lock::get) {
            if let Some(key) = entry.key {
                if let Probe::Vacant(i) = probe(&new, key) {
                    w.at(i).set(entry);
                }
            }
        }
        new
    }

    /// The entries in table order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Gc<'gc, LoxString<'gc>>, Value<'gc>)> + 'gc {
        let entries = self.entries.get().as_ref();
        entries.iter().filter_map(|e| {
            let e = e.get();
            e.key.map(|k| (k, e.value))
        })
    }
}

/// How many keys a table of `capacity` slots holds before it grows. The reference keeps 75%;
/// small tables (instances' fields, mostly) fill further, which keeps an object with four
/// fields in four slots and one with six in eight, rather than eight and sixteen: a probe
/// there costs less than the cache misses of a sparse table.
#[inline]
fn max_load(capacity: usize) -> usize {
    match capacity {
        0..=4 => capacity,
        5..=8 => capacity - 1,
        _ => capacity / 4 * 3,
    }
}

enum Probe {
    Found(usize),
    /// Not there; this empty slot is where it would go.
    Vacant(usize),
    /// Not there, and no slot is empty.
    Full,
}

/// Linear probing from the key's hash, at most once around the table (small tables may be
/// full).
#[inline]
fn probe<'gc>(entries: &[Lock<Entry<'gc>>], key: Gc<'gc, LoxString<'gc>>) -> Probe {
    let mask = entries.len().wrapping_sub(1);
    let mut i = key.hash as usize & mask;
    for _ in 0..entries.len() {
        match entries[i].get().key {
            Some(k) if Gc::ptr_eq(k, key) => return Probe::Found(i),
            Some(_) => i = (i + 1) & mask,
            None => return Probe::Vacant(i),
        }
    }
    Probe::Full
}
