//! `UserRoutingProfile`: the routing skills and languages an existing user
//! (an agent) holds, with proficiencies (API reference §i, "Users (lookup
//! only) and their routing skills and languages"). It is what skill and
//! language routing needs: a hand-over that asks for a skill and a language
//! reaches only agents who hold them.
//!
//! The user is found by `email` (once per run, with the other declared
//! emails, through the users search) and never created or changed: an
//! unknown or inactive email is a plan error. So a profile is never created
//! or deleted either, only updated; its live object is the user found by
//! email (the users collection is never listed: [`ApiPaths::listed`] is
//! off), and its skills and languages are read for declared profiles only
//! (`GET /api/v2/users/{id}/routingskills` and `…/routinglanguages`, 100 a
//! page; the provider reads with 50 and the maximum is UNVERIFIED).
//!
//! `assignment` decides what happens to skills and languages the user holds
//! but the profile does not list: `include` (the default) keeps them, `exact`
//! removes them. A list left out (`skills` or `languages`) is not managed.
//! Writes follow the provider (TF `user/resource_genesyscloud_user_utils.go`
//! updateUserRoutingSkills, updateUserRoutingLanguages): removals one at a
//! time (`DELETE …/routingskills/{skillId}`, `…/routinglanguages/{languageId}`),
//! then additions and changed proficiencies with `PATCH …/bulk`, 50 a call
//! ("Bulk API restricts skills adds to 50 per call"; "Max 50 routing
//! languages in request body", PY). Like the provider, gcctl retries these
//! writes on a version conflict (409: "does not match the current version",
//! the user was changed concurrently) with backoff for up to
//! [`crate::apply::ops::CONFLICT_WINDOW`]; both writes are idempotent (a
//! bulk PATCH sets proficiencies, a DELETE of what is gone is skipped), so a
//! retry never doubles anything. A conflict that outlasts the window fails
//! the change, naming the call and its correlation id.
//!
//! Profiles are not exported: exporting them would read every user's skills
//! and languages.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::org::{
    ApiPaths, BodyError, Call, Details, Hook, IdResolver, Lookups, OrgKind, UpdateMethod,
    name_or_id,
};
use super::{Kind, KindDef, RefTarget, Reference, Spec, downcast, parse_spec, schema_of, spec_boilerplate};
use crate::apply::ops::{Op, OpError};
use crate::export::ExportCx;
use crate::manifest::diag::Findings;
use crate::plan::{Action, Change, ReadError};

/// An existing user's routing skills and languages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserRoutingProfileSpec {
    /// The user's email (its natural key here, compared case-insensitively).
    /// The user must exist and be active: gcctl never creates users.
    pub email: String,
    /// What happens to skills and languages the user holds that are not
    /// listed: `include` (the default) keeps them, `exact` removes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment: Option<AssignmentPolicy>,
    /// Routing skills, by name (a `RoutingSkill` manifest or a skill of the
    /// org), each with a proficiency. Left out: not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skills: Option<Vec<Proficiency>>,
    /// Routing languages, by name (a `RoutingLanguage` manifest or a
    /// language of the org), each with a proficiency. Left out: not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<Proficiency>>,
}

/// What `skills` and `languages` mean for what the user holds besides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AssignmentPolicy {
    /// Add and update the listed ones; keep the others.
    Include,
    /// Add and update the listed ones; remove the others.
    Exact,
}

/// A skill or language held with a proficiency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Proficiency {
    /// The skill's or language's name.
    pub name: String,
    /// From 0 to 5.
    #[schemars(range(min = 0.0, max = 5.0))]
    pub proficiency: f64,
}

impl Spec for UserRoutingProfileSpec {
    fn kind(&self) -> Kind {
        Kind::UserRoutingProfile
    }

    fn org_name(&self) -> Option<&str> {
        Some(&self.email)
    }

    fn references(&self) -> Vec<Reference> {
        let mut refs = vec![Reference {
            pointer: "/spec/email".into(),
            target: RefTarget::User,
            name: self.email.clone(),
        }];
        for (field, kind, list) in LISTS.iter().map(|(f, k)| (f, k, self.list(f))) {
            for (i, item) in list.into_iter().flatten().enumerate() {
                refs.push(Reference {
                    pointer: format!("/spec/{field}/{i}/name"),
                    target: RefTarget::Kind(*kind),
                    name: item.name.clone(),
                });
            }
        }
        refs
    }

