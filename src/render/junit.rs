//! `JUnit` XML output of a drift report, for CI dashboards: one `<testsuite>`
//! per kind, one `<testcase>` per declared object (with a `<failure>` when it
//! has drifted or is missing) and one failed `<testcase>` per unmanaged object
//! that counts as drift (inside a prune scope, or any with
//! `--fail-on-unmanaged`). A report narrowed by `--select` says so: its
//! root is named `gcctl drift (partial)` and every suite carries a `partial`
//! property naming what was left out. No timestamps or durations, so
//! the same report renders to the same bytes. Attributes are escaped for XML
//! 1.0, failure bodies are CDATA; characters XML cannot hold become U+FFFD.

use std::fmt::Write;

use super::{Items, inline};
use crate::api::untrusted::quoted;
use crate::drift::{DeclaredObject, DriftReport, DriftStatus, DriftedField, UnmanagedObject};
use crate::kinds::Kind;

/// One test case before rendering.
struct Case {
    name: String,
    /// `(type, message, body)` of the failure, if any.
    failure: Option<(&'static str, String, String)>,
    /// Notes on the object, as `<system-out>`.
    notes: Vec<String>,
}

pub fn drift(report: &DriftReport) -> String {
    // Undeclared objects outside prune scopes fail only when asked to.
    let counted = |u: &&UnmanagedObject| u.in_prune_scope || report.fail_on_unmanaged;
    let mut suites = Vec::new();
    for &kind in Kind::in_org() {
        let declared = report.objects.iter().filter(|o| o.kind == kind).map(declared_case);
        let unmanaged =
            report.unmanaged.iter().filter(|u| u.kind == kind).filter(counted).map(unmanaged_case);
        let cases: Vec<Case> = declared.chain(unmanaged).collect();
        if !cases.is_empty() {
            suites.push((kind, cases));
        }
    }
    let total: usize = suites.iter().map(|(_, c)| c.len()).sum();
    let failed: usize =
        suites.iter().map(|(_, c)| c.iter().filter(|c| c.failure.is_some()).count()).sum();
    // A dashboard must not take a narrowed report for the whole set.
    let partial = super::partial(&report.select, false)
        .map(|p| format!("{p}, and undeclared objects are not looked for"));
    let name = if partial.is_some() { "gcctl drift (partial)" } else { "gcctl drift" };
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{name}\" tests=\"{total}\" failures=\"{failed}\" errors=\"0\">"
    );
    for (kind, cases) in &suites {
        write_suite(&mut out, *kind, cases, partial.as_deref());
    }
    out.push_str("</testsuites>\n");
    out
}

/// The test case of a declared object: failed when it is missing or has
/// drifted.
fn declared_case(o: &DeclaredObject) -> Case {
    let failure = match o.status {
        DriftStatus::InSync => None,
        DriftStatus::Missing => Some((
            "missing",
            format!("{} {} is missing from the org", o.address(), quoted(&o.org_name)),
            String::new(),
        )),
        DriftStatus::Drifted => {
            let (count, s, es) =
                if o.fields.len() == 1 { (1, "", "s") } else { (o.fields.len(), "s", "") };
            let message = format!(
                "{} {} has drifted: {count} field{s} differ{es}",
                o.address(),
                quoted(&o.org_name)
            );
            let body: Vec<String> = o.fields.iter().map(field_text).collect();
            Some(("drifted", message, body.join("\n")))
        }
    };
    Case { name: o.address(), failure, notes: o.notes.clone() }
}

/// One drifted field in a failure body: list items as `-`/`+` lines, other
/// values declared against live; a write-only field only as differing.
fn field_text(f: &DriftedField) -> String {
    if f.write_only {
        return format!("{}: (write-only) differs from the declared version", f.pointer);
    }
    match Items::of(f.live.as_ref(), f.declared.as_ref()) {
        Some(items) => {
            let mut text = format!("{}: live (-) against declared (+):", f.pointer);
            for (sign, item) in items.lines() {
                let _ = write!(text, "\n  {sign} {item}");
            }
            text
        }
        None => format!(
            "{}: declared {}, live {}",
            f.pointer,
            inline(f.declared.as_ref()),
            inline(f.live.as_ref())
        ),
    }
}

/// The failed test case of an undeclared object that counts as drift.
fn unmanaged_case(u: &UnmanagedObject) -> Case {
    let scope = if u.in_prune_scope {
        " (inside a prune scope: apply --prune would delete it)"
    } else {
        ""
    };
    let id = u.id.as_deref().map(|i| format!("id {i}")).unwrap_or_default();
    let message =
        format!("{} {} is not declared in the manifests{scope}", u.kind, quoted(&u.org_name));
    Case {
        name: format!("{} (unmanaged)", u.address()),
        failure: Some(("unmanaged", message, id)),
        notes: Vec::new(),
    }
}

/// One kind's `<testsuite>`, with the `partial` property of a narrowed report.
fn write_suite(out: &mut String, kind: Kind, cases: &[Case], partial: Option<&str>) {
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{kind}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
        cases.len()
    );
    if let Some(partial) = partial {
        let _ = writeln!(
            out,
            "    <properties>\n      <property name=\"partial\" value=\"{}\"/>\n    </properties>",
            escape(partial)
        );
    }
    for case in cases {
        let open = format!(
            "    <testcase name=\"{}\" classname=\"gcctl.drift.{kind}\"",
            escape(&case.name)
        );
        let notes = if case.notes.is_empty() {
            String::new()
        } else {
            format!("\n      <system-out>{}</system-out>", cdata(&case.notes.join("\n")))
        };
        match &case.failure {
            None if notes.is_empty() => {
                let _ = writeln!(out, "{open}/>");
            }
            None => {
                let _ = writeln!(out, "{open}>{notes}\n    </testcase>");
            }
            Some((kind, message, body)) => {
                let _ = writeln!(
                    out,
                    "{open}>\n      <failure type=\"{kind}\" message=\"{}\">{}</failure>{notes}\n    </testcase>",
                    escape(message),
                    cdata(body)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n");
}

/// A failure body as CDATA, the form test-report consumers read verbatim (some
/// parsers drop entity references in element text). `]]>` is split across
/// two sections.
fn cdata(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let valid: String = text.chars().map(|c| if is_xml_char(c) { c } else { '\u{fffd}' }).collect();
    format!("<![CDATA[{}]]>", valid.replace("]]>", "]]]]><![CDATA[>"))
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || !((c as u32) < 0x20 || matches!(c, '\u{fffe}' | '\u{ffff}'))
}

/// Escape text for XML attributes and content.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if !is_xml_char(c) => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_invalid_characters() {
        assert_eq!(escape("a<b>&\"c'\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos;\u{fffd}");
        assert_eq!(cdata("x]]>y\u{0}"), "<![CDATA[x]]]]><![CDATA[>y\u{fffd}]]>");
        assert_eq!(cdata(""), "");
    }
}
