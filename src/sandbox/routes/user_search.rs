//! User search: `POST /api/v2/users/search` and `GET /api/v2/users/search?q64=`
//! (API reference §i, "Find a user by email").
//!
//! - The body is a `UserSearchRequest`: `query` (criteria, all of which must
//!   match), `pageSize` (1..100, default 25; the maximum is UNVERIFIED),
//!   `pageNumber`; `sortBy`, `sortOrder`, `expand` are accepted and
//!   ignored (results come by email). A criterion has a required `type` and
//!   `fields`, and `value` or `values`. Supported here: `EXACT` and `TERM`
//!   (case-insensitive equality with the value or any of the values: the
//!   provider finds users with `EXACT` on `email`), `TERMS` (any of
//!   `values`), `STARTS_WITH` and `CONTAINS`, on `email`, `name`,
//!   `username`, `id` and `state`; `operator` `AND` or none. Other types and
//!   operators are real but answer 400 here (a sandbox limitation).
//!   Matching values in batches (`values` with several emails) is the
//!   documented `UserSearchCriteria.values` ("A list of values for the
//!   search to match against"); that `EXACT` accepts a list is UNVERIFIED.
//! - Results are full `User`s (active and inactive ones; deleted users only
//!   when a criterion asks for `state`), in `results`, with `total`,
//!   `pageCount`, `pageSize`, `pageNumber`, `types: ["users"]`, and q64
//!   cursors `nextPage` / `previousPage` (`/api/v2/users/search?q64=...`,
//!   the request base64-encoded) that `GET` follows.
//! - The index lags writes: a user created or changed less than
//!   `--search-delay-ms` ago is not found ("Verify user in deleted state
//!   and search index has been updated", the provider polls up to 3 minutes
//!   after a delete, TF `user/resource_genesyscloud_user.go`; the length of
//!   the lag is UNVERIFIED). GETs by id see it at once.
//! - Needs `directory:user:view` (.NET docs).

use axum::extract::{Extension, State};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::input::{Body, Params};
use crate::sandbox::auth::Caller;
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::server::{AppState, Shared};
use crate::sandbox::store::{Kind, Store};

const PATH: &str = "/api/v2/users/search";
const MAX_PAGE_SIZE: u64 = 100;
const FIELDS: &[&str] = &["email", "name", "username", "id", "state"];
const TYPES: &[&str] = &["EXACT", "TERM", "TERMS", "STARTS_WITH", "CONTAINS"];

pub fn routes() -> Router<Shared> {
    Router::new().route(PATH, post(search).get(search_page))
}

async fn search(
    State(state): State<Shared>,
    Extension(_caller): Extension<Caller>,
    Body(body): Body,
) -> ApiResult<Json<Value>> {
    answer(&state, &body).map(Json)
}

async fn search_page(State(state): State<Shared>, params: Params) -> ApiResult<Json<Value>> {
    let q64 = params.get("q64").ok_or_else(|| ApiError::missing_field("q64"))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(q64)
        .map_err(|_| ApiError::bad_field("q64", "The q64 cursor is not valid base64."))?;
    let body: Map<String, Value> = serde_json::from_slice(&bytes)
        .map_err(|_| ApiError::bad_field("q64", "The q64 cursor is not a search request."))?;
    answer(&state, &body).map(Json)
}

/// One criterion, checked.
struct Criterion {
    kind: String,
    fields: Vec<String>,
    values: Vec<String>,
}

