//! Runs every `.lox` program under `tests/lox/` through the library and compares its
//! stdout, stderr and exit code with the expectations written in its comments, in the
//! reference test suite's format:
//!
//! - `// expect: TEXT` — the next line of output is TEXT;
//! - `// expect runtime error: MESSAGE` — the program fails at run time (exit 70) with
//!   MESSAGE as the first line of stderr, and the innermost frame of the stack trace on the
//!   second line is this comment's line (`[line N]`);
//! - `// Error...` — a compile error (exit 65) reported as `[line N] Error...` where N is
//!   this comment's line; `// [line N] Error...` names the line explicitly. stderr must hold
//!   exactly the expected errors.
//!
//! One extension: `// stderr: TEXT` lines, when present, are the whole of stderr, in order
//! (to check complete stack traces).
//!
//! Every program runs twice: with the default configuration, and in stress mode (a
//! verified collection, alternately minor and full, after every call and loop iteration).
//! Four generated programs check the jump limits at their boundary (their sources are large).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use lox::{run_source, Config, Outcome};

#[derive(Default, Debug)]
struct Expected {
    output: Vec<String>,
    compile_errors: Vec<String>,
    runtime_error: Option<(String, usize)>,
    stderr: Vec<String>,
}

fn expectations(source: &str) -> Expected {
    let mut e = Expected::default();
    for (i, line) in source.lines().enumerate() {
        let n = i + 1;
        let Some((_, comment)) = line.split_once("// ") else { continue };
        if let Some(text) = comment.strip_prefix("expect: ") {
            e.output.push(text.to_string());
        } else if let Some(msg) = comment.strip_prefix("expect runtime error: ") {
            e.runtime_error = Some((msg.to_string(), n));
        } else if let Some(text) = comment.strip_prefix("stderr: ") {
            e.stderr.push(text.to_string());
        } else if comment.starts_with("Error") {
            e.compile_errors.push(format!("[line {n}] {comment}"));
        } else if comment.starts_with("[line ") && comment.contains("] Error") {
            e.compile_errors.push(comment.to_string());
        }
    }
    e
}

fn check(source: &str, config: &Config) -> Result<(), String> {
    let expected = expectations(source);
    let result = run_source(source, config);
    let stdout = String::from_utf8_lossy(&result.stdout);
    let stderr = String::from_utf8_lossy(&result.stderr);
    let mut problems = String::new();

    let output: Vec<&str> = stdout.lines().collect();
    if output != expected.output {
        let _ = writeln!(
            problems,
            "stdout: expected {:?}\n        got      {:?}",
            expected.output, output
        );
    }
    let errors: Vec<&str> = stderr.lines().collect();
    let expected_outcome = if !expected.compile_errors.is_empty() {
        let mut got = errors.clone();
        let mut want: Vec<&str> = expected.compile_errors.iter().map(String::as_str).collect();
        got.sort_unstable();
        want.sort_unstable();
        if got != want {
            let _ = writeln!(
                problems,
                "compile errors: expected {want:?}\n                got      {got:?}"
            );
        }
        Outcome::CompileError
    } else if let Some((message, line)) = &expected.runtime_error {
        if errors.first() != Some(&message.as_str()) {
            let _ = writeln!(problems, "runtime error: expected {message:?}, stderr {errors:?}");
        }
        let trace = format!("[line {line}]");
        if !errors.get(1).is_some_and(|l| l.starts_with(&trace)) {
            let _ = writeln!(problems, "stack trace: expected {trace} first, stderr {errors:?}");
        }
        Outcome::RuntimeError
    } else {
        if expected.stderr.is_empty() && !errors.is_empty() {
            let _ = writeln!(problems, "unexpected stderr: {errors:?}");
        }
        if expected.stderr.is_empty() {
            Outcome::Ok
        } else {
            Outcome::RuntimeError
        }
    };
    if !expected.stderr.is_empty() && errors != expected.stderr {
        let _ = writeln!(
            problems,
            "stderr: expected {:?}\n        got      {errors:?}",
            expected.stderr
        );
    }
    if result.outcome != expected_outcome {
        let _ =
            writeln!(problems, "outcome: expected {expected_outcome:?}, got {:?}", result.outcome);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn lox_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("tests/lox").flatten().collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            lox_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "lox") {
            out.push(path);
        }
    }
}

fn run_suite(config: &Config) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lox");
    let mut files = Vec::new();
    lox_files(&root, &mut files);
    assert!(files.len() > 100, "the suite is missing: {} files", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let source = std::fs::read_to_string(path).expect("readable test");
        if let Err(problems) = check(&source, config) {
            let name = path.strip_prefix(&root).unwrap_or(path).display().to_string();
            failures.push(format!("{name}:\n{problems}"));
        }
    }
    for (name, source) in generated() {
        if let Err(problems) = check(&source, config) {
            failures.push(format!("{name} (generated):\n{problems}"));
        }
    }
    println!(
        "{} passed, {} failed",
        files.len() + generated().len() - failures.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{} failing:\n{}", failures.len(), failures.join("\n"));
}

/// The jump limits, checked at the exact boundary: sources of about 65,536 bytes of code.
fn generated() -> Vec<(&'static str, String)> {
    // `a;` for a local `a` is three bytes of code (GET_LOCAL a, POP). Lines 1-3 open a block,
    // declare `a` and open the `if` or `while`; the body's closing brace is on line n + 4.
    let program = |head: &str, n: usize, tail: &str| {
        format!("{{\n  var a;\n  {head} {{\n{}  }}\n{tail}}}\n", "a;\n".repeat(n))
    };
    // The `if` jumps over POP, the body and the else jump: 3n + 4 bytes.
    // A statement after the error lets panic mode resynchronise before the block ends.
    let too_far = program("if (false)", 21_844, "  print \"unreached\";\n")
        + &format!("// [line {}] Error at '}}': Too much code to jump over.\n", 21_844 + 4);
    let fits = program("if (false)", 21_843, "  print \"ok\";\n") + "// expect: ok\n";
    // The loop jumps back over the condition, its jump, POP, the body and itself: 3n + 8.
    let too_long = program("while (false)", 21_843, "  print \"unreached\";\n")
        + &format!("// [line {}] Error at '}}': Loop body too large.\n", 21_843 + 4);
    let loop_fits = program("while (false)", 21_842, "  print \"ok\";\n") + "// expect: ok\n";
    vec![
        ("too_much_code_to_jump", too_far),
        ("jump_just_fits", fits),
        ("loop_body_too_large", too_long),
        ("loop_body_just_fits", loop_fits),
    ]
}

#[test]
fn suite() {
    run_suite(&Config::default());
}

#[test]
fn suite_in_stress_mode() {
    run_suite(&Config::stress());
}
