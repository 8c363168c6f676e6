//! Routing queues: `/api/v2/routing/queues`.
//!
//! - List sorted by name; `name` is case-insensitive with leading/trailing `*`
//!   wildcards; `id` and `divisionId` repeat; pageSize up to 500.
//! - PUT replaces the whole object: writable fields left out are cleared,
//!   server fields (`id`, `dateCreated`, member counts) are kept. A PUT without
//!   `division` keeps the current division (UNVERIFIED; the real API's answer
//!   is not documented).
//! - Names are unique, case-insensitively: a duplicate is 409 `conflict`
//!   (UNVERIFIED choice, see the README's sandbox section).
//! - Unknown top-level keys are dropped; nested objects are stored as sent.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::input::{Body, Id, Params, Shape, field, optional_ref, required_str};
use super::paging::{descending, page, render_page};
use crate::sandbox::common::{entity_ref, home_division, name_of, new_id, now, ref_id, self_uri};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::server::Shared;
use crate::sandbox::store::{Kind, Store};

const PATH: &str = "/api/v2/routing/queues";
const MAX_PAGE_SIZE: u64 = 500;

/// Writable fields of `QueueRequest` other than those checked specially.
const FIELDS: &[(&str, Shape)] = &[
    ("description", Shape::Str),
    ("mediaSettings", Shape::Object),
    ("routingRules", Shape::Array),
    ("conditionalGroupRouting", Shape::Object),
    ("conditionalGroupActivation", Shape::Object),
    ("bullseye", Shape::Object),
    ("scoringMethod", Shape::Enum(&["TimestampAndPriority", "PriorityOnly"])),
    ("lastAgentRoutingMode", Shape::Enum(&["Disabled", "QueueMembersOnly", "AnyAgent"])),
    ("acwSettings", Shape::Object),
    ("skillEvaluationMethod", Shape::Enum(&["NONE", "BEST", "ALL"])),
    ("memberGroups", Shape::Array),
    ("whisperPrompt", Shape::Object),
    ("onHoldPrompt", Shape::Object),
    ("defaultMediaLanguage", Shape::Str),
    ("autoAnswerOnly", Shape::Bool),
    ("cannedResponseLibraries", Shape::Object),
    ("enableTranscription", Shape::Bool),
    ("enableAudioMonitoring", Shape::Bool),
    ("enableManualAssignment", Shape::Bool),
    ("agentOwnedRouting", Shape::Object),
    ("directRouting", Shape::Object),
    ("callingPartyName", Shape::Str),
    ("callingPartyNumber", Shape::Str),
    ("defaultScripts", Shape::Object),
    ("outboundEmailAddress", Shape::Object),
    ("peerId", Shape::Str),
    ("suppressInQueueCallRecording", Shape::Bool),
];

/// Flow references of a queue.
const FLOW_REFS: &[&str] = &["queueFlow", "emailInQueueFlow", "messageInQueueFlow"];

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(PATH, get(list).post(create))
        .route("/api/v2/routing/queues/{queueId}", get(read).put(replace).delete(remove))
}

async fn list(State(state): State<Shared>, params: Params) -> ApiResult<axum::Json<Value>> {
    let page = page(&params, MAX_PAGE_SIZE)?;
    let desc = descending(&params)?;
    let name = params.get("name").map(str::to_string);
    let ids = params.all("id");
    let divisions = params.all("divisionId");
    let store = state.store();
    let matched: Vec<&Value> = store
        .list_by_name(Kind::Queues)
        .filter(|q| name.as_deref().is_none_or(|pattern| wildcard_match(pattern, name_of(q))))
        .filter(|q| ids.is_empty() || ids.contains(&q["id"].as_str().unwrap_or_default()))
        .filter(|q| {
            divisions.is_empty()
                || ref_id(q.get("division")).is_some_and(|d| divisions.contains(&d))
        })
        .collect();
    Ok(axum::Json(render_page(PATH, &params, page, desc, matched, |q| render(&store, q))))
}

