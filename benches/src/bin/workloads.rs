//! Runs the workloads, one per process, and compares the implementations.
//!
//! ```text
//! workloads run WORKLOAD IMPL SIZE      one run; prints one `RESULT key=value ...` line
//! workloads compare [OPTIONS]           every workload × implementation as separate processes,
//!                                       interleaved, several rounds; prints markdown tables
//! workloads WORKLOAD SIZE [IMPL]        one run, human-readable (gc-core's statistics too)
//! ```
//!
//! Workloads: binary-trees, gcbench, churn, frag, cycles (every implementation), vm (gc-core
//! only: pauses with a 100 MiB old generation), alloc (gc-core, rc, bumpalo), full-gc (gc-core).
//! Implementations: gc-core, bumpalo, box, rc, dumpster, boa_gc, gc-arena, rust-gc; with
//! `--external`, also hotspot and v8: the programs in `benches/peers/` (same workloads, PRNG and
//! checksums) run by `java -XX:+UseParallelGC` and `node`, when those are installed.
//!
//! `compare` options: `--quick` (small sizes, one round unless `--rounds`: a smoke test of a few
//! seconds), `--rounds N` (default 3), `--workloads a,b`, `--impls a,b`, `--external`,
//! `--timeout SECS` (per run, default 900), `--size WORKLOAD=SIZE`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use gc_benches::common::{peak_rss, Impl, Outcome, Summary};
use gc_benches::{alloc, binary_trees, churn, cycles, frag, gcbench, vm};
use gc_core::HeapConfig;

/// A workload of the comparison, with its full and quick sizes.
struct Workload {
    name: &'static str,
    size: u64,
    quick: u64,
    /// How the size reads in a table.
    label: fn(u64) -> String,
    /// Which implementations run it.
    impls: &'static [Impl],
    /// Whether the external peers (HotSpot, V8) implement it.
    external: bool,
}

const WORKLOADS: &[Workload] = &[
    Workload {
        name: "binary-trees",
        size: 20,
        quick: 10,
        label: |s| format!("depth {s}"),
        impls: &Impl::ALL,
        external: true,
    },
    Workload {
        name: "gcbench",
        size: 20,
        quick: 10,
        label: |s| format!("stretch {s}, long-lived {}, 4..{}", s - 2, s - 2),
        impls: &Impl::ALL,
        external: true,
    },
    Workload {
        name: "churn",
        size: 200_000,
        quick: 2_000,
        label: |s| format!("{}k live, half replaced × 20", s / 1000),
        impls: &Impl::ALL,
        external: true,
    },
    Workload {
        name: "frag",
        size: 4_000_000,
        quick: 40_000,
        label: |s| format!("{} k small, 90 % freed, then large", s / 1000),
        impls: &Impl::ALL,
        external: true,
    },
    Workload {
        name: "cycles",
        size: 16 << 20,
        quick: 64 << 10,
        label: |s| format!("{} k ring nodes", s >> 10),
        impls: &Impl::ALL,
        external: true,
    },
    Workload {
        name: "vm",
        size: 100,
        quick: 2,
        label: |s| format!("{s} MiB live old gen"),
        impls: &[Impl::GcCore],
        external: false,
    },
    Workload {
        name: "alloc",
        size: 50_000_000,
        quick: 100_000,
        label: |s| format!("{} k small objects", s / 1000),
        impls: &[Impl::GcCore, Impl::Bumpalo, Impl::Rc],
        external: false,
    },
];

/// A column of the comparison: an implementation in this crate, or an external program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Column {
    Rust(Impl),
    HotSpot,
    V8,
}

