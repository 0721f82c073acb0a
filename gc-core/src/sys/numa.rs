//! NUMA: the machine's nodes, where the pages of a range are, and asking the kernel to place or
//! move them.
//!
//! [`system`] detects the machine's own topology once ([`LinuxTopology`]: sysfs for the nodes,
//! `getcpu` for the current node, `mbind` and `move_pages` through `libc::syscall`, no libnuma).
//! On a kernel without NUMA support, or where the system calls are refused, it is an error
//! ([`NumaError::Unsupported`]) telling why, never a panic: the caller then runs with NUMA off.
//! [`SimulatedTopology`] stands in for a many-node machine in tests on a one-node machine.
//!
//! Placement is only ever asked for, never forced: [`Topology::bind`] sets a *preferred* policy,
//! so the kernel takes pages from another node rather than fail an allocation when the preferred
//! one is full.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_int, c_uint, c_ulong, c_void};
use std::fmt;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use super::page_size;

/// A NUMA node's number, as the kernel numbers them (`/sys/devices/system/node/nodeN`).
pub type NodeId = u32;

/// One NUMA node.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeInfo {
    /// The node's number.
    pub id: NodeId,
    /// The CPUs of the node, ascending (empty for a memory-only node).
    pub cpus: Vec<usize>,
    /// The node's memory in bytes, if known.
    pub mem_total: Option<u64>,
    /// The node's free memory in bytes when the topology was asked, if known.
    pub mem_free: Option<u64>,
    /// The distance from this node to each node, in the order [`Topology::nodes`] lists them
    /// (ACPI SLIT units: 10 is the node itself). Empty if unknown.
    pub distances: Vec<u32>,
}

/// Where the pages of a range are (move_pages query mode, which never faults a page in).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Placement {
    /// Pages present in memory, per node: only nodes holding at least one page, ascending.
    pub per_node: Vec<(NodeId, usize)>,
    /// Pages never touched, or given back (nothing is mapped there yet).
    pub not_present: usize,
    /// Pages whose node the kernel would not tell (unmapped addresses, the shared zero page,
    /// special mappings).
    pub unknown: usize,
}

impl Placement {
    /// The pages on `node`.
    pub fn on(&self, node: NodeId) -> usize {
        self.per_node.iter().find(|&&(n, _)| n == node).map_or(0, |&(_, pages)| pages)
    }

    /// The pages present on any node.
    pub fn present(&self) -> usize {
        self.per_node.iter().map(|&(_, pages)| pages).sum()
    }

    /// All the pages of the range: present, not present and unknown.
    pub fn pages(&self) -> usize {
        self.present() + self.not_present + self.unknown
    }

    fn add(&mut self, node: NodeId, pages: usize) {
        match self.per_node.binary_search_by_key(&node, |&(n, _)| n) {
            Ok(i) => self.per_node[i].1 += pages,
            Err(i) => self.per_node.insert(i, (node, pages)),
        }
    }
}

/// Why a NUMA request failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum NumaError {
    /// NUMA is not available here (a kernel without NUMA support, system calls refused with
    /// `ENOSYS`, `EINVAL`, `ENODEV` or `EPERM` — e.g. by a seccomp filter —, no sysfs node
    /// directory), and why. The caller should run with NUMA off and say so.
    Unsupported(String),
    /// The node has no room: the range's pages could not all be placed or moved there. The
    /// caller should fall back to another node.
    NodeFull(NodeId),
    /// Any other failure of a system call, or an invalid request (an address that is not
    /// page-aligned, a node that does not exist: `ErrorKind::InvalidInput`).
    Os(io::Error),
}

impl fmt::Display for NumaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumaError::Unsupported(reason) => write!(f, "NUMA is unavailable: {reason}"),
            NumaError::NodeFull(node) => write!(f, "NUMA node {node} is full"),
            NumaError::Os(err) => write!(f, "NUMA request failed: {err}"),
        }
    }
}

impl std::error::Error for NumaError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NumaError::Os(err) => Some(err),
            _ => None,
        }
    }
}

fn invalid(msg: String) -> NumaError {
    NumaError::Os(io::Error::new(io::ErrorKind::InvalidInput, msg))
}

/// A machine's NUMA topology and the placement requests it serves. Addresses are plain
/// integers: placement never changes the contents of memory, so none of this is unsafe; a
/// request for a range that is not mapped fails (or, for [`query`](Topology::query), counts
/// the pages as unknown).
///
/// # What an arena does with a topology's answers
///
/// Placement is advisory, so an arena never lets its topology break it. Whatever an
/// implementation answers or does, the arena stays consistent and usable; at worst it runs
/// with NUMA off (policy `Off` in [`NumaStats`](crate::NumaStats), and `degraded` says why):
///
/// - **Panics.** Every call is made under `catch_unwind`. A panic turns NUMA off for the arena
///   (`degraded`: "Topology::bind panicked: ..."); the panic is not propagated (the panic hook
///   still reports it). Its payload is dropped under `catch_unwind` as well; a payload whose
///   own `Drop` panics is leaked.
/// - **Re-entry.** The arena never calls a topology while it holds its own state borrowed:
///   during a `mutate` call, a topology may allocate in, write to, or make handles of the very
///   arena that called it (reached through a thread-local, say). [`current_node`] is asked
///   when the arena is made and at each minor collection (which hold the arena by `&mut`, so
///   nothing leads back to it then); blocks placed between two collections go to the node it
///   answered last.
/// - **[`nodes`] empty:** NUMA is off ("the topology lists no NUMA node"). `nodes` is asked once,
///   when the arena is made (or by `reserve`); the list is sorted and duplicates are dropped.
///   Statistics are kept per listed node, so a node id costs nothing however large.
/// - **`Fixed(n)` with `n` not listed:** NUMA is off ("no NUMA node n").
/// - **[`current_node`] `None`, or a node `nodes` does not list:** the node is unknown. Under
///   `Local`, an arena made then runs with NUMA off; at a collection, the nursery stays where
///   it is.
/// - **Refusals:** [`NumaError::Unsupported`] turns NUMA off; [`NumaError::NodeFull`] counts a
///   fallback (on the node named, if listed) and, for a block, tries another listed node; any
///   other error leaves the range unplaced (the kernel's default placement) and NUMA on.
/// - **[`query`] nonsense** (nodes that do not exist, any counts) only shows in the statistics.
///
/// [`current_node`]: Topology::current_node
/// [`nodes`]: Topology::nodes
/// [`query`]: Topology::query
pub trait Topology: Send + Sync + fmt::Debug {
    /// The nodes, ascending by id.
    fn nodes(&self) -> Vec<NodeInfo>;

