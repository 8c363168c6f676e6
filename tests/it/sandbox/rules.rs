//! The validation rules of a real org (API reference, summary item 16):
//! OAuth client grants and grant types, OAuth client deletes, queue enums,
//! queue divisions and division moves, `hasPeer`, the open messaging secret
//! length, and `name` on supported content PATCH.

use reqwest::Method;
use serde_json::{Value, json};

use super::{TestOrg, assert_error, mint};

const ROLES: &str = "/api/v2/authorization/roles";
const DIVISIONS: &str = "/api/v2/authorization/divisions";
const CLIENTS: &str = "/api/v2/oauth/clients";
const QUEUES: &str = "/api/v2/routing/queues";
const SUBJECTS: &str = "/api/v2/authorization/subjects";

async fn division_ids(org: &TestOrg) -> (String, String) {
    let home = org.get(&format!("{DIVISIONS}/home")).await.body["id"].as_str().unwrap().to_string();
    let operations = org.id_named(DIVISIONS, "Operations").await;
    (home, operations)
}

fn client(name: &str, role: &str, division: &str) -> Value {
    json!({"name": name, "authorizedGrantType": "CLIENT-CREDENTIALS",
        "roleDivisions": [{"roleId": role, "divisionId": division}]})
}

#[tokio::test]
async fn oauth_clients_get_only_roles_the_caller_holds_in_that_division() {
    let org = TestOrg::default().await;
    let (home, operations) = division_ids(&org).await;
    let developer = org.id_named(&format!("{ROLES}?name=developer"), "Developer").await;
    let master = org.id_named(&format!("{ROLES}?name=master"), "Master Admin").await;
    // The admin client holds Master Admin everywhere, and nothing else.
    assert_eq!(org.post(CLIENTS, client("Master", &master, &operations)).await.status, 200);
    let refused = org.post(CLIENTS, client("Dev", &developer, &home)).await;
    assert_error(&refused, 403, Some("roleDivisions[0].roleId"));
    assert_eq!(refused.body["code"], "not.authorized");
    let message = refused.body["message"].as_str().unwrap();
    assert!(message.contains("'Developer'") && message.contains("'Home'"), "{message}");
    // Holding the role in another division is not enough.
    org.grant_admin_client(&developer, &operations).await;
    assert_error(&org.post(CLIENTS, client("Dev", &developer, &home)).await, 403, None);
    let created = org.post(CLIENTS, client("Dev", &developer, &operations)).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let path = format!("{CLIENTS}/{}", created.body["id"].as_str().unwrap());
    // A PUT keeping a grant works even once the caller lost the role; adding one does not.
    let admin = org.sandbox.client_id();
    let revoke = format!(
        "{SUBJECTS}/{admin}/divisions/{operations}/roles/{developer}?subjectType=PC_OAUTH_CLIENT"
    );
    assert_eq!(org.delete(&revoke).await.status, 204);
    let mut kept = client("Dev 2", &developer, &operations);
    assert_eq!(org.put(&path, kept.clone()).await.status, 200);
    kept["roleDivisions"]
        .as_array_mut()
        .unwrap()
        .push(json!({"roleId": developer, "divisionId": home}));
    assert_error(&org.put(&path, kept).await, 403, Some("roleDivisions[1].roleId"));
    // A user token follows the same rule.
    let token = org.sandbox.user_token();
    let by_user =
        org.call_as(token, Method::POST, CLIENTS, Some(client("U", &developer, &home))).await;
    assert_error(&by_user, 403, None);
}

