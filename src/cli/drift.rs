//! `gcctl drift`: report where the live org differs from the manifests.

use std::sync::Arc;
use std::time::Instant;

use crate::cli::connect::{Prefetch, load_while_prefetching, runtime, with_read_progress};
use crate::cli::{GlobalArgs, Outcome, SetArgs, load_set, read_summary};
use crate::drift::{self, DriftOptions, DriftReport};
use crate::manifest::ManifestSet;
use crate::manifest::select::Reach;
use crate::plan::{self, ReadScope};
use crate::printer::Printer;
use crate::render;

/// Compare the declared objects with the live org, with the same engine as
/// `plan`, and report drifted fields (declared against live), declared
/// objects missing from the org, undeclared objects inside prune scopes and,
/// with --include-unmanaged, undeclared objects outside them. Changes
/// nothing. Exit code: 0 no drift, 2 drift, 1 error.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gcctl drift manifests/ --env prod\n  gcctl drift manifests/ --include-unmanaged --output junit > drift.xml\n\nConnects with GENESYSCLOUD_REGION and GENESYSCLOUD_OAUTHCLIENT_ID + GENESYSCLOUD_OAUTHCLIENT_SECRET (or GENESYSCLOUD_ACCESS_TOKEN), or --sandbox."
)]
pub struct DriftArgs {
    #[command(flatten)]
    pub set: SetArgs,

    /// Output format on stdout.
    #[arg(long, short, value_enum, default_value_t = DriftOutput::Text)]
    pub output: DriftOutput,

    /// Also list live objects of the managed kinds that no manifest declares
    /// outside every prune scope (built-ins and org defaults aside). Those
    /// inside a prune scope are always reported and count as drift; these do
    /// not, unless --fail-on-unmanaged.
    #[arg(long)]
    pub include_unmanaged: bool,

    /// Count the undeclared objects outside prune scopes as drift (exit 2).
    #[arg(long, requires = "include_unmanaged")]
    pub fail_on_unmanaged: bool,
}

/// Output formats of `drift`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DriftOutput {
    /// Per-field differences for people.
    Text,
    /// The report as versioned JSON (`format_version`).
    Json,
    /// Markdown for an issue or pull-request body.
    Markdown,
    /// `JUnit` XML: each drifted, missing or unmanaged object is a failed test case.
    Junit,
}

/// As plan: the declared kinds (and divisions) are read while the set
/// loads, unless --select narrows it.
fn prefetch<'a>(args: &'a DriftArgs, early: &Arc<plan::Early>, lean: bool) -> Option<Prefetch<'a>> {
    let paths = args.set.paths.as_slice();
    let early = Some(Arc::clone(early));
    args.set.select.is_empty().then(|| Prefetch { paths, caller: false, early, lean })
}

pub fn run(args: &DriftArgs, global: &GlobalArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let printer = &printer.with_progress(args.output != DriftOutput::Json);
    let runtime = runtime()?;
    let select = &args.set.select;
    let load =
        || load_set(&args.set.paths, args.set.env.clone(), select, Reach::Dependencies, printer);
    // As plan, the kind with the most declared objects is compared as its
    // pages arrive (`plan::early`).
    let early = Arc::new(plan::Early::default());
    // As plan: only JSON output fingerprints the live objects.
    let lean = args.output != DriftOutput::Json;
    let prefetch = prefetch(args, &early, lean);
    let env = args.set.env.as_deref();
    let Some((set, connection, prefetched)) =
        load_while_prefetching(&runtime, global, env, printer, load, prefetch)?
    else {
        return Ok(Outcome::Failed);
    };
    // The pages' tasks compare with what is prepared from the set: it is
    // never freed (the process ends soon).
    let set: &'static ManifestSet = Box::leak(Box::new(set));
    // The read began with the first list sent while the set loaded.
    let started = prefetched.started().unwrap_or_else(Instant::now);
    let scope = ReadScope { all_kinds: args.include_unmanaged, lean, ..ReadScope::default() };
    // What the comparison takes from the set alone is made while the org is
    // read, as for plan.
    let reported = std::thread::scope(|threads| {
        let prepared = plan::early::prepare_beside(threads, set, &early);
        runtime.block_on(async {
            // Which org this is (one request that needs no permission), so
            // that the report names it as a plan does.
            let client = &connection.client;
            let read = Box::pin(async {
                futures::try_join!(
                    plan::read_comparing(client, set, &scope, prefetched, Some(&early)),
                    plan::read::read_org(client)
                )
            });
            let (live, org) = with_read_progress(&connection.client, printer, read).await?;
            crate::cli::check_environment_org(set, org.as_ref(), global)?;
            let target = connection.target.clone().with_org(org.as_ref());
            let prepared = prepared.join();
            let mut plan = plan::build_early(prepared, early.finish(), &live, target)?;
            // A secret a run left unrecorded is said so, as by plan.
            crate::cli::restore_lost_secrets(&mut plan, None, true, printer);
            if args.output == DriftOutput::Json {
                plan = plan.sealed(set, &live);
            }
            let options = DriftOptions {
                include_unmanaged: args.include_unmanaged,
                fail_on_unmanaged: args.fail_on_unmanaged,
                own_client_id: connection.client.own_client_id(),
            };
            let report = drift::report(set, &live, &plan, &options);
            // The process ends soon: freeing every live object one by one
            // would cost a large org a tenth of a second for nothing.
            std::mem::forget((live, plan));
            anyhow::Ok((report, connection.client.stats()))
        })
    });
    let (report, stats) = reported?;
    printer.status(&read_summary(stats, started));
    let drifted = show(args.output, printer, report)?;
    Ok(if drifted { Outcome::Changes } else { Outcome::Success })
}

/// Show the report in `output`'s format; whether anything drifted.
fn show(output: DriftOutput, printer: &Printer, report: DriftReport) -> anyhow::Result<bool> {
    let text = match output {
        DriftOutput::Text => render::text::drift(&report, printer),
        DriftOutput::Json => render::json::drift(&report),
        DriftOutput::Markdown => render::markdown::drift(&report),
        DriftOutput::Junit => render::junit::drift(&report),
    };
    printer.data(&text)?;
    let drifted = report.has_drift();
    // As for the live org: the process ends soon.
    std::mem::forget(report);
    Ok(drifted)
}
