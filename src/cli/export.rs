//! `gcctl export`: write manifests for the objects of a live org.

use std::path::PathBuf;
use std::time::Instant;

use crate::api::ClientStats;
use crate::cli::connect::{connect, runtime};
use crate::cli::validate::print_diagnostics;
use crate::cli::{GlobalArgs, Outcome, hinted};
use crate::export::{self, ExportOptions};
use crate::kinds::Kind;
use crate::manifest::Diagnostic;
use crate::manifest::parallel::beside;
use crate::printer::{Printer, Role};

/// Write manifests for the live objects of the org, ready to be applied to
/// another org or kept in git: references by name, read-only and
/// server-defaulted fields left out, secrets as `fromEnv` references (the
/// variables to set are listed). Reads with list endpoints only; changes nothing.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gcctl export --out exported/\n  gcctl export --kinds routingqueue --name-glob 'Acme*'\n\nConnects with GENESYSCLOUD_REGION and GENESYSCLOUD_OAUTHCLIENT_ID + GENESYSCLOUD_OAUTHCLIENT_SECRET (or GENESYSCLOUD_ACCESS_TOKEN), or --sandbox."
)]
pub struct ExportArgs {
    #[command(flatten)]
    pub connect: crate::cli::ConnectArgs,

    /// Kinds to export, comma-separated (default: all). Webhooks come with
    /// their open messaging integrations. Only these kinds, and what their
    /// objects refer to, are read: a caller needs no permission to read
    /// the others.
    #[arg(long, value_name = "KIND,...", value_delimiter = ',')]
    pub kinds: Vec<String>,

    /// Only objects whose org-side name matches (`*` any run, `?` one character).
    #[arg(long, value_name = "PATTERN")]
    pub name_glob: Option<String>,

    /// Write one file per kind into this directory (with the JSON Schema and,
    /// when there are secret variables, `secrets.env.example`) instead of one
    /// YAML stream on stdout.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Replace a non-empty --out directory as a whole.
    #[arg(long, requires = "out")]
    pub force: bool,

    /// Also export each queue's members (by email) and wrap-up codes (by
    /// name). They are sub-resources: reading them costs two or more
    /// requests per queue, so they are left out unless asked for.
    #[arg(long)]
    pub queue_members: bool,
}

/// How many secret variables the status line names (all are in the files).
const SHOWN_SECRETS: usize = 5;

/// Parse `--kinds` (names as in manifests, any case).
fn parse_kinds(names: &[String]) -> anyhow::Result<Vec<Kind>> {
    let mut kinds = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let kind = Kind::in_org().iter().copied().find(|k| k.as_str().eq_ignore_ascii_case(name));
        let why_not = kind.and_then(Kind::org).and_then(crate::kinds::org::OrgKind::not_exported);
        match kind {
            Some(kind) if why_not.is_some() => {
                return Err(anyhow::anyhow!("--kinds: `{kind}`: {}", why_not.unwrap_or_default()));
            }
            Some(kind) if !kinds.contains(&kind) => kinds.push(kind),
            Some(_) => {}
            None => {
                let known: Vec<&str> = Kind::in_org()
                    .iter()
                    .filter(|k| k.org().is_some_and(|org| org.not_exported().is_none()))
                    .map(|k| k.as_str())
                    .collect();
                let why = if name.eq_ignore_ascii_case("Webhook") {
                    "Webhook manifests are exported with their OpenMessagingIntegration"
                } else {
                    "not a kind of org object"
                };
                return Err(hinted(
                    format!("--kinds: `{name}`: {why}"),
                    format!("the kinds are: {}", known.join(", ")),
                ));
            }
        }
    }
    // `--kinds ""` (an unset variable in a script) is no request for all.
    if kinds.is_empty() && !names.is_empty() {
        return Err(hinted(
            "--kinds names no kind".to_string(),
            "name the kinds to export (`--kinds RoutingQueue,Flow`), or leave --kinds out to export every kind".to_string(),
        ));
    }
    Ok(kinds)
}

pub fn run(args: &ExportArgs, global: &GlobalArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let mut options = ExportOptions {
        kinds: parse_kinds(&args.kinds)?,
        name_glob: args.name_glob.clone(),
        skip_client_id: None,
    };
    export::register_secret_variables();
    let started = Instant::now();
    let (input, stats) = runtime()?.block_on(async {
        let connection = connect(global, printer).await?;
        options.skip_client_id = connection.client.own_client_id();
        let input = export::read(&connection.client, &options, args.queue_members)
            .await
            .map_err(|e| forbidden_hint(e, &options))?;
        anyhow::Ok((input, connection.client.stats()))
    })?;
    // Frees each live object once its manifests are made (see `build`).
    let mut export = export::build(input, &options);
    if !export.failures.is_empty() {
        let causes: Vec<String> = export
            .failures
            .iter()
            .map(|f| crate::api::untrusted::visible(f).into_owned())
            .collect();
        printer.error(
            &format!(
                "cannot export {} object{}: a read of {} failed; nothing was written",
                causes.len(),
                if causes.len() == 1 { "" } else { "s" },
                if causes.len() == 1 { "it" } else { "them" }
            ),
            &causes,
            Some("run again (the failure may pass), or leave the objects out with --kinds or --name-glob"),
        );
        return Ok(Outcome::Failed);
    }
    for warning in &export.warnings {
        printer.diagnostic(&format!(
            "{} {}",
            printer.paint_stderr("warning:", Role::Warning),
            // Warnings name objects by their org-side names.
            crate::api::untrusted::visible(warning)
        ));
    }
    let files = export::files(&export);
    if args.out.is_some() {
        // In the files now; a stream (no `--out`) is written from them.
        export.documents.iter_mut().for_each(export::Document::free_texts);
    }
    let (problems, written) = write_and_check(args, printer, &export, &files);
    written?;
    summarize(args, printer, &export, &stats, started);
    std::mem::forget((export, files));
    if !problems.is_empty() {
        print_diagnostics(printer, &problems);
        printer.status(
            "The export does not pass `gcctl validate`; fix the files by hand, or leave the objects out with --kinds or --name-glob.",
        );
        return Ok(Outcome::Failed);
    }
    Ok(Outcome::Success)
}

