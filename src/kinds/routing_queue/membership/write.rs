//! Writing a queue's members and wrap-up codes (see the parent module's
//! "Written" section): removes before adds in batches of [`BATCH`], polling
//! until the asynchronous processing shows, ring numbers patched where they
//! differ; codes removed one at a time and added [`BATCH`] a call.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

use serde_json::{Value, json};

use super::{BATCH, MembershipPolicy, PAGE, codes_path, members_path};
use crate::apply::ops::{Op, OpError};
use crate::kinds::{Kind, RefTarget};
use crate::kinds::org::IdResolver;

/// How a listing of a queue's sub-resource is read.
enum Listing<'a> {
    /// Every page an offset listing announces (wrap-up codes).
    Offset,
    /// Page by page until an empty page, or until every wanted id has shown
    /// (members: [`crate::api::Client::list_until_seen`]).
    UntilSeen(Option<&'a HashSet<&'a str>>),
}

/// Read a listing of a queue that may have just been made: retried on 404
/// while the queue is not visible yet (read-after-write), until the deadline.
async fn read_when_found(
    op: &Op<'_>,
    path: &str,
    query: &[(&str, String)],
    listing: &Listing<'_>,
    doing: &str,
) -> Result<Vec<Value>, OpError> {
    match listing {
        Listing::UntilSeen(wanted) => op.list_until_seen_when_found(path, query, PAGE, *wanted, doing).await,
        Listing::Offset => op.list_all_when_found(path, query, PAGE, doing).await,
    }
}

/// POST a batch to a queue's sub-resource; for a queue this run created,
/// retried on 404 while the queue trails in the API.
async fn post_batch(op: &Op<'_>, path: &str, body: &Value, fresh: bool, doing: &str) -> Result<Value, OpError> {
    if fresh {
        op.post_repeatable_when_found(path, body, doing).await
    } else {
        op.post_repeatable_with(path, body, doing).await
    }
}

fn ids_of(entities: &[Value]) -> BTreeMap<String, i64> {
    entities
        .iter()
        .filter_map(|e| {
            let ring = e.get("ringNumber").and_then(Value::as_i64).unwrap_or(1);
            Some((e.get("id")?.as_str()?.to_string(), ring))
        })
        .collect()
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") }
}

/// A note of what was done, the counts that are not zero only
/// (`added 2 members, set 1 ring number`); none when nothing was.
fn changed(counts: &[(&str, usize, &str)]) -> Vec<String> {
    let parts: Vec<String> = counts
        .iter()
        .filter(|(_, n, _)| *n > 0)
        .map(|(verb, n, what)| format!("{verb} {}", plural(*n, what)))
        .collect();
    if parts.is_empty() { Vec::new() } else { vec![parts.join(", ")] }
}