    /// The node of the CPU the calling thread runs on now.
    fn current_node(&self) -> Option<NodeId>;

    /// Asks that pages of [addr, addr+len) faulted from now on come from `node` (preferred: the
    /// kernel falls back to another node rather than fail; see NodeFull).
    ///
    /// `addr` must be page-aligned; `len` is rounded up to whole pages. Pages already present
    /// stay where they are (see [`migrate`](Topology::migrate)).
    fn bind(&self, addr: usize, len: usize, node: NodeId) -> Result<(), NumaError>;

    /// Pages faulted from now on interleave over `nodes`.
    fn interleave(&self, addr: usize, len: usize, nodes: &[NodeId]) -> Result<(), NumaError>;

    /// Binds the range to `node` and moves the pages already present there (mbind with
    /// MPOL_MF_MOVE).
    ///
    /// [`NumaError::NodeFull`] if some present pages are elsewhere afterwards (the node had no
    /// room for them): the binding may then be in place and the pages that could move have.
    fn migrate(&self, addr: usize, len: usize, node: NodeId) -> Result<(), NumaError>;

    /// Where the range's pages are.
    fn query(&self, addr: usize, len: usize) -> Result<Placement, NumaError>;

    /// Whether this topology is simulated.
    fn is_simulated(&self) -> bool {
        false
    }

    /// The node of `cpu`, if the topology knows it.
    fn node_of_cpu(&self, cpu: usize) -> Option<NodeId> {
        self.nodes().into_iter().find(|n| n.cpus.contains(&cpu)).map(|n| n.id)
    }
}

// ---------------------------------------------------------------------------------------------
// The kernel's interface: constants libc lacks (or lacks in older versions), thin wrappers.
// ---------------------------------------------------------------------------------------------

/// `mbind` / `set_mempolicy` modes (`include/uapi/linux/mempolicy.h`).
const MPOL_DEFAULT: c_int = 0;
const MPOL_PREFERRED: c_int = 1;
const MPOL_INTERLEAVE: c_int = 3;
/// `mbind` flag: move the pages of the range that are not on the policy's nodes.
const MPOL_MF_MOVE: c_uint = 1 << 1;
/// Pages per `move_pages` call (bounds the arrays whatever the range's size).
const QUERY_CHUNK: usize = 1024;

fn errno(err: &io::Error) -> i32 {
    err.raw_os_error().unwrap_or(0)
}

/// A failed NUMA system call: `Unsupported` for the errors that mean "no NUMA here".
fn syscall_error(call: &str, err: io::Error) -> NumaError {
    match errno(&err) {
        libc::ENOSYS | libc::EINVAL | libc::ENODEV | libc::EPERM => {
            NumaError::Unsupported(format!("{call}: {err}"))
        }
        _ => NumaError::Os(err),
    }
}

/// A node mask for `mbind` and its `maxnode`. The kernel reads `maxnode - 1` bits (NUMA-QEMU.md
/// trap 6), so the mask gets a spare zero word and `maxnode` counts all its bits.
fn node_mask(nodes: &[NodeId]) -> (Vec<c_ulong>, c_ulong) {
    const BITS: usize = c_ulong::BITS as usize;
    let max = nodes.iter().copied().max().unwrap_or(0) as usize;
    let mut mask = vec![0 as c_ulong; max / BITS + 2];
    for &node in nodes {
        mask[node as usize / BITS] |= 1 << (node as usize % BITS);
    }
    let maxnode = (mask.len() * BITS) as c_ulong;
    (mask, maxnode)
}

