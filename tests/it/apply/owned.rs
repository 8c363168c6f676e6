//! "We own what we declare", at apply: an update writes what the plan
//! showed and nothing else. Fields `ignoreDifferences` names keep the org's
//! value, and a PATCH keeps the fields the manifest leaves out beside the
//! declared ones (a messaging setting's other typing event, a webhook
//! header added in the UI), whether the org merges a PATCH deeply or
//! replaces whole top-level fields (as the sandbox does).

use serde_json::json;

use super::{ApplyOrg, INTEGRATIONS, QUEUES, assert_exit};

const QUEUE: &str = "
apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {name: q9}
ignoreDifferences: [/description]
spec: {name: Q Nine, description: declared desc, acwSettings: {timeoutMs: 60000}}
";

#[tokio::test]
async fn an_update_keeps_the_orgs_value_of_ignored_fields() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/q.yaml", QUEUE);
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    let clean = org.gcctl(&["plan", "set"]).await;
    assert!(!String::from_utf8_lossy(&clean.stdout).contains("ignored (ignoreDifferences)"));
    let queue = org.one(QUEUES, "Q Nine").await;
    let path = format!("/api/v2/routing/queues/{}", queue["id"].as_str().unwrap());
    let edited = json!({"name": "Q Nine", "description": "UI desc",
        "acwSettings": {"timeoutMs": 30000, "wrapupPrompt": "OPTIONAL"}});
    assert_eq!(org.org.put(&path, edited).await.status, 200);
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    let after = org.org.get(&path).await.body;
    assert_eq!(after["description"], "UI desc", "{after}");
    assert_eq!(after["acwSettings"]["timeoutMs"], 60000, "{after}");
    // Nothing to change, and the plan says the declared description is not
    // what the org holds (without either value).
    let plan = org.gcctl(&["plan", "--detailed-exitcode", "set"]).await;
    assert_exit(&plan, 0);
    let text = String::from_utf8_lossy(&plan.stdout).to_string();
    assert!(
        text.contains("`/description` is declared otherwise than the org holds it, and ignored (ignoreDifferences): the declared value is not written"),
        "{text}"
    );
    assert!(!text.contains("UI desc") && !text.contains("declared desc"), "{text}");
}

const SETTING: &str = "
apiVersion: gcctl/v1
kind: MessagingSetting
metadata: {name: partial}
spec: {name: Partial Setting, event: {typing: {on: {inbound: Enabled}}}}
";

#[tokio::test]
async fn a_patch_keeps_the_fields_beside_the_declared_ones() {
    let org = ApplyOrg::default().await;
    let settings = "/api/v2/conversations/messaging/settings";
    let made = org
        .org
        .post(
            settings,
            json!({"name": "Partial Setting",
                "event": {"typing": {"on": {"inbound": "Disabled", "outbound": "Enabled"}}}}),
        )
        .await;
    assert_eq!(made.status, 200, "{:?}", made.body);
    org.ctx.write("set/s.yaml", SETTING);
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    let path = format!("{settings}/{}", made.body["id"].as_str().unwrap());
    let after = org.org.get(&path).await.body;
    assert_eq!(
        after["event"]["typing"]["on"],
        json!({"inbound": "Enabled", "outbound": "Enabled"})
    );
}

/// The apply of the sample repo (`manifests/`, as `ARGS` applies it), its
/// integration "Acme Bot" as the org holds it, and its API path.
async fn applied_samples() -> (ApplyOrg, serde_json::Value, String) {
    let mut org = ApplyOrg::default().await;
    super::copy_tree(&crate::common::repo_root().join("manifests"), &org.ctx.path().join("set"));
    org.ctx.env("ACME_BOT_WEBHOOK_SECRET", "sandbox-demo-secret-0123456789");
    assert_exit(&org.gcctl(&ARGS).await, 0);
    let bot = org.one(INTEGRATIONS, "Acme Bot").await;
    let id = bot["id"].as_str().unwrap();
    let path = format!("/api/v2/conversations/messaging/integrations/open/{id}");
    (org, bot, path)
}

/// Apply the sample repo, its secrets written to `s`.
const ARGS: [&str; 5] = ["apply", "--auto-approve", "--secrets-dir", "s", "set"];

/// What `plan`, `drift` and `plan --output json` of `set` print (stdout and
/// stderr), each with its command: where a secret must never show.
async fn reports(org: &ApplyOrg) -> Vec<(&'static [&'static str], String)> {
    let mut out = Vec::new();
    for command in [&["plan", "set"][..], &["drift", "set"], &["plan", "--output", "json", "set"]] {
        let run = org.gcctl(command).await;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        out.push((command, text));
    }
    out
}

