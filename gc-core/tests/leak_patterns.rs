#![cfg(feature = "leak-debug")]
//! Seeded leak patterns: each scenario builds a small VM-like heap, opens some windows (or
//! other short-lived objects), watches them when they are closed, and either forgets one
//! reference to them (the *injected* reference) or cleans up properly. With the leak, the
//! report must put the injected reference on the path (and, for at least 90 % of the
//! patterns, make it the sole suspect); without it, the report must be empty.
//!
//! Every scenario runs the same way: the long-lived structures are made first and survive a
//! full collection (so they are older than what leaks, as in a running program), then the
//! short-lived objects are made, watched when closed, and two more full collections run.

mod common;

use std::collections::HashMap;

use gc_core::{
    field, Arena, EphemeronTable, Gc, GcWeak, Handle, HeapConfig, LeakReport, Lock, Mutation,
    RefLock, ReferenceKind, Rootable, Space, Trace,
};

// ---------------------------------------------------------------------------------------------
// The little VM the scenarios share.

#[derive(Trace)]
struct Window<'gc> {
    title: Gc<'gc, str>,
    pixels: Gc<'gc, [u8]>,
}

#[derive(Trace)]
struct Key {
    id: u32,
}

#[derive(Trace, Clone, Copy)]
enum Value<'gc> {
    Nil,
    Int(i64),
    Window(Gc<'gc, Window<'gc>>),
    Obj(Gc<'gc, Obj<'gc>>),
    Closure(Gc<'gc, Closure<'gc>>),
    Key(Gc<'gc, Key>),
}

/// A generic script object.
#[derive(Trace)]
struct Obj<'gc> {
    fields: RefLock<Vec<Value<'gc>>>,
}

#[derive(Trace)]
struct Upvalue<'gc> {
    value: RefLock<Value<'gc>>,
}

#[derive(Trace)]
struct Closure<'gc> {
    upvalues: RefLock<Vec<Gc<'gc, Upvalue<'gc>>>>,
}

#[derive(Trace)]
struct Listener<'gc> {
    window: Gc<'gc, Window<'gc>>,
}

#[derive(Trace)]
struct Emitter<'gc> {
    listeners: RefLock<Vec<Gc<'gc, Listener<'gc>>>>,
}

#[derive(Trace)]
struct Cache<'gc> {
    entries: RefLock<HashMap<u32, Gc<'gc, Window<'gc>>>>,
}

#[derive(Trace)]
struct App<'gc> {
    focused: RefLock<Option<Gc<'gc, Window<'gc>>>>,
    last_error: RefLock<Option<Gc<'gc, Error<'gc>>>>,
}

#[derive(Trace)]
struct Error<'gc> {
    frames: RefLock<Vec<Gc<'gc, Frame<'gc>>>>,
}

#[derive(Trace)]
struct Frame<'gc> {
    locals: RefLock<Vec<Value<'gc>>>,
}

#[derive(Trace)]
struct Timer<'gc> {
    callback: Gc<'gc, Closure<'gc>>,
}

#[derive(Trace)]
struct Scheduler<'gc> {
    timers: RefLock<Vec<Gc<'gc, Timer<'gc>>>>,
}

#[derive(Trace)]
struct Command<'gc> {
    target: Gc<'gc, Window<'gc>>,
}

#[derive(Trace)]
struct History<'gc> {
    undo: RefLock<Vec<Gc<'gc, Command<'gc>>>>,
}

#[derive(Trace)]
struct Observers<'gc> {
    weak: RefLock<Vec<GcWeak<'gc, Window<'gc>>>>,
    resolved: RefLock<Vec<Gc<'gc, Window<'gc>>>>,
}

#[derive(Trace)]
struct QNode<'gc> {
    payload: Value<'gc>,
    next: RefLock<Option<Gc<'gc, QNode<'gc>>>>,
}

#[derive(Trace)]
struct Queue<'gc> {
    head: RefLock<Option<Gc<'gc, QNode<'gc>>>>,
}

