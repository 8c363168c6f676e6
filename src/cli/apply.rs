//! `gcctl apply`: converge the org to the manifests (or execute a saved plan).

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::sync::mpsc;

use crate::apply::{self, ApplySettings, ApplySummary, Event, EventKind};
use crate::cli::connect::{load_while_connecting, runtime};
use crate::cli::{GlobalArgs, Outcome, hinted, load_set, restore_lost_secrets};
use crate::plan::saved::SavedPlan;
use crate::plan::{self, Action, Plan, ReadScope};
use crate::printer::{Printer, Role};
use crate::render;

/// Apply the manifests to the org: compute the plan (or load a saved one),
/// show it, ask for confirmation, then create, update and (with --prune)
/// delete objects in dependency order. Safe to re-run after any failure.
#[derive(Debug, clap::Args)]
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

    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,

    /// Also delete undeclared objects inside the Project's prune scopes.
    #[arg(long)]
    pub prune: bool,

    /// How many changes may run at once.
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub parallelism: u16,

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
    /// died before writing it (a `NAME.pending.json` in --secrets-dir); only
    /// report it.
    #[arg(long)]
    pub no_restore_secrets: bool,

    /// Seconds to wait for another apply on the same org to finish (it holds
    /// the org's apply lock); 0 refuses at once, naming it.
    #[arg(long, value_name = "SECONDS", env = "GCCTL_LOCK_TIMEOUT", default_value_t = 0)]
    pub lock_timeout: u64,

    /// Seconds the org's lists may lag a create: after a lost create answer,
    /// gcctl looks the object up by name this long before creating it again.
    #[arg(long, value_name = "SECONDS", env = "GCCTL_CONSISTENCY_WINDOW", default_value_t = ApplySettings::DEFAULT_CONSISTENCY_WINDOW.as_secs())]
    pub consistency_window: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ApplyOutput {
    Text,
    Json,
}

pub fn run(args: &ApplyArgs, global: &GlobalArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let saved = args.plan.as_deref().map(SavedPlan::read).transpose()?;
    let (paths, env) = match &saved {
        Some(saved) => (saved.paths.clone(), saved.plan.environment.clone()),
        None => (args.paths.clone(), args.env.clone()),
    };
    let runtime = runtime()?;
    let load = || load_set(&paths, env, printer);
    let Some((set, connection)) = load_while_connecting(&runtime, global, printer, load)? else {
        return Ok(Outcome::Failed);
    };
    // One apply per org at a time: the lock is held from before the read
    // until the run ends (see `apply::lock`).
    let org = runtime.block_on(OrgIdentity::read(&connection.client))?;
    let on_wait = |message: &str| printer.status(&format!("gcctl: {message}"));
    let lock = apply::lock::acquire(
        &apply::lock::lock_dir(&|k| std::env::var(k).ok()),
        &org.key(&connection.client),
        &org.label,
        Duration::from_secs(args.lock_timeout),
        &on_wait,
    )?;
    runtime.block_on(async {
        let live = plan::read(
            &connection.client,
            &set,
            &ReadScope { caller: true, ..ReadScope::default() },
        )
        .await?;
        let mut plan = plan::build(&set, &live, connection.target.clone())?;
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
            prune: args.prune,
            parallelism: usize::from(args.parallelism),
            secrets_dir: args.secrets_dir.clone(),
            deadline: Duration::from_secs(args.wait_timeout),
            consistency_window: Duration::from_secs(args.consistency_window),
            own_client_id: connection.client.own_client_id(),
            journal: Some(lock.journal()),
        };
        show_plan(&plan, args, printer)?;
        let effective = apply::effective(&plan, &settings);
        if !effective.has_changes() {
            printer.status("Nothing to apply.");
            return Ok(Outcome::Success);
        }
        // Everything checkable is checked before asking, and before any change.
        let secrets = apply::preflight(&plan, &set, &settings, &|k| std::env::var(k).ok())?;
        confirm(args, printer)?;
        let (sender, receiver) = mpsc::unbounded_channel();
        let reporter = tokio::spawn(report_events(receiver, args.output, printer.clone()));
        let summary =
            apply::execute(&plan, &set, &live, &connection.client, &settings, &secrets, &sender)
                .await;
        drop(sender);
        // The reporter only ends once every event was printed.
        let _ = reporter.await;
        finish(&summary, args.output, printer)
    })
}