#[tokio::test]
async fn the_grant_type_decides_roles_or_scopes() {
    let org = TestOrg::default().await;
    let no_roles = json!({"name": "c", "authorizedGrantType": "CLIENT-CREDENTIALS"});
    let refused = org.post(CLIENTS, no_roles).await;
    assert_error(&refused, 400, Some("roleDivisions"));
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Roles must be set for clients using the CLIENT-CREDENTIALS grant"),
        "{}",
        refused.body
    );
    let empty =
        json!({"name": "c", "authorizedGrantType": "CLIENT-CREDENTIALS", "roleDivisions": []});
    assert_error(&org.post(CLIENTS, empty).await, 400, Some("roleDivisions"));
    let code = json!({"name": "web", "authorizedGrantType": "CODE",
        "registeredRedirectUri": ["https://app.example.com/cb"]});
    let refused = org.post(CLIENTS, code.clone()).await;
    assert_error(&refused, 400, Some("scope"));
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Scopes must be set for clients not using the CLIENT-CREDENTIALS grant"),
        "{}",
        refused.body
    );
    let mut scoped = code;
    scoped["scope"] = json!(["routing"]);
    let created = org.post(CLIENTS, scoped).await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.body["scope"], json!(["routing"]));
    // Enums say what is allowed, in the real API's words.
    let bad = json!({"name": "c", "authorizedGrantType": "CLIENT-CREDENTIALS", "state": "paused"});
    let refused = org.post(CLIENTS, bad).await;
    assert_error(&refused, 400, Some("state"));
    assert_eq!(
        refused.body["message"],
        "Value [paused] is not valid for field type [State]. Allowable values are: active, disabled, inactive"
    );
}

#[tokio::test]
async fn oauth_clients_are_deleted_only_once_inactive() {
    let org = TestOrg::default().await;
    let (home, _) = division_ids(&org).await;
    let master = org.id_named(&format!("{ROLES}?name=master"), "Master Admin").await;
    let created = org.post(CLIENTS, client("Old", &master, &home)).await;
    let path = format!("{CLIENTS}/{}", created.body["id"].as_str().unwrap());
    let refused = org.delete(&path).await;
    assert_error(&refused, 400, Some("state"));
    assert!(refused.body["message"].as_str().unwrap().contains("must be set to inactive"));
    let mut body = client("Old", &master, &home);
    body["state"] = json!("disabled");
    assert_eq!(org.put(&path, body.clone()).await.status, 200);
    assert_error(&org.delete(&path).await, 400, Some("state"));
    body["state"] = json!("inactive");
    assert_eq!(org.put(&path, body).await.status, 200);
    assert_eq!(org.delete(&path).await.status, 204);
    assert_error(&org.get(&path).await, 404, None);
}

#[tokio::test]
async fn queue_enums_are_validated_nested_ones_included() {
    let org = TestOrg::default().await;
    let callback = |mode: &str| json!({"name": "Callbacks", "mediaSettings": {"callback": {"mode": mode, "alertingTimeoutSeconds": 30}}});
    let refused = org.post(QUEUES, callback("")).await;
    assert_error(&refused, 400, Some("mediaSettings.callback.mode"));
    assert_eq!(
        refused.body["message"],
        "Value [] is not valid for field type [Mode]. Allowable values are: AgentFirst, CustomerFirst"
    );
    let created = org.post(QUEUES, callback("CustomerFirst")).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let path = format!("{QUEUES}/{}", created.body["id"].as_str().unwrap());
    // PUT too.
    assert_error(
        &org.put(&path, callback("Agentfirst")).await,
        400,
        Some("mediaSettings.callback.mode"),
    );
    for (body, field) in [
        (json!({"name": "Q", "scoringMethod": ""}), "scoringMethod"),
        (
            json!({"name": "Q", "acwSettings": {"wrapupPrompt": "SOMETIMES"}}),
            "acwSettings.wrapupPrompt",
        ),
        (
            json!({"name": "Q", "routingRules": [{"operator": "ANY"}, {"operator": "ALL"}]}),
            "routingRules[1].operator",
        ),
        (
            json!({"name": "Q", "bullseye": {"rings": [{"memberGroups": [{"id": "g", "type": "CLUB"}]}]}}),
            "bullseye.rings[0].memberGroups[0].type",
        ),
        (
            json!({"name": "Q", "memberGroups": [{"id": "g", "type": "team"}]}),
            "memberGroups[0].type",
        ),
        (
            json!({"name": "Q", "cannedResponseLibraries": {"mode": "Some"}}),
            "cannedResponseLibraries.mode",
        ),
        (
            json!({"name": "Q", "mediaSettings": {"message": {"inactivityTimeoutSettings": {"actionType": "WAIT"}}}}),
            "mediaSettings.message.inactivityTimeoutSettings.actionType",
        ),
    ] {
        let answer = org.post(QUEUES, body.clone()).await;
        assert_error(&answer, 400, Some(field));
        assert!(answer.body["message"].as_str().unwrap().starts_with("Value ["), "{}", answer.body);
    }
    // Omitted and null enums are fine.
    let valid = json!({"name": "Valid", "acwSettings": {"wrapupPrompt": "OPTIONAL"}, "scoringMethod": null,
        "routingRules": [{"operator": "MEETS_THRESHOLD", "threshold": 9}],
        "bullseye": {"rings": [{"expansionCriteria": [{"type": "TIMEOUT_SECONDS", "threshold": 2}]}]}});
    assert_eq!(org.post(QUEUES, valid).await.status, 200);
}

