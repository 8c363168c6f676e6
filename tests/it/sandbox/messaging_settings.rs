//! Messaging settings over HTTP: the list envelope, create, get, PATCH,
//! delete, the org default (GET, PUT, DELETE), the rules a real org enforces
//! (required name, enum values, unique names, the default cannot be deleted)
//! and the references open messaging integrations hold to settings.

use std::time::Duration;

use gcctl::sandbox::SandboxConfig;
use serde_json::{Value, json};

use super::{TestOrg, assert_error};

const SETTINGS: &str = "/api/v2/conversations/messaging/settings";
const DEFAULT: &str = "/api/v2/conversations/messaging/settings/default";
const OPEN: &str = "/api/v2/conversations/messaging/integrations/open";

/// A full `MessagingSettingRequest`.
fn setting(name: &str) -> Value {
    json!({
        "name": name,
        "content": {"story": {"mention": {"inbound": "Disabled"}, "reply": {"inbound": "Enabled"}}},
        "event": {"typing": {"on": {"inbound": "Enabled", "outbound": "Disabled"}}},
    })
}

fn integration(name: &str) -> Value {
    json!({
        "name": name,
        "outboundNotificationWebhookUrl": "https://bot.example.com/genesys",
        "outboundNotificationWebhookSignatureSecretToken": "a-very-secret-token-1234",
    })
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap_or_else(|| panic!("no id in {value}")).to_string()
}

async fn create(org: &TestOrg, body: Value) -> Value {
    let created = org.post(SETTINGS, body).await;
    assert_eq!(created.status, 200, "{}", created.body);
    created.body
}

#[tokio::test]
async fn create_get_patch_delete() {
    let org = TestOrg::default().await;
    let mut body = setting("Stories off");
    // Read-only and unknown fields are ignored, unknown nested keys dropped.
    body["id"] = json!("client-chosen");
    body["version"] = json!("99");
    body["dateCreated"] = json!("2020-01-01T00:00:00.000Z");
    body["bogus"] = json!(true);
    body["content"]["story"]["bogus"] = json!({"inbound": "Enabled"});
    let created = create(&org, body).await;
    let setting_id = id(&created);
    assert_ne!(setting_id, "client-chosen");
    assert_eq!(created["name"], "Stories off");
    assert_eq!(created["version"], "1", "version is a string");
    assert_eq!(created["selfUri"], format!("{SETTINGS}/{setting_id}"));
    assert_ne!(created["dateCreated"], "2020-01-01T00:00:00.000Z");
    assert_eq!(created["dateCreated"], created["dateModified"]);
    assert!(created.get("bogus").is_none(), "{created}");
    assert_eq!(created["content"], setting("x")["content"], "normalized content");
    assert_eq!(created["event"]["typing"]["on"]["outbound"], "Disabled");
    let caller = org.sandbox.client_id();
    for who in ["createdBy", "updatedBy"] {
        assert_eq!(created[who]["id"], caller, "{created}");
        assert!(created[who]["selfUri"].as_str().is_some_and(|u| u.ends_with(caller)));
    }
    // GET answers what POST answered; an unknown id is 404.
    let path = format!("{SETTINGS}/{setting_id}");
    assert_eq!(org.get(&path).await.body, created);
    assert_error(&org.get(&format!("{SETTINGS}/nope")).await, 404, None);
    // PATCH changes only what it is given and bumps the version.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let patched =
        org.patch(&path, json!({"event": {"typing": {"on": {"inbound": "Disabled"}}}})).await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["name"], "Stories off");
    assert_eq!(patched.body["content"], created["content"]);
    assert_eq!(patched.body["event"], json!({"typing": {"on": {"inbound": "Disabled"}}}));
    assert_eq!(patched.body["version"], "2");
    assert_eq!(patched.body["dateCreated"], created["dateCreated"]);
    assert_ne!(patched.body["dateModified"], created["dateModified"]);
    let renamed = org.patch(&path, json!({"name": "Stories on"})).await;
    assert_eq!(
        (renamed.body["name"].as_str(), renamed.body["version"].as_str()),
        (Some("Stories on"), Some("3"))
    );
    assert_eq!(renamed.body["event"], patched.body["event"]);
    assert_eq!(org.patch(&path, json!({})).await.body["version"], "4", "every write bumps it");
    assert_eq!(org.get(&path).await.body["version"], "4");
    // PATCH of an unknown id, a blank name.
    assert_error(&org.patch(&format!("{SETTINGS}/nope"), json!({"name": "x"})).await, 404, None);
    assert_error(&org.patch(&path, json!({"name": " "})).await, 400, Some("name"));
    assert_error(&org.patch(&path, json!({"name": 3})).await, 400, Some("name"));
    // DELETE, then it is gone.
    let deleted = org.delete(&path).await;
    assert_eq!((deleted.status, &deleted.body), (204, &Value::Null));
    assert_error(&org.get(&path).await, 404, None);
    assert_error(&org.delete(&path).await, 404, None);
    assert_error(&org.patch(&path, json!({"name": "x"})).await, 404, None);
}

