//! The NUMA proof on a real two-node kernel: `scripts/numa-qemu/run` builds this program
//! statically and boots it as `/init` of a QEMU guest with two NUMA nodes (512 MiB each, CPUs
//! 0-1 on node 0 and 2-3 on node 1). It checks gc-core's NUMA layer against the kernel:
//!
//! - (a) the topology: two nodes, their CPUs, their distances;
//! - (b) placement: a thread on each node binds a fresh 8 MiB range (all pages not present) to
//!   its node, touches it, and finds at least 99 % of the pages there; 8 MiB interleaved over both
//!   nodes splits evenly;
//! - (c) migration: a touched range bound to node 0 moves to node 1 with `migrate`;
//! - (d) fallback: with node 1 nearly exhausted, binding a range to it still works (the pages
//!   come from node 0), and migrating into it reports `NodeFull`;
//! - (e) the heap itself through gc-core's NUMA API (`HeapConfig::builder().numa(..)`,
//!   `Arena::numa_stats`): only when built with `--cfg gc_numa_api`, which the script passes
//!   when gc-core exports `NumaPolicy` (or when `NUMA_HEAP_TEST=1`).
//!
//! Each test prints a line; the last line is `RESULT: PASS` or `RESULT: FAIL`, and as PID 1 the
//! program then writes its verdict to the isa-debug-exit port 0xf4 (QEMU exits with 33 for a
//! pass, 35 for a failure) and never returns. Run anywhere else (not as PID 1) it runs the same
//! tests and exits 0 or 1: on a one-node machine (a) fails, as it should.

// `gc_numa_api` is this example's own switch (see above), unknown to the workspace's cfg list.
#![allow(unexpected_cfgs)]

use std::ffi::CString;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use gc_core::numa::{self, NodeId, NumaError, Placement, Topology};

const MIB: usize = 1 << 20;
/// The share of a range's pages that must be where they were asked to be.
const MIN_SHARE: f64 = 0.99;
/// The exit port of QEMU's isa-debug-exit device and the verdicts written to it.
const DEBUG_EXIT_PORT: u16 = 0xf4;
const VERDICT_PASS: u8 = 0x10;
const VERDICT_FAIL: u8 = 0x11;

type Topo = &'static numa::LinuxTopology;
/// A test's verdict: its report line, or why it failed.
type Outcome = Result<String, String>;
type Test = fn(Topo) -> Outcome;

fn main() {
    let pid1 = std::process::id() == 1;
    if pid1 {
        setup_init();
    }
    let started = Instant::now();
    println!("numa_guest: {} (pid {})", kernel_release(), std::process::id());
    let balancing = std::fs::read_to_string("/proc/sys/kernel/numa_balancing");
    println!("numa_balancing = {}", balancing.as_deref().unwrap_or("?").trim());

    let mut results: Vec<(&str, Option<bool>)> = Vec::new();
    let topo = match numa::system() {
        Ok(topo) => Some(topo),
        Err(err) => {
            println!("(a) topology: FAIL: {err}");
            results.push(("a", Some(false)));
            None
        }
    };
    if let Some(topo) = topo {
        let tests: [(&str, &str, Test); 4] = [
            ("a", "topology", test_topology),
            ("b", "placement", test_placement),
            ("c", "migration", test_migration),
            ("d", "fallback", test_fallback),
        ];
        for (tag, name, test) in tests {
            let at = Instant::now();
            let outcome = catch_unwind(AssertUnwindSafe(|| test(topo)))
                .unwrap_or_else(|panic| Err(format!("panicked: {}", panic_message(&panic))));
            let ms = at.elapsed().as_millis();
            match &outcome {
                Ok(report) => println!("({tag}) {name}: PASS ({ms} ms): {report}"),
                Err(why) => println!("({tag}) {name}: FAIL ({ms} ms): {why}"),
            }
            results.push((tag, Some(outcome.is_ok())));
        }
        let ok = heap::run(topo);
        results.push(("e", ok));
    }

    let failed: Vec<&str> = results.iter().filter(|r| r.1 == Some(false)).map(|r| r.0).collect();
    let skipped: Vec<&str> = results.iter().filter(|r| r.1.is_none()).map(|r| r.0).collect();
    let pass = failed.is_empty();
    println!(
        "summary: {} passed, {} failed{} in {} ms (guest clock)",
        results.len() - failed.len() - skipped.len(),
        failed.len(),
        if skipped.is_empty() { String::new() } else { format!(", skipped {skipped:?}") },
        started.elapsed().as_millis()
    );
    if !pass {
        println!("failed: {failed:?}");
    }
    println!("RESULT: {}", if pass { "PASS" } else { "FAIL" });
    finish(pid1, pass)
}

