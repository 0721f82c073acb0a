//! `lox [--gc-stats] [--gc-stress] [--leak-report] [FILE]`: runs a script, or a REPL without
//! one.

use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;

use lox::{Config, Lox, Outcome};

const USAGE: &str = "Usage: lox [--gc-stats] [--gc-stress] [--leak-report] [path]";

fn main() -> ExitCode {
    let mut config = Config::default();
    let mut gc_stats = false;
    let mut leak_report = false;
    let mut path = None;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--gc-stats" => gc_stats = true,
            "--gc-stress" => config = Config { max_slices: None, ..Config::stress() },
            "--leak-report" => leak_report = true,
            flag if flag.starts_with("--") => return usage(),
            _ if path.is_some() => return usage(),
            _ => path = Some(arg),
        }
    }

    config.leak_debug = leak_report;
    let mut lox = Lox::new(&config);
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
    let mut err = io::stderr();
    let code = match path {
        Some(path) => run_file(&mut lox, &path, &mut out, &mut err),
        None => repl(&mut lox, &mut out, &mut err),
    };
    let _ = out.flush();
    drop(out);
    if gc_stats {
        print_stats(&mut lox, &mut err);
    }
    if leak_report {
        let (report, histogram) = lox.leak_report();
        let _ =
            writeln!(err, "-- leak report --\n{report}\n-- live objects by type --\n{histogram}");
    }
    ExitCode::from(code)
}

fn usage() -> ExitCode {
    eprintln!("{USAGE}");
    ExitCode::from(64)
}

fn run_file(lox: &mut Lox, path: &str, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let source = match std::fs::read(path) {
        Ok(source) => source,
        Err(_) => {
            let _ = writeln!(err, "Could not open file \"{path}\".");
            return 74;
        }
    };
    let outcome = lox.interpret(&source, out, err);
    outcome.exit_code() as u8
}

fn repl(lox: &mut Lox, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let mut line = Vec::new();
    loop {
        let _ = write!(out, "> ");
        let _ = out.flush();
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => {
                let _ = writeln!(out);
                return 0;
            }
            Ok(_) => {
                let outcome: Outcome = lox.interpret(&line, out, err);
                let _ = outcome;
            }
        }
    }
}

fn print_stats(lox: &mut Lox, err: &mut dyn Write) {
    let stats = lox.stats();
    let interned = lox.interned_strings();
    let census = lox.census();
    let _ = writeln!(err, "-- gc-core statistics --");
    let _ = writeln!(err, "{stats}");
    let _ = writeln!(
        err,
        "at exit: {} live objects, {} live bytes, fragmentation {:.2}%; {} interned strings",
        census.live_objects,
        census.live_bytes,
        census.fragmentation * 100.0,
        interned
    );
    if let Some((rss, peak)) = gc_core::memory_usage() {
        let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
        let _ = writeln!(err, "process RSS {:.1} MiB, peak {:.1} MiB", mib(rss), mib(peak));
    }
}
