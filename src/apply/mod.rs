//! Apply: execute a plan against the org, in dependency order, in parallel.
//!
//! The changes form a graph (supported content → integration → queue using
//! its address; role → OAuth client; ...), built from each change's
//! `depends_on`. Creates and updates run first: a change starts once every
//! change it depends on has succeeded, under one global bound
//! (`parallelism`) and the API client's rate limiter. A failed change marks
//! its dependents "skipped: upstream failed" while independent branches go
//! on. Deletes run last, in reverse dependency order (by kind), and only
//! when pruning was asked for.
//!
//! Everything that can be checked is checked before the first change:
//! secrets resolve, OAuth secrets have somewhere to go, the graph has no
//! cycle, and deletes target neither built-ins nor protected objects.

mod duplicates;
mod graph;
pub mod journal;
pub mod lock;
pub mod ops;
pub mod secrets;
pub mod waiting;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;

use crate::api::Client;
use crate::manifest::ManifestSet;
use crate::manifest::check::SetIndex;
use crate::plan::{Action, Change, LiveOrg, Plan};
use graph::{Run, run_graph};
use ops::{Done, OpContext, RunIds};

/// A request to stop a run (Ctrl-C, SIGTERM): no change starts after it;
/// the changes running finish within the run's grace period, or are
/// abandoned and reported as interrupted. Cloning shares the request.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    set: Arc<std::sync::atomic::AtomicBool>,
    notify: Arc<tokio::sync::Notify>,
}

impl Interrupt {
    /// Ask the run to stop.
    pub fn trigger(&self) {
        self.set.store(true, std::sync::atomic::Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub fn is_set(&self) -> bool {
        self.set.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Wait until the run is asked to stop.
    pub async fn wait(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_set() {
                return;
            }
            notified.await;
        }
    }
}

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplySettings {
    /// Execute prune deletes (otherwise they are left out).
    pub prune: bool,
    /// How many changes may run at once.
    pub parallelism: usize,
    pub secrets_dir: Option<PathBuf>,
    /// How long to wait for asynchronous creates and eventual consistency.
    pub deadline: Duration,
    /// How long an org's lists may lag a create: after a create's answer is
    /// lost, gcctl looks for the object by name for this long before it
    /// creates it again (a shorter look could duplicate it).
    pub consistency_window: Duration,
    /// How long to wait for a flow import job to end (real jobs take
    /// minutes; the provider waits up to 16).
    pub flow_job_timeout: Duration,
    /// Unlock a flow locked by someone else before publishing over it or
    /// deleting it (`--unlock-flows`). Off by default: a lock is someone's
    /// edit in progress, and gcctl refuses, naming who holds it.
    pub unlock_flows: bool,
    /// The OAuth client gcctl authenticates with (never deleted).
    pub own_client_id: Option<String>,
    /// Where creates whose outcome is unknown are recorded for the next run
    /// (see [`journal`]); `None`: not recorded.
    pub journal: Option<journal::CreateJournal>,
    /// Stops the run when triggered (see [`Interrupt`]).
    pub interrupt: Interrupt,
    /// The `gcctl plan` command for this run's org and manifests, as hints
    /// show it (see `plan::saved::RunCommand`); `None`: plain `gcctl plan`.
    pub plan_command: Option<String>,
}

impl ApplySettings {
    /// How long changes already running may take to finish once the run is
    /// interrupted; after it they are abandoned (and reported interrupted).
    pub const INTERRUPT_GRACE: Duration = Duration::from_secs(30);
}

impl ApplySettings {
    /// The default consistency window. The API reference cites list lags of
    /// about 5 s for queues and longer for OAuth clients (UNVERIFIED: no
    /// documented bound); 15 s covers what is known.
    pub const DEFAULT_CONSISTENCY_WINDOW: Duration = Duration::from_secs(15);

    /// The default wait for a flow import job: the provider polls for up
    /// to 16 minutes (API reference §h).
    pub const DEFAULT_FLOW_JOB_TIMEOUT: Duration = Duration::from_secs(16 * 60);
}

/// What happened to a change: the `event` of an `apply --output json` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// The change began (not sent for no-ops).
    Started,
    Created,
    Updated,
    Deleted,
    /// A role was granted to the caller (a planned `grant`).
    Granted,
    Unchanged,
    /// The change failed; the event carries the error.
    Failed,
    /// Not attempted: a change it depends on failed or was skipped.
    Skipped,
    /// Not started: the run was interrupted first.
    #[serde(rename = "not-started")]
    NotStarted,
    /// Running when the run was interrupted, and abandoned after the grace
    /// period: its outcome is unknown (the next run finds out).
    Interrupted,
}

impl EventKind {
    /// The word used on the wire and in progress lines.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Started => "started",
            EventKind::Created => "created",
            EventKind::Updated => "updated",
            EventKind::Deleted => "deleted",
            EventKind::Granted => "granted",
            EventKind::Unchanged => "unchanged",
            EventKind::Failed => "failed",
            EventKind::Skipped => "skipped",
            EventKind::NotStarted => "not-started",
            EventKind::Interrupted => "interrupted",
        }
    }

    /// The event of a change that succeeded with this action.
    fn done(action: Action) -> Self {
        match action {
            Action::Create => EventKind::Created,
            Action::Update => EventKind::Updated,
            Action::Delete => EventKind::Deleted,
            Action::NoOp => EventKind::Unchanged,
            Action::Grant => EventKind::Granted,
        }
    }
}

