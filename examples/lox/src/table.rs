//! Hash tables keyed by interned strings: fields, methods, globals.
//!
//! Open addressing with linear probing, like the reference. A key of a traced `HashMap`
//! cannot hold a `Gc` (the collector cannot rewrite keys in place), and a string's address
//! is no identity in a moving heap anyway: the probe starts at the string's cached hash and
//! compares keys by identity, which interning makes content equality.
//!
//! The entries are a slice object in the heap, so a table costs no `malloc` and no
//! destructor. Lox never deletes a field, method or global, so there are no tombstones.

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
}

impl<'gc> Table<'gc> {
    /// An empty table, sharing `empty` (a zero-length entries object) until it grows.
    pub(crate) fn new(empty: Entries<'gc>) -> Self {
        Table { entries: Lock::new(empty), count: Cell::new(0) }
    }

    #[inline]
    pub(crate) fn get(&self, key: Gc<'gc, LoxString<'gc>>) -> Option<Value<'gc>> {
        let entries = self.entries.get();
        let mask = entries.len().wrapping_sub(1);
        if entries.is_empty() {
            return None;
        }
        let mut i = key.hash as usize & mask;
        loop {
            let entry = entries[i].get();
            match entry.key {
                Some(k) if Gc::ptr_eq(k, key) => return Some(entry.value),
                Some(_) => i = (i + 1) & mask,
                None => return None,
            }
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
        let mut entries = self.entries.get();
        let count = self.count.get() as usize;
        if !entries.is_empty() {
            let i = find(&entries, key);
            if entries[i].get().key.is_some() {
                Gc::write(mc, entries).at(i).set(Entry { key: Some(key), value });
                return false;
            }
            if (count + 1) * 4 <= entries.len() * 3 {
                Gc::write(mc, entries).at(i).set(Entry { key: Some(key), value });
                self.count.set(count as u32 + 1);
                return true;
            }
        }
        entries = self.grown(mc);
        install(entries);
        let i = find(&entries, key);
        Gc::write(mc, entries).at(i).set(Entry { key: Some(key), value });
        self.count.set(count as u32 + 1);
        true
    }

    /// The entries rehashed into twice the capacity (at least 8, like the reference).
    #[cold]
    fn grown(&self, mc: &Mutation<'gc>) -> Entries<'gc> {
        let old = self.entries.get();
        let capacity = (old.len() * 2).max(8);
        let new: Entries<'gc> = mc.alloc_slice_fill_with(capacity, |_| Lock::new(empty()));
        let w = Gc::write(mc, new);
        for entry in old.iter().map(Lock::get) {
            if let Some(key) = entry.key {
                w.at(find(&new, key)).set(entry);
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

/// The slot holding `key`, or the empty slot where it would go. The table is never full.
#[inline]
fn find<'gc>(entries: &[Lock<Entry<'gc>>], key: Gc<'gc, LoxString<'gc>>) -> usize {
    let mask = entries.len() - 1;
    let mut i = key.hash as usize & mask;
    loop {
        match entries[i].get().key {
            Some(k) if !Gc::ptr_eq(k, key) => i = (i + 1) & mask,
            _ => return i,
        }
    }
}