/// A read the caller may not make (403) says how to export without it: an
/// export of some kinds reads only those and what they refer to.
fn forbidden_hint(
    mut error: crate::plan::ReadError,
    options: &export::ExportOptions,
) -> crate::plan::ReadError {
    if error.source.status() == Some(403) && error.source.hint.is_none() {
        let or = if options.kinds.is_empty() {
            "or export only the kinds it may read with --kinds"
        } else {
            "or leave the kind that needs it out of --kinds"
        };
        error.source.hint = Some(format!(
            "grant the caller the permission named above, {or} (an export of a kind reads that kind and what its objects refer to, as the kinds reference says for each kind)"
        ));
    }
    error
}

/// Write the files (to `--out`, else as one stream to stdout) and, beside
/// the write, check them as `gcctl validate` would: the output is written
/// whatever the check finds, and its problems are returned to report after.
fn write_and_check(
    args: &ExportArgs,
    printer: &Printer,
    export: &export::Export,
    files: &[export::ExportFile],
) -> (Vec<Diagnostic>, anyhow::Result<()>) {
    std::thread::scope(|scope| {
        let check = beside(scope, || {
            if files.is_empty() {
                return Vec::new();
            }
            match export::check(files) {
                // Only the problems matter, and the process ends soon (see `run`).
                Ok(set) => {
                    std::mem::forget(set);
                    Vec::new()
                }
                Err(problems) => problems,
            }
        });
        let written = match &args.out {
            Some(dir) => export::write_dir(dir, files, args.force).map_err(|e| match e.hint() {
                Some(hint) => hinted(e.to_string(), hint),
                None => anyhow::Error::new(e),
            }),
            None => printer.data(&export::stream(export)).map_err(anyhow::Error::from),
        };
        let mut problems = check.join();
        // At the files as written: under the export's directory.
        if let Some(dir) = &args.out {
            for problem in &mut problems {
                problem.file = dir.join(&problem.file);
            }
        }
        (problems, written)
    })
}

/// What was exported, per kind, with the requests and time it took, and the
/// secret variables to set before applying.
fn summarize(
    args: &ExportArgs,
    printer: &Printer,
    export: &export::Export,
    stats: &ClientStats,
    started: Instant,
) {
    let mut counts: Vec<String> = Vec::new();
    for &kind in Kind::all() {
        let n = export.documents.iter().filter(|d| d.kind == kind).count();
        if n > 0 {
            counts.push(format!("{n} {kind}"));
        }
    }
    let place = args.out.as_ref().map(|d| format!(" to {}", d.display())).unwrap_or_default();
    printer.status(&format!(
        "Exported {} manifest{}{place} ({}) with {} API request{} in {:.1}s.",
        export.documents.len(),
        if export.documents.len() == 1 { "" } else { "s" },
        match (counts.is_empty(), export.left_out) {
            (false, _) => counts.join(", "),
            (true, 0) => "nothing matched".to_string(),
            // Objects were left out, each with its warning above.
            (true, _) => "nothing exported: see the warnings".to_string(),
        },
        stats.requests,
        if stats.requests == 1 { "" } else { "s" },
        started.elapsed().as_secs_f64()
    ));
    if export.secrets.is_empty() {
        return;
    }
    let mut names: Vec<&str> =
        export.secrets.iter().take(SHOWN_SECRETS).map(|s| s.name.as_str()).collect();
    let more = export.secrets.len().saturating_sub(SHOWN_SECRETS);
    let more = format!("and {more} more");
    if export.secrets.len() > SHOWN_SECRETS {
        names.push(&more);
    }
    let listed = args
        .out
        .as_ref()
        .map(|d| format!(" (listed in {})", d.join(export::SECRETS_FILE).display()))
        .unwrap_or_default();
    printer.status(&format!(
        "Set these secret variables before applying{listed}: {}",
        names.join(", ")
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_org_kinds_that_are_exported() {
        let names = |list: &[&str]| list.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
        let kinds = parse_kinds(&names(&["routingqueue", " Flow ", "RoutingQueue"])).unwrap();
        assert_eq!(kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>(), ["RoutingQueue", "Flow"]);
        let refused = parse_kinds(&names(&["UserRoutingProfile"])).unwrap_err().to_string();
        assert!(refused.contains("user routing profiles are not exported"), "{refused}");
        let webhook = format!("{:#}", parse_kinds(&names(&["Webhook"])).unwrap_err());
        assert!(webhook.contains("exported with their OpenMessagingIntegration"), "{webhook}");
        let unknown = parse_kinds(&names(&["Queue"])).unwrap_err();
        let hint = crate::cli::hint_of(unknown.as_ref()).unwrap_or_default();
        assert!(hint.contains("RoutingQueue") && !hint.contains("UserRoutingProfile"), "{hint}");
        // No --kinds is every kind; a --kinds naming none is an error.
        assert!(parse_kinds(&[]).unwrap().is_empty());
        for empty in [&[""][..], &[" ", ""]] {
            let refused = parse_kinds(&names(empty)).unwrap_err().to_string();
            assert!(refused.contains("--kinds names no kind"), "{refused}");
        }
    }
}
