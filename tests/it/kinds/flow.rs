//! `Flow` end to end on fresh sandboxes (issue 14): the bot hand-over
//! example publishes its inbound message flow through the jobs API and
//! routes the integration to it; a second apply sends no job; an edited
//! action shows as a line diff and republishes once; a publish made through
//! the API behind gcctl's back is reported by plan and drift (every
//! format); a flow naming a missing queue fails with its job's message
//! while the rest goes on; offline checks point into the flow file; export
//! writes the YAML and round trips; prune respects dependency tracking;
//! a flow locked by someone else is neither published over nor deleted
//! unless `--unlock-flows` says so.

use std::process::Output;

use reqwest::Method;
use serde_json::{Value, json};

use crate::apply::{ApplyOrg, assert_exit, copy_tree};
use crate::common::{TestContext, repo_root, stderr, stdout};
use crate::sandbox::TestOrg;

const FLOWS: &str = "/api/v2/flows?pageSize=500";
const EXAMPLE: &str = "bot-handover-cognigy";
const EXAMPLE_FLOW: &str = "bot-handover-cognigy/flows/cognigy-handover.yaml";

fn text(output: &Output) -> String {
    format!("{}{}", stdout(output), stderr(output))
}

/// A line of the plan's line diff of a definition: the marker, then the
/// YAML line (an attribute's `lit`, 22 columns deep in the example).
fn diff_line(sign: &str, yaml: &str) -> String {
    format!("        {sign} {}{yaml}\n", " ".repeat(22))
}

async fn reset_stats(org: &TestOrg) {
    org.http.post(org.url("/_sandbox/reset")).send().await.expect("reset");
}

/// Requests per route since the last reset (0 when absent).
async fn count(org: &TestOrg, route: &str) -> u64 {
    org.stats().await["byRoute"][route].as_u64().unwrap_or(0)
}

/// The example copied into the test directory and applied.
async fn applied_example() -> ApplyOrg {
    let org = ApplyOrg::default().await;
    copy_tree(&repo_root().join("examples").join(EXAMPLE), &org.ctx.path().join(EXAMPLE));
    let apply = org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "secrets", EXAMPLE]).await;
    assert_exit(&apply, 0);
    org
}

/// Publish `yaml` through the import job API as the admin OAuth client;
/// returns the job's final state.
async fn publish_through_the_api(org: &TestOrg, yaml: &str) -> Value {
    let job = org.post("/api/v2/flows/jobs", json!({})).await;
    assert_eq!(job.status, 200, "{:?}", job.body);
    let mut upload =
        org.http.put(job.body["presignedUrl"].as_str().unwrap()).body(yaml.to_string());
    for (name, value) in job.body["headers"].as_object().unwrap() {
        upload = upload.header(name, value.as_str().unwrap());
    }
    assert_eq!(upload.send().await.unwrap().status(), 200);
    let path = format!("/api/v2/flows/jobs/{}?expand=messages", job.body["id"].as_str().unwrap());
    for _ in 0..100 {
        let state = org.get(&path).await.body;
        if state["status"] == "Success" || state["status"] == "Failure" {
            return state;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the job never ended");
}

#[tokio::test]
async fn the_bot_handover_flow_is_published_routed_and_not_republished_for_nothing() {
    let org = applied_example().await;
    let api = &org.org;
    let flow = org.one(FLOWS, "Cognigy Handover Inbound").await;
    assert_eq!(flow["type"], "INBOUNDSHORTMESSAGE");
    assert_eq!(flow["publishedVersion"]["id"], "1.0", "{flow}");
    // Through the jobs API: one job, one upload, no token on the upload.
    assert_eq!(count(api, "POST /api/v2/flows/jobs").await, 1);
    assert_eq!(count(api, "PUT /uploads/architect/{jobId}").await, 1);
    // The job's answer names the flow: it is not read back (issue 17).
    assert_eq!(count(api, "GET /api/v2/flows/{flowId}").await, 0, "no read after the job");
    // The integration's recipient routes to it.
    let integration =
        org.one("/api/v2/conversations/messaging/integrations/open", "Cognigy Handover").await;
    let recipient = integration["recipient"]["id"].as_str().unwrap();
    let routed = api.get(&format!("/api/v2/routing/message/recipients/{recipient}")).await.body;
    assert_eq!(routed["flow"]["id"], flow["id"], "{routed}");
    // The flow names the queue: dependency tracking knows.
    let version = flow["publishedVersion"]["id"].as_str().unwrap();
    let consumed = api
        .get(&format!(
            "/api/v2/architect/dependencytracking/consumedresources?id={}&version={version}&objectType=INBOUNDSHORTMESSAGEFLOW",
            flow["id"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(consumed["entities"][0]["name"], "Cognigy Handover Queue", "{consumed}");

    let plan = org.gcctl(&["plan", "--detailed-exitcode", EXAMPLE]).await;
    assert_exit(&plan, 0);
    reset_stats(api).await;
    let again = org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "secrets", EXAMPLE]).await;
    assert_exit(&again, 0);
    assert_eq!(count(api, "POST /api/v2/flows/jobs").await, 0, "no job on a re-apply");
    assert_eq!(count(api, "POST /api/v2/flows/export/jobs").await, 0, "nothing downloaded");

    // One action edited: a readable diff, one republish, then clean.
    let file = org.ctx.path().join(EXAMPLE_FLOW);
    let yaml = fs_err::read_to_string(&file).unwrap();
    fs_err::write(&file, yaml.replace("lit: cognigy\n", "lit: cognigy-bot\n")).unwrap();
    let plan = org.gcctl(&["plan", "--detailed-exitcode", EXAMPLE]).await;
    assert_exit(&plan, 2);
    let shown = stdout(&plan);
    assert!(
        shown.contains("~ Flow/cognigy-handover-flow \"Cognigy Handover Inbound\" will be updated"),
        "{shown}"
    );
    assert!(shown.contains(&diff_line("-", "lit: cognigy")), "{shown}");
    assert!(shown.contains(&diff_line("+", "lit: cognigy-bot")), "{shown}");
    assert!(shown.contains(&diff_line(" ", "lit: handoverSource")), "context: {shown}");
    reset_stats(api).await;
    let apply = org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "secrets", EXAMPLE]).await;
    assert_exit(&apply, 0);
    assert_eq!(count(api, "POST /api/v2/flows/jobs").await, 1, "republished once");
    // One read, before the job, for the flow's lock; none after it.
    assert_eq!(count(api, "GET /api/v2/flows/{flowId}").await, 1, "the lock read only");
    let said = text(&apply);
    assert!(said.contains("published through import job "), "{said}");
    assert!(said.contains("(replacing version 1.0)"), "{said}");
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", EXAMPLE]).await, 0);
    let flow = org.one(FLOWS, "Cognigy Handover Inbound").await;
    assert_eq!(flow["publishedVersion"]["id"], "2.0");
}

#[tokio::test]
async fn a_flow_published_behind_gcctls_back_is_drift_in_every_format() {
    let org = applied_example().await;
    let declared = fs_err::read_to_string(org.ctx.path().join(EXAMPLE_FLOW)).unwrap();
    let declared = declared
        .replace("${var.handoverGreeting}", "[dev] Connected: an agent will be with you shortly.");
    // Someone publishes an edited copy through the API (no gcctl marker).
    let edited = declared.replace("lit: cognigy\n", "lit: someone-else\n");
    let state = publish_through_the_api(&org.org, &edited).await;
    assert_eq!(state["status"], "Success", "{state}");

    let plan = org.gcctl(&["plan", "--detailed-exitcode", EXAMPLE]).await;
    assert_exit(&plan, 2);
    let shown = stdout(&plan);
    assert!(shown.contains(&diff_line("-", "lit: someone-else")), "{shown}");
    assert!(shown.contains(&diff_line("+", "lit: cognigy")), "{shown}");
    assert!(
        shown.contains(
            "/publishedBy: \"version 2.0 published outside gcctl by gcctl sandbox admin (id "
        ),
        "{shown}"
    );
    let drift = org.gcctl(&["drift", EXAMPLE]).await;
    assert_exit(&drift, 2);
    assert!(
        stdout(&drift)
            .contains("Flow/cognigy-handover-flow \"Cognigy Handover Inbound\" has drifted"),
        "{}",
        text(&drift)
    );
    for format in ["json", "markdown", "junit"] {
        let report = org.gcctl(&["drift", "--output", format, EXAMPLE]).await;
        assert_exit(&report, 2);
        let out = stdout(&report);
        assert!(out.contains("/publishedBy") && out.contains("/definition"), "{format}: {out}");
        assert!(out.contains("someone-else"), "{format}: {out}");
    }

    // The same text as gcctl's, republished well after gcctl's upload (its
    // marker's time): the definition is the declared one, so nothing is
    // planned and nothing republished; a note says who published it.
    let digest = gcctl::kinds::flow::archy::digest(&declared);
    let old_marker =
        gcctl::kinds::flow::archy::marker(&digest, chrono::Utc::now().timestamp() - 7200);
    let copied = declared.replace(
        "description: Hands Cognigy conversations over to agents",
        &format!("description: \"Hands Cognigy conversations over to agents {old_marker}\""),
    );
    let state = publish_through_the_api(&org.org, &copied).await;
    assert_eq!(state["status"], "Success", "{state}");
    let plan = org.gcctl(&["plan", "--detailed-exitcode", "--output", "json", EXAMPLE]).await;
    assert_exit(&plan, 0);
    let plan: Value = serde_json::from_str(&stdout(&plan)).unwrap();
    let change = plan["changes"].as_array().unwrap().iter().find(|c| c["kind"] == "Flow").unwrap();
    assert_eq!((&change["action"], &change["fields"]), (&json!("no-op"), &json!([])), "{change}");
    assert!(
        change["notes"][0].as_str().unwrap().contains("published outside gcctl by "),
        "{change}"
    );
    assert_exit(&org.gcctl(&["drift", EXAMPLE]).await, 0);
    reset_stats(&org.org).await;
    assert_exit(
        &org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "secrets", EXAMPLE]).await,
        0,
    );
    assert_eq!(count(&org.org, "POST /api/v2/flows/jobs").await, 0, "nothing republished");
}

