//! `WebMessagingConfiguration` and `WebMessagingDeployment` end to end on a
//! fresh sandbox: apply (waiting out `Pending`), re-plan clean, a change
//! that publishes once and repoints the deployments that follow, nothing
//! published for nothing, drafts that are not drift, versions published and
//! flows changed behind gcctl's back that are, a deployment ending in
//! `Error`, export and the round trip, and the offline checks.

use std::time::Duration;

use gcctl::sandbox::SandboxConfig;
use serde_json::{Value, json};

use super::{connected, gcctl};
use crate::common::TestContext;
use crate::export::LiveSandbox;

const CONFIGS: &str = "/api/v2/webdeployments/configurations";
const DEPLOYMENTS: &str = "/api/v2/webdeployments/deployments";
const PUBLISH: &str =
    "POST /api/v2/webdeployments/configurations/{configurationId}/versions/draft/publish";
const PUT_DRAFT: &str =
    "PUT /api/v2/webdeployments/configurations/{configurationId}/versions/draft";
const PUT_DEPLOYMENT: &str = "PUT /api/v2/webdeployments/deployments/{deploymentId}";

/// A configuration, a deployment that follows it, one pinned to version 1,
/// and a declared inbound flow one of them routes to.
const MANIFESTS: &str = r##"
apiVersion: gcctl/v1
kind: WebMessagingConfiguration
metadata:
  name: web
spec:
  name: Acme Web
  description: The site's Messenger
  languages: [en-us, de-de]
  defaultLanguage: en-us
  headlessMode:
    enabled: false
  messenger:
    enabled: true
    sessionPersistenceType: AcrossSubdomains
    styles:
      primaryColor: "#ff4f1f"
    apps:
      conversations:
        enabled: true
        sessionDurationSeconds: 1800
---
apiVersion: gcctl/v1
kind: WebMessagingDeployment
metadata:
  name: site
spec:
  name: Acme Site
  configuration: web
  flow: web-inbound
  allowedDomains: [www.acme.example, "*.acme.example"]
---
apiVersion: gcctl/v1
kind: WebMessagingDeployment
metadata:
  name: kiosk
spec:
  name: Acme Kiosk
  configuration: web
  configurationVersion: 1
  flow: Guest Messaging Inbound
  allowAllDomains: true
---
apiVersion: gcctl/v1
kind: Flow
metadata:
  name: web-inbound
spec:
  name: Acme Web Inbound
  type: INBOUNDSHORTMESSAGE
  definition: |
    inboundShortMessage:
      name: Acme Web Inbound
      defaultLanguage: en-us
      startUpRef: "/inboundShortMessage/states/state[Start_10]"
      supportedLanguages:
        en-us:
          defaultLanguageSkill:
            noValue: true
      states:
        - state:
            name: Start
            refId: Start_10
            actions:
              - disconnect:
                  name: Disconnect
"##;

/// A sandbox whose drafts and deployments stay `Pending` a while after each
/// write, as a real org's do.
fn pending_org() -> LiveSandbox {
    LiveSandbox::start(SandboxConfig {
        web_deployment_delay: Duration::from_millis(300),
        ..SandboxConfig::default()
    })
}

/// The deployment named `name` as the API shows it.
fn deployment(live: &LiveSandbox, name: &str) -> Value {
    live.block_on(async {
        let id = live.org.id_named(DEPLOYMENTS, name).await;
        live.org.get(&format!("{DEPLOYMENTS}/{id}")).await.body
    })
}

/// Give each named object of an exported file the description `edited`
/// (declared right after its name), as a user editing the export would.
fn edit_descriptions(dir: &std::path::Path, objects: &[(&str, &str)]) {
    for (file, name) in objects {
        let file = dir.join(file);
        let text = fs_err::read_to_string(&file).unwrap();
        let named = format!("  name: {name}\n");
        assert!(text.contains(&named), "{text}");
        fs_err::write(&file, text.replace(&named, &format!("{named}  description: edited\n")))
            .unwrap();
    }
}

fn count(live: &LiveSandbox, route: &str) -> u64 {
    live.requests_by_route().get(route).copied().unwrap_or(0)
}

