//! The `gcctl` binary: a shim over the library. Parsing, dispatch and error
//! rendering all live in `gcctl::cli`; this file only hands over the process
//! arguments and turns the outcome into an exit code.

use std::process::ExitCode;

/// mimalloc rather than the system allocator: plans, exports and applies allocate many
/// small values (YAML and JSON documents, requests), and on glibc a tenth to a fifth of
/// their CPU went to `malloc` and `free` (plan of 10,000 queues: 0.50 s of CPU against
/// 0.38 s; see `docs/src/benchmarks.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    no_transparent_huge_pages();
    gcctl::cli::main(std::env::args_os())
}

/// Turn transparent huge pages off for this process (and the processes it
/// starts). mimalloc asks for them (`MADV_HUGEPAGE`) on its arenas, and the
/// kernel then zeroes 2 MiB at the first touch of each: on the virtual
/// machines measured, that made an export of 10,000 objects spend 0.04 s of
/// system time in one run and 0.2 to 0.4 s in the next (its time after the
/// last page 0.14 s or 0.28 to 0.37 s; 0.14 to 0.18 s without them, and
/// peak memory 118 MiB instead of 160 MiB). See `docs/src/benchmarks.md`.
/// Failing to turn them off changes nothing but speed, so it is ignored.
///
/// This runs too late for the first allocation, which std makes before
/// `main` (the main thread's info) and which reserves mimalloc's first
/// arena: with mimalloc's `no_thp` feature off, that arena asked for huge
/// pages and 6 of 15 runs zeroed one there, 9 ms before the first request
/// could leave. The feature (`Cargo.toml`) stops mimalloc from asking; this
/// call covers kernels set to huge pages for every process (`always`).
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_thp_disable(true);
}