// ---------------------------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------------------------

/// (a) Two nodes, CPUs 0-1 and 2-3, distance 20 between them.
fn test_topology(topo: Topo) -> Outcome {
    let nodes = topo.nodes();
    for node in &nodes {
        println!(
            "    node {}: cpus {:?}, {} MiB ({} MiB free), distances {:?}",
            node.id,
            node.cpus,
            node.mem_total.unwrap_or(0) / MIB as u64,
            node.mem_free.unwrap_or(0) / MIB as u64,
            node.distances
        );
    }
    let shape: Vec<(NodeId, Vec<usize>, Vec<u32>)> =
        nodes.iter().map(|n| (n.id, n.cpus.clone(), n.distances.clone())).collect();
    let expected = vec![(0, vec![0, 1], vec![10, 20]), (1, vec![2, 3], vec![20, 10])];
    if shape != expected {
        return Err(format!("expected {expected:?}, found {shape:?}"));
    }
    if nodes.iter().any(|n| n.mem_total.is_none_or(|m| m < 256 * MIB as u64)) {
        return Err("a node reports less than 256 MiB".into());
    }
    for cpu in 0..4 {
        pin(cpu)?;
        let want = cpu as NodeId / 2;
        if topo.current_node() != Some(want) {
            return Err(format!("on cpu {cpu}, current_node() = {:?}", topo.current_node()));
        }
    }
    Ok("2 nodes, cpus 0-1 | 2-3, distance 20, getcpu agrees on every CPU".into())
}

/// (b) A thread on each node binds 8 MiB to its current node, touches it, and finds it there.
fn test_placement(topo: Topo) -> Outcome {
    let threads: Vec<_> = [0usize, 2]
        .into_iter()
        .map(|cpu| {
            std::thread::spawn(move || -> Outcome {
                pin(cpu)?;
                let node = topo.current_node().ok_or("no current node")?;
                let region = Region::new(8 * MIB)?;
                // Untouched pages are not present (kernels before 6.11 say EFAULT for them).
                let fresh = query(topo, &region)?;
                if fresh.not_present != region.pages() {
                    return Err(format!("fresh range: {}", describe(&fresh)));
                }
                topo.bind(region.addr(), region.len, node).map_err(|e| format!("bind: {e}"))?;
                region.fill(0);
                let placed = query(topo, &region)?;
                share_on(&placed, node, region.pages())?;
                Ok(format!("cpu {cpu} -> node {node}: {}", describe(&placed)))
            })
        })
        .collect();
    let mut reports = Vec::new();
    for thread in threads {
        reports.push(thread.join().map_err(|p| panic_message(&p))??);
    }
    // Interleaving over both nodes splits the pages evenly.
    let region = Region::new(8 * MIB)?;
    topo.interleave(region.addr(), region.len, &[0, 1]).map_err(|e| format!("interleave: {e}"))?;
    region.fill(0);
    let spread = query(topo, &region)?;
    if spread.on(0).abs_diff(spread.on(1)) > region.pages() / 100
        || spread.present() != region.pages()
    {
        return Err(format!("interleaved: {}", describe(&spread)));
    }
    reports.push(format!("interleaved: {}", describe(&spread)));
    Ok(reports.join("; "))
}

