//! Making the heap's own memory visible to AddressSanitizer and Valgrind.
//!
//! The checkers see only `malloc`: a stale pointer into the nursery after its object was
//! evacuated, or into a block after compaction, reads memory the allocator considers in use.
//! In builds made for them (`--cfg gc_asan` with `-Zsanitizer=address`, `--cfg gc_valgrind`
//! to run under memcheck) the collector poisons every range it frees (ASan's
//! `__asan_poison_memory_region`, memcheck's `MAKE_MEM_NOACCESS` client request) and unpoisons
//! a range when it allocates in it again, so such a read is reported where it happens. In
//! other builds these functions compile to nothing.
//!
//! (The client request is written out here: the Valgrind crates either need nightly or a
//! build script that failed on these machines; it is the documented x86-64 sequence.)

/// Whether this build poisons freed heap memory.
pub(crate) const POISON: bool = cfg!(any(gc_asan, gc_valgrind));

#[cfg(gc_asan)]
extern "C" {
    fn __asan_poison_memory_region(addr: *const u8, size: usize);
    fn __asan_unpoison_memory_region(addr: *const u8, size: usize);
}

#[cfg(all(gc_valgrind, target_arch = "x86_64"))]
fn client_request(request: usize, addr: usize, len: usize) {
    let args: [usize; 6] = [request, addr, len, 0, 0, 0];
    // SAFETY: the Valgrind client-request sequence: it rotates `rdi` by a total of 128 bits
    // (a no-op), and `xchg rbx, rbx` is a no-op; natively nothing happens, under Valgrind the
    // tool reads `args` and writes its answer to `rdx`.
    unsafe {
        std::arch::asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            inout("rdx") 0usize => _,
            in("rax") args.as_ptr(),
            inout("rdi") 0usize => _,
            options(nostack),
        );
    }
}

#[cfg(all(gc_valgrind, target_arch = "x86_64"))]
const MAKE_MEM_NOACCESS: usize = 0x4d43_0000;
#[cfg(all(gc_valgrind, target_arch = "x86_64"))]
const MAKE_MEM_DEFINED: usize = 0x4d43_0002;

/// Marks `[from, to)` as freed heap memory: any access is an error for the checkers.
#[inline(always)]
#[allow(unused_variables)]
pub(crate) fn poison(from: usize, to: usize) {
    if POISON && from < to {
        #[cfg(gc_asan)]
        // SAFETY: only changes ASan's shadow memory for a range of our own mappings.
        unsafe {
            __asan_poison_memory_region(from as *const u8, to - from)
        };
        #[cfg(all(gc_valgrind, target_arch = "x86_64"))]
        client_request(MAKE_MEM_NOACCESS, from, to - from);
    }
}

/// Marks `[from, to)` as heap memory in use again.
#[inline(always)]
#[allow(unused_variables)]
pub(crate) fn unpoison(from: usize, to: usize) {
    if POISON && from < to {
        #[cfg(gc_asan)]
        // SAFETY: as in `poison`.
        unsafe {
            __asan_unpoison_memory_region(from as *const u8, to - from)
        };
        #[cfg(all(gc_valgrind, target_arch = "x86_64"))]
        client_request(MAKE_MEM_DEFINED, from, to - from);
    }
}
