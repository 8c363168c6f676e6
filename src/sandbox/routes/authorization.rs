//! Authorization roles (`/api/v2/authorization/roles`) and divisions
//! (`/api/v2/authorization/divisions`, `.../home`).
//!
//! - Role and division `name` filters are case-insensitive search terms
//!   (substring). Lists are sorted by name; pageSize up to 100 (UNVERIFIED).
//! - Role PUT replaces `name`, `description`, `permissions` and
//!   `permissionPolicies`; built-in fields (`defaultRoleId`, `default`,
//!   `base`, `userCount`) are kept.
//! - Deleting a built-in role is 400; deleting a role an OAuth client grants
//!   is 409. Role names are unique (409, UNVERIFIED).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::input::{Body, Id, Params, Shape, field, required_str};
use super::paging::{contains_ci, envelope, page, sort_by_name};
use crate::sandbox::common::{name_of, new_id, self_uri};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::server::Shared;
use crate::sandbox::store::{Kind, Store};

const ROLES: &str = "/api/v2/authorization/roles";
const DIVISIONS: &str = "/api/v2/authorization/divisions";
/// UNVERIFIED maximum page size (the provider uses 100).
const MAX_PAGE_SIZE: u64 = 100;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(ROLES, get(list_roles).post(create_role))
        .route(
            "/api/v2/authorization/roles/{roleId}",
            get(read_role).put(replace_role).delete(remove_role),
        )
        .route(DIVISIONS, get(list_divisions))
        .route("/api/v2/authorization/divisions/home", get(home_division))
        .route("/api/v2/authorization/divisions/{divisionId}", get(read_division))
}

/// Filter by `name` (search term) and repeated `id`, sort by name, page.
fn listing(
    store: &Store,
    kind: Kind,
    path: &str,
    params: &Params,
    extra: impl Fn(&Value) -> bool,
) -> ApiResult<Value> {
    let page = page(params, MAX_PAGE_SIZE)?;
    let name = params.get("name").unwrap_or_default();
    let ids = params.all("id");
    let mut items: Vec<Value> = store
        .list(kind)
        .filter(|v| contains_ci(name_of(v), name))
        .filter(|v| ids.is_empty() || ids.contains(&v["id"].as_str().unwrap_or_default()))
        .filter(|v| extra(v))
        .cloned()
        .collect();
    sort_by_name(&mut items, false);
    Ok(envelope(path, params, page, items))
}

async fn list_roles(State(state): State<Shared>, params: Params) -> ApiResult<axum::Json<Value>> {
    let default_role = params.get("defaultRoleId").map(str::to_string);
    let store = state.store();
    let by_default = |r: &Value| {
        default_role
            .as_deref()
            .is_none_or(|d| r.get("defaultRoleId").and_then(Value::as_str) == Some(d))
    };
    Ok(axum::Json(listing(&store, Kind::Roles, ROLES, &params, by_default)?))
}

async fn read_role(State(state): State<Shared>, Id(id): Id) -> ApiResult<axum::Json<Value>> {
    let store = state.store();
    let role = store.visible(Kind::Roles, &id).ok_or_else(|| ApiError::not_found("role", &id))?;
    Ok(axum::Json(role.clone()))
}

async fn create_role(
    State(state): State<Shared>,
    Body(body): Body,
) -> ApiResult<axum::Json<Value>> {
    let mut store = state.store();
    let mut role = role_fields(&store, &body, None)?;
    let id = new_id();
    role.insert("id".into(), json!(id));
    role.insert("default".into(), json!(false));
    role.insert("base".into(), json!(false));
    role.insert("userCount".into(), json!(0));
    role.insert("selfUri".into(), json!(self_uri(Kind::Roles, &id)));
    let role = Value::Object(role);
    store.insert(Kind::Roles, &id, role.clone());
    store.commit()?;
    Ok(axum::Json(role))
}

