//! The caller's own token: `GET`, `HEAD` and `DELETE /api/v2/tokens/me`
//! (all "Requires NO permissions", API reference §g and §m).
//!
//! - `GET` answers `TokenInfo`: `organization` and `homeOrganization` (the
//!   org's id and name), `authorizedScope` (the client's `scope`, empty for a
//!   client-credentials client), and `OAuthClient`: the calling client for a
//!   client-credentials token. A user token names a built-in login client
//!   whose `organization.id` is `purecloud-builtin`, which is how the Genesys
//!   Terraform provider tells a user token from a client-credentials one
//!   (`oauth_client/resource_genesyscloud_oauth_client.go`
//!   updateTerraformUserWithRole); that client's id and name are the
//!   sandbox's own (UNVERIFIED). `dateTokenIdles` is left out (no idle
//!   timeout here).
//! - `HEAD` checks the token (200, no body; axum answers HEAD with the GET
//!   handler); `DELETE` revokes it (204); the next call with it is 401.

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::organization::ORG_NAME;
use crate::sandbox::auth::{Caller, Subject};
use crate::sandbox::server::Shared;
use crate::sandbox::store::Kind;

/// Id of the built-in login client user tokens name (the sandbox's own).
pub const LOGIN_CLIENT_ID: &str = "7de3af06-c0b3-4f9b-af45-72f4a1403797";
/// The organization id of built-in clients, as real `TokenInfo`s show it.
const BUILTIN_ORG: &str = "purecloud-builtin";

pub fn routes() -> Router<Shared> {
    Router::new().route("/api/v2/tokens/me", get(me).delete(revoke))
}

async fn me(State(state): State<Shared>, Extension(caller): Extension<Caller>) -> Json<Value> {
    let store = state.store_read();
    let org_id = store.org().default_str("orgId").unwrap_or_default().to_string();
    let organization = json!({"id": org_id, "name": ORG_NAME});
    let mut info = json!({"organization": organization, "homeOrganization": organization});
    match &caller.subject {
        Subject::Client(id) => {
            let client = store.get(Kind::OauthClients, id).cloned().unwrap_or_default();
            let mut listed = json!({"id": id, "organization": organization});
            for key in [
                "name",
                "dateCreated",
                "dateModified",
                "authorizedGrantType",
                "scope",
                "roleDivisions",
                "state",
            ] {
                if let Some(value) = client.get(key) {
                    listed[key] = value.clone();
                }
            }
            info["authorizedScope"] = client.get("scope").cloned().unwrap_or_else(|| json!([]));
            info["OAuthClient"] = listed;
        }
        Subject::User(_) => {
            info["OAuthClient"] = json!({
                "id": LOGIN_CLIENT_ID, "name": "gcctl sandbox login",
                "authorizedGrantType": "TOKEN", "state": "active",
                "organization": {"id": BUILTIN_ORG, "name": BUILTIN_ORG},
            });
        }
    }
    Json(info)
}

async fn revoke(State(state): State<Shared>, Extension(caller): Extension<Caller>) -> StatusCode {
    state.tokens().revoke(&caller.token);
    StatusCode::NO_CONTENT
}
