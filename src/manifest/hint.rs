//! What the manifest files appear to declare, found by scanning their text
//! line by line while the set is still loading ([`declared_hint`]): which
//! kinds (so `gcctl plan` lists them as soon as it has a token), whether a
//! division is named, and which top-level spec fields each kind's documents
//! set (so those lists decode what comparing them needs: see
//! `ReadScope::lean` in `plan::read`).
//!
//! A hint may be wrong; whoever uses one checks it against the loaded set
//! and does the work again where it was (a list of a kind the set does not
//! declare is dropped, a list that decoded fewer keys than the set needs is
//! made again). Where the scan cannot read a document's spec, it says it
//! does not know rather than guess.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::files::{collect, read_manifest};
use crate::kinds::Kind;

/// What the manifest files under `paths` appear to declare, found by
/// scanning their text, without parsing (a few milliseconds where loading
/// 50,000 objects takes half a second): a hint for starting work early,
/// never a substitute for loading.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclaredHint {
    /// The kinds of the top-level `kind: Name` lines of the files that have
    /// a top-level `apiVersion:` line, each with its number of such lines
    /// (documents). A kind written in flow style (`{kind: ...}`) is missed,
    /// and a document the load rejects still counts.
    pub kinds: BTreeMap<Kind, u64>,
    /// Whether an indented `division:` or `divisions:` key appears in those
    /// files (a queue's or flow's division, an OAuth client's role
    /// divisions): the set likely names a division. Text that only looks
    /// like one (inside a block scalar) counts too.
    pub names_divisions: bool,
    /// The keys of the block mapping under each document's top-level
    /// `spec:` line, by the document's kind.
    spec_keys: BTreeMap<Kind, BTreeSet<String>>,
    /// The kinds with a document whose spec keys the scan cannot read.
    unknown_keys: BTreeSet<Kind>,
}

impl DeclaredHint {
    /// The top-level spec fields the documents of `kind` appear to set;
    /// `None` when the scan cannot tell (a spec in flow style, behind an
    /// anchor or alias, with a merge key or tabs; or no document of the
    /// kind was seen).
    pub fn spec_keys(&self, kind: Kind) -> Option<impl Iterator<Item = &str>> {
        if self.unknown_keys.contains(&kind) || !self.kinds.contains_key(&kind) {
            return None;
        }
        Some(self.spec_keys.get(&kind).into_iter().flatten().map(String::as_str))
    }
}

/// [`DeclaredHint`] of the manifest files under `paths`.
pub fn declared_hint(paths: &[PathBuf]) -> DeclaredHint {
    let mut hint = DeclaredHint::default();
    for file in collect(paths, &mut Vec::new()) {
        let Ok(text) = read_manifest(&file) else { continue };
        if !text.lines().any(|line| line.starts_with("apiVersion:")) {
            continue;
        }
        let mut document = Document::default();
        for line in text.lines() {
            if line.starts_with("---") || line.starts_with("...") {
                std::mem::take(&mut document).end(&mut hint);
                continue;
            }
            if let Some(name) = line.strip_prefix("kind:") {
                let name = without_comment(name).trim_matches(['"', '\'']);
                if let Some(kind) = Kind::parse(name) {
                    *hint.kinds.entry(kind).or_default() += 1;
                    document.kind = Some(kind);
                }
            } else if !hint.names_divisions && line.starts_with([' ', '\t']) {
                let key = line.trim_start().trim_start_matches("- ").trim_start();
                hint.names_divisions =
                    key.starts_with("division:") || key.starts_with("divisions:");
            }
            document.line(line);
        }
        document.end(&mut hint);
    }
    hint
}

/// What the scan learned of one document's spec.
#[derive(Default)]
struct Document {
    kind: Option<Kind>,
    /// Inside the block under a top-level `spec:` line.
    in_spec: bool,
    /// The indentation of the spec's keys, from its first key line.
    indent: Option<usize>,
    keys: BTreeSet<String>,
    unknown: bool,
}

