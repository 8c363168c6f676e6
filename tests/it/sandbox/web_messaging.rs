//! Web messaging configurations and deployments as the real API serves
//! them (API reference §j): cursor paging, drafts that are `Pending` after
//! each write and must be `Active` to publish, integer versions,
//! validation, deployments that need a published version and an inbound
//! message flow, exactly one of the domain fields, the recipient each
//! deployment routes (a flow in use by a recipient is kept: see `flows`),
//! and a configuration a deployment uses that cannot be deleted.

use std::time::Duration;

use gcctl::sandbox::SandboxConfig;
use serde_json::{Value, json};

use super::{TestOrg, assert_error, eventually};

const CONFIGS: &str = "/api/v2/webdeployments/configurations";
const DEPLOYMENTS: &str = "/api/v2/webdeployments/deployments";

fn config(name: &str) -> Value {
    json!({
        "name": name,
        "languages": ["en-us"],
        "defaultLanguage": "en-us",
        "messenger": {"enabled": true, "apps": {"conversations": {"enabled": true}}},
    })
}

/// Create a configuration and publish its first version; its id.
async fn published(org: &TestOrg, name: &str) -> String {
    let created = org.post(CONFIGS, config(name)).await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    let answer = org.post(&format!("{CONFIGS}/{id}/versions/draft/publish"), json!({})).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    id
}

