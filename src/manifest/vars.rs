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
    /// What is wrong with it.
    pub problem: VarProblem,
    /// In a manifest's scalar, where `loc` is exact only if the scalar is
    /// plain and on one line: where the scalar starts and which of its
    /// references this is, for [`UnknownVariable::locate`] to find it in
    /// the source.
    pub scalar: Option<(Loc, usize)>,
}

/// What is wrong with a variable reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarProblem {
    /// No such variable.
    Unknown,
    /// The text its references make would be larger than
    /// [`expansion_limit`] allows (the name is the variable that crossed it).
    TooLarge,
    /// Not a reference: a `${var.` that no `}` closes (the name is empty).
    Unclosed,
    /// In a file, the start of an unquoted value, and the variable holds a
    /// ` #`, which YAML reads as the start of a comment: the value would
    /// end there, silently.
    Comment,
    /// In a file, in an unquoted value, and the variable holds a line
    /// break: the rest of its text would be read as YAML of its own (a new
    /// key of the flow, say), silently.
    LineBreak,
    /// In a file, in an unquoted value, and the variable holds `: `, which
    /// YAML reads as a key and its value there.
    KeyValue,
    /// In a file, in a double-quoted value, and the variable holds `"`, `\`
    /// or a line break: YAML reads them as the end of the value, an escape
    /// or a folded line, not as the variable's text.
    DoubleQuoted,
    /// In a file, in a single-quoted value, and the variable holds `'` or a
    /// line break: the value would end at it, or the line be folded.
    SingleQuoted,
    /// Text that looks like a reference and is not one (`${env.HOME}`,
    /// `${vars.host}`): kept as it is, which is rarely what was meant. The
    /// name is the text.
    LookAlike,
}

impl VarProblem {
    /// Whether it is a warning (an unquoted value that YAML may read as
    /// other than the variable's text; a line in a block scalar looks the
    /// same, so it cannot be told for sure) rather than an error.
    pub fn is_warning(self) -> bool {
        matches!(
            self,
            VarProblem::Comment
                | VarProblem::LineBreak
                | VarProblem::KeyValue
                | VarProblem::DoubleQuoted
                | VarProblem::SingleQuoted
                | VarProblem::LookAlike
        )
    }
}

impl UnknownVariable {
    /// The problem, in words.
    pub fn message(&self) -> String {
        if self.problem == VarProblem::LookAlike {
            format!(
                "`{}` is kept as text: only `${{var.NAME}}` is substituted",
                crate::api::untrusted::visible(&self.name)
            )
        } else if self.problem == VarProblem::LineBreak {
            format!(
                "variable `{}` holds a line break, and this value is not quoted: YAML would read the text after it as YAML of its own (new keys or items)",
                self.name
            )
        } else if self.problem == VarProblem::KeyValue {
            format!(
                "variable `{}` holds `: `, and this value is not quoted: YAML would read it as a key and its value",
                self.name
            )
        } else if self.problem == VarProblem::DoubleQuoted {
            format!(
                "variable `{}` holds `\"`, `\\` or a line break, and this value is in double quotes: YAML would read them as the end of the value, an escape or a folded line, not as the variable's text",
                self.name
            )
        } else if self.problem == VarProblem::SingleQuoted {
            format!(
                "variable `{}` holds `'` or a line break, and this value is in single quotes: YAML would end the value at it or fold the line",
                self.name
            )
        } else if self.problem == VarProblem::Comment {
            format!(
                "variable `{}` holds ` #`, which YAML reads as a comment here: the value would end before it",
                self.name
            )
        } else if self.problem == VarProblem::Unclosed {
            "`${var.` is not closed: a reference is `${var.NAME}`".to_string()
        } else if self.problem == VarProblem::TooLarge {
            format!(
                "variables make this text larger than gcctl expands (`{}` crossed the limit: 64 times the text's own length, plus 64 KiB, for each text and for its whole document or file)",
                self.name
            )
        } else {
            format!("unknown variable `{}`", self.name)
        }
    }

