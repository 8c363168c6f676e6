//! Every example applies to a fresh sandbox org and then plans clean; the
//! bot hand-over example is checked object by object through the API.

use std::time::Duration;

use gcctl::sandbox::SandboxConfig;
use serde_json::Value;

use super::{
    ApplyOrg, CLIENTS, CONTENT, INTEGRATIONS, QUEUES, ROLES, assert_exit, copy_tree, secret_files,
};
use crate::common::repo_root;
use crate::sandbox::mint;

fn example_dirs() -> Vec<String> {
    let mut dirs: Vec<String> = fs_err::read_dir(repo_root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    dirs
}

/// Apply `examples/NAME` to a fresh org, then plan: no changes.
async fn apply_example(name: &str, config: SandboxConfig) -> ApplyOrg {
    let org = ApplyOrg::start(config).await;
    copy_tree(&repo_root().join("examples").join(name), &org.ctx.path().join(name));
    let apply = org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "secrets", name]).await;
    assert_exit(&apply, 0);
    let plan = org.gcctl(&["plan", "--detailed-exitcode", name]).await;
    assert_exit(&plan, 0);
    org
}

#[tokio::test]
async fn every_example_applies_to_a_fresh_org_and_plans_clean() {
    let dirs = example_dirs();
    assert!(dirs.len() >= 5, "{dirs:?}");
    for name in dirs {
        apply_example(&name, SandboxConfig::default()).await;
    }
}

#[tokio::test]
async fn bot_handover_example_ends_wired_end_to_end() {
    let config =
        SandboxConfig { create_delay: Duration::from_millis(300), ..SandboxConfig::default() };
    let org = apply_example("bot-handover-cognigy", config).await;

    let profile = org.one(CONTENT, "Cognigy Content").await;
    let inbound: Vec<&Value> =
        profile["mediaTypes"]["allow"]["inbound"].as_array().unwrap().iter().collect();
    assert_eq!(inbound.len(), 1, "{profile}");
    assert_eq!(inbound[0]["type"], "*/*");

    // The integration: completed (its createStatus was polled), with the profile.
    let listed = org.one(INTEGRATIONS, "Cognigy Handover").await;
    let id = listed["id"].as_str().unwrap();
    let integration =
        org.org.get(&format!("/api/v2/conversations/messaging/integrations/open/{id}")).await.body;
    assert_eq!(integration["createStatus"], "Completed", "{integration}");
    assert_eq!(integration["supportedContent"]["id"], profile["id"], "{integration}");
    assert_eq!(
        integration["outboundNotificationWebhookUrl"],
        "https://endpoint-trial.cognigy.ai/genesys/open-messaging"
    );
    let stats = org.org.stats().await;
    let polls =
        stats["byRoute"]["GET /api/v2/conversations/messaging/integrations/open/{integrationId}"]
            .as_u64()
            .unwrap_or(0);
    assert!(polls >= 2, "createStatus was polled until Completed: {stats}");

    // Its recipient routes to the inbound message flow the example declares.
    let recipient_id = integration["recipient"]["id"].as_str().unwrap();
    let recipient =
        org.org.get(&format!("/api/v2/routing/message/recipients/{recipient_id}")).await;
    assert_eq!(recipient.body["flow"]["name"], "Cognigy Handover Inbound", "{:?}", recipient.body);

    // The queue replies through the integration's address.
    let queue = org.one(QUEUES, "Cognigy Handover Queue").await;
    assert_eq!(
        queue["outboundMessagingAddresses"]["openMessagingRecipient"]["id"], recipient_id,
        "{queue}"
    );
    assert_eq!(queue["mediaSettings"]["message"]["alertingTimeoutSeconds"], 30);

    // Its agents: two by email (Bob in ring 2), two through the group; and
    // the two wrap-up codes.
    let queue_id = queue["id"].as_str().unwrap();
    let members = org.get(&format!("/api/v2/routing/queues/{queue_id}/members?pageSize=100")).await;
    let mut members: Vec<(String, i64, String)> = members.body["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let email = m["user"]["email"].as_str().unwrap();
            let name = email.split('@').next().unwrap().to_string();
            (name, m["ringNumber"].as_i64().unwrap(), m["memberBy"].as_str().unwrap().to_string())
        })
        .collect();
    members.sort();
    let expected =
        [("alice", 1, "user"), ("bob", 2, "user"), ("carol", 1, "group"), ("dave", 1, "group")];
    let expected: Vec<(String, i64, String)> =
        expected.iter().map(|(n, r, b)| ((*n).to_string(), *r, (*b).to_string())).collect();
    assert_eq!(members, expected);
    let codes = org.get(&format!("/api/v2/routing/queues/{queue_id}/wrapupcodes")).await;
    assert_eq!(codes.body["total"], 2, "{:?}", codes.body);

    // The role, and the OAuth client holding it with its secret on disk.
    let role = org.one(ROLES, "Cognigy Handover").await;
    let client = org.one(CLIENTS, "Cognigy Connector").await;
    let grants = client["roleDivisions"].as_array().unwrap();
    assert!(grants.iter().any(|g| g["roleId"] == role["id"]), "{client}");
    let files = secret_files(&org.ctx.path().join("secrets"));
    assert_eq!(files.len(), 1, "{files:?}");
    let (_, secret, mode) = &files[0];
    assert_eq!(*mode, 0o600);
    assert_eq!(secret["clientId"], client["id"]);
    let token = mint(
        &org.org.http,
        &org.org.sandbox.base_url(),
        secret["clientId"].as_str().unwrap(),
        secret["clientSecret"].as_str().unwrap(),
    )
    .await;
    assert!(token.is_ok(), "the saved secret authenticates the client");
}

/// Web messaging configurations and deployments made moments ago trail in
/// reads (404 by id): the waits for the draft and the deployment poll
/// through it (the apply failed on the first 404, reporting the deployment
/// as not created although it was).
#[tokio::test]
async fn web_messaging_objects_that_trail_in_reads_are_waited_for() {
    let config =
        SandboxConfig { consistency_delay: Duration::from_millis(800), ..SandboxConfig::default() };
    let org = apply_example("session-state-persistence", config).await;
    let deployments = org.org.get("/api/v2/webdeployments/deployments").await.body;
    assert_eq!(deployments["entities"].as_array().map(Vec::len), Some(1), "{deployments}");
}
