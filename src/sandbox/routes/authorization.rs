//! Authorization: the permission catalog, subjects (who holds which role in
//! which division) and grants.
//!
//! - `GET /api/v2/authorization/permissions` ("Requires NO permissions"):
//!   the catalog built into gcctl (`permissions::Catalog::embedded`, less
//!   `SandboxConfig::catalog_without`), one
//!   `DomainPermissionCollection` per domain, sorted by domain, each with its
//!   `permissionMap` (entity type to its `DomainPermission`s), paged
//!   (`pageSize` up to 100: the provider pages it with 100, the real maximum
//!   is UNVERIFIED). `queryType=domain&query=a,b` keeps the named domains;
//!   `queryType=permission&query=p,q` keeps the permissions named (exactly,
//!   or through `*` segments), in their domains (API reference §l; the exact
//!   matching of a permission query is UNVERIFIED). A `query` without
//!   `queryType` is 400. The collection `id` and `name` are the domain; a
//!   permission's `label` is its action capitalized, `allowsConditions` is
//!   false and `divisionAware` is true for the entities of
//!   `permissions::DIVISION_AWARE` (the catalog does not carry them; UNVERIFIED).
//! - `GET /api/v2/authorization/subjects/me` (no permission) and
//!   `.../subjects/{subjectId}` (`authorization:grant:view`) answer an
//!   `AuthzSubject` (`grants`: role with its policies, division, and
//!   `grantMadeAt` for user grants). A subject is a user or, as an
//!   extension whose real behavior is UNVERIFIED, an OAuth client (the
//!   subject of a client-credentials token; its grants are its
//!   `roleDivisions`). With `SandboxConfig::client_subjects` off, `subjects/me`
//!   refuses a client-credentials token (400), the other reading.
//! - `POST` / `DELETE .../subjects/{subjectId}/divisions/{divisionId}/roles/{roleId}`
//!   grant or revoke a role in a division (204). `subjectType` is `PC_USER`
//!   (default), `PC_GROUP` (the sandbox has no groups: 404) or
//!   `PC_OAUTH_CLIENT` (not in the SDK docs, which list `PC_GROUP` and `PC_USER`;
//!   Genesys Terraform provider issue #2053 says the API accepts it), which
//!   adds to or removes from the client's `roleDivisions`. Unknown roles,
//!   divisions and subjects are 404. Granting twice is a no-op; revoking a
//!   grant that does not exist is 204 too (UNVERIFIED).
//! - `POST /api/v2/authorization/roles/{roleId}` (`SubjectDivisions`
//!   `{subjectIds, divisionIds}`, `subjectType` as above) grants the role to
//!   every subject in every division, all or nothing (204).
//! - Who may grant what: the endpoint's permission (`authorization:grant:add`,
//!   or `:delete` to revoke) in the grant's division (UNVERIFIED: the
//!   stricter reading), for any grant. Granting to an OAuth client also needs the caller to hold
//!   the role in that division (the rule of `POST/PUT /api/v2/oauth/clients`,
//!   see `authz::cannot_grant`). Granting to a user does not: the Genesys
//!   Terraform provider, running as a user, adds the roles it is about to
//!   give an OAuth client to its own user first
//!   (`oauth_client/resource_genesyscloud_oauth_client.go`
//!   updateTerraformUserWithRole), which would be impossible if users could
//!   only be granted roles the granter holds; a new custom role could then
//!   never be granted to anyone.

use std::collections::BTreeMap;

use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::input::{Body, Params, Shape, field};
use super::paging::{page, render_page};
use crate::permissions::{self, Catalog};
use crate::sandbox::auth::{Caller, Subject};
use crate::sandbox::authz::{Held, cannot_grant, expand_policies, holds_role, missing_in_division};
use crate::sandbox::common::{name_of, now, self_uri};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::server::Shared;
use crate::sandbox::store::{Kind, Store};

