//! `--select`: plan, apply and drift take the selected objects and what they
//! refer to; destroy takes the selected objects and what refers to them, so
//! that it never deletes what an object left out still uses. Every output
//! says that the result is partial.

use serde_json::Value;

use super::{ApplyOrg, QUEUES, assert_exit};
use crate::common::{stderr, stdout};

/// Two queues share a wrap-up code; a third queue and a role stand alone.
const SET: &str = r"
apiVersion: gcctl/v1
kind: Project
metadata: {name: selecting}
spec: {}
---
apiVersion: gcctl/v1
kind: RoutingWrapupCode
metadata: {name: shared}
spec: {name: Select Shared}
---
apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {name: a}
spec: {name: Select A, wrapupCodes: [shared]}
---
apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {name: b}
spec: {name: Select B, wrapupCodes: [shared]}
---
apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {name: c}
spec: {name: Select C}
---
apiVersion: gcctl/v1
kind: Role
metadata: {name: r}
spec: {name: Select Role, permissions: [routing:queue:view]}
";

const WRAPUP_CODES: &str = "/api/v2/routing/wrapupcodes?pageSize=100";

/// `(action, Kind/name)` of every change of a JSON plan that is not a no-op, sorted.
fn planned(output: &std::process::Output) -> Vec<String> {
    let plan: Value = serde_json::from_slice(&output.stdout).expect("a JSON plan");
    let mut changes: Vec<String> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "no-op")
        .map(|c| {
            format!(
                "{} {}",
                c["action"].as_str().unwrap(),
                c["manifest_name"]
                    .as_str()
                    .map_or_else(String::new, |n| format!("{}/{n}", c["kind"].as_str().unwrap()))
            )
        })
        .collect();
    changes.sort();
    changes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_and_drift_select_take_what_the_selected_objects_refer_to() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/all.yaml", SET);
    let plan = org.gcctl(&["plan", "--select", "RoutingQueue/a", "--output", "json", "set"]).await;
    assert_exit(&plan, 0);
    assert_eq!(planned(&plan), ["create RoutingQueue/a", "create RoutingWrapupCode/shared"]);
    let json: Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(
        json["select"],
        serde_json::json!(["RoutingQueue/a"]),
        "the plan says it is partial"
    );
    // Counted among the objects that live in the org (not the Project).
    assert!(stderr(&plan).contains("Selected 2 of 5 objects"), "{}", stderr(&plan));

    // Partial, in every format, even with -q.
    let markdown =
        org.gcctl(&["-q", "plan", "--select", "RoutingQueue/a", "-o", "markdown", "set"]).await;
    assert!(
        stdout(&markdown)
            .contains("> **Partial plan:** only --select RoutingQueue/a and what they refer to"),
        "{}",
        stdout(&markdown)
    );
    assert_eq!(stderr(&markdown), "");

    let apply =
        org.gcctl(&["-q", "apply", "--auto-approve", "--select", "RoutingQueue/a", "set"]).await;
    assert_exit(&apply, 0);
    let out = stdout(&apply);
    assert!(out.contains("Partial plan: only --select RoutingQueue/a and what they refer to; other declared objects and prunes are left out."), "{out}");
    assert_eq!(org.named(QUEUES, "Select A").await.len(), 1);
    assert_eq!(org.named(WRAPUP_CODES, "Select Shared").await.len(), 1);
    assert!(org.named(QUEUES, "Select B").await.is_empty(), "not selected");
    assert!(org.named(QUEUES, "Select C").await.is_empty(), "not selected");

    // Drift of b: b is missing, the code it uses is in sync; nothing else.
    let drift =
        org.gcctl(&["drift", "--select", "RoutingQueue/b", "--output", "json", "set"]).await;
    assert_exit(&drift, 2);
    let report: Value = serde_json::from_slice(&drift.stdout).unwrap();
    let objects: Vec<String> = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            format!(
                "{}/{} {}",
                o["kind"].as_str().unwrap(),
                o["manifest_name"].as_str().unwrap(),
                o["status"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(objects, ["RoutingWrapupCode/shared in-sync", "RoutingQueue/b missing"]);
    assert_eq!(report["select"], serde_json::json!(["RoutingQueue/b"]));
    let text =
        org.gcctl(&["drift", "--select", "RoutingQueue/a", "--include-unmanaged", "set"]).await;
    assert_exit(&text, 0);
    let out = stdout(&text);
    assert!(
        out.contains("Partial report: only --select RoutingQueue/a and what they refer to"),
        "{out}"
    );
    assert!(
        !out.contains("Select B") && !out.contains("Select Role"),
        "left out, not unmanaged: {out}"
    );
    // A CI dashboard reading JUnit is told too.
    let junit =
        org.gcctl(&["drift", "--select", "RoutingQueue/a", "--output", "junit", "set"]).await;
    assert_exit(&junit, 0);
    let xml = stdout(&junit);
    let suites = junit_parser::from_reader(std::io::Cursor::new(xml.as_bytes())).expect("JUnit");
    assert_eq!(suites.name, "gcctl drift (partial)", "{xml}");
    assert!(!suites.suites.is_empty(), "{xml}");
    for suite in &suites.suites {
        let partial = suite.properties.hashmap.get("partial").map(String::as_str);
        assert_eq!(
            partial,
            Some(
                "only --select RoutingQueue/a and what they refer to; other declared objects and prunes are left out, and undeclared objects are not looked for"
            ),
            "{xml}"
        );
    }

    // `apply --output json` says so on its `plan` line.
    let args = ["apply", "--auto-approve", "--select", "RoutingQueue/c", "-o", "json", "set"];
    let json = org.gcctl(&args).await;
    assert_exit(&json, 0);
    let run = super::contract::parse(&stdout(&json));
    assert_eq!(run.plan.select, ["RoutingQueue/c"]);

    // An unknown kind gets the kind it likely means.
    let unknown = org.gcctl(&["plan", "--select", "Queue/a", "set"]).await;
    assert_exit(&unknown, 1);
    let err = stderr(&unknown);
    assert!(err.contains("error: --select Queue/a: there is no kind `Queue`"), "{err}");
    assert!(err.contains("hint: did you mean RoutingQueue/a?"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_select_takes_what_refers_to_the_selected_objects() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/all.yaml", SET);
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);

    // A queue alone: the wrap-up code that b still uses stays.
    let args = ["plan", "--destroy", "--select", "RoutingQueue/a", "--output", "json", "set"];
    let plan = org.gcctl(&args).await;
    assert_exit(&plan, 0);
    assert_eq!(planned(&plan), ["delete RoutingQueue/a"]);
    // The wrap-up code: both queues that use it go with it.
    let args =
        ["plan", "--destroy", "--select", "RoutingWrapupCode/shared", "--output", "json", "set"];
    let plan = org.gcctl(&args).await;
    assert_exit(&plan, 0);
    assert_eq!(
        planned(&plan),
        ["delete RoutingQueue/a", "delete RoutingQueue/b", "delete RoutingWrapupCode/shared"]
    );
    assert!(
        stderr(&plan).contains("Selected 3 of 5 objects (--select and what refers to them)"),
        "{}",
        stderr(&plan)
    );
    let text =
        org.gcctl(&["plan", "--destroy", "--select", "RoutingWrapupCode/shared", "set"]).await;
    assert!(
        stdout(&text).contains(
            "Partial plan: only --select RoutingWrapupCode/shared and what refers to them;"
        ),
        "{}",
        stdout(&text)
    );

    let destroyed =
        org.gcctl(&["destroy", "--auto-approve", "--select", "RoutingQueue/a", "set"]).await;
    assert_exit(&destroyed, 0);
    assert!(
        stderr(&destroyed).contains("Destroy complete: 0 created, 0 updated, 1 deleted"),
        "{}",
        stderr(&destroyed)
    );
    assert!(org.named(QUEUES, "Select A").await.is_empty());
    assert_eq!(org.named(QUEUES, "Select B").await.len(), 1);

    // A destroy that fails says so as a destroy, not as an apply.
    let route = "DELETE /api/v2/routing/queues/{queueId}";
    org.org.route_fault(serde_json::json!({"route": route, "status": 400})).await;
    let failed =
        org.gcctl(&["destroy", "--auto-approve", "--select", "RoutingQueue/b", "set"]).await;
    assert_exit(&failed, 1);
    let said = stderr(&failed);
    assert!(said.contains("Destroy did not finish: 0 created, 0 updated, 0 deleted"), "{said}");
    assert!(!said.contains("Apply"), "{said}");
    assert_eq!(org.named(WRAPUP_CODES, "Select Shared").await.len(), 1, "b still uses it");
    // The whole set plans a itself again, nothing else.
    let plan = org.gcctl(&["plan", "--output", "json", "set"]).await;
    assert_eq!(planned(&plan), ["create RoutingQueue/a"]);
}

/// A webhook lives inside the integrations that use it: selecting it selects
/// them (it planned nothing and said the org matched, while a whole plan
/// changed its URL). A selection of nothing the org holds is an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selecting_a_webhook_selects_the_integrations_that_use_it() {
    let mut org = ApplyOrg::default().await;
    let set = |url: &str| {
        format!(
            "apiVersion: gcctl/v1\nkind: Project\nmetadata: {{name: hooks}}\nspec: {{}}\n---\napiVersion: gcctl/v1\nkind: Webhook\nmetadata: {{name: hook}}\nspec:\n  url: {url}\n  signatureSecret: {{fromEnv: SELECT_HOOK_SECRET}}\n  signatureSecretVersion: 1\n---\napiVersion: gcctl/v1\nkind: Webhook\nmetadata: {{name: unused}}\nspec:\n  url: https://unused.example.com/hook\n  signatureSecret: {{fromEnv: SELECT_HOOK_SECRET}}\n  signatureSecretVersion: 1\n---\napiVersion: gcctl/v1\nkind: OpenMessagingIntegration\nmetadata: {{name: bot}}\nspec: {{name: Select Bot, webhook: hook}}\n---\napiVersion: gcctl/v1\nkind: OpenMessagingIntegration\nmetadata: {{name: bot2}}\nspec: {{name: Select Bot 2, webhook: hook}}\n---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {{name: q}}\nspec: {{name: Select Q}}\n"
        )
    };
    org.ctx.env("SELECT_HOOK_SECRET", "select-hook-secret-0123456789");
    org.ctx.write("set/all.yaml", &set("https://bot.example.com/v1"));
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    org.ctx.write("set/all.yaml", &set("https://bot.example.com/v2"));

    let plan = org
        .gcctl(&["plan", "--detailed-exitcode", "--select", "Webhook/hook", "-o", "json", "set"])
        .await;
    assert_exit(&plan, 2);
    assert_eq!(
        planned(&plan),
        ["update OpenMessagingIntegration/bot", "update OpenMessagingIntegration/bot2"]
    );
    // An integration selected brings its webhook, and not the other users of it.
    let plan =
        org.gcctl(&["plan", "--select", "OpenMessagingIntegration/bot", "-o", "json", "set"]).await;
    assert_eq!(planned(&plan), ["update OpenMessagingIntegration/bot"]);
    for nothing in ["Webhook/unused", "Project/*"] {
        let out = org.gcctl(&["plan", "--select", nothing, "set"]).await;
        assert_exit(&out, 1);
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "error: --select {nothing} selects no object that lives in the org"
            )),
            "{err}"
        );
        assert!(
            err.contains("hint: a Project holds settings, and a Webhook lives only inside"),
            "{err}"
        );
    }
}
