//! Supported content profiles: `/api/v2/conversations/messaging/supportedcontent`,
//! with the org default (`.../default`).
//!
//! - PATCH replaces the fields it is given (`name`, `mediaTypes`) and bumps
//!   the read-only int `version`; it does not check a version (UNVERIFIED).
//!   PATCH requires `name`, as POST does (`SupportedContent.name` is
//!   required in the JS SDK typings, and the provider always sends it: API
//!   reference summary item 16); without it: 400 naming `name`.
//! - Deleting the org default, or a profile an integration uses, is 409
//!   (UNVERIFIED choice). Names are unique (409, UNVERIFIED). pageSize up to
//!   100 (UNVERIFIED; the provider uses 100).
//! - `mediaTypes` is normalized to `{allow: {inbound, outbound: [{type}]}}`.

use axum::Router;
use serde_json::{Map, Value, json};

use super::crud::{self, check_unused, default_route, is_default};
use super::input::{Shape, check, field};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::resource::{Names, Object, Resource, Spec, Update, Version};
use crate::sandbox::server::{AppState, Shared};
use crate::sandbox::store::{Kind, Store};

/// The org default's key in `Kind::Defaults`.
const DEFAULT: &str = "supportedContent";

pub struct SupportedContent;

impl Resource for SupportedContent {
    const SPEC: Spec = Spec {
        names: Names::Unique,
        update: Update::Patch { name_required: true },
        version: Version::Int,
        ..Spec::new(
            Kind::SupportedContent,
            "/api/v2/conversations/messaging/supportedcontent",
            "/api/v2/conversations/messaging/supportedcontent/{supportedContentId}",
            "supported content profile",
        )
    };

    fn fields(_store: &Store, body: &Object, _old: Option<&Value>) -> ApiResult<Object> {
        let mut out = Map::new();
        if let Some(media) = media_types(body)? {
            out.insert("mediaTypes".into(), media);
        }
        Ok(out)
    }

    fn check_delete(store: &Store, _state: &AppState, profile: &Value) -> ApiResult<()> {
        if is_default(store, DEFAULT, profile) {
            return Err(ApiError::conflict(
                "The organization's default supported content profile cannot be deleted; set another default first.",
            ));
        }
        check_unused::<Self>(store, "supportedContent", profile)
    }

    fn routes() -> Router<Shared> {
        crud::routes::<Self>().route(
            "/api/v2/conversations/messaging/supportedcontent/default",
            default_route::<Self>(DEFAULT, "id"),
        )
    }
}

/// Normalize `mediaTypes`; errors name the exact field.
fn media_types(body: &Map<String, Value>) -> ApiResult<Option<Value>> {
    let Some(media) = field(body, "mediaTypes", Shape::Object)? else { return Ok(None) };
    let mut allow = Map::new();
    if let Some(given) = media.get("allow").filter(|v| !v.is_null()) {
        check("mediaTypes.allow", given, Shape::Object)?;
        for direction in ["inbound", "outbound"] {
            let Some(list) = given.get(direction).filter(|v| !v.is_null()) else { continue };
            let name = format!("mediaTypes.allow.{direction}");
            check(&name, list, Shape::Array)?;
            let mut types = Vec::new();
            for (index, entry) in list.as_array().into_iter().flatten().enumerate() {
                let entry_name = format!("{name}[{index}].type");
                match entry.get("type") {
                    Some(Value::String(t)) if t.contains('/') => types.push(json!({"type": t})),
                    _ => {
                        return Err(ApiError::bad_field(
                            &entry_name,
                            format!(
                                "The field '{entry_name}' must be a media type such as 'image/*'."
                            ),
                        ));
                    }
                }
            }
            allow.insert(direction.into(), Value::Array(types));
        }
    }
    Ok(Some(json!({"allow": allow})))
}
