//! Leak-debug mode's record of every object: its allocation site, its birth (the collection
//! count when it was allocated), and an id that survives moves. Kept beside the heap, filed by
//! address like the identity table, young and old apart: the allocation path appends to a
//! list, minor collections file the survivors by their new address, full collections re-file
//! the objects that move and drop the dead.

use std::panic::Location;

use crate::collector::weak::Liveness;
use crate::identity::AddrMap;
use crate::raw::{ObjPtr, FORWARDED};

/// What is recorded for an object.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Birth {
    pub(crate) id: u64,
    pub(crate) site: &'static Location<'static>,
    pub(crate) epoch: u64,
}

#[derive(Default)]
pub(crate) struct Births {
    next_id: u64,
    young: Vec<(usize, Birth)>,
    old: AddrMap<Birth>,
}

impl Births {
    pub(crate) fn record(
        &mut self,
        obj: ObjPtr,
        young: bool,
        site: &'static Location<'static>,
        epoch: u64,
    ) {
        self.next_id += 1;
        let birth = Birth { id: self.next_id, site, epoch };
        if young {
            self.young.push((obj.addr(), birth));
        } else {
            self.old.insert(obj.addr(), birth);
        }
    }

    /// Every record, by address (for the graph builder).
    pub(crate) fn by_address(&self) -> AddrMap<Birth> {
        let mut all = self.old.clone();
        all.extend(self.young.iter().copied());
        all
    }

    pub(crate) fn after_minor(&mut self, live: &dyn Liveness) {
        for (addr, birth) in self.young.drain(..) {
            // SAFETY: the entry's object was a young object at `addr`.
            if let Some(now) = live.live(unsafe { ObjPtr::from_addr(addr) }) {
                self.old.insert(now.addr(), birth);
            }
        }
    }

    pub(crate) fn after_mark(&mut self, live: &dyn Liveness) {
        // SAFETY: every entry's object is an old or large object, valid until the sweep.
        self.old.retain(|&addr, _| live.live(unsafe { ObjPtr::from_addr(addr) }).is_some());
    }

    pub(crate) fn after_plan(&mut self) {
        let moved: Vec<(usize, usize, Birth)> = self
            .old
            .iter()
            .filter_map(|(&addr, &birth)| {
                // SAFETY: live objects, their headers now forwarding words or types.
                let word = unsafe { *(addr as *const usize) };
                (word & FORWARDED != 0 && word & !FORWARDED != addr).then_some((
                    addr,
                    word & !FORWARDED,
                    birth,
                ))
            })
            .collect();
        for &(from, _, _) in &moved {
            self.old.remove(&from);
        }
        for (_, to, birth) in moved {
            self.old.insert(to, birth);
        }
    }

    /// Every filed address (for the verifier).
    pub(crate) fn addresses(&self) -> impl Iterator<Item = usize> + '_ {
        self.young.iter().map(|(a, _)| *a).chain(self.old.keys().copied())
    }
}
