//! What the caller may do, checked before any change (issue 12): the org
//! lets a caller grant only roles it holds, every endpoint requires
//! permissions, and the org's own catalog decides which permissions exist.

use gcctl::sandbox::SandboxConfig;
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
    // The role is declared here and does not exist yet: the hint says to
    // create it first, with a command that runs as shown.
    let hint = err.lines().find_map(|l| l.trim().strip_prefix("hint: ")).expect(&err);
    assert!(
        hint.starts_with("role `Acme Bot Handover` is declared in these manifests and does not exist yet, so the OAuth client gcctl runs as cannot hold it: create it first with `gcctl apply set --select Role/acme-bot-handover`, grant it in `Home` to that OAuth client (Admin > Integrations > OAuth), then run again"),
        "{hint}"
    );
    let apply = org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "s", "set"]).await;
    assert_exit(&apply, 1);
    assert_eq!(writes(&org).await, Vec::<String>::new(), "nothing was sent but reads");
    assert!(org.named(ROLES, "Acme Bot Handover").await.is_empty());

    // The fix, step by step: the command of the hint creates the role (and
    // nothing else) ...
    let command = hint.split('`').nth(3).unwrap();
    let mut words: Vec<&str> = command.split(' ').skip(1).collect();
    words.push("--auto-approve");
    let first = org.gcctl(&words).await;
    assert_exit(&first, 0);
    let role = org.one(ROLES, "Acme Bot Handover").await;
    assert!(org.named(CLIENTS, "Acme Bot Connector").await.is_empty());
    // ... an admin grants it to the client gcctl runs as, and one run converges.
    let home = org.get("/api/v2/authorization/divisions/home").await.body;
    org.org.grant_admin_client(role["id"].as_str().unwrap(), home["id"].as_str().unwrap()).await;
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

fn queue_manifest(division: Option<&str>) -> String {
    let division = division.map(|d| format!("  division: {d}\n")).unwrap_or_default();
    format!(
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {{name: new}}\nspec:\n  name: New Queue\n{division}"
    )
}

/// Change the seeded admin user's grants through the admin client: grant
/// (`add`) or revoke a role in a division.
async fn change_user_grant(org: &ApplyOrg, role: &str, division: &str, add: bool) {
    let user = org.org.sandbox.user_id();
    let path = format!("/api/v2/authorization/subjects/{user}/divisions/{division}/roles/{role}");
    let answer =
        if add { org.org.post(&path, json!({})).await } else { org.org.delete(&path).await };
    assert_eq!(answer.status, 204, "{path}: {answer:?}");
}

