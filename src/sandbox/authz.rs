//! Who may do what: grants, effective permissions, the permission each
//! endpoint requires, and the 403 a caller without it gets.
//!
//! - A subject's grants are (role, division) pairs: an OAuth client's are its
//!   `roleDivisions`; a user's are kept server-side in `Kind::Grants`.
//! - A subject's effective permissions are the union, over its grants, of its
//!   roles' policies (`domain:entityName:action` for each action of
//!   `actionSet`), wildcards (`*` segments) matched with
//!   [`permissions::matches`]. `Master Admin` holds `*:*:*`, so every
//!   permission of the catalog.
//! - Division scoping: the middleware first checks an endpoint's permission
//!   in ANY division (a caller holding it nowhere gets the plain 403). Then,
//!   for the resources whose objects carry a division (`Spec::division`:
//!   queues, flows, wrap-up codes, skills), the permissions of the
//!   resource's entity (`routing:queue:*` for queues) are checked in the
//!   division of the object the request touches, as a real org does
//!   (`permissions::DIVISION_AWARE`): an item route ([`authorize`]) in the
//!   object's current division, a create or update ([`authorize_at`], from
//!   the generic CRUD) in the division the object ends up in, and a list
//!   ([`visible`]) shows only the objects in divisions where the caller may
//!   view them. A grant in `*` counts in every division. An object in no
//!   division, or in all (`*`, a wrap-up code created without one), is
//!   checked in any division (UNVERIFIED). Moving objects between
//!   divisions needs the edit permission in both (`routes::divisions`);
//!   granting a role needs `authorization:grant:add` in the grant's
//!   division (`routes::authorization`). Granting a role to an OAuth client
//!   also needs the role held in that division: see [`holds_role`].
//! - Every served route has a known requirement ([`requirement`]): the
//!   table of `permissions::required`, which gcctl's plan check uses too. A
//!   served route with none answers 500 (a test covers every served route).

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::auth::Subject;
use super::common::ref_id;
use super::error::ApiError;
use super::store::{Kind, Store};
use crate::permissions::{self, Catalog, Mode, Requirement};

/// One grant: a role in a division.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: String,
    pub division: String,
}

/// What `method template` requires ([`permissions::required`], the table
/// gcctl's plan checks too); `HEAD` falls back to `GET` (axum answers HEAD
/// with the GET handler).
pub fn requirement(method: &str, template: &str) -> Option<&'static Requirement> {
    let find = |method: &str| permissions::required(method, template);
    find(method).or_else(|| if method == "HEAD" { find("GET") } else { None })
}

/// The grants of a subject (an unknown subject has none).
pub fn grants(store: &Store, subject: &Subject) -> Vec<Grant> {
    let (object, key) = match subject {
        Subject::Client(id) => (store.get(Kind::OauthClients, id), "roleDivisions"),
        Subject::User(id) => (store.get(Kind::Grants, id), "grants"),
    };
    object
        .and_then(|o| o.get(key))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|g| {
            Some(Grant {
                role: g.get("roleId")?.as_str()?.to_string(),
                division: g.get("divisionId")?.as_str()?.to_string(),
            })
        })
        .collect()
}

/// The permission patterns of a role's policies (`domain:entity:action`,
/// possibly with `*` segments).
pub fn role_patterns(role: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for policy in role.get("permissionPolicies").and_then(Value::as_array).into_iter().flatten() {
        let text = |key: &str| policy.get(key).and_then(Value::as_str).unwrap_or_default();
        let (domain, entity) = (text("domain"), text("entityName"));
        for action in policy.get("actionSet").and_then(Value::as_array).into_iter().flatten() {
            if let Some(action) = action.as_str() {
                out.push(format!("{domain}:{entity}:{action}"));
            }
        }
    }
    out
}

/// The division id of a grant in every division.
const ALL_DIVISIONS: &str = "*";

/// What a caller holds: permission patterns, each in the division of the
/// grant that gives it.
#[derive(Debug, Default)]
pub struct Held {
    /// (pattern, division id).
    patterns: Vec<(String, String)>,
}

impl Held {
    pub fn of(store: &Store, subject: &Subject) -> Held {
        let mut patterns = Vec::new();
        for grant in grants(store, subject) {
            let Some(role) = store.get(Kind::Roles, &grant.role) else { continue };
            for pattern in role_patterns(role) {
                patterns.push((pattern, grant.division.clone()));
            }
        }
        Held { patterns }
    }

