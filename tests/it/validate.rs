//! `gcctl validate`: the sample repository and every example are valid; a set
//! full of mistakes yields every mistake in one run, each at its location.

use crate::common::{TestContext, example_dirs, repo_root, stderr, stdout};

fn in_repo(args: &[&str]) -> std::process::Output {
    let ctx = TestContext::new();
    ctx.command().current_dir(repo_root()).args(args).output().expect("run gcctl")
}

/// `validate manifests examples/...`: the sample repository and each
/// example, every one a manifest set of its own (examples are independent
/// scenarios: each may have its own Project).
fn every_set(extra: &[&'static str]) -> Vec<String> {
    let mut args: Vec<String> = ["validate", "manifests"].map(str::to_string).to_vec();
    args.extend(example_dirs());
    args.extend(extra.iter().map(|a| (*a).to_string()));
    args
}

#[test]
fn manifests_and_examples_are_valid() {
    let args = every_set(&[]);
    let out = in_repo(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("valid: "), "{}", stdout(&out));
}

/// What ships is clean, warnings included: every permission of the sample
/// repository and the examples is in the catalog (in every environment, see
/// below, and through the library as `plan` loads them).
#[test]
fn manifests_and_examples_have_no_warnings() {
    let args = every_set(&["--output", "json"]);
    let out = in_repo(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: JsonReport = serde_json::from_slice(&out.stdout).expect("the documented format");
    assert!(report.valid && report.diagnostics.is_empty(), "{report:#?}");
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let catalog = gcctl::permissions::Catalog::embedded();
    for path in std::iter::once("manifests".to_string()).chain(example_dirs()) {
        let set = gcctl::manifest::load(
            &[repo_root().join(&path)],
            &gcctl::manifest::LoadOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{path}: {:?}", e.diagnostics));
        assert!(set.warnings.is_empty(), "{path}: {:?}", set.warnings);
        for role in set.of_kind(gcctl::kinds::Kind::Role) {
            let permissions = role.spec.to_json()["permissions"].clone();
            for permission in permissions.as_array().into_iter().flatten() {
                let permission = permission.as_str().unwrap();
                assert_eq!(catalog.unknown(permission), None, "{}: {permission}", role.id());
            }
        }
    }
}

/// `validate --output json` as documented, written out here independently
/// of the command's own types so that any change to the format fails.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct JsonReport {
    format_version: String,
    valid: bool,
    manifest_sets: usize,
    objects: usize,
    files: usize,
    skipped: usize,
    counts: std::collections::BTreeMap<String, usize>,
    diagnostics: Vec<JsonDiagnostic>,
}

#[derive(Debug, serde::Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct JsonDiagnostic {
    severity: String,
    file: String,
    line: Option<u32>,
    column: Option<u32>,
    message: String,
    hint: Option<String>,
}

const MISSPELLED_ROLE: &str = "\
apiVersion: gcctl/v1
kind: Role
metadata: {name: handover}
spec:
  name: Handover
  permissions:
    - conversation:message:view
    - conversations:message:receive
    - routing:queue:*
    - routng:skill:*
";

/// A permission the offline catalog does not list is a warning at its list
/// item, with a did-you-mean; the set is valid and the exit code 0. A
/// wildcard is fine when it matches a catalog permission.
#[test]
fn an_unknown_permission_is_a_warning_with_a_suggestion() {
    let ctx = TestContext::new();
    ctx.write("set/role.yaml", MISSPELLED_ROLE);
    let out = ctx.run(&["validate", "set"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(stdout(&out).starts_with("valid: 1 object"), "{}", stdout(&out));
    for expected in [
        "set/role.yaml:8:7: warning: `conversations:message:receive` is not in the permission catalog",
        "  hint: did you mean `conversation:message:receive`?",
        "set/role.yaml:10:7: warning: `routng:skill:*` matches no known permission: there is no domain `routng`",
        "  hint: did you mean `routing:skill:*`?",
    ] {
        assert!(err.contains(expected), "missing `{expected}` in:\n{err}");
    }
    assert!(!err.contains("routing:queue:*`") && !err.contains("error"), "{err}");

    let out = ctx.run(&["validate", "set", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let report: JsonReport = serde_json::from_slice(&out.stdout).expect("the documented format");
    assert_eq!((report.format_version.as_str(), report.valid), ("1", true));
    assert_eq!(report.counts.get("Role"), Some(&1));
    let first = &report.diagnostics[0];
    assert_eq!(report.diagnostics.len(), 2, "{report:#?}");
    assert_eq!(
        (first.severity.as_str(), first.file.as_str(), first.line, first.column),
        ("warning", "set/role.yaml", Some(8), Some(7))
    );
    assert_eq!(first.hint.as_deref(), Some("did you mean `conversation:message:receive`?"));

    // With an error beside it, the run fails and the warning is still reported.
    ctx.write("set/broken.yaml", "apiVersion: gcctl/v1\nkind: Role\nmetadata: {name: x}\n");
    let out = ctx.run(&["validate", "set", "--output", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: JsonReport = serde_json::from_slice(&out.stdout).expect("the documented format");
    assert!(!report.valid);
    let severities: Vec<&str> = report.diagnostics.iter().map(|d| d.severity.as_str()).collect();
    assert_eq!(severities, ["error", "warning", "warning"], "{report:#?}");
    let text = ctx.run(&["validate", "set"]);
    assert_eq!(text.status.code(), Some(1));
    assert!(
        stderr(&text).contains("warning: `conversations:message:receive`"),
        "{}",
        stderr(&text)
    );
    assert!(stderr(&text).contains("error: 1 problem found"), "{}", stderr(&text));
}

/// Rules of the org that the sandbox enforces, caught offline first: an
/// OAuth client's grant type decides whether it needs roles or scopes, and a
/// queue's nested enums take only their values.
#[test]
fn the_orgs_rules_for_oauth_clients_and_nested_queue_enums_are_checked_offline() {
    let ctx = TestContext::new();
    ctx.write(
        "set/clients.yaml",
        "apiVersion: gcctl/v1\nkind: OAuthClient\nmetadata:\n  name: portal\nspec:\n  name: Portal\n  \
         authorizedGrantType: CODE\n  registeredRedirectUri: [https://portal.example.com/callback]\n\
         ---\napiVersion: gcctl/v1\nkind: OAuthClient\nmetadata:\n  name: robot\nspec:\n  name: Robot\n  \
         authorizedGrantType: CLIENT-CREDENTIALS\n",
    );
    ctx.write(
        "set/queue.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata:\n  name: callbacks\nspec:\n  name: Callbacks\n  \
         mediaSettings:\n    callback:\n      mode: AgentLast\n",
    );
    let out = ctx.run(&["validate", "set"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for expected in [
        "set/clients.yaml:7:24: error: a client that does not use CLIENT-CREDENTIALS needs scope (the org refuses one without)",
        "  hint: add scope: [SCOPE, ...], e.g. scope: [routing]",
        "set/clients.yaml:16:24: error: a CLIENT-CREDENTIALS client needs roleDivisions (the org refuses one without roles)",
        "  hint: add roleDivisions: [{role: ROLE, division: DIVISION}]",
        "set/queue.yaml:9:13: error: mode: unknown variant `AgentLast`, expected `AgentFirst` or `CustomerFirst`",
        "error: 3 problems found",
    ] {
        assert!(err.contains(expected), "missing `{expected}` in:\n{err}");
    }
}

#[test]
fn every_example_is_valid_on_its_own_and_in_every_environment() {
    let mut runs = vec![
        vec!["validate", "manifests", "--env", "dev"],
        vec!["validate", "manifests", "--env", "prod"],
    ];
    runs.push(vec!["validate", "examples/external-bot-sync", "--env", "staging"]);
    runs.push(vec!["validate", "examples/external-bot-sync", "--env", "prod"]);
    runs.push(vec!["validate", "examples/bot-handover-cognigy", "--env", "dev"]);
    runs.push(vec!["validate", "examples/bot-handover-cognigy", "--env", "prod"]);
    let examples = fs_err::read_dir(repo_root().join("examples")).unwrap();
    let mut dirs: Vec<String> = examples
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir() && e.file_name() != "ci")
        .map(|e| format!("examples/{}", e.file_name().to_string_lossy()))
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 5, "expected the five scenario folders, found {dirs:?}");
    for dir in &dirs {
        assert!(repo_root().join(dir).join("README.md").exists(), "{dir} has no README.md");
        runs.push(vec!["validate", dir]);
    }
    for args in runs {
        let out = in_repo(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("warning"), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn reports_every_problem_in_one_run_at_its_location() {
    let ctx = TestContext::new();
    let out = ctx
        .command()
        .current_dir(repo_root())
        .args(["validate", "tests/fixtures/invalid"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    for expected in [
        "tests/fixtures/invalid/broken.yaml:7:1: error: invalid YAML",
        "tests/fixtures/invalid/queue.yaml:7:3: error: unknown field `colour`",
        "tests/fixtures/invalid/queue.yaml:12:9: error: duplicate RoutingQueue named `support`",
        "tests/fixtures/invalid/queue.yaml:15:26: error: skillEvaluationMethod: unknown variant `SOME`",
        "tests/fixtures/invalid/webhook.yaml:6:8: error: the URL must use https",
        "tests/fixtures/invalid/webhook.yaml:7:20: error: `signatureSecret` holds a literal secret",
        "tests/fixtures/invalid/webhook.yaml:15:12: error: no Webhook named `missing-hook`",
        "error: 7 problems found",
    ] {
        assert!(err.contains(expected), "missing `{expected}` in:\n{err}");
    }
    assert!(!err.contains("hunter2-canary-literal"), "a literal secret was printed:\n{err}");
    assert!(stdout(&out).is_empty());
    insta::assert_snapshot!(crate::common::render(&out, &[]));
}

#[test]
fn limits_variables_and_environments_are_checked() {
    let ctx = TestContext::new();
    ctx.write(
        "project.yaml",
        "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  environments:\n    dev:\n      variables: {host: dev.example.com}\n",
    );
    ctx.write(
        "queue.yaml",
        r"apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {name: q}
spec:
  name: Q ${var.nope}
  mediaSettings:
    email:
      alertingTimeoutSeconds: 5
      serviceLevel: {percentage: 1.5, durationMs: 10}
  bullseye:
    rings: [{}]
  acwSettings: {timeoutMs: -1}
  routingRules: [{waitSeconds: 1}]
---
apiVersion: gcctl/v1
kind: OAuthClient
metadata: {name: c}
spec:
  name: C
  authorizedGrantType: CLIENT-CREDENTIALS
  accessTokenValiditySeconds: 100
  scope: [admin]
  secretVersion: 0
",
    );
    insta::assert_snapshot!(ctx.snapshot(&["validate", "."]));
    insta::assert_snapshot!("unknown_env", ctx.snapshot(&["validate", ".", "--env", "qa"]));
}

/// A duplicate org name is reported in the same run as a value error of one
/// of the two documents (it waited for the value to be fixed), and so is a
/// name that differs only in case.
#[test]
fn a_duplicate_name_is_reported_beside_a_value_error_of_its_document() {
    let ctx = TestContext::new();
    ctx.write(
        "q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q1}\nspec:\n  name: Q1\n  acwSettings: {timeoutMs: 86400001}\n---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q2}\nspec:\n  name: Q1\n---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q3}\nspec:\n  name: q1\n",
    );
    let err = stderr(&ctx.run(&["validate", "."]));
    assert!(err.contains("q.yaml:6:28: error: 86400001 is out of range"), "{err}");
    assert!(
        err.contains("q.yaml:5:9: error: two RoutingQueue manifests have the org name `Q1`"),
        "{err}"
    );
    assert!(err.contains("warning: two RoutingQueue manifests have org names that differ only in case: `Q1` and `q1`"), "{err}");
}

/// Text that looks like a reference and is not one (`${env.HOME}`) is a
/// warning at its place: it would reach the org as written.
#[test]
fn a_look_alike_reference_is_a_warning() {
    let ctx = TestContext::new();
    ctx.write(
        "q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec:\n  name: Q ${env.HOME}\n  description: \"$${env.KEPT}\"\n",
    );
    let out = ctx.run(&["validate", "."]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(
            "q.yaml:5:11: warning: `${env.HOME}` is kept as text: only `${var.NAME}` is substituted"
        ),
        "{err}"
    );
    assert!(!err.contains("KEPT"), "{err}");
}

/// An environment's org id with spaces around it is an error offline (it
/// refused every run later, naming two ids that looked the same).
#[test]
fn an_org_id_with_spaces_around_it_is_an_error() {
    let ctx = TestContext::new();
    ctx.write(
        "p.yaml",
        "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  environments:\n    prod:\n      org: {id: \" 4441f035-0000-4000-8000-000000000000\"}\n",
    );
    let out = ctx.run(&["validate", "."]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("p.yaml:7:17: error: the org id \" 4441f035-0000-4000-8000-000000000000\" has spaces around it"), "{err}");
}

/// An unknown variable is reported once, as the cause: not also the value
/// it left as its text failing its field (a whole number, an email).
#[test]
fn an_unknown_variable_is_not_also_its_fields_error() {
    let ctx = TestContext::new();
    ctx.write(
        "q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec:\n  name: Q\n  mediaSettings:\n    message: {alertingTimeoutSeconds: \"${var.timeout}\"}\n  members:\n    - email: ${var.lead}\n  description: 5\n",
    );
    let out = ctx.run(&["validate", "."]);
    let err = stderr(&out);
    assert!(err.contains("q.yaml:7:40: error: unknown variable `timeout`"), "{err}");
    assert!(err.contains("q.yaml:9:14: error: unknown variable `lead`"), "{err}");
    assert!(!err.contains("found string \"${var.timeout}\""), "{err}");
    assert!(!err.contains("${var.lead}"), "{err}");
    // A problem of its own is still reported.
    assert!(err.contains("q.yaml:10:16: error: description: found integer `5`"), "{err}");
    assert!(err.contains("error: 3 problems found"), "{err}");
}

/// ignoreDifferences on a Webhook (not an org object: its fields are compared
/// on the integration) is a warning, on the object and in a Project rule.
#[test]
fn ignore_differences_on_a_webhook_is_a_warning() {
    let ctx = TestContext::new();
    ctx.write(
        "set.yaml",
        "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  ignoreDifferences: [{kind: Webhook, jsonPointers: [/headers/X-A]}]\n---\napiVersion: gcctl/v1\nkind: Webhook\nmetadata: {name: hook}\nignoreDifferences: [/headers/X-A]\nspec:\n  url: https://bot.example/hook\n  signatureSecret: {fromEnv: HOOK_SECRET}\n",
    );
    let out = ctx.run(&["validate", "."]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("set.yaml:5:"), "{err}");
    assert!(err.contains("warning: ignoreDifferences has no effect on Webhook objects"), "{err}");
    assert!(
        err.contains("set.yaml:10:20: warning: ignoreDifferences has no effect on a Webhook"),
        "{err}"
    );
}

/// Two headers of a webhook whose names differ only in case are one HTTP
/// header: an error at the second.
#[test]
fn header_names_that_differ_only_in_case_are_an_error() {
    let ctx = TestContext::new();
    ctx.write(
        "hook.yaml",
        "apiVersion: gcctl/v1\nkind: Webhook\nmetadata: {name: hook}\nspec:\n  url: https://bot.example/hook\n  signatureSecret: {fromEnv: HOOK_SECRET}\n  headers: {X-Env: a, x-env: b}\n",
    );
    let out = ctx.run(&["validate", "."]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "error: `x-env` and `X-Env` are one HTTP header (names are the same in any case)"
        ),
        "{err}"
    );
}

/// A `fromEnv` that is no variable name (a secret pasted where the name
/// goes) is refused without being shown, and a secret reference with
/// another field names that field.
#[test]
fn a_secret_reference_naming_no_variable_is_refused_without_echoing_it() {
    let ctx = TestContext::new();
    let hook = |secret: &str| {
        format!(
            "apiVersion: gcctl/v1\nkind: Webhook\nmetadata: {{name: hook}}\nspec:\n  url: https://bot.example/hook\n  signatureSecret: {secret}\n"
        )
    };
    ctx.write("a/hook.yaml", &hook(r#"{fromEnv: "p@ss w0rd/Zx8+kq=="}"#));
    ctx.write("b/hook.yaml", &hook("{fromEnv: HOOK, extra: 1}"));
    ctx.write("c/hook.yaml", &hook(r#"{fromEnv: ""}"#));
    ctx.write("d/hook.yaml", &hook("{fromEnv: 4444333322221111}"));
    ctx.write(
        "e/p.yaml",
        "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  environments:\n    prod:\n      org: {region: eu-central-1, clientIdFromEnv: 5555w0rd-id, clientSecretFromEnv: \"s3cr3tw0rd!!\"}\n",
    );
    let named = "error: signatureSecret: this field holds the name of an environment variable";
    for (dir, expected) in [
        ("a", format!("hook.yaml:6:20: {named}")),
        ("b", "hook.yaml:6:36: error: unknown field `extra`".to_string()),
        ("c", format!("hook.yaml:6:20: {named}")),
        ("d", format!("hook.yaml:6:20: {named}")),
        (
            "e",
            "error: clientIdFromEnv: this field holds the name of an environment variable"
                .to_string(),
        ),
    ] {
        let out = ctx.run(&["validate", dir]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(&expected), "{dir}: {err}");
        assert!(!err.contains("w0rd") && !err.contains("4444"), "{err}");
    }
}

/// Problems in an inline flow definition (a literal block) are reported at
/// their own line and column of the manifest, lines they name too; in a
/// folded or quoted one, whose lines the parser joins, at the field.
#[test]
fn problems_in_an_inline_flow_definition_are_at_their_place_in_the_manifest() {
    let ctx = TestContext::new();
    let flow = |indicator: &str, extra: &str| {
        format!(
            "apiVersion: gcctl/v1\nkind: Flow\nmetadata: {{name: f}}\nspec:\n  name: F\n  type: INBOUNDSHORTMESSAGE\n  definition: {indicator}   # the flow\n{extra}    inboundShortMessage:\n      name: F\n      defaultLanguage: en-us\n      name: G\n"
        )
    };
    ctx.write("a/f.yaml", &flow("|", ""));
    ctx.write("b/f.yaml", &flow("|-", "\n"));
    ctx.write("c/f.yaml", &flow(">", ""));
    for (dir, expected) in [
        ("a", "a/f.yaml:11:7: error: duplicate key `name` (first defined at line 9)"),
        ("b", "b/f.yaml:12:7: error: duplicate key `name` (first defined at line 10)"),
        ("c", "c/f.yaml:8:5: error: duplicate key `name` (defined before in the definition)"),
    ] {
        let out = ctx.run(&["validate", dir]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(expected), "{expected}\n{err}");
    }
}

/// A variable in a prune pattern is an error at its place: the Project is
/// not substituted, and the pattern would match nothing.
#[test]
fn a_variable_in_a_prune_pattern_is_an_error() {
    let ctx = TestContext::new();
    ctx.write(
        "p.yaml",
        "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  variables: {team: Sales}\n  prune:\n    - kind: RoutingQueue\n      names: [\"Acme *\", \"${var.team} *\"]\n",
    );
    let out = ctx.run(&["validate", "."]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("p.yaml:8:25: error: variables are not substituted in the Project"),
        "{err}"
    );
}

/// A callback's counts and delays are never negative.
#[test]
fn negative_callback_counts_and_delays_are_errors() {
    let ctx = TestContext::new();
    ctx.write(
        "q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec:\n  name: Q\n  mediaSettings:\n    callback: {maxRetryCount: -3, retryDelaySeconds: 0, pacingModifier: -1.5}\n    chat: {autoAnswerAlertToneSeconds: -2.0}\n",
    );
    let out = ctx.run(&["validate", "."]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("q.yaml:7:31: error: -3 is too small: must be at least 0"), "{err}");
    assert!(err.contains("error: -1.5 is too small: must be at least 0"), "{err}");
    assert!(err.contains("q.yaml:8:40: error: -2 is too small: must be at least 0"), "{err}");
    assert_eq!(err.matches("error:").count(), 4, "three problems, and the total: {err}");
}

/// A merge key, and a variable that is a list or null, are refused in
/// words a manifest's author reads (not "unknown field `<<`" or "data did
/// not match any variant of untagged enum").
#[test]
fn merge_keys_and_variables_of_the_wrong_shape_say_what_is_wrong() {
    let ctx = TestContext::new();
    ctx.write(
        "a/q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec:\n  name: Q\n  mediaSettings:\n    call: &ms\n      alertingTimeoutSeconds: 8\n    chat:\n      <<: *ms\n",
    );
    ctx.write(
        "b/p.yaml",
        "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  variables: {a: [1, 2], b: ~}\n",
    );
    let out = ctx.run(&["validate", "a"]);
    assert!(
        stderr(&out).contains("q.yaml:10:7: error: merge keys (`<<`) are not supported"),
        "{}",
        stderr(&out)
    );
    let out = ctx.run(&["validate", "b"]);
    let err = stderr(&out);
    assert!(err.contains("p.yaml:5:18: error: a: found a list, expected a variable's value: text, a number or a boolean"), "{err}");
    assert!(err.contains("p.yaml:5:29: error: b: found null"), "{err}");
    assert!(!err.contains("untagged"), "{err}");
}

/// An unquoted number or boolean where text goes hints at quoting it: the
/// value shown is YAML's reading, which may not be what was written.
#[test]
fn a_number_where_text_goes_hints_at_quotes() {
    let ctx = TestContext::new();
    ctx.write(
        "q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec:\n  name: Q\n  callingPartyNumber: +0049301234\n",
    );
    let err = stderr(&ctx.run(&["validate", "."]));
    assert!(err.contains("q.yaml:6:23: error: callingPartyNumber: found integer `49301234`, expected a string\n  hint: quote it to keep it as text"), "{err}");

    // A handle that YAML reads as a number.
    ctx.write(
        "h/s.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingSkill\nmetadata: {name: 2024}\nspec: {name: S}\n",
    );
    let err = stderr(&ctx.run(&["validate", "h"]));
    assert!(err.contains("s.yaml:3:18: error: metadata.name must be a string, found an integer\n  hint: quote it to keep it as text"), "{err}");
}

/// Messages in a manifest author's words: an enum field given a boolean,
/// a file path through a file.
#[test]
fn enum_and_path_mistakes_are_said_plainly() {
    let ctx = TestContext::new();
    ctx.write(
        "a/q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec:\n  name: Q\n  scoringMethod: true\n",
    );
    ctx.write("b/def.yaml", "inboundCall:\n  name: F\n");
    ctx.write(
        "b/f.yaml",
        "apiVersion: gcctl/v1\nkind: Flow\nmetadata: {name: f}\nspec:\n  name: F\n  type: INBOUNDCALL\n  file: def.yaml/\n",
    );
    let err = stderr(&ctx.run(&["validate", "a"]));
    assert!(err.contains("q.yaml:6:18: error: scoringMethod: found boolean `true`, expected one of the field's values, as text"), "{err}");
    let err = stderr(&ctx.run(&["validate", "b"]));
    assert!(
        err.contains("cannot read the file: a part of the path is a file, not a folder"),
        "{err}"
    );
    assert!(!err.contains("os error"), "{err}");
}

/// A variable holding ` #` at an unquoted value of a flow file is a
/// warning at the reference: YAML would end the value there.
#[test]
fn a_hash_in_a_variable_at_an_unquoted_value_of_a_flow_file_is_a_warning() {
    let ctx = TestContext::new();
    ctx.write(
        "set/p.yaml",
        "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  variables: {greeting: \"Welcome #1 customer\"}\n---\napiVersion: gcctl/v1\nkind: Flow\nmetadata: {name: f}\nspec:\n  name: F\n  type: INBOUNDCALL\n  file: f.yaml\n",
    );
    ctx.write("set/f.yaml", "inboundCall:\n  name: F\n  description: ${var.greeting}\n");
    let out = ctx.run(&["validate", "set"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("f.yaml:3:16: warning: variable `greeting` holds ` #`, which YAML reads as a comment here"), "{err}");
    assert!(err.contains("hint: quote the reference"), "{err}");
}

/// A variable holding a `"` or `\` in a double-quoted value of a flow file
/// is a warning at the reference: the text is substituted as it is, so
/// YAML would read them as the end of the value or an escape (a greeting
/// with quotes broke the file; a Windows path gained a tab).
#[test]
fn a_quote_or_a_backslash_in_a_variable_in_a_quoted_value_of_a_flow_file_is_a_warning() {
    let ctx = TestContext::new();
    ctx.write(
        "set/p.yaml",
        "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  variables: {path: 'C:\\temp\\new'}\n---\napiVersion: gcctl/v1\nkind: Flow\nmetadata: {name: f}\nspec:\n  name: F\n  type: INBOUNDCALL\n  file: f.yaml\n",
    );
    ctx.write("set/f.yaml", "inboundCall:\n  name: F\n  description: \"Files in ${var.path}\"\n");
    let out = ctx.run(&["validate", "set"]);
    let err = stderr(&out);
    assert!(err.contains("f.yaml:3:26: warning: variable `path` holds `\"`, `\\` or a line break, and this value is in double quotes"), "{err}");
    assert!(
        err.contains("hint: quote the value the other way, or write it as a block scalar"),
        "{err}"
    );
}

/// A variable holding a line break or `: ` at an unquoted value of a flow
/// file is a warning at the reference: YAML would read new keys out of it
/// (a flow gained `disconnect: true` from a greeting).
#[test]
fn a_line_break_or_a_key_in_a_variable_at_an_unquoted_value_of_a_flow_file_is_a_warning() {
    let ctx = TestContext::new();
    ctx.write(
        "set/p.yaml",
        "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  variables: {bye: \"Goodbye\\n  disconnect: true\", kv: \"hello: world\"}\n---\napiVersion: gcctl/v1\nkind: Flow\nmetadata: {name: f}\nspec:\n  name: F\n  type: INBOUNDCALL\n  file: f.yaml\n",
    );
    ctx.write("set/f.yaml", "inboundCall:\n  name: F\n  description: ${var.bye}\n");
    let out = ctx.run(&["validate", "set"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("f.yaml:3:16: warning: variable `bye` holds a line break, and this value is not quoted: YAML would read the text after it as YAML of its own"), "{err}");
    assert!(err.contains("hint: quote the reference"), "{err}");
    ctx.write("set/f.yaml", "inboundCall:\n  name: F\n  description: x ${var.kv}\n");
    let err = stderr(&ctx.run(&["validate", "set"]));
    assert!(
        err.contains(
            "f.yaml:3:18: warning: variable `kv` holds `: `, and this value is not quoted"
        ),
        "{err}"
    );
}

/// Several bad items of one list are each named by their own index and
/// place (each found is left out to read on, which shifted the later ones).
#[test]
fn bad_items_of_one_list_are_each_at_their_own_index() {
    let ctx = TestContext::new();
    ctx.write(
        "a/q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec:\n  name: Q\n  wrapupCodes: [a, 1, b, 2]\n",
    );
    ctx.write(
        "b/r.yaml",
        "apiVersion: gcctl/v1\nkind: Role\nmetadata: {name: r}\nspec:\n  name: R\n  permissions:\n  - 1\n  - 2\n  - 3\n",
    );
    let err = stderr(&ctx.run(&["validate", "a"]));
    assert!(err.contains("q.yaml:6:20: error: wrapupCodes[1]:"), "{err}");
    assert!(err.contains("q.yaml:6:26: error: wrapupCodes[3]:"), "{err}");
    let err = stderr(&ctx.run(&["validate", "b"]));
    for (line, index) in [(7, 0), (8, 1), (9, 2)] {
        assert!(err.contains(&format!("r.yaml:{line}:5: error: permissions[{index}]:")), "{err}");
    }
}

/// A Project that does not load is reported, not every reference to its
/// variables, nor every value a reference left as its text.
#[test]
fn a_broken_project_is_reported_without_its_references_failing_too() {
    let ctx = TestContext::new();
    let dir = ctx.path().join("set");
    crate::apply::copy_tree(&repo_root().join("examples/headless-guest-messaging"), &dir);
    let project = fs_err::read_to_string(dir.join("project.yaml")).unwrap();
    let broken = project.replacen(
        "    prod:\n",
        "    prod:\n      org: {region: mars-1, accessTokenFromEnv: PROD_TOKEN}\n",
        1,
    );
    assert_ne!(broken, project);
    fs_err::write(dir.join("project.yaml"), broken).unwrap();
    let out = ctx.run(&["validate", "set"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("error: unknown Genesys Cloud region `mars-1`"), "{err}");
    assert!(!err.contains("${var."), "{err}");
    assert!(err.contains("error: 1 problem found"), "{err}");

    // Nor when the Project's file does not parse at all (its variables may
    // be in it): the syntax error alone.
    let unparsable = project.replacen("    prod:\n", "    prod:\n   oops: [\n", 1);
    assert_ne!(unparsable, project);
    fs_err::write(dir.join("project.yaml"), unparsable).unwrap();
    let out = ctx.run(&["validate", "set"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("project.yaml:"), "{err}");
    assert!(!err.contains("unknown variable"), "{err}");
    assert!(err.contains("error: 1 problem found"), "{err}");
}

/// A webhook URL holding credentials is refused: they would be in files,
/// plans and logs.
#[test]
fn a_webhook_url_with_credentials_is_an_error() {
    let ctx = TestContext::new();
    ctx.write(
        "hook.yaml",
        "apiVersion: gcctl/v1\nkind: Webhook\nmetadata: {name: hook}\nspec:\n  url: https://bot:pa55word@bot.example/hook\n  signatureSecret: {fromEnv: HOOK_SECRET}\n",
    );
    let out = ctx.run(&["validate", "."]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("hook.yaml:5:8: error: the URL holds credentials (`user:password@`)"),
        "{err}"
    );
    assert!(!err.contains("pa55word"), "{err}");
}

/// A webhook URL whose query carries a credential is a warning, and the
/// value is never printed, not even by the error of a URL that does not
/// parse.
#[test]
fn a_webhook_url_with_a_query_credential_is_a_warning_and_never_printed() {
    let ctx = TestContext::new();
    let hook = |url: &str| {
        format!(
            "apiVersion: gcctl/v1\nkind: Webhook\nmetadata: {{name: hook}}\nspec:\n  url: {url}\n  signatureSecret: {{fromEnv: HOOK_SECRET}}\n"
        )
    };
    ctx.write("ok/hook.yaml", &hook("https://fn.example/api/h?X-Amz-Signature=qsecret-77c1a"));
    let out = ctx.run(&["validate", "ok"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("ok/hook.yaml:5:8: warning: the URL's query parameter `X-Amz-Signature` looks like it carries a credential"), "{err}");
    assert!(!err.contains("qsecret-77c1a"), "{err}");
    ctx.write("bad/hook.yaml", &hook("https://fn.example:99999/h?co%64e=qsecret-91f0d"));
    let out = ctx.run(&["validate", "bad"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("bad/hook.yaml:5:8: error: the URL is not a valid URL"), "{err}");
    assert!(!err.contains("qsecret-91f0d"), "{err}");
}

/// An ignoreDifferences pointer into a declared list's item is a warning
/// (a list is compared and written whole), with the list's pointer.
#[test]
fn ignore_differences_into_a_list_item_is_a_warning() {
    let ctx = TestContext::new();
    ctx.write(
        "q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nignoreDifferences: [/description, /routingRules/0/threshold]\nspec:\n  name: Q\n  description: d\n  routingRules: [{operator: MEETS_THRESHOLD, threshold: 9, waitSeconds: 5}]\n",
    );
    let out = ctx.run(&["validate", "."]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("q.yaml:4:35: warning: `/routingRules/0/threshold` points into a list's item"),
        "{err}"
    );
    assert!(err.contains("hint: ignore the list itself: `/routingRules`"), "{err}");
    assert_eq!(err.matches("warning:").count(), 1, "{err}");
}

/// An `ignoreDifferences` pointer that ignores nothing is a warning at its
/// place: a field the kind does not compare (with the likely one), or a `~`
/// that is not an escape. The field that says who published a flow counts.
#[test]
fn ignore_differences_that_ignore_nothing_are_warnings() {
    let ctx = TestContext::new();
    ctx.write(
        "q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nignoreDifferences: [/descriptio, /mediaSettings/~2x, /description]\nspec: {name: Q}\n---\napiVersion: gcctl/v1\nkind: Flow\nmetadata: {name: f}\nignoreDifferences: [/publishedBy]\nspec:\n  name: F\n  type: INBOUNDCALL\n  definition: |\n    inboundCall:\n      name: F\n",
    );
    let out = ctx.run(&["validate", "."]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("q.yaml:4:21: warning: `/descriptio` names no field of a RoutingQueue: it ignores nothing\n  hint: did you mean `/description`?"), "{err}");
    assert!(
        err.contains("q.yaml:4:34: warning: `/mediaSettings/~2x` is not a JSON pointer"),
        "{err}"
    );
    assert_eq!(err.matches("warning:").count(), 2, "{err}");
}

/// A problem inside a list's item names the list and the index.
#[test]
fn problems_in_list_items_name_the_list_and_index() {
    let ctx = TestContext::new();
    ctx.write(
        "queue.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec:\n  name: Q\n  bullseye: {rings: [{expansionCriteria: [{threshold: 3}]}, {}]}\n",
    );
    let err = stderr(&ctx.run(&["validate", "."]));
    assert!(
        err.contains("queue.yaml:6:43: error: expansionCriteria[0]: missing field `type`"),
        "{err}"
    );
}

/// A list where a mapping of named fields is expected is an error at the
/// list, at any depth: serde fills a struct's fields from a list in order, so
/// `spec: [Acme Queue]` read as a queue named `Acme Queue`.
#[test]
fn a_list_where_a_mapping_is_expected_is_an_error() {
    let ctx = TestContext::new();
    ctx.write(
        "queue.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec: [Acme Queue]\n",
    );
    ctx.write(
        "web.yaml",
        "apiVersion: gcctl/v1\nkind: WebMessagingConfiguration\nmetadata: {name: c}\nspec:\n  name: Web\n  languages: [en-us]\n  defaultLanguage: en-us\n  messenger: [true]\n",
    );
    let out = ctx.run(&["validate", "."]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("queue.yaml:4:7: error: spec: found a list, expected a mapping"), "{err}");
    assert!(
        err.contains("web.yaml:8:14: error: messenger: found a list, expected a mapping"),
        "{err}"
    );
}

/// A required field whose value is wrong is reported once, at its value,
/// not also as missing from its object; the problems after it, in that
/// object and in the next list items, are reported too.
#[test]
fn a_required_field_with_a_wrong_value_is_not_also_missing() {
    let ctx = TestContext::new();
    ctx.write(
        "flow.yaml",
        "apiVersion: gcctl/v1\nkind: Flow\nmetadata: {name: bot}\nspec:\n  name: Bot Flow\n  type: INBOUNDCHAT\n  definition: |\n    inboundCall:\n      name: Bot Flow\n",
    );
    ctx.write(
        "queue.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec:\n  name: [1, 2]\n  description: [3]\n  bullseye: {rings: [{expansionCriteria: [{type: Nope, threshold: 3}]}, {expansionCriteria: [{type: TIMEOUT_SECONDS, threshold: x}]}]}\n",
    );
    let err = stderr(&ctx.run(&["validate", "."]));
    assert!(err.contains("flow.yaml:6:9: error: type: unknown variant `INBOUNDCHAT`"), "{err}");
    assert!(err.contains("queue.yaml:5:9: error: name: found a list, expected a string"), "{err}");
    assert!(err.contains("queue.yaml:6:16: error: description: found a list"), "{err}");
    assert!(err.contains("queue.yaml:7:50: error: type: unknown variant `Nope`"), "{err}");
    // A word, not a number in quotes: no hint to take the quotes off.
    assert!(
        err.contains("queue.yaml:7:129: error: threshold: found string \"x\", expected a number\n"),
        "{err}"
    );
    assert!(!err.contains("without quotes"), "{err}");
    assert!(!err.contains("missing field"), "{err}");
    assert!(err.contains("error: 5 problems found"), "{err}");
}

/// An unknown kind or enum value gets the likely one: misspelled, or
/// shortened (`Queue`); an `--env` with a Project that did not load is not
/// said to be missing its environments.
#[test]
fn unknown_kinds_and_values_get_the_likely_one() {
    let ctx = TestContext::new();
    ctx.write(
        "set/q.yaml",
        "apiVersion: gcctl/v1\nkind: Queue\nmetadata: {name: q}\nspec: {name: Q}\n---\napiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  environments: {dev: {}}\n  prune: [{kind: Queue, names: [\"*\"]}]\n---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q2}\nspec: {name: Q2, scoringMethod: PriorityOnli}\n",
    );
    let err = stderr(&ctx.run(&["validate", "--env", "dev", "set"]));
    assert!(
        err.contains(
            "q.yaml:2:7: error: unknown kind `Queue`\n  hint: did you mean `RoutingQueue`?"
        ),
        "{err}"
    );
    assert!(err.contains("q.yaml:11:18: error: kind: unknown variant `Queue`"), "{err}");
    assert_eq!(err.matches("hint: did you mean `RoutingQueue`?").count(), 2, "{err}");
    assert!(err.contains("hint: did you mean `PriorityOnly`?"), "{err}");
    assert!(!err.contains("no Project defines environments"), "{err}");
    assert!(err.contains("error: 3 problems found"), "{err}");

    // An environment's region gcctl cannot reach, at its place.
    ctx.write(
        "env/p.yaml",
        "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  environments:\n    dev:\n      org: {region: narnia-1, accessTokenFromEnv: DEV_TOKEN}\n    prod:\n      org: {region: eu-central-1, clientIdFromEnv: PROD_ID, clientSecretFromEnv: PROD_SECRET}\n",
    );
    let err = stderr(&ctx.run(&["validate", "env"]));
    assert!(err.contains("p.yaml:7:21: error: unknown Genesys Cloud region `narnia-1`"), "{err}");
    assert!(err.contains("error: 1 problem found"), "{err}");

    // Credentials that could never reach the org: half a client's pair, or
    // a region without any (nothing is read from GENESYSCLOUD_* then).
    ctx.write(
        "creds/p.yaml",
        "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  environments:\n    a:\n      org: {clientIdFromEnv: A_ID}\n    b:\n      org: {clientSecretFromEnv: B_SECRET}\n    c:\n      org: {region: eu-central-1}\n    d:\n      org: {region: eu-central-1, accessTokenFromEnv: D_TOKEN}\n    e:\n      org: {accessTokenFromEnv: E_TOKEN, clientIdFromEnv: E_ID}\n",
    );
    let err = stderr(&ctx.run(&["validate", "creds"]));
    assert!(
        err.contains(
            "p.yaml:7:30: error: `clientIdFromEnv` is named without `clientSecretFromEnv`"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "p.yaml:9:34: error: `clientSecretFromEnv` is named without `clientIdFromEnv`"
        ),
        "{err}"
    );
    assert!(
        err.contains("p.yaml:11:21: error: the environment names its region but no credentials"),
        "{err}"
    );
    assert!(err.contains("error: 3 problems found"), "{err}");

    // A variable inside a variable's value is not expanded: an error, not
    // `${var.b}` in an org name; other `${` text is a value's own. The
    // Project's error is the one reported, not every use of its variables.
    ctx.write("vars/p.yaml", "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  variables: {b: B, a: \"Q ${var.b}\", c: \"Dear ${customer}\"}\n");
    ctx.write("vars/q.yaml", "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec: {name: \"Q ${var.b}\"}\n");
    let err = stderr(&ctx.run(&["validate", "vars"]));
    assert!(err.contains("p.yaml:5:24: error: the value of `a` refers to a variable: variables are not expanded inside variables"), "{err}");
    assert!(!err.contains("unknown variable"), "{err}");
    assert!(err.contains("error: 1 problem found"), "{err}");
}

/// Org names of one kind that differ only in case are a warning: the org may
/// hold only one of them (the sandbox refuses the second).
#[test]
fn org_names_that_differ_only_in_case_are_a_warning() {
    let ctx = TestContext::new();
    ctx.write(
        "roles.yaml",
        "apiVersion: gcctl/v1\nkind: Role\nmetadata: {name: a}\nspec: {name: Case Role}\n---\napiVersion: gcctl/v1\nkind: Role\nmetadata: {name: b}\nspec: {name: case role}\n---\napiVersion: gcctl/v1\nkind: RoutingSkill\nmetadata: {name: c}\nspec: {name: CASE ROLE}\n",
    );
    let out = ctx.run(&["validate", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("roles.yaml:9:14: warning: two Role manifests have org names that differ only in case: `Case Role` and `case role`"),
        "{err}"
    );
    assert_eq!(err.matches("differ only in case").count(), 1, "{err}");
}

/// Org names that differ only in spacing, Unicode form or invisible
/// characters read as one in the UI: a warning too, with the invisible
/// character shown as an escape. Names that only share letters are not.
#[test]
fn org_names_that_look_alike_are_a_warning() {
    let ctx = TestContext::new();
    ctx.write(
        "skills.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingSkill\nmetadata: {name: a}\nspec: {name: \"Caf\\u00e9 Support\"}\n---\napiVersion: gcctl/v1\nkind: RoutingSkill\nmetadata: {name: b}\nspec: {name: \"Cafe\\u0301  support\\u200b\"}\n---\napiVersion: gcctl/v1\nkind: RoutingSkill\nmetadata: {name: c}\nspec: {name: Cafe Support}\n",
    );
    let out = ctx.run(&["validate", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("skills.yaml:9:14: warning: two RoutingSkill manifests have org names that differ only in case, spacing or look-alike characters: `Caf\u{e9} Support` and `Cafe\u{301}  support\\u{200b}`"),
        "{err}"
    );
    assert_eq!(err.matches("warning").count(), 1, "{err}");
}

/// An unknown variable in a quoted or multi-line scalar is reported at its
/// own line and column, found again in the file's text.
#[test]
fn unknown_variables_are_located_in_any_scalar() {
    let ctx = TestContext::new();
    ctx.write(
        "queue.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec:\n  name: \"Q \\u00e9 ${var.nope}\"\n  description: |\n    First line,\n    then ${var.gone} here.\n",
    );
    let err = stderr(&ctx.run(&["validate", "."]));
    for expected in [
        "queue.yaml:5:19: error: unknown variable `nope`",
        "queue.yaml:8:10: error: unknown variable `gone`",
    ] {
        assert!(err.contains(expected), "missing `{expected}` in:\n{err}");
    }
}

#[test]
fn variables_substitute_and_type_per_environment() {
    let ctx = TestContext::new();
    ctx.write(
        "set.yaml",
        "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  variables: {timeout: 30}\n  environments:\n    prod:\n      variables: {timeout: 3}\n---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec:\n  name: Q\n  mediaSettings:\n    call:\n      alertingTimeoutSeconds: ${var.timeout}\n",
    );
    assert_eq!(ctx.run(&["validate", "."]).status.code(), Some(0));
    let prod = ctx.run(&["validate", ".", "--env", "prod"]);
    assert_eq!(prod.status.code(), Some(1));
    assert!(
        stderr(&prod).contains("set.yaml:17:31: error: 3 is too small: must be at least 7"),
        "{}",
        stderr(&prod)
    );
}

#[test]
fn secrets_are_checked_without_being_printed() {
    let mut ctx = TestContext::new();
    ctx.write(
        "hook.yaml",
        "apiVersion: gcctl/v1\nkind: Webhook\nmetadata: {name: h}\nspec:\n  url: https://example.com/hook\n  signatureSecret: {fromEnv: HOOK_SECRET}\n",
    );
    let missing = ctx.run(&["validate", ".", "--require-secrets"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("hook.yaml:6:20: error: cannot resolve the secret: environment variable `HOOK_SECRET` is not set"), "{}", stderr(&missing));
    assert_eq!(
        ctx.run(&["validate", "."]).status.code(),
        Some(0),
        "secrets are optional without --require-secrets"
    );
    ctx.env("HOOK_SECRET", "short-canary");
    let short = ctx.run(&["validate", "."]);
    assert_eq!(short.status.code(), Some(1));
    assert!(
        stderr(&short).contains("has 12 characters; Genesys needs at least 16"),
        "{}",
        stderr(&short)
    );
    assert!(!stderr(&short).contains("short-canary"));
}

/// A secret that does not resolve is reported in the same run as the other
/// problems of its object, and of the set: fixing the URL does not reveal it.
#[test]
fn an_unresolvable_secret_is_reported_beside_the_other_problems() {
    let ctx = TestContext::new();
    ctx.write(
        "hook.yaml",
        "apiVersion: gcctl/v1\nkind: Webhook\nmetadata: {name: h}\nspec:\n  url: https://bot.example.com:99999/hook\n  signatureSecret: {fromFile: missing.txt}\n",
    );
    ctx.write(
        "other.yaml",
        "apiVersion: gcctl/v1\nkind: Webhook\nmetadata: {name: other}\nspec:\n  url: https://bot.example.com/other\n  signatureSecret: {fromEnv: OTHER_SECRET}\n---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec: {name: Q, descripton: typo}\n",
    );
    let output = ctx.run(&["validate", ".", "--require-secrets"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains(
            "hook.yaml:5:8: error: `https://bot.example.com:99999/hook` is not a valid URL"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "hook.yaml:6:20: error: cannot resolve the secret: cannot read secret file missing.txt"
        ),
        "{err}"
    );
    // An object that loaded, in a set that did not: its secret is checked too.
    assert!(err.contains("other.yaml:6:20: error: cannot resolve the secret: environment variable `OTHER_SECRET` is not set"), "{err}");
    assert!(err.contains("other.yaml:11:17: error: unknown field `descripton`"), "{err}");
    assert!(err.contains("error: 4 problems found"), "{err}");
    // The same in JSON.
    let json = ctx.run(&["validate", ".", "--require-secrets", "--output", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["diagnostics"].as_array().unwrap().len(), 4, "{report:#}");
}

#[test]
fn missing_paths_and_non_manifests_are_errors() {
    let ctx = TestContext::new();
    ctx.write("notes.yaml", "- just\n- a list\n");
    insta::assert_snapshot!(ctx.snapshot(&["validate", "missing-dir", "notes.yaml"]));
}

#[test]
fn directories_skip_yaml_that_is_not_a_manifest_and_named_files_stay_errors() {
    let ctx = TestContext::new();
    ctx.write(
        "repo/queue.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec: {name: Q}\n",
    );
    // The extension in any case: a set leaving `SKILLS.YML` out would have
    // a prune delete its objects.
    ctx.write(
        "repo/SKILLS.YML",
        "apiVersion: gcctl/v1\nkind: RoutingSkill\nmetadata: {name: s}\nspec: {name: S}\n",
    );
    ctx.write("repo/ci/github.yml", "name: gcctl\non: [pull_request]\njobs: {}\n");
    ctx.write("repo/ci/gitlab-ci.yml", "stages: [plan, apply]\n");
    let out = ctx.run(&["validate", "repo"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "valid: 2 objects in 2 files (1 RoutingSkill, 1 RoutingQueue); skipped 2 files that are not gcctl manifests (repo/ci/github.yml, repo/ci/gitlab-ci.yml)\n"
    );

    let out = ctx.run(&["validate", "repo/ci/gitlab-ci.yml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("repo/ci/gitlab-ci.yml:1:1: error: missing field `apiVersion`"));

    // A manifest with a mistake in its envelope is still checked.
    ctx.write("half/role.yaml", "kind: Role\nmetadata: {name: r}\nspec: {name: R}\n");
    let out = ctx.run(&["validate", "half"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("missing field `apiVersion`"), "{}", stderr(&out));

    // So is one whose keys are mistyped, and every document of a file with a
    // manifest after its first: a typo never leaves a file's objects out of
    // the set (a prune would delete them).
    ctx.write(
        "typo/skills.yaml",
        "apiversion: gcctl/v1\nKind: RoutingSkill\nmetadata: {name: s2}\nspec: {name: S2}\n---\napiVersion: gcctl/v1\nkind: RoutingSkill\nmetadata: {name: s3}\nspec: {name: S3}\n",
    );
    ctx.write("later/skills.yaml", "title: notes\n---\napiVersion: gcctl/v1\nkind: RoutingSkill\nmetadata: {name: s4}\nspec: {name: S4}\n");
    ctx.write("later-typo/skills.yaml", "x: 1\n---\napiversion: gcctl/v1\nKind: RoutingSkill\nmetadata: {name: s5}\nspec: {name: S5}\n");
    ctx.write("list/skills.yaml", "- apiVersion: gcctl/v1\n  kind: RoutingSkill\n  metadata: {name: s6}\n  spec: {name: S6}\n");
    for dir in ["later-typo", "list"] {
        let out = ctx.run(&["validate", dir]);
        assert_eq!(out.status.code(), Some(1), "{dir}: {}", stdout(&out));
    }
    for dir in ["typo", "later"] {
        let out = ctx.run(&["validate", dir]);
        assert_eq!(out.status.code(), Some(1), "{dir}: {}", stdout(&out));
        assert!(
            stderr(&out).contains("skills.yaml:1:1: error: missing field `apiVersion`"),
            "{}",
            stderr(&out)
        );
    }
    let out = ctx.run(&["validate", "typo"]);
    assert!(stderr(&out).contains("typo/skills.yaml:1:1: error: unknown field `apiversion`\n  hint: did you mean `apiVersion`?"), "{}", stderr(&out));
}

/// Files that are not plain manifests: a pipe named `x.yaml` (opening it
/// would block forever), a link to `/dev/zero` (reading it would fill
/// memory), a file over the size cap, and a file that is not UTF-8. Each is
/// an error at its place; nothing hangs or runs out of memory.
#[cfg(unix)]
#[test]
fn special_oversized_and_non_utf8_files_are_errors_at_their_place() {
    let ctx = TestContext::new();
    let dir = ctx.path().join("set");
    fs_err::create_dir_all(&dir).unwrap();
    let fifo = dir.join("pipe.yaml");
    let made_fifo =
        std::process::Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success());
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.yaml")).unwrap();
    let big = fs_err::File::create(dir.join("big.yaml")).unwrap();
    big.set_len(gcctl::manifest::files::MAX_FILE_BYTES + 1).unwrap();
    fs_err::write(
        dir.join("latin1.yaml"),
        b"apiVersion: gcctl/v1\nkind: Role\nmetadata: {name: r\xe9}\n",
    )
    .unwrap();
    let out = ctx.run(&["validate", "set"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    if made_fifo {
        assert!(err.contains("pipe.yaml") && err.contains("not a regular file"), "{err}");
    }
    assert!(err.contains("zero.yaml") && err.contains("not a regular file"), "{err}");
    assert!(err.contains("big.yaml") && err.contains("more than the 16777216"), "{err}");
    assert!(err.contains("latin1.yaml:3:19") && err.contains("not valid UTF-8"), "{err}");
}

/// A directory reached through a link is read (its objects were left out
/// of the set, where a prune deleted them), once however many links lead
/// to it (a link back up is no loop), and a link that leads nowhere is an
/// error at its place, not a part of the tree silently left out.
#[cfg(unix)]
#[test]
fn linked_directories_are_read_once_and_broken_links_are_errors() {
    let ctx = TestContext::new();
    ctx.write(
        "common/queues/q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec: {name: Q}\n",
    );
    ctx.write(
        "set/skills.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingSkill\nmetadata: {name: s}\nspec: {name: S}\n",
    );
    let set = ctx.path().join("set");
    std::os::unix::fs::symlink(ctx.path().join("common/queues"), set.join("queues")).unwrap();
    std::os::unix::fs::symlink(ctx.path().join("common/queues"), set.join("again")).unwrap();
    std::os::unix::fs::symlink(ctx.path(), set.join("up")).unwrap();
    let out = ctx.run(&["validate", "set"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    // The skill and the queue, each once (a second read would be a duplicate).
    assert!(stdout(&out).contains("valid: 2 objects in 2 files"), "{}", stdout(&out));
    // The directory linked to, given beside the link to one set (as plan
    // and apply take their paths): its files once, not duplicates.
    let out = ctx.run(&["--sandbox", "plan", "set", "common/queues", "common"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("Plan: 2 to create"), "{}{}", stdout(&out), stderr(&out));

    std::os::unix::fs::symlink(ctx.path().join("gone"), set.join("moved")).unwrap();
    let out = ctx.run(&["validate", "set"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("set/moved: error: cannot follow this link: no such file or directory"),
        "{err}"
    );
}

/// A manifest's text quoted in a diagnostic (an unknown key, an
/// environment's name) shows its control characters as escapes: a file
/// cannot clear the screen or forge an `error:` line of its own.
#[test]
fn control_characters_in_manifests_show_as_escapes_in_diagnostics() {
    let ctx = TestContext::new();
    ctx.write(
        "esc.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata:\n  name: q\nspec:\n  name: Q\n  \"\\u001b[2J\\u001b[31mbogus\\rerror: forged\": 1\n",
    );
    let out = ctx.run(&["validate", "esc.yaml", "--env", "\u{1b}[31mred"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains(['\u{1b}', '\r']), "{err:?}");
    assert!(err.contains(r"unknown field `\u{1b}[2J\u{1b}[31mbogus\rerror: forged`"), "{err}");
    assert!(!err.lines().any(|line| line.starts_with("error: forged")), "{err}");
}

/// An environment that is not defined is the one problem: the project-wide
/// variables still apply, so their references are not reported as well.
#[test]
fn an_unknown_environment_is_one_problem() {
    let out = in_repo(&["validate", "--env", "nope", "manifests"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("environment `nope` is not defined"), "{err}");
    assert!(err.contains("hint: defined environments: dev, prod"), "{err}");
    assert!(err.contains("error: 1 problem found"), "{err}");
}

/// Nesting without end is an error at its place, not a crash: two
/// documents of 2,000 levels of indentless `- key:` sequences (8 MB, so the
/// file is parsed on the loader's worker threads, whose stacks are 2 MiB).
#[test]
fn deep_nesting_is_an_error_at_its_place() {
    let ctx = TestContext::new();
    let levels = 2_000;
    let mut document = String::from("a:\n");
    for level in 0..levels {
        document.push_str(&" ".repeat(2 * level));
        document.push_str("- a:\n");
    }
    document.push_str(&" ".repeat(2 * levels));
    document.push_str("- x\n");
    fs_err::write(ctx.path().join("deep.yaml"), format!("{document}---\n{document}")).unwrap();
    let out = ctx.run(&["validate", "deep.yaml"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("deep.yaml:") && err.contains("nesting deeper than 128"), "{err}");
}

/// An empty file named on the command line is probably the wrong file: a
/// warning (the set still loads); found in a directory, it is just skipped.
#[test]
fn an_empty_named_file_is_a_warning() {
    let ctx = TestContext::new();
    ctx.write("set/empty.yaml", "# nothing yet\n");
    ctx.write(
        "set/role.yaml",
        "apiVersion: gcctl/v1\nkind: Role\nmetadata:\n  name: r\nspec:\n  name: R\n",
    );
    let named = ctx.run(&["validate", "set/empty.yaml"]);
    assert_eq!(named.status.code(), Some(0), "{}", stderr(&named));
    assert!(
        stderr(&named).contains("set/empty.yaml: warning: the file holds no manifest"),
        "{}",
        stderr(&named)
    );
    assert_eq!(stdout(&named), "valid: 0 objects in 1 file\n");
    let walked = ctx.run(&["validate", "set"]);
    assert_eq!(walked.status.code(), Some(0), "{}", stderr(&walked));
    assert!(!stderr(&walked).contains("warning"), "{}", stderr(&walked));
}

/// Every unknown field and wrong type of a document is reported, not only
/// the first; misspelled kinds and fields get one "did you mean", not a list;
/// no Rust type name reaches the user.
#[test]
fn every_problem_of_a_document_with_did_you_mean_and_plain_types() {
    let ctx = TestContext::new();
    ctx.write(
        "q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec:\n  name: Q\n  descripton: x\n  skillEvaluationMethd: ALL\n  mediaSettings:\n    message: {alertingTimeoutSeconds: \"30\"}\n  autoAnswerOnly: [1]\n---\napiVersion: gcctl/v1\nkind: RoutingQeue\nmetadata: {name: r}\nspec: {name: R}\n",
    );
    let out = ctx.run(&["validate", "q.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    for expected in [
        "q.yaml:6:3: error: unknown field `descripton`\n  hint: did you mean `description`?",
        "q.yaml:7:3: error: unknown field `skillEvaluationMethd`\n  hint: did you mean `skillEvaluationMethod`?",
        "q.yaml:9:39: error: alertingTimeoutSeconds: found string \"30\", expected a whole number",
        "hint: write it without quotes: a quoted value (or a quoted `${var.NAME}`) stays text",
        "error: autoAnswerOnly: found a list, expected true or false",
        "q.yaml:13:7: error: unknown kind `RoutingQeue`\n  hint: did you mean `RoutingQueue`?",
    ] {
        assert!(err.contains(expected), "missing `{expected}` in\n{err}");
    }
    for rust in ["i64", "u32", "bool", "struct ", "sequence"] {
        assert!(!err.contains(rust), "`{rust}` in\n{err}");
    }
}

/// Problems in items of a list are each at their item's line, after items
/// before them were taken out for their own; a document with more problems
/// than gcctl reports says more may follow. (Each problem costs one reading
/// of the spec: a large one with many problems does not take minutes.)
#[test]
fn problems_in_list_items_are_at_their_lines_and_a_cap_says_more_may_follow() {
    let ctx = TestContext::new();
    // Even items are no mapping at all (taken out whole: the items after
    // them move up), odd ones have a misspelled field.
    let members: String = (0..60)
        .map(|i| match i % 2 {
            0 => "    - 5\n".to_string(),
            _ => format!("    - {{email: u{i}@x.io, rign: 1}}\n"),
        })
        .collect();
    ctx.write(
        "q.yaml",
        &format!("apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {{name: q}}\nspec:\n  name: Q\n  members:\n{members}"),
    );
    let out = ctx.run(&["validate", "q.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    // Member i is at line 7 + i: each problem at its own item.
    for i in [0, 2, 10, 24] {
        assert!(err.contains(&format!("q.yaml:{}:7: error: members[{i}]", 7 + i)), "{i}: {err}");
    }
    for i in [1, 3, 11, 25] {
        let (line, column) = (7 + i, 23 + i.to_string().len());
        let at = format!("q.yaml:{line}:{column}: error: unknown field `rign`");
        assert!(err.contains(&at), "{i}: {err}");
    }
    assert!(err.contains("q.yaml:5:3: warning: more problems may follow: gcctl reports at most 50 of one document\n  hint: fix these, then validate again"), "{err}");
    assert!(err.contains("error: 50 problems found"), "{err}");
}

/// A diagnostic quotes what a file holds: its control characters and
/// bidirectional overrides show as escapes on one line (a name holding a
/// line break and `error:` cannot forge a line of its own, nor an escape
/// clear the screen), and a secret that resolves is redacted, in warnings
/// and errors, in text and JSON, from `validate` and from `plan`.
#[test]
fn diagnostics_quote_a_files_text_escaped_and_without_secrets() {
    let mut ctx = TestContext::new();
    ctx.write(
        "forged/skills.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingSkill\nmetadata: {name: s1}\nspec: {name: \"Abc\\e[2J\\nx.yaml:1:1: error: forged\"}\n---\napiVersion: gcctl/v1\nkind: RoutingSkill\nmetadata: {name: s2}\nspec: {name: \"abc\\e[2J\\nx.yaml:1:1: error: forged\"}\n",
    );
    let out = ctx.run(&["validate", "forged"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert!(!err.lines().any(|l| l.starts_with("x.yaml")), "a forged line: {err}");
    assert!(err.contains(r"`Abc\u{1b}[2J\nx.yaml:1:1: error: forged`"), "{err}");

    let canary = "SuperSecretValue_abc123XYZ";
    ctx.env("GSEC", canary);
    ctx.write(
        "leaky/all.yaml",
        &format!("apiVersion: gcctl/v1\nkind: Webhook\nmetadata: {{name: w}}\nspec: {{url: \"https://example.com/hook\", signatureSecret: {{fromEnv: GSEC}}}}\n---\napiVersion: gcctl/v1\nkind: RoutingSkill\nmetadata: {{name: a}}\nspec: {{name: A{canary}}}\n---\napiVersion: gcctl/v1\nkind: RoutingSkill\nmetadata: {{name: b}}\nspec: {{name: a{canary}}}\n"),
    );
    ctx.write(
        "broken/all.yaml",
        &format!("apiVersion: gcctl/v1\nkind: Webhook\nmetadata: {{name: w}}\nspec: {{url: \"https://example.com/hook\", signatureSecret: {{fromEnv: GSEC}}}}\n---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {{name: a}}\nspec: {{name: A, skillEvaluationMethod: {canary}}}\n"),
    );
    for args in [
        &["validate", "leaky"][..],
        &["validate", "--output", "json", "leaky"],
        &["validate", "broken"],
        &["validate", "--output", "json", "broken"],
        &["--sandbox", "plan", "leaky"],
        &["--sandbox", "plan", "broken"],
    ] {
        let out = ctx.run(args);
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(all.contains("[redacted]"), "{args:?}: {all}");
        assert!(!all.contains(canary), "{args:?}: {all}");
    }
}
