#![cfg(feature = "leak-debug")]
//! Smoke: print a report.

use gc_core::{field, Arena, Gc, HeapConfig, RefLock, Rootable, Trace};

#[derive(Trace)]
struct Window<'gc> {
    title: Gc<'gc, str>,
    pixels: Gc<'gc, [u8]>,
}

#[derive(Trace)]
struct Listener<'gc> {
    window: Gc<'gc, Window<'gc>>,
}

#[derive(Trace)]
struct Registry<'gc> {
    listeners: RefLock<Vec<Gc<'gc, Listener<'gc>>>>,
}

#[test]
fn smoke() {
    let config = HeapConfig::builder().leak_debug(true).verify(true).build().unwrap();
    let mut arena = Arena::<Rootable![Vec<Gc<'_, Window<'_>>>]>::new(config, |_| Vec::new());
    let registry = arena.mutate(|mc, _| {
        let r = Gc::new(mc, Registry { listeners: RefLock::new(Vec::new()) });
        mc.named_handle::<Rootable![Registry<'_>]>(r, "registry")
    });
    arena.collect_full();
    arena.mutate(|mc, _| {
        let r = mc.fetch(&registry);
        for i in 0..3 {
            let w = Gc::new(mc, Window { title: mc.alloc_str(&format!("w{i}")), pixels: mc.alloc_slice_copy(&[0u8; 100]) });
            let l = Gc::new(mc, Listener { window: w });
            if i != 1 {
                field!(Gc::write(mc, r), Registry, listeners).borrow_mut().push(l);
            }
            mc.watch(w, "window closed");
        }
    });
    arena.collect_full();
    arena.collect_full();
    let report = arena.leak_report();
    println!("{report}");
    println!("{}", report.to_json());
    println!("{}", arena.class_histogram());
    let mut out = Vec::new();
    arena.write_heap_snapshot(&mut out).unwrap();
    println!("{}", String::from_utf8(out).unwrap());
}
