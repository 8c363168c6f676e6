//! A small deterministic YAML emitter for exported manifests: block style,
//! two-space indentation, keys in a fixed order, and strings quoted (JSON
//! style, double quotes) whenever a plain scalar could be read as something
//! else by any common YAML parser.
//!
//! [`emit`] and [`emit_manifest`] (the same output for a manifest, without
//! building its map) are the entry points, so the emitter can be swapped for
//! a crate. Invariants: the same value always gives the same bytes (keys in
//! a fixed order, then in `str` order, which `serde_json`'s sorted map gives;
//! a property test fails if it stops doing so); `manifest::yaml::parse_documents(emit(v))`
//! gives back `v` (a property test checks it); it never panics.

use std::fmt::Write;

use serde_json::{Map, Value};

/// Keys written first, in this order; every other key follows alphabetically.
/// The envelope then reads `apiVersion, kind, metadata, spec` and every
/// object starts with its `name`.
const KEY_ORDER: [&str; 6] = ["apiVersion", "kind", "metadata", "protect", "spec", "name"];

/// One YAML document (without the `---` separator) for `value`.
pub fn emit(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0, false),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        other => {
            push_scalar(&mut out, other);
            out.push('\n');
        }
    }
    out
}

/// The document [`emit`] writes for the manifest `{apiVersion, kind,
/// metadata: {name}, spec}`, written without building that map.
pub fn emit_manifest(api_version: &str, kind: &str, name: &str, spec: &Value) -> String {
    // A configured queue's manifest is 1.5 KB: one growth at most, not
    // eight from empty (the text is joined into its file, then freed).
    let mut out = String::with_capacity(1024);
    for (key, value) in [("apiVersion", api_version), ("kind", kind)] {
        out.push_str(key);
        out.push_str(": ");
        push_string(&mut out, value);
        out.push('\n');
    }
    out.push_str("metadata:\n  name: ");
    push_string(&mut out, name);
    out.push_str("\nspec:");
    write_nested(&mut out, spec, 0);
    out
}

/// A key's place in [`KEY_ORDER`].
fn key_rank(key: &str) -> Option<usize> {
    match key {
        "apiVersion" => Some(0),
        "kind" => Some(1),
        "metadata" => Some(2),
        "protect" => Some(3),
        "spec" => Some(4),
        "name" => Some(5),
        _ => None,
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Entries of a mapping at `indent`; with `inline_first` the first entry
/// continues the current line (after a sequence's `- `).
fn write_map(out: &mut String, map: &Map<String, Value>, indent: usize, inline_first: bool) {
    // One pass finds the keys of [`KEY_ORDER`] (a `match` per key, not six
    // look-ups per map: an export writes a hundred thousand maps).
    let mut first: [Option<(&String, &Value)>; KEY_ORDER.len()] = Default::default();
    for (key, value) in map {
        if let Some(rank) = key_rank(key) {
            first[rank] = Some((key, value));
        }
    }
    // serde_json's map is a `BTreeMap` (its `preserve_order` feature is
    // off): the other keys come in `str` order, as a sort would
    // put them (`keys_come_in_the_fixed_order_then_in_str_order` checks it).
    let rest = map.iter().filter(|(key, _)| key_rank(key).is_none());
    for (i, (key, value)) in first.into_iter().flatten().chain(rest).enumerate() {
        if i > 0 || !inline_first {
            pad(out, indent);
        }
        // Implicit keys are limited to 1024 characters by the YAML spec; no
        // field or header name we export comes close.
        push_string(out, key);
        out.push(':');
        write_nested(out, value, indent);
    }
}

/// A value after `key:` (or after `-`): scalars on the same line, nested
/// collections on the following lines, two spaces deeper.
fn write_nested(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, indent + 2, false);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, indent + 2);
        }
        other => {
            out.push(' ');
            push_scalar(out, other);
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        pad(out, indent);
        out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                out.push(' ');
                write_map(out, map, indent + 2, true);
            }
            other => write_nested(out, other, indent),
        }
    }
}

