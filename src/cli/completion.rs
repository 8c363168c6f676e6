//! `gcctl completion SHELL`: print a shell completion script to stdout.
//!
//! The script is generated from the same clap definition that parses the
//! arguments, so it cannot drift from the CLI. Installing it is the shell's
//! business; `docs/src/shell.md` says where each shell looks.

use clap::CommandFactory as _;
use clap_complete::Shell;

use crate::cli::{Cli, Outcome};
use crate::printer::Printer;

/// Print the completion script for SHELL to stdout, for example
/// `gcctl completion bash > ~/.local/share/bash-completion/completions/gcctl`
/// or `gcctl completion zsh > "${fpath[1]}/_gcctl"`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  gcctl completion bash > ~/.local/share/bash-completion/completions/gcctl"
)]
pub struct CompletionArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
    #[command(flatten)]
    pub verbose: crate::cli::OfflineVerbose,
}

pub fn run(args: &CompletionArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    printer.data(&render(args.shell))?;
    Ok(Outcome::Success)
}

/// The completion script of `gcctl` for `shell`.
pub fn render(shell: Shell) -> String {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "gcctl", &mut script);
    // The generators write UTF-8 built from our (UTF-8) definitions.
    String::from_utf8_lossy(&script).into_owned()
}
