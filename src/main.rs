//! The `gcctl` binary: a shim over the library. Parsing, dispatch and error
//! rendering all live in `gcctl::cli`; this file only hands over the process
//! arguments and turns the outcome into an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    gcctl::cli::main(std::env::args_os())
}
