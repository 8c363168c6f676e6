//! Markdown output of a plan, fit to paste into a pull-request comment: a
//! summary line, a table of objects that change, and a collapsible table of
//! field changes per object. Values are escaped for tables; multi-line
//! strings also get a line-by-line `diff` block, and lists an item-by-item
//! one.

use std::fmt::Write;

use super::{Items, inline, multiline, write_only_note};
use crate::api::untrusted::visible;
use crate::drift::{DeclaredObject, DriftReport, DriftStatus};
use crate::plan::{Action, Change, FieldChange, Plan};

pub fn plan(plan: &Plan) -> String {
    let s = &plan.summary;
    let mut out = format!(
        "### gcctl plan: {} to create, {} to update, {} to delete\n\n",
        s.create, s.update, s.delete
    );
    let env =
        plan.environment.as_deref().map(|e| format!(" · environment `{e}`")).unwrap_or_default();
    let _ = writeln!(out, "Target: {}{env} · {} unchanged\n", target(&plan.target), s.no_op);
    let left_out = plan.prunes_left_out();
    if left_out > 0 {
        let _ = writeln!(
            out,
            "{left_out} undeclared object{} inside prune scopes would be deleted with `--prune`.\n",
            if left_out == 1 { "" } else { "s" }
        );
    }
    if let Some(partial) = super::partial(&plan.select, plan.destroy) {
        let _ = writeln!(out, "> **Partial plan:** {}.\n", text(&partial));
    }
    for note in &plan.notes {
        let _ = writeln!(out, "> **Note:** {}\n", html(&note.message));
    }
    let changing: Vec<_> = plan.changes.iter().filter(|c| c.action != Action::NoOp).collect();
    if changing.is_empty() && plan.destroy {
        out.push_str("**Nothing to destroy.** The org holds none of the declared objects that may be deleted (objects with `protect: true` and what they refer to, org defaults, built-ins and the OAuth client gcctl runs as are kept).\n");
        return out;
    }
    if changing.is_empty() {
        out.push_str("**No changes.** The org matches the manifests.\n");
        write_notes(&mut out, plan.changes.iter().map(|c| (c.address(), &c.notes)));
        return out;
    }
    out.push_str("| action | object | org name | fields |\n|---|---|---|---|\n");
    for change in &changing {
        let action = match change.action {
            Action::Delete if change.prune && !plan.prune => "delete with --prune (not planned)",
            Action::Delete if change.prune => "delete (prune)",
            other => other.as_str(),
        };
        let _ = writeln!(
            out,
            "| {action} | {} | {} | {} |",
            code(&change.address()),
            text(&change.org_name),
            change.fields.len()
        );
    }
    // Unchanged objects' notes too (a configuration's unpublished draft).
    write_notes(&mut out, plan.changes.iter().map(|c| (c.address(), &c.notes)));
    for change in changing.iter().filter(|c| !c.fields.is_empty()) {
        write_change_details(&mut out, change);
    }
    out
}

/// A change's field changes: a collapsible table, then the line and item
/// diffs of the multi-line values and lists it refers to.
fn write_change_details(out: &mut String, change: &Change) {
    let _ = write!(
        out,
        "\n<details><summary><code>{}</code> ({})</summary>\n\n| field | before | after |\n|---|---|---|\n",
        html(&change.address()),
        change.action.as_str()
    );
    let mut diffs = String::new();
    for field in &change.fields {
        let (before, after) = values(field);
        let items = Items::of(field.before.as_ref(), field.after.as_ref());
        let texts = (multiline(field.before.as_ref()), multiline(field.after.as_ref()));
        match (texts, field.sensitive) {
            // Multi-line values: their line diff below, not escaped strings.
            ((Some(old), Some(new)), false) => {
                let (old_lines, new_lines) = (old.lines().count(), new.lines().count());
                let _ = writeln!(
                    out,
                    "| {} | {old_lines} lines | {new_lines} lines, diff below |",
                    code(&field.pointer)
                );
                diff_block(&mut diffs, &field.pointer, old, new);
            }
            // A multi-line value that is new: its lines below, not one escaped string.
            ((None, Some(new)), false) if field.before.is_none() => {
                let lines = new.lines().count();
                let _ = writeln!(
                    out,
                    "| {} | `(not set)` | {lines} lines, below |",
                    code(&field.pointer)
                );
                diff_block(&mut diffs, &field.pointer, "", new);
            }
            // Lists: item by item below, not two whole arrays.
            _ if change.action != Action::Create && !field.sensitive && items.is_some() => {
                let _ = writeln!(
                    out,
                    "| {} | {} | {}, diff below |",
                    code(&field.pointer),
                    count_items(field.before.as_ref()),
                    count_items(field.after.as_ref())
                );
                items_block(&mut diffs, &field.pointer, items.as_ref());
            }
            _ => {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    code(&field.pointer),
                    code(&before),
                    code(&after)
                );
            }
        }
    }
    out.push_str(&diffs);
    out.push_str("\n</details>\n");
}

