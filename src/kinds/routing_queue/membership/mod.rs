//! A queue's members, member groups and wrap-up codes (API reference §i and
//! §c): how they are declared, read, compared and written.
//!
//! **Declared.** `members` lists direct members by email with an optional
//! `ringNumber` (1..6); `membership` says what happens to direct members that
//! are not listed: `include` (the default) never removes anyone, `exact`
//! removes them. `memberGroups` names groups, whose users are members
//! "through a group"; `wrapupCodes` names the codes the queue offers, exactly.
//! Leaving `members` out means membership is not managed at all, so no
//! default ever removes an agent nobody declared (the Terraform provider's
//! users lost agents when an upgrade changed what an absent `members` meant,
//! provider issue #1705).
//!
//! **Read.** Members and offered wrap-up codes are sub-resources, read only
//! for queues that declare them (and, for export, with `--queue-members`):
//! `GET …/members?memberBy=user&pageSize=100` page by page until an empty
//! page (the listing has no `total`), `GET …/wrapupcodes?pageSize=100`, and
//! `GET …/members?memberBy=group` only when a declared member is not a
//! direct one (to tell a member through a group from a missing one). With
//! `include` only the declared members are compared, so the member pages
//! are read until each declared one has shown (one page, usually) and the
//! empty page is only reached when one of them is missing; `exact` and
//! export read every page. They
//! are added to the live queue under keys outside the API's model
//! ([`MEMBERS`], [`GROUP_MEMBERS`], [`WRAPUP_CODES`]; compact: ids, emails,
//! ring numbers, code names; the `joined` state agents toggle themselves is
//! left out so it never makes a plan stale). Users are resolved by email
//! once per run ([`crate::plan::read()`]).
//!
//! **Compared.** In the manifest's terms: members by lowercase email, groups
//! and codes by name, as sets. With `include`, live direct members that are
//! not declared are left out of the comparison; a declared member who is a
//! member through a group counts as present (and is never added directly:
//! the provider refuses that, and the API may too), and its declared ring
//! number is not set, which the plan and the apply note
//! ([`rings_through_groups`]); a ring number that is not declared is not
//! compared.
//!
//! **Written.** Member groups are part of the queue (its PUT). Members: reads
//! of the current direct and group members (as in a plan), then removes
//! (`exact` only) before adds, each at most 100 users per `POST
//! …/members[?delete=true]` (the documented limit), then polling the listing
//! until the changes show (processing is asynchronous; no fixed sleep:
//! backoff under the apply deadline; adds alone are seen on the pages that
//! hold them, a remove needs every page), then `PATCH …/members/{userId}` for
//! ring numbers that differ, retried on 404 while the member is not visible
//! yet (as the provider does). Wrap-up codes: removes one at a time (`DELETE
//! …/wrapupcodes/{id}`), adds 100 per `POST …/wrapupcodes`. A queue this run
//! has just created ([`Made::Created`], not adopted) holds no direct members
//! and no codes, so neither is read before the adds (the group members only
//! when `memberGroups` are declared), and its adds are retried on 404 while
//! the new queue trails in the API.

use std::collections::{BTreeSet, HashSet};

use serde_json::{Map, Value, json};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::RoutingQueueSpec;
use crate::api::Client;
use crate::apply::ops::{Op, OpError};
use crate::kinds::org::{BodyError, IdResolver, Lookups, compared, name_or_id, require_id};
use crate::kinds::{Kind, RefTarget, Reference};
use crate::manifest::diag::Findings;
use crate::plan::{Action, Change, ReadError};

/// Live queue key: its direct members, `[{id, email, ringNumber}]` by id.
pub const MEMBERS: &str = "gcctl:members";
/// Live queue key: its members through groups, `[{id, email}]` by id (read
/// only when a declared member is not a direct one).
pub const GROUP_MEMBERS: &str = "gcctl:groupMembers";
/// Live queue key: the wrap-up codes it offers, `[{id, name}]` by name.
pub const WRAPUP_CODES: &str = "gcctl:wrapupCodes";
/// Live spec key (never declared, never exported): emails of the members
/// through groups, for [`align`].
const THROUGH_GROUPS: &str = "gcctl:membersThroughGroups";

/// Most users or codes one call may carry ("Bulk add or delete up to 100
/// queue members", PY; "API restricts wrapup code adds to 100 per call", TF).
pub const BATCH: usize = 100;
/// Page size of the member and wrap-up code listings (the members' maximum,
/// PY docstring; the provider's size for wrap-up codes).
const PAGE: u32 = 100;

