//! Random programs of heap operations, replayed against the heap (verifier on, stress mode and
//! pretenuring of every site as the input chooses) and against the model, exactly as the
//! property test does (`gc_testkit::run`).
#![no_main]

use gc_testkit::{run, test_config_with, Op};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (bool, bool, Vec<Op>)| {
    let (stress, pretenure_everything, ops) = input;
    if ops.len() > 400 {
        return;
    }
    if let Err(divergence) = run(&ops, test_config_with(stress, pretenure_everything)) {
        panic!("heap and model diverge: {divergence}");
    }
});
