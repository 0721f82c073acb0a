//! The string intern table: every Lox string is interned, so that equal strings are one
//! object and tables and `==` compare them by identity.
//!
//! The interface is `intern` (find or make the string for some text) and `intern_concat`;
//! nothing else reaches the table's slots. The issue asks for a weak table (an interned
//! string nobody uses is collected); gc-core does not have weak references yet, so for now
//! the slots hold their strings strongly — see the one `TODO(weak)` below. Switching means
//! storing `GcWeak` in the slots, upgrading in `lookup`, and sweeping (or rebuilding) the
//! table of dead entries after each collection.

use gc_core::{Gc, Mutation, Trace};

use crate::object::{hash_str, LoxString};

#[derive(Trace)]
pub(crate) struct Interner<'gc> {
    // TODO(weak): these are strong references, so interned strings live as long as the VM.
    // Make them `Option<GcWeak<'gc, LoxString<'gc>>>` once gc-core has weak references.
    slots: Vec<Option<Gc<'gc, LoxString<'gc>>>>,
    count: usize,
}

impl<'gc> Interner<'gc> {
    pub(crate) fn new() -> Self {
        Interner { slots: vec![None; 64], count: 0 }
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
            match self.slots[i] {
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
            self.grow();
            slot = match self.lookup(text, hash) {
                Err(empty) => empty,
                Ok(_) => unreachable!("the text was not interned"),
            };
        }
        self.slots[slot] = Some(s);
        self.count += 1;
        s
    }

    fn grow(&mut self) {
        let old = std::mem::replace(&mut self.slots, vec![None; 0]);
        self.slots = vec![None; old.len() * 2];
        let mask = self.slots.len() - 1;
        for s in old.into_iter().flatten() {
            let mut i = s.hash as usize & mask;
            while self.slots[i].is_some() {
                i = (i + 1) & mask;
            }
            self.slots[i] = Some(s);
        }
    }
}
