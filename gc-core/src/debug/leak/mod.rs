//! Leak-debug mode's reports. (Being written.)

use crate::arena::{Arena, Root, Rootable};
use crate::trace::Trace;

impl<R: for<'a> Rootable<'a>> Arena<R>
where
    for<'a> Root<'a, R>: Sized + Trace,
{
    /// Called after every full collection in leak-debug mode.
    pub(crate) fn after_full_collection_for_leaks(&mut self) {}
}