/// What happened to one change: one event of the run, serialized as one
/// line of `apply --output json`.
///
/// Invariant: `error` is set exactly for [`EventKind::Failed`], and then
/// `message` is that error on one line (the operation, then each cause).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub event: EventKind,
    /// `Kind/name` of the change.
    pub object: String,
    pub org_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Notes of a success, the upstream failure of a skip, or the error of a
    /// failure, on one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The error of a failure, with its causes, for rendering.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Failure>,
    /// The kind alone, for progress lines of changes without a manifest (a
    /// prune's `object` is `Kind/org name`, which the line shows quoted
    /// beside it); `None` for the others. Not in the JSON events, which
    /// keep `object`.
    #[serde(skip)]
    pub kind_only: Option<crate::kinds::Kind>,
}

/// Why a change failed: the operation (which names the object), then each
/// cause in the error's `source()` chain, each said once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The failed operation, e.g. `creating Role/x (POST /api/v2/authorization/roles)`.
    pub message: String,
    /// The causes, outermost first (the API's answer, with its correlation id).
    pub causes: Vec<String>,
    /// A suggestion, when the error knows one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Failure {
    /// The failure of the change to `object`: the error's chain without
    /// repetitions, prefixed with the object when the error does not name it.
    pub fn of(object: &str, err: &(dyn std::error::Error + 'static)) -> Self {
        let mut chain = crate::render::error_chain(err).into_iter();
        let first = chain.next().unwrap_or_default();
        let message = if first.contains(object) { first } else { format!("{object}: {first}") };
        let mut hint = None;
        let mut source = Some(err);
        while let Some(e) = source {
            if let Some(api) = e.downcast_ref::<crate::api::ApiError>() {
                hint = hint.or_else(|| api.hint());
            }
            source = e.source();
        }
        Failure { message, causes: chain.collect(), hint }
    }

    /// The operation and its causes on one line.
    pub fn one_line(&self) -> String {
        std::iter::once(self.message.as_str())
            .chain(self.causes.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(": ")
    }
}

/// Totals of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ApplySummary {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub unchanged: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Not started because the run was interrupted.
    pub not_started: usize,
    /// Abandoned while running because the run was interrupted.
    pub interrupted: usize,
    /// Failures of the check after the creates (a declared name with two
    /// live objects, or a list the check could not read): each is a
    /// `failed` event of a change that already had its outcome, so it is
    /// counted here, not in `failed`.
    pub checks_failed: usize,
}

impl ApplySummary {
    pub fn converged(&self) -> bool {
        self.failed == 0
            && self.skipped == 0
            && self.not_started == 0
            && self.interrupted == 0
            && self.checks_failed == 0
    }

    /// Whether the run was cut short by an interrupt.
    pub fn was_interrupted(&self) -> bool {
        self.not_started + self.interrupted > 0
    }

