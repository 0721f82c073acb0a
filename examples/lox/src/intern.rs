//! The string intern table: every Lox string is interned, so that equal strings are one
//! object and tables and `==` compare them by identity.
//!
//! The table is weak: its slots hold `GcWeak`s, so an interned string that nothing else
//! uses is collected, and the collector clears its slot. A cleared slot is a tombstone
//! (probing goes on past it; an insertion may reuse it); when the slots fill up, the table is
//! rebuilt from the live strings, at a size fitted to them. The slots are a slice object in
//! the heap, like every other table's entries. The interface is `intern` (find or make the
//! string for some text) and `intern_concat`; nothing else reaches the slots.

use gc_core::{Gc, GcWeak, Lock, Mutation, Trace};

use crate::object::{hash_str, LoxString};

/// `None`: never used. A dead `GcWeak`: a tombstone.
type Slot<'gc> = Lock<Option<GcWeak<'gc, LoxString<'gc>>>>;

const MIN_SLOTS: usize = 64;

#[derive(Trace)]
pub(crate) struct Interner<'gc> {
    /// Open addressing, linear probing; capacity a power of two.
    slots: Gc<'gc, [Slot<'gc>]>,
    /// Slots that are not `None`: live strings and tombstones.
    used: usize,
}

impl<'gc> Interner<'gc> {
    pub(crate) fn new(mc: &Mutation<'gc>) -> Self {
        Interner { slots: mc.alloc_slice_fill_with(MIN_SLOTS, |_| Lock::new(None)), used: 0 }
    }

    /// The number of interned strings still alive (as of the last collection).
    pub(crate) fn len(&self) -> usize {
        self.live().count()
    }

    fn live(&self) -> impl Iterator<Item = Gc<'gc, LoxString<'gc>>> + '_ {
        self.slots.iter().filter_map(|slot| slot.get().and_then(GcWeak::upgrade))
    }

    /// The interned string with this text, made if there is none.
    pub(crate) fn intern(&mut self, mc: &Mutation<'gc>, text: &str) -> Gc<'gc, LoxString<'gc>> {
        let hash = hash_str(text.as_bytes());
        match self.lookup(text, hash) {
            Ok(s) => s,
            Err(slot) => self.insert(mc, slot, text, hash),
        }
    }

    /// The interned string `a + b`, made without a temporary when it already exists.
    pub(crate) fn intern_concat(
        &mut self,
        mc: &Mutation<'gc>,
        a: &str,
        b: &str,
    ) -> Gc<'gc, LoxString<'gc>> {
        let mut text = String::with_capacity(a.len() + b.len());
        text.push_str(a);
        text.push_str(b);
        self.intern(mc, &text)
    }

    /// The string, or the slot where it would go (the first tombstone on the way, if any).
    fn lookup(&self, text: &str, hash: u32) -> Result<Gc<'gc, LoxString<'gc>>, usize> {
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        let mut tombstone = None;
        loop {
            match self.slots[i].get() {
                None => return Err(tombstone.unwrap_or(i)),
                Some(weak) => match weak.upgrade() {
                    Some(s) if s.hash == hash && s.as_str() == text => return Ok(s),
                    Some(_) => {}
                    None => {
                        tombstone.get_or_insert(i);
                    }
                },
            }
            i = (i + 1) & mask;
        }
    }

    fn insert(
        &mut self,
        mc: &Mutation<'gc>,
        mut slot: usize,
        text: &str,
        hash: u32,
    ) -> Gc<'gc, LoxString<'gc>> {
        let s = Gc::new(mc, LoxString { hash, chars: mc.alloc_str(text) });
        let reuses_tombstone = self.slots[slot].get().is_some();
        if !reuses_tombstone && (self.used + 1) * 4 > self.slots.len() * 3 {
            self.rebuild(mc);
            slot = match self.lookup(text, hash) {
                Err(vacant) => vacant,
                Ok(_) => unreachable!("the text was not interned"),
            };
        }
        if self.slots[slot].get().is_none() {
            self.used += 1;
        }
        Gc::write_at(mc, self.slots, slot).set(Some(Gc::downgrade(s)));
        s
    }

    /// Rehashes the live strings into a table at most half full after the insertion to come:
    /// larger if they are many, smaller if most died.
    fn rebuild(&mut self, mc: &Mutation<'gc>) {
        let live: Vec<_> = self.live().collect();
        let capacity = ((live.len() + 1) * 2).next_power_of_two().max(MIN_SLOTS);
        let new: Gc<'gc, [Slot<'gc>]> = mc.alloc_slice_fill_with(capacity, |_| Lock::new(None));
        let mask = capacity - 1;
        let w = Gc::write(mc, new);
        for s in &live {
            let mut i = s.hash as usize & mask;
            while new[i].get().is_some() {
                i = (i + 1) & mask;
            }
            w.at(i).set(Some(Gc::downgrade(*s)));
        }
        self.slots = new;
        self.used = live.len();
    }
}
