//! The JSON Schema of the manifest format, generated from the Rust types so it
//! cannot drift from what the loader accepts. `schemas/gcctl.schema.json` is
//! the checked-in copy (a test fails when it is stale); editors use it through
//! `# yaml-language-server: $schema=...`.
//!
//! The loader substitutes `${var.NAME}` before it types a document (see
//! [`crate::manifest::vars`]), so the schema describes documents as written,
//! not as typed: wherever the loader would accept a variable, so does the
//! schema (see `accept_variables`). The Project is the exception: its own
//! document is never substituted, so its schema is left as generated.

use std::collections::BTreeSet;

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::kinds::Kind;
use crate::manifest::API_VERSION;

/// The schema as pretty JSON with a trailing newline.
pub fn render() -> String {
    let mut text = serde_json::to_string_pretty(&generate()).unwrap_or_default();
    text.push('\n');
    text
}

/// Build the schema: one `oneOf` branch per kind, each fixing `kind` and
/// typing `spec` with that kind's spec type.
pub fn generate() -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let mut branches = Vec::new();
    let mut project_specs = Vec::new();
    for &kind in Kind::all() {
        let spec = (kind.def().schema)(&mut generator).to_value();
        if kind == Kind::Project {
            project_specs.push(spec.clone());
        }
        branches.push(branch(kind, &spec));
    }
    let mut defs = Map::new();
    for (name, schema) in generator.take_definitions(true) {
        defs.insert(name, schema);
    }
    // Definitions reachable from the Project spec stay as generated; none is
    // shared with another kind today, and a shared one would stay strict
    // (the schema may reject a variable the loader accepts, never the reverse).
    let project_only = reachable_definitions(&project_specs, &defs);
    for (name, schema) in &mut defs {
        if !project_only.contains(name) {
            accept_variables(schema);
        }
    }
    defs.insert(WHOLE_VARIABLE.into(), json!({
        "description": "A `${var.NAME}` reference alone (unquoted in YAML): the variable's value is read with its own type, so it can stand for a number or a boolean.",
        "type": "string",
        "pattern": format!("^{VARIABLE_REFERENCE}$")
    }));
    defs.insert(TEXT_WITH_VARIABLE.into(), json!({
        "description": "Text with at least one `${var.NAME}` reference (`$${` is a literal `${`): it is checked after substitution.",
        "type": "string",
        "pattern": format!("(^|[^$]){VARIABLE_REFERENCE}")
    }));
    defs.insert("Metadata".into(), json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["name"],
        "properties": {
            "name": {
                "type": "string",
                "description": "The handle other manifests use to refer to this object; unique per kind.",
                "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$"
            },
            "labels": { "type": "object", "additionalProperties": { "type": "string" } }
        }
    }));
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://gcctl.dev/schemas/gcctl.schema.json",
        "title": "gcctl manifest",
        "description": format!("A gcctl manifest document (apiVersion {API_VERSION}). Kinds: {}.", Kind::names()),
        "oneOf": branches,
        "$defs": defs,
    })
}

/// The `oneOf` branch of one kind.
fn branch(kind: Kind, spec: &Value) -> Value {
    let mut branch = json!({
        "title": kind.as_str(),
        "description": kind.def().summary,
        "type": "object",
        "additionalProperties": false,
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": { "const": API_VERSION },
            "kind": { "const": kind.as_str() },
            "metadata": { "$ref": "#/$defs/Metadata" },
            "spec": spec,
            "protect": {
                "type": "boolean",
                "description": "Refuse to delete this object, even under --prune."
            },
            "ignoreDifferences": {
                "type": "array",
                "description": "JSON pointers into the spec whose differences are ignored.",
                "items": { "type": "string", "pattern": "^/" }
            }
        }
    });
    // The loader substitutes these too (not `apiVersion` and `kind`, read
    // first; `metadata` is shared with the Project). `spec` is a `$ref`, and
    // `generate` handles the definitions.
    if kind != Kind::Project {
        for field in ["/properties/protect", "/properties/ignoreDifferences"] {
            if let Some(schema) = branch.pointer_mut(field) {
                accept_variables(schema);
            }
        }
    }
    branch
}

/// A `${var.NAME}` reference as the loader finds it; `NAME` is what
/// `is_variable_name` allows a Project to define.
const VARIABLE_REFERENCE: &str = r"\$\{var\.[A-Za-z_][A-Za-z0-9_-]*\}";
/// The definition for a whole-value variable, accepted by non-string fields.
const WHOLE_VARIABLE: &str = "VariableReference";
/// The definition for text containing a variable, accepted by constrained strings.
const TEXT_WITH_VARIABLE: &str = "TextWithVariable";
/// Keywords that describe a schema rather than constrain it; they stay on the
/// outside when a schema is wrapped, so editors still show them.
const ANNOTATIONS: &[&str] = &["title", "description", "default", "examples", "deprecated"];

