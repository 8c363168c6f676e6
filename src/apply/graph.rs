//! Running a graph of changes: each change starts once what it depends on
//! has succeeded, at most `parallelism` at once; a failure skips what
//! depends on it, and what does not depend on it goes on.
//!
//! Invariants: every change of the graph gets exactly one final event
//! (done, failed, skipped, interrupted or not started); a change starts
//! (and its `started` event is sent) only when it has a slot and no
//! interrupt was requested, so that nothing starts during the grace period.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use tokio::sync::mpsc;

use super::ops::{self, Done, OpContext, OpError};
use super::{
    ApplySettings, ApplySummary, Event, EventKind, Interrupt, done_event, event, failed_event, send,
};
use crate::plan::{Action, Change};

/// What every graph of a run shares.
pub(super) struct Run<'a> {
    pub ctx: &'a OpContext<'a>,
    pub parallelism: usize,
    pub interrupt: &'a Interrupt,
}

/// Run changes as their dependencies succeed, at most `parallelism` at once.
/// Once interrupted, nothing more starts; what runs has the grace period to
/// finish, then is abandoned; what never started is reported as such.
///
/// Ready changes wait in a queue, in the order they became ready, not in
/// running futures that would start on their own during the grace period.
///
/// A change whose kind writes some fields in a later step (see
/// `OrgKind::late_pointers`) is two nodes: the change, then its late step,
/// which also waits for the changes of `late_depends_on`. The change's
/// event is sent when its last node ends.
///
/// Returns the positions in `changes` of those that did not succeed
/// (failed, skipped, interrupted or not started).
pub(super) async fn run_graph(
    changes: &[&Change],
    run: &Run<'_>,
    events: &mpsc::UnboundedSender<Event>,
    summary: &mut ApplySummary,
) -> Outcome {
    let ctx = run.ctx;
    let graph = Graph::new(changes);
    let mut progress = Progress::new(&graph, events, summary);
    let mut running = futures::stream::FuturesUnordered::new();
    let mut grace_ends: Option<tokio::time::Instant> = None;
    loop {
        progress.look(run.interrupt);
        // Checked before each start: an interrupt stops what has not started.
        while running.len() < run.parallelism.max(1) && !run.interrupt.is_set() {
            let Some((n, change, late, id)) = progress.start_next() else { break };
            running.push(async move {
                let result = if late {
                    ops::execute_late(change, ctx, id.as_deref().unwrap_or_default()).await
                } else {
                    ops::execute(change, ctx).await
                };
                (n, result)
            });
        }
        if running.is_empty() {
            break;
        }
        let next = if let Some(deadline) = grace_ends {
            match tokio::time::timeout_at(deadline, futures::StreamExt::next(&mut running)).await {
                Ok(next) => next,
                // The grace period is over: abandon what still runs.
                Err(_) => break,
            }
        } else {
            tokio::select! {
                next = futures::StreamExt::next(&mut running) => next,
                () = run.interrupt.wait() => {
                    grace_ends = Some(tokio::time::Instant::now() + ApplySettings::INTERRUPT_GRACE);
                    continue;
                }
            }
        };
        let Some((n, result)) = next else { break };
        progress.end(n, result);
    }
    if run.interrupt.is_set() {
        drop(running);
        progress.report_unfinished();
    }
    let unfinished = progress
        .state
        .iter()
        .zip(&graph.nodes)
        .filter(|(s, _)| **s != State::Succeeded)
        .map(|(_, (i, _))| *i)
        .collect();
    // Node `i` is change `i`'s first step.
    let started = (0..changes.len())
        .filter(|&i| !matches!(progress.state[i], State::Pending | State::Ready | State::Skipped))
        .collect();
    Outcome { unfinished, started }
}

/// How the changes of a graph ended, by their positions.
pub(super) struct Outcome {
    /// Those that did not succeed (a step failed, was skipped, or did not
    /// run).
    pub unfinished: BTreeSet<usize>,
    /// Those whose first step started (it may have written to the org).
    pub started: BTreeSet<usize>,
}

/// The nodes of a graph: every change (node `i` is change `i`), then the
/// late steps, with the edges both ways.
struct Graph<'c> {
    changes: &'c [&'c Change],
    /// Each node's change, and whether the node is its late step.
    nodes: Vec<(usize, bool)>,
    /// The nodes each node waits for.
    deps: Vec<Vec<usize>>,
    /// The nodes that wait for each node.
    dependents: Vec<Vec<usize>>,
    /// The node of each change's late step, if it has one.
    late_of: Vec<Option<usize>>,
}

