//! The validation rules of a real org (API reference, summary item 16):
//! OAuth client grants and grant types, and OAuth client deletes.

use reqwest::Method;
use serde_json::{Value, json};

use super::{TestOrg, assert_error};

const ROLES: &str = "/api/v2/authorization/roles";
const DIVISIONS: &str = "/api/v2/authorization/divisions";
const CLIENTS: &str = "/api/v2/oauth/clients";
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
