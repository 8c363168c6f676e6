//! OAuth clients: `/api/v2/oauth/clients`.
//!
//! - The list takes no paging parameters and returns every client in one
//!   envelope (`pageCount` 1), as the real API does.
//! - The `secret` (43 random characters) is returned only by create and by
//!   `POST {id}/secret`; it is stored hashed and works at `/oauth/token`.
//! - PUT replaces the whole object (the secret is kept).
//! - `roleDivisions` must name existing roles and divisions; the validity is
//!   300..=172800 seconds; `authorizedGrantType` and `state` are enums.
//! - The admin client (the sandbox's own credentials) cannot be deleted (409).
//! - Names need not be unique (UNVERIFIED; duplicates are allowed).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::input::{Body, Id, Shape, check, field, required_str};
use super::paging::{sort_by_name, unpaged};
use crate::sandbox::common::{new_id, now, random_secret, secret_key, self_uri, set_secret};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::server::Shared;
use crate::sandbox::store::{Kind, Store};

const PATH: &str = "/api/v2/oauth/clients";
pub const GRANT_TYPES: &[&str] =
    &["CODE", "TOKEN", "SAML2-BEARER", "PASSWORD", "CLIENT-CREDENTIALS"];
const STATES: &[&str] = &["active", "disabled", "inactive"];
const DEFAULT_VALIDITY: u64 = 86_400;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(PATH, get(list).post(create))
        .route("/api/v2/oauth/clients/{clientId}", get(read).put(replace).delete(remove))
        .route("/api/v2/oauth/clients/{clientId}/secret", post(regenerate))
}

async fn list(State(state): State<Shared>) -> ApiResult<axum::Json<Value>> {
    let store = state.store();
    let mut items: Vec<Value> = store.list(Kind::OauthClients).cloned().collect();
    sort_by_name(&mut items, false);
    Ok(axum::Json(unpaged(PATH, items)))
}

async fn read(State(state): State<Shared>, Id(id): Id) -> ApiResult<axum::Json<Value>> {
    let store = state.store();
    let client = store
        .visible(Kind::OauthClients, &id)
        .ok_or_else(|| ApiError::not_found("OAuth client", &id))?;
    Ok(axum::Json(client.clone()))
}

async fn create(State(state): State<Shared>, Body(body): Body) -> ApiResult<axum::Json<Value>> {
    let mut store = state.store();
    let mut client = validate(&store, &body)?;
    let id = new_id();
    let stamp = now();
    client.insert("id".into(), json!(id));
    client.insert("dateCreated".into(), json!(stamp));
    client.insert("dateModified".into(), json!(stamp));
    client.insert("selfUri".into(), json!(self_uri(Kind::OauthClients, &id)));
    let client = Value::Object(client);
    let secret = random_secret();
    set_secret(&mut store, Kind::OauthClients, &id, &secret);
    store.insert(Kind::OauthClients, &id, client.clone());
    store.commit()?;
    let mut out = client;
    out["secret"] = json!(secret);
    Ok(axum::Json(out))
}

async fn replace(
    State(state): State<Shared>,
    Id(id): Id,
    Body(body): Body,
) -> ApiResult<axum::Json<Value>> {
    let mut store = state.store();
    let old = store
        .visible(Kind::OauthClients, &id)
        .ok_or_else(|| ApiError::not_found("OAuth client", &id))?
        .clone();
    let mut client = validate(&store, &body)?;
    for key in ["id", "dateCreated", "selfUri"] {
        if let Some(value) = old.get(key) {
            client.insert(key.into(), value.clone());
        }
    }
    client.insert("dateModified".into(), json!(now()));
    let client = Value::Object(client);
    store.put(Kind::OauthClients, &id, client.clone());
    store.commit()?;
    Ok(axum::Json(client))
}

async fn remove(State(state): State<Shared>, Id(id): Id) -> ApiResult<StatusCode> {
    let mut store = state.store();
    if store.visible(Kind::OauthClients, &id).is_none() {
        return Err(ApiError::not_found("OAuth client", &id));
    }
    if id == state.admin_id {
        return Err(ApiError::conflict(
            "This OAuth client holds the sandbox's own credentials (the client you are calling with) and cannot be deleted.",
        ));
    }
    store.remove(Kind::OauthClients, &id);
    store.remove(Kind::Secrets, &secret_key(Kind::OauthClients, &id));
    store.commit()?;
    Ok(StatusCode::NO_CONTENT)
}