impl Column {
    fn name(self) -> &'static str {
        match self {
            Column::Rust(imp) => imp.name(),
            Column::HotSpot => "hotspot",
            Column::V8 => "v8",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Column::Rust(Impl::GcCore) => "**gc-core**",
            Column::Rust(Impl::Box) => "Box",
            Column::Rust(Impl::Rc) => "Rc",
            Column::Rust(imp) => imp.name(),
            Column::HotSpot => "HotSpot ParallelGC",
            Column::V8 => "V8 (node)",
        }
    }

    fn from_name(name: &str) -> Option<Column> {
        match name {
            "hotspot" => Some(Column::HotSpot),
            "v8" => Some(Column::V8),
            other => Impl::from_name(other).map(Column::Rust),
        }
    }

    fn runs(self, w: &Workload) -> bool {
        match self {
            Column::Rust(imp) => w.impls.contains(&imp),
            Column::HotSpot | Column::V8 => w.external,
        }
    }
}

const GC_CORE: Column = Column::Rust(Impl::GcCore);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["run", workload, imp, size] => {
            let Some(imp) = Impl::from_name(imp) else {
                eprintln!("unknown implementation {imp}");
                return ExitCode::from(64);
            };
            let Ok(size) = size.parse() else {
                eprintln!("bad size {size}");
                return ExitCode::from(64);
            };
            let (wall, outcome) = run_one(workload, imp, size);
            println!("{}", result_line(workload, imp.name(), size, wall, &outcome));
            ExitCode::SUCCESS
        }
        ["compare", options @ ..] => compare(options),
        [workload, size, rest @ ..] if size.parse::<u64>().is_ok() => {
            let imp = rest.first().map_or(Some(Impl::GcCore), |i| Impl::from_name(i));
            let Some(imp) = imp else {
                eprintln!("unknown implementation {}", rest[0]);
                return ExitCode::from(64);
            };
            let size = size.parse().unwrap_or(0);
            let (wall, outcome) = run_one(workload, imp, size);
            println!(
                "{workload} {size} on {imp}: checksum {}, wall {:.3} s, peak RSS {} MiB",
                outcome.checksum,
                wall.as_secs_f64(),
                peak_rss() >> 20
            );
            if let (Some(live), Some(rss)) = (outcome.live_bytes, outcome.final_rss) {
                println!(
                    "final RSS {} MiB ÷ live {} MiB = {:.2}",
                    rss >> 20,
                    live >> 20,
                    ratio(rss as u64, live)
                );
            }
            if let Some(bytes) = outcome.unreclaimed {
                println!("unreclaimed after the final collection: {bytes} objects");
            }
            if let Some((stats, pauses)) = &outcome.gc {
                println!("{stats}");
                print_summary("minor", &pauses.minor_summary());
                print_summary("full", &pauses.full_summary());
            }
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!(
                "usage: workloads run WORKLOAD IMPL SIZE | workloads compare [--quick] \
                 [--rounds N] [--workloads a,b] [--impls a,b] [--timeout S] \
                 [--size W=N] | workloads WORKLOAD SIZE [IMPL]"
            );
            ExitCode::from(64)
        }
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    a as f64 / b.max(1) as f64
}

fn print_summary(kind: &str, s: &Summary) {
    println!(
        "{kind} pauses: {} (p50 {:?}, p99 {:?}, max {:?}, total {:?})",
        s.count, s.p50, s.p99, s.max, s.total
    );
}

/// Runs one workload in this process.
fn run_one(workload: &str, imp: Impl, size: u64) -> (Duration, Outcome) {
    let start = Instant::now();
    let outcome = match workload {
        "binary-trees" => binary_trees::run(imp, size as u32),
        "gcbench" => gcbench::run(imp, size as u32),
        "churn" => churn::run(imp, size as usize),
        "frag" => frag::run(imp, size as usize),
        "cycles" => cycles::run(imp, size),
        "vm" => {
            assert_eq!(imp, Impl::GcCore, "vm runs on gc-core only");
            vm::run(size)
        }
        "alloc" => match imp {
            Impl::GcCore => {
                let (sum, stats, pauses) = alloc::gc_core_pauses(size, HeapConfig::default());
                Outcome { gc: Some((stats, pauses)), ..Outcome::checksum(sum) }
            }
            Impl::Rc => Outcome::checksum(alloc::rc(size)),
            Impl::Bumpalo => Outcome::checksum(alloc::bumpalo(size)),
            other => panic!("alloc has no {other} implementation"),
        },
        "full-gc" => {
            let stats = binary_trees::full_collections(size as u32, 10, HeapConfig::default());
            Outcome { gc: Some((stats, Default::default())), ..Outcome::default() }
        }
        other => panic!("unknown workload {other}"),
    };
    (start.elapsed(), outcome)
}

