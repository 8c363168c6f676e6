//! The examples against an org: all creates on an empty org; no changes once
//! the same objects exist (made through the API, not gcctl); exactly the
//! changed field, before and after, once one is edited behind our back.
//! Each example is a manifest set of its own (it may have its own Project):
//! each is planned on its own, and the snapshots hold every plan in turn.

use serde_json::{Value, json};

use super::{PlanOrg, actions, code, json_of, role_body, settings};
use std::process::Output;

use crate::common::{TestContext, example_dirs, repo_root};

const ROLES: &str = "/api/v2/authorization/roles";
const CONTENT: &str = "/api/v2/conversations/messaging/supportedcontent";
const OPEN: &str = "/api/v2/conversations/messaging/integrations/open";
const QUEUES: &str = "/api/v2/routing/queues";
const CLIENTS: &str = "/api/v2/oauth/clients";

/// Every example, as a path.
fn examples() -> Vec<String> {
    example_dirs().iter().map(|d| repo_root().join(d).display().to_string()).collect()
}

/// `gcctl ARGS EXAMPLE` for every example, rendered one after another
/// under a heading naming the example; and every run's exit code.
async fn each(org: &PlanOrg, args: &[&str]) -> (String, Vec<Option<i32>>) {
    let mut text = String::new();
    let mut codes = Vec::new();
    for (dir, path) in example_dirs().iter().zip(examples()) {
        let out = org.gcctl(&[&args[..1], &[path.as_str()], &args[1..]].concat()).await;
        codes.push(code(&out));
        text.push_str(&format!("=== {dir}\n{}", org.render(&out)));
    }
    (text, codes)
}