/// Spec pointers written through sub-resources, not the queue's PUT.
pub const SUB_RESOURCE_POINTERS: [&str; 3] = ["/members", "/membership", "/wrapupCodes"];

mod write;

pub use write::{apply_codes, apply_members};

/// A direct member of a queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QueueMember {
    /// The agent's email (compared case-insensitively); the user must exist
    /// and be active.
    pub email: String,
    /// The bullseye ring the agent is in, 1 to 6 (new members get 1). Left
    /// out: not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 6))]
    pub ring_number: Option<i64>,
}

/// What `members` means for direct members that are not declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MembershipPolicy {
    /// Add the declared members; never remove anyone.
    Include,
    /// Add the declared members and remove every other direct member.
    Exact,
}

/// A group whose users are members of the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MemberGroup {
    /// The group's name in the org.
    pub name: String,
    /// `GROUP` (the default), `TEAM` or `SKILLGROUP`: the name is a group's,
    /// a team's or a skill group's in the org.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub group_type: Option<MemberGroupType>,
}

/// The type of a member group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum MemberGroupType {
    #[serde(rename = "GROUP")]
    Group,
    #[serde(rename = "TEAM")]
    Team,
    #[serde(rename = "SKILLGROUP")]
    SkillGroup,
}

impl MemberGroupType {
    /// The type as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberGroupType::Group => "GROUP",
            MemberGroupType::Team => "TEAM",
            MemberGroupType::SkillGroup => "SKILLGROUP",
        }
    }
}

fn members_path(queue: &str) -> String {
    format!("/api/v2/routing/queues/{queue}/members")
}

fn codes_path(queue: &str) -> String {
    format!("/api/v2/routing/queues/{queue}/wrapupcodes")
}

/// References of the membership fields: users by email, groups by name,
/// wrap-up codes by name.
pub fn references(spec: &RoutingQueueSpec) -> Vec<Reference> {
    let mut refs = Vec::new();
    for (i, member) in spec.members.iter().flatten().enumerate() {
        refs.push(Reference {
            pointer: format!("/spec/members/{i}/email"),
            target: RefTarget::User,
            name: member.email.clone(),
        });
    }
    for (i, group) in spec.member_groups.iter().flatten().enumerate() {
        refs.push(Reference {
            pointer: format!("/spec/memberGroups/{i}/name"),
            target: group_target(group.group_type.map(MemberGroupType::as_str)),
            name: group.name.clone(),
        });
    }
    for (i, code) in spec.wrapup_codes.iter().flatten().enumerate() {
        refs.push(Reference {
            pointer: format!("/spec/wrapupCodes/{i}"),
            target: RefTarget::Kind(Kind::RoutingWrapupCode),
            name: code.clone(),
        });
    }
    refs
}

/// What a member group of this `type` (`GROUP` when absent) names: a group,
/// a team or a skill group.
pub fn group_target(group_type: Option<&str>) -> RefTarget {
    match group_type {
        Some("TEAM") => RefTarget::Team,
        Some("SKILLGROUP") => RefTarget::SkillGroup,
        _ => RefTarget::Group,
    }
}

/// Offline checks: emails, duplicates, ring numbers, a policy without
/// members, member groups listed twice.
pub fn check(spec: &RoutingQueueSpec, findings: &mut Findings) {
    let mut emails = BTreeSet::new();
    for (i, member) in spec.members.iter().flatten().enumerate() {
        let at = format!("/spec/members/{i}");
        let email = member.email.trim();
        if email.is_empty() || !email.contains('@') || email != member.email {
            findings.error(format!("{at}/email"), format!("`{}` is not an email address", member.email));
        } else if !emails.insert(email.to_lowercase()) {
            findings.error(format!("{at}/email"), format!("`{email}` is listed twice"));
        }
        if let Some(ring) = member.ring_number.filter(|r| !(1..=6).contains(r)) {
            findings.error(
                format!("{at}/ringNumber"),
                format!("{ring} is out of range: a ring number is between 1 and 6"),
            );
        }
    }
    if spec.membership.is_some() && spec.members.is_none() {
        findings.error_with_hint(
            "/spec/membership",
            "`membership` applies to `members`, which is not declared",
            "declare the members, or remove `membership` (without `members`, gcctl does not manage membership)",
        );
    }
    let mut groups = BTreeSet::new();
    for (i, group) in spec.member_groups.iter().flatten().enumerate() {
        let at = format!("/spec/memberGroups/{i}");
        let group_type = group.group_type.unwrap_or(MemberGroupType::Group);
        if !groups.insert((group_type.as_str(), &group.name)) {
            findings.error(format!("{at}/name"), format!("`{}` is listed twice", group.name));
        }
    }
    let mut codes = BTreeSet::new();
    for (i, code) in spec.wrapup_codes.iter().flatten().enumerate() {
        if !codes.insert(code) {
            findings.error(format!("/spec/wrapupCodes/{i}"), format!("`{code}` is listed twice"));
        }
    }
}

