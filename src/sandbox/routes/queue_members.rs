//! Queue members: `/api/v2/routing/queues/{queueId}/members` (API reference
//! §c and §i, "Queue members").
//!
//! - `GET` lists members 100 a page at most, with no `total` and no
//!   `pageCount` (the listing's documented quirk: readers page until an
//!   empty page); `memberBy=user` lists direct members, `memberBy=group`
//!   the users who are members through a group of the queue's
//!   `memberGroups`, no `memberBy` both (a user who is both, once, as
//!   `user`); `joined=true|false` filters; other filters (`name`, `skills`,
//!   `expand`, ...) are accepted and ignored. Entities are `QueueMember`s
//!   with the full `User` (its `email` included: UNVERIFIED whether a real
//!   member listing embeds it without `expand`), sorted by name.
//! - `POST` adds up to 100 users (`[{"id"}]`), or removes them with
//!   `?delete=true` ("Bulk add or delete up to 100 queue members", PY); more
//!   is 400. It is processed asynchronously: a change shows in listings
//!   after `--membership-delay-ms` (the length of the real lag is
//!   UNVERIFIED; the provider sleeps 10 s). Adding a member again, or
//!   removing a non-member, changes nothing. An unknown user, or one not
//!   `active`, is 400 naming `[i].id` (UNVERIFIED). A user who is a member
//!   through a group cannot be added directly: 400 (the provider refuses
//!   it, "If a user is already assigned to this queue via a group,
//!   attempting to assign them using this field will cause an error to be
//!   thrown", TF `routing_queue/…_schema.go`; whether the API itself refuses,
//!   and with which error, is UNVERIFIED).
//! - `PATCH` (list, up to 100 `QueueMember`s) sets `joined`, "processed
//!   asynchronously" (the answer lists the members as they were); `PATCH
//!   …/members/{memberId}` sets `ringNumber` (1..6, the provider's schema
//!   rule `ring_num`; an API limit is UNVERIFIED) and `joined` of a direct
//!   member, 404 for a member not (yet) visible, as the provider's retry on
//!   404 suggests; `DELETE …/members/{memberId}` removes one (asynchronously
//!   too). New members have ring number 1 (the provider's default) and are
//!   joined (UNVERIFIED).

use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::input::{List, Params};
use super::paging::page_uri;
use crate::sandbox::auth::Caller;
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::server::{AppState, Shared};
use crate::sandbox::store::{Kind, Store};

const PATH: &str = "/api/v2/routing/queues/{queueId}/members";
const ITEM: &str = "/api/v2/routing/queues/{queueId}/members/{memberId}";
/// Most members one POST or PATCH may carry.
pub const MAX_BATCH: usize = 100;
const MAX_PAGE_SIZE: u64 = 100;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(PATH, get(list).post(add_or_remove).patch(join))
        .route(ITEM, patch(update_member).delete(remove_member))
}

/// Milliseconds since the Unix epoch.
fn now_ms() -> u64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// When a change made now shows.
fn due(state: &AppState) -> u64 {
    now_ms().saturating_add(u64::try_from(state.config.membership_delay.as_millis()).unwrap_or(0))
}