fn criteria(body: &Map<String, Value>) -> ApiResult<Vec<Criterion>> {
    let query = match body.get("query") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ApiError::bad_field("query", "The field 'query' must be a list.")),
    };
    let mut out = Vec::new();
    for (i, item) in query.iter().enumerate() {
        let at = |name: &str| format!("query[{i}].{name}");
        let kind = item
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::missing_field(&at("type")))?;
        if !TYPES.contains(&kind) {
            return Err(ApiError::bad_field(
                &at("type"),
                format!("The sandbox supports the search types {}, not {kind}.", TYPES.join(", ")),
            ));
        }
        match item.get("operator").and_then(Value::as_str) {
            None | Some("AND") => {}
            Some(other) => {
                return Err(ApiError::bad_field(
                    &at("operator"),
                    format!("The sandbox supports the operator AND only, not {other}."),
                ));
            }
        }
        let fields: Vec<String> = item
            .get("fields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        if fields.is_empty() {
            return Err(ApiError::missing_field(&at("fields")));
        }
        if let Some(bad) = fields.iter().find(|f| !FIELDS.contains(&f.as_str())) {
            return Err(ApiError::bad_field(
                &at("fields"),
                format!("The sandbox searches users by {}, not {bad}.", FIELDS.join(", ")),
            ));
        }
        let mut values: Vec<String> = item
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_lowercase)
            .collect();
        values.extend(item.get("value").and_then(Value::as_str).map(str::to_lowercase));
        if values.is_empty() {
            return Err(ApiError::missing_field(&at("value")));
        }
        out.push(Criterion { kind: kind.to_string(), fields, values });
    }
    Ok(out)
}

fn matches(user: &Value, criterion: &Criterion) -> bool {
    criterion.fields.iter().any(|field| {
        let text = user.get(field).and_then(Value::as_str).unwrap_or_default().to_lowercase();
        criterion.values.iter().any(|value| match criterion.kind.as_str() {
            "STARTS_WITH" => text.starts_with(value.as_str()),
            "CONTAINS" => text.contains(value.as_str()),
            _ => text == *value,
        })
    })
}

fn answer(state: &AppState, body: &Map<String, Value>) -> ApiResult<Value> {
    let criteria = criteria(body)?;
    let size = body.get("pageSize").and_then(Value::as_u64).unwrap_or(25);
    if size == 0 || size > MAX_PAGE_SIZE {
        return Err(ApiError::bad_field(
            "pageSize",
            format!("The field 'pageSize' must be between 1 and {MAX_PAGE_SIZE}, not {size}."),
        ));
    }
    let number = body.get("pageNumber").and_then(Value::as_u64).unwrap_or(1).max(1);
    let store = state.store_read();
    let wants_state = criteria.iter().any(|c| c.fields.iter().any(|f| f == "state"));
    let mut found: Vec<&Value> = store
        .all(Kind::Users)
        .filter(|u| indexed(&store, state, u))
        .filter(|u| wants_state || u.get("state").and_then(Value::as_str) != Some("deleted"))
        .filter(|u| criteria.iter().all(|c| matches(u, c)))
        .collect();
    found
        .sort_by_key(|u| u.get("email").and_then(Value::as_str).unwrap_or_default().to_lowercase());
    let total = found.len() as u64;
    let page_count = total.div_ceil(size);
    let skip = usize::try_from((number - 1) * size).unwrap_or(usize::MAX);
    let results: Vec<Value> = found
        .into_iter()
        .skip(skip)
        .take(usize::try_from(size).unwrap_or(usize::MAX))
        .map(|u| {
            super::crud::render::<super::users::Users>(&store, state, u, &Params::default(), false)
        })
        .collect();
    let cursor = |page: u64| {
        let mut request = body.clone();
        request.insert("pageNumber".into(), json!(page));
        let text = Value::Object(request).to_string();
        format!("{PATH}?q64={}", base64::engine::general_purpose::STANDARD.encode(text))
    };
    let mut out = json!({
        "total": total, "pageCount": page_count, "pageSize": size, "pageNumber": number,
        "types": ["users"], "results": results, "currentPage": cursor(number),
    });
    if number < page_count {
        out["nextPage"] = json!(cursor(number + 1));
    }
    if number > 1 {
        out["previousPage"] = json!(cursor(number - 1));
    }
    Ok(out)
}

/// Whether the search index has caught up with the user's last write.
fn indexed(store: &Store, state: &AppState, user: &Value) -> bool {
    let id = user.get("id").and_then(Value::as_str).unwrap_or_default();
    store.age(Kind::Users, id).is_none_or(|age| age >= state.config.search_delay)
}