/// A large object (above the test configuration's 2 KiB threshold).
#[derive(Trace)]
struct Big<'gc> {
    slots: RefLock<Vec<Value<'gc>>>,
    padding: [u64; 512],
}

/// Allocated pinned.
#[derive(Trace)]
struct Holder<'gc> {
    current: RefLock<Option<Gc<'gc, Window<'gc>>>>,
}

#[derive(Trace)]
struct Meta<'gc> {
    window: Gc<'gc, Window<'gc>>,
}

#[derive(Trace)]
struct Vm<'gc> {
    globals: HashMap<String, Value<'gc>>,
    keep: Vec<Value<'gc>>,
    table: EphemeronTable<'gc, Key, Value<'gc>>,
    window_meta: EphemeronTable<'gc, Window<'gc>, Gc<'gc, Meta<'gc>>>,
    open_windows: Vec<Gc<'gc, Window<'gc>>>,
    emitter: Gc<'gc, Emitter<'gc>>,
    cache: Gc<'gc, Cache<'gc>>,
    app: Gc<'gc, App<'gc>>,
    scheduler: Gc<'gc, Scheduler<'gc>>,
    history: Gc<'gc, History<'gc>>,
    observers: Gc<'gc, Observers<'gc>>,
    queue: Gc<'gc, Queue<'gc>>,
    handlers: Gc<'gc, Obj<'gc>>,
    on_resize: Gc<'gc, Closure<'gc>>,
    big: Gc<'gc, Big<'gc>>,
    pinned: Gc<'gc, Holder<'gc>>,
}

