//! `Role`: an authorization role (`/api/v2/authorization/roles`), written
//! with the permission strings people know (`conversation:message:create`).
//! They map to the API's `permissionPolicies` grouped by domain and entity.
//! Updated with PUT (full replacement, merged with the live role).
//!
//! Permissions and the catalog ([`crate::permissions`]):
//!
//! - **Offline check.** Every permission is looked up in
//!   [`Catalog::embedded`]; one it does not hold is a warning at its list
//!   item with a did-you-mean ([`unknown_permission`]), never an error: the
//!   embedded list is a lower bound of an org's catalog.
//! - **Sent as declared.** A wildcard goes out as the wildcard policy
//!   (`entityName: "*"`, `actionSet: ["*"]`), not as gcctl's expansion of
//!   it: the org expands it with its own, complete catalog, whereas an
//!   expansion through the embedded lower bound could grant less than the
//!   manifest asks for.
//! - **Compared after expansion.** Since June 2026 the API reads a wildcard
//!   back as explicit actions; an older API (and the sandbox) reads it back
//!   as written. [`Org`]'s `align_live` hook puts the live permissions in
//!   the declared terms before the diff ([`align_permissions`]), expanding
//!   through [`Lookups::permission_catalog`](super::org::Lookups::permission_catalog):
//!   the embedded catalog today, the org's own once a reader sets it.
//! - **Exported as read.** Export writes the live permissions as the org
//!   returns them (explicit actions from an expanding API), never folded
//!   back into wildcards: folding through a lower-bound catalog would turn
//!   "every action gcctl knows" into "every action", widening the role when
//!   the export is applied. The round trip plans clean either way.
//! - **Conditions are kept, not compared.** A policy can limit its actions
//!   with conditions set in Genesys Cloud (`resourceConditionNode`,
//!   `namedResources`, `resourceCondition`: to one queue, say), which a
//!   permission string cannot say. Such a permission reads as held, and
//!   every write keeps the conditioned policy as the org has it (its
//!   actions that are still declared), never replacing it with an
//!   unconditioned one, which would widen the role behind a plan that
//!   showed another change. Plans and drift note the conditioned
//!   permissions ([`conditioned_permissions`]); export warns that its
//!   manifest grants them without conditions.
//! - Legacy names outside `domain:entity:action` (`group_creation`,
//!   `admin`: the API's flat `permissions` list) have no place in the spec;
//!   an update sends no flat list, so the PUT clears it.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::check_org_name;
use super::{Kind, KindDef, Spec, parse_spec, schema_of, spec_boilerplate};
use crate::manifest::diag::Findings;
use crate::permissions::{Catalog, Part, matches};

/// An authorization role.
///
/// `validate` (and every command that loads manifests) checks each
/// permission against the catalog built into gcctl: every permission a
/// public Genesys Cloud API operation or Terraform provider resource
/// documents, generated from the official SDK docs. That list is a lower
/// bound of an org's catalog (permissions that only gate UI features are
/// missing), so an unknown permission is a warning with a did-you-mean,
/// never an error. A wildcard must match at least one catalog permission.
///
/// Wildcards are sent as written (`entityName: "*"`, `actionSet: ["*"]`)
/// and compared after expansion: an org that reads `routing:queue:*` back
/// as every `routing:queue` action (as the API does since June 2026, with
/// actions gcctl may not know) plans clean; one missing an action is a
/// change. Export writes permissions as the org returns them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleSpec {
    /// The role's name in the org (its natural key).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Permissions as `domain:entity:action` strings; `*` is allowed for the
    /// entity or action (`routing:queue:*`). Order does not matter; a
    /// wildcard compares equal to its expansion.
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// A permission split into its parts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Permission {
    pub domain: String,
    pub entity: String,
    pub action: String,
}

