//! Web messaging (Messenger) configurations: `/api/v2/webdeployments/configurations`
//! (API reference §j).
//!
//! - A configuration is a draft plus published versions. `POST` creates the
//!   draft (`version: "DRAFT"`); `PUT …/versions/draft` replaces the draft
//!   whole (fields left out are cleared, as on the real API, which is why
//!   callers send the full model); `POST …/versions/draft/publish` copies
//!   the draft into the next integer version (`"1"`, `"2"`, …) and answers
//!   it. Published versions never change.
//! - Status: a draft is `Pending` for `web_deployment_delay` after each
//!   write, then `Active` (derived from `dateModified`, so an org loaded
//!   from disk is settled). Publishing a `Pending` draft is 400 (the
//!   provider waits for `Active` before publishing and retries 400 for
//!   30 s; the real wording is UNVERIFIED). Published versions are `Active`.
//! - Lists are cursor-paged ([`render_cursor`]): the list shows each
//!   configuration's draft, or with `showOnlyPublished=true` the latest
//!   published version of each published one (which entity the real list
//!   shows is UNVERIFIED; gcctl reads versions explicitly, as the provider
//!   does). `GET …/versions` lists the draft and every published version,
//!   newest first.
//! - Validation: `name` required, 1..100 characters (provider schema);
//!   `languages` and `defaultLanguage` required when `messenger.enabled`
//!   (SDK docs), and the default one of the languages (UNVERIFIED); every
//!   field of the model is type-checked and enum-checked; fields outside
//!   the model are dropped (a reader never sees them, so a misspelled
//!   field shows as an unapplied change); `maxFileSizeKB` 0..10240
//!   (provider schema). `authenticationSettings` and `video` need
//!   integrations the sandbox does not have: 400.
//! - DELETE removes every version. A configuration a deployment uses is
//!   400 naming the deployments (the real behavior is UNVERIFIED; deleting
//!   the deployments first works either way).

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::input::{Body, Params, bad_enum, type_name};
use super::paging::{WEB_DEPLOYMENTS, render_cursor};
use crate::sandbox::auth::{Caller, Subject};
use crate::sandbox::common::{name_of, new_id, now, ref_id, self_uri};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::resource::{Resource, Spec};
use crate::sandbox::server::{AppState, Shared};
use crate::sandbox::store::{Kind, Store};

pub struct WebConfigurations;

const PATH: &str = "/api/v2/webdeployments/configurations";
const ITEM: &str = "/api/v2/webdeployments/configurations/{configurationId}";
const VERSIONS: &str = "/api/v2/webdeployments/configurations/{configurationId}/versions";
const DRAFT: &str = "/api/v2/webdeployments/configurations/{configurationId}/versions/draft";
const PUBLISH: &str =
    "/api/v2/webdeployments/configurations/{configurationId}/versions/draft/publish";
const VERSION: &str =
    "/api/v2/webdeployments/configurations/{configurationId}/versions/{versionId}";

impl Resource for WebConfigurations {
    const SPEC: Spec = Spec {
        max_page_size: Some(WEB_DEPLOYMENTS.max_size),
        ..Spec::new(Kind::WebConfigurations, PATH, ITEM, "web deployment configuration")
    };

    fn routes() -> Router<Shared> {
        Router::new()
            .route(PATH, get(list).post(create))
            .route(ITEM, axum::routing::delete(remove))
            .route(VERSIONS, get(versions))
            .route(DRAFT, get(read_draft).put(update_draft))
            .route(PUBLISH, post(publish))
            .route(VERSION, get(read_version))
    }
}

/// The shape of the writable model, for checking bodies.
#[derive(Debug, Clone, Copy)]
enum S {
    Str,
    Bool,
    Int,
    StrList,
    Enum(&'static [&'static str]),
    /// An `{id}` reference (a knowledge base).
    Ref,
    Obj(&'static [(&'static str, S)]),
    List(&'static S),
}

