//! The org itself: `GET /api/v2/organizations/me`, which "Requires NO
//! permissions" (API reference §m; Python SDK `models/organization.py`).
//! gcctl reads its `id` to key the per-org apply lock (and, later, to bind a
//! saved plan to its org).
//!
//! The org's id is minted with the org and kept in the defaults
//! (`orgId`); a state file written before it existed gets one on the first
//! start, so each sandbox org keeps one identity across restarts.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::{Value, json};

use crate::sandbox::common::new_id;
use crate::sandbox::server::Shared;
use crate::sandbox::store::{Kind, Store};

/// The org's display name.
pub const ORG_NAME: &str = "gcctl sandbox";

/// The org's id, minted when missing.
pub fn ensure_org_id(store: &mut Store) -> String {
    if let Some(id) = store.org().default_str("orgId") {
        return id.to_string();
    }
    let id = new_id();
    store.put(Kind::Defaults, "orgId", json!(id));
    id
}

pub fn routes() -> Router<Shared> {
    Router::new().route("/api/v2/organizations/me", get(me))
}

async fn me(State(state): State<Shared>) -> axum::Json<Value> {
    let store = state.store_read();
    let id = store.org().default_str("orgId").unwrap_or_default().to_string();
    axum::Json(json!({
        "id": id,
        "name": ORG_NAME,
        "thirdPartyOrgName": "gcctl-sandbox",
        "defaultLanguage": "en-us",
        "defaultCountryCode": "US",
        "domain": "gcctl-sandbox",
        "state": "active",
        "version": 1,
        "productPlatform": "PureCloud",
        "selfUri": format!("/api/v2/organizations/{id}"),
    }))
}
