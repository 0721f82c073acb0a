//! Random programs of heap operations, replayed against the heap (verifier on, stress mode and
//! pretenuring of every site as the input chooses) and against the model, exactly as the
//! property test does (`gc_testkit::run`), with panics injected in the destructors that
//! collections run (`Op::Arm`).
#![no_main]

use gc_testkit::{is_injected_panic, run, test_config_with, Op};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (bool, bool, Vec<Op>)| {
    // libFuzzer's hook aborts at every panic, even one that is caught: the panics the harness
    // injects are caught and checked by it, so they go through; any other is a crash.
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !is_injected_panic(info.payload()) {
                abort(info)
            }
        }))
    });
    let (stress, pretenure_everything, ops) = input;
    if ops.len() > 400 {
        return;
    }
    if let Err(divergence) = run(&ops, test_config_with(stress, pretenure_everything)) {
        panic!("heap and model diverge: {divergence}");
    }
});
