//! Who calls and what they may do: the seeded identities, user tokens,
//! permission checks on every endpoint, the permission catalog, role
//! wildcards, and grants.

use gcctl::permissions::Catalog;
use gcctl::sandbox::{ADMIN_USER_EMAIL, ADMIN_USER_NAME, SandboxConfig};
use reqwest::Method;
use serde_json::{Value, json};

use super::{TestOrg, assert_error, mint};

const ROLES: &str = "/api/v2/authorization/roles";
const DIVISIONS: &str = "/api/v2/authorization/divisions";
const CLIENTS: &str = "/api/v2/oauth/clients";
const QUEUES: &str = "/api/v2/routing/queues";
const SUBJECTS: &str = "/api/v2/authorization/subjects";
const CATALOG: &str = "/api/v2/authorization/permissions";

async fn division_ids(org: &TestOrg) -> (String, String) {
    let home = org.get(&format!("{DIVISIONS}/home")).await.body["id"].as_str().unwrap().to_string();
    let operations = org.id_named(DIVISIONS, "Operations").await;
    (home, operations)
}

/// A role of the given policies, granted to a new client-credentials client
/// (through the admin client, which is given the role first); the client's
/// token.
async fn client_with(org: &TestOrg, name: &str, policies: Value) -> String {
    let role = org.post(ROLES, json!({"name": name, "permissionPolicies": policies})).await;
    assert_eq!(role.status, 200, "{}", role.body);
    let role = role.body["id"].as_str().unwrap().to_string();
    let (home, _) = division_ids(org).await;
    org.grant_admin_client(&role, &home).await;
    let body = json!({"name": name, "authorizedGrantType": "CLIENT-CREDENTIALS",
        "roleDivisions": [{"roleId": role, "divisionId": home}]});
    let client = org.post(CLIENTS, body).await;
    assert_eq!(client.status, 200, "{}", client.body);
    let (id, secret) =
        (client.body["id"].as_str().unwrap(), client.body["secret"].as_str().unwrap());
    mint(&org.http, &org.sandbox.base_url(), id, secret).await.unwrap()
}