impl<'c> Graph<'c> {
    fn new(changes: &'c [&'c Change]) -> Self {
        let index: BTreeMap<String, usize> =
            changes.iter().enumerate().map(|(i, c)| (c.address(), i)).collect();
        let mut nodes: Vec<(usize, bool)> = (0..changes.len()).map(|i| (i, false)).collect();
        let mut deps: Vec<Vec<usize>> = changes
            .iter()
            .map(|c| c.depends_on.iter().filter_map(|d| index.get(d).copied()).collect())
            .collect();
        let mut late_of = vec![None; changes.len()];
        for (i, change) in changes.iter().enumerate() {
            if has_late_step(change) {
                let mut needs = vec![i];
                needs.extend(change.late_depends_on.iter().filter_map(|d| index.get(d).copied()));
                late_of[i] = Some(nodes.len());
                nodes.push((i, true));
                deps.push(needs);
            }
        }
        let mut dependents = vec![Vec::new(); nodes.len()];
        for (n, needs) in deps.iter().enumerate() {
            for &d in needs {
                dependents[d].push(n);
            }
        }
        Graph { changes, nodes, deps, dependents, late_of }
    }
}

/// Where the run of a graph stands, and where its events go.
struct Progress<'g, 'e> {
    graph: &'g Graph<'g>,
    events: &'e mpsc::UnboundedSender<Event>,
    summary: &'e mut ApplySummary,
    state: Vec<State>,
    /// For a skipped node: the failed node at the root of its skip.
    root: Vec<Option<usize>>,
    /// What a change whose late step is pending did so far.
    done_first: BTreeMap<usize, Done>,
    /// Nodes to look at, in plan order: all of them at first, then the
    /// dependents of each node that ends or is skipped (only they can become
    /// ready or blocked), so an end costs its dependents, not a pass over all.
    to_look_at: BTreeSet<usize>,
    /// Nodes whose dependencies succeeded, waiting for a slot.
    ready: VecDeque<usize>,
}

impl<'g, 'e> Progress<'g, 'e> {
    fn new(
        graph: &'g Graph<'g>,
        events: &'e mpsc::UnboundedSender<Event>,
        summary: &'e mut ApplySummary,
    ) -> Self {
        let count = graph.nodes.len();
        Progress {
            graph,
            events,
            summary,
            state: vec![State::Pending; count],
            root: vec![None; count],
            done_first: BTreeMap::new(),
            to_look_at: (0..count).collect(),
            ready: VecDeque::new(),
        }
    }

    /// Skip the nodes to look at that wait for a failed or skipped one, and
    /// queue those whose dependencies all succeeded (none once interrupted).
    fn look(&mut self, interrupt: &Interrupt) {
        while let Some(n) = self.to_look_at.pop_first() {
            if self.state[n] != State::Pending || interrupt.is_set() {
                continue;
            }
            let deps = &self.graph.deps[n];
            if let Some(&blocker) =
                deps.iter().find(|&&d| matches!(self.state[d], State::Failed | State::Skipped))
            {
                self.skip(n, blocker);
            } else if deps.iter().all(|&d| self.state[d] == State::Succeeded) {
                self.state[n] = State::Ready;
                self.ready.push_back(n);
            }
        }
    }

    /// Skip node `n`, which waits for the failed or skipped node `blocker`.
    fn skip(&mut self, n: usize, blocker: usize) {
        let graph = self.graph;
        self.state[n] = State::Skipped;
        // Name the change that failed, not the skip in between.
        self.root[n] = self.root[blocker].or(Some(blocker));
        let failed = graph.changes[graph.nodes[self.root[n].unwrap_or(blocker)].0].address();
        self.to_look_at.extend(&graph.dependents[n]);
        let (i, late) = graph.nodes[n];
        let change = graph.changes[i];
        let skipped = match (late, self.done_first.remove(&i)) {
            // The change itself failed: its event is sent already.
            (true, None) => return,
            (true, Some(first)) => {
                let message = format!(
                    "{} {}, but its later step was not done: upstream failed: {failed}",
                    change.address(),
                    EventKind::done(first.action).as_str()
                );
                event(change, EventKind::Skipped, Some(message), first.id)
            }
            (false, _) => {
                let message = Some(format!("upstream failed: {failed}"));
                event(change, EventKind::Skipped, message, None)
            }
        };
        send(self.events, self.summary, skipped);
    }

