//! `MessagingSetting` end to end on a fresh sandbox: apply, re-plan clean,
//! drift after an edit made through the API, the org default, export, and
//! the round trip into another fresh org.

use serde_json::{Value, json};

use super::gcctl;
use crate::common::TestContext;
use crate::export::LiveSandbox;

const SETTINGS: &str = "/api/v2/conversations/messaging/settings";

const MANIFESTS: &str = r"
apiVersion: gcctl/v1
kind: MessagingSetting
metadata:
  name: bot-settings
spec:
  name: Bot Settings
  orgDefault: true
  event:
    typing:
      on:
        inbound: Enabled
        outbound: Disabled
  content:
    story:
      mention:
        inbound: Disabled
---
apiVersion: gcctl/v1
kind: Webhook
metadata:
  name: bot-webhook
spec:
  url: https://bot.example.com/genesys
  signatureSecret:
    fromEnv: BOT_WEBHOOK_SECRET
---
apiVersion: gcctl/v1
kind: OpenMessagingIntegration
metadata:
  name: bot
spec:
  name: Bot
  messagingSetting: bot-settings
  webhook: bot-webhook
";

fn connected(live: &LiveSandbox) -> TestContext {
    let mut ctx = TestContext::new();
    live.connect(&mut ctx);
    ctx.env("BOT_WEBHOOK_SECRET", "bot-webhook-secret-0123456789");
    ctx
}

#[test]
fn messaging_settings_apply_plan_clean_drift_and_round_trip() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    ctx.write("set/settings.yaml", MANIFESTS);

    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("created MessagingSetting/bot-settings \"Bot Settings\""), "{text}");
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 0, "a second plan is clean:\n{text}");

    // What the org holds: the declared fields, the default, the integration's setting.
    let org = &live.org;
    let (setting, default, integration) = live.block_on(async {
        let id = org.id_named(SETTINGS, "Bot Settings").await;
        let setting = org.get(&format!("{SETTINGS}/{id}")).await.body;
        let default = org.get(&format!("{SETTINGS}/default")).await.body;
        let open = "/api/v2/conversations/messaging/integrations/open";
        let integration = org.id_named(open, "Bot").await;
        let integration = org.get(&format!("{open}/{integration}")).await.body;
        (setting, default, integration)
    });
    assert_eq!(
        setting["event"]["typing"]["on"],
        json!({"inbound": "Enabled", "outbound": "Disabled"})
    );
    assert_eq!(setting["content"]["story"]["mention"]["inbound"], "Disabled");
    assert_eq!(default["id"], setting["id"], "the declared setting is the org default");
    assert_eq!(integration["messagingSetting"]["id"], setting["id"]);

    // Edited in the admin UI: drift names the field in every format.
    let id = setting["id"].as_str().unwrap_or_default().to_string();
    let edit =
        json!({"event": {"typing": {"on": {"inbound": "Disabled", "outbound": "Disabled"}}}});
    let answer = live.block_on(org.patch(&format!("{SETTINGS}/{id}"), edit));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let (code, text) = gcctl(&ctx, &["drift", "set"]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("~ MessagingSetting/bot-settings \"Bot Settings\" has drifted"),
        "{text}"
    );
    assert!(
        text.contains("/event/typing/on/inbound: declared \"Enabled\", live \"Disabled\""),
        "{text}"
    );
    for format in ["json", "markdown", "junit"] {
        let (code, report) = gcctl(&ctx, &["drift", "--output", format, "set"]);
        assert_eq!(code, 2, "{format}: {report}");
        assert!(report.contains("/event/typing/on/inbound"), "{format}: {report}");
    }
    // Apply puts it back with one PATCH of the setting, and plans clean again.
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("updated MessagingSetting/bot-settings"), "{text}");
    let by_route = live.requests_by_route();
    assert_eq!(
        by_route.get(&format!("PATCH {SETTINGS}/{{messageSettingId}}")),
        Some(&1),
        "{by_route:?}"
    );
    assert_eq!(gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]).0, 0);

    // Export writes it with `orgDefault: true` and the integration naming its handle.
    let (code, text) = gcctl(&ctx, &["export", "--out", "exported"]);
    assert_eq!(code, 0, "{text}");
    let exported =
        fs_err::read_to_string(ctx.path().join("exported/messaging-settings.yaml")).unwrap();
    let bot =
        exported.split("---\n").find(|d| d.contains("name: Bot Settings")).unwrap_or_default();
    assert!(bot.contains("  orgDefault: true\n"), "{exported}");
    assert_eq!(exported.matches("orgDefault").count(), 1, "only the default says so: {exported}");
    assert!(!exported.contains("version"), "read-only fields are not exported: {exported}");
    let open = fs_err::read_to_string(ctx.path().join("exported/open-messaging.yaml")).unwrap();
    assert!(open.contains("  messagingSetting: bot-settings\n"), "{open}");

    // Round trip: the export applied to a fresh org plans clean.
    let target = LiveSandbox::new();
    let mut fresh = connected(&target);
    fresh.env("BOT_WEBHOOK_SECRET", "round-trip-secret-0123456789");
    let dir = ctx.path().join("exported");
    let dir = dir.to_str().unwrap();
    let (code, text) = gcctl(&fresh, &["apply", "--auto-approve", "--secrets-dir", "s", dir]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = gcctl(&fresh, &["plan", "--detailed-exitcode", dir]);
    assert_eq!(code, 0, "the round trip plans clean:\n{text}");
    let default: Value = target.block_on(target.org.get(&format!("{SETTINGS}/default"))).body;
    assert_eq!(default["name"], "Bot Settings", "the default moved with the export");
}

