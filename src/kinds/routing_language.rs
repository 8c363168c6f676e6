//! `RoutingLanguage`: a routing language of the org
//! (`/api/v2/routing/languages`, API reference §i), what agents hold with a
//! proficiency (see `UserRoutingProfile`) and conversations ask for.
//!
//! A language is its name: created with POST (`Language` `{name}`), never
//! updated (the API has no PUT or PATCH; the Terraform provider makes `name`
//! `ForceNew`), so another name is another language, and a rename is a
//! replacement as for skills (a create, and a delete inside a prune scope).
//! Deletes are soft: deleted languages stay in lists with `state:
//! "deleted"` and are ignored (TF `routing_language/…`). Reading languages
//! needs no permission (.NET docs); listed 100 a page (the provider's size;
//! the maximum is UNVERIFIED); names are matched exactly.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::common::check_org_name;
use super::org::{
    ApiPaths, BodyError, Hook, IdResolver, Lookups, OrgKind, UpdateMethod, not_soft_deleted,
    project,
};
use super::{Kind, KindDef, Spec, parse_spec, schema_of, spec_boilerplate};
use crate::apply::ops::Op;
use crate::manifest::diag::Findings;

/// A routing language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoutingLanguageSpec {
    /// The language's name in the org (its natural key, and all there is to
    /// it: languages are never updated).
    pub name: String,
}

impl Spec for RoutingLanguageSpec {
    fn kind(&self) -> Kind {
        Kind::RoutingLanguage
    }

    fn org_name(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn check(&self, findings: &mut Findings) {
        check_org_name(findings, "/spec/name", &self.name);
    }

    spec_boilerplate!();
}

pub const DEF: KindDef = KindDef {
    summary: "A routing language (never updated: another name is another language).",
    order: 15,
    export_file: Some("languages.yaml"),
    parse: parse_spec::<RoutingLanguageSpec>,
    schema: schema_of::<RoutingLanguageSpec>,
    org: Some(&Org),
};

/// The org side of `RoutingLanguage`.
pub struct Org;

impl OrgKind for Org {
    fn export_refers_to(&self) -> &'static [super::RefTarget] {
        &[]
    }


    /// Deleting a language takes it off every user who has it (the sandbox
    /// does so; UNVERIFIED for a real org).
    fn deleting_also(&self) -> Option<&'static str> {
        Some("off every user who has it, users no manifest declares included")
    }

    fn api(&self) -> ApiPaths {
        // No update endpoint exists; `update` below never writes.
        ApiPaths::new("/api/v2/routing/languages", UpdateMethod::Patch).paged(100).name_filter()
    }

    fn is_live(&self, listed: &Value) -> bool {
        not_soft_deleted(listed)
    }

    fn live_to_spec(&self, live: &Value, _lookups: &Lookups) -> Value {
        project::<RoutingLanguageSpec>(live)
    }

    fn body(
        &self,
        desired: &Value,
        _live: Option<&Value>,
        _ids: &dyn IdResolver,
    ) -> Result<Value, BodyError> {
        Ok(json!({ "name": desired.get("name").cloned().unwrap_or(Value::Null) }))
    }

    fn write_adopted<'a>(&'a self, _op: &'a Op<'a>, _id: &'a str) -> Hook<'a, bool> {
        // A language has nothing but its name.
        Box::pin(async { Ok(false) })
    }

    /// Never planned: a language's only field is its name, its key.
    fn update<'a>(&'a self, op: &'a Op<'a>, _id: &'a str) -> Hook<'a, Vec<String>> {
        Box::pin(async move { Err(op.fail("routing languages cannot be updated")) })
    }

    fn calls(&self, change: &crate::plan::Change, desired: &Value) -> Vec<super::org::Call> {
        // No PATCH endpoint to check permissions of.
        let mut calls = super::org::generic_calls(&self.api(), change, desired);
        calls.retain(|(method, _)| *method != "PATCH");
        calls
    }
}
