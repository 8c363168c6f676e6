//! The org's rules through gcctl (issue 12): what the sandbox enforces as a
//! real org would, seen from a run. Request bodies carry references as
//! `{id}` only; nested enums and the rules of OAuth clients are checked
//! offline; a supported content PATCH carries `name`; a 403 at read or
//! write time is reported with what gcctl knows.

use serde_json::json;

use super::{ApplyOrg, QUEUES, assert_exit};
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