async fn inbound_flow(org: &TestOrg, name: &str) -> String {
    let flows = org.get(&format!("/api/v2/flows?name={name}&type=inboundshortmessage")).await;
    flows.body["entities"][0]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn lists_are_cursor_paged() {
    let org = TestOrg::default().await;
    for i in 0..5 {
        assert_eq!(org.post(CONFIGS, config(&format!("Config {i}"))).await.status, 200);
    }
    let mut names = Vec::new();
    let mut path = format!("{CONFIGS}?pageSize=2");
    let mut pages = 0;
    loop {
        let page = org.get(&path).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        assert_eq!(page.body["total"], 5);
        assert!(page.body.get("pageNumber").is_none(), "no page numbers: {}", page.body);
        names.extend(page.body["entities"].as_array().unwrap().iter().map(|c| c["name"].clone()));
        pages += 1;
        match page.body["nextUri"].as_str() {
            Some(next) => {
                assert!(next.contains("after="), "{next}");
                path = next.to_string();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["Config 0", "Config 1", "Config 2", "Config 3", "Config 4"]);
    assert_error(&org.get(&format!("{CONFIGS}?after=bogus")).await, 400, Some("after"));
    assert_error(&org.get(&format!("{CONFIGS}?pageSize=0")).await, 400, Some("pageSize"));
}

#[tokio::test]
async fn drafts_publish_integer_versions_once_active() {
    let config_delay = SandboxConfig {
        web_deployment_delay: Duration::from_millis(300),
        ..SandboxConfig::default()
    };
    let org = TestOrg::start(config_delay).await;
    let created = org.post(CONFIGS, config("Acme Web")).await;
    assert_eq!(created.body["version"], "DRAFT");
    assert_eq!(created.body["status"], "Pending");
    let id = created.body["id"].as_str().unwrap().to_string();
    let draft = format!("{CONFIGS}/{id}/versions/draft");
    let publish = format!("{draft}/publish");
    assert_error(&org.post(&publish, json!({})).await, 400, None);
    eventually("the draft to be Active", || async {
        org.get(&draft).await.body["status"] == "Active"
    })
    .await;
    let first = org.post(&publish, json!({})).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["version"], "1");
    assert_eq!(first.body["status"], "Active");
    assert!(first.body["datePublished"].is_string());

    // A PUT replaces the whole draft (what it leaves out is gone) and makes
    // it Pending again; published versions do not change.
    let mut body = config("Acme Web");
    body["position"] = json!({"alignment": "Left"});
    body.as_object_mut().unwrap().remove("messenger");
    let put = org.put(&draft, body).await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    assert_eq!(put.body["status"], "Pending");
    assert!(put.body.get("messenger").is_none(), "{:?}", put.body);
    eventually("the draft to be Active", || async {
        org.get(&draft).await.body["status"] == "Active"
    })
    .await;
    assert_eq!(org.post(&publish, json!({})).await.body["version"], "2");
    let v1 = org.get(&format!("{CONFIGS}/{id}/versions/1")).await.body;
    assert_eq!(v1["messenger"]["enabled"], true, "version 1 is immutable");
    let versions = org.get(&format!("{CONFIGS}/{id}/versions")).await.body;
    let listed: Vec<&str> = versions["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["DRAFT", "2", "1"]);
    assert_eq!(org.get(&format!("{CONFIGS}/{id}/versions/9")).await.status, 404);
}

#[tokio::test]
async fn configurations_are_validated_like_the_model() {
    let org = TestOrg::default().await;
    let mut missing = config("x");
    missing.as_object_mut().unwrap().remove("name");
    assert_error(&org.post(CONFIGS, missing).await, 400, Some("name"));
    assert_error(&org.post(CONFIGS, json!({"name": "x".repeat(101)})).await, 400, Some("name"));
    let mut no_languages = config("x");
    no_languages.as_object_mut().unwrap().remove("languages");
    assert_error(&org.post(CONFIGS, no_languages).await, 400, Some("languages"));
    let mut other_default = config("x");
    other_default["defaultLanguage"] = json!("fr-fr");
    assert_error(&org.post(CONFIGS, other_default).await, 400, Some("defaultLanguage"));
    let mut bad_enum = config("x");
    bad_enum["messenger"]["sessionPersistenceType"] = json!("Forever");
    let answer = org.post(CONFIGS, bad_enum).await;
    assert_error(&answer, 400, Some("messenger.sessionPersistenceType"));
    assert!(answer.body["message"].as_str().unwrap().contains("AcrossSubdomains"));
    let mut too_big = config("x");
    too_big["messenger"]["fileUpload"] =
        json!({"modes": [{"fileTypes": ["image/png"], "maxFileSizeKB": 20480}]});
    assert_error(
        &org.post(CONFIGS, too_big).await,
        400,
        Some("messenger.fileUpload.modes[0].maxFileSizeKB"),
    );
    let mut wrong_type = config("x");
    wrong_type["messenger"]["apps"]["conversations"]["sessionDurationSeconds"] = json!("long");
    assert_error(
        &org.post(CONFIGS, wrong_type).await,
        400,
        Some("messenger.apps.conversations.sessionDurationSeconds"),
    );
    // Fields outside the model are dropped, never stored.
    let mut extra = config("Extra");
    extra["messenger"]["colour"] = json!("red");
    let created = org.post(CONFIGS, extra).await;
    assert_eq!(created.status, 200);
    assert!(created.body["messenger"].get("colour").is_none());
}

#[tokio::test]
async fn deployments_need_a_published_version_an_inbound_flow_and_one_domain_rule() {
    let org = TestOrg::default().await;
    let config_id = published(&org, "Acme Web").await;
    let unpublished = org.post(CONFIGS, config("Unpublished")).await;
    let unpublished = unpublished.body["id"].as_str().unwrap().to_string();
    let flow = inbound_flow(&org, "Guest Messaging Inbound").await;
    let in_queue = org.get("/api/v2/flows?type=inqueueshortmessage&name=Support").await.body["entities"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let deployment = |version: &str, config: &str, flow: &str| {
        json!({"name": "Acme Site", "configuration": {"id": config, "version": version},
               "flow": {"id": flow}, "allowedDomains": ["www.acme.example"]})
    };
    assert_error(
        &org.post(DEPLOYMENTS, deployment("DRAFT", &config_id, &flow)).await,
        400,
        Some("configuration.version"),
    );
    assert_error(
        &org.post(DEPLOYMENTS, deployment("1", &unpublished, &flow)).await,
        400,
        Some("configuration.version"),
    );
    assert_error(
        &org.post(DEPLOYMENTS, deployment("1", &config_id, &in_queue)).await,
        400,
        Some("flow.id"),
    );
    let mut both = deployment("1", &config_id, &flow);
    both["allowAllDomains"] = json!(true);
    assert_error(&org.post(DEPLOYMENTS, both).await, 400, Some("allowedDomains"));
    let mut neither = deployment("1", &config_id, &flow);
    neither["allowedDomains"] = json!([]);
    assert_error(&org.post(DEPLOYMENTS, neither).await, 400, Some("allowedDomains"));
    let mut url = deployment("1", &config_id, &flow);
    url["allowedDomains"] = json!(["https://www.acme.example/"]);
    assert_error(&org.post(DEPLOYMENTS, url).await, 400, Some("allowedDomains[0]"));
    assert_error(
        &org.post(DEPLOYMENTS, deployment("1", "no-such-configuration", &flow)).await,
        400,
        Some("configuration.id"),
    );
    let mut no_flow = deployment("1", &config_id, &flow);
    no_flow.as_object_mut().unwrap().remove("flow");
    assert_error(&org.post(DEPLOYMENTS, no_flow).await, 400, Some("flow.id"));
    assert_error(
        &org.post(DEPLOYMENTS, deployment("1", &config_id, "no-such-flow")).await,
        400,
        Some("flow.id"),
    );
    let mut content = deployment("1", &config_id, &flow);
    content["supportedContent"] = json!({"id": "no-such-profile"});
    assert_error(&org.post(DEPLOYMENTS, content).await, 400, Some("supportedContent.id"));

    let created = org.post(DEPLOYMENTS, deployment("1", &config_id, &flow)).await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert!(created.body["snippet"].as_str().unwrap().contains(&id));
    assert_eq!(created.body["configuration"]["name"], "Acme Web");
    assert_eq!(created.body["flow"]["name"], "Guest Messaging Inbound");
    assert_error(&org.post(DEPLOYMENTS, deployment("1", &config_id, &flow)).await, 409, None);
    // Its address routes to its flow.
    let recipient = org.get(&format!("/api/v2/routing/message/recipients/{id}")).await.body;
    assert_eq!(recipient["messengerType"], "webmessaging");
    assert_eq!(recipient["flow"]["id"], json!(flow));
    let active = org.get(&format!("{DEPLOYMENTS}/{id}/configurations")).await.body;
    assert_eq!(active["configurationVersion"]["version"], "1");

    // What a deployment uses is not deleted from under it.
    assert_error(&org.delete(&format!("{CONFIGS}/{config_id}")).await, 400, None);
    assert_eq!(org.delete(&format!("{DEPLOYMENTS}/{id}")).await.status, 204);
    assert_eq!(org.get(&format!("/api/v2/routing/message/recipients/{id}")).await.status, 404);
    assert_eq!(org.delete(&format!("{CONFIGS}/{config_id}")).await.status, 204);
    assert_eq!(org.get(&format!("{CONFIGS}/{config_id}/versions/1")).await.status, 404);
}
