//! `gcctl apply`: converge the org to the manifests (or execute a saved plan).

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::sync::mpsc;

use crate::apply::{self, ApplySettings, ApplySummary, Event, EventKind};
use crate::cli::connect::{load_while_connecting, runtime, with_read_progress};
use crate::cli::{GlobalArgs, Outcome, hinted, load_set, restore_lost_secrets};
use crate::manifest::select::Reach;
use crate::plan::saved::{RunCommand, SavedPlan};
use crate::plan::{self, Action, Plan, ReadScope};
use crate::printer::{Printer, Role};
use crate::render;

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

/// Delete every object the manifests declare from the org, in reverse
/// dependency order, keeping those declared with `protect: true`: for
/// preview and test orgs. Reads the org, shows the plan, asks for
/// confirmation (or --auto-approve), then deletes. `gcctl plan --destroy
/// --out FILE` saves the same plan for `gcctl apply --plan FILE`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  gcctl destroy manifests/ --env preview-42\n  gcctl plan --destroy manifests/ --out destroy.json\n  gcctl apply --plan destroy.json --auto-approve\n\nConnects with GENESYSCLOUD_REGION and GENESYSCLOUD_OAUTHCLIENT_ID + GENESYSCLOUD_OAUTHCLIENT_SECRET (or GENESYSCLOUD_ACCESS_TOKEN), or --sandbox."
)]
pub struct DestroyArgs {
    /// Manifest files or directories, read together as one set.
    #[arg(value_name = "PATHS", required = true)]
    pub paths: Vec<PathBuf>,

    /// The Project environment whose variables apply.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,

    /// Only these objects and what refers to them, transitively (repeatable;
    /// `Kind/name` with `*` and `?` globs): an object that refers to a
    /// deleted one could not stay, and nothing another declared object
    /// refers to is deleted. The plan is partial, and says so.
    #[arg(long, value_name = "KIND/NAME")]
    pub select: Vec<String>,

    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,

    /// How many deletes may run at once (default: as many as the API client
    /// keeps requests in flight).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub parallelism: Option<u16>,

    /// Output: a readable report, or one JSON event per line.
    #[arg(long, short, value_enum, default_value_t = ApplyOutput::Text)]
    pub output: ApplyOutput,

    /// Seconds to wait for another apply on the same org to finish.
    #[arg(long, value_name = "SECONDS", env = "GCCTL_LOCK_TIMEOUT", default_value_t = 0)]
    pub lock_timeout: u64,

    /// Unlock a flow that someone else has locked (checked out in
    /// Architect) before deleting it; without it, gcctl refuses and names
    /// who holds the lock.
    #[arg(long)]
    pub unlock_flows: bool,

    #[command(flatten)]
    pub connect: crate::cli::ConnectArgs,
}

