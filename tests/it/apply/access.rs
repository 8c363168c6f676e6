//! What the caller may do, checked before any change (issue 12): the org
//! lets a caller grant only roles it holds, every endpoint requires
//! permissions, and the org's own catalog decides which permissions exist.

use serde_json::json;

use super::{ApplyOrg, CLIENTS, QUEUES, ROLES, assert_exit};
use crate::common::{repo_root, stderr, stdout};

/// The sample repository's roles and clients: a new role granted to a new
/// client in the same apply.
fn write_access(org: &ApplyOrg) {
    let text = fs_err::read_to_string(repo_root().join("manifests/access.yaml")).unwrap();
    org.ctx.write("set/access.yaml", &text);
}

/// Methods other than GET the sandbox was sent.
async fn writes(org: &ApplyOrg) -> Vec<String> {
    let stats = org.org.stats().await;
    stats["byRoute"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(route, _)| route.clone())
        .filter(|route| !route.starts_with("GET ") && !route.starts_with("POST /oauth/token"))
        .collect()
}

async fn reset_stats(org: &ApplyOrg) {
    let reset = org.org.http.post(org.org.url("/_sandbox/reset")).send().await.unwrap();
    assert!(reset.status().is_success());
}

#[tokio::test]
async fn under_client_credentials_a_grant_the_caller_cannot_make_stops_the_plan_before_any_change()
{
    let mut org = ApplyOrg::default().await;
    org.as_client();
    write_access(&org);
    reset_stats(&org).await;
    let plan = org.gcctl(&["plan", "set"]).await;
    assert_exit(&plan, 1);
    let err = stderr(&plan);
    assert!(
        err.contains("set/access.yaml:31:13: error: OAuthClient/acme-bot-connector: granting role `Acme Bot Handover` in division `Home` would be refused: the caller, OAuth client \"gcctl sandbox admin\""),
        "{err}"
    );
    assert!(err.contains("the org lets a caller grant only roles it holds"), "{err}");
    assert!(
        err.contains(
            "hint: grant role `Acme Bot Handover` in `Home` to the OAuth client gcctl runs as"
        ),
        "{err}"
    );
    let apply = org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "s", "set"]).await;
    assert_exit(&apply, 1);
    assert_eq!(writes(&org).await, Vec::<String>::new(), "nothing was sent but reads");
    assert!(org.named(ROLES, "Acme Bot Handover").await.is_empty());

    // The fix: the role exists and the client gcctl runs as holds it; then
    // one run converges.
    let role =
        org.org.post(ROLES, json!({"name": "Acme Bot Handover", "permissionPolicies": []})).await;
    assert_eq!(role.status, 200, "{:?}", role.body);
    let home = org.get("/api/v2/authorization/divisions/home").await.body;
    org.org
        .grant_admin_client(role.body["id"].as_str().unwrap(), home["id"].as_str().unwrap())
        .await;
    let apply = org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "s", "set"]).await;
    assert_exit(&apply, 0);
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}

#[tokio::test]
async fn a_user_who_may_grant_roles_grants_the_role_to_itself_then_to_the_client() {
    let org = ApplyOrg::default().await;
    write_access(&org);
    let plan = org.gcctl(&["plan", "--detailed-exitcode", "set"]).await;
    assert_exit(&plan, 2);
    let out = stdout(&plan);
    assert!(
        out.contains("~ Role \"Acme Bot Handover\" will be granted to the caller first"),
        "{out}"
    );
    assert!(out.contains("    ~ /divisions:\n        + \"Home\"\n"), "{out}");

    let apply = org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "s", "set"]).await;
    assert_exit(&apply, 0);
    let err = stderr(&apply);
    let granted = err.find("granted CallerGrant/Acme Bot Handover").expect(&err);
    let client = err.find("created OAuthClient/acme-bot-connector").expect(&err);
    assert!(granted < client, "the caller holds the role before the client gets it: {err}");

    let role = org.one(ROLES, "Acme Bot Handover").await;
    let user = org.org.sandbox.user_id();
    let subject = org.get(&format!("/api/v2/authorization/subjects/{user}")).await.body;
    let held = subject["grants"].as_array().unwrap().iter().any(|g| g["role"]["id"] == role["id"]);
    assert!(held, "{subject}");
    let connector = org.one(CLIENTS, "Acme Bot Connector").await;
    assert_eq!(connector["roleDivisions"][0]["roleId"], role["id"]);
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}