/// Bring the queue's direct members to the desired state (see the module
/// docs); returns notes for the report. `fresh`: the queue was created by
/// this run (not adopted), so it has no direct members yet and nothing is
/// read before the adds; it can have members through groups only if
/// `memberGroups` are declared.
pub async fn apply_members(op: &Op<'_>, queue: &str, fresh: bool) -> Result<Vec<String>, OpError> {
    let Some(declared) = op.desired.get("members").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    let exact = op.desired.get("membership").and_then(Value::as_str)
        == Some(policy_name(MembershipPolicy::Exact));
    let wanted = wanted_members(op, declared)?;
    let path = members_path(queue);
    let user = [("memberBy", "user".to_string())];
    let wanted_ids: HashSet<&str> = wanted.iter().map(|(id, _)| id.as_str()).collect();
    let direct = if fresh {
        BTreeMap::new()
    } else {
        // `exact` must see every direct member to remove the others;
        // `include` needs only the declared ones (and their ring numbers).
        let listing = Listing::UntilSeen(if exact { None } else { Some(&wanted_ids) });
        ids_of(&read_when_found(op, &path, &user, &listing, "reading the members of").await?)
    };
    let not_direct: HashSet<&str> =
        wanted_ids.iter().copied().filter(|id| !direct.contains_key(*id)).collect();
    let groups_declared =
        op.desired.get("memberGroups").and_then(Value::as_array).is_some_and(|g| !g.is_empty());
    let grouped: BTreeSet<String> = if !not_direct.is_empty() && (groups_declared || !fresh) {
        let group = [("memberBy", "group".to_string())];
        let listing = Listing::UntilSeen(Some(&not_direct));
        let entities = read_when_found(op, &path, &group, &listing, "reading the group members of").await?;
        ids_of(&entities).into_keys().collect()
    } else {
        BTreeSet::new()
    };
    let removes: Vec<&String> =
        if exact { direct.keys().filter(|id| !wanted_ids.contains(id.as_str())).collect() } else { Vec::new() };
    let adds: Vec<&String> = wanted
        .iter()
        .map(|(id, _)| id)
        .filter(|id| !direct.contains_key(*id) && !grouped.contains(*id))
        .collect();
    // Removes before adds, as the provider does.
    for batch in removes.chunks(BATCH) {
        let body: Vec<Value> = batch.iter().map(|id| json!({ "id": id })).collect();
        let query = [("delete", "true".to_string())];
        op.post_repeatable_query(&path, &query, &Value::Array(body), "removing members from").await?;
    }
    for batch in adds.chunks(BATCH) {
        let body: Vec<Value> = batch.iter().map(|id| json!({ "id": id })).collect();
        post_batch(op, &path, &Value::Array(body), fresh, "adding members to").await?;
    }
    if !adds.is_empty() || !removes.is_empty() {
        wait_until_processed(op, &path, &adds, &removes).await?;
    }
    let rings = set_rings(op, &path, &wanted, &direct, &grouped).await?;
    let mut notes = changed(&[
        ("added", adds.len(), "member"),
        ("removed", removes.len(), "member"),
        ("set", rings, "ring number"),
    ]);
    // The plan said so too (`rings_through_groups`); a queue created now
    // had no plan-time members to tell.
    let unset: Vec<&str> = declared
        .iter()
        .zip(&wanted)
        .filter(|(_, (id, ring))| ring.is_some() && grouped.contains(id) && !direct.contains_key(id))
        .filter_map(|(member, _)| member.get("email").and_then(Value::as_str))
        .collect();
    if !unset.is_empty() {
        notes.push(format!(
            "left {} unset: {} {} of the queue only through a member group",
            plural(unset.len(), "declared ring number"),
            unset.join(", "),
            if unset.len() == 1 { "is a member" } else { "are members" }
        ));
    }
    Ok(notes)
}

/// The declared members as user ids (found by email) with their declared
/// ring numbers.
fn wanted_members(op: &Op<'_>, declared: &[Value]) -> Result<Vec<(String, Option<i64>)>, OpError> {
    let ids = op.ids();
    let mut wanted = Vec::new();
    for member in declared {
        let email = member.get("email").and_then(Value::as_str).unwrap_or_default();
        let id = ids
            .id(RefTarget::User, email)
            .ok_or_else(|| op.fail(format!("no active user has the email `{email}`")))?;
        wanted.push((id, member.get("ringNumber").and_then(Value::as_i64)));
    }
    Ok(wanted)
}

/// Set the declared ring numbers that differ from the direct members' (a
/// member added now is at ring 1; a member through a group is left alone);
/// how many were set.
async fn set_rings(
    op: &Op<'_>,
    path: &str,
    wanted: &[(String, Option<i64>)],
    direct: &BTreeMap<String, i64>,
    grouped: &BTreeSet<String>,
) -> Result<usize, OpError> {
    let mut rings = 0;
    for (id, ring) in wanted {
        let Some(ring) = ring else { continue };
        let current = direct.get(id).copied().unwrap_or(1);
        if current != *ring && !grouped.contains(id) {
            let body = json!({ "id": id, "ringNumber": ring });
            op.patch_when_found(&format!("{path}/{id}"), &body, "setting a ring number of").await?;
            rings += 1;
        }
    }
    Ok(rings)
}