const PERMISSIONS: &str = "/api/v2/authorization/permissions";
const SUBJECTS: &str = "/api/v2/authorization/subjects";
/// `subjectType` values: the SDK's two, plus `PC_OAUTH_CLIENT` (see the module docs).
const SUBJECT_TYPES: &[&str] = &["PC_USER", "PC_GROUP", "PC_OAUTH_CLIENT"];

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(PERMISSIONS, get(catalog))
        .route("/api/v2/authorization/subjects/me", get(subject_me))
        .route("/api/v2/authorization/subjects/{subjectId}", get(subject))
        .route(
            "/api/v2/authorization/subjects/{subjectId}/divisions/{divisionId}/roles/{roleId}",
            post(grant).delete(revoke),
        )
        .route("/api/v2/authorization/roles/{roleId}", post(bulk_grant))
}

async fn catalog(State(state): State<Shared>, params: Params) -> ApiResult<Json<Value>> {
    let page = page(&params, 100)?;
    let query = params.all("query");
    let keep: Box<dyn Fn(&str) -> bool + '_> = match params.get("queryType") {
        None | Some("") if query.is_empty() => Box::new(|_| true),
        None | Some("") => {
            return Err(ApiError::bad_field(
                "queryType",
                "The query parameter 'query' needs a 'queryType' (domain or permission).",
            ));
        }
        Some("domain") => Box::new(move |p: &str| {
            query.is_empty() || query.iter().any(|d| p.split(':').next() == Some(d))
        }),
        Some("permission") => Box::new(move |p: &str| {
            query.is_empty() || query.iter().any(|q| permissions::matches(q, p))
        }),
        Some(other) => {
            return Err(ApiError::bad_field(
                "queryType",
                format!(
                    "Value [{other}] is not valid for field type [QueryType]. Allowable values are: domain, permission"
                ),
            ));
        }
    };
    // domain -> entity -> actions, all sorted.
    let mut domains: BTreeMap<&str, BTreeMap<&str, Vec<&str>>> = BTreeMap::new();
    let left_out = &state.config.catalog_without;
    let served = Catalog::embedded().iter().filter(|p| !left_out.iter().any(|l| l == p));
    for permission in served.filter(|p| keep(p)) {
        let mut parts = permission.splitn(3, ':');
        if let (Some(domain), Some(entity), Some(action)) =
            (parts.next(), parts.next(), parts.next())
        {
            domains.entry(domain).or_default().entry(entity).or_default().push(action);
        }
    }
    let entities: Vec<Value> = domains
        .iter()
        .map(|(domain, entities)| {
            let map: Map<String, Value> = entities
                .iter()
                .map(|(entity, actions)| {
                    let list = actions
                        .iter()
                        .map(|action| {
                            json!({
                                "domain": domain, "entityType": entity, "action": action,
                                "label": capitalized(action),
                                "allowsConditions": false,
                                "divisionAware": permissions::division_aware(&format!("{domain}:{entity}:{action}")),
                            })
                        })
                        .collect();
                    ((*entity).to_string(), Value::Array(list))
                })
                .collect();
            json!({"id": domain, "name": domain, "domain": domain, "permissionMap": map})
        })
        .collect();
    let matched: Vec<&Value> = entities.iter().collect();
    Ok(Json(render_page(PERMISSIONS, &params, page, false, matched, Value::clone)))
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The subject an id names: a user, else an OAuth client.
fn find_subject(store: &Store, id: &str) -> Option<Subject> {
    if store.get(Kind::Users, id).is_some() {
        Some(Subject::User(id.to_string()))
    } else if store.get(Kind::OauthClients, id).is_some() {
        Some(Subject::Client(id.to_string()))
    } else {
        None
    }
}

async fn subject_me(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    if matches!(caller.subject, Subject::Client(_)) && !state.config.client_subjects {
        // `SandboxConfig::client_subjects` off: refused like `users/me`
        // (status and wording UNVERIFIED).
        return Err(ApiError::bad_request(
            "This request is not valid when using the Client Credentials OAuth grant.",
        ));
    }
    Ok(Json(render_subject(&state.store_read(), &caller.subject)))
}

async fn subject(State(state): State<Shared>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let store = state.store_read();
    let subject = find_subject(&store, &id).ok_or_else(|| ApiError::not_found("subject", &id))?;
    Ok(Json(render_subject(&store, &subject)))
}