/// `mbind(addr, len, mode, nodes, flags)`.
fn sys_mbind(
    addr: usize,
    len: usize,
    mode: c_int,
    nodes: &[NodeId],
    flags: c_uint,
) -> io::Result<()> {
    let (mask, maxnode) = node_mask(nodes);
    let mask_ptr = if nodes.is_empty() { std::ptr::null() } else { mask.as_ptr() };
    // SAFETY: the kernel reads at most `maxnode - 1` bits from `mask`, which holds `maxnode`;
    // mbind changes only the placement policy of our own pages in the range (and, with
    // MPOL_MF_MOVE, copies pages to other frames at the same addresses), which no Rust code can
    // observe; an unmapped range is an EFAULT, not a fault.
    let rc = unsafe { libc::syscall(libc::SYS_mbind, addr, len, mode, mask_ptr, maxnode, flags) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `move_pages(0, pages, NULL, status, 0)`: the node of each page, or a negative errno.
fn sys_query_pages(pages: &[*mut c_void], status: &mut [c_int]) -> io::Result<()> {
    debug_assert_eq!(pages.len(), status.len());
    // SAFETY: with `nodes = NULL` move_pages only reads `pages.len()` addresses from `pages`
    // and writes as many statuses into `status`, which has room for them; it never faults a
    // page in, and pid 0 is this process.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_move_pages,
            0 as c_int,
            pages.len() as c_ulong,
            pages.as_ptr(),
            std::ptr::null::<c_int>(),
            status.as_mut_ptr(),
            0 as c_int,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The CPU the calling thread runs on and that CPU's node (`getcpu`).
pub fn current_cpu() -> Option<(usize, NodeId)> {
    let (mut cpu, mut node): (c_uint, c_uint) = (0, 0);
    // SAFETY: getcpu writes one unsigned int through each of its first two pointers, which
    // point to locals; the third (a cache unused since Linux 2.6.24) may be null.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_getcpu,
            &mut cpu as *mut c_uint,
            &mut node as *mut c_uint,
            std::ptr::null_mut::<c_void>(),
        )
    };
    (rc == 0).then_some((cpu as usize, node))
}

/// Whether each of `pages` pages from the page-aligned `addr` is resident (`mincore`), `None`
/// for pages that are not mapped.
fn residency(addr: usize, pages: usize) -> Vec<Option<bool>> {
    let page = page_size();
    let mut vec = vec![0u8; pages];
    let whole = |at: usize, n: usize, out: &mut [u8]| -> bool {
        // SAFETY: mincore only reads the page tables of [at, at + n pages) and writes one byte
        // per page into `out`, which holds `n`; an unmapped range is an ENOMEM, not a fault.
        unsafe { libc::mincore(at as *mut c_void, n * page, out.as_mut_ptr()) == 0 }
    };
    if pages == 0 {
        return Vec::new();
    }
    if whole(addr, pages, &mut vec) {
        return vec.iter().map(|&b| Some(b & 1 != 0)).collect();
    }
    // Part of the range is unmapped: ask page by page.
    (0..pages)
        .map(|i| {
            let mut byte = [0u8];
            whole(addr + i * page, 1, &mut byte).then_some(byte[0] & 1 != 0)
        })
        .collect()
}

/// The pages of [addr, addr+len): addr rounded down, the end rounded up.
fn page_span(addr: usize, len: usize) -> (usize, usize) {
    let page = page_size();
    let start = addr & !(page - 1);
    let end = addr.saturating_add(len).saturating_add(page - 1) & !(page - 1);
    (start, (end - start) / page)
}

fn check_aligned(addr: usize) -> Result<(), NumaError> {
    if addr % page_size() != 0 {
        return Err(invalid(format!("address {addr:#x} is not page-aligned")));
    }
    Ok(())
}

/// Placement of [addr, addr+len) as the kernel reports it.
fn query_kernel(addr: usize, len: usize) -> Result<Placement, NumaError> {
    let page = page_size();
    let (start, pages) = page_span(addr, len);
    let mut placement = Placement::default();
    let mut addrs = Vec::with_capacity(pages.min(QUERY_CHUNK));
    let mut status = Vec::with_capacity(pages.min(QUERY_CHUNK));
    let mut first = 0;
    while first < pages {
        let n = (pages - first).min(QUERY_CHUNK);
        let chunk = start + first * page;
        addrs.clear();
        addrs.extend((0..n).map(|i| (chunk + i * page) as *mut c_void));
        status.clear();
        status.resize(n, 0);
        sys_query_pages(&addrs, &mut status).map_err(|e| syscall_error("move_pages", e))?;
        // Kernels before 6.11 say EFAULT, not ENOENT, for an untouched page of an anonymous
        // mapping (no page table yet): mincore tells those apart from unmapped addresses.
        let mut resident = None;
        for (i, &s) in status.iter().enumerate() {
            match s {
                s if s >= 0 => placement.add(s as NodeId, 1),
                s if s == -libc::ENOENT => placement.not_present += 1,
                s if s == -libc::EFAULT => {
                    let resident = resident.get_or_insert_with(|| residency(chunk, n));
                    match resident[i] {
                        Some(false) => placement.not_present += 1,
                        _ => placement.unknown += 1,
                    }
                }
                _ => placement.unknown += 1,
            }
        }
        first += n;
    }
    Ok(placement)
}

// ---------------------------------------------------------------------------------------------
// The machine's own topology.
// ---------------------------------------------------------------------------------------------

/// The machine's own topology: nodes from /sys/devices/system/node (nodeN/cpulist, meminfo,
/// distance), the current node from the getcpu syscall, and mbind / set_mempolicy / move_pages
/// as thin wrappers over libc::syscall with the constants libc lacks.
#[derive(Debug)]
pub struct LinuxTopology {
    root: PathBuf,
    /// The nodes as detected; memory figures are read afresh by [`Topology::nodes`].
    nodes: Vec<NodeInfo>,
}

/// The sysfs directory of the NUMA nodes.
const SYSFS_NODES: &str = "/sys/devices/system/node";

impl LinuxTopology {
    /// Reads the topology from sysfs and checks that the kernel serves the NUMA system calls.
    /// [`NumaError::Unsupported`] tells why not, if it does not.
    pub fn detect() -> Result<LinuxTopology, NumaError> {
        let topology = LinuxTopology::from_sysfs(Path::new(SYSFS_NODES))?;
        probe_syscalls()?;
        Ok(topology)
    }

    /// The topology described by a sysfs node directory (`root/nodeN/{cpulist,distance,
    /// meminfo}`), without probing the system calls.
    pub(crate) fn from_sysfs(root: &Path) -> Result<LinuxTopology, NumaError> {
        let entries = std::fs::read_dir(root).map_err(|err| {
            NumaError::Unsupported(format!(
                "{}: {err} (a kernel without NUMA support?)",
                root.display()
            ))
        })?;
        let mut ids: Vec<NodeId> = entries
            .filter_map(|entry| {
                let name = entry.ok()?.file_name();
                name.to_str()?.strip_prefix("node")?.parse().ok()
            })
            .collect();
        ids.sort_unstable();
        if ids.is_empty() {
            return Err(NumaError::Unsupported(format!(
                "no nodeN directory in {}",
                root.display()
            )));
        }
        let mut nodes = Vec::with_capacity(ids.len());
        for &id in &ids {
            let dir = root.join(format!("node{id}"));
            let cpus = match std::fs::read_to_string(dir.join("cpulist")) {
                Ok(text) => parse_cpulist(&text)
                    .ok_or_else(|| invalid(format!("{}: bad cpulist {text:?}", dir.display())))?,
                Err(_) => Vec::new(),
            };
            let distances = std::fs::read_to_string(dir.join("distance"))
                .ok()
                .and_then(|text| text.split_whitespace().map(|d| d.parse().ok()).collect())
                .unwrap_or_default();
            let (mem_total, mem_free) = read_meminfo(&dir);
            nodes.push(NodeInfo { id, cpus, mem_total, mem_free, distances });
        }
        Ok(LinuxTopology { root: root.to_path_buf(), nodes })
    }

    fn check_node(&self, node: NodeId) -> Result<(), NumaError> {
        if self.nodes.iter().any(|n| n.id == node) {
            Ok(())
        } else {
            Err(invalid(format!("no NUMA node {node}")))
        }
    }

    /// Sets the calling thread's policy for memory not covered by a range's own (`bind`...):
    /// `Some(node)` prefers `node`, `None` restores the default (the node of the CPU that
    /// touches a page first). `set_mempolicy`.
    pub fn prefer_for_thread(&self, node: Option<NodeId>) -> Result<(), NumaError> {
        let nodes: Vec<NodeId> = node.into_iter().collect();
        if let Some(node) = node {
            self.check_node(node)?;
        }
        let (mask, maxnode) = node_mask(&nodes);
        let (mode, ptr) = match node {
            Some(_) => (MPOL_PREFERRED, mask.as_ptr()),
            None => (MPOL_DEFAULT, std::ptr::null()),
        };
        // SAFETY: the kernel reads at most `maxnode - 1` bits of `mask`, which holds `maxnode`;
        // the call only changes where this thread's future pages come from.
        let rc = unsafe { libc::syscall(libc::SYS_set_mempolicy, mode, ptr, maxnode) };
        if rc != 0 {
            return Err(syscall_error("set_mempolicy", io::Error::last_os_error()));
        }
        Ok(())
    }
}

/// Asks the kernel harmless questions to learn whether it serves the NUMA system calls.
fn probe_syscalls() -> Result<(), NumaError> {
    let unsupported = |call: &str, err: io::Error| NumaError::Unsupported(format!("{call}: {err}"));
    let mut mode: c_int = 0;
    // SAFETY: with a null node mask, get_mempolicy writes only the thread's mode into `mode`.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_get_mempolicy,
            &mut mode as *mut c_int,
            std::ptr::null_mut::<c_ulong>(),
            0 as c_ulong,
            std::ptr::null_mut::<c_void>(),
            0 as c_ulong,
        )
    };
    if rc != 0 {
        return Err(unsupported("get_mempolicy", io::Error::last_os_error()));
    }
    // An empty range changes nothing, but a kernel without NUMA (ENOSYS) or a seccomp filter
    // (EPERM) still refuses it.
    sys_mbind(0, 0, MPOL_DEFAULT, &[], 0).map_err(|e| unsupported("mbind", e))?;
    let probe = 0u64;
    let pages = [(&probe as *const u64 as usize & !(page_size() - 1)) as *mut c_void];
    let mut status = [0 as c_int];
    sys_query_pages(&pages, &mut status).map_err(|e| unsupported("move_pages", e))?;
    Ok(())
}

