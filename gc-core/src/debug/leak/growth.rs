//! Unexpectedly retained roots: after every full collection (in leak-debug mode) the retained
//! size of each root is recorded; a root whose retained size grew at each of the last K full
//! collections is reported, with its creation site. This finds the leak nobody thought to
//! watch: a global map that keeps growing, a cache that never evicts, a list of listeners.
//!
//! A *root* here is finer than the arena root as a whole: each first step of the arena root's
//! paths (`arena root.cache`, `arena root.listeners`) is a root of its own, and so is every
//! handle. The history is kept per heap (by the heap's id) in a process-wide table, K + 1
//! samples each.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::Mutex;

use serde::Serialize;

use super::analysis::Analysis;
use super::format::{Bytes, Site};

/// A root whose retained size grew at each of the last K full collections.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct GrowingRoot {
    /// `arena root.cache` or `handle "name"`.
    pub label: String,
    /// `"arena"` or `"handle"`.
    pub kind: &'static str,
    /// Where the handle was created (a part of the arena root has none).
    pub site: Option<Site>,
    /// The retained size after each of the last K + 1 full collections, oldest first.
    pub retained_sizes: Vec<u64>,
    /// Growth over those collections, in bytes.
    pub growth: u64,
}

impl fmt::Display for GrowingRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let first = self.retained_sizes.first().copied().unwrap_or(0);
        let last = self.retained_sizes.last().copied().unwrap_or(0);
        write!(f, "{}: +{} ({} → {})", self.label, Bytes(self.growth), Bytes(first), Bytes(last))?;
        if let Some(site) = self.site {
            write!(f, ", created at {site}")?;
        }
        Ok(())
    }
}

/// Identifies a root across collections.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum RootKey {
    /// A group of the arena root, by its label.
    Group(String),
    /// A handle, by its slot's address and creation site.
    Handle(usize, usize),
}

#[derive(Clone, Debug)]
pub(crate) struct Sample {
    pub(crate) key: RootKey,
    pub(crate) label: String,
    pub(crate) kind: &'static str,
    pub(crate) site: Option<Site>,
    pub(crate) retained: u64,
}

/// Samples per heap id, the newest last.
static HISTORY: Mutex<BTreeMap<u64, VecDeque<Vec<Sample>>>> = Mutex::new(BTreeMap::new());

/// The retained size of every root in `analysis`. `handle_keys` identifies the graph's handle
/// roots, in order.
pub(crate) fn samples(analysis: &Analysis, handle_keys: &[(usize, usize)]) -> Vec<Sample> {
    let mut samples = Vec::with_capacity(analysis.groups.len() + analysis.handles.len());
    for (g, group) in analysis.groups.iter().enumerate() {
        let label = group.name();
        samples.push(Sample {
            key: RootKey::Group(label.clone()),
            label,
            kind: "arena",
            site: None,
            retained: analysis.retained[analysis.group_node(g)],
        });
    }
    for (h, &root) in analysis.handles.iter().enumerate() {
        let r = &analysis.graph.roots[root];
        let (addr, site) = handle_keys.get(h).copied().unwrap_or((0, 0));
        samples.push(Sample {
            key: RootKey::Handle(addr, site),
            label: r.label.clone(),
            kind: "handle",
            site: r.site.map(Site::of),
            retained: analysis.retained[analysis.handle_node(h)],
        });
    }
    samples
}

/// Files the samples of a full collection; keeps the last `keep`.
pub(crate) fn record(heap: u64, samples: Vec<Sample>, keep: usize) {
    let mut history = HISTORY.lock().unwrap_or_else(|e| e.into_inner());
    let entry = history.entry(heap).or_default();
    entry.push_back(samples);
    while entry.len() > keep {
        entry.pop_front();
    }
}

/// Forgets a heap's history (when the heap is dropped).
pub(crate) fn forget(heap: u64) {
    HISTORY.lock().unwrap_or_else(|e| e.into_inner()).remove(&heap);
}

/// The roots that grew at each of the last `k` full collections (`k + 1` samples), by growth.
pub(crate) fn growing(heap: u64, k: usize) -> Vec<GrowingRoot> {
    let history = HISTORY.lock().unwrap_or_else(|e| e.into_inner());
    let Some(samples) = history.get(&heap) else { return Vec::new() };
    if samples.len() < k + 1 {
        return Vec::new();
    }
    let window: Vec<&Vec<Sample>> = samples.iter().skip(samples.len() - (k + 1)).collect();
    let mut out = Vec::new();
    'roots: for last in window[k] {
        let mut sizes = Vec::with_capacity(k + 1);
        for sample in &window {
            match sample.iter().find(|s| s.key == last.key) {
                Some(s) => sizes.push(s.retained),
                None => continue 'roots,
            }
        }
        if sizes.windows(2).all(|w| w[1] > w[0]) {
            out.push(GrowingRoot {
                label: last.label.clone(),
                kind: last.kind,
                site: last.site,
                growth: sizes[k] - sizes[0],
                retained_sizes: sizes,
            });
        }
    }
    out.sort_by(|a, b| b.growth.cmp(&a.growth).then(a.label.cmp(&b.label)));
    out
}

#[cfg(test)]
mod tests {
    use crate::{Arena, HeapConfig, Rootable};

    /// The history is process-wide: a dropped arena's must go with it, or a process that
    /// creates many arenas (a fuzzer, a server with one per request) grows without bound.
    #[test]
    fn a_dropped_heap_forgets_its_history() {
        let config = HeapConfig::builder().leak_debug(true).build().unwrap();
        let mut arena = Arena::<Rootable![Vec<u64>]>::new(config, |_| vec![1, 2, 3]);
        arena.collect_full();
        let id = arena.heap.id;
        assert!(super::HISTORY.lock().unwrap().contains_key(&id));
        drop(arena);
        assert!(!super::HISTORY.lock().unwrap().contains_key(&id));
    }
}