const REF: S = S::Ref;
const CONVERSATIONS: S = S::Obj(&[
    ("enabled", S::Bool),
    ("showAgentTypingIndicator", S::Bool),
    ("showUserTypingIndicator", S::Bool),
    ("autoStart", S::Obj(&[("enabled", S::Bool)])),
    ("markdown", S::Obj(&[("enabled", S::Bool)])),
    (
        "conversationDisconnect",
        S::Obj(&[("enabled", S::Bool), ("type", S::Enum(&["Send", "ReadOnly"]))]),
    ),
    ("conversationClear", S::Obj(&[("enabled", S::Bool)])),
    (
        "humanize",
        S::Obj(&[
            ("enabled", S::Bool),
            ("bot", S::Obj(&[("name", S::Str), ("avatarUrl", S::Str)])),
        ]),
    ),
    (
        "notifications",
        S::Obj(&[
            ("enabled", S::Bool),
            (
                "notificationContentType",
                S::Enum(&["IncludeMessagesContent", "ExcludeMessagesContent"]),
            ),
        ]),
    ),
    ("sessionDurationSeconds", S::Int),
]);
const MESSENGER: S = S::Obj(&[
    ("enabled", S::Bool),
    ("styles", S::Obj(&[("primaryColor", S::Str)])),
    (
        "launcherButton",
        S::Obj(&[
            ("visibility", S::Enum(&["On", "Off", "OnDemand"])),
            ("displayType", S::Enum(&["IconAndText", "Icon", "Text"])),
            ("icon", S::Obj(&[("url", S::Str)])),
        ]),
    ),
    (
        "fileUpload",
        S::Obj(&[
            ("enableAttachments", S::Bool),
            ("modes", S::List(&S::Obj(&[("fileTypes", S::StrList), ("maxFileSizeKB", S::Int)]))),
        ]),
    ),
    (
        "apps",
        S::Obj(&[
            ("conversations", CONVERSATIONS),
            ("knowledge", S::Obj(&[("enabled", S::Bool), ("knowledgeBase", REF)])),
        ]),
    ),
    ("homeScreen", S::Obj(&[("enabled", S::Bool), ("logoUrl", S::Str)])),
    ("sessionPersistenceType", S::Enum(&["AcrossSubdomains", "DomainOrSubdomainOnly"])),
]);
const LABEL_KEYS: &[&str] = &[
    "MessengerHomeHeaderTitle",
    "MessengerHomeHeaderSubTitle",
    "PushNotificationTitle",
    "PushNotificationBody",
    "MessengerLauncherButtonText",
];
/// The writable fields of `WebDeploymentConfigurationVersion` other than
/// `name` (and `authenticationSettings` and `video`, refused).
const MODEL: &[(&str, S)] = &[
    ("description", S::Str),
    ("headlessMode", S::Obj(&[("enabled", S::Bool)])),
    ("languages", S::StrList),
    ("defaultLanguage", S::Str),
    (
        "customI18nLabels",
        S::List(&S::Obj(&[
            ("language", S::Str),
            (
                "localizedLabels",
                S::List(&S::Obj(&[("key", S::Enum(LABEL_KEYS)), ("value", S::Str)])),
            ),
        ])),
    ),
    ("messenger", MESSENGER),
    (
        "position",
        S::Obj(&[
            ("alignment", S::Enum(&["Auto", "Left", "Right"])),
            ("sideSpace", S::Int),
            ("bottomSpace", S::Int),
        ]),
    ),
    (
        "supportCenter",
        S::Obj(&[
            ("enabled", S::Bool),
            ("knowledgeBase", REF),
            ("routerType", S::Enum(&["Hash", "Browser"])),
        ]),
    ),
    (
        "cobrowse",
        S::Obj(&[
            ("enabled", S::Bool),
            ("allowAgentControl", S::Bool),
            ("allowAgentNavigation", S::Bool),
            ("allowDraw", S::Bool),
            ("maskSelectors", S::StrList),
            ("channels", S::StrList),
            ("readonlySelectors", S::StrList),
        ]),
    ),
    (
        "journeyEvents",
        S::Obj(&[
            ("enabled", S::Bool),
            ("excludedQueryParameters", S::StrList),
            ("shouldKeepUrlFragment", S::Bool),
            ("searchQueryParameters", S::StrList),
            ("pageviewConfig", S::Enum(&["Auto", "Once", "Off"])),
        ]),
    ),
];