/// A scalar (or empty collection) as it appears after `key: `. Written
/// into `out`: an export writes hundreds of thousands of them.
fn push_scalar(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // serde_json writes floats with a `.` or an exponent (`1.0`, `1e300`),
        // so a float stays a float and an integer stays an integer.
        Value::Number(n) => push_number(out, n),
        Value::String(s) => push_string(out, s),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

/// A number as `serde_json` writes it: integers by `itoa`, as `serde_json`
/// does, but without going through `fmt` (the scalars of an export of
/// 10,000 objects: 73 -> 55 million instructions), floats by `serde_json`.
fn push_number(out: &mut String, n: &serde_json::Number) {
    if let Some(u) = n.as_u64() {
        out.push_str(itoa::Buffer::new().format(u));
    } else if let Some(i) = n.as_i64() {
        out.push_str(itoa::Buffer::new().format(i));
    } else {
        let _ = write!(out, "{n}");
    }
}

/// A string, plain when that is unambiguous, else double-quoted.
pub fn string(text: &str) -> String {
    let mut out = String::new();
    push_string(&mut out, text);
    out
}

fn push_string(out: &mut String, text: &str) {
    if is_plain_safe(text) { out.push_str(text) } else { push_quoted(out, text) }
}

/// Whether `text` reads back as this same string from a plain scalar in any
/// common YAML parser (YAML 1.2 core schema and YAML 1.1 alike).
fn is_plain_safe(text: &str) -> bool {
    let Some(first) = text.chars().next() else { return false };
    let indicator = u8::try_from(first).is_ok_and(crate::manifest::yaml::is_indicator);
    if first.is_whitespace() || indicator {
        return false;
    }
    if text.ends_with(char::is_whitespace) || text.ends_with(':') {
        return false;
    }
    // One pass over the bytes: `: ` and ` #` (a mapping or a comment inside
    // the scalar), and the ASCII characters that cannot stay raw in a plain
    // scalar (controls, tab and line breaks among them); text that is not
    // ASCII is checked again by character.
    let bytes = text.as_bytes();
    let mut ascii = true;
    for (i, &byte) in bytes.iter().enumerate() {
        // Most bytes are none of these: one table look-up passes them.
        if !NOTABLE[usize::from(byte)] {
            continue;
        }
        match byte {
            b':' if bytes.get(i + 1) == Some(&b' ') => return false,
            b' ' if bytes.get(i + 1) == Some(&b'#') => return false,
            0..=0x1f | 0x7f => return false,
            0x80.. => ascii = false,
            _ => {}
        }
    }
    if !ascii && text.chars().any(needs_escape) {
        return false;
    }
    crate::manifest::yaml::plain_is_string(text) && !is_yaml11_special(text)
}

/// The bytes [`is_plain_safe`] looks at more closely: `:` and space (which
/// may start `: ` or ` #`), controls, DEL and bytes of non-ASCII text.
static NOTABLE: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = byte < 0x20 || byte >= 0x7f || byte == b':' as usize || byte == b' ' as usize;
        byte += 1;
    }
    table
};

/// Plain scalars that YAML 1.1 parsers (and editors using them) read as
/// booleans, nulls, numbers or timestamps.
fn is_yaml11_special(text: &str) -> bool {
    const WORDS: [&str; 11] =
        ["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "="];
    // The longest word is five bytes.
    if text.len() <= 5 && WORDS.iter().any(|w| text.eq_ignore_ascii_case(w)) {
        return true;
    }
    let numeric_start = text.starts_with(|c: char| c.is_ascii_digit() || "+-.".contains(c));
    numeric_start
        && text.chars().all(|c| c.is_ascii_digit() || "+-._:eExXoObBabcdefABCDEF".contains(c))
}

/// Characters that a YAML stream may not hold raw (C0 and C1 controls other
/// than tab and line breaks, DEL, and the Unicode line separators and BOM),
/// and those written as escapes so that a reviewer sees them: bidirectional
/// controls, which would reorder how a name reads in the manifest.
fn needs_escape(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}')
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
        || crate::api::untrusted::is_bidi_control(c)
}

