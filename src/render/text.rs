//! Human output of a plan: one block per object that changes, one line per
//! field, a summary line. Colors only when the printer allows them; every
//! line also carries a `+`, `~` or `-` marker so color never carries meaning
//! alone. Multi-line strings are diffed line by line.

use std::fmt::Write;

use super::{inline, multiline, write_only_note};
use crate::api::untrusted::{quoted, visible};
use crate::drift::{DriftReport, DriftStatus};
use crate::plan::{Action, Change, FieldChange, Plan};
use crate::printer::{Printer, Role};

pub fn plan(plan: &Plan, printer: &Printer) -> String {
    let mut out = String::new();
    let env = plan.environment.as_deref().map(|e| format!(", environment {e}")).unwrap_or_default();
    let what = if plan.destroy { "gcctl destroy plan" } else { "gcctl plan" };
    let header = format!("{what} for {}{env}", plan.target.describe());
    let _ = writeln!(out, "{}", printer.paint_stdout(&header, Role::Heading));
    if let Some(partial) = super::partial(&plan.select, plan.destroy) {
        let _ =
            writeln!(out, "{} {partial}.", printer.paint_stdout("Partial plan:", Role::Heading));
    }
    // Changes, and unchanged objects with something to know (a web messaging
    // configuration's unpublished draft), in plan order.
    let shown: Vec<&Change> =
        plan.changes.iter().filter(|c| c.action != Action::NoOp || !c.notes.is_empty()).collect();
    if plan.destroy && shown.iter().all(|c| c.action == Action::NoOp) {
        let _ = writeln!(
            out,
            "\nNothing to destroy: the org holds none of the declared objects that may be deleted (objects with protect: true and what they refer to, org defaults, built-ins and the OAuth client gcctl runs as are kept)."
        );
    } else if shown.iter().all(|c| c.action == Action::NoOp) {
        let _ = writeln!(
            out,
            "\nNo changes. The org matches the manifests ({} object{}).",
            plan.summary.no_op,
            if plan.summary.no_op == 1 { "" } else { "s" }
        );
    }
    if shown.iter().all(|c| c.action == Action::NoOp) {
        for change in shown {
            out.push('\n');
            render_change(&mut out, change, plan.prune, printer);
        }
        write_plan_notes(&mut out, plan, printer);
        return out;
    }
    let _ = writeln!(out, "\nSymbols: + create, ~ update in place, - delete");
    for change in shown {
        out.push('\n');
        render_change(&mut out, change, plan.prune, printer);
    }
    let s = &plan.summary;
    let left_out = match plan.prunes_left_out() {
        0 => String::new(),
        n => format!(
            " {n} undeclared object{} inside prune scopes would be deleted with --prune.",
            if n == 1 { "" } else { "s" }
        ),
    };
    let _ = writeln!(
        out,
        "\n{} {} to create, {} to update, {} to delete ({} unchanged).{left_out}",
        printer.paint_stdout("Plan:", Role::Heading),
        s.create,
        s.update,
        s.delete,
        s.no_op
    );
    write_plan_notes(&mut out, plan, printer);
    out
}

/// The plan's notes, each once, after the summary.
fn write_plan_notes(out: &mut String, plan: &Plan, printer: &Printer) {
    for note in &plan.notes {
        let _ = writeln!(
            out,
            "
{} {}",
            printer.paint_stdout("Note:", Role::Heading),
            visible(&note.message)
        );
    }
}

