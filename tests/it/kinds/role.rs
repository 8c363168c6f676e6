//! `Role` permission conditions: a policy an admin limits in Genesys Cloud
//! (to one queue, say) cannot be declared, so gcctl keeps it on every
//! write, notes it in plans and drift, and warns on export; a write never
//! replaces it with the unconditioned grant.

use serde_json::{Value, json};

use crate::apply::{ApplyOrg, assert_exit};
use crate::common::{stderr, stdout};

const ROLES: &str = "/api/v2/authorization/roles";

fn role(description: &str, permissions: &str) -> String {
    format!(
        "apiVersion: gcctl/v1\nkind: Role\nmetadata: {{name: audit}}\nspec:\n  name: Audit Role\n  description: {description}\n  permissions: [{permissions}]\n"
    )
}

/// The live role's policy for `routing:queue`, if any, with its conditions.
fn queue_policy(live: &Value) -> Option<Value> {
    live["permissionPolicies"]
        .as_array()?
        .iter()
        .find(|p| p["domain"] == "routing" && p["entityName"] == "queue")
        .cloned()
}

#[tokio::test]
async fn conditions_set_in_the_org_are_kept_noted_and_never_widened() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/role.yaml", &role("v1", "routing:queue:view, routing:skill:view"));
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);

    // An admin limits the queue permission to one queue.
    let queue = org.org.post("/api/v2/routing/queues", json!({"name": "Only Queue"})).await;
    let condition = json!({"variableName": "Queue.id", "operator": "EQ",
        "operands": [{"type": "QUEUE", "queue": {"id": queue.body["id"]}}]});
    let mut live = org.one(ROLES, "Audit Role").await;
    let id = live["id"].as_str().unwrap().to_string();
    for policy in live["permissionPolicies"].as_array_mut().unwrap() {
        if policy["entityName"] == "queue" {
            policy["allowConditions"] = json!(true);
            policy["resourceConditionNode"] = condition.clone();
        }
    }
    let put = org.org.put(&format!("{ROLES}/{id}"), live).await;
    assert_eq!(put.status, 200, "{}", put.body);

    let note = "the org limits routing:queue:view with conditions set in Genesys Cloud";
    let plan = org.gcctl(&["plan", "--detailed-exitcode", "set"]).await;
    assert_exit(&plan, 0);
    assert!(stdout(&plan).contains(note), "{}", stdout(&plan));
    let drift = org.gcctl(&["drift", "set"]).await;
    assert!(stdout(&drift).contains(note), "{}", stdout(&drift));

    // Another change writes the role: the condition stays.
    org.ctx.write("set/role.yaml", &role("v2", "routing:queue:view, routing:skill:view"));
    let plan = org.gcctl(&["plan", "set"]).await;
    assert!(stdout(&plan).contains("~ /description: \"v1\" -> \"v2\""), "{}", stdout(&plan));
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    let live = org.one(ROLES, "Audit Role").await;
    let policy = queue_policy(&live).expect("the queue policy");
    assert_eq!(
        (&policy["resourceConditionNode"], &policy["actionSet"]),
        (&condition, &json!(["view"]))
    );
    assert_eq!(
        live["permissionPolicies"].as_array().unwrap().len(),
        2,
        "no unconditioned copy: {live}"
    );
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);

    // Export says the manifest grants it without the condition.
    let export = org.gcctl(&["export", "--kinds", "Role", "--name-glob", "Audit*"]).await;
    assert_exit(&export, 0);
    assert!(
        stderr(&export).contains("the org limits routing:queue:view with conditions"),
        "{}",
        stderr(&export)
    );

    // Declared no more: the conditioned policy goes with it.
    org.ctx.write("set/role.yaml", &role("v2", "routing:skill:view"));
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    assert_eq!(queue_policy(&org.one(ROLES, "Audit Role").await), None);
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}

/// A role's legacy `permissions` list (names such as `admin`) cannot be
/// declared: export names it, and an update, which writes permission
/// policies only and removes the list, says so in its plan first.
#[tokio::test]
async fn a_legacy_permissions_list_is_named_by_export_and_its_removal_planned() {
    let org = ApplyOrg::default().await;
    let body = json!({"name": "Legacy Role", "permissions": ["group_creation", "admin"],
        "permissionPolicies": [{"domain": "routing", "entityName": "queue", "actionSet": ["view"]}]});
    assert_eq!(org.org.post(ROLES, body).await.status, 200);
    let export = org
        .gcctl(&["export", "--kinds", "Role", "--name-glob", "Legacy*", "--out", "exported"])
        .await;
    assert_exit(&export, 0);
    assert!(
        stderr(&export).contains("Role/legacy-role: the role's legacy `permissions` list (group_creation, admin) is not exported"),
        "{}",
        stderr(&export)
    );
    // No change, no note; a change notes what the write removes.
    let plan = org.gcctl(&["plan", "--detailed-exitcode", "exported"]).await;
    assert_exit(&plan, 0);
    assert!(!stdout(&plan).contains("legacy"), "{}", stdout(&plan));
    let file = org.ctx.path().join("exported/roles.yaml");
    let roles = fs_err::read_to_string(&file).unwrap();
    fs_err::write(
        &file,
        roles.replace("name: Legacy Role\n", "name: Legacy Role\n  description: edited\n"),
    )
    .unwrap();
    let plan = org.gcctl(&["plan", "exported"]).await;
    assert!(
        stdout(&plan).contains(
            "# this update removes the role's legacy `permissions` list (group_creation, admin)"
        ),
        "{}",
        stdout(&plan)
    );
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "exported"]).await, 0);
    let live = org.one(ROLES, "Legacy Role").await;
    assert_eq!(
        (live["permissions"].clone(), live["description"].clone()),
        (json!([]), json!("edited"))
    );
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "exported"]).await, 0);
}