const MISSING_QUEUE_SET: &str = "
apiVersion: gcctl/v1
kind: RoutingQueue
metadata:
  name: independent
spec:
  name: Independent Queue
---
apiVersion: gcctl/v1
kind: Flow
metadata:
  name: lost
spec:
  name: Lost Inbound
  type: INBOUNDSHORTMESSAGE
  file: lost.yaml
";

const LOST_FLOW: &str = "inboundShortMessage:
  name: Lost Inbound
  defaultLanguage: en-us
  states:
    - state:
        name: Initial State
        refId: Initial State_10
        actions:
          - transferToAcd:
              name: Transfer
              targetQueue:
                lit:
                  name: No Such Queue
";

#[tokio::test]
async fn a_flow_naming_a_missing_queue_fails_with_its_job_and_message_and_holds_nothing_back() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/all.yaml", MISSING_QUEUE_SET);
    org.ctx.write("set/lost.yaml", LOST_FLOW);
    // The plan leaves the queue to the org: nothing declares it, nothing blocks.
    let plan = org.gcctl(&["plan", "--detailed-exitcode", "set"]).await;
    assert_exit(&plan, 2);
    let apply = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    assert_exit(&apply, 1);
    let said = text(&apply);
    assert!(said.contains("Flow/lost"), "{said}");
    assert!(said.contains("flow \"Lost Inbound\""), "{said}");
    assert!(said.contains("import job "), "{said}");
    assert!(said.contains("Unable to find a queue named 'No Such Queue'"), "{said}");
    assert!(
        said.contains("set/lost.yaml:13:25"),
        "the message's location in the flow file: {said}"
    );
    assert!(said.contains("created RoutingQueue/independent"), "{said}");
    assert_eq!(org.named(FLOWS, "Lost Inbound").await.len(), 0);
    // A job that failed made nothing: the journal does not keep its create
    // (which would have the next run look for the flow for the whole
    // consistency window before publishing it).
    let journal = org.journal().await;
    let kind = gcctl::kinds::Kind::parse("Flow").unwrap();
    assert!(!journal.unfinished(kind, "Lost Inbound"), "the failed job's record ended");
}