/// A YAML double-quoted scalar (a superset of JSON string syntax).
fn push_quoted(out: &mut String, text: &str) {
    out.reserve(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::yaml::parse_documents;
    use proptest::prelude::*;
    use serde_json::json;

    fn round_trip(value: &Value) -> Value {
        let text = emit(value);
        let docs = parse_documents(&text).unwrap_or_else(|e| panic!("{e} in\n{text}"));
        assert_eq!(docs.len(), 1, "{text}");
        docs[0].to_json()
    }

    #[test]
    fn writes_block_style_in_key_order() {
        let value = json!({
            "spec": {"roleDivisions": [{"role": "r", "division": "Home"}], "name": "Bot", "scope": []},
            "metadata": {"name": "bot"}, "kind": "OAuthClient", "apiVersion": "gcctl/v1",
        });
        assert_eq!(
            emit(&value),
            "apiVersion: gcctl/v1\nkind: OAuthClient\nmetadata:\n  name: bot\nspec:\n  name: Bot\n  \
             roleDivisions:\n    - division: Home\n      role: r\n  scope: []\n"
        );
    }

    #[test]
    fn numbers_are_written_as_serde_json_writes_them() {
        for n in [
            json!(0),
            json!(-1),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1.5),
            json!(1e300),
            json!(-0.0),
            json!(15.0),
        ] {
            let mut out = String::new();
            push_scalar(&mut out, &n);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn quotes_ambiguous_strings() {
        for text in [
            "",
            "yes",
            "No",
            "on",
            "OFF",
            "true",
            "null",
            "~",
            "12",
            "1.5",
            "0x1F",
            "1_000",
            "12:30",
            "2024-01-01",
            " lead",
            "trail ",
            "a: b",
            "a #b",
            "*/*",
            "- x",
            "#x",
            "@x",
            "`x",
            "x:",
            "line\nbreak",
            "tab\there",
            "\u{7f}",
            "\u{85}",
            "\u{202e}fdp.exe",
            "a\u{2066}b",
            "{x}",
            "[x]",
            "!tag",
            "%x",
        ] {
            let emitted = string(text);
            assert!(emitted.starts_with('"'), "{text:?} was not quoted: {emitted}");
            assert_eq!(round_trip(&json!({ "k": text })), json!({ "k": text }), "{text:?}");
        }
        for text in [
            "image/*",
            "https://x.example/a?b=c#d",
            "Acme Support",
            "a-b",
            "café",
            "x.y",
            "quote\"s",
        ] {
            assert_eq!(string(text), text);
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|i| json!(i)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            any::<String>().prop_map(Value::String),
            "[ -~]{0,12}".prop_map(Value::String),
            prop::sample::select(vec!["yes", "1e3", "- a", "a: b", "null", "0o17", ".5", "-1"])
                .prop_map(|s| Value::String(s.to_string())),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[ -~]{0,8}|\\PC{0,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn parsing_the_output_gives_the_value_back(
            map in prop::collection::btree_map("[a-zA-Z0-9 :#-]{0,8}", json_value(), 0..5),
        ) {
            let value = Value::Object(map.into_iter().collect());
            prop_assert_eq!(round_trip(&value), value.clone());
            prop_assert_eq!(emit(&value), emit(&value.clone()));
        }

        #[test]
        fn keys_come_in_the_fixed_order_then_in_str_order(
            keys in prop::collection::vec(
                prop_oneof![prop::sample::select(KEY_ORDER.to_vec()).prop_map(str::to_string), "[A-Za-z]{1,6}"],
                0..12,
            ),
        ) {
            let map: Map<String, Value> = keys.iter().rev().map(|k| (k.clone(), json!(1))).collect();
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| compare_keys(a, b));
            let expected: Vec<String> = keys.into_iter().map(|k| string(k)).collect();
            let text = emit(&Value::Object(map.clone()));
            let written: Vec<&str> = text.lines().filter_map(|l| l.strip_suffix(": 1")).collect();
            prop_assert_eq!(written, expected);
        }

        #[test]
        fn a_manifest_is_written_as_its_map_would_be(
            spec in json_value(),
            kind in "[A-Za-z]{1,12}",
            name in "[ -~]{0,12}|\\PC{0,6}",
        ) {
            let manifest = json!({
                "apiVersion": "gcctl.dev/v1",
                "kind": kind,
                "metadata": { "name": name },
                "spec": spec,
            });
            prop_assert_eq!(emit_manifest("gcctl.dev/v1", &kind, &name, &spec), emit(&manifest));
        }

        #[test]
        fn one_pass_decides_a_plain_scalar_as_separate_checks_do(
            text in "[a-z0-9 :#\\-\t\n\r\x00-\x1f\x7f\u{80}-\u{a0}\u{2028}\u{feff}é]{0,10}|\\PC{0,10}",
        ) {
            prop_assert_eq!(is_plain_safe(&text), plain_safe_by_separate_checks(&text), "{:?}", text);
        }
    }

    #[test]
    fn key_ranks_are_the_key_order() {
        for (rank, key) in KEY_ORDER.iter().enumerate() {
            assert_eq!(key_rank(key), Some(rank), "{key}");
        }
        for key in ["", "Name", "names", "spec ", "apiversion", "description"] {
            assert_eq!(key_rank(key), None, "{key}");
        }
    }

    /// The key order: [`KEY_ORDER`] first, then every other key in `str` order.
    fn compare_keys(a: &str, b: &str) -> std::cmp::Ordering {
        let rank = |k: &str| KEY_ORDER.iter().position(|o| *o == k).unwrap_or(KEY_ORDER.len());
        rank(a).cmp(&rank(b)).then_with(|| a.cmp(b))
    }

    /// `is_plain_safe` as it was written before its one pass over the bytes.
    fn plain_safe_by_separate_checks(text: &str) -> bool {
        let Some(first) = text.chars().next() else { return false };
        if first.is_whitespace() || crate::manifest::yaml::INDICATORS.contains(first) {
            return false;
        }
        if text.ends_with(char::is_whitespace) || text.ends_with(':') {
            return false;
        }
        if text.contains(": ") || text.contains(" #") || text.chars().any(needs_escape) {
            return false;
        }
        if text.contains(['\t', '\n', '\r']) {
            return false;
        }
        crate::manifest::yaml::plain_is_string(text) && !is_yaml11_special(text)
    }
}