    fn count(&mut self, event: &Event) {
        match event.event {
            EventKind::Created => self.created += 1,
            EventKind::Updated | EventKind::Granted => self.updated += 1,
            EventKind::Deleted => self.deleted += 1,
            EventKind::Unchanged => self.unchanged += 1,
            EventKind::Failed => self.failed += 1,
            EventKind::Skipped => self.skipped += 1,
            EventKind::NotStarted => self.not_started += 1,
            EventKind::Interrupted => self.interrupted += 1,
            EventKind::Started => {}
        }
    }
}

/// The events and totals of a run with nothing to change: each object of
/// the plan unchanged. An apply that stops there reports them, so that
/// every `apply --output json` stream ends with its totals.
pub fn nothing_to_change(plan: &Plan) -> (Vec<Event>, ApplySummary) {
    let mut summary = ApplySummary::default();
    let events: Vec<Event> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::NoOp)
        .map(|c| event(c, EventKind::Unchanged, None, c.id.clone()))
        .collect();
    for e in &events {
        summary.count(e);
    }
    (events, summary)
}

/// Problems found before the first change; nothing was changed.
#[derive(Debug, thiserror::Error)]
#[error("nothing was changed: {}", .problems.join("; "))]
pub struct PreflightError {
    pub problems: Vec<String>,
}