/// The queue `name` filter: exact, `abc*`, `*abc` or `*abc*`, case-insensitive.
fn wildcard_match(pattern: &str, name: &str) -> bool {
    let pattern = pattern.to_lowercase();
    let name = name.to_lowercase();
    let (lead, rest) = pattern.strip_prefix('*').map_or((false, pattern.as_str()), |r| (true, r));
    let (trail, core) = rest.strip_suffix('*').map_or((false, rest), |r| (true, r));
    match (lead, trail) {
        (true, true) => name.contains(core),
        (true, false) => name.ends_with(core),
        (false, true) => name.starts_with(core),
        (false, false) => name == core,
    }
}

async fn read(State(state): State<Shared>, Id(id): Id) -> ApiResult<axum::Json<Value>> {
    let store = state.store();
    let queue =
        store.visible(Kind::Queues, &id).ok_or_else(|| ApiError::not_found("queue", &id))?;
    Ok(axum::Json(render(&store, queue)))
}

async fn create(
    State(state): State<Shared>,
    Body(body): Body,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let mut store = state.store();
    let mut base = Map::new();
    if let Some(source) = field(&body, "sourceQueueId", Shape::Str)?.and_then(Value::as_str) {
        let source = store.get(Kind::Queues, source).ok_or_else(|| {
            ApiError::bad_field(
                "sourceQueueId",
                format!("The source queue {source} does not exist."),
            )
        })?;
        base = writable(source);
    }
    for (key, value) in body {
        if key != "sourceQueueId" {
            base.insert(key, value);
        }
    }
    let mut queue = validate(&store, &base, None)?;
    let id = new_id();
    let stamp = now();
    queue.insert("id".into(), json!(id));
    queue.insert("dateCreated".into(), json!(stamp));
    queue.insert("dateModified".into(), json!(stamp));
    for counter in ["memberCount", "userMemberCount", "joinedMemberCount"] {
        queue.insert(counter.into(), json!(0));
    }
    queue.insert("selfUri".into(), json!(self_uri(Kind::Queues, &id)));
    let queue = Value::Object(queue);
    store.insert(Kind::Queues, &id, queue.clone());
    store.commit()?;
    Ok((StatusCode::OK, axum::Json(render(&store, &queue))))
}

async fn replace(
    State(state): State<Shared>,
    Id(id): Id,
    Body(body): Body,
) -> ApiResult<axum::Json<Value>> {
    let mut store = state.store();
    let old =
        store.visible(Kind::Queues, &id).ok_or_else(|| ApiError::not_found("queue", &id))?.clone();
    let mut queue = validate(&store, &body, Some(&old))?;
    for key in
        ["id", "dateCreated", "memberCount", "userMemberCount", "joinedMemberCount", "selfUri"]
    {
        if let Some(value) = old.get(key) {
            queue.insert(key.into(), value.clone());
        }
    }
    queue.insert("dateModified".into(), json!(now()));
    let queue = Value::Object(queue);
    store.put(Kind::Queues, &id, queue.clone());
    store.commit()?;
    Ok(axum::Json(render(&store, &queue)))
}

async fn remove(State(state): State<Shared>, Id(id): Id, params: Params) -> ApiResult<StatusCode> {
    params.bool("forceDelete")?;
    let mut store = state.store();
    if store.visible(Kind::Queues, &id).is_none() {
        return Err(ApiError::not_found("queue", &id));
    }
    store.remove(Kind::Queues, &id);
    store.commit()?;
    Ok(StatusCode::NO_CONTENT)
}

/// The writable fields of a stored queue (for `sourceQueueId` copies).
fn writable(queue: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    let keep = |k: &str| {
        FIELDS.iter().any(|(f, _)| *f == k)
            || FLOW_REFS.contains(&k)
            || k == "outboundMessagingAddresses"
    };
    for (key, value) in queue.as_object().into_iter().flatten() {
        if keep(key) {
            out.insert(key.clone(), value.clone());
        }
    }
    out
}

