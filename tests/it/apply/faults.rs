//! Applying against a hostile org: 10% faults (500, 503, dropped
//! connections after the change was made, slow answers) and a per-token rate
//! limit low enough to answer 429s. Every run is safe to re-run; re-running
//! converges with zero duplicates and a working recorded secret for every
//! OAuth client, and then plans clean.

use std::time::Duration;

use gcctl::sandbox::SandboxConfig;
use serde_json::{Value, json};

use super::{ApplyOrg, CLIENTS, CONTENT, INTEGRATIONS, QUEUES, ROLES, assert_exit};
use crate::common::stderr;

fn doc(kind: &str, name: &str, spec: &Value) -> String {
    let doc =
        json!({"apiVersion": "gcctl/v1", "kind": kind, "metadata": {"name": name}, "spec": spec});
    serde_json::to_string(&doc).unwrap()
}

/// `count` objects of every kind: (kind, collection, org name) for each, and the manifests.
pub fn bulk_set(
    queues: usize,
    roles: usize,
    clients: usize,
    content: usize,
    integrations: usize,
) -> (Vec<(&'static str, String)>, String) {
    let mut objects = Vec::new();
    let mut docs = vec![doc(
        "Webhook",
        "hook",
        &json!({"url": "https://bot.example.com/hook", "signatureSecret": {"fromEnv": "ACME_BOT_WEBHOOK_SECRET"}}),
    )];
    for i in 0..content {
        let name = format!("Bulk Content {i:03}");
        docs.push(doc(
            "SupportedContentProfile",
            &format!("content-{i}"),
            &json!({"name": name, "mediaTypes": {"allow": {"inbound": [{"type": "image/*"}]}}}),
        ));
        objects.push((CONTENT, name));
    }
    for i in 0..integrations {
        let name = format!("Bulk Integration {i:03}");
        let mut spec = json!({"name": name, "webhook": "hook"});
        if content > 0 {
            spec["supportedContent"] = json!(format!("content-{}", i % content));
        }
        if i % 2 == 0 {
            spec["inboundFlow"] = json!({"name": "Bot Handover Inbound"});
        }
        docs.push(doc("OpenMessagingIntegration", &format!("integration-{i}"), &spec));
        objects.push((INTEGRATIONS, name));
    }
    for i in 0..queues {
        let name = format!("Bulk Queue {i:03}");
        let mut spec = json!({"name": name, "description": format!("queue {i}"),
            "mediaSettings": {"message": {"alertingTimeoutSeconds": 7 + i}}});
        if integrations > 0 && i % 5 == 0 {
            spec["outboundMessagingAddresses"] =
                json!({"openMessagingRecipient": format!("integration-{}", i % integrations)});
        }
        docs.push(doc("RoutingQueue", &format!("queue-{i}"), &spec));
        objects.push((QUEUES, name));
    }
    for i in 0..roles {
        let name = format!("Bulk Role {i:03}");
        docs.push(doc(
            "Role",
            &format!("role-{i}"),
            &json!({"name": name, "permissions": ["routing:queue:view"]}),
        ));
        objects.push((ROLES, name));
    }
    for i in 0..clients {
        let name = format!("Bulk Client {i:03}");
        let mut spec = json!({"name": name, "authorizedGrantType": "CLIENT-CREDENTIALS"});
        if roles > 0 {
            spec["roleDivisions"] = json!([{"role": format!("role-{}", i % roles)}]);
        }
        docs.push(doc("OAuthClient", &format!("client-{i}"), &spec));
        objects.push((CLIENTS, name));
    }
    (objects, docs.join("\n---\n"))
}

/// Exactly one live object per declared name, per collection.
pub async fn assert_no_duplicates(org: &ApplyOrg, objects: &[(&'static str, String)]) {
    let mut collections: Vec<&str> = objects.iter().map(|(c, _)| *c).collect();
    collections.dedup();
    for collection in collections {
        let live = org.list(collection).await;
        for (_, name) in objects.iter().filter(|(c, _)| *c == collection) {
            let count = live.iter().filter(|o| o["name"] == name.as_str()).count();
            assert_eq!(count, 1, "{name} exists {count} times in {collection}");
        }
    }
}

/// Run `gcctl ARGS` until it exits 0 (at most `runs` times); the number of runs.
pub async fn until_success(org: &ApplyOrg, args: &[&str], runs: usize) -> usize {
    let mut failures = String::new();
    for run in 1..=runs {
        let output = org.gcctl(args).await;
        if output.status.code() == Some(0) {
            return run;
        }
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        failures.push_str(&format!("--- run {run}\n{}", stderr(&output)));
    }
    panic!("`gcctl {}` did not succeed in {runs} runs:\n{failures}", args.join(" "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_objects_converge_under_faults_and_rate_limits() {
    let config = SandboxConfig {
        fault_rate: 0.1,
        fault_seed: 7,
        fault_slow: Duration::from_millis(300),
        // A run makes ~350 requests (200 creates, reads, polls, caller
        // grants, each client's second write, lookups after lost answers): a
        // bucket of 300 per token must answer 429s (dozens of them), and
        // refills at 5/s, so the throttled tail is about 10 s.
        rate_limit_per_minute: Some(300),
        ..SandboxConfig::default()
    };
    let org = ApplyOrg::start(config).await;
    let (objects, manifests) = bulk_set(140, 25, 10, 10, 15);
    assert_eq!(objects.len(), 200);
    org.ctx.write("bulk/all.yaml", &manifests);

    // This org lists a create at once (no read-after-write window), so a
    // short consistency window loses nothing here and keeps the look-ups
    // after the 500s on creates (outcome unknown) from holding the run for
    // 15 s each; the soak's faults scenario runs the default window against
    // a 5 s lag.
    let args = [
        "apply",
        "--auto-approve",
        "--secrets-dir",
        "secrets",
        "--consistency-window",
        "2",
        "bulk",
    ];
    // Retries (idempotent calls, 429s) and lookups after lost create answers
    // make one run enough, but for the odds: a create is sent at most four
    // times (`CREATE_ATTEMPTS`), and four faults in a row on one of the 200
    // creates (5 % of draws are a 500 or 503 that made nothing) fail the run
    // about once in a thousand. Then the run says so and a second one
    // finishes, as a user re-running would see; anything else fails here.
    let first = org.gcctl(&args).await;
    if first.status.code() != Some(0) {
        let err = stderr(&first);
        assert_eq!(first.status.code(), Some(1), "{err}");
        // Every failure is a create whose four answers were lost (its hint
        // says so), on a 500 or 503.
        let failures = err.matches("error: ").count();
        let exhausted = err.matches("hint: the create was sent 4 times").count();
        assert!(
            failures > 0
                && failures == exhausted
                && (err.contains("500 Internal Server Error")
                    || err.contains("503 Service Unavailable")),
            "the first run failed on something else than a create's retries running out:\n{err}"
        );
        until_success(&org, &args, 1).await;
    }
    let stats = org.org.stats().await;
    let faults: u64 =
        stats["faultsInjected"].as_object().unwrap().values().filter_map(Value::as_u64).sum();
    assert!(faults > 0, "faults were injected: {stats}");
    assert!(stats["status429"].as_u64().unwrap() >= 10, "429s were answered: {stats}");
    assert_no_duplicates(&org, &objects).await;
    let lost = super::lost_secrets(&org, &objects, &org.ctx.path().join("secrets")).await;
    assert!(lost.is_empty(), "clients without a working recorded secret: {lost:?}");
    // The plan's reads are retried through faults too: one run, no changes.
    until_success(&org, &["plan", "--detailed-exitcode", "bulk"], 1).await;
    assert_exit(&org.gcctl(&["validate", "bulk"]).await, 0);
}

/// The read before a PUT must be the object: an empty body, a bare id or
/// another queue's body fails the change before anything is written (a
/// write merged into it would replace every undeclared field), and the
/// next run converges.
#[tokio::test]
async fn a_read_before_a_write_that_is_not_the_object_writes_nothing() {
    let org = ApplyOrg::default().await;
    let body =
        json!({"name": "Read Check", "callingPartyName": "Acme", "skillEvaluationMethod": "BEST"});
    assert_eq!(org.org.post(QUEUES, body).await.status, 200);
    let other = org.org.post(QUEUES, json!({"name": "Other Queue"})).await.body;
    let id = org.org.id_named(QUEUES, "Read Check").await;
    let set = "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec: {name: Read Check, description: edited}\n";
    org.ctx.write("set/q.yaml", set);
    // Its own id alone, or with its name only: fewer fields than its listing.
    let bare = json!({"id": id}).to_string();
    let named = json!({"id": id, "name": "Read Check"}).to_string();
    for answer in ["", "{\"id\": \"x\"}", &other.to_string(), &bare, &named] {
        let fault =
            json!({"route": "GET /api/v2/routing/queues/{queueId}", "status": 200, "body": answer});
        org.org.route_fault(fault).await;
        let apply = org.gcctl(&["apply", "--auto-approve", "set"]).await;
        assert_exit(&apply, 1);
        let err = stderr(&apply);
        assert!(err.contains("before the write, GET /api/v2/routing/queues/"), "{err}");
        assert!(err.contains("nothing was written"), "{err}");
        let live = org.one(QUEUES, "Read Check").await;
        assert_eq!(
            (live["callingPartyName"].as_str(), live.get("description")),
            (Some("Acme"), None),
            "{live}"
        );
    }
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    let live = org.one(QUEUES, "Read Check").await;
    assert_eq!(
        (live["callingPartyName"].as_str(), live["description"].as_str()),
        (Some("Acme"), Some("edited"))
    );
}

/// An update answered with success but not the object it wrote (an empty
/// body, `{}`, a list): gcctl cannot tell whether the org wrote it, so the
/// PUT, which is harmless to repeat, is sent again and the run converges;
/// when every answer is so, the change fails saying so, with the status
/// and the call, instead of reporting an update the org may not have made.
#[tokio::test]
async fn an_update_answered_without_the_object_is_sent_again_or_fails() {
    let org = ApplyOrg::default().await;
    assert_eq!(org.org.post(QUEUES, json!({"name": "Put Check"})).await.status, 200);
    let route = "PUT /api/v2/routing/queues/{queueId}";
    let write = |description: &str| {
        format!(
            "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {{name: q}}\nspec: {{name: Put Check, description: {description}}}\n"
        )
    };
    for (answer, description) in [("", "first"), ("{}", "second"), ("[]", "third")] {
        org.ctx.write("set/q.yaml", &write(description));
        let fault = json!({"route": route, "status": 200, "body": answer});
        org.org.route_fault(fault).await;
        org.reset_stats().await;
        let apply = org.gcctl(&["apply", "--auto-approve", "set"]).await;
        assert_exit(&apply, 0);
        assert_eq!(org.org.stats().await["byRoute"][route], 2, "{answer:?}");
        assert_eq!(org.one(QUEUES, "Put Check").await["description"], description);
    }
    org.ctx.write("set/q.yaml", &write("never"));
    let fault = json!({"route": route, "status": 200, "body": "", "times": 3});
    org.org.route_fault(fault).await;
    let apply = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    assert_exit(&apply, 1);
    let err = stderr(&apply);
    assert!(err.contains("PUT /api/v2/routing/queues/"), "{err}");
    assert!(err.contains("the org answered success without the object it wrote (an empty answer): gcctl cannot tell whether the write was made"), "{err}");
    assert!(!err.contains("1 updated"), "{err}");
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    assert_eq!(org.one(QUEUES, "Put Check").await["description"], "never");
}

/// A create answered with success but no object (an empty body): the
/// object is looked up by name and adopted when the org made it, never
/// sent again; when the org did not, the change fails saying so, and the
/// next run creates it.
#[tokio::test]
async fn a_create_answered_without_the_object_is_looked_up_not_failed() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/q.yaml", "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec: {name: Empty Answer}\n");
    let made =
        json!({"route": "POST /api/v2/routing/queues", "status": 200, "body": "", "after": true});
    org.org.route_fault(made).await;
    let apply = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    assert_exit(&apply, 0);
    assert!(stderr(&apply).contains("1 created"), "{}", stderr(&apply));
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);

    org.ctx.write(
        "set/q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec: {name: Never Made}\n",
    );
    let unmade = json!({"route": "POST /api/v2/routing/queues", "status": 200, "body": ""});
    org.org.route_fault(unmade).await;
    // The look-up waits for the org's lists to catch up: a second here.
    let apply = org.gcctl(&["apply", "--auto-approve", "--consistency-window", "1", "set"]).await;
    assert_exit(&apply, 1);
    assert!(stderr(&apply).contains("answered success without the created object's id, and the org does not list the object yet"), "{}", stderr(&apply));
    // The journal keeps the create: the next run looks first, then creates.
    let again = ["apply", "--auto-approve", "--consistency-window", "1", "set"];
    assert_exit(&org.gcctl(&again).await, 0);
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}

/// A create answered with the id of an object the org held before it (a
/// wrong answer): the change fails, and that object is left as it was
/// (an OAuth client's mark-clearing PUT went to it and renamed it).
#[tokio::test]
async fn a_create_answered_with_another_objects_id_writes_nothing_more() {
    let org = ApplyOrg::default().await;
    let client = |name: &str| {
        format!(
            "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {{name: q}}\nspec: {{name: {name}, description: mine}}\n"
        )
    };
    org.ctx.write("set/q.yaml", &client("First Queue"));
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    let first = org.one(QUEUES, "First Queue").await;
    let id = first["id"].as_str().unwrap().to_string();
    org.ctx.write(
        "set/q.yaml",
        &format!(
            "{}---\n{}",
            client("First Queue"),
            client("Second Queue").replace("name: q}", "name: q2}")
        ),
    );
    // In capitals: ids are GUIDs, which an org may read in any case.
    let upper = id.to_ascii_uppercase();
    let body = json!({"id": upper, "name": "Second Queue"}).to_string();
    let wrong =
        json!({"route": "POST /api/v2/routing/queues", "status": 200, "body": body, "after": true});
    org.org.route_fault(wrong).await;
    let apply = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    assert_exit(&apply, 1);
    assert!(
        stderr(&apply).contains(&format!(
            "the create answered with the id {upper}, which is `First Queue`'s"
        )),
        "{}",
        stderr(&apply)
    );
    let after = org.org.get(&format!("/api/v2/routing/queues/{id}")).await.body;
    assert_eq!(
        (after["name"].as_str(), after["description"].as_str()),
        (Some("First Queue"), Some("mine"))
    );
}

/// A secret answered empty is no secret: the rotation fails, the org's
/// mark that no secret is recorded stays, and no file records "".
#[tokio::test]
async fn an_empty_secret_is_no_secret() {
    let org = ApplyOrg::default().await;
    let client = |version: u32| {
        format!(
            "apiVersion: gcctl/v1\nkind: OAuthClient\nmetadata: {{name: app}}\nspec:\n  name: Empty Secret\n  authorizedGrantType: CLIENT-CREDENTIALS\n  roleDivisions: [{{role: Master Admin, division: Home}}]\n  secretVersion: {version}\n"
        )
    };
    org.ctx.write("set/c.yaml", &client(1));
    let apply = ["apply", "--auto-approve", "--secrets-dir", "s", "set"];
    assert_exit(&org.gcctl(&apply).await, 0);
    org.ctx.write("set/c.yaml", &client(2));
    let empty = json!({"route": "POST /api/v2/oauth/clients/{clientId}/secret", "status": 200,
        "body": "{\"secret\": \"\"}", "after": true});
    org.org.route_fault(empty).await;
    let rotated = org.gcctl(&apply).await;
    assert_exit(&rotated, 1);
    assert!(
        stderr(&rotated).contains("returned no secret (or an empty one)"),
        "{}",
        stderr(&rotated)
    );
    let live = org.one(CLIENTS, "Empty Secret").await;
    assert!(
        live["description"].as_str().unwrap_or_default().contains("[gcctl:secret-unrecorded]"),
        "{live}"
    );
    for entry in fs_err::read_dir(org.ctx.path().join("s")).unwrap() {
        let text = fs_err::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains("\"clientSecret\": \"\""), "{text}");
    }
}

/// An integration whose asynchronous create has not ended when a run
/// stops waiting for it: the next run waits for it too, as a create does,
/// and reports its Error (it updated it and reported success, exit 0).
#[tokio::test]
async fn a_run_after_a_create_still_in_progress_waits_for_it() {
    let config =
        SandboxConfig { create_delay: Duration::from_millis(2500), ..SandboxConfig::default() };
    let mut org = ApplyOrg::start(config).await;
    org.ctx.env("SLOW_WEBHOOK_SECRET", "slow-webhook-secret-0123456789");
    org.ctx.write(
        "set/i.yaml",
        "apiVersion: gcctl/v1\nkind: Webhook\nmetadata: {name: hook}\nspec:\n  url: https://bot.example.com/hook\n  signatureSecret: {fromEnv: SLOW_WEBHOOK_SECRET}\n---\napiVersion: gcctl/v1\nkind: OpenMessagingIntegration\nmetadata: {name: slow}\nspec:\n  name: sandbox-create-error Slow\n  webhook: hook\n  inboundFlow: {name: Support, type: INBOUNDSHORTMESSAGE}\n",
    );
    let first = org.gcctl(&["apply", "--auto-approve", "--wait-timeout", "1", "set"]).await;
    assert_exit(&first, 1);
    let second = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    assert_exit(&second, 1);
    assert!(stderr(&second).contains("createStatus Error"), "{}", stderr(&second));
}