#[test]
fn definitions_are_checked_offline_where_the_problem_is() {
    let ctx = TestContext::new();
    ctx.write(
        "set/flows.yaml",
        "apiVersion: gcctl/v1
kind: Flow
metadata:
  name: named
spec:
  name: Declared Name
  type: INBOUNDSHORTMESSAGE
  file: named.yaml
---
apiVersion: gcctl/v1
kind: Flow
metadata:
  name: inline
spec:
  name: Inline Flow
  type: INQUEUECALL
  definition: |
    inboundCall:
      name: Inline Flow
",
    );
    ctx.write("set/named.yaml", "inboundShortMessage:\n  name: Another Name\n");
    let output = ctx.run(&["validate", "set"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let said = stderr(&output);
    assert!(
        said.contains("set/named.yaml:2:9: error: the definition names the flow `Another Name`, the manifest `Declared Name`"),
        "{said}"
    );
    assert!(
        said.contains("set/flows.yaml:18:5: error: the top-level key `inboundCall` does not match the flow type INQUEUECALL"),
        "{said}"
    );
}

#[test]
fn a_queue_whose_in_queue_flow_transfers_back_to_it_is_a_cycle_with_a_fix() {
    let ctx = TestContext::new();
    ctx.write(
        "set/all.yaml",
        "apiVersion: gcctl/v1
kind: RoutingQueue
metadata:
  name: loop
spec:
  name: Loop Queue
  messageInQueueFlow: loop-flow
---
apiVersion: gcctl/v1
kind: Flow
metadata:
  name: loop-flow
spec:
  name: Loop In-Queue
  type: INQUEUESHORTMESSAGE
  definition: |
    inqueueShortMessage:
      name: Loop In-Queue
      states:
        - state:
            name: Wait
            refId: Wait_1
            actions:
              - transferToAcd:
                  name: Back
                  targetQueue:
                    lit:
                      name: Loop Queue
",
    );
    let output = ctx.run(&["validate", "set"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let said = stderr(&output);
    assert!(said.contains("dependency cycle: "), "{said}");
    assert!(said.contains("Flow/loop-flow") && said.contains("RoutingQueue/loop"), "{said}");
    assert!(said.contains("transfer to another queue in the flow"), "{said}");
}

const EXPORT_SET: &str = "
apiVersion: gcctl/v1
kind: RoutingQueue
metadata:
  name: export-queue
spec:
  name: Export Queue
---
apiVersion: gcctl/v1
kind: Flow
metadata:
  name: export-flow
spec:
  name: Export Inbound
  type: INBOUNDSHORTMESSAGE
  file: export.yaml
";

const EXPORT_FLOW: &str = "inboundShortMessage:
  name: Export Inbound
  description: Exported and applied again
  defaultLanguage: en-us
  startUpRef: \"/inboundShortMessage/states/state[Start_1]\"
  states:
    - state:
        name: Start
        refId: Start_1
        actions:
          - transferToAcd:
              name: Transfer
              targetQueue:
                lit:
                  name: Export Queue
";

#[tokio::test]
async fn export_writes_the_flow_yaml_beside_its_manifest_and_round_trips() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/all.yaml", EXPORT_SET);
    org.ctx.write("set/export.yaml", EXPORT_FLOW);
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    let kinds = ["export", "--kinds", "RoutingQueue,Flow", "--out"];
    let first = org.gcctl(&[&kinds[..], &["exported"]].concat()).await;
    assert_exit(&first, 0);
    assert_exit(&org.gcctl(&[&kinds[..], &["again"]].concat()).await, 0);
    let read = |dir: &str| -> Vec<(String, String)> {
        let mut files = Vec::new();
        for sub in ["", "flows"] {
            let path = org.ctx.path().join(dir).join(sub);
            for entry in fs_err::read_dir(&path).unwrap().flatten() {
                if entry.path().is_file() {
                    let name = format!("{sub}/{}", entry.file_name().to_string_lossy());
                    files.push((name, fs_err::read_to_string(entry.path()).unwrap()));
                }
            }
        }
        files.sort();
        files
    };
    let exported = read("exported");
    assert_eq!(exported, read("again"), "two exports are byte-identical");
    let flows = &exported.iter().find(|(n, _)| n == "/flows.yaml").unwrap().1;
    assert!(flows.contains("  name: Export Inbound\n"), "{flows}");
    assert!(flows.contains("  type: INBOUNDSHORTMESSAGE\n"), "{flows}");
    assert!(flows.contains("  file: flows/export-inbound.yaml\n"), "{flows}");
    assert!(flows.contains("  division: Home\n"), "{flows}");
    let yaml = &exported.iter().find(|(n, _)| n == "flows/export-inbound.yaml").unwrap().1;
    assert_eq!(yaml, EXPORT_FLOW, "the published YAML, without gcctl's marker");

    // Into a fresh org: apply, then plan clean.
    let fresh = ApplyOrg::default().await;
    copy_tree(&org.ctx.path().join("exported"), &fresh.ctx.path().join("exported"));
    assert_exit(&fresh.gcctl(&["apply", "--auto-approve", "exported"]).await, 0);
    assert_exit(&fresh.gcctl(&["plan", "--detailed-exitcode", "exported"]).await, 0);

    // A stream has no files beside it: the flow's YAML is inline, and the
    // stream alone is a set that applies.
    let streamed = org.gcctl(&["export", "--kinds", "RoutingQueue,Flow"]).await;
    assert_exit(&streamed, 0);
    let stream = stdout(&streamed);
    assert!(!stream.contains("  file: "), "{stream}");
    assert!(stream.contains("  definition: "), "{stream}");
    let fresh = ApplyOrg::default().await;
    fresh.ctx.write("streamed/all.yaml", &stream);
    assert_exit(&fresh.gcctl(&["apply", "--auto-approve", "streamed"]).await, 0);
    assert_exit(&fresh.gcctl(&["plan", "--detailed-exitcode", "streamed"]).await, 0);
}

/// A published flow whose YAML an export cannot download fails the
/// export, which writes nothing: an export without the flow would read as
/// the org without it (a prune of flows would then delete it), and a queue
/// naming it as its in-queue flow would name a manifest not written.
#[tokio::test]
async fn a_flow_whose_yaml_does_not_download_fails_the_export_writing_nothing() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/all.yaml", IN_QUEUE_SET);
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    org.org
        .route_fault(json!({"route": "POST /api/v2/flows/export/jobs", "status": 400, "times": 5}))
        .await;
    let out = org.gcctl(&["export", "--kinds", "RoutingQueue,Flow", "--out", "ex"]).await;
    assert_exit(&out, 1);
    let said = stderr(&out);
    assert!(
        said.contains("error: cannot export 1 object: a read of it failed; nothing was written"),
        "{said}"
    );
    assert!(said.contains("Caused by: Flow/hold-music (\"Hold Music\"): its published YAML could not be downloaded: "), "{said}");
    assert!(!org.ctx.path().join("ex").exists());
    let streamed = org.gcctl(&["export", "--kinds", "RoutingQueue,Flow"]).await;
    assert_exit(&streamed, 1);
    assert!(stdout(&streamed).is_empty(), "{}", stdout(&streamed));
}

/// A flow's Archy description written over several lines (folded) is
/// uploaded on one line with gcctl's marker: the import succeeds, the next
/// plan is clean, and the export writes the text as declared, its trailing
/// spaces too.
#[tokio::test]
async fn a_description_over_several_lines_publishes_and_round_trips() {
    let org = ApplyOrg::default().await;
    let doc = flow_doc("folded", "Folded Description", "INBOUNDSHORTMESSAGE", "inboundShortMessage", "")
        .replace(
            "      name: Folded Description\n",
            "      name: Folded Description\n      description: >-\n        Routes everything\n        to the bot   \n",
        );
    org.ctx.write("set/flow.yaml", &doc);
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
    assert_exit(&org.gcctl(&["export", "--kinds", "Flow", "--out", "ex"]).await, 0);
    let yaml =
        fs_err::read_to_string(org.ctx.path().join("ex/flows/folded-description.yaml")).unwrap();
    assert!(yaml.contains("  description: \"Routes everything to the bot   \"\n"), "{yaml}");
}

const PRUNE_SET: &str = "
apiVersion: gcctl/v1
kind: Project
metadata:
  name: prune
spec:
  prune:
    - kind: Flow
      names: [\"Old *\"]
---
apiVersion: gcctl/v1
kind: RoutingQueue
metadata:
  name: declared
spec:
  name: Declared Queue
  messageInQueueFlow: Old Declared Music
";

fn in_queue_flow(name: &str) -> String {
    format!(
        "inqueueShortMessage:\n  name: {name}\n  states:\n    - state:\n        name: Wait\n        refId: Wait_1\n"
    )
}

#[tokio::test]
async fn prune_refuses_locked_flows_unless_asked_to_unlock_and_keeps_those_still_in_use() {
    let org = ApplyOrg::default().await;
    let api = &org.org;
    for name in ["Old Greeting", "Old Waiting Music", "Old Declared Music"] {
        let state = publish_through_the_api(api, &in_queue_flow(name)).await;
        assert_eq!(state["status"], "Success", "{state}");
    }
    // A queue made in the UI uses one of them: the org's dependency
    // tracking says so at the delete. A declared queue uses another: the
    // plan keeps it.
    let music = api.id_named("/api/v2/flows?name=Old%20Waiting%20Music", "Old Waiting Music").await;
    let queue = json!({"name": "Waiting Queue", "messageInQueueFlow": {"id": music}});
    let made = api.post("/api/v2/routing/queues", queue).await;
    assert_eq!(made.status, 200, "{:?}", made.body);
    // Someone (the admin OAuth client; gcctl runs as the admin user) holds
    // the lock of the one nothing uses.
    let unused = api.id_named("/api/v2/flows?name=Old%20Greeting", "Old Greeting").await;
    let checkout = api
        .call(Method::POST, &format!("/api/v2/flows/actions/checkout?flow={unused}"), None)
        .await;
    assert_eq!(checkout.status, 200, "{:?}", checkout.body);
    org.ctx.write("set/all.yaml", PRUNE_SET);
    let apply = org.gcctl(&["apply", "--auto-approve", "--prune", "set"]).await;
    let said = text(&apply);
    assert_exit(&apply, 1);
    let client = api.sandbox.client_id();
    assert!(said.contains("refusing to delete the flow: it is locked by OAuth client "), "{said}");
    assert!(said.contains(&format!("(id {client})")), "the holder is named: {said}");
    assert!(said.contains(&format!("POST /api/v2/flows/actions/unlock?flow={unused}")), "{said}");
    assert!(said.contains("--unlock-flows"), "{said}");
    assert_eq!(org.named(FLOWS, "Old Greeting").await.len(), 1, "a locked flow is kept");
    assert_eq!(count(api, "POST /api/v2/flows/actions/unlock").await, 0);

    let apply = org.gcctl(&["apply", "--auto-approve", "--prune", "--unlock-flows", "set"]).await;
    let said = text(&apply);
    assert_exit(&apply, 1);
    assert!(said.contains("deleted Flow \"Old Greeting"), "{said}");
    assert!(
        said.contains("refusing to delete the flow: QUEUE \"Waiting Queue\" still uses it"),
        "{said}"
    );
    assert!(
        said.contains("Flow \"Old Declared Music\" is inside a prune scope and not declared, but RoutingQueue/declared refers to it: it is kept"),
        "{said}"
    );
    assert_eq!(org.named(FLOWS, "Old Greeting").await.len(), 0);
    assert_eq!(org.named(FLOWS, "Old Waiting Music").await.len(), 1);
    assert_eq!(org.named(FLOWS, "Old Declared Music").await.len(), 1);
    assert_eq!(count(api, "POST /api/v2/flows/actions/unlock").await, 1);
}

/// A declared flow someone holds locked in Architect is not published over:
/// the apply names the holder and sends no import job; `--unlock-flows`
/// unlocks it and publishes.
#[tokio::test]
async fn a_locked_flow_is_not_published_over_unless_asked_to_unlock() {
    let org = ApplyOrg::default().await;
    let api = &org.org;
    let flow = |said: &str| {
        flow_doc(
            "held",
            "Held Inbound",
            "INBOUNDSHORTMESSAGE",
            "inboundShortMessage",
            &format!("- sendResponse:\n    name: Hello\n    messageBody:\n      lit: {said}"),
        )
    };
    org.ctx.write("set/flow.yaml", &flow("Hello"));
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    let id = org.one(FLOWS, "Held Inbound").await["id"].as_str().unwrap().to_string();
    let checkout = format!("/api/v2/flows/actions/checkout?flow={id}");
    assert_eq!(api.call(Method::POST, &checkout, None).await.status, 200);

    // The plan says so before any apply.
    let plan = org.gcctl(&["plan", "--detailed-exitcode", "set"]).await;
    assert_exit(&plan, 0);
    let said = text(&plan);
    assert!(
        said.contains(
            "Note: 1 declared flow is locked in Architect: \"Held Inbound\" by OAuth client"
        ),
        "{said}"
    );

    org.ctx.write("set/flow.yaml", &flow("Welcome"));
    reset_stats(api).await;
    let apply = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    assert_exit(&apply, 1);
    let said = text(&apply);
    assert!(
        said.contains("refusing to publish over the flow: it is locked by OAuth client"),
        "{said}"
    );
    assert_eq!(count(api, "POST /api/v2/flows/jobs").await, 0, "no job while locked");

    let apply = org.gcctl(&["apply", "--auto-approve", "--unlock-flows", "set"]).await;
    assert_exit(&apply, 0);
    assert_eq!(count(api, "POST /api/v2/flows/actions/unlock").await, 1);
    assert_eq!(count(api, "POST /api/v2/flows/jobs").await, 1);
    let live = org.one(FLOWS, "Held Inbound").await;
    assert_eq!(live["publishedVersion"]["id"], "2.0", "{live}");
    assert!(live.get("lockedClient").is_none(), "{live}");
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}

const IN_QUEUE_SET: &str = "
apiVersion: gcctl/v1
kind: RoutingQueue
metadata:
  name: patient
spec:
  name: Patient Queue
  messageInQueueFlow: hold-music
---
apiVersion: gcctl/v1
kind: Flow
metadata:
  name: hold-music
spec:
  name: Hold Music
  type: INQUEUESHORTMESSAGE
  definition: |
    inqueueShortMessage:
      name: Hold Music
      description: While the customer waits
";

#[tokio::test]
async fn a_queue_names_a_declared_in_queue_flow_by_handle_and_is_created_after_it() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/all.yaml", IN_QUEUE_SET);
    let apply = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    assert_exit(&apply, 0);
    let said = text(&apply);
    let flow_at = said.find("created Flow/hold-music").expect("the flow is created");
    let queue_at = said.find("created RoutingQueue/patient").expect("the queue is created");
    assert!(flow_at < queue_at, "the flow first: {said}");
    let flow = org.one(FLOWS, "Hold Music").await;
    let queue = org.one("/api/v2/routing/queues?pageSize=500", "Patient Queue").await;
    assert_eq!(queue["messageInQueueFlow"]["id"], flow["id"], "{queue}");
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}

/// A wrap-up code named inside the flow (`wrapupCode: {lit: {name: …}}`) is
/// a reference: a declared code is created before the flow is published; a
/// code the org does not have fails the import job, naming it and its line.
#[tokio::test]
async fn wrapup_codes_named_in_a_flow_are_created_before_it_or_fail_its_job() {
    let org = ApplyOrg::default().await;
    let flow = |code: &str| {
        format!(
            "apiVersion: gcctl/v1\nkind: Flow\nmetadata: {{name: coded}}\nspec:\n  name: Coded Inbound\n  type: INBOUNDSHORTMESSAGE\n  definition: |\n    inboundShortMessage:\n      name: Coded Inbound\n      startUpRef: \"/inboundShortMessage/states/state[Start_10]\"\n      states:\n        - state:\n            name: Start\n            refId: Start_10\n            actions:\n              - setWrapupCode:\n                  name: Code it\n                  wrapupCode:\n                    lit:\n                      name: {code}\n              - disconnect:\n                  name: Done\n"
        )
    };
    let code = "---\napiVersion: gcctl/v1\nkind: RoutingWrapupCode\nmetadata: {name: resolved}\nspec: {name: Flow Resolved}\n";
    org.ctx.write("set/flow.yaml", &(flow("Flow Resolved") + code));
    let apply = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    assert_exit(&apply, 0);
    let err = stderr(&apply);
    let created = err.find("created RoutingWrapupCode/resolved").expect(&err);
    let published = err.find("created Flow/coded").expect(&err);
    assert!(created < published, "the code before the flow: {err}");
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);

    org.ctx.write("set/flow.yaml", &flow("No Such Code"));
    let apply = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    assert_exit(&apply, 1);
    let err = stderr(&apply);
    assert!(err.contains("Unable to find a wrap-up code named 'No Such Code'"), "{err}");
}

/// A flow in a `Flow` manifest named `handle`, of `archy_key`, whose one
/// state runs `actions` (YAML lines at the actions' indentation).
pub fn flow_doc(
    handle: &str,
    name: &str,
    flow_type: &str,
    archy_key: &str,
    actions: &str,
) -> String {
    let actions: String = actions.lines().flat_map(|l| ["              ", l, "\n"]).collect();
    format!(
        "---\napiVersion: gcctl/v1\nkind: Flow\nmetadata: {{name: {handle}}}\nspec:\n  name: {name}\n  type: {flow_type}\n  definition: |\n    {archy_key}:\n      name: {name}\n      startUpRef: \"/{archy_key}/states/state[Start_1]\"\n      states:\n        - state:\n            name: Start\n            refId: Start_1\n            actions:\n{actions}              - disconnect:\n                  name: Done\n"
    )
}

const CALLS_MODULE: &str = "- callCommonModule:\n    name: Greet\n    commonModule:\n      Greeting Module:\n        ver_latestPublished: {}";

fn transfers_to(flow: &str) -> String {
    format!("- transferToFlow:\n    name: Onward\n    targetFlow:\n      name: {flow}")
}

/// Flows named inside a flow (`callCommonModule`, `transferToFlow`) are
/// references: declared ones are published first, the import job records
/// them in dependency tracking, and one the org does not have fails the
/// job with its name, type and line.
#[tokio::test]
async fn flows_named_in_a_flow_are_published_before_it_and_tracked_as_consumed() {
    let org = ApplyOrg::default().await;
    let front = flow_doc(
        "front",
        "Front Door",
        "INBOUNDSHORTMESSAGE",
        "inboundShortMessage",
        &format!("{CALLS_MODULE}\n{}", transfers_to("Back Door")),
    );
    let module = flow_doc("greeting", "Greeting Module", "COMMONMODULE", "commonModule", "");
    let back = flow_doc("back", "Back Door", "INBOUNDSHORTMESSAGE", "inboundShortMessage", "");
    org.ctx.write("set/flows.yaml", &format!("{front}{module}{back}"));
    let apply = org.gcctl(&["apply", "--auto-approve", "--parallelism", "1", "set"]).await;
    assert_exit(&apply, 0);
    let said = stderr(&apply);
    let front_at = said.find("created Flow/front").expect(&said);
    assert!(said.find("created Flow/greeting").expect(&said) < front_at, "{said}");
    assert!(said.find("created Flow/back").expect(&said) < front_at, "{said}");
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);

    let api = &org.org;
    let flow = org.one(FLOWS, "Front Door").await;
    let consumed = api
        .get(&format!(
            "/api/v2/architect/dependencytracking/consumedresources?id={}&version={}&objectType=INBOUNDSHORTMESSAGEFLOW",
            flow["id"].as_str().unwrap(),
            flow["publishedVersion"]["id"].as_str().unwrap()
        ))
        .await
        .body;
    let mut used: Vec<(String, String)> = consumed["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["name"].as_str().unwrap().to_string(), d["type"].as_str().unwrap().to_string()))
        .collect();
    used.sort();
    assert_eq!(
        used,
        [
            ("Back Door".to_string(), "INBOUNDSHORTMESSAGEFLOW".to_string()),
            ("Greeting Module".to_string(), "COMMONMODULEFLOW".to_string())
        ],
        "{consumed}"
    );
    let module = org.one(FLOWS, "Greeting Module").await;
    let consuming = api
        .get(&format!(
            "/api/v2/architect/dependencytracking/consumingresources?id={}&objectType=COMMONMODULEFLOW",
            module["id"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(consuming["entities"][0]["name"], "Front Door", "{consuming}");

    // A module the org does not have: the job fails naming it and its line;
    // the plan left it to the org.
    let lost = flow_doc(
        "front",
        "Front Door",
        "INBOUNDSHORTMESSAGE",
        "inboundShortMessage",
        &CALLS_MODULE.replace("Greeting Module", "No Such Module"),
    );
    org.ctx.write(
        "set/flows.yaml",
        &format!(
            "{lost}{module}{back}",
            module = flow_doc("greeting", "Greeting Module", "COMMONMODULE", "commonModule", "")
        ),
    );
    let apply = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    assert_exit(&apply, 1);
    let said = stderr(&apply);
    assert!(
        said.contains("Unable to find a published COMMONMODULE flow named 'No Such Module'"),
        "{said}"
    );
    assert!(said.contains("set/flows.yaml:"), "the message points into the manifest: {said}");
}

#[test]
fn flows_that_transfer_to_each_other_are_a_cycle_with_a_fix() {
    let ctx = TestContext::new();
    let one = flow_doc("one", "One", "INBOUNDCALL", "inboundCall", &transfers_to("Two"));
    let two = flow_doc("two", "Two", "INBOUNDCALL", "inboundCall", &transfers_to("One"));
    // A flow that transfers to itself is no cycle.
    let own = flow_doc("own", "Own", "INBOUNDCALL", "inboundCall", &transfers_to("Own"));
    ctx.write("set/flows.yaml", &format!("{one}{two}{own}"));
    let output = ctx.run(&["validate", "set"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let said = stderr(&output);
    assert_eq!(said.matches("dependency cycle: ").count(), 1, "{said}");
    assert!(said.contains("Flow/one") && said.contains("Flow/two"), "{said}");
    assert!(said.contains("leave one flow's reference to the other out"), "{said}");
}

/// `n` minimal inbound message flows, `Many Inbound 01` ….
fn many_flows(n: usize) -> String {
    (1..=n)
        .map(|i| {
            format!(
                "apiVersion: gcctl/v1\nkind: Flow\nmetadata:\n  name: many-{i:02}\nspec:\n  \
                 name: Many Inbound {i:02}\n  type: INBOUNDSHORTMESSAGE\n  definition: |\n    \
                 inboundShortMessage:\n      name: Many Inbound {i:02}\n      \
                 startUpRef: \"/inboundShortMessage/states/state[Start_1]\"\n      states:\n        \
                 - state:\n            name: Start\n            refId: Start_1\n            \
                 actions:\n              - disconnect:\n                  name: Disconnect\n"
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

/// Export jobs are not held to a few at a time (issue 17): nothing
/// documents a limit, so every flow's job is created before any has ended
/// (each takes 2 s here); a 429 on a job create is waited out and retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_jobs_all_run_at_once_and_a_429_on_create_is_retried() {
    const CREATE: &str = "POST /api/v2/flows/export/jobs";
    const DOWNLOAD: &str = "GET /downloads/architect/{jobId}";
    let config = gcctl::sandbox::SandboxConfig {
        flow_job_duration: std::time::Duration::from_secs(2),
        ..gcctl::sandbox::SandboxConfig::default()
    };
    let org = ApplyOrg::start(config).await;
    org.ctx.write("set/flows.yaml", &many_flows(10));
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);

    org.reset_stats().await;
    let mut command = tokio::process::Command::from(org.ctx.command());
    command.args(["export", "--kinds", "Flow", "--out", "exported"]);
    let mut child = command.stdin(std::process::Stdio::null()).spawn().expect("gcctl starts");
    // The jobs created when the first download is seen.
    let mut created_at_first_download = None;
    let status = loop {
        let stats = org.org.stats().await;
        let (created, downloads) = (
            stats["byRoute"][CREATE].as_u64().unwrap_or(0),
            stats["byRoute"][DOWNLOAD].as_u64().unwrap_or(0),
        );
        if downloads > 0 && created_at_first_download.is_none() {
            created_at_first_download = Some(created);
        }
        if let Some(status) = child.try_wait().expect("gcctl runs") {
            break status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status}");
    let created = count(&org.org, CREATE).await;
    assert!(created >= 10, "one job per flow: {created}");
    assert_eq!(count(&org.org, DOWNLOAD).await, created);
    assert_eq!(
        created_at_first_download,
        Some(created),
        "every job was created before the first ended"
    );

    // The org refuses one job create with 429: waited out, created again.
    org.reset_stats().await;
    org.org.route_fault(json!({"route": CREATE, "status": 429})).await;
    let again = org.gcctl(&["export", "--kinds", "Flow", "--out", "again"]).await;
    assert_exit(&again, 0);
    assert_eq!(count(&org.org, CREATE).await, created + 1);
    assert_eq!(count(&org.org, DOWNLOAD).await, created);
    let flows = fs_err::read_to_string(org.ctx.path().join("again/flows.yaml")).unwrap();
    assert!(flows.contains("name: Many Inbound 10"), "{flows}");
}

/// A queue that a declared flow's YAML names (a soft reference) is kept by
/// a prune whose scope holds it, with a note; one nothing names goes.
#[tokio::test]
async fn a_prune_keeps_the_queues_a_declared_flow_names() {
    let org = ApplyOrg::default().await;
    for name in ["Stray Q", "Unused Q"] {
        let made = org.org.post("/api/v2/routing/queues", json!({"name": name})).await;
        assert_eq!(made.status, 200, "{:?}", made.body);
    }
    let transfer =
        "- transferToAcd:\n    name: Go\n    targetQueue:\n      lit:\n        name: Stray Q";
    let flow =
        flow_doc("fd", "Names A Queue", "INBOUNDSHORTMESSAGE", "inboundShortMessage", transfer);
    let project = "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  prune: [{kind: RoutingQueue, names: [\"*\"]}]\n";
    org.ctx.write("set/all.yaml", &format!("{project}{flow}"));
    let apply = org.gcctl(&["apply", "--auto-approve", "--prune", "set"]).await;
    assert_exit(&apply, 0);
    let said = text(&apply);
    assert!(
        said.contains("RoutingQueue \"Stray Q\" is inside a prune scope and not declared, but Flow/fd refers to it: it is kept"),
        "{said}"
    );
    assert_eq!(org.named(super::super::apply::QUEUES, "Stray Q").await.len(), 1);
    assert!(org.named(super::super::apply::QUEUES, "Unused Q").await.is_empty());
}

/// A minimal definition of a flow under Archy's top-level `key`, named
/// `name`: one state that disconnects.
fn disconnecting(key: &str, name: &str) -> String {
    format!(
        "{key}:\n  name: {name}\n  startUpRef: \"/{key}/states/state[Start_10]\"\n  states:\n    - state:\n        name: Start\n        refId: Start_10\n        actions:\n          - disconnect:\n              name: Done\n"
    )
}

/// The note on a create whose name the org holds in another case names
/// only an object the declared one could be taken for: a flow of another
/// type (flow names repeat across types) is not one.
#[tokio::test]
async fn a_case_twin_of_another_flow_type_is_not_noted() {
    let org = ApplyOrg::default().await;
    let published =
        publish_through_the_api(&org.org, &disconnecting("inboundShortMessage", "bot flow")).await;
    assert_eq!(published["status"], "Success", "{published}");
    let flow = |flow_type: &str, key: &str| {
        let definition = disconnecting(key, "Bot Flow").replace('\n', "\n    ");
        let definition = format!("    {}", definition.trim_end());
        format!(
            "apiVersion: gcctl/v1\nkind: Flow\nmetadata: {{name: bot}}\nspec:\n  name: Bot Flow\n  type: {flow_type}\n  definition: |\n{definition}\n"
        )
    };
    org.ctx.write("set/flow.yaml", &flow("INBOUNDCALL", "inboundCall"));
    let plan = org.gcctl(&["plan", "set"]).await;
    assert!(stdout(&plan).contains("+ Flow/bot \"Bot Flow\" will be created"), "{}", text(&plan));
    assert!(!stdout(&plan).contains("differs only in case"), "{}", text(&plan));
    org.ctx.write("set/flow.yaml", &flow("INBOUNDSHORTMESSAGE", "inboundShortMessage"));
    let plan = org.gcctl(&["plan", "set"]).await;
    assert!(stdout(&plan).contains("the org holds Flow \"bot flow\" (id "), "{}", text(&plan));
}

/// A flow an admin published (no gcctl mark): its export plans clean
/// against the org, noting who published it, and an apply sends no import
/// job: republishing the same definition would be noise.
#[tokio::test]
async fn an_export_of_a_flow_published_outside_gcctl_plans_clean() {
    let org = ApplyOrg::default().await;
    let published =
        publish_through_the_api(&org.org, &disconnecting("inboundShortMessage", "UI Flow")).await;
    assert_eq!(published["status"], "Success", "{published}");
    let export =
        org.gcctl(&["export", "--out", "exported", "--kinds", "Flow", "--name-glob", "UI*"]).await;
    assert_exit(&export, 0);
    let plan = org.gcctl(&["plan", "--detailed-exitcode", "exported"]).await;
    assert_exit(&plan, 0);
    assert!(stdout(&plan).contains("published outside gcctl by "), "{}", text(&plan));
    reset_stats(&org.org).await;
    let apply = org.gcctl(&["apply", "--auto-approve", "exported"]).await;
    assert_exit(&apply, 0);
    assert_eq!(count(&org.org, "POST /api/v2/flows/jobs").await, 0, "{}", text(&apply));
    // A declared change publishes, with gcctl's mark: then nothing is downloaded.
    let file = org.ctx.path().join("exported/flows/ui-flow.yaml");
    let definition = fs_err::read_to_string(&file).unwrap();
    fs_err::write(&file, definition.replace("name: Done", "name: Finished")).unwrap();
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "exported"]).await, 0);
    reset_stats(&org.org).await;
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "exported"]).await, 0);
    assert_eq!(count(&org.org, "POST /api/v2/flows/export/jobs").await, 0);
}

/// Flow names repeat across types: two flows named alike but of different
/// types are two objects to export (not a shared name left out), each with
/// its own handle, and a queue's in-queue flow names the one of its type.
#[tokio::test]
async fn flows_named_alike_of_two_types_are_both_exported_and_round_trip() {
    let org = ApplyOrg::default().await;
    let set = [
        flow_doc("call-intake", "Intake", "INQUEUECALL", "inqueueCall", ""),
        flow_doc("message-intake", "Intake", "INBOUNDSHORTMESSAGE", "inboundShortMessage", ""),
        "---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec: {name: Q, queueFlow: call-intake}\n".to_string(),
    ]
    .concat();
    org.ctx.write("set/all.yaml", &set);
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    let export = org.gcctl(&["export", "--kinds", "Flow,RoutingQueue", "--out", "exported"]).await;
    assert_exit(&export, 0);
    assert!(!text(&export).contains("none of them was exported"), "{}", text(&export));
    let flows = fs_err::read_to_string(org.ctx.path().join("exported/flows.yaml")).unwrap();
    assert!(flows.contains("  name: intake\n") && flows.contains("  name: intake-2\n"), "{flows}");
    let queues = fs_err::read_to_string(org.ctx.path().join("exported/queues.yaml")).unwrap();
    // `intake` is the first in (name, type) order: INBOUNDSHORTMESSAGE.
    assert!(
        flows.contains("  name: intake-2\nspec:\n  name: Intake\n  division: Home\n  file: flows/intake-2.yaml\n  type: INQUEUECALL\n"),
        "{flows}"
    );
    assert!(queues.contains("  queueFlow: intake-2\n"), "{queues}");

    let fresh = ApplyOrg::default().await;
    copy_tree(&org.ctx.path().join("exported"), &fresh.ctx.path().join("exported"));
    assert_exit(&fresh.gcctl(&["apply", "--auto-approve", "exported"]).await, 0);
    assert_exit(&fresh.gcctl(&["plan", "--detailed-exitcode", "exported"]).await, 0);
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "exported"]).await, 0);

    // Declaring one of them leaves the other unmanaged, for drift too.
    let one = [
        flow_doc("call-intake", "Intake", "INQUEUECALL", "inqueueCall", ""),
        "---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec: {name: Q, queueFlow: call-intake}\n".to_string(),
    ]
    .concat();
    org.ctx.write("one/all.yaml", &one);
    let drift = org.gcctl(&["drift", "--include-unmanaged", "one"]).await;
    assert!(
        stdout(&drift).contains("? Flow \"Intake\" is not declared in the manifests"),
        "{}",
        text(&drift)
    );
}

