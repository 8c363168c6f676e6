//! The kinds reference of the book (`docs/src/reference/kinds.md`), rendered
//! as Markdown from the JSON Schema ([`super::schema::generate`]), which comes
//! from the spec types and their doc comments. So the reference cannot drift
//! from what the loader accepts: a test in `tests/it/docs.rs` compares the
//! checked-in file with [`kinds_markdown`] and rewrites it when
//! `GCCTL_UPDATE_DOCS=1` is set.
//!
//! Invariants: the output depends on the schema alone (kinds in apply order,
//! fields required first, then alphabetical), so it is byte-identical from run
//! to run; every kind gets a `## <Kind>` heading whose text is exactly its
//! name (`tests/it/kinds.rs` looks for it); rendering never panics, whatever
//! the schema holds: what it does not understand is shown as `any`.

use serde_json::{Map, Value};

use super::schema;

/// How deep nested objects are expanded; deeper fields are summarized by
/// their parent's row. The spec types nest at most five levels today.
const MAX_DEPTH: usize = 8;

/// The kinds reference as Markdown, with a trailing newline.
pub fn kinds_markdown() -> String {
    render(&schema::generate())
}

/// Render the reference from a schema shaped like [`schema::generate`]'s:
/// one `oneOf` branch per kind, its `spec` a `$ref` into `$defs`.
pub fn render(schema: &Value) -> String {
    let empty = Map::new();
    let defs = schema.get("$defs").and_then(Value::as_object).unwrap_or(&empty);
    let branches = schema.get("oneOf").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    let mut out = String::new();
    out.push_str(
        "<!-- Generated from the JSON Schema of the manifest format by\n     \
         gcctl::manifest::reference::kinds_markdown(); do not edit by hand.\n     \
         Regenerate: GCCTL_UPDATE_DOCS=1 cargo test --locked --test it docs -->\n\n",
    );
    out.push_str("# Kinds reference\n\n");
    out.push_str(
        "Every field of every kind, generated from the spec types (their doc comments are the \
         descriptions, as in `gcctl schema`). What the fields do in the org, and how each kind is \
         planned and applied, is in [Kinds](../kinds.md).\n\n\
         Field paths are relative to `spec`: `a.b` is the field `b` of the object `a`, `a[].b` \
         the field `b` of every item of the list `a`, and `a.<key>.b` the field `b` of every value \
         of the map `a`. *Required* means required whenever the object that holds the field is \
         given; every other field may be left out, and then it is not managed. Outside the \
         Project, a field whose type is not a string also takes a `${var.NAME}` \
         ([environments](../environments.md)), and a string with allowed values takes text \
         holding one.\n\n",
    );
    for branch in branches {
        let Some(title) = branch.get("title").and_then(Value::as_str) else { continue };
        let summary = text(branch.get("description"));
        out.push_str(&format!("- [`{title}`](#{}): {summary}\n", title.to_ascii_lowercase()));
    }
    out.push('\n');
    if let Some(first) = branches.first() {
        common_fields(defs, first, &mut out);
    }
    for branch in branches {
        kind_section(defs, branch, &mut out);
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// `## Common fields`: the envelope of every document (the first kind's
/// fields beside `kind` and `spec`).
fn common_fields(defs: &Map<String, Value>, first: &Value, out: &mut String) {
    let empty = Map::new();
    out.push_str("## Common fields\n\n");
    out.push_str(
        "Every document has these fields beside `kind` (one of the kinds below) and `spec` \
         (the kind's fields).\n\n",
    );
    let mut rows = Vec::new();
    let envelope = Value::Object(
        first
            .as_object()
            .unwrap_or(&empty)
            .iter()
            .filter(|(key, _)| key.as_str() != "title" && key.as_str() != "description")
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
    );
    object_rows(defs, &envelope, "", &["kind", "spec"], 0, &mut rows);
    table(&rows, out);
}

/// A kind's `## <Kind>` section: its summary, the spec type's later
/// paragraphs and the table of its fields.
fn kind_section(defs: &Map<String, Value>, branch: &Value, out: &mut String) {
    let Some(title) = branch.get("title").and_then(Value::as_str) else { return };
    out.push_str(&format!("## {title}\n\n"));
    let summary = text(branch.get("description"));
    if !summary.is_empty() {
        out.push_str(&format!("{summary}\n\n"));
    }
    let spec = branch.get("properties").and_then(|p| p.get("spec")).unwrap_or(&Value::Null);
    let spec = resolve(defs, spec);
    // The spec type's first paragraph names it ("A routing queue."); the
    // kind's summary says that better. Later paragraphs are shown.
    let about = paragraphs(spec.get("description"));
    for paragraph in about.iter().skip(1) {
        out.push_str(&format!("{paragraph}\n\n"));
    }
    out.push_str(&format!("`apiVersion: {}`, `kind: {title}`.\n\n", super::API_VERSION));
    if let Some(reads) = crate::kinds::Kind::parse(title).and_then(crate::export::reads_of) {
        out.push_str(&format!("{reads}\n\n"));
    }
    let mut rows = Vec::new();
    object_rows(defs, &Value::Object(spec), "", &[], 0, &mut rows);
    if rows.is_empty() {
        out.push_str("No fields.\n\n");
    } else {
        table(&rows, out);
    }
}

/// One line of a field table.
struct Row {
    path: String,
    kind: String,
    required: bool,
    allowed: String,
    description: String,
}

fn table(rows: &[Row], out: &mut String) {
    out.push_str("| field | type | required | allowed values | description |\n");
    out.push_str("|---|---|---|---|---|\n");
    for row in rows {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            row.path,
            cell(&row.kind),
            if row.required { "yes" } else { "" },
            cell(&row.allowed),
            cell(&row.description),
        ));
    }
    out.push('\n');
}