    /// Whether the caller holds `permission` in some division.
    pub fn holds(&self, permission: &str) -> bool {
        self.patterns.iter().any(|(pattern, _)| permissions::matches(pattern, permission))
    }

    /// Whether the caller holds `permission` in `division` (or in `*`).
    pub fn holds_in(&self, permission: &str, division: &str) -> bool {
        self.patterns.iter().any(|(pattern, held)| {
            (held == division || held == ALL_DIVISIONS) && permissions::matches(pattern, permission)
        })
    }

    /// Whether `permission` may be used on an object at `place`, for a
    /// resource whose `entity` (`routing:queue`) permissions are checked in
    /// the object's division; other permissions count in any division.
    fn allows(&self, permission: &str, entity: Option<&str>, place: Place<'_>) -> bool {
        let scoped = entity
            .is_some_and(|e| permission.strip_prefix(e).is_some_and(|rest| rest.starts_with(':')));
        match place {
            Place::In(division) if scoped => self.holds_in(permission, division),
            _ => self.holds(permission),
        }
    }
}

/// Where an object is, for division-scoped permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place<'a> {
    /// In no division (an object stored without one).
    Nowhere,
    /// In every division (`{"id": "*"}`: a wrap-up code created without one).
    Everywhere,
    In(&'a str),
}

/// The place of an object from its `division` field.
pub fn place(division: Option<&Value>) -> Place<'_> {
    match ref_id(division) {
        None => Place::Nowhere,
        Some(ALL_DIVISIONS) => Place::Everywhere,
        Some(id) => Place::In(id),
    }
}

/// Check that the caller may use `requirement` on an object at `place`, the
/// permissions of `entity` in the object's division (see the module docs).
/// The caller holds them in some division already (the middleware checked),
/// so a refusal names the division.
pub fn authorize_at(
    store: &Store,
    subject: &Subject,
    requirement: Option<&Requirement>,
    entity: Option<&str>,
    place: Place<'_>,
) -> Result<(), ApiError> {
    let Some(requirement) = requirement.filter(|r| r.mode != Mode::None) else { return Ok(()) };
    let held = Held::of(store, subject);
    if requirement.satisfied_by(|p| held.allows(p, entity, place)) {
        return Ok(());
    }
    let Place::In(division) = place else {
        return Err(missing_any(&requirement.permissions));
    };
    let missing: Vec<&str> = requirement
        .permissions
        .iter()
        .map(String::as_str)
        .filter(|p| requirement.mode == Mode::Any || !held.allows(p, entity, place))
        .collect();
    Err(missing_in_division(store, &missing, division))
}

/// The check of an item route (`{item}` or below it, e.g. a queue's
/// members) of a resource whose objects carry a division: the object the
/// path names, in its current division. An unknown object is left to the
/// handler (404).
fn authorize_object(
    store: &Store,
    subject: &Subject,
    requirement: &Requirement,
    template: &str,
    path: &str,
) -> Result<(), ApiError> {
    let below = |item: &str| {
        template == item || template.strip_prefix(item).is_some_and(|rest| rest.starts_with('/'))
    };
    let Some(spec) =
        super::routes::RESOURCES.iter().find(|s| s.division.is_some() && below(s.item))
    else {
        return Ok(());
    };
    let index = spec.item.split('/').count() - 1;
    let object = path.split('/').nth(index).and_then(|id| store.get(spec.kind, id));
    let Some(object) = object else { return Ok(()) };
    authorize_at(store, subject, Some(requirement), spec.division, place(object.get("division")))
}

/// A test of whether the caller may see a listed object.
pub type Visible = Box<dyn Fn(&Value) -> bool>;

/// The objects of a list the caller may see: `None` when it may see every
/// division's (nothing to filter), else a test of an object's division.
/// Objects in no division or in all are shown (the caller holds the view
/// permission somewhere: the middleware checked).
pub fn visible(
    store: &Store,
    subject: &Subject,
    requirement: Option<&Requirement>,
    entity: Option<&'static str>,
) -> Option<Visible> {
    let requirement = requirement.filter(|r| r.mode != Mode::None)?;
    entity?;
    let held = Held::of(store, subject);
    let all: Vec<String> = store
        .all(Kind::Divisions)
        .filter_map(|d| d.get("id").and_then(Value::as_str).map(str::to_string))
        .collect();
    let seen: BTreeSet<String> = all
        .iter()
        .filter(|d| requirement.satisfied_by(|p| held.allows(p, entity, Place::In(d))))
        .cloned()
        .collect();
    if seen.len() == all.len() {
        return None;
    }
    Some(Box::new(move |object: &Value| match place(object.get("division")) {
        Place::In(division) => seen.contains(division),
        Place::Nowhere | Place::Everywhere => true,
    }))
}