async fn replace_role(
    State(state): State<Shared>,
    Id(id): Id,
    Body(body): Body,
) -> ApiResult<axum::Json<Value>> {
    let mut store = state.store();
    let old =
        store.visible(Kind::Roles, &id).ok_or_else(|| ApiError::not_found("role", &id))?.clone();
    let mut role = role_fields(&store, &body, Some(&id))?;
    for key in ["id", "defaultRoleId", "default", "base", "userCount", "selfUri"] {
        if let Some(value) = old.get(key) {
            role.insert(key.into(), value.clone());
        }
    }
    let role = Value::Object(role);
    store.put(Kind::Roles, &id, role.clone());
    store.commit()?;
    Ok(axum::Json(role))
}

async fn remove_role(State(state): State<Shared>, Id(id): Id) -> ApiResult<StatusCode> {
    let mut store = state.store();
    let role = store.visible(Kind::Roles, &id).ok_or_else(|| ApiError::not_found("role", &id))?;
    if role.get("default") == Some(&Value::Bool(true)) {
        return Err(ApiError::bad_request(format!(
            "The built-in role '{}' cannot be deleted.",
            name_of(role)
        )));
    }
    let grants = |c: &&Value| {
        c.get("roleDivisions").and_then(Value::as_array).is_some_and(|g| {
            g.iter().any(|g| g.get("roleId").and_then(Value::as_str) == Some(id.as_str()))
        })
    };
    if let Some(client) = store.all(Kind::OauthClients).find(grants) {
        return Err(ApiError::conflict(format!(
            "The role is granted to the OAuth client '{}'; remove the grant first.",
            name_of(client)
        )));
    }
    store.remove(Kind::Roles, &id);
    store.commit()?;
    Ok(StatusCode::NO_CONTENT)
}

/// The writable role fields of a create or PUT body.
fn role_fields(
    store: &Store,
    body: &Map<String, Value>,
    own: Option<&str>,
) -> ApiResult<Map<String, Value>> {
    let name = required_str(body, "name")?;
    let taken = store.all(Kind::Roles).any(|r| {
        name_of(r).eq_ignore_ascii_case(&name) && r.get("id").and_then(Value::as_str) != own
    });
    if taken {
        return Err(ApiError::conflict(format!("A role named '{name}' already exists.")));
    }
    let mut out = Map::new();
    out.insert("name".into(), json!(name));
    if let Some(description) = field(body, "description", Shape::Str)? {
        out.insert("description".into(), description.clone());
    }
    let permissions =
        field(body, "permissions", Shape::StrList)?.cloned().unwrap_or_else(|| json!([]));
    out.insert("permissions".into(), permissions);
    let policies =
        field(body, "permissionPolicies", Shape::Array)?.cloned().unwrap_or_else(|| json!([]));
    for (index, policy) in policies.as_array().into_iter().flatten().enumerate() {
        if !policy.is_object() {
            let name = format!("permissionPolicies[{index}]");
            return Err(ApiError::bad_field(
                &name,
                format!("The field '{name}' must be an object."),
            ));
        }
    }
    out.insert("permissionPolicies".into(), policies);
    Ok(out)
}

async fn list_divisions(
    State(state): State<Shared>,
    params: Params,
) -> ApiResult<axum::Json<Value>> {
    params.bool("objectCount")?;
    let store = state.store();
    Ok(axum::Json(listing(&store, Kind::Divisions, DIVISIONS, &params, |_| true)?))
}

async fn read_division(State(state): State<Shared>, Id(id): Id) -> ApiResult<axum::Json<Value>> {
    let store = state.store();
    let division =
        store.visible(Kind::Divisions, &id).ok_or_else(|| ApiError::not_found("division", &id))?;
    Ok(axum::Json(division.clone()))
}

async fn home_division(State(state): State<Shared>) -> ApiResult<axum::Json<Value>> {
    let store = state.store();
    let id = crate::sandbox::common::home_division(&store).unwrap_or_default();
    let division =
        store.get(Kind::Divisions, &id).ok_or_else(|| ApiError::not_found("division", "home"))?;
    Ok(axum::Json(division.clone()))
}
