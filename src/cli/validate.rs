//! `gcctl validate`: check manifests offline and report every problem at
//! `file:line:column`.

use std::path::PathBuf;

use crate::cli::{GlobalArgs, Outcome};
use crate::manifest::{self, LoadOptions};
use crate::printer::{Printer, Role};

/// Check manifests without contacting Genesys Cloud: YAML syntax, unknown
/// fields, types and enums, Genesys limits, duplicate names, references,
/// dependency cycles, literal secrets and unknown variables; and, as warnings
/// that never fail the run, permissions gcctl's offline catalog does not
/// know. Every problem is reported in one run; the exit code is 1 if there
/// is any error.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gcctl validate manifests/\n  gcctl validate manifests/ --env prod --output json"
)]
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

    /// Output format: `text` reports problems on stderr and a summary on
    /// stdout; `json` prints one versioned report, problems included, on
    /// stdout and nothing on stderr.
    #[arg(long, short, value_enum, default_value_t = ValidateFormat::Text)]
    pub output: ValidateFormat,
    #[command(flatten)]
    pub verbose: crate::cli::OfflineVerbose,
}

/// The output formats of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ValidateFormat {
    /// Diagnostics at `FILE:LINE:COLUMN` on stderr, a summary on stdout.
    #[default]
    Text,
    /// One JSON report on stdout (`format_version`).
    Json,
}

/// `validate --output json`: keys in a fixed order; a versioned contract
/// (`tests/it/validate.rs` reads it with `deny_unknown_fields`).
#[derive(Debug, serde::Serialize)]
struct JsonReport<'a> {
    format_version: &'static str,
    /// No errors (warnings allowed): the exit code is 0.
    valid: bool,
    manifest_sets: usize,
    objects: usize,
    files: usize,
    skipped: usize,
    /// Objects per kind, of the sets that loaded.
    counts: &'a std::collections::BTreeMap<crate::kinds::Kind, usize>,
    /// Errors and warnings, sorted by file and position.
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

#[derive(Debug, serde::Serialize)]
struct JsonDiagnostic<'a> {
    severity: &'static str,
    file: String,
    /// 1-based; `null` when the problem is about the file as a whole.
    line: Option<u32>,
    column: Option<u32>,
    message: std::borrow::Cow<'a, str>,
    hint: Option<&'a str>,
}

impl<'a> JsonDiagnostic<'a> {
    fn new(d: &'a manifest::Diagnostic) -> Self {
        let at = (d.loc.line > 0).then_some(d.loc);
        JsonDiagnostic {
            severity: match d.severity {
                manifest::diag::Severity::Error => "error",
                manifest::diag::Severity::Warning => "warning",
            },
            file: d.file.display().to_string(),
            line: at.map(|l| l.line),
            column: at.map(|l| l.column),
            message: manifest::diag::cut(&d.message),
            hint: d.hint.as_deref(),
        }
    }
}

pub fn run(
    args: &ValidateArgs,
    _global: &GlobalArgs,
    printer: &Printer,
) -> anyhow::Result<Outcome> {
    let json = args.output == ValidateFormat::Json;
    let tally = load_all(args, printer, !json);
    if json {
        return print_json(args, &tally, printer);
    }
    if !tally.diags.is_empty() {
        print_diagnostics(printer, &tally.diags);
        return Ok(Outcome::Failed);
    }
    print_valid(args, &tally, printer)?;
    Ok(Outcome::Success)
}

/// What loading every manifest set found.
#[derive(Default)]
struct Tally {
    /// Errors (and warnings that do not let a set load), sorted, once each.
    diags: Vec<manifest::Diagnostic>,
    /// Warnings of the sets that loaded.
    warnings: Vec<manifest::Diagnostic>,
    objects: usize,
    files: usize,
    skipped: usize,
    /// The first few skipped files, to name them.
    skipped_names: Vec<String>,
    counts: std::collections::BTreeMap<crate::kinds::Kind, usize>,
}

/// How many skipped files the summary names.
const SKIPPED_NAMED: usize = 3;