/// Whether a live queue needs its members or codes read.
pub fn details_needed(declared: Option<&RoutingQueueSpec>) -> bool {
    declared.is_none_or(|s| s.members.is_some() || s.wrapup_codes.is_some())
}

/// A member listing entity in compact form.
fn compact_member(entity: &Value, with_ring: bool) -> Option<Value> {
    let id = entity.get("id").and_then(Value::as_str)?;
    let email = crate::json_pointer::get(entity, "/user/email").and_then(Value::as_str).map(str::to_lowercase);
    let mut out = json!({ "id": id, "email": email });
    // A member whose user is no longer active stays a member in the org,
    // and cannot be declared (only active users can be added): export
    // leaves it out. Kept only when it says so (most members are active).
    // Whether a real listing fills the user's `state` is UNVERIFIED (the
    // SDK's `QueueMember.user` is a full `User`); without it a member
    // counts as active, as before.
    let state = crate::json_pointer::get(entity, "/user/state").and_then(Value::as_str);
    if let Some(state) = state.filter(|s| *s != "active") {
        out["state"] = json!(state);
    }
    if with_ring {
        out["ringNumber"] = entity.get("ringNumber").cloned().unwrap_or(json!(1));
    }
    Some(out)
}

fn by_id(mut items: Vec<Value>) -> Value {
    items.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    Value::Array(items)
}

/// Read what the declared fields need (everything for `None`), as fields to
/// add to the live queue.
pub async fn read(
    client: &Client,
    live: &Value,
    declared: Option<&RoutingQueueSpec>,
    lookups: &Lookups,
) -> Result<Map<String, Value>, ReadError> {
    let mut out = Map::new();
    let Some(id) = live.get("id").and_then(Value::as_str) else { return Ok(out) };
    let name = live.get("name").and_then(Value::as_str).unwrap_or(id);
    let failed = |what: &str| {
        let what = format!("the {what} of queue `{name}`");
        move |source| ReadError { what, source }
    };
    if declared.is_none_or(|s| s.members.is_some()) {
        let declared_ids: HashSet<&str> = declared
            .and_then(|s| s.members.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|m| lookups.id_of(RefTarget::User, &m.email))
            .collect();
        // Export and `exact` need every direct member; `include` compares
        // only the declared ones, so the pages that show them are enough.
        let include = declared.is_some_and(|s| s.membership != Some(MembershipPolicy::Exact));
        let until = include.then_some(&declared_ids);
        let query = [("memberBy", "user".to_string())];
        let path = members_path(id);
        let direct = client
            .list_until_seen(&path, &query, PAGE, until)
            .await
            .and_then(|listed| crate::api::with_ids(&path, listed))
            .map_err(failed("members"))?;
        let direct: Vec<Value> = direct.iter().filter_map(|e| compact_member(e, true)).collect();
        let ids: BTreeSet<&str> = direct.iter().filter_map(|m| m["id"].as_str()).collect();
        let missing: HashSet<&str> = declared_ids.iter().copied().filter(|d| !ids.contains(d)).collect();
        if !missing.is_empty() {
            // Only whether the missing ones are members through a group counts.
            let query = [("memberBy", "group".to_string())];
            let grouped = client
                .list_until_seen(&members_path(id), &query, PAGE, Some(&missing))
                .await
                .map_err(failed("members through groups"))?;
            let grouped = grouped.iter().filter_map(|e| compact_member(e, false)).collect();
            out.insert(GROUP_MEMBERS.into(), by_id(grouped));
        }
        out.insert(MEMBERS.into(), by_id(direct));
    }
    if declared.is_none_or(|s| s.wrapup_codes.is_some()) {
        let path = codes_path(id);
        let codes = client
            .list_all(&path, &[], PAGE)
            .await
            .and_then(|listed| crate::api::with_ids(&path, listed))
            .map_err(failed("wrap-up codes"))?;
        let mut codes: Vec<Value> = codes
            .iter()
            .filter_map(|c| Some(json!({"id": c.get("id")?, "name": c.get("name")})))
            .collect();
        codes.sort_by_key(Value::to_string);
        out.insert(WRAPUP_CODES.into(), Value::Array(codes));
    }
    Ok(out)
}