#[test]
fn unsetting_the_default_and_refusing_to_prune_it() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    ctx.write("set/settings.yaml", MANIFESTS);
    assert_eq!(gcctl(&ctx, &["apply", "--auto-approve", "set"]).0, 0);

    // `orgDefault: false` on the current default unsets it.
    ctx.write("set/settings.yaml", &MANIFESTS.replace("orgDefault: true", "orgDefault: false"));
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("/orgDefault: true → false") || text.contains("/orgDefault"), "{text}");
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    let answer = live.block_on(live.org.get(&format!("{SETTINGS}/default")));
    assert_eq!(answer.status, 404, "no default any more: {}", answer.body);
    assert_eq!(gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]).0, 0);

    // A prune scope never plans to delete the org default (the seeded `Default`
    // is made the default again, and an undeclared setting beside it is pruned).
    let seeded = live.block_on(live.org.id_named(SETTINGS, "Default"));
    let answer =
        live.block_on(live.org.put(&format!("{SETTINGS}/default"), json!({"settingId": seeded})));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let answer = live.block_on(live.org.post(SETTINGS, json!({"name": "Stray"})));
    assert_eq!(answer.status, 200, "{}", answer.body);
    ctx.write(
        "set/project.yaml",
        "apiVersion: gcctl/v1\nkind: Project\nmetadata:\n  name: p\nspec:\n  prune:\n    - kind: MessagingSetting\n      names: [\"*\"]\n",
    );
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "--prune", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("deleted MessagingSetting \"Stray"), "{text}");
    assert!(!text.contains("MessagingSetting/Default"), "the org default is never pruned: {text}");
    live.block_on(live.org.id_named(SETTINGS, "Default"));
}

/// An org without a default messaging setting: no manifest can say so, so
/// export says that an org made from it keeps its own default; with a
/// default, export says nothing of it.
#[test]
fn an_org_without_a_default_is_said_on_export() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    let made = live.block_on(live.org.post(SETTINGS, json!({"name": "Plain Settings"})));
    assert_eq!(made.status, 200, "{}", made.body);
    let args = ["export", "--kinds", "MessagingSetting", "--out"];
    let (code, text) = gcctl(&ctx, &[&args[..], &["with-default"]].concat());
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("has no default"), "{text}");
    let unset = live.block_on(live.org.delete(&format!("{SETTINGS}/default")));
    assert!(unset.status < 300, "{}", unset.body);
    let (code, text) = gcctl(&ctx, &[&args[..], &["without"]].concat());
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("the org has no default MessagingSetting: none of the exported ones"),
        "{text}"
    );
}