/// A line-by-line diff of a multi-line string in a fenced `diff` block whose
/// fence is longer than any run of backticks in the text.
fn diff_block(out: &mut String, pointer: &str, old: &str, new: &str) {
    let longest = |s: &str| s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest(old).max(longest(new)).max(2) + 1);
    let _ = write!(out, "\n{}:\n\n{fence}diff\n", code(pointer));
    for line in super::line_diff(old, new) {
        match line {
            Some((sign, text)) => {
                let _ = writeln!(out, "{sign}{text}");
            }
            None => {
                let _ = writeln!(out, " ...");
            }
        }
    }
    let _ = writeln!(out, "{fence}");
}

/// A list change item by item in a fenced `diff` block (see [`Items`]):
/// `-` the items that go, `+` those that come, and how many stay.
fn items_block(out: &mut String, pointer: &str, items: Option<&Items<'_>>) {
    let Some(items) = items else { return };
    let lines = items.lines();
    let longest = |s: &str| s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(lines.iter().map(|(_, t)| longest(t)).max().unwrap_or(0).max(2) + 1);
    let _ = write!(out, "\n{}:\n\n{fence}diff\n", code(pointer));
    for (sign, text) in lines {
        let _ = writeln!(out, "{sign} {text}");
    }
    let _ = writeln!(out, "{fence}");
}

/// `3 items` for a list (`0 items` when not set), for a table cell.
fn count_items(value: Option<&serde_json::Value>) -> String {
    let n = value.and_then(serde_json::Value::as_array).map_or(0, Vec::len);
    format!("{n} item{}", if n == 1 { "" } else { "s" })
}

/// The before and after cells of a field; write-only values are never shown.
fn values(field: &FieldChange) -> (String, String) {
    let (before, after) = (field.before.as_ref(), field.after.as_ref());
    if !field.sensitive {
        return (inline(before), inline(after));
    }
    let shown = if before.is_some() { "(write-only)".to_string() } else { inline(None) };
    (shown, write_only_note(before, after))
}

/// Text for a table cell inside a code span: one line (line breaks made
/// spaces, other control characters shown as escapes, see [`visible`]), no
/// column break. Outside a code span, use [`text`].
fn cell(text: &str) -> String {
    visible(&text.replace('\n', " ")).replace('|', "\\|")
}

/// The org a plan or report is for, as text output names it: its name (org
/// text, escaped) and id when read, and where it is.
fn target(target: &crate::plan::PlanTarget) -> String {
    let location = code(&target.location);
    match (&target.org_name, &target.org_id) {
        (Some(name), Some(id)) => format!(
            "{} {} (id {}) at {location}",
            target.kind,
            text(&crate::api::untrusted::quoted(name)),
            code(id)
        ),
        _ => format!("{} {location}", target.kind),
    }
}