#[test]
fn a_configuration_change_publishes_once_and_repoints_the_deployments_that_follow() {
    let live = pending_org();
    let ctx = connected(&live);
    ctx.write("set/web.yaml", MANIFESTS);

    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("created WebMessagingConfiguration/web \"Acme Web\""), "{text}");
    assert!(text.contains("published version 1"), "{text}");
    assert!(text.contains("snippet to paste into the web page:\n"), "its own lines: {text}");
    assert!(text.contains("deploymentId: '"), "the snippet itself: {text}");
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 0, "a second plan is clean:\n{text}");
    let site = deployment(&live, "Acme Site");
    assert_eq!(site["status"], "Active");
    assert_eq!(site["configuration"]["version"], "1");
    assert_eq!(site["flow"]["name"], "Acme Web Inbound");
    assert_eq!(site["allowAllDomains"], false);

    // Nothing changed: nothing is written, nothing published.
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("Nothing to apply."), "{text}");
    for route in [PUBLISH, PUT_DRAFT, PUT_DEPLOYMENT] {
        assert_eq!(count(&live, route), 0, "{route}: {:?}", live.requests_by_route());
    }

    // One field changes: the plan says what is published and repointed.
    ctx.write(
        "set/web.yaml",
        &MANIFESTS.replace("sessionDurationSeconds: 1800", "sessionDurationSeconds: 3600"),
    );
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("# apply updates the draft, then publishes it as version 2"), "{text}");
    assert!(
        text.contains("/messenger/apps/conversations/sessionDurationSeconds: 1800 -> 3600"),
        "{text}"
    );
    assert!(text.contains("~ WebMessagingDeployment/site \"Acme Site\" will be updated"), "{text}");
    assert!(text.contains("/configurationVersion: 1 -> \"latest\""), "{text}");
    assert!(
        text.contains(
            "# apply repoints it to the version that WebMessagingConfiguration/web publishes"
        ),
        "{text}"
    );
    assert!(!text.contains("WebMessagingDeployment/kiosk"), "a pinned deployment stays: {text}");
    let json = ctx.run(&["plan", "--output", "json", "set"]);
    let plan: Value = serde_json::from_slice(&json.stdout).unwrap();
    let updates: Vec<&str> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "update")
        .map(|c| c["manifest_name"].as_str().unwrap())
        .collect();
    assert_eq!(updates, ["web", "site"], "{plan}");
    let notes =
        &plan["changes"].as_array().unwrap().iter().find(|c| c["manifest_name"] == "web").unwrap()
            ["notes"];
    assert_eq!(notes, &json!(["apply updates the draft, then publishes it as version 2"]));

    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("published version 2"), "{text}");
    assert!(text.contains("uses configuration version 2 (was 1)"), "{text}");
    assert_eq!(count(&live, PUBLISH), 1, "{:?}", live.requests_by_route());
    assert_eq!(count(&live, PUT_DRAFT), 1, "{:?}", live.requests_by_route());
    assert_eq!(count(&live, PUT_DEPLOYMENT), 1, "only the following deployment moves");
    // The read's, the update's; the deployment uses the publish's answer.
    assert_eq!(count(&live, VERSIONS), 2, "{:?}", live.requests_by_route());
    assert_eq!(deployment(&live, "Acme Site")["configuration"]["version"], "2");
    assert_eq!(deployment(&live, "Acme Kiosk")["configuration"]["version"], "1");
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 0, "clean after the publish:\n{text}");
    // Undeclared fields kept their live values through the whole-object PUT.
    let (config, published) = live.block_on(async {
        let id = live.org.id_named(CONFIGS, "Acme Web").await;
        let published = live.org.get(&format!("{CONFIGS}/{id}/versions/2")).await.body;
        (id, published)
    });
    assert_eq!(published["messenger"]["styles"]["primaryColor"], "#ff4f1f", "{config}");
    assert_eq!(published["description"], "The site's Messenger [gcctl version 2]");
}

const VERSIONS: &str = "GET /api/v2/webdeployments/configurations/{configurationId}/versions";

