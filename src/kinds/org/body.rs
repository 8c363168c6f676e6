//! Helpers the kinds share to turn a desired spec into a request body and a
//! live object into spec space: typed reads of the desired value, `{id}`
//! references, nulls and whole numbers, the merge before a PUT.

use serde_json::{Map, Value};

use super::{IdResolver, Lookups};
use crate::kinds::RefTarget;

/// A reference that could not be resolved to an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{target} `{name}` (at {pointer}) does not exist in the org")]
pub struct UnresolvedRef {
    pub pointer: String,
    pub target: RefTarget,
    pub name: String,
}

/// Why a request body cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error(transparent)]
    Unresolved(#[from] UnresolvedRef),
    /// The desired value does not read as the kind's spec (a bug: desired
    /// values come from validated specs).
    #[error("the desired state does not read as the kind's spec: {0}")]
    Shape(String),
}

/// Read a desired (spec-shaped) value as the typed spec it came from.
pub fn typed<T: serde::de::DeserializeOwned>(desired: &Value) -> Result<T, BodyError> {
    serde_json::from_value(desired.clone()).map_err(|e| BodyError::Shape(e.to_string()))
}

/// A typed request as the JSON body sent.
pub fn request_body<T: serde::Serialize>(request: &T) -> Result<Value, BodyError> {
    serde_json::to_value(request).map_err(|e| BodyError::Shape(e.to_string()))
}

/// A reference in a request body: the id alone (never a stale name or
/// `selfUri`, which are read-only).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IdRef {
    pub id: String,
}

/// Resolve a reference field or fail with its pointer.
pub fn require_id(
    ids: &dyn IdResolver,
    target: RefTarget,
    name: &str,
    pointer: &str,
) -> Result<String, UnresolvedRef> {
    ids.id(target, name).ok_or_else(|| UnresolvedRef {
        pointer: pointer.to_string(),
        target,
        name: name.to_string(),
    })
}

/// `{id}` for a reference field of a request body.
pub fn id_ref(id: &str) -> Value {
    serde_json::json!({ "id": id })
}

/// The name of the object an `{id}` reference field of a live object points
/// at: from the lookups, else the name the API embeds in the reference. A
/// reference that cannot be named stays `{"id": ...}`, so it never passes
/// for a name in plans and always differs from a declared name.
pub fn ref_name(live: &Value, field: &str, lookups: &Lookups, target: RefTarget) -> Option<Value> {
    let reference = live.get(field)?;
    let id = reference.get("id")?.as_str()?;
    let embedded = reference.get("name").and_then(Value::as_str);
    Some(name_or_id(lookups.name_of(target, id).or(embedded), id))
}

/// A live reference as the spec shows it: the name, or `{"id": ...}` when
/// the object cannot be named.
pub fn name_or_id(name: Option<&str>, id: &str) -> Value {
    match name {
        Some(name) => Value::String(name.to_string()),
        None => serde_json::json!({ "id": id }),
    }
}
/// Remove `null` members recursively (serialized `Option::None` or API nulls).
pub fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// [`drop_nulls`], then [`whole_numbers`], in one walk: what a projected
/// live object and a desired spec both get. An object's nulls are removed
/// only when it has one (a projection seldom does: its `None`s are not
/// written); an export of 10,000 objects spends a third fewer instructions
/// here than in the two walks.
pub fn tidy(value: &mut Value) {
    match value {
        Value::Number(_) => whole_numbers(value),
        Value::Object(map) => {
            if map.values().any(Value::is_null) {
                map.retain(|_, v| !v.is_null());
            }
            map.values_mut().for_each(tidy);
        }
        Value::Array(items) => items.iter_mut().for_each(tidy),
        Value::Null | Value::Bool(_) | Value::String(_) => {}
    }
}

/// Whole numbers held as floats (`15.0`, from `f64` spec fields) become
/// integers, so that plans show what the manifest says (`15`). The diff
/// compares numbers by value either way.
pub fn whole_numbers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // Exactly representable integers only (|f| < 2^53).
            if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
                #[allow(clippy::cast_possible_truncation)]
                let whole = f as i64;
                *value = Value::from(whole);
            }
        }
        Value::Object(map) => map.values_mut().for_each(whole_numbers),
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// Deep-merge `patch` into `base`: objects merge key by key, anything else
/// replaces. Used before a PUT so that fields the manifest does not declare
/// keep their live values. A reference (an object with an `id`) replaces
/// whole: merging `{"id": new}` into a live `{"id", "name", "selfUri"}`
/// would send the old name and URI with the new id.
pub fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (key, value) in patch {
                let reference = value.get("id").is_some();
                match base.get_mut(key) {
                    Some(existing) if existing.is_object() && value.is_object() && !reference => {
                        merge(existing, value);
                    }
                    _ => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, patch) => *base = patch.clone(),
    }
}

