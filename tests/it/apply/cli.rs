//! The `gcctl apply` command: the README's first run, JSON events,
//! confirmation without a terminal, refusals before any change, and failures
//! that skip their dependents while independent branches go on.

use serde_json::{Value, json};

use super::{ApplyOrg, CLIENTS, INTEGRATIONS, QUEUES, ROLES, assert_exit, copy_tree, secret_files};
use crate::common::{TestContext, repo_root, stderr, stdout};

#[test]
fn fresh_clone_applies_the_sample_repo_then_plans_clean() {
    let mut ctx = TestContext::new();
    copy_tree(&repo_root().join("manifests"), &ctx.path().join("manifests"));
    ctx.env("ACME_BOT_WEBHOOK_SECRET", "sandbox-demo-secret-0123456789");
    let apply = ctx.run(&[
        "--sandbox",
        "apply",
        "--auto-approve",
        "--secrets-dir",
        ".gcctl/secrets",
        "manifests/",
    ]);
    assert_eq!(apply.status.code(), Some(0), "{}{}", stdout(&apply), stderr(&apply));
    assert!(stderr(&apply).contains("Apply complete: 10 created"), "{}", stderr(&apply));
    let plan = ctx.run(&["--sandbox", "plan", "--detailed-exitcode", "manifests/"]);
    assert_eq!(plan.status.code(), Some(0), "{}{}", stdout(&plan), stderr(&plan));

    // One 0600 JSON file per created OAuth client, holding a client of the org.
    let files = secret_files(&ctx.path().join(".gcctl/secrets"));
    let state: Value = serde_json::from_str(
        &fs_err::read_to_string(ctx.path().join(".gcctl/sandbox/org.json")).unwrap(),
    )
    .unwrap();
    let created: Vec<&Value> = state["oauthClients"]
        .as_object()
        .unwrap()
        .values()
        .filter(|c| c["name"] != gcctl::sandbox::ADMIN_CLIENT_NAME)
        .collect();
    assert_eq!(files.len(), created.len(), "{files:?}");
    for (file, secret, mode) in &files {
        assert_eq!(*mode, 0o600, "{file}");
        assert!(created.iter().any(|c| c["id"] == secret["clientId"]), "{file}: {secret:?}");
        assert!(secret["clientSecret"].as_str().is_some_and(|s| s.len() >= 16), "{file}");
    }
}

#[tokio::test]
async fn json_output_is_one_event_per_line() {
    let org = ApplyOrg::default().await;
    copy_tree(&repo_root().join("manifests"), &org.ctx.path().join("manifests"));
    let args = ["apply", "--auto-approve", "--secrets-dir", "s", "--output", "json", "manifests"];
    let output = org.gcctl(&args).await;
    assert_exit(&output, 0);
    let run = super::contract::parse(&stdout(&output));
    let created: Vec<_> = run.events.iter().filter(|e| e.event == "created").collect();
    assert_eq!(created.len(), 10, "{created:?}");
    assert!(created.iter().all(|e| e.id.is_some()), "{created:?}");
    assert!(run.summary.converged && !run.summary.signalled);
    assert_eq!(run.summary.summary.created, 10);
}

#[tokio::test]
async fn without_a_terminal_and_without_auto_approve_apply_refuses() {
    let org = ApplyOrg::default().await;
    copy_tree(&repo_root().join("manifests"), &org.ctx.path().join("manifests"));
    let output = org.gcctl(&["apply", "--secrets-dir", "s", "manifests"]).await;
    assert_exit(&output, 1);
    let err = stderr(&output);
    assert!(err.contains("no terminal") && err.contains("--auto-approve"), "{err}");
    assert!(org.named(QUEUES, "Acme Support").await.is_empty(), "nothing was changed");
    assert!(org.named(ROLES, "Acme Bot Handover").await.is_empty(), "nothing was changed");
}

