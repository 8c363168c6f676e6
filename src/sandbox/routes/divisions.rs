//! Authorization divisions (read-only): `/api/v2/authorization/divisions`,
//! `.../home` and `.../{divisionId}`; and moving objects between them.
//!
//! - `name` is a case-insensitive search term (substring), `id` repeats;
//!   `objectCount` is accepted (checked, ignored). Sorted by name; pageSize up
//!   to 100 (UNVERIFIED).
//! - Exactly one division is the home division (`homeDivision: true`).
//! - `POST .../divisions/{divisionId}/objects/{objectType}` moves objects
//!   into a division: the body is a JSON array of object ids, "The objects
//!   must all be of the same type" (PY `apis/authorization_api.py`
//!   `post_authorization_division_object`). `objectType` must be one of the
//!   .NET 270 docs' values ([`OBJECT_TYPES`]; others are 400 naming it);
//!   the sandbox holds objects of types QUEUE, FLOW and USER, so ids of any
//!   other type are unknown. An unknown division or id is 404, an empty or
//!   non-string list 400 (UNVERIFIED statuses); nothing moves unless every id
//!   is found. Success is 204 (the provider treats anything else as failure,
//!   TF `scripts/genesyscloud_scripts_proxy.go` setScriptDivision). The
//!   endpoint "Requires NO permissions", but moving needs "the appropriate
//!   configuration object permissions" on the objects (help.mypurecloud.com,
//!   "Access control permissions overview": Directory > User > Edit for users,
//!   Architect > Flow > Edit for flows; Routing > Queue > Edit for queues is
//!   UNVERIFIED): without it, 403 `missing.any.permissions`. It is needed
//!   in the target division and in each object's current one (the
//!   permission is division-aware, see `authz`; UNVERIFIED for moves).

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::crud;
use super::input::{List, bad_enum};
use crate::sandbox::auth::Caller;
use crate::sandbox::authz::{Held, Place, missing_any, missing_in_division, place};
use crate::sandbox::common::now;
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::resource::{Filter, Op, Resource, Spec};
use crate::sandbox::server::Shared;
use crate::sandbox::store::Kind;

pub struct Divisions;

impl Resource for Divisions {
    const SPEC: Spec = Spec {
        filters: &[Filter::NameContains, Filter::Ids],
        flags: &[(Op::List, "objectCount")],
        dates: false,
        ..Spec::new(
            Kind::Divisions,
            "/api/v2/authorization/divisions",
            "/api/v2/authorization/divisions/{divisionId}",
            "division",
        )
    };

    fn routes() -> Router<Shared> {
        crud::routes::<Self>()
            .route("/api/v2/authorization/divisions/home", get(home_division))
            .route(
                "/api/v2/authorization/divisions/{divisionId}/objects/{objectType}",
                post(move_objects),
            )
    }
}

/// The `objectType` values of the division move (NET 270 `AuthorizationApi.md`).
pub const OBJECT_TYPES: &[&str] = &[
    "QUEUE",
    "CAMPAIGN",
    "CONTACTLIST",
    "DNCLIST",
    "EMAILCAMPAIGN",
    "MESSAGINGCAMPAIGN",
    "MANAGEMENTUNIT",
    "BUSINESSUNIT",
    "FLOW",
    "FLOWMILESTONE",
    "FLOWOUTCOME",
    "USER",
    "CALLROUTE",
    "EMERGENCYGROUPS",
    "ROUTINGSCHEDULES",
    "ROUTINGSCHEDULEGROUPS",
    "DATATABLES",
    "TEAM",
    "WORKBIN",
    "WORKTYPE",
    "EXTENSIONPOOL",
    "SKILLGROUP",
    "SCRIPT",
    "LIBRARY",
];

/// The emulated object types: their collection and the permission moving
/// them needs (see the module docs; `permissions::move_permission` of the
/// objects' entity, as gcctl's plan checks it).
fn movable(object_type: &str) -> Option<(Kind, &'static str)> {
    match object_type {
        "QUEUE" => Some((Kind::Queues, "routing:queue:edit")),
        "FLOW" => Some((Kind::Flows, "architect:flow:edit")),
        "USER" => Some((Kind::Users, "directory:user:edit")),
        _ => None,
    }
}

async fn move_objects(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path((division, object_type)): Path<(String, String)>,
    List(ids): List,
) -> ApiResult<StatusCode> {
    if !OBJECT_TYPES.contains(&object_type.as_str()) {
        return Err(bad_enum("objectType", &object_type, OBJECT_TYPES));
    }
    let mut store = state.store();
    if store.get(Kind::Divisions, &division).is_none() {
        return Err(ApiError::not_found("division", &division));
    }
    if ids.is_empty() {
        return Err(ApiError::bad_request("The request body must list at least one object id."));
    }
    let ids: Vec<String> = ids
        .iter()
        .map(|id| id.as_str().filter(|s| !s.is_empty()).map(str::to_string))
        .collect::<Option<_>>()
        .ok_or_else(|| {
            ApiError::bad_request("The request body must be a JSON array of object ids (strings).")
        })?;
    let noun = object_type.to_lowercase();
    let Some((kind, permission)) = movable(&object_type) else {
        return Err(ApiError::not_found(&noun, &ids[0]));
    };
    let held = Held::of(&store, &caller.subject);
    if !held.holds(permission) {
        return Err(missing_any(&[permission.to_string()]));
    }
    // The edit permission in the target division and in each object's own.
    if !held.holds_in(permission, &division) {
        return Err(missing_in_division(&store, &[permission], &division));
    }
    let mut moved = Vec::new();
    for id in &ids {
        let mut object =
            store.get(kind, id).cloned().ok_or_else(|| ApiError::not_found(&noun, id))?;
        if let Place::In(from) = place(object.get("division")) {
            if !held.holds_in(permission, from) {
                return Err(missing_in_division(&store, &[permission], from));
            }
        }
        object["division"] = json!({"id": division});
        if object.get("dateModified").is_some() {
            object["dateModified"] = json!(now());
        }
        moved.push((id, object));
    }
    for (id, object) in moved {
        store.put(kind, id, object);
    }
    store.commit()?;
    Ok(StatusCode::NO_CONTENT)
}

async fn home_division(State(state): State<Shared>) -> ApiResult<axum::Json<Value>> {
    let store = state.store_read();
    let id = crate::sandbox::common::home_division(&store).unwrap_or_default();
    let division =
        store.get(Kind::Divisions, &id).ok_or_else(|| ApiError::not_found("division", "home"))?;
    Ok(axum::Json(division.clone()))
}
