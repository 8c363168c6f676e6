//! JSON output: the plan as it is, pretty-printed, keys in a fixed order.

use crate::plan::Plan;

pub fn plan(plan: &Plan) -> String {
    let mut text = serde_json::to_string_pretty(plan).unwrap_or_default();
    text.push('\n');
    text
}