#[tokio::test]
async fn creating_an_oauth_client_without_a_secrets_dir_is_refused_before_any_change() {
    let org = ApplyOrg::default().await;
    copy_tree(&repo_root().join("manifests"), &org.ctx.path().join("manifests"));
    let output = org.gcctl(&["apply", "--auto-approve", "manifests"]).await;
    assert_exit(&output, 1);
    let err = stderr(&output);
    assert!(
        err.contains("OAuthClient/acme-bot-connector") && err.contains("--secrets-dir"),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(org.named(QUEUES, "Acme Support").await.is_empty());
    assert!(org.named(ROLES, "Acme Bot Handover").await.is_empty());
    assert!(org.named(INTEGRATIONS, "Acme Bot").await.is_empty());
    assert!(org.named(CLIENTS, "Acme Bot Connector").await.is_empty());
}

const FAILING_SET: &str = r"
apiVersion: gcctl/v1
kind: Webhook
metadata: {name: hook}
spec:
  url: https://bot.example.com/hook
  signatureSecret: {fromEnv: ACME_BOT_WEBHOOK_SECRET}
---
apiVersion: gcctl/v1
kind: OpenMessagingIntegration
metadata: {name: broken}
spec:
  name: sandbox-create-error Broken
  webhook: hook
---
apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {name: replies-through-broken}
spec:
  name: Replies Through Broken
  outboundMessagingAddresses: {openMessagingRecipient: broken}
---
apiVersion: gcctl/v1
kind: Role
metadata: {name: clashing}
spec:
  name: Clashing Role
  permissions: [routing:queue:view]
---
apiVersion: gcctl/v1
kind: OAuthClient
metadata: {name: holds-clashing}
spec:
  name: Holds Clashing
  authorizedGrantType: CLIENT-CREDENTIALS
  roleDivisions: [{role: clashing}]
---
apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {name: independent}
spec:
  name: Independent Queue
  description: on a branch of its own
";

#[tokio::test]
async fn a_failed_change_skips_its_dependents_and_independent_branches_go_on() {
    let org = ApplyOrg::default().await;
    // Role names are unique regardless of case: the create of `Clashing Role` is a 409.
    let clash = org
        .org
        .post(
            "/api/v2/authorization/roles",
            json!({"name": "CLASHING ROLE", "permissionPolicies": []}),
        )
        .await;
    assert_eq!(clash.status, 200, "{:?}", clash.body);
    org.ctx.write("set/all.yaml", FAILING_SET);
    let output = org
        .gcctl(&["apply", "--auto-approve", "--secrets-dir", "s", "--output", "json", "set"])
        .await;
    assert_exit(&output, 1);
    let events: Vec<Value> =
        stdout(&output).lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    let last = |object: &str| {
        events
            .iter()
            .rev()
            .find(|e| e["object"] == object && e["event"] != "started")
            .unwrap_or_else(|| panic!("no event for {object}: {events:?}"))
            .clone()
    };
    let role = last("Role/clashing");
    assert_eq!(role["event"], "failed", "{role}");
    let message = role["message"].as_str().unwrap();
    for part in ["Role/clashing", "POST /api/v2/authorization/roles", "409", "correlation id"] {
        assert!(message.contains(part), "{part} missing in: {message}");
    }
    let integration = last("OpenMessagingIntegration/broken");
    assert_eq!(integration["event"], "failed", "{integration}");
    let message = integration["message"].as_str().unwrap();
    for part in [
        "OpenMessagingIntegration/broken",
        "GET /api/v2/conversations/messaging/integrations/open/",
        "correlation id",
    ] {
        assert!(message.contains(part), "{part} missing in: {message}");
    }
    for (dependent, upstream) in [
        ("OAuthClient/holds-clashing", "Role/clashing"),
        ("RoutingQueue/replies-through-broken", "OpenMessagingIntegration/broken"),
    ] {
        let event = last(dependent);
        assert_eq!(event["event"], "skipped", "{event}");
        assert_eq!(event["message"], format!("upstream failed: {upstream}"), "{event}");
    }
    assert_eq!(last("RoutingQueue/independent")["event"], "created");
    let summary = events.last().unwrap();
    assert_eq!(summary["converged"], json!(false));
    assert_eq!(summary["summary"]["failed"], json!(2));
    // The client, the grant of its role to the caller, and the queue.
    assert_eq!(summary["summary"]["skipped"], json!(3));
    assert_eq!(org.named(QUEUES, "Independent Queue").await.len(), 1);
    assert!(org.named(QUEUES, "Replies Through Broken").await.is_empty());
    assert!(org.named(CLIENTS, "Holds Clashing").await.is_empty());

    // The integration whose create failed exists, broken: the next plan stops
    // and says how to clear it instead of adopting it.
    let again = org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "s", "set"]).await;
    assert_exit(&again, 1);
    let err = stderr(&again);
    assert!(err.contains("failed to be created (createStatus Error"), "{err}");
    assert!(err.contains("DELETE /api/v2/conversations/messaging/integrations/open/"), "{err}");
    let broken = org.one(INTEGRATIONS, "sandbox-create-error Broken").await;
    let path = format!(
        "/api/v2/conversations/messaging/integrations/open/{}",
        broken["id"].as_str().unwrap()
    );
    assert_eq!(org.org.delete(&path).await.status, 204);

    // The text report says the same on stderr, and exits 1: each failure
    // once, as it happens (`error:` / `Caused by:`), and at the end a count.
    let text = org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "s", "set"]).await;
    assert_exit(&text, 1);
    let err = stderr(&text);
    assert!(
        err.contains(
            "skipped OAuthClient/holds-clashing \"Holds Clashing\": upstream failed: Role/clashing"
        ),
        "{err}"
    );
    assert_eq!(err.matches("creating Role/clashing").count(), 1, "reported once: {err}");
    assert_eq!(err.matches("409 Conflict").count(), 1, "reported once: {err}");
    // The operation is named once: the cause carries the HTTP call.
    let call = "POST /api/v2/authorization/roles";
    assert_eq!(err.matches(call).count(), 1, "the call is named once: {err}");
    let failure = err.lines().position(|l| l.starts_with("error: creating Role/clashing"));
    let failure = failure.unwrap_or_else(|| panic!("an error: line: {err}"));
    let cause = err.lines().nth(failure + 1).unwrap_or_default();
    assert!(cause.trim_start().starts_with("Caused by:") && cause.contains("409"), "{err}");
    assert!(err.contains("Apply did not converge"), "{err}");
    assert!(err.contains("2 failed, 3 skipped. The 2 failures are reported above."), "{err}");
}