/// The machine-readable line of one run.
fn result_line(workload: &str, imp: &str, size: u64, wall: Duration, o: &Outcome) -> String {
    let mut line = format!(
        "RESULT workload={workload} impl={imp} size={size} wall_s={:.4} peak_rss={} checksum={}",
        wall.as_secs_f64(),
        peak_rss(),
        o.checksum
    );
    if let Some(live) = o.live_bytes {
        let _ = write!(line, " live_bytes={live}");
    }
    if let Some(rss) = o.final_rss {
        let _ = write!(line, " final_rss={rss}");
    }
    if let Some(bytes) = o.unreclaimed {
        let _ = write!(line, " unreclaimed={bytes}");
    }
    if let Some((stats, pauses)) = &o.gc {
        for (kind, s, count) in [
            ("minor", pauses.minor_summary(), stats.minor.count),
            ("full", pauses.full_summary(), stats.full.count),
        ] {
            let _ = write!(
                line,
                " {kind}_count={count} {kind}_recorded={} {kind}_p50_ns={} {kind}_p99_ns={} \
                 {kind}_max_ns={} {kind}_total_ns={}",
                s.count,
                s.p50.as_nanos(),
                s.p99.as_nanos(),
                s.max.as_nanos(),
                s.total.as_nanos()
            );
        }
        let _ = write!(
            line,
            " bytes_allocated={} bytes_promoted={} bytes_pretenured={} committed={}",
            stats.bytes_allocated, stats.bytes_promoted, stats.bytes_pretenured, stats.committed
        );
    }
    line
}

/// One parsed `RESULT` line.
type Record = BTreeMap<String, String>;

