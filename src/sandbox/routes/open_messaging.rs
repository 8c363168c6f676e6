//! Open messaging integrations: `/api/v2/conversations/messaging/integrations/open`.
//!
//! - Creation is asynchronous: the POST answer always says `createStatus:
//!   Initiated`; reads say `Completed` once `create_delay` has passed. A name
//!   starting with [`CREATE_ERROR_PREFIX`] ends in `Error` with a `createError`
//!   (a test hook). An org loaded from disk is settled.
//! - Each integration gets its own recipient (a distinct id, `messengerType:
//!   open`), renamed with it and deleted with it.
//! - `outboundNotificationWebhookSignatureSecretToken` is required on create
//!   and never returned (stored hashed).
//! - `supportedContent` / `messagingSetting` default to the org defaults.
//! - PATCH requires `name` and changes only the fields given.
//! - Names are unique (409, UNVERIFIED); lists are sorted by name.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::input::{Body, Id, Params, Shape, field, optional_ref, optional_str, required_str};
use super::paging::{page, render_page};
use crate::sandbox::common::{entity_ref, name_of, new_id, now, ref_id, self_uri, set_secret};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::server::Shared;
use crate::sandbox::store::{Kind, Store};

const PATH: &str = "/api/v2/conversations/messaging/integrations/open";
/// UNVERIFIED maximum (the provider uses 100).
const MAX_PAGE_SIZE: u64 = 100;
/// Integrations whose name starts with this end in `createStatus: Error`.
pub const CREATE_ERROR_PREFIX: &str = "sandbox-create-error";
const SECRET: &str = "outboundNotificationWebhookSignatureSecretToken";

pub fn routes() -> Router<Shared> {
    Router::new().route(PATH, get(list).post(create)).route(
        "/api/v2/conversations/messaging/integrations/open/{integrationId}",
        get(read).patch(update).delete(remove),
    )
}

async fn list(State(state): State<Shared>, params: Params) -> ApiResult<axum::Json<Value>> {
    let page = page(&params, MAX_PAGE_SIZE)?;
    let content = params.get("supportedContent.id").map(str::to_string);
    let setting = params.get("messagingSetting.id").map(str::to_string);
    let store = state.store();
    let matched: Vec<&Value> = store
        .list_by_name(Kind::OpenIntegrations)
        .filter(|i| content.as_deref().is_none_or(|c| ref_id(i.get("supportedContent")) == Some(c)))
        .filter(|i| setting.as_deref().is_none_or(|s| ref_id(i.get("messagingSetting")) == Some(s)))
        .collect();
    let render = |i: &Value| render(&store, &state, i, &params);
    Ok(axum::Json(render_page(PATH, &params, page, false, matched, render)))
}

async fn read(
    State(state): State<Shared>,
    Id(id): Id,
    params: Params,
) -> ApiResult<axum::Json<Value>> {
    let store = state.store();
    let item = store
        .visible(Kind::OpenIntegrations, &id)
        .ok_or_else(|| ApiError::not_found("integration", &id))?;
    Ok(axum::Json(render(&store, &state, item, &params)))
}

async fn create(State(state): State<Shared>, Body(body): Body) -> ApiResult<axum::Json<Value>> {
    let mut store = state.store();
    let name = required_str(&body, "name")?;
    check_unique(&store, &name, None)?;
    let url = required_str(&body, "outboundNotificationWebhookUrl")?;
    check_url(&url)?;
    let secret = required_str(&body, SECRET)?;
    let content = match reference(&store, &body, "supportedContent", Kind::SupportedContent)? {
        Some(id) => id,
        None => store.org().default_str("supportedContent").unwrap_or_default().to_string(),
    };
    let setting = match reference(&store, &body, "messagingSetting", Kind::MessagingSettings)? {
        Some(id) => id,
        None => store.org().default_str("messagingSetting").unwrap_or_default().to_string(),
    };
    let headers = headers(&body)?;
    let (id, mut item) = build(&mut store, &name, &url, &secret, &content, &setting);
    if let Some(headers) = headers {
        item["webhookHeaders"] = headers;
    }
    store.insert(Kind::OpenIntegrations, &id, item.clone());
    store.commit()?;
    let mut out = render(&store, &state, &item, &Params::default());
    out["createStatus"] = json!("Initiated");
    if let Some(map) = out.as_object_mut() {
        map.remove("createError");
    }
    Ok(axum::Json(out))
}

