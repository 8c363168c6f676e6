//! Every endpoint, resource by resource.

use std::time::Duration;

use gcctl::sandbox::{Generate, SandboxConfig};
use serde_json::{Value, json};

use super::{TestOrg, assert_error, eventually, mint};

const QUEUES: &str = "/api/v2/routing/queues";
const OPEN: &str = "/api/v2/conversations/messaging/integrations/open";
const CONTENT: &str = "/api/v2/conversations/messaging/supportedcontent";
const SETTINGS: &str = "/api/v2/conversations/messaging/settings";
const CLIENTS: &str = "/api/v2/oauth/clients";
const ROLES: &str = "/api/v2/authorization/roles";
const DIVISIONS: &str = "/api/v2/authorization/divisions";
const RECIPIENTS: &str = "/api/v2/routing/message/recipients";

fn webhook(name: &str) -> Value {
    json!({
        "name": name,
        "outboundNotificationWebhookUrl": "https://bot.example.com/genesys",
        "outboundNotificationWebhookSignatureSecretToken": "a-very-secret-token-1234",
        "webhookHeaders": {"X-Env": "test"},
    })
}

#[tokio::test]
async fn queues_crud_with_put_replacement() {
    let org = TestOrg::default().await;
    let in_queue = org
        .id_named(
            "/api/v2/flows?type=inqueueshortmessage&name=Default",
            "Default In-Queue Message Flow",
        )
        .await;
    let created = org
        .post(QUEUES, json!({"name": "Support", "description": "first line", "messageInQueueFlow": {"id": in_queue},
            "acwSettings": {"wrapupPrompt": "OPTIONAL", "timeoutMs": 30000}, "skillEvaluationMethod": "BEST"}))
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(created.body["division"]["name"], "Home", "division defaults to Home");
    assert_eq!(created.body["messageInQueueFlow"]["name"], "Default In-Queue Message Flow");
    assert_eq!(created.body["selfUri"], format!("{QUEUES}/{id}"));
    let read = org.get(&format!("{QUEUES}/{id}")).await;
    assert_eq!(read.body, created.body);
    // PUT replaces: fields left out are cleared, server fields are kept.
    let put = org
        .put(&format!("{QUEUES}/{id}"), json!({"name": "Support", "skillEvaluationMethod": "ALL"}))
        .await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    assert!(
        put.body.get("description").is_none() && put.body.get("acwSettings").is_none(),
        "{}",
        put.body
    );
    assert!(put.body.get("messageInQueueFlow").is_none());
    assert_eq!(put.body["skillEvaluationMethod"], "ALL");
    assert_eq!(put.body["dateCreated"], created.body["dateCreated"]);
    assert_eq!(put.body["division"]["id"], created.body["division"]["id"]);
    // Validation and conflicts.
    assert_error(&org.post(QUEUES, json!({"description": "no name"})).await, 400, Some("name"));
    assert_error(&org.post(QUEUES, json!({"name": "support"})).await, 409, None);
    assert_error(
        &org.post(QUEUES, json!({"name": "x", "division": {"id": "nope"}})).await,
        400,
        Some("division.id"),
    );
    assert_error(
        &org.post(QUEUES, json!({"name": "x", "queueFlow": {"id": "nope"}})).await,
        400,
        Some("queueFlow.id"),
    );
    let addresses = json!({"name": "x", "outboundMessagingAddresses": {"openMessagingRecipient": {"id": "nope"}}});
    assert_error(
        &org.post(QUEUES, addresses).await,
        400,
        Some("outboundMessagingAddresses.openMessagingRecipient.id"),
    );
    assert_error(
        &org.post(QUEUES, json!({"name": "x", "scoringMethod": "Random"})).await,
        400,
        Some("scoringMethod"),
    );
    assert_error(
        &org.put(&format!("{QUEUES}/{id}"), json!({"description": "no name"})).await,
        400,
        Some("name"),
    );
    assert_error(&org.put(&format!("{QUEUES}/missing"), json!({"name": "x"})).await, 404, None);
    // sourceQueueId copies settings.
    let copy = org.post(QUEUES, json!({"name": "Copy", "sourceQueueId": id})).await;
    assert_eq!(copy.body["skillEvaluationMethod"], "ALL", "{}", copy.body);
    // Delete, then 404.
    assert_eq!(org.delete(&format!("{QUEUES}/{id}?forceDelete=true")).await.status, 204);
    assert_error(&org.get(&format!("{QUEUES}/{id}")).await, 404, None);
    assert_error(&org.delete(&format!("{QUEUES}/{id}")).await, 404, None);
}