/// Rows for the properties of an object schema, required ones first (in the
/// schema's order), then the others alphabetically.
fn object_rows(
    defs: &Map<String, Value>,
    object: &Value,
    prefix: &str,
    skip: &[&str],
    depth: usize,
    rows: &mut Vec<Row>,
) {
    let Some(properties) = object.get("properties").and_then(Value::as_object) else { return };
    let required: Vec<&str> = object
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut names: Vec<&String> = properties.keys().collect();
    names.sort_by_key(|name| {
        (required.iter().position(|r| r == name).unwrap_or(usize::MAX), name.as_str())
    });
    for name in names {
        if skip.contains(&name.as_str()) {
            continue;
        }
        let Some(property) = properties.get(name) else { continue };
        field_rows(
            defs,
            property,
            &format!("{prefix}{name}"),
            required.contains(&name.as_str()),
            depth,
            rows,
        );
    }
}

/// The row of one field, then the rows of what it holds (an object's fields,
/// a list's items, a map's values).
fn field_rows(
    defs: &Map<String, Value>,
    property: &Value,
    path: &str,
    required: bool,
    depth: usize,
    rows: &mut Vec<Row>,
) {
    let node = Value::Object(resolve(defs, property));
    rows.push(Row {
        path: path.to_string(),
        kind: type_name(defs, &node, 0),
        required,
        allowed: constraints(defs, &node).join("; "),
        description: text(node.get("description")),
    });
    if depth >= MAX_DEPTH {
        return;
    }
    if has_properties(&node) {
        object_rows(defs, &node, &format!("{path}."), &[], depth + 1, rows);
    }
    if let Some(items) = node.get("items") {
        let items = Value::Object(resolve(defs, items));
        if has_properties(&items) {
            object_rows(defs, &items, &format!("{path}[]."), &[], depth + 1, rows);
        }
    }
    if let Some(values) = node.get("additionalProperties").filter(|v| v.is_object()) {
        let values = Value::Object(resolve(defs, values));
        if has_properties(&values) {
            object_rows(defs, &values, &format!("{path}.<key>."), &[], depth + 1, rows);
        }
    }
}

fn has_properties(node: &Value) -> bool {
    node.get("properties").and_then(Value::as_object).is_some_and(|p| !p.is_empty())
}

/// A schema with its `$ref` followed and an optional wrapper (`anyOf` of a
/// schema and `null`) removed. Keys of the outer schema (its description, its
/// default) win over those of the definition it refers to.
fn resolve(defs: &Map<String, Value>, schema: &Value) -> Map<String, Value> {
    resolve_depth(defs, schema, 0)
}

