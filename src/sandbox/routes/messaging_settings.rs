//! Messaging settings (read-only here): `/api/v2/conversations/messaging/settings`,
//! `.../{messageSettingId}` and the org default `.../default`.
//!
//! - Sorted by name; pageSize up to 100 (UNVERIFIED; the provider uses 100).
//! - `GET .../default` without a default is 404 (UNVERIFIED).

use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::crud;
use crate::sandbox::error::ApiError;
use crate::sandbox::resource::{Resource, Spec};
use crate::sandbox::server::Shared;
use crate::sandbox::store::Kind;

pub struct MessagingSettings;

impl Resource for MessagingSettings {
    const SPEC: Spec = Spec::new(
        Kind::MessagingSettings,
        "/api/v2/conversations/messaging/settings",
        "/api/v2/conversations/messaging/settings/{messageSettingId}",
        "messaging setting",
    );

    fn routes() -> Router<Shared> {
        let read = |State(state): State<Shared>| async move {
            let store = state.store();
            let id = store.org().default_str("messagingSetting").unwrap_or_default();
            let object = store.get(Kind::MessagingSettings, id).cloned();
            object
                .map(axum::Json)
                .ok_or_else(|| ApiError::not_found("messaging setting", "default"))
        };
        crud::routes::<Self>().route("/api/v2/conversations/messaging/settings/default", get(read))
    }
}
