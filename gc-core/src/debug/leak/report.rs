//! The leak report: retained watched objects with their leak traces, grouped by signature, and
//! the roots whose retained size keeps growing.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

use super::analysis::{Analysis, EdgeAt, Origin};
use super::format::{fnv64, normalize_indices, type_name, Bytes, FastMap, Site};
use super::growth::GrowingRoot;

/// A watch as the report sees it.
pub(crate) struct WatchInfo {
    pub(crate) address: usize,
    pub(crate) reason: String,
    pub(crate) site: Site,
    pub(crate) full_at_watch: u64,
}

/// What the report is computed against.
pub(crate) struct Context<'a> {
    pub(crate) watches: Vec<WatchInfo>,
    pub(crate) full_collections: u64,
    pub(crate) watch_collections: u32,
    pub(crate) collected: u64,
    /// The collection count now (births count minor and full collections).
    pub(crate) epoch: u64,
    /// The arena root's type.
    pub(crate) root_type: &'a str,
    pub(crate) growing_roots: Vec<GrowingRoot>,
}

/// The leak report ([`Arena::leak_report`](crate::Arena::leak_report)).
///
/// `Display` prints it as text, LeakCanary style; `serde::Serialize` gives JSON
/// ([`LeakReport::to_json`]).
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct LeakReport {
    /// Full collections so far.
    pub full_collections: u64,
    /// After how many full collections a watched object still alive counts as retained
    /// (`leak_watch_collections`).
    pub watch_collections: u32,
    /// Watched objects still alive (retained or not yet due).
    pub watched_alive: usize,
    /// Watched objects alive but watched for fewer than `watch_collections` full collections.
    pub pending: usize,
    /// Watched objects that died, as expected.
    pub collected: u64,
    /// The retained objects, grouped by the reference path that keeps them (largest retained
    /// size first).
    pub leaks: Vec<LeakGroup>,
    /// Roots whose retained size grew over each of the last `watch_collections` full
    /// collections, by growth.
    pub growing_roots: Vec<GrowingRoot>,
}

/// Retained objects that share a reference path (indices aside: `listeners[3]` and
/// `listeners[4]` are the same leak).
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct LeakGroup {
    /// A hash of `path`: stable across runs, for tracking a leak over time.
    pub signature: String,
    /// The normalized reference path: `handle "app" → app::App.windows[x] → app::Window`.
    pub path: String,
    /// How many retained objects have this path.
    pub count: usize,
    /// The sum of their retained sizes (objects retained by several of them count once per
    /// leak).
    pub retained_size: u64,
    /// Each leak, with its trace.
    pub leaks: Vec<Leak>,
}

/// One retained object and why it is alive.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct Leak {
    /// The retained object.
    pub object: LeakedObject,
    /// The shortest strong reference path from a root to it.
    pub trace: LeakTrace,
}

/// A retained object.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct LeakedObject {
    /// Its stable id (the heap graph's `GraphObject::id`).
    pub id: u64,
    /// Its id in heap snapshots.
    pub snapshot_id: u64,
    /// Its type.
    pub type_name: String,
    /// Why it was expected to die (the `watch` reason).
    pub reason: String,
    /// Where `watch` was called.
    pub watched_at: Site,
    /// Full collections since the watch.
    pub collections_since_watch: u64,
    /// Where it was allocated.
    pub allocated_at: Option<Site>,
    /// Collections (minor and full) since it was allocated.
    pub age: Option<u64>,
    /// Its own size in bytes, header included.
    pub shallow_size: u64,
    /// The bytes that would be freed if it died: everything it dominates.
    pub retained_size: u64,
    /// Its address now (it changes when the object moves).
    pub address: usize,
}

/// A leak trace: the root, then each reference of the path.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct LeakTrace {
    /// The root the path starts from.
    pub root: TraceRoot,
    /// The references, from the root to the leaking object.
    pub steps: Vec<TraceStep>,
}

/// The root of a leak trace.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct TraceRoot {
    /// `"arena"` or `"handle"`.
    pub kind: &'static str,
    /// `arena root.listeners` (the root value's field the path starts with), or `handle
    /// "name"`.
    pub label: String,
    /// The root value's type (arena root), or the handle's name.
    pub detail: Option<String>,
    /// Where the handle was created.
    pub site: Option<Site>,
}

/// How a reference holds its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReferenceKind {
    /// A handle holding its object.
    Handle,
    /// A field, element, variant or map value of the root value or an object.
    Field,
    /// An ephemeron table's value, alive because its key (the step's owner) is.
    EphemeronValue,
}