/// Parse `domain:entity:action`.
pub fn parse_permission(text: &str) -> Option<Permission> {
    let mut parts = text.split(':');
    let (domain, entity, action) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let word = |s: &str, wildcard: bool| {
        !s.is_empty()
            && (s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') || (wildcard && s == "*"))
    };
    (word(domain, false) && word(entity, true) && word(action, true)).then(|| Permission {
        domain: domain.to_string(),
        entity: entity.to_string(),
        action: action.to_string(),
    })
}

/// The warning for a permission or wildcard pattern that names nothing in
/// `catalog`: the message and a hint (a did-you-mean when there is a close
/// known name). `None` when the catalog knows it.
pub fn unknown_permission(catalog: &Catalog, text: &str) -> Option<(String, String)> {
    let unknown = catalog.unknown(text)?;
    let segments: Vec<&str> = text.split(':').collect();
    let no_match = format!("`{text}` matches no known permission");
    let message = match (unknown.part, segments.as_slice()) {
        (Part::Domain, [domain, ..]) => format!("{no_match}: there is no domain `{domain}`"),
        (Part::Entity, [domain, entity, ..]) => {
            format!("{no_match}: the domain `{domain}` has no entity `{entity}`")
        }
        (Part::Action, [domain, entity, action, ..]) => {
            format!("{no_match}: no `{domain}:{entity}` permission has the action `{action}`")
        }
        _ => format!("`{text}` is not in the permission catalog gcctl knows offline"),
    };
    let hint = unknown.suggestion.map_or_else(
        || {
            "gcctl's offline catalog lists every permission the public API documents, a lower \
             bound of an org's; if the org has this one (from a product it licenses), ignore this"
                .to_string()
        },
        |s| format!("did you mean `{s}`?"),
    );
    Some((message, hint))
}

impl RoleSpec {
    /// Permissions grouped by (domain, entity) into sorted action sets, the
    /// shape of `permissionPolicies`.
    pub fn policies(&self) -> BTreeMap<(String, String), Vec<String>> {
        let mut map: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for p in self.permissions.iter().filter_map(|p| parse_permission(p)) {
            let actions = map.entry((p.domain, p.entity)).or_default();
            if !actions.contains(&p.action) {
                actions.push(p.action);
            }
        }
        for actions in map.values_mut() {
            // A wildcard action grants the entity's every action: alone, it
            // is the policy the API expects (`actionSet: ["*"]`).
            if actions.iter().any(|a| a == "*") {
                *actions = vec!["*".to_string()];
            }
            actions.sort();
        }
        map
    }
}

/// The live permissions of a role in the terms of the declared ones, for
/// the diff (see the module docs): `live` as the API returns it, `declared`
/// as the manifest lists it, wildcards expanded through `catalog`.
///
/// - A live wildcard the manifest does not declare reads as its expansion
///   (so it compares with explicitly declared actions).
/// - A declared wildcard is *covered* when the live role holds it literally,
///   or holds every catalog permission it expands to (when the catalog
///   knows none, any live permission it matches: the org expanded it into
///   names gcctl does not know). A covered wildcard stands for every live
///   permission it matches, including any the catalog lacks (the embedded
///   catalog is a lower bound), and for the declared permissions it matches.
///
/// So a declared `routing:queue:*` equals a live role with every catalog
/// `routing:queue:` action (and perhaps more), and differs from one that
/// lacks any of them. The result is sorted.
pub fn align_permissions(
    declared: &[&str],
    live: impl IntoIterator<Item = String>,
    catalog: &Catalog,
) -> Vec<String> {
    let mut held: BTreeSet<String> = BTreeSet::new();
    for permission in live {
        if permission.contains('*') && !declared.contains(&permission.as_str()) {
            let expansion = catalog.expand(&permission);
            if !expansion.is_empty() {
                held.extend(expansion.into_iter().map(str::to_string));
                continue;
            }
        }
        held.insert(permission);
    }
    let covered: Vec<&str> = declared
        .iter()
        .copied()
        .filter(|d| d.contains('*'))
        .filter(|wildcard| {
            let expansion = catalog.expand(wildcard);
            held.contains(*wildcard)
                || if expansion.is_empty() {
                    held.iter().any(|p| matches(wildcard, p))
                } else {
                    expansion.iter().all(|p| held.contains(*p))
                }
        })
        .collect();
    // Every removal before any insertion: a broader covered wildcard
    // (`routing:*:*`) also matches a narrower declared one.
    held.retain(|p| !covered.iter().any(|w| matches(w, p)));
    for wildcard in &covered {
        held.insert((*wildcard).to_string());
        held.extend(declared.iter().filter(|d| matches(wildcard, d)).map(|d| (*d).to_string()));
    }
    // A declared wildcard the role holds only part of reads as what it
    // lacks (`routing:skill:* without routing:skill:delete`), so that the
    // plan shows the one missing action, not every held one as removed.
    for wildcard in declared.iter().filter(|d| d.contains('*') && !covered.contains(d)) {
        let expansion = catalog.expand(wildcard);
        let partial: Vec<String> = held
            .iter()
            .filter(|p| matches(wildcard, p) && !declared.contains(&p.as_str()))
            .cloned()
            .collect();
        if expansion.is_empty() || partial.is_empty() {
            continue;
        }
        let missing: Vec<&str> = expansion.iter().copied().filter(|p| !held.contains(*p)).collect();
        held.retain(|p| !partial.contains(p));
        held.insert(format!("{wildcard} without {}", missing.join(", ")));
    }
    held.into_iter().collect()
}

impl Spec for RoleSpec {
    fn kind(&self) -> Kind {
        Kind::Role
    }

    fn org_name(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn check(&self, findings: &mut Findings) {
        check_org_name(findings, "/spec/name", &self.name);
        let mut seen = std::collections::BTreeSet::new();
        for (i, text) in self.permissions.iter().enumerate() {
            let pointer = format!("/spec/permissions/{i}");
            if parse_permission(text).is_none() {
                findings.error_with_hint(
                    pointer,
                    format!("`{text}` is not a permission"),
                    "write domain:entity:action, for example conversation:message:create",
                );
            } else if !seen.insert(text) {
                findings.error(pointer, format!("`{text}` is listed twice"));
            } else if let Some((message, hint)) = unknown_permission(Catalog::embedded(), text) {
                findings.warning(pointer, message, Some(hint));
            }
        }
    }

    spec_boilerplate!();
}

pub const DEF: KindDef = KindDef {
    summary: "An authorization role with its permissions.",
    order: 10,
    export_file: Some("roles.yaml"),
    parse: parse_spec::<RoleSpec>,
    schema: schema_of::<RoleSpec>,
    org: Some(&Org),
};

/// The org side of `Role`.
pub struct Org;

const ROLE_WRITABLE: [&str; 4] = ["name", "description", "permissions", "permissionPolicies"];

/// The role's own `permissions` list: legacy permission names such as
/// `admin`, beside its policies. A write of the declared permissions
/// removes it (`body`: it could keep grants the policies no longer make);
/// plans say so and export warns. That real orgs list only such names
/// there, not their policies again, is UNVERIFIED: both name what they see.
fn legacy_permissions(live: &serde_json::Value) -> Vec<String> {
    live.get("permissions")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str().map(str::to_string))
        .collect()
}

/// Whether the live role gives any `authorization` permission (a policy of
/// that domain or of every domain, or a legacy permission such as `admin`).
fn gives_authorization(live: &serde_json::Value) -> bool {
    let policies = live.get("permissionPolicies").and_then(serde_json::Value::as_array);
    let domain = |p: &serde_json::Value| p.get("domain").and_then(serde_json::Value::as_str).map(str::to_string);
    policies.into_iter().flatten().filter_map(domain).any(|d| d == "authorization" || d == "*")
        || !legacy_permissions(live).is_empty()
}

/// Whether a live policy limits its actions with conditions.
fn is_conditioned(policy: &serde_json::Value) -> bool {
    policy.get("resourceConditionNode").is_some_and(serde_json::Value::is_object)
        || policy.get("namedResources").and_then(serde_json::Value::as_array).is_some_and(|n| !n.is_empty())
        || policy.get("resourceCondition").and_then(serde_json::Value::as_str).is_some_and(|c| !c.is_empty())
}

/// The live role's conditioned policies.
fn conditioned_policies(live: &serde_json::Value) -> impl Iterator<Item = &serde_json::Value> {
    let policies = live.get("permissionPolicies").and_then(serde_json::Value::as_array);
    policies.into_iter().flatten().filter(|p| is_conditioned(p))
}

/// `domain:entity:action` of a policy's actions.
fn policy_permissions(policy: &serde_json::Value) -> Vec<String> {
    let text = |key: &str| policy.get(key).and_then(serde_json::Value::as_str).unwrap_or_default();
    let actions = policy.get("actionSet").and_then(serde_json::Value::as_array);
    actions
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_str)
        .map(|action| format!("{}:{}:{action}", text("domain"), text("entityName")))
        .collect()
}

