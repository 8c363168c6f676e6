//! The JSON Schema of the manifest format, generated from the Rust types so it
//! cannot drift from what the loader accepts. `schemas/gcctl.schema.json` is
//! the checked-in copy (a test fails when it is stale); editors use it through
//! `# yaml-language-server: $schema=...`.

use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

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
    for kind in Kind::all() {
        let def = kind.def();
        let spec = (def.schema)(&mut generator);
        branches.push(json!({
            "title": kind.as_str(),
            "description": def.summary,
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
        }));
    }
    let mut defs = serde_json::Map::new();
    for (name, schema) in generator.take_definitions(true) {
        defs.insert(name, schema);
    }
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
