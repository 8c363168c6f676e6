//! From a parsed document to a typed [`Object`]: the envelope's keys
//! (`apiVersion`, `kind`, the top level), variable substitution, `metadata`
//! and the object options, and the kind's spec, with every problem a
//! [`Diagnostic`] at the field's `file:line:column` in plain words (serde's
//! messages rewritten: no Rust type names, no positions in generated JSON).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::diag::{self, Diagnostic, locate};
use super::yaml::{Node, Value};
use super::{API_VERSION, FileContext, MemoryFiles, Object, RawDoc, is_handle, secret, vars};
use crate::kinds::{Kind, Spec, SpecInput};

const TOP_LEVEL_KEYS: [&str; 6] =
    ["apiVersion", "kind", "metadata", "spec", "protect", "ignoreDifferences"];

/// Check `apiVersion`, `kind` and the top-level keys; return the kind.
pub(super) fn check_envelope(
    file: &Path,
    node: &Node,
    diags: &mut Vec<Diagnostic>,
) -> Option<Kind> {
    let Value::Map(entries) = &node.value else {
        diags.push(Diagnostic::new(
            file,
            node.loc,
            format!(
                "a manifest must be a mapping with apiVersion, kind, metadata and spec; found {}",
                node.value.type_name()
            ),
        ));
        return None;
    };
    for (key, _) in entries {
        if !TOP_LEVEL_KEYS.contains(&key.name.as_str()) {
            diags.push(
                Diagnostic::new(file, key.loc, format!("unknown field `{}`", key.name)).with_hint(
                    match crate::suggest::closest(&key.name, TOP_LEVEL_KEYS.iter().copied()) {
                        Some(close) => format!("did you mean `{close}`?"),
                        None => format!("top-level fields are: {}", TOP_LEVEL_KEYS.join(", ")),
                    },
                ),
            );
        }
    }
    check_api_version(file, node, diags);
    read_kind(file, node, diags)
}

/// `apiVersion`: present, and the one this gcctl reads.
fn check_api_version(file: &Path, node: &Node, diags: &mut Vec<Diagnostic>) {
    match node.get("apiVersion") {
        Some(v) if v.as_str() == Some(API_VERSION) => {}
        Some(v) => diags.push(
            Diagnostic::new(file, v.loc, "unsupported apiVersion")
                .with_hint(format!("this version of gcctl reads `apiVersion: {API_VERSION}`")),
        ),
        None => diags.push(
            Diagnostic::new(file, node.loc, "missing field `apiVersion`")
                .with_hint(format!("add `apiVersion: {API_VERSION}`")),
        ),
    }
}

/// `kind`: present, and one of the kinds (a close name suggested).
fn read_kind(file: &Path, node: &Node, diags: &mut Vec<Diagnostic>) -> Option<Kind> {
    let kinds = Kind::names;
    match node.get("kind") {
        Some(v) => match v.as_str().and_then(Kind::parse) {
            Some(kind) => Some(kind),
            None => {
                let shown = v
                    .as_str()
                    .map_or_else(|| v.value.type_name().to_string(), |s| format!("`{s}`"));
                let names: Vec<&str> = Kind::all().iter().map(|k| k.as_str()).collect();
                let hint = match v.as_str().and_then(|k| crate::suggest::likely(k, &names)) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!("the kinds are: {}", kinds()),
                };
                diags.push(
                    Diagnostic::new(file, v.loc, format!("unknown kind {shown}")).with_hint(hint),
                );
                None
            }
        },
        None => {
            diags.push(
                Diagnostic::new(file, node.loc, "missing field `kind`")
                    .with_hint(format!("the kinds are: {}", kinds())),
            );
            None
        }
    }
}

