//! What the fuzz target will do, in small: arbitrary source text through `run_source` in
//! stress mode must end in an `Outcome` (never a panic), with errors only on stderr.
//!
//! The inputs are the suite's programs cut, spliced and byte-flipped by a fixed-seed
//! generator, so failures reproduce.

use std::path::Path;

use lox::{run_source, Config, Outcome};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn corpus() -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lox")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).expect("tests/lox").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "lox") {
                let bytes = std::fs::read(&path).expect("readable");
                // The limit programs are large; mutations of them only repeat small ones.
                if bytes.len() < 4000 {
                    files.push(bytes);
                }
            }
        }
    }
    files.sort();
    files
}

fn mutate(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut text = corpus[rng.below(corpus.len())].clone();
    const TOKENS: &[&[u8]] = &[
        b"(",
        b")",
        b"{",
        b"}",
        b";",
        b".",
        b"=",
        b"+",
        b"\"",
        b"fun f() {",
        b"class A {",
        b"super.",
        b"this",
        b"return",
        b"var x = ",
        b"while (true)",
        b"nil",
        b"0/0",
        b"\0",
        b"\xff",
        b"A()",
        b"f(",
        b"print ",
        b"<",
        b"!",
    ];
    for _ in 0..1 + rng.below(2) {
        let at = rng.below(text.len() + 1);
        match rng.below(4) {
            0 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                text.splice(at..at, token.iter().copied());
            }
            1 if !text.is_empty() => {
                let end = (at + rng.below(40)).min(text.len());
                text.drain(at..end);
            }
            2 => {
                let other = &corpus[rng.below(corpus.len())];
                let from = rng.below(other.len());
                let to = (from + rng.below(200)).min(other.len());
                text.splice(at..at, other[from..to].iter().copied());
            }
            _ if !text.is_empty() => {
                let i = at.min(text.len() - 1);
                text[i] ^= 1 << rng.below(8);
            }
            _ => {}
        }
    }
    text
}

#[test]
fn mutated_programs_end_in_an_outcome() {
    let corpus = corpus();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let config =
        Config { max_slices: Some(2_000), max_heap_bytes: Some(64 << 20), ..Config::stress() };
    let mut seen = [0usize; 4];
    for _ in 0..1500 {
        let bytes = mutate(&mut rng, &corpus);
        let source = String::from_utf8_lossy(&bytes);
        let result = run_source(&source, &config);
        seen[result.outcome as usize] += 1;
        match result.outcome {
            Outcome::Ok => assert!(result.stderr.is_empty(), "{source}"),
            Outcome::CompileError => {
                assert!(result.stdout.is_empty(), "{source}");
                // (A lexeme in an error may span lines: a string literal.)
                let stderr = String::from_utf8_lossy(&result.stderr);
                assert!(stderr.starts_with("[line "), "{source}\n{stderr}");
            }
            Outcome::RuntimeError => {
                let stderr = String::from_utf8_lossy(&result.stderr);
                let mut lines = stderr.lines();
                assert!(lines.next().is_some_and(|l| !l.is_empty()), "{source}");
                assert!(lines.all(|l| l.starts_with("[line ")), "{source}\n{stderr}");
            }
            Outcome::LimitExceeded => {}
        }
    }
    // The mutations exercise the VM too, not only the compiler's errors.
    assert!(seen[..3].iter().all(|&n| n > 10), "outcomes seen: {seen:?}");
}

#[test]
fn limits_stop_programs_that_would_not_end() {
    let config =
        Config { max_slices: Some(1_000), max_heap_bytes: Some(16 << 20), ..Config::stress() };
    for source in [
        "while (true) {}",
        "fun f() { f(); } while (true) { }",
        "var s = \"ab\"; while (true) s = s + s;",
        "class A { init(n) { this.next = n; } } var a = nil; while (true) a = A(a);",
    ] {
        let result = run_source(source, &config);
        assert_eq!(result.outcome, Outcome::LimitExceeded, "{source}");
        assert!(result.stderr.is_empty(), "{source}");
    }
    // The default configuration has no limits.
    let result =
        run_source("var i = 0; while (i < 100000) i = i + 1; print i;", &Config::default());
    assert_eq!((result.outcome, result.stdout), (Outcome::Ok, b"100000\n".to_vec()));
}
