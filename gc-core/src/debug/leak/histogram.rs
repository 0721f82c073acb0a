//! The class histogram (`jcmd <pid> GC.class_histogram`): per type, the live instances and
//! their bytes, and the difference from an earlier histogram.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

use super::format::type_name;
use crate::debug::graph::HeapGraph;

/// Live instances and bytes per type ([`Arena::class_histogram`](crate::Arena::class_histogram)),
/// largest first.
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct ClassHistogram {
    /// One entry per type, by bytes (then name).
    pub entries: Vec<HistogramEntry>,
    /// All live objects.
    pub total_instances: u64,
    /// Their bytes, headers included.
    pub total_bytes: u64,
}

/// One type of a [`ClassHistogram`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct HistogramEntry {
    /// The type (lifetimes stripped).
    pub type_name: String,
    /// Live instances.
    pub instances: u64,
    /// Their shallow bytes, headers included.
    pub bytes: u64,
}

/// The difference between two histograms ([`ClassHistogram::diff`]): the types whose count
/// or bytes changed, by the size of the change.
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct HistogramDiff {
    /// The types that changed, largest change in bytes first.
    pub entries: Vec<HistogramDiffEntry>,
    /// Change of the total instances.
    pub instances_delta: i64,
    /// Change of the total bytes.
    pub bytes_delta: i64,
}

/// One type of a [`HistogramDiff`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct HistogramDiffEntry {
    /// The type.
    pub type_name: String,
    /// Instances now.
    pub instances: u64,
    /// Bytes now.
    pub bytes: u64,
    /// Instances now minus instances before.
    pub instances_delta: i64,
    /// Bytes now minus bytes before.
    pub bytes_delta: i64,
}

impl ClassHistogram {
    pub(crate) fn from_graph(graph: &HeapGraph) -> ClassHistogram {
        // Type names are `&'static str`s from the type infos: count by pointer-equal strings
        // first, then merge the (few) names that differ only in lifetimes.
        let mut raw: HashMap<&'static str, (u64, u64)> = HashMap::new();
        for o in graph.objects() {
            let e = raw.entry(o.type_name).or_default();
            e.0 += 1;
            e.1 += o.size as u64;
        }
        let mut merged: HashMap<String, (u64, u64)> = HashMap::new();
        for (name, (n, b)) in raw {
            let e = merged.entry(type_name(name)).or_default();
            e.0 += n;
            e.1 += b;
        }
        let mut entries: Vec<HistogramEntry> = merged
            .into_iter()
            .map(|(type_name, (instances, bytes))| HistogramEntry { type_name, instances, bytes })
            .collect();
        entries.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.type_name.cmp(&b.type_name)));
        ClassHistogram {
            total_instances: entries.iter().map(|e| e.instances).sum(),
            total_bytes: entries.iter().map(|e| e.bytes).sum(),
            entries,
        }
    }

    /// The entry of a type, by its name as printed (lifetimes stripped).
    pub fn get(&self, type_name: &str) -> Option<&HistogramEntry> {
        self.entries.iter().find(|e| e.type_name == type_name)
    }

    /// What changed since `previous`.
    pub fn diff(&self, previous: &ClassHistogram) -> HistogramDiff {
        let before: HashMap<&str, &HistogramEntry> =
            previous.entries.iter().map(|e| (e.type_name.as_str(), e)).collect();
        let mut seen = std::collections::HashSet::new();
        let mut entries = Vec::new();
        for e in &self.entries {
            seen.insert(e.type_name.as_str());
            let (n0, b0) =
                before.get(e.type_name.as_str()).map_or((0, 0), |p| (p.instances, p.bytes));
            if (n0, b0) != (e.instances, e.bytes) {
                entries.push(HistogramDiffEntry {
                    type_name: e.type_name.clone(),
                    instances: e.instances,
                    bytes: e.bytes,
                    instances_delta: e.instances as i64 - n0 as i64,
                    bytes_delta: e.bytes as i64 - b0 as i64,
                });
            }
        }
        for p in &previous.entries {
            if !seen.contains(p.type_name.as_str()) {
                entries.push(HistogramDiffEntry {
                    type_name: p.type_name.clone(),
                    instances: 0,
                    bytes: 0,
                    instances_delta: -(p.instances as i64),
                    bytes_delta: -(p.bytes as i64),
                });
            }
        }
        entries.sort_by(|a, b| {
            b.bytes_delta
                .unsigned_abs()
                .cmp(&a.bytes_delta.unsigned_abs())
                .then_with(|| a.type_name.cmp(&b.type_name))
        });
        HistogramDiff {
            entries,
            instances_delta: self.total_instances as i64 - previous.total_instances as i64,
            bytes_delta: self.total_bytes as i64 - previous.total_bytes as i64,
        }
    }

    /// The histogram as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a histogram serializes")
    }
}

impl HistogramDiff {
    /// The entry of a type, if it changed.
    pub fn get(&self, type_name: &str) -> Option<&HistogramDiffEntry> {
        self.entries.iter().find(|e| e.type_name == type_name)
    }

    /// The diff as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a histogram diff serializes")
    }
}

impl fmt::Display for ClassHistogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, " num     #instances         #bytes  class name")?;
        writeln!(f, "----------------------------------------------")?;
        for (i, e) in self.entries.iter().enumerate() {
            writeln!(f, "{:>4}: {:>14} {:>14}  {}", i + 1, e.instances, e.bytes, e.type_name)?;
        }
        writeln!(f, "Total {:>14} {:>14}", self.total_instances, self.total_bytes)
    }
}

impl fmt::Display for HistogramDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, " num     #instances  (change)         #bytes    (change)  class name")?;
        writeln!(f, "-----------------------------------------------------------------------")?;
        for (i, e) in self.entries.iter().enumerate() {
            writeln!(
                f,
                "{:>4}: {:>14} {:>+10} {:>14} {:>+11}  {}",
                i + 1,
                e.instances,
                e.instances_delta,
                e.bytes,
                e.bytes_delta,
                e.type_name
            )?;
        }
        writeln!(
            f,
            "Total {:>25} {:>26}",
            format!("{:+}", self.instances_delta),
            format!("{:+}", self.bytes_delta)
        )
    }
}