fn render_change(out: &mut String, change: &Change, prune: bool, printer: &Printer) {
    let (marker, role, verb) = match change.action {
        Action::Create => ("+", Role::Add, "will be created"),
        Action::Update => ("~", Role::Change, "will be updated in place"),
        Action::Delete if change.prune && !prune => (
            "-",
            Role::Dim,
            "would be deleted with --prune (undeclared, inside a prune scope); not part of this plan",
        ),
        Action::Delete if change.prune => {
            ("-", Role::Remove, "will be deleted (prune: undeclared, inside a prune scope)")
        }
        Action::Delete => ("-", Role::Remove, "will be deleted"),
        Action::NoOp => (" ", Role::Dim, "unchanged"),
        Action::Grant => (
            "~",
            Role::Change,
            "will be granted to the caller first (a caller may grant only roles it holds)",
        ),
    };
    let id = shown_id(change.id.as_deref());
    let name = quoted(&change.org_name);
    // Prunes have no manifest: the org name is all there is to show.
    let head = match &change.manifest_name {
        _ if change.action == Action::Grant => format!("{marker} {} {name}", change.kind),
        Some(_) => format!("{marker} {} {name}", change.address()),
        None => format!("{marker} {} {name}", change.kind),
    };
    let _ = writeln!(out, "{} {verb}{id}", printer.paint_stdout(&head, role));
    write_notes(out, &change.notes, printer);
    for field in &change.fields {
        render_field(out, change.action, field, printer);
    }
}

/// ` (id ...)` after a heading, for an object with an id.
fn shown_id(id: Option<&str>) -> String {
    id.map(|i| format!(" (id {})", visible(i))).unwrap_or_default()
}

/// Notes under an object's heading: `# ...`, four columns in.
fn write_notes(out: &mut String, notes: &[String], printer: &Printer) {
    for note in notes {
        let note = visible(note);
        let _ = writeln!(out, "{}", printer.paint_stdout(&format!("    # {note}"), Role::Dim));
    }
}

fn render_field(out: &mut String, action: Action, field: &FieldChange, printer: &Printer) {
    if field.sensitive {
        let (sign, role) =
            if action == Action::Create { ("+", Role::Add) } else { ("~", Role::Change) };
        let line = format!(
            "    {sign} {}: {}",
            field.pointer,
            write_only_note(field.before.as_ref(), field.after.as_ref())
        );
        let _ = writeln!(out, "{}", printer.paint_stdout(&line, role));
        return;
    }
    if let (Action::Create, Some(after)) = (action, multiline(field.after.as_ref())) {
        let _ = writeln!(
            out,
            "{}",
            printer.paint_stdout(&format!("    + {}:", field.pointer), Role::Add)
        );
        write_line_diff(out, "", after, printer);
        return;
    }
    if action == Action::Create {
        let line = format!("    + {}: {}", field.pointer, inline(field.after.as_ref()));
        let _ = writeln!(out, "{}", printer.paint_stdout(&line, Role::Add));
        return;
    }
    if let (Some(before), Some(after)) =
        (multiline(field.before.as_ref()), multiline(field.after.as_ref()))
    {
        let _ = writeln!(out, "    ~ {}:", field.pointer);
        write_line_diff(out, before, after, printer);
        return;
    }
    if render_items(out, field, printer) {
        return;
    }
    let line = format!(
        "    ~ {}: {} -> {}",
        field.pointer,
        inline(field.before.as_ref()),
        inline(field.after.as_ref())
    );
    let _ = writeln!(out, "{}", printer.paint_stdout(&line, Role::Change));
}

/// A line diff, eight columns in: `-`, `+` or ` ` before each line, `...`
/// where unchanged lines are left out.
fn write_line_diff(out: &mut String, old: &str, new: &str, printer: &Printer) {
    for line in super::line_diff(old, new) {
        let (text, role) = match line {
            Some(('-', text)) => (format!("        - {text}"), Role::Remove),
            Some(('+', text)) => (format!("        + {text}"), Role::Add),
            Some((_, text)) => (format!("          {text}"), Role::Dim),
            None => ("        ...".to_string(), Role::Dim),
        };
        let _ = writeln!(out, "{}", printer.paint_stdout(&text, role));
    }
}

/// A list change item by item (see [`super::Items`]), eight columns in
/// under the field: a queue's members read one line per agent, not two
/// lists of all of them. Returns false when the field is not such a change,
/// for the plain `before -> after` line.
fn render_items(out: &mut String, field: &FieldChange, printer: &Printer) -> bool {
    let Some(items) = super::Items::of(field.before.as_ref(), field.after.as_ref()) else {
        return false;
    };
    let _ = writeln!(
        out,
        "{}",
        printer.paint_stdout(&format!("    ~ {}:", field.pointer), Role::Change)
    );
    write_items(out, &items, printer);
    true
}