/// A configuration's versions are listed once a run at most (issue 17):
/// a deployment takes its configuration's version from the publish's
/// answer in an apply, and from the configuration's details the same read
/// read in a plan or export; it lists them only when nothing in the run
/// says (a configuration that is not declared).
#[test]
fn a_configurations_versions_are_listed_once_a_run_at_most() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    ctx.write("set/web.yaml", MANIFESTS);
    let by_route = || live.requests_by_route();

    // Created and published in this run: the publish answered version 1.
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(count(&live, VERSIONS), 0, "{:?}", by_route());
    assert_eq!(deployment(&live, "Acme Site")["configuration"]["version"], "1");

    // A plan reads the configuration's versions for the configuration,
    // and the deployment that follows it takes the latest from there.
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(count(&live, VERSIONS), 1, "{:?}", by_route());

    // So does an export, for every configuration of the org.
    let configurations =
        live.block_on(live.org.get(CONFIGS)).body["entities"].as_array().unwrap().len();
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["export", "--out", "exported"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(count(&live, VERSIONS), u64::try_from(configurations).unwrap(), "{:?}", by_route());

    // The deployment changed alone, its configuration unchanged: the
    // version the run read is the one.
    ctx.write("set/web.yaml", &MANIFESTS.replace("[www.acme.example, ", "[shop.acme.example, "));
    live.reset_stats();
    let (code, text) =
        gcctl(&ctx, &["apply", "--auto-approve", "--select", "WebMessagingDeployment/site", "set"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(count(&live, PUT_DEPLOYMENT), 1, "{:?}", by_route());
    assert_eq!(count(&live, VERSIONS), 1, "the read's only: {:?}", by_route());
    let site = deployment(&live, "Acme Site");
    assert_eq!(site["configuration"]["version"], "1");
    assert_eq!(site["allowedDomains"][0], "shop.acme.example", "{site}");

    // A new deployment of a configuration the set does not declare: listed
    // once, at apply time.
    ctx.write(
        "other/site.yaml",
        "apiVersion: gcctl/v1\nkind: WebMessagingDeployment\nmetadata:\n  name: other\nspec:\n  \
         name: Acme Other\n  configuration: Acme Web\n  flow: Acme Web Inbound\n  \
         allowAllDomains: true\n",
    );
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "other"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(count(&live, VERSIONS), 1, "{:?}", by_route());
    assert_eq!(deployment(&live, "Acme Other")["configuration"]["version"], "1");
}

#[test]
fn drafts_are_not_drift_but_versions_published_and_flows_changed_behind_gcctls_back_are() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    ctx.write("set/web.yaml", MANIFESTS);
    assert_eq!(gcctl(&ctx, &["apply", "--auto-approve", "set"]).0, 0);
    let id = live.block_on(live.org.id_named(CONFIGS, "Acme Web"));
    let draft_path = format!("{CONFIGS}/{id}/versions/draft");

    // Someone saves a draft in the UI and does not publish it: no drift, a note.
    let mut draft = live.block_on(live.org.get(&draft_path)).body;
    draft["position"] = json!({"alignment": "Left", "sideSpace": 10, "bottomSpace": 10});
    // `selfUri` is read-only: a write sends references as `{id}`.
    gcctl::kinds::org::id_references(&mut draft, &[]);
    let answer = live.block_on(live.org.put(&draft_path, draft.clone()));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 0, "an unpublished draft changes no plan:\n{text}");
    assert!(text.contains("No changes."), "{text}");
    assert!(text.contains("WebMessagingConfiguration/web \"Acme Web\" unchanged"), "{text}");
    assert!(text.contains("# the draft holds edits nobody published (position)"), "{text}");
    let (code, text) = gcctl(&ctx, &["drift", "set"]);
    assert_eq!(code, 0, "an unpublished draft is not drift:\n{text}");
    assert!(text.contains("the draft holds edits nobody published (position)"), "{text}");
    for format in ["json", "markdown", "junit"] {
        let (code, report) = gcctl(&ctx, &["drift", "--output", format, "set"]);
        assert_eq!(code, 0, "{format}: {report}");
        assert!(report.contains("the draft holds edits nobody published"), "{format}: {report}");
    }

    // Then publishes it: a version published outside gcctl, whose declared
    // fields are the declared ones (only the undeclared position changed):
    // not drift, a note naming the version and who published it.
    let answer = live.block_on(live.org.post(&format!("{draft_path}/publish"), json!({})));
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["version"], "2");
    // And points the site at another flow.
    let site = deployment(&live, "Acme Site");
    let support = live.block_on(async {
        let flows = live.org.get("/api/v2/flows?type=inboundshortmessage&name=Support").await.body;
        flows["entities"][0]["id"].as_str().unwrap().to_string()
    });
    let mut body = site.clone();
    body["flow"] = json!({"id": support});
    body["configuration"] = json!({"id": id, "version": "2"});
    gcctl::kinds::org::id_references(&mut body, &["version", "provider"]);
    let answer = live
        .block_on(live.org.put(&format!("{DEPLOYMENTS}/{}", site["id"].as_str().unwrap()), body));
    assert_eq!(answer.status, 200, "{}", answer.body);

    let (code, text) = gcctl(&ctx, &["drift", "set"]);
    assert_eq!(code, 2, "{text}");
    assert!(!text.contains("WebMessagingConfiguration/web \"Acme Web\" has drifted"), "{text}");
    assert!(
        text.contains("version 2 published outside gcctl by ")
            && text.contains(
                "what is live is what the manifest declares, so nothing is published again"
            ),
        "{text}"
    );
    assert!(text.contains("~ WebMessagingDeployment/site \"Acme Site\" has drifted"), "{text}");
    assert!(text.contains("/flow: declared \"Acme Web Inbound\", live \"Support\""), "{text}");
    for format in ["json", "markdown", "junit"] {
        let (code, report) = gcctl(&ctx, &["drift", "--output", format, "set"]);
        assert_eq!(code, 2, "{format}: {report}");
        assert!(report.contains("published outside gcctl"), "{format}: {report}");
        assert!(report.contains("/flow"), "{format}: {report}");
    }

    // Apply restores the flow, and publishes nothing.
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(count(&live, PUBLISH), 0, "{text}");
    let site = deployment(&live, "Acme Site");
    assert_eq!(site["configuration"]["version"], "2");
    assert_eq!(site["flow"]["name"], "Acme Web Inbound");
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 0, "{text}");

    // A version published outside gcctl that changes a declared field is drift.
    let mut draft = live.block_on(live.org.get(&draft_path)).body;
    draft["defaultLanguage"] = json!("de-de");
    gcctl::kinds::org::id_references(&mut draft, &[]);
    assert_eq!(live.block_on(live.org.put(&draft_path, draft)).status, 200);
    let answer = live.block_on(live.org.post(&format!("{draft_path}/publish"), json!({})));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let (code, text) = gcctl(&ctx, &["drift", "set"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("~ WebMessagingConfiguration/web \"Acme Web\" has drifted"), "{text}");
    assert!(
        text.contains(
            "/publishedBy: declared \"gcctl\", live \"version 3 published outside gcctl by "
        ),
        "{text}"
    );
    // Apply republishes the declared configuration (keeping the UI's
    // position, which the manifest does not declare).
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("published version 4"), "{text}");
    let published = live.block_on(live.org.get(&format!("{CONFIGS}/{id}/versions/4"))).body;
    assert_eq!(
        (&published["position"]["alignment"], &published["defaultLanguage"]),
        (&json!("Left"), &json!("en-us"))
    );
    assert_eq!(deployment(&live, "Acme Site")["configuration"]["version"], "4");
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn a_deployment_that_ends_in_error_fails_naming_it() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    let manifests = MANIFESTS.replace("name: Acme Site", "name: sandbox-status-error site");
    ctx.write("set/web.yaml", &manifests);
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("WebMessagingDeployment/site: the deployment is in status Error (GET /api/v2/webdeployments/deployments/"),
        "{text}"
    );
    // The rest of the run went through.
    assert!(text.contains("created WebMessagingDeployment/kiosk"), "{text}");
}