type VmArena = Arena<Rootable![Vm<'_>]>;
type WindowHandle = Handle<Rootable![Window<'_>]>;

/// The shared test configuration, with leak-debug recording on.
fn config() -> HeapConfig {
    common::builder().leak_debug(true).build().unwrap()
}

fn new_vm() -> VmArena {
    let mut arena = VmArena::new(config(), |mc| Vm {
        globals: HashMap::new(),
        keep: Vec::new(),
        table: EphemeronTable::new(),
        window_meta: EphemeronTable::new(),
        open_windows: Vec::new(),
        emitter: Gc::new(mc, Emitter { listeners: RefLock::new(Vec::new()) }),
        cache: Gc::new(mc, Cache { entries: RefLock::new(HashMap::new()) }),
        app: Gc::new(mc, App { focused: RefLock::new(None), last_error: RefLock::new(None) }),
        scheduler: Gc::new(mc, Scheduler { timers: RefLock::new(Vec::new()) }),
        history: Gc::new(mc, History { undo: RefLock::new(Vec::new()) }),
        observers: Gc::new(
            mc,
            Observers { weak: RefLock::new(Vec::new()), resolved: RefLock::new(Vec::new()) },
        ),
        queue: Gc::new(mc, Queue { head: RefLock::new(None) }),
        handlers: Gc::new(mc, Obj { fields: RefLock::new(Vec::new()) }),
        on_resize: {
            // A long-lived closure with one upvalue, made at start-up.
            let up = Gc::new(mc, Upvalue { value: RefLock::new(Value::Nil) });
            Gc::new(mc, Closure { upvalues: RefLock::new(vec![up]) })
        },
        big: Gc::new(mc, Big { slots: RefLock::new(vec![Value::Nil; 8]), padding: [0; 512] }),
        pinned: mc.alloc_pinned(Holder { current: RefLock::new(None) }),
    });
    // The long-lived structures are old by the time the program runs.
    arena.collect_full();
    arena
}

fn window<'gc>(mc: &'gc Mutation<'gc>, i: usize) -> Gc<'gc, Window<'gc>> {
    Gc::new(
        mc,
        Window {
            title: mc.alloc_str(&format!("window {i}")),
            pixels: mc.alloc_slice_copy(&[0u8; 64]),
        },
    )
}

/// What a scenario expects of the report: the injected reference, as its owner's type name
/// (the last path segment, or `arena root`, or `handle`) and its normalized reference text.
struct Injected {
    owner: &'static str,
    reference: &'static str,
}

struct Outcome {
    report: LeakReport,
    injected: Injected,
    /// Objects watched.
    watched: usize,
    /// Of which leak (with the injected reference).
    leaking: usize,
}

/// Closes the windows (the scenario's clean-up ran or not), then two full collections.
fn finish(arena: VmArena, injected: Injected, watched: usize) -> Outcome {
    finish_some(arena, injected, watched, watched)
}

fn finish_some(mut arena: VmArena, injected: Injected, watched: usize, leaking: usize) -> Outcome {
    arena.collect_full();
    arena.collect_full();
    let report = arena.leak_report();
    Outcome { report, injected, watched, leaking }
}

fn normalize(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '[' && chars.peek().is_some_and(|c| c.is_ascii_digit()) {
            while chars.peek().is_some_and(|c| c.is_ascii_digit()) {
                chars.next();
            }
            out.push('x');
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The scenarios. Each takes `leak`: whether the injected reference is left in place.

/// A listener never removed: the emitter keeps the listener, the listener the window.
fn listener_never_removed(leak: bool) -> Outcome {
    let mut arena = new_vm();
    arena.mutate(|mc, vm| {
        for i in 0..3 {
            let w = window(mc, i);
            let l = Gc::new(mc, Listener { window: w });
            field!(Gc::write(mc, vm.emitter), Emitter, listeners).borrow_mut().push(l);
            mc.watch(w, "window closed");
        }
    });
    arena.collect_minor();
    if !leak {
        arena.mutate(|mc, vm| {
            field!(Gc::write(mc, vm.emitter), Emitter, listeners).borrow_mut().clear();
        });
    }
    finish(arena, Injected { owner: "Emitter", reference: ".listeners[x]" }, 3)
}

/// A global map that keeps growing: every window is filed under a name and never removed.
fn global_map_grows(leak: bool) -> Outcome {
    let mut arena = new_vm();
    for round in 0..2 {
        arena.mutate_root(|mc, vm| {
            let w = window(mc, round);
            vm.globals.insert(format!("window{round}"), Value::Window(w));
            mc.watch(w, "window closed");
        });
        if !leak {
            arena.mutate_root(|_, vm| {
                vm.globals.remove(&format!("window{round}"));
            });
        }
        arena.collect_full();
    }
    finish(arena, Injected { owner: "arena root", reference: ".globals[value]::Window.0" }, 2)
}

/// A closure that captures too much: the long-lived resize handler's upvalue holds the whole
/// window instead of its id.
fn closure_captures_too_much(leak: bool) -> Outcome {
    let arena = new_vm();
    arena.mutate(|mc, vm| {
        let w = window(mc, 0);
        let up = vm.on_resize.upvalues.borrow()[0];
        let captured = if leak { Value::Window(w) } else { Value::Int(0) };
        *field!(Gc::write(mc, up), Upvalue, value).borrow_mut() = captured;
        mc.watch(w, "window closed");
    });
    finish(arena, Injected { owner: "Upvalue", reference: ".value::Window.0" }, 1)
}

/// A forgotten handle: the embedder keeps a handle to a closed window.
fn forgotten_handle(leak: bool) -> Outcome {
    let arena = new_vm();
    let handle: WindowHandle = arena.mutate(|mc, _| {
        let w = window(mc, 0);
        mc.watch(w, "window closed");
        mc.named_handle(w, "current window")
    });
    let kept = leak.then_some(handle);
    let outcome = finish(arena, Injected { owner: "handle", reference: "" }, 1);
    drop(kept);
    outcome
}

/// A cycle through an ephemeron value: the value of a key refers back to the key (which alone
/// does not leak), but a global list keeps the key.
fn cycle_through_ephemeron_value(leak: bool) -> Outcome {
    let mut arena = new_vm();
    arena.mutate_root(|mc, vm| {
        let key = Gc::new(mc, Key { id: 7 });
        let w = window(mc, 0);
        let value =
            Gc::new(mc, Obj { fields: RefLock::new(vec![Value::Key(key), Value::Window(w)]) });
        vm.table.insert(mc, key, Value::Obj(value));
        if leak {
            vm.keep.push(Value::Key(key));
        }
        mc.watch(w, "window closed");
    });
    finish(arena, Injected { owner: "arena root", reference: ".keep[x]::Key.0" }, 1)
}

/// A leak through a large object: a slot of a big table keeps the window.
fn leak_through_large_object(leak: bool) -> Outcome {
    let mut arena = new_vm();
    let graph = arena.heap_graph();
    assert!(graph.objects().iter().any(|o| o.type_name.contains("Big") && o.space == Space::Large));
    arena.mutate(|mc, vm| {
        let w = window(mc, 0);
        if leak {
            field!(Gc::write(mc, vm.big), Big, slots).borrow_mut()[5] = Value::Window(w);
        }
        mc.watch(w, "window closed");
    });
    finish(arena, Injected { owner: "Big", reference: ".slots[x]::Window.0" }, 1)
}

/// A leak through a pinned object: the pinned buffer handed to foreign code still points at
/// the window.
fn leak_through_pinned_object(leak: bool) -> Outcome {
    let mut arena = new_vm();
    arena.mutate(|mc, vm| {
        let w = window(mc, 0);
        *field!(Gc::write(mc, vm.pinned), Holder, current).borrow_mut() = Some(w);
        mc.watch(w, "window closed");
    });
    arena.collect_full();
    if !leak {
        arena.mutate(|mc, vm| {
            *field!(Gc::write(mc, vm.pinned), Holder, current).borrow_mut() = None
        });
    }
    finish(arena, Injected { owner: "Holder", reference: ".current" }, 1)
}

/// A cache that never evicts.
fn cache_never_evicts(leak: bool) -> Outcome {
    let arena = new_vm();
    arena.mutate(|mc, vm| {
        for i in 0..4 {
            let w = window(mc, i);
            field!(Gc::write(mc, vm.cache), Cache, entries).borrow_mut().insert(i as u32, w);
            mc.watch(w, "evicted");
        }
    });
    if !leak {
        arena.mutate(|mc, vm| field!(Gc::write(mc, vm.cache), Cache, entries).borrow_mut().clear());
    }
    finish(arena, Injected { owner: "Cache", reference: ".entries[value]" }, 4)
}

/// A long-lived object keeps the last focused window (Android's static Activity reference).
fn focused_window_kept(leak: bool) -> Outcome {
    let arena = new_vm();
    arena.mutate(|mc, vm| {
        let w = window(mc, 0);
        *field!(Gc::write(mc, vm.app), App, focused).borrow_mut() = Some(w);
        mc.watch(w, "window closed");
    });
    if !leak {
        arena.mutate(|mc, vm| *field!(Gc::write(mc, vm.app), App, focused).borrow_mut() = None);
    }
    finish(arena, Injected { owner: "App", reference: ".focused" }, 1)
}

/// A timer never cancelled: its callback's closure captured the window.
fn timer_never_cancelled(leak: bool) -> Outcome {
    let arena = new_vm();
    arena.mutate(|mc, vm| {
        let w = window(mc, 0);
        let up = Gc::new(mc, Upvalue { value: RefLock::new(Value::Window(w)) });
        let callback = Gc::new(mc, Closure { upvalues: RefLock::new(vec![up]) });
        let timer = Gc::new(mc, Timer { callback });
        field!(Gc::write(mc, vm.scheduler), Scheduler, timers).borrow_mut().push(timer);
        mc.watch(w, "window closed");
    });
    if !leak {
        arena.mutate(|mc, vm| {
            field!(Gc::write(mc, vm.scheduler), Scheduler, timers).borrow_mut().clear()
        });
    }
    finish(arena, Injected { owner: "Scheduler", reference: ".timers[x]" }, 1)
}

/// An undo history that is never trimmed keeps the commands, and they their windows.
fn undo_history_grows(leak: bool) -> Outcome {
    let arena = new_vm();
    arena.mutate(|mc, vm| {
        for i in 0..2 {
            let w = window(mc, i);
            let c = Gc::new(mc, Command { target: w });
            field!(Gc::write(mc, vm.history), History, undo).borrow_mut().push(c);
            mc.watch(w, "window closed");
        }
    });
    if !leak {
        arena
            .mutate(|mc, vm| field!(Gc::write(mc, vm.history), History, undo).borrow_mut().clear());
    }
    finish(arena, Injected { owner: "History", reference: ".undo[x]" }, 2)
}

/// A weak reference upgraded and stored strongly: the observer list is weak, but a resolved
/// copy is kept. The weak edge must not be the path.
fn weak_reference_upgraded_and_kept(leak: bool) -> Outcome {
    let arena = new_vm();
    arena.mutate(|mc, vm| {
        let w = window(mc, 0);
        field!(Gc::write(mc, vm.observers), Observers, weak).borrow_mut().push(Gc::downgrade(w));
        if leak {
            let strong = vm.observers.weak.borrow()[0].upgrade().unwrap();
            field!(Gc::write(mc, vm.observers), Observers, resolved).borrow_mut().push(strong);
        }
        mc.watch(w, "window closed");
    });
    finish(arena, Injected { owner: "Observers", reference: ".resolved[x]" }, 1)
}

/// A queue never drained: its linked list of messages ends at one that carries the window.
fn queue_never_drained(leak: bool) -> Outcome {
    let arena = new_vm();
    arena.mutate(|mc, vm| {
        let w = window(mc, 0);
        let mut next = None;
        for i in 0..20 {
            let payload = if i == 19 { Value::Window(w) } else { Value::Int(i) };
            next = Some(Gc::new(mc, QNode { payload, next: RefLock::new(next) }));
        }
        // The node carrying the window is the last of the chain.
        if leak {
            *field!(Gc::write(mc, vm.queue), Queue, head).borrow_mut() = next;
        }
        mc.watch(w, "message handled");
    });
    finish(arena, Injected { owner: "Queue", reference: ".head" }, 1)
}

/// An ephemeron key kept by a global list: the metadata of a window lives as long as the window
/// does, and the list of open windows forgot to drop it.
fn ephemeron_key_kept_by_global(leak: bool) -> Outcome {
    let mut arena = new_vm();
    arena.mutate_root(|mc, vm| {
        let w = window(mc, 0);
        let meta = Gc::new(mc, Meta { window: w });
        vm.window_meta.insert(mc, w, meta);
        vm.open_windows.push(w);
        mc.watch(meta, "window closed, its metadata goes with it");
    });
    if !leak {
        arena.mutate_root(|_, vm| vm.open_windows.clear());
    }
    finish(arena, Injected { owner: "arena root", reference: ".open_windows[x]" }, 1)
}

/// A handler table (a script object) keeps a closure that captured the window.
fn handler_table_keeps_closure(leak: bool) -> Outcome {
    let arena = new_vm();
    arena.mutate(|mc, vm| {
        let w = window(mc, 0);
        let up = Gc::new(mc, Upvalue { value: RefLock::new(Value::Window(w)) });
        let closure = Gc::new(mc, Closure { upvalues: RefLock::new(vec![up]) });
        let mut fields = field!(Gc::write(mc, vm.handlers), Obj, fields).borrow_mut();
        fields.push(Value::Int(1));
        if leak {
            fields.push(Value::Closure(closure));
        }
        mc.watch(w, "window closed");
    });
    finish(arena, Injected { owner: "Obj", reference: ".fields[x]::Closure.0" }, 1)
}

/// The last error keeps its stack frames, and a frame's locals keep the window.
fn last_error_keeps_frames(leak: bool) -> Outcome {
    let arena = new_vm();
    arena.mutate(|mc, vm| {
        let w = window(mc, 0);
        let frame =
            Gc::new(mc, Frame { locals: RefLock::new(vec![Value::Int(3), Value::Window(w)]) });
        let error = Gc::new(mc, Error { frames: RefLock::new(vec![frame]) });
        if leak {
            *field!(Gc::write(mc, vm.app), App, last_error).borrow_mut() = Some(error);
        }
        mc.watch(w, "window closed");
    });
    finish(arena, Injected { owner: "App", reference: ".last_error" }, 1)
}

/// An object graph moved by the collections before it leaks: the windows are promoted and
/// compacted (holes made by dead neighbours) before the listener is forgotten.
fn leak_after_moves(leak: bool) -> Outcome {
    let mut arena = new_vm();
    let handles: Vec<WindowHandle> = arena.mutate(|mc, _| {
        (0..6)
            .map(|i| {
                let _garbage = mc.alloc_str("dead neighbour");
                mc.handle(window(mc, i))
            })
            .collect()
    });
    arena.collect_minor();
    arena.collect_full();
    arena.mutate(|mc, vm| {
        for (i, h) in handles.iter().enumerate() {
            let w = mc.fetch(h);
            if i % 2 == 0 {
                let l = Gc::new(mc, Listener { window: w });
                field!(Gc::write(mc, vm.emitter), Emitter, listeners).borrow_mut().push(l);
            }
            mc.watch(w, "window closed");
        }
    });
    drop(handles);
    arena.collect_full();
    if !leak {
        arena.mutate(|mc, vm| {
            field!(Gc::write(mc, vm.emitter), Emitter, listeners).borrow_mut().clear();
        });
    }
    finish_some(arena, Injected { owner: "Emitter", reference: ".listeners[x]" }, 6, 3)
}

/// A counter that was meant to be cleared: a `Lock` field of a long-lived object.
fn lock_field_keeps_window(leak: bool) -> Outcome {
    #[derive(Trace)]
    struct Tracker<'gc> {
        last: Lock<Option<Gc<'gc, Window<'gc>>>>,
    }
    let mut arena = Arena::<Rootable![(Gc<'_, Tracker<'_>>, u32)]>::new(config(), |mc| {
        (Gc::new(mc, Tracker { last: Lock::new(None) }), 0)
    });
    arena.collect_full();
    arena.mutate(|mc, (tracker, _)| {
        let w = window(mc, 0);
        field!(Gc::write(mc, *tracker), Tracker, last).set(Some(w));
        mc.watch(w, "window closed");
    });
    if !leak {
        arena.mutate(|mc, (tracker, _)| field!(Gc::write(mc, *tracker), Tracker, last).set(None));
    }
    arena.collect_full();
    arena.collect_full();
    let report = arena.leak_report();
    let injected = Injected { owner: "Tracker", reference: ".last" };
    Outcome { report, injected, watched: 1, leaking: 1 }
}

type Scenario = fn(bool) -> Outcome;

const SCENARIOS: &[(&str, Scenario)] = &[
    ("listener never removed", listener_never_removed),
    ("global map that keeps growing", global_map_grows),
    ("closure that captures too much", closure_captures_too_much),
    ("forgotten handle", forgotten_handle),
    ("cycle through an ephemeron value", cycle_through_ephemeron_value),
    ("leak through a large object", leak_through_large_object),
    ("leak through a pinned object", leak_through_pinned_object),
    ("cache that never evicts", cache_never_evicts),
    ("focused window kept by a long-lived object", focused_window_kept),
    ("timer never cancelled", timer_never_cancelled),
    ("undo history never trimmed", undo_history_grows),
    ("weak reference upgraded and kept", weak_reference_upgraded_and_kept),
    ("queue never drained", queue_never_drained),
    ("ephemeron key kept by a global list", ephemeron_key_kept_by_global),
    ("handler table keeps a closure", handler_table_keeps_closure),
    ("last error keeps its frames", last_error_keeps_frames),
    ("leak after moves", leak_after_moves),
    ("a Lock field keeps the window", lock_field_keeps_window),
];

/// For each leak of the report: whether the injected reference is on its path, and whether it
/// is the sole suspect.
fn judge(outcome: &Outcome) -> Vec<(bool, bool)> {
    let injected = &outcome.injected;
    outcome
        .report
        .all_leaks()
        .map(|leak| {
            let matches = |s: &gc_core::TraceStep| {
                let owner_ok = match injected.owner {
                    "handle" => s.kind == ReferenceKind::Handle,
                    "arena root" => s.owner_id.is_none() && s.kind != ReferenceKind::Handle,
                    name => s.owner.ends_with(&format!("::{name}")),
                };
                owner_ok && normalize(&s.reference) == injected.reference
            };
            let on_path = leak.trace.steps.iter().any(matches);
            let suspects: Vec<_> = leak.trace.steps.iter().filter(|s| s.suspect).collect();
            let sole = suspects.len() == 1 && matches(suspects[0]);
            (on_path, sole)
        })
        .collect()
}

#[test]
fn every_seeded_leak_is_found_on_its_path() {
    let mut sole = 0;
    let mut total = 0;
    let mut summary = String::new();
    for (name, scenario) in SCENARIOS {
        let outcome = scenario(true);
        let verdicts = judge(&outcome);
        assert_eq!(
            outcome.report.leak_count(),
            outcome.leaking,
            "{name}: every watched object leaks\n{}",
            outcome.report
        );
        assert!(
            verdicts.iter().all(|(on_path, _)| *on_path),
            "{name}: the injected reference is on every path\n{}",
            outcome.report
        );
        let all_sole = verdicts.iter().all(|(_, s)| *s);
        total += 1;
        sole += all_sole as usize;
        summary.push_str(&format!(
            "{name}: {} leak(s) in {} group(s), injected reference sole suspect: {all_sole}\n",
            outcome.report.leak_count(),
            outcome.report.leaks.len()
        ));
        // The text and the JSON name the injected reference.
        let text = outcome.report.to_string();
        assert!(text.contains("~~~"), "{name}: suspects underlined\n{text}");
        let json: serde_json::Value = serde_json::from_str(&outcome.report.to_json()).unwrap();
        assert_eq!(json["leaks"].as_array().unwrap().len(), outcome.report.leaks.len());
    }
    println!("{summary}{sole}/{total} patterns with the injected reference as the sole suspect");
    assert!(total >= 15);
    assert!(sole * 10 >= total * 9, "{sole}/{total} sole suspects\n{summary}");
}

#[test]
fn without_the_injected_reference_the_report_is_empty() {
    for (name, scenario) in SCENARIOS {
        let outcome = scenario(false);
        assert!(outcome.report.is_empty(), "{name}: no leak\n{}", outcome.report);
        assert_eq!(outcome.report.watched_alive, 0, "{name}: every watched object died");
        assert_eq!(outcome.report.collected, outcome.watched as u64, "{name}");
    }
}

#[test]
fn leaks_through_the_same_path_share_a_signature() {
    let outcome = listener_never_removed(true);
    let report = &outcome.report;
    assert_eq!(report.leaks.len(), 1, "{report}");
    let group = &report.leaks[0];
    assert_eq!(group.count, 3);
    assert!(group.path.contains("Emitter.listeners[x]"), "{}", group.path);
    assert_eq!(group.signature.len(), 16);
    // Stable: the same scenario gives the same signature.
    let again = listener_never_removed(true);
    assert_eq!(again.report.leaks[0].signature, group.signature);
    // Each leak retains its window, its title and its pixels.
    for leak in &group.leaks {
        assert_eq!(leak.object.retained_size, 24 + 24 + 80, "{report}");
        assert!(leak.object.allocated_at.unwrap().file.ends_with("leak_patterns.rs"));
        assert!(leak.object.watched_at.file.ends_with("leak_patterns.rs"));
        assert_eq!(leak.object.collections_since_watch, 2);
    }
}