fn write_items(out: &mut String, items: &super::Items<'_>, printer: &Printer) {
    for (sign, text) in items.lines() {
        let (line, role) = match sign {
            '-' => (format!("        - {text}"), Role::Remove),
            '+' => (format!("        + {text}"), Role::Add),
            _ => (format!("          {text}"), Role::Dim),
        };
        let _ = writeln!(out, "{}", printer.paint_stdout(&line, role));
    }
}

/// Human output of a drift report: one block per drifted, missing or
/// unmanaged object (declared value against live value per field), then a
/// summary line. Every line carries a `~`, `-` or `?` marker. Undeclared
/// objects outside prune scopes (`--include-unmanaged`) are listed even
/// when nothing counts as drift.
pub fn drift(report: &DriftReport, printer: &Printer) -> String {
    let mut out = String::new();
    let env =
        report.environment.as_deref().map(|e| format!(", environment {e}")).unwrap_or_default();
    let _ = writeln!(out, "Target: {}{env}", report.target.describe());
    if let Some(partial) = super::partial(&report.select, false) {
        let heading = printer.paint_stdout("Partial report:", Role::Heading);
        let _ = writeln!(out, "{heading} {partial}, and undeclared objects are not looked for.");
    }
    if !report.has_drift() {
        write_in_sync(&mut out, report, printer);
        return out;
    }
    for object in report.objects.iter().filter(|o| noted(o)) {
        let id = shown_id(object.id.as_deref());
        let (marker, role, what) = match object.status {
            DriftStatus::Missing => ("-", Role::Remove, "is missing from the org"),
            DriftStatus::InSync => (" ", Role::Dim, "is in sync"),
            DriftStatus::Drifted => ("~", Role::Change, "has drifted"),
        };
        let head = format!("{marker} {} {}", object.address(), quoted(&object.org_name));
        let _ = writeln!(out, "\n{} {what}{id}", printer.paint_stdout(&head, role));
        write_notes(&mut out, &object.notes, printer);
        for field in &object.fields {
            write_drifted_field(&mut out, field, printer);
        }
    }
    write_unmanaged(&mut out, report, printer);
    write_drift_summary(&mut out, report, printer);
    out
}

/// Whether a declared object shows in a drift report: in-sync objects
/// only when there is something to know about them.
fn noted(object: &crate::drift::DeclaredObject) -> bool {
    object.status != DriftStatus::InSync || !object.notes.is_empty()
}

/// The end of a report without drift: in-sync objects with notes, the
/// unmanaged objects listed, and the summary line.
fn write_in_sync(out: &mut String, report: &DriftReport, printer: &Printer) {
    let s = &report.summary;
    for object in report.objects.iter().filter(|o| noted(o)) {
        let head = format!("  {} {}", object.address(), quoted(&object.org_name));
        let _ = writeln!(out, "\n{} is in sync", printer.paint_stdout(&head, Role::Dim));
        write_notes(out, &object.notes, printer);
    }
    write_unmanaged(out, report, printer);
    let outside = match s.unmanaged_outside_scopes {
        0 => String::new(),
        1 => "; 1 undeclared object outside every prune scope is listed, not counted".into(),
        n => format!("; {n} undeclared objects outside every prune scope are listed, not counted"),
    };
    let _ = writeln!(
        out,
        "\nNo drift. The org matches the manifests ({} object{}){outside}.",
        s.in_sync,
        if s.in_sync == 1 { "" } else { "s" }
    );
}

/// The summary line of a report with drift.
fn write_drift_summary(out: &mut String, report: &DriftReport, printer: &Printer) {
    let s = &report.summary;
    let mut unmanaged = format!(", {} unmanaged", s.unmanaged);
    if report.include_unmanaged {
        let counted = if report.fail_on_unmanaged { "" } else { ", not counted" };
        unmanaged.push_str(&format!(
            " (and {} outside prune scopes{counted})",
            s.unmanaged_outside_scopes
        ));
    }
    let _ = writeln!(
        out,
        "\n{} {} drifted, {} missing{unmanaged} ({} in sync).",
        printer.paint_stdout("Drift:", Role::Heading),
        s.drifted,
        s.missing,
        s.in_sync
    );
}

