//! Wrap-up codes: `/api/v2/routing/wrapupcodes` (API reference §i).
//!
//! - POST and PUT take `WrapupCodeRequest`: `name` (required), `description`,
//!   `division` (`WritableStarrableDivision`, written as `{"id"}`). PUT
//!   replaces the whole object (the provider's update is a full PUT).
//! - A code created without `division` belongs to all divisions: the
//!   provider leaves `division` out, "If not set, * will be used to indicate
//!   all divisions" (TF `routing_wrapupcode/…_schema.go`). It is stored and
//!   shown as `{"id": "*", "name": "*"}`; what a real GET returns there is
//!   UNVERIFIED (the reference's open questions), and gcctl reads a missing
//!   division, a null one and `*` alike. A PUT without `division` puts the
//!   code back in all divisions (PUT replaces; UNVERIFIED), so gcctl always
//!   sends the division it read. `{"id": "*"}` may also be written.
//! - The list takes `name` (a fuzzy filter here: a case-insensitive
//!   substring; the real matching is undocumented), `id` and `divisionId`;
//!   sorted by name, `sortOrder` honored; pageSize up to 100 (the provider
//!   lists with 100; the maximum is UNVERIFIED).
//! - Names are unique, case-insensitively (409, UNVERIFIED as for the other
//!   kinds).
//! - Deleting a code removes it from every queue that offers it
//!   (UNVERIFIED: the real API may refuse instead).

use serde_json::{Map, Value, json};

use super::input::{Params, Shape, field};
use crate::sandbox::common::{entity_ref, ref_id};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::resource::{Filter, Names, Object, Order, Resource, Spec, Update};
use crate::sandbox::server::AppState;
use crate::sandbox::store::{Kind, Store};

/// The division id that stands for "all divisions".
pub const ALL_DIVISIONS: &str = "*";

pub struct WrapupCodes;

impl Resource for WrapupCodes {
    const SPEC: Spec = Spec {
        division: Some("routing:wrapupCode"),
        names: Names::Unique,
        update: Update::Put,
        filters: &[Filter::NameContains, Filter::Ids, Filter::Ref("divisionId", "division")],
        order: Order::NameSortable,
        ..Spec::new(
            Kind::WrapupCodes,
            "/api/v2/routing/wrapupcodes",
            "/api/v2/routing/wrapupcodes/{codeId}",
            "wrap-up code",
        )
    };

    fn fields(store: &Store, body: &Object, _old: Option<&Value>) -> ApiResult<Object> {
        let mut out = Map::new();
        if let Some(description) = field(body, "description", Shape::Str)? {
            out.insert("description".into(), description.clone());
        }
        let division = match field(body, "division", Shape::Object)? {
            None => ALL_DIVISIONS.to_string(),
            Some(division) => {
                // A `selfUri` in it is refused with every write body (`input::Body`).
                let id = ref_id(Some(division))
                    .filter(|id| !id.is_empty())
                    .ok_or_else(|| ApiError::missing_field("division.id"))?;
                if id != ALL_DIVISIONS && store.get(Kind::Divisions, id).is_none() {
                    return Err(ApiError::bad_field(
                        "division.id",
                        format!("The division {id} does not exist."),
                    ));
                }
                id.to_string()
            }
        };
        out.insert("division".into(), json!({"id": division}));
        Ok(out)
    }

    fn deleted(store: &mut Store, code: &Value) {
        let Some(code) = code.get("id").and_then(Value::as_str) else { return };
        super::queue_wrapup_codes::forget_code(store, code);
    }

    fn decorate(store: &Store, _state: &AppState, out: &mut Value, _params: &Params, _: bool) {
        let Some(id) = ref_id(out.get("division")).map(str::to_string) else { return };
        out["division"] = if id == ALL_DIVISIONS {
            json!({"id": ALL_DIVISIONS, "name": ALL_DIVISIONS})
        } else {
            entity_ref(store, Kind::Divisions, &id)
        };
    }
}
