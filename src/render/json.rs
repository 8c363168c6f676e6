//! JSON output: plans and drift reports as they are, pretty-printed, and the
//! lines of `apply --output json`, one compact object per line. Keys are in
//! a fixed order; every format is a versioned contract tested with
//! `deny_unknown_fields` in `tests/it`.

use serde::Serialize;

use crate::apply::{ApplySummary, Event};
use crate::plan::{Plan, Summary};

pub fn plan(plan: &Plan) -> String {
    pretty(plan)
}

/// A drift report as it is, pretty-printed, keys in a fixed order.
pub fn drift(report: &crate::drift::DriftReport) -> String {
    pretty(report)
}

/// The first line of `apply --output json`: the plan's totals.
pub fn apply_plan(plan: &Plan) -> String {
    // Keys in the order of the first release of this line.
    #[derive(Serialize)]
    struct PlanLine<'a> {
        event: &'static str,
        format_version: &'a str,
        summary: &'a Summary,
        /// The `--select` patterns of a partial plan (absent: the whole set).
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        select: &'a [String],
    }
    line(&PlanLine {
        event: "plan",
        format_version: &plan.format_version,
        summary: &plan.summary,
        select: &plan.select,
    })
}

/// One event of `apply --output json`.
pub fn apply_event(event: &Event) -> String {
    line(event)
}

/// The last line of `apply --output json`: the run's totals.
pub fn apply_summary(summary: &ApplySummary, signalled: bool) -> String {
    summary_line(summary, signalled, None)
}

/// The last line of `apply --output json` when the run refused to change
/// anything after its plan (a secret that does not resolve, a refused
/// confirmation, a refused prune): no change ran, the run did not
/// converge, and `refused` says why (the error's first line).
pub fn apply_refused(refused: &str) -> String {
    summary_line(&ApplySummary::default(), false, Some(refused))
}

fn summary_line(summary: &ApplySummary, signalled: bool, refused: Option<&str>) -> String {
    #[derive(Serialize)]
    struct SummaryLine<'a> {
        converged: bool,
        event: &'static str,
        /// Why the run changed nothing after its plan (absent otherwise).
        #[serde(skip_serializing_if = "Option::is_none")]
        refused: Option<&'a str>,
        /// An interrupt came while changes ran (the exit code is 130), even
        /// when every change had started and all of them finished.
        signalled: bool,
        summary: &'a ApplySummary,
    }
    let converged = summary.converged() && refused.is_none();
    line(&SummaryLine { converged, event: "summary", refused, signalled, summary })
}

/// Org values are written as the org holds them, but for the secrets known
/// in this run (a webhook secret the org also holds in a URL): those are
/// `[redacted]` in JSON as in text ([`crate::api::untrusted::redact_json`]).
/// Bidirectional controls in org text are written as `\u` escapes (the
/// same value), so that a reader of the JSON sees them.
fn pretty(value: &impl Serialize) -> String {
    finish(&serde_json::to_string_pretty(value).unwrap_or_default())
}

fn line(value: &impl Serialize) -> String {
    finish(&serde_json::to_string(value).unwrap_or_default())
}

fn finish(json: &str) -> String {
    use crate::api::untrusted::{escape_bidi_in_json, redact_json};
    let mut text = escape_bidi_in_json(redact_json(json));
    text.push('\n');
    text
}
