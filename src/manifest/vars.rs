//! `${var.NAME}` substitution in every string of a document.
//!
//! Variables come from the `Project` (project-wide `variables`, overridden by
//! the selected environment's). `$${` writes a literal `${`. A plain
//! (unquoted) scalar that is exactly one `${var.NAME}` is re-typed after
//! substitution, so `alertingTimeoutSeconds: ${var.alertTimeout}` can be a
//! number. An unknown variable is reported at its own line and column.

use std::collections::BTreeMap;

use crate::manifest::yaml::{Loc, Node, Value, resolve_plain};

/// A variable that is used but not defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownVariable {
    pub name: String,
    pub loc: Loc,
    /// Not unknown: the text its references make would be larger than
    /// [`expansion_limit`] allows (`name` is the variable that crossed it).
    pub too_large: bool,
}

impl UnknownVariable {
    /// The problem, in words.
    pub fn message(&self) -> String {
        if self.too_large {
            format!(
                "variables make this text larger than gcctl expands (`{}` crossed the limit: 64 times the text's own length, plus 64 KiB)",
                self.name
            )
        } else {
            format!("unknown variable `{}`", self.name)
        }
    }
}

/// The most a text of `len` bytes may grow to by substitution: 64 times
/// its own length plus 64 KiB. Variables hold names, hosts, addresses and
/// numbers; without a limit, a few references to a large variable in each
/// of many strings would take gigabytes (2,000 references to a 1 MB value
/// took 10 GB), and the whole set is bounded by this times its size.
pub fn expansion_limit(len: usize) -> usize {
    len.saturating_mul(64).saturating_add(64 * 1024)
}

/// Substitute variables in place; returns every unknown variable.
pub fn substitute(node: &mut Node, vars: &BTreeMap<String, String>) -> Vec<UnknownVariable> {
    let mut unknown = Vec::new();
    walk(node, vars, &mut unknown);
    unknown
}

fn walk(node: &mut Node, vars: &BTreeMap<String, String>, unknown: &mut Vec<UnknownVariable>) {
    match &mut node.value {
        Value::Str(text) => {
            if super::yaml::find_pair(text, *b"${").is_none() {
                return;
            }
            let whole_plain_var = node.plain && is_single_var(text);
            let (out, missing) = expand(text, vars);
            for (name, offset, too_large) in missing {
                // Columns are exact for plain one-line scalars and close otherwise.
                let column = node.loc.column.saturating_add(u32::try_from(offset).unwrap_or(0));
                let loc = Loc { line: node.loc.line, column };
                unknown.push(UnknownVariable { name, loc, too_large });
            }
            node.value = if whole_plain_var { resolve_plain(&out) } else { Value::Str(out.into()) };
        }
        Value::Seq(items) => items.iter_mut().for_each(|n| walk(n, vars, unknown)),
        Value::Map(entries) => entries.iter_mut().for_each(|(_, n)| walk(n, vars, unknown)),
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
    }
}

/// Substitute variables in a whole text (a file a manifest names, such as a
/// flow definition); returns the text and every unknown variable at its
/// line and column in that text. Whole-line comments (`# …`) are left as
/// they are, as comments in manifests are.
pub fn substitute_text(
    text: &str,
    vars: &BTreeMap<String, String>,
) -> (String, Vec<UnknownVariable>) {
    let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let mut out = String::with_capacity(text.len());
    let mut unknown = Vec::new();
    for (index, line) in text.split_inclusive('\n').enumerate() {
        if line.trim_start().starts_with('#') {
            out.push_str(line);
            continue;
        }
        let (expanded, missing) = expand(line, vars);
        out.push_str(&expanded);
        unknown.extend(missing.into_iter().map(|(name, offset, too_large)| UnknownVariable {
            name,
            loc: Loc { line: clamp(index + 1), column: clamp(offset + 1) },
            too_large,
        }));
    }
    (out, unknown)
}

fn is_single_var(text: &str) -> bool {
    text.starts_with("${var.") && text.ends_with('}') && text[2..].find('}') == Some(text.len() - 3)
}