/// Parses a sysfs CPU list (`0-3,8,10-11`); an empty list has no CPUs.
pub(crate) fn parse_cpulist(text: &str) -> Option<Vec<usize>> {
    let mut cpus = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi): (usize, usize) = (lo.trim().parse().ok()?, hi.trim().parse().ok()?);
                if lo > hi {
                    return None;
                }
                cpus.extend(lo..=hi);
            }
            None => cpus.push(part.trim().parse().ok()?),
        }
    }
    cpus.sort_unstable();
    cpus.dedup();
    Some(cpus)
}

/// `MemTotal` and `MemFree` of `dir/meminfo` (`Node 0 MemTotal:  1024 kB`), in bytes.
fn read_meminfo(dir: &Path) -> (Option<u64>, Option<u64>) {
    let Ok(text) = std::fs::read_to_string(dir.join("meminfo")) else {
        return (None, None);
    };
    let field = |name: &str| -> Option<u64> {
        text.lines().find_map(|line| {
            let mut words = line.split_whitespace().skip_while(|w| *w != name);
            words.next()?;
            let value: u64 = words.next()?.parse().ok()?;
            Some(match words.next() {
                Some("kB") => value * 1024,
                _ => value,
            })
        })
    };
    (field("MemTotal:"), field("MemFree:"))
}

impl Topology for LinuxTopology {
    fn nodes(&self) -> Vec<NodeInfo> {
        let mut nodes = self.nodes.clone();
        for node in &mut nodes {
            let (total, free) = read_meminfo(&self.root.join(format!("node{}", node.id)));
            node.mem_total = total.or(node.mem_total);
            node.mem_free = free;
        }
        nodes
    }

    fn current_node(&self) -> Option<NodeId> {
        let (cpu, node) = current_cpu()?;
        if self.nodes.iter().any(|n| n.id == node) {
            Some(node)
        } else {
            self.node_of_cpu(cpu)
        }
    }

    fn bind(&self, addr: usize, len: usize, node: NodeId) -> Result<(), NumaError> {
        check_aligned(addr)?;
        self.check_node(node)?;
        sys_mbind(addr, len, MPOL_PREFERRED, &[node], 0).map_err(|e| syscall_error("mbind", e))
    }

    fn interleave(&self, addr: usize, len: usize, nodes: &[NodeId]) -> Result<(), NumaError> {
        check_aligned(addr)?;
        if nodes.is_empty() {
            return Err(invalid("interleave over no node".into()));
        }
        for &node in nodes {
            self.check_node(node)?;
        }
        sys_mbind(addr, len, MPOL_INTERLEAVE, nodes, 0).map_err(|e| syscall_error("mbind", e))
    }

    fn migrate(&self, addr: usize, len: usize, node: NodeId) -> Result<(), NumaError> {
        check_aligned(addr)?;
        self.check_node(node)?;
        // Without MPOL_MF_STRICT the kernel silently leaves behind what it cannot move (no
        // room on `node`, pages shared with another process): the query finds those.
        sys_mbind(addr, len, MPOL_PREFERRED, &[node], MPOL_MF_MOVE)
            .map_err(|e| syscall_error("mbind", e))?;
        let placement = query_kernel(addr, len)?;
        if placement.present() > placement.on(node) {
            return Err(NumaError::NodeFull(node));
        }
        Ok(())
    }

    fn query(&self, addr: usize, len: usize) -> Result<Placement, NumaError> {
        query_kernel(addr, len)
    }

    fn node_of_cpu(&self, cpu: usize) -> Option<NodeId> {
        self.nodes.iter().find(|n| n.cpus.contains(&cpu)).map(|n| n.id)
    }
}

/// The process's topology, detected once: LinuxTopology, or an error telling why NUMA is
/// unavailable (no /sys/devices/system/node, ENOSYS/EINVAL/ENODEV from the syscalls...). Never
/// panics.
pub fn system() -> Result<&'static LinuxTopology, &'static NumaError> {
    static SYSTEM: OnceLock<Result<LinuxTopology, NumaError>> = OnceLock::new();
    SYSTEM
        .get_or_init(|| {
            // Miri can neither read sysfs nor make the system calls: NUMA is off there.
            if cfg!(miri) {
                return Err(NumaError::Unsupported("not available under Miri".into()));
            }
            LinuxTopology::detect()
        })
        .as_ref()
}

// ---------------------------------------------------------------------------------------------
// The simulated topology.
// ---------------------------------------------------------------------------------------------