/// Load each PATH as its own manifest set, so one run can check several
/// independent repositories or examples (each may have its own Project),
/// and check the secrets of what could be read: one run reports every
/// problem. A set's warnings are shown as it loads when `show_warnings`.
fn load_all(args: &ValidateArgs, printer: &Printer, show_warnings: bool) -> Tally {
    let options = LoadOptions { env: args.env.clone() };
    let env = |key: &str| std::env::var(key).ok();
    let mut tally = Tally::default();
    for path in &args.paths {
        match manifest::load(std::slice::from_ref(path), &options) {
            Ok(set) => {
                // Secrets that resolve here are redacted from every
                // diagnostic, which may quote a value that holds one.
                manifest::register_secrets(&set.objects, &env);
                if show_warnings {
                    print_warnings(printer, &set.warnings);
                }
                tally.warnings.extend(set.warnings.iter().cloned());
                let secrets = manifest::check_secrets(&set.objects, &env, args.require_secrets);
                tally.diags.extend(secrets);
                tally.objects += set.objects.len();
                tally.files += set.files.len();
                tally.skipped += set.skipped.len();
                let room = SKIPPED_NAMED.saturating_sub(tally.skipped_names.len());
                let named = set.skipped.iter().take(room).map(|f| f.display().to_string());
                tally.skipped_names.extend(named);
                for (kind, n) in set.counts() {
                    *tally.counts.entry(kind).or_insert(0) += n;
                }
            }
            Err(err) => {
                manifest::register_secrets(&err.objects, &env);
                tally.diags.extend(err.diagnostics);
                let secrets = manifest::check_secrets(&err.objects, &env, args.require_secrets);
                tally.diags.extend(secrets);
            }
        }
    }
    tally.diags.sort();
    tally.diags.dedup();
    tally
}

/// The report of `--output json`: valid when no error was found.
fn print_json(args: &ValidateArgs, tally: &Tally, printer: &Printer) -> anyhow::Result<Outcome> {
    let valid = !tally.diags.iter().any(|d| d.severity == manifest::diag::Severity::Error);
    let mut all: Vec<&manifest::Diagnostic> = tally.diags.iter().chain(&tally.warnings).collect();
    all.sort();
    let report = JsonReport {
        format_version: "1",
        valid,
        manifest_sets: args.paths.len(),
        objects: tally.objects,
        files: tally.files,
        skipped: tally.skipped,
        counts: &tally.counts,
        diagnostics: all.into_iter().map(JsonDiagnostic::new).collect(),
    };
    // Known secrets redacted, bidirectional controls escaped, as in every
    // JSON output.
    let json = serde_json::to_string_pretty(&report)?;
    let mut text =
        crate::api::untrusted::escape_bidi_in_json(crate::api::untrusted::redact_json(&json));
    text.push('\n');
    printer.data(&text)?;
    Ok(if valid { Outcome::Success } else { Outcome::Failed })
}

/// `valid: N objects in M files`, with the sets, the objects by kind (in
/// parentheses; nothing when there is nothing to count) and the files
/// skipped.
fn print_valid(args: &ValidateArgs, tally: &Tally, printer: &Printer) -> anyhow::Result<()> {
    let Tally { objects, files, skipped, .. } = *tally;
    let counts: Vec<String> = tally.counts.iter().map(|(kind, n)| format!("{n} {kind}")).collect();
    let counts =
        if counts.is_empty() { String::new() } else { format!(" ({})", counts.join(", ")) };
    let sets = if args.paths.len() > 1 {
        format!(" across {} manifest sets", args.paths.len())
    } else {
        String::new()
    };
    let skipped = if skipped > 0 {
        let mut names = tally.skipped_names.join(", ");
        if skipped > tally.skipped_names.len() {
            names.push_str(&format!(", and {} more", skipped - tally.skipped_names.len()));
        }
        format!(
            "; skipped {skipped} file{} that {} ({})",
            plural(skipped),
            if skipped == 1 { "is not a gcctl manifest" } else { "are not gcctl manifests" },
            crate::api::untrusted::visible(&names)
        )
    } else {
        String::new()
    };
    printer.data(&format!(
        "valid: {objects} object{} in {files} file{}{sets}{counts}{skipped}\n",
        plural(objects),
        plural(files),
    ))?;
    Ok(())
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
        // A message may quote the org's text (an export's check of what the
        // org holds): its control characters show as escapes.
        // One line each, escaped and redacted (see `Diagnostic`'s Display).
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