impl Document {
    fn line(&mut self, line: &str) {
        let text = line.trim_start_matches([' ', '\t']);
        if text.is_empty() || text.starts_with('#') {
            return;
        }
        if text.len() == line.len() {
            // A top-level line ends the spec's block, or starts it.
            self.in_spec = false;
            if let Some(rest) = line.strip_prefix("spec:") {
                // `spec: {...}`, `spec: *alias`, `spec: &anchor`, `spec: !!map`.
                self.unknown |= !without_comment(rest).is_empty();
                self.in_spec = true;
            }
            return;
        }
        if !self.in_spec {
            return;
        }
        let spaces = line.len() - line.trim_start_matches(' ').len();
        if spaces != line.len() - text.len() {
            // A tab in the indentation: not for a line scan to measure.
            self.unknown = true;
            return;
        }
        match self.indent {
            None => self.indent = Some(spaces),
            Some(indent) if spaces > indent => return,
            Some(indent) if spaces < indent => {
                self.unknown = true;
                return;
            }
            Some(_) => {}
        }
        match mapping_key(text) {
            Some(key) if key != "<<" => {
                self.keys.insert(key.to_string());
            }
            _ => self.unknown = true,
        }
    }

    fn end(self, hint: &mut DeclaredHint) {
        let Some(kind) = self.kind else { return };
        if self.unknown {
            hint.unknown_keys.insert(kind);
        } else {
            hint.spec_keys.entry(kind).or_default().extend(self.keys);
        }
    }
}

/// The key of a block mapping line (`key: value`, `key:`, `"key": value`),
/// or `None` for anything else (a list item, a complex key, a line the
/// scan does not understand).
fn mapping_key(text: &str) -> Option<&str> {
    let (key, rest) = match text.chars().next()? {
        quote @ ('"' | '\'') => {
            let end = text[1..].find(quote)? + 1;
            let key = &text[1..end];
            // An escape inside a quoted key: not for a line scan.
            if key.contains(['\\', quote]) {
                return None;
            }
            (key, &text[end + 1..])
        }
        '-' | '?' | '&' | '*' | '!' | '[' | '{' | '|' | '>' | '%' | '@' | '`' => return None,
        _ => {
            let colon = text
                .match_indices(':')
                .map(|(i, _)| i)
                .find(|&i| text[i + 1..].is_empty() || text[i + 1..].starts_with([' ', '\t']))?;
            (text[..colon].trim_end(), &text[colon..])
        }
    };
    let after = rest.strip_prefix(':')?;
    (after.is_empty() || after.starts_with([' ', '\t'])).then_some(key).filter(|k| !k.is_empty())
}

