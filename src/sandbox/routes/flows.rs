//! Architect flows (read-only here): `GET /api/v2/flows` and `/api/v2/flows/{id}`.
//!
//! - `type` takes the lowercase query values (`inboundshortmessage`) and may
//!   repeat; responses carry the uppercase enum (`INBOUNDSHORTMESSAGE`).
//! - `name` is a case-insensitive substring filter (the real one is fuzzy;
//!   callers compare exactly). `id` (repeatable) ignores every other filter,
//!   as documented. Default order is `sortBy=id`, as the real API.
//! - pageSize up to 500 (what the provider uses; UNVERIFIED).

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::Value;

use super::input::{Id, Params};
use super::paging::{contains_ci, descending, envelope, page, sort_by_name};
use crate::sandbox::common::{entity_ref, name_of, ref_id};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::server::Shared;
use crate::sandbox::store::{Kind, Store};

const PATH: &str = "/api/v2/flows";
const MAX_PAGE_SIZE: u64 = 500;
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

pub fn routes() -> Router<Shared> {
    Router::new().route(PATH, get(list)).route("/api/v2/flows/{flowId}", get(read))
}

async fn list(State(state): State<Shared>, params: Params) -> ApiResult<axum::Json<Value>> {
    let page = page(&params, MAX_PAGE_SIZE)?;
    let desc = descending(&params)?;
    let types = params.all("type");
    if let Some(bad) = types.iter().find(|t| !TYPES.contains(t)) {
        return Err(ApiError::bad_field(
            "type",
            format!("The flow type '{bad}' is not one of {}.", TYPES.join(", ")),
        ));
    }
    let by_name = match params.get("sortBy") {
        None | Some("" | "id") => false,
        Some("name") => true,
        Some(other) => {
            return Err(ApiError::bad_field("sortBy", format!("Cannot sort flows by '{other}'.")));
        }
    };
    let ids = params.all("id");
    let name = params.get("name").unwrap_or_default();
    let divisions = params.all("divisionId");
    let store = state.store();
    let keep = |f: &Value| {
        if !ids.is_empty() {
            return ids.contains(&f["id"].as_str().unwrap_or_default());
        }
        let kind = f.get("type").and_then(Value::as_str).unwrap_or_default().to_lowercase();
        contains_ci(name_of(f), name)
            && (types.is_empty() || types.contains(&kind.as_str()))
            && (divisions.is_empty()
                || ref_id(f.get("division")).is_some_and(|d| divisions.contains(&d)))
    };
    let mut items: Vec<Value> =
        store.list(Kind::Flows).filter(|f| keep(f)).map(|f| render(&store, f)).collect();
    if by_name {
        sort_by_name(&mut items, desc);
    } else if desc {
        items.reverse();
    }
    Ok(axum::Json(envelope(PATH, &params, page, items)))
}

async fn read(
    State(state): State<Shared>,
    Id(id): Id,
    params: Params,
) -> ApiResult<axum::Json<Value>> {
    params.bool("deleted")?;
    let store = state.store();
    let flow = store.visible(Kind::Flows, &id).ok_or_else(|| ApiError::not_found("flow", &id))?;
    Ok(axum::Json(render(&store, flow)))
}

fn render(store: &Store, flow: &Value) -> Value {
    let mut out = flow.clone();
    if let Some(division) = ref_id(flow.get("division")) {
        out["division"] = entity_ref(store, Kind::Divisions, division);
    }
    out
}