/// Substitute, type and check one document: the object when it has no
/// error; else `None`, and the object in `rejected` if its spec was read.
pub(super) fn type_document(
    mut doc: RawDoc,
    vars: &BTreeMap<String, String>,
    memory: Option<&MemoryFiles<'_>>,
    diags: &mut Vec<Diagnostic>,
    rejected: &mut Vec<Object>,
) -> Option<Object> {
    let mut unknown = vars::substitute(&mut doc.node, vars);
    if unknown.iter().any(|var| var.scalar.is_some()) {
        // Rare (an error): the file's text places references in quoted
        // and multi-line scalars exactly.
        let source = match memory.and_then(|files| files.get(&doc.file)) {
            Some(text) => Some(std::borrow::Cow::Borrowed(*text)),
            None => std::fs::read_to_string(&doc.file).ok().map(std::borrow::Cow::Owned),
        };
        if let Some(source) = source {
            for var in &mut unknown {
                var.locate(&source);
            }
        }
    }
    let had_unknown = unknown.iter().any(|var| !var.problem.is_warning());
    // A value a reference left as its text fails its field too (`found
    // string "${var.timeout}", expected a whole number`): only the cause is
    // reported.
    let left_as_text: Vec<String> = unknown
        .iter()
        .filter(|var| !var.problem.is_warning() && !var.name.is_empty())
        .map(|var| format!("${{var.{}}}", var.name))
        .collect();
    for var in unknown {
        let defined: Vec<&str> = vars.keys().map(String::as_str).collect();
        let hint = if defined.is_empty() {
            "define it under spec.variables or spec.environments.<env>.variables of the Project, and select the environment with --env".to_string()
        } else {
            format!(
                "defined variables: {}; an environment's variables apply only with --env",
                defined.join(", ")
            )
        };
        let hint = var.special_hint().map_or(hint, str::to_string);
        let diagnostic = Diagnostic::new(&doc.file, var.loc, var.message()).with_hint(hint);
        diags.push(if var.problem.is_warning() { diagnostic.as_warning() } else { diagnostic });
    }
    let before = diags.len();
    let read = read_node(&doc.file, doc.node, doc.kind, diags);
    if !left_as_text.is_empty() {
        let mut index = 0;
        diags.retain(|d| {
            index += 1;
            index <= before || !left_as_text.iter().any(|text| d.message.contains(text.as_str()))
        });
    }
    let (mut object, clean) = read?;
    if had_unknown || !clean {
        rejected.push(object);
        return None;
    }
    let cx = FileContext { manifest: &object.file, doc: &object.doc, vars, memory };
    let problems = object.spec.resolve_files(&cx);
    let failed = problems.iter().any(|d| d.severity == diag::Severity::Error);
    diags.extend(problems);
    if failed {
        rejected.push(object);
        return None;
    }
    Some(object)
}

/// Deserialize metadata, spec and the object options of one document.
pub(super) fn type_node(
    file: &Path,
    node: Node,
    kind: Kind,
    diags: &mut Vec<Diagnostic>,
) -> Option<Object> {
    read_node(file, node, kind, diags).and_then(|(object, clean)| clean.then_some(object))
}

