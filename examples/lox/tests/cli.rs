//! The `lox` binary as a process: exit codes, what goes to stdout and to stderr, flushing,
//! the REPL and the flags.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn lox(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lox"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the lox binary runs");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("lox exits")
}

fn script(name: &str, source: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lox-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, source).expect("write script");
    path
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("utf-8")
}

#[test]
fn runs_a_file() {
    let path = script("ok.lox", "print 1 + 2;\nprint \"done\";\n");
    let out = lox(&[path.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "3\ndone\n");
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn compile_error_exits_65_with_errors_on_stderr_only() {
    let path = script("compile.lox", "print \"never\";\nvar = 1;\nprint 1 +;\n");
    let out = lox(&[path.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(65));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        "[line 2] Error at '=': Expect variable name.\n[line 3] Error at ';': Expect expression.\n"
    );
}

#[test]
fn runtime_error_exits_70_after_flushing_stdout() {
    let source =
        "for (var i = 0; i < 3; i = i + 1) print i;\nfun f() {\n  return -\"x\";\n}\nf();\n";
    let path = script("runtime.lox", source);
    let out = lox(&[path.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(70));
    assert_eq!(text(&out.stdout), "0\n1\n2\n");
    assert_eq!(
        text(&out.stderr),
        "Operand must be a number.\n[line 3] in f()\n[line 5] in script\n"
    );
}

#[test]
fn large_output_is_flushed_in_full() {
    let path = script("big.lox", "for (var i = 0; i < 100000; i = i + 1) print i;\nnil();\n");
    let out = lox(&[path.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(70));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 100_000);
    assert!(stdout.ends_with("99999\n"));
}

#[test]
fn unreadable_file_exits_74() {
    let out = lox(&["/nonexistent/nothing.lox"], "");
    assert_eq!(out.status.code(), Some(74));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(text(&out.stderr), "Could not open file \"/nonexistent/nothing.lox\".\n");
}

#[test]
fn bad_usage_exits_64() {
    for args in [&["a.lox", "b.lox"][..], &["--no-such-flag"][..]] {
        let out = lox(args, "");
        assert_eq!(out.status.code(), Some(64), "{args:?}");
        assert_eq!(text(&out.stdout), "");
        assert!(text(&out.stderr).starts_with("Usage: lox"), "{args:?}");
    }
}

#[test]
fn repl_keeps_globals_and_survives_errors() {
    let input = "var a = 1;\nprint a + 1;\nprint b;\nprint a;\nvar = ;\nprint \"last\";\n";
    let out = lox(&[], input);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "> > 2\n> > 1\n> > last\n> \n");
    assert_eq!(
        text(&out.stderr),
        "Undefined variable 'b'.\n[line 1] in script\n[line 1] Error at '=': Expect variable name.\n"
    );
}

#[test]
fn gc_stats_go_to_stderr_only() {
    let path = script(
        "stats.lox",
        "var s = \"\";\nfor (var i = 0; i < 100; i = i + 1) s = s + \"x\";\nprint s == s;\n",
    );
    let out = lox(&["--gc-stats", path.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "true\n");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("minor collections"), "{stderr}");
    assert!(stderr.contains("fragmentation"), "{stderr}");
    assert!(stderr.contains("live objects"), "{stderr}");
}

#[test]
fn gc_stress_runs_the_same_program() {
    let source = "class T { init(d) { if (d > 0) { this.l = T(d - 1); this.r = T(d - 1); } } }\n\
                  var n = 0;\nfor (var i = 0; i < 30; i = i + 1) { T(4); n = n + 1; }\nprint n;\n";
    let path = script("stress.lox", source);
    let normal = lox(&[path.to_str().unwrap()], "");
    let stressed = lox(&["--gc-stress", "--gc-stats", path.to_str().unwrap()], "");
    assert_eq!(stressed.status.code(), Some(0));
    assert_eq!(normal.stdout, stressed.stdout);
    assert_eq!(text(&stressed.stdout), "30\n");
    let stderr = text(&stressed.stderr);
    let minor: u64 = stderr
        .lines()
        .find_map(|l| l.strip_prefix("minor collections:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("a count of minor collections");
    assert!(minor > 100, "stress mode collects at every safepoint: {stderr}");
}

/// A listener leak in Lox: the window the program expects to be collected is kept by the
/// closure it registered on a global bus, and `--leak-report` shows that path; the window
/// that nothing holds is reported collected.
#[test]
fn leak_report_explains_a_listener_leak() {
    let source = "class Node { init(listener, next) { this.listener = listener; this.next = next; } }\n\
                  class Bus { init() { this.listeners = nil; } add(l) { this.listeners = Node(l, this.listeners); } }\n\
                  var bus = Bus();\n\
                  class Window { init(title) { this.title = title; } }\n\
                  fun open(title) { var w = Window(title); fun onMessage() { print w.title; } bus.add(onMessage); return w; }\n\
                  var w = open(\"about\");\nexpectCollected(w, \"window closed\");\nw = nil;\n\
                  var free = Window(\"free\");\nexpectCollected(free, \"never registered\");\nfree = nil;\n\
                  print \"done\";\n";
    let path = script("leak.lox", source);
    let plain = lox(&[path.to_str().unwrap()], "");
    assert_eq!(text(&plain.stdout), "done\n");
    assert_eq!(text(&plain.stderr), "", "expectCollected does nothing without the flag");
    let out = lox(&["--leak-report", path.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "done\n", "the report goes to stderr only");
    let report = text(&out.stderr);
    assert!(report.contains("1 retained object"), "{report}");
    assert!(report.contains("1 collected as expected"), "{report}");
    assert!(report.contains("\"expectCollected: window closed\""), "{report}");
    for step in ["arena root.globals", "lox::object::Closure.upvalues", "lox::object::Upvalue"] {
        assert!(report.contains(step), "the path passes through {step}: {report}");
    }
    assert!(report.contains("live objects by type"), "{report}");
}
