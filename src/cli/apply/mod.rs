//! `gcctl apply`: converge the org to the manifests (or execute a saved plan).

mod terminal;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use tokio::sync::mpsc;

use crate::apply::lock::OrgLock;
use crate::apply::{self, ApplySettings};
use crate::cli::connect::{load_while_connecting, runtime, with_read_progress};
use crate::cli::{GlobalArgs, Outcome, hinted, load_set, restore_lost_secrets};
use crate::manifest::ManifestSet;
use crate::manifest::select::Reach;
use crate::plan::saved::{RunCommand, SavedPlan};
use crate::plan::{self, Action, LiveOrg, Plan, PlanTarget, ReadScope};
use crate::printer::Printer;
use terminal::{Phase, confirm, finish, report_events, show_plan, watch_interrupts};

/// Apply the manifests to the org: compute the plan (or load a saved one),
/// show it, ask for confirmation, then create, update and (with --prune)
/// delete objects in dependency order. Safe to re-run after any failure.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gcctl --sandbox apply --auto-approve --secrets-dir .gcctl/secrets manifests/\n  gcctl plan manifests/ --env prod --out plan.json\n  gcctl apply --plan plan.json --auto-approve\n\nConnects with GENESYSCLOUD_REGION and GENESYSCLOUD_OAUTHCLIENT_ID + GENESYSCLOUD_OAUTHCLIENT_SECRET (or GENESYSCLOUD_ACCESS_TOKEN), or --sandbox."
)]
pub struct ApplyArgs {
    /// Manifest files or directories, read together as one set.
    #[arg(value_name = "PATHS", required_unless_present = "plan", conflicts_with = "plan")]
    pub paths: Vec<PathBuf>,

    /// Apply this saved plan (`gcctl plan --out FILE`), checked first: it is
    /// refused unless it equals the plan computed now (same target, the
    /// manifests and every live object unchanged, the same changes).
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,

    /// The Project environment whose variables apply.
    #[arg(long, value_name = "NAME", conflicts_with = "plan")]
    pub env: Option<String>,

    /// Only these objects and what they refer to (repeatable; `Kind/name`
    /// with `*` and `?` globs). The result is partial: prunes are left out.
    #[arg(long, value_name = "KIND/NAME", conflicts_with = "plan")]
    pub select: Vec<String>,

    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,

    /// Also delete undeclared objects inside the Project's prune scopes (as
    /// `plan --prune` shows). A saved plan prunes when it was made with
    /// `--prune`.
    #[arg(long)]
    pub prune: bool,

    /// How many changes may run at once (default: as many as the API client
    /// keeps requests in flight: 20 on one token, a token's burst (295 at 300
    /// a minute) per token of the pool at its largest).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub parallelism: Option<u16>,

    /// Where new OAuth client secrets are written (one JSON file per client,
    /// mode 0600). Required when a client is created or its secret rotated.
    #[arg(long, value_name = "DIR")]
    pub secrets_dir: Option<PathBuf>,

    /// Output: a readable report, or one JSON event per line.
    #[arg(long, short, value_enum, default_value_t = ApplyOutput::Text)]
    pub output: ApplyOutput,

    /// Seconds to wait for asynchronous creates and eventual consistency.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub wait_timeout: u64,

    /// Do not regenerate the secret of an OAuth client whose creating run
    /// died before writing it (the org marks such a client until its secret
    /// is written); only report it.
    #[arg(long)]
    pub no_restore_secrets: bool,

    #[command(flatten)]
    pub connect: crate::cli::ConnectArgs,

    /// Seconds to wait for another apply on the same org to finish (it holds
    /// the org's apply lock); 0 refuses at once, naming it.
    #[arg(long, value_name = "SECONDS", env = "GCCTL_LOCK_TIMEOUT", default_value_t = 0)]
    pub lock_timeout: u64,

    /// Delete the declared objects instead (`gcctl destroy`).
    #[arg(skip)]
    pub destroy: bool,

    /// Seconds the org's lists may lag a create: after a lost create answer,
    /// gcctl looks the object up by name this long before creating it again.
    #[arg(long, value_name = "SECONDS", env = "GCCTL_CONSISTENCY_WINDOW", default_value_t = ApplySettings::DEFAULT_CONSISTENCY_WINDOW.as_secs())]
    pub consistency_window: u64,

