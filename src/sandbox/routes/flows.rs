//! Architect flows: `GET /api/v2/flows` and `/api/v2/flows/{flowId}`,
//! `DELETE /api/v2/flows/{flowId}`, versions, the lock actions and
//! dependency tracking. Flows are created, updated and published by import
//! jobs only (`routes::flow_jobs`), as Archy and the provider do.
//!
//! - `type` takes the lowercase query values (`inboundshortmessage`) and may
//!   repeat; responses carry the uppercase enum (`INBOUNDSHORTMESSAGE`).
//! - `name` is a case-insensitive substring filter (the real one is fuzzy;
//!   callers compare exactly). `id` (repeatable) ignores every other filter,
//!   as documented. Default order is `sortBy=id`, as the real API.
//! - pageSize up to 500 (what the provider uses; UNVERIFIED).
//! - Versions: each import or `actions/publish` adds a published version
//!   numbered `1.0`, `2.0`, … (`FlowVersion.id`; the real numbering scheme
//!   is UNVERIFIED), listed by `GET …/{flowId}/versions`.
//! - Locks: `actions/checkout` locks the flow for the caller
//!   (`lockedUser` or `lockedClient`); `actions/checkin` (the lock holder)
//!   and `actions/unlock` (anyone with `architect:flow:unlock`, "in the case
//!   where there is no flow configuration available") release it;
//!   `actions/publish` republishes the latest version as a new one. A flow
//!   locked by another caller refuses checkout, publish (409) and import
//!   jobs (a `Failure` message), and DELETE (409).
//! - DELETE refuses a system flow (400) and a flow a queue, a message
//!   recipient or another published flow still uses (400 naming them; the
//!   real answer is UNVERIFIED); its versions go with it.
//! - Dependency tracking: `consumedresources` of a flow version are the
//!   queues, wrap-up codes and flows its YAML names; `consumingresources`
//!   of an object are the flows whose published version names it, and of a
//!   flow also the queues using it as an in-queue flow. Other object types
//!   have no dependencies here.

use axum::Router;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::crud;
use super::input::{Body, Id, Params};
use super::paging::{page, render_page};
use crate::kinds::flow::archy::FlowType;
use crate::sandbox::auth::{Caller, Subject};
use crate::sandbox::common::{name_of, new_id, now, ref_id, self_uri};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::resource::{Filter, Op, Order, Resource, Spec};
use crate::sandbox::server::Shared;
use crate::sandbox::store::{Kind, Store};

pub struct Flows;

impl Resource for Flows {
    const SPEC: Spec = Spec {
        division: Some("architect:flow"),
        filters: &[
            Filter::IdsOnly,
            Filter::NameContains,
            Filter::OneOf("type", "type", TYPES),
            Filter::Ref("divisionId", "division"),
        ],
        order: Order::IdOrName,
        max_page_size: Some(500),
        dates: false,
        refs: &[("division", Kind::Divisions)],
        flags: &[(Op::Read, "deleted"), (Op::Delete, "deleted")],
        ..Spec::new(Kind::Flows, "/api/v2/flows", "/api/v2/flows/{flowId}", "flow")
    };

    fn routes() -> Router<Shared> {
        crud::routes::<Self>()
            .route(Self::SPEC.path, post(create))
            .route(Self::SPEC.item, axum::routing::delete(remove))
            .route("/api/v2/flows/{flowId}/versions", get(versions))
            .route("/api/v2/flows/{flowId}/versions/{versionId}", get(version))
            .route("/api/v2/flows/actions/checkout", post(checkout))
            .route("/api/v2/flows/actions/checkin", post(checkin))
            .route("/api/v2/flows/actions/unlock", post(unlock))
            .route("/api/v2/flows/actions/publish", post(publish_action))
            .route(CONSUMING, get(consuming))
            .route(CONSUMED, get(consumed))
            .merge(super::flow_jobs::routes())
    }
}

/// The `type` query values of `GET /api/v2/flows`.
const TYPES: &[&str] = &[
    "bot",
    "commonmodule",
    "digitalbot",
    "emailsend",
    "inboundcall",
    "inboundchat",
    "inboundemail",
    "inboundshortmessage",
    "outboundcall",
    "inqueuecall",
    "inqueueemail",
    "inqueueshortmessage",
    "speech",
    "securecall",
    "surveyinvite",
    "voice",
    "voicemail",
    "voicesurvey",
    "workflow",
    "workitem",
];

