//! JSON output: the plan as it is, pretty-printed, keys in a fixed order.

use crate::plan::Plan;

pub fn plan(plan: &Plan) -> String {
    let mut text = serde_json::to_string_pretty(plan).unwrap_or_default();
    text.push('\n');
    text
}

/// A drift report as it is, pretty-printed, keys in a fixed order.
pub fn drift(report: &crate::drift::DriftReport) -> String {
    let mut text = serde_json::to_string_pretty(report).unwrap_or_default();
    text.push('\n');
    text
}
