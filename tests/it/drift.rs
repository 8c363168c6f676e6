//! `gcctl drift` against a sandbox org changed behind gcctl's back: fields
//! edited, an object created and a declared one deleted directly through the
//! API. Each change must appear in every output format; the `JUnit` XML is read
//! with a standard `JUnit` parser (`junit-parser`).

use serde::Deserialize;
use serde_json::{Value, json};

use crate::common::{TestContext, repo_root, stderr, stdout};
use crate::export::LiveSandbox;

/// The drift report's JSON format as README.md documents it, written out
/// here independently of `gcctl::drift::DriftReport` so that any change to
/// the format fails this test.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonReport {
    format_version: String,
    gcctl_version: String,
    target: JsonTarget,
    environment: Option<String>,
    inputs_digest: String,
    include_unmanaged: bool,
    fail_on_unmanaged: bool,
    /// Present only for a partial report: the `--select` patterns.
    #[serde(default)]
    select: Vec<String>,
    objects: Vec<JsonDeclared>,
    unmanaged: Vec<JsonUnmanaged>,
    summary: JsonSummary,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonTarget {
    kind: String,
    location: String,
    org_id: Option<String>,
    org_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonDeclared {
    kind: String,
    manifest_name: String,
    org_name: String,
    id: Option<String>,
    /// `in-sync`, `drifted` or `missing`.
    status: String,
    /// What a reader should know beyond the fields (absent when none).
    #[serde(default)]
    notes: Vec<String>,
    fields: Vec<JsonDrifted>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonDrifted {
    pointer: String,
    declared: Option<Value>,
    live: Option<Value>,
    write_only: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonUnmanaged {
    kind: String,
    org_name: String,
    id: Option<String>,
    in_prune_scope: bool,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct JsonSummary {
    in_sync: usize,
    drifted: usize,
    missing: usize,
    unmanaged: usize,
    unmanaged_outside_scopes: usize,
}

const QUEUES: &str = "/api/v2/routing/queues";
const INTEGRATIONS: &str = "/api/v2/conversations/messaging/integrations/open";
const CLIENTS: &str = "/api/v2/oauth/clients";

/// The plan snapshots' filters (ids, times, digests), and the sandbox's port.
fn snapshot_settings() -> insta::Settings {
    let mut settings = crate::plan::settings();
    settings.add_filter(r"http://127\.0\.0\.1:\d+", "[SANDBOX]");
    settings
}

/// Run `gcctl drift` on the sample manifests; return (exit code, stdout).
fn drift(ctx: &TestContext, extra: &[&str]) -> (i32, String) {
    let manifests = repo_root().join("manifests");
    let mut args = vec!["drift", manifests.to_str().unwrap()];
    args.extend_from_slice(extra);
    let output = ctx.run(&args);
    let code = output.status.code().unwrap_or(-1);
    assert!(code == 0 || code == 2, "gcctl {}\n{}", args.join(" "), stderr(&output));
    (code, stdout(&output))
}

/// The sample manifests applied, then changed through the API.
fn drifted_org() -> (LiveSandbox, TestContext) {
    let live = LiveSandbox::new();
    let mut ctx = TestContext::new();
    live.connect(&mut ctx);
    ctx.env("ACME_BOT_WEBHOOK_SECRET", "sandbox-demo-secret-0123456789");
    let manifests = repo_root().join("manifests");
    let apply =
        ctx.run(&["apply", "--auto-approve", "--secrets-dir", "s", manifests.to_str().unwrap()]);
    assert_eq!(apply.status.code(), Some(0), "{}", stderr(&apply));
    // Drift runs as the admin OAuth client, as a nightly job would: the
    // client gcctl runs as is never reported as unmanaged.
    ctx.env("GENESYSCLOUD_ACCESS_TOKEN", "");

    let (code, text) = drift(&ctx, &["--include-unmanaged"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("No drift. The org matches the manifests (12 objects)."), "{text}");

    let org = &live.org;
    live.block_on(async {
        // Fields edited in the admin UI (PUT replaces the whole queue).
        let id = org.id_named(&format!("{QUEUES}?pageSize=500"), "Acme Support").await;
        let mut queue = org.get(&format!("{QUEUES}/{id}")).await.body;
        queue["description"] = json!("edited <by> \"hand\" & more");
        queue["mediaSettings"]["message"]["alertingTimeoutSeconds"] = json!(12);
        // `selfUri` is read-only: a write sends references as `{id}`.
        gcctl::kinds::org::id_references(&mut queue, &["type"]);
        assert_eq!(org.put(&format!("{QUEUES}/{id}"), queue).await.status, 200);
        // An agent removed from the queue.
        let members = org.get(&format!("{QUEUES}/{id}/members?memberBy=user")).await.body;
        let bob = members["entities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["user"]["email"] == "bob@sandbox.gcctl.example")
            .map(|m| m["id"].as_str().unwrap().to_string())
            .expect("bob is a member");
        assert_eq!(org.delete(&format!("{QUEUES}/{id}/members/{bob}")).await.status, 204);
        // The webhook URL changed, and the recorded secret version says the
        // secret was replaced outside gcctl (a missing header would count as
        // version 1: adopted integrations keep their secret).
        let id = org.id_named(INTEGRATIONS, "Acme Bot").await;
        let patch = json!({"name": "Acme Bot", "outboundNotificationWebhookUrl": "https://elsewhere.example/hook",
                           "webhookHeaders": {"X-Acme-Environment": "dev", "X-Gcctl-Secret-Version": "7"}});
        assert_eq!(org.patch(&format!("{INTEGRATIONS}/{id}"), patch).await.status, 200);
        // Objects created: one inside the "Acme *" prune scope, one outside.
        for name in ["Acme Rogue", "Other Team"] {
            assert_eq!(org.post(QUEUES, json!({"name": name})).await.status, 200);
        }
        // A declared object deleted.
        // (A client is set inactive before it can be deleted.)
        let id = org.id_named(CLIENTS, "Acme Bot Connector").await;
        let mut client = org.get(&format!("{CLIENTS}/{id}")).await.body;
        client["state"] = json!("inactive");
        assert_eq!(org.put(&format!("{CLIENTS}/{id}"), client).await.status, 200);
        assert_eq!(org.delete(&format!("{CLIENTS}/{id}")).await.status, 204);
    });
    (live, ctx)
}

#[test]
fn drift_shows_edits_creations_and_deletions_in_every_format() {
    let (_live, ctx) = drifted_org();

    let (code, text) = drift(&ctx, &["--include-unmanaged"]);
    assert_eq!(code, 2, "{text}");
    for expected in [
        "~ RoutingQueue/acme-support \"Acme Support\" has drifted",
        "/description: declared \"Conversations handed over by the Acme bot\", live \"edited <by> \\\"hand\\\" & more\"",
        "/mediaSettings/message/alertingTimeoutSeconds: declared 30, live 12",
        "/webhook/url: declared \"https://bot-dev.acme.example/genesys/webhook\", live \"https://elsewhere.example/hook\"",
        "/webhook/signatureSecretVersion: (write-only) differs from the declared version",
        "- OAuthClient/acme-bot-connector \"Acme Bot Connector\" is missing from the org",
        "? RoutingQueue \"Acme Rogue\" is not declared in the manifests (id ",
        "inside a prune scope: apply --prune would delete it",
        // A list item by item, live (-) against declared (+), as plan shows it.
        "    ~ /members: live (-) against declared (+):\n        + {\"email\":\"bob@sandbox.gcctl.example\",\"ringNumber\":2}\n          (1 unchanged)\n",
        "Drift: 2 drifted, 1 missing, 1 unmanaged (and 1 outside prune scopes, not counted) (9 in sync).",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in\n{text}");
    }
    let other = text.lines().find(|l| l.contains("\"Other Team\"")).expect("Other Team listed");
    assert!(other.ends_with("outside every prune scope"), "{other}");
    // What users see, reviewed: exit code, stdout and stderr, text and Markdown.
    let manifests = repo_root().join("manifests");
    let manifests = manifests.to_str().unwrap();
    for (name, format) in [("drift_text", "text"), ("drift_markdown", "markdown")] {
        let args = ["drift", manifests, "--include-unmanaged", "--output", format];
        let shown = crate::common::render(&ctx.run(&args), &[(&repo_root(), "[REPO]")]);
        snapshot_settings().bind(|| insta::assert_snapshot!(name, shown));
    }

    // JSON: the versioned contract, read back with unknown fields denied.
    let (code, json_text) = drift(&ctx, &["--include-unmanaged", "--output", "json"]);
    assert_eq!(code, 2);
    let report: JsonReport = serde_json::from_str(&json_text).expect("the documented format");
    assert_eq!(report.format_version, "1");
    assert_eq!(report.gcctl_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(report.target.kind, "org");
    assert!(!report.target.location.is_empty());
    // The org it read, as a plan names it.
    assert_eq!(report.target.org_name.as_deref(), Some("gcctl sandbox"));
    assert!(report.target.org_id.is_some_and(|id| !id.is_empty()));
    assert_eq!(report.environment, None);
    let digest = &report.inputs_digest;
    assert!(digest.len() == 64 && digest.chars().all(|c| c.is_ascii_hexdigit()), "{digest}");
    assert!(report.include_unmanaged);
    assert!(!report.fail_on_unmanaged);
    assert!(report.select.is_empty(), "a whole report");
    assert_eq!(
        report.summary,
        JsonSummary {
            in_sync: 9,
            drifted: 2,
            missing: 1,
            unmanaged: 1,
            unmanaged_outside_scopes: 1
        }
    );
    for object in &report.objects {
        assert!(object.notes.is_empty(), "these kinds have nothing to note: {object:?}");
        assert!(["in-sync", "drifted", "missing"].contains(&object.status.as_str()), "{object:?}");
        assert_eq!(object.fields.is_empty(), object.status != "drifted", "{object:?}");
    }
    let queue = report.objects.iter().find(|o| o.manifest_name == "acme-support").unwrap();
    assert_eq!(
        (queue.kind.as_str(), queue.org_name.as_str(), queue.status.as_str()),
        ("RoutingQueue", "Acme Support", "drifted")
    );
    assert!(queue.id.is_some());
    let timeout =
        queue.fields.iter().find(|f| f.pointer.ends_with("alertingTimeoutSeconds")).unwrap();
    assert_eq!(
        (timeout.declared.clone(), timeout.live.clone(), timeout.write_only),
        (Some(json!(30)), Some(json!(12)), false)
    );
    let integration = report.objects.iter().find(|o| o.manifest_name == "acme-bot").unwrap();
    let secret = integration.fields.iter().find(|f| f.write_only).expect("write-only field");
    assert_eq!(
        (&secret.declared, &secret.live),
        (&None, &None),
        "write-only values are never shown"
    );
    let client = report.objects.iter().find(|o| o.manifest_name == "acme-bot-connector").unwrap();
    assert_eq!((client.status.as_str(), client.id.as_deref()), ("missing", None));
    let unmanaged: Vec<(&str, &str, bool, bool)> = report
        .unmanaged
        .iter()
        .map(|u| (u.kind.as_str(), u.org_name.as_str(), u.in_prune_scope, u.id.is_some()))
        .collect();
    assert_eq!(
        unmanaged,
        [("RoutingQueue", "Acme Rogue", true, true), ("RoutingQueue", "Other Team", false, true)]
    );
    assert!(!json_text.contains("sandbox-demo-secret"));

    // Markdown, for an issue body.
    let (code, markdown) = drift(&ctx, &["--include-unmanaged", "--output", "markdown"]);
    assert_eq!(code, 2);
    for expected in [
        "### gcctl drift: 2 drifted, 1 missing, 1 unmanaged (and 1 outside prune scopes, not counted)",
        "| drifted | `RoutingQueue/acme-support` | Acme Support | 3 |",
        "| drifted | `OpenMessagingIntegration/acme-bot` | Acme Bot | 2 |",
        "| missing | `OAuthClient/acme-bot-connector` | Acme Bot Connector | |",
        "| unmanaged (in prune scope) | `RoutingQueue/Acme Rogue` | Acme Rogue | |",
        "| unmanaged (outside prune scopes) | `RoutingQueue/Other Team` | Other Team | |",
        "| `/mediaSettings/message/alertingTimeoutSeconds` | `30` | `12` |",
        "| `/webhook/signatureSecretVersion` | `(write-only)` | `(write-only, differs)` |",
        // A list item by item, in a diff block below the table.
        "| `/members` | 2 items, diff below | 1 item |",
        "`/members`:\n\n```diff\n+ {\"email\":\"bob@sandbox.gcctl.example\",\"ringNumber\":2}\n  (1 unchanged)\n```\n",
    ] {
        assert!(markdown.contains(expected), "missing `{expected}` in\n{markdown}");
    }

    // JUnit, read by a standard parser: every drifted, missing or counted
    // unmanaged object is a failed test case; in-sync objects pass; the
    // undeclared object outside every prune scope is not a case.
    let (code, xml) = drift(&ctx, &["--include-unmanaged", "--output", "junit"]);
    assert_eq!(code, 2);
    let suites = junit_parser::from_reader(std::io::Cursor::new(xml.as_bytes())).expect("JUnit");
    assert_eq!((suites.tests, suites.failures), (13, 4));
    assert!(!xml.contains("Other Team"), "{xml}");
    assert!(
        xml.contains("/members: live (-) against declared (+):\n  + {\"email\":\"bob@sandbox.gcctl.example\",\"ringNumber\":2}\n    (1 unchanged)"),
        "{xml}"
    );
    // Asked to, it fails too.
    let (code, xml) =
        drift(&ctx, &["--include-unmanaged", "--fail-on-unmanaged", "--output", "junit"]);
    assert_eq!(code, 2);
    assert!(xml.contains("RoutingQueue/Other Team (unmanaged)"), "{xml}");
    let names: Vec<&str> = suites.suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Role",
            "RoutingLanguage",
            "RoutingSkill",
            "RoutingWrapupCode",
            "MessagingSetting",
            "SupportedContentProfile",
            "UserRoutingProfile",
            "OpenMessagingIntegration",
            "RoutingQueue",
            "OAuthClient"
        ]
    );
    let case = |name: &str| {
        suites
            .suites
            .iter()
            .flat_map(|s| &s.cases)
            .find(|c| c.original_name == name)
            .unwrap_or_else(|| panic!("{name} in\n{xml}"))
    };
    assert!(case("Role/acme-bot-handover").status.is_success());
    let failure = case("RoutingQueue/acme-support").status.failure_as_ref().clone();
    assert_eq!(failure.failure_type, "drifted");
    assert!(failure.text.contains("/description: declared \"Conversations handed over by the Acme bot\", live \"edited <by> \\\"hand\\\" & more\""), "{}", failure.text);
    assert_eq!(
        case("OAuthClient/acme-bot-connector").status.failure_as_ref().failure_type,
        "missing"
    );
    let rogue = case("RoutingQueue/Acme Rogue (unmanaged)").status.failure_as_ref().clone();
    assert_eq!(rogue.failure_type, "unmanaged");
    assert!(rogue.message.contains("inside a prune scope"), "{}", rogue.message);
    assert_eq!(
        case("RoutingQueue/acme-support").classname.as_deref(),
        Some("gcctl.drift.RoutingQueue")
    );
}

#[test]
fn drift_without_unmanaged_objects_and_exit_codes() {
    let (_live, ctx) = drifted_org();
    let (code, xml) = drift(&ctx, &["--output", "junit"]);
    assert_eq!(code, 2);
    let suites = junit_parser::from_reader(std::io::Cursor::new(xml.as_bytes())).expect("JUnit");
    // Undeclared objects inside prune scopes are always reported: they are
    // what `apply --prune` would delete. Those outside are not looked for.
    assert_eq!((suites.tests, suites.failures), (13, 4), "{xml}");
    // A whole report: not marked partial.
    assert_eq!(suites.name, "gcctl drift");
    assert!(suites.suites.iter().all(|s| s.properties.hashmap.is_empty()), "{xml}");
    assert!(xml.contains("RoutingQueue/Acme Rogue (unmanaged)"), "{xml}");
    assert!(!xml.contains("Other Team"), "{xml}");
    let (_, json_text) = drift(&ctx, &["--output", "json"]);
    let report: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(
        report["summary"],
        json!({"in_sync": 9, "drifted": 2, "missing": 1, "unmanaged": 1, "unmanaged_outside_scopes": 0})
    );
    assert_eq!(report["unmanaged"][0]["org_name"], json!("Acme Rogue"));

    // An error (bad manifests) exits 1, not 2.
    ctx.write(
        "bad/queue.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec: {nme: x}\n",
    );
    let output = ctx.run(&["drift", "bad"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
}

/// Undeclared objects outside every prune scope are no drift (exit 0), but
/// `--include-unmanaged` lists them in every format, not only in JSON.
#[test]
fn objects_outside_prune_scopes_alone_are_listed_without_drift() {
    let live = LiveSandbox::new();
    let mut ctx = TestContext::new();
    live.connect(&mut ctx);
    ctx.env("ACME_BOT_WEBHOOK_SECRET", "sandbox-demo-secret-0123456789");
    let manifests = repo_root().join("manifests");
    let apply =
        ctx.run(&["apply", "--auto-approve", "--secrets-dir", "s", manifests.to_str().unwrap()]);
    assert_eq!(apply.status.code(), Some(0), "{}", stderr(&apply));
    ctx.env("GENESYSCLOUD_ACCESS_TOKEN", "");
    let answer = live.block_on(live.org.post(QUEUES, json!({"name": "Other Team"})));
    assert_eq!(answer.status, 200);

    let (code, text) = drift(&ctx, &["--include-unmanaged"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("? RoutingQueue \"Other Team\" is not declared in the manifests (id "),
        "{text}"
    );
    assert!(text.contains("), outside every prune scope\n"), "{text}");
    assert!(
        text.contains("No drift. The org matches the manifests (12 objects); 1 undeclared object outside every prune scope is listed, not counted."),
        "{text}"
    );
    let (code, markdown) = drift(&ctx, &["--include-unmanaged", "--output", "markdown"]);
    assert_eq!(code, 0, "{markdown}");
    assert!(markdown.contains("**No drift.** The org matches the manifests."), "{markdown}");
    assert!(
        markdown.contains(
            "| unmanaged (outside prune scopes) | `RoutingQueue/Other Team` | Other Team | |"
        ),
        "{markdown}"
    );
    let (code, json_text) = drift(&ctx, &["--include-unmanaged", "--output", "json"]);
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(report["unmanaged"][0]["org_name"], json!("Other Team"));
    // Without the flag they are not looked for; with --fail-on-unmanaged they count.
    let (code, text) = drift(&ctx, &[]);
    assert_eq!(code, 0);
    assert!(!text.contains("Other Team"), "{text}");
    let (code, text) = drift(&ctx, &["--include-unmanaged", "--fail-on-unmanaged"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("Other Team"), "{text}");
}

#[test]
fn ci_recipes_are_yaml_and_run_plan_apply_and_drift() {
    for (file, comment, install, store_always) in [
        ("github-actions.yml", "github-script", "uses: your-org/gcctl@v", "if: always()"),
        ("gitlab-ci.yml", "notes", "name: ghcr.io/your-org/gcctl:", "after_script:"),
    ] {
        let text = fs_err::read_to_string(repo_root().join("examples/ci").join(file)).unwrap();
        let docs = gcctl::manifest::yaml::parse_documents(&text).expect(file);
        assert_eq!(docs.len(), 1, "{file}");
        assert!(docs[0].get("apiVersion").is_none() && docs[0].get("kind").is_none());
        for expected in [
            "gcctl plan manifests --env \"$GCCTL_ENV\" --output markdown > plan.md",
            comment,
            "gcctl plan manifests --env \"$GCCTL_ENV\" --secrets-dir",
            "gcctl apply --plan gcctl.plan --auto-approve --secrets-dir",
            // Secrets are stored even when apply fails part way.
            store_always,
            "gcctl drift manifests --env \"$GCCTL_ENV\" --include-unmanaged --output junit > drift.xml",
        ] {
            assert!(text.contains(expected), "{file} lacks `{expected}`");
        }
        // The saved plan is made with apply's --secrets-dir (else it differs
        // from the plan apply computes when a secret needs restoring).
        let secrets_dir = |command: &str| {
            let line = text.lines().find(|l| l.contains(command)).expect(command);
            line.split("--secrets-dir ")
                .nth(1)
                .and_then(|r| r.split(' ').next())
                .map(str::to_string)
        };
        let planned = secrets_dir("--out gcctl.plan");
        assert!(planned.is_some(), "{file}: plan --out has no --secrets-dir");
        assert_eq!(planned, secrets_dir("gcctl apply --plan"), "{file}");
        // A released gcctl (setup-gcctl action, image), not an install command.
        assert!(text.contains(install), "{file} lacks `{install}`");
        assert!(!text.contains("GCCTL_INSTALL"), "{file} still uses GCCTL_INSTALL");
    }
    let readme = fs_err::read_to_string(repo_root().join("README.md")).unwrap();
    assert!(readme.contains("(examples/ci/github-actions.yml)"), "the README links the recipes");
    assert!(readme.contains("(examples/ci/gitlab-ci.yml)"), "the README links the recipes");
}