async fn update(
    State(state): State<Shared>,
    Id(id): Id,
    Body(body): Body,
) -> ApiResult<axum::Json<Value>> {
    let mut store = state.store();
    let mut item = store
        .visible(Kind::OpenIntegrations, &id)
        .ok_or_else(|| ApiError::not_found("integration", &id))?
        .clone();
    let name = required_str(&body, "name")?;
    check_unique(&store, &name, Some(&id))?;
    item["name"] = json!(name);
    if let Some(url) = optional_str(&body, "outboundNotificationWebhookUrl")? {
        check_url(&url)?;
        item["outboundNotificationWebhookUrl"] = json!(url);
    }
    if let Some(content) = reference(&store, &body, "supportedContent", Kind::SupportedContent)? {
        item["supportedContent"] = json!({"id": content});
    }
    if let Some(setting) = reference(&store, &body, "messagingSetting", Kind::MessagingSettings)? {
        item["messagingSetting"] = json!({"id": setting});
    }
    if let Some(headers) = headers(&body)? {
        item["webhookHeaders"] = headers;
    }
    if let Some(secret) = optional_str(&body, SECRET)? {
        set_secret(&mut store, Kind::OpenIntegrations, &id, &secret);
    }
    item["dateModified"] = json!(now());
    store.put(Kind::OpenIntegrations, &id, item.clone());
    rename_recipient(&mut store, &item, &name);
    store.commit()?;
    Ok(axum::Json(render(&store, &state, &item, &Params::default())))
}

async fn remove(State(state): State<Shared>, Id(id): Id) -> ApiResult<StatusCode> {
    let mut store = state.store();
    if store.visible(Kind::OpenIntegrations, &id).is_none() {
        return Err(ApiError::not_found("integration", &id));
    }
    if let Some(item) = store.remove(Kind::OpenIntegrations, &id) {
        if let Some(recipient) = ref_id(item.get("recipient")) {
            store.remove(Kind::Recipients, recipient);
        }
    }
    store.remove(Kind::Secrets, &crate::sandbox::common::secret_key(Kind::OpenIntegrations, &id));
    store.commit()?;
    Ok(StatusCode::NO_CONTENT)
}

fn check_unique(store: &Store, name: &str, own: Option<&str>) -> ApiResult<()> {
    let taken = store.all(Kind::OpenIntegrations).any(|i| {
        name_of(i).eq_ignore_ascii_case(name) && i.get("id").and_then(Value::as_str) != own
    });
    if taken {
        return Err(ApiError::conflict(format!(
            "An open messaging integration named '{name}' already exists."
        )));
    }
    Ok(())
}

fn check_url(url: &str) -> ApiResult<()> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    if rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/')) {
        Ok(())
    } else {
        Err(ApiError::bad_field(
            "outboundNotificationWebhookUrl",
            format!(
                "The field 'outboundNotificationWebhookUrl' must be an absolute http(s) URL, not '{url}'."
            ),
        ))
    }
}

/// An optional `{id}` reference that must exist; errors name `<name>.id`.
fn reference(
    store: &Store,
    body: &Map<String, Value>,
    name: &str,
    kind: Kind,
) -> ApiResult<Option<String>> {
    match optional_ref(body, name)? {
        Some(id) if store.get(kind, &id).is_none() => Err(ApiError::bad_field(
            &format!("{name}.id"),
            format!("The {name} {id} does not exist."),
        )),
        other => Ok(other),
    }
}