/// No file an export wrote (manifests, flow files, the secrets list) holds `canary`.
fn assert_no_file_holds(dir: &std::path::Path, canary: &str) {
    let mut files = Vec::new();
    crate::common::files_with(dir, &["yaml", "example"], &mut files);
    assert!(!files.is_empty(), "no files in {}", dir.display());
    for file in files {
        assert!(!fs_err::read_to_string(&file).unwrap().contains(canary), "{}", file.display());
    }
}

#[tokio::test]
async fn a_header_added_in_the_ui_survives_an_update_of_the_integration() {
    let (org, bot, path) = applied_samples().await;
    let mut headers = bot["webhookHeaders"].clone();
    headers["X-Extra"] = json!("1");
    let edit = json!({"name": "Acme Bot", "webhookHeaders": headers,
        "outboundNotificationWebhookUrl": "https://x.example/h"});
    assert_eq!(org.org.patch(&path, edit).await.status, 200);
    // Not compared, but said by name (a header added in the UI may carry a credential).
    let note = "the org's webhook sends the header \"X-Extra\" that the manifest does not declare: kept and not compared";
    for command in [&["plan", "set"][..], &["drift", "set"]] {
        let out = org.gcctl(command).await;
        assert!(crate::common::stdout(&out).contains(note), "{}", crate::common::stdout(&out));
    }
    assert_exit(&org.gcctl(&ARGS).await, 0);
    let after = org.org.get(&path).await.body;
    assert_eq!(after["webhookHeaders"]["X-Extra"], "1", "{after}");
    assert_ne!(after["outboundNotificationWebhookUrl"], "https://x.example/h", "{after}");
}

/// Header names are one in any case: a declared header the UI set again in
/// lower case shows its live value in drift and plan, and the apply
/// replaces it (and the secret version header) instead of adding a second.
#[tokio::test]
async fn a_header_set_in_another_case_is_compared_and_replaced_not_doubled() {
    let (org, bot, path) = applied_samples().await;
    let declared = bot["webhookHeaders"]["X-Acme-Environment"].clone();
    assert!(declared.is_string(), "{bot}");
    let edit = json!({"name": "Acme Bot", "webhookHeaders":
        {"x-acme-environment": "prod", "x-gcctl-secret-version": "1"}});
    assert_eq!(org.org.patch(&path, edit).await.status, 200);
    let drift = org.gcctl(&["drift", "set"]).await;
    let text = String::from_utf8_lossy(&drift.stdout).to_string();
    assert!(
        text.contains(&format!(
            "/webhook/headers/X-Acme-Environment: declared {declared}, live \"prod\""
        )),
        "{text}"
    );
    assert_exit(&org.gcctl(&ARGS).await, 0);
    let after = org.org.get(&path).await.body;
    let names: Vec<&String> = after["webhookHeaders"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["X-Acme-Environment", "X-Gcctl-Secret-Version"], "{after}");
    assert_eq!(after["webhookHeaders"]["X-Acme-Environment"], declared, "{after}");
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);

    // Two live variants, one of them the declared value: still a change
    // (the org holds two headers), which leaves one; export writes one.
    let edit = json!({"name": "Acme Bot", "webhookHeaders": {"X-ACME-ENVIRONMENT": declared,
        "x-acme-environment": "prod", "X-Gcctl-Secret-Version": "1"}});
    assert_eq!(org.org.patch(&path, edit).await.status, 200);
    let out =
        org.gcctl(&["export", "--out", "exported", "--kinds", "OpenMessagingIntegration"]).await;
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(text.contains("differ only in case, which HTTP reads as one header: only `X-ACME-ENVIRONMENT` is exported (applying the export to this org keeps `X-ACME-ENVIRONMENT` and removes `x-acme-environment`)"), "{text}");
    assert_exit(&out, 0);
    // And so it does: the exported manifests plan that removal in this org.
    let planned = org.gcctl(&["plan", "--detailed-exitcode", "exported"]).await;
    assert_exit(&planned, 2);
    let shown = String::from_utf8_lossy(&planned.stdout).to_string();
    assert!(shown.contains("Plan: 0 to create, 1 to update"), "{shown}");
    assert!(shown.contains("/webhook/headers/X-ACME-ENVIRONMENT"), "{shown}");
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 2);
    assert_exit(&org.gcctl(&ARGS).await, 0);
    let after = org.org.get(&path).await.body;
    let names: Vec<&String> = after["webhookHeaders"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["X-Acme-Environment", "X-Gcctl-Secret-Version"], "{after}");

    // gcctl's own header twice (set again in the UI in another case): no
    // variant is a header of the manifest's, and the version is the one
    // written as gcctl writes it. Export wrote the other as a header,
    // which its own check then refused.
    let edit = json!({"name": "Acme Bot", "webhookHeaders": {"X-Acme-Environment": declared,
        "X-Gcctl-Secret-Version": "1", "x-gcctl-secret-version": "5"}});
    assert_eq!(org.org.patch(&path, edit).await.status, 200);
    let out = org.gcctl(&["export", "--out", "twice", "--kinds", "OpenMessagingIntegration"]).await;
    assert_exit(&out, 0);
    let written = fs_err::read_to_string(org.ctx.path().join("twice/webhooks.yaml")).unwrap();
    assert!(!written.to_ascii_lowercase().contains("x-gcctl-secret-version"), "{written}");
    assert!(written.contains("signatureSecretVersion: 1"), "{written}");
}