const CONSUMING: &str = "/api/v2/architect/dependencytracking/consumingresources";
const CONSUMED: &str = "/api/v2/architect/dependencytracking/consumedresources";
/// Queue fields that name an in-queue flow.
const QUEUE_FLOW_FIELDS: [&str; 3] = ["queueFlow", "emailInQueueFlow", "messageInQueueFlow"];

/// Who holds a flow's lock, if anyone.
pub fn lock_holder(flow: &Value) -> Option<Subject> {
    if let Some(id) = flow.pointer("/lockedUser/id").and_then(Value::as_str) {
        return Some(Subject::User(id.to_string()));
    }
    flow.pointer("/lockedClient/id")
        .and_then(Value::as_str)
        .map(|id| Subject::Client(id.to_string()))
}

/// `{id, name, selfUri}` of a user, or `None` for a client.
fn user_ref(store: &Store, subject: Option<&Subject>) -> Option<Value> {
    match subject? {
        Subject::User(id) => {
            let mut user = json!({"id": id, "selfUri": self_uri(Kind::Users, id)});
            if let Some(name) = store.get(Kind::Users, id).map(name_of) {
                user["name"] = json!(name);
            }
            Some(user)
        }
        Subject::Client(_) => None,
    }
}

fn client_ref(store: &Store, subject: Option<&Subject>) -> Option<Value> {
    match subject? {
        Subject::Client(id) => {
            let mut client = json!({"id": id, "selfUri": self_uri(Kind::OauthClients, id)});
            if let Some(name) = store.get(Kind::OauthClients, id).map(name_of) {
                client["name"] = json!(name);
            }
            Some(client)
        }
        Subject::User(_) => None,
    }
}

/// The stored versions of a flow, by number.
fn stored_versions<'s>(store: &'s Store, flow: &str) -> Vec<&'s Value> {
    let mut versions: Vec<&Value> = store
        .all(Kind::FlowVersions)
        .filter(|v| v.get("flowId").and_then(Value::as_str) == Some(flow))
        .collect();
    versions.sort_by_key(|v| v.get("number").and_then(Value::as_u64).unwrap_or(0));
    versions
}

/// Publish `text` as a new version of the flow (created when `existing` is
/// `None`); returns the flow's id.
#[allow(clippy::too_many_arguments)]
pub fn publish(
    store: &mut Store,
    existing: Option<Value>,
    name: &str,
    flow_type: FlowType,
    division: Option<String>,
    description: Option<String>,
    text: &str,
    consumed: &[Value],
    caller: Option<&Subject>,
) -> String {
    let id = existing
        .as_ref()
        .and_then(|f| f.get("id"))
        .and_then(Value::as_str)
        .map_or_else(new_id, str::to_string);
    let number = stored_versions(store, &id)
        .last()
        .and_then(|v| v.get("number").and_then(Value::as_u64))
        .unwrap_or(0)
        + 1;
    let version = flow_version(store, &id, name, number, caller);
    store.put(
        Kind::FlowVersions,
        &format!("{id}/{number}"),
        json!({"flowId": id, "number": number, "yaml": text, "consumed": consumed, "version": version}),
    );
    let created = existing.is_none();
    let mut flow =
        existing.unwrap_or_else(|| json!({"id": id, "selfUri": self_uri(Kind::Flows, &id)}));
    flow["name"] = json!(name);
    flow["type"] = json!(flow_type.as_str());
    flow["active"] = json!(true);
    flow["system"] = json!(false);
    flow["deleted"] = json!(false);
    if let Some(division) = division {
        flow["division"] = json!({"id": division});
    }
    if let Some(map) = flow.as_object_mut() {
        match description {
            Some(description) => map.insert("description".into(), json!(description)),
            None => map.remove("description"),
        };
        map.insert("publishedVersion".into(), version.clone());
        map.insert("checkedInVersion".into(), version);
        match user_ref(store, caller) {
            Some(user) => map.insert("publishedBy".into(), user),
            None => map.remove("publishedBy"),
        };
    }
    if created {
        store.insert(Kind::Flows, &id, flow);
    } else {
        store.put(Kind::Flows, &id, flow);
    }
    id
}