fn parse_result(stdout: &str) -> Option<Record> {
    let line = stdout.lines().rev().find(|l| l.starts_with("RESULT "))?;
    Some(
        line.split_whitespace()
            .skip(1)
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

fn num(r: &Record, key: &str) -> Option<f64> {
    r.get(key)?.parse().ok()
}

struct Options {
    quick: bool,
    rounds: usize,
    workloads: Vec<&'static Workload>,
    columns: Vec<Column>,
    timeout: Duration,
    sizes: BTreeMap<String, u64>,
}

fn parse_options(args: &[&str]) -> Result<Options, String> {
    let mut quick = false;
    let mut rounds = None;
    let mut only_workloads: Option<Vec<String>> = None;
    let mut only_impls: Option<Vec<String>> = None;
    let mut timeout = Duration::from_secs(900);
    let mut sizes = BTreeMap::new();
    let mut external = false;
    let mut it = args.iter();
    while let Some(&arg) = it.next() {
        let mut value = || it.next().copied().ok_or(format!("{arg} needs a value"));
        match arg {
            "--quick" => quick = true,
            "--external" => external = true,
            "--rounds" => rounds = Some(value()?.parse().map_err(|e| format!("--rounds: {e}"))?),
            "--timeout" => {
                timeout =
                    Duration::from_secs(value()?.parse().map_err(|e| format!("--timeout: {e}"))?)
            }
            "--workloads" => only_workloads = Some(value()?.split(',').map(String::from).collect()),
            "--impls" => only_impls = Some(value()?.split(',').map(String::from).collect()),
            "--size" => {
                let v = value()?;
                let (w, s) = v.split_once('=').ok_or("--size WORKLOAD=SIZE")?;
                sizes.insert(w.to_string(), s.parse().map_err(|e| format!("--size: {e}"))?);
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    let workloads = WORKLOADS
        .iter()
        .filter(|w| only_workloads.as_ref().is_none_or(|o| o.iter().any(|n| n == w.name)))
        .collect::<Vec<_>>();
    if let Some(o) = &only_workloads {
        if let Some(bad) = o.iter().find(|n| !WORKLOADS.iter().any(|w| w.name == n.as_str())) {
            return Err(format!("unknown workload {bad}"));
        }
    }
    let mut columns: Vec<Column> = Impl::ALL.into_iter().map(Column::Rust).collect();
    if external {
        for (column, tools) in
            [(Column::HotSpot, ["java", "javac"]), (Column::V8, ["node", "node"])]
        {
            if tools.iter().all(|t| has_command(t)) {
                columns.push(column);
            } else {
                eprintln!("note: no {}: no {} column", tools.join("/"), column.name());
            }
        }
    }
    if let Some(o) = &only_impls {
        for n in o {
            if Column::from_name(n).is_none() {
                return Err(format!("unknown implementation {n}"));
            }
        }
        columns.retain(|c| o.iter().any(|n| Column::from_name(n) == Some(*c)));
    }
    Ok(Options {
        quick,
        rounds: rounds.unwrap_or(if quick { 1 } else { 3 }),
        workloads,
        columns,
        timeout,
        sizes,
    })
}

/// What one spawned run gave.
enum RunResult {
    Ok(Record),
    Failed(String),
}

fn has_command(name: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `benches/peers/`: the HotSpot and V8 programs.
fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers")
}

/// Compiles the Java program into a temporary directory; `None` if javac fails.
fn compile_java() -> Option<PathBuf> {
    let out = std::env::temp_dir().join(format!("gc-benches-java-{}", std::process::id()));
    std::fs::create_dir_all(&out).ok()?;
    let ok = Command::new("javac")
        .arg("-d")
        .arg(&out)
        .arg(peers_dir().join("Workloads.java"))
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(out)
}

/// The command that runs `workload` on `column` in a process of its own: this executable, or
/// an external peer's program.
fn command(column: Column, workload: &str, size: u64, java: Option<&Path>) -> Option<Command> {
    let size = size.to_string();
    match column {
        Column::Rust(imp) => {
            let mut cmd = Command::new(std::env::current_exe().ok()?);
            cmd.args(["run", workload, imp.name(), &size]);
            Some(cmd)
        }
        Column::HotSpot => {
            let mut cmd = Command::new("java");
            cmd.arg("-XX:+UseParallelGC").arg("-Xss64m").arg("-cp").arg(java?);
            cmd.args(["Workloads", workload, &size]);
            Some(cmd)
        }
        Column::V8 => {
            let mut cmd = Command::new("node");
            cmd.args(["--expose-gc", "--stack-size=8000"]).arg(peers_dir().join("workloads.js"));
            cmd.args([workload, &size]);
            Some(cmd)
        }
    }
}

fn spawn_and_wait(mut cmd: Command, timeout: Duration) -> RunResult {
    let mut child = match cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(e) => return RunResult::Failed(format!("spawn: {e}")),
    };
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return RunResult::Failed(format!("wait: {e}")),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    match status {
        None => RunResult::Failed(format!("timeout after {} s", timeout.as_secs())),
        Some(status) if !status.success() => {
            let last = stderr.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
            RunResult::Failed(format!("{status}: {last}"))
        }
        Some(_) => match parse_result(&stdout) {
            Some(record) => RunResult::Ok(record),
            None => RunResult::Failed("no RESULT line".into()),
        },
    }
}

fn compare(args: &[&str]) -> ExitCode {
    let options = match parse_options(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(64);
        }
    };
    let size_of = |w: &Workload| {
        options.sizes.get(w.name).copied().unwrap_or(if options.quick { w.quick } else { w.size })
    };
    // results[(workload, column)] = one record per round
    let java = if options.columns.contains(&Column::HotSpot) { compile_java() } else { None };
    let mut results: BTreeMap<(&str, Column), Vec<RunResult>> = BTreeMap::new();
    let mut failures = 0;
    for round in 0..options.rounds {
        for w in &options.workloads {
            let mut columns: Vec<Column> =
                options.columns.iter().copied().filter(|c| c.runs(w)).collect();
            // Interleave: each round starts the rotation one implementation later.
            if !columns.is_empty() {
                let k = round % columns.len();
                columns.rotate_left(k);
            }
            for column in columns {
                let Some(cmd) = command(column, w.name, size_of(w), java.as_deref()) else {
                    results
                        .entry((w.name, column))
                        .or_default()
                        .push(RunResult::Failed("javac failed".into()));
                    continue;
                };
                let started = Instant::now();
                let result = spawn_and_wait(cmd, options.timeout);
                match &result {
                    RunResult::Ok(r) => eprintln!(
                        "round {} {} {}: {} s, peak {} MiB (took {:.1} s)",
                        round + 1,
                        w.name,
                        column.name(),
                        r.get("wall_s").map_or("?", String::as_str),
                        num(r, "peak_rss").unwrap_or(0.0) as u64 >> 20,
                        started.elapsed().as_secs_f64()
                    ),
                    RunResult::Failed(why) => {
                        failures += 1;
                        eprintln!("round {} {} {}: FAILED {why}", round + 1, w.name, column.name())
                    }
                }
                results.entry((w.name, column)).or_default().push(result);
            }
        }
    }
    // Every run of a workload must agree with gc-core's checksum (the Rust implementations
    // assert theirs in-process; this catches the external programs).
    for w in &options.workloads {
        let reference = results.get(&(w.name, GC_CORE)).and_then(|runs| {
            runs.iter().find_map(|r| match r {
                RunResult::Ok(r) => r.get("checksum").cloned(),
                RunResult::Failed(_) => None,
            })
        });
        let Some(reference) = reference else { continue };
        for ((name, column), runs) in results.iter_mut() {
            if *name != w.name {
                continue;
            }
            for run in runs.iter_mut() {
                if let RunResult::Ok(r) = run {
                    if r.get("checksum") != Some(&reference) {
                        let got = r.get("checksum").cloned().unwrap_or_default();
                        eprintln!(
                            "{} {}: checksum {got}, gc-core's {reference}",
                            w.name,
                            column.name()
                        );
                        failures += 1;
                        *run = RunResult::Failed(format!("checksum {got} ≠ {reference}"));
                    }
                }
            }
        }
    }
    print!("{}", render(&options, &results, &size_of));
    if failures > 0 && options.quick {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

/// The metrics shown per workload: (title, how to get one run's value, how to print it).
type Metric = (&'static str, fn(&Record) -> Option<f64>, fn(f64) -> String);

fn metrics(workload: &str) -> Vec<Metric> {
    let wall: Metric = ("wall s", |r| num(r, "wall_s"), |v| format!("{v:.2}"));
    let peak: Metric =
        ("peak RSS MiB", |r| Some(num(r, "peak_rss")? / 1048576.0), |v| format!("{v:.0}"));
    let rss_live: Metric = (
        "final RSS ÷ live payload",
        |r| Some(num(r, "final_rss")? / num(r, "live_bytes")?),
        |v| format!("{v:.2}"),
    );
    let unreclaimed: Metric =
        ("nodes unreclaimed at the end", |r| num(r, "unreclaimed"), |v| format!("{v:.0}"));
    let ns_per: Metric = (
        "ns per object",
        |r| Some(num(r, "wall_s")? * 1e9 / num(r, "size")?),
        |v| format!("{v:.2}"),
    );
    match workload {
        "churn" | "frag" => vec![wall, peak, rss_live],
        "cycles" => vec![wall, peak, unreclaimed],
        "alloc" => vec![wall, ns_per],
        _ => vec![wall, peak],
    }
}

fn render(
    options: &Options,
    results: &BTreeMap<(&str, Column), Vec<RunResult>>,
    size_of: &dyn Fn(&Workload) -> u64,
) -> String {
    let mut out = String::new();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let _ = writeln!(
        out,
        "Comparison of {} ({} core{}; median of {} interleaved run{} per cell, each a separate \
         process; in parentheses: the ratio to gc-core)\n",
        today(),
        cores,
        if cores == 1 { "" } else { "s" },
        options.rounds,
        if options.rounds == 1 { "" } else { "s" }
    );
    let columns = &options.columns;
    let _ = write!(out, "| workload | metric |");
    for c in columns {
        let _ = write!(out, " {} |", c.title());
    }
    let _ = write!(out, "\n|---|---|");
    for _ in columns {
        let _ = write!(out, "---|");
    }
    out.push('\n');
    for w in &options.workloads {
        if w.impls.len() == 1 {
            continue; // gc-core only: in the pause table
        }
        for (i, (title, get, show)) in metrics(w.name).into_iter().enumerate() {
            let cell_value = |c: Column| -> Option<f64> {
                let runs = results.get(&(w.name, c))?;
                median(
                    runs.iter()
                        .filter_map(|r| match r {
                            RunResult::Ok(r) => get(r),
                            RunResult::Failed(_) => None,
                        })
                        .collect(),
                )
            };
            let ours = cell_value(GC_CORE);
            let name = if i == 0 {
                format!("{} ({})", w.name, (w.label)(size_of(w)))
            } else {
                String::new()
            };
            let _ = write!(out, "| {name} | {title} |");
            for &c in columns {
                let applies = c.runs(w);
                let failed = results.get(&(w.name, c)).and_then(|runs| {
                    runs.iter().find_map(|r| match r {
                        RunResult::Failed(why) => Some(why.clone()),
                        RunResult::Ok(_) => None,
                    })
                });
                let cell = match cell_value(c) {
                    _ if !applies => "–".to_string(),
                    None if failed.is_some() => {
                        let why = failed.unwrap_or_default();
                        format!("failed ({})", why.chars().take(40).collect::<String>())
                    }
                    None => "–".to_string(),
                    Some(v) => match ours {
                        Some(o) if c != GC_CORE && o != 0.0 => {
                            format!("{} ({:.2}×)", show(v), v / o)
                        }
                        _ => show(v),
                    },
                };
                let _ = write!(out, " {cell} |");
            }
            out.push('\n');
        }
    }
    // gc-core's own statistics, from the run with the median wall time of each workload.
    let _ = writeln!(
        out,
        "\ngc-core's collections (the run with the median wall time; pauses from the collector's \
         own statistics after every collection; p50/p99 by nearest rank)\n"
    );
    let _ = writeln!(
        out,
        "| workload | wall s | minor: count | p50 | p99 | max | full: count | p50 | p99 | max | \
         GC total s | promoted MiB |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|");
    for w in &options.workloads {
        let Some(runs) = results.get(&(w.name, GC_CORE)) else { continue };
        let mut ok: Vec<&Record> = runs
            .iter()
            .filter_map(|r| match r {
                RunResult::Ok(r) => Some(r),
                RunResult::Failed(_) => None,
            })
            .collect();
        if ok.is_empty() {
            continue;
        }
        ok.sort_by(|a, b| {
            num(a, "wall_s").unwrap_or(0.0).total_cmp(&num(b, "wall_s").unwrap_or(0.0))
        });
        let r = ok[ok.len() / 2];
        let ms = |k: &str| num(r, k).map_or("–".into(), pause);
        let gc_total =
            num(r, "minor_total_ns").unwrap_or(0.0) + num(r, "full_total_ns").unwrap_or(0.0);
        let _ = writeln!(
            out,
            "| {} ({}) | {:.2} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} | {:.0} |",
            w.name,
            (w.label)(size_of(w)),
            num(r, "wall_s").unwrap_or(0.0),
            r.get("minor_recorded").map_or("–", String::as_str),
            ms("minor_p50_ns"),
            ms("minor_p99_ns"),
            ms("minor_max_ns"),
            r.get("full_recorded").map_or("–", String::as_str),
            ms("full_p50_ns"),
            ms("full_p99_ns"),
            ms("full_max_ns"),
            gc_total / 1e9,
            num(r, "bytes_promoted").unwrap_or(0.0) / 1048576.0
        );
    }
    out
}

/// A pause given in nanoseconds, in a readable unit.
fn pause(ns: f64) -> String {
    if ns < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{:.1} ms", ns / 1e6)
    }
}

/// Today's date (UTC), from the system clock.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Howard Hinnant's civil_from_days.
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}
