//! A user's routing skills and languages: `/api/v2/users/{userId}/routingskills`
//! and `/api/v2/users/{userId}/routinglanguages` (API reference §i, "Users
//! (lookup only) and their routing skills and languages").
//!
//! - `GET` lists them (`UserRoutingSkill` / `UserRoutingLanguage`: `id`,
//!   `name`, `proficiency`, `state`, `skillUri` / `languageUri`), sorted by
//!   name, 100 a page at most (the provider reads with 50; the maximum is
//!   UNVERIFIED). Reading needs no permission (.NET docs).
//! - `PATCH …/bulk` adds or updates up to 50 (`[{"id", "proficiency"}]`, both
//!   required: `UserRoutingSkillPost`): "Assign multiple routing skills to a
//!   user"; "Max 50 routing languages in request body" (PY), and the provider
//!   chunks skills by 50 too ("Bulk API restricts skills adds to 50 per
//!   call", TF); more is 400. `PUT …/routingskills/bulk` replaces every skill
//!   ("replacing any current assignments", PY); there is no PUT for
//!   languages. The answer lists everything the user holds.
//! - `DELETE …/{skillId}` / `…/{languageId}` removes one (404 when the user
//!   does not hold it).
//! - An unknown or deleted skill or language is 400 naming `[i].id`; a
//!   proficiency outside 0..5 is 400 (the provider's range; an API limit is
//!   UNVERIFIED). An unknown user is 404.
//! - Version conflicts: after `POST /_sandbox/conflicts {"userId", "writes"}`
//!   (someone else changing the user at the same time), the user's next
//!   `writes` writes (bulk PATCH or PUT, DELETE) answer 409 `conflict`
//!   ("The user's version … does not match the current version …"), the
//!   version mismatch the provider retries (API reference §i; the wording
//!   beyond "does not match the current version" is UNVERIFIED), and change
//!   nothing.
//! - A deleted skill or language leaves every user.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, patch};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::input::{List, Params};
use super::paging::{page, render_page};
use crate::sandbox::common::{name_of, self_uri};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::server::Shared;
use crate::sandbox::store::{Kind, Store};

/// Most entries one bulk PATCH or PUT may carry.
const MAX_BATCH: usize = 50;

/// The two lists: their collection, the object they hold, and their names.
#[derive(Clone, Copy)]
struct Assigned {
    store: Kind,
    target: Kind,
    /// Path segment (`routingskills`).
    segment: &'static str,
    /// `skillUri` / `languageUri`.
    uri_key: &'static str,
    noun: &'static str,
}

const SKILLS: Assigned = Assigned {
    store: Kind::UserSkills,
    target: Kind::Skills,
    segment: "routingskills",
    uri_key: "skillUri",
    noun: "skill",
};
const LANGUAGES: Assigned = Assigned {
    store: Kind::UserLanguages,
    target: Kind::Languages,
    segment: "routinglanguages",
    uri_key: "languageUri",
    noun: "language",
};

pub fn routes() -> Router<Shared> {
    let skills = "/api/v2/users/{userId}/routingskills";
    let languages = "/api/v2/users/{userId}/routinglanguages";
    Router::new()
        .route(skills, get(|s, p, q| async move { list(SKILLS, &s, &p, &q) }))
        .route(
            &format!("{skills}/bulk"),
            patch(|s, p, b| async move { bulk(SKILLS, false, &s, p, b) })
                .put(|s, p, b| async move { bulk(SKILLS, true, &s, p, b) }),
        )
        .route(
            &format!("{skills}/{{skillId}}"),
            delete(|s, p| async move { remove(SKILLS, &s, p) }),
        )
        .route(languages, get(|s, p, q| async move { list(LANGUAGES, &s, &p, &q) }))
        .route(
            &format!("{languages}/bulk"),
            patch(|s, p, b| async move { bulk(LANGUAGES, false, &s, p, b) }),
        )
        .route(
            &format!("{languages}/{{languageId}}"),
            delete(|s, p| async move { remove(LANGUAGES, &s, p) }),
        )
}