#[tokio::test]
async fn validation_names_the_field() {
    let org = TestOrg::default().await;
    // `name` is required on POST.
    assert_error(&org.post(SETTINGS, json!({})).await, 400, Some("name"));
    assert_error(&org.post(SETTINGS, json!({"name": ""})).await, 400, Some("name"));
    assert_error(&org.post(SETTINGS, json!({"name": null})).await, 400, Some("name"));
    // Unknown enum values name the field and the allowable values.
    for (pointer, field) in [
        ("/content/story/mention/inbound", "content.story.mention.inbound"),
        ("/content/story/reply/inbound", "content.story.reply.inbound"),
        ("/event/typing/on/inbound", "event.typing.on.inbound"),
        ("/event/typing/on/outbound", "event.typing.on.outbound"),
    ] {
        for bad in [json!("On"), json!("enabled"), json!(""), json!(true)] {
            let mut body = setting("Bad");
            *body.pointer_mut(pointer).unwrap() = bad.clone();
            let answer = org.post(SETTINGS, body).await;
            assert_error(&answer, 400, Some(field));
            let message = answer.body["message"].as_str().unwrap();
            if bad.is_string() {
                assert!(message.contains("Enabled, Disabled"), "{message}");
            }
        }
    }
    // Wrong shapes name the field.
    for (body, field) in [
        (json!({"name": "Bad", "content": "Enabled"}), "content"),
        (json!({"name": "Bad", "content": {"story": []}}), "content.story"),
        (
            json!({"name": "Bad", "content": {"story": {"mention": "Enabled"}}}),
            "content.story.mention",
        ),
        (json!({"name": "Bad", "event": {"typing": {"on": 1}}}), "event.typing.on"),
        (json!({"name": "Bad", "event": []}), "event"),
    ] {
        assert_error(&org.post(SETTINGS, body).await, 400, Some(field));
    }
    // The same rules on PATCH; nothing was changed by the refused writes.
    let created = create(&org, setting("Good")).await;
    let path = format!("{SETTINGS}/{}", id(&created));
    let bad = json!({"content": {"story": {"reply": {"inbound": "Maybe"}}}});
    assert_error(&org.patch(&path, bad).await, 400, Some("content.story.reply.inbound"));
    assert_eq!(org.get(&path).await.body, created);
    let listed = org.get(SETTINGS).await.body;
    assert_eq!(listed["total"], 2, "only Default and Good: {listed}");
}

#[tokio::test]
async fn names_are_unique() {
    let org = TestOrg::default().await;
    // The seeded `Default` is taken, case-insensitively.
    assert_error(&org.post(SETTINGS, setting("default")).await, 409, None);
    let first = create(&org, setting("First")).await;
    let second = create(&org, setting("Second")).await;
    let path = format!("{SETTINGS}/{}", id(&second));
    assert_error(&org.patch(&path, json!({"name": "FIRST"})).await, 409, None);
    // Renaming to its own name (another case) is fine.
    assert_eq!(org.patch(&path, json!({"name": "SECOND"})).await.status, 200);
    // A deleted setting's name is free again.
    assert_eq!(org.delete(&format!("{SETTINGS}/{}", id(&first))).await.status, 204);
    assert_eq!(org.post(SETTINGS, setting("First")).await.status, 200);
}

