//! `gcctl plan`: show exactly what `apply` would change.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::cli::connect::{Prefetch, load_while_prefetching, runtime, with_read_progress};
use crate::cli::{
    GlobalArgs, Outcome, SetArgs, complete_commands, load_set, read_summary, restore_lost_secrets,
};
use crate::manifest::ManifestSet;
use crate::manifest::select::Reach;
use crate::plan::saved::SavedPlan;
use crate::plan::{self, Plan, ReadScope};
use crate::printer::Printer;
use crate::render::{self, OutputFormat};

/// Compare the manifests with the live org and show what would change:
/// objects to create, fields to update (before and after), and undeclared
/// objects inside a prune scope. Changes nothing.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gcctl --sandbox plan manifests/\n  gcctl plan manifests/ --env prod --output markdown > plan.md\n  gcctl plan manifests/ --env prod --out plan.json   # save it (--output is the format)\n\nConnects with GENESYSCLOUD_REGION and GENESYSCLOUD_OAUTHCLIENT_ID + GENESYSCLOUD_OAUTHCLIENT_SECRET (or GENESYSCLOUD_ACCESS_TOKEN), or --sandbox."
)]
pub struct PlanArgs {
    #[command(flatten)]
    pub set: SetArgs,

    /// Output format on stdout.
    #[arg(long, short, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Save the plan to FILE for `gcctl apply --plan FILE` (the format of
    /// what is printed is --output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Plan the deletion of every declared object instead (what `gcctl
    /// destroy` does), keeping those declared with `protect: true`. With
    /// --select: the selected objects and what refers to them.
    #[arg(long, conflicts_with = "prune")]
    pub destroy: bool,

    /// Plan the deletion of undeclared objects inside the Project's prune
    /// scopes, as `apply --prune` does. Without it they are listed as "would
    /// be deleted with --prune" and do not count as changes.
    #[arg(long)]
    pub prune: bool,

    /// The directory `apply --secrets-dir` writes OAuth client secrets to.
    /// Pass the same one as apply: a client whose secret a crashed run left
    /// unrecorded (the org marks it) is planned as a regeneration either
    /// way, but a secret that is in DIR after all only has its mark cleared,
    /// and a saved plan (`--out`) must match what apply computes.
    #[arg(long, value_name = "DIR")]
    pub secrets_dir: Option<PathBuf>,

    /// Plan as `apply --no-restore-secrets` would: report a secret a crashed
    /// run left unrecorded, without planning its regeneration.
    #[arg(long)]
    pub no_restore_secrets: bool,

    /// Exit 2 when there are changes (0: none, 1: error), like
    /// `terraform plan -detailed-exitcode`.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

impl PlanArgs {
    /// Whether the read decodes of each listed object only what comparing
    /// the declared fields needs ([`ReadScope::lean`]): live objects a saved
    /// plan or JSON output fingerprints are read whole.
    fn lean(&self) -> bool {
        !self.destroy && self.out.is_none() && self.output != OutputFormat::Json
    }
}

/// What the plan reads while the set loads (the declared kinds' pages, the
/// divisions, the caller), unless --select narrows it (the files' kinds
/// would be more than the selection needs).
fn prefetch(args: &PlanArgs, early: Option<Arc<plan::Early>>) -> Option<Prefetch<'_>> {
    let paths = args.set.paths.as_slice();
    let lean = args.lean();
    args.set.select.is_empty().then(|| Prefetch { paths, caller: true, early, lean })
}