#[test]
fn export_writes_names_and_round_trips_into_a_fresh_org() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    ctx.write("set/web.yaml", MANIFESTS);
    assert_eq!(gcctl(&ctx, &["apply", "--auto-approve", "set"]).0, 0);

    let (code, text) = gcctl(&ctx, &["export", "--out", "exported"]);
    assert_eq!(code, 0, "{text}");
    let exported =
        ["exported/web-messaging-configurations.yaml", "exported/web-messaging-deployments.yaml"]
            .map(|f| fs_err::read_to_string(ctx.path().join(f)).unwrap())
            .join("---\n");
    assert!(exported.contains("kind: WebMessagingConfiguration"), "{exported}");
    assert!(exported.contains("  configuration: acme-web\n"), "by handle: {exported}");
    assert!(
        exported.contains("  flow: acme-web-inbound\n"),
        "an exported flow by handle: {exported}"
    );
    assert!(
        exported.contains("  flow: Guest Messaging Inbound\n"),
        "an org flow by name: {exported}"
    );
    // Both use the latest version (the kiosk pins 1, which is the latest):
    // export cannot tell a pin from following, and follows.
    assert!(!exported.contains("configurationVersion"), "latest is the default: {exported}");
    assert!(exported.contains("  description: The site's Messenger\n"), "no marker: {exported}");
    for absent in ["gcctl version", "snippet", "publishedBy", "selfUri", "status"] {
        assert!(!exported.contains(absent), "{absent}: {exported}");
    }
    let again = ctx.path().join("again");
    let (code, _) = gcctl(&ctx, &["export", "--out", again.to_str().unwrap()]);
    assert_eq!(code, 0);
    let twice = [
        again.join("web-messaging-configurations.yaml"),
        again.join("web-messaging-deployments.yaml"),
    ]
    .map(|f| fs_err::read_to_string(f).unwrap())
    .join("---\n");
    assert_eq!(exported, twice, "two exports are byte-identical");

    let target = LiveSandbox::new();
    let fresh = connected(&target);
    let dir = ctx.path().join("exported");
    let dir = dir.to_str().unwrap();
    let (code, text) = gcctl(&fresh, &["apply", "--auto-approve", "--secrets-dir", "s", dir]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = gcctl(&fresh, &["plan", "--detailed-exitcode", dir]);
    assert_eq!(code, 0, "the round trip plans clean:\n{text}");
}