fn headers(body: &Map<String, Value>) -> ApiResult<Option<Value>> {
    let Some(value) = field(body, "webhookHeaders", Shape::Object)? else { return Ok(None) };
    if value.as_object().is_some_and(|m| m.values().all(Value::is_string)) {
        Ok(Some(value.clone()))
    } else {
        Err(ApiError::bad_field(
            "webhookHeaders",
            "The field 'webhookHeaders' must map names to strings.",
        ))
    }
}

/// Create the stored integration and its recipient; the caller inserts the
/// integration (so it can choose `insert` or `put`).
pub fn build(
    store: &mut Store,
    name: &str,
    url: &str,
    secret: &str,
    content: &str,
    setting: &str,
) -> (String, Value) {
    let id = new_id();
    let recipient_id = new_id();
    let stamp = now();
    let recipient = json!({
        "id": recipient_id, "name": name, "messengerType": "open",
        "dateCreated": stamp, "dateModified": stamp,
        "selfUri": self_uri(Kind::Recipients, &recipient_id),
    });
    store.put(Kind::Recipients, &recipient_id, recipient);
    set_secret(store, Kind::OpenIntegrations, &id, secret);
    let item = json!({
        "id": id, "name": name,
        "supportedContent": {"id": content}, "messagingSetting": {"id": setting},
        "outboundNotificationWebhookUrl": url,
        "status": "Active",
        "recipient": {"id": recipient_id},
        "dateCreated": stamp, "dateModified": stamp,
        "selfUri": self_uri(Kind::OpenIntegrations, &id),
    });
    (id, item)
}

/// The `contextId` of an integration's `createError`: an `ErrorBody` like
/// any other, recorded once by the asynchronous create, so every read
/// repeats the same id (derived from the integration's id).
fn create_error_context(id: &str) -> String {
    use sha2::Digest as _;
    let hex = hex::encode(sha2::Sha256::digest(format!("createError:{id}")));
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

fn rename_recipient(store: &mut Store, item: &Value, name: &str) {
    let Some(id) = ref_id(item.get("recipient")).map(str::to_string) else { return };
    if let Some(mut recipient) = store.get(Kind::Recipients, &id).cloned() {
        recipient["name"] = json!(name);
        recipient["dateModified"] = json!(now());
        store.put(Kind::Recipients, &id, recipient);
    }
}

/// A stored integration as the API returns it.
fn render(store: &Store, state: &Shared, item: &Value, params: &Params) -> Value {
    let mut out = item.clone();
    let id = item.get("id").and_then(Value::as_str).unwrap_or_default();
    if let Some(content) = ref_id(item.get("supportedContent")) {
        let mut reference = entity_ref(store, Kind::SupportedContent, content);
        if params.expands("supportedContent") {
            if let Some(media) =
                store.get(Kind::SupportedContent, content).and_then(|c| c.get("mediaTypes"))
            {
                reference["mediaTypes"] = media.clone();
            }
        }
        out["supportedContent"] = reference;
    }
    if let Some(setting) = ref_id(item.get("messagingSetting")) {
        let mut reference = entity_ref(store, Kind::MessagingSettings, setting);
        if params.expands("messagingSetting") {
            if let Some(full) = store.get(Kind::MessagingSettings, setting) {
                for key in ["content", "event", "version"] {
                    if let Some(value) = full.get(key) {
                        reference[key] = value.clone();
                    }
                }
            }
        }
        out["messagingSetting"] = reference;
    }
    if let Some(recipient) = ref_id(item.get("recipient")) {
        out["recipient"] = entity_ref(store, Kind::Recipients, recipient);
    }
    let pending =
        store.age(Kind::OpenIntegrations, id).is_some_and(|age| age < state.config.create_delay);
    if pending {
        out["createStatus"] = json!("Initiated");
    } else if name_of(item).starts_with(CREATE_ERROR_PREFIX) {
        out["createStatus"] = json!("Error");
        out["status"] = json!("Error");
        out["createError"] = json!({
            "message": "The integration could not be created (sandbox test hook).",
            "code": "integration.create.failed", "status": 400,
            "contextId": create_error_context(id),
            "details": [], "errors": [],
        });
    } else {
        out["createStatus"] = json!("Completed");
    }
    out
}
