//! `gcctl export` against sandbox orgs over real HTTP: the round trip
//! (export, apply to a fresh org, plan: nothing to do), byte-identical
//! repeated exports, the output layout, and the request count of a large org.

use std::collections::BTreeMap;
use std::path::Path;

use gcctl::sandbox::{Generate, SandboxConfig};
use serde_json::Value;

use crate::common::{TestContext, stderr, stdout};
use crate::sandbox::TestOrg;

/// A sandbox org served by its own runtime, so that tests can run the real
/// `gcctl` binary against it (blocking) and call its API in between.
pub struct LiveSandbox {
    // Dropped first: the server stops before its runtime.
    pub org: TestOrg,
    runtime: tokio::runtime::Runtime,
}

impl LiveSandbox {
    pub fn start(config: SandboxConfig) -> LiveSandbox {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let org = runtime.block_on(TestOrg::start(config));
        LiveSandbox { org, runtime }
    }

    pub fn new() -> LiveSandbox {
        LiveSandbox::start(SandboxConfig::default())
    }

    /// Point every `gcctl` command of `ctx` at this org, as its admin user
    /// (who may grant roles; set `GENESYSCLOUD_ACCESS_TOKEN` empty to run
    /// as the admin OAuth client instead).
    pub fn connect(&self, ctx: &mut TestContext) {
        ctx.env("GENESYSCLOUD_REGION", &self.org.sandbox.base_url());
        ctx.env("GENESYSCLOUD_OAUTHCLIENT_ID", self.org.sandbox.client_id());
        ctx.env("GENESYSCLOUD_OAUTHCLIENT_SECRET", self.org.sandbox.client_secret());
        // As the seeded admin user (the token wins): it may grant roles.
        ctx.env("GENESYSCLOUD_ACCESS_TOKEN", self.org.sandbox.user_token());
        // Against Genesys Cloud the client paces itself at 300 requests a
        // minute (5 a second after a burst of 5); this org has no limit.
        ctx.env("GCCTL_RATE_LIMIT", "0");
    }

    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// `/_sandbox/stats` `byRoute`, after zeroing the counters with `reset`.
    pub fn requests_by_route(&self) -> BTreeMap<String, u64> {
        let stats = self.block_on(self.org.stats());
        stats["byRoute"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or_default()))
            .collect()
    }

    pub fn reset_stats(&self) {
        let url = self.org.url("/_sandbox/reset");
        self.block_on(async { self.org.http.post(url).send().await.expect("reset") });
    }
}

/// Every file of a directory, by name.
fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    fs_err::read_dir(dir)
        .expect("export dir")
        .map(|e| {
            let path = e.expect("entry").path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            (name, fs_err::read_to_string(&path).expect("file"))
        })
        .collect()
}

