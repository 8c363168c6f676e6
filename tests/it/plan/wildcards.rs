//! Wildcard permissions re-plan clean. A role declared with
//! `routing:queue:*` is sent as the wildcard policy; the API (since June
//! 2026) reads it back as the explicit actions, and an older API (or
//! today's sandbox) as the wildcard itself. Either way the plan after the
//! apply is clean, and so is the plan of a role an admin wrote with every
//! explicit action; a role missing one of them is a real change.

use serde_json::{Value, json};

use super::{PlanOrg, actions, code, json_of, role_body};

const ROLES: &str = "/api/v2/authorization/roles";

const WILDCARDS: &str = "\
apiVersion: gcctl/v1
kind: Role
metadata: {name: queue-admin}
spec:
  name: Queue Admin
  permissions: [routing:queue:*, conversation:message:view]
---
apiVersion: gcctl/v1
kind: Role
metadata: {name: expanded-admin}
spec:
  name: Expanded Admin
  permissions: [routing:queue:*]
---
apiVersion: gcctl/v1
kind: Role
metadata: {name: short-admin}
spec:
  name: Short Admin
  permissions: [routing:queue:*]
";

/// The actions of the embedded catalog's `routing:queue:*`.
fn queue_actions() -> Vec<&'static str> {
    gcctl::permissions::Catalog::embedded()
        .expand("routing:queue:*")
        .into_iter()
        .map(|p| p.rsplit(':').next().unwrap())
        .collect()
}

/// The `routing`/`queue` action set of a live role.
async fn queue_policy(org: &PlanOrg, name: &str) -> Vec<String> {
    let id = org.org.id_named(&format!("{ROLES}?pageSize=100"), name).await;
    let role = org.org.get(&format!("{ROLES}/{id}")).await.body;
    let policies = role["permissionPolicies"].as_array().cloned().unwrap_or_default();
    let mut actions: Vec<String> = policies
        .iter()
        .filter(|p| p["domain"] == "routing" && p["entityName"] == "queue")
        .flat_map(|p| p["actionSet"].as_array().cloned().unwrap_or_default())
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect();
    actions.sort();
    actions
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wildcard_roles_plan_clean_after_apply_and_against_their_expansion() {
    let org = PlanOrg::default().await;
    let all = queue_actions();
    assert!(all.len() > 3 && all.contains(&"view"), "{all:?}");
    // Written by an admin (or read back from an API that expands wildcards).
    org.create(ROLES, role_body("Expanded Admin", None, &[("routing", "queue", &all)])).await;
    let short: Vec<&str> = all.iter().copied().filter(|a| *a != "delete").collect();
    org.create(ROLES, role_body("Short Admin", None, &[("routing", "queue", &short)])).await;
    let path = org.manifest("roles.yaml", WILDCARDS);

    let plan = json_of(&org.gcctl(&["plan", &path, "--output", "json"]).await);
    assert_eq!(
        actions(&plan),
        [
            ("create".to_string(), "Role/queue-admin".to_string()),
            ("update".to_string(), "Role/short-admin".to_string()),
        ],
        "{plan:#}"
    );
    let short_change = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["manifest_name"] == "short-admin")
        .unwrap();
    assert_eq!(short_change["fields"][0]["pointer"], "/permissions", "{short_change}");
    assert_eq!(short_change["fields"][0]["after"], json!(["routing:queue:*"]), "{short_change}");
    // What the role lacks, not every action it holds.
    assert_eq!(
        short_change["fields"][0]["before"],
        json!(["routing:queue:* without routing:queue:delete"]),
        "{short_change}"
    );

    let applied = org.gcctl(&["apply", "--auto-approve", &path]).await;
    assert_eq!(code(&applied), Some(0), "{}", org.render(&applied));
    // Sent as the wildcard policy; stored as sent, or expanded by the org.
    for name in ["Queue Admin", "Short Admin"] {
        let held = queue_policy(&org, name).await;
        let expanded = all.iter().all(|a| held.iter().any(|h| h == a));
        assert!(held == ["*"] || expanded, "{name}: {held:?}");
    }

    let clean = org.gcctl(&["plan", &path, "--detailed-exitcode"]).await;
    assert_eq!(code(&clean), Some(0), "{}", org.render(&clean));

    // The API of June 2026 rewrites the wildcard as explicit actions on read:
    // the same role, written that way, still plans clean.
    let id = org.org.id_named(&format!("{ROLES}?pageSize=100"), "Queue Admin").await;
    let body = role_body(
        "Queue Admin",
        None,
        &[("routing", "queue", &all), ("conversation", "message", &["view"])],
    );
    let put = org.org.put(&format!("{ROLES}/{id}"), body).await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    let clean = org.gcctl(&["plan", &path, "--detailed-exitcode"]).await;
    assert_eq!(code(&clean), Some(0), "{}", org.render(&clean));
    let plan: Value = json_of(&org.gcctl(&["plan", &path, "--output", "json"]).await);
    assert_eq!(plan["summary"], json!({"create": 0, "update": 0, "delete": 0, "no_op": 3}));
}
