//! Open messaging integrations: `/api/v2/conversations/messaging/integrations/open`.
//!
//! - Creation is asynchronous: the POST answer always says `createStatus:
//!   Initiated`; reads say `Completed` once `create_delay` has passed. A name
//!   starting with [`CREATE_ERROR_PREFIX`] ends in `Error` with a `createError`
//!   (a test hook). An org loaded from disk is settled.
//! - Each integration gets its own recipient (a distinct id, `messengerType:
//!   open`), renamed with it and deleted with it.
//! - `outboundNotificationWebhookSignatureSecretToken` is required on create
//!   and never returned (stored hashed). It "must be longer than 15
//!   characters" (Genesys Terraform provider,
//!   `conversations_messaging_integrations_open/..._open_schema.go`): a
//!   shorter one, on create or PATCH, is 400 naming the field (the real
//!   status and wording are UNVERIFIED).
//! - `supportedContent` / `messagingSetting` must exist and default to the
//!   org defaults (left out when the org has none, e.g. after `DELETE
//!   .../settings/default`: the real API then applies a "global default" it
//!   does not name).
//! - PATCH requires `name` and changes only the fields given.
//! - Names are unique (409, UNVERIFIED); lists are sorted by name; pageSize up
//!   to 100 (UNVERIFIED; the provider uses 100).

use serde_json::{Map, Value, json};

use super::crud::existing_ref;
use super::input::{Params, Shape, field, optional_str, required_str};
use crate::sandbox::common::{name_of, new_id, now, ref_id, self_uri, set_secret};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::resource::{Filter, Names, Object, Resource, Spec, Update, Write};
use crate::sandbox::server::AppState;
use crate::sandbox::store::{Kind, Store};

/// Integrations whose name starts with this end in `createStatus: Error`.
pub const CREATE_ERROR_PREFIX: &str = "sandbox-create-error";
const SECRET: &str = "outboundNotificationWebhookSignatureSecretToken";
const URL: &str = "outboundNotificationWebhookUrl";
/// References that default to the org default of the same key.
const DEFAULTED: [(&str, Kind); 2] =
    [("supportedContent", Kind::SupportedContent), ("messagingSetting", Kind::MessagingSettings)];

pub struct OpenMessaging;

impl Resource for OpenMessaging {
    const SPEC: Spec = Spec {
        names: Names::Unique,
        update: Update::Patch { name_required: true },
        filters: &[
            Filter::Ref("supportedContent.id", "supportedContent"),
            Filter::Ref("messagingSetting.id", "messagingSetting"),
        ],
        refs: &[
            ("supportedContent", Kind::SupportedContent),
            ("messagingSetting", Kind::MessagingSettings),
            ("recipient", Kind::Recipients),
        ],
        ..Spec::new(
            Kind::OpenIntegrations,
            "/api/v2/conversations/messaging/integrations/open",
            "/api/v2/conversations/messaging/integrations/open/{integrationId}",
            "open messaging integration",
        )
    };

    fn fields(store: &Store, body: &Object, old: Option<&Value>) -> ApiResult<Object> {
        let mut out = Map::new();
        let url =
            if old.is_none() { Some(required_str(body, URL)?) } else { optional_str(body, URL)? };
        if let Some(url) = url {
            check_url(&url)?;
            out.insert(URL.into(), json!(url));
        }
        // Checked here, stored (hashed) by `on_write`.
        let secret = if old.is_none() {
            Some(required_str(body, SECRET)?)
        } else {
            optional_str(body, SECRET)?
        };
        if secret.is_some_and(|s| s.chars().count() <= 15) {
            return Err(ApiError::bad_field(
                SECRET,
                format!("The field '{SECRET}' must be longer than 15 characters."),
            ));
        }
        for (key, kind) in DEFAULTED {
            if let Some(id) = existing_ref(store, body, key, kind)? {
                out.insert(key.into(), json!({"id": id}));
            }
        }
        if let Some(headers) = headers(body)? {
            out.insert("webhookHeaders".into(), headers);
        }
        Ok(out)
    }