/// Check what can be checked before changing anything.
pub fn preflight(
    plan: &Plan,
    set: &ManifestSet,
    settings: &ApplySettings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<secrets::RunSecrets, PreflightError> {
    let mut problems = Vec::new();
    let run_plan = effective(plan, settings);
    if let Some(cycle) = find_cycle(&run_plan.changes) {
        problems.push(format!("dependency cycle: {}", cycle.join(" -> ")));
    }
    for change in run_plan.changes.iter().filter(|c| c.action == Action::Delete) {
        if set.protected.contains(&(change.kind.kind(), change.org_name.clone())) {
            problems.push(format!(
                "{}: refusing to delete a protected object (protect: true)",
                change.address()
            ));
        }
    }
    // Fail closed: an environment whose manifests do not load may protect
    // any of these objects under the name it gives them.
    let deletes = run_plan.changes.iter().filter(|c| c.action == Action::Delete).count();
    if deletes > 0 {
        for unknown in &set.protection_unknown {
            problems.push(format!(
                "refusing {deletes} delete{}: `protect: true` may cover {} under the name another environment gives {}, and {unknown}; make it load (`gcctl validate --env NAME`), then run again",
                if deletes == 1 { "" } else { "s" },
                if deletes == 1 { "it" } else { "them" },
                if deletes == 1 { "it" } else { "them" },
            ));
        }
    }
    let secrets = secrets::resolve(&run_plan, set, env, settings.secrets_dir.as_deref())
        .unwrap_or_else(|mut p| {
            problems.append(&mut p);
            secrets::RunSecrets::default()
        });
    if problems.is_empty() { Ok(secrets) } else { Err(PreflightError { problems }) }
}

/// The plan as it will run: prunes only when asked for, and never of the
/// OAuth client gcctl is authenticated with (a prune scope such as `*` for
/// OAuth clients always contains it; it is left alone like a built-in,
/// rather than failing the whole run).
pub fn effective(plan: &Plan, settings: &ApplySettings) -> Plan {
    let mut plan = plan.clone();
    plan.changes.retain(|c| {
        c.action != Action::Delete
            || ((settings.prune || !c.prune)
                && !is_own_client(c, settings.own_client_id.as_deref()))
    });
    plan.prune = settings.prune;
    plan.summary = Plan::summarize(&plan.changes, settings.prune);
    plan
}

/// Ids are unique across kinds: only gcctl's own client has this one.
fn is_own_client(change: &Change, own_client_id: Option<&str>) -> bool {
    own_client_id.is_some() && change.id.as_deref() == own_client_id
}

/// Execute the plan. Events are sent to `events` as they happen (for
/// progress and `--output json`); the summary is returned.
pub async fn execute(
    plan: &Plan,
    set: &ManifestSet,
    live: &LiveOrg,
    client: &Client,
    settings: &ApplySettings,
    secrets: &secrets::RunSecrets,
    events: &mpsc::UnboundedSender<Event>,
) -> ApplySummary {
    let plan = effective(plan, settings);
    if let Some(journal) = &settings.journal {
        journal.open(settings.consistency_window * 2);
    }
    let ids = Mutex::new(RunIds::default());
    let manifests = SetIndex::new(&set.objects);
    let ctx = OpContext {
        client,
        manifests: &manifests,
        lookups: &live.lookups,
        ids: &ids,
        secrets,
        secrets_dir: settings.secrets_dir.clone(),
        deadline: settings.deadline,
        consistency_window: settings.consistency_window,
        job_deadline: settings.flow_job_timeout,
        unlock_flows: settings.unlock_flows,
        own_client_id: settings.own_client_id.clone(),
        journal: settings.journal.clone(),
        caller: live.caller.as_ref(),
        live: &live.objects,
        live_by_id: std::sync::OnceLock::new(),
        ignore_rules: &set.project.ignore_differences,
    };
    let (upserts, mut deletes): (Vec<&Change>, Vec<&Change>) =
        plan.changes.iter().partition(|c| c.action != Action::Delete);
    // Every change makes at least one call: a pool that can grow mints the tokens they
    // need while the first ones go out. The announcement ends with the upserts: those a
    // failure skipped never call, and must not count as waiting work after.
    let expected = client.expect_calls(upserts.iter().filter(|c| c.action != Action::NoOp).count());
    let mut summary = ApplySummary::default();
    let run = Run { ctx: &ctx, parallelism: settings.parallelism, interrupt: &settings.interrupt };
    let graph::Outcome { unfinished, started } =
        run_graph(&upserts, &run, events, &mut summary).await;
    drop(expected);
    if !settings.interrupt.is_set() {
        let replan = settings.plan_command.as_deref().unwrap_or("gcctl plan");
        // The kinds this run tried to create objects of (a create skipped
        // for a failure upstream made nothing to check).
        let tried: std::collections::BTreeSet<crate::kinds::LiveKind> = started
            .iter()
            .map(|&i| upserts[i])
            .filter(|c| c.action == Action::Create)
            .map(|c| c.kind)
            .collect();
        duplicates::check_duplicates(&plan, &ctx, &tried, replan, events, &mut summary).await;
    }
    // A prune waits for the creates of its kind: the object it deletes may
    // be the one a failed create renames (a declared name changed), or one
    // the org refused it as a duplicate of. Deleting it then would leave
    // the org with neither.
    // What each kind's prunes say: the creates that did not succeed, the
    // first few named.
    let mut unmade: BTreeMap<crate::kinds::LiveKind, Vec<String>> = BTreeMap::new();
    for change in unfinished.iter().map(|&i| upserts[i]).filter(|c| c.action == Action::Create) {
        unmade.entry(change.kind).or_default().push(change.address());
    }
    let held: BTreeMap<crate::kinds::LiveKind, String> = unmade
        .into_iter()
        .map(|(kind, addresses)| {
            let named = addresses.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
            let what = match addresses.len() {
                1 => format!("the create of {named} did not succeed"),
                n if n <= 3 => format!("the creates of {named} did not succeed"),
                n => format!("{n} creates of its kind did not succeed ({named}, …)"),
            };
            let message = format!(
                "not pruned: {what}, and this may be the object one renames (a prune waits for the creates of its kind; run again once they succeed)"
            );
            (kind, message)
        })
        .collect();
    let interrupted = settings.interrupt.is_set();
    deletes.retain(|change| {
        let message = (change.prune && !interrupted).then(|| held.get(&change.kind)).flatten();
        let Some(message) = message else { return true };
        send(events, &mut summary, event(change, EventKind::Skipped, Some(message.clone()), None));
        false
    });
    // Deletes last, dependents before what they depend on.
    deletes.sort_by_key(|c| std::cmp::Reverse(c.kind));
    // A prune reads its object before deleting it (`OrgKind::item_read`).
    let calls = deletes
        .iter()
        .map(|c| {
            let reads =
                c.prune && c.id.as_deref().and_then(|id| c.kind.org().item_read(id)).is_some();
            1 + usize::from(reads)
        })
        .sum();
    let _expected = (!deletes.is_empty()).then(|| client.expect_calls(calls));
    // A delete that depends on another (a destroy's, on the deletes of the
    // objects that refer to it: `plan::build_destroy`) is skipped when that
    // one did not succeed in an earlier wave: the object is still in use.
    let mut unfinished: BTreeSet<String> = BTreeSet::new();
    for wave in deletes.chunk_by(|a, b| a.kind == b.kind) {
        let mut ready: Vec<&Change> = Vec::with_capacity(wave.len());
        for change in wave {
            // After an interrupt, what did not run says so itself (`run_graph`).
            let blocked = (!settings.interrupt.is_set())
                .then(|| change.depends_on.iter().find(|d| unfinished.contains(*d)))
                .flatten();
            match blocked {
                Some(failed) => {
                    let message = Some(format!("upstream failed: {failed}"));
                    send(events, &mut summary, event(change, EventKind::Skipped, message, None));
                    unfinished.insert(change.address());
                }
                None => ready.push(change),
            }
        }
        let outcome = run_graph(&ready, &run, events, &mut summary).await;
        unfinished.extend(outcome.unfinished.iter().map(|&i| ready[i].address()));
    }
    summary
}

fn send(events: &mpsc::UnboundedSender<Event>, summary: &mut ApplySummary, event: Event) {
    summary.count(&event);
    let _ = events.send(event);
}

fn event(change: &Change, kind: EventKind, message: Option<String>, id: Option<String>) -> Event {
    Event {
        event: kind,
        object: change.address(),
        org_name: change.org_name.clone(),
        id,
        message,
        error: None,
        kind_only: (change.prune && change.manifest_name.is_none()).then_some(change.kind.kind()),
    }
}

fn done_event(change: &Change, done: &Done) -> Event {
    let message = (!done.notes.is_empty()).then(|| done.notes.join("; "));
    event(change, EventKind::done(done.action), message, done.id.clone())
}

/// A failure found after the change ran (a duplicate in the org).
fn failure_event(change: &Change, failure: Failure, id: Option<String>) -> Event {
    Event {
        message: Some(failure.one_line()),
        error: Some(failure),
        ..event(change, EventKind::Failed, None, id.or_else(|| change.id.clone()))
    }
}

fn failed_event(change: &Change, err: &ops::OpError) -> Event {
    let failure = Failure::of(&change.described(), err);
    Event {
        message: Some(failure.one_line()),
        error: Some(failure),
        // An object created before a later step failed is reported with its id.
        ..event(
            change,
            EventKind::Failed,
            None,
            err.created_id().map(str::to_string).or_else(|| change.id.clone()),
        )
    }
}

/// A dependency cycle among the changes, if any (validation rejects cycles
/// in manifests; this guards plans loaded from files).
fn find_cycle(changes: &[Change]) -> Option<Vec<String>> {
    let index: BTreeMap<String, usize> =
        changes.iter().enumerate().map(|(i, c)| (c.address(), i)).collect();
    let mut graph = petgraph::graph::DiGraph::<usize, ()>::new();
    let nodes: Vec<_> = (0..changes.len()).map(|i| graph.add_node(i)).collect();
    for (i, change) in changes.iter().enumerate() {
        for dep in change.depends_on.iter().filter_map(|d| index.get(d)) {
            graph.add_edge(nodes[i], nodes[*dep], ());
        }
    }
    petgraph::algo::toposort(&graph, None).err().map(|cycle| {
        let start = graph[cycle.node_id()];
        let mut seen = BTreeSet::new();
        let mut path = vec![changes[start].address()];
        seen.insert(start);
        let mut current = start;
        while let Some(next) = changes[current]
            .depends_on
            .iter()
            .filter_map(|d| index.get(d))
            .find(|n| !seen.contains(*n) || **n == start)
        {
            path.push(changes[*next].address());
            if *next == start || !seen.insert(*next) {
                break;
            }
            current = *next;
        }
        path
    })
}