/// The email a live member shows as: the user found by email this run,
/// else the email the listing embeds, else `{"id"}` (never equal to a
/// declared email).
fn member_email(member: &Value, lookups: &Lookups) -> Value {
    let id = member.get("id").and_then(Value::as_str).unwrap_or_default();
    let embedded = member.get("email").and_then(Value::as_str);
    name_or_id(lookups.name_of(RefTarget::User, id).or(embedded), id)
}

fn sorted(mut items: Vec<Value>) -> Value {
    items.sort_by_cached_key(Value::to_string);
    Value::Array(items)
}

/// Add the membership fields of a live queue to its spec-shaped value.
pub fn to_spec(live: &Value, lookups: &Lookups, spec: &mut Map<String, Value>) {
    spec.remove("memberGroups");
    // A plan translates only what it compares (`compared`).
    let list = |field: &str, key: &str| {
        compared(field).then(|| live.get(key).and_then(Value::as_array)).flatten()
    };
    if let Some(groups) = list("memberGroups", "memberGroups") {
        let groups = groups.iter().filter_map(|group| {
            let id = group.get("id")?.as_str()?;
            let embedded = group.get("name").and_then(Value::as_str);
            let target = group_target(group.get("type").and_then(Value::as_str));
            let name = name_or_id(lookups.name_of(target, id).or(embedded), id);
            Some(json!({ "name": name, "type": group.get("type").cloned().unwrap_or(json!("GROUP")) }))
        });
        spec.insert("memberGroups".into(), sorted(groups.collect()));
    }
    if let Some(members) = list("members", MEMBERS) {
        let members = members.iter().map(|m| {
            json!({ "email": member_email(m, lookups), "ringNumber": m.get("ringNumber").cloned().unwrap_or(json!(1)) })
        });
        spec.insert("members".into(), sorted(members.collect()));
    }
    if let Some(grouped) = list("members", GROUP_MEMBERS) {
        let emails = grouped.iter().map(|m| member_email(m, lookups));
        spec.insert(THROUGH_GROUPS.into(), sorted(emails.collect()));
    }
    if let Some(codes) = list("wrapupCodes", WRAPUP_CODES) {
        let target = RefTarget::Kind(Kind::RoutingWrapupCode);
        let codes = codes.iter().filter_map(|code| {
            let id = code.get("id")?.as_str()?;
            let embedded = code.get("name").and_then(Value::as_str);
            Some(name_or_id(lookups.name_of(target, id).or(embedded), id))
        });
        spec.insert("wrapupCodes".into(), sorted(codes.collect()));
    }
}

/// The desired membership fields in the terms they are compared in: emails
/// in lowercase, member groups with their type.
pub fn normalize_desired(desired: &mut Value) {
    for member in desired.get_mut("members").and_then(Value::as_array_mut).into_iter().flatten() {
        if let Some(email) = member.get("email").and_then(Value::as_str) {
            member["email"] = json!(email.to_lowercase());
        }
    }
    let groups = desired.get_mut("memberGroups").and_then(Value::as_array_mut);
    for group in groups.into_iter().flatten() {
        if group.get("type").is_none() {
            group["type"] = json!("GROUP");
        }
    }
}

/// Restate the live members in the declared terms (see the module docs):
/// the policy, members through groups, ring numbers not declared.
pub fn align(desired: &Value, live: &mut Value) {
    let through_groups: Vec<Value> = live
        .as_object_mut()
        .and_then(|l| l.remove(THROUGH_GROUPS))
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    let Some(declared) = desired.get("members").and_then(Value::as_array) else { return };
    if let Some(policy) = desired.get("membership") {
        live["membership"] = policy.clone();
    }
    let exact = desired.get("membership").and_then(Value::as_str) == Some("exact");
    let email = |m: &Value| m.get("email").cloned().unwrap_or(Value::Null);
    let mut members: Vec<Value> =
        live.get("members").and_then(Value::as_array).cloned().unwrap_or_default();
    for wanted in declared {
        let present = members.iter().any(|m| email(m) == email(wanted));
        if !present && through_groups.contains(&email(wanted)) {
            members.push(wanted.clone());
        }
    }
    if !exact {
        members.retain(|m| declared.iter().any(|d| email(d) == email(m)));
    }
    // Ring numbers are compared where they are declared (members that are
    // not declared keep theirs: plans show what `exact` removes).
    for member in &mut members {
        let declared = declared.iter().find(|d| email(d) == email(member));
        if let (Some(None), Some(map)) =
            (declared.map(|d| d.get("ringNumber")), member.as_object_mut())
        {
            map.remove("ringNumber");
        }
    }
    live["members"] = Value::Array(members);
}

