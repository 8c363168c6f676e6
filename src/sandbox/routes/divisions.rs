//! Authorization divisions (read-only): `/api/v2/authorization/divisions`,
//! `.../home` and `.../{divisionId}`.
//!
//! - `name` is a case-insensitive search term (substring), `id` repeats;
//!   `objectCount` is accepted (checked, ignored). Sorted by name; pageSize up
//!   to 100 (UNVERIFIED).
//! - Exactly one division is the home division (`homeDivision: true`).

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::Value;

use super::crud;
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::resource::{Filter, Op, Resource, Spec};
use crate::sandbox::server::Shared;
use crate::sandbox::store::Kind;

pub struct Divisions;

impl Resource for Divisions {
    const SPEC: Spec = Spec {
        filters: &[Filter::NameContains, Filter::Ids],
        flags: &[(Op::List, "objectCount")],
        dates: false,
        ..Spec::new(
            Kind::Divisions,
            "/api/v2/authorization/divisions",
            "/api/v2/authorization/divisions/{divisionId}",
            "division",
        )
    };

    fn routes() -> Router<Shared> {
        crud::routes::<Self>().route("/api/v2/authorization/divisions/home", get(home_division))
    }
}

async fn home_division(State(state): State<Shared>) -> ApiResult<axum::Json<Value>> {
    let store = state.store();
    let id = crate::sandbox::common::home_division(&store).unwrap_or_default();
    let division =
        store.get(Kind::Divisions, &id).ok_or_else(|| ApiError::not_found("division", "home"))?;
    Ok(axum::Json(division.clone()))
}