fn resolve_depth(defs: &Map<String, Value>, schema: &Value, depth: usize) -> Map<String, Value> {
    let Some(outer) = schema.as_object() else { return Map::new() };
    if depth > MAX_DEPTH {
        return outer.clone();
    }
    let inner = if let Some(target) = outer.get("$ref").and_then(Value::as_str) {
        let name = target.strip_prefix("#/$defs/").unwrap_or(target);
        defs.get(name).map(|def| resolve_depth(defs, def, depth + 1))
    } else {
        non_null_variant(outer.get("anyOf")).map(|wrapped| resolve_depth(defs, wrapped, depth + 1))
    };
    let Some(mut merged) = inner else { return outer.clone() };
    for (key, value) in outer {
        if key != "$ref" && key != "anyOf" {
            merged.insert(key.clone(), value.clone());
        }
    }
    merged
}

/// The one real variant of an `anyOf` of exactly two variants, the other
/// `null` or a `${var.NAME}` reference (every non-string field accepts one;
/// the reference says so once, in its introduction).
fn non_null_variant(any_of: Option<&Value>) -> Option<&Value> {
    let variants = any_of?.as_array()?;
    let [a, b] = variants.as_slice() else { return None };
    let is_null = |v: &Value| {
        v.get("type").and_then(Value::as_str) == Some("null")
            || v.get("$ref").and_then(Value::as_str).is_some_and(|r| {
                r.ends_with("/VariableReference") || r.ends_with("/TextWithVariable")
            })
    };
    match (is_null(a), is_null(b)) {
        (false, true) => Some(a),
        (true, false) => Some(b),
        _ => None,
    }
}

/// A short type name: `string`, `list of object`, `map of string`,
/// `` `{fromEnv: string}` or `{fromFile: string}` ``.
fn type_name(defs: &Map<String, Value>, node: &Value, depth: usize) -> String {
    if depth > MAX_DEPTH {
        return "any".into();
    }
    if let Some(values) = node.get("enum").and_then(Value::as_array) {
        return if values.iter().all(Value::is_string) { "string".into() } else { "enum".into() };
    }
    if let Some(constant) = node.get("const") {
        return match constant {
            Value::String(_) => "string",
            Value::Number(_) => "number",
            Value::Bool(_) => "boolean",
            _ => "any",
        }
        .into();
    }
    if let Some(variants) =
        node.get("oneOf").or_else(|| node.get("anyOf")).and_then(Value::as_array)
    {
        let mut names: Vec<String> = variants
            .iter()
            .map(|v| {
                let v = Value::Object(resolve(defs, v));
                if has_properties(&v) {
                    inline(defs, &v, depth + 1)
                } else {
                    type_name(defs, &v, depth + 1)
                }
            })
            .collect();
        // Variants of one type (constants of an enum) read as that type once.
        names.dedup();
        return join_or(&names);
    }
    let types: Vec<&str> = match node.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => {
            ts.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect()
        }
        _ => Vec::new(),
    };
    let names: Vec<String> = types
        .iter()
        .map(|t| match *t {
            "array" => {
                let items = node.get("items").map(|i| Value::Object(resolve(defs, i)));
                let item = items.map_or_else(|| "any".into(), |i| type_name(defs, &i, depth + 1));
                format!("list of {item}")
            }
            "object" => match node.get("additionalProperties").filter(|v| v.is_object()) {
                Some(values) if !has_properties(node) => {
                    let values = Value::Object(resolve(defs, values));
                    format!("map of {}", type_name(defs, &values, depth + 1))
                }
                _ => "object".into(),
            },
            other => other.to_string(),
        })
        .collect();
    if names.is_empty() { "any".into() } else { join_or(&names) }
}

/// An object written inline, for the variants of a `oneOf`: `` `{fromEnv: string}` ``
/// (what each variant means is the field's description).
fn inline(defs: &Map<String, Value>, node: &Value, depth: usize) -> String {
    let mut fields = Vec::new();
    if let Some(properties) = node.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            let property = Value::Object(resolve(defs, property));
            fields.push(format!(
                "{name}: {}",
                type_name(defs, &property, depth + 1).replace('`', "")
            ));
        }
    }
    format!("`{{{}}}`", fields.join(", "))
}