/// A `FlowVersion` published now by `caller`.
fn flow_version(
    store: &Store,
    flow: &str,
    name: &str,
    number: u64,
    caller: Option<&Subject>,
) -> Value {
    let id = format!("{number}.0");
    let mut version = json!({
        "id": id, "name": name, "commitVersion": id, "configurationVersion": id,
        "type": "PUBLISH", "secure": false, "debug": false,
        "dateCreated": chrono::Utc::now().timestamp_millis(), "datePublished": now(),
        "selfUri": format!("/api/v2/flows/{flow}/versions/{id}"),
    });
    if let Some(user) = user_ref(store, caller) {
        version["createdBy"] = user;
    }
    if let Some(client) = client_ref(store, caller) {
        version["createdByClient"] = client;
    }
    version
}

fn visible_flow(store: &Store, id: &str) -> ApiResult<Value> {
    store.visible(Kind::Flows, id).cloned().ok_or_else(|| ApiError::not_found("flow", id))
}

fn render(store: &Store, state: &Shared, flow: &Value) -> Value {
    crud::render::<Flows>(store, state, flow, &Params::default(), false)
}

/// `POST /api/v2/flows` (Architect's "Add"): a flow with a name, a type,
/// and optionally a description and a division (Home when none), holding no
/// configuration and no published version. Any type the API lists (bot
/// flows, chat, voice, …), unlike the import job, which publishes only the
/// types of `Flow` manifests: an org holds flows gcctl cannot declare. The
/// caller needs `architect:flow:add` in the flow's division. A name is
/// unique within its type, ignoring case (UNVERIFIED: the real answer to a
/// duplicate is taken to be 409).
async fn create(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Body(body): Body,
) -> ApiResult<axum::Json<Value>> {
    for key in body.keys() {
        if !["name", "type", "description", "division"].contains(&key.as_str()) {
            return Err(ApiError::bad_field(
                key,
                format!("The field '{key}' cannot be set on a new flow here."),
            ));
        }
    }
    let name = super::input::required_str(&body, "name")?;
    let flow_type = super::input::required_str(&body, "type")?;
    if !TYPES.contains(&flow_type.to_ascii_lowercase().as_str())
        || flow_type != flow_type.to_ascii_uppercase()
    {
        let allowed: Vec<String> = TYPES.iter().map(|t| t.to_ascii_uppercase()).collect();
        let allowed: Vec<&str> = allowed.iter().map(String::as_str).collect();
        return Err(super::input::bad_enum("type", &flow_type, &allowed));
    }
    let description = super::input::optional_str(&body, "description")?;
    let mut store = state.store();
    let division = match super::input::optional_ref(&body, "division")? {
        Some(id) if store.visible(Kind::Divisions, &id).is_some() => id,
        Some(id) => {
            return Err(ApiError::bad_field(
                "division.id",
                format!("The division '{id}' does not exist."),
            ));
        }
        None => crate::sandbox::common::home_division(&store).unwrap_or_default(),
    };
    // The caller's rights in the division the flow goes to (the route's
    // were checked in any division), as for every create.
    crate::sandbox::authz::authorize_at(
        &store,
        &caller.subject,
        crate::sandbox::authz::requirement("POST", Flows::SPEC.path),
        Flows::SPEC.division,
        crate::sandbox::authz::Place::In(&division),
    )?;
    let taken = store.all(Kind::Flows).any(|f| {
        f.get("type").and_then(Value::as_str) == Some(flow_type.as_str())
            && name_of(f).to_lowercase() == name.to_lowercase()
            && f.get("deleted").and_then(Value::as_bool) != Some(true)
    });
    if taken {
        return Err(ApiError::conflict(format!(
            "A flow of type {flow_type} named '{name}' already exists."
        )));
    }
    let id = new_id();
    let mut flow = json!({
        "id": id, "name": name, "type": flow_type, "division": {"id": division},
        "active": false, "system": false, "deleted": false,
        "selfUri": self_uri(Kind::Flows, &id),
    });
    if let Some(description) = description {
        flow["description"] = json!(description);
    }
    store.insert(Kind::Flows, &id, flow.clone());
    Ok(axum::Json(render(&store, &state, &flow)))
}

