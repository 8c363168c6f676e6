//! Supported content profiles (`/api/v2/conversations/messaging/supportedcontent`,
//! with the org default) and messaging settings
//! (`/api/v2/conversations/messaging/settings`: list, get, default).
//!
//! - PATCH replaces the fields it is given (`name`, `mediaTypes`) and bumps
//!   the read-only int `version`; it does not check a version (UNVERIFIED).
//! - Deleting the org default, or a profile an integration uses, is 409
//!   (UNVERIFIED choice). Names are unique (409, UNVERIFIED).
//! - `mediaTypes` is normalized to `{allow: {inbound, outbound: [{type}]}}`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::input::{Body, Id, Params, Shape, check, field, required_str};
use super::paging::{envelope, page, sort_by_name};
use crate::sandbox::common::{name_of, new_id, now, ref_id, self_uri};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::server::Shared;
use crate::sandbox::store::{Kind, Store};

const PATH: &str = "/api/v2/conversations/messaging/supportedcontent";
const SETTINGS: &str = "/api/v2/conversations/messaging/settings";
/// UNVERIFIED maximum page size (the provider uses 100).
const MAX_PAGE_SIZE: u64 = 100;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(PATH, get(list).post(create))
        .route(
            "/api/v2/conversations/messaging/supportedcontent/default",
            get(read_default).put(set_default),
        )
        .route(
            "/api/v2/conversations/messaging/supportedcontent/{supportedContentId}",
            get(read).patch(update).delete(remove),
        )
        .route(SETTINGS, get(list_settings))
        .route("/api/v2/conversations/messaging/settings/default", get(read_default_setting))
        .route("/api/v2/conversations/messaging/settings/{messageSettingId}", get(read_setting))
}

async fn list(State(state): State<Shared>, params: Params) -> ApiResult<axum::Json<Value>> {
    let page = page(&params, MAX_PAGE_SIZE)?;
    let store = state.store();
    let mut items: Vec<Value> = store.list(Kind::SupportedContent).cloned().collect();
    sort_by_name(&mut items, false);
    Ok(axum::Json(envelope(PATH, &params, page, items)))
}

async fn read(State(state): State<Shared>, Id(id): Id) -> ApiResult<axum::Json<Value>> {
    let store = state.store();
    let item = store
        .visible(Kind::SupportedContent, &id)
        .ok_or_else(|| ApiError::not_found("supported content", &id))?;
    Ok(axum::Json(item.clone()))
}

async fn create(State(state): State<Shared>, Body(body): Body) -> ApiResult<axum::Json<Value>> {
    let mut store = state.store();
    let name = required_str(&body, "name")?;
    check_unique(&store, &name, None)?;
    let media = media_types(&body)?;
    let id = new_id();
    let stamp = now();
    let mut item = json!({
        "id": id, "name": name, "version": 1,
        "dateCreated": stamp, "dateModified": stamp,
        "selfUri": self_uri(Kind::SupportedContent, &id),
    });
    if let Some(media) = media {
        item["mediaTypes"] = media;
    }
    store.insert(Kind::SupportedContent, &id, item.clone());
    store.commit()?;
    Ok(axum::Json(item))
}

async fn update(
    State(state): State<Shared>,
    Id(id): Id,
    Body(body): Body,
) -> ApiResult<axum::Json<Value>> {
    let mut store = state.store();
    let mut item = store
        .visible(Kind::SupportedContent, &id)
        .ok_or_else(|| ApiError::not_found("supported content", &id))?
        .clone();
    if body.contains_key("name") {
        let name = required_str(&body, "name")?;
        check_unique(&store, &name, Some(&id))?;
        item["name"] = json!(name);
    }
    if let Some(media) = media_types(&body)? {
        item["mediaTypes"] = media;
    }
    let version = item.get("version").and_then(Value::as_u64).unwrap_or(0);
    item["version"] = json!(version + 1);
    item["dateModified"] = json!(now());
    store.put(Kind::SupportedContent, &id, item.clone());
    store.commit()?;
    Ok(axum::Json(item))
}

async fn remove(State(state): State<Shared>, Id(id): Id) -> ApiResult<StatusCode> {
    let mut store = state.store();
    if store.visible(Kind::SupportedContent, &id).is_none() {
        return Err(ApiError::not_found("supported content", &id));
    }
    if store.org().default_str("supportedContent") == Some(id.as_str()) {
        return Err(ApiError::conflict(
            "The organization's default supported content profile cannot be deleted; set another default first.",
        ));
    }
    let user = store
        .all(Kind::OpenIntegrations)
        .find(|i| ref_id(i.get("supportedContent")) == Some(id.as_str()));
    if let Some(user) = user {
        return Err(ApiError::conflict(format!(
            "The supported content profile is in use by the open messaging integration '{}'.",
            name_of(user)
        )));
    }
    store.remove(Kind::SupportedContent, &id);
    store.commit()?;
    Ok(StatusCode::NO_CONTENT)
}

async fn read_default(State(state): State<Shared>) -> ApiResult<axum::Json<Value>> {
    let store = state.store();
    let id = store.org().default_str("supportedContent").unwrap_or_default();
    let item = store
        .get(Kind::SupportedContent, id)
        .ok_or_else(|| ApiError::not_found("supported content", "default"))?;
    Ok(axum::Json(item.clone()))
}

async fn set_default(
    State(state): State<Shared>,
    Body(body): Body,
) -> ApiResult<axum::Json<Value>> {
    let mut store = state.store();
    let id = required_str(&body, "id")?;
    let item = store
        .get(Kind::SupportedContent, &id)
        .ok_or_else(|| {
            ApiError::bad_field("id", format!("The supported content profile {id} does not exist."))
        })?
        .clone();
    store.put(Kind::Defaults, "supportedContent", json!(id));
    store.commit()?;
    Ok(axum::Json(item))
}

fn check_unique(store: &Store, name: &str, own: Option<&str>) -> ApiResult<()> {
    let taken = store.all(Kind::SupportedContent).any(|i| {
        name_of(i).eq_ignore_ascii_case(name) && i.get("id").and_then(Value::as_str) != own
    });
    if taken {
        return Err(ApiError::conflict(format!(
            "A supported content profile named '{name}' already exists."
        )));
    }
    Ok(())
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

async fn list_settings(
    State(state): State<Shared>,
    params: Params,
) -> ApiResult<axum::Json<Value>> {
    let page = page(&params, MAX_PAGE_SIZE)?;
    let store = state.store();
    let mut items: Vec<Value> = store.list(Kind::MessagingSettings).cloned().collect();
    sort_by_name(&mut items, false);
    Ok(axum::Json(envelope(SETTINGS, &params, page, items)))
}

async fn read_setting(State(state): State<Shared>, Id(id): Id) -> ApiResult<axum::Json<Value>> {
    let store = state.store();
    let item = store
        .visible(Kind::MessagingSettings, &id)
        .ok_or_else(|| ApiError::not_found("messaging setting", &id))?;
    Ok(axum::Json(item.clone()))
}

async fn read_default_setting(State(state): State<Shared>) -> ApiResult<axum::Json<Value>> {
    let store = state.store();
    let id = store.org().default_str("messagingSetting").unwrap_or_default();
    let item = store
        .get(Kind::MessagingSettings, id)
        .ok_or_else(|| ApiError::not_found("messaging setting", "default"))?;
    Ok(axum::Json(item.clone()))
}
