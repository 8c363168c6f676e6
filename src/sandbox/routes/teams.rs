//! Teams and skill groups, read-only: the other two kinds of a queue's
//! member groups (`Queue.memberGroups[].type` `TEAM` and `SKILLGROUP`, API
//! reference §i, "Member groups").
//!
//! - `GET /api/v2/teams` and `GET /api/v2/routing/skillgroups` list them,
//!   sorted by name, with cursor paging: `pageSize` (1..=100), `after` (the
//!   cursor of the previous page's `nextUri`) and `name` ("Return only teams
//!   whose names start with this value (case-insensitive matching)"; the
//!   same for skill groups). A page is `{entities, nextUri?, selfUri,
//!   previousUri?}`: `TeamEntityListing` and `SkillGroupEntityListing` have
//!   no `total` or `pageCount`. `GET …/{teamId}` / `…/{skillGroupId}` read
//!   one (404 when unknown). These facts come from the .NET SDK's
//!   `TeamsApi.md` and `RoutingApi.md`, which the API reference does not
//!   extract: UNVERIFIED beyond what gcctl needs (a name lookup).
//! - They are seeded (`Sandbox Team`, `Sandbox Skill Group`, see `seed.rs`)
//!   or come from a seed file; the API cannot create them here. Their members
//!   are kept server-side like a group's (`Kind::GroupMembers`, keyed by the
//!   team's or skill group's id) and make the members of queues whose
//!   `memberGroups` name them. A real skill group's members are the users
//!   whose skills and languages meet its `skillConditions`; the sandbox keeps
//!   a fixed list instead and does not emulate the conditions.
//! - `memberCount` is computed from those members.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::input::Params;
use crate::sandbox::common::name_of;
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::server::Shared;
use crate::sandbox::store::{Kind, Store};

pub const TEAMS: &str = "/api/v2/teams";
pub const SKILL_GROUPS: &str = "/api/v2/routing/skillgroups";
/// The largest `pageSize` (UNVERIFIED; the SDK documents no maximum).
const MAX_PAGE: usize = 100;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(TEAMS, get(|s: State<Shared>, p: Params| async move { list(Kind::Teams, &s, &p) }))
        .route(
            &format!("{TEAMS}/{{teamId}}"),
            get(|s: State<Shared>, id: Path<String>| async move { one(Kind::Teams, &s, &id) }),
        )
        .route(
            SKILL_GROUPS,
            get(|s: State<Shared>, p: Params| async move { list(Kind::SkillGroups, &s, &p) }),
        )
        .route(
            &format!("{SKILL_GROUPS}/{{skillGroupId}}"),
            get(
                |s: State<Shared>, id: Path<String>| async move { one(Kind::SkillGroups, &s, &id) },
            ),
        )
}

/// The collection path of a kind served here.
pub fn path_of(kind: Kind) -> &'static str {
    if kind == Kind::Teams { TEAMS } else { SKILL_GROUPS }
}

fn noun(kind: Kind) -> &'static str {
    if kind == Kind::Teams { "team" } else { "skill group" }
}

/// A team or skill group as the API shows it.
pub fn render(store: &Store, kind: Kind, object: &Value) -> Value {
    let mut out = object.clone();
    let id = object.get("id").and_then(Value::as_str).unwrap_or_default();
    out["memberCount"] = json!(super::groups::members(store, id).len());
    out["selfUri"] = json!(format!("{}/{id}", path_of(kind)));
    out
}

fn one(
    kind: Kind,
    State(state): &State<Shared>,
    Path(id): &Path<String>,
) -> ApiResult<Json<Value>> {
    let store = state.store();
    let object = store.get(kind, id).ok_or_else(|| ApiError::not_found(noun(kind), id))?;
    Ok(Json(render(&store, kind, object)))
}

fn list(kind: Kind, State(state): &State<Shared>, params: &Params) -> ApiResult<Json<Value>> {
    let size = match params.get("pageSize") {
        None => 25,
        Some(text) => {
            text.parse::<usize>().ok().filter(|n| (1..=MAX_PAGE).contains(n)).ok_or_else(|| {
                ApiError::bad_field("pageSize", format!("pageSize must be 1 to {MAX_PAGE}"))
            })?
        }
    };
    let start = match params.get("after") {
        None => 0,
        Some(cursor) => cursor
            .parse::<usize>()
            .map_err(|_| ApiError::bad_field("after", "The cursor is not valid."))?,
    };
    let prefix = params.get("name").map(str::to_lowercase).unwrap_or_default();
    let store = state.store();
    let mut found: Vec<&Value> =
        store.all(kind).filter(|o| name_of(o).to_lowercase().starts_with(&prefix)).collect();
    found.sort_by_key(|o| name_of(o).to_lowercase());
    let page: Vec<Value> =
        found.iter().skip(start).take(size).map(|o| render(&store, kind, o)).collect();
    let path = path_of(kind);
    let name = params.get("name").map(|n| format!("&name={}", encode_query(n))).unwrap_or_default();
    let mut out = json!({
        "entities": page,
        "selfUri": format!("{path}?pageSize={size}&after={start}{name}"),
    });
    let next = start.saturating_add(size);
    if next < found.len() {
        out["nextUri"] = json!(format!("{path}?pageSize={size}&after={next}{name}"));
    }
    if start > 0 {
        out["previousUri"] =
            json!(format!("{path}?pageSize={size}&after={}{name}", start.saturating_sub(size)));
    }
    Ok(Json(out))
}

/// Percent-encode what a name may hold in a query string.
fn encode_query(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
