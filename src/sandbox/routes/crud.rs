//! Generic CRUD: list, get, create, update (PUT or PATCH) and delete of any
//! [`Resource`], driven by its [`Spec`](crate::sandbox::resource::Spec), plus the org-default helpers shared
//! by supported content and messaging settings.
//!
//! - Lists page at the declared maximum (`pageSize` above it is 400), apply
//!   the declared filters and order, and render only the requested page.
//! - Creates answer 200 (not 201) with the object as a GET would show it.
//! - Updates and deletes of an unknown (or not yet visible) id are 404.
//! - For resources whose objects carry a division, lists show only the
//!   objects in divisions where the caller may view them, and creates and
//!   updates check the caller's rights in the division the object ends up
//!   in (`authz`).
//! - Handlers hold the store lock only synchronously and commit (journal)
//!   every change before answering.

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::IntoResponse as _;
use axum::routing::{MethodRouter, get};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::input::{Body, Id, Params, required_str};
use super::paging::{
    Page, bounds, contains_ci, descending, page, render_page, render_window, unpaged,
};
use super::view::Rendered;
use crate::sandbox::auth::Caller;
use crate::sandbox::authz;
use crate::sandbox::common::{entity_ref, name_of, new_id, now, ref_id, secret_key, self_uri};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::pages;
use crate::sandbox::resource::{
    Filter, Names, Object, Op, Order, Resource, Update, Version, Write,
};
use crate::sandbox::server::{AppState, Shared};
use crate::sandbox::store::{Kind, Store};

/// The generic routes of `R`, as its [`Spec`](crate::sandbox::resource::Spec) declares them.
pub fn routes<R: Resource>() -> Router<Shared> {
    let spec = R::SPEC;
    let mut collection = get(list::<R>);
    let mut item: MethodRouter<Shared> = get(read::<R>);
    if spec.update != Update::ReadOnly {
        collection = collection.post(create::<R>);
        item = item.delete(remove::<R>);
    }
    match spec.update {
        Update::ReadOnly | Update::Never => {}
        Update::Put => item = item.put(update::<R>),
        Update::Patch { .. } => item = item.patch(update::<R>),
    }
    Router::new().route(spec.path, collection).route(spec.item, item)
}

async fn list<R: Resource>(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> ApiResult<axum::response::Response> {
    let spec = R::SPEC;
    flags::<R>(&params, Op::List)?;
    let store = state.store_read();
    // Only the divisions the caller may view (`authz::visible`).
    let requirement = authz::requirement("GET", spec.path);
    let seen = authz::visible(&store, &caller.subject, requirement, spec.division);
    let render = |v: &Value| render::<R>(&store, &state, v, &params, false);
    let Some(max) = spec.max_page_size else {
        let items = store.list_by_name(spec.kind).map(render).collect();
        return Ok(Json(unpaged(spec.path, items)).into_response());
    };
    let page = page(&params, max)?;
    let desc = match spec.order {
        Order::Name => false,
        Order::NameSortable | Order::IdOrName => descending(&params)?,
    };
    let filtered = filter::<R>(&params)?;
    let everything = filtered.is_none() && seen.is_none();
    let keep = |v: &Value| {
        filtered.as_ref().is_none_or(|f| f(v)) && seen.as_ref().is_none_or(|seen| seen(v))
    };
    let by_name = match spec.order {
        Order::Name | Order::NameSortable => true,
        Order::IdOrName => match params.get("sortBy") {
            None | Some("" | "id") => false,
            Some("name") => true,
            Some(other) => {
                return Err(ApiError::bad_field(
                    "sortBy",
                    format!("Cannot sort by '{other}'; use id or name."),
                ));
            }
        },
    };
    if everything {
        // Nothing filtered: only the page's own objects are touched.
        if let Some(text) = window::<R>(&state, &store, &params, page, (by_name, desc)) {
            return Ok(json_text(text));
        }
        let matched: Vec<&Value> = if by_name {
            store.list_by_name(spec.kind).collect()
        } else {
            store.list(spec.kind).collect()
        };
        return Ok(
            Json(render_page(spec.path, &params, page, desc, matched, render)).into_response()
        );
    }
    let matched: Vec<&Value> = if by_name {
        store.list_by_name(spec.kind).filter(|v| keep(v)).collect()
    } else {
        store.list(spec.kind).filter(|v| keep(v)).collect()
    };
    Ok(Json(render_page(spec.path, &params, page, desc, matched, render)).into_response())
}

/// The predicate of the declared filters, with the query values checked;
/// `None` when the query filters nothing.
fn filter<R: Resource>(params: &Params) -> ApiResult<Option<impl Fn(&Value) -> bool + '_>> {
    let mut tests: Vec<Test<'_>> = Vec::new();
    let mut only: Option<Test<'_>> = None;
    for filter in R::SPEC.filters {
        if let Filter::IdsOnly = filter {
            let ids = params.all("id");
            if !ids.is_empty() {
                only = Some(id_in(ids));
            }
            continue;
        }
        tests.extend(test_of(*filter, params)?);
    }
    let filters = only.is_some() || !tests.is_empty();
    Ok(filters.then_some(move |v: &Value| match &only {
        Some(only) => only(v),
        None => tests.iter().all(|test| test(v)),
    }))
}