    fn on_write(write: &mut Write<'_>, item: &mut Object) -> ApiResult<Object> {
        if let Some(secret) = optional_str(write.body, SECRET)? {
            set_secret(write.store, Kind::OpenIntegrations, write.id, &secret);
        }
        let name = item.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        if write.created {
            for (key, _) in DEFAULTED {
                if let Some(id) =
                    write.store.org().default_str(key).filter(|_| !item.contains_key(key))
                {
                    item.insert(key.into(), json!({"id": id}));
                }
            }
            item.insert("status".into(), json!("Active"));
            item.insert("recipient".into(), json!({"id": add_recipient(write.store, &name)}));
        } else if let Some(recipient) = ref_id(item.get("recipient")) {
            rename_recipient(write.store, recipient, &name);
        }
        Ok(Map::new())
    }

    /// The recipient goes with its integration.
    fn deleted(store: &mut Store, item: &Value) {
        if let Some(recipient) = ref_id(item.get("recipient")) {
            store.remove(Kind::Recipients, recipient);
        }
    }

    fn decorate(store: &Store, state: &AppState, out: &mut Value, params: &Params, fresh: bool) {
        if params.expands("supportedContent") {
            let media = ref_id(out.get("supportedContent"))
                .and_then(|id| store.get(Kind::SupportedContent, id)?.get("mediaTypes"));
            if let Some(media) = media.cloned() {
                out["supportedContent"]["mediaTypes"] = media;
            }
        }
        if params.expands("messagingSetting") {
            let setting = ref_id(out.get("messagingSetting"))
                .and_then(|id| store.get(Kind::MessagingSettings, id))
                .cloned();
            for key in ["content", "event", "version"] {
                if let Some(value) = setting.as_ref().and_then(|s| s.get(key)) {
                    out["messagingSetting"][key] = value.clone();
                }
            }
        }
        let id = out.get("id").and_then(Value::as_str).unwrap_or_default();
        let pending = fresh
            || store
                .age(Kind::OpenIntegrations, id)
                .is_some_and(|age| age < state.config.create_delay);
        if pending {
            out["createStatus"] = json!("Initiated");
        } else if name_of(out).starts_with(CREATE_ERROR_PREFIX) {
            let context = create_error_context(id);
            out["createStatus"] = json!("Error");
            out["status"] = json!("Error");
            out["createError"] = json!({
                "message": "The integration could not be created (sandbox test hook).",
                "code": "integration.create.failed", "status": 400,
                "contextId": context,
                "details": [], "errors": [],
            });
        } else {
            out["createStatus"] = json!("Completed");
        }
    }
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

/// The recipient created with an integration (same name, its own id).
fn add_recipient(store: &mut Store, name: &str) -> String {
    let id = new_id();
    let stamp = now();
    let recipient = json!({
        "id": id, "name": name, "messengerType": "open",
        "dateCreated": stamp, "dateModified": stamp,
        "selfUri": self_uri(Kind::Recipients, &id),
    });
    store.put(Kind::Recipients, &id, recipient);
    id
}

fn rename_recipient(store: &mut Store, id: &str, name: &str) {
    if let Some(mut recipient) = store.get(Kind::Recipients, id).cloned() {
        recipient["name"] = json!(name);
        recipient["dateModified"] = json!(now());
        store.put(Kind::Recipients, id, recipient);
    }
}

/// An integration for bulk generation, with its recipient and secret; the
/// caller stores it (settled at once).
pub fn generated(store: &mut Store, name: &str, url: &str, secret: &str) -> (String, Value) {
    let id = new_id();
    let stamp = now();
    let recipient = add_recipient(store, name);
    set_secret(store, Kind::OpenIntegrations, &id, secret);
    let mut item = json!({
        "id": id, "name": name,
        "outboundNotificationWebhookUrl": url,
        "status": "Active",
        "recipient": {"id": recipient},
        "dateCreated": stamp, "dateModified": stamp,
        "selfUri": self_uri(Kind::OpenIntegrations, &id),
    });
    for (key, _) in DEFAULTED {
        if let Some(default) = store.org().default_str(key) {
            item[key] = json!({"id": default});
        }
    }
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