#[test]
fn the_apis_rules_are_checked_offline_where_they_are_broken() {
    let ctx = TestContext::new();
    ctx.write(
        "set/web.yaml",
        r#"apiVersion: gcctl/v1
kind: WebMessagingConfiguration
metadata:
  name: web
spec:
  name: Acme Web
  description: "old [gcctl version 3]"
  languages: [en-us, en-us]
  defaultLanguage: fr-fr
  messenger:
    enabled: true
    styles:
      primaryColor: orange
    fileUpload:
      modes:
        - fileTypes: [image/png]
          maxFileSizeKB: 20000
    apps:
      conversations:
        notifications:
          enabled: true
---
apiVersion: gcctl/v1
kind: WebMessagingDeployment
metadata:
  name: both
spec:
  name: Both
  configuration: web
  flow: Support
  allowAllDomains: true
  allowedDomains: [https://acme.example/path]
---
apiVersion: gcctl/v1
kind: WebMessagingDeployment
metadata:
  name: none
spec:
  name: None
  configuration: web
  configurationVersion: newest
  flow: Support
"#,
    );
    let (code, text) = gcctl(&ctx, &["validate", "set"]);
    assert_eq!(code, 1, "{text}");
    for expected in [
        "web.yaml:7:16: error: the description holds gcctl's version marker",
        "web.yaml:8:22: error: `en-us` is listed twice",
        "web.yaml:9:20: error: `fr-fr` is not one of `languages`",
        "web.yaml:13:21: error: `orange` is not a hexadecimal color",
        "web.yaml:17:26: error: 20000 is out of range: must be between 0 and 10240 (10 MB)",
        "web.yaml:21:20: error: notifications need the PushNotificationTitle and PushNotificationBody labels",
        "web.yaml:32:19: error: `allowedDomains` must be empty when `allowAllDomains` is true",
        "web.yaml:32:20: error: `https://acme.example/path` is not a domain name",
        "web.yaml:41:25: error: configurationVersion: `newest` is not `latest` or a version number",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
}

#[test]
fn prune_deletes_deployments_before_the_configurations_they_use() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    ctx.write("set/web.yaml", MANIFESTS);
    assert_eq!(gcctl(&ctx, &["apply", "--auto-approve", "set"]).0, 0);
    // The set keeps only the flow; both web messaging kinds are in scope.
    let flow = &MANIFESTS[MANIFESTS.find("apiVersion: gcctl/v1\nkind: Flow").unwrap()..];
    ctx.write("set/web.yaml", flow);
    ctx.write(
        "set/project.yaml",
        "apiVersion: gcctl/v1\nkind: Project\nmetadata:\n  name: p\nspec:\n  prune:\n    - kind: WebMessagingConfiguration\n      names: [\"*\"]\n    - kind: WebMessagingDeployment\n      names: [\"*\"]\n",
    );
    let (code, text) =
        gcctl(&ctx, &["apply", "--auto-approve", "--prune", "--parallelism", "1", "set"]);
    assert_eq!(code, 0, "{text}");
    let order: Vec<&str> = text.lines().filter(|l| l.starts_with("deleted ")).collect();
    assert_eq!(order.len(), 3, "{text}");
    assert!(order[2].starts_with("deleted WebMessagingConfiguration \"Acme Web"), "{text}");
    let left = live.block_on(live.org.get(CONFIGS)).body;
    assert_eq!(left["total"], 0, "{left}");
    assert_eq!(gcctl(&ctx, &["plan", "--detailed-exitcode", "--prune", "set"]).0, 0);
}

#[test]
fn a_deployment_of_an_org_configuration_never_published_fails_saying_what_to_do() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    let draft = json!({"name": "Draft Only", "languages": ["en-us"], "defaultLanguage": "en-us"});
    assert_eq!(live.block_on(live.org.post(CONFIGS, draft)).status, 200);
    ctx.write(
        "set/web.yaml",
        "apiVersion: gcctl/v1\nkind: WebMessagingDeployment\nmetadata:\n  name: site\nspec:\n  name: Site\n  configuration: Draft Only\n  flow: Guest Messaging Inbound\n  allowAllDomains: true\n",
    );
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("WebMessagingDeployment/site: configuration `Draft Only` has no published version to use: declare it in the set"),
        "{text}"
    );
    assert_eq!(live.block_on(live.org.get(DEPLOYMENTS)).body["total"], 0);
}

/// An org built in the UI (a configuration published there, a deployment
/// pinned to its version 1): its export plans clean against it, and an
/// apply publishes nothing; the plan notes who published the version.
#[test]
fn an_export_of_a_configuration_published_outside_gcctl_plans_clean() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    let made = live.block_on(live.org.post(
        CONFIGS,
        json!({"name": "UI Config", "languages": ["en-us"], "defaultLanguage": "en-us"}),
    ));
    assert_eq!(made.status, 200, "{}", made.body);
    let id = made.body["id"].as_str().unwrap().to_string();
    let published =
        live.block_on(live.org.post(&format!("{CONFIGS}/{id}/versions/draft/publish"), json!({})));
    assert_eq!(published.status, 200, "{}", published.body);
    let flow = live.block_on(async {
        let flows = live.org.get("/api/v2/flows?type=inboundshortmessage&name=Support").await.body;
        flows["entities"][0]["id"].as_str().unwrap().to_string()
    });
    let site = json!({"name": "UI Deployment", "allowAllDomains": true,
        "configuration": {"id": id, "version": "1"}, "flow": {"id": flow}});
    let made = live.block_on(live.org.post(DEPLOYMENTS, site));
    assert_eq!(made.status, 200, "{}", made.body);

    let kinds = "WebMessagingConfiguration,WebMessagingDeployment";
    let (code, text) = gcctl(&ctx, &["export", "--out", "exported", "--kinds", kinds]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "exported"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("version 1 published outside gcctl by "), "{text}");
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "exported"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(
        (count(&live, PUBLISH), count(&live, PUT_DRAFT), count(&live, PUT_DEPLOYMENT)),
        (0, 0, 0)
    );
}