/// One filter's test of a listed object.
type Test<'p> = Box<dyn Fn(&Value) -> bool + 'p>;

fn id_in(ids: Vec<&str>) -> Test<'_> {
    Box::new(move |v| ids.contains(&v["id"].as_str().unwrap_or_default()))
}

/// The test of one declared filter (not [`Filter::IdsOnly`], which replaces
/// the others), with its query values checked; `None` when the query does
/// not use it.
fn test_of(filter: Filter, params: &Params) -> ApiResult<Option<Test<'_>>> {
    let test: Test<'_> = match filter {
        Filter::NameWildcard => {
            let Some(pattern) = params.get("name") else { return Ok(None) };
            Box::new(move |v| wildcard_match(pattern, name_of(v)))
        }
        Filter::NameContains => {
            let Some(name) = params.get("name").filter(|n| !n.is_empty()) else { return Ok(None) };
            Box::new(move |v| contains_ci(name_of(v), name))
        }
        Filter::NamePrefix => {
            let Some(prefix) = params.get("name").filter(|n| !n.is_empty()) else {
                return Ok(None);
            };
            let prefix = prefix.to_lowercase();
            Box::new(move |v| name_of(v).to_lowercase().starts_with(&prefix))
        }
        Filter::Ids | Filter::IdsOnly => {
            let ids = params.all("id");
            if ids.is_empty() {
                return Ok(None);
            }
            id_in(ids)
        }
        Filter::Equals(param, field) => {
            let Some(wanted) = params.get(param) else { return Ok(None) };
            Box::new(move |v| v.get(field).and_then(Value::as_str) == Some(wanted))
        }
        Filter::Ref(param, field) => {
            let ids = params.all(param);
            if ids.is_empty() {
                return Ok(None);
            }
            Box::new(move |v| ref_id(v.get(field)).is_some_and(|id| ids.contains(&id)))
        }
        Filter::OneOf(param, field, allowed) => return one_of(params, param, field, allowed),
        Filter::Present(param, field) => {
            let Some(wanted) = params.bool(param)? else { return Ok(None) };
            Box::new(move |v| {
                let present = v.get(field).and_then(Value::as_str).is_some_and(|s| !s.is_empty());
                present == wanted
            })
        }
        Filter::State => return state(params),
    };
    Ok(Some(test))
}

/// [`Filter::OneOf`]: the object's `field`, lowercased, is one of the
/// values of `param`, each of which must be `allowed`.
fn one_of<'p>(
    params: &'p Params,
    param: &'static str,
    field: &'static str,
    allowed: &'static [&'static str],
) -> ApiResult<Option<Test<'p>>> {
    let values = params.all(param);
    if let Some(bad) = values.iter().find(|t| !allowed.contains(t)) {
        return Err(ApiError::bad_field(
            param,
            format!("The {param} '{bad}' is not one of {}.", allowed.join(", ")),
        ));
    }
    if values.is_empty() {
        return Ok(None);
    }
    Ok(Some(Box::new(move |v| {
        let value = v.get(field).and_then(Value::as_str).unwrap_or_default();
        values.contains(&value.to_lowercase().as_str())
    })))
}

/// [`Filter::State`]: the users list's `state` (default `active`; `any`
/// does not filter). An object without a state is active.
fn state(params: &Params) -> ApiResult<Option<Test<'_>>> {
    const STATES: &[&str] = &["active", "inactive", "deleted", "any"];
    let wanted = params.get("state").filter(|s| !s.is_empty()).unwrap_or("active");
    if !STATES.contains(&wanted) {
        return Err(ApiError::bad_field(
            "state",
            format!(
                "Value [{wanted}] is not valid for field type [State]. Allowable values are: {}",
                STATES.join(", ")
            ),
        ));
    }
    if wanted == "any" {
        return Ok(None);
    }
    Ok(Some(Box::new(move |v| {
        v.get("state").and_then(Value::as_str).unwrap_or("active") == wanted
    })))
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

