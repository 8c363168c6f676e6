//! Output contracts: the JSON format as documented (deserialized with
//! `deny_unknown_fields`), saved plans, secrets never shown, multi-line
//! strings diffed line by line, and `NO_COLOR`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{PlanOrg, code, settings};
use crate::common::repo_root;

/// The plan's JSON format as README.md documents it, written out here
/// independently of `gcctl::plan::Plan` so that any change to the format
/// fails this test.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonPlan {
    format_version: String,
    gcctl_version: String,
    target: JsonTarget,
    environment: Option<String>,
    inputs_digest: String,
    prune: bool,
    changes: Vec<JsonChange>,
    summary: JsonSummary,
    /// Present only when not empty: what gcctl deliberately leaves alone.
    #[serde(default)]
    notes: Vec<JsonNote>,
    /// Present only for a partial plan: the `--select` patterns.
    #[serde(default)]
    select: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonNote {
    message: String,
    objects: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonTarget {
    kind: String,
    location: String,
    org_id: Option<String>,
    org_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonChange {
    kind: String,
    manifest_name: Option<String>,
    org_name: String,
    id: Option<String>,
    action: String,
    prune: bool,
    fields: Vec<JsonField>,
    depends_on: Vec<String>,
    /// Present only when not empty: what a later step of the change (an
    /// integration's message routing) waits for.
    #[serde(default)]
    late_depends_on: Vec<String>,
    live_fingerprint: Option<String>,
    /// Present only when not empty: what the change does beyond its fields.
    #[serde(default)]
    notes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonField {
    pointer: String,
    before: Option<Value>,
    after: Option<Value>,
    sensitive: bool,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct JsonSummary {
    create: usize,
    update: usize,
    delete: usize,
    no_op: usize,
}

const CANARY: &str = "CANARY-SECRET-0123456789abcdef";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_output_is_the_documented_versioned_format() {
    let mut org = PlanOrg::default().await;
    org.ctx.env("COGNIGY_WEBHOOK_SECRET", CANARY);
    let examples = repo_root().join("examples/bot-handover-cognigy").display().to_string();
    let saved = org.ctx.path().join("plan.json").display().to_string();
    let args = ["plan", &examples, "--env", "prod", "--output", "json", "--out", &saved];
    let out = org.gcctl(&args).await;
    assert_eq!(code(&out), Some(0), "{}", org.render(&out));
    let plan: JsonPlan = serde_json::from_slice(&out.stdout).expect("the documented format");
    assert_eq!(plan.format_version, "1");
    assert_eq!(plan.gcctl_version, env!("CARGO_PKG_VERSION"));
    assert_eq!((plan.target.kind.as_str(), plan.environment.as_deref()), ("org", Some("prod")));
    // The role the example grants to its new OAuth client is first granted
    // to the caller (the sandbox's admin user): one update.
    assert_eq!(plan.summary, JsonSummary { create: 11, update: 3, delete: 0, no_op: 0 });
    let write_only: Vec<&str> = plan
        .changes
        .iter()
        .flat_map(|c| &c.fields)
        .filter(|f| f.sensitive)
        .map(|f| f.pointer.as_str())
        .collect();
    assert_eq!(write_only.len(), 2, "a webhook secret, a client secret: {write_only:?}");
    // The integration routes to the flow it declares in a later step.
    let integration = plan.changes.iter().find(|c| c.kind == "OpenMessagingIntegration").unwrap();
    assert_eq!(integration.late_depends_on, ["Flow/cognigy-handover-flow"]);
    assert!(!integration.depends_on.iter().any(|d| d.starts_with("Flow/")));
    // The library's own type reads it too, and the saved plan holds the same plan.
    let typed: gcctl::plan::Plan = serde_json::from_slice(&out.stdout).unwrap();
    let file = gcctl::plan::saved::SavedPlan::read(std::path::Path::new(&saved)).unwrap();
    assert_eq!(file.plan, typed);
    // Deterministic: the same inputs give the same bytes.
    assert_eq!(org.gcctl(&args).await.stdout, out.stdout);
    let everything = format!("{}{}", org.render(&out), fs_err::read_to_string(&saved).unwrap());
    assert!(!everything.contains(CANARY), "a secret leaked");
}

const NOTES: &str = "\
apiVersion: gcctl/v1
kind: RoutingQueue
metadata:
  name: notes
spec:
  name: Notes
  description: |
    Line one
    Line two
    Line three
";

/// A queue whose multi-line description differs in its middle line.
async fn notes_org() -> (PlanOrg, String) {
    let org = PlanOrg::default().await;
    let description = "Line one\nLine 2\nLine three\n";
    org.create("/api/v2/routing/queues", json!({"name": "Notes", "description": description}))
        .await;
    let path = org.manifest("notes.yaml", NOTES);
    (org, path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_line_strings_are_diffed_line_by_line() {
    let (org, path) = notes_org().await;
    let text = org.snapshot(&["plan", &path]).await;
    settings().bind(|| insta::assert_snapshot!("multi_line_text", text));
    let markdown = org.snapshot(&["plan", &path, "--output", "markdown"]).await;
    settings().bind(|| insta::assert_snapshot!("multi_line_markdown", markdown));
    let plan: Value =
        serde_json::from_slice(&org.gcctl(&["plan", &path, "-o", "json"]).await.stdout).unwrap();
    assert_eq!(
        plan["changes"][0]["fields"][0],
        json!({"pointer": "/description", "before": "Line one\nLine 2\nLine three\n",
               "after": "Line one\nLine two\nLine three\n", "sensitive": false})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_color_is_honored() {
    let (org, path) = notes_org().await;
    let colored = org.gcctl(&["--color", "always", "plan", &path]).await;
    let colored = String::from_utf8_lossy(&colored.stdout).into_owned();
    assert!(colored.contains("\u{1b}["), "--color always colors: {colored}");
    // Color never carries meaning alone: the markers are there either way.
    let plain = String::from_utf8_lossy(&org.gcctl(&["plan", &path]).await.stdout).into_owned();
    assert!(!plain.contains('\u{1b}'), "{plain}");
    assert_eq!(strip_ansi(&colored), plain);

    // On a terminal, color is on unless NO_COLOR is set.
    let Some(tty) = on_a_terminal(&org, &path, None).await else { return };
    assert!(tty.contains("\u{1b}["), "a terminal gets colors: {tty}");
    let no_color = on_a_terminal(&org, &path, Some("1")).await.unwrap();
    assert!(!no_color.contains('\u{1b}'), "NO_COLOR=1 on a terminal: {no_color}");
    assert!(no_color.contains("- Line 2") && no_color.contains("+ Line two"), "{no_color}");
}

/// Run the plan with stdout on a pseudo-terminal (util-linux `script`);
/// `None` when `script` is not installed.
async fn on_a_terminal(org: &PlanOrg, path: &str, no_color: Option<&str>) -> Option<String> {
    let mut command = org.ctx.on_a_terminal(&format!("plan '{path}'"))?;
    if let Some(value) = no_color {
        command.env("NO_COLOR", value);
    }
    let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap();
    let output = output.expect("script runs");
    assert!(output.status.success(), "{output:?}");
    Some(String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n"))
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A set-valued field (a role's permissions) is diffed element by element,
/// order aside: what is added and what is removed, each on its own line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sets_are_diffed_element_by_element() {
    let org = PlanOrg::default().await;
    org.create(
        "/api/v2/authorization/roles",
        super::role_body(
            "Set Role",
            None,
            &[
                ("routing", "queue", &["edit", "view"]),
                ("analytics", "conversationDetail", &["view"]),
            ],
        ),
    )
    .await;
    let path = org.manifest(
        "role.yaml",
        "apiVersion: gcctl/v1\nkind: Role\nmetadata: {name: r}\nspec:\n  name: Set Role\n  permissions:\n    - routing:skill:view\n    - analytics:conversationDetail:view\n    - routing:queue:view\n",
    );
    let out = org.gcctl(&["plan", &path, "--detailed-exitcode"]).await;
    assert_eq!(code(&out), Some(2), "{}", org.render(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("    ~ /permissions:\n        - \"routing:queue:edit\"\n        + \"routing:skill:view\"\n          (2 unchanged)\n"),
        "{text}"
    );
    // Markdown too: the list's sizes in the table, its items in a diff block.
    let out = org.gcctl(&["plan", &path, "--output", "markdown"]).await;
    let markdown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(markdown.contains("| `/permissions` | 3 items | 3 items, diff below |"), "{markdown}");
    assert!(
        markdown.contains("`/permissions`:\n\n```diff\n- \"routing:queue:edit\"\n+ \"routing:skill:view\"\n  (2 unchanged)\n```\n"),
        "{markdown}"
    );
    assert!(!markdown.contains("[\"analytics"), "no whole array: {markdown}");
}

/// A list that was empty (or not set) is diffed item by item too: a
/// division added to a profile reads `+ "Home"`, not `[] -> ["Home"]`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_from_empty_is_diffed_item_by_item() {
    let org = PlanOrg::default().await;
    org.create("/api/v2/authorization/roles", super::role_body("Empty Role", None, &[])).await;
    let path = org.manifest(
        "role.yaml",
        "apiVersion: gcctl/v1\nkind: Role\nmetadata: {name: r}\nspec:\n  name: Empty Role\n  permissions: [routing:queue:view]\n",
    );
    let out = org.gcctl(&["plan", &path]).await;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("    ~ /permissions:\n        + \"routing:queue:view\"\n"), "{text}");
    assert!(!text.contains("[] ->"), "{text}");
}