/// What is known about an object of a trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LeakStatus {
    /// Expected alive: a root, or older than the leaking object.
    NotLeaking(String),
    /// Expected dead: watched, or allocated with the leaking object (same collection epoch or
    /// later).
    Leaking(String),
    /// Nothing is known (no allocation record).
    Unknown,
}

/// One reference of a leak trace: `owner` holds the next object through `reference`.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct TraceStep {
    /// The owner's type, or the root's label.
    pub owner: String,
    /// The owner's stable id (`None` for a root).
    pub owner_id: Option<u64>,
    /// What is known about the owner.
    pub owner_status: LeakStatus,
    /// The reference: `.listeners[3]`, `::Some.0`, `[value]`; for an ephemeron value, the
    /// table's path and the value's.
    pub reference: String,
    /// How the reference holds.
    pub kind: ReferenceKind,
    /// Whether the reference is a suspect: it lies between the last object known not to be
    /// leaking and the first one known to be (LeakCanary's `~~~` underline). The injected
    /// reference of a leak is among them, usually alone.
    pub suspect: bool,
    /// The object the reference leads to (the next step's owner, or the leaking object).
    pub target_type: String,
}

impl LeakReport {
    /// Whether nothing was found: no retained watched object, no growing root.
    pub fn is_empty(&self) -> bool {
        self.leaks.is_empty() && self.growing_roots.is_empty()
    }

    /// The number of retained watched objects.
    pub fn leak_count(&self) -> usize {
        self.leaks.iter().map(|g| g.count).sum()
    }

    /// The report as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report serializes")
    }

    /// Every leak, group by group.
    pub fn all_leaks(&self) -> impl Iterator<Item = &Leak> {
        self.leaks.iter().flat_map(|g| &g.leaks)
    }
}

impl TraceStep {
    /// `app::Registry.listeners[3]`.
    pub fn text(&self) -> String {
        match self.kind {
            ReferenceKind::Handle => format!("{} (the handle holds it)", self.owner),
            _ => format!("{}{}", self.owner, self.reference),
        }
    }
}

impl Leak {
    /// The suspect references, as text (`app::Registry.listeners[3]`).
    pub fn suspects(&self) -> Vec<String> {
        self.trace.steps.iter().filter(|s| s.suspect).map(TraceStep::text).collect()
    }
}

pub(crate) fn build(analysis: &Analysis, context: Context<'_>) -> LeakReport {
    let graph = &analysis.graph;
    let by_address: FastMap<usize, usize> =
        graph.objects.iter().enumerate().map(|(i, o)| (o.address, i)).collect();
    let watched: HashMap<usize, &WatchInfo> = context
        .watches
        .iter()
        .filter_map(|w| by_address.get(&w.address).map(|&o| (o, w)))
        .collect();
    let k = context.watch_collections as u64;
    let mut pending = 0;
    let mut leaks = Vec::new();
    for watch in &context.watches {
        let since = context.full_collections.saturating_sub(watch.full_at_watch);
        if since < k {
            pending += 1;
            continue;
        }
        let Some(&object) = by_address.get(&watch.address) else { continue };
        let node = analysis.node_of(object);
        let Some(path) = analysis.path_nodes(node) else {
            // Reachable only as garbage floating since the last collection: it dies next time.
            continue;
        };
        let o = &graph.objects[object];
        let leaked = LeakedObject {
            id: o.id,
            snapshot_id: super::snapshot::object_id(analysis, object),
            type_name: type_name(o.type_name),
            reason: watch.reason.clone(),
            watched_at: watch.site,
            collections_since_watch: since,
            allocated_at: o.site.map(Site::of),
            age: o.birth.map(|b| context.epoch.saturating_sub(b)),
            shallow_size: o.size as u64,
            retained_size: analysis.retained[node],
            address: o.address,
        };
        let trace = trace(analysis, &path, object, &watched, context.root_type);
        leaks.push(Leak { object: leaked, trace });
    }

    // Group by normalized path.
    let mut groups: Vec<LeakGroup> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for leak in leaks {
        let path = signature_path(&leak);
        let g = *index.entry(path.clone()).or_insert_with(|| {
            groups.push(LeakGroup {
                signature: format!("{:016x}", fnv64(&path)),
                path,
                count: 0,
                retained_size: 0,
                leaks: Vec::new(),
            });
            groups.len() - 1
        });
        groups[g].count += 1;
        groups[g].retained_size += leak.object.retained_size;
        groups[g].leaks.push(leak);
    }
    groups.sort_by(|a, b| b.retained_size.cmp(&a.retained_size).then(a.path.cmp(&b.path)));

    LeakReport {
        full_collections: context.full_collections,
        watch_collections: context.watch_collections,
        watched_alive: context.watches.len(),
        pending,
        collected: context.collected,
        leaks: groups,
        growing_roots: context.growing_roots,
    }
}