/// Whether `subject` holds `role` in `division`. A grant counts only in its
/// own division: the stricter reading of "the caller can only grant roles it
/// already holds" (UNVERIFIED whether a real org checks the division too).
pub fn holds_role(store: &Store, subject: &Subject, role: &str, division: &str) -> bool {
    grants(store, subject).iter().any(|g| g.role == role && g.division == division)
}

/// 403 for granting a role the caller does not hold in that division (to an
/// OAuth client). The real rule, from the Genesys Terraform provider: "The
/// roles must also already be assigned to the OAuth Client used by
/// Terraform" (`oauth_client/resource_genesyscloud_oauth_client_schema.go`,
/// `roles`), and "You might get an error in your terraform scripts if you try
/// to create a role in CX as Code and try to assign it to the oauth client"
/// (`resource_genesyscloud_oauth_client.go` updateTerraformUserWithRole).
/// The real status, code and message are UNVERIFIED: the sandbox answers 403
/// `not.authorized`, naming the role, the division and the field.
pub fn cannot_grant(store: &Store, role: &str, division: &str, field: Option<&str>) -> ApiError {
    let name = |kind, id: &str| {
        store
            .get(kind, id)
            .and_then(|o| o.get("name"))
            .and_then(Value::as_str)
            .map_or_else(|| id.to_string(), |name| format!("'{name}' ({id})"))
    };
    let mut error = ApiError::new(
        StatusCode::FORBIDDEN,
        "not.authorized",
        format!(
            "Unable to grant the role {} in the division {}: the caller does not hold that role in that division. The roles must also already be assigned to the OAuth client (or user) making the request.",
            name(Kind::Roles, role),
            name(Kind::Divisions, division),
        ),
    );
    if let Some(field) = field {
        error.details.push(super::error::Detail {
            field_name: field.to_string(),
            error_code: "not.authorized",
        });
    }
    error
}

/// Check the caller against the requirement of the endpoint it called: in
/// any division, then, on an item route of a resource whose objects carry a
/// division, in the division of the object `path` names.
pub fn authorize(
    store: &Store,
    subject: &Subject,
    method: &str,
    template: &str,
    path: &str,
) -> Result<(), ApiError> {
    let Some(requirement) = requirement(method, template) else {
        return Err(ApiError::internal(format!(
            "The sandbox knows no permission requirement for {method} {template}."
        )));
    };
    if requirement.mode == Mode::None {
        return Ok(());
    }
    let held = Held::of(store, subject);
    if requirement.satisfied_by(|p| held.holds(p)) {
        return authorize_object(store, subject, requirement, template, path);
    }
    Err(match requirement.mode {
        Mode::All => {
            let missing: Vec<&str> = requirement
                .permissions
                .iter()
                .map(String::as_str)
                .filter(|p| !held.holds(p))
                .collect();
            missing_all(&missing)
        }
        Mode::Any | Mode::None => missing_any(&requirement.permissions),
    })
}

/// 403 for a caller holding none of the permissions one of which an
/// endpoint needs. Real wording: "Unable to perform the requested action.
/// You must have at least one of the following permissions assigned:
/// \[journey:actionmap:view\]" (Genesys Terraform provider issues #1133 and
/// #277, quoting API answers); code `missing.any.permissions` with status
/// 403 (the `isMissingPermissionsError` check of the
/// `@makingchatbots/genesys-cloud-mcp-server` package).
pub fn missing_any(permissions: &[String]) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "missing.any.permissions",
        format!(
            "Unable to perform the requested action. You must have at least one of the following permissions assigned: [{}]",
            permissions.join(", ")
        ),
    )
}

/// 403 for a caller that holds the permissions an endpoint needs, but not in
/// the division of the object the request touches. The real body is
/// UNVERIFIED: the sandbox answers like [`missing_any`] (status, code and
/// wording) and names the division.
pub fn missing_in_division(store: &Store, missing: &[&str], division: &str) -> ApiError {
    let name = store
        .get(Kind::Divisions, division)
        .and_then(|d| d.get("name"))
        .and_then(Value::as_str)
        .map_or_else(|| division.to_string(), |name| format!("'{name}' ({division})"));
    ApiError::new(
        StatusCode::FORBIDDEN,
        "missing.any.permissions",
        format!(
            "Unable to perform the requested action. You must have at least one of the following permissions assigned: [{}] in the division {name}",
            missing.join(", ")
        ),
    )
}

