#![cfg(feature = "leak-debug")]
//! The other reports: growing roots, the class histogram and its diff, JSON, and the reports
//! with the mode off.

use gc_core::{field, Arena, Gc, HeapConfig, RefLock, Rootable, Trace};

#[derive(Trace)]
struct Entry<'gc> {
    name: Gc<'gc, str>,
    data: Gc<'gc, [u64]>,
}

#[derive(Trace)]
struct Registry<'gc> {
    entries: RefLock<Vec<Gc<'gc, Entry<'gc>>>>,
}

#[derive(Trace)]
struct Globals<'gc> {
    cache: Vec<Gc<'gc, Entry<'gc>>>,
    steady: Vec<Gc<'gc, Entry<'gc>>>,
}

fn config(leak_debug: bool) -> HeapConfig {
    HeapConfig::builder()
        .leak_debug(leak_debug)
        .leak_watch_collections(2)
        .verify(true)
        .nursery_size(64 * 1024)
        .block_size(16 * 1024)
        .large_object_threshold(2 * 1024)
        .build()
        .unwrap()
}

fn entry<'gc>(mc: &'gc gc_core::Mutation<'gc>, i: usize) -> Gc<'gc, Entry<'gc>> {
    Gc::new(
        mc,
        Entry { name: mc.alloc_str(&format!("entry {i}")), data: mc.alloc_slice_copy(&[0u64; 8]) },
    )
}

#[test]
fn roots_that_keep_growing_are_reported_by_growth() {
    let mut arena = Arena::<Rootable![Globals<'_>]>::new(config(true), |_| Globals {
        cache: Vec::new(),
        steady: Vec::new(),
    });
    let registry = arena.mutate(|mc, _| {
        let r = Gc::new(mc, Registry { entries: RefLock::new(Vec::new()) });
        mc.named_handle::<Rootable![Registry<'_>]>(r, "registry")
    });
    let mut growth_seen = Vec::new();
    for round in 0..5 {
        arena.mutate_root(|mc, g| {
            // The cache grows by 3 entries a round, the registry by 1; `steady` is replaced.
            for i in 0..3 {
                g.cache.push(entry(mc, round * 10 + i));
            }
            let r = mc.fetch(&registry);
            field!(Gc::write(mc, r), Registry, entries).borrow_mut().push(entry(mc, round));
            g.steady = vec![entry(mc, 0)];
        });
        arena.collect_full();
        growth_seen.push(arena.leak_report().growing_roots.len());
    }
    // Two growths need three samples.
    assert_eq!(growth_seen[..2], [0, 0]);
    let report = arena.leak_report();
    assert_eq!(report.leaks.len(), 0);
    let labels: Vec<&str> = report.growing_roots.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["arena root.cache", "handle \"registry\""], "{report}");
    let cache = &report.growing_roots[0];
    assert_eq!(cache.retained_sizes.len(), 3);
    assert!(cache.retained_sizes.windows(2).all(|w| w[1] > w[0]));
    assert_eq!(cache.growth, cache.retained_sizes[2] - cache.retained_sizes[0]);
    let handle = &report.growing_roots[1];
    assert!(handle.site.unwrap().file.ends_with("leak_reports.rs"));
    assert!(cache.growth > handle.growth);
    let text = report.to_string();
    assert!(text.contains("Unexpectedly retained roots"), "{text}");
    assert!(text.contains("created at"), "{text}");

    // Growth stops: the report clears after K collections.
    arena.collect_full();
    arena.collect_full();
    assert!(arena.leak_report().growing_roots.is_empty());
}