/// A deployment pinned to an older version: the export keeps the pin (the
/// org it came from plans clean) and warns that version numbers are the
/// org's own; applied to a fresh org, whose configuration this apply
/// publishes as version 1, the pin fails before any request for the
/// deployment, saying what to do.
#[test]
fn a_pin_to_an_older_version_is_warned_on_export_and_refused_where_it_does_not_exist() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    let set = |description: &str, pin: u32| {
        format!(
            "apiVersion: gcctl/v1\nkind: WebMessagingConfiguration\nmetadata: {{name: wmc}}\nspec: {{name: WMC, description: {description}, languages: [en-us], defaultLanguage: en-us, messenger: {{enabled: true}}}}\n---\napiVersion: gcctl/v1\nkind: WebMessagingDeployment\nmetadata: {{name: pinned}}\nspec: {{name: Pinned, configuration: wmc, configurationVersion: {pin}, flow: Guest Messaging Inbound, allowedDomains: [example.com]}}\n"
        )
    };
    for (description, pin) in [("v1", 1), ("v2", 1), ("v3", 2)] {
        ctx.write("set/web.yaml", &set(description, pin));
        let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
        assert_eq!(code, 0, "{text}");
    }
    assert_eq!(deployment(&live, "Pinned")["configuration"]["version"], "2");
    let args = ["export", "--kinds", "WebMessagingConfiguration,WebMessagingDeployment"];
    let (code, text) = gcctl(&ctx, &[&args[..], &["--out", "exported"]].concat());
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("WebMessagingDeployment/pinned: pinned to version 2 of its configuration"),
        "{text}"
    );
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "exported"]);
    assert_eq!(code, 0, "the source org plans clean:\n{text}");

    let target = LiveSandbox::new();
    let fresh = connected(&target);
    let dir = ctx.path().join("exported");
    target.reset_stats();
    let (code, text) = gcctl(&fresh, &["apply", "--auto-approve", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("configurationVersion 2: configuration `WMC` has no version 2 (its latest published version is 1); pin a version it has, or set `configurationVersion: latest`"),
        "{text}"
    );
    assert_eq!(count(&target, "POST /api/v2/webdeployments/deployments"), 0);
}

/// A configuration nobody published (a draft made in the UI): its export
/// plans a publish (gcctl publishes what it declares), not a note that
/// what is live is what is declared; once applied, it plans clean.
#[test]
fn a_configuration_never_published_is_published_not_noted() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    let body = json!({"name": "Draft Only", "languages": ["en-us"], "defaultLanguage": "en-us",
        "messenger": {"enabled": true}});
    let answer = live.block_on(live.org.post(CONFIGS, body));
    assert!(answer.status < 300, "{}", answer.body);
    // An export leaves it out: a manifest declares what is published, so
    // applying the export to this org would publish the draft.
    let args = ["export", "--kinds", "WebMessagingConfiguration", "--out", "exported"];
    let (code, text) = gcctl(&ctx, &args);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("WebMessagingConfiguration/draft-only (\"Draft Only\"): it was never published (a draft only)"), "{text}");
    assert!(text.contains("nothing exported: see the warnings"), "{text}");
    // Declared, it is published.
    ctx.write(
        "exported/web.yaml",
        "apiVersion: gcctl/v1\nkind: WebMessagingConfiguration\nmetadata: {name: draft-only}\nspec:\n  name: Draft Only\n  languages: [en-us]\n  defaultLanguage: en-us\n  messenger: {enabled: true}\n",
    );
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "exported"]);
    assert_eq!(code, 2, "{text}");
    assert!(!text.contains("nothing is published again"), "{text}");
    assert!(
        text.contains("~ WebMessagingConfiguration/draft-only \"Draft Only\" will be updated"),
        "{text}"
    );
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "exported"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(count(&live, PUBLISH), 1, "{text}");
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "exported"]);
    assert_eq!(code, 0, "{text}");
}