/// Allowed values and ranges: enums, bounds, patterns, defaults.
fn constraints(defs: &Map<String, Value>, node: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(values) = node.get("enum").and_then(Value::as_array) {
        out.push(values.iter().map(literal).collect::<Vec<_>>().join(", "));
    }
    if let Some(constant) = node.get("const") {
        out.push(format!("{} only", literal(constant)));
    }
    // An enum whose values are documented: a `oneOf` of constants.
    let variants = node.get("oneOf").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    let constants: Vec<String> = variants
        .iter()
        .filter_map(|v| {
            let value = literal(v.get("const")?);
            let about = text(v.get("description"));
            Some(if about.is_empty() {
                value
            } else {
                format!("{value} ({})", about.trim_end_matches('.'))
            })
        })
        .collect();
    if !constants.is_empty() && constants.len() == variants.len() {
        out.push(constants.join(", "));
    }
    out.extend(range(node, "minimum", "maximum", ""));
    if let Some(min) = node.get("exclusiveMinimum") {
        out.push(format!("> {}", number(min)));
    }
    if let Some(max) = node.get("exclusiveMaximum") {
        out.push(format!("< {}", number(max)));
    }
    out.extend(range(node, "minLength", "maxLength", " characters"));
    out.extend(range(node, "minItems", "maxItems", " items"));
    if let Some(pattern) = node.get("pattern").and_then(Value::as_str) {
        out.push(format!("matches `{pattern}`"));
    }
    if let Some(format) = node.get("format").and_then(Value::as_str) {
        // Number widths are implementation detail; other formats (uri, email) are not.
        if !matches!(format, "int32" | "int64" | "uint" | "uint32" | "uint64" | "float" | "double")
        {
            out.push(format!("format `{format}`"));
        }
    }
    if let Some(items) = node.get("items") {
        let items = Value::Object(resolve(defs, items));
        let each = constraints(defs, &items);
        if !each.is_empty() {
            out.push(format!("each: {}", each.join(", ")));
        }
    }
    if let Some(default) = node.get("default") {
        out.push(format!("default {}", literal(default)));
    }
    out
}

/// `a to b`, `≥ a` or `≤ b` from a pair of bound keywords.
fn range(node: &Value, low: &str, high: &str, unit: &str) -> Option<String> {
    match (node.get(low), node.get(high)) {
        (Some(min), Some(max)) => Some(format!("{} to {}{unit}", number(min), number(max))),
        (Some(min), None) => Some(format!("≥ {}{unit}", number(min))),
        (None, Some(max)) => Some(format!("≤ {}{unit}", number(max))),
        (None, None) => None,
    }
}

/// A bound as written by people: `1000`, not `1000.0`; `0.5` stays.
fn number(value: &Value) -> String {
    match value.as_f64() {
        Some(f) if value.is_f64() && f.fract() == 0.0 => format!("{f:.0}"),
        _ => value.to_string(),
    }
}

/// A JSON value as inline code: strings without quotes.
fn literal(value: &Value) -> String {
    match value {
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

fn join_or(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// A description on one line (doc comments wrap).
fn text(description: Option<&Value>) -> String {
    description
        .and_then(Value::as_str)
        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The paragraphs of a description, each on one line.
fn paragraphs(description: Option<&Value>) -> Vec<String> {
    let Some(description) = description.and_then(Value::as_str) else { return Vec::new() };
    description
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

/// Text made safe for a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_heading_of_its_name() {
        let markdown = kinds_markdown();
        for kind in crate::kinds::Kind::all() {
            assert!(markdown.lines().any(|l| l == format!("## {kind}")), "{kind}");
        }
    }

    #[test]
    fn rendering_is_deterministic() {
        assert_eq!(kinds_markdown(), kinds_markdown());
    }

    #[test]
    fn optional_refs_ranges_and_defaults_are_shown() {
        let markdown = kinds_markdown();
        assert!(
            markdown
                .contains("| `mediaSettings.message.alertingTimeoutSeconds` | integer |  | ≥ 7 |")
        );
        assert!(markdown.contains("| `accessTokenValiditySeconds` | integer |  | 300 to 172800 |"));
        assert!(markdown.contains("`Enabled`, `Disabled`"));
        assert!(markdown.contains("| `inboundFlow.type` | string |  | `INBOUNDSHORTMESSAGE` (An Architect inbound message flow); default `INBOUNDSHORTMESSAGE` |"));
    }

    #[test]
    fn a_strange_schema_does_not_panic() {
        for schema in [
            Value::Null,
            serde_json::json!({"oneOf": [{"title": "X", "properties": {"spec": {"$ref": "#/$defs/Loop"}}}], "$defs": {"Loop": {"$ref": "#/$defs/Loop"}}}),
        ] {
            let _ = render(&schema);
        }
    }
}