/// Check `value` against `shape` at `at`; the normalized value (fields
/// outside the model dropped, nulls left out).
fn checked(at: &str, value: &Value, shape: S) -> ApiResult<Option<Value>> {
    if value.is_null() {
        return Ok(None);
    }
    let wrong = |want: &str| {
        ApiError::bad_field(
            at,
            format!("The field '{at}' must be {want}, not {}.", type_name(value)),
        )
    };
    let out = match shape {
        S::Str if value.is_string() => value.clone(),
        S::Bool if value.is_boolean() => value.clone(),
        S::Int if value.is_i64() || value.is_u64() => value.clone(),
        S::StrList if value.as_array().is_some_and(|a| a.iter().all(Value::is_string)) => {
            value.clone()
        }
        S::Enum(allowed) => match value.as_str() {
            Some(text) if allowed.contains(&text) => value.clone(),
            Some(text) => return Err(bad_enum(at, text, allowed)),
            None => return Err(wrong("a string")),
        },
        S::Ref => match value.get("id").and_then(Value::as_str) {
            Some(id) => json!({"id": id}),
            None => return Err(ApiError::missing_field(&format!("{at}.id"))),
        },
        S::Obj(fields) => {
            let Some(map) = value.as_object() else { return Err(wrong("an object")) };
            let mut out = Map::new();
            for (key, shape) in fields {
                if let Some(v) = map.get(*key) {
                    if let Some(v) = checked(&format!("{at}.{key}"), v, *shape)? {
                        out.insert((*key).to_string(), v);
                    }
                }
            }
            Value::Object(out)
        }
        S::List(item) => {
            let Some(items) = value.as_array() else { return Err(wrong("an array")) };
            let mut out = Vec::new();
            for (i, v) in items.iter().enumerate() {
                out.extend(checked(&format!("{at}[{i}]"), v, *item)?);
            }
            Value::Array(out)
        }
        S::Str => return Err(wrong("a string")),
        S::Bool => return Err(wrong("a boolean")),
        S::Int => return Err(wrong("an integer")),
        S::StrList => return Err(wrong("an array of strings")),
    };
    Ok(Some(out))
}

/// The writable content of a create or draft PUT body, checked.
fn content(body: &Map<String, Value>) -> ApiResult<Map<String, Value>> {
    let name = match body.get("name") {
        Some(Value::String(name)) => name.clone(),
        Some(Value::Null) | None => return Err(ApiError::missing_field("name")),
        Some(other) => {
            return Err(ApiError::bad_field(
                "name",
                format!("The field 'name' must be a string, not {}.", type_name(other)),
            ));
        }
    };
    let length = name.chars().count();
    if name.trim().is_empty() || length > 100 {
        return Err(ApiError::bad_field(
            "name",
            format!("The field 'name' must be 1 to 100 characters long, not {length}."),
        ));
    }
    for unsupported in ["authenticationSettings", "video"] {
        if body.get(unsupported).is_some_and(|v| !v.is_null()) {
            return Err(ApiError::bad_field(
                unsupported,
                format!("The sandbox has no integration that '{unsupported}' could name."),
            ));
        }
    }
    let mut out = Map::new();
    out.insert("name".into(), json!(name));
    for (key, shape) in MODEL {
        if let Some(value) = body.get(*key) {
            if let Some(value) = checked(key, value, *shape)? {
                out.insert((*key).to_string(), value);
            }
        }
    }
    check_rules(&out)?;
    Ok(out)
}