/// `gcctl destroy`: an apply of the destroy plan.
pub fn destroy(
    args: &DestroyArgs,
    global: &GlobalArgs,
    printer: &Printer,
) -> anyhow::Result<Outcome> {
    let apply = ApplyArgs {
        paths: args.paths.clone(),
        plan: None,
        env: args.env.clone(),
        select: args.select.clone(),
        auto_approve: args.auto_approve,
        prune: false,
        parallelism: args.parallelism,
        secrets_dir: None,
        output: args.output,
        wait_timeout: 120,
        no_restore_secrets: true,
        lock_timeout: args.lock_timeout,
        destroy: true,
        flow_job_timeout: ApplySettings::DEFAULT_FLOW_JOB_TIMEOUT.as_secs(),
        unlock_flows: args.unlock_flows,
        connect: args.connect.clone(),
        consistency_window: ApplySettings::DEFAULT_CONSISTENCY_WINDOW.as_secs(),
    };
    run(&apply, global, printer)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ApplyOutput {
    Text,
    Json,
}

pub fn run(args: &ApplyArgs, global: &GlobalArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let printer = &printer.with_progress(args.output != ApplyOutput::Json);
    let saved = args.plan.as_deref().map(SavedPlan::read).transpose()?;
    let (paths, env, select) = match &saved {
        Some(saved) => (saved.paths.clone(), saved.plan.environment.clone(), saved.select.clone()),
        None => (args.paths.clone(), args.env.clone(), args.select.clone()),
    };
    let destroy = saved.as_ref().map_or(args.destroy, |s| s.plan.destroy);
    let reach = if destroy { Reach::Dependents } else { Reach::Dependencies };
    let runtime = runtime()?;
    let env_name = env.clone();
    let load = || load_set(&paths, env, &select, reach, printer);
    let connecting = load_while_connecting(&runtime, global, env_name.as_deref(), printer, load)?;
    let Some((set, connection)) = connecting else {
        return Ok(Outcome::Failed);
    };
    // A saved plan says whether it prunes; `--prune` cannot add prunes to it.
    let prune = match &saved {
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
            ..saved.run_command()
        },
        None => RunCommand {
            sandbox: global.sandbox,
            paths: paths.clone(),
            environment: env_name.clone(),
            select: select.clone(),
            secrets_dir: args.secrets_dir.clone(),
            prune,
            destroy,
        },
    };
    // One apply per org at a time: the lock is held from before the read
    // until the run ends (see `apply::lock`).
    let lock = runtime.block_on(async {
        let Some(org) = plan::read::read_org(&connection.client).await? else {
            bail!("GET /api/v2/organizations/me answered without an org id, so the apply lock cannot be taken");
        };
        let label = format!("org \"{}\" ({})", org.name, org.id);
        let on_wait = |message: &str| printer.status(&format!("gcctl: {message}"));
        let dir = apply::lock::lock_dir(&|k| std::env::var(k).ok());
        let timeout = Duration::from_secs(args.lock_timeout);
        anyhow::Ok(apply::lock::acquire(&dir, &org.id, &label, timeout, &on_wait).await?)
    })?;
    if let Some(warning) = lock.warning() {
        let head = printer.paint_stderr("warning:", crate::printer::Role::Warning);
        printer.status(&format!("{head} {warning}"));
    }
    let outcome = runtime.block_on(async {
        let scope = ReadScope { caller: true, ..ReadScope::default() };
        let read = Box::pin(plan::read(&connection.client, &set, &scope));
        let live = with_read_progress(&connection.client, printer, read).await?;
        crate::cli::check_environment_org(&set, live.org.as_ref(), global)?;
        let target = connection.target.clone().with_org(live.org.as_ref());
        let mut plan = if destroy {
            plan::build_destroy(&set, &live, target)?
        } else {
            plan::build(&set, &live, target)
                .map_err(|e| crate::cli::complete_commands(e, global, &paths, env_name.as_deref()))?
                .with_prune(prune)
        };
        if saved.is_some() || args.output == ApplyOutput::Json {
            plan = plan.sealed(&set, &live);
        }
        // A secret a crashed run left unrecorded is regenerated, and said so
        // (a saved plan made with the same --secrets-dir shows it too).
        let restore = !args.no_restore_secrets;
        restore_lost_secrets(&mut plan, args.secrets_dir.as_deref(), restore, printer);
        // A saved plan is checked against the fresh one, and the fresh one runs:
        // nothing edited into the file reaches the org.
        if let (Some(saved), Some(path)) = (&saved, &args.plan) {
            saved.check(path, &plan)?;
        }
        let settings = ApplySettings {
            prune,
            parallelism: args
                .parallelism
                .map_or_else(|| connection.client.max_in_flight(), usize::from),
            secrets_dir: args.secrets_dir.clone(),
            deadline: Duration::from_secs(args.wait_timeout),
            consistency_window: Duration::from_secs(args.consistency_window),
            flow_job_timeout: Duration::from_secs(args.flow_job_timeout),
            unlock_flows: args.unlock_flows,
            own_client_id: connection.client.own_client_id(),
            journal: Some(lock.journal()),
            interrupt: apply::Interrupt::default(),
            plan_command: Some(rerun.plan(None)),
        };
        show_plan(&plan, args, printer)?;
        let effective = apply::effective(&plan, &settings);
        if !effective.has_changes() {
            printer.status("Nothing to apply.");
            return Ok(Outcome::Success);
        }
        // Everything checkable is checked before asking, and before any change.
        let secrets = apply::preflight(&plan, &set, &settings, &|k| std::env::var(k).ok())?;
        confirm(args, &rerun, printer)?;
        // The first Ctrl-C (or SIGTERM) stops the run gracefully; a second exits at once.
        let watcher = tokio::spawn(watch_interrupts(settings.interrupt.clone(), printer.clone()));
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
        finish(&summary, args.output, destroy, printer)
    });
    std::mem::forget(set);
    outcome
}

/// Wait for Ctrl-C or SIGTERM: the first interrupts the run (no change
/// starts; those running get [`ApplySettings::INTERRUPT_GRACE`] to finish),
/// the second exits at once with 130.
async fn watch_interrupts(interrupt: apply::Interrupt, printer: Printer) {
    crate::cli::wait_for_signal().await;
    interrupt.trigger();
    printer.diagnostic(&format!(
        "Interrupted: no further change starts; the changes running get up to {}s to finish. Press Ctrl-C again to exit at once.",
        ApplySettings::INTERRUPT_GRACE.as_secs()
    ));
    crate::cli::wait_for_signal().await;
    printer.diagnostic("Interrupted again: exiting now; the next apply finds out what was made.");
    std::process::exit(130);
}

