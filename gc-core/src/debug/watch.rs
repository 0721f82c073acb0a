//! Leak-debug mode's expectations: objects the embedder expects to die
//! ([`Mutation::watch`](crate::Mutation::watch), LeakCanary's `expectWeaklyReachable`). A
//! watched object that is still alive after `leak_watch_collections` full collections is
//! *retained*, and the leak report explains why. Filed by address, young and old apart, and
//! re-filed as objects move, like the identity table.

use std::panic::Location;

use crate::collector::weak::Liveness;
use crate::raw::{ObjPtr, FORWARDED};

/// One expectation.
#[derive(Clone, Debug)]
#[allow(dead_code)] // read by the leak reports
pub(crate) struct Watch {
    pub(crate) obj: ObjPtr,
    pub(crate) reason: String,
    /// Where `watch` was called.
    pub(crate) site: &'static Location<'static>,
    /// The number of full collections when `watch` was called.
    pub(crate) full_at_watch: u64,
}

#[derive(Default)]
pub(crate) struct Watches {
    young: Vec<Watch>,
    old: Vec<Watch>,
    /// Watched objects found dead so far (they met the expectation).
    pub(crate) collected: u64,
}

impl Watches {
    pub(crate) fn add(&mut self, watch: Watch, young: bool) {
        if young {
            self.young.push(watch);
        } else {
            self.old.push(watch);
        }
    }

    pub(crate) fn after_minor(&mut self, live: &dyn Liveness) {
        for mut watch in self.young.drain(..) {
            match live.live(watch.obj) {
                Some(now) => {
                    watch.obj = now;
                    self.old.push(watch);
                }
                None => self.collected += 1,
            }
        }
    }

    pub(crate) fn after_mark(&mut self, live: &dyn Liveness) {
        let before = self.old.len();
        self.old.retain(|w| live.live(w.obj).is_some());
        self.collected += (before - self.old.len()) as u64;
    }

    pub(crate) fn after_plan(&mut self) {
        for watch in &mut self.old {
            // SAFETY: a live object; its header is its type or a forwarding word.
            let word = unsafe { watch.obj.header() };
            if word & FORWARDED != 0 {
                // SAFETY: the forwarding word holds the planned address.
                watch.obj = unsafe { ObjPtr::from_addr(word & !FORWARDED) };
            }
        }
    }

    /// The watches of objects still alive, young and old.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Watch> {
        self.young.iter().chain(&self.old)
    }
}