/// Header names are one in any case, in `ignoreDifferences` too: a pointer
/// to a declared header written in another case ignores it, in the plan
/// (no change, a note) and in an update of another field (the org's value
/// is kept). It ignored nothing, and the apply wrote the declared value.
#[tokio::test]
async fn an_ignored_header_is_ignored_whatever_the_case_of_its_pointer() {
    let (org, _, path) = applied_samples().await;
    let set = fs_err::read_to_string(org.ctx.path().join("set/messaging.yaml")).unwrap();
    let edited = set
        .replace(
            "metadata:\n  name: acme-bot\nspec:\n",
            "metadata:\n  name: acme-bot\nignoreDifferences: [/webhook/headers/x-acme-environment]\nspec:\n",
        )
        .replace("X-Acme-Environment: ${var.envName}", "X-Acme-Environment: declared-env");
    assert_ne!(edited, set);
    fs_err::write(org.ctx.path().join("set/messaging.yaml"), &edited).unwrap();
    let plan = org.gcctl(&["plan", "--detailed-exitcode", "set"]).await;
    assert_exit(&plan, 0);
    let text = String::from_utf8_lossy(&plan.stdout).to_string();
    assert!(
        text.contains("`/webhook/headers/X-Acme-Environment` is declared otherwise than the org holds it, and ignored"),
        "{text}"
    );
    // Another change of the integration (its URL) keeps the org's header.
    let moved = edited.replace("https://${var.botWebhookHost}/", "https://moved.acme.example/");
    assert_ne!(moved, edited);
    fs_err::write(org.ctx.path().join("set/messaging.yaml"), &moved).unwrap();
    let live = org.org.get(&path).await.body;
    let held = live["webhookHeaders"]["X-Acme-Environment"].clone();
    assert_ne!(held, "declared-env", "{live}");
    assert_exit(&org.gcctl(&ARGS).await, 0);
    let after = org.org.get(&path).await.body;
    assert_eq!(
        after["outboundNotificationWebhookUrl"],
        "https://moved.acme.example/genesys/webhook"
    );
    assert_eq!(after["webhookHeaders"]["X-Acme-Environment"], held, "{after}");
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}

/// A webhook URL the org holds with credentials in it (set in the UI):
/// plan and drift show it with them redacted, and export leaves the
/// integration out rather than write them to a file.
#[tokio::test]
async fn credentials_in_a_live_webhook_url_are_never_shown_nor_exported() {
    let (org, _, path) = applied_samples().await;
    let canary = "pw-canary-7d1c";
    let edit = json!({"name": "Acme Bot",
        "outboundNotificationWebhookUrl": format!("https://bot:{canary}@bot-dev.acme.example/genesys/webhook")});
    assert_eq!(org.org.patch(&path, edit).await.status, 200);
    for (command, text) in reports(&org).await {
        assert!(text.contains("/webhook/url"), "{command:?}: {text}");
        assert!(!text.contains(canary), "{command:?}: {text}");
    }
    let kinds = "OpenMessagingIntegration,RoutingQueue";
    let out = org.gcctl(&["export", "--out", "exported", "--kinds", kinds]).await;
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(text.contains("its webhook URL holds credentials"), "{text}");
    assert!(!text.contains(canary), "{text}");
    // The queue that replies through it names it by its org name, which
    // the org resolves: the export plans.
    let queues = fs_err::read_to_string(org.ctx.path().join("exported/queues.yaml")).unwrap();
    assert!(queues.contains("openMessagingRecipient: Acme Bot"), "{queues}");
    assert_exit(&org.gcctl(&["plan", "exported"]).await, 0);
    assert_no_file_holds(&org.ctx.path().join("exported"), canary);
}