    fn check(&self, findings: &mut Findings) {
        let email = self.email.trim();
        if email.is_empty() || !email.contains('@') || email != self.email {
            findings.error("/spec/email", format!("`{}` is not an email address", self.email));
        }
        for (field, _) in LISTS {
            let mut seen = BTreeSet::new();
            for (i, item) in self.list(field).into_iter().flatten().enumerate() {
                let at = format!("/spec/{field}/{i}");
                if !seen.insert(&item.name) {
                    findings.error(format!("{at}/name"), format!("`{}` is listed twice", item.name));
                }
                if !(0.0..=5.0).contains(&item.proficiency) {
                    findings.error(
                        format!("{at}/proficiency"),
                        format!("{} is out of range: a proficiency is between 0 and 5", item.proficiency),
                    );
                }
            }
        }
        if self.assignment.is_some() && self.skills.is_none() && self.languages.is_none() {
            findings.error_with_hint(
                "/spec/assignment",
                "`assignment` applies to `skills` and `languages`, and neither is declared",
                "declare the skills or languages, or remove `assignment`",
            );
        }
    }

    spec_boilerplate!();
}

impl UserRoutingProfileSpec {
    fn list(&self, field: &str) -> Option<&Vec<Proficiency>> {
        if field == "skills" { self.skills.as_ref() } else { self.languages.as_ref() }
    }
}

/// The two lists: spec field and the kind its names refer to.
const LISTS: [(&str, Kind); 2] = [("skills", Kind::RoutingSkill), ("languages", Kind::RoutingLanguage)];

pub const DEF: KindDef = KindDef {
    summary: "An existing user's routing skills and languages with proficiencies, by email.",
    order: 20,
    export_file: Some("user-routing-profiles.yaml"),
    parse: parse_spec::<UserRoutingProfileSpec>,
    schema: schema_of::<UserRoutingProfileSpec>,
    org: Some(&Org),
};

/// The org side of `UserRoutingProfile`.
pub struct Org;

/// How one list lives in the API.
struct Api {
    field: &'static str,
    /// Live object key of what was read.
    key: &'static str,
    segment: &'static str,
    target: RefTarget,
    /// The template of one entry, for the permission check.
    item: &'static str,
}

const APIS: [Api; 2] = [
    Api {
        field: "skills",
        key: "gcctl:skills",
        segment: "routingskills",
        target: RefTarget::Kind(Kind::RoutingSkill),
        item: "/api/v2/users/{userId}/routingskills/{skillId}",
    },
    Api {
        field: "languages",
        key: "gcctl:languages",
        segment: "routinglanguages",
        target: RefTarget::Kind(Kind::RoutingLanguage),
        item: "/api/v2/users/{userId}/routinglanguages/{languageId}",
    },
];

/// Entries per bulk PATCH (see the module docs).
const BATCH: usize = 50;

impl Api {
    fn path(&self, user: &str) -> String {
        format!("/api/v2/users/{user}/{}", self.segment)
    }

    fn list_template(&self) -> &'static str {
        if self.field == "skills" {
            "/api/v2/users/{userId}/routingskills"
        } else {
            "/api/v2/users/{userId}/routinglanguages"
        }
    }

    fn bulk_template(&self) -> &'static str {
        if self.field == "skills" {
            "/api/v2/users/{userId}/routingskills/bulk"
        } else {
            "/api/v2/users/{userId}/routinglanguages/bulk"
        }
    }
}

fn declares(spec: Option<&UserRoutingProfileSpec>, field: &str) -> bool {
    spec.is_none_or(|s| s.list(field).is_some())
}