/// The rules across fields of a configuration's content: an enabled
/// messenger needs languages and a default language among them, and a file
/// upload mode allows at most 10,240 KB.
fn check_rules(out: &Map<String, Value>) -> ApiResult<()> {
    let enabled = out.get("messenger").and_then(|m| m.get("enabled")) == Some(&json!(true));
    let languages: Vec<&str> = out
        .get("languages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let default = out.get("defaultLanguage").and_then(Value::as_str);
    if enabled && languages.is_empty() {
        return Err(ApiError::bad_field(
            "languages",
            "The field 'languages' is required when the messenger is enabled.",
        ));
    }
    match default {
        None if enabled => return Err(ApiError::missing_field("defaultLanguage")),
        Some(default) if !languages.contains(&default) => {
            return Err(ApiError::bad_field(
                "defaultLanguage",
                format!("The default language '{default}' is not one of the languages."),
            ));
        }
        _ => {}
    }
    let modes = out.get("messenger").and_then(|m| m.pointer("/fileUpload/modes"));
    let modes = modes.and_then(Value::as_array);
    for (i, mode) in modes.into_iter().flatten().enumerate() {
        let size = mode.get("maxFileSizeKB").and_then(Value::as_i64);
        if size.is_some_and(|s| !(0..=10_240).contains(&s)) {
            return Err(ApiError::bad_field(
                &format!("messenger.fileUpload.modes[{i}].maxFileSizeKB"),
                "The maximum file size must be between 0 and 10240 KB.",
            ));
        }
    }
    Ok(())
}

/// `{id, selfUri}` (`AddressableEntityRef`: no name, unlike a flow's
/// `publishedBy`) of the caller when it is a user (the `…User` fields
/// name users; a client caller leaves them out).
pub fn user(caller: &Caller) -> Option<Value> {
    match &caller.subject {
        Subject::User(_) => Some(caller.subject.reference()),
        Subject::Client(_) => None,
    }
}

/// Whether an object written at `dateModified` is still `Pending`.
pub fn pending(state: &AppState, object: &Value) -> bool {
    let delay = state.config.web_deployment_delay;
    if delay.is_zero() {
        return false;
    }
    let modified = object
        .get("dateModified")
        .and_then(Value::as_str)
        .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok());
    modified.is_some_and(|at| {
        let age = chrono::Utc::now().signed_duration_since(at);
        age.to_std().map_or(true, |age| age < delay)
    })
}

/// A stored draft or version as the API shows it.
fn render(state: &AppState, stored: &Value) -> Value {
    let mut out = stored.clone();
    let draft = stored.get("version").and_then(Value::as_str) == Some("DRAFT");
    let status = if draft && pending(state, stored) { "Pending" } else { "Active" };
    out["status"] = json!(status);
    out
}

/// The published versions of a configuration, newest first.
pub fn published(store: &Store, id: &str) -> Vec<Value> {
    let mut versions: Vec<(u64, Value)> = store
        .all(Kind::WebConfigurationVersions)
        .filter(|v| {
            v.get("id").and_then(Value::as_str) == Some(id)
                && v.get("version").and_then(Value::as_str).is_some()
        })
        .filter_map(|v| {
            let number = v.get("version").and_then(Value::as_str)?.parse().ok()?;
            Some((number, v.clone()))
        })
        .collect();
    versions.sort_by_key(|v| std::cmp::Reverse(v.0));
    versions.into_iter().map(|(_, v)| v).collect()
}

fn draft_of<'s>(store: &'s Store, id: &str) -> ApiResult<&'s Value> {
    store
        .visible(Kind::WebConfigurations, id)
        .ok_or_else(|| ApiError::not_found("web deployment configuration", id))
}

async fn list(State(state): State<Shared>, params: Params) -> ApiResult<axum::Json<Value>> {
    let only_published = params.bool("showOnlyPublished")?.unwrap_or(false);
    let store = state.store_read();
    let items: Vec<Value> = store
        .list_by_name(Kind::WebConfigurations)
        .filter_map(|draft| {
            if only_published {
                published(&store, draft.get("id")?.as_str()?).into_iter().next()
            } else {
                Some(render(&state, draft))
            }
        })
        .collect();
    Ok(axum::Json(render_cursor(PATH, &params, WEB_DEPLOYMENTS, &items, Value::clone)?))
}

async fn create(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Body(body): Body,
) -> ApiResult<axum::Json<Value>> {
    let mut draft = content(&body)?;
    let mut store = state.store();
    let id = new_id();
    let stamp = now();
    draft.insert("id".into(), json!(id));
    draft.insert("version".into(), json!("DRAFT"));
    draft.insert("dateCreated".into(), json!(stamp));
    draft.insert("dateModified".into(), json!(stamp));
    if let Some(user) = user(&caller) {
        draft.insert("createdUser".into(), user.clone());
        draft.insert("lastModifiedUser".into(), user);
    }
    draft.insert(
        "selfUri".into(),
        json!(format!("{}/versions/draft", self_uri(Kind::WebConfigurations, &id))),
    );
    let draft = Value::Object(draft);
    store.insert(Kind::WebConfigurations, &id, draft.clone());
    store.commit()?;
    Ok(axum::Json(render(&state, &draft)))
}