/// A webhook header that carries a credential (`Authorization`, set in the
/// UI): plan, drift and JSON show it redacted, the token after its scheme
/// too, and export leaves the integration out rather than write it to a
/// file. Declared in a manifest, it is a warning, and never printed either.
#[tokio::test]
async fn credentials_in_webhook_headers_are_never_shown_nor_exported() {
    let (org, _, path) = applied_samples().await;
    let canary = "tok-canary-51f9e2";
    let edit = json!({"name": "Acme Bot", "webhookHeaders": {"X-Acme-Environment": "dev",
        "Authorization": format!("Bearer {canary}"), "X-Gcctl-Secret-Version": "1"}});
    assert_eq!(org.org.patch(&path, edit).await.status, 200);
    for (command, text) in reports(&org).await {
        assert!(!text.contains(canary), "{command:?}: {text}");
    }
    let kinds = "OpenMessagingIntegration,RoutingQueue";
    let out = org.gcctl(&["export", "--out", "exported", "--kinds", kinds]).await;
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(text.contains("its webhook header `Authorization` carries a credential, which gcctl never writes to a file"), "{text}");
    assert!(!text.contains(canary), "{text}");
    assert_exit(&org.gcctl(&["plan", "exported"]).await, 0);
    assert_no_file_holds(&org.ctx.path().join("exported"), canary);
    // Named as a signing header is (the words of a query credential).
    let passphrase = "correct-horse-canary-73b1";
    let edit = json!({"name": "Acme Bot", "webhookHeaders": {"X-Acme-Environment": "dev",
        "X-Passphrase": passphrase, "X-Gcctl-Secret-Version": "1"}});
    assert_eq!(org.org.patch(&path, edit).await.status, 200);
    let out = org.gcctl(&["export", "--out", "signed", "--kinds", kinds]).await;
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(text.contains("its webhook header `X-Passphrase` carries a credential, which gcctl never writes to a file"), "{text}");
    assert_no_file_holds(&org.ctx.path().join("signed"), passphrase);
    let edit = json!({"name": "Acme Bot", "webhookHeaders": {"X-Acme-Environment": "dev",
        "Authorization": format!("Bearer {canary}"), "X-Gcctl-Secret-Version": "1"}});
    assert_eq!(org.org.patch(&path, edit).await.status, 200);

    // Declared: a warning, and the plan that writes it never shows it.
    let declared = "tok-declared-8c3a07";
    let set = fs_err::read_to_string(org.ctx.path().join("set/messaging.yaml")).unwrap();
    let edited = set.replace(
        "    X-Acme-Environment: ${var.envName}\n",
        &format!(
            "    X-Acme-Environment: ${{var.envName}}\n    Authorization: Bearer {declared}\n"
        ),
    );
    assert_ne!(edited, set);
    fs_err::write(org.ctx.path().join("set/messaging.yaml"), edited).unwrap();
    let out = org.gcctl(&["validate", "set"]).await;
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        text.contains("warning: the header `Authorization` looks like it carries a credential"),
        "{text}"
    );
    // Both values differ, both are redacted, the org's and the declared one.
    for (command, text) in reports(&org).await {
        assert!(text.contains("/webhook/headers/Authorization"), "{command:?}: {text}");
        assert!(!text.contains(declared) && !text.contains(canary), "{command:?}: {text}");
    }
    // A saved plan holds neither, and applies: it is compared with a fresh
    // plan as that would be written, and the fresh plan runs.
    let saved = org.gcctl(&["plan", "--secrets-dir", "s", "--out", "p.json", "set"]).await;
    assert_exit(&saved, 0);
    let file = fs_err::read_to_string(org.ctx.path().join("p.json")).unwrap();
    assert!(
        file.contains("[redacted]") && !file.contains(declared) && !file.contains(canary),
        "{file}"
    );
    let applied =
        org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "s", "--plan", "p.json"]).await;
    assert_exit(&applied, 0);
    let after = org.org.get(&path).await.body;
    assert_eq!(after["webhookHeaders"]["Authorization"], format!("Bearer {declared}"), "{after}");
}

