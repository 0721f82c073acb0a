//! The memory checkers see the heap's own memory: a stale pointer kept across a collection
//! (through the raw-pointer door, `Gc::as_ptr`, which is only stable within a `mutate` call)
//! is reported by AddressSanitizer (`--cfg gc_asan`) or Valgrind memcheck (`--cfg gc_valgrind`
//! and the test binary run under `valgrind --trace-children=yes`).
//!
//! Each case runs in a child process (this test binary, filtered to `child`), which must be
//! stopped by the checker's report; the parent checks the report. In builds without a
//! checker, the cases are skipped.

use std::process::Command;

use gc_core::{Arena, Gc, HeapConfig, Lock, Rootable, Trace};

#[derive(Trace)]
struct Cell8<'gc> {
    value: u64,
    next: Lock<Option<Gc<'gc, Cell8<'gc>>>>,
}

const CASE: &str = "GC_CORE_STALE_CASE";

fn checker() -> Option<&'static str> {
    if cfg!(gc_asan) {
        Some("use-after-poison")
    } else if cfg!(gc_valgrind) {
        Some("Invalid read")
    } else {
        None
    }
}

fn run_case(case: &str) {
    let Some(report) = checker() else {
        eprintln!("skipped: this build has no memory checker (--cfg gc_asan or gc_valgrind)");
        return;
    };
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CASE, case)
        .output()
        .expect("spawn the child");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the stale read went unnoticed:\n{stderr}");
    assert!(stderr.contains(report), "no `{report}` report:\n{stderr}");
}

#[test]
fn a_stale_pointer_into_the_nursery_is_reported() {
    run_case("nursery");
}

#[test]
fn a_stale_pointer_into_a_compacted_block_is_reported() {
    run_case("block");
}

/// The child: keeps a raw pointer across a collection that moves its object, then reads it.
#[test]
fn child() {
    let Ok(case) = std::env::var(CASE) else { return };
    let config = HeapConfig::builder().verify(true).build().unwrap();
    let mut arena = Arena::<Rootable![Vec<Gc<'_, Cell8<'_>>>]>::new(config, |_| Vec::new());
    let stale = match case.as_str() {
        "nursery" => arena.mutate_root(|mc, root| {
            let obj = Gc::new(mc, Cell8 { value: 7, next: Lock::new(None) });
            root.push(obj);
            Gc::as_ptr(obj) as usize
        }),
        _ => {
            // Garbage in front of the object, both promoted: compaction slides the object down
            // and leaves its old place past the block's top.
            arena.mutate_root(|mc, root| {
                for i in 0..10_000 {
                    root.push(Gc::new(mc, Cell8 { value: i, next: Lock::new(None) }));
                }
            });
            arena.collect_minor();
            arena.mutate_root(|_, root| {
                root.drain(..9_000);
            });
            let stale = arena.mutate(|_, root| Gc::as_ptr(root[999]) as usize);
            arena.collect_full();
            assert_ne!(arena.mutate(|_, root| Gc::as_ptr(root[999]) as usize), stale, "it moved");
            stale
        }
    };
    arena.collect_minor();
    // SAFETY: none: this read is the bug the checkers must report.
    let value = unsafe { std::ptr::read_volatile(stale as *const u64) };
    eprintln!("read {value:#x} through a stale pointer, unreported");
    std::process::exit(0);
}
