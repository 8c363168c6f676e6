//! Renderers: turn plans and drift reports into text, JSON, Markdown or `JUnit`. They only
//! read data and return strings; the printer writes them. Output is
//! deterministic: the same plan renders to the same bytes.

pub mod json;
pub mod junit;
pub mod markdown;
pub mod text;

use serde_json::Value;

use crate::plan::diff;

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

/// What a plan narrowed by `--select` leaves out, in words (`None`: the
/// whole set was planned).
pub fn partial(select: &[String], destroy: bool) -> Option<String> {
    if select.is_empty() {
        return None;
    }
    let reach = if destroy { "what refers to them" } else { "what they refer to" };
    Some(format!(
        "only --select {} and {reach}; other declared objects and prunes are left out",
        select.join(", ")
    ))
}

/// A value as one line of JSON; strings without quotes are ambiguous, so
/// they keep theirs.
pub fn inline(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "(not set)".to_string(),
        // JSON escapes control characters; a known secret the org echoes
        // (in a URL, a description) is redacted.
        Some(v) => crate::api::untrusted::visible(&v.to_string()).into_owned(),
    }
}

/// A list field's change, item by item: the items that go, those that
/// come, and how many stay, whatever their order (a role's permissions, a
/// queue's members). Every renderer shows list changes through this, so a
/// new permission reads `+ "routing:queue:view"` in text, Markdown and
/// `JUnit`, in plans and drift reports alike.
#[derive(Debug, PartialEq)]
pub struct Items<'a> {
    pub removed: Vec<&'a Value>,
    pub added: Vec<&'a Value>,
    /// Items on both sides.
    pub kept: usize,
}

impl<'a> Items<'a> {
    /// The change from `before` to `after`, when at least one is a list and
    /// the other a list or not set (an unset side is the empty list), and
    /// an item is added or removed; `None` for other values, and for lists
    /// that differ only in order (shown whole).
    pub fn of(before: Option<&'a Value>, after: Option<&'a Value>) -> Option<Items<'a>> {
        fn list(value: Option<&Value>) -> Option<&[Value]> {
            match value {
                None | Some(Value::Null) => Some(&[]),
                Some(Value::Array(items)) => Some(items),
                Some(_) => None,
            }
        }
        let lists = before.is_some_and(Value::is_array) || after.is_some_and(Value::is_array);
        let (old, new) = (list(before)?, list(after)?);
        if !lists {
            return None;
        }
        let absent = |item: &Value, list: &[Value]| !list.iter().any(|x| diff::equivalent(item, x));
        let removed: Vec<&Value> = old.iter().filter(|item| absent(item, new)).collect();
        let added: Vec<&Value> = new.iter().filter(|item| absent(item, old)).collect();
        if removed.is_empty() && added.is_empty() {
            return None;
        }
        let kept = new.len() - added.len();
        Some(Items { removed, added, kept })
    }

    /// One line per item, `-` those that go, then `+` those that come, then
    /// ` ` and how many stay (when any do).
    pub fn lines(&self) -> Vec<(char, String)> {
        let mut lines: Vec<(char, String)> =
            self.removed.iter().map(|item| ('-', item.to_string())).collect();
        lines.extend(self.added.iter().map(|item| ('+', item.to_string())));
        if self.kept > 0 {
            lines.push((' ', format!("({} unchanged)", self.kept)));
        }
        lines
    }
}

/// A multi-line string value, if this is one (diffed line by line).
pub fn multiline(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|s| s.contains('\n'))
}

/// Unchanged lines shown around each change of a line diff.
const DIFF_CONTEXT: usize = 3;

/// A line of a line diff: `-` (old only), `+` (new only) or ` ` (both),
/// and its text; `None` where unchanged lines are left out.
pub type DiffLine = Option<(char, String)>;

/// The line diff from `old` to `new` (a flow's definition, a description):
/// every changed line with three unchanged lines around it, and a
/// `None` for each run of unchanged lines left out, so a one-line edit of a
/// long definition reads as a few lines.
pub fn line_diff(old: &str, new: &str) -> Vec<DiffLine> {
    use similar::{ChangeTag, TextDiff};
    let diff = TextDiff::from_lines(old, new);
    let groups = diff.grouped_ops(DIFF_CONTEXT);
    let mut out = Vec::new();
    let old_lines = diff.old_slices().len();
    for (i, group) in groups.iter().enumerate() {
        let starts_later = group.first().is_some_and(|op| op.old_range().start > 0);
        if i > 0 || starts_later {
            out.push(None);
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let sign = match change.tag() {
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                    ChangeTag::Equal => ' ',
                };
                let line = change.value().trim_end_matches('\n');
                // A line of the org's text: its control characters shown, not sent.
                let mut text = crate::api::untrusted::visible(line).into_owned();
                if sign != ' ' {
                    // A change of spacing alone must not read as two equal lines.
                    show_trailing_whitespace(&mut text);
                }
                out.push(Some((sign, text)));
                if sign != ' ' && change.missing_newline() {
                    out.push(Some((' ', "\\ no line break at the end".to_string())));
                }
            }
        }
    }
    let ends_early =
        groups.last().and_then(|g| g.last()).is_some_and(|op| op.old_range().end < old_lines);
    if ends_early {
        out.push(None);
    }
    out
}