/// On a terminal, apply shows what is happening: the read, then each change
/// with a counter and the elapsed time; without one (every other test), no
/// progress is printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_shows_on_a_terminal_only() {
    let org = ApplyOrg::default().await;
    org.ctx.write(
        "set/q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: a}\nspec: {name: Progress A}\n---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: b}\nspec: {name: Progress B}\n",
    );
    let Some(mut command) = org.ctx.on_a_terminal("apply --auto-approve set") else {
        return; // Skipped, and said so (GCCTL_TEST_NO_SCRIPT=1).
    };
    let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n");
    assert!(output.status.success(), "{text}");
    assert!(text.contains("Reading the org (org "), "{text}");
    assert!(text.contains("[1/2 ") && text.contains("[2/2 "), "{text}");
    assert!(text.contains("s] created RoutingQueue/"), "{text}");
    // Not on a terminal: no counters.
    org.ctx.write(
        "set/q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: a}\nspec: {name: Progress A, description: x}\n",
    );
    let plain = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    assert_exit(&plain, 0);
    let err = stderr(&plain);
    assert!(!err.contains("[1/") && !err.contains("Reading the org ("), "{err}");
}

/// On a terminal, a slow read reports how far it got every two seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_read_shows_progress_on_a_terminal() {
    // Every read of a plan goes out at once: one round trip must pass the
    // two seconds after which progress is told.
    let config = gcctl::sandbox::SandboxConfig { latency_ms: 2_500, ..Default::default() };
    let org = ApplyOrg::start(config).await;
    org.ctx.write(
        "set/q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: a}\nspec: {name: Slow A}\n",
    );
    let Some(mut command) = org.ctx.on_a_terminal("plan set") else {
        return; // Skipped, and said so (GCCTL_TEST_NO_SCRIPT=1).
    };
    let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n");
    assert!(output.status.success(), "{text}");
    assert!(text.contains("Reading the org: "), "{text}");
    assert!(text.contains(" so far, 2s"), "{text}");
}