/// The org a run targets, from `GET /api/v2/organizations/me` (which
/// requires no permission): its stable id, and a label for messages.
struct OrgIdentity {
    id: String,
    label: String,
}

impl OrgIdentity {
    async fn read(client: &crate::api::Client) -> anyhow::Result<OrgIdentity> {
        let org = client
            .get("/api/v2/organizations/me", &[])
            .await
            .context("cannot read which org this is (GET /api/v2/organizations/me)")?;
        let text = |key: &str| {
            org.get(key).and_then(serde_json::Value::as_str).map(crate::api::untrusted::sanitize)
        };
        let Some(id) = text("id").filter(|id| !id.is_empty()) else {
            bail!("GET /api/v2/organizations/me answered without an org id");
        };
        let name = text("name").unwrap_or_default();
        let label =
            if name.is_empty() { format!("org {id}") } else { format!("org \"{name}\" ({id})") };
        Ok(OrgIdentity { id, label })
    }

    /// The lock key: the API host and the org id.
    fn key(&self, client: &crate::api::Client) -> String {
        let _ = client;
        self.id.clone()
    }
}

fn show_plan(plan: &Plan, args: &ApplyArgs, printer: &Printer) -> anyhow::Result<()> {
    if args.output == ApplyOutput::Json {
        printer.data(&render::json::apply_plan(plan))?;
        return Ok(());
    }
    printer.data(&render::text::plan(plan, printer))?;
    let prunes = plan.changes.iter().filter(|c| c.action == Action::Delete).count();
    if prunes > 0 && !args.prune {
        printer.status(&format!(
            "{prunes} prune{} in the plan will not run without --prune.",
            if prunes == 1 { "" } else { "s" }
        ));
    }
    Ok(())
}

/// Ask on a terminal; refuse without one unless --auto-approve.
fn confirm(args: &ApplyArgs, printer: &Printer) -> anyhow::Result<()> {
    if args.auto_approve {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(hinted(
            "refusing to apply without confirmation: there is no terminal to ask on",
            "review the plan, then pass --auto-approve (in CI, apply a reviewed saved plan: gcctl apply --plan FILE --auto-approve)",
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
async fn report_events(
    mut events: mpsc::UnboundedReceiver<Event>,
    output: ApplyOutput,
    printer: Printer,
) {
    while let Some(event) = events.recv().await {
        if output == ApplyOutput::Json {
            // A closed stdout ends the output, not the run: the summary write reports it.
            let _ = printer.data(&render::json::apply_event(&event));
            continue;
        }
        match (&event.event, &event.error) {
            (EventKind::Failed, Some(failure)) => {
                printer.error(&failure.message, &failure.causes, failure.hint.as_deref());
            }
            (EventKind::Unchanged, _) => {}
            (EventKind::Started, _) if !printer.progress_enabled() => {}
            _ => {
                let message =
                    event.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default();
                let id = event.id.as_deref().map(|i| format!(" (id {i})")).unwrap_or_default();
                printer.status(&format!(
                    "{} {} \"{}\"{id}{message}",
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
    printer: &Printer,
) -> anyhow::Result<Outcome> {
    let s = summary;
    let line = format!(
        "{} created, {} updated, {} deleted, {} unchanged, {} failed, {} skipped",
        s.created, s.updated, s.deleted, s.unchanged, s.failed, s.skipped
    );
    if output == ApplyOutput::Json {
        printer.data(&render::json::apply_summary(summary))?;
    } else if summary.converged() {
        printer
            .status(&format!("{} {line}.", printer.paint_stderr("Apply complete:", Role::Heading)));
    } else {
        let where_reported = match s.failed {
            0 => String::new(),
            1 => " The failure is reported above.".to_string(),
            n => format!(" The {n} failures are reported above."),
        };
        // Not a status line: an exit code of 1 always comes with its reason.
        printer.diagnostic(&format!(
            "{} {line}.{where_reported}",
            printer.paint_stderr("Apply did not converge:", Role::Error)
        ));
    }
    Ok(if summary.converged() { Outcome::Success } else { Outcome::Failed })
}