/// As [`type_node`], but the object whose spec was read is returned even
/// with errors, with whether it has none.
fn read_node(
    file: &Path,
    node: Node,
    kind: Kind,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Object, bool)> {
    let before = diags.len();
    let (name, labels) = read_metadata(file, &node, diags)?;
    let protect = match node.get("protect") {
        None => false,
        Some(Node { value: Value::Bool(b), .. }) => *b,
        Some(other) => {
            diags.push(Diagnostic::new(
                file,
                other.loc,
                format!("`protect` must be true or false, found {}", other.value.type_name()),
            ));
            false
        }
    };
    let ignore_differences = read_pointer_list(file, &node, kind, diags);
    if !ignore_differences.is_empty() && !kind.is_org_object() {
        if let Some(list) = node.get("ignoreDifferences") {
            diags.push(
                Diagnostic::new(file, list.loc, format!("ignoreDifferences has no effect on a {kind}: it is not an object of the org"))
                    .with_hint("its fields are compared where they are used: write the pointer on the object that uses it (an integration's `/webhook/headers/NAME`)")
                    .as_warning(),
            );
        }
    }
    let Some(spec_node) = node.get("spec") else {
        diags.push(Diagnostic::new(file, node.loc, "missing field `spec`"));
        return None;
    };
    let spec = read_spec(file, &node, spec_node, kind, before, diags)?;
    check_spec(file, &node, spec.as_ref(), diags);
    // Warnings (an unknown permission) keep the object.
    let clean = diags[before..].iter().all(|d| d.severity == diag::Severity::Warning);
    let object = Object {
        kind,
        name,
        labels,
        protect,
        ignore_differences,
        spec,
        file: file.to_path_buf(),
        loc: node.loc,
        doc: Arc::new(node),
        references: std::sync::OnceLock::new(),
    };
    Some((object, clean))
}
/// The spec of a document, its kind's type read from `spec_node`. Every
/// unknown field and wrong type of the document is reported, not only the
/// first: each one found is taken out and the spec read again (up to
/// [`MAX_SPEC_PROBLEMS`] problems since `before`, then a note that more may
/// follow); `None` when any was found. Each attempt costs one reading of
/// the spec: the JSON left after the removals so far is kept, not made
/// again, so the whole costs the spec's size times the problems found.
fn read_spec(
    file: &Path,
    node: &Node,
    spec_node: &Node,
    kind: Kind,
    before: usize,
    diags: &mut Vec<Diagnostic>,
) -> Option<Box<dyn Spec>> {
    // The first attempt (nearly always the only one) reads the spec from
    // its node, without a copy of it as JSON (an export's check types
    // 10,000 configured queues); the others from the JSON left after
    // taking out what the attempts before failed on.
    let mut left_out: Vec<LeftOut> = Vec::new();
    let mut remaining: Option<serde_json::Value> = None;
    loop {
        let input = match &remaining {
            None => SpecInput::Node(spec_node),
            Some(json) => SpecInput::Json(json.clone()),
        };
        match (kind.def().parse)(input) {
            Ok(spec) => return left_out.is_empty().then_some(spec),
            Err(err) => {
                let json = remaining.get_or_insert_with(|| spec_node.to_json());
                if let Some(parent) = left_out_required(&err, &left_out) {
                    // A required field this loop left out for its own
                    // problem, already reported: not missing. Its object
                    // is left out too, to read on after it.
                    if parent.is_empty() || !leave_out(json, &mut left_out, parent) {
                        return None;
                    }
                    continue;
                }
                // Found in the spec with the items before left out: said
                // at the item's place in the manifest.
                let original = |pointer: &str| original_pointer(pointer, &left_out);
                let (diagnostic, pointer) = serde_diagnostic(file, node, &err, &original);
                if diags.len() - before >= MAX_SPEC_PROBLEMS {
                    // Said once, and not counted as a problem of its own.
                    diags.push(
                        Diagnostic::new(
                            file,
                            spec_node.loc,
                            format!("more problems may follow: gcctl reports at most {MAX_SPEC_PROBLEMS} of one document"),
                        )
                        .with_hint("fix these, then validate again")
                        .as_warning(),
                    );
                    return None;
                }
                diags.push(diagnostic);
                let p = pointer.strip_prefix("/spec").filter(|p| !p.is_empty())?;
                if !leave_out(json, &mut left_out, p.to_string()) {
                    return None;
                }
            }
        }
    }
}

/// The most problems [`read_spec`] reports of one document.
const MAX_SPEC_PROBLEMS: usize = 50;

/// A field [`read_spec`] took out of the spec (its pointer into the spec as
/// it was then), and whether it was a list's item (the items after it then
/// moved up one).
struct LeftOut {
    pointer: String,
    list_item: bool,
}

/// Take `pointer` out of `json`, remembering it in `left_out`; false when
/// it is not there.
fn leave_out(json: &mut serde_json::Value, left_out: &mut Vec<LeftOut>, pointer: String) -> bool {
    let list_item = pointer.rsplit_once('/').is_some_and(|(parent, last)| {
        last.parse::<usize>().is_ok()
            && json.pointer(parent).is_some_and(serde_json::Value::is_array)
    });
    if !remove_pointer(json, &pointer) {
        return false;
    }
    left_out.push(LeftOut { pointer, list_item });
    true
}

/// When `err` says that a required field is missing which [`read_spec`]
/// itself left out (its value had a problem, reported before), the
/// pointer of the object that lacks it (empty for the spec itself).
fn left_out_required(
    err: &serde_path_to_error::Error<serde_json::Error>,
    left_out: &[LeftOut],
) -> Option<String> {
    let message = err.inner().to_string();
    let field = message.strip_prefix("missing field `").and_then(|r| r.split('`').next())?;
    let mut parent = String::new();
    for segment in err.path() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => parent.push_str(&format!("/{index}")),
            serde_path_to_error::Segment::Map { key } => {
                crate::json_pointer::push_token(&mut parent, key);
            }
            serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {}
        }
    }
    let mut pointer = parent.clone();
    crate::json_pointer::push_token(&mut pointer, field);
    left_out.iter().any(|l| l.pointer == pointer).then_some(parent)
}