/// The permissions the live role limits with conditions, sorted.
pub fn conditioned_permissions(live: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = conditioned_policies(live).flat_map(policy_permissions).collect();
    out.sort();
    out.dedup();
    out
}

/// Whether a declared permission (wildcards allowed) covers `permission`.
fn covers(declared: &str, permission: &str) -> bool {
    let (Some(d), Some(p)) = (parse_permission(declared), parse_permission(permission)) else {
        return declared == permission;
    };
    let part = |d: &str, p: &str| d == "*" || d == p;
    d.domain == p.domain && part(&d.entity, &p.entity) && part(&d.action, &p.action)
}

/// The live conditioned policies a write keeps, each with its actions the
/// manifest still declares (see the module docs), and the permissions they
/// hold.
fn kept_conditioned(live: &serde_json::Value, declared: &[String]) -> (Vec<serde_json::Value>, BTreeSet<String>) {
    let mut kept = Vec::new();
    let mut held = BTreeSet::new();
    for policy in conditioned_policies(live) {
        let domain = policy.get("domain").and_then(serde_json::Value::as_str).unwrap_or_default();
        let entity = policy.get("entityName").and_then(serde_json::Value::as_str).unwrap_or_default();
        let mut actions: Vec<String> = Vec::new();
        for action in policy.get("actionSet").and_then(serde_json::Value::as_array).into_iter().flatten() {
            let action = action.as_str().unwrap_or_default();
            let permission = format!("{domain}:{entity}:{action}");
            if declared.iter().any(|d| covers(d, &permission)) {
                actions.push(action.to_string());
            } else if action == "*" {
                // A conditioned wildcard (as an older API returns it):
                // narrowed to the declared actions it grants, conditions
                // kept, rather than dropped for unconditioned grants.
                actions.extend(declared.iter().filter_map(|d| {
                    let d = parse_permission(d)?;
                    let entity_ok = entity == "*" || d.entity == entity;
                    (d.domain == domain && entity_ok).then_some(d.action)
                }));
            }
        }
        actions.sort();
        actions.dedup();
        if actions.is_empty() {
            continue;
        }
        let mut policy = policy.clone();
        policy["actionSet"] = serde_json::json!(actions);
        held.extend(policy_permissions(&policy));
        kept.push(policy);
    }
    (kept, held)
}

