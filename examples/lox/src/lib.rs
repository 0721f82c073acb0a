//! A Lox bytecode VM, the language of *Crafting Interpreters*, behaving like the book's
//! reference implementation (clox), whose whole heap lives in gc-core.
//!
//! Every object is a gc-core object: interned strings, functions (with their bytecode,
//! line table and constants), closures, upvalues, classes, instances, bound methods, the
//! tables' entries, the globals, the (weak) intern table. The VM state (value stack, call
//! frames, open upvalues) is the arena's root: the VM runs in slices inside `mutate_root`
//! and the collector runs between them (see [`Lox::interpret`]).
//!
//! The library entry point for harnesses and fuzzers is [`run_source`].

mod chunk;
mod compiler;
mod intern;
mod natives;
mod object;
mod scanner;
mod table;
mod value;
mod vm;

use std::io::Write;

use gc_core::{Arena, Census, HeapConfig, Rootable, Stats};

pub use value::number_to_string;
use vm::{Slice, Vm};

/// How to run programs.
#[derive(Clone, Debug)]
pub struct Config {
    /// Collect at every safepoint (alternating minor and full collections) with the heap
    /// verifier on, and make safepoints frequent.
    pub stress: bool,
    /// Calls and loop iterations per slice: the work between two safepoints.
    pub fuel: u32,
    /// Stop with [`Outcome::LimitExceeded`] after this many slices (for fuzzing, where
    /// programs may not terminate).
    pub max_slices: Option<u64>,
    /// Stop with [`Outcome::LimitExceeded`] when the heap holds more than this many bytes at
    /// a safepoint (for fuzzing).
    pub max_heap_bytes: Option<usize>,
    /// Leak-debug mode: every object records its allocation site and birth, and
    /// `expectCollected(value)` watches an object (see [`Lox::leak_report`]).
    pub leak_debug: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            stress: false,
            fuel: 4096,
            max_slices: None,
            max_heap_bytes: None,
            leak_debug: false,
        }
    }
}

impl Config {
    /// Stress mode: a collection (verified) after every call and loop iteration.
    pub fn stress() -> Self {
        Config { stress: true, fuel: 1, ..Config::default() }
    }

    fn heap_config(&self) -> HeapConfig {
        // Measured on bench/ (binary_trees, instantiation, trees): a 1 MiB nursery keeps
        // small programs small (a 2 MiB mapping gets a transparent huge page at its first
        // touch) without raising promotion much; full collections from 8 MiB on, at 1.5x
        // the live bytes, keep the peak of allocation-heavy programs below the reference's.
        HeapConfig::builder()
            .nursery_size(1 << 20)
            .min_full_heap(8 << 20)
            .growth_factor(1.5)
            .stress(self.stress)
            .verify(self.stress)
            .leak_debug(self.leak_debug)
            .build()
            .expect("a valid heap configuration")
    }
}

/// How a program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    CompileError,
    RuntimeError,
    /// One of the configured limits stopped it (never with the default configuration).
    LimitExceeded,
}

impl Outcome {
    /// The reference's exit codes (sysexits): 65 for a compile error, 70 for a runtime
    /// error.
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Ok => 0,
            Outcome::CompileError => 65,
            Outcome::RuntimeError | Outcome::LimitExceeded => 70,
        }
    }
}

/// A Lox VM and its heap. Globals persist from one [`interpret`](Lox::interpret) to the
/// next, as in the REPL.
pub struct Lox {
    arena: Arena<Rootable![Vm<'_>]>,
    config: Config,
}

impl std::fmt::Debug for Lox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lox").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Lox {
    pub fn new(config: &Config) -> Lox {
        natives::start_clock();
        let arena = Arena::<Rootable![Vm<'_>]>::new(config.heap_config(), |mc| Vm::new(mc));
        Lox { arena, config: config.clone() }
    }

    /// Compiles and runs `source`: the program's output goes to `out`, errors to `err`.
    ///
    /// The VM runs in slices of `fuel` calls and loop iterations, each one `mutate_root`
    /// call; between slices, `collect_if_due` is the safepoint where the collector may run
    /// (and move everything). Only the root, the `Vm`, survives from one slice to the next.
    pub fn interpret(
        &mut self,
        source: &[u8],
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Outcome {
        let loaded = self.arena.mutate_root(|mc, vm| vm.load(mc, source, err));
        if !loaded {
            return Outcome::CompileError;
        }
        let fuel = self.config.fuel.max(1);
        let mut slices = 0u64;
        loop {
            self.arena.collect_if_due();
            let slice = self.arena.mutate_root(|mc, vm| vm.run(mc, fuel, out, err));
            match slice {
                Slice::Done => return Outcome::Ok,
                Slice::Error => return Outcome::RuntimeError,
                Slice::Yield => {}
            }
            slices += 1;
            let too_long = self.config.max_slices.is_some_and(|max| slices >= max);
            let too_big = self.config.max_heap_bytes.is_some_and(|max| self.heap_bytes() > max);
            if too_long || too_big {
                self.arena.mutate_root(|_, vm| vm.reset());
                return Outcome::LimitExceeded;
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        let stats = self.arena.stats();
        stats.nursery_used + stats.old_used + stats.large_bytes
    }

    /// The collector's statistics.
    pub fn stats(&self) -> Stats {
        self.arena.stats()
    }

    /// Walks the heap and measures what is live.
    pub fn census(&mut self) -> Census {
        self.arena.census()
    }

    /// Runs a full collection.
    pub fn collect_full(&mut self) {
        self.arena.collect_full();
    }

    /// Leak-debug mode (`Config::leak_debug`): collects fully until every watch has had its
    /// chance to die, then explains what keeps each object the program passed to
    /// `expectCollected` alive, and which roots grew at each of the last full collections.
    /// Also the live objects by type. Empty when the mode is off.
    pub fn leak_report(&mut self) -> (gc_core::LeakReport, gc_core::ClassHistogram) {
        for _ in 0..=self.config.heap_config().leak_watch_collections() {
            self.arena.collect_full();
        }
        (self.arena.leak_report(), self.arena.class_histogram())
    }

    /// The number of interned strings.
    pub fn interned_strings(&self) -> usize {
        self.arena.mutate(|_, vm| vm.interned_strings())
    }
}

/// What [`run_source`] saw.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub outcome: Outcome,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Runs a whole program in a fresh VM, capturing its output and errors. The entry point
/// for test harnesses and fuzz targets: any source text, valid or not, must end in one of
/// the [`Outcome`]s, never a crash.
pub fn run_source(source: &str, config: &Config) -> RunResult {
    let mut lox = Lox::new(config);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let outcome = lox.interpret(source.as_bytes(), &mut stdout, &mut stderr);
    RunResult { outcome, stdout, stderr }
}