/// An `AuthzSubject`.
fn render_subject(store: &Store, subject: &Subject) -> Value {
    let object = store.get(subject.kind(), subject.id());
    let stored_grants = match subject {
        Subject::User(id) => store.get(Kind::Grants, id).and_then(|g| g.get("grants")),
        Subject::Client(_) => object.and_then(|c| c.get("roleDivisions")),
    };
    let mut policies: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut grants = Vec::new();
    for grant in stored_grants.and_then(Value::as_array).into_iter().flatten() {
        let text = |key: &str| grant.get(key).and_then(Value::as_str).unwrap_or_default();
        let (role_id, division_id) = (text("roleId"), text("divisionId"));
        let (Some(role), Some(division)) =
            (store.get(Kind::Roles, role_id), store.get(Kind::Divisions, division_id))
        else {
            continue;
        };
        let role_policies = policies.entry(role_id.to_string()).or_insert_with(|| {
            let stored = role.get("permissionPolicies").and_then(Value::as_array);
            expand_policies(stored.map_or(&[][..], Vec::as_slice))
                .iter()
                .map(|p| {
                    json!({"domain": p["domain"], "entityName": p["entityName"], "actions": p["actionSet"]})
                })
                .collect()
        });
        let mut out = json!({
            "subjectId": subject.id(),
            "division": division,
            "role": {
                "id": role_id, "name": name_of(role),
                "description": role.get("description").cloned().unwrap_or(Value::Null),
                "policies": role_policies, "default": role.get("default").cloned().unwrap_or(json!(false)),
                "selfUri": self_uri(Kind::Roles, role_id),
            },
        });
        if out["role"]["description"].is_null() {
            out["role"].as_object_mut().map(|r| r.remove("description"));
        }
        if let Some(stamp) = grant.get("grantMadeAt") {
            out["grantMadeAt"] = stamp.clone();
        }
        grants.push(out);
    }
    json!({
        "id": subject.id(),
        "name": object.map(name_of).unwrap_or_default(),
        "grants": grants,
        "version": 1,
        "selfUri": format!("{SUBJECTS}/{}", subject.id()),
    })
}

/// The `subjectType` query parameter (default `PC_USER`).
fn subject_type(params: &Params) -> ApiResult<&str> {
    let value = params.get("subjectType").filter(|v| !v.is_empty()).unwrap_or("PC_USER");
    if SUBJECT_TYPES.contains(&value) {
        Ok(value)
    } else {
        Err(ApiError::bad_field(
            "subjectType",
            format!(
                "Value [{value}] is not valid for field type [SubjectType]. Allowable values are: {}",
                SUBJECT_TYPES.join(", ")
            ),
        ))
    }
}

/// The subject of a grant, by type; 404 when it does not exist.
fn grant_subject(store: &Store, kind: &str, id: &str) -> ApiResult<Subject> {
    match kind {
        "PC_USER" if store.get(Kind::Users, id).is_some() => Ok(Subject::User(id.to_string())),
        "PC_OAUTH_CLIENT" if store.get(Kind::OauthClients, id).is_some() => {
            Ok(Subject::Client(id.to_string()))
        }
        "PC_USER" => Err(ApiError::not_found("user", id)),
        "PC_OAUTH_CLIENT" => Err(ApiError::not_found("OAuth client", id)),
        _ => Err(ApiError::not_found("group", id)),
    }
}

/// Check one grant (or revocation) before applying any.
fn check_grant(
    store: &Store,
    caller: &Caller,
    subject: &Subject,
    role: &str,
    division: &str,
    add: bool,
) -> ApiResult<()> {
    if store.get(Kind::Roles, role).is_none() {
        return Err(ApiError::not_found("role", role));
    }
    if store.get(Kind::Divisions, division).is_none() {
        return Err(ApiError::not_found("division", division));
    }
    // The grant permission counts in the grant's division (see `authz`).
    let permission = if add { "authorization:grant:add" } else { "authorization:grant:delete" };
    if !Held::of(store, &caller.subject).holds_in(permission, division) {
        return Err(missing_in_division(store, &[permission], division));
    }
    let needs_hold = add && matches!(subject, Subject::Client(_));
    if needs_hold && !holds_role(store, &caller.subject, role, division) {
        return Err(cannot_grant(store, role, division, None));
    }
    Ok(())
}