/// Whether a permission a kept conditioned policy holds (`held`, wildcards
/// as the org wrote them) grants `permission`: then it is not granted
/// again without the conditions.
fn held_by(held: &BTreeSet<String>, permission: &str) -> bool {
    held.contains(permission) || held.iter().any(|h| covers(h, permission))
}

impl super::org::OrgKind for Org {
    /// A user caller's own grants of the role are removed before its DELETE
    /// (apply grants a role to a user caller when an OAuth client it creates
    /// needs it, see `plan::authz`), since the org refuses to delete a role
    /// granted to anyone (the sandbox does; UNVERIFIED for Genesys Cloud,
    /// which may drop the grants itself: removing them first works either
    /// way). Only a role that gives no `authorization` permission: removing
    /// one that does could cost the caller the permission to delete the role
    /// or to grant it back. A removal the org refuses leaves the grants as
    /// they were and the DELETE to answer ([`super::org::OrgKind::delete_conflict_hint`]
    /// then says what to do); should the DELETE fail, the grants removed are
    /// given back.
    fn before_delete<'a>(
        &'a self,
        op: &'a crate::apply::ops::Op<'a>,
        id: &'a str,
    ) -> super::org::Hook<'a, Option<super::org::Undo>> {
        Box::pin(async move {
            let Some(caller) =
                op.caller().filter(|c| c.kind == crate::plan::caller::SubjectKind::User)
            else {
                return Ok(None);
            };
            let live = op.live(Kind::Role, id);
            if live.is_none_or(gives_authorization) {
                return Ok(None);
            }
            let grants = caller.grants.iter().filter(|grant| grant.role_id == id).map(|grant| {
                format!(
                    "/api/v2/authorization/subjects/{}/divisions/{}/roles/{id}",
                    caller.id, grant.division_id
                )
            });
            let mut removed: Vec<String> = Vec::new();
            for path in grants {
                match op.delete(&path, "removing the caller's grant of").await {
                    Ok(()) => removed.push(path),
                    // Gone already: nothing to give back.
                    Err(crate::apply::ops::OpError::Api { source, .. })
                        if source.is_not_found() => {}
                    Err(refused) => {
                        // Those removed already are given back; the DELETE
                        // then answers for the role as it is.
                        for path in &removed {
                            if let Err(lost) =
                                op.post_repeatable(path, "giving back the caller's grant of").await
                            {
                                return Err(crate::apply::ops::OpError::Failed(format!(
                                    "{refused}; and giving back a grant removed before it failed too: {lost}; grant the role to the caller again in Genesys Cloud"
                                )));
                            }
                        }
                        return Ok(None);
                    }
                }
            }
            if removed.is_empty() {
                return Ok(None);
            }
            Ok(Some(super::org::Undo {
                body: None,
                posts: removed,
                done: "the caller's grants of it were removed first",
                undone: "and were given back",
            }))
        })
    }

    fn delete_conflict_hint(&self) -> Option<&'static str> {
        Some("the org refuses to delete a role granted to users or OAuth clients: remove those grants in Genesys Cloud (the role's members, an OAuth client's roles), then run again")
    }

    fn export_refers_to(&self) -> &'static [super::RefTarget] {
        &[]
    }


    fn lookups_needed(&self, _spec: &dyn Spec) -> &'static [super::org::Lookup] {
        &[super::org::Lookup::PermissionCatalog]
    }

    /// Online, the org's own catalog decides: a permission it does not list
    /// (a wildcard that matches none of its permissions) is an error, with
    /// the closest permission it does list.
    fn org_problems(
        &self,
        spec: &dyn Spec,
        lookups: &super::org::Lookups,
    ) -> Vec<(String, String, Option<String>)> {
        let (Some(role), Some(catalog)) =
            (super::downcast::<RoleSpec>(spec), lookups.permission_catalog.as_deref())
        else {
            return Vec::new();
        };
        let mut problems = Vec::new();
        for (i, permission) in role.permissions.iter().enumerate() {
            let known = if permission.contains('*') {
                !catalog.expand(permission).is_empty()
            } else {
                catalog.contains(permission)
            };
            if known {
                continue;
            }
            let hint = catalog.suggest(permission).map(|s| format!("did you mean `{s}`?"));
            problems.push((
                format!("/spec/permissions/{i}"),
                format!(
                    "`{permission}` is not a permission of this org (seen in GET /api/v2/authorization/permissions)"
                ),
                hint,
            ));
        }
        problems
    }

    fn api(&self) -> super::org::ApiPaths {
        // Max page size UNVERIFIED; 100 is what the Terraform provider uses.
        super::org::ApiPaths::new("/api/v2/authorization/roles", super::org::UpdateMethod::Put)
            .paged(100)
            .name_filter()
    }

    /// Every org has the default roles (`default`) and the roles its
    /// products bring (`base`).
    fn is_builtin(&self, live: &serde_json::Value) -> bool {
        live.get("default").and_then(serde_json::Value::as_bool) == Some(true)
            || live.get("base").and_then(serde_json::Value::as_bool) == Some(true)
    }

    fn live_to_spec(
        &self,
        live: &serde_json::Value,
        _lookups: &super::org::Lookups,
    ) -> serde_json::Value {
        let mut permissions: Vec<String> = Vec::new();
        for policy in
            live.get("permissionPolicies").and_then(|p| p.as_array()).into_iter().flatten()
        {
            let domain = policy.get("domain").and_then(|d| d.as_str()).unwrap_or_default();
            let entity = policy.get("entityName").and_then(|d| d.as_str()).unwrap_or_default();
            for action in policy.get("actionSet").and_then(|a| a.as_array()).into_iter().flatten() {
                if let Some(action) = action.as_str() {
                    permissions.push(format!("{domain}:{entity}:{action}"));
                }
            }
        }
        permissions.sort();
        permissions.dedup();
        let mut spec = serde_json::json!({ "name": live.get("name"), "permissions": permissions });
        if let Some(d) = live.get("description").filter(|d| !d.is_null()) {
            spec["description"] = d.clone();
        }
        spec
    }

    fn body(
        &self,
        desired: &serde_json::Value,
        live: Option<&serde_json::Value>,
        _ids: &dyn super::org::IdResolver,
    ) -> Result<serde_json::Value, super::org::BodyError> {
        let mut body =
            live.map_or_else(|| serde_json::json!({}), |l| super::org::writable(l, &ROLE_WRITABLE));
        body["name"] = desired["name"].clone();
        if let Some(d) = desired.get("description") {
            body["description"] = d.clone();
        }
        if let Some(perms) = desired.get("permissions").and_then(|p| p.as_array()) {
            let spec = RoleSpec {
                name: String::new(),
                description: None,
                permissions: perms.iter().filter_map(|p| p.as_str().map(str::to_string)).collect(),
            };
            // Conditioned policies stay as the org has them; a declared
            // action they hold is not granted again without conditions.
            let (mut policies, held) =
                live.map(|l| kept_conditioned(l, &spec.permissions)).unwrap_or_default();
            for ((domain, entity), actions) in spec.policies() {
                let actions: Vec<String> = actions
                    .into_iter()
                    .filter(|a| !held_by(&held, &format!("{domain}:{entity}:{a}")))
                    .collect();
                if !actions.is_empty() {
                    policies.push(serde_json::json!({"domain": domain, "entityName": entity, "actionSet": actions}));
                }
            }
            body["permissionPolicies"] = serde_json::Value::Array(policies);
            // The deprecated flat list would otherwise keep stale grants.
            if let Some(map) = body.as_object_mut() {
                map.remove("permissions");
            }
        }
        Ok(body)
    }

    fn set_pointers(&self) -> &'static [&'static str] {
        &["/permissions"]
    }

    fn notes(
        &self,
        desired: &serde_json::Value,
        live: Option<&serde_json::Value>,
        fields: &[crate::plan::FieldChange],
        _lookups: &super::org::Lookups,
    ) -> Vec<String> {
        let Some(declared) = desired.get("permissions").and_then(serde_json::Value::as_array) else {
            return Vec::new();
        };
        let declared: Vec<String> =
            declared.iter().filter_map(|p| p.as_str().map(str::to_string)).collect();
        let mut notes = Vec::new();
        // What a write keeps: the conditioned permissions still declared.
        let conditioned: Vec<String> =
            live.map(|l| kept_conditioned(l, &declared).1.into_iter().collect()).unwrap_or_default();
        if !conditioned.is_empty() {
            notes.push(format!(
                "the org limits {} with conditions set in Genesys Cloud, which a manifest cannot declare: gcctl keeps them on every write and does not compare them",
                conditioned.join(", ")
            ));
        }
        // What a write removes (see `body`), said before it does.
        let legacy = live.map(legacy_permissions).unwrap_or_default();
        if !fields.is_empty() && !legacy.is_empty() {
            notes.push(format!(
                "this update removes the role's legacy `permissions` list ({}), which no manifest can declare: gcctl writes permission policies only",
                legacy.join(", ")
            ));
        }
        notes
    }

    fn export(&self, _spec: &mut serde_json::Value, cx: &mut crate::export::ExportCx<'_>) -> Result<(), String> {
        let conditioned = conditioned_permissions(cx.live);
        if !conditioned.is_empty() {
            cx.warn(format!(
                "the org limits {} with conditions, which a manifest cannot declare: applied to another org, the manifest grants them without conditions (add the conditions there by hand)",
                conditioned.join(", ")
            ));
        }
        let legacy = legacy_permissions(cx.live);
        if !legacy.is_empty() {
            cx.warn(format!(
                "the role's legacy `permissions` list ({}) is not exported: a manifest declares permission policies only, and an update that writes them removes the list (the plan says so)",
                legacy.join(", ")
            ));
        }
        Ok(())
    }

    /// Wildcards compare after expansion: see [`align_permissions`].
    fn align_live(
        &self,
        desired: &serde_json::Value,
        live: &mut serde_json::Value,
        lookups: &super::org::Lookups,
    ) {
        let strings = |value: &serde_json::Value| -> Option<Vec<String>> {
            let items = value.get("permissions")?.as_array()?;
            Some(items.iter().filter_map(|p| p.as_str().map(str::to_string)).collect())
        };
        let (Some(declared), Some(held)) = (strings(desired), strings(live)) else { return };
        let declared: Vec<&str> = declared.iter().map(String::as_str).collect();
        let aligned = align_permissions(&declared, held, lookups.permission_catalog());
        live["permissions"] = serde_json::json!(aligned);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A role whose grants the caller may lose before its delete gives no
    /// `authorization` permission, by policy or legacy name.
    #[test]
    fn roles_giving_authorization_permissions_are_told() {
        let policy = |domain: &str| {
            serde_json::json!({"permissionPolicies": [{"domain": domain, "entityName": "*", "actionSet": ["*"]}]})
        };
        assert!(gives_authorization(&policy("authorization")));
        assert!(gives_authorization(&policy("*")));
        assert!(!gives_authorization(&policy("conversation")));
        assert!(gives_authorization(&serde_json::json!({"permissions": ["admin"]})));
        assert!(!gives_authorization(&serde_json::json!({})));
    }

    #[test]
    fn permissions_group_into_policies() {
        let role = RoleSpec {
            name: "r".into(),
            description: None,
            permissions: vec![
                "conversation:message:create".into(),
                "conversation:message:view".into(),
                "routing:queue:*".into(),
            ],
        };
        let policies = role.policies();
        assert_eq!(policies[&("conversation".into(), "message".into())], vec!["create", "view"]);
        assert_eq!(policies[&("routing".into(), "queue".into())], vec!["*"]);
        assert!(parse_permission("a:b").is_none());
        assert!(parse_permission("*:b:c").is_none());
        assert!(parse_permission("a:b:c:d").is_none());
    }

    #[test]
    fn a_wildcard_action_is_sent_alone() {
        let role = RoleSpec {
            name: "r".into(),
            description: None,
            permissions: vec!["routing:queue:view".into(), "routing:queue:*".into()],
        };
        assert_eq!(role.policies()[&("routing".into(), "queue".into())], vec!["*"]);
    }

    fn warnings(permissions: &[&str]) -> Vec<(String, String, Option<String>)> {
        let role = RoleSpec {
            name: "R".into(),
            description: None,
            permissions: permissions.iter().map(|p| (*p).to_string()).collect(),
        };
        let mut findings = Findings::default();
        role.check(&mut findings);
        findings
            .into_vec()
            .into_iter()
            .inspect(|f| assert_eq!(f.severity, crate::manifest::diag::Severity::Warning, "{f:?}"))
            .map(|f| (f.pointer, f.message, f.hint))
            .collect()
    }

    #[test]
    fn unknown_permissions_are_warnings_with_a_suggestion() {
        assert!(warnings(&["conversation:message:receive", "routing:queue:*", "routing:*:*"]).is_empty());
        let found = warnings(&["routing:queue:view", "conversations:message:receive"]);
        assert_eq!(found.len(), 1, "{found:?}");
        let (pointer, message, hint) = &found[0];
        assert_eq!(pointer, "/spec/permissions/1");
        assert!(message.contains("`conversations:message:receive` is not in the permission catalog"));
        assert_eq!(hint.as_deref(), Some("did you mean `conversation:message:receive`?"));
        let found = warnings(&["routng:queue:*", "routing:queues:*", "nothinglikeit:*:*"]);
        let messages: Vec<(&str, Option<&str>)> =
            found.iter().map(|(_, m, h)| (m.as_str(), h.as_deref())).collect();
        assert_eq!(
            messages[0],
            (
                "`routng:queue:*` matches no known permission: there is no domain `routng`",
                Some("did you mean `routing:queue:*`?")
            )
        );
        assert_eq!(
            messages[1],
            (
                "`routing:queues:*` matches no known permission: the domain `routing` has no entity `queues`",
                Some("did you mean `routing:queue:*`?")
            )
        );
        assert!(messages[2].1.is_some_and(|h| h.contains("lower bound")), "{messages:?}");
    }

    fn catalog() -> Catalog {
        Catalog::new(
            [
                "routing:queue:add",
                "routing:queue:edit",
                "routing:queue:view",
                "routing:skill:view",
                "oauth:client:view",
            ]
            .map(String::from),
        )
    }

    fn align(declared: &[&str], live: &[&str]) -> Vec<String> {
        align_permissions(declared, live.iter().map(|p| (*p).to_string()), &catalog())
    }

    #[test]
    fn a_declared_wildcard_equals_its_expansion_and_no_less() {
        let queue_actions = ["routing:queue:add", "routing:queue:edit", "routing:queue:view"];
        // The API's expansion, with an action the catalog does not know.
        let live = [&queue_actions[..], &["routing:queue:join", "oauth:client:view"]].concat();
        assert_eq!(
            align(&["routing:queue:*", "oauth:client:view"], &live),
            ["oauth:client:view", "routing:queue:*"]
        );
        // The wildcard as written (an API that does not expand).
        assert_eq!(align(&["routing:queue:*"], &["routing:queue:*"]), ["routing:queue:*"]);
        // One action short: a real change, shown as what is missing.
        assert_eq!(
            align(&["routing:queue:*"], &["routing:queue:add", "routing:queue:view"]),
            ["routing:queue:* without routing:queue:edit"]
        );
        // None of it held: nothing to say but that it is missing.
        assert_eq!(align(&["routing:queue:*"], &["oauth:client:view"]), ["oauth:client:view"]);
        // Declared actions a covered wildcard also grants stay declared.
        assert_eq!(
            align(&["routing:queue:*", "routing:queue:view"], &queue_actions),
            ["routing:queue:*", "routing:queue:view"]
        );
        // A broader wildcard covers a narrower one.
        let all = [&queue_actions[..], &["routing:skill:view"]].concat();
        assert_eq!(
            align(&["routing:*:*", "routing:queue:*"], &all),
            ["routing:*:*", "routing:queue:*"]
        );
    }

    #[test]
    fn a_live_wildcard_compares_with_declared_actions_through_the_catalog() {
        let declared = ["routing:queue:add", "routing:queue:edit", "routing:queue:view"];
        assert_eq!(align(&declared, &["routing:queue:*"]), declared);
        // Unknown to the catalog: left as it is.
        assert_eq!(align(&declared, &["billing:*:*"]), ["billing:*:*"]);
        // Declared but unknown to the catalog: any matching live permission is its expansion.
        assert_eq!(align(&["billing:invoice:*"], &["billing:invoice:view"]), ["billing:invoice:*"]);
        assert!(align(&["billing:invoice:*"], &[]).is_empty());
    }

    /// A conditioned policy is kept on a write, narrowed to the declared
    /// actions (a conditioned wildcard, as an older API returns it, to the
    /// declared actions it grants), and what it grants is not granted again
    /// without the conditions; the note names only what is kept.
    #[test]
    fn conditioned_policies_are_kept_narrowed_and_never_widened() {
        use super::super::org::{Lookups, OrgKind};
        let condition = serde_json::json!({"variableName": "Queue.id", "operator": "EQ", "operands": []});
        let live = serde_json::json!({"name": "R", "permissionPolicies": [
            {"domain": "routing", "entityName": "queue", "actionSet": ["*"], "resourceConditionNode": condition},
            {"domain": "routing", "entityName": "skill", "actionSet": ["view", "edit"], "resourceConditionNode": condition},
        ]});
        let desired = serde_json::json!({"name": "R", "permissions": ["routing:queue:view", "routing:skill:view", "routing:language:view"]});
        let body = Org.body(&desired, Some(&live), &Lookups::default()).unwrap();
        assert_eq!(
            body["permissionPolicies"],
            serde_json::json!([
                {"domain": "routing", "entityName": "queue", "actionSet": ["view"], "resourceConditionNode": condition},
                {"domain": "routing", "entityName": "skill", "actionSet": ["view"], "resourceConditionNode": condition},
                {"domain": "routing", "entityName": "language", "actionSet": ["view"]},
            ])
        );
        let notes = Org.notes(&desired, Some(&live), &[], &Lookups::default());
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].starts_with("the org limits routing:queue:view, routing:skill:view with conditions"), "{notes:?}");
    }

    #[test]
    fn the_plan_compares_through_the_catalog_in_the_lookups() {
        use super::super::org::{Lookups, OrgKind};
        let desired = serde_json::json!({"name": "R", "permissions": ["routing:queue:*"]});
        let live = serde_json::json!({"name": "R", "permissions": ["routing:queue:add", "routing:queue:edit", "routing:queue:view"]});
        let aligned = |lookups: &Lookups| {
            let mut live = live.clone();
            Org.align_live(&desired, &mut live, lookups);
            live["permissions"].clone()
        };
        let mut org_catalog = Lookups::default();
        org_catalog.permission_catalog = Some(std::sync::Arc::new(catalog()));
        assert_eq!(aligned(&org_catalog), serde_json::json!(["routing:queue:*"]));
        // The embedded catalog knows more `routing:queue:` actions than this live role holds.
        let short = aligned(&Lookups::default());
        let short = short[0].as_str().unwrap_or_default();
        assert!(short.starts_with("routing:queue:* without routing:queue:delete, "), "{short}");
    }
}