fn show_plan(plan: &Plan, args: &ApplyArgs, printer: &Printer) -> anyhow::Result<()> {
    if args.output == ApplyOutput::Json {
        printer.data(&render::json::apply_plan(plan))?;
        return Ok(());
    }
    // The plan says which prunes it leaves out (without --prune).
    printer.data(&render::text::plan(plan, printer))?;
    Ok(())
}

/// Ask on a terminal; refuse without one unless --auto-approve, with the
/// commands that would run this apply without asking, as they are.
fn confirm(args: &ApplyArgs, rerun: &RunCommand, printer: &Printer) -> anyhow::Result<()> {
    if args.auto_approve {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        let hint = match &args.plan {
            Some(path) => format!(
                "review the plan above, then run `{} --auto-approve`",
                rerun.apply_saved(path)
            ),
            None => {
                let file = std::path::Path::new("plan.json");
                format!(
                    "review the plan above, then run `{}`; in CI, save a plan for review with `{}` and apply it with `{} --auto-approve`",
                    rerun.apply(),
                    rerun.plan(Some(file)),
                    rerun.apply_saved(file)
                )
            }
        };
        return Err(hinted(
            "refusing to apply without confirmation: there is no terminal to ask on",
            hint,
        ));
    }
    printer.status("Apply these changes? Only 'yes' is accepted:");
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).context("cannot read the answer")?;
    if answer.trim() != "yes" {
        bail!("apply cancelled; nothing was changed");
    }
    Ok(())
}

/// Print events as they come: in JSON, every event as a line on stdout; in
/// text, progress and outcomes on stderr, each failure once as
/// `error:` / `Caused by:` / `hint:` when it happens.
///
/// On a terminal (stderr, not with `-q`), each line that ends a change
/// carries a counter and the elapsed time (`[12/35 4.2s]`), and `started`
/// lines show what is in flight.
async fn report_events(
    mut events: mpsc::UnboundedReceiver<Event>,
    output: ApplyOutput,
    printer: Printer,
    total: usize,
) {
    let started = std::time::Instant::now();
    let mut done = 0;
    while let Some(event) = events.recv().await {
        let ends = !matches!(event.event, EventKind::Started | EventKind::Unchanged);
        if ends {
            done += 1;
        }
        let progress = if printer.progress_enabled() && ends {
            format!("[{done}/{total} {:.1}s] ", started.elapsed().as_secs_f64())
        } else {
            String::new()
        };
        if output == ApplyOutput::Json {
            // A closed stdout ends the output, not the run: the summary write reports it.
            let _ = printer.data(&render::json::apply_event(&event));
            continue;
        }
        match (&event.event, &event.error) {
            (EventKind::Failed, Some(failure)) => {
                if !progress.is_empty() {
                    printer.status(&format!("{progress}failed {}", event.object));
                }
                printer.error(&failure.message, &failure.causes, failure.hint.as_deref());
            }
            (EventKind::Unchanged, _) => {}
            (EventKind::Started, _) if !printer.progress_enabled() => {}
            _ => {
                let message =
                    event.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default();
                let id = event.id.as_deref().map(|i| format!(" (id {i})")).unwrap_or_default();
                printer.status(&format!(
                    "{progress}{} {} \"{}\"{id}{message}",
                    event.event.as_str(),
                    event.object,
                    event.org_name
                ));
            }
        }
    }
}

/// The summary line; failures were reported as they happened, so the end
/// only counts them.
fn finish(
    summary: &ApplySummary,
    output: ApplyOutput,
    destroy: bool,
    printer: &Printer,
) -> anyhow::Result<Outcome> {
    let s = summary;
    let mut line = format!(
        "{} created, {} updated, {} deleted, {} unchanged, {} failed, {} skipped",
        s.created, s.updated, s.deleted, s.unchanged, s.failed, s.skipped
    );
    if s.was_interrupted() {
        line.push_str(&format!(", {} interrupted, {} not started", s.interrupted, s.not_started));
    }
    if output == ApplyOutput::Json {
        printer.data(&render::json::apply_summary(summary))?;
    } else if summary.converged() {
        printer.status(&format!(
            "{} {line}.",
            printer.paint_stderr(
                if destroy { "Destroy complete:" } else { "Apply complete:" },
                Role::Heading,
            )
        ));
    } else {
        let where_reported = match s.failed {
            0 => String::new(),
            1 => " The failure is reported above.".to_string(),
            n => format!(" The {n} failures are reported above."),
        };
        // Not a status line: an exit code other than 0 always comes with its reason.
        let heading = if s.was_interrupted() {
            "Apply interrupted (run it again to converge):"
        } else {
            "Apply did not converge:"
        };
        printer.diagnostic(&format!(
            "{} {line}.{where_reported}",
            printer.paint_stderr(heading, Role::Error)
        ));
    }
    Ok(if summary.was_interrupted() {
        Outcome::Interrupted
    } else if summary.converged() {
        Outcome::Success
    } else {
        Outcome::Failed
    })
}
