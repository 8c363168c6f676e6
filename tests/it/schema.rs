//! The checked-in JSON Schema is what `gcctl schema` prints, and every sample
//! manifest validates against it with an independent validator: as an editor
//! sees it (as written, `${var.*}` and all) and as gcctl reads it (after
//! substitution). The schema accepts variables where the loader does, and
//! rejects what the loader rejects.

use std::path::PathBuf;

use gcctl::manifest::{self, LoadOptions, yaml};
use serde_json::{Value, json};

use crate::common::{TestContext, repo_root, stdout, yaml_files};

fn checked_in_validator() -> jsonschema::Validator {
    let text = fs_err::read_to_string(repo_root().join("schemas/gcctl.schema.json")).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).expect("the schema itself is valid")
}

fn schema_errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

#[test]
fn checked_in_schema_is_fresh() {
    let out = TestContext::new().run(&["schema"]);
    assert_eq!(out.status.code(), Some(0));
    let checked_in = fs_err::read_to_string(repo_root().join("schemas/gcctl.schema.json")).unwrap();
    assert!(
        stdout(&out) == checked_in,
        "schemas/gcctl.schema.json is stale: run `cargo run -- schema > schemas/gcctl.schema.json`"
    );
}

fn sample_sets() -> Vec<(PathBuf, Option<&'static str>)> {
    let root = repo_root();
    let mut sets =
        vec![(root.join("manifests"), Some("dev")), (root.join("manifests"), Some("prod"))];
    for entry in fs_err::read_dir(root.join("examples")).unwrap().flatten() {
        if entry.path().is_dir() && entry.file_name() != "ci" {
            let env = (entry.file_name() == "external-bot-sync").then_some("prod");
            sets.push((entry.path(), env));
        }
    }
    sets
}

#[test]
fn every_sample_manifest_validates_against_the_schema() {
    let validator = checked_in_validator();
    let mut checked = 0;
    for (path, env) in sample_sets() {
        let options = LoadOptions { env: env.map(str::to_string) };
        let set = manifest::load(std::slice::from_ref(&path), &options)
            .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        for object in &set.objects {
            // The document after ${var.*} substitution, as gcctl reads it.
            let doc = object.doc.to_json();
            let errors = schema_errors(&validator, &doc);
            assert!(
                errors.is_empty(),
                "{} ({}) does not match the schema: {errors:#?}",
                object.id(),
                object.file.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} documents checked");
}

/// What an editor with the `yaml-language-server` modeline checks: each
/// document exactly as written, variables unsubstituted.
#[test]
fn every_manifest_as_written_validates_against_the_schema() {
    let validator = checked_in_validator();
    let root = repo_root();
    let mut files = Vec::new();
    yaml_files(&root.join("manifests"), &mut files);
    yaml_files(&root.join("examples"), &mut files);
    let (mut checked, mut with_variables) = (0, 0);
    for file in &files {
        let text = fs_err::read_to_string(file).unwrap();
        let docs =
            yaml::parse_documents(&text).unwrap_or_else(|e| panic!("{}: {e:?}", file.display()));
        // Skipped the way `gcctl validate` skips a walked file: the first
        // document has neither `apiVersion` nor `kind` (CI pipelines, ...).
        if docs.first().is_some_and(|d| d.get("apiVersion").is_none() && d.get("kind").is_none()) {
            continue;
        }
        for doc in &docs {
            let doc = doc.to_json();
            let errors = schema_errors(&validator, &doc);
            assert!(
                errors.is_empty(),
                "{} ({} {}) as written does not match the schema: {errors:#?}",
                file.display(),
                doc["kind"],
                doc["metadata"]["name"]
            );
            checked += 1;
            with_variables += usize::from(doc.to_string().contains("${var."));
        }
    }
    assert!(checked >= 20, "only {checked} documents checked");
    assert!(with_variables >= 3, "only {with_variables} documents use variables");
}

/// Variables where the loader accepts them (a number, a boolean, an enum, a
/// top-level option) are accepted by the schema too; checked with both.
#[test]
fn the_schema_accepts_variables_where_the_loader_does() {
    let project = json!({"apiVersion": "gcctl/v1", "kind": "Project", "metadata": {"name": "p"},
        "spec": {"variables": {"timeout": 30, "level": 0.8, "on": true, "method": "BEST", "keep": false}}});
    let queue = r"apiVersion: gcctl/v1
kind: RoutingQueue
metadata:
  name: q
protect: ${var.keep}
spec:
  name: Q
  skillEvaluationMethod: ${var.method}
  enableTranscription: ${var.on}
  mediaSettings:
    message:
      alertingTimeoutSeconds: ${var.timeout}
      serviceLevel:
        percentage: ${var.level}
        durationMs: 20000
";
    let ctx = TestContext::new();
    let dir = ctx.dir.path();
    fs_err::write(dir.join("project.yaml"), serde_json::to_string(&project).unwrap()).unwrap();
    fs_err::write(dir.join("queue.yaml"), queue).unwrap();
    let set = manifest::load(&[dir.to_path_buf()], &LoadOptions::default())
        .unwrap_or_else(|e| panic!("the loader rejects it: {e:?}"));
    assert_eq!(set.objects.len(), 2);
    let validator = checked_in_validator();
    let doc = yaml::parse_documents(queue).unwrap().remove(0).to_json();
    assert!(validator.is_valid(&doc), "{:#?}", schema_errors(&validator, &doc));
}

#[test]
fn the_schema_rejects_what_the_loader_rejects() {
    let validator = checked_in_validator();
    let queue = |spec: Value| json!({"apiVersion": "gcctl/v1", "kind": "RoutingQueue", "metadata": {"name": "q"}, "spec": spec});
    let timeout = |value: &str| {
        queue(json!({"name": "Q", "mediaSettings": {"message": {"alertingTimeoutSeconds": value}}}))
    };
    let bad = [
        queue(json!({"name": "Q", "colour": "blue"})),
        queue(json!({"name": "Q", "skillEvaluationMethod": "SOME"})),
        // A string that is not exactly one variable stays a string: not an integer.
        timeout("thirty"),
        timeout("30"),
        timeout("${var.timeout}s"),
        timeout("${var.a}${var.b}"),
        timeout("$${var.timeout}"),
        timeout("${var.1timeout}"),
        timeout("${env.TIMEOUT}"),
        // An escaped `$${` is literal text, so it cannot make an enum value.
        queue(json!({"name": "Q", "skillEvaluationMethod": "$${var.method}"})),
        json!({"apiVersion": "gcctl/v1", "kind": "Webhook", "metadata": {"name": "h"}, "spec": {"url": "https://x", "signatureSecret": "literal"}}),
        json!({"apiVersion": "gcctl/v2", "kind": "Role", "metadata": {"name": "r"}, "spec": {"name": "R"}}),
        json!({"apiVersion": "gcctl/v1", "kind": "OAuthClient", "metadata": {"name": "c"}, "spec": {"name": "C", "authorizedGrantType": "CLIENT-CREDENTIALS", "accessTokenValiditySeconds": 10}}),
        // The Project document is never substituted.
        json!({"apiVersion": "gcctl/v1", "kind": "Project", "metadata": {"name": "p"}, "spec": {"prune": [{"kind": "${var.kind}", "names": ["*"]}]}}),
    ];
    for doc in bad {
        assert!(!validator.is_valid(&doc), "schema accepted {doc}");
    }
    assert!(validator.is_valid(&timeout("${var.timeout}")), "a whole variable is accepted");
}
