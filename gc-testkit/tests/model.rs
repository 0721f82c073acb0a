//! The model-based property test: random programs of heap operations against a plain-Rust
//! model, compared after every collection (see `gc_testkit`).

use gc_testkit::{injected_panics, run, run_with_fault, test_config, test_config_with, Fault, Op};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (any::<u64>(), prop::bool::weighted(0.05)).prop_map(|(payload, large)| Op::Alloc { payload, large }),
        1 => (0u8..30).prop_map(|count| Op::Garbage { count }),
        8 => (any::<usize>(), any::<u16>(), any::<usize>()).prop_map(|(from, slot, to)| Op::Link { from, slot, to }),
        2 => (any::<usize>(), any::<u16>()).prop_map(|(from, slot)| Op::Unlink { from, slot }),
        2 => any::<usize>().prop_map(|obj| Op::Root { obj }),
        3 => any::<usize>().prop_map(|index| Op::Unroot { index }),
        1 => any::<usize>().prop_map(|obj| Op::Handle { obj }),
        1 => any::<usize>().prop_map(|index| Op::DropHandle { index }),
        2 => (any::<usize>(), any::<u64>()).prop_map(|(obj, payload)| Op::Write { obj, payload }),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(from, to)| Op::WeakLink { from, to }),
        1 => any::<usize>().prop_map(|from| Op::ClearWeak { from }),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(key, value)| Op::EphemeronSet { key, value }),
        1 => any::<usize>().prop_map(|key| Op::EphemeronRemove { key }),
        1 => any::<usize>().prop_map(|obj| Op::Register { obj }),
        1 => any::<usize>().prop_map(|obj| Op::Identity { obj }),
        2 => Just(Op::Minor),
        1 => Just(Op::Full),
        1 => Just(Op::IfDue),
        1 => (0u8..40, any::<bool>()).prop_map(|(after, nasty)| Op::Arm { after, nasty }),
    ]
}

fn program(max_len: usize) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..if cfg!(miri) { max_len.min(MIRI_MAX_LEN) } else { max_len })
}

/// Under Miri (about 1000 times slower) each property runs a few short programs: the native
/// runs cover the space, Miri checks the paths they take for undefined behaviour.
const MIRI_CASES: u32 = 2;
const MIRI_MAX_LEN: usize = 40;

/// `native` cases, or [`MIRI_CASES`] under Miri, where proptest also keeps no regression file
/// (Miri isolates the program from the file system).
fn config(native: u32) -> ProptestConfig {
    if cfg!(miri) {
        ProptestConfig { cases: MIRI_CASES, failure_persistence: None, ..ProptestConfig::default() }
    } else {
        ProptestConfig { cases: native, ..ProptestConfig::default() }
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// Every object reachable in the model is reachable in the heap with the same payload,
    /// edges and weak slot; every unreachable one is dropped exactly once (by the next full
    /// collection at the latest); none is dropped while reachable; weak slots, ephemeron
    /// entries and finalization tokens follow the deaths exactly; identity hashes never change.
    /// The verifier runs at every collection.
    #[test]
    fn heap_matches_model(ops in program(120)) {
        run(&ops, test_config(false)).map_err(TestCaseError::fail)?;
    }
}

proptest! {
    #![proptest_config(config(200))]

    /// The same in stress mode: `IfDue` collects every time, alternating minor and full.
    #[test]
    fn heap_matches_model_under_stress(ops in program(80)) {
        run(&ops, test_config(true)).map_err(TestCaseError::fail)?;
    }
}

proptest! {
    #![proptest_config(config(300))]

    /// The same with every allocation site tenured, then on trial, in turns: objects are
    /// placed in the old generation at allocation (remembered, since they may point at
    /// nursery objects) as well as in the nursery.
    #[test]
    fn heap_matches_model_with_pretenuring_everything(ops in program(120), stress in any::<bool>()) {
        run(&ops, test_config_with(stress, true)).map_err(TestCaseError::fail)?;
    }
}

/// The checks catch a missing write barrier, and proptest shrinks the failure to the handful
/// of operations that expose it: an old object, a young one, an unbarriered link, a
/// collection.
#[test]
#[cfg_attr(miri, ignore = "shrinking runs hundreds of programs: hours under Miri")]
fn a_missing_barrier_is_caught_and_shrunk() {
    // A fixed seed keeps the shrunk program, and so the test, deterministic.
    let config = Config { cases: 1000, failure_persistence: None, ..Config::default() };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let result = runner.run(&program(60), |ops| {
        let outcome = std::panic::catch_unwind(|| {
            run_with_fault(&ops, test_config(false), Some(Fault::UnbarrieredLink))
        });
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(TestCaseError::fail(e)),
            Err(_) => Err(TestCaseError::fail("verifier panic")),
        }
    });
    match result {
        Err(TestError::Fail(_, minimal)) => {
            eprintln!("minimal failing program: {minimal:?}");
            // Four operations suffice (Alloc, Minor, Alloc, Link: the executor always ends with a
            // collection). Proptest removes each operation once, in order, before shrinking the
            // operations themselves, so it stops a little above that: from up to 60 operations
            // to about a dozen.
            assert!(minimal.len() <= 16, "shrunk to {} operations: {minimal:?}", minimal.len());
            assert!(minimal.iter().any(|op| matches!(op, Op::Link { .. })), "{minimal:?}");
        }
        other => panic!("the injected bug went unnoticed: {other:?}"),
    }
}

/// The injected panics are reached, in each place a collection runs user code: objects'
/// destructors (young and old), ephemeron values, dropped registries' tokens, and the
/// arena's drop; the second one each time with a payload that panics when dropped.
#[test]
fn injected_panics_are_reached_and_survived() {
    let before = injected_panics();
    let mut ops = Vec::new();
    for round in 0..4u64 {
        for payload in 0..20 {
            ops.push(Op::Alloc { payload: round * 100 + payload, large: payload == 7 });
        }
        ops.push(Op::EphemeronSet { key: 3, value: 4 });
        ops.push(Op::Register { obj: 5 });
        ops.push(Op::Garbage { count: 30 });
        ops.push(Op::Arm { after: (round * 7) as u8, nasty: round % 2 == 0 });
        ops.push(if round % 2 == 0 { Op::Minor } else { Op::Full });
        for index in 0..12 {
            ops.push(Op::Unroot { index });
        }
        ops.push(Op::Arm { after: 2, nasty: true });
        ops.push(Op::Full);
    }
    ops.push(Op::Arm { after: 1, nasty: true }); // in the arena's drop
    run(&ops, test_config(false)).unwrap();
    assert!(injected_panics() - before >= 4 * 3, "{} injected", injected_panics() - before);
}
