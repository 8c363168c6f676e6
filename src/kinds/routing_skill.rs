//! `RoutingSkill`: an ACD skill of the org (`/api/v2/routing/skills`, API
//! reference §i), what agents hold with a proficiency (see
//! `UserRoutingProfile`) and conversations ask for.
//!
//! Created with POST (`CreateRoutingSkill` `{name, divisionId}`); the only
//! change the API allows is the division: `PATCH /routing/skills/{id}` takes
//! `UpdateSkillDivisionRequest` `{divisionId}` ("Update Routing Skill
//! Division", PY). There is no rename: the name is the skill's natural key,
//! so a manifest that changes it declares another skill. The plan creates
//! the new one, and deletes the old one only when it falls in a prune scope
//! (`apply --prune`): a rename is a replacement, shown as a create plus a
//! delete, and agents' proficiencies on the old skill are not moved (the
//! Terraform provider makes `name` `ForceNew` for the same reason, TF
//! `routing_skill/…_schema.go`).
//!
//! Deletes are soft: a deleted skill stays in lists and GETs with `state:
//! "deleted"` (the provider treats it as gone and its export drops it, TF
//! `routing_skill/resource_genesyscloud_routing_skill.go`), so gcctl ignores
//! such entries: they are never matched, pruned or exported. Listed 500 a
//! page (the provider's size; the maximum is UNVERIFIED); the `name` filter
//! is a prefix, so names are matched exactly.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::common::check_org_name;
use super::org::{
    ApiPaths, BodyError, Hook, IdResolver, Lookups, OrgKind, UpdateMethod, not_soft_deleted,
    project, ref_name, require_id,
};
use super::{Kind, KindDef, RefTarget, Reference, Spec, parse_spec, schema_of, spec_boilerplate};
use crate::apply::ops::Op;
use crate::manifest::diag::Findings;

/// A routing skill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoutingSkillSpec {
    /// The skill's name in the org (its natural key; skills cannot be
    /// renamed: another name is another skill).
    pub name: String,
    /// The division, by name (changed in place with PATCH).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<String>,
}

impl Spec for RoutingSkillSpec {
    fn kind(&self) -> Kind {
        Kind::RoutingSkill
    }

    fn org_name(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn references(&self) -> Vec<Reference> {
        self.division
            .iter()
            .map(|name| Reference {
                pointer: "/spec/division".into(),
                target: RefTarget::Division,
                name: name.clone(),
            })
            .collect()
    }

    fn check(&self, findings: &mut Findings) {
        check_org_name(findings, "/spec/name", &self.name);
    }

    spec_boilerplate!();
}

pub const DEF: KindDef = KindDef {
    summary: "An ACD routing skill (cannot be renamed: another name is another skill).",
    order: 15,
    export_file: Some("skills.yaml"),
    parse: parse_spec::<RoutingSkillSpec>,
    schema: schema_of::<RoutingSkillSpec>,
    org: Some(&Org),
};

/// The org side of `RoutingSkill`.
pub struct Org;

impl Org {
    fn division_id(desired: &Value, ids: &dyn IdResolver) -> Result<Option<String>, BodyError> {
        match desired.get("division").and_then(Value::as_str) {
            Some(name) => Ok(Some(require_id(ids, RefTarget::Division, name, "/division")?)),
            None => Ok(None),
        }
    }
}

impl OrgKind for Org {
    fn export_refers_to(&self) -> &'static [RefTarget] {
        &[RefTarget::Division]
    }


    fn division_scope(&self) -> Option<super::org::DivisionScope> {
        Some(super::org::DivisionScope {
            entity: "routing:skill",
            default: super::org::DefaultDivision::Home,
        })
    }

    /// Deleting a skill takes it off every user who has it (the sandbox
    /// does so; UNVERIFIED for a real org).
    fn deleting_also(&self) -> Option<&'static str> {
        Some("off every user who has it, users no manifest declares included")
    }

    fn api(&self) -> ApiPaths {
        ApiPaths::new("/api/v2/routing/skills", UpdateMethod::Patch).paged(500).name_filter()
    }

    fn is_live(&self, listed: &Value) -> bool {
        not_soft_deleted(listed)
    }

    fn live_to_spec(&self, live: &Value, lookups: &Lookups) -> Value {
        let mut spec = project::<RoutingSkillSpec>(live);
        spec.as_object_mut().map(|s| s.remove("division"));
        if let Some(division) = ref_name(live, "division", lookups, RefTarget::Division) {
            spec["division"] = division;
        }
        spec
    }

    /// The create body, `CreateRoutingSkill`.
    fn body(
        &self,
        desired: &Value,
        _live: Option<&Value>,
        ids: &dyn IdResolver,
    ) -> Result<Value, BodyError> {
        let mut body = json!({ "name": desired.get("name").cloned().unwrap_or(Value::Null) });
        if let Some(division) = Org::division_id(desired, ids)? {
            body["divisionId"] = json!(division);
        }
        Ok(body)
    }

    fn write_adopted<'a>(&'a self, _op: &'a Op<'a>, _id: &'a str) -> Hook<'a, bool> {
        // Only the division can change, by its own PATCH (`update`): a
        // plan shows a division that differs.
        Box::pin(async { Ok(false) })
    }

    /// The division is all that can change: `PATCH {divisionId}`.
    fn update<'a>(&'a self, op: &'a Op<'a>, id: &'a str) -> Hook<'a, Vec<String>> {
        Box::pin(async move {
            let division = Org::division_id(&op.desired, &op.ids())?
                .ok_or_else(|| op.fail("only the division of a skill can change"))?;
            op.write(id, &json!({ "divisionId": division })).await?;
            Ok(Vec::new())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_deleted_skills_are_not_live() {
        assert!(Org.is_live(&json!({"id": "1", "name": "A", "state": "active"})));
        assert!(Org.is_live(&json!({"id": "1", "name": "A"})));
        assert!(!Org.is_live(&json!({"id": "1", "name": "A", "state": "deleted"})));
    }

    #[test]
    fn creates_send_the_division_id() {
        let mut lookups = Lookups::default();
        lookups.insert(RefTarget::Division, "d1", "Home");
        let body = Org.body(&json!({"name": "Billing", "division": "Home"}), None, &lookups);
        assert_eq!(body.unwrap(), json!({"name": "Billing", "divisionId": "d1"}));
    }
}