#[tokio::test]
async fn queue_pagination_edges() {
    let generate = Generate { queues: 60, ..Generate::default() };
    let org = TestOrg::start(SandboxConfig { generate, ..SandboxConfig::default() }).await;
    // Empty result.
    let empty = org.get(&format!("{QUEUES}?name=nothing*")).await;
    assert_eq!(empty.body["entities"], json!([]));
    assert_eq!(
        (empty.body["total"].as_u64(), empty.body["pageCount"].as_u64()),
        (Some(0), Some(0))
    );
    assert!(empty.body.get("nextUri").is_none() && empty.body.get("previousUri").is_none());
    // Many pages at the default size.
    let first = org.get(QUEUES).await;
    assert_eq!(first.body["pageSize"], 25);
    assert_eq!(first.body["pageNumber"], 1);
    assert_eq!(first.body["total"], 60);
    assert_eq!(first.body["pageCount"], 3);
    assert_eq!(first.body["entities"][0]["name"], "queue-00001", "sorted by name");
    assert_eq!(first.body["nextUri"], "/api/v2/routing/queues?pageSize=25&pageNumber=2");
    assert_eq!(first.body["lastUri"], "/api/v2/routing/queues?pageSize=25&pageNumber=3");
    assert!(first.body.get("previousUri").is_none());
    let next = first.body["nextUri"].as_str().unwrap();
    let second = org.get(next).await;
    assert_eq!(second.body["entities"][0]["name"], "queue-00026");
    assert_eq!(second.body["previousUri"], "/api/v2/routing/queues?pageSize=25&pageNumber=1");
    let last = org.get(&format!("{QUEUES}?pageNumber=3")).await;
    assert_eq!(last.body["entities"].as_array().unwrap().len(), 10);
    assert!(last.body.get("nextUri").is_none());
    // Exactly one page.
    let one = org.get(&format!("{QUEUES}?pageSize=60")).await;
    assert_eq!(
        (one.body["pageCount"].as_u64(), one.body["entities"].as_array().map(Vec::len)),
        (Some(1), Some(60))
    );
    assert!(one.body.get("nextUri").is_none() && one.body.get("previousUri").is_none());
    // Beyond the last page, the maximum, over the maximum, garbage.
    let beyond = org.get(&format!("{QUEUES}?pageNumber=99")).await;
    assert_eq!(
        (beyond.body["entities"].clone(), beyond.body["total"].as_u64()),
        (json!([]), Some(60))
    );
    let huge = org.get(&format!("{QUEUES}?pageNumber=18446744073709551615")).await;
    assert_eq!(huge.status, 200);
    assert_eq!(org.get(&format!("{QUEUES}?pageSize=500")).await.status, 200);
    assert_error(&org.get(&format!("{QUEUES}?pageSize=501")).await, 400, Some("pageSize"));
    assert_error(&org.get(&format!("{QUEUES}?pageSize=0")).await, 400, Some("pageSize"));
    assert_error(&org.get(&format!("{QUEUES}?pageNumber=0")).await, 400, Some("pageNumber"));
    assert_error(&org.get(&format!("{QUEUES}?pageSize=ten")).await, 400, Some("pageSize"));
    assert_error(&org.get(&format!("{ROLES}?pageSize=101")).await, 400, Some("pageSize"));
    // Filters keep their place in the URIs.
    let filtered = org.get(&format!("{QUEUES}?pageSize=5&name=queue-0001*")).await;
    assert_eq!(filtered.body["total"], 10);
    assert_eq!(
        filtered.body["nextUri"],
        "/api/v2/routing/queues?pageSize=5&pageNumber=2&name=queue-0001*"
    );
}

