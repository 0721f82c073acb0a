//! The string intern table: every Lox string is interned, so that equal strings are one
//! object and tables and `==` compare them by identity.
//!
//! The table's slots are a slice object in the heap, like every other table's entries. The
//! interface is `intern` (find or make the string for some text) and `intern_concat`;
//! nothing else reaches the slots. The issue asks for a weak table (an interned string nobody
//! uses is collected); gc-core does not have weak references yet, so for now the slots hold
//! their strings strongly — see the one `TODO(weak)` below. Switching means storing
//! `GcWeak` in the slots, upgrading in `lookup`, and clearing (or rebuilding without) the
//! dead entries after collections.

use gc_core::{Gc, Lock, Mutation, Trace};

use crate::object::{hash_str, LoxString};

// TODO(weak): these are strong references, so interned strings live as long as the VM.
// Make them `Option<GcWeak<'gc, LoxString<'gc>>>` once gc-core has weak references.
type Slot<'gc> = Lock<Option<Gc<'gc, LoxString<'gc>>>>;

#[derive(Trace)]
pub(crate) struct Interner<'gc> {
    /// Open addressing, linear probing; capacity a power of two.
    slots: Gc<'gc, [Slot<'gc>]>,
    count: usize,
}

impl<'gc> Interner<'gc> {
    pub(crate) fn new(mc: &Mutation<'gc>) -> Self {
        Interner { slots: mc.alloc_slice_fill_with(64, |_| Lock::new(None)), count: 0 }
    }

    /// The number of strings interned.
    pub(crate) fn len(&self) -> usize {
        self.count
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

    fn lookup(&self, text: &str, hash: u32) -> Result<Gc<'gc, LoxString<'gc>>, usize> {
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            match self.slots[i].get() {
                None => return Err(i),
                Some(s) if s.hash == hash && s.as_str() == text => return Ok(s),
                Some(_) => i = (i + 1) & mask,
            }
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
        if (self.count + 1) * 4 > self.slots.len() * 3 {
            self.grow(mc);
            slot = match self.lookup(text, hash) {
                Err(empty) => empty,
                Ok(_) => unreachable!("the text was not interned"),
            };
        }
        Gc::write(mc, self.slots).at(slot).set(Some(s));
        self.count += 1;
        s
    }

    fn grow(&mut self, mc: &Mutation<'gc>) {
        let old = self.slots;
        let new: Gc<'gc, [Slot<'gc>]> =
            mc.alloc_slice_fill_with(old.len() * 2, |_| Lock::new(None));
        let mask = new.len() - 1;
        let w = Gc::write(mc, new);
        for s in old.iter().filter_map(Lock::get) {
            let mut i = s.hash as usize & mask;
            while new[i].get().is_some() {
                i = (i + 1) & mask;
            }
            w.at(i).set(Some(s));
        }
        self.slots = new;
    }
}