/// The note for declared members with a `ringNumber` who are members of
/// the live queue only through a group: gcctl neither adds them directly
/// nor sets their ring (see the module docs), so the declared number is
/// not applied, and a clean plan must not let it look as if it were.
pub fn rings_through_groups(desired: &Value, live: &Value, lookups: &Lookups) -> Vec<String> {
    let emails = |key: &str| -> HashSet<String> {
        let members = live.get(key).and_then(Value::as_array).into_iter().flatten();
        members.filter_map(|m| Some(member_email(m, lookups).as_str()?.to_lowercase())).collect()
    };
    let declared = desired.get("members").and_then(Value::as_array).into_iter().flatten();
    let ringed: Vec<(String, &Value)> = declared
        .filter_map(|m| {
            let email = m.get("email")?.as_str()?.to_lowercase();
            Some((email, m.get("ringNumber")?))
        })
        .collect();
    if ringed.is_empty() {
        return Vec::new();
    }
    let (direct, grouped) = (emails(MEMBERS), emails(GROUP_MEMBERS));
    let unset: Vec<String> = ringed
        .into_iter()
        .filter(|(email, _)| !direct.contains(email) && grouped.contains(email))
        .map(|(email, ring)| format!("{email} (ringNumber {ring})"))
        .collect();
    if unset.is_empty() {
        return Vec::new();
    }
    let (who, is) = if unset.len() == 1 { ("agent", "is a member") } else { ("agents", "are members") };
    vec![format!(
        "declared ring numbers not set: the {who} {} {is} of the queue only through a member group, and gcctl neither adds a group's member directly nor sets its ring number (leave ringNumber out, or take the agent out of the group to manage the membership directly)",
        unset.join(", ")
    )]
}

/// Export fix-ups: no internal keys; ring number 1 (what a new member gets)
/// left out; members gcctl cannot name by email left out with a warning;
/// the policy written out (`include`, which never removes anyone).
pub fn export(spec: &mut Value, live: &Value, warn: &mut dyn FnMut(String)) {
    let Some(map) = spec.as_object_mut() else { return };
    map.remove(THROUGH_GROUPS);
    let Some(Value::Array(members)) = map.get_mut("members") else { return };
    let before = members.len();
    members.retain(|m| m.get("email").is_some_and(Value::is_string));
    if members.len() < before {
        warn(format!(
            "{} member{} without a readable email left out of `members`",
            before - members.len(),
            if before - members.len() == 1 { "" } else { "s" }
        ));
    }
    // Members whose users are not active: a manifest naming them would not
    // plan (only active users can be members), in this org or another.
    let inactive: BTreeSet<&str> = live
        .get(MEMBERS)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|m| m.get("state").is_some())
        .filter_map(|m| m.get("email").and_then(Value::as_str))
        .collect();
    if !inactive.is_empty() {
        let before = members.len();
        members.retain(|m| m.get("email").and_then(Value::as_str).is_none_or(|e| !inactive.contains(e)));
        if members.len() < before {
            let emails: Vec<String> = inactive.iter().map(|e| format!("`{e}`")).collect();
            warn(format!(
                "members {} left out: their users are not active, and only active users can be declared members (the org keeps them as they are, since `membership: include` removes no one)",
                emails.join(", ")
            ));
        }
    }
    for member in members.iter_mut() {
        if member.get("ringNumber") == Some(&json!(1)) {
            member.as_object_mut().map(|m| m.remove("ringNumber"));
        }
    }
    if !members.is_empty() {
        map.insert("membership".into(), json!("include"));
    }
}

/// Whether a create or update changes a field under one of `pointers`.
fn touches(change: &Change, pointers: &[&str]) -> bool {
    matches!(change.action, Action::Create | Action::Update)
        && change.fields.iter().any(|f| pointers.iter().any(|p| under(&f.pointer, p)))
}

fn under(pointer: &str, prefix: &str) -> bool {
    pointer == prefix || pointer.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
}