impl OrgKind for Org {
    // Never exported (`not_exported`).
    fn export_refers_to(&self) -> &'static [RefTarget] {
        &[]
    }


    fn destroyable(&self) -> bool {
        false
    }

    fn api(&self) -> ApiPaths {
        // The users collection: never listed (see the module docs); PATCH
        // names the kind's writes, which go to the sub-resources.
        ApiPaths::new("/api/v2/users", UpdateMethod::Patch).paged(100).not_listed()
    }

    fn live_from_lookups(&self, declared: &[&dyn Spec], lookups: &Lookups) -> Vec<Value> {
        declared
            .iter()
            .filter_map(|spec| downcast::<UserRoutingProfileSpec>(*spec))
            .filter_map(|spec| {
                let id = lookups.id_of(RefTarget::User, &spec.email)?;
                Some(json!({ "id": id, "name": spec.email }))
            })
            .collect()
    }

    fn details_needed(&self, declared: Option<&dyn Spec>) -> bool {
        declared.and_then(downcast::<UserRoutingProfileSpec>).is_some_and(|s| {
            s.skills.is_some() || s.languages.is_some()
        })
    }

    fn read_details<'a>(
        &'a self,
        client: &'a crate::api::Client,
        live: &'a Value,
        declared: Option<&'a dyn Spec>,
        _lookups: &'a Lookups,
    ) -> Details<'a> {
        Box::pin(async move {
            let spec = declared.and_then(downcast::<UserRoutingProfileSpec>);
            let mut out = Map::new();
            let Some(user) = live.get("id").and_then(Value::as_str) else { return Ok(out) };
            let email = live.get("name").and_then(Value::as_str).unwrap_or(user);
            for api in APIS.iter().filter(|api| declares(spec, api.field)) {
                let held = client.list_all(&api.path(user), &[], 100).await.map_err(|source| {
                    ReadError { what: format!("the routing {} of user `{email}`", api.field), source }
                })?;
                let mut held: Vec<Value> = held
                    .iter()
                    .filter(|e| e.get("state").and_then(Value::as_str) != Some("deleted"))
                    .filter_map(|e| {
                        Some(json!({"id": e.get("id")?, "name": e.get("name"), "proficiency": e.get("proficiency")}))
                    })
                    .collect();
                held.sort_by_key(Value::to_string);
                out.insert(api.key.into(), Value::Array(held));
            }
            Ok(out)
        })
    }

    fn live_to_spec(&self, live: &Value, lookups: &Lookups) -> Value {
        let mut spec = json!({ "email": live.get("name").cloned().unwrap_or(Value::Null) });
        for api in &APIS {
            let Some(held) = live.get(api.key).and_then(Value::as_array) else { continue };
            let mut items: Vec<Value> = held
                .iter()
                .filter_map(|e| {
                    let id = e.get("id")?.as_str()?;
                    let embedded = e.get("name").and_then(Value::as_str);
                    let name = name_or_id(lookups.name_of(api.target, id).or(embedded), id);
                    Some(json!({ "name": name, "proficiency": e.get("proficiency") }))
                })
                .collect();
            items.sort_by_key(Value::to_string);
            spec[api.field] = Value::Array(items);
        }
        // Proficiencies are floats in the API: `4.0` reads as `4`, as declared.
        super::org::whole_numbers(&mut spec);
        spec
    }

    /// With `include`, what the user holds beyond the listed ones is not
    /// compared; the policy itself is never a difference.
    fn align_live(&self, desired: &Value, live: &mut Value, _lookups: &Lookups) {
        if let Some(policy) = desired.get("assignment") {
            live["assignment"] = policy.clone();
        }
        let exact = desired.get("assignment").and_then(Value::as_str) == Some("exact");
        if exact {
            return;
        }
        for api in &APIS {
            let Some(wanted) = desired.get(api.field).and_then(Value::as_array) else { continue };
            let names: Vec<&Value> = wanted.iter().filter_map(|w| w.get("name")).collect();
            if let Some(Value::Array(held)) = live.get_mut(api.field) {
                held.retain(|h| h.get("name").is_some_and(|n| names.contains(&n)));
            }
        }
    }

    fn set_pointers(&self) -> &'static [&'static str] {
        &["/skills", "/languages"]
    }

    /// Never used: a profile is never created (its user must exist).
    fn body(
        &self,
        _desired: &Value,
        _live: Option<&Value>,
        _ids: &dyn IdResolver,
    ) -> Result<Value, BodyError> {
        Err(BodyError::Shape("a user routing profile is never created: its user must exist".into()))
    }

    fn update<'a>(&'a self, op: &'a Op<'a>, id: &'a str) -> Hook<'a, Vec<String>> {
        Box::pin(async move {
            let mut notes = Vec::new();
            for api in APIS.iter().filter(|api| op.changed(&format!("/{}", api.field)) || op.changed("/assignment")) {
                notes.extend(apply_list(op, api, id).await?);
            }
            Ok(notes)
        })
    }

    fn calls(&self, change: &Change, _desired: &Value) -> Vec<Call> {
        if change.action != Action::Update {
            return Vec::new();
        }
        let mut calls = Vec::new();
        for api in &APIS {
            let prefix = format!("/{}", api.field);
            if change.fields.iter().any(|f| f.pointer == prefix || f.pointer.starts_with(&format!("{prefix}/"))) {
                calls.extend([("GET", api.list_template()), ("PATCH", api.bulk_template()), ("DELETE", api.item)]);
            }
        }
        calls
    }

    fn export(&self, _spec: &mut Value, _cx: &mut ExportCx<'_>) -> Result<(), String> {
        Err("user routing profiles are not exported".into())
    }

    fn not_exported(&self) -> Option<&'static str> {
        Some("user routing profiles are not exported: that would read every user's skills and languages; declare the agents you manage")
    }
}

