//! Messaging settings: `/api/v2/conversations/messaging/settings`, with the
//! org default (`.../default`: GET, PUT `{"settingId"}`, DELETE).
//!
//! - POST takes `MessagingSettingRequest` (`name` required); PATCH takes
//!   `MessagingSettingPatchRequest` (every field optional) and replaces the
//!   top-level fields it is given (`content` or `event` whole, as the
//!   provider always sends them; a deep merge is UNVERIFIED).
//! - `content` and `event` are normalized to their models' keys; every
//!   toggle is `Enabled` or `Disabled` (case-sensitive), anything else is 400
//!   naming the field and the allowable values.
//! - `version` is a read-only decimal string, bumped by every write;
//!   `createdBy` / `updatedBy` reference the caller: the calling OAuth client
//!   or user (what the real API puts there for a client-credentials caller is
//!   UNVERIFIED).
//! - Names are unique (409, UNVERIFIED, as for the other kinds).
//! - Deleting the org default is 400 (the reference: "If a messaging setting
//!   is set as a default config for an organization, the API will throw a
//!   400"); deleting one an integration uses is 409 (UNVERIFIED choice, as for
//!   supported content, so no integration is left with a dangling reference).
//! - `GET .../default` without a default is 404 (UNVERIFIED: the real API may
//!   answer an empty body instead); `PUT .../default` with an unknown id is
//!   400 naming `settingId` (UNVERIFIED: 404 is possible); `DELETE
//!   .../default` unsets it (204, also when there is none).
//! - pageSize up to 100 (UNVERIFIED maximum; the provider uses 100).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::crud::{self, check_unused, default_route, is_default};
use super::input::{Shape, check, field};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::resource::{Names, Object, Resource, Spec, Update, Version, Write};
use crate::sandbox::server::{AppState, Shared};
use crate::sandbox::store::{Kind, Store};

/// The org default's key in `Kind::Defaults`.
const DEFAULT: &str = "messagingSetting";

/// The shape of a nested settings object: known keys down to enums.
enum Node {
    Object(&'static [(&'static str, Node)]),
    Enum(&'static [&'static str]),
}

const TOGGLE: Node = Node::Enum(&["Enabled", "Disabled"]);
/// `InboundOnlySetting`.
const INBOUND_ONLY: Node = Node::Object(&[("inbound", TOGGLE)]);
/// `ContentSetting` > `StorySetting`.
const CONTENT: Node =
    Node::Object(&[("story", Node::Object(&[("mention", INBOUND_ONLY), ("reply", INBOUND_ONLY)]))]);
/// `EventSetting` > `TypingSetting` > `SettingDirection`.
const EVENT: Node = Node::Object(&[(
    "typing",
    Node::Object(&[("on", Node::Object(&[("inbound", TOGGLE), ("outbound", TOGGLE)]))]),
)]);

pub struct MessagingSettings;

impl Resource for MessagingSettings {
    const SPEC: Spec = Spec {
        names: Names::Unique,
        update: Update::Patch { name_required: false },
        version: Version::Str,
        ..Spec::new(
            Kind::MessagingSettings,
            "/api/v2/conversations/messaging/settings",
            "/api/v2/conversations/messaging/settings/{messageSettingId}",
            "messaging setting",
        )
    };

    fn fields(_store: &Store, body: &Object, _old: Option<&Value>) -> ApiResult<Object> {
        let mut out = Map::new();
        for (key, node) in [("content", &CONTENT), ("event", &EVENT)] {
            if let Some(value) = field(body, key, Shape::Object)? {
                out.insert(key.into(), normalize(key, value, node)?);
            }
        }
        Ok(out)
    }

    fn on_write(write: &mut Write<'_>, setting: &mut Object) -> ApiResult<Object> {
        let caller = write.caller.subject.reference();
        if write.created {
            setting.insert("createdBy".into(), caller.clone());
        }
        setting.insert("updatedBy".into(), caller);
        Ok(Map::new())
    }

    fn check_delete(store: &Store, _state: &AppState, setting: &Value) -> ApiResult<()> {
        if is_default(store, DEFAULT, setting) {
            return Err(ApiError::bad_request(
                "The messaging setting is the organization's default and cannot be deleted; set another default or delete the default first.",
            ));
        }
        check_unused::<Self>(store, "messagingSetting", setting)
    }

    fn routes() -> Router<Shared> {
        let unset = |State(state): State<Shared>| async move {
            let mut store = state.store();
            store.remove(Kind::Defaults, DEFAULT);
            store.commit()?;
            ApiResult::Ok(StatusCode::NO_CONTENT)
        };
        crud::routes::<Self>().route(
            "/api/v2/conversations/messaging/settings/default",
            default_route::<Self>(DEFAULT, "settingId").delete(unset),
        )
    }
}

/// Check `value` against `node` (errors name the dotted field) and keep only
/// the model's keys.
fn normalize(at: &str, value: &Value, node: &Node) -> ApiResult<Value> {
    match node {
        Node::Enum(allowed) => {
            check(at, value, Shape::Enum(allowed))?;
            Ok(value.clone())
        }
        Node::Object(fields) => {
            check(at, value, Shape::Object)?;
            let mut out = Map::new();
            for (key, child) in *fields {
                if let Some(inner) = value.get(*key).filter(|v| !v.is_null()) {
                    out.insert((*key).into(), normalize(&format!("{at}.{key}"), inner, child)?);
                }
            }
            Ok(Value::Object(out))
        }
    }
}