/// `text` without a trailing comment, trimmed.
fn without_comment(text: &str) -> &str {
    let end = text
        .match_indices('#')
        .map(|(i, _)| i)
        .find(|&i| i == 0 || text[..i].ends_with([' ', '\t']));
    text[..end.unwrap_or(text.len())].trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint_of(text: &str) -> DeclaredHint {
        let dir = tempfile::Builder::new().prefix("gcctl-hint-").tempdir().unwrap();
        fs_err::write(dir.path().join("m.yaml"), text).unwrap();
        declared_hint(&[dir.path().to_path_buf()])
    }

    /// The spec keys the hint has for the kind named `kind` in the texts.
    fn keys<'a>(hint: &'a DeclaredHint, kind: &str) -> Option<Vec<&'a str>> {
        hint.spec_keys(Kind::parse(kind).expect("a kind name")).map(Iterator::collect)
    }

    #[test]
    fn the_hint_reads_top_level_kind_lines_of_manifest_files() {
        let dir = tempfile::Builder::new().prefix("gcctl-hint-").tempdir().unwrap();
        let write = |name: &str, text: &str| fs_err::write(dir.path().join(name), text).unwrap();
        write(
            "queues.yaml",
            "apiVersion: gcctl/v1\nkind: RoutingQueue  # a comment\nmetadata:\n  name: a\n---\napiVersion: gcctl/v1\nkind: \"Role\"\n",
        );
        // Not a manifest file (no top-level apiVersion): a walk skips it.
        write("values.yaml", "kind: OAuthClient\n");
        // Flow style is missed (a hint, not a parse); an indented `kind:` is not top-level.
        write(
            "flow.yaml",
            "{apiVersion: gcctl/v1, kind: Flow}\n---\napiVersion: gcctl/v1\nkind: Webhook\nspec:\n  kind: SupportedContentProfile\n",
        );
        write("notes.txt", "apiVersion: x\nkind: RoutingSkill\n");
        let hint = declared_hint(&[dir.path().to_path_buf()]);
        // `kind:` under `spec` is indented: neither a kind nor a division.
        assert!(!hint.names_divisions);
        assert_eq!(hint.kinds.values().sum::<u64>(), 3);
        let kinds: Vec<&str> = hint.kinds.into_keys().map(Kind::as_str).collect();
        let mut expected = vec!["RoutingQueue", "Role", "Webhook"];
        expected.sort_by_key(|name| Kind::parse(name));
        assert_eq!(kinds, expected);
    }

    #[test]
    fn the_hint_sees_division_keys_in_manifest_files_only() {
        let dir = tempfile::Builder::new().prefix("gcctl-hint-").tempdir().unwrap();
        let hint_of = |name: &str, text: &str| {
            fs_err::write(dir.path().join(name), text).unwrap();
            declared_hint(&[dir.path().join(name)]).names_divisions
        };
        let queue = "apiVersion: gcctl/v1\nkind: RoutingQueue\nspec:\n  name: a\n";
        assert!(!hint_of("a.yaml", queue));
        assert!(hint_of("b.yaml", &format!("{queue}  division: Home\n")));
        let grants = "  roles:\n    - role: r\n      divisions:\n        - Home\n";
        assert!(hint_of("c.yaml", &format!("{queue}{grants}")));
        assert!(hint_of("d.yaml", &format!("{queue}  roles:\n    - divisions: [Home]\n")));
        // Not a manifest file; a top-level key; a key that only starts alike.
        assert!(!hint_of("e.yaml", "spec:\n  division: Home\n"));
        assert!(!hint_of("f.yaml", &format!("division: x\n{queue}  divisionName: x\n")));
    }

    #[test]
    fn the_hint_reads_the_top_level_keys_of_each_kinds_specs() {
        let hint = hint_of(
            "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata:\n  name: a\nspec:   # the queue\n  name: a\n\n  # a comment\n  division: Home\n  mediaSettings:\n    call:\n      alertingTimeoutSeconds: 8\n  \"acwSettings\": {wrapupPrompt: OPTIONAL}\n  description: |\n    text: that looks like a key\nstatus: x\n  notSpec: 1\n---\nspec:\n  skillEvaluationMethod: ALL\nkind: RoutingQueue\napiVersion: gcctl/v1\n---\napiVersion: gcctl/v1\nkind: Role\nspec:\n  name: r\n",
        );
        // Keys of both queue documents (`kind:` may follow `spec:`), nested
        // and block-scalar lines left out, and nothing after the spec.
        assert_eq!(
            keys(&hint, "RoutingQueue").unwrap(),
            [
                "acwSettings",
                "description",
                "division",
                "mediaSettings",
                "name",
                "skillEvaluationMethod"
            ]
        );
        assert_eq!(keys(&hint, "Role").unwrap(), ["name"]);
        // A kind no document declares: unknown, not empty.
        assert_eq!(keys(&hint, "Webhook"), None);
    }

    #[test]
    fn a_spec_the_line_scan_cannot_read_leaves_its_kinds_keys_unknown() {
        let queue = "apiVersion: gcctl/v1\nkind: RoutingQueue\n";
        for spec in [
            "spec: {name: a}\n",
            "spec: &base\n  name: a\n",
            "spec: *base\n",
            "spec:\n  <<: *base\n  name: a\n",
            "spec:\n\tname: a\n",
            "spec:\n    name: a\n  division: Home\n",
            "spec:\n  - name\n",
            "spec:\n  ? name\n  : a\n",
            "spec:\n  \"na\\u006de\": a\n",
            "spec:\n  just text\n",
        ] {
            let hint = hint_of(&format!("{queue}{spec}---\n{queue}spec:\n  name: b\n"));
            assert_eq!(keys(&hint, "RoutingQueue"), None, "{spec}");
        }
        // A document of another kind is not affected.
        let hint = hint_of(&format!(
            "{queue}spec: {{name: a}}\n---\napiVersion: gcctl/v1\nkind: Role\nspec:\n  name: r\n"
        ));
        assert_eq!(keys(&hint, "Role").unwrap(), ["name"]);
    }

    #[test]
    fn mapping_keys_are_read_as_yaml_reads_them() {
        assert_eq!(mapping_key("name: a"), Some("name"));
        assert_eq!(mapping_key("name:"), Some("name"));
        assert_eq!(mapping_key("url: http://x:1"), Some("url"));
        assert_eq!(mapping_key("'quoted key': 1"), Some("quoted key"));
        assert_eq!(mapping_key("a:b: c"), Some("a:b"));
        assert_eq!(mapping_key("name:a"), None);
        assert_eq!(mapping_key("- a"), None);
        assert_eq!(mapping_key("\"unclosed: a"), None);
        assert_eq!(mapping_key(": a"), None);
        assert_eq!(without_comment(" Queue  # note"), "Queue");
        assert_eq!(without_comment(" a#b"), "a#b");
        assert_eq!(without_comment("# all comment"), "");
    }
}
