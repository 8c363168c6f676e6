//! JSON pointers (RFC 6901) over `serde_json` values: reading one without
//! the two new strings per token `Value::pointer` makes (plans and exports
//! read a field of every object), and writing tokens into one.

use std::borrow::Cow;

use serde_json::Value;

/// The value at a JSON pointer, as [`Value::pointer`] finds it, without
/// [`Value::pointer`]'s two new strings per token (it unescapes every token,
/// escaped or not): plans and exports look up a field of every object.
pub fn get<'v>(value: &'v Value, pointer: &str) -> Option<&'v Value> {
    if pointer.is_empty() {
        return Some(value);
    }
    pointer.strip_prefix('/')?.split('/').try_fold(value, |target, token| match target {
        Value::Object(map) => map.get(unescape(token).as_ref()),
        Value::Array(items) => items.get(array_index(token)?),
        _ => None,
    })
}

/// [`get`], mutably (as [`Value::pointer_mut`]).
pub fn get_mut<'v>(value: &'v mut Value, pointer: &str) -> Option<&'v mut Value> {
    if pointer.is_empty() {
        return Some(value);
    }
    pointer.strip_prefix('/')?.split('/').try_fold(value, |target, token| match target {
        Value::Object(map) => map.get_mut(unescape(token).as_ref()),
        Value::Array(items) => items.get_mut(array_index(token)?),
        _ => None,
    })
}

/// Remove the value at `pointer` from the object that holds it (a list's
/// item is left: removing it would shift the others).
pub fn remove(value: &mut Value, pointer: &str) {
    let Some((parent, key)) = pointer.rsplit_once('/') else { return };
    if let Some(Value::Object(map)) = get_mut(value, parent) {
        map.remove(unescape(key).as_ref());
    }
}

/// A pointer token unescaped (RFC 6901: `~1` is `/`, `~0` is `~`).
pub fn unescape(token: &str) -> Cow<'_, str> {
    if token.contains('~') {
        token.replace("~1", "/").replace("~0", "~").into()
    } else {
        token.into()
    }
}

/// An array index token as RFC 6901 spells it: digits, no sign, no leading
/// zero (as [`Value::pointer`] reads it).
fn array_index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() > 1) {
        return None;
    }
    token.parse().ok()
}

/// A pointer token escaped (`~` as `~0`, `/` as `~1`).
pub fn escape(token: &str) -> Cow<'_, str> {
    if token.contains(['~', '/']) {
        token.replace('~', "~0").replace('/', "~1").into()
    } else {
        token.into()
    }
}

/// Append `/` and `token`, escaped, to `pointer`.
pub fn push_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    pointer.push_str(&escape(token));
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Pointers made of the keys and indexes of a document, escapes, bad
    /// indexes and missing keys: [`get`] and [`get_mut`] find what
    /// `serde_json`'s own `pointer` finds.
    #[test]
    fn pointers_find_what_serde_json_finds() {
        let mut doc = json!({
            "a": {"b/c": [10, {"d~e": true}], "": {"x": 1}, "0": "zero"},
            "list": [[1, 2], {"k": null}],
        });
        let pointers = [
            "",
            "/",
            "/a",
            "/a/b~1c",
            "/a/b~1c/0",
            "/a/b~1c/1/d~0e",
            "/a/b~1c/01",
            "/a/b~1c/+1",
            "/a/b~1c/2",
            "/a/b~1c/-",
            "/a//x",
            "/a/0",
            "/list/0/1",
            "/list/1/k",
            "/list/1/k/z",
            "/missing",
            "a",
            "/a/b/c",
            "/a/b~2c",
            "/list/00",
            "/a/b~1c/0/z",
        ];
        for p in pointers {
            assert_eq!(get(&doc, p), doc.pointer(p), "{p}");
            let expected = doc.clone().pointer_mut(p).map(|v| v.clone());
            assert_eq!(get_mut(&mut doc, p).map(|v| v.clone()), expected, "{p}");
        }
        *get_mut(&mut doc, "/a/b~1c/1/d~0e").expect("found") = json!(false);
        assert_eq!(doc["a"]["b/c"][1]["d~e"], json!(false));
    }

    #[test]
    fn tokens_escape_and_unescape() {
        for token in ["plain", "", "a/b", "a~b", "~1", "/~0/"] {
            assert_eq!(unescape(&escape(token)), token);
            let mut pointer = String::from("/x");
            push_token(&mut pointer, token);
            assert_eq!(get(&json!({"x": {token: 1}}), &pointer), Some(&json!(1)), "{pointer}");
        }
        assert_eq!(escape("a/b~c"), "a~1b~0c");
    }
}
