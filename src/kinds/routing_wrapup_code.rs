//! `RoutingWrapupCode`: a wrap-up code of the org
//! (`/api/v2/routing/wrapupcodes`, API reference §i), what agents pick when
//! they finish a conversation. A queue offers codes through its
//! `wrapupCodes` (see `RoutingQueue`).
//!
//! Created with POST and updated with PUT (`WrapupCodeRequest`: `name`,
//! `description`, `division`); PUT replaces the whole code, so gcctl sends
//! the live code's writable fields with the declared ones merged in. The
//! `division` is a division by name, or `*` for all divisions. A code created
//! without one belongs to all divisions, as the Terraform provider documents
//! ("If not set, * will be used to indicate all divisions", TF
//! `routing_wrapupcode/…_schema.go`); on an existing code an undeclared
//! division is not managed. What GET shows for an all-divisions code is
//! UNVERIFIED, so a missing division, a null one and `{"id": "*"}` all read
//! as `*`. Listed 100 a page (the provider's size; the maximum is
//! UNVERIFIED); the `name` filter is fuzzy, so names are matched exactly.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::common::check_org_name;
use super::org::{
    ApiPaths, BodyError, IdResolver, Lookups, OrgKind, UpdateMethod, id_ref, project, ref_name,
    require_id, writable,
};
use super::{Kind, KindDef, RefTarget, Reference, Spec, parse_spec, schema_of, spec_boilerplate};
use crate::export::ExportCx;
use crate::manifest::diag::Findings;

/// The `division` value that means every division.
pub const ALL_DIVISIONS: &str = "*";

/// A wrap-up code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoutingWrapupCodeSpec {
    /// The code's name in the org (its natural key).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The division, by name, or `*` for all divisions. A code created
    /// without one belongs to all divisions; on an existing code an
    /// undeclared division is left as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<String>,
}

impl Spec for RoutingWrapupCodeSpec {
    fn kind(&self) -> Kind {
        Kind::RoutingWrapupCode
    }

    fn org_name(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn references(&self) -> Vec<Reference> {
        match self.division.as_deref() {
            Some(name) if name != ALL_DIVISIONS => vec![Reference {
                pointer: "/spec/division".into(),
                target: RefTarget::Division,
                name: name.to_string(),
            }],
            _ => Vec::new(),
        }
    }

    fn check(&self, findings: &mut Findings) {
        check_org_name(findings, "/spec/name", &self.name);
    }

    spec_boilerplate!();
}

pub const DEF: KindDef = KindDef {
    summary: "A wrap-up code agents pick when they finish a conversation (in one division or all).",
    order: 15,
    export_file: Some("wrapup-codes.yaml"),
    parse: parse_spec::<RoutingWrapupCodeSpec>,
    schema: schema_of::<RoutingWrapupCodeSpec>,
    org: Some(&Org),
};

/// The org side of `RoutingWrapupCode`.
pub struct Org;

/// Whether a live code's division means all divisions.
fn all_divisions(live: &Value) -> bool {
    match live.get("division") {
        None | Some(Value::Null) => true,
        Some(division) => division.get("id").and_then(Value::as_str) == Some(ALL_DIVISIONS),
    }
}

impl OrgKind for Org {
    fn export_refers_to(&self) -> &'static [RefTarget] {
        &[RefTarget::Division]
    }


    fn division_scope(&self) -> Option<super::org::DivisionScope> {
        Some(super::org::DivisionScope {
            entity: "routing:wrapupCode",
            default: super::org::DefaultDivision::All,
        })
    }

    /// The sandbox takes a deleted code off every queue; a real org may
    /// refuse the delete while a queue offers the code instead (UNVERIFIED).
    fn deleting_also(&self) -> Option<&'static str> {
        Some("off every queue that offers it, queues no manifest declares included (a real org may refuse the delete instead while a queue offers it: unverified)")
    }

    fn api(&self) -> ApiPaths {
        ApiPaths::new("/api/v2/routing/wrapupcodes", UpdateMethod::Put).paged(100).name_filter()
    }

    fn live_to_spec(&self, live: &Value, lookups: &Lookups) -> Value {
        let mut spec = project::<RoutingWrapupCodeSpec>(live);
        spec.as_object_mut().map(|s| s.remove("division"));
        let division = if all_divisions(live) {
            Some(json!(ALL_DIVISIONS))
        } else {
            ref_name(live, "division", lookups, RefTarget::Division)
        };
        if let Some(division) = division {
            spec["division"] = division;
        }
        spec
    }

    fn body(
        &self,
        desired: &Value,
        live: Option<&Value>,
        ids: &dyn IdResolver,
    ) -> Result<Value, BodyError> {
        // PUT replaces the code: start from its writable fields, the
        // division as `{id}` only (`WritableStarrableDivision.selfUri` is
        // read-only).
        let mut body = live.map_or_else(|| json!({}), |l| writable(l, &["description"]));
        if let Some(id) = live.and_then(|l| l.pointer("/division/id")).and_then(Value::as_str) {
            body["division"] = id_ref(id);
        }
        body["name"] = desired.get("name").cloned().unwrap_or(Value::Null);
        if let Some(description) = desired.get("description") {
            body["description"] = description.clone();
        }
        match desired.get("division").and_then(Value::as_str) {
            Some(ALL_DIVISIONS) => body["division"] = id_ref(ALL_DIVISIONS),
            Some(name) => {
                body["division"] =
                    id_ref(&require_id(ids, RefTarget::Division, name, "/division")?);
            }
            None => {}
        }
        Ok(body)
    }

    /// The all-divisions default is what a create without a division
    /// gives: left out of exports.
    fn export(&self, spec: &mut Value, _cx: &mut ExportCx<'_>) -> Result<(), String> {
        if spec.get("division").and_then(Value::as_str) == Some(ALL_DIVISIONS) {
            spec.as_object_mut().map(|s| s.remove("division"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_all_divisions_code_reads_as_star_however_the_api_shows_it() {
        let lookups = Lookups::default();
        for live in [
            json!({"id": "1", "name": "Sale"}),
            json!({"id": "1", "name": "Sale", "division": null}),
            json!({"id": "1", "name": "Sale", "division": {"id": "*", "name": "*"}}),
        ] {
            assert_eq!(Org.live_to_spec(&live, &lookups), json!({"name": "Sale", "division": "*"}));
        }
    }

    #[test]
    fn put_bodies_keep_the_live_division_as_an_id_unless_declared() {
        let mut lookups = Lookups::default();
        lookups.insert(RefTarget::Division, "d2", "Operations");
        let live = json!({"id": "1", "name": "Sale", "description": "old",
            "division": {"id": "d1", "name": "Home", "selfUri": "/x"}, "selfUri": "/y"});
        let body = Org.body(&json!({"name": "Sale"}), Some(&live), &lookups).unwrap();
        assert_eq!(body, json!({"name": "Sale", "description": "old", "division": {"id": "d1"}}));
        let desired = json!({"name": "Sale", "division": "Operations"});
        let body = Org.body(&desired, Some(&live), &lookups).unwrap();
        assert_eq!(body["division"], json!({"id": "d2"}));
        let desired = json!({"name": "Sale", "division": "*"});
        assert_eq!(Org.body(&desired, None, &lookups).unwrap(), json!({"name": "Sale", "division": {"id": "*"}}));
    }
}
