//! The org's rules through gcctl (issue 12): what the sandbox enforces as a
//! real org would, seen from a run. Request bodies carry references as
//! `{id}` only; nested enums and the rules of OAuth clients are checked
//! offline; a supported content PATCH carries `name`; a 403 at read or
//! write time is reported with what gcctl knows.

use gcctl::sandbox::SandboxConfig;
use serde_json::json;

use super::{ApplyOrg, CONTENT, QUEUES, assert_exit};
use crate::common::stderr;

/// A live queue whose references gcctl does not manage (a flow, prompts,
/// scripts, an open messaging recipient) come back from the org with their
/// names and read-only `selfUri`s; an update sends them back as `{id}`, which
/// the org accepts (it refuses a `selfUri` in any reference), and keeps them.
#[tokio::test]
async fn a_queue_update_sends_the_references_it_does_not_manage_as_ids() {
    let org = ApplyOrg::default().await;
    let flow = org
        .list("/api/v2/flows?type=inqueuecall")
        .await
        .into_iter()
        .find(|f| f["name"] == "Default In-Queue Call Flow")
        .expect("a seeded in-queue call flow");
    let open = "/api/v2/conversations/messaging/integrations/open";
    let integration = org
        .org
        .post(
            open,
            json!({"name": "Bot", "outboundNotificationWebhookUrl": "https://bot.example.com/h",
                "outboundNotificationWebhookSignatureSecretToken": "0123456789abcdef"}),
        )
        .await;
    assert_eq!(integration.status, 200, "{:?}", integration.body);
    let recipient = integration.body["recipient"]["id"].clone();
    let queue = org
        .org
        .post(
            "/api/v2/routing/queues",
            json!({"name": "Referring", "description": "old",
                "queueFlow": {"id": flow["id"]},
                "whisperPrompt": {"id": "whisper-prompt"}, "onHoldPrompt": {"id": "hold-prompt"},
                "defaultScripts": {"CALL": {"id": "call-script"}},
                "outboundMessagingAddresses": {"openMessagingRecipient": {"id": recipient}}}),
        )
        .await;
    assert_eq!(queue.status, 200, "{:?}", queue.body);
    let live = &queue.body;
    for pointer in [
        "/queueFlow/selfUri",
        "/whisperPrompt/selfUri",
        "/defaultScripts/CALL/selfUri",
        "/outboundMessagingAddresses/openMessagingRecipient/selfUri",
    ] {
        assert!(live.pointer(pointer).is_some(), "the org shows {pointer}: {live}");
    }
    assert_eq!(live["queueFlow"]["name"], "Default In-Queue Call Flow");
    // Writing a reference back as read is refused.
    let id = live["id"].as_str().unwrap();
    let stale = org.org.put(&format!("/api/v2/routing/queues/{id}"), live.clone()).await;
    assert_eq!(stale.status, 400, "{:?}", stale.body);
    assert!(
        stale.body["message"].as_str().unwrap().contains(".selfUri' is read-only"),
        "{:?}",
        stale.body
    );

    org.ctx.write(
        "set/queue.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec:\n  name: Referring\n  description: new\n",
    );
    let apply = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    assert_exit(&apply, 0);
    assert!(stderr(&apply).contains("updated RoutingQueue/q"), "{}", stderr(&apply));
    let after = org.one(QUEUES, "Referring").await;
    assert_eq!(after["description"], "new");
    for (pointer, id) in [
        ("/queueFlow/id", flow["id"].clone()),
        ("/whisperPrompt/id", json!("whisper-prompt")),
        ("/onHoldPrompt/id", json!("hold-prompt")),
        ("/defaultScripts/CALL/id", json!("call-script")),
        ("/outboundMessagingAddresses/openMessagingRecipient/id", recipient.clone()),
    ] {
        assert_eq!(after.pointer(pointer), Some(&id), "{pointer} kept: {after}");
    }
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}