/// The API calls membership changes make (for the permission check).
pub fn calls(change: &Change) -> Vec<crate::kinds::org::Call> {
    let mut calls = Vec::new();
    if touches(change, &["/members", "/membership"]) {
        calls.extend([
            ("GET", "/api/v2/routing/queues/{queueId}/members"),
            ("POST", "/api/v2/routing/queues/{queueId}/members"),
            ("PATCH", "/api/v2/routing/queues/{queueId}/members/{memberId}"),
        ]);
    }
    if touches(change, &["/wrapupCodes"]) {
        calls.extend([
            ("GET", "/api/v2/routing/queues/{queueId}/wrapupcodes"),
            ("POST", "/api/v2/routing/queues/{queueId}/wrapupcodes"),
            ("DELETE", "/api/v2/routing/queues/{queueId}/wrapupcodes/{codeId}"),
        ]);
    }
    calls
}

/// Whether any planned field lies outside the sub-resources (and `skip`).
pub fn changes_queue_itself(change: &Change, skip: &[&str]) -> bool {
    change.fields.iter().any(|f| {
        !SUB_RESOURCE_POINTERS.iter().chain(skip).any(|p| under(&f.pointer, p))
    })
}

/// How the queue whose sub-resources are written came to be in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Made {
    /// Created by this run: it has no direct members and no codes yet, so
    /// whatever is declared is added without reading them first.
    Created,
    /// Found by name instead of created (create-or-adopt, or a create whose
    /// answer was lost): whatever is declared is brought about, from reads.
    Adopted,
    /// It existed before and the plan updates it: only what the plan
    /// changes is written, from reads.
    Before,
}

/// After a queue's create or adoption (whatever is declared) or update
/// (what the plan changes): its members, then its wrap-up codes; notes for
/// the report.
pub async fn apply_sub_resources(op: &Op<'_>, queue: &str, made: Made) -> Result<Vec<String>, OpError> {
    let all = made != Made::Before;
    let fresh = made == Made::Created;
    let mut notes = Vec::new();
    if all || op.changed("/members") || op.changed("/membership") {
        notes.extend(apply_members(op, queue, fresh).await?);
    }
    if all || op.changed("/wrapupCodes") {
        notes.extend(apply_codes(op, queue, fresh).await?);
    }
    Ok(notes)
}

/// The declared `memberGroups` as the queue's body holds them, `[{id,
/// type}]`, each name resolved in the namespace of its type; `None` when
/// not declared.
pub fn member_group_refs(desired: &Value, ids: &dyn IdResolver) -> Result<Option<Value>, BodyError> {
    let Some(groups) = desired.get("memberGroups").and_then(Value::as_array) else {
        return Ok(None);
    };
    let mut refs = Vec::new();
    for (i, group) in groups.iter().enumerate() {
        let name = group.get("name").and_then(Value::as_str).unwrap_or_default();
        let group_type = group.get("type").and_then(Value::as_str).unwrap_or("GROUP");
        let pointer = format!("/memberGroups/{i}/name");
        let id = require_id(ids, group_target(Some(group_type)), name, &pointer)?;
        refs.push(json!({ "id": id, "type": group_type }));
    }
    Ok(Some(Value::Array(refs)))
}

/// Live member groups go back in a PUT as `{id, type}`: their names,
/// counts and divisions are the server's.
pub fn live_member_groups(body: &mut Value) {
    if let Some(groups) = body.get_mut("memberGroups").and_then(Value::as_array_mut) {
        for group in groups.iter_mut() {
            *group = json!({ "id": group.get("id"), "type": group.get("type") });
        }
    }
}

/// How many queues a note names before it says "and N more".
const NOTE_NAMES: usize = 5;

