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
    gcctl::cli::main(std::env::args_os())
}