fn run_ok(ctx: &TestContext, args: &[&str]) -> String {
    let output = ctx.run(args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "gcctl {}\n{}{}",
        args.join(" "),
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

#[test]
fn exporting_a_large_org_reads_list_pages_only() {
    let generate = Generate {
        queues: 5_000,
        open_messaging_integrations: 500,
        oauth_clients: 200,
        ..Generate::default()
    };
    let live = LiveSandbox::start(SandboxConfig { generate, ..SandboxConfig::default() });
    let mut ctx = TestContext::new();
    live.connect(&mut ctx);
    // As the admin OAuth client, which export leaves out.
    ctx.env("GENESYSCLOUD_ACCESS_TOKEN", "");
    live.reset_stats();
    let started = std::time::Instant::now();
    run_ok(&ctx, &["export", "--out", "exported"]);
    let elapsed = started.elapsed();

    let expected: BTreeMap<String, u64> = [
        ("POST /oauth/token", 1),
        // 5,000 queues at 500 a page; 500 integrations (and their
        // recipients) at 100 a page; OAuth clients in one unpaged list.
        ("GET /api/v2/routing/queues", 10),
        ("GET /api/v2/conversations/messaging/integrations/open", 5),
        ("GET /api/v2/routing/message/recipients", 5),
        ("GET /api/v2/oauth/clients", 1),
        ("GET /api/v2/authorization/roles", 1),
        // The seeded flows are system flows: listed, never exported.
        ("GET /api/v2/flows", 1),
        ("GET /api/v2/conversations/messaging/supportedcontent", 1),
        ("GET /api/v2/routing/wrapupcodes", 1),
        ("GET /api/v2/routing/skills", 1),
        ("GET /api/v2/routing/languages", 1),
        // Cursor-paged; an empty org's lists are one page each.
        ("GET /api/v2/webdeployments/configurations", 1),
        ("GET /api/v2/webdeployments/deployments", 1),
        // Reference lookups, once each.
        ("GET /api/v2/authorization/divisions", 1),
        ("GET /api/v2/conversations/messaging/settings", 1),
        ("GET /api/v2/conversations/messaging/supportedcontent/default", 1),
        ("GET /api/v2/conversations/messaging/settings/default", 1),
        // Names of member groups.
        ("GET /api/v2/groups", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(live.requests_by_route(), expected);

    let files = read_dir(&ctx.path().join("exported"));
    let count = |file: &str| files[file].matches("\nkind: ").count();
    assert_eq!(count("queues.yaml"), 5_000);
    assert_eq!(count("open-messaging.yaml"), 500);
    assert_eq!(count("webhooks.yaml"), 500);
    // The sandbox's admin client is the one gcctl authenticates with: left out.
    assert_eq!(count("oauth-clients.yaml"), 200);
    assert_eq!(files["secrets.env.example"].matches("_WEBHOOK_SECRET=\n").count(), 500);
    assert!(elapsed.as_secs() < 60, "export took {elapsed:?}");
}

/// Webhook signature secrets for every variable an export lists.
/// A kind's details are read as soon as its own list is in: the flows'
/// export jobs go out while the queue list is still unanswered (held by the
/// sandbox until the first job is asked for; an export waiting for every
/// list would fail on the held list's 400 after ten seconds).
#[test]
fn an_export_reads_a_kinds_details_without_waiting_for_the_other_lists() {
    let live = LiveSandbox::new();
    let mut ctx = TestContext::new();
    live.connect(&mut ctx);
    let flow = crate::kinds::flow::flow_doc(
        "greeter",
        "Greeter",
        "INBOUNDSHORTMESSAGE",
        "inboundShortMessage",
        "",
    );
    ctx.write("flow.yaml", &flow);
    run_ok(&ctx, &["apply", "--auto-approve", "flow.yaml"]);
    live.reset_stats();
    let jobs = "POST /api/v2/flows/export/jobs";
    live.block_on(live.org.route_fault(serde_json::json!({
        "route": "GET /api/v2/routing/queues", "until": jobs, "status": 400,
    })));
    run_ok(&ctx, &["export", "--kinds", "Flow,RoutingQueue", "--out", "exported"]);
    let read = |name: &str| fs_err::read_to_string(ctx.path().join("exported").join(name));
    let flows = read("flows.yaml").expect("flows");
    let requests = live.requests_by_route();
    // The held list was answered (this org has no queues).
    assert_eq!(requests.get("GET /api/v2/routing/queues"), Some(&1), "{requests:?}");
    assert_eq!(flows.matches("kind: Flow").count(), 1, "{flows}");
    assert_eq!(requests.get(jobs), Some(&1), "one job for the one flow: {requests:?}");
}

fn secret_variables(export_dir: &Path) -> Vec<String> {
    let text = fs_err::read_to_string(export_dir.join("secrets.env.example")).expect("secrets");
    text.lines().filter_map(|l| l.strip_suffix('=')).map(str::to_string).collect()
}

/// An org set up by `gcctl apply` of the sample manifests plus objects made
/// directly through the API (the way admin UI edits leave them).
fn populated_org() -> (LiveSandbox, TestContext) {
    let live = LiveSandbox::new();
    let mut ctx = TestContext::new();
    live.connect(&mut ctx);
    ctx.env("ACME_BOT_WEBHOOK_SECRET", "sandbox-demo-secret-0123456789");
    let manifests = crate::common::repo_root().join("manifests");
    run_ok(
        &ctx,
        &["apply", "--auto-approve", "--secrets-dir", "secrets", manifests.to_str().unwrap()],
    );
    // Export runs as the admin OAuth client: the client gcctl runs as is
    // never exported.
    ctx.env("GENESYSCLOUD_ACCESS_TOKEN", "");

    let org = &live.org;
    let ids = live.block_on(async {
        let ops = org.id_named("/api/v2/authorization/divisions", "Operations").await;
        let flow =
            org.id_named("/api/v2/flows?type=inqueueshortmessage&name=Support", "Support").await;
        let employee = org.id_named("/api/v2/authorization/roles?pageSize=100", "employee").await;
        // The admin client may grant only roles it holds.
        org.grant_admin_client(&employee, &ops).await;
        (ops, flow, employee)
    });
    let (ops, flow, employee) = ids;
    let created = |path: &str, body: Value| {
        let answer = live.block_on(org.post(path, body));
        assert_eq!(answer.status, 200, "POST {path}: {}", answer.body);
        answer.body["id"].as_str().unwrap_or_default().to_string()
    };
    created(
        "/api/v2/conversations/messaging/integrations/open",
        serde_json::json!({
            "name": "Direct Bot",
            "outboundNotificationWebhookUrl": "https://direct.example/hook",
            "outboundNotificationWebhookSignatureSecretToken": "direct-secret-0123456789",
            "webhookHeaders": {"X-Team": "care"},
        }),
    );
    created(
        "/api/v2/routing/queues",
        serde_json::json!({
            "name": "Overflow: Tier 2", "description": "made in the admin UI",
            "division": {"id": ops}, "messageInQueueFlow": {"id": flow},
            "mediaSettings": {"message": {"alertingTimeoutSeconds": 45}},
        }),
    );
    // Slugs to the same handle as "Acme Support": deduplicated.
    created("/api/v2/routing/queues", serde_json::json!({"name": "Acme-Support!"}));
    let viewer = created(
        "/api/v2/authorization/roles",
        serde_json::json!({"name": "Queue Viewer", "permissionPolicies": [
            {"domain": "routing", "entityName": "queue", "actionSet": ["view"]}]}),
    );
    live.block_on(org.grant_admin_client(&viewer, &ops));
    // A wildcard policy: read back as written, or as explicit actions by an
    // org that expands wildcards; exported as read either way.
    created(
        "/api/v2/authorization/roles",
        serde_json::json!({"name": "Queue Admin", "permissionPolicies": [
            {"domain": "routing", "entityName": "queue", "actionSet": ["*"]},
            {"domain": "routing", "entityName": "skill", "actionSet": ["view"]}]}),
    );
    created(
        "/api/v2/oauth/clients",
        serde_json::json!({
            "name": "Reporting", "authorizedGrantType": "CLIENT-CREDENTIALS",
            "accessTokenValiditySeconds": 3600,
            "roleDivisions": [{"roleId": viewer, "divisionId": ops}, {"roleId": employee, "divisionId": ops}],
        }),
    );
    for _ in 0..2 {
        created(
            "/api/v2/oauth/clients",
            serde_json::json!({"name": "Legacy", "authorizedGrantType": "CLIENT-CREDENTIALS",
                "roleDivisions": [{"roleId": employee, "divisionId": ops}]}),
        );
    }
    (live, ctx)
}

#[test]
fn export_round_trips_through_a_fresh_org_and_is_byte_identical() {
    let (_source, ctx) = populated_org();
    let output = ctx.run(&["export", "--out", "exported"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // Two live clients share a name: neither can be managed by name.
    assert!(stderr(&output).contains("2 live OAuthClient objects are named `Legacy`"));
    run_ok(&ctx, &["export", "--out", "again"]);
    let first = read_dir(&ctx.path().join("exported"));
    assert_eq!(first, read_dir(&ctx.path().join("again")), "a second export differs");
    assert_eq!(run_ok(&ctx, &["export"]), run_ok(&ctx, &["export"]));

    let names: Vec<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "gcctl.schema.json",
            "languages.yaml",
            "messaging-settings.yaml",
            "oauth-clients.yaml",
            "open-messaging.yaml",
            "queues.yaml",
            "roles.yaml",
            "secrets.env.example",
            "skills.yaml",
            "supported-content.yaml",
            "webhooks.yaml",
            "wrapup-codes.yaml"
        ]
    );
    let all: String = first.values().map(String::as_str).collect();
    let guid = regex_like_guid(&all);
    assert!(guid.is_none(), "the export holds a GUID: {guid:?}");
    assert!(!all.contains("sandbox-demo-secret") && !all.contains("direct-secret"));
    let queues = &first["queues.yaml"];
    assert!(queues.contains("name: acme-support-2\nspec:\n  name: Acme-Support!\n"), "{queues}");
    assert!(queues.contains("openMessagingRecipient: acme-bot\n"), "{queues}");
    assert!(queues.contains("division: Operations\n"), "{queues}");
    let clients = &first["oauth-clients.yaml"];
    assert!(clients.contains("- division: Operations\n      role: queue-viewer\n"), "{clients}");
    assert!(clients.contains("- division: Operations\n      role: employee\n"), "{clients}");
    assert!(!clients.contains("gcctl sandbox admin") && !clients.contains("Legacy"));
    assert!(first["open-messaging.yaml"].contains("  supportedContent: default\n"));
    assert!(first["webhooks.yaml"].contains("fromEnv: DIRECT_BOT_WEBHOOK_SECRET"));
    assert!(!first["roles.yaml"].contains("Master Admin"), "built-in roles are not exported");
    let roles = &first["roles.yaml"];
    assert!(roles.contains("- routing:skill:view\n"), "{roles}");
    assert!(
        roles.contains("- routing:queue:*\n") || roles.contains("- routing:queue:view\n"),
        "{roles}"
    );
    assert!(run_ok(&ctx, &["validate", "exported"]).starts_with("valid: "));

    // Apply the export to a fresh org, with the secret variables set.
    let target = LiveSandbox::new();
    let mut fresh = TestContext::new();
    target.connect(&mut fresh);
    let export_dir = ctx.path().join("exported");
    for variable in secret_variables(&export_dir) {
        fresh.env(&variable, "round-trip-secret-0123456789");
    }
    let dir = export_dir.to_str().unwrap();
    run_ok(&fresh, &["apply", "--auto-approve", "--secrets-dir", "secrets", dir]);
    let plan = run_ok(&fresh, &["plan", "--detailed-exitcode", dir]);
    assert!(plan.contains("No changes."), "{plan}");
}

/// Queues with the settings a configured org's queues carry
/// (`--generate-queue-settings`) export with them and round-trip: the
/// export validates, applies to a fresh org, and plans clean there.
#[test]
fn queues_with_their_settings_export_and_round_trip() {
    let generate = Generate { queues: 3, queue_settings: true, ..Generate::default() };
    let live = LiveSandbox::start(SandboxConfig { generate, ..SandboxConfig::default() });
    let listed = live.block_on(live.org.get("/api/v2/routing/queues")).body;
    let first = listed["entities"][0].as_object().expect("a queue");
    assert_eq!(first.len(), 26, "{first:?}");
    let mut ctx = TestContext::new();
    live.connect(&mut ctx);
    run_ok(&ctx, &["export", "--out", "exported"]);
    let files = read_dir(&ctx.path().join("exported"));
    let queues = &files["queues.yaml"];
    assert!(queues.contains("  mediaSettings:\n"), "{queues}");
    assert!(queues.contains("wrapupPrompt: MANDATORY_TIMEOUT\n"), "{queues}");
    assert!(regex_like_guid(queues).is_none(), "{queues}");

    let target = LiveSandbox::new();
    let mut fresh = TestContext::new();
    target.connect(&mut fresh);
    let dir = ctx.path().join("exported");
    let dir = dir.to_str().unwrap();
    run_ok(&fresh, &["apply", "--auto-approve", dir]);
    let plan = run_ok(&fresh, &["plan", "--detailed-exitcode", dir]);
    assert!(plan.contains("No changes."), "{plan}");
    let applied = target.block_on(target.org.get("/api/v2/routing/queues?name=queue-00002")).body;
    let media = &applied["entities"][0]["mediaSettings"];
    assert_eq!(media["email"]["serviceLevel"]["durationMs"], 86_400_000, "{applied}");
}

/// The first GUID-shaped word in `text`, if any.
fn regex_like_guid(text: &str) -> Option<&str> {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '-')).find(|w| {
        let parts: Vec<usize> = w.split('-').map(str::len).collect();
        parts == [8, 4, 4, 4, 12]
    })
}

#[test]
fn export_filters_refuses_to_overwrite_and_keeps_org_names_of_objects_left_out() {
    let (_source, ctx) = populated_org();
    let stream = run_ok(&ctx, &["export", "--kinds", "routingqueue", "--name-glob", "Acme*"]);
    assert_eq!(stream.matches("\nkind: RoutingQueue\n").count(), 2, "{stream}");
    assert!(!stream.contains("kind: OpenMessagingIntegration"));
    // The integration is not exported: the queue names it in the org.
    assert!(stream.contains("openMessagingRecipient: Acme Bot\n"), "{stream}");

    run_ok(&ctx, &["export", "--out", "out", "--kinds", "Role"]);
    let refused = ctx.run(&["export", "--out", "out"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("`out` exists and is not empty"), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("hint: pass --force"), "{}", stderr(&refused));
    run_ok(&ctx, &["export", "--out", "out", "--force", "--kinds", "OAuthClient"]);
    let files = read_dir(&ctx.path().join("out"));
    assert!(files.contains_key("oauth-clients.yaml") && !files.contains_key("roles.yaml"));
    // Only over an earlier export: never a sandbox org's state, `.gcctl`
    // (however deep), or anyone's other files.
    for (dir, state) in
        [("state", "dev.json"), ("project", "sub/.gcctl/sandbox/org.json"), ("notes", "README.md")]
    {
        ctx.write(&format!("{dir}/roles.yaml"), "");
        ctx.write(&format!("{dir}/{state}"), "");
        let refused = ctx.run(&["export", "--out", dir, "--force", "--kinds", "Role"]);
        assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
        assert!(
            stderr(&refused).contains("which an export does not write"),
            "{}",
            stderr(&refused)
        );
        assert!(ctx.path().join(dir).join(state).exists());
    }

    // A link is not replaced by the new directory (the directory it leads
    // to kept the old export, unsaid): refused, both left as they were.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("out", ctx.path().join("link")).unwrap();
        for out in ["link", "link/", "link/."] {
            let refused = ctx.run(&["export", "--out", out, "--force", "--kinds", "Role"]);
            assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
            assert!(stderr(&refused).contains("it is a symbolic link"), "{}", stderr(&refused));
        }
        assert!(
            fs_err::symlink_metadata(ctx.path().join("link")).unwrap().file_type().is_symlink()
        );
        assert!(read_dir(&ctx.path().join("out")).contains_key("oauth-clients.yaml"));
    }

    let bad = ctx.run(&["export", "--kinds", "Webhook"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("exported with their OpenMessagingIntegration"));
}

/// Descriptions that gcctl marks (an OAuth client's secret version, a web
/// messaging configuration's published version) keep the user's text as
/// written, trailing line break and spaces included: an apply makes them,
/// the next plans clean (nothing updated or published again), and the
/// export writes them as declared. A declared text holding gcctl's own
/// secret mark is refused before anything is sent.
#[test]
fn marked_descriptions_keep_their_text_through_apply_plan_and_export() {
    let live = LiveSandbox::new();
    let mut ctx = TestContext::new();
    live.connect(&mut ctx);
    let manifests = "apiVersion: gcctl/v1
kind: OAuthClient
metadata: {name: bot}
spec:
  name: Bot Client
  description: |
    Client for the bot
  authorizedGrantType: CLIENT-CREDENTIALS
  secretVersion: 2
  roleDivisions: [{role: employee, division: Home}]
---
apiVersion: gcctl/v1
kind: WebMessagingConfiguration
metadata: {name: web}
spec:
  name: Acme Web
  description: \"Our messenger  \"
  languages: [en-us]
  defaultLanguage: en-us
";
    ctx.write("m/set.yaml", manifests);
    run_ok(&ctx, &["apply", "--auto-approve", "--secrets-dir", "secrets", "m"]);
    let plan = run_ok(&ctx, &["plan", "--detailed-exitcode", "m"]);
    assert!(plan.contains("No changes."), "{plan}");
    let again = ctx.run(&["apply", "--auto-approve", "--secrets-dir", "secrets", "m"]);
    assert!(stderr(&again).contains("Nothing to apply."), "{}", stderr(&again));
    ctx.env("GENESYSCLOUD_ACCESS_TOKEN", "");
    run_ok(&ctx, &["export", "--kinds", "OAuthClient,WebMessagingConfiguration", "--out", "ex"]);
    let exported = read_dir(&ctx.path().join("ex"));
    let clients = &exported["oauth-clients.yaml"];
    assert!(clients.contains("  description: \"Client for the bot\\n\"\n"), "{clients}");
    let configs = &exported["web-messaging-configurations.yaml"];
    assert!(configs.contains("  description: \"Our messenger  \"\n"), "{configs}");

    // An empty description is the org's "none": clean after one apply.
    let empty = manifests
        .replace("description: |\n    Client for the bot\n", "description: \"\"\n")
        .replace("\"Our messenger  \"", "\"\"");
    assert!(empty.matches("description: \"\"").count() == 2, "{empty}");
    live.connect(&mut ctx);
    ctx.write("m/set.yaml", &empty);
    run_ok(&ctx, &["apply", "--auto-approve", "--secrets-dir", "secrets", "m"]);
    let plan = run_ok(&ctx, &["plan", "--detailed-exitcode", "m"]);
    assert!(plan.contains("No changes."), "{plan}");

    ctx.write(
        "m/set.yaml",
        &manifests.replace("Client for the bot", "See [gcctl:secret-version=5]"),
    );
    let refused = ctx.run(&["plan", "m"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("the description holds gcctl's secret mark"));
}

/// A handle an export makes can be the org name of another object of the
/// kind (`Alpha!` is `alpha`, so the flow named `alpha` is `alpha-2`), and
/// references resolve by handle first: so every reference to an exported
/// object is written as its handle, flows of a type included, and the
/// queue reaches the same flow in a fresh org. Likewise a role whose
/// handle is another role's org name is granted in the right order.
#[test]
fn references_to_objects_whose_handle_is_another_objects_name_round_trip() {
    let flow = |handle: &str, name: &str| {
        format!(
            "apiVersion: gcctl/v1
kind: Flow
metadata: {{name: {handle}}}
spec:
  name: \"{name}\"
  type: INQUEUESHORTMESSAGE
  definition: |
    inqueueShortMessage:
      name: \"{name}\"
      startUpRef: \"/inqueueShortMessage/states/state[S_1]\"
      states:
        - state:
            name: S
            refId: S_1
            actions:
              - disconnect:
                  name: D
---
"
        )
    };
    let manifests = format!(
        "{}{}apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {{name: q1}}
spec: {{name: Uses lowercase alpha, messageInQueueFlow: alpha}}
---
apiVersion: gcctl/v1
kind: Role
metadata: {{name: ops-2}}
spec: {{name: \"ops!\", permissions: [routing:queue:view]}}
---
apiVersion: gcctl/v1
kind: Role
metadata: {{name: other}}
spec: {{name: ops-2, permissions: [routing:queue:view]}}
---
apiVersion: gcctl/v1
kind: OAuthClient
metadata: {{name: client}}
spec:
  name: Client Of Other
  authorizedGrantType: CLIENT-CREDENTIALS
  roleDivisions: [{{role: other, division: Home}}]
",
        flow("f1", "Alpha!"),
        flow("f2", "alpha")
    );
    let source = LiveSandbox::new();
    let mut ctx = TestContext::new();
    source.connect(&mut ctx);
    ctx.write("m/set.yaml", &manifests);
    // The grant orders after the role named `ops-2`, not the one whose handle it is.
    run_ok(&ctx, &["apply", "--auto-approve", "--secrets-dir", "secrets", "m"]);
    ctx.env("GENESYSCLOUD_ACCESS_TOKEN", "");
    let kinds = "Flow,RoutingQueue,Role,OAuthClient";
    run_ok(&ctx, &["export", "--kinds", kinds, "--out", "ex"]);
    let queues = fs_err::read_to_string(ctx.path().join("ex/queues.yaml")).unwrap();
    assert!(queues.contains("messageInQueueFlow: alpha-2\n"), "{queues}");
    let plan = run_ok(&ctx, &["plan", "--detailed-exitcode", "ex"]);
    assert!(plan.contains("No changes."), "{plan}");

    let target = LiveSandbox::new();
    let mut fresh = TestContext::new();
    target.connect(&mut fresh);
    let dir = ctx.path().join("ex");
    let dir = dir.to_str().unwrap();
    run_ok(&fresh, &["apply", "--auto-approve", "--secrets-dir", "secrets", dir]);
    let plan = run_ok(&fresh, &["plan", "--detailed-exitcode", dir]);
    assert!(plan.contains("No changes."), "{plan}");
    fresh.env("GENESYSCLOUD_ACCESS_TOKEN", "");
    run_ok(&fresh, &["export", "--kinds", kinds, "--out", "again"]);
    let again = fs_err::read_to_string(fresh.path().join("again/queues.yaml")).unwrap();
    assert_eq!(again, queues);
}

/// Empty lists inside a list's items are exported as they are: an item is
/// compared as a whole, and its fields may be required. The export
/// validates and plans clean against the org it came from.
#[test]
fn empty_lists_inside_list_items_are_exported() {
    let live = LiveSandbox::new();
    let mut ctx = TestContext::new();
    live.connect(&mut ctx);
    ctx.write(
        "m/set.yaml",
        "apiVersion: gcctl/v1
kind: WebMessagingConfiguration
metadata: {name: wmc}
spec:
  name: Empty Lists
  languages: [en-us]
  defaultLanguage: en-us
  customI18nLabels: [{language: en-us, localizedLabels: []}]
  messenger: {enabled: true, fileUpload: {modes: [{fileTypes: [], maxFileSizeKB: 100}]}}
---
apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {name: q}
spec:
  name: Ring Queue
  bullseye: {rings: [{expansionCriteria: []}, {expansionCriteria: []}]}
",
    );
    run_ok(&ctx, &["apply", "--auto-approve", "m"]);
    ctx.env("GENESYSCLOUD_ACCESS_TOKEN", "");
    let kinds = "RoutingQueue,WebMessagingConfiguration";
    run_ok(&ctx, &["export", "--kinds", kinds, "--out", "ex"]);
    let exported = read_dir(&ctx.path().join("ex"));
    let queues = &exported["queues.yaml"];
    assert!(queues.contains("    rings:\n      - expansionCriteria: []\n"), "{queues}");
    let plan = run_ok(&ctx, &["plan", "--detailed-exitcode", "ex"]);
    assert!(plan.contains("No changes."), "{plan}");
}

/// A queue whose outbound messaging recipient's integration was deleted
/// points at an id no lookup names: the field is left out with a warning
/// (it was written as `{id: …}`, which the export's own check refused).
#[test]
fn a_reference_to_a_deleted_object_is_left_out_with_a_warning() {
    let (source, ctx) = populated_org();
    let integrations = "/api/v2/conversations/messaging/integrations/open";
    let id = source.block_on(source.org.id_named(integrations, "Acme Bot"));
    let gone = source.block_on(source.org.delete(&format!("{integrations}/{id}")));
    assert!(gone.status < 300, "{}", gone.body);
    let out = ctx.run(&["export", "--kinds", "routingqueue", "--name-glob", "Acme*"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("/outboundMessagingAddresses/openMessagingRecipient not exported: it refers to an object gcctl cannot name (id "), "{err}");
    assert!(!stdout(&out).contains("openMessagingRecipient"), "{}", stdout(&out));
}

/// Every leaf of `value` by its JSON pointer.
fn leaves(value: &Value, at: String, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, value) in map {
                leaves(value, format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, value) in items.iter().enumerate() {
                leaves(value, format!("{at}/{i}"), out);
            }
        }
        _ => {
            out.insert(at, value.clone());
        }
    }
}

/// The objects of an exported set, by `Kind/handle`: each one's spec
/// leaves, its references written as the org names they resolve to in the
/// set (a handle of an exported object, else the org name itself).
fn named_leaves(dir: &Path) -> BTreeMap<String, BTreeMap<String, Value>> {
    let set = gcctl::manifest::load(&[dir.to_path_buf()], &gcctl::manifest::LoadOptions::default())
        .unwrap_or_else(|e| panic!("{}: {:?}", dir.display(), e.diagnostics));
    let org_name = |kind, handle: &str| {
        let object = set.objects.iter().find(|o| o.kind == kind && o.name == handle)?;
        object.spec.to_json().get("name").and_then(Value::as_str).map(str::to_string)
    };
    let mut objects = BTreeMap::new();
    for object in &set.objects {
        let mut spec = BTreeMap::new();
        leaves(&object.spec.to_json(), String::new(), &mut spec);
        for reference in object.references() {
            let Some(kind) = reference.target.declared_kind() else { continue };
            let pointer = reference.pointer.trim_start_matches("/spec").to_string();
            if let Some(name) = org_name(kind, &reference.name) {
                spec.insert(pointer, Value::String(name));
            }
        }
        objects.insert(object.id(), spec);
    }
    objects
}

/// An export of one kind (`--kinds`) lists that kind and what its objects
/// refer to, nothing else (`OrgKind::export_refers_to`): so each kind
/// exported alone must write what the export of everything writes for it,
/// every reference named (as an org name where the full export writes the
/// handle of an exported object), with no warning the full export does not
/// give, and plan clean. An org holding every exported kind and every kind
/// of reference: the examples, queue members and codes included.
#[test]
fn every_kind_exported_alone_writes_what_the_full_export_writes_for_it() {
    let live = LiveSandbox::new();
    let mut ctx = TestContext::new();
    live.connect(&mut ctx);
    for variable in crate::apply::WEBHOOK_SECRET_VARS {
        ctx.env(variable, "export-alone-secret-0123456789");
    }
    for example in ["bot-handover-cognigy", "headless-guest-messaging"] {
        let dir = crate::common::repo_root().join("examples").join(example);
        crate::apply::copy_tree(&dir, &ctx.path().join(example));
        run_ok(&ctx, &["apply", "--auto-approve", "--secrets-dir", "secrets", example]);
    }
    ctx.env("GENESYSCLOUD_ACCESS_TOKEN", "");
    let full = ctx.run(&["export", "--queue-members", "--out", "all"]);
    assert_eq!(full.status.code(), Some(0), "{}", stderr(&full));
    let all = named_leaves(&ctx.path().join("all"));
    let mut kinds: Vec<&str> =
        all.keys().filter_map(|id| id.split_once('/')).map(|(k, _)| k).collect();
    kinds.dedup();
    // Every kind export writes, and each kind of reference.
    assert_eq!(
        kinds,
        [
            "Flow",
            "MessagingSetting",
            "OAuthClient",
            "OpenMessagingIntegration",
            "Role",
            "RoutingLanguage",
            "RoutingQueue",
            "RoutingSkill",
            "RoutingWrapupCode",
            "SupportedContentProfile",
            "WebMessagingConfiguration",
            "WebMessagingDeployment",
            "Webhook",
        ]
    );
    let queues: Vec<_> = all.iter().filter(|(id, _)| id.starts_with("RoutingQueue/")).collect();
    for field in [
        "/division",
        "/messageInQueueFlow",
        "/outboundMessagingAddresses/openMessagingRecipient",
        "/wrapupCodes/0",
        "/members/0/email",
        "/memberGroups/0/name",
    ] {
        assert!(queues.iter().any(|(_, q)| q.contains_key(field)), "{field}: {queues:?}");
    }
    for kind in kinds.iter().filter(|k| **k != "Webhook") {
        let out = format!("alone-{kind}");
        let alone = ctx.run(&["export", "--queue-members", "--kinds", kind, "--out", &out]);
        assert_eq!(alone.status.code(), Some(0), "{kind}: {}", stderr(&alone));
        for line in stderr(&alone).lines().filter(|l| l.contains("warning:")) {
            assert!(
                stderr(&full).contains(line),
                "{kind}: a warning the full export does not give: {line}"
            );
        }
        let written = named_leaves(&ctx.path().join(&out));
        // An integration brings its webhook.
        let expected: BTreeMap<&String, &BTreeMap<String, Value>> = all
            .iter()
            .filter(|(id, _)| {
                id.starts_with(&format!("{kind}/"))
                    || (*kind == "OpenMessagingIntegration" && id.starts_with("Webhook/"))
            })
            .collect();
        assert_eq!(written.iter().collect::<BTreeMap<_, _>>(), expected, "{kind}");
        let plan = run_ok(&ctx, &["plan", "--detailed-exitcode", &out]);
        assert!(plan.contains("No changes."), "{kind}: {plan}");
    }
}

/// A caller allowed to read only queues and what they refer to exports
/// them (`--kinds RoutingQueue`): the export lists nothing else (OAuth
/// clients, roles, recipients, and wrap-up codes without
/// `--queue-members`), so no 403 stops it. Exporting everything
/// as that caller stops at the first list it may not read, naming it,
/// and writes nothing.
#[test]
fn a_caller_that_may_read_only_queues_exports_them() {
    let live = LiveSandbox::new();
    let mut ctx = TestContext::new();
    live.connect(&mut ctx);
    ctx.env("COGNIGY_WEBHOOK_SECRET", "export-alone-secret-0123456789");
    let example = crate::common::repo_root().join("examples/bot-handover-cognigy");
    crate::apply::copy_tree(&example, &ctx.path().join("set"));
    run_ok(&ctx, &["apply", "--auto-approve", "--secrets-dir", "secrets", "set"]);
    let org = &live.org;
    let (id, secret) = live.block_on(async {
        let role = org
            .post(
                "/api/v2/authorization/roles",
                serde_json::json!({"name": "Queue Exporter", "permissionPolicies": [
                    {"domain": "routing", "entityName": "queue", "actionSet": ["view"]},
                    {"domain": "architect", "entityName": "flow", "actionSet": ["view"]},
                    {"domain": "messaging", "entityName": "integration", "actionSet": ["view"]}]}),
            )
            .await;
        assert_eq!(role.status, 200, "{}", role.body);
        let role = role.body["id"].as_str().unwrap().to_string();
        let home = org.get("/api/v2/authorization/divisions/home").await.body;
        let home = home["id"].as_str().unwrap().to_string();
        org.grant_admin_client(&role, &home).await;
        let client = org
            .post(
                "/api/v2/oauth/clients",
                serde_json::json!({"name": "Queue Exporter", "authorizedGrantType": "CLIENT-CREDENTIALS",
                    "roleDivisions": [{"roleId": role, "divisionId": home}]}),
            )
            .await;
        assert_eq!(client.status, 200, "{}", client.body);
        let field = |name: &str| client.body[name].as_str().unwrap().to_string();
        (field("id"), field("secret"))
    });
    let mut exporter = TestContext::new();
    live.connect(&mut exporter);
    exporter
        .env("GENESYSCLOUD_ACCESS_TOKEN", "")
        .env("GENESYSCLOUD_OAUTHCLIENT_ID", &id)
        .env("GENESYSCLOUD_OAUTHCLIENT_SECRET", &secret);
    live.reset_stats();
    run_ok(&exporter, &["export", "--kinds", "RoutingQueue", "--out", "q"]);
    let listed: Vec<String> = live.requests_by_route().into_keys().collect();
    // Not even the wrap-up codes: a queue's codes are exported only with
    // `--queue-members`.
    for route in [
        "GET /api/v2/oauth/clients",
        "GET /api/v2/authorization/roles",
        "GET /api/v2/routing/message/recipients",
        "GET /api/v2/routing/wrapupcodes",
    ] {
        assert!(!listed.contains(&route.to_string()), "{route}: {listed:?}");
    }
    let queues = fs_err::read_to_string(exporter.path().join("q/queues.yaml")).unwrap();
    for field in ["openMessagingRecipient: Cognigy Handover\n", "memberGroups:\n"] {
        assert!(queues.contains(field), "{field}: {queues}");
    }
    let plan = run_ok(
        &ctx,
        &["plan", "--detailed-exitcode", &exporter.path().join("q").to_string_lossy()],
    );
    assert!(plan.contains("No changes."), "{plan}");

    let everything = exporter.run(&["export", "--out", "all"]);
    let err = stderr(&everything);
    assert_eq!(everything.status.code(), Some(1), "{err}");
    // Which refused read comes first varies (they all go out at once).
    assert!(err.contains("error: cannot read "), "{err}");
    // An endpoint needing all its permissions, or any one of them (OAuth
    // clients), says so in its own words.
    assert!(
        err.contains("403 Forbidden (missing.permissions)")
            || err.contains("403 Forbidden (missing.any.permissions)"),
        "{err}"
    );
    assert!(
        err.contains("missing the following permission(s): [")
            || err.contains("at least one of the following permissions assigned: ["),
        "{err}"
    );
    assert!(err.contains("hint: grant the caller the permission named above, or export only the kinds it may read with --kinds"), "{err}");
    assert!(!exporter.path().join("all").exists(), "{err}");
}

/// Org text holding the secret of the OAuth client gcctl runs as, or the
/// value of a `…_SECRET` variable (pasted
/// into a name or description, or echoed by a hostile server) is never
/// written: the object is left out with a warning that names it by id only
/// (its handle is its name lowercased); so is an object naming one that
/// holds it (a client granted a role renamed so). Export wrote it to the
/// files and to stdout.
#[test]
fn an_object_holding_gcctls_own_secret_is_left_out() {
    let live = LiveSandbox::new();
    let mut ctx = TestContext::new();
    live.connect(&mut ctx);
    ctx.env("GENESYSCLOUD_ACCESS_TOKEN", "");
    let secret = live.org.sandbox.client_secret().to_string();
    let post = |path: &str, body: serde_json::Value| {
        let made = live.block_on(live.org.post(path, body));
        assert_eq!(made.status, 200, "{}", made.body);
        made.body["id"].as_str().unwrap_or_default().to_string()
    };
    let leaky = post(
        "/api/v2/routing/queues",
        serde_json::json!({"name": format!("Leaky {secret} Queue")}),
    );
    // A short value of such a variable (a local `.env`'s) is no secret
    // here: it would leave out every object whose text holds its word.
    ctx.env("LOCAL_SECRET", "changeme1");
    post(
        "/api/v2/routing/queues",
        serde_json::json!({"name": "Fine Queue", "description": "fine: changeme1"}),
    );
    // In another case too: an export must not write it upper- or lowercased.
    let shouting = post(
        "/api/v2/routing/queues",
        serde_json::json!({"name": "Shouting Queue", "description": secret.to_uppercase()}),
    );
    // A webhook secret the environment holds under the name an export
    // gives it, pasted into a description.
    let webhook_secret = "webhook-canary-4f1e9a7c";
    ctx.env("ACME_BOT_WEBHOOK_SECRET", webhook_secret);
    let pasted = post(
        "/api/v2/routing/queues",
        serde_json::json!({"name": "Pasted Queue", "description": format!("secret is {webhook_secret}")}),
    );
    let role = post(
        "/api/v2/authorization/roles",
        serde_json::json!({"name": format!("Role {secret}"), "permissionPolicies": [
            {"domain": "routing", "entityName": "queue", "actionSet": ["view"]}]}),
    );
    let home = live.block_on(live.org.get("/api/v2/authorization/divisions/home")).body;
    let home = home["id"].as_str().unwrap().to_string();
    live.block_on(live.org.grant_admin_client(&role, &home));
    let client = post(
        "/api/v2/oauth/clients",
        serde_json::json!({"name": "Granted Client", "authorizedGrantType": "CLIENT-CREDENTIALS",
            "roleDivisions": [{"roleId": role, "divisionId": home}]}),
    );
    let kinds = "RoutingQueue,OAuthClient";
    let out = ctx.run(&["export", "--kinds", kinds, "--out", "e"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    for id in [&leaky, &client, &shouting, &pasted] {
        assert!(
            err.contains(&format!("(id {id}) holds text that is a secret gcctl knows")),
            "{id}: {err}"
        );
    }
    let queues = fs_err::read_to_string(ctx.path().join("e/queues.yaml")).unwrap();
    assert!(queues.contains("name: Fine Queue") && !queues.contains("Leaky"), "{queues}");
    assert!(!ctx.path().join("e/oauth-clients.yaml").exists());
    let stream = ctx.run(&["export", "--kinds", kinds]);
    let lower = secret.to_lowercase();
    for text in [stdout(&stream), stderr(&stream), err, queues] {
        assert!(!text.to_lowercase().contains(&lower), "{text}");
        assert!(!text.contains(webhook_secret), "{text}");
    }
}

/// A bidirectional override in an org's text (a "Trojan Source" name that
/// reads reversed) is written as an escape in exported YAML and in JSON
/// output, so a reviewer sees it; the value stays the same: applied to a
/// fresh org, the names are the org's.
#[test]
fn bidirectional_controls_are_escapes_in_exported_yaml_and_json_output() {
    let source = LiveSandbox::new();
    let mut ctx = TestContext::new();
    source.connect(&mut ctx);
    let name = "Invoice \u{202e}gnp.exe";
    let made = source.block_on(source.org.post(
        "/api/v2/routing/queues",
        serde_json::json!({"name": name, "description": "a \u{2066}b\u{2069}"}),
    ));
    assert_eq!(made.status, 200, "{}", made.body);
    run_ok(&ctx, &["export", "--kinds", "RoutingQueue", "--out", "e"]);
    let queues = fs_err::read_to_string(ctx.path().join("e/queues.yaml")).unwrap();
    assert!(!queues.contains(['\u{202e}', '\u{2066}', '\u{2069}']), "{queues:?}");
    assert!(queues.contains(r#"name: "Invoice \u202egnp.exe""#), "{queues}");
    assert!(queues.contains(r#"description: "a \u2066b\u2069""#), "{queues}");

    let fresh = LiveSandbox::new();
    let mut there = TestContext::new();
    fresh.connect(&mut there);
    crate::apply::copy_tree(&ctx.path().join("e"), &there.path().join("e"));
    let plan = there.run(&["plan", "--output", "json", "e"]);
    let json = stdout(&plan);
    assert!(!json.contains(['\u{202e}', '\u{2066}']), "{json:?}");
    assert!(json.contains(r"Invoice \u202egnp.exe"), "{json}");
    let parsed: Value = serde_json::from_str(&json).expect("the plan is JSON");
    assert!(parsed.to_string().contains(name), "the same value: {parsed}");
    run_ok(&there, &["apply", "--auto-approve", "e"]);
    let listed = fresh.block_on(fresh.org.get("/api/v2/routing/queues?pageSize=100")).body;
    let names: Vec<&str> =
        listed["entities"].as_array().unwrap().iter().filter_map(|q| q["name"].as_str()).collect();
    assert!(names.contains(&name), "{names:?}");
}

/// A live value gcctl's own checks refuse (an alerting timeout under 7
/// seconds, which the sandbox takes) fails the export's check: exit 1, with
/// the problem at the file as written, under `--out`.
#[test]
fn a_value_the_check_refuses_is_reported_at_the_file_written() {
    let live = LiveSandbox::new();
    let mut ctx = TestContext::new();
    live.connect(&mut ctx);
    let queue = serde_json::json!({"name": "Quick Alert",
        "mediaSettings": {"message": {"alertingTimeoutSeconds": 5}}});
    let made = live.block_on(live.org.post("/api/v2/routing/queues", queue));
    assert_eq!(made.status, 200, "{}", made.body);
    let out = ctx.run(&["export", "--kinds", "RoutingQueue", "--out", "ex"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let at = format!("{}:", Path::new("ex").join("queues.yaml").display());
    assert!(err.contains(&at), "{err}");
    assert!(err.contains("error: 5 is too small: must be at least 7"), "{err}");
    assert!(err.contains("The export does not pass `gcctl validate`"), "{err}");
    assert!(ctx.path().join("ex/queues.yaml").is_file(), "the files are written");
}