    /// What to do, when it is not to define the variable.
    pub fn special_hint(&self) -> Option<&'static str> {
        if self.problem == VarProblem::LookAlike {
            Some(
                "write `${var.NAME}` for a Project variable (environment variables are read only by a secret's `fromEnv`), or `$${` to keep the text as it is",
            )
        } else if matches!(self.problem, VarProblem::DoubleQuoted | VarProblem::SingleQuoted) {
            Some(
                "quote the value the other way, or write it as a block scalar (`key: |`, the text on the lines below), where nothing is an escape or an end",
            )
        } else if self.problem.is_warning() {
            Some("quote the reference: `\"${var.NAME}\"`")
        } else if self.problem == VarProblem::Unclosed {
            Some("close it with `}`, or write `$${var.` for the text `${var.` itself")
        } else if self.problem == VarProblem::TooLarge {
            Some(
                "keep variables short (names, hosts, addresses); put long text in the manifest or file itself",
            )
        } else {
            None
        }
    }

    /// Place a reference in a quoted or multi-line scalar at its own line
    /// and column, from the text of the file it was read from: the scalar's
    /// references are found again there, as substitution reads them. Left
    /// where it was (close) when the source does not show that reference
    /// under that name (a double-quoted escape spelling it, another text).
    pub fn locate(&mut self, source: &str) {
        let Some((start, ordinal)) = self.scalar else { return };
        let Some(from) = byte_offset(source, start) else { return };
        let mut found = pieces(&source[from..]).filter_map(|(at, piece)| match piece {
            Piece::Reference(name) => Some((at, name)),
            Piece::Unclosed(_) => Some((at, "")),
            Piece::Text(_) | Piece::Escape => None,
        });
        if let Some((at, name)) = found.nth(ordinal)
            && name == self.name
        {
            self.loc = loc_at(source, from + at);
            self.scalar = None;
        }
    }
}

/// The byte offset of a 1-based line and column (in characters) in `text`.
fn byte_offset(text: &str, loc: Loc) -> Option<usize> {
    let line = usize::try_from(loc.line).ok()?.checked_sub(1)?;
    let start =
        if line == 0 { 0 } else { memchr::memchr_iter(b'\n', text.as_bytes()).nth(line - 1)? + 1 };
    let column = usize::try_from(loc.column).ok()?.checked_sub(1)?;
    let rest = &text[start..];
    let within = rest.char_indices().map(|(i, _)| i).chain([rest.len()]).nth(column)?;
    Some(start + within)
}