/// Check the declared boolean parameters of an operation.
fn flags<R: Resource>(params: &Params, op: Op) -> ApiResult<()> {
    for (_, name) in R::SPEC.flags.iter().filter(|(on, _)| *on == op) {
        params.bool(name)?;
    }
    Ok(())
}

async fn read<R: Resource>(
    State(state): State<Shared>,
    Id(id): Id,
    params: Params,
) -> ApiResult<Json<Value>> {
    flags::<R>(&params, Op::Read)?;
    let store = state.store_read();
    let object = visible::<R>(&store, &id)?;
    Ok(Json(render::<R>(&store, &state, object, &params, false)))
}

async fn create<R: Resource>(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Body(body): Body,
) -> ApiResult<Json<Value>> {
    save::<R>(&state, &caller, None, &body).map(Json)
}

async fn update<R: Resource>(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Id(id): Id,
    Body(body): Body,
) -> ApiResult<Json<Value>> {
    save::<R>(&state, &caller, Some(id), &body).map(Json)
}

/// Create (no `id`) or update an object from a request body, store it and
/// return the answer.
fn save<R: Resource>(
    state: &AppState,
    caller: &Caller,
    id: Option<String>,
    body: &Object,
) -> ApiResult<Value> {
    let spec = R::SPEC;
    let mut store = state.store();
    let old = match &id {
        Some(id) => Some(writable::<R>(&store, id)?.clone()),
        None => None,
    };
    let (mut object, name_required) = start::<R>(old.as_ref())?;
    if name_required || body.contains_key("name") {
        let name = required_str(body, "name")?;
        check_name::<R>(&store, &name, id.as_deref())?;
        object.insert("name".into(), json!(name));
    }
    object.extend(R::fields(&store, body, old.as_ref())?);
    let created = id.is_none();
    authorize_division::<R>(&store, caller, &object, created)?;
    let id = id.unwrap_or_else(new_id);
    let stamp = now();
    if created {
        object.insert("id".into(), json!(id));
        object.insert("selfUri".into(), json!(self_uri(spec.kind, &id)));
        if spec.dates {
            object.insert("dateCreated".into(), json!(stamp));
        }
    }
    if spec.dates {
        object.insert("dateModified".into(), json!(stamp));
    }
    bump_version::<R>(&mut object);
    let mut write = Write { store: &mut store, caller, id: &id, body, old: old.as_ref(), created };
    let shown = R::on_write(&mut write, &mut object)?;
    let object = Value::Object(object);
    if created {
        store.insert(spec.kind, &id, object.clone());
    } else {
        store.put(spec.kind, &id, object.clone());
    }
    store.commit()?;
    let mut out = render::<R>(&store, state, &object, &Params::default(), created);
    if let Some(map) = out.as_object_mut() {
        map.extend(shown);
    }
    Ok(out)
}

/// What a write starts from, and whether its body must name the object: a
/// create from nothing; a PUT from the old object's server fields (the body
/// rebuilds the rest); a PATCH from the whole old object.
fn start<R: Resource>(old: Option<&Value>) -> ApiResult<(Object, bool)> {
    let spec = R::SPEC;
    match (old.map(Value::as_object), spec.update) {
        (None, _) => Ok((Object::new(), true)),
        (Some(Some(old)), Update::Put) => {
            let server = ["id", "dateCreated", "selfUri", "version"].iter().chain(spec.server);
            let kept = server.filter_map(|key| Some(((*key).into(), old.get(*key)?.clone())));
            Ok((kept.collect(), true))
        }
        (Some(Some(old)), Update::Patch { name_required }) => Ok((old.clone(), name_required)),
        (Some(_), _) => Err(ApiError::internal(format!("cannot update this {}", spec.noun))),
    }
}

/// The caller's rights in the division a written object ends up in (those
/// in its current one were checked with the route, see `authz`); nothing
/// for a resource without divisions.
fn authorize_division<R: Resource>(
    store: &Store,
    caller: &Caller,
    object: &Object,
    created: bool,
) -> ApiResult<()> {
    let spec = R::SPEC;
    if spec.division.is_none() {
        return Ok(());
    }
    let (method, route) = match (created, spec.update) {
        (true, _) => ("POST", spec.path),
        (false, Update::Patch { .. }) => ("PATCH", spec.item),
        (false, _) => ("PUT", spec.item),
    };
    let place = authz::place(object.get("division"));
    let requirement = authz::requirement(method, route);
    authz::authorize_at(store, &caller.subject, requirement, spec.division, place)
}