#[tokio::test]
async fn a_user_without_the_grant_permission_where_it_would_grant_is_told_before_any_change() {
    let org = ApplyOrg::default().await;
    let master = org.one(ROLES, "Master Admin").await["id"].as_str().unwrap().to_string();
    let home = org.get("/api/v2/authorization/divisions/home").await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let operations = org.one("/api/v2/authorization/divisions", "Operations").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The user holds Master Admin (so authorization:grant:add) in Home only,
    // and the manifests grant the new role in Operations.
    change_user_grant(&org, &master, &operations, false).await;
    let text = fs_err::read_to_string(repo_root().join("manifests/access.yaml")).unwrap();
    org.ctx.write("set/access.yaml", &text.replace("division: Home", "division: Operations"));
    reset_stats(&org).await;
    let plan = org.gcctl(&["plan", "set"]).await;
    assert_exit(&plan, 1);
    let err = stderr(&plan);
    assert!(
        err.contains("error: CallerGrant/Acme Bot Handover: the caller, user \"Sandbox Admin\""),
        "{err}"
    );
    assert!(
        err.contains("lacks authorization:grant:add in division `Operations` (needed for POST /api/v2/authorization/subjects/{subjectId}/divisions/{divisionId}/roles/{roleId})"),
        "{err}"
    );
    let apply = org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "s", "set"]).await;
    assert_exit(&apply, 1);
    assert_eq!(writes(&org).await, Vec::<String>::new(), "nothing was sent but reads");
    assert!(org.named(ROLES, "Acme Bot Handover").await.is_empty());

    // Without authorization:grant:add at all (a role that may manage roles
    // and clients, nothing else), the grant is refused before any change.
    let builder = org
        .org
        .post(
            ROLES,
            json!({"name": "Builder", "permissionPolicies": [
                {"domain": "authorization", "entityName": "role", "actionSet": ["*"]},
                {"domain": "oauth", "entityName": "client", "actionSet": ["*"]}]}),
        )
        .await;
    assert_eq!(builder.status, 200, "{:?}", builder.body);
    change_user_grant(&org, builder.body["id"].as_str().unwrap(), &home, true).await;
    change_user_grant(&org, &master, &home, false).await;
    write_access(&org);
    reset_stats(&org).await;
    let plan = org.gcctl(&["plan", "set"]).await;
    assert_exit(&plan, 1);
    let err = stderr(&plan);
    assert!(
        err.contains("granting role `Acme Bot Handover` in division `Home` would be refused: the caller, user \"Sandbox Admin\""),
        "{err}"
    );
    assert!(
        err.contains("or the permission authorization:grant:add so that gcctl grants it"),
        "{err}"
    );
    let apply = org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "s", "set"]).await;
    assert_exit(&apply, 1);
    assert_eq!(writes(&org).await, Vec::<String>::new(), "nothing was sent but reads");
}