/// Let `schema` (and every schema inside it) also accept a variable where the
/// loader would accept one, by wrapping it as `anyOf: [<schema>, <variable>]`:
///
/// - a non-string scalar (`integer`, `number`, `boolean`, or such an `enum` or
///   `const`) accepts [`WHOLE_VARIABLE`]: the loader re-types only an unquoted
///   value that is exactly one `${var.NAME}`; text around it leaves a string;
/// - a constrained string (`enum`, `const`, `pattern`, `format`, lengths, or a
///   `oneOf` of string constants) accepts [`TEXT_WITH_VARIABLE`]: any string is
///   substituted, and the result may meet the constraint;
/// - unconstrained strings already accept anything; objects and arrays cannot
///   come from a variable.
fn accept_variables(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(variable) = variable_form(object) {
        let (outer, inner): (Map<String, Value>, Map<String, Value>) = std::mem::take(object)
            .into_iter()
            .partition(|(k, _)| ANNOTATIONS.contains(&k.as_str()));
        *object = outer;
        let reference = json!({ "$ref": format!("#/$defs/{variable}") });
        object.insert("anyOf".into(), json!([Value::Object(inner), reference]));
        return;
    }
    for keyword in ["properties", "patternProperties", "$defs"] {
        if let Some(Value::Object(map)) = object.get_mut(keyword) {
            map.values_mut().for_each(accept_variables);
        }
    }
    for keyword in ["additionalProperties", "items", "contains", "not", "if", "then", "else"] {
        if let Some(inner) = object.get_mut(keyword) {
            accept_variables(inner);
        }
    }
    for keyword in ["anyOf", "oneOf", "allOf", "prefixItems"] {
        if let Some(Value::Array(items)) = object.get_mut(keyword) {
            items.iter_mut().for_each(accept_variables);
        }
    }
}

/// Which variable definition a schema should also accept, if any.
fn variable_form(object: &Map<String, Value>) -> Option<&'static str> {
    let types: Vec<&str> = match object.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let scalar = |t: &&str| matches!(*t, "integer" | "number" | "boolean");
    if types.iter().any(scalar) && types.iter().all(|t| scalar(t) || *t == "null") {
        return Some(WHOLE_VARIABLE);
    }
    // Literal choices: an `enum`, a `const`, or a `oneOf`/`anyOf` of them.
    let mut literals: Vec<&Value> = Vec::new();
    if let Some(Value::Array(values)) = object.get("enum") {
        literals.extend(values);
    }
    literals.extend(object.get("const"));
    for keyword in ["oneOf", "anyOf"] {
        if let Some(Value::Array(branches)) = object.get(keyword) {
            let choices: Option<Vec<Vec<&Value>>> = branches.iter().map(literal_choices).collect();
            literals.extend(choices.into_iter().flatten().flatten());
        }
    }
    let literals: Vec<&Value> = literals.into_iter().filter(|v| !v.is_null()).collect();
    if literals.iter().any(|v| !v.is_string()) {
        return Some(WHOLE_VARIABLE);
    }
    let constrained_string = types.contains(&"string")
        && ["pattern", "format", "minLength", "maxLength"].iter().any(|k| object.contains_key(*k));
    (!literals.is_empty() || constrained_string).then_some(TEXT_WITH_VARIABLE)
}

/// The values of a schema that is only an `enum` or a `const` (with
/// annotations and a `type`); `None` for any other schema.
fn literal_choices(schema: &Value) -> Option<Vec<&Value>> {
    let object = schema.as_object()?;
    let plain = object.keys().all(|k| {
        ANNOTATIONS.contains(&k.as_str()) || matches!(k.as_str(), "type" | "enum" | "const")
    });
    if !plain {
        return None;
    }
    let mut values: Vec<&Value> = Vec::new();
    if let Some(Value::Array(items)) = object.get("enum") {
        values.extend(items);
    }
    values.extend(object.get("const"));
    (!values.is_empty()).then_some(values)
}

/// The names of the definitions that `roots` reach through `$ref`.
fn reachable_definitions(roots: &[Value], defs: &Map<String, Value>) -> BTreeSet<String> {
    fn refs<'a>(schema: &'a Value, out: &mut Vec<&'a str>) {
        match schema {
            Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("$ref", Value::String(r)) => out.extend(r.strip_prefix("#/$defs/")),
                        _ => refs(value, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut todo = Vec::new();
    for root in roots {
        refs(root, &mut todo);
    }
    let mut seen = BTreeSet::new();
    while let Some(name) = todo.pop() {
        if seen.insert(name.to_string()) {
            if let Some(def) = defs.get(name) {
                refs(def, &mut todo);
            }
        }
    }
    seen
}
