//! Smoke test of the comparison runner: `workloads compare --quick` spawns every workload ×
//! implementation at small sizes (each run asserts its checksum) and prints the tables.

use std::process::Command;

#[test]
fn compare_quick_prints_every_workload_and_implementation() {
    let out = Command::new(env!("CARGO_BIN_EXE_workloads"))
        .args(["compare", "--quick"])
        .output()
        .expect("the workloads binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "compare --quick failed:\n{stderr}\n{stdout}");
    assert!(!stderr.contains("FAILED"), "a run failed:\n{stderr}");
    for name in ["binary-trees", "gcbench", "churn", "frag", "cycles", "vm", "alloc"] {
        assert!(stdout.contains(&format!("| {name} (")), "no row for {name}:\n{stdout}");
    }
    for column in
        ["**gc-core**", "bumpalo", "Box", "Rc", "dumpster", "boa_gc", "gc-arena", "rust-gc"]
    {
        assert!(stdout.contains(column), "no column {column}:\n{stdout}");
    }
}

#[test]
fn one_run_prints_a_result_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_workloads"))
        .args(["run", "cycles", "gc-core", "4096"])
        .output()
        .expect("the workloads binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let line = stdout.lines().find(|l| l.starts_with("RESULT ")).expect("a RESULT line");
    for key in ["wall_s=", "peak_rss=", "checksum=", "unreclaimed=0", "minor_p99_ns="] {
        assert!(line.contains(key), "{key} missing from {line}");
    }
}