/// The 1-based line and column (in characters) of byte `at` of `text`.
fn loc_at(text: &str, at: usize) -> Loc {
    let before = &text[..at];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Loc {
        line: clamp(memchr::memchr_iter(b'\n', before.as_bytes()).count() + 1),
        column: clamp(before[line_start..].chars().count() + 1),
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

/// How much a whole document (or file) may grow by substitution: as one
/// text of all its strings' length ([`expansion_limit`] less that length).
/// Each string is held to its own limit too: without a total, the 64 KiB
/// each string may add would let 20,000 short references to a large value
/// take gigabytes.
fn growth_budget(len: usize) -> Budget {
    Budget { left: expansion_limit(len).saturating_sub(len), exceeded: false }
}

/// What a document (or file) may still grow by, and whether a text of it
/// crossed a limit already: that is reported once, not for every reference
/// after it (20,000 of them printed 6 MB).
struct Budget {
    left: usize,
    exceeded: bool,
}

/// Substitute variables in place; returns every unknown variable.
pub fn substitute(node: &mut Node, vars: &BTreeMap<String, String>) -> Vec<UnknownVariable> {
    let mut unknown = Vec::new();
    let mut budget = growth_budget(text_len(node));
    walk(node, vars, &mut unknown, &mut budget);
    unknown
}

/// The bytes of every string of `node`.
fn text_len(node: &Node) -> usize {
    match &node.value {
        Value::Str(text) => text.len(),
        Value::Seq(items) => items.iter().map(text_len).sum(),
        Value::Map(entries) => entries.iter().map(|(_, n)| text_len(n)).sum(),
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => 0,
    }
}

fn walk(
    node: &mut Node,
    vars: &BTreeMap<String, String>,
    unknown: &mut Vec<UnknownVariable>,
    budget: &mut Budget,
) {
    match &mut node.value {
        Value::Str(text) => {
            if super::yaml::find_pair(text, *b"${").is_none() {
                return;
            }
            let whole_plain_var = node.plain && is_single_var(text);
            // Exact in a plain scalar on one line; else at the scalar.
            let one_line = node.plain && !text.contains('\n');
            for (_, column, name) in look_alikes(text) {
                let column = node.loc.column.saturating_add(u32::try_from(column).unwrap_or(0));
                let loc = if one_line { Loc { line: node.loc.line, column } } else { node.loc };
                let problem = VarProblem::LookAlike;
                unknown.push(UnknownVariable {
                    name: name.to_string(),
                    loc,
                    problem,
                    scalar: None,
                });
            }
            let (out, missing) = expand(text, vars, budget);
            for Missing { name, offset, problem, ordinal } in missing {
                // Exact for a plain scalar on one line; in others the
                // quotes, escapes and line breaks move it, so the
                // reference is found again in the source (`locate`).
                let column = node.loc.column.saturating_add(u32::try_from(offset).unwrap_or(0));
                let loc = Loc { line: node.loc.line, column };
                let scalar = Some((node.loc, ordinal));
                unknown.push(UnknownVariable { name, loc, problem, scalar });
            }
            node.value = if whole_plain_var { retyped(&out) } else { Value::Str(out.into()) };
        }
        Value::Seq(items) => items.iter_mut().for_each(|n| walk(n, vars, unknown, budget)),
        Value::Map(entries) => {
            for (_, n) in entries.iter_mut() {
                walk(n, vars, unknown, budget);
            }
        }
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
    }
}

/// What an unquoted, whole `${var.NAME}` stands for: the variable's
/// number or boolean when its text is one as YAML writes it back (`30`,
/// `1.5`, `-3`, `true`: a variable written unquoted, or quoted as such),
/// else its text. Never a null, and never a number its text does not
/// spell: `""`, `~` and `null` would drop the field from the manifest
/// (left unmanaged, silently), and `0x10`, `+30`, `007` or `True` would be
/// another value than the text the variable holds.
fn retyped(text: &str) -> Value {
    match resolve_plain(text) {
        Value::Int(n) if n.to_string() == text => Value::Int(n),
        Value::Float(f) if f.to_string() == text => Value::Float(f),
        Value::Bool(b) if text == if b { "true" } else { "false" } => Value::Bool(b),
        _ => Value::Str(text.into()),
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
    let mut budget = growth_budget(text.len());
    let mut read_as = crate::FastMap::default();
    for (index, line) in text.split_inclusive('\n').enumerate() {
        if line.trim_start().starts_with('#') {
            out.push_str(line);
            continue;
        }
        for (_, column, name) in look_alikes(line) {
            let column = clamp(column + 1);
            unknown.push(UnknownVariable {
                name: name.to_string(),
                loc: Loc { line: clamp(index + 1), column },
                problem: VarProblem::LookAlike,
                scalar: None,
            });
        }
        let (expanded, missing) = expand(line, vars, &mut budget);
        out.push_str(&expanded);
        for (at, name, problem) in unquoted_references(line, vars, &mut read_as) {
            let column = clamp(line[..at].chars().count() + 1);
            unknown.push(UnknownVariable {
                name: name.to_string(),
                loc: Loc { line: clamp(index + 1), column },
                problem,
                scalar: None,
            });
        }
        unknown.extend(missing.into_iter().map(|m| UnknownVariable {
            name: m.name,
            loc: Loc { line: clamp(index + 1), column: clamp(m.offset + 1) },
            problem: m.problem,
            scalar: None,
        }));
    }
    (out, unknown)
}

/// The references on a line of a file that start, or sit in, a value
/// (after `key: ` or `- `) and whose variable YAML would read as other than
/// its text there, silently. In an unquoted value: one holding a `#` after a
/// space or at its start (a comment: the value would end before it), a line
/// break (the rest would be YAML of its own) or `: ` (a key). In a
/// double-quoted one: `"`, `\` or a line break; in a single-quoted one: `'`
/// or a line break. (A line inside a block scalar (`|`) can look the same,
/// and a reference after a quoted value's end is taken as inside it: this
/// is why it is a warning.)
fn unquoted_references<'a>(
    line: &'a str,
    vars: &BTreeMap<String, String>,
    read_as: &mut crate::FastMap<(&'a str, Option<char>), Option<VarProblem>>,
) -> Vec<(usize, &'a str, VarProblem)> {
    let body = line.trim_start();
    let indent = line.len() - body.len();
    let value_start = if let Some(rest) = body.strip_prefix("- ") {
        indent + 2 + (rest.len() - rest.trim_start().len())
    } else if let Some(colon) = body.find(": ") {
        let rest = &body[colon + 2..];
        indent + colon + 2 + (rest.len() - rest.trim_start().len())
    } else {
        return Vec::new();
    };
    let quote = line[value_start..].chars().next().filter(|c| matches!(c, '"' | '\''));
    if line[value_start..].starts_with(['|', '>']) {
        return Vec::new();
    }
    // Each variable's text is looked at once per file: a file may hold
    // thousands of references to one long variable.
    let problem = |value: &str| {
        let breaks = memchr::memchr2(b'\n', b'\r', value.as_bytes()).is_some();
        if quote == Some('"') {
            (breaks || value.contains(['"', '\\'])).then_some(VarProblem::DoubleQuoted)
        } else if quote == Some('\'') {
            (breaks || value.contains('\'')).then_some(VarProblem::SingleQuoted)
        } else if breaks {
            Some(VarProblem::LineBreak)
        } else if value.starts_with('#') || value.contains(" #") || value.contains("\t#") {
            Some(VarProblem::Comment)
        } else if value.contains(": ") || value.contains(":\t") || value.ends_with(':') {
            Some(VarProblem::KeyValue)
        } else {
            None
        }
    };
    pieces(line)
        .filter_map(|(at, piece)| match piece {
            Piece::Reference(name) if at >= value_start => {
                let found =
                    *read_as.entry((name, quote)).or_insert_with(|| problem(vars.get(name)?));
                Some((at, name, found?))
            }
            _ => None,
        })
        .collect()
}

fn is_single_var(text: &str) -> bool {
    text.starts_with("${var.") && text.ends_with('}') && text[2..].find('}') == Some(text.len() - 3)
}

/// A reference to a variable that is not defined, or that crossed the
/// expansion limit.
struct Missing {
    name: String,
    /// Its offset in the text, in characters.
    offset: usize,
    problem: VarProblem,
    /// Which `${var.…}` reference of the text it is (from 0).
    ordinal: usize,
}

/// Expand one string, within its own limit and what is left of `budget`
/// (the growth its document may still have, lessened by this string's);
/// returns the result and the missing variables.
fn expand(
    text: &str,
    vars: &BTreeMap<String, String>,
    budget: &mut Budget,
) -> (String, Vec<Missing>) {
    let limit = expansion_limit(text.len()).min(text.len().saturating_add(budget.left));
    let mut out = String::with_capacity(text.len());
    let mut missing = Vec::new();
    // Characters before byte `counted`, counted as far as needed.
    let (mut counted, mut chars) = (0, 0);
    let mut ordinal = 0;
    for (at, piece) in pieces(text) {
        let name = match piece {
            Piece::Text(t) => {
                out.push_str(t);
                continue;
            }
            Piece::Escape => {
                out.push_str("${");
                continue;
            }
            Piece::Reference(name) => name,
            Piece::Unclosed(rest) => {
                chars += text[counted..at].chars().count();
                counted = at;
                out.push_str(rest);
                let offset = chars;
                missing.push(Missing {
                    name: String::new(),
                    offset,
                    problem: VarProblem::Unclosed,
                    ordinal,
                });
                ordinal += 1;
                continue;
            }
        };
        chars += text[counted..at].chars().count();
        counted = at;
        let reference = Missing {
            name: name.to_string(),
            offset: chars,
            problem: VarProblem::Unknown,
            ordinal,
        };
        ordinal += 1;
        match vars.get(name) {
            Some(value) if out.len() + value.len() > limit => {
                // Reported (once in a document), and the text left as it is.
                if !budget.exceeded {
                    missing.push(Missing { problem: VarProblem::TooLarge, ..reference });
                }
                budget.exceeded = true;
                return (text.to_string(), missing);
            }
            Some(value) => out.push_str(value),
            None => {
                out.push_str(&text[at..at + name.len() + 7]);
                missing.push(reference);
            }
        }
    }
    budget.left = budget.left.saturating_sub(out.len().saturating_sub(text.len()));
    (out, missing)
}

/// A piece of a text as substitution reads it.
enum Piece<'a> {
    /// As it is (a `$` that starts nothing).
    Text(&'a str),
    /// A `${var.` that no `}` closes, and the rest of the text.
    Unclosed(&'a str),
    /// `$${`, which stands for `${`.
    Escape,
    /// `${var.NAME}`: the name.
    Reference(&'a str),
}

/// Text that looks like a reference and is not one, with its byte offset
/// and its column (in characters, from 0): `${WORD.NAME}` with another word
/// than `var` (`${env.HOME}`, `${vars.x}`, `${Var.x}`), not escaped as `$${`.
/// Linear in the text: a name is letters, digits, `_`, `.` and `-` up to its
/// `}`, and columns are counted as the search goes.
fn look_alikes(text: &str) -> Vec<(usize, usize, &str)> {
    let name_char = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-';
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let (mut counted, mut column) = (0, 0);
    for (i, _) in text.match_indices("${") {
        if i < counted || text[..i].ends_with('$') {
            continue;
        }
        let start = i + 2;
        let word =
            bytes[start..].iter().take_while(|&&b| b.is_ascii_alphanumeric() || b == b'_').count();
        if word == 0
            || bytes.get(start + word) != Some(&b'.')
            || &text[start..start + word] == "var"
        {
            continue;
        }
        let tail = bytes[start + word..].iter().take_while(|&&b| name_char(b)).count();
        let end = start + word + tail;
        if bytes.get(end) != Some(&b'}') {
            continue;
        }
        column += text[counted..i].chars().count();
        counted = i;
        found.push((i, column, &text[i..=end]));
    }
    found
}

/// The pieces of `text` in order, each with its byte offset.
fn pieces(text: &str) -> impl Iterator<Item = (usize, Piece<'_>)> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let rest = &text[at..];
        if rest.is_empty() {
            return None;
        }
        let start = at;
        let (piece, len) = match rest.find('$') {
            Some(0) => {
                if rest.starts_with("$${") {
                    (Piece::Escape, 3)
                } else if let Some(name) =
                    rest.strip_prefix("${var.").and_then(|tail| tail.split_once('}'))
                {
                    (Piece::Reference(name.0), name.0.len() + 7)
                } else if rest.starts_with("${var.") {
                    (Piece::Unclosed(rest), rest.len())
                } else {
                    (Piece::Text("$"), 1)
                }
            }
            Some(dollar) => (Piece::Text(&rest[..dollar]), dollar),
            None => (Piece::Text(rest), rest.len()),
        };
        at += len;
        Some((start, piece))
    })
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

    /// A whole unquoted reference is the variable's number or boolean only
    /// when its text spells one as YAML writes it back; anything else is
    /// its text, never a null or another number.
    #[test]
    fn a_whole_reference_is_retyped_only_to_what_its_text_spells() {
        let cases: [(&str, Value); 12] = [
            ("30", Value::Int(30)),
            ("-3", Value::Int(-3)),
            ("1.5", Value::Float(1.5)),
            ("true", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("", Value::Str("".into())),
            ("~", Value::Str("~".into())),
            ("null", Value::Str("null".into())),
            ("0x10", Value::Str("0x10".into())),
            ("+30", Value::Str("+30".into())),
            ("007", Value::Str("007".into())),
            ("True", Value::Str("True".into())),
        ];
        for (text, expected) in cases {
            let vars: BTreeMap<String, String> = [("v".to_string(), text.to_string())].into();
            let mut doc = parse_documents("x: ${var.v}\n").unwrap().remove(0);
            assert!(substitute(&mut doc, &vars).is_empty());
            assert_eq!(doc.get("x").unwrap().value, expected, "{text:?}");
        }
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
        assert!(
            unknown[0].problem == VarProblem::TooLarge && unknown[0].name == "big",
            "{unknown:?}"
        );
        // At the reference that crosses the limit: the second.
        assert_eq!(unknown[0].loc, Loc { line: 1, column: 14 });
        assert!(unknown[0].message().starts_with("variables make this text larger"));
        assert_eq!(doc.get("d").unwrap().as_str(), Some(many.as_str()));
        assert_eq!(doc.get("ok").unwrap().as_str().map(str::len), Some(2_000));
        let (_, unknown) = substitute_text(&format!("x: {many}\n"), &vars);
        assert!(unknown.len() == 1 && unknown[0].problem == VarProblem::TooLarge, "{unknown:?}");
    }

    /// Each short string may grow by 64 KiB, but a document (or file) as a
    /// whole only as one text of all its strings may: 20,000 references to
    /// a 60 KB value took 2.4 GB. The first reference past the total is
    /// reported, once; the strings after it keep their references.
    #[test]
    fn a_documents_expansion_is_limited_as_a_whole() {
        let mut vars = vars();
        vars.insert("v".into(), "x".repeat(60_000));
        let lines = (0..20_000).fold(String::new(), |mut text, i| {
            let _ = std::fmt::Write::write_fmt(&mut text, format_args!("l{i}: ${{var.v}}\n"));
            text
        });
        let mut doc = parse_documents(&lines).unwrap().remove(0);
        let unknown = substitute(&mut doc, &vars);
        assert_eq!(unknown.len(), 1, "reported once");
        assert_eq!(unknown[0].problem, VarProblem::TooLarge);
        let grown: usize = match &doc.value {
            Value::Map(entries) => {
                entries.iter().map(|(_, n)| n.as_str().map_or(0, str::len)).sum()
            }
            _ => 0,
        };
        assert!(grown <= expansion_limit(lines.len()), "{grown}");
        assert_eq!(doc.get("l19999").unwrap().as_str(), Some("${var.v}"));
        let (out, unknown) = substitute_text(&lines, &vars);
        assert_eq!(unknown.len(), 1, "reported once");
        assert!(out.len() <= expansion_limit(lines.len()), "{}", out.len());
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
                problem: VarProblem::Unknown,
                scalar: None
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
                problem: VarProblem::Unknown,
                scalar: Some((Loc { line: 2, column: 8 }, 0))
            }]
        );
    }

    /// A variable holding ` #` at or in an unquoted value of a file is
    /// found (YAML would end the value there); quoted, or in a comment, it
    /// is not.
    #[test]
    fn a_hash_in_an_unquoted_value_of_a_file_is_found() {
        let vars: BTreeMap<String, String> =
            [("g", "Welcome #1 customer"), ("h", "#tag"), ("ok", "a#b")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let text = "a: ${var.g}\nb: 'x ${var.g}'\n- x ${var.h}\nc: ${var.ok}\n# ${var.g}\nd: \"${var.h}\"\n";
        let (_, found) = substitute_text(text, &vars);
        let at: Vec<(u32, u32, &str)> =
            found.iter().map(|v| (v.loc.line, v.loc.column, v.name.as_str())).collect();
        assert_eq!(at, [(1, 4, "g"), (3, 5, "h")]);
        assert!(found.iter().all(|v| v.problem == VarProblem::Comment));
    }

    /// A variable holding a line break or `: ` in an unquoted value of a
    /// file is found: YAML would read new keys, or a key, out of it (a flow
    /// gained `disconnect: true`). Quoted, or holding `://` or `10:30`, it
    /// is not.
    #[test]
    fn a_line_break_or_a_key_in_an_unquoted_value_of_a_file_is_found() {
        let vars: BTreeMap<String, String> = [
            ("g", "Goodbye\n  disconnect: true"),
            ("kv", "hello: world"),
            ("end", "Hello:"),
            ("url", "https://x.example.com"),
            ("time", "10:30"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let text =
            "a: ${var.g}\nb: ${var.kv}\nc: \"${var.g}\"\nd: ${var.url} ${var.time}\n- ${var.end}\n";
        let (_, found) = substitute_text(text, &vars);
        let at: Vec<(u32, u32, &str, VarProblem)> =
            found.iter().map(|v| (v.loc.line, v.loc.column, v.name.as_str(), v.problem)).collect();
        assert_eq!(
            at,
            [
                (1, 4, "g", VarProblem::LineBreak),
                (2, 4, "kv", VarProblem::KeyValue),
                (3, 5, "g", VarProblem::DoubleQuoted),
                (5, 3, "end", VarProblem::KeyValue)
            ]
        );
        assert!(found.iter().all(|v| v.problem.is_warning()));
        assert!(found[0].message().contains("holds a line break, and this value is not quoted"));
    }

    /// A variable holding what ends or escapes a quoted value of a file is
    /// found in that quoting (a path's `\t` was read as a tab, a `"` broke
    /// the file); one that quoting keeps as written is not.
    #[test]
    fn a_quote_or_a_backslash_in_a_quoted_value_of_a_file_is_found() {
        let vars: BTreeMap<String, String> = [
            ("path", "C:\\temp\\new"),
            ("said", "Say \"hi\""),
            ("its", "it's"),
            ("plain", "a: #b"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let text = "a: \"${var.path}\"\nb: '${var.path}'\nc: \"x ${var.said}\"\nd: '${var.its}'\ne: \"${var.its}\"\nf: '${var.plain}'\n";
        let (_, found) = substitute_text(text, &vars);
        let at: Vec<(u32, &str, VarProblem)> =
            found.iter().map(|v| (v.loc.line, v.name.as_str(), v.problem)).collect();
        assert_eq!(
            at,
            [
                (1, "path", VarProblem::DoubleQuoted),
                (3, "said", VarProblem::DoubleQuoted),
                (4, "its", VarProblem::SingleQuoted)
            ]
        );
        assert!(found.iter().all(|v| v.problem.is_warning()));
        assert!(
            found[0].message().contains("this value is in double quotes"),
            "{}",
            found[0].message()
        );
    }

    /// Text like a reference that is not one is found, a warning; escaped,
    /// or a real reference, or without a `.`, it is not.
    #[test]
    fn look_alike_references_are_warnings() {
        assert_eq!(
            look_alikes("é ${env.HOME} b ${vars.x} ${Var.y} ${var.host} $${env.Z} ${x} ${a.b c}"),
            [(3, 2, "${env.HOME}"), (17, 16, "${vars.x}"), (27, 26, "${Var.y}")]
        );
        // Linear: a long line of unclosed look-alikes.
        let long = "${a.".repeat(250_000);
        assert!(look_alikes(&long).is_empty());
        let many = "${a.b}".repeat(100_000);
        assert_eq!(look_alikes(&many).last().map(|f| f.1), Some(599_994));
        let mut doc = parse_documents("a: x ${env.HOME}\nb: ${var.host}\n").unwrap().remove(0);
        let found = substitute(&mut doc, &vars());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].problem.is_warning());
        assert_eq!((found[0].loc.line, found[0].loc.column), (1, 6));
        assert_eq!(doc.get("a").unwrap().as_str(), Some("x ${env.HOME}"));
        let (_, found) = substitute_text("k:\n  v: ${env.HOME}\n", &vars());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].loc.line, found[0].loc.column), (2, 6));
    }

    /// A `${var.` that no `}` closes is a problem at its place, in a
    /// manifest's scalar and in a file; the text is left as it is.
    #[test]
    fn an_unclosed_reference_is_a_problem_at_its_place() {
        let mut doc = parse_documents("a: 'x ${var.host} and ${var.nope'\n").unwrap().remove(0);
        let mut unknown = substitute(&mut doc, &vars());
        assert_eq!(unknown.len(), 1, "{unknown:?}");
        unknown[0].locate("a: 'x ${var.host} and ${var.nope'\n");
        assert!(
            unknown[0].problem == VarProblem::Unclosed && unknown[0].name.is_empty(),
            "{unknown:?}"
        );
        assert_eq!(unknown[0].loc, Loc { line: 1, column: 23 });
        assert!(unknown[0].message().contains("is not closed"));
        assert_eq!(doc.get("a").unwrap().as_str(), Some("x dev.example.com and ${var.nope"));
        let (_, unknown) = substitute_text("k: ${var.x\n", &vars());
        assert!(unknown.len() == 1 && unknown[0].problem == VarProblem::Unclosed, "{unknown:?}");
        assert_eq!(unknown[0].loc, Loc { line: 1, column: 4 });
        let (_, unknown) = substitute_text("k: $${var.x\n", &vars());
        assert!(unknown.is_empty(), "an escape is text: {unknown:?}");
    }

    /// In quoted and multi-line scalars (plain ones folded too), an unknown
    /// variable is found again in the source, at its own line and column:
    /// after escapes, `$${`, known references and line breaks, and with
    /// characters before it that take more than a byte.
    #[test]
    fn locates_unknown_variables_in_quoted_and_multiline_scalars() {
        let source = concat!(
            "a: \"é \\\" $${var.x} ${var.host} ${var.nope}\"\n",
            "b: 'it''s ${var.gone}'\n",
            "c: |\n  first ${var.host}\n  ünd ${var.nope} ${var.gone}\n",
            "d: plain\n  folded ${var.nope}\n",
        );
        let mut doc = parse_documents(source).unwrap().remove(0);
        let mut unknown = substitute(&mut doc, &vars());
        for var in &mut unknown {
            var.locate(source);
        }
        let found: Vec<(&str, u32, u32)> =
            unknown.iter().map(|v| (v.name.as_str(), v.loc.line, v.loc.column)).collect();
        assert_eq!(
            found,
            [("nope", 1, 32), ("gone", 2, 11), ("nope", 5, 7), ("gone", 5, 19), ("nope", 7, 10)]
        );
        assert!(unknown.iter().all(|v| v.scalar.is_none()), "{unknown:?}");
        // A source that does not show the reference leaves it where it was.
        let mut doc = parse_documents("a: \"\\x24{var.nope}\"\n").unwrap().remove(0);
        let mut unknown = substitute(&mut doc, &vars());
        let close = unknown[0].loc;
        unknown[0].locate("a: \"\\x24{var.nope}\"\n");
        assert_eq!(unknown[0].loc, close);
    }
}