/// The (role name, division name) pairs of an `AuthzSubject`.
fn grant_names(subject: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = subject["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["role"]["name"].as_str().unwrap().into(),
                g["division"]["name"].as_str().unwrap().into(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn the_admin_client_and_user_hold_master_admin_in_every_division() {
    let org = TestOrg::default().await;
    let both = vec![
        ("Master Admin".to_string(), "Home".to_string()),
        ("Master Admin".to_string(), "Operations".to_string()),
    ];
    let client = org.get(&format!("{SUBJECTS}/me")).await;
    assert_eq!(client.status, 200, "{}", client.body);
    assert_eq!(client.body["id"], org.sandbox.client_id());
    assert_eq!(grant_names(&client.body), both);
    let user_token = org.sandbox.user_token();
    let user = org.call_as(user_token, Method::GET, &format!("{SUBJECTS}/me"), None).await;
    assert_eq!(user.body["id"], org.sandbox.user_id());
    assert_eq!(user.body["name"], ADMIN_USER_NAME);
    assert_eq!(grant_names(&user.body), both);
    assert!(user.body["grants"][0]["grantMadeAt"].is_string(), "{}", user.body);
    // The same subject read by id.
    let by_id = org.get(&format!("{SUBJECTS}/{}", org.sandbox.user_id())).await;
    assert_eq!(grant_names(&by_id.body), both);
    assert_error(&org.get(&format!("{SUBJECTS}/nope")).await, 404, None);
    // The role in a grant lists every permission of the catalog.
    let policies = user.body["grants"][0]["role"]["policies"].as_array().unwrap();
    let actions: usize = policies.iter().map(|p| p["actions"].as_array().unwrap().len()).sum();
    assert_eq!(actions, Catalog::embedded().len());
}

#[tokio::test]
async fn users_and_the_user_token() {
    let org = TestOrg::default().await;
    let token = org.sandbox.user_token();
    let me = org.call_as(token, Method::GET, "/api/v2/users/me", None).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(
        (me.body["name"].as_str(), me.body["email"].as_str(), me.body["state"].as_str()),
        (Some(ADMIN_USER_NAME), Some(ADMIN_USER_EMAIL), Some("active"))
    );
    assert_eq!(me.body["division"]["name"], "Home");
    // Not valid with a client-credentials token.
    assert_error(&org.get("/api/v2/users/me").await, 400, None);
    // The user list (the admin and the seeded agents, one of them
    // inactive) and the user by id.
    let users = org.get("/api/v2/users").await;
    assert_eq!(users.body["total"], 5);
    let ids: Vec<&Value> =
        users.body["entities"].as_array().unwrap().iter().map(|u| &u["id"]).collect();
    assert!(ids.contains(&&json!(org.sandbox.user_id())), "{}", users.body);
    assert_eq!(org.get("/api/v2/users?state=inactive").await.body["total"], 1);
    assert_error(&org.get("/api/v2/users?state=gone").await, 400, Some("state"));
    let one = org.get(&format!("/api/v2/users/{}", org.sandbox.user_id())).await;
    assert_eq!(one.body, me.body);
    // The user token works everywhere the user's grants allow.
    assert_eq!(org.call_as(token, Method::GET, QUEUES, None).await.status, 200);
    let queue = org.call_as(token, Method::POST, QUEUES, Some(json!({"name": "By user"}))).await;
    assert_eq!(queue.status, 200, "{}", queue.body);
}

#[tokio::test]
async fn tokens_me_tells_clients_from_users_and_revokes() {
    let org = TestOrg::default().await;
    let organization = org.get("/api/v2/organizations/me").await.body;
    let client = org.get("/api/v2/tokens/me").await;
    assert_eq!(client.status, 200, "{}", client.body);
    assert_eq!(client.body["organization"]["id"], organization["id"]);
    assert_eq!(client.body["OAuthClient"]["id"], org.sandbox.client_id());
    assert_eq!(client.body["OAuthClient"]["authorizedGrantType"], "CLIENT-CREDENTIALS");
    assert_eq!(client.body["OAuthClient"]["organization"]["id"], organization["id"]);
    let user = org.call_as(org.sandbox.user_token(), Method::GET, "/api/v2/tokens/me", None).await;
    assert_eq!(user.body["OAuthClient"]["organization"]["id"], "purecloud-builtin");
    assert_eq!(org.call(Method::HEAD, "/api/v2/tokens/me", None).await.status, 200);
    // DELETE revokes the token it is called with, and only that one.
    let sandbox = &org.sandbox;
    let other = mint(&org.http, &sandbox.base_url(), sandbox.client_id(), sandbox.client_secret())
        .await
        .unwrap();
    assert_eq!(org.call_as(&other, Method::DELETE, "/api/v2/tokens/me", None).await.status, 204);
    let revoked = org.call_as(&other, Method::GET, QUEUES, None).await;
    assert_error(&revoked, 401, None);
    assert_eq!(org.get(QUEUES).await.status, 200);
}

#[tokio::test]
async fn every_endpoint_checks_the_callers_permissions() {
    let org = TestOrg::default().await;
    let viewer = client_with(
        &org,
        "Queue viewer",
        json!([{"domain": "routing", "entityName": "queue", "actionSet": ["view"]}]),
    )
    .await;
    assert_eq!(org.call_as(&viewer, Method::GET, QUEUES, None).await.status, 200);
    // ANY: the real 403 body, naming the permissions.
    let refused = org.call_as(&viewer, Method::POST, QUEUES, Some(json!({"name": "No"}))).await;
    assert_error(&refused, 403, None);
    assert_eq!(refused.body["code"], "missing.any.permissions");
    assert_eq!(
        refused.body["message"],
        "Unable to perform the requested action. You must have at least one of the following permissions assigned: [routing:queue:add]"
    );
    let clients = org.call_as(&viewer, Method::GET, CLIENTS, None).await;
    assert_error(&clients, 403, None);
    assert!(clients.body["message"].as_str().unwrap().ends_with("[oauth:client:view]"));
    // ALL: only the missing ones are named.
    let role = org.id_named(&format!("{ROLES}?name=employee"), "employee").await;
    let bulk = org
        .call_as(
            &viewer,
            Method::POST,
            &format!("{ROLES}/{role}"),
            Some(json!({"subjectIds": ["x"], "divisionIds": ["y"]})),
        )
        .await;
    assert_error(&bulk, 403, None);
    assert_eq!(bulk.body["code"], "missing.permissions");
    assert!(
        bulk.body["message"]
            .as_str()
            .unwrap()
            .ends_with("You are missing the following permission(s): [authorization:grant:add]"),
        "{}",
        bulk.body
    );
    // Endpoints that require no permission stay open.
    for path in ["/api/v2/organizations/me", DIVISIONS, "/api/v2/tokens/me", CATALOG] {
        assert_eq!(org.call_as(&viewer, Method::GET, path, None).await.status, 200, "{path}");
    }
    // Wildcards in a role's policies cover every matching permission.
    let editor = client_with(
        &org,
        "Queue editor",
        json!([{"domain": "routing", "entityName": "queue", "actionSet": ["*"]}]),
    )
    .await;
    let created = org.call_as(&editor, Method::POST, QUEUES, Some(json!({"name": "Yes"}))).await;
    assert_eq!(created.status, 200, "{}", created.body);
    // Unknown routes are still 404, not 403.
    assert_error(&org.call_as(&viewer, Method::GET, "/api/v2/nothing", None).await, 404, None);
}

#[tokio::test]
async fn division_aware_permissions_count_in_the_division_of_the_object() {
    let org = TestOrg::default().await;
    let (home, operations) = division_ids(&org).await;
    let in_operations =
        org.post(QUEUES, json!({"name": "Ops", "division": {"id": operations}})).await;
    assert_eq!(in_operations.status, 200, "{}", in_operations.body);
    let ops = in_operations.body["id"].as_str().unwrap().to_string();
    let in_home = org.post(QUEUES, json!({"name": "Front"})).await;
    let front = in_home.body["id"].as_str().unwrap().to_string();
    // A client that may view, add and edit queues, in Home only.
    let token = client_with(
        &org,
        "Home queues",
        json!([{"domain": "routing", "entityName": "queue", "actionSet": ["view", "add", "edit"]}]),
    )
    .await;
    // It creates queues in Home (the default), not in Operations.
    let mine = org.call_as(&token, Method::POST, QUEUES, Some(json!({"name": "Mine"}))).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    let body = json!({"name": "Not mine", "division": {"id": operations}});
    let refused = org.call_as(&token, Method::POST, QUEUES, Some(body)).await;
    assert_error(&refused, 403, None);
    assert_eq!(refused.body["code"], "missing.any.permissions");
    assert_eq!(
        refused.body["message"],
        format!(
            "Unable to perform the requested action. You must have at least one of the following permissions assigned: [routing:queue:add] in the division 'Operations' ({operations})"
        )
    );
    // Its lists show only the queues of Home.
    let listed = org.call_as(&token, Method::GET, &format!("{QUEUES}?pageSize=500"), None).await;
    let mut names: Vec<&str> = listed.body["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Front", "Mine"], "{}", listed.body);
    assert_eq!(listed.body["total"], 2);
    let admin_list = org.get(&format!("{QUEUES}?pageSize=500")).await;
    assert_eq!(admin_list.body["total"], 3, "the admin sees every division");
    // Reading, changing or using a queue of Operations is refused.
    let item = format!("{QUEUES}/{ops}");
    assert_error(&org.call_as(&token, Method::GET, &item, None).await, 403, None);
    let put = org.call_as(&token, Method::PUT, &item, Some(json!({"name": "Ops"}))).await;
    assert_error(&put, 403, None);
    assert!(
        put.body["message"].as_str().unwrap().ends_with(&format!(
            "[routing:queue:edit] in the division 'Operations' ({operations})"
        )),
        "{}",
        put.body
    );
    let members = org.call_as(&token, Method::GET, &format!("{item}/members"), None).await;
    assert_error(&members, 403, None);
    let own = org
        .call_as(
            &token,
            Method::PUT,
            &format!("{QUEUES}/{front}"),
            Some(json!({"name": "Front", "description": "x"})),
        )
        .await;
    assert_eq!(own.status, 200, "{}", own.body);
    // Moving a queue needs the edit permission in both divisions.
    let moving = format!("{DIVISIONS}/{operations}/objects/QUEUE");
    let moved = org.call_as(&token, Method::POST, &moving, Some(json!([front]))).await;
    assert_error(&moved, 403, None);
    assert_eq!(org.post(&moving, json!([front])).await.status, 204, "the admin may");
    let back = format!("{DIVISIONS}/{home}/objects/QUEUE");
    assert_error(&org.call_as(&token, Method::POST, &back, Some(json!([front]))).await, 403, None);
    // The catalog marks the division-aware permissions.
    let routing = org
        .get(&format!("{CATALOG}?queryType=permission&query=routing:queue:add,oauth:client:add"))
        .await;
    let flag = |domain: usize, entity: &str| {
        routing.body["entities"][domain]["permissionMap"][entity][0]["divisionAware"].clone()
    };
    assert_eq!(
        (flag(0, "client"), flag(1, "queue")),
        (json!(false), json!(true)),
        "{}",
        routing.body
    );
}

#[tokio::test]
async fn the_permission_catalog_is_served_by_domain() {
    let org = TestOrg::default().await;
    let catalog = Catalog::embedded();
    let all = org.get(&format!("{CATALOG}?pageSize=100")).await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.body["total"], catalog.domains().len());
    let counted: usize = all.body["entities"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["permissionMap"].as_object().unwrap().values())
        .map(|list| list.as_array().unwrap().len())
        .sum();
    assert_eq!(counted, catalog.len());
    assert_eq!(org.get(CATALOG).await.body["pageSize"], 25);
    let routing = org.get(&format!("{CATALOG}?queryType=domain&query=routing")).await;
    assert_eq!(routing.body["total"], 1);
    let domain = &routing.body["entities"][0];
    assert_eq!(
        (domain["id"].as_str(), domain["domain"].as_str()),
        (Some("routing"), Some("routing"))
    );
    let view = domain["permissionMap"]["queue"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["action"] == "view")
        .cloned()
        .unwrap();
    assert_eq!(
        (view["domain"].as_str(), view["entityType"].as_str()),
        (Some("routing"), Some("queue"))
    );
    let picked = org
        .get(&format!("{CATALOG}?queryType=permission&query=routing:queue:view,oauth:client:*"))
        .await;
    let domains: Vec<&str> = picked.body["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(domains, ["oauth", "routing"]);
    assert_eq!(picked.body["entities"][1]["permissionMap"]["queue"].as_array().unwrap().len(), 1);
    assert_error(
        &org.get(&format!("{CATALOG}?queryType=nope&query=x")).await,
        400,
        Some("queryType"),
    );
    assert_error(&org.get(&format!("{CATALOG}?query=routing")).await, 400, Some("queryType"));
}

#[tokio::test]
async fn role_reads_expand_wildcards_and_writes_check_the_catalog() {
    let org = TestOrg::default().await;
    let body = json!({"name": "Queues", "permissionPolicies": [
        {"domain": "routing", "entityName": "queue", "actionSet": ["*"], "allowConditions": true}]});
    let created = org.post(ROLES, body).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let expected: Vec<&str> = Catalog::embedded()
        .expand("routing:queue:*")
        .into_iter()
        .map(|p| p.rsplit(':').next().unwrap())
        .collect();
    let id = created.body["id"].as_str().unwrap();
    for answer in [created.body.clone(), org.get(&format!("{ROLES}/{id}")).await.body] {
        let policies = answer["permissionPolicies"].as_array().unwrap();
        assert_eq!(policies.len(), 1, "{answer}");
        assert_eq!(policies[0]["entityName"], "queue");
        assert_eq!(policies[0]["allowConditions"], false, "conditions dropped");
        assert_eq!(policies[0]["actionSet"], json!(expected));
    }
    let listed = org.get(&format!("{ROLES}?name=Queues")).await;
    assert_eq!(listed.body["entities"][0]["permissionPolicies"][0]["actionSet"], json!(expected));
    // Master Admin lists every permission.
    let master = org.get(&format!("{ROLES}?name=master")).await.body["entities"][0].clone();
    let count: usize = master["permissionPolicies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["actionSet"].as_array().unwrap().len())
        .sum();
    assert_eq!(count, Catalog::embedded().len());
    // Writes: every permission must exist.
    let typo = json!({"name": "Typo", "permissionPolicies": [
        {"domain": "routing", "entityName": "queue", "actionSet": ["view", "veiw"]}]});
    let refused = org.post(ROLES, typo).await;
    assert_error(&refused, 400, Some("permissionPolicies[0].actionSet[1]"));
    let message = refused.body["message"].as_str().unwrap();
    assert!(
        message.contains("'routing:queue:veiw'") && message.contains("'routing:queue:view'"),
        "{message}"
    );
    let nothing = json!({"name": "Nothing", "permissionPolicies": [
        {"domain": "nosuchdomain", "entityName": "*", "actionSet": ["*"]}]});
    assert_error(&org.post(ROLES, nothing).await, 400, Some("permissionPolicies[0].actionSet[0]"));
    let partial = json!({"name": "Partial", "permissionPolicies": [{"domain": "routing", "actionSet": ["view"]}]});
    assert_error(&org.post(ROLES, partial).await, 400, Some("permissionPolicies[0].entityName"));
    let empty = json!({"name": "Empty", "permissionPolicies": [
        {"domain": "routing", "entityName": "queue", "actionSet": []}]});
    assert_error(&org.post(ROLES, empty).await, 400, Some("permissionPolicies[0].actionSet"));
    let put = json!({"name": "Queues", "permissionPolicies": [
        {"domain": "routing", "entityName": "qeue", "actionSet": ["view"]}]});
    assert_error(
        &org.put(&format!("{ROLES}/{id}"), put).await,
        400,
        Some("permissionPolicies[0].actionSet[0]"),
    );
}

#[tokio::test]
async fn grants_to_users_need_the_grant_permission_and_to_clients_the_role() {
    let org = TestOrg::default().await;
    let (home, operations) = division_ids(&org).await;
    let developer = org.id_named(&format!("{ROLES}?name=developer"), "Developer").await;
    let user = org.sandbox.user_id().to_string();
    let admin = org.sandbox.client_id().to_string();
    let token = org.sandbox.user_token().to_string();
    // The admin client may grant any role to a user (authorization:grant:add).
    let to_user = format!("{SUBJECTS}/{user}/divisions/{operations}/roles/{developer}");
    assert_eq!(org.post(&to_user, json!({})).await.status, 204);
    assert_eq!(org.post(&to_user, json!({})).await.status, 204, "granting twice is a no-op");
    let subject = org.get(&format!("{SUBJECTS}/{user}")).await;
    assert!(grant_names(&subject.body).contains(&("Developer".into(), "Operations".into())));
    // To an OAuth client only when the granter holds the role there.
    let to_client = |division: &str| {
        format!(
            "{SUBJECTS}/{admin}/divisions/{division}/roles/{developer}?subjectType=PC_OAUTH_CLIENT"
        )
    };
    let refused = org.call_as(&token, Method::POST, &to_client(&home), None).await;
    assert_error(&refused, 403, None);
    assert_eq!(refused.body["code"], "not.authorized");
    assert_eq!(org.call_as(&token, Method::POST, &to_client(&operations), None).await.status, 204);
    let client = org.get(&format!("{SUBJECTS}/me")).await;
    assert!(grant_names(&client.body).contains(&("Developer".into(), "Operations".into())));
    // Revoking.
    assert_eq!(org.delete(&to_client(&operations)).await.status, 204);
    assert_eq!(org.delete(&to_user).await.status, 204);
    let subject = org.get(&format!("{SUBJECTS}/{user}")).await;
    assert!(!grant_names(&subject.body).iter().any(|(role, _)| role == "Developer"));
    // Unknown subjects, roles, divisions and types.
    assert_error(&org.post(&format!("{to_user}?subjectType=PC_GROUP"), json!({})).await, 404, None);
    assert_error(
        &org.post(&format!("{SUBJECTS}/nope/divisions/{home}/roles/{developer}"), json!({})).await,
        404,
        None,
    );
    assert_error(
        &org.post(&format!("{SUBJECTS}/{user}/divisions/nope/roles/{developer}"), json!({})).await,
        404,
        None,
    );
    assert_error(
        &org.post(&format!("{SUBJECTS}/{user}/divisions/{home}/roles/nope"), json!({})).await,
        404,
        None,
    );
    assert_error(
        &org.post(&format!("{to_user}?subjectType=ROBOT"), json!({})).await,
        400,
        Some("subjectType"),
    );
    // Bulk: every subject in every division, all or nothing.
    let bulk = format!("{ROLES}/{developer}");
    let body = json!({"subjectIds": [user], "divisionIds": [home, operations]});
    assert_eq!(org.post(&bulk, body).await.status, 204);
    let subject = org.get(&format!("{SUBJECTS}/{user}")).await;
    let developer_grants =
        grant_names(&subject.body).into_iter().filter(|(r, _)| r == "Developer").count();
    assert_eq!(developer_grants, 2);
    assert_error(&org.post(&bulk, json!({"subjectIds": [user]})).await, 400, Some("divisionIds"));
    let partly = json!({"subjectIds": [user, "nope"], "divisionIds": [home]});
    assert_error(&org.post(&bulk, partly).await, 404, None);
    // Without authorization:grant:add / :view: 403.
    let viewer = client_with(
        &org,
        "Viewer",
        json!([{"domain": "routing", "entityName": "queue", "actionSet": ["view"]}]),
    )
    .await;
    let denied = org.call_as(&viewer, Method::POST, &to_user, None).await;
    assert_error(&denied, 403, None);
    assert!(denied.body["message"].as_str().unwrap().ends_with("[authorization:grant:add]"));
    let hidden = org.call_as(&viewer, Method::GET, &format!("{SUBJECTS}/{user}"), None).await;
    assert_error(&hidden, 403, None);
    // Its own subject needs no permission.
    assert_eq!(
        org.call_as(&viewer, Method::GET, &format!("{SUBJECTS}/me"), None).await.status,
        200
    );
}

/// A state file written before users and grants existed (no `users` or
/// `grants` collections, the admin client holding `Master Admin` in Home
/// only) loads, and the admins are ensured.
#[tokio::test]
async fn older_state_files_load_and_get_the_admins() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("org.json");
    let config = || SandboxConfig { state_file: Some(state.clone()), ..SandboxConfig::default() };
    let org = TestOrg::start(config()).await;
    let (home, _) = division_ids(&org).await;
    let admin = org.sandbox.client_id().to_string();
    org.sandbox.shutdown().await;
    let mut snapshot: serde_json::Map<String, Value> =
        serde_json::from_str(&fs_err::read_to_string(&state).unwrap()).unwrap();
    snapshot.remove("users");
    snapshot.remove("grants");
    let defaults = snapshot["defaults"].as_object_mut().unwrap();
    defaults.remove("adminUserId");
    let client = &mut snapshot["oauthClients"][&admin];
    let master = client["roleDivisions"][0]["roleId"].clone();
    client["roleDivisions"] = json!([{"roleId": master, "divisionId": home}]);
    fs_err::write(&state, Value::Object(snapshot).to_string()).unwrap();
    let org = TestOrg::start(config()).await;
    let me = org.call_as(org.sandbox.user_token(), Method::GET, "/api/v2/users/me", None).await;
    assert_eq!(me.body["name"], ADMIN_USER_NAME);
    let client = org.get(&format!("{SUBJECTS}/me")).await;
    assert_eq!(grant_names(&client.body).len(), 2, "{}", client.body);
    org.sandbox.shutdown().await;
    // And the next start finds the same user.
    let again = TestOrg::start(config()).await;
    assert_eq!(again.get("/api/v2/users").await.body["total"], 1);
    assert_eq!(again.sandbox.user_id(), me.body["id"].as_str().unwrap());
}