/// On a terminal too, `-q` and `--output json` show no progress: no
/// "Reading the org" line, no counters; the JSON is all there is on stdout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_and_json_output_show_no_progress_on_a_terminal() {
    let org = ApplyOrg::default().await;
    org.ctx.write(
        "set/q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: a}\nspec: {name: Quiet A}\n",
    );
    for args in [
        "plan --output json set",
        "-q plan set",
        "drift --output json set",
        "-q drift set",
        "apply --auto-approve --output json set",
    ] {
        let Some(mut command) = org.ctx.on_a_terminal(args) else {
            return; // Skipped, and said so (GCCTL_TEST_NO_SCRIPT=1).
        };
        let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().unwrap();
        let text = String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n");
        assert!(!text.contains("Reading the org"), "gcctl {args}:\n{text}");
        assert!(!text.contains("[1/1 "), "gcctl {args}:\n{text}");
    }
}

/// The org's text in apply's output and errors shows its control characters
/// as escapes: a wrap-up code the org lists without an id (a journal line
/// stands in for a broken answer) fails the read, naming the call; once it
/// has an id, it (named with an escape sequence and a right-to-left
/// override) and one named with a title-setting sequence are deleted inside
/// a prune scope, and neither the plan, the error nor the deletions' lines
/// send the terminal a raw escape.
#[test]
fn the_orgs_text_in_apply_output_cannot_act_on_the_terminal() {
    let ctx = TestContext::new();
    ctx.write(
        "set/project.yaml",
        "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  prune:\n    - kind: RoutingWrapupCode\n      names: [\"Bot *\"]\n",
    );
    ctx.write(
        "set/code.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingWrapupCode\nmetadata: {name: kept}\nspec: {name: Bot Kept}\n",
    );
    let apply = ctx.run(&["--sandbox", "apply", "--auto-approve", "set"]);
    assert_eq!(apply.status.code(), Some(0), "{}{}", stdout(&apply), stderr(&apply));
    let journal = ctx.path().join(".gcctl/sandbox/org.json.journal");
    let mut text = fs_err::read_to_string(&journal).unwrap_or_default();
    text.push_str(
        r#"{"kind":"wrapupCodes","id":"66666666-0000-4000-8000-000000000002","value":{"name":"Bot \u001b[31mNOID\u202e B","division":{"id":"*"}}}"#,
    );
    text.push('\n');
    // One the org lists whole: its delete succeeds, and its line names it.
    text.push_str(
        r#"{"kind":"wrapupCodes","id":"66666666-0000-4000-8000-000000000003","value":{"id":"66666666-0000-4000-8000-000000000003","name":"Bot \u001b]0;TITLE\u0007 C","division":{"id":"*"}}}"#,
    );
    text.push('\n');
    fs_err::write(&journal, text).unwrap();

    let out = ctx.run(&["--sandbox", "apply", "--auto-approve", "--prune", "set"]);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("GET /api/v2/routing/wrapupcodes: the listing lists an object without an id"),
        "{all}"
    );
    assert!(!all.contains("deleted"), "nothing is changed: {all}");

    // The journal is folded into the state file when the sandbox closes.
    let mut text = fs_err::read_to_string(&journal).unwrap_or_default();
    text.push_str(
        r#"{"kind":"wrapupCodes","id":"66666666-0000-4000-8000-000000000002","value":{"id":"66666666-0000-4000-8000-000000000002","name":"Bot \u001b[31mNOID\u202e B","division":{"id":"*"}}}"#,
    );
    text.push('\n');
    fs_err::write(&journal, text).unwrap();
    let out = ctx.run(&["--sandbox", "apply", "--auto-approve", "--prune", "set"]);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(!all.contains(['\u{1b}', '\u{202e}']), "{all:?}");
    assert!(
        all.contains(r#"deleted RoutingWrapupCode "Bot \u{1b}[31mNOID\u{202e} B" (id"#),
        "{all}"
    );
    assert!(all.contains(r#"deleted RoutingWrapupCode "Bot \u{1b}]0;TITLE\u{7} C" (id"#), "{all}");
    assert!(!all.contains('\u{7}'), "{all:?}");
}

/// A run that fails before it has a plan prints nothing on stdout in any
/// format (the docs say so: a pipeline must check the exit code): the
/// errors are on stderr, at their place.
#[test]
fn a_run_that_fails_before_planning_prints_no_data() {
    let ctx = TestContext::new();
    ctx.write(
        "bad/q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec: {nme: X}\n",
    );
    for args in [
        &["plan", "--output", "json", "bad"][..],
        &["apply", "--auto-approve", "--output", "json", "bad"],
        &["drift", "--output", "junit", "bad"],
        &["drift", "--output", "json", "bad"],
        &["destroy", "--auto-approve", "--output", "json", "bad"],
    ] {
        let out = ctx.run(&[&["--sandbox"], args].concat());
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}: {}", stdout(&out));
        assert!(stderr(&out).contains("bad/q.yaml:4:8: error: unknown field `nme`"), "{args:?}");
    }
}

/// An unquoted `${var.NAME}` holding text that is no number as YAML
/// writes one is that text: an empty one clears a description (it was
/// read as a null, which left the field unmanaged and the plan clean),
/// and `0x10` is refused where a number is expected (it was read as 16).
#[test]
fn a_variables_text_is_substituted_as_text_unless_it_spells_a_number() {
    let ctx = TestContext::new();
    let set = |timeout: &str| {
        format!(
            "apiVersion: gcctl/v1\nkind: Project\nmetadata: {{name: p}}\nspec:\n  variables: {{desc: \"old text\", timeout: \"30\"}}\n  environments:\n    prod:\n      variables: {{desc: \"\", timeout: \"{timeout}\"}}\n---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {{name: q}}\nspec:\n  name: Q\n  description: ${{var.desc}}\n  mediaSettings:\n    message:\n      alertingTimeoutSeconds: ${{var.timeout}}\n"
        )
    };
    ctx.write("set/all.yaml", &set("45"));
    let apply = ctx.run(&["--sandbox", "apply", "--auto-approve", "set"]);
    assert_eq!(apply.status.code(), Some(0), "{}", stderr(&apply));
    let plan = ctx.run(&["--sandbox", "plan", "--env", "prod", "set"]);
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let text = stdout(&plan);
    assert!(text.contains("~ /description: \"old text\" -> \"\""), "{text}");
    assert!(text.contains("~ /mediaSettings/message/alertingTimeoutSeconds: 30 -> 45"), "{text}");
    let apply = ctx.run(&["--sandbox", "apply", "--auto-approve", "--env", "prod", "set"]);
    assert_eq!(apply.status.code(), Some(0), "{}", stderr(&apply));
    let plan = ctx.run(&["--sandbox", "plan", "--detailed-exitcode", "--env", "prod", "set"]);
    assert_eq!(plan.status.code(), Some(0), "{}", stdout(&plan));

    ctx.write("set/all.yaml", &set("0x10"));
    let plan = ctx.run(&["--sandbox", "plan", "--env", "prod", "set"]);
    assert_eq!(plan.status.code(), Some(1), "{}", stdout(&plan));
    assert!(stderr(&plan).contains("0x10"), "{}", stderr(&plan));
}

/// An environment's org whose credentials are missing or half set is
/// reported with the variables the Project names for them, not the
/// `GENESYSCLOUD_*` ones it does not read.
#[test]
fn missing_environment_credentials_name_the_projects_variables() {
    let mut ctx = TestContext::new();
    ctx.write(
        "set/p.yaml",
        "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  environments:\n    prod:\n      org: {region: eu-central-1, clientIdFromEnv: PROD_ID, clientSecretFromEnv: PROD_SECRET}\n---\napiVersion: gcctl/v1\nkind: RoutingSkill\nmetadata: {name: s}\nspec: {name: S}\n",
    );
    ctx.env("GENESYSCLOUD_OAUTHCLIENT_SECRET", "not-read-for-prod");
    let out = ctx.run(&["plan", "--env", "prod", "set"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no credentials for it: set PROD_ID (the Project's `clientIdFromEnv`) and PROD_SECRET (the Project's `clientSecretFromEnv`)"),
        "{}",
        stderr(&out)
    );
    ctx.env("PROD_ID", "abc");
    let out = ctx.run(&["plan", "--env", "prod", "set"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("PROD_ID (the Project's `clientIdFromEnv`) is set but PROD_SECRET (the Project's `clientSecretFromEnv`) is not"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("GENESYSCLOUD_OAUTHCLIENT"), "{}", stderr(&out));
}

/// Credentials an environment names that the org refuses: the hint names the
/// Project's variables (`GENESYSCLOUD_*` are not read for that environment).
#[tokio::test]
async fn refused_environment_credentials_name_the_projects_variables() {
    let mut org = super::ApplyOrg::default().await;
    let project = |credentials: &str| {
        format!(
            "apiVersion: gcctl/v1\nkind: Project\nmetadata: {{name: p}}\nspec:\n  environments:\n    dev:\n      org: {{region: \"{}\", {credentials}}}\n---\napiVersion: gcctl/v1\nkind: RoutingSkill\nmetadata: {{name: s}}\nspec: {{name: S}}\n",
            org.org.sandbox.base_url()
        )
    };
    org.ctx.write("set/p.yaml", &project("accessTokenFromEnv: DEV_TOKEN"));
    org.ctx.env("DEV_TOKEN", "not-a-token-0123456789");
    let out = org.gcctl(&["plan", "--env", "dev", "set"]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("hint: the access token in DEV_TOKEN (the Project's `accessTokenFromEnv`) expired or was revoked"), "{err}");

    org.ctx
        .write("set/p.yaml", &project("clientIdFromEnv: DEV_ID, clientSecretFromEnv: DEV_SECRET"));
    org.ctx.env("DEV_ID", org.org.sandbox.client_id()).env("DEV_SECRET", "wrong-secret-0123456789");
    let out = org.gcctl(&["plan", "--env", "dev", "set"]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("hint: check DEV_ID (the Project's `clientIdFromEnv`), DEV_SECRET (the Project's `clientSecretFromEnv`) and the Project's `region`"), "{err}");
    assert!(!err.contains("GENESYSCLOUD_"), "{err}");
}

/// Terraform's `-out FILE` reads as `-o ut` (an unknown output format): the
/// error is followed by what gcctl's flag is.
#[test]
fn terraforms_out_flag_gets_a_hint() {
    let ctx = TestContext::new();
    for args in [&["plan", "set", "-out", "plan.json"][..], &["plan", "set", "-out=plan.json"]] {
        let out = ctx.run(args);
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(err.contains("hint: a saved plan is written with --out FILE"), "{err}");
    }
    let err = stderr(&ctx.run(&["plan", "set", "-o", "yaml"]));
    assert!(!err.contains("hint: a saved plan"), "{err}");
}