/// Bring one list (skills or languages) to the desired state.
async fn apply_list(op: &Op<'_>, api: &Api, user: &str) -> Result<Vec<String>, OpError> {
    let Some(declared) = op.desired.get(api.field).and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    let exact = op.desired.get("assignment").and_then(Value::as_str) == Some("exact");
    let ids = op.ids();
    let mut wanted: BTreeMap<String, f64> = BTreeMap::new();
    for item in declared {
        let name = item.get("name").and_then(Value::as_str).unwrap_or_default();
        let id = ids.id(api.target, name).ok_or_else(|| op.fail(format!("{} `{name}` has no id", api.target)))?;
        wanted.insert(id, item.get("proficiency").and_then(Value::as_f64).unwrap_or(0.0));
    }
    let path = api.path(user);
    let held: BTreeMap<String, f64> = op
        .list_all(&path, &[], 100, &format!("reading the routing {} of", api.field))
        .await?
        .iter()
        .filter(|e| e.get("state").and_then(Value::as_str) != Some("deleted"))
        .filter_map(|e| Some((e.get("id")?.as_str()?.to_string(), e.get("proficiency")?.as_f64()?)))
        .collect();
    let removes: Vec<&String> =
        if exact { held.keys().filter(|id| !wanted.contains_key(*id)).collect() } else { Vec::new() };
    let upserts: Vec<(&String, &f64)> = wanted
        .iter()
        .filter(|(id, p)| held.get(*id).is_none_or(|h| (h - **p).abs() > f64::EPSILON))
        .collect();
    for id in &removes {
        let doing = format!("removing a routing {} from", api.field);
        match op.delete_retrying_conflicts(&format!("{path}/{id}"), &doing).await {
            Err(OpError::Api { source, .. }) if source.is_not_found() => {}
            other => other?,
        }
    }
    for batch in upserts.chunks(BATCH) {
        let body: Vec<Value> = batch.iter().map(|(id, p)| json!({ "id": id, "proficiency": p })).collect();
        let doing = format!("assigning routing {} to", api.field);
        op.patch_retrying_conflicts(&format!("{path}/bulk"), &Value::Array(body), &doing).await?;
    }
    let what = if api.field == "skills" { "skill" } else { "language" };
    let mut parts = Vec::new();
    if !upserts.is_empty() {
        parts.push(format!("assigned {} {what}{}", upserts.len(), if upserts.len() == 1 { "" } else { "s" }));
    }
    if !removes.is_empty() {
        parts.push(format!("removed {} {what}{}", removes.len(), if removes.len() == 1 { "" } else { "s" }));
    }
    Ok(if parts.is_empty() { Vec::new() } else { vec![parts.join(", ")] })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live() -> Value {
        json!({"id": "u1", "name": "alice@example.com",
            "gcctl:skills": [{"id": "s1", "name": "Billing", "proficiency": 3.0}, {"id": "s2", "name": "Sales", "proficiency": 1.0}],
            "gcctl:languages": [{"id": "l1", "name": "English", "proficiency": 5.0}]})
    }

    #[test]
    fn include_compares_the_listed_ones_and_exact_everything() {
        let lookups = Lookups::default();
        let desired = json!({"email": "alice@example.com", "skills": [{"name": "Billing", "proficiency": 3}]});
        let mut spec = Org.live_to_spec(&live(), &lookups);
        Org.align_live(&desired, &mut spec, &lookups);
        assert_eq!(spec["skills"], json!([{"name": "Billing", "proficiency": 3}]));
        let options = crate::plan::diff::DiffOptions { sets: Org.set_pointers(), ..Default::default() };
        assert!(crate::plan::diff::diff(&desired, &spec, &options).is_empty());
        let exact = json!({"email": "alice@example.com", "assignment": "exact",
            "skills": [{"name": "Billing", "proficiency": 3}]});
        let mut spec = Org.live_to_spec(&live(), &lookups);
        Org.align_live(&exact, &mut spec, &lookups);
        let changes = crate::plan::diff::diff(&exact, &spec, &options);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].pointer, "/skills");
    }

    #[test]
    fn the_live_profile_is_the_user_found_by_email() {
        let mut lookups = Lookups::default();
        lookups.insert(RefTarget::User, "u1", "alice@example.com");
        let spec = UserRoutingProfileSpec {
            email: "Alice@Example.com".into(),
            assignment: None,
            skills: None,
            languages: None,
        };
        let unknown = UserRoutingProfileSpec { email: "bob@example.com".into(), ..spec.clone() };
        let live = Org.live_from_lookups(&[&spec, &unknown], &lookups);
        assert_eq!(live, vec![json!({"id": "u1", "name": "Alice@Example.com"})]);
    }
}