/// The spec's own checks ([`Spec::check`]) and its literal secrets, located
/// in the document.
fn check_spec(file: &Path, node: &Node, spec: &dyn Spec, diags: &mut Vec<Diagnostic>) {
    let mut findings = diag::Findings::default();
    spec.check(&mut findings);
    for finding in findings.into_vec() {
        let mut d = Diagnostic::new(file, locate(node, &finding.pointer), finding.message);
        d.hint = finding.hint;
        d.severity = finding.severity;
        diags.push(d);
    }
    for (pointer, input) in spec.secrets() {
        if let secret::SecretInput::Literal(_) = input {
            let field = pointer.rsplit('/').next().unwrap_or("secret");
            diags.push(
                Diagnostic::new(file, locate(node, &pointer), format!("`{field}` holds a literal secret; secrets never go in manifests"))
                    .with_hint(format!("write `{field}: {{fromEnv: SOME_VARIABLE}}` (or `{{fromFile: path}}`) and provide the value there; rotate the exposed secret")),
            );
        }
    }
}

fn read_metadata(
    file: &Path,
    node: &Node,
    diags: &mut Vec<Diagnostic>,
) -> Option<(String, BTreeMap<String, String>)> {
    let Some(metadata) = node.get("metadata") else {
        diags.push(
            Diagnostic::new(file, node.loc, "missing field `metadata`")
                .with_hint("add `metadata: {name: <handle>}`"),
        );
        return None;
    };
    if let Value::Map(entries) = &metadata.value {
        for (key, _) in entries {
            if key.name != "name" && key.name != "labels" {
                diags.push(
                    Diagnostic::new(file, key.loc, format!("unknown field `{}`", key.name))
                        .with_hint("metadata has `name` and `labels`"),
                );
            }
        }
    }
    let name = read_handle(file, metadata, diags)?;
    let labels = read_labels(file, metadata, diags);
    Some((name, labels))
}

/// `metadata.name`: a handle ([`is_handle`]), or a diagnostic.
fn read_handle(file: &Path, metadata: &Node, diags: &mut Vec<Diagnostic>) -> Option<String> {
    let Some(n) = metadata.get("name") else {
        diags.push(Diagnostic::new(file, metadata.loc, "missing field `name` in metadata"));
        return None;
    };
    match n.as_str() {
        Some(s) if is_handle(s) => Some(s.to_string()),
        Some(s) => {
            diags.push(
                Diagnostic::new(file, n.loc, format!("`{s}` is not a valid metadata.name"))
                    .with_hint("use letters, digits, `-`, `_` and `.` (at most 253), starting with a letter or digit; the org-side name goes in spec.name"),
            );
            None
        }
        None => {
            let found = Diagnostic::new(
                file,
                n.loc,
                format!("metadata.name must be a string, found {}", n.value.type_name()),
            );
            // A plain `2024` or `true` is YAML's number or boolean; quoted, a handle.
            let scalar = matches!(n.value, Value::Int(_) | Value::Float(_) | Value::Bool(_));
            diags.push(if scalar {
                found.with_hint(
                    "quote it to keep it as text: unquoted, YAML reads it as a number or a boolean",
                )
            } else {
                found
            });
            None
        }
    }
}

/// `metadata.labels`: a mapping of strings; each value that is not one is
/// a diagnostic and left out.
fn read_labels(
    file: &Path,
    metadata: &Node,
    diags: &mut Vec<Diagnostic>,
) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let Some(node) = metadata.get("labels") else { return labels };
    let Value::Map(entries) = &node.value else {
        diags.push(Diagnostic::new(file, node.loc, "metadata.labels must be a mapping of strings"));
        return labels;
    };
    for (key, value) in entries {
        match value.as_str() {
            Some(v) => {
                labels.insert(key.name.to_string(), v.to_string());
            }
            None => diags.push(
                Diagnostic::new(file, value.loc, "label values must be strings")
                    .with_hint("quote the value"),
            ),
        }
    }
    labels
}

