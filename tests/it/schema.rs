//! The checked-in JSON Schema is what `gcctl schema` prints, and every sample
//! manifest validates against it with an independent validator.

use std::path::PathBuf;

use gcctl::manifest::{self, LoadOptions};

use crate::common::{TestContext, repo_root, stdout};

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
    let schema: serde_json::Value = serde_json::from_str(
        &fs_err::read_to_string(repo_root().join("schemas/gcctl.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema itself is valid");
    let mut checked = 0;
    for (path, env) in sample_sets() {
        let options = LoadOptions { env: env.map(str::to_string) };
        let set = manifest::load(std::slice::from_ref(&path), &options)
            .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        for object in &set.objects {
            // The document after ${var.*} substitution, as gcctl reads it.
            let doc = object.doc.to_json();
            let errors: Vec<String> = validator
                .iter_errors(&doc)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
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

#[test]
fn the_schema_rejects_what_the_loader_rejects() {
    let schema: serde_json::Value = serde_json::from_str(
        &fs_err::read_to_string(repo_root().join("schemas/gcctl.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let bad = [
        serde_json::json!({"apiVersion": "gcctl/v1", "kind": "RoutingQueue", "metadata": {"name": "q"}, "spec": {"name": "Q", "colour": "blue"}}),
        serde_json::json!({"apiVersion": "gcctl/v1", "kind": "RoutingQueue", "metadata": {"name": "q"}, "spec": {"name": "Q", "skillEvaluationMethod": "SOME"}}),
        serde_json::json!({"apiVersion": "gcctl/v1", "kind": "Webhook", "metadata": {"name": "h"}, "spec": {"url": "https://x", "signatureSecret": "literal"}}),
        serde_json::json!({"apiVersion": "gcctl/v2", "kind": "Role", "metadata": {"name": "r"}, "spec": {"name": "R"}}),
        serde_json::json!({"apiVersion": "gcctl/v1", "kind": "OAuthClient", "metadata": {"name": "c"}, "spec": {"name": "C", "authorizedGrantType": "CLIENT-CREDENTIALS", "accessTokenValiditySeconds": 10}}),
    ];
    for doc in bad {
        assert!(!validator.is_valid(&doc), "schema accepted {doc}");
    }
}
