//! The `apply --output json` contract: every line of stdout is read into
//! types written out here, independently of `gcctl::apply::Event`, with
//! unknown fields denied, so any change to the format fails this test.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::{ApplyOrg, assert_exit};
use crate::common::stdout;

/// The first line: the plan's totals.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanLine {
    pub event: String,
    pub format_version: String,
    pub summary: PlanTotals,
    /// Present only for a partial plan: the `--select` patterns.
    #[serde(default)]
    pub select: Vec<String>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PlanTotals {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub no_op: usize,
}

/// One event of one change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventLine {
    pub event: String,
    pub object: String,
    pub org_name: String,
    pub id: Option<String>,
    pub message: Option<String>,
    /// Only on `failed`: the operation, its causes and a hint.
    pub error: Option<ErrorDetail>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    pub message: String,
    pub causes: Vec<String>,
    #[allow(dead_code)] // Part of the contract; its text is the API's to choose.
    pub hint: Option<String>,
}

/// The last line: the run's totals.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryLine {
    pub event: String,
    pub converged: bool,
    /// Present only when the run refused to change anything after its
    /// plan: why.
    pub refused: Option<String>,
    /// An interrupt came during the run (exit code 130).
    pub signalled: bool,
    pub summary: RunTotals,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct RunTotals {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub unchanged: usize,
    pub failed: usize,
    pub skipped: usize,
    pub not_started: usize,
    pub interrupted: usize,
    pub checks_failed: usize,
}

/// A whole `apply --output json` stdout, checked line by line against the
/// contract: `plan`, then change events, then `summary`, whose totals count
/// the events.
pub struct Run {
    pub plan: PlanLine,
    pub events: Vec<EventLine>,
    pub summary: SummaryLine,
}

pub fn parse(stdout: &str) -> Run {
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.len() >= 2, "a plan and a summary line at least: {stdout}");
    let plan: PlanLine = typed(lines[0]);
    assert_eq!((plan.event.as_str(), plan.format_version.as_str()), ("plan", "1"));
    let summary: SummaryLine = typed(lines[lines.len() - 1]);
    assert_eq!(summary.event, "summary");
    let mut totals = RunTotals::default();
    let mut events = Vec::new();
    let mut ended = std::collections::BTreeSet::new();
    for line in &lines[1..lines.len() - 1] {
        let event: EventLine = typed(line);
        let again = event.event != "started" && !ended.insert(event.object.clone());
        match event.event.as_str() {
            "started" => {}
            // The check after the run fails a change that had its outcome.
            "failed" if again => totals.checks_failed += 1,
            _ if again => panic!("a second outcome that is not the check's failure: {line}"),
            "created" => totals.created += 1,
            // A role granted to the caller counts as an update.
            "updated" | "granted" => totals.updated += 1,
            "deleted" => totals.deleted += 1,
            "unchanged" => totals.unchanged += 1,
            "failed" => totals.failed += 1,
            "skipped" => totals.skipped += 1,
            "not-started" => totals.not_started += 1,
            "interrupted" => totals.interrupted += 1,
            other => panic!("unknown event `{other}`: {line}"),
        }
        match (&event.error, event.event.as_str()) {
            (Some(error), "failed") => {
                // `message` stays one string: the operation, then each cause.
                let mut one_line = vec![error.message.clone()];
                one_line.extend(error.causes.iter().cloned());
                assert_eq!(event.message.as_deref(), Some(one_line.join(": ").as_str()), "{line}");
            }
            (None, "failed") => panic!("a failure without its error: {line}"),
            (Some(_), _) => panic!("an error on a change that did not fail: {line}"),
            (None, _) => {}
        }
        events.push(event);
    }
    assert_eq!(summary.summary, totals, "the summary counts the events");
    let refused = summary.refused.is_some();
    assert_eq!(summary.converged, totals.failed == 0 && totals.skipped == 0 && !refused);
    Run { plan, events, summary }
}

/// One line read into its contract type.
fn typed<T: DeserializeOwned>(line: &str) -> T {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("off contract ({e}): {line}"))
}

const SET: &str = r#"
apiVersion: gcctl/v1
kind: Project
metadata: {name: contract}
spec:
  prune:
    - kind: RoutingQueue
      names: ["Contract Stray*"]
---
apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {name: same}
spec:
  name: Contract Same
---
apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {name: edited}
spec:
  name: Contract Edited
  description: new
---
apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {name: new}
spec:
  name: Contract New
---
apiVersion: gcctl/v1
kind: Role
metadata: {name: clashing}
spec:
  name: Contract Clashing
  permissions: [routing:queue:view]
---
apiVersion: gcctl/v1
kind: OAuthClient
metadata: {name: holds-clashing}
spec:
  name: Contract Holds Clashing
  authorizedGrantType: CLIENT-CREDENTIALS
  roleDivisions: [{role: clashing}]
"#;

