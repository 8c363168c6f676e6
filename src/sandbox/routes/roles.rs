//! Authorization roles: `/api/v2/authorization/roles`.
//!
//! - `name` is a case-insensitive search term (substring); `id` repeats;
//!   `defaultRoleId` filters exactly. Sorted by name; pageSize up to 100
//!   (UNVERIFIED).
//! - PUT replaces `name`, `description`, `permissions` and
//!   `permissionPolicies`; built-in fields (`defaultRoleId`, `default`,
//!   `base`, `userCount`) are kept.
//! - Deleting a built-in role is 400; deleting a role an OAuth client or a
//!   user is granted is 409. Role names are unique (409, UNVERIFIED).
//! - Reads (GET one, list, and the answers to POST and PUT) expand wildcard
//!   policies (`entityName: "*"`, `actionSet: ["*"]`, domain `*`) into
//!   explicit actions from the catalog, as the real API does since June 2026
//!   (`authz::expand_policies`); the stored policy keeps the wildcard.
//! - Writes check `permissionPolicies`: each policy needs `domain`,
//!   `entityName` and a non-empty `actionSet`, and each
//!   `domain:entityName:action` must be a permission of the catalog
//!   (`permissions::Catalog::embedded`), or a wildcard matching at least one.
//!   Otherwise 400 naming `permissionPolicies[i].actionSet[j]` and the
//!   permission, with the closest catalog permission. A stricter choice than
//!   the reference can confirm: the provider only warns about a permission
//!   missing from the org's catalog, and the role API "does not reliably
//!   reject unknown policies" (API reference §l; what it does with them is
//!   UNVERIFIED). A strict sandbox must not let a misspelling pass. The
//!   legacy `permissions` list (names such as `admin`) is not checked.

use serde_json::{Map, Value, json};

use super::input::{Params, Shape, field};
use crate::permissions::Catalog;
use crate::sandbox::authz::expand_policies;
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
            check_policy(&format!("permissionPolicies[{index}]"), policy)?;
        }
        out.insert("permissionPolicies".into(), policies);
        Ok(out)
    }

    fn decorate(
        _store: &Store,
        _state: &AppState,
        out: &mut Value,
        _params: &Params,
        _fresh: bool,
    ) {
        let stored = out.get("permissionPolicies").and_then(Value::as_array).cloned();
        if let Some(policies) = stored {
            out["permissionPolicies"] = Value::Array(expand_policies(&policies));
        }
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
        let user_grants = |g: &&Value| {
            g.get("grants")
                .and_then(Value::as_array)
                .is_some_and(|g| g.iter().any(|g| g.get("roleId").and_then(Value::as_str) == id))
        };
        if let Some(record) = store.all(Kind::Grants).find(user_grants) {
            let user = record.get("subjectId").and_then(Value::as_str).unwrap_or_default();
            let name = store.get(Kind::Users, user).map_or(user, name_of);
            return Err(ApiError::conflict(format!(
                "The role is granted to the user '{name}'; remove the grant first."
            )));
        }
        Ok(())
    }
}

/// Check one permission policy: its fields, and that every permission it
/// names is in the catalog (see the module docs).
fn check_policy(at: &str, policy: &Value) -> ApiResult<()> {
    let Some(map) = policy.as_object() else {
        return Err(ApiError::bad_field(at, format!("The field '{at}' must be an object.")));
    };
    let text = |key: &str| -> ApiResult<String> {
        match field(map, key, Shape::Str)? {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
            _ => Err(ApiError::missing_field(&format!("{at}.{key}"))),
        }
    };
    let (domain, entity) = (text("domain")?, text("entityName")?);
    let actions = field(map, "actionSet", Shape::StrList)
        .map_err(|_| {
            ApiError::bad_field(
                &format!("{at}.actionSet"),
                format!("The field '{at}.actionSet' must be an array of strings."),
            )
        })?
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::missing_field(&format!("{at}.actionSet")))?;
    let catalog = Catalog::embedded();
    for (index, action) in actions.iter().enumerate() {
        let action = action.as_str().unwrap_or_default();
        let permission = format!("{domain}:{entity}:{action}");
        let known = if permission.contains('*') {
            !catalog.expand(&permission).is_empty()
        } else {
            catalog.contains(&permission)
        };
        if !known {
            let hint = catalog
                .suggest(&permission)
                .map(|s| format!(" Did you mean '{s}'?"))
                .unwrap_or_default();
            return Err(ApiError::bad_field(
                &format!("{at}.actionSet[{index}]"),
                format!("The permission '{permission}' does not exist.{hint}"),
            ));
        }
    }
    Ok(())
}