/// Every stored direct member entry of a queue (pending ones included).
fn entries(store: &Store, queue: &str) -> Vec<Value> {
    store
        .get(Kind::QueueMembers, queue)
        .and_then(|m| m.get("members"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn save_entries(store: &mut Store, queue: &str, mut members: Vec<Value>) {
    let now = now_ms();
    // Removals that have shown are forgotten.
    members.retain(|m| m.get("removedAt").and_then(Value::as_u64).is_none_or(|at| at > now));
    store.put(Kind::QueueMembers, queue, json!({"queueId": queue, "members": members}));
}

fn user_of(entry: &Value) -> &str {
    entry.get("userId").and_then(Value::as_str).unwrap_or_default()
}

/// Whether an entry shows in listings now.
fn shown(entry: &Value, now: u64) -> bool {
    let added = entry.get("visibleAt").and_then(Value::as_u64).unwrap_or(0) <= now;
    let removed = entry.get("removedAt").and_then(Value::as_u64).is_some_and(|at| at <= now);
    added && !removed
}

/// Whether an entry is a member, or will be once processed (not being removed).
fn standing(entry: &Value) -> bool {
    entry.get("removedAt").is_none()
}

/// The direct members a reader sees now.
pub fn direct(store: &Store, queue: &str) -> Vec<Value> {
    let now = now_ms();
    entries(store, queue).into_iter().filter(|e| shown(e, now)).collect()
}

/// The users who are members through the queue's member groups, with the
/// group that makes each one a member (the first, by `memberGroups` order).
pub fn through_groups(store: &Store, queue: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let groups = queue.get("memberGroups").and_then(Value::as_array).into_iter().flatten();
    // Groups, teams and skill groups alike (their members are kept the same way).
    for group in groups {
        let Some(id) = group.get("id").and_then(Value::as_str) else { continue };
        for user in super::groups::members(store, id) {
            if !out.iter().any(|(u, _)| *u == user) {
                out.push((user, id.to_string()));
            }
        }
    }
    out
}

/// The queue, as a reader sees it, or 404.
fn queue<'s>(store: &'s Store, id: &str) -> ApiResult<&'s Value> {
    store.visible(Kind::Queues, id).ok_or_else(|| ApiError::not_found("queue", id))
}

/// `QueueMember` of a user.
fn member(
    store: &Store,
    state: &AppState,
    queue: &str,
    user: &str,
    entry: Option<&Value>,
) -> Value {
    let rendered = store.get(Kind::Users, user).map(|u| {
        super::crud::render::<super::users::Users>(store, state, u, &Params::default(), false)
    });
    let name = rendered.as_ref().and_then(|u| u.get("name")).cloned().unwrap_or(Value::Null);
    let (ring, joined, by) = match entry {
        Some(e) => (e.get("ringNumber").cloned(), e.get("joined").cloned(), "user"),
        None => (Some(json!(1)), Some(json!(true)), "group"),
    };
    json!({
        "id": user, "name": name, "user": rendered, "ringNumber": ring, "joined": joined,
        "memberBy": by,
        "selfUri": format!("/api/v2/routing/queues/{queue}/members/{user}"),
    })
}

async fn list(
    State(state): State<Shared>,
    Path(queue_id): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let page = super::paging::page(&params, MAX_PAGE_SIZE)?;
    let by = params.get("memberBy").filter(|v| !v.is_empty());
    if let Some(by) = by.filter(|b| !["user", "group"].contains(b)) {
        return Err(super::input::bad_enum("memberBy", by, &["user", "group"]));
    }
    let joined = params.bool("joined")?;
    let store = state.store_read();
    let queue = queue(&store, &queue_id)?;
    let direct = direct(&store, &queue_id);
    let mut members: Vec<Value> = Vec::new();
    if by != Some("group") {
        members
            .extend(direct.iter().map(|e| member(&store, &state, &queue_id, user_of(e), Some(e))));
    }
    if by != Some("user") {
        for (user, _) in through_groups(&store, queue) {
            let listed = by.is_none() && direct.iter().any(|e| user_of(e) == user);
            if !listed {
                members.push(member(&store, &state, &queue_id, &user, None));
            }
        }
    }
    members.retain(|m| joined.is_none_or(|j| m["joined"] == json!(j)));
    members.sort_by_key(|m| {
        (
            m["name"].as_str().unwrap_or_default().to_lowercase(),
            m["id"].as_str().unwrap_or_default().to_string(),
        )
    });
    let path = format!("/api/v2/routing/queues/{queue_id}/members");
    let skip = usize::try_from((page.number - 1) * page.size).unwrap_or(usize::MAX);
    let size = usize::try_from(page.size).unwrap_or(usize::MAX);
    let more = members.len() > skip.saturating_add(size);
    let entities: Vec<Value> = members.into_iter().skip(skip).take(size).collect();
    // No `total`, no `pageCount`: the real listing has neither.
    let mut out = Map::new();
    out.insert("entities".into(), Value::Array(entities));
    out.insert("pageSize".into(), json!(page.size));
    out.insert("pageNumber".into(), json!(page.number));
    out.insert("firstUri".into(), json!(page_uri(&path, &params, page.size, 1)));
    out.insert("selfUri".into(), json!(page_uri(&path, &params, page.size, page.number)));
    if more {
        out.insert("nextUri".into(), json!(page_uri(&path, &params, page.size, page.number + 1)));
    }
    if page.number > 1 {
        out.insert(
            "previousUri".into(),
            json!(page_uri(&path, &params, page.size, page.number - 1)),
        );
    }
    Ok(Json(Value::Object(out)))
}

/// The ids of a members body: `[{"id"}]`, at most [`MAX_BATCH`].
fn ids_of(items: &[Value]) -> ApiResult<Vec<String>> {
    if items.len() > MAX_BATCH {
        return Err(ApiError::bad_request(format!(
            "At most {MAX_BATCH} queue members can be added, removed or changed in one request, not {}.",
            items.len()
        )));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.get("id")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty())
                .map(str::to_string)
                .ok_or_else(|| ApiError::missing_field(&format!("[{i}].id")))
        })
        .collect()
}