async fn remove<R: Resource>(
    State(state): State<Shared>,
    Id(id): Id,
    params: Params,
) -> ApiResult<StatusCode> {
    let spec = R::SPEC;
    flags::<R>(&params, Op::Delete)?;
    let mut store = state.store();
    let object = writable::<R>(&store, &id)?;
    R::check_delete(&store, &state, object)?;
    if spec.soft_delete {
        let mut object = object.clone();
        object["state"] = json!("deleted");
        object["dateModified"] = json!(now());
        bump_version::<R>(object.as_object_mut().unwrap_or(&mut Object::new()));
        store.put(spec.kind, &id, object.clone());
        R::deleted(&mut store, &object);
    } else if let Some(object) = store.remove(spec.kind, &id) {
        store.remove(Kind::Secrets, &secret_key(spec.kind, &id));
        R::deleted(&mut store, &object);
    }
    store.commit()?;
    Ok(StatusCode::NO_CONTENT)
}

/// An object as a reader sees it, or 404.
fn visible<'s, R: Resource>(store: &'s Store, id: &str) -> ApiResult<&'s Value> {
    store.visible(R::SPEC.kind, id).ok_or_else(|| ApiError::not_found(R::SPEC.noun, id))
}

/// An object a write may change, or 404: visible, and not soft-deleted.
fn writable<'s, R: Resource>(store: &'s Store, id: &str) -> ApiResult<&'s Value> {
    visible::<R>(store, id)
        .ok()
        .filter(|object| !(R::SPEC.soft_delete && is_deleted(object)))
        .ok_or_else(|| ApiError::not_found(R::SPEC.noun, id))
}

/// Whether a stored object is soft-deleted (`state: "deleted"`).
pub fn is_deleted(object: &Value) -> bool {
    object.get("state").and_then(Value::as_str) == Some("deleted")
}

/// Refuse a name another object of the kind has, if names are unique.
fn check_name<R: Resource>(store: &Store, name: &str, own: Option<&str>) -> ApiResult<()> {
    if R::SPEC.names == Names::Repeat {
        return Ok(());
    }
    // A soft-deleted object's name is free again (UNVERIFIED for skills and
    // languages: the reference does not say).
    let taken = store.named(R::SPEC.kind, name).into_iter().any(|v| {
        v.get("id").and_then(Value::as_str) != own && !(R::SPEC.soft_delete && is_deleted(v))
    });
    if taken {
        return Err(ApiError::conflict(format!(
            "Another {} is already named '{name}'.",
            R::SPEC.noun
        )));
    }
    Ok(())
}

/// Set the next `version` (the first one on create).
fn bump_version<R: Resource>(object: &mut Object) {
    // A version that is not a number (a hand-written seed) restarts at 1.
    let current =
        object.get("version").and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()));
    let next = current.map_or(1, |v| v.saturating_add(1));
    match R::SPEC.version {
        Version::None => {}
        Version::Int => {
            object.insert("version".into(), json!(next));
        }
        Version::Str => {
            object.insert("version".into(), json!(next.to_string()));
        }
    }
}

/// A stored object as the API returns it: references carry current names,
/// then the resource's own decoration.
pub fn render<R: Resource>(
    store: &Store,
    state: &AppState,
    object: &Value,
    params: &Params,
    fresh: bool,
) -> Value {
    let mut out = object.clone();
    render_in::<R>(store, state, &mut out, params, fresh);
    out
}

/// `object` as a list page shows it: a view of the stored object where `R`
/// names the fields its rendering touches ([`Resource::DECORATED`]), else a
/// rendered copy.
fn render_listed<'a, R: Resource>(
    store: &Store,
    state: &AppState,
    object: &'a Value,
    params: &Params,
) -> Rendered<'a> {
    let whole = || Rendered::Whole(render::<R>(store, state, object, params, false));
    let Some(decorated) = R::DECORATED else { return whole() };
    let (Some(stored), Some((touched, mut copy))) =
        (object.as_object(), Rendered::parts(object, decorated, R::SPEC.refs))
    else {
        return whole();
    };
    render_in::<R>(store, state, &mut copy, params, false);
    let Value::Object(rendered) = copy else { return whole() };
    let view = Rendered::View { stored, touched, rendered };
    // Byte for byte: a field rendered but not named would be written twice.
    debug_assert_eq!(
        serde_json::to_string(&view).ok(),
        serde_json::to_string(&render::<R>(store, state, object, params, false)).ok(),
        "{}: a listed object renders otherwise as a view than as a copy: DECORATED misses a field",
        R::SPEC.path
    );
    view
}