/// Org or user text outside a code span (a table's org name column, a
/// note): as [`cell`], and read as text, never as markup: HTML as entities
/// (a name holding `</details><img src=x>` would close the details and
/// load an image in a pull request), and Markdown's punctuation escaped
/// (no link, image, emphasis or code span).
fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // `cell` escaped the column's `|` already.
    let cell = cell(text);
    let mut chars = cell.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' if chars.peek() == Some(&'|') => {
                out.push(c);
                out.extend(chars.next());
            }
            // A backslash first, so that a `\*` of the org's stays text.
            '\\' | '[' | ']' | '(' | ')' | '!' | '*' | '_' | '`' | '~' | '#' => {
                out.push('\\');
                out.push(c);
            }
            // No bare link: GitHub links `https://…` and `www.…` in text.
            ':' if chars.peek() == Some(&'/') => out.push_str("&#58;"),
            '.' if out.to_ascii_lowercase().ends_with("www") => out.push_str("&#46;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` as a code span, as it is: fenced by one backtick more than the
/// longest run of backticks in it, and padded with a space when it holds
/// any (`CommonMark` strips one space each side), so that a backtick of the
/// org's shows as written.
fn code(text: &str) -> String {
    let text = cell(text);
    let (mut longest, mut run) = (0, 0);
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    if longest == 0 {
        return format!("`{text}`");
    }
    let fence = "`".repeat(longest + 1);
    format!("{fence} {text} {fence}")
}

/// Markdown output of a drift report, fit for an issue or pull-request body:
/// a summary line, a table of objects that differ, and a collapsible table of
/// drifted fields (declared against live) per object.
pub fn drift(report: &DriftReport) -> String {
    let s = &report.summary;
    let mut unmanaged = format!(", {} unmanaged", s.unmanaged);
    if report.include_unmanaged {
        let counted = if report.fail_on_unmanaged { "" } else { ", not counted" };
        unmanaged.push_str(&format!(
            " (and {} outside prune scopes{counted})",
            s.unmanaged_outside_scopes
        ));
    }
    let mut out =
        format!("### gcctl drift: {} drifted, {} missing{unmanaged}\n\n", s.drifted, s.missing);
    let env =
        report.environment.as_deref().map(|e| format!(" · environment `{e}`")).unwrap_or_default();
    let _ = writeln!(out, "Target: {}{env} · {} in sync\n", target(&report.target), s.in_sync);
    if let Some(partial) = super::partial(&report.select, false) {
        let _ = writeln!(
            out,
            "> **Partial report:** {}, and undeclared objects are not looked for.\n",
            text(&partial)
        );
    }
    let noted = report.objects.iter().map(|o| (o.address(), &o.notes));
    if !report.has_drift() {
        out.push_str("**No drift.** The org matches the manifests.\n");
        // Undeclared objects outside prune scopes: listed, not counted.
        if !report.unmanaged.is_empty() {
            out.push_str("\n| status | object | org name | fields |\n|---|---|---|---|\n");
            write_unmanaged(&mut out, report);
        }
        write_notes(&mut out, noted);
        return out;
    }
    out.push_str("| status | object | org name | fields |\n|---|---|---|---|\n");
    let differing: Vec<_> =
        report.objects.iter().filter(|o| o.status != DriftStatus::InSync).collect();
    for object in &differing {
        let fields = match object.fields.len() {
            0 => " ".to_string(),
            n => format!(" {n} "),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} |{fields}|",
            object.status.as_str(),
            code(&object.address()),
            text(&object.org_name)
        );
    }
    write_unmanaged(&mut out, report);
    write_notes(&mut out, noted);
    for object in differing.iter().filter(|o| !o.fields.is_empty()) {
        write_drift_details(&mut out, object);
    }
    out
}

/// A drifted object's fields: a collapsible table of declared against live,
/// then the line and item diffs of the multi-line values and lists.
fn write_drift_details(out: &mut String, object: &DeclaredObject) {
    let _ = write!(
        out,
        "\n<details><summary><code>{}</code> (drifted)</summary>\n\n| field | declared | live |\n|---|---|---|\n",
        html(&object.address())
    );
    let mut diffs = String::new();
    for field in &object.fields {
        let (declared, live) = if field.write_only {
            ("(write-only)".to_string(), "(write-only, differs)".to_string())
        } else {
            (inline(field.declared.as_ref()), inline(field.live.as_ref()))
        };
        let texts = (multiline(field.live.as_ref()), multiline(field.declared.as_ref()));
        if let (false, Some(live), Some(declared)) = (field.write_only, texts.0, texts.1) {
            let _ = writeln!(
                out,
                "| {} | {} lines, diff below | {} lines |",
                code(&field.pointer),
                declared.lines().count(),
                live.lines().count()
            );
            // Live (-) against declared (+), as a plan would change it.
            diff_block(&mut diffs, &field.pointer, live, declared);
            continue;
        }
        let items = Items::of(field.live.as_ref(), field.declared.as_ref());
        if let (false, Some(_)) = (field.write_only, &items) {
            let _ = writeln!(
                out,
                "| {} | {}, diff below | {} |",
                code(&field.pointer),
                count_items(field.declared.as_ref()),
                count_items(field.live.as_ref())
            );
            items_block(&mut diffs, &field.pointer, items.as_ref());
            continue;
        }
        let _ =
            writeln!(out, "| {} | {} | {} |", code(&field.pointer), code(&declared), code(&live));
    }
    out.push_str(&diffs);
    out.push_str("\n</details>\n");
}

/// A table row per undeclared live object the report lists.
fn write_unmanaged(out: &mut String, report: &DriftReport) {
    for object in &report.unmanaged {
        let status = if object.in_prune_scope {
            "unmanaged (in prune scope)"
        } else {
            "unmanaged (outside prune scopes)"
        };
        let _ = writeln!(
            out,
            "| {status} | {} | {} | |",
            code(&object.address()),
            text(&object.org_name)
        );
    }
}

