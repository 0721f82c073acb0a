//! Identity hashes that survive moving.
//!
//! A moving collector cannot hash an object by its address. The first time an object's
//! identity is asked for, it gets the next number of a counter (unique for the heap's life),
//! its header's `HASHED` bit is set, and the number is filed under its current address in a
//! side table; collections re-file the entries of objects that moved and drop those of objects
//! that died. An object that is never asked costs nothing; one that is costs one table entry,
//! and a lookup per ask. (The JVM's alternative, growing a hashed object by a word when it
//! first moves, would let objects grow during sliding compaction and break its invariant that
//! an object never moves forward.) Young entries sit in their own table, so that a minor
//! collection touches only the entries of young objects.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::collector::weak::Liveness;
use crate::raw::{ObjPtr, FORWARDED};

/// Hashes an address: 8-aligned, so a multiplication spreads it well (Fibonacci hashing).
#[derive(Default)]
pub(crate) struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64 ^ self.0).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ self.0).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

pub(crate) type AddrMap<V> = HashMap<usize, V, BuildHasherDefault<AddrHasher>>;

#[derive(Default)]
pub(crate) struct Identities {
    next: u64,
    young: AddrMap<u64>,
    old: AddrMap<u64>,
}

impl Identities {
    /// The identity of `obj`, assigned now if `assign` and it has none.
    pub(crate) fn get(&mut self, obj: ObjPtr, young: bool, assign: bool) -> Option<u64> {
        let table = if young { &mut self.young } else { &mut self.old };
        if !assign {
            return table.get(&obj.addr()).copied();
        }
        let next = &mut self.next;
        Some(*table.entry(obj.addr()).or_insert_with(|| {
            *next += 1;
            *next
        }))
    }

    /// After a minor collection: young entries follow their objects into the old table.
    pub(crate) fn after_minor(&mut self, live: &dyn Liveness) {
        for (addr, id) in self.young.drain() {
            // SAFETY: the entry's object was a young object at `addr`.
            if let Some(now) = live.live(unsafe { ObjPtr::from_addr(addr) }) {
                self.old.insert(now.addr(), id);
            }
        }
    }

    /// After marking: entries of dead objects go.
    pub(crate) fn after_mark(&mut self, live: &dyn Liveness) {
        // SAFETY: every entry's object is an old or large object, valid until the sweep.
        self.old.retain(|&addr, _| live.live(unsafe { ObjPtr::from_addr(addr) }).is_some());
    }

    /// After planning a compaction: entries of objects that will move are re-filed under their
    /// new address (read from the forwarding word).
    pub(crate) fn after_plan(&mut self) {
        let moved: Vec<(usize, usize, u64)> = self
            .old
            .iter()
            .filter_map(|(&addr, &id)| {
                // SAFETY: live objects, their headers now forwarding words or types.
                let word = unsafe { *(addr as *const usize) };
                (word & FORWARDED != 0 && word & !FORWARDED != addr).then_some((
                    addr,
                    word & !FORWARDED,
                    id,
                ))
            })
            .collect();
        for &(from, _, _) in &moved {
            self.old.remove(&from);
        }
        for (_, to, id) in moved {
            self.old.insert(to, id);
        }
    }

    /// Every entry: address and identity.
    pub(crate) fn all(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.young.iter().chain(self.old.iter()).map(|(&a, &id)| (a, id))
    }

    /// Every filed address, and whether it is filed as young.
    pub(crate) fn addresses(&self) -> impl Iterator<Item = (usize, bool)> + '_ {
        self.young.keys().map(|&a| (a, true)).chain(self.old.keys().map(|&a| (a, false)))
    }
}