/// One drifted field: a line diff for multi-line strings, an item diff for
/// lists (live `-` against declared `+`), else `declared X, live Y`.
fn write_drifted_field(out: &mut String, field: &crate::drift::DriftedField, printer: &Printer) {
    let heading = format!("    ~ {}: live (-) against declared (+):", field.pointer);
    let texts = (multiline(field.live.as_ref()), multiline(field.declared.as_ref()));
    if let (false, Some(live), Some(declared)) = (field.write_only, texts.0, texts.1) {
        let _ = writeln!(out, "{}", printer.paint_stdout(&heading, Role::Change));
        write_line_diff(out, live, declared, printer);
        return;
    }
    let items = super::Items::of(field.live.as_ref(), field.declared.as_ref());
    if let (false, Some(items)) = (field.write_only, items) {
        let _ = writeln!(out, "{}", printer.paint_stdout(&heading, Role::Change));
        write_items(out, &items, printer);
        return;
    }
    let line = if field.write_only {
        format!("    ~ {}: (write-only) differs from the declared version", field.pointer)
    } else {
        format!(
            "    ~ {}: declared {}, live {}",
            field.pointer,
            inline(field.declared.as_ref()),
            inline(field.live.as_ref())
        )
    };
    let _ = writeln!(out, "{}", printer.paint_stdout(&line, Role::Change));
}

/// A `?` block per undeclared live object the report lists, saying whether
/// `apply --prune` would delete it.
fn write_unmanaged(out: &mut String, report: &DriftReport, printer: &Printer) {
    for object in &report.unmanaged {
        let id = shown_id(object.id.as_deref());
        let scope = if object.in_prune_scope {
            ", inside a prune scope: apply --prune would delete it"
        } else {
            ", outside every prune scope"
        };
        let head = format!("? {} {}", object.kind, quoted(&object.org_name));
        let _ = writeln!(
            out,
            "\n{} is not declared in the manifests{id}{scope}",
            printer.paint_stdout(&head, Role::Warning)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::LiveKind;

    /// What the org says (a name, an id, the lines of a description) is
    /// shown with its control characters as escapes: it cannot clear the
    /// screen, recolor it, retitle the window or forge a line of its own.
    #[test]
    fn the_orgs_text_cannot_act_on_the_terminal() {
        let kind = LiveKind::all().next().expect("an org kind");
        let change = |action, org_name: &str, id: &str, fields| Change {
            kind,
            manifest_name: None,
            org_name: org_name.into(),
            id: Some(id.into()),
            action,
            prune: action == Action::Delete,
            fields,
            depends_on: Vec::new(),
            late_depends_on: Vec::new(),
            live_fingerprint: None,
            notes: vec![format!("named \"{org_name}\" in the org")],
        };
        let description = FieldChange {
            pointer: "/description".into(),
            before: Some(serde_json::json!(
                "line one\n\u{1b}]0;pwned\u{7}\u{1b}[31mforged\rerror: x"
            )),
            after: Some(serde_json::json!("line one\nline two")),
            sensitive: false,
        };
        let hostile = Plan::of(vec![
            change(
                Action::Delete,
                "Evil\u{1b}[2J\u{1b}[31m\rerror: forged\nX",
                "id\u{1b}[5m",
                vec![],
            ),
            change(Action::Update, "Support", "id-2", vec![description]),
        ]);
        let out = plan(&hostile, &Printer::plain());
        assert!(!out.contains(['\u{1b}', '\r', '\u{7}']), "{out:?}");
        assert!(out.contains(r#""Evil\u{1b}[2J\u{1b}[31m\rerror: forged\nX""#), "{out}");
        assert!(out.contains(r"(id id\u{1b}[5m)"), "{out}");
        assert!(out.contains(r"- \u{1b}]0;pwned\u{7}\u{1b}[31mforged\r"), "{out}");
        assert!(!out.lines().any(|line| line.starts_with("error:") || line == "X"), "{out}");
        let markdown = super::super::markdown::plan(&hostile);
        assert!(!markdown.contains(['\u{1b}', '\r', '\u{7}']), "{markdown:?}");
    }
}