fn read_pointer_list(
    file: &Path,
    node: &Node,
    kind: Kind,
    diags: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let Some(list) = node.get("ignoreDifferences") else { return Vec::new() };
    let Value::Seq(items) = &list.value else {
        diags.push(Diagnostic::new(
            file,
            list.loc,
            "ignoreDifferences must be a list of JSON pointers such as /description",
        ));
        return Vec::new();
    };
    let mut pointers = Vec::new();
    let spec = node.get("spec");
    for item in items {
        match item.as_str() {
            Some(p) if p.starts_with('/') => {
                if let Some((message, hint)) = kind.pointer_ignores_nothing(p) {
                    diags.push(Diagnostic::new(file, item.loc, message).with_hint(hint).as_warning());
                } else if let Some(list) = spec.and_then(|spec| list_on_the_way(spec, p)) {
                    diags.push(
                        Diagnostic::new(file, item.loc, format!("`{p}` points into a list's item, which is never ignored: a list is compared and written whole"))
                            .with_hint(format!("ignore the list itself: `{list}`"))
                            .as_warning(),
                    );
                }
                pointers.push(p.to_string());
            }
            _ => diags.push(
                Diagnostic::new(file, item.loc, "not a JSON pointer")
                    .with_hint("write a pointer into the spec, starting with /, such as /mediaSettings/call/serviceLevel"),
            ),
        }
    }
    pointers
}

/// The pointer of the declared list that `pointer` goes into (`/routingRules`
/// for `/routingRules/0/threshold`), if it goes into one.
fn list_on_the_way(spec: &Node, pointer: &str) -> Option<String> {
    let mut at = spec;
    let mut walked = String::new();
    for token in pointer.strip_prefix('/')?.split('/') {
        match &at.value {
            Value::Seq(_) => return Some(walked),
            Value::Map(_) => {
                at = at.get(crate::json_pointer::unescape(token).as_ref())?;
                walked.push('/');
                walked.push_str(token);
            }
            _ => return None,
        }
    }
    None
}