/// The JSON plans of every example.
async fn each_json(org: &PlanOrg) -> Vec<Value> {
    let mut plans = Vec::new();
    for path in examples() {
        plans.push(json_of(&org.gcctl(&["plan", &path, "--output", "json"]).await));
    }
    plans
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn examples_on_an_empty_org_are_all_creates() {
    let org = PlanOrg::default().await;
    let (text, _) = each(&org, &["plan", "--detailed-exitcode"]).await;
    settings().bind(|| insta::assert_snapshot!("examples_empty_org_text", text));
    let (markdown, _) = each(&org, &["plan", "--output", "markdown"]).await;
    settings().bind(|| insta::assert_snapshot!("examples_empty_org_markdown", markdown));
    let plans = each_json(&org).await;
    let total = |key: &str| plans.iter().map(|p| p["summary"][key].as_u64().unwrap()).sum::<u64>();
    // Four roles are granted to the caller (the sandbox's admin user) first,
    // so that it may grant them to the new OAuth clients.
    assert_eq!(
        [total("create"), total("update"), total("delete"), total("no_op")],
        [25, 6, 0, 0],
        "{plans:?}"
    );
    let actions: Vec<(String, String)> = plans.iter().flat_map(actions).collect();
    let profiles = ["UserRoutingProfile/alice", "UserRoutingProfile/bob"];
    assert!(
        actions.iter().all(|(action, address)| action == "create"
            || action == "grant"
            || (action == "update" && profiles.contains(&address.as_str()))),
        "{plans:?}"
    );
    assert_eq!(actions.iter().filter(|(action, _)| action == "grant").count(), 4, "{plans:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn examples_created_through_the_api_plan_clean_then_show_one_edit() {
    let org = PlanOrg::default().await;
    let ids = create_examples(&org).await;
    let (text, codes) = each(&org, &["plan", "--detailed-exitcode"]).await;
    assert!(codes.iter().all(|c| *c == Some(0)), "{text}");
    settings().bind(|| insta::assert_snapshot!("examples_clean_text", text));

    // An admin raises the alerting timeout of one queue in the UI (a PUT of the whole queue).
    let path = format!("{QUEUES}/{}", ids.guest_queue);
    let mut queue = org.org.get(&path).await.body;
    queue["mediaSettings"]["message"]["alertingTimeoutSeconds"] = json!(45);
    // `selfUri` is read-only: a write sends references as `{id}`.
    gcctl::kinds::org::id_references(&mut queue, &["type"]);
    assert_eq!(org.org.put(&path, queue).await.status, 200);

    let (text, codes) = each(&org, &["plan", "--detailed-exitcode"]).await;
    assert_eq!(codes.iter().filter(|c| **c == Some(2)).count(), 1, "{text}");
    settings().bind(|| insta::assert_snapshot!("examples_one_edit_text", text));
    let (markdown, _) = each(&org, &["plan", "--output", "markdown"]).await;
    settings().bind(|| insta::assert_snapshot!("examples_one_edit_markdown", markdown));
    let plans = each_json(&org).await;
    let actions: Vec<(String, String)> = plans.iter().flat_map(actions).collect();
    assert_eq!(actions, [("update".to_string(), "RoutingQueue/guest-messaging".to_string())]);
    let change = plans
        .iter()
        .flat_map(|p| p["changes"].as_array().unwrap().clone())
        .find(|c| c["action"] == "update");
    assert_eq!(
        change.unwrap()["fields"],
        json!([{
            "pointer": "/mediaSettings/message/alertingTimeoutSeconds",
            "before": 45, "after": 20, "sensitive": false
        }])
    );
}

/// Ids the edit step needs.
struct Ids {
    guest_queue: String,
}

/// Create every example object with the Genesys API JSON an admin's UI sends.
async fn create_examples(org: &PlanOrg) -> Ids {
    let home = org.home().await;
    create_roles(org).await;
    let codes = create_routing(org, &home).await;
    let content = org
        .create(
            CONTENT,
            json!({"name": "Cognigy Content", "mediaTypes": {"allow": {
                "inbound": [{"type": "*/*"}],
                // The UI lists them in another order than the manifest.
                "outbound": [{"type": "video/mpeg"}, {"type": "image/*"}],
            }}}),
        )
        .await;
    // Made in the admin UI as a "platform config" (its version is the server's).
    let settings = org
        .create(
            "/api/v2/conversations/messaging/settings",
            json!({"name": "Cognigy Settings",
                "event": {"typing": {"on": {"inbound": "Enabled", "outbound": "Enabled"}}}}),
        )
        .await;
    let mut cognigy = json!({
        "name": "Cognigy Handover",
        "supportedContent": {"id": content["id"]},
        "messagingSetting": {"id": settings["id"]},
        "outboundNotificationWebhookUrl": "https://endpoint-trial.cognigy.ai/genesys/open-messaging",
        "webhookHeaders": {},
    });
    cognigy["outboundNotificationWebhookSignatureSecretToken"] =
        json!("a-signature-secret-of-32-chars!!");
    let cognigy = org.create(OPEN, cognigy).await;
    let setting = org.org.id_named("/api/v2/conversations/messaging/settings", "Default").await;
    let external = org
        .create(
            OPEN,
            json!({
                "name": "External Bot Sync",
                "messagingSetting": {"id": setting},
                "outboundNotificationWebhookUrl": "https://bot-engine.staging.example.net/v1/genesys/events",
                "outboundNotificationWebhookSignatureSecretToken": "a-signature-secret-of-32-chars!!",
                "webhookHeaders": {"X-Bot-Engine-Tenant": "acme"},
            }),
        )
        .await;
    org.create(
        QUEUES,
        json!({"name": "External Bot Escalations", "division": {"id": home},
            "mediaSettings": {"message": {"alertingTimeoutSeconds": 30}}}),
    )
    .await;
    let flow = publish_example_flow(org, "external-bot-sync").await;
    route(org, &external, &flow).await;
    let group = org.org.id_named("/api/v2/groups", "Sandbox Agents").await;
    let handover = org
        .create(
            QUEUES,
            json!({
                "name": "Cognigy Handover Queue",
                "division": {"id": home},
                "mediaSettings": {"message": {"alertingTimeoutSeconds": 30,
                    "serviceLevel": {"percentage": 0.8, "durationMs": 30000}}},
                "outboundMessagingAddresses": {"openMessagingRecipient": {"id": cognigy["recipient"]["id"]}},
                "memberGroups": [{"id": group, "type": "GROUP"}],
            }),
        )
        .await;
    add_members(org, handover["id"].as_str().unwrap(), &codes).await;
    // The example's flow transfers to that queue; the integration routes to it.
    let flow = publish_example_flow(org, "bot-handover-cognigy").await;
    route(org, &cognigy, &flow).await;
    let support = org.flow("Support", "INQUEUESHORTMESSAGE").await;
    let guest = org
        .create(
            QUEUES,
            json!({
                "name": "Guest Messaging",
                "description": "Conversations from the headless guest messaging front end",
                "mediaSettings": {"message": {"enableAutoAnswer": false, "alertingTimeoutSeconds": 20,
                    "serviceLevel": {"percentage": 0.9, "durationMs": 15000}}},
                "bullseye": {"rings": [
                    {"expansionCriteria": [{"type": "TIMEOUT_SECONDS", "threshold": 15}]},
                    {"expansionCriteria": [{"type": "TIMEOUT_SECONDS", "threshold": 30}]},
                    {},
                ]},
                "acwSettings": {"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 30000},
                "messageInQueueFlow": {"id": support},
            }),
        )
        .await;
    create_web_messaging(org).await;
    create_clients(org, &home).await;
    Ids { guest_queue: guest["id"].as_str().unwrap().to_string() }
}

/// The web messaging examples' configurations and deployments, as a
/// previous gcctl run made them (each published version carries gcctl's
/// marker in its description: one without is drift, published outside
/// gcctl), and the headless example's flow.
async fn create_web_messaging(org: &PlanOrg) {
    const CONFIGS: &str = "/api/v2/webdeployments/configurations";
    let headless = org
        .create(
            CONFIGS,
            json!({
                "name": "Guest Messaging Headless",
                "description": "Messenger in headless mode for the custom guest chat front end [gcctl version 1]",
                "languages": ["en-us"], "defaultLanguage": "en-us",
                "headlessMode": {"enabled": true},
                "messenger": {"enabled": true,
                    "fileUpload": {"modes": [{"fileTypes": ["image/jpeg", "image/png"], "maxFileSizeKB": 10240}]},
                    "apps": {"conversations": {"enabled": true, "showAgentTypingIndicator": true,
                        "showUserTypingIndicator": true, "markdown": {"enabled": true}}}},
            }),
        )
        .await;
    let site = org
        .create(
            CONFIGS,
            json!({
                "name": "Site Messenger",
                "description": "Messenger of the public site, sessions persisted across subdomains [gcctl version 1]",
                // The UI lists them in another order than the manifest.
                "languages": ["de-de", "en-us"], "defaultLanguage": "en-us",
                "messenger": {"enabled": true, "sessionPersistenceType": "AcrossSubdomains",
                    "launcherButton": {"visibility": "On"}, "homeScreen": {"enabled": false},
                    "apps": {"conversations": {"enabled": true, "sessionDurationSeconds": 1800,
                        "autoStart": {"enabled": true},
                        "conversationDisconnect": {"enabled": true, "type": "Send"},
                        "conversationClear": {"enabled": true}}}},
                "position": {"alignment": "Right", "sideSpace": 20, "bottomSpace": 20},
            }),
        )
        .await;
    for config in [&headless, &site] {
        let path = format!("{CONFIGS}/{}/versions/draft/publish", config["id"].as_str().unwrap());
        let published = org.org.post(&path, json!({})).await;
        assert_eq!(published.status, 200, "{:?}", published.body);
    }
    let router = publish_example_flow(org, "headless-guest-messaging").await;
    let session = org.flow("Session Persistence Inbound", "INBOUNDSHORTMESSAGE").await;
    let deployments = [
        json!({"name": "Guest Messaging Headless", "description": "The deployment the guest chat front end loads",
            "configuration": {"id": headless["id"], "version": "1"}, "flow": {"id": router},
            "allowedDomains": ["chat.dev.example.com"]}),
        json!({"name": "Site Messenger", "configuration": {"id": site["id"], "version": "1"},
            "flow": {"id": session}, "allowedDomains": ["*.dev.example.org", "www.dev.example.org"]}),
    ];
    for deployment in deployments {
        org.create("/api/v2/webdeployments/deployments", deployment).await;
    }
}

/// The wrap-up codes, skill and language of the bot hand-over example;
/// returns the codes' ids.
async fn create_routing(org: &PlanOrg, home: &str) -> Vec<String> {
    let path = "/api/v2/routing/wrapupcodes";
    let resolved = org
        .create(
            path,
            json!({"name": "Bot Handover - Resolved",
                "description": "The agent answered what the bot could not"}),
        )
        .await;
    let escalated = org
        .create(
            path,
            json!({"name": "Bot Handover - Escalated",
                "description": "Passed on to second-level support", "division": {"id": home}}),
        )
        .await;
    let skill = org
        .create("/api/v2/routing/skills", json!({"name": "Bot Handover", "divisionId": home}))
        .await;
    let language = org.create("/api/v2/routing/languages", json!({"name": "English"})).await;
    // The agents hold them (Alice 5 and 5, Bob 3 and 4).
    for (email, skill_level, language_level) in [("alice", 5, 5), ("bob", 3, 4)] {
        let user = user_id(org, email).await;
        let body = json!([{"id": skill["id"], "proficiency": skill_level}]);
        let path = format!("/api/v2/users/{user}/routingskills/bulk");
        assert_eq!(org.org.patch(&path, body).await.status, 200);
        let body = json!([{"id": language["id"], "proficiency": language_level}]);
        let path = format!("/api/v2/users/{user}/routinglanguages/bulk");
        assert_eq!(org.org.patch(&path, body).await.status, 200);
    }
    [resolved, escalated].iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
}

/// The id of a seeded agent (`alice` for `alice@sandbox.gcctl.example`).
async fn user_id(org: &PlanOrg, name: &str) -> String {
    let email = format!("{name}@sandbox.gcctl.example");
    let search = json!({"query": [{"type": "EXACT", "fields": ["email"], "value": email}]});
    let found = org.org.post("/api/v2/users/search", search).await.body;
    found["results"][0]["id"].as_str().unwrap().to_string()
}

/// The hand-over queue's agents (Bob in ring 2) and wrap-up codes, as an
/// admin adds them in the UI.
async fn add_members(org: &PlanOrg, queue: &str, codes: &[String]) {
    let ids = [user_id(org, "alice").await, user_id(org, "bob").await];
    let members = format!("{QUEUES}/{queue}/members");
    let body = json!([{"id": ids[0]}, {"id": ids[1]}]);
    assert_eq!(org.org.post(&members, body).await.status, 204);
    let ring = json!({"id": ids[1], "ringNumber": 2});
    assert_eq!(org.org.patch(&format!("{members}/{}", ids[1]), ring).await.status, 204);
    let body: Vec<Value> = codes.iter().map(|id| json!({"id": id})).collect();
    let answer = org.org.post(&format!("{QUEUES}/{queue}/wrapupcodes"), Value::Array(body)).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
}

async fn create_roles(org: &PlanOrg) {
    let roles = [
        role_body(
            "Cognigy Handover",
            Some("What a bot platform needs to hand conversations over to agents"),
            &[
                ("messaging", "integration", &["view"]),
                ("conversation", "message", &["receive", "create", "view"]),
                ("conversation", "webmessaging", &["view"]),
                ("analytics", "conversationDetail", &["view"]),
            ],
        ),
        role_body(
            "Guest Messaging Backend",
            None,
            &[
                ("routing", "queue", &["view"]),
                ("conversation", "message", &["view"]),
                ("conversation", "webmessaging", &["view"]),
            ],
        ),
        role_body(
            "Message Injector",
            Some("Create and read conversation messages"),
            &[("conversation", "message", &["view", "create"])],
        ),
    ];
    for role in roles {
        org.create(ROLES, role).await;
    }
}

/// Publish an example's flow through the import job API as a previous
/// gcctl run would have (the declared text, gcctl's marker in the
/// description, the manifest's division added); returns its id.
async fn publish_example_flow(org: &PlanOrg, example: &str) -> String {
    use gcctl::kinds::flow::{FlowSpec, archy};
    let set = gcctl::manifest::load(
        &[repo_root().join("examples").join(example)],
        &gcctl::manifest::LoadOptions::default(),
    )
    .expect("the example loads");
    let object = set.of_kind(gcctl::kinds::Kind::Flow).next().expect("a flow");
    let spec = object.spec.as_any().downcast_ref::<FlowSpec>().expect("a flow spec");
    let source = spec.source.as_ref().expect("its definition");
    let marker = archy::marker(&archy::digest(&source.text), chrono::Utc::now().timestamp());
    let upload =
        archy::prepare_upload(&source.text, &source.inspection, &marker, spec.division.as_deref());
    let job = org.create("/api/v2/flows/jobs", json!({})).await;
    let mut put = org.org.http.put(job["presignedUrl"].as_str().unwrap()).body(upload.text);
    for (name, value) in job["headers"].as_object().unwrap() {
        put = put.header(name, value.as_str().unwrap());
    }
    assert_eq!(put.send().await.unwrap().status(), 200);
    let state = org
        .org
        .get(&format!("/api/v2/flows/jobs/{}?expand=messages", job["id"].as_str().unwrap()))
        .await;
    assert_eq!(state.body["status"], "Success", "{:?}", state.body);
    state.body["flow"]["id"].as_str().unwrap().to_string()
}

/// Route an integration's address to a flow.
async fn route(org: &PlanOrg, integration: &Value, flow: &str) {
    let recipient = integration["recipient"]["id"].as_str().unwrap();
    let routed = org
        .org
        .put(
            &format!("/api/v2/routing/message/recipients/{recipient}"),
            json!({"flow": {"id": flow}}),
        )
        .await;
    assert_eq!(routed.status, 200, "{:?}", routed.body);
}

async fn create_clients(org: &PlanOrg, home: &str) {
    // The org lets a caller grant only roles it holds: the admin user grants
    // each role to itself and to the admin client that makes the clients.
    let role = |name: &str| {
        let name = name.to_string();
        async move {
            let id = org.org.id_named(&format!("{ROLES}?pageSize=100"), &name).await;
            org.org.grant_admin_client(&id, home).await;
            id
        }
    };
    let grant = |role: String| json!([{"roleId": role, "divisionId": home}]);
    let clients = [
        json!({"name": "Cognigy Connector", "description": "Cognigy's machine-to-machine access to Genesys Cloud",
               "authorizedGrantType": "CLIENT-CREDENTIALS", "roleDivisions": grant(role("Cognigy Handover").await)}),
        json!({"name": "Bot Message Injector", "authorizedGrantType": "CLIENT-CREDENTIALS",
               "accessTokenValiditySeconds": 7200, "roleDivisions": grant(role("Message Injector").await)}),
        json!({"name": "Guest Messaging Backend", "authorizedGrantType": "CLIENT-CREDENTIALS",
               "accessTokenValiditySeconds": 3600, "roleDivisions": grant(role("Guest Messaging Backend").await)}),
        json!({"name": "Session State Store", "authorizedGrantType": "CLIENT-CREDENTIALS",
               "roleDivisions": grant(role("employee").await)}),
    ];
    for client in clients {
        org.create(CLIENTS, client).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adoption_keeps_the_webhook_secret_until_rotated() {
    // An integration made in the UI has a secret gcctl cannot see. Adopting it
    // keeps that secret (it counts as version 1); bumping the manifest's
    // signatureSecretVersion sends the declared one, shown without its value.
    let org = PlanOrg::default().await;
    let created = org
        .create(
            OPEN,
            json!({
                "name": "Session Persistence",
                "outboundNotificationWebhookUrl": "https://sessions.example.org/genesys/messages",
                "outboundNotificationWebhookSignatureSecretToken": "a-signature-secret-of-32-chars!!",
                "webhookHeaders": {"X-Session-Store-Route": "primary"},
            }),
        )
        .await;
    let flow = org.flow("Session Persistence Inbound", "INBOUNDSHORTMESSAGE").await;
    let recipient = created["recipient"]["id"].as_str().unwrap();
    let path = format!("/api/v2/routing/message/recipients/{recipient}");
    assert_eq!(org.org.put(&path, json!({"flow": {"id": flow}})).await.status, 200);
    let text = ADOPTED;
    let integration_of = |out: &Output| {
        json_of(out)["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == "OpenMessagingIntegration")
            .unwrap()
            .clone()
    };
    let ctx = TestContext::new();
    let adopted = ctx.write("adopt/session.yaml", text);
    let out = org.gcctl(&["plan", &adopted.display().to_string(), "--output", "json"]).await;
    let change = integration_of(&out);
    assert_eq!(change["action"], "no-op", "{change}");
    let rotated_text = ADOPTED.replace(
        "    fromEnv: SESSION_STORE_WEBHOOK_SECRET\n",
        "    fromEnv: SESSION_STORE_WEBHOOK_SECRET\n  signatureSecretVersion: 2\n",
    );
    assert_ne!(rotated_text, text, "the secret reference moved; update this test");
    let rotated = ctx.write("rotate/session.yaml", &rotated_text);
    let out = org.gcctl(&["plan", &rotated.display().to_string(), "--output", "json"]).await;
    let change = integration_of(&out);
    assert_eq!(change["action"], "update");
    assert_eq!(
        change["fields"],
        json!([{"pointer": "/webhook/signatureSecretVersion", "before": 1, "after": 2, "sensitive": true}])
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("a-signature-secret"));
}

/// An integration like one made in the UI, and its webhook.
const ADOPTED: &str = r"apiVersion: gcctl/v1
kind: Webhook
metadata:
  name: session-store-webhook
spec:
  url: https://sessions.example.org/genesys/messages
  signatureSecret:
    fromEnv: SESSION_STORE_WEBHOOK_SECRET
  headers:
    X-Session-Store-Route: primary
---
apiVersion: gcctl/v1
kind: OpenMessagingIntegration
metadata:
  name: session-persistence
spec:
  name: Session Persistence
  webhook: session-store-webhook
  inboundFlow:
    name: Session Persistence Inbound
";
