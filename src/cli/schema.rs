//! `gcctl schema`: print the JSON Schema of the manifest format.

use crate::cli::Outcome;
use crate::printer::Printer;

/// Print the JSON Schema generated from the manifest types. The checked-in
/// copy lives in `schemas/gcctl.schema.json`; editors can use it through a
/// `# yaml-language-server: $schema=...` comment.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  gcctl schema > schemas/gcctl.schema.json")]
pub struct SchemaArgs {
    #[command(flatten)]
    pub verbose: crate::cli::OfflineVerbose,
}

pub fn run(_args: &SchemaArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    printer.data(&crate::manifest::schema::render())?;
    Ok(Outcome::Success)
}
