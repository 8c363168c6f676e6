//! Property: for generated manifest sets, after `apply`, `plan` finds no
//! changes. Queues with random subsets of fields within the valid limits,
//! roles with random permission sets, supported content profiles with random
//! media types, integrations referencing them, OAuth clients holding roles;
//! applied through the library against a fresh sandbox per case.

use std::path::Path;
use std::time::Duration;

use gcctl::api::{Auth, Client, ClientConfig, resolve_region};
use gcctl::apply::{self, ApplySettings};
use gcctl::manifest::{self, LoadOptions};
use gcctl::plan::{self, Plan, PlanTarget, ReadScope};
use gcctl::sandbox::{RunningSandbox, SandboxConfig};
use proptest::prelude::*;
use proptest::sample::subsequence;
use serde_json::{Value, json};

const PERMISSIONS: [&str; 8] = [
    "routing:queue:view",
    "routing:queue:edit",
    "routing:queue:*",
    "conversation:message:create",
    "conversation:message:view",
    "conversation:message:receive",
    "analytics:conversationDetail:view",
    "messaging:integration:view",
];
const MEDIA_TYPES: [&str; 7] =
    ["*/*", "image/*", "image/png", "application/pdf", "video/mpeg", "audio/*", "text/plain"];
const INBOUND_FLOWS: [&str; 3] =
    ["Bot Handover Inbound", "External Bot Inbound", "Guest Messaging Inbound"];
const WEBHOOK_SECRET: &str = "property-webhook-secret-0123456789";

fn doc(kind: &str, name: &str, spec: &Value) -> Value {
    json!({"apiVersion": "gcctl/v1", "kind": kind, "metadata": {"name": name}, "spec": spec})
}

/// Insert each `Some` field.
fn with(mut spec: Value, fields: Vec<(&str, Option<Value>)>) -> Value {
    for (key, value) in fields {
        if let Some(value) = value {
            spec[key] = value;
        }
    }
    spec
}

fn media_settings() -> impl Strategy<Value = Value> {
    let service_level = (0_u32..=100, 1000_i64..120_000)
        .prop_map(|(p, d)| json!({"percentage": f64::from(p) / 100.0, "durationMs": d}));
    (prop::option::of(7_i64..600), prop::option::of(service_level), prop::option::of(any::<bool>()))
        .prop_map(|(timeout, level, auto)| {
            with(
                json!({}),
                vec![
                    ("alertingTimeoutSeconds", timeout.map(Value::from)),
                    ("serviceLevel", level),
                    ("enableAutoAnswer", auto.map(Value::from)),
                ],
            )
        })
}

fn routing() -> impl Strategy<Value = (Option<Value>, Option<Value>)> {
    let rule = (prop::sample::select(vec!["MEETS_THRESHOLD", "ANY"]), 0_i64..10, 2_i64..259_200)
        .prop_map(|(op, threshold, wait)| {
            json!({"operator": op, "threshold": threshold, "waitSeconds": wait})
        });
    let ring = prop::option::of(1_u32..300).prop_map(|t| match t {
        Some(t) => json!({"expansionCriteria": [{"type": "TIMEOUT_SECONDS", "threshold": t}]}),
        None => json!({}),
    });
    (
        prop::option::of(prop::collection::vec(rule, 1..3).prop_map(Value::from)),
        prop::option::of(
            prop::collection::vec(ring, 2..=6).prop_map(|rings| json!({"rings": rings})),
        ),
    )
}