/// The `(id, proficiency)` entries a user holds.
fn entries(store: &Store, list: Assigned, user: &str) -> Vec<(String, f64)> {
    store
        .get(list.store, user)
        .and_then(|u| u.get("entries"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| Some((e.get("id")?.as_str()?.to_string(), e.get("proficiency")?.as_f64()?)))
        .collect()
}

fn save(store: &mut Store, list: Assigned, user: &str, entries: &[(String, f64)]) {
    let entries: Vec<Value> =
        entries.iter().map(|(id, p)| json!({"id": id, "proficiency": p})).collect();
    store.put(list.store, user, json!({"userId": user, "entries": entries}));
}

fn check_user(store: &Store, user: &str) -> ApiResult<()> {
    store.visible(Kind::Users, user).map(drop).ok_or_else(|| ApiError::not_found("user", user))
}

/// A write that meets a concurrent change of the user (see the module docs).
fn conflict(state: &Shared, user: &str) -> ApiResult<()> {
    if state.take_conflict(user) {
        return Err(ApiError::conflict(format!(
            "The user's version does not match the current version of user {user}; it was changed by another request."
        )));
    }
    Ok(())
}

/// One entry as the API shows it.
fn render(store: &Store, list: Assigned, user: &str, id: &str, proficiency: f64) -> Value {
    let target = store.get(list.target, id);
    json!({
        "id": id,
        "name": target.map(name_of),
        "proficiency": proficiency,
        "state": target.and_then(|t| t.get("state")).cloned().unwrap_or(json!("active")),
        list.uri_key: self_uri(list.target, id),
        "selfUri": format!("/api/v2/users/{user}/{}/{id}", list.segment),
    })
}

fn list(
    list: Assigned,
    State(state): &State<Shared>,
    Path(user): &Path<String>,
    params: &Params,
) -> ApiResult<Json<Value>> {
    let page = page(params, 100)?;
    let store = state.store_read();
    check_user(&store, user)?;
    let mut shown: Vec<Value> = entries(&store, list, user)
        .iter()
        .map(|(id, p)| render(&store, list, user, id, *p))
        .collect();
    shown.sort_by_key(|e| e["name"].as_str().unwrap_or_default().to_lowercase());
    let path = format!("/api/v2/users/{user}/{}", list.segment);
    let refs: Vec<&Value> = shown.iter().collect();
    Ok(Json(render_page(&path, params, page, false, refs, Value::clone)))
}

fn bulk(
    list: Assigned,
    replace: bool,
    State(state): &State<Shared>,
    Path(user): Path<String>,
    List(items): List,
) -> ApiResult<Json<Value>> {
    if items.len() > MAX_BATCH {
        return Err(ApiError::bad_request(format!(
            "At most {MAX_BATCH} routing {}s can be assigned in one request, not {}.",
            list.noun,
            items.len()
        )));
    }
    let mut store = state.store();
    check_user(&store, &user)?;
    conflict(state, &user)?;
    let mut held = if replace { Vec::new() } else { entries(&store, list, &user) };
    for (i, item) in items.iter().enumerate() {
        let id = item
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| ApiError::missing_field(&format!("[{i}].id")))?;
        let live = store.get(list.target, id).filter(|t| !super::crud::is_deleted(t));
        if live.is_none() {
            return Err(ApiError::bad_field(
                &format!("[{i}].id"),
                format!("The {} {id} does not exist.", list.noun),
            ));
        }
        let proficiency = item
            .get("proficiency")
            .and_then(Value::as_f64)
            .ok_or_else(|| ApiError::missing_field(&format!("[{i}].proficiency")))?;
        if !(0.0..=5.0).contains(&proficiency) {
            return Err(ApiError::bad_field(
                &format!("[{i}].proficiency"),
                format!("The proficiency must be between 0 and 5, not {proficiency}."),
            ));
        }
        held.retain(|(held, _)| held != id);
        held.push((id.to_string(), proficiency));
    }
    save(&mut store, list, &user, &held);
    store.commit()?;
    let shown: Vec<Value> =
        held.iter().map(|(id, p)| render(&store, list, &user, id, *p)).collect();
    let total = shown.len();
    let path = format!("/api/v2/users/{user}/{}", list.segment);
    Ok(Json(json!({"entities": shown, "pageSize": total, "pageNumber": 1, "total": total,
        "pageCount": 1, "firstUri": path, "selfUri": path, "lastUri": path})))
}

fn remove(
    list: Assigned,
    State(state): &State<Shared>,
    Path((user, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut store = state.store();
    check_user(&store, &user)?;
    conflict(state, &user)?;
    let mut held = entries(&store, list, &user);
    let before = held.len();
    held.retain(|(held, _)| *held != id);
    if held.len() == before {
        return Err(ApiError::not_found(&format!("routing {} of the user", list.noun), &id));
    }
    save(&mut store, list, &user, &held);
    store.commit()?;
    Ok(StatusCode::NO_CONTENT)
}

/// A deleted skill or language leaves every user (`kind`: `UserSkills` or
/// `UserLanguages`).
pub fn forget(store: &mut Store, kind: Kind, id: &str) {
    let list = if kind == Kind::UserLanguages { LANGUAGES } else { SKILLS };
    let users: Vec<String> = store
        .all(kind)
        .filter_map(|u| u.get("userId").and_then(Value::as_str).map(str::to_string))
        .collect();
    for user in users {
        let mut held = entries(store, list, &user);
        let before = held.len();
        held.retain(|(held, _)| held != id);
        if held.len() < before {
            save(store, list, &user, &held);
        }
    }
}