#[tokio::test]
async fn a_caller_lacking_permissions_is_told_which_for_which_changes_before_any_change() {
    let mut org = ApplyOrg::default().await;
    // A client that may only view queues.
    org.run_as_client_with(
        "Viewer",
        json!([{"domain": "routing", "entityName": "queue", "actionSet": ["view"]}]),
    )
    .await;
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
async fn a_permission_held_in_home_only_does_not_plan_a_queue_in_another_division() {
    let mut org = ApplyOrg::default().await;
    org.run_as_client_with(
        "Home Queues",
        json!([{"domain": "routing", "entityName": "queue", "actionSet": ["view", "add", "edit"]}]),
    )
    .await;
    org.ctx.write("set/queue.yaml", &queue_manifest(Some("Operations")));
    reset_stats(&org).await;
    let plan = org.gcctl(&["plan", "set"]).await;
    assert_exit(&plan, 1);
    let err = stderr(&plan);
    assert!(
        err.contains("error: RoutingQueue/new: the caller, OAuth client \"Home Queues\""),
        "{err}"
    );
    assert!(
        err.contains("lacks routing:queue:add in division `Operations` (needed for POST /api/v2/routing/queues)"),
        "{err}"
    );
    let apply = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    assert_exit(&apply, 1);
    assert_eq!(writes(&org).await, Vec::<String>::new(), "nothing was sent but reads");
    assert!(org.named(QUEUES, "New Queue").await.is_empty());
    // In Home (named, or by default) the same caller may.
    org.ctx.write("set/queue.yaml", &queue_manifest(None));
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    org.ctx.write("set/queue.yaml", &queue_manifest(Some("Home")));
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
    // Moving it to Operations needs the permission there too.
    org.ctx.write("set/queue.yaml", &queue_manifest(Some("Operations")));
    let plan = org.gcctl(&["plan", "set"]).await;
    assert_exit(&plan, 1);
    assert!(
        stderr(&plan).contains("lacks routing:queue:edit in division `Operations`"),
        "{}",
        stderr(&plan)
    );
}

/// The other reading of an UNVERIFIED fact: an org that refuses
/// `subjects/me` to a client-credentials token. gcctl then reads the
/// client's grants from `tokens/me` (`roleDivisions`), its roles' policies
/// by id and the Home division, and checks the plan the same way.
#[tokio::test]
async fn when_subjects_me_is_refused_the_grants_come_from_the_client_and_its_roles() {
    let config = SandboxConfig { client_subjects: false, ..SandboxConfig::default() };
    let mut org = ApplyOrg::start(config).await;
    let refused = org.org.get("/api/v2/authorization/subjects/me").await;
    assert_eq!(refused.status, 400, "{:?}", refused.body);
    org.run_as_client_with(
        "Fallback",
        json!([{"domain": "routing", "entityName": "queue", "actionSet": ["view", "add"]},
            {"domain": "authorization", "entityName": "role", "actionSet": ["view"]}]),
    )
    .await;
    org.ctx.write("set/queue.yaml", &queue_manifest(Some("Operations")));
    org.reset_stats().await;
    let plan = org.gcctl(&["plan", "set"]).await;
    assert_exit(&plan, 1);
    let err = stderr(&plan);
    assert!(
        err.contains("error: RoutingQueue/new: the caller, OAuth client \"Fallback\""),
        "{err}"
    );
    assert!(err.contains("lacks routing:queue:add in division `Operations`"), "{err}");
    let stats = org.org.stats().await;
    for route in [
        "GET /api/v2/authorization/subjects/me",
        "GET /api/v2/tokens/me",
        "GET /api/v2/authorization/roles",
        "GET /api/v2/authorization/divisions/home",
    ] {
        assert_eq!(stats["byRoute"][route], 1, "{route}: {stats}");
    }
    // The Home division is known without a grant's flag: a queue created
    // without a division lands there, where the caller may add it.
    org.ctx.write("set/queue.yaml", &queue_manifest(None));
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 2);
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
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

/// The live catalog overrides the embedded one: a permission gcctl's own
/// catalog knows, but this org's does not list (an org without the product
/// that brings it), passes `validate` and is an error online.
#[tokio::test]
async fn a_permission_the_embedded_catalog_knows_but_the_org_does_not_is_an_error_online() {
    let missing = "analytics:conversationDetail:view";
    assert!(gcctl::permissions::Catalog::embedded().contains(missing));
    let config =
        SandboxConfig { catalog_without: vec![missing.into()], ..SandboxConfig::default() };
    let org = ApplyOrg::start(config).await;
    org.ctx.write(
        "set/role.yaml",
        &format!(
            "apiVersion: gcctl/v1\nkind: Role\nmetadata: {{name: r}}\nspec:\n  name: R\n  permissions:\n    - routing:queue:view\n    - {missing}\n"
        ),
    );
    let offline = org.gcctl(&["validate", "set"]).await;
    assert_exit(&offline, 0);
    assert!(!stderr(&offline).contains("warning"), "{}", stderr(&offline));
    let plan = org.gcctl(&["plan", "set"]).await;
    assert_exit(&plan, 1);
    let err = stderr(&plan);
    assert!(
        err.contains(&format!("set/role.yaml:8:7: error: Role/r: `{missing}` is not a permission of this org (seen in GET /api/v2/authorization/permissions)")),
        "{err}"
    );
    assert!(!err.contains("routing:queue:view"), "{err}");
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

/// A caller's subject the org answers with no subject in it (`{}`, `null`:
/// a broken or hostile answer) is an error naming the call, not a caller
/// holding nothing, which the plan reported as missing permissions.
#[tokio::test]
async fn a_subject_answer_without_a_subject_is_an_error_of_the_answer() {
    for body in ["{}", "null"] {
        let org = ApplyOrg::default().await;
        write_access(&org);
        let route = "GET /api/v2/authorization/subjects/me";
        org.org.route_fault(json!({"route": route, "status": 200, "body": body})).await;
        let plan = org.gcctl(&["plan", "set"]).await;
        assert_exit(&plan, 1);
        let err = stderr(&plan);
        assert!(
            err.contains(
                "GET /api/v2/authorization/subjects/me: the answer is not a subject (it has no id)"
            ),
            "{body}: {err}"
        );
        assert!(!err.contains("lacks"), "{body}: {err}");
    }
}