#[tokio::test]
async fn every_line_of_json_output_is_on_contract() {
    let org = ApplyOrg::default().await;
    for (path, body) in [
        ("/api/v2/routing/queues", json!({"name": "Contract Same"})),
        ("/api/v2/routing/queues", json!({"name": "Contract Edited", "description": "old"})),
        ("/api/v2/routing/queues", json!({"name": "Contract Stray"})),
        // Role names are unique regardless of case: creating the declared one is a 409.
        ("/api/v2/authorization/roles", json!({"name": "CONTRACT CLASHING"})),
    ] {
        let made = org.org.post(path, body).await;
        assert_eq!(made.status, 200, "{:?}", made.body);
    }
    org.ctx.write("set/all.yaml", SET);
    let args = ["apply", "--auto-approve", "--prune", "--secrets-dir", "s", "-o", "json", "set"];
    let output = org.gcctl(&args).await;
    assert_exit(&output, 1);
    let run = parse(&stdout(&output));
    // One update is the grant of the clashing role to the caller.
    assert_eq!(run.plan.summary, PlanTotals { create: 3, update: 2, delete: 1, no_op: 1 });
    assert_eq!(
        run.summary.summary,
        RunTotals {
            created: 1,
            updated: 1,
            deleted: 1,
            unchanged: 1,
            failed: 1,
            skipped: 2,
            not_started: 0,
            interrupted: 0,
            checks_failed: 0
        }
    );
    assert!(!run.summary.converged);
    let last = |object: &str| {
        run.events
            .iter()
            .rev()
            .find(|e| e.object == object)
            .unwrap_or_else(|| panic!("no event for {object}"))
    };
    assert_eq!(last("RoutingQueue/Contract Stray").event, "deleted");
    assert_eq!(last("RoutingQueue/same").event, "unchanged");
    let new = last("RoutingQueue/new");
    assert_eq!((new.event.as_str(), new.org_name.as_str()), ("created", "Contract New"));
    assert!(new.id.is_some());
    let failed = last("Role/clashing");
    let error = failed.error.as_ref().unwrap();
    assert!(error.message.contains("Role/clashing"), "names the object: {error:?}");
    assert!(error.causes.iter().any(|c| c.contains("409")), "{error:?}");
    let skipped = last("OAuthClient/holds-clashing");
    assert_eq!(
        (skipped.event.as_str(), skipped.message.as_deref()),
        ("skipped", Some("upstream failed: Role/clashing"))
    );
    let started = run.events.iter().filter(|e| e.event == "started").count();
    assert_eq!(started, 4, "every change but the no-op and the skip starts");
}

/// A run with nothing to change ends its stream with the run's totals too:
/// the plan, each object unchanged, the summary.
#[tokio::test]
async fn a_run_with_nothing_to_change_ends_with_its_totals() {
    let org = ApplyOrg::default().await;
    org.ctx.write(
        "set/all.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: same}\nspec: {name: Contract Same}\n",
    );
    for command in ["apply", "destroy"] {
        let args = [command, "--auto-approve", "-o", "json", "set"];
        assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
        let output = org.gcctl(&args).await;
        assert_exit(&output, 0);
        if command == "destroy" {
            // Destroyed now: the next destroy has nothing to do.
            let output = org.gcctl(&args).await;
            assert_exit(&output, 0);
            let run = parse(&stdout(&output));
            assert!(run.summary.converged, "{}", stdout(&output));
            continue;
        }
        let run = parse(&stdout(&output));
        assert!(run.summary.converged);
        assert_eq!(run.summary.summary, RunTotals { unchanged: 1, ..RunTotals::default() });
        assert_eq!(run.events.len(), 1, "{}", stdout(&output));
        assert_eq!(
            (run.events[0].event.as_str(), run.events[0].object.as_str()),
            ("unchanged", "RoutingQueue/same")
        );
    }
}

/// A run that refuses after its plan (a secret it would need has nowhere to
/// go) ends its stream with the totals too, saying why: it printed the
/// plan line and nothing more.
#[tokio::test]
async fn a_run_refused_after_its_plan_ends_with_its_totals() {
    let org = ApplyOrg::default().await;
    org.ctx.write(
        "set/all.yaml",
        "apiVersion: gcctl/v1\nkind: OAuthClient\nmetadata: {name: c}\nspec:\n  name: Refused Client\n  authorizedGrantType: CLIENT-CREDENTIALS\n  roleDivisions: [{role: Master Admin}]\n",
    );
    let output = org.gcctl(&["apply", "--auto-approve", "-o", "json", "set"]).await;
    assert_exit(&output, 1);
    let run = parse(&stdout(&output));
    assert!(!run.summary.converged);
    assert_eq!(run.summary.summary, RunTotals::default());
    assert!(run.events.is_empty(), "{}", stdout(&output));
    let refused = run.summary.refused.unwrap_or_default();
    assert!(refused.contains("--secrets-dir"), "{refused}");
    assert!(org.named(super::CLIENTS, "Refused Client").await.is_empty());
}