/// Fields the specs do not model (a configuration's knowledge base, a
/// deployment's push integrations): export warns of each one an object
/// holds, and an update of the exported manifests keeps them in the org.
#[test]
fn unmanaged_fields_are_warned_of_on_export_and_kept_by_updates() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    let kb = json!({"id": "2f1c8a6e-0000-4000-8000-00000000c0de"});
    let config = json!({"name": "KB Config", "languages": ["en-us"], "defaultLanguage": "en-us",
        "messenger": {"enabled": true, "apps": {"knowledge": {"enabled": true, "knowledgeBase": kb}}},
        "supportCenter": {"enabled": true, "knowledgeBase": kb}});
    let made = live.block_on(live.org.post(CONFIGS, config));
    assert_eq!(made.status, 200, "{}", made.body);
    let id = made.body["id"].as_str().unwrap().to_string();
    let published =
        live.block_on(live.org.post(&format!("{CONFIGS}/{id}/versions/draft/publish"), json!({})));
    assert_eq!(published.status, 200, "{}", published.body);
    let flow = live.block_on(async {
        let flows = live.org.get("/api/v2/flows?type=inboundshortmessage&name=Support").await.body;
        flows["entities"][0]["id"].as_str().unwrap().to_string()
    });
    let push = json!([{"id": "9b7d0c3e-0000-4000-8000-0000000000aa", "provider": "APNS"}]);
    let site = json!({"name": "Pushed", "allowAllDomains": true, "pushIntegrations": push,
        "configuration": {"id": id, "version": "1"}, "flow": {"id": flow}});
    let mut odd = site.clone();
    odd["pushIntegrations"] = json!([{"id": "x"}]);
    let refused = live.block_on(live.org.post(DEPLOYMENTS, odd));
    assert_eq!(refused.status, 400, "the sandbox checks their shape: {}", refused.body);
    let made = live.block_on(live.org.post(DEPLOYMENTS, site));
    assert_eq!(made.status, 200, "{}", made.body);

    let kinds = "WebMessagingConfiguration,WebMessagingDeployment";
    let (code, text) = gcctl(&ctx, &["export", "--out", "exported", "--kinds", kinds]);
    assert_eq!(code, 0, "{text}");
    for warning in [
        "WebMessagingConfiguration/kb-config: /messenger/apps/knowledge, /supportCenter/knowledgeBase not exported: gcctl does not manage them",
        "WebMessagingDeployment/pushed: /pushIntegrations not exported: gcctl does not manage it",
    ] {
        assert!(text.contains(warning), "{warning}\n{text}");
    }
    // Both edited: the new draft and the deployment's PUT keep the fields.
    edit_descriptions(
        &ctx.path().join("exported"),
        &[
            ("web-messaging-configurations.yaml", "KB Config"),
            ("web-messaging-deployments.yaml", "Pushed"),
        ],
    );
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "exported"]);
    assert_eq!(code, 0, "{text}");
    let latest = live.block_on(live.org.get(&format!("{CONFIGS}/{id}/versions/2"))).body;
    assert_eq!(
        latest["messenger"]["apps"]["knowledge"]["knowledgeBase"]["id"], kb["id"],
        "{latest}"
    );
    assert_eq!(latest["supportCenter"]["knowledgeBase"]["id"], kb["id"], "{latest}");
    let pushed = deployment(&live, "Pushed");
    assert_eq!(pushed["description"], "edited", "{pushed}");
    assert_eq!(pushed["pushIntegrations"], push, "{pushed}");
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "exported"]);
    assert_eq!(code, 0, "{text}");
}

/// Two configurations share a name (the API allows it), and a deployment
/// uses one of them: neither configuration can be exported (by name), nor
/// can the deployment, whose manifest would name an ambiguous (here) or
/// missing (elsewhere) configuration, and would keep the whole export from
/// planning. It is left out with a warning; the rest plans.
#[test]
fn an_object_referring_to_a_shared_name_is_left_out_of_an_export() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    let twin = |description: &str| {
        let body = json!({"name": "Twin Config", "description": description, "languages": ["en-us"],
            "defaultLanguage": "en-us", "messenger": {"enabled": true}});
        let made = live.block_on(live.org.post(CONFIGS, body));
        assert!(made.status < 300, "{}", made.body);
        let id = made.body["id"].as_str().unwrap().to_string();
        let published = live
            .block_on(live.org.post(&format!("{CONFIGS}/{id}/versions/draft/publish"), json!({})));
        assert!(published.status < 300, "{}", published.body);
        id
    };
    let (_, second) = (twin("first"), twin("second"));
    let flow = live.block_on(async {
        let flows = live.org.get("/api/v2/flows?type=inboundshortmessage&name=Support").await.body;
        flows["entities"][0]["id"].as_str().unwrap().to_string()
    });
    let body = json!({"name": "Twin User", "configuration": {"id": second, "version": "1"},
        "flow": {"id": flow}, "allowAllDomains": true});
    let made = live.block_on(live.org.post(DEPLOYMENTS, body));
    assert!(made.status < 300, "{}", made.body);

    let args =
        ["export", "--kinds", "WebMessagingConfiguration,WebMessagingDeployment", "--out", "ex"];
    let (code, text) = gcctl(&ctx, &args);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("are named `Twin Config`"), "{text}");
    assert!(
        text.contains("WebMessagingDeployment/twin-user (\"Twin User\"): it refers to WebMessagingConfiguration `Twin Config`, a name several objects of the org share"),
        "{text}"
    );
    assert!(!ctx.path().join("ex/web-messaging-deployments.yaml").exists());
    // The configurations not exported: the same.
    let args = ["export", "--kinds", "WebMessagingDeployment"];
    let (code, text) = gcctl(&ctx, &args);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("WebMessagingDeployment/twin-user (\"Twin User\"): it refers to WebMessagingConfiguration `Twin Config`"), "{text}");
    assert!(!text.contains("kind: WebMessagingDeployment"), "{text}");
}