/// A topology for tests on one-node machines: N nodes, a CPU -> node map, per-node memory
/// limits, and scripted migrations of the calling thread (set_current_cpu). Placement is
/// simulated honestly: the pages of a range that are really resident (mincore) are attributed to
/// the node the range was last bound/migrated to, unless that node's limit (in bytes of resident
/// bound pages) is exceeded, in which case bind/migrate report NodeFull so the caller falls back.
///
/// The details: node `n` has CPUs `n * cpus_per_node ..(n + 1) * cpus_per_node`, distance 10 to
/// itself and 20 to the others. Bound ranges claim their nodes' limits oldest binding first; a
/// resident page past its node's limit (faulted after the binding) is attributed to the next
/// node with room, as the kernel's preferred policy would place it. Interleaved ranges spread
/// their pages by page number and never report `NodeFull`. Resident pages of ranges never bound
/// are attributed to node 0 (where a one-node machine really has them). A thread that has not
/// called [`set_current_cpu`](SimulatedTopology::set_current_cpu) runs on the simulated CPU
/// `real CPU % total CPUs`.
#[derive(Debug)]
pub struct SimulatedTopology {
    id: u64,
    cpus_per_node: usize,
    limits: Vec<Option<usize>>,
    ranges: Mutex<Vec<SimRange>>,
    next_seq: AtomicU64,
}

#[derive(Clone, Debug)]
struct SimRange {
    range: Range<usize>,
    policy: SimPolicy,
    /// Binding order: older bindings claim their node's limit first.
    seq: u64,
}

#[derive(Clone, Debug)]
enum SimPolicy {
    Bind(NodeId),
    Interleave(Vec<NodeId>),
}

thread_local! {
    /// The simulated CPU of this thread, per simulated topology.
    static SIM_CPU: RefCell<HashMap<u64, usize>> = RefCell::new(HashMap::new());
}

impl SimulatedTopology {
    /// `nodes` nodes of `cpus_per_node` CPUs each, without memory limits.
    ///
    /// # Panics
    /// If `nodes` or `cpus_per_node` is zero.
    pub fn new(nodes: usize, cpus_per_node: usize) -> Self {
        assert!(nodes > 0 && cpus_per_node > 0, "a topology needs a node and a CPU");
        static IDS: AtomicU64 = AtomicU64::new(0);
        SimulatedTopology {
            id: IDS.fetch_add(1, Ordering::Relaxed),
            cpus_per_node,
            limits: vec![None; nodes],
            ranges: Mutex::new(Vec::new()),
            next_seq: AtomicU64::new(0),
        }
    }

    /// Gives `node` room for `bytes` of resident bound pages.
    ///
    /// # Panics
    /// If there is no such node.
    pub fn with_limit(mut self, node: NodeId, bytes: usize) -> Self {
        let count = self.limits.len();
        *self
            .limits
            .get_mut(node as usize)
            .unwrap_or_else(|| panic!("no node {node} of {count}")) = Some(bytes);
        self
    }

    /// The calling thread now runs on `cpu` (thread-local).
    ///
    /// # Panics
    /// If there is no such CPU.
    pub fn set_current_cpu(&self, cpu: usize) {
        assert!(cpu < self.cpu_count(), "no CPU {cpu} of {}", self.cpu_count());
        SIM_CPU.with(|map| map.borrow_mut().insert(self.id, cpu));
    }

    /// The simulated CPU the calling thread runs on.
    pub fn current_cpu(&self) -> usize {
        SIM_CPU
            .with(|map| map.borrow().get(&self.id).copied())
            .unwrap_or_else(|| current_cpu().map_or(0, |(cpu, _)| cpu % self.cpu_count()))
    }

    fn cpu_count(&self) -> usize {
        self.limits.len() * self.cpus_per_node
    }

    fn check_node(&self, node: NodeId) -> Result<(), NumaError> {
        if (node as usize) < self.limits.len() {
            Ok(())
        } else {
            Err(invalid(format!("no NUMA node {node} of {}", self.limits.len())))
        }
    }

    fn ranges(&self) -> std::sync::MutexGuard<'_, Vec<SimRange>> {
        // The lock guards plain data: a panic elsewhere cannot leave it half-updated.
        self.ranges.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Attributes the resident pages of every bound range (outside `skip`) to nodes, oldest
    /// binding first and within the limits. Returns the bytes per node and the placement of the
    /// bound pages within `want`.
    fn attribute(
        &self,
        ranges: &[SimRange],
        skip: Option<&Range<usize>>,
        want: Option<&Range<usize>>,
    ) -> (Vec<usize>, Placement) {
        let page = page_size();
        let node_count = self.limits.len();
        let mut used = vec![0usize; node_count];
        let mut placement = Placement::default();
        let mut order: Vec<&SimRange> = ranges.iter().collect();
        order.sort_by_key(|r| r.seq);
        for r in order {
            let pages = (r.range.end - r.range.start) / page;
            for (i, resident) in residency(r.range.start, pages).into_iter().enumerate() {
                let addr = r.range.start + i * page;
                if skip.is_some_and(|s| s.contains(&addr)) {
                    continue;
                }
                let wanted = want.is_some_and(|w| w.contains(&addr));
                match resident {
                    Some(true) => {
                        let preferred = match &r.policy {
                            SimPolicy::Bind(node) => *node,
                            SimPolicy::Interleave(nodes) => nodes[(addr / page) % nodes.len()],
                        };
                        let node = self.with_room(preferred, &used, page);
                        used[node as usize] += page;
                        if wanted {
                            placement.add(node, 1);
                        }
                    }
                    Some(false) if wanted => placement.not_present += 1,
                    None if wanted => placement.unknown += 1,
                    _ => {}
                }
            }
        }
        (used, placement)
    }

    /// `preferred` if it has room for another page, else the next node that has, else
    /// `preferred` all the same.
    fn with_room(&self, preferred: NodeId, used: &[usize], page: usize) -> NodeId {
        let count = self.limits.len();
        let has_room = |n: usize| self.limits[n].is_none_or(|limit| used[n] + page <= limit);
        (0..count)
            .map(|k| (preferred as usize + k) % count)
            .find(|&n| has_room(n))
            .map_or(preferred, |n| n as NodeId)
    }

