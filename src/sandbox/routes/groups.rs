//! Groups (read-only here): `GET /api/v2/groups` and `/api/v2/groups/{groupId}`
//! (API reference §i, "Groups (lookup for `memberGroups`)").
//!
//! - Groups are seeded (`Sandbox Agents`, see `seed.rs`) or come from a seed
//!   file; the API cannot create them here. Their members are kept
//!   server-side (`Kind::GroupMembers`) and make the group-derived members
//!   of every queue whose `memberGroups` name the group.
//! - `memberCount` is computed from those members.
//! - The list takes `id` (repeatable) and `sortOrder`; sorted by name;
//!   pageSize up to 500 (the provider lists with 500; the maximum is
//!   UNVERIFIED). Reading groups needs no permission (.NET docs).

use serde_json::{Value, json};

use super::input::Params;
use crate::sandbox::resource::{Filter, Order, Resource, Spec};
use crate::sandbox::server::AppState;
use crate::sandbox::store::{Kind, Store};

pub struct Groups;

impl Resource for Groups {
    const SPEC: Spec = Spec {
        filters: &[Filter::Ids],
        order: Order::NameSortable,
        max_page_size: Some(500),
        dates: false,
        ..Spec::new(Kind::Groups, "/api/v2/groups", "/api/v2/groups/{groupId}", "group")
    };

    fn decorate(store: &Store, _state: &AppState, out: &mut Value, _params: &Params, _: bool) {
        let id = out.get("id").and_then(Value::as_str).unwrap_or_default();
        out["memberCount"] = json!(members(store, id).len());
    }
}

/// The ids of a group's members.
pub fn members(store: &Store, group: &str) -> Vec<String> {
    store
        .get(Kind::GroupMembers, group)
        .and_then(|g| g.get("userIds"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}