async fn remove(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Id(id): Id,
    params: Params,
) -> ApiResult<StatusCode> {
    params.bool("deleted")?;
    let mut store = state.store();
    let flow = visible_flow(&store, &id)?;
    if flow.get("system").and_then(Value::as_bool) == Some(true) {
        return Err(ApiError::bad_request("A system flow cannot be deleted."));
    }
    if let Some(holder) = lock_holder(&flow).filter(|h| *h != caller.subject) {
        return Err(ApiError::conflict(format!(
            "The flow '{}' is locked by {}; unlock it first.",
            name_of(&flow),
            holder.id()
        )));
    }
    let mut users: Vec<String> = store
        .all(Kind::Queues)
        .filter(|q| QUEUE_FLOW_FIELDS.iter().any(|f| ref_id(q.get(*f)) == Some(id.as_str())))
        .map(|q| format!("queue '{}'", name_of(q)))
        .collect();
    users.extend(
        store
            .all(Kind::Recipients)
            .filter(|r| ref_id(r.get("flow")) == Some(id.as_str()))
            .map(|r| format!("message recipient '{}'", name_of(r))),
    );
    // A flow another published flow calls or transfers to (UNVERIFIED that
    // a real org refuses this delete; gcctl checks dependency tracking
    // before any flow delete, so it works either way).
    users.extend(
        flows_naming(&store, &id).into_iter().map(|(f, _)| format!("flow '{}'", name_of(f))),
    );
    if !users.is_empty() {
        return Err(ApiError::bad_request(format!(
            "The flow '{}' is in use by {} and cannot be deleted.",
            name_of(&flow),
            users.join(", ")
        )));
    }
    store.remove(Kind::Flows, &id);
    let versions: Vec<String> = store
        .all(Kind::FlowVersions)
        .filter(|v| v.get("flowId").and_then(Value::as_str) == Some(id.as_str()))
        .filter_map(|v| Some(format!("{id}/{}", v.get("number")?.as_u64()?)))
        .collect();
    for key in versions {
        store.remove(Kind::FlowVersions, &key);
    }
    store.commit()?;
    Ok(StatusCode::NO_CONTENT)
}

async fn versions(
    State(state): State<Shared>,
    Id(id): Id,
    params: Params,
) -> ApiResult<axum::Json<Value>> {
    let page = page(&params, 100)?;
    let store = state.store_read();
    visible_flow(&store, &id)?;
    let versions: Vec<Value> =
        stored_versions(&store, &id).into_iter().map(|v| v["version"].clone()).collect();
    let path = format!("/api/v2/flows/{id}/versions");
    Ok(axum::Json(render_page(
        &path,
        &params,
        page,
        false,
        versions.iter().collect(),
        Value::clone,
    )))
}

async fn version(
    State(state): State<Shared>,
    axum::extract::Path((id, version)): axum::extract::Path<(String, String)>,
) -> ApiResult<axum::Json<Value>> {
    let store = state.store_read();
    visible_flow(&store, &id)?;
    let number = version.split('.').next().unwrap_or_default();
    store
        .get(Kind::FlowVersions, &format!("{id}/{number}"))
        .map(|v| axum::Json(v["version"].clone()))
        .ok_or_else(|| ApiError::not_found("flow version", &version))
}

/// The flow named by the `flow` query parameter of an action.
fn action_flow(store: &Store, params: &Params) -> ApiResult<Value> {
    let id = params
        .get("flow")
        .filter(|f| !f.is_empty())
        .ok_or_else(|| ApiError::missing_field("flow"))?;
    visible_flow(store, id)
}

fn locked_by_other(flow: &Value, caller: &Caller) -> ApiResult<()> {
    match lock_holder(flow).filter(|h| *h != caller.subject) {
        Some(holder) => Err(ApiError::conflict(format!(
            "The flow '{}' is locked by {}.",
            name_of(flow),
            holder.id()
        ))),
        None => Ok(()),
    }
}

