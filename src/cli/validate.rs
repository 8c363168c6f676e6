//! `gcctl validate`: check manifests offline and report every problem at
//! `file:line:column`.

use std::path::PathBuf;

use crate::cli::{GlobalArgs, Outcome};
use crate::manifest::{self, LoadOptions};
use crate::printer::{Printer, Role};

/// Check manifests without contacting Genesys Cloud: YAML syntax, unknown
/// fields, types and enums, Genesys limits, duplicate names, references,
/// dependency cycles, literal secrets and unknown variables. Every problem is
/// reported in one run; the exit code is 1 if there is any.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Manifest files or directories (read recursively for *.yaml and *.yml;
    /// YAML files there without `apiVersion` and `kind` are skipped). Each
    /// path is validated as its own manifest set.
    #[arg(required = true, value_name = "PATHS")]
    pub paths: Vec<PathBuf>,

    /// The Project environment whose variables apply.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,

    /// Also require every referenced secret (environment variable or file) to
    /// be resolvable, as `apply` will.
    #[arg(long)]
    pub require_secrets: bool,
}

pub fn run(
    args: &ValidateArgs,
    _global: &GlobalArgs,
    printer: &Printer,
) -> anyhow::Result<Outcome> {
    let options = LoadOptions { env: args.env.clone() };
    let mut diags = Vec::new();
    let (mut objects, mut files, mut counts) = (0, 0, std::collections::BTreeMap::new());
    let mut skipped = 0;
    // Each PATH is its own manifest set, so one run can check several
    // independent repositories or examples (each may have its own Project).
    for path in &args.paths {
        match manifest::load(std::slice::from_ref(path), &options) {
            Ok(set) => {
                print_warnings(printer, &set.warnings);
                diags.extend(manifest::check_secrets(
                    &set,
                    &|k| std::env::var(k).ok(),
                    args.require_secrets,
                ));
                objects += set.objects.len();
                files += set.files.len();
                skipped += set.skipped.len();
                for (kind, n) in set.counts() {
                    *counts.entry(kind).or_insert(0) += n;
                }
            }
            Err(err) => diags.extend(err.diagnostics),
        }
    }
    if !diags.is_empty() {
        print_diagnostics(printer, &diags);
        return Ok(Outcome::Failed);
    }
    let counts: Vec<String> = counts.iter().map(|(kind, n)| format!("{n} {kind}")).collect();
    let sets = if args.paths.len() > 1 {
        format!(" across {} manifest sets", args.paths.len())
    } else {
        String::new()
    };
    let skipped = if skipped > 0 {
        format!(
            "; skipped {skipped} file{} that {} not gcctl manifests",
            plural(skipped),
            if skipped == 1 { "is" } else { "are" }
        )
    } else {
        String::new()
    };
    printer.data(&format!(
        "valid: {objects} object{} in {files} file{}{sets} ({}){skipped}\n",
        plural(objects),
        plural(files),
        counts.join(", ")
    ))?;
    Ok(Outcome::Success)
}

/// Print diagnostics as `FILE:LINE:COLUMN: error: MESSAGE` plus hints, and a count.
/// Warnings of a set that loaded: shown, and the command goes on.
pub fn print_warnings(printer: &Printer, warnings: &[manifest::Diagnostic]) {
    for w in warnings {
        printer.diagnostic(&paint_diagnostic(printer, &w.to_string()));
    }
}

pub fn print_diagnostics(printer: &Printer, diags: &[manifest::Diagnostic]) {
    for d in diags {
        printer.diagnostic(&paint_diagnostic(printer, &d.to_string()));
    }
    let n = diags.iter().filter(|d| d.severity == manifest::diag::Severity::Error).count();
    printer.diagnostic(&format!(
        "{} {n} problem{} found",
        printer.paint_stderr("error:", Role::Error),
        plural(n)
    ));
}

/// Color the `error:` and `hint:` labels of a rendered diagnostic
/// (`[FILE:LINE:COLUMN: ]error: MESSAGE`, then `  hint: HINT`).
pub fn paint_diagnostic(printer: &Printer, text: &str) -> String {
    let error = printer.paint_stderr("error:", Role::Error);
    let warning = printer.paint_stderr("warning:", Role::Warning);
    let text = match text.strip_prefix("error: ") {
        Some(rest) => format!("{error} {rest}"),
        None if text.contains(": warning: ") => {
            text.replacen(": warning: ", &format!(": {warning} "), 1)
        }
        None => text.replacen(": error: ", &format!(": {error} "), 1),
    };
    text.replacen("\n  hint: ", &format!("\n  {} ", printer.paint_stderr("hint:", Role::Hint)), 1)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