/// Expand one string; returns the result and the missing variables with the
/// character offset of each reference.
fn expand(text: &str, vars: &BTreeMap<String, String>) -> (String, Vec<(String, usize, bool)>) {
    let limit = expansion_limit(text.len());
    let mut out = String::with_capacity(text.len());
    let mut missing = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(start) = rest.find('$') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        offset += rest[..start].chars().count();
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
            offset += 3;
        } else if let Some(tail) = after.strip_prefix("${var.") {
            match tail.find('}') {
                Some(end) => {
                    let name = &tail[..end];
                    match vars.get(name) {
                        Some(value) if out.len() + value.len() > limit => {
                            // Reported, and the text left as it is.
                            missing.push((name.to_string(), offset, true));
                            return (text.to_string(), missing);
                        }
                        Some(value) => out.push_str(value),
                        None => {
                            missing.push((name.to_string(), offset, false));
                            out.push_str(&after[..=6 + end]);
                        }
                    }
                    let consumed = 6 + end + 1;
                    offset += after[..consumed].chars().count();
                    rest = &after[consumed..];
                }
                None => {
                    out.push_str(after);
                    rest = "";
                }
            }
        } else {
            out.push('$');
            rest = &after[1..];
            offset += 1;
        }
    }
    out.push_str(rest);
    (out, missing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::yaml::parse_documents;

    fn vars() -> BTreeMap<String, String> {
        [("host", "dev.example.com"), ("timeout", "30")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn substitutes_and_retypes_whole_plain_variables() {
        let mut doc = parse_documents(
            "url: https://${var.host}/hook\nt: ${var.timeout}\nq: '${var.timeout}'\ne: $${var.host}\n",
        )
        .unwrap()
        .remove(0);
        assert!(substitute(&mut doc, &vars()).is_empty());
        assert_eq!(doc.get("url").unwrap().as_str(), Some("https://dev.example.com/hook"));
        assert_eq!(doc.get("t").unwrap().value, Value::Int(30));
        assert_eq!(doc.get("q").unwrap().as_str(), Some("30"));
        assert_eq!(doc.get("e").unwrap().as_str(), Some("${var.host}"));
    }

    /// A text grows by substitution up to 64 times its length plus 64 KiB:
    /// references to a large variable beyond that are a problem at their
    /// place, and the text is left as written.
    #[test]
    fn expansion_is_limited() {
        let mut vars = vars();
        vars.insert("big".into(), "a".repeat(1_000_000));
        vars.insert("kb".into(), "b".repeat(1_000));
        let many = "${var.big}".repeat(2_000);
        let mut doc =
            parse_documents(&format!("d: {many}\nok: ${{var.kb}}${{var.kb}}\n")).unwrap().remove(0);
        let unknown = substitute(&mut doc, &vars);
        assert_eq!(unknown.len(), 1, "{unknown:?}");
        assert!(unknown[0].too_large && unknown[0].name == "big", "{unknown:?}");
        // At the reference that crosses the limit: the second.
        assert_eq!(unknown[0].loc, Loc { line: 1, column: 14 });
        assert!(unknown[0].message().starts_with("variables make this text larger"));
        assert_eq!(doc.get("d").unwrap().as_str(), Some(many.as_str()));
        assert_eq!(doc.get("ok").unwrap().as_str().map(str::len), Some(2_000));
        let (_, unknown) = substitute_text(&format!("x: {many}\n"), &vars);
        assert!(unknown.len() == 1 && unknown[0].too_large, "{unknown:?}");
    }

    #[test]
    fn substitutes_whole_texts_and_locates_unknown_variables() {
        let text = "# ${var.doc}\na: ${var.host}\nb:\n  c: x ${var.nope}\n";
        let (out, unknown) = substitute_text(&text[13..], &vars());
        assert_eq!(out, "a: dev.example.com\nb:\n  c: x ${var.nope}\n");
        assert_eq!(substitute_text(text, &vars()).0, format!("# ${{var.doc}}\n{out}"));
        assert_eq!(
            unknown,
            vec![UnknownVariable {
                name: "nope".into(),
                loc: Loc { line: 3, column: 8 },
                too_large: false
            }]
        );
    }

    #[test]
    fn reports_unknown_variables_at_their_column() {
        let mut doc = parse_documents("a:\n  url: https://${var.nope}/x\n").unwrap().remove(0);
        let unknown = substitute(&mut doc, &vars());
        assert_eq!(
            unknown,
            vec![UnknownVariable {
                name: "nope".into(),
                loc: Loc { line: 2, column: 16 },
                too_large: false
            }]
        );
    }
}
