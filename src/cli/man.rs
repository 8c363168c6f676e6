//! `gcctl man --out DIR`: write roff man pages, `gcctl.1` and one page per
//! subcommand (`gcctl-plan.1`, `gcctl-sandbox-serve.1`, …).
//!
//! Pages are rendered from the clap definition by `clap_mangen` and written by
//! us (not `clap_mangen::generate_to`) so that an IO error names its file.
//! The page date is the build date, so two runs of one binary write the same
//! bytes.

use std::path::PathBuf;

use clap::CommandFactory as _;

use crate::cli::{Cli, Outcome};
use crate::printer::Printer;

/// Write man pages for gcctl and each of its subcommands into a directory
/// (created if missing). Read one with `man -l DIR/gcctl-plan.1`, or put DIR
/// on `MANPATH` under a `man1/` folder.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  gcctl man --out ~/.local/share/man/man1")]
pub struct ManArgs {
    /// The directory to write the `.1` files into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub verbose: crate::cli::OfflineVerbose,
}

pub fn run(args: &ManArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let pages = render();
    fs_err::create_dir_all(&args.out)?;
    for (name, page) in &pages {
        fs_err::write(args.out.join(name), page)?;
    }
    printer.status(&format!("Wrote {} man pages to {}.", pages.len(), args.out.display()));
    Ok(Outcome::Success)
}

/// Every page as (file name, roff text): the top-level command first, then
/// each visible subcommand, depth first.
pub fn render() -> Vec<(String, Vec<u8>)> {
    let mut command = Cli::command().disable_help_subcommand(true);
    // Building propagates global options and names subcommands `gcctl-plan`.
    command.build();
    let mut pages = Vec::new();
    collect(&command, &mut pages);
    pages
}

fn collect(command: &clap::Command, pages: &mut Vec<(String, Vec<u8>)>) {
    let man = clap_mangen::Man::new(command.clone())
        .date(env!("GCCTL_BUILD_DATE"))
        .source(format!("gcctl {}", crate::cli::VERSION))
        .manual("gcctl manual");
    let mut page = Vec::new();
    // Rendering into memory cannot fail; a failure would leave a short page
    // that the caller still writes, which is better than no page.
    let _ = man.render(&mut page);
    pages.push((man.get_filename(), page));
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        collect(sub, pages);
    }
}
