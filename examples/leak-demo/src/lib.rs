//! A worked example of gc-core's leak-debug mode: a tiny windowing toolkit on an event
//! emitter, of the kind a VM embedder writes. Each window subscribes a `resize` handler (a
//! closure that captures the window) when it opens; the buggy `close` forgets to unsubscribe
//! it, so every closed window stays reachable from the emitter. The leak report finds it; the
//! fix ([`Ui::close`] with `fixed`) removes the listener.
//!
//! The crate also builds the heaps that `scripts/memlab-check` exports as heap snapshots and
//! compares against memlab ([`snapshot_heaps`]).

#![allow(missing_debug_implementations)] // heap types: their `Gc` fields print as addresses

use gc_core::{field, Arena, EphemeronTable, Gc, GcWeak, HeapConfig, Mutation, RefLock, Rootable};
use gc_core::{Handle, Trace};

/// A window: a title and a canvas.
#[derive(Trace)]
pub struct Window<'gc> {
    /// Its title.
    pub title: Gc<'gc, str>,
    /// Its pixels.
    pub canvas: Gc<'gc, [u8]>,
    /// Its id.
    pub id: u32,
}

/// A script closure: the variables it captured.
#[derive(Trace)]
pub struct Closure<'gc> {
    /// The captured window (the handler redraws it).
    pub captured: Gc<'gc, Window<'gc>>,
}

/// A subscription: an event name and its handler.
#[derive(Trace)]
pub struct Listener<'gc> {
    /// The event (`"resize"`).
    pub event: Gc<'gc, str>,
    /// The handler.
    pub handler: Gc<'gc, Closure<'gc>>,
    /// Who subscribed (a window id), for `off`.
    pub owner: u32,
}

/// The event emitter: every subscription, in order.
#[derive(Trace)]
pub struct Emitter<'gc> {
    /// The subscriptions.
    pub listeners: RefLock<Vec<Gc<'gc, Listener<'gc>>>>,
}

/// The toolkit's root: the emitter and the open windows.
#[derive(Trace)]
pub struct Ui<'gc> {
    /// The application-wide event emitter.
    pub emitter: Gc<'gc, Emitter<'gc>>,
    /// The open windows.
    pub windows: Vec<Gc<'gc, Window<'gc>>>,
}

/// The arena of the demo.
pub type UiArena = Arena<Rootable![Ui<'_>]>;

/// A leak-debug arena with the toolkit started.
pub fn start() -> UiArena {
    let config = HeapConfig::builder().leak_debug(true).build().expect("a valid configuration");
    let mut arena = UiArena::new(config, |mc| Ui {
        emitter: Gc::new(mc, Emitter { listeners: RefLock::new(Vec::new()) }),
        windows: Vec::new(),
    });
    // Start-up is over: what exists now is long-lived.
    arena.collect_full();
    arena
}

impl<'gc> Ui<'gc> {
    /// Opens a window and subscribes its resize handler.
    pub fn open(&mut self, mc: &'gc Mutation<'gc>, id: u32) -> Gc<'gc, Window<'gc>> {
        let window = Gc::new(
            mc,
            Window {
                title: mc.alloc_str(&format!("Document {id}")),
                canvas: mc.alloc_slice_copy(&vec![0u8; 4096]),
                id,
            },
        );
        let handler = Gc::new(mc, Closure { captured: window });
        let listener = Gc::new(mc, Listener { event: mc.alloc_str("resize"), handler, owner: id });
        field!(Gc::write(mc, self.emitter), Emitter, listeners).borrow_mut().push(listener);
        self.windows.push(window);
        window
    }

    /// Closes a window. The buggy version (`fixed = false`) forgets its resize handler, which
    /// keeps the closure, which keeps the window. The window is watched: it should die.
    pub fn close(&mut self, mc: &'gc Mutation<'gc>, id: u32, fixed: bool) {
        let Some(at) = self.windows.iter().position(|w| w.id == id) else { return };
        let window = self.windows.remove(at);
        if fixed {
            // The fix: unsubscribe on close.
            field!(Gc::write(mc, self.emitter), Emitter, listeners)
                .borrow_mut()
                .retain(|l| l.owner != id);
        }
        mc.watch(window, "window closed");
    }
}

/// Runs the demo session: twelve frames, each opening a document window and closing the one
/// opened two frames earlier, with a full collection at the safepoint between frames (a real
/// program would call `collect_if_due`). The windows closed in the last two frames are not yet
/// due (`leak_watch_collections` is 2): they are *pending* in the report.
pub fn session(fixed: bool) -> UiArena {
    let mut arena = start();
    for frame in 0..12u32 {
        arena.mutate_root(|mc, ui| {
            ui.open(mc, frame);
            if frame >= 2 {
                ui.close(mc, frame - 2, fixed);
            }
        });
        arena.collect_full();
    }
    arena
}

// ---------------------------------------------------------------------------------------------
// Heaps for the snapshot check.

/// A key of the ephemeron table.
#[derive(Trace)]
pub struct Key {
    /// Its number.
    pub id: u32,
}

/// A node of the second test heap.
#[derive(Trace)]
pub struct Node<'gc> {
    /// Strong children (shared, cyclic).
    pub children: RefLock<Vec<Gc<'gc, Node<'gc>>>>,
    /// A weak reference.
    pub weak: RefLock<Option<GcWeak<'gc, Node<'gc>>>>,
    /// Bytes.
    pub payload: Gc<'gc, [u8]>,
}