/// Fields an org holds that were dropped without a word (export audit): a
/// configuration's journey settings and launcher icon are now declared,
/// exported and published in a fresh org; a queue's SMS and `WhatsApp` reply
/// addresses and a client's scheduled deletion are warned of on export and
/// kept by every update (a client's PUT used to cancel its deletion).
#[test]
fn fields_the_org_holds_are_exported_or_warned_of_and_kept() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    let journey = json!({"enabled": true, "pageviewConfig": "Auto",
        "excludedQueryParameters": ["utm_source"], "searchQueryParameters": ["q"],
        "shouldKeepUrlFragment": true});
    let icon = json!({"url": "https://cdn.example.com/icon.svg"});
    let config = json!({"name": "Journey Config", "languages": ["en-us"], "defaultLanguage": "en-us",
        "messenger": {"enabled": true, "launcherButton": {"visibility": "On", "icon": icon}},
        "journeyEvents": journey});
    let made = live.block_on(live.org.post(CONFIGS, config));
    assert_eq!(made.status, 200, "{}", made.body);
    let id = made.body["id"].as_str().unwrap().to_string();
    let published =
        live.block_on(live.org.post(&format!("{CONFIGS}/{id}/versions/draft/publish"), json!({})));
    assert_eq!(published.status, 200, "{}", published.body);
    let sms = json!({"smsAddress": {"id": "5b0c6a1e-0000-4000-8000-0000000000aa"}});
    // A `QueueEmailAddress`: references to a domain and one of its routes.
    let email = json!([{"domain": {"id": "mail.example.com"}, "route": {"id": "r1"}}]);
    let queue = json!({"name": "SMS Queue", "outboundMessagingAddresses": sms,
        "mediaSettings": {"email": {"allOutboundEmailAddresses": email}}});
    let made = live.block_on(live.org.post("/api/v2/routing/queues", queue));
    assert_eq!(made.status, 200, "{}", made.body);

    let client = json!({"name": "Temp Client", "authorizedGrantType": "CODE", "scope": ["users"],
        "registeredRedirectUri": ["https://q.example/"], "dateToDelete": "2027-01-01T00:00:00Z"});
    let made = live.block_on(live.org.post("/api/v2/oauth/clients", client));
    assert_eq!(made.status, 200, "{}", made.body);
    let client_id = made.body["id"].as_str().unwrap().to_string();

    let kinds = "WebMessagingConfiguration,RoutingQueue,OAuthClient";
    let (code, text) = gcctl(&ctx, &["export", "--out", "exported", "--kinds", kinds]);
    assert_eq!(code, 0, "{text}");
    for warning in [
        "RoutingQueue/sms-queue: /outboundMessagingAddresses/smsAddress, /mediaSettings/email/allOutboundEmailAddresses not exported: gcctl does not manage them",
        "OAuthClient/temp-client: /dateToDelete not exported: gcctl does not manage it",
    ] {
        assert!(text.contains(warning), "{warning}\n{text}");
    }
    let configs = ctx.path().join("exported/web-messaging-configurations.yaml");
    let exported = fs_err::read_to_string(&configs).unwrap();
    for line in [
        "excludedQueryParameters:\n      - utm_source",
        "searchQueryParameters:\n      - q",
        "shouldKeepUrlFragment: true",
        "icon:\n        url: https://cdn.example.com/icon.svg",
    ] {
        assert!(exported.contains(line), "{line}\n{exported}");
    }

    // The queue and the client edited: their updates keep what the org holds.
    edit_descriptions(
        &ctx.path().join("exported"),
        &[("queues.yaml", "SMS Queue"), ("oauth-clients.yaml", "Temp Client")],
    );
    let (code, text) =
        gcctl(&ctx, &["apply", "--auto-approve", "--secrets-dir", "secrets", "exported"]);
    assert_eq!(code, 0, "{text}");
    let queue = live.block_on(async {
        let id = live.org.id_named("/api/v2/routing/queues", "SMS Queue").await;
        live.org.get(&format!("/api/v2/routing/queues/{id}")).await.body
    });
    assert_eq!(queue["description"], "edited", "{queue}");
    assert_eq!(queue["outboundMessagingAddresses"]["smsAddress"]["id"], sms["smsAddress"]["id"]);
    assert_eq!(queue["mediaSettings"]["email"]["allOutboundEmailAddresses"], email, "{queue}");
    let client = live.block_on(live.org.get(&format!("/api/v2/oauth/clients/{client_id}"))).body;
    assert_eq!(client["description"], "edited", "{client}");
    assert_eq!(client["dateToDelete"], "2027-01-01T00:00:00Z", "{client}");

    // The configuration alone into a fresh org: published with them.
    let fresh = LiveSandbox::new();
    let there = connected(&fresh);
    fs_err::create_dir_all(there.path().join("set")).unwrap();
    fs_err::copy(&configs, there.path().join("set/configs.yaml")).unwrap();
    let (code, text) = gcctl(&there, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    let version = fresh.block_on(async {
        let id = fresh.org.id_named(CONFIGS, "Journey Config").await;
        fresh.org.get(&format!("{CONFIGS}/{id}/versions/1")).await.body
    });
    assert_eq!(version["journeyEvents"], journey, "{version}");
    assert_eq!(version["messenger"]["launcherButton"]["icon"], icon, "{version}");
    let (code, text) = gcctl(&there, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 0, "{text}");
}