/// An unfiltered page of `R`, rendered from the page's own objects (`None`:
/// the store has no such window, see `Store::window`), in name order or
/// not, descending or not (`order`). For a resource whose listed objects
/// render as views (`Resource::DECORATED`), the page answered before is
/// answered again while nothing was written since (`sandbox::pages`).
fn window<R: Resource>(
    state: &AppState,
    store: &Store,
    params: &Params,
    page: Page,
    (by_name, desc): (bool, bool),
) -> Option<Bytes> {
    let spec = R::SPEC;
    let render = || {
        let (total, items) = store.window(spec.kind, by_name, desc, bounds(page))?;
        let listed = |v| render_listed::<R>(store, state, v, params);
        Some(Bytes::from(render_window(spec.path, params, page, total, &items, listed)))
    };
    if R::DECORATED.is_none() {
        return render();
    }
    let key = pages::key(spec.path, &params.0);
    let generation = state.generation(store);
    if let Some(kept) = state.kept_page(generation, &key) {
        debug_assert_eq!(
            Some(&kept),
            render().as_ref(),
            "{}: a kept page differs from a new rendering: the page renders from more than the store and the query",
            spec.path
        );
        return Some(kept);
    }
    let text = render()?;
    state.keep_page(generation, key, text.clone());
    Some(text)
}

/// A JSON answer whose text is made already.
fn json_text(text: Bytes) -> axum::response::Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], text).into_response()
}

/// Resolve `out`'s references and decorate it, in place.
fn render_in<R: Resource>(
    store: &Store,
    state: &AppState,
    out: &mut Value,
    params: &Params,
    fresh: bool,
) {
    for (field, kind) in R::SPEC.refs {
        let slot = field.split('.').try_fold(&mut *out, |at, key| at.get_mut(key));
        if let Some(slot) = slot {
            if let Some(id) = ref_id(Some(slot)).map(str::to_string) {
                *slot = entity_ref(store, *kind, &id);
            }
        }
    }
    R::decorate(store, state, out, params, fresh);
}

/// `GET` and `PUT` of `{path}/default`, the org default of `R`, kept in
/// `Kind::Defaults` under `key`. `GET` without a default is 404 (UNVERIFIED:
/// the real API may answer an empty body); `PUT` takes the id in the body's
/// `field`, an unknown id is 400 naming it (UNVERIFIED: it may be 404).
pub fn default_route<R: Resource>(key: &'static str, field: &'static str) -> MethodRouter<Shared> {
    let read = move |State(state): State<Shared>| async move {
        let store = state.store_read();
        let id = store.org().default_str(key).unwrap_or_default();
        let object = store.get(R::SPEC.kind, id);
        object.cloned().map(Json).ok_or_else(|| ApiError::not_found(R::SPEC.noun, "default"))
    };
    let set = move |State(state): State<Shared>, Body(body): Body| async move {
        let mut store = state.store();
        let id = required_str(&body, field)?;
        let Some(object) = store.get(R::SPEC.kind, &id).cloned() else {
            let message = format!("The {} {id} does not exist.", R::SPEC.noun);
            return Err(ApiError::bad_field(field, message));
        };
        store.put(Kind::Defaults, key, json!(id));
        store.commit()?;
        Ok(Json(object))
    };
    get(read).put(set)
}

/// Whether `object` is the org default `key`.
pub fn is_default(store: &Store, key: &str, object: &Value) -> bool {
    let id = object.get("id").and_then(Value::as_str);
    id.is_some() && store.org().default_str(key) == id
}

/// Refuse to delete an object that an open messaging integration references
/// in `field` (409, UNVERIFIED: the real API's answer is not documented).
pub fn check_unused<R: Resource>(store: &Store, field: &str, object: &Value) -> ApiResult<()> {
    let id = object.get("id").and_then(Value::as_str);
    match store.all(Kind::OpenIntegrations).find(|i| ref_id(i.get(field)) == id) {
        Some(user) => Err(ApiError::conflict(format!(
            "The {} is in use by the open messaging integration '{}'.",
            R::SPEC.noun,
            name_of(user)
        ))),
        None => Ok(()),
    }
}

/// An optional `{"id"}` reference in `body` to an object of `kind` that must
/// exist (the server sees objects still inside the consistency window);
/// errors name `<name>.id`.
pub fn existing_ref(
    store: &Store,
    body: &Object,
    name: &str,
    kind: Kind,
) -> ApiResult<Option<String>> {
    match super::input::optional_ref(body, name)? {
        Some(id) if store.get(kind, &id).is_none() => Err(ApiError::bad_field(
            &format!("{name}.id"),
            format!("The {} {id} does not exist.", super::noun(kind)),
        )),
        other => Ok(other),
    }
}
