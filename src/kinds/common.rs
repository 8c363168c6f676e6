//! Checks and small types shared by several kinds.

use crate::manifest::diag::Findings;

/// Genesys object names: non-empty, no surrounding whitespace, at most 256
/// characters (the Terraform provider's limit for names; longer names are
/// rejected by most endpoints).
pub fn check_org_name(findings: &mut Findings, pointer: &str, name: &str) {
    if name.trim().is_empty() {
        findings.error(pointer, "the name must not be empty");
    } else if name.trim() != name {
        findings.error_with_hint(
            pointer,
            "the name has leading or trailing whitespace",
            "Genesys compares names exactly; remove the surrounding spaces",
        );
    } else if name.chars().count() > 256 {
        findings.error(pointer, "the name is longer than 256 characters");
    }
}

// The checks below take their pointer as anything `Display`: it is made
// into text only for a finding (`format_args!` where it is built, as for
// each of a queue's media: most checks pass, and an export's check reads
// every queue).

/// A number field within an inclusive range (a NaN is out of every range).
pub fn check_range<T: PartialOrd + Copy + std::fmt::Display>(
    findings: &mut Findings,
    pointer: impl std::fmt::Display,
    value: Option<T>,
    min: T,
    max: T,
) {
    if let Some(v) = value {
        if !(min..=max).contains(&v) {
            let message = format!("{v} is out of range: must be between {min} and {max}");
            findings.error(pointer.to_string(), message);
        }
    }
}

/// An integer field with a lower bound.
pub fn check_min(
    findings: &mut Findings,
    pointer: impl std::fmt::Display,
    value: Option<i64>,
    min: i64,
) {
    if let Some(v) = value {
        if v < min {
            findings
                .error(pointer.to_string(), format!("{v} is too small: must be at least {min}"));
        }
    }
}

/// An RFC 2046 media type such as `image/png`, `image/*` or `*/*`.
pub fn is_media_type(text: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && (s == "*"
                || s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b)))
    };
    match text.split_once('/') {
        Some((top, sub)) => token(top) && token(sub) && !(top == "*" && sub != "*"),
        None => false,
    }
}

/// Flow types as `Flow.type` spells them (uppercase).
pub const FLOW_TYPES: &[&str] = &[
    "BOT",
    "COMMONMODULE",
    "DIGITALBOT",
    "INBOUNDCALL",
    "INBOUNDCHAT",
    "INBOUNDEMAIL",
    "INBOUNDSHORTMESSAGE",
    "INQUEUECALL",
    "INQUEUEEMAIL",
    "INQUEUESHORTMESSAGE",
    "OUTBOUNDCALL",
    "SECURECALL",
    "SPEECH",
    "SURVEYINVITE",
    "VOICE",
    "VOICEMAIL",
    "VOICESURVEY",
    "WORKFLOW",
    "WORKITEM",
];

/// The user's text before a mark gcctl appends to a description (a secret's
/// or a published version's): `text [mark]` gives `text` as written, its own
/// trailing spaces and line breaks included, without the one space gcctl
/// writes before the mark.
pub fn before_mark(text: &str) -> &str {
    text.strip_suffix(' ').unwrap_or(text)
}

/// The texts of the list at `pointer` that name the same thing in any ASCII
/// case (media types, RFC 2046; host names): each live one that a declared
/// one spells in another case is aligned to the declared spelling, so that
/// an org that stores them in its own case plans clean. Items are the texts
/// themselves, or objects whose `key` holds them. Only the comparison sees
/// it (see `OrgKind::align_live`).
pub fn align_case_insensitive(
    desired: &serde_json::Value,
    live: &mut serde_json::Value,
    pointer: &str,
    key: Option<&str>,
) {
    use serde_json::Value;
    let text = |item: &Value| -> Option<String> {
        match key {
            Some(key) => item.get(key)?.as_str().map(str::to_string),
            None => item.as_str().map(str::to_string),
        }
    };
    let Some(declared) = desired.pointer(pointer).and_then(Value::as_array) else { return };
    let declared: Vec<String> = declared.iter().filter_map(text).collect();
    let Some(items) = live.pointer_mut(pointer).and_then(Value::as_array_mut) else { return };
    for item in items {
        let Some(current) = text(item) else { continue };
        if declared.contains(&current) {
            continue;
        }
        if let Some(spelled) = declared.iter().find(|d| d.eq_ignore_ascii_case(&current)) {
            let spelled = Value::String(spelled.clone());
            match key {
                Some(key) => item[key] = spelled,
                None => *item = spelled,
            }
        }
    }
}

/// A declared empty text at `key` is the org's "none" (a description the
/// org does not return, or returns empty): the live spec is aligned so
/// that a manifest saying `description: ""` plans clean against it, where
/// it would otherwise be written again on every apply.
pub fn align_empty_text(desired: &serde_json::Value, live: &mut serde_json::Value, key: &str) {
    let empty = desired.get(key).and_then(serde_json::Value::as_str) == Some("");
    if empty && live.get(key).is_none_or(serde_json::Value::is_null) {
        if let Some(map) = live.as_object_mut() {
            map.insert(key.to_string(), serde_json::Value::String(String::new()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        for ok in ["*/*", "image/*", "image/png", "application/vnd.ms-excel", "text/plain"] {
            assert!(is_media_type(ok), "{ok}");
        }
        for bad in ["image", "*/png", "image/", "/png", "image/png/x", "im age/png", ""] {
            assert!(!is_media_type(bad), "{bad}");
        }
    }

    #[test]
    fn texts_in_another_case_align_to_the_declared_spelling() {
        use serde_json::json;
        let desired = json!({"d": ["*.Example.org", "a.example"], "m": [{"type": "IMAGE/PNG"}]});
        let mut live = json!({"d": ["*.example.org", "b.example"], "m": [{"type": "image/png"}, {"type": "text/plain"}]});
        align_case_insensitive(&desired, &mut live, "/d", None);
        align_case_insensitive(&desired, &mut live, "/m", Some("type"));
        assert_eq!(
            live,
            json!({"d": ["*.Example.org", "b.example"], "m": [{"type": "IMAGE/PNG"}, {"type": "text/plain"}]})
        );
    }
}
