//! The wrap-up codes a queue offers: `/api/v2/routing/queues/{queueId}/wrapupcodes`
//! (API reference §c and §i, "Wrap-up codes").
//!
//! - `GET` lists them as `WrapupCode`s, 100 a page at most (the provider's
//!   size; the maximum is UNVERIFIED), sorted by name, with the usual
//!   envelope; `name` filters (a case-insensitive substring here).
//! - `POST` adds up to 100 (`[{"id"}]`, "API restricts wrapup code adds to
//!   100 per call", TF); more is 400, an unknown code is 400 naming `[i].id`,
//!   a code the queue already offers is skipped. It answers the codes added
//!   (`list[WrapupCode]`).
//! - `DELETE …/wrapupcodes/{codeId}` removes one (404 when the queue does not
//!   offer it).
//! - A deleted wrap-up code leaves every queue (see `wrapup_codes.rs`), a
//!   deleted queue forgets its codes.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::input::{List, Params};
use super::paging::{contains_ci, page, render_page};
use super::wrapup_codes::WrapupCodes;
use crate::sandbox::common::name_of;
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::server::Shared;
use crate::sandbox::store::{Kind, Store};

const PATH: &str = "/api/v2/routing/queues/{queueId}/wrapupcodes";
const ITEM: &str = "/api/v2/routing/queues/{queueId}/wrapupcodes/{codeId}";
const MAX_BATCH: usize = 100;

pub fn routes() -> Router<Shared> {
    Router::new().route(PATH, get(list).post(add)).route(ITEM, delete(remove))
}

/// The ids of the codes a queue offers.
pub fn codes(store: &Store, queue: &str) -> Vec<String> {
    store
        .get(Kind::QueueWrapupCodes, queue)
        .and_then(|q| q.get("codeIds"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn save(store: &mut Store, queue: &str, codes: &[String]) {
    store.put(Kind::QueueWrapupCodes, queue, json!({"queueId": queue, "codeIds": codes}));
}

fn check_queue(store: &Store, id: &str) -> ApiResult<()> {
    store.visible(Kind::Queues, id).map(drop).ok_or_else(|| ApiError::not_found("queue", id))
}

async fn list(
    State(state): State<Shared>,
    Path(queue): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let page = page(&params, 100)?;
    let store = state.store_read();
    check_queue(&store, &queue)?;
    let name = params.get("name").unwrap_or_default();
    let mut offered: Vec<&Value> = codes(&store, &queue)
        .iter()
        .filter_map(|id| store.get(Kind::WrapupCodes, id))
        .filter(|code| contains_ci(name_of(code), name))
        .collect();
    offered.sort_by_key(|code| name_of(code).to_lowercase());
    let path = format!("/api/v2/routing/queues/{queue}/wrapupcodes");
    let render = |v: &Value| {
        super::crud::render::<WrapupCodes>(&store, &state, v, &Params::default(), false)
    };
    Ok(Json(render_page(&path, &params, page, false, offered, render)))
}

async fn add(
    State(state): State<Shared>,
    Path(queue): Path<String>,
    List(items): List,
) -> ApiResult<Json<Value>> {
    if items.len() > MAX_BATCH {
        return Err(ApiError::bad_request(format!(
            "At most {MAX_BATCH} wrap-up codes can be added in one request, not {}.",
            items.len()
        )));
    }
    let mut store = state.store();
    check_queue(&store, &queue)?;
    let mut offered = codes(&store, &queue);
    let mut added = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let id = item.get("id").and_then(Value::as_str).filter(|id| !id.is_empty());
        let id = id.ok_or_else(|| ApiError::missing_field(&format!("[{i}].id")))?;
        let code = store.get(Kind::WrapupCodes, id).ok_or_else(|| {
            ApiError::bad_field(
                &format!("[{i}].id"),
                format!("The wrap-up code {id} does not exist."),
            )
        })?;
        added.push(code.clone());
        if !offered.iter().any(|c| c == id) {
            offered.push(id.to_string());
        }
    }
    save(&mut store, &queue, &offered);
    store.commit()?;
    let rendered = added
        .iter()
        .map(|v| super::crud::render::<WrapupCodes>(&store, &state, v, &Params::default(), false))
        .collect();
    Ok(Json(Value::Array(rendered)))
}

async fn remove(
    State(state): State<Shared>,
    Path((queue, code)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut store = state.store();
    check_queue(&store, &queue)?;
    let mut offered = codes(&store, &queue);
    let before = offered.len();
    offered.retain(|c| *c != code);
    if offered.len() == before {
        return Err(ApiError::not_found("wrap-up code of the queue", &code));
    }
    save(&mut store, &queue, &offered);
    store.commit()?;
    Ok(StatusCode::NO_CONTENT)
}

/// A deleted wrap-up code leaves every queue.
pub fn forget_code(store: &mut Store, code: &str) {
    let queues: Vec<(String, Vec<String>)> = store
        .all(Kind::QueueWrapupCodes)
        .filter_map(|q| {
            let id = q.get("queueId")?.as_str()?.to_string();
            let codes: Vec<String> = q
                .get("codeIds")?
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
            codes.iter().any(|c| c == code).then_some((id, codes))
        })
        .collect();
    for (queue, mut codes) in queues {
        codes.retain(|c| c != code);
        save(store, &queue, &codes);
    }
}

/// Forget a deleted queue's codes.
pub fn forget_queue(store: &mut Store, queue: &str) {
    store.remove(Kind::QueueWrapupCodes, queue);
}
