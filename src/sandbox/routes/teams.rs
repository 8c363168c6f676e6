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
use super::paging::{Cursor, render_cursor};
use crate::sandbox::common::name_of;
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::server::Shared;
use crate::sandbox::store::{Kind, Store};

pub const TEAMS: &str = "/api/v2/teams";
pub const SKILL_GROUPS: &str = "/api/v2/routing/skillgroups";
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
    let store = state.store_read();
    let object = store.get(kind, id).ok_or_else(|| ApiError::not_found(noun(kind), id))?;
    Ok(Json(render(&store, kind, object)))
}

fn list(kind: Kind, State(state): &State<Shared>, params: &Params) -> ApiResult<Json<Value>> {
    let prefix = params.get("name").map(str::to_lowercase).unwrap_or_default();
    let store = state.store_read();
    let mut found: Vec<&Value> =
        store.all(kind).filter(|o| name_of(o).to_lowercase().starts_with(&prefix)).collect();
    found.sort_by_key(|o| name_of(o).to_lowercase());
    let page = render_cursor(path_of(kind), params, CURSOR, &found, |o| render(&store, kind, o))?;
    Ok(Json(page))
}

/// `TeamEntityListing` and `SkillGroupEntityListing`: 25 by default, at
/// most 100 (UNVERIFIED; the SDK documents no maximum), no `total`.
const CURSOR: Cursor = Cursor { default_size: 25, max_size: 100, total: false };
