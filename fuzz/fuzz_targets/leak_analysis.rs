//! Random heaps shaped by the fuzzer's bytes (strong and weak edges, cycles, handles, large
//! objects), analysed by leak-debug before and after minor and full collections move them:
//! retained sizes and paths must match brute force (`gc_testkit::leak::check`), and the leak
//! report, the class histogram and the heap snapshot must be produced without a panic.
#![no_main]

use gc_testkit::leak::{check, random_heap, Bytes, Choices};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut choices = Bytes(data);
    let n = 1 + choices.below(120);
    let (mut arena, mut handles) = random_heap(&mut choices, n);
    let verdict = |arena: &mut gc_testkit::leak::NodeArena, when: &str| {
        if let Err(e) = check(&arena.heap_analysis()) {
            panic!("{when}: {e}");
        }
    };
    verdict(&mut arena, "young");
    arena.mutate(|mc, root| {
        if let Some(&first) = root.first() {
            mc.watch(first, "fuzzed watch");
        }
    });
    arena.collect_minor();
    verdict(&mut arena, "after a minor collection");
    for _ in 0..choices.below(3) {
        handles.pop();
    }
    let drop_roots = choices.below(3);
    arena.mutate_root(|_, root| root.truncate(root.len().saturating_sub(drop_roots)));
    arena.collect_full();
    verdict(&mut arena, "after a full collection");
    arena.collect_full();
    let report = arena.leak_report();
    let _ = report.to_string();
    let _ = arena.class_histogram().to_string();
    arena.write_heap_snapshot(std::io::sink()).expect("a snapshot written to a sink");
});
