//! `Role`: an authorization role (`/api/v2/authorization/roles`), written
//! with the permission strings people know (`conversation:message:create`).
//! They map to the API's `permissionPolicies` grouped by domain and entity.
//! Updated with PUT (full replacement, merged with the live role).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::check_org_name;
use super::{Kind, KindDef, Spec, parse_spec, schema_of, spec_boilerplate};
use crate::manifest::diag::Findings;

/// An authorization role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleSpec {
    /// The role's name in the org (its natural key).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Permissions as `domain:entity:action` strings; `*` is allowed for the
    /// entity or action (`routing:queue:*`). Order does not matter.
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// A permission split into its parts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Permission {
    pub domain: String,
    pub entity: String,
    pub action: String,
}

/// Parse `domain:entity:action`.
pub fn parse_permission(text: &str) -> Option<Permission> {
    let mut parts = text.split(':');
    let (domain, entity, action) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let word = |s: &str, wildcard: bool| {
        !s.is_empty()
            && (s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') || (wildcard && s == "*"))
    };
    (word(domain, false) && word(entity, true) && word(action, true)).then(|| Permission {
        domain: domain.to_string(),
        entity: entity.to_string(),
        action: action.to_string(),
    })
}

impl RoleSpec {
    /// Permissions grouped by (domain, entity) into sorted action sets, the
    /// shape of `permissionPolicies`.
    pub fn policies(&self) -> BTreeMap<(String, String), Vec<String>> {
        let mut map: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for p in self.permissions.iter().filter_map(|p| parse_permission(p)) {
            let actions = map.entry((p.domain, p.entity)).or_default();
            if !actions.contains(&p.action) {
                actions.push(p.action);
            }
        }
        for actions in map.values_mut() {
            actions.sort();
        }
        map
    }
}

impl Spec for RoleSpec {
    fn kind(&self) -> Kind {
        Kind::Role
    }

    fn org_name(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn check(&self, findings: &mut Findings) {
        check_org_name(findings, "/spec/name", &self.name);
        let mut seen = std::collections::BTreeSet::new();
        for (i, text) in self.permissions.iter().enumerate() {
            let pointer = format!("/spec/permissions/{i}");
            if parse_permission(text).is_none() {
                findings.error_with_hint(
                    pointer,
                    format!("`{text}` is not a permission"),
                    "write domain:entity:action, for example conversation:message:create",
                );
            } else if !seen.insert(text) {
                findings.error(pointer, format!("`{text}` is listed twice"));
            }
        }
    }

    spec_boilerplate!();
}

pub const DEF: KindDef = KindDef {
    summary: "An authorization role with its permissions.",
    order: 10,
    export_file: Some("roles.yaml"),
    parse: parse_spec::<RoleSpec>,
    schema: schema_of::<RoleSpec>,
    org: Some(&Org),
};

/// The org side of `Role`.
pub struct Org;

const ROLE_WRITABLE: [&str; 4] = ["name", "description", "permissions", "permissionPolicies"];

impl super::org::OrgKind for Org {
    fn api(&self) -> super::org::ApiPaths {
        // Max page size UNVERIFIED; 100 is what the Terraform provider uses.
        super::org::ApiPaths::new("/api/v2/authorization/roles", super::org::UpdateMethod::Put)
            .paged(100)
            .name_filter()
    }

    /// Every org has the default roles (`default`) and the roles its
    /// products bring (`base`).
    fn is_builtin(&self, live: &serde_json::Value) -> bool {
        live.get("default").and_then(serde_json::Value::as_bool) == Some(true)
            || live.get("base").and_then(serde_json::Value::as_bool) == Some(true)
    }

    fn live_to_spec(
        &self,
        live: &serde_json::Value,
        _lookups: &super::org::Lookups,
    ) -> serde_json::Value {
        let mut permissions: Vec<String> = Vec::new();
        for policy in
            live.get("permissionPolicies").and_then(|p| p.as_array()).into_iter().flatten()
        {
            let domain = policy.get("domain").and_then(|d| d.as_str()).unwrap_or_default();
            let entity = policy.get("entityName").and_then(|d| d.as_str()).unwrap_or_default();
            for action in policy.get("actionSet").and_then(|a| a.as_array()).into_iter().flatten() {
                if let Some(action) = action.as_str() {
                    permissions.push(format!("{domain}:{entity}:{action}"));
                }
            }
        }
        permissions.sort();
        permissions.dedup();
        let mut spec = serde_json::json!({ "name": live.get("name"), "permissions": permissions });
        if let Some(d) = live.get("description").filter(|d| !d.is_null()) {
            spec["description"] = d.clone();
        }
        spec
    }

    fn body(
        &self,
        desired: &serde_json::Value,
        live: Option<&serde_json::Value>,
        _ids: &dyn super::org::IdResolver,
    ) -> Result<serde_json::Value, super::org::BodyError> {
        let mut body =
            live.map_or_else(|| serde_json::json!({}), |l| super::org::writable(l, &ROLE_WRITABLE));
        body["name"] = desired["name"].clone();
        if let Some(d) = desired.get("description") {
            body["description"] = d.clone();
        }
        if let Some(perms) = desired.get("permissions").and_then(|p| p.as_array()) {
            let spec = RoleSpec {
                name: String::new(),
                description: None,
                permissions: perms.iter().filter_map(|p| p.as_str().map(str::to_string)).collect(),
            };
            let policies: Vec<serde_json::Value> = spec
                .policies()
                .into_iter()
                .map(|((domain, entity), actions)| {
                    serde_json::json!({"domain": domain, "entityName": entity, "actionSet": actions})
                })
                .collect();
            body["permissionPolicies"] = serde_json::Value::Array(policies);
            // The deprecated flat list would otherwise keep stale grants.
            if let Some(map) = body.as_object_mut() {
                map.remove("permissions");
            }
        }
        Ok(body)
    }

    fn set_pointers(&self) -> &'static [&'static str] {
        &["/permissions"]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_group_into_policies() {
        let role = RoleSpec {
            name: "r".into(),
            description: None,
            permissions: vec![
                "conversation:message:create".into(),
                "conversation:message:view".into(),
                "routing:queue:*".into(),
            ],
        };
        let policies = role.policies();
        assert_eq!(policies[&("conversation".into(), "message".into())], vec!["create", "view"]);
        assert_eq!(policies[&("routing".into(), "queue".into())], vec!["*"]);
        assert!(parse_permission("a:b").is_none());
        assert!(parse_permission("*:b:c").is_none());
        assert!(parse_permission("a:b:c:d").is_none());
    }
}