fn policy_name(policy: MembershipPolicy) -> &'static str {
    match policy {
        MembershipPolicy::Include => "include",
        MembershipPolicy::Exact => "exact",
    }
}

/// Poll the direct members until the adds show and the removes are gone:
/// `POST …/members` is processed asynchronously.
async fn wait_until_processed(
    op: &Op<'_>,
    path: &str,
    adds: &[&String],
    removes: &[&String],
) -> Result<(), OpError> {
    let why = format!(
        "waiting for the member changes to show in GET {path} (the org processes them asynchronously; --wait-timeout {}s)",
        op.deadline().as_secs()
    );
    let mut waiting = op.waiting(why, op.deadline(), Duration::from_millis(50));
    let user = [("memberBy", "user".to_string())];
    // Adds alone show on the pages that hold them; a remove is only known
    // done when the whole listing lacks it.
    let added: HashSet<&str> = adds.iter().map(|id| id.as_str()).collect();
    let wanted = if removes.is_empty() { Some(&added) } else { None };
    loop {
        let now = ids_of(&op.list_until_seen(path, &user, PAGE, wanted, "reading the members of").await?);
        let done = adds.iter().all(|id| now.contains_key(*id))
            && removes.iter().all(|id| !now.contains_key(*id));
        if done {
            return Ok(());
        }
        if waiting.is_over() {
            // What is left undone, so that the failure does not read as if
            // nothing (or everything) was written.
            let unseen = adds.iter().filter(|id| !now.contains_key(**id)).count();
            let staying = removes.iter().filter(|id| now.contains_key(**id)).count();
            let mut pending = Vec::new();
            if unseen > 0 {
                pending.push(format!("{unseen} of {} members added do not show yet", adds.len()));
            }
            if staying > 0 {
                pending.push(format!("{staying} of {} members removed still show", removes.len()));
            }
            return Err(op.fail(format!(
                "the member changes were not processed within {} s (the API processes them asynchronously): {}; the ring numbers and wrap-up codes declared after them were not written; run apply again to finish",
                op.deadline().as_secs(),
                pending.join(", ")
            )));
        }
        waiting.pause().await;
    }
}

/// Bring the queue's wrap-up codes to exactly the declared ones; returns
/// notes for the report. `fresh`: the queue was created by this run (not
/// adopted) and offers no codes yet, so nothing is read before the adds.
pub async fn apply_codes(op: &Op<'_>, queue: &str, fresh: bool) -> Result<Vec<String>, OpError> {
    let Some(declared) = op.desired.get("wrapupCodes").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    let ids = op.ids();
    let target = RefTarget::Kind(Kind::RoutingWrapupCode);
    let mut wanted = BTreeSet::new();
    for name in declared.iter().filter_map(Value::as_str) {
        let id = ids.id(target, name).ok_or_else(|| op.fail(format!("wrap-up code `{name}` has no id")))?;
        wanted.insert(id);
    }
    let path = codes_path(queue);
    let current: BTreeSet<String> = if fresh {
        BTreeSet::new()
    } else {
        read_when_found(op, &path, &[], &Listing::Offset, "reading the wrap-up codes of")
            .await?
            .iter()
            .filter_map(|c| c.get("id").and_then(Value::as_str).map(str::to_string))
            .collect()
    };
    let removes: Vec<&String> = current.difference(&wanted).collect();
    let adds: Vec<&String> = wanted.difference(&current).collect();
    for id in &removes {
        match op.delete(&format!("{path}/{id}"), "removing a wrap-up code from").await {
            Err(OpError::Api { source, .. }) if source.is_not_found() => {}
            other => other?,
        }
    }
    for batch in adds.chunks(BATCH) {
        let body: Vec<Value> = batch.iter().map(|id| json!({ "id": id })).collect();
        post_batch(op, &path, &Value::Array(body), fresh, "adding wrap-up codes to").await?;
    }
    Ok(changed(&[("added", adds.len(), "wrap-up code"), ("removed", removes.len(), "wrap-up code")]))
}