#[tokio::test]
async fn queues_change_division_only_through_the_division_move() {
    let org = TestOrg::default().await;
    let (home, operations) = division_ids(&org).await;
    let created = org.post(QUEUES, json!({"name": "Ops", "division": {"id": operations}})).await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.body["division"]["name"], "Operations");
    let id = created.body["id"].as_str().unwrap().to_string();
    let path = format!("{QUEUES}/{id}");
    // A PUT without division keeps it; with the same one is fine; another is refused.
    assert_eq!(org.put(&path, json!({"name": "Ops"})).await.body["division"]["name"], "Operations");
    let same = org
        .put(&path, json!({"name": "Ops", "division": {"id": operations, "name": "Operations"}}))
        .await;
    assert_eq!(same.status, 200, "{}", same.body);
    let moved = org.put(&path, json!({"name": "Ops", "division": {"id": home}})).await;
    assert_error(&moved, 400, Some("division.id"));
    assert!(moved.body["message"].as_str().unwrap().contains("/objects/QUEUE"), "{}", moved.body);
    // `selfUri` is read-only in a written division.
    let uri = format!("{DIVISIONS}/{operations}");
    let refused = org
        .post(QUEUES, json!({"name": "Uri", "division": {"id": operations, "selfUri": uri}}))
        .await;
    assert_error(&refused, 400, Some("division.selfUri"));
    let nested = json!({"name": "Uri", "memberGroups": [{"id": "g", "type": "GROUP",
        "division": {"id": operations, "selfUri": uri}}]});
    assert_error(&org.post(QUEUES, nested).await, 400, Some("memberGroups[0].division.selfUri"));
    // The division move.
    let move_to = |division: &str, kind: &str| format!("{DIVISIONS}/{division}/objects/{kind}");
    let answer = org.post(&move_to(&home, "QUEUE"), json!([id])).await;
    assert_eq!(answer.status, 204, "{answer:?}");
    assert_eq!(org.get(&path).await.body["division"]["name"], "Home");
    // All or nothing: an unknown id moves none.
    let partial = org.post(&move_to(&operations, "QUEUE"), json!([id, "nope"])).await;
    assert_error(&partial, 404, None);
    assert_eq!(org.get(&path).await.body["division"]["name"], "Home");
    assert_error(
        &org.post(&move_to(&operations, "WIDGET"), json!([id])).await,
        400,
        Some("objectType"),
    );
    assert_error(&org.post(&move_to("nope", "QUEUE"), json!([id])).await, 404, None);
    assert_error(&org.post(&move_to(&operations, "QUEUE"), json!([])).await, 400, None);
    assert_error(&org.post(&move_to(&operations, "QUEUE"), json!({"id": id})).await, 400, None);
    assert_error(&org.post(&move_to(&operations, "QUEUE"), json!([3])).await, 400, None);
    // A type the sandbox has no objects of: the ids are unknown.
    assert_error(&org.post(&move_to(&operations, "SCRIPT"), json!([id])).await, 404, None);
    // Flows move too.
    let flow = org.id_named("/api/v2/flows?name=Support&type=inqueueshortmessage", "Support").await;
    assert_eq!(org.post(&move_to(&operations, "FLOW"), json!([flow])).await.status, 204);
    assert_eq!(
        org.get(&format!("/api/v2/flows/{flow}")).await.body["division"]["name"],
        "Operations"
    );
    // Moving needs the object's edit permission.
    let role = org
        .post(
            ROLES,
            json!({"name": "Viewer", "permissionPolicies": [
            {"domain": "routing", "entityName": "queue", "actionSet": ["view"]}]}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    org.grant_admin_client(&role, &home).await;
    let viewer = org.post(CLIENTS, client("Viewer", &role, &home)).await.body;
    let token = mint(
        &org.http,
        &org.sandbox.base_url(),
        viewer["id"].as_str().unwrap(),
        viewer["secret"].as_str().unwrap(),
    )
    .await
    .unwrap();
    let denied =
        org.call_as(&token, Method::POST, &move_to(&operations, "QUEUE"), Some(json!([id]))).await;
    assert_error(&denied, 403, None);
    assert!(denied.body["message"].as_str().unwrap().ends_with("[routing:queue:edit]"));
}

#[tokio::test]
async fn has_peer_filters_queues() {
    let org = TestOrg::default().await;
    assert_eq!(org.post(QUEUES, json!({"name": "Peered", "peerId": "peer-1"})).await.status, 200);
    assert_eq!(org.post(QUEUES, json!({"name": "Alone"})).await.status, 200);
    let names = |body: &Value| -> Vec<String> {
        body["entities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&org.get(&format!("{QUEUES}?hasPeer=true")).await.body), ["Peered"]);
    assert_eq!(names(&org.get(&format!("{QUEUES}?hasPeer=false")).await.body), ["Alone"]);
    assert_eq!(names(&org.get(QUEUES).await.body), ["Alone", "Peered"]);
    assert_error(&org.get(&format!("{QUEUES}?hasPeer=maybe")).await, 400, Some("hasPeer"));
}

#[tokio::test]
async fn open_messaging_secrets_are_longer_than_15_characters() {
    let org = TestOrg::default().await;
    let open = "/api/v2/conversations/messaging/integrations/open";
    let secret = "outboundNotificationWebhookSignatureSecretToken";
    let body = |token: &str| json!({"name": "Bot", "outboundNotificationWebhookUrl": "https://bot.example.com/hook", secret: token});
    let refused = org.post(open, body("fifteen-chars!!")).await;
    assert_error(&refused, 400, Some(secret));
    assert!(refused.body["message"].as_str().unwrap().contains("longer than 15 characters"));
    let created = org.post(open, body("sixteen-chars!!!")).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let path = format!("{open}/{}", created.body["id"].as_str().unwrap());
    assert_error(
        &org.patch(&path, json!({"name": "Bot", secret: "short"})).await,
        400,
        Some(secret),
    );
    assert_eq!(
        org.patch(&path, json!({"name": "Bot", secret: "another-long-secret"})).await.status,
        200
    );
}

#[tokio::test]
async fn supported_content_patch_requires_the_name() {
    let org = TestOrg::default().await;
    let content = "/api/v2/conversations/messaging/supportedcontent";
    let created = org.post(content, json!({"name": "Images"})).await;
    let path = format!("{content}/{}", created.body["id"].as_str().unwrap());
    let media = json!({"allow": {"inbound": [{"type": "image/*"}]}});
    assert_error(&org.patch(&path, json!({"mediaTypes": media})).await, 400, Some("name"));
    let patched = org.patch(&path, json!({"name": "Images", "mediaTypes": media})).await;
    assert_eq!(patched.status, 200, "{}", patched.body);
}