/// Server text in a failure cannot forge output lines: an import job whose
/// status holds line breaks and an `error:` line is shown on one line.
#[tokio::test]
async fn a_job_status_with_line_breaks_cannot_forge_output_lines() {
    let org = ApplyOrg::default().await;
    org.ctx.write(
        "set/flow.yaml",
        &flow_doc("forged", "Forged", "INBOUNDSHORTMESSAGE", "inboundShortMessage", ""),
    );
    let status =
        "Pending\nerror: RoutingQueue/x: DELETED by gcctl\nApply complete: 3 created, 0 failed";
    let body = serde_json::json!({"id": "job-1", "status": status}).to_string();
    let fault =
        serde_json::json!({"route": "GET /api/v2/flows/jobs/{jobId}", "status": 200, "body": body});
    org.org.route_fault(fault).await;
    let apply = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    assert_exit(&apply, 1);
    let err = stderr(&apply);
    assert!(err.contains("has the unknown status Pending error: RoutingQueue/x"), "{err}");
    assert!(
        !err.lines()
            .any(|l| l.starts_with("error: RoutingQueue/x") || l.starts_with("Apply complete")),
        "{err}"
    );
}

/// An apply right after another, while the flow list does not show the flow
/// the first one published yet (a read-after-write window), plans its create
/// again. The create journal (its record of the first run's create is still
/// there: that run's own check did not see the flow either) has the second
/// run look for it by name and type: it is adopted, publishing nothing, when
/// its marker says the declared definition is what is live; an edited one
/// is published over the flow found, its lock read first, as an update's
/// (one flow, a new version). A flow of the same name and another type is
/// not taken for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_while_the_flow_list_lags_does_not_republish_for_nothing() {
    let lag = std::time::Duration::from_secs(3);
    let config = gcctl::sandbox::SandboxConfig {
        consistency_delay: lag,
        ..gcctl::sandbox::SandboxConfig::default()
    };
    let org = ApplyOrg::start(config).await;
    let other_type = flow_doc("twin", "Lagging", "INQUEUECALL", "inqueueCall", "");
    org.ctx.write("twin/flow.yaml", &other_type);
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "twin"]).await, 0);
    tokio::time::sleep(lag + std::time::Duration::from_millis(100)).await;
    let journal = org.journal().await;
    let kind = gcctl::kinds::Kind::parse("Flow").unwrap();
    let apply = |set: &'static str| ["apply", "--auto-approve", "--consistency-window", "6", set];

    // Applied again at once, unchanged: adopted, nothing published.
    let declared = flow_doc("lagging", "Lagging", "INBOUNDSHORTMESSAGE", "inboundShortMessage", "");
    org.ctx.write("same/flow.yaml", &declared);
    assert_exit(&org.gcctl(&apply("same")).await, 0);
    assert!(journal.unfinished(kind, "Lagging"), "the run's check did not see the flow yet");
    reset_stats(&org.org).await;
    let again = org.gcctl(&apply("same")).await;
    assert_exit(&again, 0);
    let said = text(&again);
    assert!(said.contains("will be created"), "the list lagged: {said}");
    assert!(said.contains("found the object by name and adopted it"), "{said}");
    assert_eq!(count(&org.org, "POST /api/v2/flows/jobs").await, 0, "republished: {said}");

    // Edited, and applied at once: published over the flow found, once.
    let first = flow_doc("edited", "Edited", "INBOUNDSHORTMESSAGE", "inboundShortMessage", "");
    org.ctx.write("edit/flow.yaml", &first);
    assert_exit(&org.gcctl(&apply("edit")).await, 0);
    org.ctx.write("edit/flow.yaml", &first.replace("name: Done", "name: Finished"));
    reset_stats(&org.org).await;
    let edited = org.gcctl(&apply("edit")).await;
    assert_exit(&edited, 0);
    let said = text(&edited);
    assert!(said.contains("will be created"), "the list lagged: {said}");
    assert_eq!(count(&org.org, "POST /api/v2/flows/jobs").await, 1, "{said}");
    assert_eq!(count(&org.org, "GET /api/v2/flows/{flowId}").await, 1, "its lock: {said}");
    assert!(said.contains("(replacing version 1.0)"), "{said}");
    tokio::time::sleep(lag + std::time::Duration::from_millis(100)).await;
    let flows = org.org.get(FLOWS).await.body;
    let named = |name: &str| -> Vec<Value> {
        let all = flows["entities"].as_array().unwrap();
        all.iter().filter(|f| f["name"] == name).cloned().collect()
    };
    let lagging = named("Lagging");
    assert_eq!(lagging.len(), 2, "one flow of each type: {lagging:#?}");
    for flow in &lagging {
        assert_eq!(flow["publishedVersion"]["id"], "1.0", "{flow}");
    }
    let edited = named("Edited");
    assert_eq!(edited.len(), 1, "{edited:#?}");
    assert_eq!(edited[0]["publishedVersion"]["id"], "2.0", "{}", edited[0]);
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "same", "edit"]).await, 0);
}