/// `handle "app" → app::App.windows[x] → app::Window`.
fn signature_path(leak: &Leak) -> String {
    let mut path = match leak.trace.root.kind {
        "arena" => "arena root".to_string(),
        _ => leak.trace.root.label.clone(),
    };
    for step in &leak.trace.steps {
        match step.kind {
            ReferenceKind::Handle => {}
            ReferenceKind::Field | ReferenceKind::EphemeronValue if step.owner_id.is_none() => {
                path.push_str(&normalize_indices(&step.reference));
            }
            _ => {
                path.push_str(" → ");
                path.push_str(&step.owner);
                path.push_str(&normalize_indices(&step.reference));
            }
        }
    }
    path.push_str(" → ");
    path.push_str(&leak.object.type_name);
    path
}

/// The reference text of retention edge `e` out of node `source`, and its kind.
pub(crate) fn reference(analysis: &Analysis, source: usize, e: usize) -> (String, ReferenceKind) {
    match analysis.origins[e] {
        Origin::Virtual => (String::new(), ReferenceKind::Field),
        Origin::Edge(_) if source >= analysis.handle_node(0) && source < analysis.base => {
            (String::new(), ReferenceKind::Handle)
        }
        Origin::Edge(at) => (analysis.edge(at).path_text(), ReferenceKind::Field),
        Origin::EphemeronKey { edge, key_edge, table } => (
            ephemeron_text(analysis, edge, key_edge, table as usize),
            ReferenceKind::EphemeronValue,
        ),
    }
}

/// ` (key in app::Cache.table) → value.window`: the table's place, then the path inside the
/// value.
pub(crate) fn ephemeron_text(analysis: &Analysis, at: EdgeAt, key: EdgeAt, table: usize) -> String {
    let value = analysis.edge(at);
    let key = analysis.edge(key);
    let owner = match analysis.object_of(table) {
        Some(o) => type_name(analysis.graph.objects[o].type_name),
        None => "arena root".to_string(),
    };
    let table_path: String = key.path.iter().map(|l| l.to_string()).collect();
    let inside: String = value.path[key.path.len()..].iter().map(|l| l.to_string()).collect();
    format!(" (key in {owner}{table_path}) → value{inside}")
}

fn trace(
    analysis: &Analysis,
    path: &[usize],
    object: usize,
    watched: &HashMap<usize, &WatchInfo>,
    root_type: &str,
) -> LeakTrace {
    let graph = &analysis.graph;
    let leaking_birth = graph.objects[object].birth;
    // path = [GC roots, (Arena root) | (Handles), group | handle, objects…]
    let root_node = path[2];
    let root = if path[1] == 1 {
        TraceRoot {
            kind: "arena",
            label: analysis.virtual_name(root_node),
            detail: Some(type_name(root_type)),
            site: None,
        }
    } else {
        let r = &graph.roots[analysis.handles[root_node - analysis.handle_node(0)]];
        TraceRoot {
            kind: "handle",
            label: r.label.clone(),
            detail: r.name.clone(),
            site: r.site.map(Site::of),
        }
    };
    let mut steps = Vec::new();
    for i in 2..path.len() - 1 {
        let (owner_node, target) = (path[i], path[i + 1]);
        let e = analysis.parent_edge[target] as usize;
        let (reference, kind) = reference(analysis, owner_node, e);
        let (owner, owner_id, owner_status) = match analysis.object_of(owner_node) {
            None => (
                if kind == ReferenceKind::Handle {
                    root.label.clone()
                } else {
                    "arena root".into()
                },
                None,
                LeakStatus::NotLeaking("a GC root".into()),
            ),
            Some(o) => {
                let obj = &graph.objects[o];
                let status = match (watched.get(&o), obj.birth, leaking_birth) {
                    (Some(w), _, _) => LeakStatus::Leaking(format!("watched: \"{}\"", w.reason)),
                    (None, Some(b), Some(l)) if b < l => LeakStatus::NotLeaking(format!(
                        "allocated at collection {b}, before the leaking object (collection {l})"
                    )),
                    (None, Some(b), Some(_)) => LeakStatus::Leaking(format!(
                        "allocated at collection {b}, with or after the leaking object"
                    )),
                    _ => LeakStatus::Unknown,
                };
                (type_name(obj.type_name), Some(obj.id), status)
            }
        };
        let target_type = match analysis.object_of(target) {
            Some(o) => type_name(graph.objects[o].type_name),
            None => String::new(),
        };
        steps.push(TraceStep {
            owner,
            owner_id,
            owner_status,
            reference,
            kind,
            suspect: false,
            target_type,
        });
    }
    // Suspects: from the last owner known not to leak to the first known to leak (the leaking
    // object itself ends the path).
    let last_not = steps.iter().rposition(|s| matches!(s.owner_status, LeakStatus::NotLeaking(_)));
    let start = last_not.unwrap_or(0);
    let end = steps[start..]
        .iter()
        .skip(1)
        .position(|s| matches!(s.owner_status, LeakStatus::Leaking(_)))
        .map_or(steps.len(), |p| start + 1 + p);
    for step in &mut steps[start..end] {
        step.suspect = true;
    }
    LeakTrace { root, steps }
}