fn save(store: &mut Store, flow: &Value) -> ApiResult<()> {
    let id = flow.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
    store.put(Kind::Flows, &id, flow.clone());
    store.commit()?;
    Ok(())
}

/// An `Operation` that completed.
fn operation(store: &Store, caller: &Caller, action: &str) -> Value {
    let mut op =
        json!({"id": new_id(), "complete": true, "actionName": action, "actionStatus": "SUCCESS"});
    if let Some(user) = user_ref(store, Some(&caller.subject)) {
        op["user"] = user;
    }
    if let Some(client) = client_ref(store, Some(&caller.subject)) {
        op["client"] = client;
    }
    op
}

async fn checkout(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> ApiResult<axum::Json<Value>> {
    let mut store = state.store();
    let mut flow = action_flow(&store, &params)?;
    locked_by_other(&flow, &caller)?;
    let key = match caller.subject {
        Subject::User(_) => "lockedUser",
        Subject::Client(_) => "lockedClient",
    };
    let holder = user_ref(&store, Some(&caller.subject))
        .or_else(|| client_ref(&store, Some(&caller.subject)))
        .unwrap_or(Value::Null);
    flow[key] = holder;
    save(&mut store, &flow)?;
    Ok(axum::Json(render(&store, &state, &flow)))
}

fn release(flow: &mut Value) {
    if let Some(map) = flow.as_object_mut() {
        map.remove("lockedUser");
        map.remove("lockedClient");
    }
}

async fn checkin(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> ApiResult<axum::Json<Value>> {
    let mut store = state.store();
    let mut flow = action_flow(&store, &params)?;
    if lock_holder(&flow).as_ref() != Some(&caller.subject) {
        return Err(ApiError::bad_request(format!(
            "The flow '{}' is not checked out by the caller.",
            name_of(&flow)
        )));
    }
    release(&mut flow);
    save(&mut store, &flow)?;
    Ok(axum::Json(operation(&store, &caller, "CHECKIN")))
}

async fn unlock(State(state): State<Shared>, params: Params) -> ApiResult<axum::Json<Value>> {
    let mut store = state.store();
    let mut flow = action_flow(&store, &params)?;
    release(&mut flow);
    save(&mut store, &flow)?;
    Ok(axum::Json(render(&store, &state, &flow)))
}

async fn publish_action(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> ApiResult<axum::Json<Value>> {
    let mut store = state.store();
    let flow = action_flow(&store, &params)?;
    locked_by_other(&flow, &caller)?;
    let id = flow.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
    let versions = stored_versions(&store, &id);
    let source = match params.get("version") {
        Some(wanted) => versions
            .iter()
            .find(|v| v.pointer("/version/id").and_then(Value::as_str) == Some(wanted)),
        None => versions.last(),
    };
    let Some(source) = source.map(|v| (*v).clone()) else {
        return Err(ApiError::bad_request(format!(
            "The flow '{}' has no configuration to publish.",
            name_of(&flow)
        )));
    };
    let flow_type = flow.get("type").and_then(Value::as_str).and_then(FlowType::parse);
    let Some(flow_type) = flow_type else {
        return Err(ApiError::bad_request(
            "The sandbox publishes only the flow types of Flow manifests.",
        ));
    };
    let text = source["yaml"].as_str().unwrap_or_default().to_string();
    let consumed = source["consumed"].as_array().cloned().unwrap_or_default();
    let division = ref_id(flow.get("division")).map(str::to_string);
    let description = flow.get("description").and_then(Value::as_str).map(str::to_string);
    let name = name_of(&flow).to_string();
    publish(
        &mut store,
        Some(flow),
        &name,
        flow_type,
        division,
        description,
        &text,
        &consumed,
        Some(&caller.subject),
    );
    store.commit()?;
    Ok(axum::Json(operation(&store, &caller, "PUBLISH")))
}

/// A `Dependency` entity.
fn dependency(id: &str, name: &str, kind: &str, version: Option<&str>) -> Value {
    let mut out = json!({"id": id, "name": name, "type": kind, "deleted": false,
        "updated": false, "stateUnknown": false});
    if let Some(version) = version {
        out["version"] = json!(version);
    }
    out
}

/// The flows whose published version names the object `id` (a queue, a
/// wrap-up code, another flow), with that version's id.
fn flows_naming<'s>(store: &'s Store, id: &str) -> Vec<(&'s Value, &'s str)> {
    let names = |flow: &Value, version: &str| {
        let flow_id = flow.get("id").and_then(Value::as_str).unwrap_or_default();
        let number = version.split('.').next().unwrap_or_default();
        store
            .get(Kind::FlowVersions, &format!("{flow_id}/{number}"))
            .and_then(|v| v.get("consumed"))
            .and_then(Value::as_array)
            .is_some_and(|c| c.iter().any(|q| q.as_str() == Some(id)))
    };
    store
        .all(Kind::Flows)
        .filter_map(|flow| {
            let version = flow.pointer("/publishedVersion/id").and_then(Value::as_str)?;
            names(flow, version).then_some((flow, version))
        })
        .collect()
}

fn required<'p>(params: &'p Params, name: &str) -> ApiResult<&'p str> {
    params.get(name).filter(|v| !v.is_empty()).ok_or_else(|| ApiError::missing_field(name))
}