/// Reduce every reference below the top level of a request body to
/// `{"id": ...}` (plus the `keep` keys, such as a member group's `type`): a
/// live object's references carry the target's `name` and a read-only
/// `selfUri` (NET `Model/DomainEntityRef.cs`), which a write must not send
/// back stale (the Terraform provider sends `{id}` only, e.g.
/// `buildSdkDefaultScriptsMap`). A reference is any nested object with a
/// string `id`; `selfUri` is dropped from every nested object.
pub fn id_references(body: &mut Value, keep: &[&str]) {
    fn reduce(value: &mut Value, keep: &[&str]) {
        match value {
            Value::Object(map) => {
                if map.get("id").is_some_and(Value::is_string) {
                    map.retain(|key, _| key == "id" || keep.contains(&key.as_str()));
                }
                map.remove("selfUri");
                map.values_mut().for_each(|v| reduce(v, keep));
            }
            Value::Array(items) => items.iter_mut().for_each(|v| reduce(v, keep)),
            _ => {}
        }
    }
    if let Value::Object(map) = body {
        map.values_mut().for_each(|v| reduce(v, keep));
    }
}
/// [`super::OrgKind::is_live`] of soft-deleting kinds: anything but `state: "deleted"`.
pub fn not_soft_deleted(listed: &Value) -> bool {
    listed.get("state").and_then(Value::as_str) != Some("deleted")
}

/// Keep only `fields` of a live object, as the writable base of a PUT body.
pub fn writable(live: &Value, fields: &[&str]) -> Value {
    let mut out = Map::new();
    if let Some(map) = live.as_object() {
        for field in fields {
            if let Some(v) = map.get(*field).filter(|v| !v.is_null()) {
                out.insert((*field).to_string(), v.clone());
            }
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tidy_is_drop_nulls_then_whole_numbers() {
        let samples = [
            serde_json::json!({"a": null, "b": 15.0, "c": [null, 2.5, 3.0, {"d": null, "e": 1e3}],
                "f": {"g": null}, "h": "x", "i": -0.0, "j": 9.007_199_254_740_992e15}),
            serde_json::json!([null, {"a": null}, 4.0]),
            serde_json::json!(null),
            serde_json::json!(7.0),
            serde_json::json!({"a": {"b": {"c": 1, "d": true}}}),
        ];
        for sample in samples {
            let (mut one, mut two) = (sample.clone(), sample.clone());
            tidy(&mut one);
            drop_nulls(&mut two);
            whole_numbers(&mut two);
            assert_eq!(one, two, "{sample}");
            // The same in kind too (an integer is not a float that equals it).
            assert_eq!(one.to_string(), two.to_string(), "{sample}");
        }
    }

    #[test]
    fn whole_floats_become_integers() {
        let mut value = json!({"a": [15.0, 0.8, -3.0], "b": 1e300, "c": "15.0", "d": 7});
        whole_numbers(&mut value);
        assert_eq!(value, json!({"a": [15, 0.8, -3], "b": 1e300, "c": "15.0", "d": 7}));
    }

    #[test]
    fn references_in_bodies_are_ids_only() {
        let mut body = json!({
            "id": "top", "name": "Q", "selfUri": "/q",
            "queueFlow": {"id": "f", "name": "Flow", "selfUri": "/f"},
            "defaultScripts": {"CALL": {"id": "s", "name": "Script", "versionId": "v", "selfUri": "/s"}},
            "memberGroups": [{"id": "g", "name": "G", "type": "GROUP", "memberCount": 3, "selfUri": "/g"}],
            "outboundMessagingAddresses": {"openMessagingRecipient": {"id": "r", "name": "R", "selfUri": "/r"}},
            "mediaSettings": {"call": {"alertingTimeoutSeconds": 8}},
        });
        id_references(&mut body, &["type"]);
        assert_eq!(
            body,
            json!({
                "id": "top", "name": "Q", "selfUri": "/q",
                "queueFlow": {"id": "f"},
                "defaultScripts": {"CALL": {"id": "s"}},
                "memberGroups": [{"id": "g", "type": "GROUP"}],
                "outboundMessagingAddresses": {"openMessagingRecipient": {"id": "r"}},
                "mediaSettings": {"call": {"alertingTimeoutSeconds": 8}},
            })
        );
    }

    #[test]
    fn references_replace_whole_when_merged() {
        let mut live = json!({"division": {"id": "old", "name": "Old", "selfUri": "/d/old"}});
        merge(&mut live, &json!({"division": {"id": "new"}}));
        assert_eq!(live, json!({"division": {"id": "new"}}));
    }

    #[test]
    fn merge_keeps_undeclared_fields() {
        let mut live = json!({"name": "Q", "mediaSettings": {"call": {"alertingTimeoutSeconds": 8, "enableAutoAnswer": true}}, "memberGroups": [1]});
        merge(&mut live, &json!({"mediaSettings": {"call": {"alertingTimeoutSeconds": 30}}}));
        assert_eq!(
            live,
            json!({"name": "Q", "mediaSettings": {"call": {"alertingTimeoutSeconds": 30, "enableAutoAnswer": true}}, "memberGroups": [1]})
        );
    }

    #[test]
    fn references_are_named_from_lookups_then_the_api_else_left_as_ids() {
        let mut lookups = Lookups::default();
        lookups.insert(RefTarget::Division, "d1", "Home");
        let live = json!({
            "known": {"id": "d1", "name": "Stale"},
            "embedded": {"id": "d2", "name": "Operations"},
            "bare": {"id": "d3"},
        });
        let name = |field| ref_name(&live, field, &lookups, RefTarget::Division);
        assert_eq!(name("known"), Some(json!("Home")));
        assert_eq!(name("embedded"), Some(json!("Operations")));
        assert_eq!(name("bare"), Some(json!({"id": "d3"})));
        assert_eq!(name("missing"), None);
        // An unnamed reference never equals a declared name.
        let changes = crate::plan::diff::diff(
            &json!({"division": "d3"}),
            &json!({"division": name("bare")}),
            &crate::plan::diff::DiffOptions::default(),
        );
        assert_eq!(changes.len(), 1);
    }
}
