//! Routing skills: `/api/v2/routing/skills` (API reference §i).
//!
//! - POST takes `CreateRoutingSkill` `{name, divisionId}`; a skill created
//!   without `divisionId` is put in the Home division (UNVERIFIED: "View
//!   permission enforcement only applies to skills assigned to a division"
//!   suggests older skills may have none; gcctl compares a skill's division
//!   only where it is declared, so either works).
//! - There is no rename: PATCH takes `UpdateSkillDivisionRequest`
//!   `{divisionId}` only ("Update Routing Skill Division", PY), and a PATCH
//!   carrying `name` is 400 here (UNVERIFIED: the real API may ignore it;
//!   the provider makes `name` `ForceNew`).
//! - Soft delete: DELETE leaves the skill with `state: "deleted"`; GET by id
//!   and lists still show it (the provider drops such list entries on
//!   export and treats such a GET as gone: TF `routing_skill/…`), writes
//!   answer 404, its name is free again. A deleted skill is also dropped
//!   from users' routing skills.
//! - The list takes `name` ("Filter for results that start with this
//!   value", PY: a case-insensitive prefix) and `id`; sorted by name;
//!   pageSize up to 500 (the provider lists with 500; the maximum is
//!   UNVERIFIED).
//! - Names are unique among skills not deleted, case-insensitively (409,
//!   UNVERIFIED).
//! - `RoutingSkill` has `dateModified` and a read-only string `version`
//!   (bumped by every write), and no `dateCreated`.

use serde_json::{Map, Value, json};

use super::input::{Params, Shape, field};
use crate::sandbox::common::{entity_ref, home_division, now, ref_id};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::resource::{Filter, Names, Object, Resource, Spec, Update, Version, Write};
use crate::sandbox::server::AppState;
use crate::sandbox::store::{Kind, Store};

pub struct Skills;

impl Resource for Skills {
    const SPEC: Spec = Spec {
        division: Some("routing:skill"),
        names: Names::Unique,
        update: Update::Patch { name_required: false },
        filters: &[Filter::NamePrefix, Filter::Ids],
        max_page_size: Some(500),
        dates: false,
        version: Version::Str,
        soft_delete: true,
        ..Spec::new(
            Kind::Skills,
            "/api/v2/routing/skills",
            "/api/v2/routing/skills/{skillId}",
            "skill",
        )
    };

    fn fields(store: &Store, body: &Object, old: Option<&Value>) -> ApiResult<Object> {
        if old.is_some() && body.contains_key("name") {
            return Err(ApiError::bad_field(
                "name",
                "A routing skill cannot be renamed: PATCH changes only its divisionId. Create a skill with the new name instead.",
            ));
        }
        let mut out = Map::new();
        let division = match field(body, "divisionId", Shape::Str)?.and_then(Value::as_str) {
            Some(id) if store.get(Kind::Divisions, id).is_none() => {
                return Err(ApiError::bad_field(
                    "divisionId",
                    format!("The division {id} does not exist."),
                ));
            }
            Some(id) => Some(id.to_string()),
            None if old.is_none() => home_division(store),
            None => None,
        };
        if let Some(division) = division {
            out.insert("division".into(), json!({"id": division}));
        }
        Ok(out)
    }

    fn on_write(write: &mut Write<'_>, skill: &mut Object) -> ApiResult<Object> {
        if write.created {
            skill.insert("state".into(), json!("active"));
        }
        skill.insert("dateModified".into(), json!(now()));
        Ok(Map::new())
    }

    fn deleted(store: &mut Store, skill: &Value) {
        let Some(skill) = skill.get("id").and_then(Value::as_str) else { return };
        super::user_routing::forget(store, Kind::UserSkills, skill);
    }

    fn decorate(store: &Store, _state: &AppState, out: &mut Value, _params: &Params, _: bool) {
        if let Some(id) = ref_id(out.get("division")).map(str::to_string) {
            out["division"] = entity_ref(store, Kind::Divisions, &id);
        }
    }
}