/// Check a create or PUT body and build the stored object (without server fields).
fn validate(
    store: &Store,
    body: &Map<String, Value>,
    old: Option<&Value>,
) -> ApiResult<Map<String, Value>> {
    let name = required_str(body, "name")?;
    let own_id = old.and_then(|o| o.get("id")).and_then(Value::as_str);
    let taken = store.all(Kind::Queues).any(|q| {
        name_of(q).eq_ignore_ascii_case(&name) && q.get("id").and_then(Value::as_str) != own_id
    });
    if taken {
        return Err(ApiError::conflict(format!("A queue with the name '{name}' already exists.")));
    }
    let mut out = Map::new();
    out.insert("name".into(), json!(name));
    let division = match optional_ref(body, "division")? {
        Some(id) if store.get(Kind::Divisions, &id).is_some() => id,
        Some(id) => {
            return Err(ApiError::bad_field(
                "division.id",
                format!("The division {id} does not exist."),
            ));
        }
        None => ref_id(old.and_then(|o| o.get("division")))
            .map(str::to_string)
            .or_else(|| home_division(store))
            .unwrap_or_default(),
    };
    out.insert("division".into(), json!({"id": division}));
    for (key, shape) in FIELDS {
        if let Some(value) = field(body, key, *shape)? {
            out.insert((*key).into(), value.clone());
        }
    }
    for key in FLOW_REFS {
        if let Some(flow) = optional_ref(body, key)? {
            if store.get(Kind::Flows, &flow).is_none() {
                return Err(ApiError::bad_field(
                    &format!("{key}.id"),
                    format!("The flow {flow} does not exist."),
                ));
            }
            out.insert((*key).into(), json!({"id": flow}));
        }
    }
    if let Some(addresses) = field(body, "outboundMessagingAddresses", Shape::Object)? {
        check_addresses(store, addresses)?;
        out.insert("outboundMessagingAddresses".into(), addresses.clone());
    }
    Ok(out)
}

fn check_addresses(store: &Store, addresses: &Value) -> ApiResult<()> {
    let Some(map) = addresses.as_object() else { return Ok(()) };
    let field_name = "outboundMessagingAddresses.openMessagingRecipient";
    if let Some(recipient) = optional_ref(map, "openMessagingRecipient")
        .map_err(|_| ApiError::missing_field(&format!("{field_name}.id")))?
    {
        if store.get(Kind::Recipients, &recipient).is_none() {
            return Err(ApiError::bad_field(
                &format!("{field_name}.id"),
                format!("The recipient {recipient} does not exist."),
            ));
        }
    }
    Ok(())
}

/// A stored queue as the API returns it (references carry current names).
pub fn render(store: &Store, queue: &Value) -> Value {
    let mut out = queue.clone();
    let Some(map) = out.as_object_mut() else { return out };
    if let Some(id) = ref_id(map.get("division")).map(str::to_string) {
        map.insert("division".into(), entity_ref(store, Kind::Divisions, &id));
    }
    for key in FLOW_REFS {
        if let Some(id) = ref_id(map.get(*key)).map(str::to_string) {
            map.insert((*key).into(), entity_ref(store, Kind::Flows, &id));
        }
    }
    if let Some(addresses) =
        map.get_mut("outboundMessagingAddresses").and_then(Value::as_object_mut)
    {
        if let Some(id) = ref_id(addresses.get("openMessagingRecipient")).map(str::to_string) {
            addresses
                .insert("openMessagingRecipient".into(), entity_ref(store, Kind::Recipients, &id));
        }
    }
    out
}

/// A queue for bulk generation (settled at once, Home division).
pub fn generated(store: &Store, name: &str) -> (String, Value) {
    let id = new_id();
    let stamp = now();
    let division = home_division(store).unwrap_or_default();
    let queue = json!({
        "id": id, "name": name, "division": {"id": division},
        "description": "generated by gcctl sandbox",
        "dateCreated": stamp, "dateModified": stamp,
        "memberCount": 0, "userMemberCount": 0, "joinedMemberCount": 0,
        "selfUri": self_uri(Kind::Queues, &id),
    });
    (id, queue)
}