/// The plan's one note about membership that is not managed: the declared
/// queues that leave `members` out while the org shows direct members on
/// them (`userMemberCount`, "the number of user members (i.e., non-group
/// members)", from the queue list: no extra request). gcctl neither adds
/// nor removes those agents; the note says so once, naming the queues, so
/// that nobody mistakes silence for management (or fears a removal, the
/// provider's issue #1705). Queues without direct members say nothing.
pub fn unmanaged_note(
    declared: &[(&crate::manifest::Object, &Value)],
) -> Option<crate::plan::PlanNote> {
    let with_members = |part: &[(&crate::manifest::Object, &Value)]| -> Vec<(String, String, u64)> {
        part.iter()
            .filter_map(|(object, live)| {
                let spec = crate::kinds::downcast::<RoutingQueueSpec>(object.spec.as_ref())?;
                if spec.members.is_some() {
                    return None;
                }
                let count = live
                    .get("userMemberCount")
                    .or_else(|| live.get("memberCount"))
                    .and_then(Value::as_u64)
                    .filter(|n| *n > 0)?;
                Some((object.id(), spec.name.clone(), count))
            })
            .collect()
    };
    // Each live queue is read again here, after the comparison has left the
    // cache: a large plan reads its halves on two cores (10,000 queues: 2.7 ms
    // on one, in profiles of 2026-12-05).
    let large = declared.len() >= crate::manifest::parallel::JOIN_FROM;
    let (first, second) = declared.split_at(declared.len() / 2);
    let (mut queues, rest) =
        crate::manifest::parallel::join(large, || with_members(first), || with_members(second));
    queues.extend(rest);
    if queues.is_empty() {
        return None;
    }
    queues.sort();
    let mut named: Vec<String> = queues
        .iter()
        .take(NOTE_NAMES)
        .map(|(_, name, n)| format!("{name} ({n} agent{})", if *n == 1 { "" } else { "s" }))
        .collect();
    if queues.len() > NOTE_NAMES {
        named.push(format!("and {} more", queues.len() - NOTE_NAMES));
    }
    let (count, queue, leave) = match queues.len() {
        1 => (1, "queue", "whose manifest leaves"),
        n => (n, "queues", "whose manifests leave"),
    };
    Some(crate::plan::PlanNote {
        message: format!(
            "queue membership is not managed for {count} {queue} with direct members in the org {leave} `members` out: {}; gcctl neither adds nor removes their agents (declare `members`, with `membership: include` or `exact`, to manage them)",
            named.join(", ")
        ),
        objects: queues.into_iter().map(|(id, _, _)| id).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A large plan reads the live queues in two halves on two cores: the
    /// note still names the queues of both, sorted, and counts them all.
    #[test]
    fn the_note_of_a_large_plan_holds_the_queues_of_both_halves() {
        let mut text = String::new();
        for i in 0..2_500 {
            let _ = std::fmt::Write::write_fmt(
                &mut text,
                format_args!(
                    "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata:\n  name: q{i:04}\nspec:\n  name: Q{i:04}\n---\n"
                ),
            );
        }
        let files = std::collections::BTreeMap::from([(std::path::PathBuf::from("q.yaml"), text.as_str())]);
        let set = crate::manifest::load_memory(&files).expect("the queues load");
        let with_agents = [3, 503, 1003, 1503, 2003, 2499];
        let live: Vec<Value> = (0..2_500)
            .map(|i| {
                let count = u64::from(with_agents.contains(&i)) * 2;
                serde_json::json!({"id": format!("id-{i}"), "name": format!("Q{i:04}"), "userMemberCount": count})
            })
            .collect();
        let declared: Vec<(&crate::manifest::Object, &Value)> = set.objects.iter().zip(&live).collect();
        assert!(declared.len() >= crate::manifest::parallel::JOIN_FROM);
        let note = unmanaged_note(&declared).expect("a note");
        let expected: Vec<String> = with_agents.iter().map(|i| format!("RoutingQueue/q{i:04}")).collect();
        assert_eq!(note.objects, expected);
        assert!(
            note.message.contains("for 6 queues with direct members")
                && note.message.contains("Q0003 (2 agents), Q0503 (2 agents)")
                && note.message.contains("and 1 more"),
            "{}",
            note.message
        );
    }

    fn lookups() -> Lookups {
        let mut lookups = Lookups::default();
        lookups.insert(RefTarget::User, "u1", "Alice@Example.com");
        lookups.insert(RefTarget::User, "u2", "bob@example.com");
        lookups
    }

    fn live() -> Value {
        json!({
            "id": "q", "name": "Q",
            MEMBERS: [
                {"id": "u1", "email": "alice@example.com", "ringNumber": 2},
                {"id": "u3", "email": "carol@example.com", "ringNumber": 1},
                {"id": "u9", "email": null, "ringNumber": 1},
            ],
            GROUP_MEMBERS: [{"id": "u2", "email": "bob@example.com"}],
        })
    }

    fn live_spec() -> Value {
        let mut spec = Map::new();
        to_spec(&live(), &lookups(), &mut spec);
        Value::Object(spec)
    }

    /// A plan compares only the declared fields, so the queue translates
    /// only those of the fields it translates itself; everything else (an
    /// export, a plan's whole projection) gets all of them.
    #[test]
    fn a_plan_translates_only_the_fields_it_compares() {
        use crate::kinds::org::{OrgKind, comparing};
        let mut lookups = lookups();
        lookups.insert(RefTarget::Division, "d1", "Home");
        lookups.insert(RefTarget::Kind(Kind::RoutingWrapupCode), "w1", "Sale");
        // The declared in-queue flow is read with the org (by its name).
        lookups.insert(RefTarget::Flow("INQUEUECALL"), "f1", "In queue");
        let mut live = live();
        live["division"] = json!({"id": "d1"});
        live["queueFlow"] = json!({"id": "f1", "name": "In queue"});
        live[WRAPUP_CODES] = json!([{"id": "w1"}]);
        let keys = |spec: &Value| -> Vec<String> {
            spec.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
        };
        let whole = super::super::Org.live_to_spec(&live, &lookups);
        let mut expected = vec!["division", "queueFlow", "members", THROUGH_GROUPS, "wrapupCodes", "name"];
        expected.sort_unstable();
        assert_eq!(keys(&whole), expected);
        let declared = json!({"name": "Q", "queueFlow": "In queue"});
        let spec = comparing(&declared, || super::super::Org.live_to_spec(&live, &lookups));
        assert_eq!(spec, json!({"name": "Q", "queueFlow": "In queue"}));
        let declared = json!({"name": "Q", "members": [], "wrapupCodes": ["Sale"]});
        let spec = comparing(&declared, || super::super::Org.live_to_spec(&live, &lookups));
        assert_eq!(keys(&spec), [THROUGH_GROUPS, "members", "name", "wrapupCodes"]);
        assert_eq!(spec["wrapupCodes"], json!(["Sale"]));
        // Outside `comparing`, the same as before it.
        assert_eq!(super::super::Org.live_to_spec(&live, &lookups), whole);
    }

    #[test]
    fn live_members_read_as_lowercase_emails_and_ids_when_unnamed() {
        let spec = live_spec();
        assert_eq!(
            spec["members"],
            json!([
                {"email": "alice@example.com", "ringNumber": 2},
                {"email": "carol@example.com", "ringNumber": 1},
                {"email": {"id": "u9"}, "ringNumber": 1},
            ])
        );
        assert_eq!(spec[THROUGH_GROUPS], json!(["bob@example.com"]));
    }

    #[test]
    fn include_compares_declared_members_only_and_counts_group_members() {
        let mut desired = json!({"members": [{"email": "Alice@example.com"}, {"email": "bob@example.com"}]});
        normalize_desired(&mut desired);
        let mut live = live_spec();
        align(&desired, &mut live);
        assert!(live.get(THROUGH_GROUPS).is_none());
        let changes = crate::plan::diff::diff(
            &desired,
            &live,
            &crate::plan::diff::DiffOptions { sets: &["/members"], ..Default::default() },
        );
        assert!(changes.is_empty(), "{changes:?}");
    }

    #[test]
    fn exact_shows_undeclared_direct_members_and_declared_ring_numbers() {
        let desired = json!({"membership": "exact",
            "members": [{"email": "alice@example.com", "ringNumber": 3}, {"email": "bob@example.com"}]});
        let mut live = live_spec();
        align(&desired, &mut live);
        assert_eq!(live["membership"], "exact");
        assert_eq!(
            live["members"],
            json!([
                {"email": "alice@example.com", "ringNumber": 2},
                {"email": "carol@example.com", "ringNumber": 1},
                {"email": {"id": "u9"}, "ringNumber": 1},
                {"email": "bob@example.com"},
            ])
        );
    }

    #[test]
    fn exports_write_the_policy_and_leave_default_ring_numbers_out() {
        let mut spec = live_spec();
        let mut warnings = Vec::new();
        export(&mut spec, &json!({}), &mut |w| warnings.push(w));
        assert_eq!(spec["membership"], "include");
        assert_eq!(
            spec["members"],
            json!([{"email": "alice@example.com", "ringNumber": 2}, {"email": "carol@example.com"}])
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(spec.get(THROUGH_GROUPS).is_none());
    }

    /// A member whose user is not active stays in the org but cannot be
    /// declared: export leaves it out, saying so.
    #[test]
    fn exports_leave_members_whose_users_are_not_active_out() {
        let entity = json!({"id": "u2", "user": {"email": "Carol@Example.com", "state": "inactive"}});
        let compact = compact_member(&entity, true).unwrap();
        assert_eq!(compact["state"], "inactive");
        let active = json!({"id": "u1", "user": {"email": "alice@example.com", "state": "active"}});
        assert!(compact_member(&active, true).unwrap().get("state").is_none());
        let live = json!({ MEMBERS: [compact] });
        let mut spec = live_spec();
        let mut warnings = Vec::new();
        export(&mut spec, &live, &mut |w| warnings.push(w));
        assert_eq!(spec["members"], json!([{"email": "alice@example.com", "ringNumber": 2}]));
        assert!(
            warnings.iter().any(|w| w.starts_with("members `carol@example.com` left out: their users are not active")),
            "{warnings:?}"
        );
    }
}
