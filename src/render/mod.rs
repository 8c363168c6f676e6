//! Renderers: turn plans and drift reports into text, JSON, Markdown or `JUnit`. They only
//! read data and return strings; the printer writes them. Output is
//! deterministic: the same plan renders to the same bytes.

pub mod json;
pub mod junit;
pub mod markdown;
pub mod text;

use serde_json::Value;

/// The output formats of `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// A colored, per-field diff for people.
    #[default]
    Text,
    /// The plan as versioned JSON (`format_version`).
    Json,
    /// Markdown for pull-request comments.
    Markdown,
}

/// A value as one line of JSON; strings without quotes are ambiguous, so
/// they keep theirs.
pub fn inline(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "(not set)".to_string(),
        Some(v) => v.to_string(),
    }
}

/// A multi-line string value, if this is one (diffed line by line).
pub fn multiline(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|s| s.contains('\n'))
}

/// How a write-only change reads: never a value, only what will happen.
pub fn write_only_note(before: Option<&Value>, after: Option<&Value>) -> String {
    match (before.and_then(Value::as_u64), after.and_then(Value::as_u64)) {
        (_, None) => "(write-only)".to_string(),
        (None, Some(_)) => "(write-only) will be set".to_string(),
        (Some(b), Some(a)) => format!("(write-only) will be rotated: version {b} -> {a}"),
    }
}