/// (c) A touched range bound to node 0 migrates to node 1, contents intact.
fn test_migration(topo: Topo) -> Outcome {
    on_thread(move || {
        pin(0)?;
        let region = Region::new(8 * MIB)?;
        topo.bind(region.addr(), region.len, 0).map_err(|e| format!("bind: {e}"))?;
        region.fill(7);
        let before = query(topo, &region)?;
        share_on(&before, 0, region.pages()).map_err(|e| format!("before: {e}"))?;
        let at = Instant::now();
        topo.migrate(region.addr(), region.len, 1).map_err(|e| format!("migrate: {e}"))?;
        let ms = at.elapsed().as_secs_f64() * 1e3;
        let after = query(topo, &region)?;
        share_on(&after, 1, region.pages()).map_err(|e| format!("after: {e}"))?;
        region.check(7)?;
        Ok(format!(
            "before [{}], migrate() {ms:.1} ms, after [{}], contents intact",
            describe(&before),
            describe(&after)
        ))
    })
}

/// (d) Node 1 nearly full: binding to it still works, the pages come from node 0; migrating
/// into it reports NodeFull.
fn test_fallback(topo: Topo) -> Outcome {
    on_thread(move || {
        pin(2)?;
        let free = node_free(topo, 1)?;
        // Leave node 1 less than the range below will want.
        let hog_len = free.saturating_sub(16 * MIB) / MIB * MIB;
        if hog_len < 64 * MIB {
            return Err(format!("node 1 has only {} MiB free", free / MIB));
        }
        let hog = Region::new(hog_len)?;
        topo.bind(hog.addr(), hog.len, 1).map_err(|e| format!("bind hog: {e}"))?;
        let at = Instant::now();
        hog.fill(1);
        let hog_ms = at.elapsed().as_millis();
        let hog_placed = query(topo, &hog)?;
        let left = node_free(topo, 1)?;
        println!(
            "    hog: {} MiB bound to node 1 and touched in {hog_ms} ms: [{}]; node 1 has {} MiB \
             free",
            hog_len / MIB,
            describe(&hog_placed),
            left / MIB
        );

        let region = Region::new(64 * MIB)?;
        topo.bind(region.addr(), region.len, 1)
            .map_err(|e| format!("bind to the full node: {e}"))?;
        region.fill(3);
        let placed = query(topo, &region)?;
        region.check(3)?;
        if placed.present() != region.pages() {
            return Err(format!("pages missing: {}", describe(&placed)));
        }
        if placed.on(0) * 2 < region.pages() {
            return Err(format!("node 1 was not full: {}", describe(&placed)));
        }

        // Migrating into the full node moves what fits and reports the rest.
        let part = 4 * MIB;
        let at = Instant::now();
        let migrated = topo.migrate(region.addr(), part, 1);
        let ms = at.elapsed().as_millis();
        let part_placed = topo.query(region.addr(), part).map_err(|e| format!("query: {e}"))?;
        region.check(3)?;
        match migrated {
            Err(NumaError::NodeFull(1)) => {}
            other => {
                return Err(format!(
                    "migrating 4 MiB into the full node: {other:?} (expected NodeFull(1)), \
                     now [{}]",
                    describe(&part_placed)
                ))
            }
        }
        drop(hog);
        Ok(format!(
            "bind(64 MiB, node 1) ok, placed [{}]; migrate(4 MiB, node 1) -> NodeFull(1) in {ms} \
             ms, now [{}]",
            describe(&placed),
            describe(&part_placed)
        ))
    })
}

// ---------------------------------------------------------------------------------------------
// (e) The heap through gc-core's NUMA API.
// ---------------------------------------------------------------------------------------------

#[cfg(not(gc_numa_api))]
mod heap {
    use super::Topo;

    /// Not built in: says so.
    pub(crate) fn run(_: Topo) -> Option<bool> {
        println!(
            "(e) heap: SKIP: built without `--cfg gc_numa_api` (gc-core's NumaPolicy / \
             numa_stats API not enabled)"
        );
        None
    }
}

#[cfg(gc_numa_api)]
mod heap {
    use super::{on_thread, panic_message, pin, Outcome, Topo, MIB, MIN_SHARE};
    use gc_core::{Arena, Gc, HeapConfig, Lock, NumaPolicy, NumaStats, Rootable, Trace};
    use std::time::Instant;

