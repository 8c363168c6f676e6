//! The check that ends an apply's creates: no declared name of a kind the
//! run created has two live objects (see [`check_duplicates`]); the list it
//! reads also settles the create journal's records.

use std::collections::{BTreeMap, BTreeSet};

use tokio::sync::mpsc;

use super::ops::OpContext;
use super::{ApplySummary, Event, Failure, failure_event};
use crate::kinds::LiveKind;
use crate::plan::{Action, Change, Plan};

/// After the creates: no declared name of a kind this run created (or tried
/// to: `tried`, the kinds of the creates that started; one skipped for a
/// failure upstream made nothing) has more than one live object. A duplicate (from another tool or run
/// creating the same name at the same time, or a create whose answer was
/// lost and whose object the org listed only after the consistency window)
/// is a failure of the change that declares the name, naming every id and
/// the one this run created, so a run never ends `0 failed` with a duplicate
/// the org already lists. Lists can lag: the next plan checks again (and
/// refuses to pick one).
pub(super) async fn check_duplicates(
    plan: &Plan,
    ctx: &OpContext<'_>,
    tried: &BTreeSet<LiveKind>,
    replan: &str,
    events: &mpsc::UnboundedSender<Event>,
    summary: &mut ApplySummary,
) {
    let kinds: BTreeSet<LiveKind> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Create && tried.contains(&c.kind))
        .map(|c| c.kind)
        .collect();
    // Every kind's list at once, each expecting what the plan read plus what
    // this run created: a list's pages all go out in one round trip.
    let lists = futures::future::join_all(kinds.iter().map(|kind| {
        let before = ctx.live.get(&kind.kind()).map_or(0, Vec::len);
        let created =
            plan.changes.iter().filter(|c| c.kind == *kind && c.action == Action::Create).count();
        let expected = u64::try_from(before + created).unwrap_or(u64::MAX);
        crate::plan::read::list_kind_expecting(
            ctx.client,
            *kind,
            expected,
            crate::api::Pages::default(),
        )
    }))
    .await;
    for (kind, listed) in kinds.into_iter().zip(lists) {
        let declared = plan.changes.iter().filter(|c| c.kind == kind && c.manifest_name.is_some());
        let live = match listed {
            Ok(live) => live,
            Err(err) => {
                // The check could not run: say so, on the first declared change.
                if let Some(change) = declared.clone().next() {
                    let failure = Failure {
                        message: format!(
                            "{}: cannot check the org for duplicate {kind} objects after this run",
                            change.address()
                        ),
                        causes: crate::render::error_chain(&err),
                        hint: Some(format!(
                            "run `{replan}`: it refuses to plan while a name has two objects"
                        )),
                    };
                    check_failed(events, summary, failure_event(change, failure, None));
                }
                continue;
            }
        };
        forget_listed_creates(plan, ctx, kind, &live).await;
        let mut by_name: BTreeMap<&str, Vec<&serde_json::Value>> = BTreeMap::new();
        for object in &live {
            if let Some(name) = object.get("name").and_then(serde_json::Value::as_str) {
                by_name.entry(name).or_default().push(object);
            }
        }
        for change in declared {
            if let Some((failure, created)) = duplicated(change, kind, &by_name, ctx, replan) {
                check_failed(events, summary, failure_event(change, failure, created));
            }
        }
    }
}

/// Report a failure of the check: an event of a change that already had
/// its outcome (counted in [`ApplySummary::checks_failed`], not twice).
fn check_failed(events: &mpsc::UnboundedSender<Event>, summary: &mut ApplySummary, event: Event) {
    summary.checks_failed += 1;
    let _ = events.send(event);
}

/// The failure of a declared change whose name (and natural key beyond it:
/// a flow's type) more than one live object of `by_name` holds, and the id
/// this run created of them, if any; `None` when at most one does.
fn duplicated(
    change: &Change,
    kind: LiveKind,
    by_name: &BTreeMap<&str, Vec<&serde_json::Value>>,
    ctx: &OpContext<'_>,
    replan: &str,
) -> Option<(Failure, Option<String>)> {
    let spec = change
        .manifest_name
        .as_deref()
        .and_then(|n| ctx.manifests.get(kind.kind(), n))
        .map(|o| o.spec.as_ref());
    let ids: Vec<&str> = by_name
        .get(change.org_name.as_str())
        .into_iter()
        .flatten()
        .filter(|o| spec.is_none_or(|spec| kind.org().matches(spec, o)))
        .filter_map(|o| o.get("id").and_then(serde_json::Value::as_str))
        .collect();
    if ids.len() < 2 {
        return None;
    }
    let created = ctx.ids.lock().ok().and_then(|ids| {
        ids.created(crate::kinds::RefTarget::Kind(kind.kind()), &change.org_name)
            .map(str::to_string)
    });
    let by_us = created.as_deref().map_or_else(
        || "; this run created none of them".to_string(),
        |id| format!("; this run created {id}"),
    );
    let collection = kind.org().api().collection;
    let failure = Failure {
        message: format!(
            "{}: after this run {} live {kind} objects are named `{}` (ids {}{by_us})",
            change.address(),
            ids.len(),
            change.org_name,
            crate::api::untrusted::visible(&ids.join(", "))
        ),
        causes: vec![format!("seen in GET {collection}")],
        hint: Some(format!(
            "keep one and delete the others (DELETE {collection}/ID{}); until then `{replan}` refuses to choose between them",
            kind.org()
                .before_delete_by_hand()
                .map(|first| format!("; {first}"))
                .unwrap_or_default()
        )),
    };
    Some((failure, created))
}

/// The creates of `kind` this run made that `live` (a list read after them)
/// shows are settled: their journal entries go (see [`journal`](super::journal)).
async fn forget_listed_creates(
    plan: &Plan,
    ctx: &OpContext<'_>,
    kind: LiveKind,
    live: &[serde_json::Value],
) {
    let Some(journal) = &ctx.journal else { return };
    let listed: BTreeSet<&str> =
        live.iter().filter_map(|o| o.get("id").and_then(serde_json::Value::as_str)).collect();
    let target = crate::kinds::RefTarget::Kind(kind.kind());
    let settled: Vec<&str> = {
        let Ok(ids) = ctx.ids.lock() else { return };
        plan.changes
            .iter()
            .filter(|c| c.kind == kind && c.action == Action::Create)
            .filter(|c| ids.created(target, &c.org_name).is_some_and(|id| listed.contains(id)))
            .map(|c| c.org_name.as_str())
            .collect()
    };
    journal.forget_all(kind.kind(), settled).await;
}