/// A supported content profile is updated with PATCH, which the org refuses
/// without `name`: a change applied through gcctl goes through (its PATCH
/// carries the name) and re-plans clean.
#[tokio::test]
async fn a_supported_content_update_carries_the_name_and_replans_clean() {
    let org = ApplyOrg::default().await;
    let profile = |outbound: &str| {
        format!(
            "apiVersion: gcctl/v1\nkind: SupportedContentProfile\nmetadata: {{name: c}}\nspec:\n  name: Bot Content\n  mediaTypes:\n    allow:\n      inbound:\n        - type: image/*\n      outbound:\n        - type: {outbound}\n"
        )
    };
    org.ctx.write("set/content.yaml", &profile("image/*"));
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    org.ctx.write("set/content.yaml", &profile("application/pdf"));
    org.reset_stats().await;
    let apply = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    assert_exit(&apply, 0);
    assert!(stderr(&apply).contains("updated SupportedContentProfile/c"), "{}", stderr(&apply));
    let stats = org.org.stats().await;
    let patch = "PATCH /api/v2/conversations/messaging/supportedcontent/{supportedContentId}";
    assert_eq!(stats["byRoute"][patch], 1, "{stats}");
    let live = org.one(CONTENT, "Bot Content").await;
    assert_eq!(live["mediaTypes"]["allow"]["outbound"][0]["type"], "application/pdf");
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);

    // The org holding a media type in another case (a UI edit; an org that
    // stores its own spelling): the same type, no change.
    let id = live["id"].as_str().unwrap();
    let item = format!("/api/v2/conversations/messaging/supportedcontent/{id}");
    let edit = serde_json::json!({"name": "Bot Content", "mediaTypes": {"allow": {
        "inbound": [{"type": "IMAGE/*"}], "outbound": [{"type": "Application/PDF"}]}}});
    let patched = org.org.patch(&item, edit).await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}

/// A 403 while reading: a client that may only view queues plans a Role,
/// whose list it may not read. The plan exits 1 naming the call and the
/// permission.
#[tokio::test]
async fn a_read_refused_with_403_names_the_call_and_the_permission() {
    let mut org = ApplyOrg::default().await;
    org.run_as_client_with(
        "Queue Viewer",
        json!([{"domain": "routing", "entityName": "queue", "actionSet": ["view"]}]),
    )
    .await;
    org.ctx.write(
        "set/role.yaml",
        "apiVersion: gcctl/v1\nkind: Role\nmetadata: {name: r}\nspec:\n  name: R\n  permissions: [routing:queue:view]\n",
    );
    let plan = org.gcctl(&["plan", "set"]).await;
    assert_exit(&plan, 1);
    let err = stderr(&plan);
    assert!(err.contains("GET /api/v2/authorization/roles"), "{err}");
    assert!(err.contains("403"), "{err}");
    assert!(err.contains("[authorization:role:view]"), "{err}");
    assert!(err.contains("correlation id"), "{err}");
}

/// A 403 while writing, which no plan foresaw: the caller's permissions
/// could not be read (the org refuses `subjects/me` to its token and it may
/// not read roles), so the plan cannot check them, and the org refuses the
/// create. The failure names the object, the call and the correlation id,
/// and nothing is half-written: what depends on the refused object is not
/// attempted.
#[tokio::test]
async fn a_write_refused_with_403_names_the_object_the_call_and_the_correlation_id() {
    let config = SandboxConfig { client_subjects: false, ..SandboxConfig::default() };
    let mut org = ApplyOrg::start(config).await;
    org.run_as_client_with(
        "Queue Viewer",
        json!([{"domain": "routing", "entityName": "queue", "actionSet": ["view"]},
            {"domain": "routing", "entityName": "wrapupCode", "actionSet": ["view", "add"]}]),
    )
    .await;
    org.ctx.write(
        "set/queue.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingWrapupCode\nmetadata: {name: done}\nspec:\n  name: Done\n---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec:\n  name: Refused\n  wrapupCodes: [done]\n",
    );
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 2);
    org.reset_stats().await;
    let apply = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    assert_exit(&apply, 1);
    let err = stderr(&apply);
    assert!(err.contains("error: creating RoutingQueue/q"), "{err}");
    assert!(
        err.contains("POST /api/v2/routing/queues: 403 Forbidden (missing.any.permissions): Unable to perform the requested action. You must have at least one of the following permissions assigned: [routing:queue:add]"),
        "{err}"
    );
    assert!(err.contains("[correlation id: "), "{err}");
    assert!(org.named(QUEUES, "Refused").await.is_empty());
    // The independent code was created; nothing was written for the queue
    // after the refusal (no members, no codes offered).
    assert_eq!(org.named("/api/v2/routing/wrapupcodes", "Done").await.len(), 1);
    let stats = org.org.stats().await;
    let writes: Vec<&String> = stats["byRoute"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|r| !r.starts_with("GET ") && !r.starts_with("POST /oauth"))
        .collect();
    assert_eq!(
        writes,
        ["POST /api/v2/routing/queues", "POST /api/v2/routing/wrapupcodes"],
        "{stats}"
    );
}