/// Add or remove one grant (already checked).
fn apply_grant(store: &mut Store, subject: &Subject, role: &str, division: &str, add: bool) {
    let same = |g: &Value| g["roleId"] == role && g["divisionId"] == division;
    match subject {
        Subject::User(id) => {
            let mut record = store
                .get(Kind::Grants, id)
                .cloned()
                .unwrap_or_else(|| json!({"subjectId": id, "grants": []}));
            let mut grants: Vec<Value> =
                record.get("grants").and_then(Value::as_array).cloned().unwrap_or_default();
            let had = grants.iter().any(same);
            if add && !had {
                grants.push(json!({"roleId": role, "divisionId": division, "grantMadeAt": now()}));
            } else if !add && had {
                grants.retain(|g| !same(g));
            } else {
                return;
            }
            record["grants"] = Value::Array(grants);
            store.put(Kind::Grants, id, record);
        }
        Subject::Client(id) => {
            let Some(mut client) = store.get(Kind::OauthClients, id).cloned() else { return };
            let mut grants: Vec<Value> =
                client.get("roleDivisions").and_then(Value::as_array).cloned().unwrap_or_default();
            let had = grants.iter().any(same);
            if add && !had {
                grants.push(json!({"roleId": role, "divisionId": division}));
            } else if !add && had {
                grants.retain(|g| !same(g));
            } else {
                return;
            }
            client["roleDivisions"] = Value::Array(grants);
            client["dateModified"] = json!(now());
            store.put(Kind::OauthClients, id, client);
        }
    }
}

async fn grant(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path((subject_id, division, role)): Path<(String, String, String)>,
    params: Params,
) -> ApiResult<StatusCode> {
    change_grant(&state, &caller, &subject_id, &division, &role, &params, true)
}

async fn revoke(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path((subject_id, division, role)): Path<(String, String, String)>,
    params: Params,
) -> ApiResult<StatusCode> {
    change_grant(&state, &caller, &subject_id, &division, &role, &params, false)
}

fn change_grant(
    state: &Shared,
    caller: &Caller,
    subject_id: &str,
    division: &str,
    role: &str,
    params: &Params,
    add: bool,
) -> ApiResult<StatusCode> {
    let kind = subject_type(params)?;
    let mut store = state.store();
    let subject = grant_subject(&store, kind, subject_id)?;
    check_grant(&store, caller, &subject, role, division, add)?;
    apply_grant(&mut store, &subject, role, division, add);
    store.commit()?;
    Ok(StatusCode::NO_CONTENT)
}

async fn bulk_grant(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(role): Path<String>,
    params: Params,
    Body(body): Body,
) -> ApiResult<StatusCode> {
    let kind = subject_type(&params)?;
    let list = |name: &str| -> ApiResult<Vec<String>> {
        let values = field(&body, name, Shape::StrList)?
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect::<Vec<_>>())
            .unwrap_or_default();
        if values.is_empty() {
            return Err(ApiError::missing_field(name));
        }
        Ok(values)
    };
    let (subjects, divisions) = (list("subjectIds")?, list("divisionIds")?);
    let mut store = state.store();
    if store.get(Kind::Roles, &role).is_none() {
        return Err(ApiError::not_found("role", &role));
    }
    let mut planned = Vec::new();
    for subject_id in &subjects {
        let subject = grant_subject(&store, kind, subject_id)?;
        for division in &divisions {
            check_grant(&store, &caller, &subject, &role, division, true)?;
            planned.push((subject.clone(), division.clone()));
        }
    }
    for (subject, division) in planned {
        apply_grant(&mut store, &subject, &role, &division, true);
    }
    store.commit()?;
    Ok(StatusCode::NO_CONTENT)
}