async fn regenerate(State(state): State<Shared>, Id(id): Id) -> ApiResult<axum::Json<Value>> {
    let mut store = state.store();
    let mut client = store
        .visible(Kind::OauthClients, &id)
        .ok_or_else(|| ApiError::not_found("OAuth client", &id))?
        .clone();
    let secret = random_secret();
    set_secret(&mut store, Kind::OauthClients, &id, &secret);
    if id == state.admin_id {
        store.put(Kind::Defaults, "adminClientSecret", json!(secret));
    }
    client["dateModified"] = json!(now());
    store.put(Kind::OauthClients, &id, client.clone());
    store.commit()?;
    client["secret"] = json!(secret);
    Ok(axum::Json(client))
}

/// Check an `OAuthClientRequest` and build the stored client (no server fields).
fn validate(store: &Store, body: &Map<String, Value>) -> ApiResult<Map<String, Value>> {
    let mut out = Map::new();
    out.insert("name".into(), json!(required_str(body, "name")?));
    match field(body, "authorizedGrantType", Shape::Enum(GRANT_TYPES))? {
        Some(grant) => out.insert("authorizedGrantType".into(), grant.clone()),
        None => return Err(ApiError::missing_field("authorizedGrantType")),
    };
    let validity = match field(body, "accessTokenValiditySeconds", Shape::Int)? {
        Some(value) => value.as_u64().filter(|v| (300..=172_800).contains(v)).ok_or_else(|| {
            ApiError::bad_field(
                "accessTokenValiditySeconds",
                "The field 'accessTokenValiditySeconds' must be between 300 and 172800.",
            )
        })?,
        None => DEFAULT_VALIDITY,
    };
    out.insert("accessTokenValiditySeconds".into(), json!(validity));
    for (key, shape) in [
        ("description", Shape::Str),
        ("registeredRedirectUri", Shape::StrList),
        ("roleIds", Shape::StrList),
        ("scope", Shape::StrList),
        ("dateToDelete", Shape::Str),
    ] {
        if let Some(value) = field(body, key, shape)? {
            out.insert(key.into(), value.clone());
        }
    }
    let state =
        field(body, "state", Shape::Enum(STATES))?.cloned().unwrap_or_else(|| json!("active"));
    out.insert("state".into(), state);
    out.insert("roleDivisions".into(), Value::Array(role_divisions(store, body)?));
    Ok(out)
}

fn role_divisions(store: &Store, body: &Map<String, Value>) -> ApiResult<Vec<Value>> {
    let Some(list) = field(body, "roleDivisions", Shape::Array)? else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for (index, grant) in list.as_array().into_iter().flatten().enumerate() {
        let name = format!("roleDivisions[{index}]");
        check(&name, grant, Shape::Object)?;
        let mut ids = Vec::new();
        for (key, kind, what) in
            [("roleId", Kind::Roles, "role"), ("divisionId", Kind::Divisions, "division")]
        {
            let field_name = format!("{name}.{key}");
            let Some(id) = grant.get(key).and_then(Value::as_str) else {
                return Err(ApiError::missing_field(&field_name));
            };
            if store.get(kind, id).is_none() {
                return Err(ApiError::bad_field(
                    &field_name,
                    format!("The {what} {id} does not exist."),
                ));
            }
            ids.push(id.to_string());
        }
        out.push(json!({"roleId": ids[0], "divisionId": ids[1]}));
    }
    Ok(out)
}

/// A stored client-credentials client (for the admin and bulk generation).
pub fn build(store: &Store, id: &str, name: &str, role: &str, validity: u64) -> Value {
    let stamp = now();
    let role_id = store
        .all(Kind::Roles)
        .find(|r| r.get("name").and_then(Value::as_str) == Some(role))
        .and_then(|r| r.get("id"))
        .and_then(Value::as_str);
    let home = crate::sandbox::common::home_division(store);
    let grants: Vec<Value> = match (role_id, home) {
        (Some(role), Some(home)) => vec![json!({"roleId": role, "divisionId": home})],
        _ => Vec::new(),
    };
    json!({
        "id": id, "name": name, "description": "",
        "accessTokenValiditySeconds": validity,
        "authorizedGrantType": "CLIENT-CREDENTIALS",
        "roleDivisions": grants, "state": "active",
        "dateCreated": stamp, "dateModified": stamp,
        "selfUri": self_uri(Kind::OauthClients, id),
    })
}