    /// Take the next ready node to run: its change, whether it is the late
    /// step, and the id the change's first step made.
    fn start_next(&mut self) -> Option<(usize, &'g Change, bool, Option<String>)> {
        let n = self.ready.pop_front()?;
        self.state[n] = State::Running;
        let (i, late) = self.graph.nodes[n];
        let change = self.graph.changes[i];
        if change.action != Action::NoOp && !late {
            let _ = self.events.send(event(change, EventKind::Started, None, change.id.clone()));
        }
        let id = self.done_first.get(&i).and_then(|d| d.id.clone());
        Some((n, change, late, id))
    }

    /// Record how node `n` ended and send its change's event once the
    /// change's last node has ended.
    fn end(&mut self, n: usize, result: Result<Done, OpError>) {
        let graph = self.graph;
        self.to_look_at.extend(&graph.dependents[n]);
        let (i, late) = graph.nodes[n];
        let change = graph.changes[i];
        match result {
            Ok(done) if !late && graph.late_of[i].is_some() => {
                self.state[n] = State::Succeeded;
                self.done_first.insert(i, done);
            }
            Ok(mut done) => {
                self.state[n] = State::Succeeded;
                if let Some(first) = self.done_first.remove(&i) {
                    let mut all_notes = first.notes;
                    all_notes.append(&mut done.notes);
                    done = Done { action: first.action, id: first.id, notes: all_notes };
                }
                send(self.events, self.summary, done_event(change, &done));
            }
            Err(err) => {
                self.state[n] = State::Failed;
                let mut failed = failed_event(change, &err);
                if let Some(first) = self.done_first.remove(&i) {
                    // The object exists: say so, with its id.
                    failed.id = first.id.clone().or(failed.id);
                    if let (Some(error), Some(id)) = (failed.error.as_mut(), first.id.as_deref()) {
                        error.message = format!(
                            "{} was {} (id {id}), but a later step failed: {}",
                            change.address(),
                            EventKind::done(first.action).as_str(),
                            error.message
                        );
                        failed.message = Some(error.one_line());
                    }
                }
                send(self.events, self.summary, failed);
            }
        }
    }

    /// After an interrupt: what was running is interrupted, what was pending
    /// never started.
    fn report_unfinished(&mut self) {
        let (graph, state) = (self.graph, &self.state);
        for (i, change) in graph.changes.iter().enumerate() {
            // A change with a later step is unfinished until that step ends.
            let late = graph.late_of[i].map(|n| state[n]);
            // A first step that succeeded made (or changed) the object: the
            // event says so, with its id, whatever became of the later step.
            let first = self.done_first.get(&i);
            let made = |what: &str| match first {
                Some(done) => format!(
                    "{}{}, but its later step {what}: the run was interrupted; the next run finishes it",
                    EventKind::done(done.action).as_str(),
                    done.id.as_deref().map(|id| format!(" (id {id})")).unwrap_or_default()
                ),
                None => format!(
                    "its first step was done, but its later step {what}: the run was interrupted"
                ),
            };
            let (kind, message) = match (state[i], late) {
                (State::Running, _) => (
                    EventKind::Interrupted,
                    format!(
                        "interrupted while running; the next run finds out whether it was {}",
                        match change.action {
                            Action::Delete => "deleted",
                            Action::Update => "changed",
                            _ => "made",
                        }
                    ),
                ),
                (State::Succeeded, Some(State::Running)) => {
                    (EventKind::Interrupted, made("was interrupted while running"))
                }
                (State::Pending | State::Ready, _) => {
                    (EventKind::NotStarted, "not started: the run was interrupted".to_string())
                }
                (State::Succeeded, Some(State::Pending | State::Ready)) => {
                    (EventKind::Interrupted, made("did not start"))
                }
                _ => continue,
            };
            let id = first.and_then(|d| d.id.clone()).or_else(|| change.id.clone());
            send(self.events, self.summary, event(change, kind, Some(message), id));
        }
    }
}

/// Whether a change has a later step: its kind writes late fields and the
/// change sets one (see `OrgKind::late_pointers`).
fn has_late_step(change: &Change) -> bool {
    let late = change.kind.org().late_pointers();
    matches!(change.action, Action::Create | Action::Update)
        && change.fields.iter().any(|f| {
            late.iter().any(|l| {
                f.pointer == *l || f.pointer.strip_prefix(l).is_some_and(|r| r.starts_with('/'))
            })
        })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    /// Its dependencies succeeded; it waits for a slot.
    Ready,
    Running,
    Succeeded,
    Failed,
    Skipped,
}