async fn read_draft(
    State(state): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let store = state.store_read();
    Ok(axum::Json(render(&state, draft_of(&store, &id)?)))
}

async fn update_draft(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Body(body): Body,
) -> ApiResult<axum::Json<Value>> {
    let mut draft = content(&body)?;
    let mut store = state.store();
    let old = draft_of(&store, &id)?.clone();
    for kept in ["id", "version", "dateCreated", "createdUser", "selfUri"] {
        if let Some(value) = old.get(kept) {
            draft.insert(kept.into(), value.clone());
        }
    }
    draft.insert("dateModified".into(), json!(now()));
    if let Some(user) = user(&caller) {
        draft.insert("lastModifiedUser".into(), user);
    }
    let draft = Value::Object(draft);
    store.put(Kind::WebConfigurations, &id, draft.clone());
    store.commit()?;
    Ok(axum::Json(render(&state, &draft)))
}

async fn publish(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let mut store = state.store();
    let draft = draft_of(&store, &id)?.clone();
    if pending(&state, &draft) {
        return Err(ApiError::bad_request(format!(
            "The configuration draft of '{}' is not active yet (status Pending); publish it once it is Active.",
            name_of(&draft)
        )));
    }
    let number = published(&store, &id)
        .first()
        .and_then(|v| v.get("version")?.as_str()?.parse::<u64>().ok())
        .unwrap_or(0)
        + 1;
    let mut version = draft.clone();
    let stamp = now();
    version["version"] = json!(number.to_string());
    version["datePublished"] = json!(stamp);
    version["selfUri"] =
        json!(format!("{}/versions/{number}", self_uri(Kind::WebConfigurations, &id)));
    if let (Some(map), Some(user)) = (version.as_object_mut(), user(&caller)) {
        map.insert("publishedUser".into(), user);
    }
    version["status"] = json!("Active");
    store.insert(Kind::WebConfigurationVersions, &format!("{id}/{number}"), version.clone());
    store.commit()?;
    Ok(axum::Json(version))
}

async fn versions(
    State(state): State<Shared>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<axum::Json<Value>> {
    let store = state.store_read();
    let draft = render(&state, draft_of(&store, &id)?);
    let mut items = vec![draft];
    items.extend(published(&store, &id));
    let path = format!("{}/versions", self_uri(Kind::WebConfigurations, &id));
    Ok(axum::Json(render_cursor(&path, &params, WEB_DEPLOYMENTS, &items, Value::clone)?))
}

async fn read_version(
    State(state): State<Shared>,
    Path((id, version)): Path<(String, String)>,
) -> ApiResult<axum::Json<Value>> {
    let store = state.store_read();
    draft_of(&store, &id)?;
    store
        .get(Kind::WebConfigurationVersions, &format!("{id}/{version}"))
        .cloned()
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found("web deployment configuration version", &version))
}

async fn remove(State(state): State<Shared>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let mut store = state.store();
    draft_of(&store, &id)?;
    let users: Vec<String> = store
        .all(Kind::WebDeployments)
        .filter(|d| d.pointer("/configuration/id").and_then(Value::as_str) == Some(id.as_str()))
        .map(|d| format!("'{}'", name_of(d)))
        .collect();
    if !users.is_empty() {
        return Err(ApiError::bad_request(format!(
            "The configuration is used by the deployment(s) {}; delete them or point them at another configuration first.",
            users.join(", ")
        )));
    }
    let keys: Vec<String> = store
        .all(Kind::WebConfigurationVersions)
        .filter(|v| ref_id(Some(v)) == Some(id.as_str()))
        .filter_map(|v| Some(format!("{id}/{}", v.get("version")?.as_str()?)))
        .collect();
    for key in keys {
        store.remove(Kind::WebConfigurationVersions, &key);
    }
    store.remove(Kind::WebConfigurations, &id);
    store.commit()?;
    Ok(StatusCode::NO_CONTENT)
}