/// A changed line's trailing spaces and tabs shown (`·`, `→`): a diff of a
/// line that differs only there would otherwise read as two equal lines.
fn show_trailing_whitespace(text: &mut String) {
    let kept = text.trim_end_matches([' ', '\t']).len();
    if kept == text.len() {
        return;
    }
    let shown: String = text[kept..].chars().map(|c| if c == '\t' { '→' } else { '·' }).collect();
    text.truncate(kept);
    text.push_str(&shown);
}

/// How a write-only change reads: never a value, only what will happen.
pub fn write_only_note(before: Option<&Value>, after: Option<&Value>) -> String {
    match (before.and_then(Value::as_u64), after.and_then(Value::as_u64)) {
        (_, None) => "(write-only)".to_string(),
        (None, Some(_)) => "(write-only) will be set".to_string(),
        // Version 0: the org marks the object as having no recorded secret.
        (Some(0), Some(a)) => {
            format!("(write-only) will be regenerated: no secret was recorded; version {a}")
        }
        (Some(b), Some(a)) => format!("(write-only) will be rotated: version {b} -> {a}"),
    }
}

/// An error's message, then each cause in its `source()` chain, each said
/// once: a cause whose text its parent already contains is left out, and a
/// parent that ends with `: CAUSE` is cut back to its own words. Renders as
/// `error:` then `Caused by:` lines, or joined on one line.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut chain: Vec<String> = Vec::new();
    let mut source = Some(err);
    while let Some(e) = source {
        let text = e.to_string();
        source = e.source();
        if let Some(parent) = chain.last_mut() {
            if let Some(own) = parent.strip_suffix(text.as_str()) {
                let own = own.trim_end_matches([':', ' ']);
                if !own.is_empty() {
                    *parent = own.to_string();
                }
            }
            if parent.contains(text.as_str()) {
                continue;
            }
        }
        if !text.is_empty() {
            chain.push(text);
        }
    }
    chain
}

#[cfg(test)]
mod tests {

    /// Lines that differ only in trailing spaces or the final line break
    /// read as different lines.
    #[test]
    fn a_change_of_spacing_alone_is_visible_in_a_line_diff() {
        let shown = |old: &str, new: &str| -> Vec<String> {
            line_diff(old, new).into_iter().flatten().map(|(s, t)| format!("{s}{t}")).collect()
        };
        assert_eq!(shown("one\ntwo\n", "one\ntwo  \n"), [" one", "-two", "+two··"]);
        assert_eq!(
            shown("one\ntwo\n", "one\ntwo"),
            [" one", "-two", "+two", " \\ no line break at the end"]
        );
        assert_eq!(shown("a\tb\t\n", "a\tb\n"), ["-a\tb→", "+a\tb"]);
    }

    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{text}")]
    struct Layer {
        text: &'static str,
        #[source]
        source: Option<Box<Layer>>,
    }

    fn layers(texts: &[&'static str]) -> Layer {
        texts
            .iter()
            .rev()
            .fold(None, |source, text| Some(Layer { text, source: source.map(Box::new) }))
            .unwrap()
    }

    #[test]
    fn an_error_chain_says_each_part_once() {
        let chain = |texts: &[&'static str]| error_chain(&layers(texts));
        assert_eq!(chain(&["creating Q", "409 Conflict"]), ["creating Q", "409 Conflict"]);
        // A message that also prints its source is cut back to its own words.
        assert_eq!(
            chain(&["creating Q: 409 Conflict", "409 Conflict"]),
            ["creating Q", "409 Conflict"]
        );
        // A cause that its parent already says is left out.
        assert_eq!(
            chain(&["409 Conflict (from POST)", "409 Conflict", ""]),
            ["409 Conflict (from POST)"]
        );
        assert_eq!(chain(&["same", "same"]), ["same"]);
    }
}