#[tokio::test]
async fn a_caller_lacking_permissions_is_told_which_for_which_changes_before_any_change() {
    let mut org = ApplyOrg::default().await;
    // A client that may only view queues.
    let role = org
        .org
        .post(
            ROLES,
            json!({"name": "Queue Viewer", "permissionPolicies": [
                {"domain": "routing", "entityName": "queue", "actionSet": ["view"]}]}),
        )
        .await;
    assert_eq!(role.status, 200, "{:?}", role.body);
    let home = org.get("/api/v2/authorization/divisions/home").await.body;
    let (role_id, home_id) = (role.body["id"].as_str().unwrap(), home["id"].as_str().unwrap());
    org.org.grant_admin_client(role_id, home_id).await;
    let viewer = org
        .org
        .post(
            "/api/v2/oauth/clients",
            json!({"name": "Viewer", "authorizedGrantType": "CLIENT-CREDENTIALS",
                "roleDivisions": [{"roleId": role_id, "divisionId": home_id}]}),
        )
        .await;
    assert_eq!(viewer.status, 200, "{:?}", viewer.body);
    org.as_client()
        .ctx
        .env("GENESYSCLOUD_OAUTHCLIENT_ID", viewer.body["id"].as_str().unwrap())
        .env("GENESYSCLOUD_OAUTHCLIENT_SECRET", viewer.body["secret"].as_str().unwrap());
    org.ctx.write(
        "set/queue.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: new}\nspec:\n  name: New Queue\n",
    );
    reset_stats(&org).await;
    let plan = org.gcctl(&["plan", "set"]).await;
    assert_exit(&plan, 1);
    let err = stderr(&plan);
    assert!(err.contains("error: RoutingQueue/new: the caller, OAuth client \"Viewer\""), "{err}");
    assert!(
        err.contains("lacks routing:queue:add (needed for POST /api/v2/routing/queues)"),
        "{err}"
    );
    let apply = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    assert_exit(&apply, 1);
    assert_eq!(writes(&org).await, Vec::<String>::new(), "nothing was sent but reads");
    assert!(org.named(QUEUES, "New Queue").await.is_empty());
}

#[tokio::test]
async fn the_org_catalog_decides_which_permissions_exist() {
    let org = ApplyOrg::default().await;
    org.ctx.write(
        "set/role.yaml",
        "apiVersion: gcctl/v1\nkind: Role\nmetadata: {name: r}\nspec:\n  name: R\n  permissions:\n    - routing:queue:view\n    - routing:queue:fly\n",
    );
    // Offline: a warning (the embedded catalog is a lower bound).
    assert_exit(&org.gcctl(&["validate", "set"]).await, 0);
    // Online: the org's catalog is authoritative.
    let plan = org.gcctl(&["plan", "set"]).await;
    assert_exit(&plan, 1);
    let err = stderr(&plan);
    assert!(
        err.contains("set/role.yaml:8:7: error: Role/r: `routing:queue:fly` is not a permission of this org (seen in GET /api/v2/authorization/permissions)"),
        "{err}"
    );
    assert!(org.get("/api/v2/authorization/permissions?pageSize=1").await.status == 200);
}

#[tokio::test]
async fn a_queue_changes_division_through_the_move_endpoint_never_by_put() {
    let org = ApplyOrg::default().await;
    let queue = |division: &str| {
        format!(
            "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {{name: q}}\nspec:\n  name: Moving Queue\n  division: {division}\n"
        )
    };
    org.ctx.write("set/queue.yaml", &queue("Home"));
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    org.ctx.write("set/queue.yaml", &queue("Operations"));
    reset_stats(&org).await;
    let apply = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    assert_exit(&apply, 0);
    assert_eq!(
        writes(&org).await,
        ["POST /api/v2/authorization/divisions/{divisionId}/objects/{objectType}"],
        "a move, and no PUT"
    );
    let moved = org.one(QUEUES, "Moving Queue").await;
    assert_eq!(moved["division"]["name"], "Operations");
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}
