//! Authorization roles: `/api/v2/authorization/roles`.
//!
//! - `name` is a case-insensitive search term (substring); `id` repeats;
//!   `defaultRoleId` filters exactly. Sorted by name; pageSize up to 100
//!   (UNVERIFIED).
//! - PUT replaces `name`, `description`, `permissions` and
//!   `permissionPolicies`; built-in fields (`defaultRoleId`, `default`,
//!   `base`, `userCount`) are kept.
//! - Deleting a built-in role is 400; deleting a role an OAuth client grants
//!   is 409. Role names are unique (409, UNVERIFIED).

use serde_json::{Map, Value, json};

use super::input::{Shape, field};
use crate::sandbox::common::name_of;
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::resource::{Filter, Names, Object, Resource, Spec, Update, Write};
use crate::sandbox::server::AppState;
use crate::sandbox::store::{Kind, Store};

pub struct Roles;

impl Resource for Roles {
    const SPEC: Spec = Spec {
        names: Names::Unique,
        update: Update::Put,
        filters: &[
            Filter::NameContains,
            Filter::Ids,
            Filter::Equals("defaultRoleId", "defaultRoleId"),
        ],
        dates: false,
        server: &["defaultRoleId", "default", "base", "userCount"],
        ..Spec::new(
            Kind::Roles,
            "/api/v2/authorization/roles",
            "/api/v2/authorization/roles/{roleId}",
            "role",
        )
    };

    fn fields(_store: &Store, body: &Object, _old: Option<&Value>) -> ApiResult<Object> {
        let mut out = Map::new();
        if let Some(description) = field(body, "description", Shape::Str)? {
            out.insert("description".into(), description.clone());
        }
        let permissions =
            field(body, "permissions", Shape::StrList)?.cloned().unwrap_or_else(|| json!([]));
        out.insert("permissions".into(), permissions);
        let policies =
            field(body, "permissionPolicies", Shape::Array)?.cloned().unwrap_or_else(|| json!([]));
        for (index, policy) in policies.as_array().into_iter().flatten().enumerate() {
            if !policy.is_object() {
                let name = format!("permissionPolicies[{index}]");
                return Err(ApiError::bad_field(
                    &name,
                    format!("The field '{name}' must be an object."),
                ));
            }
        }
        out.insert("permissionPolicies".into(), policies);
        Ok(out)
    }

    fn on_write(write: &mut Write<'_>, role: &mut Object) -> ApiResult<Object> {
        if write.created {
            role.insert("default".into(), json!(false));
            role.insert("base".into(), json!(false));
            role.insert("userCount".into(), json!(0));
        }
        Ok(Map::new())
    }

    fn check_delete(store: &Store, _state: &AppState, role: &Value) -> ApiResult<()> {
        if role.get("default") == Some(&Value::Bool(true)) {
            return Err(ApiError::bad_request(format!(
                "The built-in role '{}' cannot be deleted.",
                name_of(role)
            )));
        }
        let id = role.get("id").and_then(Value::as_str);
        let grants = |c: &&Value| {
            c.get("roleDivisions")
                .and_then(Value::as_array)
                .is_some_and(|g| g.iter().any(|g| g.get("roleId").and_then(Value::as_str) == id))
        };
        if let Some(client) = store.all(Kind::OauthClients).find(grants) {
            return Err(ApiError::conflict(format!(
                "The role is granted to the OAuth client '{}'; remove the grant first.",
                name_of(client)
            )));
        }
        Ok(())
    }
}