    /// Records `policy` for [addr, addr+len), after checking `node`'s room if given.
    fn set_policy(
        &self,
        addr: usize,
        len: usize,
        policy: SimPolicy,
        check: Option<NodeId>,
    ) -> Result<(), NumaError> {
        check_aligned(addr)?;
        let page = page_size();
        let (start, pages) = page_span(addr, len);
        if pages == 0 {
            return Ok(());
        }
        let new = start..start + pages * page;
        let mut ranges = self.ranges();
        if let Some(node) = check {
            if let Some(limit) = self.limits[node as usize] {
                let (used, _) = self.attribute(&ranges, Some(&new), None);
                let here =
                    residency(new.start, pages).iter().filter(|r| **r == Some(true)).count() * page;
                let used = used[node as usize];
                if used >= limit || used + here > limit {
                    return Err(NumaError::NodeFull(node));
                }
            }
        }
        let mut kept = Vec::with_capacity(ranges.len() + 2);
        for r in ranges.drain(..) {
            if r.range.end <= new.start || r.range.start >= new.end {
                kept.push(r);
                continue;
            }
            if r.range.start < new.start {
                kept.push(SimRange { range: r.range.start..new.start, ..r.clone() });
            }
            if r.range.end > new.end {
                kept.push(SimRange { range: new.end..r.range.end, ..r });
            }
        }
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        kept.push(SimRange { range: new, policy, seq });
        kept.sort_by_key(|r| r.range.start);
        *ranges = kept;
        Ok(())
    }
}

impl Topology for SimulatedTopology {
    fn nodes(&self) -> Vec<NodeInfo> {
        let count = self.limits.len();
        let (used, _) = self.attribute(&self.ranges(), None, None);
        (0..count)
            .map(|n| NodeInfo {
                id: n as NodeId,
                cpus: (n * self.cpus_per_node..(n + 1) * self.cpus_per_node).collect(),
                mem_total: self.limits[n].map(|l| l as u64),
                mem_free: self.limits[n].map(|l| l.saturating_sub(used[n]) as u64),
                distances: (0..count).map(|m| if m == n { 10 } else { 20 }).collect(),
            })
            .collect()
    }

    fn current_node(&self) -> Option<NodeId> {
        Some((self.current_cpu() / self.cpus_per_node) as NodeId)
    }

    fn bind(&self, addr: usize, len: usize, node: NodeId) -> Result<(), NumaError> {
        self.check_node(node)?;
        self.set_policy(addr, len, SimPolicy::Bind(node), Some(node))
    }

    fn interleave(&self, addr: usize, len: usize, nodes: &[NodeId]) -> Result<(), NumaError> {
        if nodes.is_empty() {
            return Err(invalid("interleave over no node".into()));
        }
        for &node in nodes {
            self.check_node(node)?;
        }
        self.set_policy(addr, len, SimPolicy::Interleave(nodes.to_vec()), None)
    }

    fn migrate(&self, addr: usize, len: usize, node: NodeId) -> Result<(), NumaError> {
        self.bind(addr, len, node)
    }

    fn query(&self, addr: usize, len: usize) -> Result<Placement, NumaError> {
        let page = page_size();
        let (start, pages) = page_span(addr, len);
        let want = start..start + pages * page;
        let ranges = self.ranges();
        let (_, mut placement) = self.attribute(&ranges, None, Some(&want));
        // The pages of `want` that no range covers.
        let mut at = want.start;
        let mut gaps = Vec::new();
        for r in ranges.iter().filter(|r| r.range.end > want.start && r.range.start < want.end) {
            if r.range.start > at {
                gaps.push(at..r.range.start);
            }
            at = at.max(r.range.end);
        }
        if at < want.end {
            gaps.push(at..want.end);
        }
        for gap in gaps {
            for resident in residency(gap.start, (gap.end - gap.start) / page) {
                match resident {
                    Some(true) => placement.add(0, 1),
                    Some(false) => placement.not_present += 1,
                    None => placement.unknown += 1,
                }
            }
        }
        Ok(placement)
    }

    fn is_simulated(&self) -> bool {
        true
    }