#[tokio::test]
async fn list_pages_by_name() {
    let org = TestOrg::default().await;
    for name in ["b", "C", "a"] {
        create(&org, setting(name)).await;
    }
    let all = org.get(SETTINGS).await.body;
    assert_eq!((all["pageSize"].as_u64(), all["pageNumber"].as_u64()), (Some(25), Some(1)));
    assert_eq!((all["total"].as_u64(), all["pageCount"].as_u64()), (Some(4), Some(1)));
    let names: Vec<&str> =
        all["entities"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a", "b", "C", "Default"], "sorted by name, case-insensitively");
    assert_eq!(all["entities"][0]["version"], "1", "entities are full settings");
    let second = org.get(&format!("{SETTINGS}?pageSize=3&pageNumber=2")).await.body;
    assert_eq!(second["entities"].as_array().map(Vec::len), Some(1));
    assert_eq!(second["entities"][0]["name"], "Default");
    assert_eq!(second["pageCount"], 2);
    assert_eq!(second["previousUri"], format!("{SETTINGS}?pageSize=3&pageNumber=1"));
    assert!(second.get("nextUri").is_none());
    assert_eq!(org.get(&format!("{SETTINGS}?pageSize=100")).await.status, 200);
    assert_error(&org.get(&format!("{SETTINGS}?pageSize=101")).await, 400, Some("pageSize"));
    assert_error(&org.get(&format!("{SETTINGS}?pageSize=0")).await, 400, Some("pageSize"));
    assert_error(&org.get(&format!("{SETTINGS}?pageNumber=x")).await, 400, Some("pageNumber"));
}

#[tokio::test]
async fn the_org_default() {
    let org = TestOrg::default().await;
    let seeded = org.get(DEFAULT).await;
    assert_eq!(seeded.status, 200);
    assert_eq!(seeded.body["name"], "Default");
    let seeded_path = format!("{SETTINGS}/{}", id(&seeded.body));
    // The default cannot be deleted (400).
    assert_error(&org.delete(&seeded_path).await, 400, None);
    // PUT makes another setting the default and answers it.
    let other = create(&org, setting("Other")).await;
    let put = org.put(DEFAULT, json!({"settingId": id(&other)})).await;
    assert_eq!((put.status, &put.body), (200, &other));
    assert_eq!(org.get(DEFAULT).await.body["id"], other["id"]);
    assert_error(&org.delete(&format!("{SETTINGS}/{}", id(&other))).await, 400, None);
    // Now the seeded one can go.
    assert_eq!(org.delete(&seeded_path).await.status, 204);
    // PUT needs an existing settingId.
    assert_error(&org.put(DEFAULT, json!({})).await, 400, Some("settingId"));
    assert_error(&org.put(DEFAULT, json!({"settingId": 5})).await, 400, Some("settingId"));
    let unknown = org.put(DEFAULT, json!({"settingId": "nope"})).await;
    assert_error(&unknown, 400, Some("settingId"));
    assert_eq!(org.get(DEFAULT).await.body["id"], other["id"], "unchanged by refused PUTs");
    // DELETE unsets the default (and is idempotent); GET is then 404.
    for _ in 0..2 {
        let unset = org.delete(DEFAULT).await;
        assert_eq!((unset.status, &unset.body), (204, &Value::Null));
    }
    assert_error(&org.get(DEFAULT).await, 404, None);
    // The former default is an ordinary setting again.
    assert_eq!(org.get(&format!("{SETTINGS}/{}", id(&other))).await.status, 200);
    assert_eq!(org.delete(&format!("{SETTINGS}/{}", id(&other))).await.status, 204);
    // Other methods on the default are refused.
    assert_error(&org.patch(DEFAULT, json!({"name": "x"})).await, 405, None);
}

#[tokio::test]
async fn open_messaging_references_settings() {
    let org = TestOrg::default().await;
    let default = org.get(DEFAULT).await.body;
    let chosen = create(&org, setting("Chosen")).await;
    // Unknown settings are refused on create and on PATCH.
    let mut bad = integration("Bot");
    bad["messagingSetting"] = json!({"id": "nope"});
    assert_error(&org.post(OPEN, bad).await, 400, Some("messagingSetting.id"));
    let mut bad = integration("Bot");
    bad["messagingSetting"] = json!({});
    assert_error(&org.post(OPEN, bad).await, 400, Some("messagingSetting.id"));
    // Without one, the org default is applied; with one, it is kept.
    let plain = org.post(OPEN, integration("Plain")).await.body;
    assert_eq!(plain["messagingSetting"]["id"], default["id"]);
    let mut body = integration("Chosen bot");
    body["messagingSetting"] = json!({"id": id(&chosen)});
    let bot = org.post(OPEN, body).await.body;
    assert_eq!(bot["messagingSetting"]["id"], chosen["id"]);
    assert_eq!(bot["messagingSetting"]["name"], "Chosen");
    let bot_path = format!("{OPEN}/{}", id(&bot));
    let patch = json!({"name": "Chosen bot", "messagingSetting": {"id": "nope"}});
    assert_error(&org.patch(&bot_path, patch).await, 400, Some("messagingSetting.id"));
    // The listing filter and the expansion see the setting.
    let filtered = org.get(&format!("{OPEN}?messagingSetting.id={}", id(&chosen))).await.body;
    assert_eq!(filtered["total"], 1);
    let expanded = org.get(&format!("{bot_path}?expand=messagingSetting")).await.body;
    assert_eq!(expanded["messagingSetting"]["content"], chosen["content"]);
    assert_eq!(expanded["messagingSetting"]["version"], "1");
    // A renamed setting shows its new name in the reference.
    org.patch(&format!("{SETTINGS}/{}", id(&chosen)), json!({"name": "Renamed"})).await;
    assert_eq!(org.get(&bot_path).await.body["messagingSetting"]["name"], "Renamed");
    // A setting in use cannot be deleted (409) until the integration moves.
    assert_error(&org.delete(&format!("{SETTINGS}/{}", id(&chosen))).await, 409, None);
    let moved = json!({"name": "Chosen bot", "messagingSetting": {"id": id(&default)}});
    assert_eq!(org.patch(&bot_path, moved).await.status, 200);
    assert_eq!(org.delete(&format!("{SETTINGS}/{}", id(&chosen))).await.status, 204);
    // With no org default, a new integration gets no setting reference.
    assert_eq!(org.delete(DEFAULT).await.status, 204);
    let bare = org.post(OPEN, integration("Bare")).await.body;
    assert!(bare.get("messagingSetting").is_none(), "{bare}");
}

#[tokio::test]
async fn settings_persist_with_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("org.json");
    let config = || SandboxConfig { state_file: Some(state.clone()), ..SandboxConfig::default() };
    let org = TestOrg::start(config()).await;
    let created = create(&org, setting("Kept")).await;
    let path = format!("{SETTINGS}/{}", id(&created));
    let patched = org.patch(&path, json!({"name": "Kept 2"})).await.body;
    assert_eq!(org.put(DEFAULT, json!({"settingId": id(&created)})).await.status, 200);
    // Killed without a shutdown: the journal holds every answered change.
    drop(org);
    let org = TestOrg::start(config()).await;
    assert_eq!(org.get(&path).await.body, patched);
    assert_eq!(org.get(DEFAULT).await.body["id"], created["id"]);
    assert_eq!(org.delete(DEFAULT).await.status, 204);
    org.sandbox.shutdown().await;
    let org = TestOrg::start(config()).await;
    assert_error(&org.get(DEFAULT).await, 404, None);
}

#[tokio::test]
async fn new_settings_are_hidden_inside_the_consistency_window() {
    let config =
        SandboxConfig { consistency_delay: Duration::from_millis(300), ..SandboxConfig::default() };
    let org = TestOrg::start(config).await;
    let created = create(&org, setting("Late")).await;
    let path = format!("{SETTINGS}/{}", id(&created));
    assert_error(&org.get(&path).await, 404, None);
    assert_eq!(org.get(SETTINGS).await.body["total"], 1, "only the seeded one is listed yet");
    // The server sees it at once: its name is taken and it can be the default.
    assert_error(&org.post(SETTINGS, setting("late")).await, 409, None);
    assert_eq!(org.put(DEFAULT, json!({"settingId": id(&created)})).await.status, 200);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(org.get(&path).await.body["name"], "Late");
}
