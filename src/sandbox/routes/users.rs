//! Users (read-only here): `GET /api/v2/users`, `/api/v2/users/{userId}` and
//! `/api/v2/users/me`.
//!
//! - Users are seeded (the admin user, see `seed.rs`); the API cannot create
//!   them here. Their role grants live server-side (`Kind::Grants`) and are
//!   read and changed through `/api/v2/authorization/subjects/...`.
//! - The list takes `id` (repeatable) and `state` (`active` by default,
//!   `inactive`, `deleted`, `any`), sorted by name; pageSize up to 100 (the
//!   provider pages it with 100; the maximum is UNVERIFIED). `expand` is
//!   accepted and ignored.
//! - `GET /api/v2/users/me` answers the calling user (`UserMe`). "This
//!   request is not valid when using the Client Credentials OAuth grant"
//!   (SDK docs, `getUsersMe`): a client-credentials token gets 400
//!   `bad.request` (the real status and wording are UNVERIFIED).

use axum::extract::{Extension, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

use super::crud;
use super::input::Params;
use crate::sandbox::auth::{Caller, Subject};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::resource::{Filter, Resource, Spec};
use crate::sandbox::server::Shared;
use crate::sandbox::store::Kind;

pub struct Users;

impl Resource for Users {
    const SPEC: Spec = Spec {
        filters: &[Filter::Ids, Filter::State],
        dates: false,
        refs: &[("division", Kind::Divisions)],
        ..Spec::new(Kind::Users, "/api/v2/users", "/api/v2/users/{userId}", "user")
    };

    fn routes() -> Router<Shared> {
        crud::routes::<Self>()
            .route("/api/v2/users/me", get(me))
            .merge(super::user_search::routes())
            .merge(super::user_routing::routes())
    }
}

async fn me(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    let Subject::User(id) = &caller.subject else {
        return Err(ApiError::bad_request(
            "This request requires a user context: it is not valid with a token of the Client Credentials OAuth grant.",
        ));
    };
    let store = state.store_read();
    let user = store.get(Kind::Users, id).ok_or_else(|| ApiError::not_found("user", id))?;
    Ok(Json(crud::render::<Users>(&store, &state, user, &Params::default(), false)))
}