    fn node_of_cpu(&self, cpu: usize) -> Option<NodeId> {
        (cpu < self.cpu_count()).then(|| (cpu / self.cpus_per_node) as NodeId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::{map_aligned, unmap};

    /// An anonymous mapping of `pages` pages without huge pages, unmapped on drop.
    struct Mapping {
        ptr: *mut u8,
        len: usize,
    }

    impl Mapping {
        fn new(pages: usize) -> Mapping {
            let len = pages * page_size();
            let ptr = map_aligned(len, page_size()).expect("mmap");
            // SAFETY: our fresh mapping; advisory (per-page placement is what the tests count).
            unsafe { libc::madvise(ptr.cast(), len, libc::MADV_NOHUGEPAGE) };
            Mapping { ptr, len }
        }
        fn addr(&self) -> usize {
            self.ptr as usize
        }
        /// Writes to the first `pages` pages.
        fn touch(&self, pages: usize) {
            for i in 0..pages {
                // SAFETY: inside our mapping, readable and writable.
                unsafe { self.ptr.add(i * page_size()).write_volatile(1) };
            }
        }
    }

    impl Drop for Mapping {
        fn drop(&mut self) {
            // SAFETY: mapped by `map_aligned` in `new`; nothing refers into it.
            unsafe { unmap(self.ptr, self.len) };
        }
    }

    /// A fresh directory under the system's temporary directory, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            static N: AtomicU64 = AtomicU64::new(0);
            let dir = std::env::temp_dir().join(format!(
                "gc-core-numa-{tag}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
        fn write(&self, path: &str, text: &str) {
            let path = self.0.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn meminfo(node: u32, total_kb: u64, free_kb: u64) -> String {
        format!(
            "Node {node} MemTotal:       {total_kb} kB\nNode {node} MemFree:        {free_kb} kB\n\
             Node {node} MemUsed:        {} kB\nNode {node} HugePages_Total:     0\n",
            total_kb - free_kb
        )
    }

    #[test]
    fn cpulists_parse() {
        assert_eq!(parse_cpulist("0-3,8,10-11\n"), Some(vec![0, 1, 2, 3, 8, 10, 11]));
        assert_eq!(parse_cpulist("5"), Some(vec![5]));
        assert_eq!(parse_cpulist("\n"), Some(vec![]));
        assert_eq!(parse_cpulist("2-3,0-1"), Some(vec![0, 1, 2, 3]));
        assert_eq!(parse_cpulist("3-1"), None);
        assert_eq!(parse_cpulist("x"), None);
    }

    #[test]
    fn fake_sysfs_parses() {
        let root = TempDir::new("sysfs");
        root.write("node0/cpulist", "0-3,8,10-11\n");
        root.write("node0/distance", "10 21 31\n");
        root.write("node0/meminfo", &meminfo(0, 1024, 512));
        root.write("node1/cpulist", "\n"); // a memory-only node
        root.write("node1/distance", "21 10 21\n");
        root.write("node1/meminfo", &meminfo(1, 2048, 2000));
        root.write("node3/cpulist", "4-7,9\n"); // ids may have holes
        root.write("node3/distance", "31 21 10\n");
        root.write("possible", "0-3\n");
        root.write("power/async", "disabled\n");
        std::fs::create_dir_all(root.0.join("node3/hugepages")).unwrap();

        let topo = LinuxTopology::from_sysfs(&root.0).unwrap();
        let nodes = topo.nodes();
        assert_eq!(
            nodes,
            vec![
                NodeInfo {
                    id: 0,
                    cpus: vec![0, 1, 2, 3, 8, 10, 11],
                    mem_total: Some(1024 * 1024),
                    mem_free: Some(512 * 1024),
                    distances: vec![10, 21, 31],
                },
                NodeInfo {
                    id: 1,
                    cpus: vec![],
                    mem_total: Some(2048 * 1024),
                    mem_free: Some(2000 * 1024),
                    distances: vec![21, 10, 21],
                },
                NodeInfo {
                    id: 3,
                    cpus: vec![4, 5, 6, 7, 9],
                    mem_total: None,
                    mem_free: None,
                    distances: vec![31, 21, 10],
                },
            ]
        );
        assert_eq!(topo.node_of_cpu(9), Some(3));
        assert_eq!(topo.node_of_cpu(10), Some(0));
        assert_eq!(topo.node_of_cpu(12), None);

        // Free memory is read afresh.
        root.write("node1/meminfo", &meminfo(1, 2048, 100));
        assert_eq!(topo.nodes()[1].mem_free, Some(100 * 1024));

        // A node that does not exist is an invalid request, not a system call.
        let map = Mapping::new(1);
        assert!(matches!(topo.bind(map.addr(), map.len, 2), Err(NumaError::Os(e))
            if e.kind() == io::ErrorKind::InvalidInput));
    }

    #[test]
    fn missing_or_empty_sysfs_is_unsupported() {
        let root = TempDir::new("empty");
        let err = LinuxTopology::from_sysfs(&root.0.join("absent")).unwrap_err();
        assert!(matches!(err, NumaError::Unsupported(_)), "{err}");
        assert!(err.to_string().starts_with("NUMA is unavailable: "), "{err}");
        root.write("online", "\n");
        let err = LinuxTopology::from_sysfs(&root.0).unwrap_err();
        assert!(matches!(err, NumaError::Unsupported(_)), "{err}");
        root.write("node0/cpulist", "0-x\n");
        assert!(matches!(LinuxTopology::from_sysfs(&root.0), Err(NumaError::Os(_))));
    }

    #[test]
    fn syscall_errors_that_mean_no_numa_are_unsupported() {
        for errno in [libc::ENOSYS, libc::EINVAL, libc::ENODEV, libc::EPERM] {
            let err = syscall_error("mbind", io::Error::from_raw_os_error(errno));
            assert!(matches!(err, NumaError::Unsupported(ref r) if r.starts_with("mbind: ")));
        }
        let err = syscall_error("mbind", io::Error::from_raw_os_error(libc::EFAULT));
        assert!(matches!(err, NumaError::Os(_)));
        assert!(std::error::Error::source(&err).is_some());
        assert_eq!(NumaError::NodeFull(3).to_string(), "NUMA node 3 is full");
    }

    #[test]
    fn node_masks_leave_a_spare_word() {
        let (mask, maxnode) = node_mask(&[0, 1]);
        assert_eq!((mask, maxnode), (vec![0b11, 0], 128));
        let (mask, maxnode) = node_mask(&[65]);
        assert_eq!((mask, maxnode), (vec![0, 0b10, 0], 192));
    }

    /// The machine's topology, or `None` (and why, on stderr) where NUMA is unavailable.
    fn machine() -> Option<&'static LinuxTopology> {
        match system() {
            Ok(topo) => Some(topo),
            Err(NumaError::Unsupported(why)) => {
                eprintln!("NUMA unavailable here, test skipped: {why}");
                None
            }
            Err(err) => panic!("unexpected error detecting NUMA: {err}"),
        }
    }

    #[test]
    fn the_machine_answers() {
        let Some(topo) = machine() else { return };
        let nodes = topo.nodes();
        assert!(!nodes.is_empty());
        let node = topo.current_node().expect("getcpu");
        assert!(nodes.iter().any(|n| n.id == node));
        let (cpu, _) = current_cpu().unwrap();
        assert_eq!(topo.node_of_cpu(cpu), Some(node));
        assert!(nodes.iter().all(|n| n.mem_total.is_some() && n.mem_free.is_some()));
        assert!(!topo.is_simulated());
    }

    #[test]
    fn query_sees_first_touch() {
        let Some(topo) = machine() else { return };
        let node = topo.current_node().unwrap();
        let map = Mapping::new(64);
        let fresh = topo.query(map.addr(), map.len).unwrap();
        assert_eq!(fresh, Placement { per_node: vec![], not_present: 64, unknown: 0 });
        map.touch(40);
        let placed = topo.query(map.addr(), map.len).unwrap();
        assert_eq!(placed.on(node), 40, "{placed:?}");
        assert_eq!((placed.present(), placed.not_present, placed.pages()), (40, 24, 64));
        // An unaligned query covers the pages it overlaps.
        assert_eq!(topo.query(map.addr() + 1, page_size()).unwrap().on(node), 2);
    }

    #[test]
    fn binding_on_the_machine() {
        let Some(topo) = machine() else { return };
        let node = topo.current_node().unwrap();
        let map = Mapping::new(32);
        topo.bind(map.addr(), map.len, node).unwrap();
        map.touch(32);
        assert_eq!(topo.query(map.addr(), map.len).unwrap().on(node), 32);
        topo.migrate(map.addr(), map.len, node).unwrap();
        topo.interleave(map.addr(), map.len, &[node]).unwrap();
        assert_eq!(topo.query(map.addr(), map.len).unwrap().on(node), 32);
        topo.prefer_for_thread(Some(node)).unwrap();
        topo.prefer_for_thread(None).unwrap();
        let unaligned = topo.bind(map.addr() + 8, page_size(), node).unwrap_err();
        assert!(matches!(unaligned, NumaError::Os(e) if e.kind() == io::ErrorKind::InvalidInput));
        let no_node = topo.bind(map.addr(), map.len, 1 << 20).unwrap_err();
        assert!(matches!(no_node, NumaError::Os(e) if e.kind() == io::ErrorKind::InvalidInput));
    }

    #[test]
    fn unmapped_pages_are_unknown() {
        let Some(topo) = machine() else { return };
        let map = Mapping::new(8);
        map.touch(8);
        // SAFETY: the middle of our mapping, holding nothing we use.
        unsafe { libc::munmap(map.ptr.add(2 * page_size()).cast(), 4 * page_size()) };
        let placed = topo.query(map.addr(), map.len).unwrap();
        assert_eq!((placed.present(), placed.unknown), (4, 4), "{placed:?}");
        assert!(topo.bind(map.addr() + 2 * page_size(), page_size(), 0).is_err());
    }

    #[test]
    fn simulated_placement_follows_bindings() {
        let page = page_size();
        let topo = SimulatedTopology::new(3, 2);
        assert!(topo.is_simulated());
        let map = Mapping::new(16);
        let (a, len) = (map.addr(), map.len);
        assert_eq!(
            topo.query(a, len).unwrap(),
            Placement { not_present: 16, ..Default::default() }
        );
        map.touch(4);
        // Never bound: node 0, where this machine has them.
        assert_eq!(topo.query(a, len).unwrap().per_node, vec![(0, 4)]);
        topo.bind(a, len, 2).unwrap();
        map.touch(10);
        let placed = topo.query(a, len).unwrap();
        assert_eq!(placed, Placement { per_node: vec![(2, 10)], not_present: 6, unknown: 0 });
        // Half the range migrates; the rest stays bound to node 2.
        topo.migrate(a, 8 * page, 1).unwrap();
        assert_eq!(topo.query(a, len).unwrap().per_node, vec![(1, 8), (2, 2)]);
        assert_eq!(topo.query(a + 8 * page, 8 * page).unwrap().per_node, vec![(2, 2)]);
        // Interleaving spreads by page number.
        map.touch(16);
        topo.interleave(a, len, &[0, 1]).unwrap();
        assert_eq!(topo.query(a, len).unwrap().per_node, vec![(0, 8), (1, 8)]);
        assert!(topo.bind(a, len, 3).is_err());
        assert!(topo.interleave(a, len, &[]).is_err());
        assert!(topo.bind(a + 1, len, 0).is_err());
        let nodes = topo.nodes();
        assert_eq!(nodes[1].cpus, vec![2, 3]);
        assert_eq!(nodes[1].distances, vec![20, 10, 20]);
        assert_eq!(nodes[1].mem_free, None);
    }

    #[test]
    fn simulated_limits_report_full_nodes() {
        let page = page_size();
        let topo = SimulatedTopology::new(2, 1).with_limit(1, 16 * page);
        let first = Mapping::new(32);
        topo.bind(first.addr(), first.len, 1).unwrap();
        first.touch(32);
        // Pages past the limit came from the other node, as with a preferred policy.
        assert_eq!(topo.query(first.addr(), first.len).unwrap().per_node, vec![(0, 16), (1, 16)]);
        assert_eq!(topo.nodes()[1].mem_free, Some(0));
        assert_eq!(topo.nodes()[1].mem_total, Some(16 * page as u64));
        // Node 1 is full: binding or migrating more there is refused, so the caller falls back.
        let second = Mapping::new(8);
        assert!(matches!(topo.bind(second.addr(), second.len, 1), Err(NumaError::NodeFull(1))));
        second.touch(8);
        topo.bind(second.addr(), second.len, 0).unwrap();
        assert!(matches!(topo.migrate(second.addr(), second.len, 1), Err(NumaError::NodeFull(1))));
        assert_eq!(topo.query(second.addr(), second.len).unwrap().per_node, vec![(0, 8)]);
        // Giving pages back makes room.
        // SAFETY: our mapping; its contents are not needed.
        unsafe { libc::madvise(first.ptr.cast(), first.len, libc::MADV_DONTNEED) };
        topo.migrate(second.addr(), second.len, 1).unwrap();
        assert_eq!(topo.query(second.addr(), second.len).unwrap().per_node, vec![(1, 8)]);
        // Rebinding the range that fills the node is measured without its own old pages.
        first.touch(16);
        assert!(matches!(topo.migrate(first.addr(), first.len, 1), Err(NumaError::NodeFull(1))));
        assert!(matches!(topo.migrate(first.addr(), 8 * page, 1), Err(NumaError::NodeFull(1))));
        // SAFETY: our mapping; its contents are not needed.
        unsafe { libc::madvise(second.ptr.cast(), second.len, libc::MADV_DONTNEED) };
        topo.migrate(first.addr(), 8 * page, 1).unwrap();
        assert_eq!(topo.query(first.addr(), first.len).unwrap().per_node, vec![(1, 16)]);
    }

    #[test]
    fn simulated_current_cpu_is_per_thread() {
        let topo = std::sync::Arc::new(SimulatedTopology::new(2, 2));
        let other = SimulatedTopology::new(4, 1);
        topo.set_current_cpu(3);
        other.set_current_cpu(0);
        assert_eq!(topo.current_node(), Some(1));
        assert_eq!(other.current_node(), Some(0));
        let remote = std::sync::Arc::clone(&topo);
        let seen = std::thread::spawn(move || {
            let before = remote.current_cpu();
            remote.set_current_cpu(1);
            (before < 4, remote.current_node())
        })
        .join()
        .unwrap();
        assert_eq!(seen, (true, Some(0)));
        assert_eq!(topo.current_node(), Some(1), "another thread's move is not ours");
        topo.set_current_cpu(0);
        assert_eq!(topo.current_node(), Some(0));
        assert_eq!(topo.node_of_cpu(2), Some(1));
        assert_eq!(topo.node_of_cpu(4), None);
    }

    #[test]
    #[should_panic(expected = "no CPU 4")]
    fn simulated_cpus_are_checked() {
        SimulatedTopology::new(2, 2).set_current_cpu(4);
    }

    #[test]
    fn topologies_are_objects() {
        let topos: Vec<Box<dyn Topology>> = vec![Box::new(SimulatedTopology::new(2, 1))];
        assert_eq!(topos[0].nodes().len(), 2);
    }
}
