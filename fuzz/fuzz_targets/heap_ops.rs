//! Random programs of heap operations, replayed against the heap (verifier and stress mode on)
//! and against the model, exactly as the property test does (`gc_testkit::run`).
#![no_main]

use gc_testkit::{run, test_config, Op};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (bool, Vec<Op>)| {
    let (stress, ops) = input;
    if ops.len() > 400 {
        return;
    }
    if let Err(divergence) = run(&ops, test_config(stress)) {
        panic!("heap and model diverge: {divergence}");
    }
});