/// A queue: random subsets of fields, every value within the API's limits.
/// `recipients` are the integrations it may reply through.
fn queue(index: usize, recipients: usize) -> impl Strategy<Value = Value> {
    let acw = (
        prop::sample::select(vec!["MANDATORY", "OPTIONAL", "MANDATORY_TIMEOUT", "AGENT_REQUESTED"]),
        0_i64..=86_400_000,
    )
        .prop_map(|(prompt, ms)| json!({"wrapupPrompt": prompt, "timeoutMs": ms}));
    let enums = (
        prop::option::of(prop::sample::select(vec!["NONE", "BEST", "ALL"])),
        prop::option::of(prop::sample::select(vec!["TimestampAndPriority", "PriorityOnly"])),
        prop::option::of(prop::sample::select(vec!["Disabled", "QueueMembersOnly", "AnyAgent"])),
    );
    let misc = (
        prop::option::of("[A-Za-z][A-Za-z ]{0,30}"),
        prop::option::of(prop::sample::select(vec!["Home", "Operations"])),
        prop::option::of(any::<bool>()),
        prop::option::of(Just("Default In-Queue Message Flow")),
        prop::option::of(0..recipients.max(1)).prop_map(move |r| r.filter(|_| recipients > 0)),
    );
    let media = (prop::option::of(media_settings()), prop::option::of(media_settings()));
    (prop::option::of(acw), enums, misc, media, routing()).prop_map(
        move |(acw, (skill, scoring, last_agent), misc, (message, call), (rules, bullseye))| {
            let (description, division, transcription, flow, recipient) = misc;
            let mut media = json!({});
            if let Some(message) = message {
                media["message"] = message;
            }
            if let Some(call) = call {
                media["call"] = call;
            }
            let spec = with(
                json!({"name": format!("Prop Queue {index}")}),
                vec![
                    ("description", description.map(Value::from)),
                    ("division", division.map(Value::from)),
                    (
                        "mediaSettings",
                        media.as_object().is_some_and(|m| !m.is_empty()).then_some(media),
                    ),
                    ("acwSettings", acw),
                    ("skillEvaluationMethod", skill.map(Value::from)),
                    ("scoringMethod", scoring.map(Value::from)),
                    ("lastAgentRoutingMode", last_agent.map(Value::from)),
                    ("enableTranscription", transcription.map(Value::from)),
                    ("messageInQueueFlow", flow.map(Value::from)),
                    ("routingRules", rules),
                    ("bullseye", bullseye),
                    (
                        "outboundMessagingAddresses",
                        recipient
                            .map(|r| json!({"openMessagingRecipient": format!("integration-{r}")})),
                    ),
                ],
            );
            doc("RoutingQueue", &format!("queue-{index}"), &spec)
        },
    )
}

fn role(index: usize) -> impl Strategy<Value = Value> {
    (subsequence(PERMISSIONS.to_vec(), 1..=PERMISSIONS.len()), prop::option::of("[a-z ]{1,20}"))
        .prop_map(move |(permissions, description)| {
            let spec = with(
                json!({"name": format!("Prop Role {index}"), "permissions": permissions}),
                vec![("description", description.map(Value::from))],
            );
            doc("Role", &format!("role-{index}"), &spec)
        })
}

fn content(index: usize) -> impl Strategy<Value = Value> {
    let types = || {
        subsequence(MEDIA_TYPES.to_vec(), 0..=3)
            .prop_map(|t| t.into_iter().map(|t| json!({"type": t})).collect::<Vec<_>>())
    };
    (types(), types()).prop_map(move |(inbound, outbound)| {
        let mut allow = json!({});
        if !inbound.is_empty() {
            allow["inbound"] = inbound.into();
        }
        if !outbound.is_empty() {
            allow["outbound"] = outbound.into();
        }
        let spec = json!({"name": format!("Prop Content {index}"), "mediaTypes": {"allow": allow}});
        doc("SupportedContentProfile", &format!("content-{index}"), &spec)
    })
}

fn integration(index: usize, profiles: usize) -> impl Strategy<Value = Value> {
    (
        prop::option::of(0..profiles.max(1)),
        prop::option::of(prop::sample::select(INBOUND_FLOWS.to_vec())),
    )
        .prop_map(move |(profile, flow)| {
            let spec = with(
                json!({"name": format!("Prop Integration {index}"), "webhook": "webhook"}),
                vec![
                    (
                        "supportedContent",
                        profile.filter(|_| profiles > 0).map(|p| json!(format!("content-{p}"))),
                    ),
                    ("inboundFlow", flow.map(|f| json!({"name": f}))),
                ],
            );
            doc("OpenMessagingIntegration", &format!("integration-{index}"), &spec)
        })
}

fn oauth_client(index: usize, roles: usize) -> impl Strategy<Value = Value> {
    // A client-credentials client needs at least one role: a declared one,
    // or the built-in `employee` when none is declared.
    (subsequence((0..roles).collect::<Vec<_>>(), roles.min(1)..=roles), 300_i64..=172_800).prop_map(
        move |(held, validity)| {
            let mut grants: Vec<Value> = held
                .iter()
                .map(|r| json!({"role": format!("role-{r}"), "division": "Home"}))
                .collect();
            if grants.is_empty() {
                grants.push(json!({"role": "employee", "division": "Home"}));
            }
            let spec = json!({
                "name": format!("Prop Client {index}"),
                "authorizedGrantType": "CLIENT-CREDENTIALS",
                "accessTokenValiditySeconds": validity,
                "roleDivisions": grants,
            });
            doc("OAuthClient", &format!("client-{index}"), &spec)
        },
    )
}