async fn consuming(State(state): State<Shared>, params: Params) -> ApiResult<axum::Json<Value>> {
    let page = page(&params, 100)?;
    let id = required(&params, "id")?;
    let object_type = required(&params, "objectType")?;
    let store = state.store_read();
    let mut found = Vec::new();
    for (flow, version) in flows_naming(&store, id) {
        let flow_type = flow.get("type").and_then(Value::as_str).and_then(FlowType::parse);
        if let Some(flow_type) = flow_type {
            let flow_id = flow.get("id").and_then(Value::as_str).unwrap_or_default();
            found.push(dependency(
                flow_id,
                name_of(flow),
                &flow_type.dependency_type(),
                Some(version),
            ));
        }
    }
    if object_type.ends_with("FLOW") || object_type == "WORKFLOW" {
        for queue in store.all(Kind::Queues) {
            if QUEUE_FLOW_FIELDS.iter().any(|f| ref_id(queue.get(*f)) == Some(id)) {
                let queue_id = queue.get("id").and_then(Value::as_str).unwrap_or_default();
                found.push(dependency(queue_id, name_of(queue), "QUEUE", None));
            }
        }
    }
    Ok(axum::Json(render_page(
        CONSUMING,
        &params,
        page,
        false,
        found.iter().collect(),
        Value::clone,
    )))
}

async fn consumed(State(state): State<Shared>, params: Params) -> ApiResult<axum::Json<Value>> {
    let page = page(&params, 100)?;
    let id = required(&params, "id")?;
    let version = required(&params, "version")?;
    required(&params, "objectType")?;
    let store = state.store_read();
    let number = version.split('.').next().unwrap_or_default();
    let stored = store.get(Kind::FlowVersions, &format!("{id}/{number}"));
    let found: Vec<Value> = stored
        .and_then(|v| v.get("consumed"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        // What a flow consumes: queues, wrap-up codes and flows (dependency
        // types `QUEUE`, `ACDWRAPUPCODE` and the flow's type plus `FLOW`,
        // models.json ConsumedResource types; a flow with its published
        // version).
        .filter_map(|id| {
            let queue = store.get(Kind::Queues, id).map(|q| (q, "QUEUE".to_string()));
            let code = || store.get(Kind::WrapupCodes, id).map(|c| (c, "ACDWRAPUPCODE".into()));
            let flow = || {
                let flow = store.get(Kind::Flows, id)?;
                let flow_type =
                    flow.get("type").and_then(Value::as_str).and_then(FlowType::parse)?;
                Some((flow, flow_type.dependency_type()))
            };
            queue.or_else(code).or_else(flow)
        })
        .map(|(object, kind)| {
            let version = object.pointer("/publishedVersion/id").and_then(Value::as_str);
            dependency(object["id"].as_str().unwrap_or_default(), name_of(object), &kind, version)
        })
        .collect();
    Ok(axum::Json(render_page(
        CONSUMED,
        &params,
        page,
        false,
        found.iter().collect(),
        Value::clone,
    )))
}