#[test]
fn class_histogram_counts_types_and_diffs() {
    let mut arena = Arena::<Rootable![Vec<Gc<'_, Entry<'_>>>]>::new(config(true), |_| Vec::new());
    arena.mutate_root(|mc, v| v.extend((0..10).map(|i| entry(mc, i))));
    let before = arena.class_histogram();
    let e = before.get("leak_reports::Entry").unwrap();
    assert_eq!((e.instances, e.bytes), (10, 10 * 24));
    assert_eq!(before.get("[u64]").unwrap().instances, 10);
    assert_eq!(before.total_instances, 30);
    assert_eq!(before.total_bytes, before.entries.iter().map(|e| e.bytes).sum::<u64>());
    arena.mutate_root(|mc, v| {
        v.truncate(4);
        v.push(Gc::new(
            mc,
            Entry { name: mc.alloc_str("x"), data: mc.alloc_slice_copy(&[1; 100]) },
        ));
    });
    arena.collect_full();
    let after = arena.class_histogram();
    let diff = after.diff(&before);
    let entries = diff.get("leak_reports::Entry").unwrap();
    assert_eq!((entries.instances, entries.instances_delta), (5, -5));
    let slices = diff.get("[u64]").unwrap();
    assert_eq!(slices.instances_delta, -5);
    assert_eq!(slices.bytes_delta, (8 + 8 + 800) - 6 * (8 + 8 + 64));
    assert_eq!(diff.instances_delta, -15);
    // Sorted by the size of the change.
    assert!(diff.entries.windows(2).all(|w| w[0].bytes_delta.abs() >= w[1].bytes_delta.abs()));
    let text = after.to_string();
    assert!(text.contains("#instances") && text.contains("leak_reports::Entry"), "{text}");
    assert!(diff.to_string().contains("-5"));
    let json: serde_json::Value = serde_json::from_str(&after.to_json()).unwrap();
    assert_eq!(json["total_instances"], 15);
    let json: serde_json::Value = serde_json::from_str(&diff.to_json()).unwrap();
    assert_eq!(json["instances_delta"], -15);
}

#[test]
fn reports_work_with_the_mode_off() {
    let mut arena = Arena::<Rootable![Vec<Gc<'_, Entry<'_>>>]>::new(config(false), |_| Vec::new());
    arena.mutate_root(|mc, v| {
        let e = entry(mc, 1);
        mc.watch(e, "ignored: the mode is off");
        v.push(e);
    });
    arena.collect_full();
    arena.collect_full();
    arena.collect_full();
    let report = arena.leak_report();
    assert!(report.is_empty());
    assert_eq!(report.watched_alive, 0);
    assert_eq!(arena.class_histogram().total_instances, 3);
    let mut snapshot = Vec::new();
    arena.write_heap_snapshot(&mut snapshot).unwrap();
    let graph = v8_heap_parser::decode_slice(&snapshot).unwrap();
    assert_eq!(graph.nodes().len(), 3 + 4 + 1);
}

#[test]
fn watched_objects_are_pending_until_k_full_collections() {
    let config = HeapConfig::builder().leak_debug(true).leak_watch_collections(3).build().unwrap();
    let mut arena = Arena::<Rootable![Vec<Gc<'_, Entry<'_>>>]>::new(config, |_| Vec::new());
    arena.mutate_root(|mc, v| {
        let e = entry(mc, 1);
        mc.watch(e, "expected to go");
        v.push(e);
    });
    for k in 0..3 {
        let report = arena.leak_report();
        assert_eq!((report.pending, report.leak_count()), (1, 0), "after {k} collections");
        arena.collect_full();
    }
    let report = arena.leak_report();
    assert_eq!((report.pending, report.leak_count()), (0, 1));
    let leak = report.all_leaks().next().unwrap();
    assert_eq!(leak.object.collections_since_watch, 3);
    assert_eq!(leak.object.reason, "expected to go");
    assert_eq!(leak.suspects(), ["arena root[0]"]);
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    let object = &json["leaks"][0]["leaks"][0]["object"];
    assert_eq!(object["type_name"], "leak_reports::Entry");
    assert!(object["allocated_at"].as_str().unwrap().contains("leak_reports.rs:"));
    assert_eq!(object["retained_size"], 24 + 24 + 80);
}
