//! OAuth clients: `/api/v2/oauth/clients`.
//!
//! - The list takes no paging parameters and returns every client in one
//!   envelope (`pageCount` 1), as the real API does.
//! - The `secret` (43 random characters) is returned only by create and by
//!   `POST {id}/secret`; it is stored hashed and works at `/oauth/token`.
//! - PUT replaces the whole object (the secret is kept).
//! - `roleDivisions` must name existing roles and divisions; the validity is
//!   300..=172800 seconds; `authorizedGrantType` and `state` are enums
//!   (`Value [X] is not valid for field type [T]. Allowable values are: ...`).
//! - The grant type decides roles vs scopes (Genesys Terraform provider,
//!   `oauth_client/resource_genesyscloud_oauth_client_schema.go`): "Roles
//!   must be set for clients using the CLIENT-CREDENTIALS grant" (an empty
//!   `roleDivisions` is refused too: such a client could call nothing;
//!   UNVERIFIED whether the real API accepts it) and "Scopes must be set for
//!   clients not using the CLIENT-CREDENTIALS grant" (a non-empty `scope`).
//!   Both are 400 naming the field, with that wording.
//! - Grant only what you hold: each role a create or PUT adds to
//!   `roleDivisions` must be held by the caller in that division (403
//!   `not.authorized` naming `roleDivisions[i].roleId`, see
//!   `authz::cannot_grant`). Grants the client already had are not checked
//!   again, so a PUT that keeps them works for any caller.
//! - Delete: "The client state must be set to inactive before deleting" (the
//!   provider's deleteOAuthClient PUTs `state: inactive` first): deleting a
//!   client that is not `inactive` is 400 (status and wording of the real
//!   answer UNVERIFIED). The admin client (the sandbox's own credentials)
//!   cannot be deleted (409).
//! - Names need not be unique (UNVERIFIED; duplicates are allowed).

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde_json::{Map, Value, json};

use super::crud;
use super::input::{Id, Shape, check, field};
use crate::sandbox::authz::{cannot_grant, holds_role};
use crate::sandbox::common::{now, random_secret, self_uri, set_secret};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::resource::{Object, Resource, Spec, Update, Write};
use crate::sandbox::server::{AppState, Shared};
use crate::sandbox::store::{Kind, Store};

pub const GRANT_TYPES: &[&str] =
    &["CODE", "TOKEN", "SAML2-BEARER", "PASSWORD", "CLIENT-CREDENTIALS"];
const STATES: &[&str] = &["active", "disabled", "inactive"];
const DEFAULT_VALIDITY: u64 = 86_400;

pub struct OauthClients;

impl Resource for OauthClients {
    const SPEC: Spec = Spec {
        update: Update::Put,
        max_page_size: None,
        ..Spec::new(
            Kind::OauthClients,
            "/api/v2/oauth/clients",
            "/api/v2/oauth/clients/{clientId}",
            "OAuth client",
        )
    };

    fn fields(store: &Store, body: &Object, _old: Option<&Value>) -> ApiResult<Object> {
        validate(store, body)
    }

    /// Added grants must be held by the caller; a new client gets a secret,
    /// returned by this answer only.
    fn on_write(write: &mut Write<'_>, client: &mut Object) -> ApiResult<Object> {
        let before = |grant: &Value| {
            write
                .old
                .and_then(|o| o.get("roleDivisions"))
                .and_then(Value::as_array)
                .is_some_and(|old| old.contains(grant))
        };
        let grants = client.get("roleDivisions").and_then(Value::as_array);
        for (index, grant) in grants.into_iter().flatten().enumerate() {
            let text = |key: &str| grant.get(key).and_then(Value::as_str).unwrap_or_default();
            let (role, division) = (text("roleId"), text("divisionId"));
            if !before(grant) && !holds_role(write.store, &write.caller.subject, role, division) {
                let field = format!("roleDivisions[{index}].roleId");
                return Err(cannot_grant(write.store, role, division, Some(&field)));
            }
        }
        let mut shown = Map::new();
        if write.created {
            let secret = random_secret();
            set_secret(write.store, Kind::OauthClients, write.id, &secret);
            shown.insert("secret".into(), json!(secret));
        }
        Ok(shown)
    }

    fn check_delete(_store: &Store, state: &AppState, client: &Value) -> ApiResult<()> {
        if client.get("id").and_then(Value::as_str) == Some(state.admin_id.as_str()) {
            return Err(ApiError::conflict(
                "This OAuth client holds the sandbox's own credentials (the client you are calling with) and cannot be deleted.",
            ));
        }
        if client.get("state").and_then(Value::as_str) != Some("inactive") {
            return Err(ApiError::bad_field(
                "state",
                "The client state must be set to inactive before deleting (PUT it with \"state\": \"inactive\" first).",
            ));
        }
        Ok(())
    }

    fn routes() -> Router<Shared> {
        crud::routes::<Self>().route("/api/v2/oauth/clients/{clientId}/secret", post(regenerate))
    }
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

/// Check an `OAuthClientRequest` (but its `name`) and build the stored
/// client (no server fields).
fn validate(store: &Store, body: &Map<String, Value>) -> ApiResult<Map<String, Value>> {
    let mut out = Map::new();
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
    let grants = role_divisions(store, body)?;
    let client_credentials = out.get("authorizedGrantType") == Some(&json!("CLIENT-CREDENTIALS"));
    if client_credentials && grants.is_empty() {
        let mut error = ApiError::missing_field("roleDivisions");
        error.message = "Roles must be set for clients using the CLIENT-CREDENTIALS grant: 'roleDivisions' must list at least one role and division.".into();
        return Err(error);
    }
    let scoped = out.get("scope").and_then(Value::as_array).is_some_and(|s| !s.is_empty());
    if !client_credentials && !scoped {
        let mut error = ApiError::missing_field("scope");
        error.message = "Scopes must be set for clients not using the CLIENT-CREDENTIALS grant: 'scope' must list at least one scope.".into();
        return Err(error);
    }
    out.insert("roleDivisions".into(), Value::Array(grants));
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