/// A list of notes, one line each (the object's address in code, then the
/// note), after a blank line; nothing when no object has notes.
fn write_notes<'a>(out: &mut String, objects: impl Iterator<Item = (String, &'a Vec<String>)>) {
    let mut first = true;
    for (address, notes) in objects {
        for note in notes {
            if first {
                out.push_str("\n**Notes**\n\n");
                first = false;
            }
            let _ = writeln!(out, "- {}: {}", code(&address), text(note));
        }
    }
}

/// Text inside HTML tags (`<summary>`).
fn html(text: &str) -> String {
    visible(text).replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::LiveKind;

    /// A backtick in a value shows as written (it was shown as an
    /// apostrophe, so that a value holding either read alike in a drift
    /// report).
    #[test]
    fn code_spans_keep_backticks() {
        assert_eq!(code("it's"), "`it's`");
        assert_eq!(code("\"it`s\""), "`` \"it`s\" ``");
        assert_eq!(code("``a```"), "```` ``a``` ````");
        assert_eq!(code("`"), "`` ` ``");
        assert_eq!(code("a|b`"), "`` a\\|b` ``");
    }

    /// An org name is the user's or the org's text: in a plan's table and
    /// in its details' HTML summary it can break neither.
    #[test]
    fn a_plan_escapes_org_names_in_its_table_and_details() {
        let kind = LiveKind::all().next().expect("an org kind");
        let change = Change {
            kind,
            manifest_name: None,
            org_name: "<b>a|b</b>".into(),
            id: None,
            action: Action::Grant,
            prune: false,
            fields: vec![FieldChange {
                pointer: "/divisions".into(),
                before: None,
                after: Some(serde_json::json!(["Home"])),
                sensitive: false,
            }],
            depends_on: Vec::new(),
            late_depends_on: Vec::new(),
            live_fingerprint: None,
            notes: Vec::new(),
        };
        let plan = Plan::of(vec![change]);
        let out = super::plan(&plan);
        assert!(out.contains("| grant | `CallerGrant/<b>a\\|b</b>` |"), "{out}");
        assert!(out.contains("<summary><code>CallerGrant/&lt;b&gt;a|b&lt;/b&gt;</code>"), "{out}");
        assert!(!out.contains("<b>a|b</b></code>"), "{out}");
    }

    /// Outside a code span (a prune's org name column, a note), org text is
    /// text: no HTML that closes the details or loads an image, no link.
    #[test]
    fn org_names_outside_code_spans_are_text() {
        let kind = LiveKind::all().next().expect("an org kind");
        let name = "Acme </code></details><img src=x onerror=alert(1)> | x `y` [a](http://e)";
        let change = Change {
            notes: vec![format!("note naming {name}")],
            ..Change::prune(kind, name, Some("1".into()))
        };
        let out = super::plan(&Plan::of(vec![change]));
        let row = out.lines().find(|l| l.starts_with("| delete")).expect(&out);
        assert!(
            row.contains("| Acme &lt;/code&gt;&lt;/details&gt;&lt;img src=x onerror=alert\\(1\\)&gt; \\| x \\`y\\` \\[a\\]\\(http&#58;//e\\) |"),
            "{row}"
        );
        // Nor emphasis through an escape of the org's, nor a bare link.
        let name = r"Prune \*bold\* see https://evil.example/login or www.evil.example";
        let change = Change::prune(kind, name, Some("2".into()));
        let second = super::plan(&Plan::of(vec![change]));
        let row = second.lines().find(|l| l.starts_with("| delete")).expect(&second);
        assert!(
            row.contains(
                r"| Prune \\\*bold\\\* see https&#58;//evil.example/login or www&#46;evil.example |"
            ),
            "{row}"
        );
        let note = out.lines().find(|l| l.contains("note naming")).expect(&out);
        let (_, said) = note.split_once(": note naming").expect(note);
        for bad in ["<img", "</details>", "[a](", "`y`"] {
            assert!(!said.contains(bad), "{bad}: {note}");
        }
    }

    /// A destroy plan with nothing to delete says so, not "No changes".
    #[test]
    fn a_destroy_plan_with_nothing_to_delete_says_so() {
        let mut plan = Plan::of(Vec::new());
        plan.destroy = true;
        let out = super::plan(&plan);
        assert!(out.contains("**Nothing to destroy.**"), "{out}");
        assert!(!out.contains("No changes"), "{out}");
    }
}
