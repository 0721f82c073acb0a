//! With the `tracing` feature, every collection emits one event on the target "gc", in the
//! style of HotSpot's `-Xlog:gc`: `cargo test -p gc-core --features tracing --test tracing_events`.

use std::sync::{Arc, Mutex};

use gc_core::{Arena, Gc, HeapConfig, Rootable};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Records the fields of every event.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Vec<(String, String)>>>>);

struct Fields(Vec<(String, String)>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_string(), format!("{value:?}")));
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        assert_eq!(event.metadata().target(), "gc");
        let mut fields = Fields(Vec::new());
        event.record(&mut fields);
        self.0.lock().unwrap().push(fields.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn one_event_per_collection() {
    let recorder = Recorder::default();
    tracing::subscriber::with_default(recorder.clone(), || {
        let mut arena =
            Arena::<Rootable![Vec<Gc<'_, u64>>]>::new(HeapConfig::default(), |_| Vec::new());
        arena.mutate_root(|mc, root| root.extend((0..1000).map(|i| Gc::new(mc, i))));
        arena.collect_minor();
        arena.collect_full();
    });
    let events = recorder.0.lock().unwrap();
    assert_eq!(events.len(), 2);
    let get = |event: &Vec<(String, String)>, name: &str| {
        event.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap()
    };
    assert_eq!(get(&events[0], "kind"), "\"Young\"");
    assert_eq!(get(&events[1], "kind"), "\"Full\"");
    assert_eq!(get(&events[0], "before"), "16000");
    assert_eq!(get(&events[0], "after"), "16000");
    assert!(get(&events[1], "message").starts_with("Pause Full 0.0M->0.0M("), "{events:?}");
}

/// A subscriber that panics at every event.
struct Panicking;

impl Subscriber for Panicking {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {
        panic!("subscriber panicked");
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// A subscriber is user code: its panic comes out of the collection after the collection
/// completed, with the heap verified and usable.
#[test]
fn a_panicking_subscriber_is_resumed_after_the_collection() {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let config = HeapConfig::builder().verify(true).build().unwrap();
    let mut arena = Arena::<Rootable![Vec<Gc<'_, u64>>]>::new(config, |_| Vec::new());
    arena.mutate_root(|mc, root| root.extend((0..1000).map(|i| Gc::new(mc, i))));
    for full in [false, true] {
        tracing::subscriber::with_default(Panicking, || {
            let err = catch_unwind(AssertUnwindSafe(|| {
                if full {
                    arena.collect_full()
                } else {
                    arena.collect_minor()
                }
            }))
            .unwrap_err();
            assert_eq!(err.downcast_ref::<&str>(), Some(&"subscriber panicked"));
        });
        arena.verify().unwrap();
        arena.mutate(|_, root| assert!(root.iter().enumerate().all(|(i, n)| **n == i as u64)));
    }
    assert_eq!(arena.stats().minor.count, 1);
    assert_eq!(arena.stats().full.count, 1);
}
