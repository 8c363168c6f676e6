//! Message routing: `/api/v2/routing/message/recipients`.
//!
//! - Recipients are created with open messaging integrations (never directly).
//! - PUT `{"flow": {"id"}}` attaches an inbound message flow: an unknown flow
//!   or a flow of another type is 400 naming `flow.id`. `{"flow": null}` or
//!   `{}` detaches (our choice; how the real API detaches is UNVERIFIED).
//! - `messengerType` filters exactly, `name` is a case-insensitive substring.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::{Value, json};

use super::input::{Body, Id, Params, optional_ref};
use super::paging::{contains_ci, envelope, page, sort_by_name};
use crate::sandbox::common::{entity_ref, name_of, now, ref_id};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::server::Shared;
use crate::sandbox::store::{Kind, Store};

const PATH: &str = "/api/v2/routing/message/recipients";
/// UNVERIFIED maximum page size.
const MAX_PAGE_SIZE: u64 = 100;
/// Flow type a recipient may route to.
const INBOUND_MESSAGE: &str = "INBOUNDSHORTMESSAGE";

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(PATH, get(list))
        .route("/api/v2/routing/message/recipients/{recipientId}", get(read).put(attach))
}

async fn list(State(state): State<Shared>, params: Params) -> ApiResult<axum::Json<Value>> {
    let page = page(&params, MAX_PAGE_SIZE)?;
    let messenger = params.get("messengerType").map(str::to_string);
    let name = params.get("name").unwrap_or_default();
    let store = state.store();
    let mut items: Vec<Value> = store
        .list(Kind::Recipients)
        .filter(|r| {
            messenger
                .as_deref()
                .is_none_or(|m| r.get("messengerType").and_then(Value::as_str) == Some(m))
        })
        .filter(|r| contains_ci(name_of(r), name))
        .map(|r| render(&store, r))
        .collect();
    sort_by_name(&mut items, false);
    Ok(axum::Json(envelope(PATH, &params, page, items)))
}

async fn read(State(state): State<Shared>, Id(id): Id) -> ApiResult<axum::Json<Value>> {
    let store = state.store();
    let recipient = store
        .visible(Kind::Recipients, &id)
        .ok_or_else(|| ApiError::not_found("recipient", &id))?;
    Ok(axum::Json(render(&store, recipient)))
}

async fn attach(
    State(state): State<Shared>,
    Id(id): Id,
    Body(body): Body,
) -> ApiResult<axum::Json<Value>> {
    let mut store = state.store();
    let mut recipient = store
        .visible(Kind::Recipients, &id)
        .ok_or_else(|| ApiError::not_found("recipient", &id))?
        .clone();
    let flow = optional_ref(&body, "flow")?;
    if let Some(flow) = &flow {
        let found = store.get(Kind::Flows, flow).ok_or_else(|| {
            ApiError::bad_field("flow.id", format!("The flow {flow} does not exist."))
        })?;
        let kind = found.get("type").and_then(Value::as_str).unwrap_or_default();
        if kind != INBOUND_MESSAGE {
            return Err(ApiError::bad_field(
                "flow.id",
                format!(
                    "The flow '{}' is of type {kind}; a recipient needs an {INBOUND_MESSAGE} flow.",
                    name_of(found)
                ),
            ));
        }
    }
    let Some(map) = recipient.as_object_mut() else {
        return Err(ApiError::internal("stored recipient is not an object"));
    };
    match flow {
        Some(flow) => map.insert("flow".into(), json!({"id": flow})),
        None => map.remove("flow"),
    };
    map.insert("dateModified".into(), json!(now()));
    store.put(Kind::Recipients, &id, recipient.clone());
    store.commit()?;
    Ok(axum::Json(render(&store, &recipient)))
}

fn render(store: &Store, recipient: &Value) -> Value {
    let mut out = recipient.clone();
    if let Some(flow) = ref_id(recipient.get("flow")) {
        out["flow"] = entity_ref(store, Kind::Flows, flow);
    }
    out
}