/// A failure after the import job was registered (here its state cannot
/// be read) may have made the flow: the journal keeps the create, so that a
/// run while the flow list lags looks for the flow before publishing again.
/// (A job that says it failed made nothing: its record ends, see
/// `a_flow_naming_a_missing_queue_fails_…`.)
#[tokio::test]
async fn a_failure_after_the_import_job_is_registered_keeps_the_create_journaled() {
    let org = ApplyOrg::default().await;
    org.ctx.write(
        "set/flow.yaml",
        &flow_doc("unread", "Unread", "INBOUNDSHORTMESSAGE", "inboundShortMessage", ""),
    );
    let route = "GET /api/v2/flows/jobs/{jobId}";
    org.org.route_fault(json!({"route": route, "status": 400, "times": 100})).await;
    let apply = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    assert_exit(&apply, 1);
    let journal = org.journal().await;
    let kind = gcctl::kinds::Kind::parse("Flow").unwrap();
    assert!(journal.unfinished(kind, "Unread"), "{}", text(&apply));
}

/// An org holds flows of types `Flow` manifests do not take (a bot flow, a
/// chat flow: what Architect made for other channels). None is pruned, even
/// inside a prune scope of every flow name; none is reported unmanaged;
/// export reads nothing of them and says it left them out, where one bot
/// flow failed every full export before (its YAML did not download).
#[tokio::test]
async fn flows_of_types_no_manifest_takes_are_kept_and_left_out_of_export_with_a_warning() {
    let org = ApplyOrg::default().await;
    let api = &org.org;
    for (name, flow_type) in
        [("Cognigy Bot", "DIGITALBOT"), ("Legacy Bot", "BOT"), ("Old Chat", "INBOUNDCHAT")]
    {
        let made = api.post("/api/v2/flows", json!({"name": name, "type": flow_type})).await;
        assert_eq!(made.status, 200, "{:?}", made.body);
    }
    let twin =
        api.post("/api/v2/flows", json!({"name": "cognigy bot", "type": "DIGITALBOT"})).await;
    assert_eq!(twin.status, 409, "a name is unique within its type: {:?}", twin.body);
    let all_flows = "---\napiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  prune:\n    - kind: Flow\n      names: [\"*\"]\n";
    let declared = flow_doc("inbound", "Inbound", "INBOUNDSHORTMESSAGE", "inboundShortMessage", "");
    org.ctx.write("set/all.yaml", &format!("{all_flows}{declared}"));
    let apply = org.gcctl(&["apply", "--auto-approve", "--prune", "set"]).await;
    assert_exit(&apply, 0);
    let said = text(&apply);
    assert!(said.contains("1 created, 0 updated, 0 deleted"), "{said}");
    for name in ["Cognigy Bot", "Legacy Bot", "Old Chat"] {
        assert_eq!(org.named(FLOWS, name).await.len(), 1, "{name} is kept: {said}");
    }
    let drift = org.gcctl(&["drift", "--include-unmanaged", "set"]).await;
    assert_exit(&drift, 0);
    assert!(!text(&drift).contains("Bot"), "{}", text(&drift));

    reset_stats(api).await;
    let export = org.gcctl(&["export", "--out", "exported"]).await;
    assert_exit(&export, 0);
    let said = text(&export);
    assert!(
        said.contains("warning: 1 live Flow object of type DIGITALBOT, which Flow manifests do not take was not exported"),
        "{said}"
    );
    assert!(said.contains("of type BOT,") && said.contains("of type INBOUNDCHAT,"), "{said}");
    assert_eq!(count(api, "POST /api/v2/flows/export/jobs").await, 1, "the declared flow's only");
    let flows = fs_err::read_to_string(org.ctx.path().join("exported/flows.yaml")).unwrap();
    assert!(flows.contains("name: Inbound") && !flows.contains("Bot"), "{flows}");
}