/// A manifest set: documents of every generated kind.
fn manifest_set() -> impl Strategy<Value = Vec<Value>> {
    (0_usize..3, 0_usize..3, 0_usize..3, 1_usize..4, 0_usize..2).prop_flat_map(
        |(profiles, integrations, roles, queues, clients)| {
            let webhook = json!({
                "url": "https://bot.example.com/hook",
                "signatureSecret": {"fromEnv": "PROP_WEBHOOK_SECRET"},
            });
            (
                Just(vec![doc("Webhook", "webhook", &webhook)]),
                (0..profiles).map(content).collect::<Vec<_>>(),
                (0..integrations).map(|i| integration(i, profiles)).collect::<Vec<_>>(),
                (0..roles).map(role).collect::<Vec<_>>(),
                (0..clients).map(|i| oauth_client(i, roles)).collect::<Vec<_>>(),
                (0..queues).map(|i| queue(i, integrations)).collect::<Vec<_>>(),
            )
                .prop_map(|(a, b, c, d, e, f)| [a, b, c, d, e, f].concat())
        },
    )
}

/// A client acting as the sandbox's admin user (who may grant roles).
pub fn client_for(sandbox: &RunningSandbox) -> Client {
    let target = resolve_region(&sandbox.base_url()).expect("loopback URL");
    let auth = Auth::AccessToken(sandbox.user_token().to_string().into());
    let mut config = ClientConfig::new(target, auth);
    config.rate_limit_per_minute = 0;
    Client::new(config).expect("client")
}

pub fn target() -> PlanTarget {
    PlanTarget::new("sandbox", "test")
}

/// Apply settings for library runs against a sandbox: secrets under `secrets`,
/// short waits, no journal, no prune.
pub fn settings(secrets: &Path) -> ApplySettings {
    ApplySettings {
        prune: false,
        parallelism: 4,
        secrets_dir: Some(secrets.to_path_buf()),
        deadline: Duration::from_secs(10),
        consistency_window: Duration::from_secs(2),
        flow_job_timeout: Duration::from_secs(10),
        unlock_flows: false,
        own_client_id: None,
        journal: None,
        interrupt: gcctl::apply::Interrupt::default(),
        plan_command: None,
    }
}

/// Preflight and execute `plan` through the library: its summary and every event.
pub async fn execute(
    plan: &Plan,
    set: &manifest::ManifestSet,
    live: &plan::LiveOrg,
    client: &Client,
    settings: &ApplySettings,
    env: &dyn Fn(&str) -> Option<String>,
) -> (apply::ApplySummary, Vec<apply::Event>) {
    let secrets = apply::preflight(plan, set, settings, env).expect("preflight");
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let summary = apply::execute(plan, set, live, client, settings, &secrets, &sender).await;
    drop(sender);
    let mut events = Vec::new();
    while let Some(event) = receiver.recv().await {
        events.push(event);
    }
    (summary, events)
}

async fn plan_of(client: &Client, set: &manifest::ManifestSet) -> (Plan, plan::LiveOrg) {
    let scope = ReadScope { caller: true, ..ReadScope::default() };
    let live = plan::read(client, set, &scope).await.expect("read the org");
    (plan::build(set, &live, target()).expect("plan"), live)
}

/// Apply the documents to a fresh sandbox, then plan: nothing to do.
async fn apply_then_plan(docs: &[Value], dir: &Path) -> Result<(), TestCaseError> {
    let text: Vec<String> = docs.iter().map(|d| serde_json::to_string_pretty(d).unwrap()).collect();
    fs_err::write(dir.join("set.yaml"), text.join("\n---\n")).unwrap();
    let set = manifest::load(&[dir.join("set.yaml")], &LoadOptions::default())
        .map_err(|e| TestCaseError::fail(format!("invalid set: {:?}", e.diagnostics)))?;
    let config =
        SandboxConfig { create_delay: Duration::from_millis(20), ..SandboxConfig::default() };
    let sandbox = gcctl::sandbox::start(config).await.expect("sandbox");
    let client = client_for(&sandbox);
    let (plan, live) = plan_of(&client, &set).await;
    let env = |key: &str| (key == "PROP_WEBHOOK_SECRET").then(|| WEBHOOK_SECRET.to_string());
    let (summary, events) =
        execute(&plan, &set, &live, &client, &settings(&dir.join("secrets")), &env).await;
    prop_assert!(summary.converged(), "{summary:?}: {events:#?}");
    let (again, _) = plan_of(&client, &set).await;
    let left: Vec<_> = again.changes.iter().filter(|c| c.action != plan::Action::NoOp).collect();
    prop_assert!(left.is_empty(), "changes after apply: {left:#?}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn after_apply_plan_finds_no_changes(docs in manifest_set()) {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(apply_then_plan(&docs, dir.path()))?;
    }
}