pub fn run(args: &PlanArgs, global: &GlobalArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let printer = &printer.with_progress(args.output != OutputFormat::Json);
    crate::cli::refuse_saved_plans(&args.set.paths)?;
    let runtime = runtime()?;
    let reach = if args.destroy { Reach::Dependents } else { Reach::Dependencies };
    let load = || load_set(&args.set.paths, args.set.env.clone(), &args.set.select, reach, printer);
    // The declared objects are compared as their live pages arrive (see
    // `plan::early`), not all after the last one.
    let early = (!args.destroy).then(|| Arc::new(plan::Early::default()));
    let lean = args.lean();
    let prefetch = prefetch(args, early.clone());
    let env = args.set.env.as_deref();
    let Some((set, connection, prefetched)) =
        load_while_prefetching(&runtime, global, env, printer, load, prefetch)?
    else {
        return Ok(Outcome::Failed);
    };
    // The process ends soon, and the pages' tasks compare with what is
    // prepared from the set: it is never freed (as the plan, below).
    let set: &'static ManifestSet = Box::leak(Box::new(set));
    // The read began with the first list sent while the set loaded.
    let started = prefetched.started().unwrap_or_else(Instant::now);
    // What the plan takes from the set alone is made while the org is read.
    let planned = std::thread::scope(|threads| {
        let prepared =
            early.as_deref().map(|early| plan::early::prepare_beside(threads, set, early));
        runtime.block_on(async {
            let scope =
                ReadScope { caller: true, lean, destroy: args.destroy, ..ReadScope::default() };
            let client = &connection.client;
            let read =
                Box::pin(plan::read_comparing(client, set, &scope, prefetched, early.as_deref()));
            let live = with_read_progress(&connection.client, printer, read).await?;
            crate::cli::check_environment_org(set, live.org.as_ref(), global)?;
            let target = connection.target.clone().with_org(live.org.as_ref());
            let mut plan = match prepared {
                None => plan::build_destroy(set, &live, target)?,
                Some(prepared) => {
                    let prepared = prepared.join();
                    let compared = early.as_ref().and_then(|early| early.finish());
                    plan::build_early(prepared, compared, &live, target)
                        .map_err(|e| {
                            complete_commands(e, global, &args.set.paths, args.set.env.as_deref())
                        })?
                        .with_prune(args.prune)
                }
            };
            if args.out.is_some() || args.output == OutputFormat::Json {
                plan = plan.sealed(set, &live);
            }
            // The process ends soon: freeing every live object one by one would
            // cost a large org a tenth of a second for nothing.
            std::mem::forget(live);
            anyhow::Ok((plan, connection.client.stats()))
        })
    });
    let (plan, stats) = planned?;
    printer.status(&read_summary(stats, started));
    let changes = show(args, printer, plan)?;
    Ok(if args.detailed_exitcode && changes { Outcome::Changes } else { Outcome::Success })
}

/// Show the plan (in `--output`'s format) and save it with `--out`, after
/// restoring the secrets a lost answer left behind; whether it has changes.
fn show(args: &PlanArgs, printer: &Printer, mut plan: Plan) -> anyhow::Result<bool> {
    let restore = !args.no_restore_secrets;
    restore_lost_secrets(&mut plan, args.secrets_dir.as_deref(), restore, printer);
    let text = match args.output {
        OutputFormat::Text => render::text::plan(&plan, printer),
        OutputFormat::Json => render::json::plan(&plan),
        OutputFormat::Markdown => render::markdown::plan(&plan),
    };
    printer.data(&text)?;
    if let Some(path) = &args.out {
        let saved = SavedPlan::new(&args.set.paths, args.secrets_dir.as_deref(), plan.clone())
            .with_select(&args.set.select)
            .with_no_restore_secrets(args.no_restore_secrets);
        saved.write(path)?;
        printer.status(&saved_message(&saved, path));
    }
    let changes = plan.has_changes();
    // As for the live org: the process ends soon.
    std::mem::forget(plan);
    Ok(changes)
}

/// Where the plan was saved and the command that applies it. A plan that
/// makes the org issue a secret needs a `--secrets-dir` to apply: the one
/// given to plan, or else one to choose, and the message says which.
fn saved_message(saved: &SavedPlan, path: &std::path::Path) -> String {
    let command = saved.apply_command(path);
    let plan = &saved.plan;
    let issues =
        plan.changes.iter().any(|c| plan.runs(c) && crate::apply::secrets::yields_issued_secret(c));
    if issues && saved.secrets_dir.is_none() {
        return format!(
            "Saved the plan to {}; apply it with `{command} --secrets-dir DIR`, DIR being where the OAuth client secret it issues is written (plan with --secrets-dir to have it in the plan).",
            path.display()
        );
    }
    format!("Saved the plan to {}; apply it with `{command}`.", path.display())
}