    #[derive(Trace)]
    struct Cell<'gc> {
        value: u64,
        a: u64,
        b: u64,
        c: u64,
        next: Lock<Option<Gc<'gc, Cell<'gc>>>>,
    }

    type List = Rootable![Option<Gc<'_, Cell<'_>>>];

    /// Allocates `count` cells as short chains (each chain's predecessor becomes garbage).
    fn allocate(arena: &mut Arena<List>, count: usize) {
        arena.mutate_root(|mc, head| {
            for i in 0..count {
                let next = if i % 64 == 0 { None } else { *head };
                let v = i as u64;
                *head =
                    Some(Gc::new(mc, Cell { value: v, a: v, b: v, c: v, next: Lock::new(next) }));
            }
        });
    }

    /// Allocates `rounds` slices of cells, collecting whenever due.
    fn churn(arena: &mut Arena<List>, rounds: usize) {
        for _ in 0..rounds {
            allocate(arena, 10_000);
            arena.collect_if_due();
        }
    }

    fn sums(stats: &NumaStats) -> (usize, usize, usize, u64, u64, u64) {
        stats.nodes.iter().fold((0, 0, 0, 0, 0, 0), |acc, n| {
            (
                acc.0 + n.nursery_pages_local,
                acc.1 + n.nursery_pages_remote,
                acc.2 + n.nursery_pages_untouched,
                acc.3 + n.migrations,
                acc.4 + n.blocks_placed,
                acc.5 + n.fallbacks,
            )
        })
    }

    /// Nursery pages at least 99 % local (and enough of them touched to mean something).
    fn check_local(stats: &NumaStats, what: &str) -> Result<String, String> {
        if let Some(why) = &stats.degraded {
            return Err(format!("{what}: NUMA degraded: {why}"));
        }
        if !matches!(stats.policy, NumaPolicy::Local) {
            return Err(format!("{what}: policy in effect {:?}, not Local", stats.policy));
        }
        let (local, remote, untouched, migrations, blocks, fallbacks) = sums(stats);
        let report = format!(
            "nursery {local} local / {remote} remote / {untouched} untouched pages, {blocks} \
             blocks placed, {migrations} migrations, {fallbacks} fallbacks"
        );
        if local + remote < 256 {
            return Err(format!("{what}: too few nursery pages touched: {report}"));
        }
        if (local as f64) < MIN_SHARE * (local + remote) as f64 {
            return Err(format!("{what}: nursery not local: {report}"));
        }
        Ok(report)
    }

    /// One thread's heap: on `cpu`, then (if `move_to`) moved to another node's CPU.
    fn heap_thread(cpu: usize, move_to: Option<usize>) -> Outcome {
        pin(cpu)?;
        let config = HeapConfig::builder()
            .numa(NumaPolicy::Local)
            .nursery_size(4 * MIB)
            .build()
            .map_err(|e| format!("config: {e}"))?;
        let mut arena = Arena::<List>::try_new(config, |_| None).map_err(|e| e.to_string())?;
        let at = Instant::now();
        churn(&mut arena, 40);
        arena.collect_minor();
        allocate(&mut arena, 60_000);
        let stats = arena.numa_stats();
        let mut report = format!(
            "cpu {cpu}: {} ({} ms)",
            check_local(&stats, &format!("cpu {cpu}"))?,
            at.elapsed().as_millis()
        );
        if let Some(to) = move_to {
            pin(to)?;
            allocate(&mut arena, 30_000);
            arena.collect_minor();
            allocate(&mut arena, 60_000);
            let stats = arena.numa_stats();
            let what = format!("moved cpu {cpu} -> {to}");
            let local = check_local(&stats, &what)?;
            let (.., migrations, _, _) = sums(&stats);
            if migrations < 1 {
                return Err(format!("{what}: no migration counted: {local}"));
            }
            report.push_str(&format!("; then {what}: {local}"));
        }
        Ok(report)
    }

    /// (e): one thread per node, each with its own arena; then one moves to the other node.
    pub(crate) fn run(_: Topo) -> Option<bool> {
        let at = Instant::now();
        let moved = std::thread::spawn(|| heap_thread(0, Some(3)));
        let stayed = on_thread(|| heap_thread(2, None));
        let moved =
            moved.join().unwrap_or_else(|p| Err(format!("panicked: {}", panic_message(&p))));
        let ms = at.elapsed().as_millis();
        match (&moved, &stayed) {
            (Ok(a), Ok(b)) => {
                println!("(e) heap: PASS ({ms} ms): {a}; {b}");
                Some(true)
            }
            _ => {
                let why = |r: &Outcome| r.clone().err().unwrap_or_else(|| "ok".into());
                println!(
                    "(e) heap: FAIL ({ms} ms): node 0 thread: {}; node 1 thread: {}",
                    why(&moved),
                    why(&stayed)
                );
                Some(false)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------------

/// An anonymous private mapping without transparent huge pages (placement is counted per page).
struct Region {
    ptr: *mut u8,
    len: usize,
}

impl Region {
    fn new(len: usize) -> Result<Region, String> {
        // SAFETY: a fresh anonymous private mapping at an address of the kernel's choosing
        // touches no existing memory.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(format!("mmap {len}: {}", std::io::Error::last_os_error()));
        }
        // SAFETY: our mapping; advice only.
        unsafe { libc::madvise(ptr, len, libc::MADV_NOHUGEPAGE) };
        Ok(Region { ptr: ptr.cast(), len })
    }

    fn addr(&self) -> usize {
        self.ptr as usize
    }

    fn pages(&self) -> usize {
        self.len / page_size()
    }

    /// Writes a word derived from `seed` into every page.
    fn fill(&self, seed: u64) {
        for i in 0..self.pages() {
            // SAFETY: inside our readable and writable mapping; page-aligned, so u64-aligned.
            unsafe { self.ptr.add(i * page_size()).cast::<u64>().write_volatile(seed ^ i as u64) };
        }
    }

    /// Checks the words `fill(seed)` wrote.
    fn check(&self, seed: u64) -> Result<(), String> {
        for i in 0..self.pages() {
            // SAFETY: as in `fill`.
            let word = unsafe { self.ptr.add(i * page_size()).cast::<u64>().read_volatile() };
            if word != seed ^ i as u64 {
                return Err(format!("page {i} holds {word:#x}, not {:#x}", seed ^ i as u64));
            }
        }
        Ok(())
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: our mapping; nothing refers into it any more.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

/// Pins the calling thread to `cpu` (the kernel moves it there before returning).
fn pin(cpu: usize) -> Result<(), String> {
    // SAFETY: cpu_set_t is a plain bit mask, valid all-zero; the macros stay inside it.
    let rc = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if rc != 0 {
        return Err(format!("sched_setaffinity(cpu {cpu}): {}", std::io::Error::last_os_error()));
    }
    match numa::current_cpu() {
        Some((now, _)) if now == cpu => Ok(()),
        other => Err(format!("pinned to cpu {cpu} but running on {other:?}")),
    }
}

/// Runs `f` on a fresh thread (so that pinning stays local to the test).
fn on_thread(f: impl FnOnce() -> Outcome + Send + 'static) -> Outcome {
    std::thread::spawn(f).join().unwrap_or_else(|p| Err(format!("panicked: {}", panic_message(&p))))
}

fn query(topo: Topo, region: &Region) -> Result<Placement, String> {
    topo.query(region.addr(), region.len).map_err(|e| format!("query: {e}"))
}

/// At least 99 % of `pages` on `node`.
fn share_on(placed: &Placement, node: NodeId, pages: usize) -> Result<(), String> {
    if (placed.on(node) as f64) < MIN_SHARE * pages as f64 {
        return Err(format!(
            "only {} of {pages} pages on node {node}: {}",
            placed.on(node),
            describe(placed)
        ));
    }
    Ok(())
}

/// `2048 pages: node 0 2048, node 1 0, not present 0, unknown 0`.
fn describe(placed: &Placement) -> String {
    let mut text = format!("{} pages:", placed.pages());
    for node in 0..2 {
        text.push_str(&format!(" node {node} {},", placed.on(node)));
    }
    text.push_str(&format!(" not present {}, unknown {}", placed.not_present, placed.unknown));
    text
}

fn node_free(topo: Topo, node: NodeId) -> Result<usize, String> {
    topo.nodes()
        .iter()
        .find(|n| n.id == node)
        .and_then(|n| n.mem_free)
        .map(|b| b as usize)
        .ok_or_else(|| format!("node {node}: free memory unknown"))
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| format!("Linux {}", s.trim()))
        .unwrap_or_else(|_| "Linux (release unknown)".into())
}

// ---------------------------------------------------------------------------------------------
// Being /init.
// ---------------------------------------------------------------------------------------------

/// Mounts proc and sysfs, and makes sure stdout and stderr reach the console.
fn setup_init() {
    for (fs, dir) in [("proc", "/proc"), ("sysfs", "/sys")] {
        let _ = std::fs::create_dir_all(dir);
        let (src, target) = (CString::new(fs).unwrap(), CString::new(dir).unwrap());
        // SAFETY: NUL-terminated strings that outlive the call; no mount data.
        let rc = unsafe {
            libc::mount(src.as_ptr(), target.as_ptr(), src.as_ptr(), 0, std::ptr::null())
        };
        if rc != 0 {
            eprintln!("init: mount {fs} on {dir}: {}", std::io::Error::last_os_error());
        }
    }
    // The kernel opens /dev/console for init (its built-in initramfs has the node); if it
    // could not, make the node and open it ourselves.
    // SAFETY: fcntl(F_GETFD) only asks whether descriptor 1 is open.
    if unsafe { libc::fcntl(1, libc::F_GETFD) } == -1 {
        let _ = std::fs::create_dir_all("/dev");
        let path = CString::new("/dev/console").unwrap();
        // SAFETY: a NUL-terminated path; makes a device node, opens it, and moves the
        // descriptor to 0, 1 and 2, which are not open.
        unsafe {
            libc::mknod(path.as_ptr(), libc::S_IFCHR | 0o600, libc::makedev(5, 1));
            let fd = libc::open(path.as_ptr(), libc::O_RDWR | libc::O_NOCTTY);
            if fd >= 0 {
                for target in 0..3 {
                    if fd != target {
                        libc::dup2(fd, target);
                    }
                }
            }
        }
    }
}

/// Reports the verdict: as PID 1, through the debug-exit port (QEMU exits), never returning.
fn finish(pid1: bool, pass: bool) -> ! {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    if !pid1 {
        std::process::exit(if pass { 0 } else { 1 });
    }
    // SAFETY: waits until the console has sent what was written to it (or the last lines are
    // lost when QEMU exits); descriptor 1 is ours.
    unsafe { libc::tcdrain(1) };
    let verdict = if pass { VERDICT_PASS } else { VERDICT_FAIL };
    // SAFETY: ioperm grants this process access to the four ports of the isa-debug-exit
    // device, which QEMU answers by exiting; `out` to a port we were granted touches no memory.
    unsafe {
        if libc::syscall(libc::SYS_ioperm, DEBUG_EXIT_PORT as libc::c_ulong, 4 as libc::c_ulong, 1)
            == 0
        {
            std::arch::asm!(
                "out dx, al",
                in("dx") DEBUG_EXIT_PORT,
                in("al") verdict,
                options(nomem, nostack, preserves_flags)
            );
        }
    }
    // No debug-exit device: power off instead (QEMU then exits 0, which the script counts as
    // a failure), and if even that fails, wait forever: init must not exit.
    println!("numa_guest: no debug-exit device answered; powering off");
    // SAFETY: reboot with a valid command; as PID 1 we hold CAP_SYS_BOOT.
    unsafe {
        libc::sync();
        libc::reboot(libc::RB_POWER_OFF);
    }
    loop {
        // SAFETY: pause has no preconditions.
        unsafe { libc::pause() };
    }
}