#[tokio::test]
async fn queue_filters() {
    let org = TestOrg::default().await;
    let ops = org.id_named(DIVISIONS, "Operations").await;
    for (name, division) in [("Sales EU", None), ("Sales US", Some(&ops)), ("Billing", None)] {
        let mut body = json!({"name": name});
        if let Some(division) = division {
            body["division"] = json!({"id": division});
        }
        assert_eq!(org.post(QUEUES, body).await.status, 200);
    }
    let names = |answer: &super::Answer| -> Vec<String> {
        answer.body["entities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&org.get(&format!("{QUEUES}?name=sales*")).await), ["Sales EU", "Sales US"]);
    assert_eq!(names(&org.get(&format!("{QUEUES}?name=*US")).await), ["Sales US"]);
    assert_eq!(names(&org.get(&format!("{QUEUES}?name=*ll*")).await), ["Billing"]);
    assert_eq!(names(&org.get(&format!("{QUEUES}?name=billing")).await), ["Billing"]);
    assert!(names(&org.get(&format!("{QUEUES}?name=bill")).await).is_empty(), "no wildcard: exact");
    assert_eq!(names(&org.get(&format!("{QUEUES}?divisionId={ops}")).await), ["Sales US"]);
    assert_eq!(
        names(&org.get(&format!("{QUEUES}?sortOrder=desc")).await),
        ["Sales US", "Sales EU", "Billing"]
    );
    // Pages of an unfiltered listing, both ways, and their totals.
    let second = org.get(&format!("{QUEUES}?pageSize=2&pageNumber=2")).await;
    assert_eq!(names(&second), ["Sales US"]);
    assert_eq!(
        (second.body["total"].as_u64(), second.body["pageCount"].as_u64()),
        (Some(3), Some(2))
    );
    let first_desc = org.get(&format!("{QUEUES}?pageSize=2&sortOrder=desc")).await;
    assert_eq!(names(&first_desc), ["Sales US", "Sales EU"]);
    let second_desc = org.get(&format!("{QUEUES}?pageSize=2&pageNumber=2&sortOrder=desc")).await;
    assert_eq!(names(&second_desc), ["Billing"]);
    assert!(names(&org.get(&format!("{QUEUES}?pageSize=2&pageNumber=3")).await).is_empty());
}

#[tokio::test]
async fn open_messaging_async_create_recipient_and_write_only_secret() {
    let config =
        SandboxConfig { create_delay: Duration::from_millis(150), ..SandboxConfig::default() };
    let org = TestOrg::start(config).await;
    let created = org.post(OPEN, webhook("Bot A")).await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.body["createStatus"], "Initiated");
    let id = created.body["id"].as_str().unwrap().to_string();
    let recipient = created.body["recipient"]["id"].as_str().unwrap().to_string();
    assert_ne!(id, recipient, "the recipient has its own id");
    assert_eq!(created.body["supportedContent"]["name"], "Default", "org default applied");
    assert_eq!(created.body["messagingSetting"]["name"], "Default");
    assert_eq!(created.body["webhookHeaders"]["X-Env"], "test");
    assert_eq!(org.get(&format!("{OPEN}/{id}")).await.body["createStatus"], "Initiated");
    eventually("createStatus Completed", || async {
        org.get(&format!("{OPEN}/{id}")).await.body["createStatus"] == "Completed"
    })
    .await;
    // The secret token is never returned.
    let listing = org.get(OPEN).await;
    for body in [&created.body, &listing.body] {
        assert!(!body.to_string().contains("a-very-secret-token"), "secret leaked: {body}");
    }
    // The recipient is listed with the integration's name.
    let recipients = org.get(&format!("{RECIPIENTS}?messengerType=open")).await;
    assert_eq!(recipients.body["entities"][0]["id"], recipient.as_str());
    assert_eq!(recipients.body["entities"][0]["name"], "Bot A");
    // PATCH needs a name and changes only what it is given.
    assert_error(
        &org.patch(&format!("{OPEN}/{id}"), json!({"webhookHeaders": {}})).await,
        400,
        Some("name"),
    );
    let patched = org.patch(&format!("{OPEN}/{id}"), json!({"name": "Bot B"})).await;
    assert_eq!(patched.body["name"], "Bot B");
    assert_eq!(patched.body["outboundNotificationWebhookUrl"], "https://bot.example.com/genesys");
    assert_eq!(org.get(&format!("{RECIPIENTS}/{recipient}")).await.body["name"], "Bot B");
    // Validation.
    let mut missing = webhook("Bot C");
    missing.as_object_mut().unwrap().remove("outboundNotificationWebhookSignatureSecretToken");
    assert_error(
        &org.post(OPEN, missing).await,
        400,
        Some("outboundNotificationWebhookSignatureSecretToken"),
    );
    let mut bad_url = webhook("Bot C");
    bad_url["outboundNotificationWebhookUrl"] = json!("not a url");
    assert_error(&org.post(OPEN, bad_url).await, 400, Some("outboundNotificationWebhookUrl"));
    let mut bad_ref = webhook("Bot C");
    bad_ref["supportedContent"] = json!({"id": "nope"});
    assert_error(&org.post(OPEN, bad_ref).await, 400, Some("supportedContent.id"));
    assert_error(&org.post(OPEN, webhook("bot b")).await, 409, None);
    // Delete removes the recipient too.
    assert_eq!(org.delete(&format!("{OPEN}/{id}")).await.status, 204);
    assert_error(&org.get(&format!("{OPEN}/{id}")).await, 404, None);
    assert_error(&org.get(&format!("{RECIPIENTS}/{recipient}")).await, 404, None);
}

#[tokio::test]
async fn open_messaging_create_error_hook() {
    let org = TestOrg::default().await;
    let created = org.post(OPEN, webhook("sandbox-create-error: broken")).await;
    assert_eq!(created.body["createStatus"], "Initiated");
    let id = created.body["id"].as_str().unwrap();
    let read = org.get(&format!("{OPEN}/{id}")).await;
    assert_eq!(read.body["createStatus"], "Error");
    assert!(read.body["createError"]["message"].is_string(), "{}", read.body);
    let listed = org
        .get(&format!(
            "{OPEN}?supportedContent.id={}",
            created.body["supportedContent"]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(listed.body["total"], 1);
}

#[tokio::test]
async fn supported_content_and_messaging_settings() {
    let org = TestOrg::default().await;
    let default = org.get(&format!("{CONTENT}/default")).await;
    assert_eq!(default.body["name"], "Default");
    assert_eq!(default.body["mediaTypes"]["allow"]["inbound"][0]["type"], "*/*");
    let created = org
        .post(
            CONTENT,
            json!({"name": "Images", "mediaTypes": {"allow": {"inbound": [{"type": "image/*"}]}}}),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.body["version"], 1);
    let id = created.body["id"].as_str().unwrap().to_string();
    let patched = org
        .patch(
            &format!("{CONTENT}/{id}"),
            json!({"name": "Images", "mediaTypes": {"allow": {"outbound": [{"type": "video/mpeg"}]}}}),
        )
        .await;
    assert_eq!(patched.body["version"], 2);
    assert_eq!(patched.body["name"], "Images");
    assert_eq!(patched.body["mediaTypes"]["allow"]["outbound"][0]["type"], "video/mpeg");
    let bad = org
        .post(CONTENT, json!({"name": "Bad", "mediaTypes": {"allow": {"inbound": [{"type": 3}]}}}))
        .await;
    assert_error(&bad, 400, Some("mediaTypes.allow.inbound[0].type"));
    assert_error(&org.post(CONTENT, json!({"name": "images"})).await, 409, None);
    let list = org.get(CONTENT).await;
    assert_eq!(list.body["total"], 2);
    // Default switch, and the default cannot be deleted.
    assert_eq!(
        org.put(&format!("{CONTENT}/default"), json!({"id": id})).await.body["id"],
        id.as_str()
    );
    assert_eq!(org.get(&format!("{CONTENT}/default")).await.body["name"], "Images");
    assert_error(
        &org.put(&format!("{CONTENT}/default"), json!({"id": "nope"})).await,
        400,
        Some("id"),
    );
    assert_error(&org.delete(&format!("{CONTENT}/{id}")).await, 409, None);
    let old = default.body["id"].as_str().unwrap();
    assert_eq!(org.delete(&format!("{CONTENT}/{old}")).await.status, 204);
    assert_error(&org.get(&format!("{CONTENT}/{old}")).await, 404, None);
    // Messaging settings.
    let settings = org.get(SETTINGS).await;
    assert_eq!(settings.body["entities"][0]["name"], "Default");
    let setting = settings.body["entities"][0]["id"].as_str().unwrap();
    assert_eq!(org.get(&format!("{SETTINGS}/{setting}")).await.body["name"], "Default");
    assert_eq!(org.get(&format!("{SETTINGS}/default")).await.body["id"], setting);
    assert_error(&org.get(&format!("{SETTINGS}/nope")).await, 404, None);
}

#[tokio::test]
async fn oauth_clients_secrets_grants_and_unpaged_list() {
    let org = TestOrg::default().await;
    let base = org.sandbox.base_url();
    let role = org.id_named(&format!("{ROLES}?name=developer"), "Developer").await;
    let home = org.get(&format!("{DIVISIONS}/home")).await.body["id"].as_str().unwrap().to_string();
    org.grant_admin_client(&role, &home).await;
    let body = json!({"name": "CI bot", "authorizedGrantType": "CLIENT-CREDENTIALS",
        "accessTokenValiditySeconds": 600, "description": "d",
        "roleDivisions": [{"roleId": role, "divisionId": home}]});
    let created = org.post(CLIENTS, body.clone()).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    let secret = created.body["secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 43);
    assert!(
        org.get(&format!("{CLIENTS}/{id}")).await.body.get("secret").is_none(),
        "GET never returns the secret"
    );
    // The returned secret really works, with the client's token lifetime.
    let token = mint(&org.http, &base, &id, &secret).await.expect("created client can mint");
    assert!(!token.is_empty());
    // PUT replaces and never returns the secret.
    let put = org
        .put(
            &format!("{CLIENTS}/{id}"),
            json!({"name": "CI bot", "authorizedGrantType": "CLIENT-CREDENTIALS",
                "roleDivisions": [{"roleId": role, "divisionId": home}]}),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert!(put.body.get("secret").is_none() && put.body.get("description").is_none());
    assert_eq!(put.body["roleDivisions"], json!([{"roleId": role, "divisionId": home}]));
    assert_eq!(put.body["accessTokenValiditySeconds"], 86_400);
    // Regenerate: old secret stops working.
    let regenerated = org.post(&format!("{CLIENTS}/{id}/secret"), json!({})).await;
    let new_secret = regenerated.body["secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    assert!(mint(&org.http, &base, &id, &secret).await.is_err());
    assert!(mint(&org.http, &base, &id, new_secret).await.is_ok());
    // Validation.
    let mut bad = body.clone();
    bad["roleDivisions"][0]["roleId"] = json!("nope");
    assert_error(&org.post(CLIENTS, bad).await, 400, Some("roleDivisions[0].roleId"));
    let mut bad = body.clone();
    bad["roleDivisions"][0]["divisionId"] = json!("nope");
    assert_error(&org.post(CLIENTS, bad).await, 400, Some("roleDivisions[0].divisionId"));
    let mut bad = body.clone();
    bad["accessTokenValiditySeconds"] = json!(299);
    assert_error(&org.post(CLIENTS, bad).await, 400, Some("accessTokenValiditySeconds"));
    let mut bad = body.clone();
    bad["authorizedGrantType"] = json!("MAGIC");
    assert_error(&org.post(CLIENTS, bad).await, 400, Some("authorizedGrantType"));
    // The list is unpaged: paging parameters are ignored.
    let list = org.get(&format!("{CLIENTS}?pageSize=1")).await;
    assert_eq!(list.body["pageCount"], 1);
    assert_eq!(list.body["total"], 2);
    assert_eq!(list.body["entities"].as_array().unwrap().len(), 2);
    assert!(list.body.get("nextUri").is_none());
    assert!(!list.body.to_string().contains(new_secret));
    // The admin client cannot be deleted; others once inactive.
    let admin = org.sandbox.client_id().to_string();
    assert_error(&org.delete(&format!("{CLIENTS}/{admin}")).await, 409, None);
    let mut inactive = body.clone();
    inactive["state"] = json!("inactive");
    assert_eq!(org.put(&format!("{CLIENTS}/{id}"), inactive).await.status, 200);
    assert_eq!(org.delete(&format!("{CLIENTS}/{id}")).await.status, 204);
    assert!(mint(&org.http, &base, &id, new_secret).await.is_err());
}

#[tokio::test]
async fn roles_and_divisions() {
    let org = TestOrg::default().await;
    let all = org.get(ROLES).await;
    assert_eq!(all.body["total"], 4);
    let found = org.get(&format!("{ROLES}?name=ADMIN")).await;
    let names: Vec<&str> = found.body["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "Master Admin"]);
    let master = &found.body["entities"][1];
    assert_eq!(master["default"], true);
    assert!(master["defaultRoleId"].is_string());
    let created = org
        .post(ROLES, json!({"name": "Bot operator", "description": "d", "permissions": ["routing:queue:view"]}))
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    let put = org.put(&format!("{ROLES}/{id}"), json!({"name": "Bot operator"})).await;
    assert!(put.body.get("description").is_none());
    assert_eq!(put.body["permissions"], json!([]), "PUT replaces");
    assert_eq!(put.body["default"], false);
    assert_error(&org.post(ROLES, json!({"name": "bot operator"})).await, 409, None);
    assert_error(&org.post(ROLES, json!({})).await, 400, Some("name"));
    // A role granted to an OAuth client or a user cannot be deleted; built-ins neither.
    let home = org.get(&format!("{DIVISIONS}/home")).await.body["id"].as_str().unwrap().to_string();
    org.grant_admin_client(&id, &home).await;
    let grant = json!({"roleId": id, "divisionId": home});
    let client = org
        .post(
            CLIENTS,
            json!({"name": "c", "authorizedGrantType": "CLIENT-CREDENTIALS", "roleDivisions": [grant]}),
        )
        .await;
    assert_error(&org.delete(&format!("{ROLES}/{id}")).await, 409, None);
    let client_id = client.body["id"].as_str().unwrap();
    let inactive = json!({"name": "c", "authorizedGrantType": "CLIENT-CREDENTIALS",
        "roleDivisions": [grant], "state": "inactive"});
    assert_eq!(org.put(&format!("{CLIENTS}/{client_id}"), inactive).await.status, 200);
    assert_eq!(org.delete(&format!("{CLIENTS}/{client_id}")).await.status, 204);
    let subjects = "/api/v2/authorization/subjects";
    let admin = org.sandbox.client_id();
    let revoke =
        format!("{subjects}/{admin}/divisions/{home}/roles/{id}?subjectType=PC_OAUTH_CLIENT");
    assert_eq!(org.delete(&revoke).await.status, 204);
    let conflict = org.delete(&format!("{ROLES}/{id}")).await;
    assert_error(&conflict, 409, None);
    assert!(
        conflict.body["message"].as_str().unwrap().contains("Sandbox Admin"),
        "{}",
        conflict.body
    );
    let user = org.sandbox.user_id();
    assert_eq!(
        org.delete(&format!("{subjects}/{user}/divisions/{home}/roles/{id}")).await.status,
        204
    );
    assert_eq!(org.delete(&format!("{ROLES}/{id}")).await.status, 204);
    let master_id = master["id"].as_str().unwrap();
    assert_error(&org.delete(&format!("{ROLES}/{master_id}")).await, 400, None);
    assert_eq!(org.get(&format!("{ROLES}/{master_id}")).await.body["name"], "Master Admin");
    // Divisions.
    let divisions = org.get(DIVISIONS).await;
    assert_eq!(divisions.body["total"], 2);
    let home_division = org.get(&format!("{DIVISIONS}/home")).await;
    assert_eq!(
        (home_division.body["name"].as_str(), home_division.body["homeDivision"].as_bool()),
        (Some("Home"), Some(true))
    );
    assert_eq!(
        org.get(&format!("{DIVISIONS}?name=oper")).await.body["entities"][0]["name"],
        "Operations"
    );
    assert_eq!(org.get(&format!("{DIVISIONS}/{home}")).await.body["name"], "Home");
    assert_error(&org.get(&format!("{DIVISIONS}/nope")).await, 404, None);
}

#[tokio::test]
async fn flows_and_message_recipients() {
    let org = TestOrg::default().await;
    let inbound = org.get("/api/v2/flows?type=inboundshortmessage&pageSize=500").await;
    assert_eq!(inbound.body["total"], 5);
    assert!(
        inbound.body["entities"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["type"] == "INBOUNDSHORTMESSAGE")
    );
    let support = org.get("/api/v2/flows?name=Support").await;
    assert_eq!(support.body["total"], 2, "names repeat across types");
    assert_eq!(org.get("/api/v2/flows?pageSize=500").await.body["total"], 8);
    assert_error(&org.get("/api/v2/flows?type=INBOUNDSHORTMESSAGE").await, 400, Some("type"));
    assert_error(&org.get("/api/v2/flows?pageSize=501").await, 400, Some("pageSize"));
    let flow = org.id_named("/api/v2/flows?name=Bot%20Handover", "Bot Handover Inbound").await;
    assert_eq!(org.get(&format!("/api/v2/flows/{flow}")).await.body["type"], "INBOUNDSHORTMESSAGE");
    let in_queue =
        org.id_named("/api/v2/flows?type=inqueuecall", "Default In-Queue Call Flow").await;
    // Attach, reject, detach.
    let integration = org.post(OPEN, webhook("Routed")).await;
    let recipient = integration.body["recipient"]["id"].as_str().unwrap().to_string();
    let path = format!("{RECIPIENTS}/{recipient}");
    let attached = org.put(&path, json!({"flow": {"id": flow}})).await;
    assert_eq!(attached.status, 200, "{}", attached.body);
    assert_eq!(attached.body["flow"]["name"], "Bot Handover Inbound");
    assert_eq!(org.get(&path).await.body["flow"]["id"], flow.as_str());
    assert_error(&org.put(&path, json!({"flow": {"id": "nope"}})).await, 400, Some("flow.id"));
    assert_error(&org.put(&path, json!({"flow": {"id": in_queue}})).await, 400, Some("flow.id"));
    assert_error(&org.put(&path, json!({"flow": {}})).await, 400, Some("flow.id"));
    let detached = org.put(&path, json!({"flow": null})).await;
    assert!(detached.body.get("flow").is_none());
    assert_eq!(org.get(&format!("{RECIPIENTS}?name=rout")).await.body["total"], 1);
    assert_error(&org.put(&format!("{RECIPIENTS}/nope"), json!({})).await, 404, None);
}

/// Teams and skill groups: seeded, read-only, cursor-paged with a name
/// prefix; bad paging parameters are 400; queues take them as member groups
/// of their type only.
#[tokio::test]
async fn teams_and_skill_groups_are_cursor_listings_and_member_groups() {
    let org = TestOrg::default().await;
    for (path, name) in
        [("/api/v2/teams", "Sandbox Team"), ("/api/v2/routing/skillgroups", "Sandbox Skill Group")]
    {
        let page = org.get(&format!("{path}?pageSize=1&name=SANDBOX")).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        assert_eq!(page.body["entities"][0]["name"], name, "{}", page.body);
        assert_eq!(page.body["entities"][0]["memberCount"], 1, "{}", page.body);
        assert!(
            page.body.get("nextUri").is_none() && page.body.get("total").is_none(),
            "{}",
            page.body
        );
        let none = org.get(&format!("{path}?name=nobody")).await.body;
        assert_eq!(none["entities"], json!([]), "{none}");
        // A cursor the server never issued (past the end, or huge) is refused.
        let past = org.get(&format!("{path}?after=c18446744073709551615")).await;
        assert_error(&past, 400, Some("after"));
        assert_error(&org.get(&format!("{path}?pageSize=0")).await, 400, Some("pageSize"));
        assert_error(&org.get(&format!("{path}?after=x")).await, 400, Some("after"));
        let id = page.body["entities"][0]["id"].as_str().unwrap().to_string();
        assert_eq!(org.get(&format!("{path}/{id}")).await.body["name"], name);
        assert_eq!(org.get(&format!("{path}/nope")).await.status, 404);
    }
    let team = org.get("/api/v2/teams").await.body["entities"][0]["id"].clone();
    // A team's id under the GROUP type does not name a group.
    let wrong = org
        .post(QUEUES, json!({"name": "Typed", "memberGroups": [{"id": team, "type": "GROUP"}]}))
        .await;
    assert_error(&wrong, 400, Some("memberGroups[0].id"));
    let right = org
        .post(QUEUES, json!({"name": "Typed", "memberGroups": [{"id": team, "type": "TEAM"}]}))
        .await;
    assert_eq!(right.status, 200, "{:?}", right.body);
    assert_eq!(right.body["memberGroups"][0]["name"], "Sandbox Team", "{}", right.body);
    assert_eq!(right.body["memberCount"], 1, "{}", right.body);
}

/// The sandbox answers a queue page asked for again from the bytes it wrote
/// (`sandbox::pages`) until anything is written: a write to the queues, and
/// one to another resource the page shows (a member, counted on the queue).
/// Debug builds (the tests) also render every such page again and compare.
#[tokio::test]
async fn queue_pages_follow_every_write() {
    let generate = Generate { queues: 3, ..Generate::default() };
    let org = TestOrg::start(SandboxConfig { generate, ..SandboxConfig::default() }).await;
    let page = format!("{QUEUES}?pageSize=2");
    let first = org.get(&page).await;
    assert_eq!(org.get(&page).await.body, first.body);
    // Another query is another page.
    let other = org.get(&format!("{QUEUES}?pageSize=2&pageNumber=2")).await;
    assert_eq!(other.body["entities"][0]["name"], "queue-00003");
    let queue = first.body["entities"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(first.body["entities"][0]["memberCount"], 0);
    let search = json!({"query": [{"type": "EXACT", "fields": ["email"],
        "values": ["alice@sandbox.gcctl.example"]}]});
    let alice = org.post("/api/v2/users/search", search).await.body["results"][0]["id"].clone();
    let added = org.post(&format!("{QUEUES}/{queue}/members"), json!([{"id": alice}])).await;
    assert!(added.status < 300, "{:?}", added.body);
    eventually("the page counts the new member", || async {
        org.get(&page).await.body["entities"][0]["memberCount"] == 1
    })
    .await;
    let renamed = org.put(&format!("{QUEUES}/{queue}"), json!({"name": "queue-00000"})).await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    assert_eq!(org.get(&page).await.body["entities"][0]["name"], "queue-00000");
}