    /// Seconds to wait for each flow import job (register, upload, then the
    /// org runs the job; real jobs take minutes).
    #[arg(long, value_name = "SECONDS", env = "GCCTL_FLOW_JOB_TIMEOUT", default_value_t = ApplySettings::DEFAULT_FLOW_JOB_TIMEOUT.as_secs())]
    pub flow_job_timeout: u64,

    /// Unlock a flow that someone else has locked (checked out in
    /// Architect) before publishing over it or deleting it. Without it,
    /// gcctl refuses and names who holds the lock: their unsaved edit may be
    /// lost when the flow is unlocked.
    #[arg(long)]
    pub unlock_flows: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ApplyOutput {
    Text,
    Json,
}

pub fn run(args: &ApplyArgs, global: &GlobalArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let printer = &printer.with_progress(args.output != ApplyOutput::Json);
    let run = Invocation::new(args, global)?;
    let reach = if run.destroy { Reach::Dependents } else { Reach::Dependencies };
    let runtime = runtime()?;
    // Interrupts are watched from the start (see `watch_interrupts`).
    let (interrupt, phase) = (apply::Interrupt::default(), Phase::default());
    let watcher =
        runtime.spawn(watch_interrupts(interrupt.clone(), phase.clone(), printer.clone()));
    let load = || load_set(&run.paths, run.env.clone(), &run.select, reach, printer);
    let connecting = load_while_connecting(&runtime, global, run.env.as_deref(), printer, load)?;
    let Some((set, connection)) = connecting else {
        return Ok(Outcome::Failed);
    };
    // One apply per org at a time: the lock is held from before the read
    // until the run ends (see `apply::lock`).
    let lock = runtime.block_on(take_lock(&connection.client, args.lock_timeout, printer))?;
    if let Some(warning) = lock.warning() {
        let head = printer.paint_stderr("warning:", crate::printer::Role::Warning);
        printer.status(&format!("{head} {}", crate::api::untrusted::visible(&warning)));
    }
    let outcome = runtime.block_on(async {
        // As plan: a saved plan and JSON output fingerprint the live objects.
        let lean = !run.destroy && run.saved.is_none() && args.output != ApplyOutput::Json;
        let scope = ReadScope { caller: true, lean, destroy: run.destroy, ..ReadScope::default() };
        let read = Box::pin(plan::read(&connection.client, &set, &scope));
        let live = with_read_progress(&connection.client, printer, read).await?;
        crate::cli::check_environment_org(&set, live.org.as_ref(), global)?;
        let target = connection.target.clone().with_org(live.org.as_ref());
        let plan = fresh_plan(args, &run, global, &set, &live, target, printer)?;
        let settings = settings(args, &run, &connection.client, &lock, interrupt);
        show_plan(&plan, args, printer)?;
        let effective = apply::effective(&plan, &settings);
        if !effective.has_changes() {
            printer.status(if run.destroy { "Nothing to destroy." } else { "Nothing to apply." });
            if args.output == ApplyOutput::Json {
                // The stream ends with the run's totals, as every run's does.
                let (events, summary) = apply::nothing_to_change(&effective);
                for event in &events {
                    printer.data(&crate::render::json::apply_event(event))?;
                }
                printer.data(&crate::render::json::apply_summary(&summary, false))?;
            }
            return Ok(Outcome::Success);
        }
        // Everything checkable is checked before asking, and before any change.
        // With JSON output, a refusal still ends the stream with the totals.
        let checked = apply::preflight(&plan, &set, &settings, &|k| std::env::var(k).ok())
            .map_err(anyhow::Error::from)
            .and_then(|secrets| confirm(args, &run.rerun, printer).map(|()| secrets));
        let secrets = match checked {
            Ok(secrets) => secrets,
            Err(err) => {
                if args.output == ApplyOutput::Json {
                    let first = err.to_string();
                    let first = first.lines().next().unwrap_or_default();
                    printer.data(&crate::render::json::apply_refused(first))?;
                }
                return Err(err);
            }
        };
        // From here the first Ctrl-C (or SIGTERM) stops the run gracefully; a
        // second exits at once.
        phase.start_applying().await;
        let (sender, receiver) = mpsc::unbounded_channel();
        let total = effective.changes.iter().filter(|c| c.action != Action::NoOp).count();
        let reporter = tokio::spawn(report_events(receiver, args.output, printer.clone(), total));
        let summary =
            apply::execute(&plan, &set, &live, &connection.client, &settings, &secrets, &sender)
                .await;
        drop(sender);
        // The reporter only ends once every event was printed.
        let _ = reporter.await;
        watcher.abort();
        // The process ends soon: freeing the live org, the plan and the client's idle
        // connections one by one would cost a large apply tens of milliseconds for nothing.
        // (An in-process `--sandbox` org is still dropped: it lets go of its state file.)
        std::mem::forget((live, plan, effective, connection.client));
        finish(&summary, args.output, run.destroy, settings.interrupt.is_set(), printer)
    });
    std::mem::forget(set);
    outcome
}

/// The plan this apply runs, made now from the org just read.
fn fresh_plan(
    args: &ApplyArgs,
    run: &Invocation,
    global: &GlobalArgs,
    set: &ManifestSet,
    live: &LiveOrg,
    target: PlanTarget,
    printer: &Printer,
) -> anyhow::Result<Plan> {
    let mut plan = if run.destroy {
        plan::build_destroy(set, live, target)?
    } else {
        plan::build(set, live, target)
            .map_err(|e| crate::cli::complete_commands(e, global, &run.paths, run.env.as_deref()))?
            .with_prune(run.prune)
    };
    if run.saved.is_some() || args.output == ApplyOutput::Json {
        plan = plan.sealed(set, live);
    }
    // A secret a crashed run left unrecorded is regenerated, and said so
    // (a saved plan made with the same --secrets-dir shows it too).
    // A plan saved with --no-restore-secrets is applied as it was made.
    let saved_no_restore = run.saved.as_ref().is_some_and(|s| s.no_restore_secrets);
    let restore = !(args.no_restore_secrets || saved_no_restore);
    restore_lost_secrets(&mut plan, args.secrets_dir.as_deref(), restore, printer);
    // A saved plan is checked against the fresh one, and the fresh one runs:
    // nothing edited into the file reaches the org.
    if let (Some(saved), Some(path)) = (&run.saved, &args.plan) {
        let given =
            args.secrets_dir.as_ref().filter(|dir| saved.secrets_dir.as_ref() != Some(*dir));
        match (saved.check(path, &plan), given) {
            (Ok(()), _) => {}
            // What a plan does with an unrecorded secret depends on the
            // directory: another one is the likely cause, and the plan to
            // make again is with it.
            (Err(err), Some(given)) => {
                let made = match &saved.secrets_dir {
                    Some(dir) => format!("with --secrets-dir {}", dir.display()),
                    None => "without --secrets-dir".to_string(),
                };
                return Err(hinted(
                    format!(
                        "{err}; the plan was made {made}, and this run gives --secrets-dir {}",
                        given.display()
                    ),
                    format!(
                        "nothing was changed; plan again with `{}`, review the new plan, then apply it",
                        run.rerun.plan(Some(path))
                    ),
                ));
            }
            (Err(err), None) => return Err(err.into()),
        }
    }
    Ok(plan)
}

/// What this apply runs: the manifests and options given, or those of the
/// saved plan, and the commands that run it again.
struct Invocation {
    saved: Option<SavedPlan>,
    paths: Vec<PathBuf>,
    env: Option<String>,
    select: Vec<String>,
    destroy: bool,
    prune: bool,
    rerun: RunCommand,
}

impl Invocation {
    fn new(args: &ApplyArgs, global: &GlobalArgs) -> anyhow::Result<Invocation> {
        let saved = args.plan.as_deref().map(SavedPlan::read).transpose()?;
        if let (Some(saved), Some(file)) = (&saved, &args.plan) {
            // Relative paths are the directory `gcctl plan` ran in's.
            if let Some(gone) = saved.paths.iter().find(|p| !p.exists()) {
                let here = std::env::current_dir()
                    .map_or_else(|_| "here".to_string(), |d| d.display().to_string());
                return Err(hinted(
                    format!(
                        "{} names the manifests at {}, which is not there from {here}",
                        file.display(),
                        gone.display()
                    ),
                    "a saved plan's manifest paths are read from the directory it was made in, as `gcctl plan` was given them: run the apply from there",
                ));
            }
        }
        let (paths, env, select) = match &saved {
            Some(saved) => {
                (saved.paths.clone(), saved.plan.environment.clone(), saved.select.clone())
            }
            None => (args.paths.clone(), args.env.clone(), args.select.clone()),
        };
        // `apply plan.json` for `apply --plan plan.json`: said, not loaded as
        // manifests (which reports every key of the plan as a mistake).
        if saved.is_none() {
            crate::cli::refuse_saved_plans(&args.paths)?;
        }
        let destroy = saved.as_ref().map_or(args.destroy, |s| s.plan.destroy);
        // A saved plan says whether it prunes; `--prune` cannot add prunes to it.
        let prune = match &saved {
            Some(saved) if args.prune && !saved.plan.select.is_empty() => {
                return Err(hinted(
                    "the saved plan was made with --select, so it deletes nothing",
                    "a partial plan never prunes: plan the whole set with --prune (without --select) to review the deletes, and save that plan".to_string(),
                ));
            }
            Some(saved) if args.prune && !saved.plan.prune => {
                return Err(hinted(
                    "the saved plan was made without --prune, so it deletes nothing",
                    format!(
                        "plan again with --prune to review the deletes: `{} --prune`",
                        saved.replan_command(
                            args.plan.as_deref().unwrap_or(std::path::Path::new("plan.json"))
                        )
                    ),
                ));
            }
            Some(saved) => saved.plan.prune,
            None => args.prune,
        };
        let rerun = match &saved {
            Some(saved) => RunCommand {
                secrets_dir: args.secrets_dir.clone().or_else(|| saved.secrets_dir.clone()),
                no_restore_secrets: args.no_restore_secrets || saved.no_restore_secrets,
                ..saved.run_command()
            },
            None => RunCommand {
                sandbox: global.sandbox,
                paths: paths.clone(),
                environment: env.clone(),
                select: select.clone(),
                secrets_dir: args.secrets_dir.clone(),
                no_restore_secrets: args.no_restore_secrets,
                prune,
                destroy,
            },
        };
        Ok(Invocation { saved, paths, env, select, destroy, prune, rerun })
    }
}

/// Take the org's apply lock, waiting up to `timeout_secs` for another apply
/// that holds it.
async fn take_lock(
    client: &crate::api::Client,
    timeout_secs: u64,
    printer: &Printer,
) -> anyhow::Result<OrgLock> {
    let Some(org) = plan::read::read_org(client).await? else {
        bail!(
            "GET /api/v2/organizations/me answered without an org id, so the apply lock cannot be taken"
        );
    };
    // The org's own text, in the lock's label and the messages while waiting.
    let label = format!(
        "org {} ({})",
        crate::api::untrusted::quoted(&org.name),
        crate::api::untrusted::visible(&org.id)
    );
    let on_wait = |message: &str| printer.status(&format!("gcctl: {message}"));
    let dir = apply::lock::lock_dir(&|k| std::env::var(k).ok());
    let timeout = Duration::from_secs(timeout_secs);
    Ok(apply::lock::acquire(&dir, &org.id, &label, timeout, &on_wait).await?)
}

fn settings(
    args: &ApplyArgs,
    run: &Invocation,
    client: &crate::api::Client,
    lock: &OrgLock,
    interrupt: apply::Interrupt,
) -> ApplySettings {
    ApplySettings {
        prune: run.prune,
        parallelism: args.parallelism.map_or_else(|| client.max_in_flight(), usize::from),
        secrets_dir: args.secrets_dir.clone(),
        deadline: Duration::from_secs(args.wait_timeout),
        consistency_window: Duration::from_secs(args.consistency_window),
        flow_job_timeout: Duration::from_secs(args.flow_job_timeout),
        unlock_flows: args.unlock_flows,
        own_client_id: client.own_client_id(),
        journal: Some(lock.journal()),
        interrupt,
        plan_command: Some(run.rerun.plan(None)),
    }
}
