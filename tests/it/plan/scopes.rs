//! Prune preview: undeclared live objects inside a Project prune scope are
//! planned as deletes marked as prunes; objects outside every scope, and
//! built-ins, never are.

use serde_json::json;

use super::{PlanOrg, actions, code, json_of, role_body, settings};

const MANIFESTS: &str = "\
apiVersion: gcctl/v1
kind: Project
metadata:
  name: bots
spec:
  prune:
    - kind: RoutingQueue
      names: [\"bot-*\"]
    - kind: Role
      names: [\"*\"]
---
apiVersion: gcctl/v1
kind: RoutingQueue
metadata:
  name: bot-a
spec:
  name: bot-a
---
apiVersion: gcctl/v1
kind: Role
metadata:
  name: bot-role
spec:
  name: Bot Role
  permissions: [routing:queue:view]
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undeclared_objects_in_a_prune_scope_are_planned_as_prunes() {
    let org = PlanOrg::default().await;
    for name in ["bot-a", "bot-b", "bot-c", "other-queue", "Bot-Upper"] {
        org.create("/api/v2/routing/queues", json!({"name": name})).await;
    }
    org.create(
        "/api/v2/authorization/roles",
        role_body("Bot Role", None, &[("routing", "queue", &["view"])]),
    )
    .await;
    org.create("/api/v2/authorization/roles", role_body("Stray Role", None, &[])).await;
    let path = org.manifest("bots.yaml", MANIFESTS);

    // Without --prune the prunes are listed, not planned: exit 0.
    let out = org.gcctl(&["plan", &path, "--detailed-exitcode"]).await;
    assert_eq!(code(&out), Some(0), "{}", org.render(&out));
    let text = org.render(&out);
    settings().bind(|| insta::assert_snapshot!("prunes_listed_without_prune", text));

    let out = org.gcctl(&["plan", &path, "--prune", "--detailed-exitcode"]).await;
    assert_eq!(code(&out), Some(2), "{}", org.render(&out));
    let text = org.render(&out);
    settings().bind(|| insta::assert_snapshot!(text));

    let plan = json_of(&org.gcctl(&["plan", &path, "--prune", "--output", "json"]).await);
    assert_eq!(plan["prune"], json!(true));
    assert_eq!(
        actions(&plan),
        [
            ("delete".to_string(), "Role/Stray Role".to_string()),
            ("delete".to_string(), "RoutingQueue/bot-b".to_string()),
            ("delete".to_string(), "RoutingQueue/bot-c".to_string()),
        ],
        "outside the scopes (other-queue, Bot-Upper) and built-in roles are never pruned"
    );
    for change in plan["changes"].as_array().unwrap() {
        let is_delete = change["action"] == "delete";
        assert_eq!(change["prune"], json!(is_delete), "{change}");
        if is_delete {
            assert!(change["manifest_name"].is_null() && change["id"].is_string(), "{change}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_prune_scope_nothing_is_ever_deleted() {
    let org = PlanOrg::default().await;
    org.create("/api/v2/routing/queues", json!({"name": "bot-b"})).await;
    let path = org.manifest(
        "queue.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata:\n  name: bot-a\nspec:\n  name: bot-a\n",
    );
    let plan = json_of(&org.gcctl(&["plan", &path, "--output", "json"]).await);
    assert_eq!(actions(&plan), [("create".to_string(), "RoutingQueue/bot-a".to_string())]);
}
