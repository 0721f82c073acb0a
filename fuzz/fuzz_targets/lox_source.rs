//! Lox programs run twice by the example VM: once with its ordinary heap settings and once in
//! stress mode (a verified collection every 32 calls and loop iterations). The collector must
//! not be observable: where both runs finish within the budget, their outcome, output and
//! error messages are identical. Any panic (a failed heap verification, a corrupted value, an
//! interpreter assertion) is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lox::{run_source, Config, Outcome};

/// Calls and loop iterations a program may run: the same total for both runs. Each stress
/// collection verifies the whole heap, so a stress run costs up to (BUDGET / STRESS_FUEL) ×
/// (heap size): both are kept small enough for a unit to take well under a second (with
/// 2^14 and 64 MiB, a loop that grows a list took 470 s under AddressSanitizer).
const BUDGET: u64 = 1 << 11;
/// A stress run collects every `STRESS_FUEL` calls and loop iterations (each collection is
/// verified, so collecting at every one would leave the fuzzer few executions per second).
const STRESS_FUEL: u32 = 32;
const HEAP_LIMIT: usize = 1 << 20;

fuzz_target!(|source: &str| {
    if source.len() > 4096 {
        return;
    }
    let plain = Config {
        max_slices: Some(BUDGET / u64::from(Config::default().fuel)),
        max_heap_bytes: Some(HEAP_LIMIT),
        ..Config::default()
    };
    let stress = Config {
        fuel: STRESS_FUEL,
        max_slices: Some(BUDGET / u64::from(STRESS_FUEL)),
        max_heap_bytes: Some(HEAP_LIMIT),
        ..Config::stress()
    };
    let a = run_source(source, &plain);
    let b = run_source(source, &stress);
    if a.outcome == Outcome::LimitExceeded || b.outcome == Outcome::LimitExceeded {
        return;
    }
    assert_eq!(a.outcome, b.outcome, "outcome differs under stress for {source:?}");
    assert_eq!(a.stdout, b.stdout, "output differs under stress for {source:?}");
    assert_eq!(a.stderr, b.stderr, "errors differ under stress for {source:?}");
});