async fn add_or_remove(
    State(state): State<Shared>,
    Extension(_caller): Extension<Caller>,
    Path(queue_id): Path<String>,
    params: Params,
    List(items): List,
) -> ApiResult<StatusCode> {
    let delete = params.bool("delete")?.unwrap_or(false);
    let ids = ids_of(&items)?;
    let mut store = state.store();
    let queue = queue(&store, &queue_id)?.clone();
    let mut members = entries(&store, &queue_id);
    let at = due(&state);
    if delete {
        for id in &ids {
            for entry in members.iter_mut().filter(|e| user_of(e) == id && standing(e)) {
                entry["removedAt"] = json!(at);
            }
        }
    } else {
        let grouped = through_groups(&store, &queue);
        for (i, id) in ids.iter().enumerate() {
            let user = store.get(Kind::Users, id);
            if user.and_then(|u| u.get("state")).and_then(Value::as_str) != Some("active") {
                return Err(ApiError::bad_field(
                    &format!("[{i}].id"),
                    format!("The user {id} does not exist or is not active."),
                ));
            }
            if members.iter().any(|e| user_of(e) == id && standing(e)) {
                continue;
            }
            if let Some((_, group)) = grouped.iter().find(|(u, _)| u == id) {
                return Err(ApiError::bad_field(
                    &format!("[{i}].id"),
                    format!(
                        "The user {id} is already a member of the queue through the group {group}; a member through a group cannot also be added directly."
                    ),
                ));
            }
            members.retain(|e| user_of(e) != id);
            members.push(json!({"userId": id, "ringNumber": 1, "joined": true, "visibleAt": at}));
        }
    }
    save_entries(&mut store, &queue_id, members);
    store.commit()?;
    Ok(StatusCode::NO_CONTENT)
}

async fn join(
    State(state): State<Shared>,
    Path(queue_id): Path<String>,
    List(items): List,
) -> ApiResult<Json<Value>> {
    let ids = ids_of(&items)?;
    let mut store = state.store();
    queue(&store, &queue_id)?;
    let now = now_ms();
    let mut members = entries(&store, &queue_id);
    let mut answer = Vec::new();
    for (i, (id, item)) in ids.iter().zip(&items).enumerate() {
        let Some(entry) = members.iter_mut().find(|e| user_of(e) == id && shown(e, now)) else {
            return Err(ApiError::bad_field(
                &format!("[{i}].id"),
                format!("The user {id} is not a member of the queue."),
            ));
        };
        answer.push(member(&store, &state, &queue_id, id, Some(entry)));
        if let Some(joined) = item.get("joined") {
            let joined = joined.as_bool().ok_or_else(|| {
                ApiError::bad_field(
                    &format!("[{i}].joined"),
                    "The field 'joined' must be a boolean.",
                )
            })?;
            entry["joined"] = json!(joined);
        }
    }
    save_entries(&mut store, &queue_id, members);
    store.commit()?;
    let path = format!("/api/v2/routing/queues/{queue_id}/members");
    Ok(Json(json!({"entities": answer, "pageSize": ids.len(), "pageNumber": 1,
        "firstUri": path, "selfUri": path})))
}

async fn update_member(
    State(state): State<Shared>,
    Path((queue_id, user)): Path<(String, String)>,
    super::input::Body(body): super::input::Body,
) -> ApiResult<StatusCode> {
    let mut store = state.store();
    queue(&store, &queue_id)?;
    let now = now_ms();
    let mut members = entries(&store, &queue_id);
    let entry = members
        .iter_mut()
        .find(|e| user_of(e) == user && shown(e, now))
        .ok_or_else(|| ApiError::not_found("queue member", &user))?;
    if let Some(ring) = body.get("ringNumber").filter(|v| !v.is_null()) {
        match ring.as_u64() {
            Some(n @ 1..=6) => entry["ringNumber"] = json!(n),
            _ => {
                return Err(ApiError::bad_field(
                    "ringNumber",
                    format!("The ring number must be between 1 and 6, not {ring}."),
                ));
            }
        }
    }
    if let Some(joined) = body.get("joined").filter(|v| !v.is_null()) {
        let joined = joined.as_bool().ok_or_else(|| {
            ApiError::bad_field("joined", "The field 'joined' must be a boolean.")
        })?;
        entry["joined"] = json!(joined);
    }
    save_entries(&mut store, &queue_id, members);
    store.commit()?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_member(
    State(state): State<Shared>,
    Path((queue_id, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut store = state.store();
    queue(&store, &queue_id)?;
    let now = now_ms();
    let at = due(&state);
    let mut members = entries(&store, &queue_id);
    let entry = members
        .iter_mut()
        .find(|e| user_of(e) == user && shown(e, now) && standing(e))
        .ok_or_else(|| ApiError::not_found("queue member", &user))?;
    entry["removedAt"] = json!(at);
    save_entries(&mut store, &queue_id, members);
    store.commit()?;
    Ok(StatusCode::NO_CONTENT)
}

/// Member counters of a queue as `Queue` shows them: every member, direct
/// members, joined members.
pub fn counts(store: &Store, queue: &Value) -> (usize, usize, usize) {
    let id = queue.get("id").and_then(Value::as_str).unwrap_or_default();
    let direct = direct(store, id);
    let groups = through_groups(store, queue);
    let extra = groups.iter().filter(|(u, _)| !direct.iter().any(|e| user_of(e) == u)).count();
    let joined = direct.iter().filter(|e| e.get("joined") == Some(&json!(true))).count();
    (direct.len() + extra, direct.len(), joined + extra)
}

/// Forget a deleted queue's members.
pub fn forget_queue(store: &mut Store, queue: &str) {
    store.remove(Kind::QueueMembers, queue);
}