/// A webhook URL whose query carries a credential (an Azure Functions
/// `?code=`, a Power Automate trigger's `sig=`): plan, drift and JSON show
/// the URL with the value redacted, as written and percent-decoded; export
/// leaves the integration out rather than write it to a file. Declared, it
/// is a warning, never printed either, and a saved plan of it applies.
#[tokio::test]
async fn credentials_in_a_webhook_urls_query_are_never_shown_nor_exported() {
    let (org, _, path) = applied_samples().await;
    // Percent-encoded in the URL: neither form may show.
    let (canary, decoded) = ("qry-canary%2B51f9/e2", "qry-canary+51f9/e2");
    let url = format!("https://bot-dev.acme.example/genesys/webhook?env=dev&code={canary}");
    let edit = json!({"name": "Acme Bot", "outboundNotificationWebhookUrl": url});
    assert_eq!(org.org.patch(&path, edit).await.status, 200);
    for (command, text) in reports(&org).await {
        assert!(text.contains("/webhook/url"), "{command:?}: {text}");
        assert!(text.contains("/genesys/webhook?env=dev&[redacted]"), "{command:?}: {text}");
        assert!(!text.contains(canary) && !text.contains(decoded), "{command:?}: {text}");
    }
    let kinds = "OpenMessagingIntegration,RoutingQueue";
    let out = org.gcctl(&["export", "--out", "exported", "--kinds", kinds]).await;
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(text.contains("its webhook URL's query parameter `code` carries a credential, which gcctl never writes to a file"), "{text}");
    assert!(!text.contains(canary) && !text.contains(decoded), "{text}");
    assert_exit(&org.gcctl(&["plan", "exported"]).await, 0);
    assert_no_file_holds(&org.ctx.path().join("exported"), canary);
    assert_no_file_holds(&org.ctx.path().join("exported"), decoded);

    // Declared: a warning, and the plan that writes it never shows it.
    let declared = "sig-declared-8c3a07";
    let set = fs_err::read_to_string(org.ctx.path().join("set/messaging.yaml")).unwrap();
    let edited = set.replace(
        "/genesys/webhook\n",
        &format!("/genesys/webhook?api-version=2016-06-01&sig={declared}\n"),
    );
    assert_ne!(edited, set);
    fs_err::write(org.ctx.path().join("set/messaging.yaml"), edited).unwrap();
    let out = org.gcctl(&["validate", "set"]).await;
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        text.contains(
            "warning: the URL's query parameter `sig` looks like it carries a credential"
        ),
        "{text}"
    );
    assert!(!text.contains(declared), "{text}");
    for (command, text) in reports(&org).await {
        assert!(text.contains("?api-version=2016-06-01&[redacted]"), "{command:?}: {text}");
        assert!(!text.contains(declared) && !text.contains(canary), "{command:?}: {text}");
    }
    let saved = org.gcctl(&["plan", "--secrets-dir", "s", "--out", "p.json", "set"]).await;
    assert_exit(&saved, 0);
    let file = fs_err::read_to_string(org.ctx.path().join("p.json")).unwrap();
    assert!(file.contains("[redacted]") && !file.contains(declared), "{file}");
    let applied =
        org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "s", "--plan", "p.json"]).await;
    assert_exit(&applied, 0);
    let after = org.org.get(&path).await.body;
    let url = after["outboundNotificationWebhookUrl"].as_str().unwrap();
    assert!(url.ends_with(&format!("&sig={declared}")), "{after}");
}

const RULES: &str = "
apiVersion: gcctl/v1
kind: Project
metadata: {name: p}
spec:
  ignoreDifferences: [{kind: RoutingQueue, jsonPointers: [/routingRules/0/threshold]}]
---
apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {name: q}
spec:
  name: Rules Queue
  routingRules: [{operator: MEETS_THRESHOLD, threshold: 9, waitSeconds: 5}]
";

/// A pointer into a list's item is not ignored by the plan (a list is
/// compared whole), nor by the apply: the change the plan shows is the one
/// written, and the next plan is clean (it never converged when the apply
/// wrote the org's item field back).
#[tokio::test]
async fn a_pointer_into_a_list_item_is_not_ignored_by_the_apply_either() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/q.yaml", RULES);
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    let queue = org.one(QUEUES, "Rules Queue").await;
    let path = format!("/api/v2/routing/queues/{}", queue["id"].as_str().unwrap());
    let edited = json!({"name": "Rules Queue",
        "routingRules": [{"operator": "MEETS_THRESHOLD", "threshold": 3, "waitSeconds": 5}]});
    let answer = org.org.put(&path, edited).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    assert_eq!(org.org.get(&path).await.body["routingRules"][0]["threshold"], 9);
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}