/// Remove the value at `pointer` (JSON pointer) from `value`; whether it was there.
fn remove_pointer(value: &mut serde_json::Value, pointer: &str) -> bool {
    let Some((parent, last)) = pointer.rsplit_once('/') else { return false };
    let last = crate::json_pointer::unescape(last);
    match value.pointer_mut(parent) {
        Some(serde_json::Value::Object(map)) => map.remove(last.as_ref()).is_some(),
        Some(serde_json::Value::Array(items)) => match last.parse::<usize>() {
            Ok(i) if i < items.len() => {
                items.remove(i);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// Turn a serde error with its path into a located diagnostic, and the
/// pointer of the field it is about (`/spec/...`).
/// A pointer (`/spec/...`) into the spec with `left_out` taken out, one
/// after the other (see [`read_spec`]), as a pointer into the spec as
/// written: a list item after an item taken out is one further on.
fn original_pointer(pointer: &str, left_out: &[LeftOut]) -> String {
    if left_out.is_empty() || !pointer.starts_with("/spec") {
        return pointer.to_string();
    }
    let mut parts: Vec<String> =
        pointer["/spec".len()..].split('/').skip(1).map(str::to_string).collect();
    for removed in left_out.iter().rev().filter(|l| l.list_item) {
        let Some((parent, last)) = removed.pointer.rsplit_once('/') else { continue };
        let Ok(index) = last.parse::<usize>() else { continue };
        let depth = parent.split('/').skip(1).count();
        let same_list =
            parts.len() > depth && parts.iter().zip(parent.split('/').skip(1)).all(|(a, b)| a == b);
        if let Some(i) = parts.get(depth).and_then(|p| p.parse::<usize>().ok()) {
            if same_list && i >= index {
                parts[depth] = (i + 1).to_string();
            }
        }
    }
    let mut out = String::from("/spec");
    for part in parts {
        out.push('/');
        out.push_str(&part);
    }
    out
}

fn serde_diagnostic(
    file: &Path,
    doc: &Node,
    err: &serde_path_to_error::Error<serde_json::Error>,
    original: &dyn Fn(&str) -> String,
) -> (Diagnostic, String) {
    let mut pointer = String::from("/spec");
    for segment in err.path() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            serde_path_to_error::Segment::Map { key } => {
                crate::json_pointer::push_token(&mut pointer, key);
            }
            serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {}
        }
    }
    // Where it is in the manifest (the pointer returned is the one in the
    // spec read, for the next attempt to leave out).
    let shown = original(&pointer);
    let message = err.inner().to_string();
    let message = strip_serde_position(&message);
    // Unknown fields: point at the offending key, not at its parent.
    if let Some(field) = message.strip_prefix("unknown field `").and_then(|r| r.split('`').next()) {
        // The path may or may not already end with the unknown field.
        let field_pointer = if pointer.ends_with(&format!("/{field}")) {
            pointer.clone()
        } else {
            format!("{pointer}/{field}")
        };
        let loc = doc.key_loc(&original(&field_pointer)).unwrap_or_else(|| locate(doc, &shown));
        let expected: Vec<&str> = message
            .split_once(", expected ")
            .map(|(_, e)| e.split('`').skip(1).step_by(2).collect())
            .unwrap_or_default();
        let mut d = Diagnostic::new(file, loc, format!("unknown field `{field}`"));
        if let Some(close) = crate::suggest::closest(field, expected.iter().copied()) {
            d = d.with_hint(format!("did you mean `{close}`?"));
        } else if !expected.is_empty() {
            let list: Vec<String> = expected.iter().map(|e| format!("`{e}`")).collect();
            d = d.with_hint(format!("the fields here are {}", list.join(", ")));
        }
        return (d, field_pointer);
    }
    // A list's item is named by its list and index (`rings[1]`), not `1`.
    let mut segments = shown.rsplit('/');
    let last = segments.next().unwrap_or("spec");
    let field = match last.parse::<usize>() {
        Ok(_) => format!("{}[{last}]", segments.next().unwrap_or("spec")),
        Err(_) => last.to_string(),
    };
    let message = plain_types(&message);
    let mut d = Diagnostic::new(file, locate(doc, &shown), format!("{field}: {message}"));
    // An unknown enum value: the likely one (`Queue` for `RoutingQueue`).
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (found, expected) = rest.split_once('`').unwrap_or_default();
        let expected: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        if let Some(likely) = crate::suggest::likely(found, &expected) {
            return (d.with_hint(format!("did you mean `{likely}`?")), pointer);
        }
    }
    // The hint is for a number or a boolean written in quotes, not for a
    // word where a number goes.
    let quoted = message.starts_with("found string ")
        && matches!(doc.locate(&shown), (node, true) if !node.plain);
    if quoted && (message.contains("a whole number") || message.contains("a number")) {
        d = d.with_hint(
            "write it without quotes: a quoted value (or a quoted `${var.NAME}`) stays text",
        );
    } else if message.ends_with("expected a string")
        && ["found integer", "found floating point", "found boolean"]
            .iter()
            .any(|f| message.starts_with(f))
        && matches!(doc.locate(&shown), (node, true) if node.plain)
    {
        // The value shown is YAML's reading, which may not be what was
        // written (`+0049301234` reads as 49301234).
        d = d.with_hint(
            "quote it to keep it as text: unquoted, YAML reads it as a number or a boolean, which may not be what is written (`+0049` is 49, `1.10` is 1.1)",
        );
    } else if message.contains("expected true or false") {
        d = d.with_hint("write true or false (YAML 1.2: yes/no/on/off are strings)");
    }
    (d, pointer)
}

/// serde's messages in words a manifest author uses: no Rust type names.
fn plain_types(message: &str) -> String {
    let mut text = message.to_string();
    for (rust, plain) in [
        ("expected i64", "expected a whole number"),
        ("expected i32", "expected a whole number"),
        ("expected u64", "expected a whole number, 0 or more"),
        ("expected u32", "expected a whole number, 0 or more"),
        ("expected u16", "expected a whole number, 0 or more"),
        ("expected u8", "expected a whole number, 0 or more"),
        ("expected usize", "expected a whole number, 0 or more"),
        ("expected f64", "expected a number"),
        ("expected f32", "expected a number"),
        ("expected a boolean", "expected true or false"),
        ("expected bool", "expected true or false"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected a mapping"),
        // A unit enum (`scoringMethod`) given a boolean or a number: serde
        // says it reads enums from strings or maps.
        ("expected string or map", "expected one of the field's values, as text"),
        ("invalid type: sequence", "found a list"),
        ("invalid type: map", "found a mapping"),
        ("invalid type: ", "found "),
        ("invalid value: ", "found "),
    ] {
        text = text.replace(rust, plain);
    }
    // `struct FooSpec` / `enum Bar` are Rust type names too.
    if let Some(i) = text.find("expected struct ") {
        text.truncate(i);
        text.push_str("expected a mapping");
    }
    text
}

/// `serde_json` appends " at line L column C" of the JSON we built; drop it.
fn strip_serde_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains(" column ") => message[..i].to_string(),
        _ => message.to_string(),
    }
}