/// 403 for a caller missing some of the permissions an endpoint needs all of.
/// Real wording: "Unable to perform the requested action. You are missing the
/// following permission(s): ..." (Genesys Terraform provider issue #278,
/// quoting an API answer). The code `missing.permissions` is UNVERIFIED.
pub fn missing_all(missing: &[&str]) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "missing.permissions",
        format!(
            "Unable to perform the requested action. You are missing the following permission(s): [{}]",
            missing.join(", ")
        ),
    )
}

/// Role policies as a read shows them: policies with a wildcard (`*` as
/// domain, entity or action) are expanded into explicit actions from the
/// catalog, one policy per (domain, entity), as the real API does since the
/// "wildcard permission deprecation (effective June 1, 2026)" (Genesys
/// Terraform provider, `auth_role/resource_genesyscloud_auth_role_utils.go`
/// flattenRolePermissionPoliciesWithWildcardSuppress). Conditions of an
/// expanded policy are dropped (the provider's unit tests: "the API does not
/// return conditions for a policy (due to wildcard expansion)"). Explicit
/// policies are returned as stored, and expanded actions they already list
/// are not repeated.
pub fn expand_policies(policies: &[Value]) -> Vec<Value> {
    let catalog = Catalog::embedded();
    let mut explicit = Vec::new();
    let mut listed: BTreeSet<String> = BTreeSet::new();
    let mut expanded: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for policy in policies {
        let wildcard = role_patterns(&json!({"permissionPolicies": [policy]}));
        if !wildcard.iter().any(|p| p.contains('*')) {
            listed.extend(wildcard);
            explicit.push(policy.clone());
            continue;
        }
        for pattern in wildcard {
            for permission in catalog.expand(&pattern) {
                let mut parts = permission.splitn(3, ':');
                if let (Some(domain), Some(entity), Some(action)) =
                    (parts.next(), parts.next(), parts.next())
                {
                    expanded
                        .entry((domain.to_string(), entity.to_string()))
                        .or_default()
                        .insert(action.to_string());
                }
            }
        }
    }
    let mut out = explicit;
    for ((domain, entity), actions) in expanded {
        let actions: Vec<&String> = actions
            .iter()
            .filter(|a| !listed.contains(&format!("{domain}:{entity}:{a}")))
            .collect();
        if !actions.is_empty() {
            out.push(json!({
                "domain": domain, "entityName": entity, "actionSet": actions,
                "allowConditions": false,
            }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_endpoints_find_their_requirement() {
        assert!(requirement("HEAD", "/api/v2/routing/queues").is_some());
        assert!(requirement("GET", "/api/v2/users/me").is_some());
        assert!(requirement("GET", "/api/v2/nothing").is_none());
    }

    #[test]
    fn expansion_lists_explicit_actions_once() {
        let policies = [
            json!({"domain": "routing", "entityName": "queue", "actionSet": ["view"], "allowConditions": true}),
            json!({"domain": "routing", "entityName": "queue", "actionSet": ["*"]}),
        ];
        let out = expand_policies(&policies);
        assert_eq!(out[0], policies[0]);
        let rest = &out[1];
        assert_eq!(
            (rest["domain"].as_str(), rest["entityName"].as_str()),
            (Some("routing"), Some("queue"))
        );
        let actions: Vec<&str> =
            rest["actionSet"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert!(actions.contains(&"edit") && !actions.contains(&"view"), "{actions:?}");
        assert_eq!(out.len(), 2);
        let all = expand_policies(&[json!({"domain": "*", "entityName": "*", "actionSet": ["*"]})]);
        let count: usize = all.iter().map(|p| p["actionSet"].as_array().unwrap().len()).sum();
        assert_eq!(count, Catalog::embedded().len());
    }

    #[test]
    fn the_403_bodies_name_the_permissions() {
        let any = missing_any(&["routing:queue:view".into()]);
        assert_eq!((any.status.as_u16(), any.code), (403, "missing.any.permissions"));
        assert!(any.message.ends_with("assigned: [routing:queue:view]"), "{}", any.message);
        let all = missing_all(&["a:b:c", "a:b:d"]);
        assert!(all.message.ends_with("permission(s): [a:b:c, a:b:d]"), "{}", all.message);
    }
}