impl fmt::Display for LeakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Leak report after {} full collections: {} retained object{} in {} group{} \
             ({} watched alive, {} pending, {} collected as expected; retained = alive after {} \
             full collections)",
            self.full_collections,
            self.leak_count(),
            if self.leak_count() == 1 { "" } else { "s" },
            self.leaks.len(),
            if self.leaks.len() == 1 { "" } else { "s" },
            self.watched_alive,
            self.pending,
            self.collected,
            self.watch_collections,
        )?;
        if self.is_empty() {
            return writeln!(f, "No leaks found.");
        }
        for group in &self.leaks {
            writeln!(f)?;
            writeln!(
                f,
                "{} leak{} with signature {} ({} retained):",
                group.count,
                if group.count == 1 { "" } else { "s" },
                group.signature,
                Bytes(group.retained_size),
            )?;
            writeln!(f, "  {}", group.path)?;
            let first = &group.leaks[0];
            write!(f, "{}", TraceDisplay(first))?;
            for other in group.leaks.iter().skip(1).take(5) {
                writeln!(f, "  and {}", object_line(&other.object))?;
            }
            if group.leaks.len() > 6 {
                writeln!(f, "  and {} more", group.leaks.len() - 6)?;
            }
        }
        if !self.growing_roots.is_empty() {
            writeln!(f)?;
            writeln!(
                f,
                "Unexpectedly retained roots (retained size grew at each of the last {} full \
                 collections):",
                self.watch_collections
            )?;
            for (i, root) in self.growing_roots.iter().enumerate() {
                writeln!(f, "{:>3}. {root}", i + 1)?;
            }
        }
        Ok(())
    }
}

fn object_line(o: &LeakedObject) -> String {
    let mut line =
        format!("{} (leaking: \"{}\", watched at {}", o.type_name, o.reason, o.watched_at);
    if let Some(site) = o.allocated_at {
        line.push_str(&format!("; allocated at {site}"));
    }
    if let Some(age) = o.age {
        line.push_str(&format!(", age {age} collection{}", if age == 1 { "" } else { "s" }));
    }
    line.push_str(&format!(
        ", {} shallow, {} retained)",
        Bytes(o.shallow_size),
        Bytes(o.retained_size)
    ));
    line
}

struct TraceDisplay<'a>(&'a Leak);

impl fmt::Display for TraceDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let leak = self.0;
        let root = &leak.trace.root;
        writeln!(f, "┬───")?;
        write!(f, "│ GC root: {}", root.label)?;
        match (root.kind, &root.detail, root.site) {
            ("arena", Some(t), _) => write!(f, " (the arena's root value, {t})")?,
            (_, _, Some(site)) => write!(f, " (created at {site})")?,
            _ => {}
        }
        writeln!(f)?;
        writeln!(f, "│")?;
        for step in &leak.trace.steps {
            let status = match &step.owner_status {
                LeakStatus::NotLeaking(why) => format!("Leaking: NO ({why})"),
                LeakStatus::Leaking(why) => format!("Leaking: YES ({why})"),
                LeakStatus::Unknown => "Leaking: UNKNOWN".to_string(),
            };
            writeln!(f, "├─ {}", step.owner)?;
            writeln!(f, "│    {status}")?;
            let (head, reference) = match step.kind {
                ReferenceKind::Handle => (String::new(), "(the handle holds it)".to_string()),
                _ => (step.owner.clone(), step.reference.clone()),
            };
            writeln!(f, "│    ↓ {head}{reference}")?;
            if step.suspect {
                let pad = head.chars().count();
                let width = reference.chars().count().max(1);
                writeln!(f, "│      {}{}", " ".repeat(pad), "~".repeat(width))?;
            }
        }
        writeln!(f, "╰→ {}", object_line(&leak.object))
    }
}
