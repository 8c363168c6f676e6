//! `gcctl plan`: show exactly what `apply` would change.

use std::path::PathBuf;
use std::time::Instant;

use crate::cli::connect::{load_while_connecting, runtime, with_read_progress};
use crate::cli::{GlobalArgs, Outcome, SetArgs, load_set, read_summary, restore_lost_secrets};
use crate::plan::saved::SavedPlan;
use crate::plan::{self, ReadScope};
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
    /// destroy` does), keeping those declared with `protect: true`.
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

pub fn run(args: &PlanArgs, global: &GlobalArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let runtime = runtime()?;
    let load = || load_set(&args.set.paths, args.set.env.clone(), &args.set.select, printer);
    let Some((set, connection)) =
        load_while_connecting(&runtime, global, args.set.env.as_deref(), printer, load)?
    else {
        return Ok(Outcome::Failed);
    };
    let started = Instant::now();
    let (mut plan, stats) = runtime.block_on(async {
        let scope = ReadScope { caller: true, ..ReadScope::default() };
        let read = Box::pin(plan::read(&connection.client, &set, &scope));
        let live = with_read_progress(&connection.client, printer, read).await?;
        crate::cli::check_environment_org(&set, &live, global)?;
        let target = connection.target.clone().with_org(live.org.as_ref());
        let plan = if args.destroy {
            plan::build_destroy(&set, &live, target)?
        } else {
            plan::build(&set, &live, target)?.with_prune(args.prune)
        };
        anyhow::Ok((plan, connection.client.stats()))
    })?;
    printer.status(&read_summary(stats, started));
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
            .with_select(&args.set.select);
        saved.write(path)?;
        printer.status(&format!(
            "Saved the plan to {}; apply it with `{}`.",
            path.display(),
            saved.apply_command(path)
        ));
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        Outcome::Changes
    } else {
        Outcome::Success
    })
}