/// A large object.
#[derive(Trace)]
pub struct Big<'gc> {
    /// What it holds.
    pub slots: RefLock<Vec<Gc<'gc, Node<'gc>>>>,
    /// Its bulk.
    pub padding: [u64; 2100],
}

/// The second test heap's root.
#[derive(Trace)]
pub struct Shapes<'gc> {
    /// Entry points.
    pub nodes: Vec<Gc<'gc, Node<'gc>>>,
    /// Values live while their keys do.
    pub table: EphemeronTable<'gc, Key, Gc<'gc, Node<'gc>>>,
    /// The keys kept alive.
    pub keys: Vec<Gc<'gc, Key>>,
    /// A large object.
    pub big: Option<Gc<'gc, Big<'gc>>>,
    /// A pinned object.
    pub pinned: Option<Gc<'gc, Node<'gc>>>,
}

/// The arena of the second heap.
pub type ShapesArena = Arena<Rootable![Shapes<'_>]>;

/// A handle to a node.
pub type NodeHandle = Handle<Rootable![Node<'_>]>;

/// A heap with shared subtrees, cycles, weak references, an ephemeron table, a large and a
/// pinned object, and handles (returned: they must outlive the snapshot).
pub fn shapes(n: usize) -> (ShapesArena, Vec<NodeHandle>) {
    let config = HeapConfig::builder().leak_debug(true).build().expect("a valid configuration");
    let mut arena = ShapesArena::new(config, |_| Shapes {
        nodes: Vec::new(),
        table: EphemeronTable::new(),
        keys: Vec::new(),
        big: None,
        pinned: None,
    });
    let handles = arena.mutate_root(|mc, s| {
        let node = |len: usize| {
            Gc::new(
                mc,
                Node {
                    children: RefLock::new(Vec::new()),
                    weak: RefLock::new(None),
                    payload: mc.alloc_slice_copy(&vec![1u8; len]),
                },
            )
        };
        let nodes: Vec<_> = (0..n).map(|i| node([4, 40, 400][i % 3])).collect();
        for (i, &a) in nodes.iter().enumerate() {
            let targets = [(i * 7 + 1) % n, (i * 13 + 5) % n, i / 2];
            for &t in &targets[..1 + i % 3] {
                field!(Gc::write(mc, a), Node, children).borrow_mut().push(nodes[t]);
            }
            *field!(Gc::write(mc, a), Node, weak).borrow_mut() =
                Some(Gc::downgrade(nodes[(i + 3) % n]));
        }
        s.nodes.extend([nodes[0], nodes[n / 3]]);
        for k in 0..4 {
            let key = Gc::new(mc, Key { id: k });
            let value = node(100);
            field!(Gc::write(mc, value), Node, children)
                .borrow_mut()
                .push(nodes[n - 1 - k as usize]);
            s.table.insert(mc, key, value);
            if k % 2 == 0 {
                s.keys.push(key);
            }
        }
        let big =
            Gc::new(mc, Big { slots: RefLock::new(vec![node(8), nodes[1]]), padding: [0; 2100] });
        s.big = Some(big);
        let pinned = mc.alloc_pinned(Node {
            children: RefLock::new(vec![node(16)]),
            weak: RefLock::new(None),
            payload: mc.alloc_slice_copy(&[7u8; 32]),
        });
        s.pinned = Some(pinned);
        vec![mc.named_handle(nodes[n / 2], "middle"), mc.handle(nodes[n - 2]), mc.handle(node(64))]
    });
    arena.collect_minor();
    arena.collect_full();
    (arena, handles)
}

/// What `scripts/memlab-check` compares: the retained size of every node of the snapshot and
/// the shortest path (as node ids from `(GC roots)`) of every object.
pub fn expectations(analysis: &gc_core::HeapAnalysis) -> serde_json::Value {
    let retained: Vec<[u64; 2]> =
        analysis.snapshot_retained_sizes().into_iter().map(|(id, size)| [id, size]).collect();
    let paths: serde_json::Map<String, serde_json::Value> = (0..analysis.graph().objects().len())
        .filter_map(|i| {
            let path = analysis.path_snapshot_ids(i)?;
            Some((analysis.snapshot_id(i).to_string(), serde_json::json!(path)))
        })
        .collect();
    serde_json::json!({ "retained": retained, "paths": paths })
}

/// Writes `NAME.heapsnapshot` and `NAME.expected.json` into `dir` for each test heap.
pub fn snapshot_heaps(dir: &std::path::Path) -> std::io::Result<Vec<String>> {
    use std::fs::File;
    let mut written = Vec::new();
    let mut write = |name: &str, analysis: gc_core::HeapAnalysis| -> std::io::Result<()> {
        analysis.write_heap_snapshot(File::create(dir.join(format!("{name}.heapsnapshot")))?)?;
        let expected = serde_json::to_string(&expectations(&analysis))?;
        std::fs::write(dir.join(format!("{name}.expected.json")), expected)?;
        written.push(name.to_string());
        Ok(())
    };
    write("listener-leak", session(false).heap_analysis())?;
    write("listener-fixed", session(true).heap_analysis())?;
    for n in [12, 200] {
        let (mut arena, handles) = shapes(n);
        write(&format!("shapes-{n}"), arena.heap_analysis())?;
        drop(handles);
    }
    Ok(written)
}
