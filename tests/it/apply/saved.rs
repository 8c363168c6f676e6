//! Saved plans: `plan --out FILE` then `apply --plan FILE` applies exactly
//! that plan, and refuses it once the org or the manifests moved on.

use serde_json::json;

use super::{ApplyOrg, QUEUES, ROLES, assert_exit};
use crate::common::{stderr, stdout};

const SET: &str = r"
apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {name: support}
spec:
  name: Saved Support
  description: DESCRIPTION
  acwSettings: {wrapupPrompt: OPTIONAL, timeoutMs: 60000}
---
apiVersion: gcctl/v1
kind: Role
metadata: {name: reader}
spec:
  name: Saved Reader
  permissions: [routing:queue:view]
";

fn set(description: &str) -> String {
    SET.replace("DESCRIPTION", description)
}

/// An org where the set was applied once, and the manifests then changed the
/// queue's description: the next plan has one update.
async fn org_with_pending_update() -> ApplyOrg {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/all.yaml", &set("first"));
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    org.ctx.write("set/all.yaml", &set("second"));
    let plan = org.gcctl(&["plan", "--detailed-exitcode", "--out", "plan.json", "set"]).await;
    assert_exit(&plan, 2);
    org
}

#[tokio::test]
async fn a_fresh_saved_plan_applies_exactly() {
    let org = org_with_pending_update().await;
    let apply = org.gcctl(&["apply", "--auto-approve", "--plan", "plan.json"]).await;
    assert_exit(&apply, 0);
    assert!(stderr(&apply).contains("1 updated"), "{}", stderr(&apply));
    assert_eq!(org.one(QUEUES, "Saved Support").await["description"], "second");
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}

#[tokio::test]
async fn a_saved_plan_is_stale_once_an_object_changed_in_the_org() {
    let org = org_with_pending_update().await;
    // ClickOps: someone edits the role behind our back.
    let role = org.one(ROLES, "Saved Reader").await;
    let id = role["id"].as_str().unwrap();
    let mut edited = role.clone();
    edited["description"] = json!("edited in the UI");
    let put = org.org.put(&format!("/api/v2/authorization/roles/{id}"), edited).await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    let before = org.list(QUEUES).await;

    let apply = org.gcctl(&["apply", "--auto-approve", "--plan", "plan.json"]).await;
    assert_exit(&apply, 1);
    let err = stderr(&apply);
    assert!(err.contains("plan is stale"), "{err}");
    assert!(err.contains("Role/reader \"Saved Reader\" was changed in the org"), "{err}");
    assert!(err.contains("gcctl plan --out plan.json"), "hint: {err}");
    assert!(!stdout(&apply).contains("updated"), "{}", stdout(&apply));
    assert_eq!(org.list(QUEUES).await, before, "nothing was changed");
}

#[tokio::test]
async fn a_saved_plan_is_stale_once_the_manifests_changed() {
    let org = org_with_pending_update().await;
    org.ctx.write("set/all.yaml", &set("third"));
    let before = org.list(QUEUES).await;
    let apply = org.gcctl(&["apply", "--auto-approve", "--plan", "plan.json"]).await;
    assert_exit(&apply, 1);
    let err = stderr(&apply);
    assert!(err.contains("plan is stale") && err.contains("manifests"), "{err}");
    assert_eq!(org.list(QUEUES).await, before, "nothing was changed");
}

#[tokio::test]
async fn a_saved_plan_is_stale_once_a_planned_create_exists() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/all.yaml", &set("first"));
    assert_exit(&org.gcctl(&["plan", "--out", "plan.json", "set"]).await, 0);
    let made = org.org.post("/api/v2/routing/queues", json!({"name": "Saved Support"})).await;
    assert_eq!(made.status, 200, "{:?}", made.body);
    let apply = org.gcctl(&["apply", "--auto-approve", "--plan", "plan.json"]).await;
    assert_exit(&apply, 1);
    let err = stderr(&apply);
    assert!(
        err.contains("plan is stale")
            && err.contains("RoutingQueue/support \"Saved Support\" now exists"),
        "{err}"
    );
    assert_eq!(org.named(QUEUES, "Saved Support").await.len(), 1, "no duplicate");
    assert!(org.named(ROLES, "Saved Reader").await.is_empty(), "nothing was changed");
}
