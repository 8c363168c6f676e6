//! Every kind is everywhere it must be (`gcctl::kinds::consistency`): the
//! places are gathered from the repository and a running sandbox. Also: kinds
//! order after what they refer to, and no test file is forgotten.

pub mod flow;
mod messaging_setting;
mod queue_membership;
mod role;
mod routing;
mod user_routing_profile;
mod web_messaging;

use std::collections::BTreeSet;
use std::path::Path;

use gcctl::kinds::consistency::{Places, check, registry};
use gcctl::kinds::{Kind, RefTarget};
use gcctl::manifest::{self, LoadOptions};

use crate::common::{files_with, repo_root, yaml_files};
use crate::sandbox::TestOrg;

/// `gcctl ARGS` in `ctx`: its exit code and everything it printed.
pub fn gcctl(ctx: &crate::common::TestContext, args: &[&str]) -> (i32, String) {
    let output = ctx.run(args);
    let text = format!("{}{}", crate::common::stdout(&output), crate::common::stderr(&output));
    (output.status.code().unwrap_or(-1), text)
}

/// A context whose `gcctl` commands reach `live` (as its admin user).
pub fn connected(live: &crate::export::LiveSandbox) -> crate::common::TestContext {
    let mut ctx = crate::common::TestContext::new();
    live.connect(&mut ctx);
    ctx
}

/// Kinds named by a `kind:` line of any YAML file in the sample and test trees.
fn manifest_kinds() -> BTreeSet<String> {
    let root = repo_root();
    let mut files = Vec::new();
    for dir in ["manifests", "examples", "tests"] {
        yaml_files(&root.join(dir), &mut files);
    }
    let mut kinds = BTreeSet::new();
    for file in files {
        let text = fs_err::read_to_string(&file).unwrap();
        kinds.extend(
            text.lines().filter_map(|l| l.strip_prefix("kind: ")).map(|k| k.trim().to_string()),
        );
    }
    kinds
}

/// Markdown headings (`#### Name`) of the README and the docs.
fn doc_headings() -> BTreeSet<String> {
    let root = repo_root();
    let mut files = vec![root.join("README.md")];
    if root.join("docs").is_dir() {
        let mut docs = Vec::new();
        files_with(&root.join("docs"), &["md"], &mut docs);
        files.extend(docs);
    }
    let mut headings = BTreeSet::new();
    for file in files {
        let text = fs_err::read_to_string(&file).unwrap();
        headings.extend(
            text.lines()
                .filter(|l| l.starts_with('#'))
                .map(|l| l.trim_start_matches('#').trim().to_string()),
        );
    }
    headings
}

#[tokio::test]
async fn every_kind_is_in_every_place() {
    let schema: serde_json::Value = serde_json::from_str(
        &fs_err::read_to_string(repo_root().join("schemas/gcctl.schema.json")).unwrap(),
    )
    .unwrap();
    let titles = schema["oneOf"].as_array().unwrap().iter();
    let org = TestOrg::default().await;
    let mut sandbox = BTreeSet::new();
    for entry in registry() {
        if let Some(collection) = entry.collection {
            if org.get(collection).await.status == 200 {
                sandbox.insert(collection.to_string());
            }
        }
    }
    let places = Places {
        schema: titles.filter_map(|b| b["title"].as_str().map(str::to_string)).collect(),
        sandbox,
        docs: doc_headings(),
        manifests: manifest_kinds(),
    };
    let problems = check(&registry(), &places);
    assert!(problems.is_empty(), "kinds missing from places:\n  {}", problems.join("\n  "));
}

/// A kind is applied after every kind it refers to (and deleted before):
/// every reference in the samples points to a kind of lower order.
#[test]
fn kinds_order_after_what_they_refer_to() {
    let root = repo_root();
    let mut sets = vec![root.join("manifests")];
    for entry in fs_err::read_dir(root.join("examples")).unwrap().flatten() {
        if entry.path().is_dir() && entry.file_name() != "ci" {
            sets.push(entry.path());
        }
    }
    let mut checked = 0;
    for path in sets {
        let options = LoadOptions { env: Some("prod".into()) };
        let Ok(set) = manifest::load(std::slice::from_ref(&path), &options) else { continue };
        for object in &set.objects {
            for reference in object.spec.references() {
                let RefTarget::Kind(target) = reference.target else { continue };
                assert!(
                    target < object.kind,
                    "{} refers to a {target}, which does not order before {}",
                    object.id(),
                    object.kind
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 5, "the samples hold references");
    let all = Kind::all();
    assert!(all.windows(2).all(|w| w[0] < w[1]), "Kind::all() is in apply order");
}

/// In the spirit of jj's `test_no_forgotten_test_files`: every `.rs` file
/// under `tests/it` is a module of the test binary, so none silently never runs.
#[test]
fn no_forgotten_test_files() {
    let dir = repo_root().join("tests/it");
    let mut files = Vec::new();
    files_with(&dir, &["rs"], &mut files);
    let mut forgotten = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&dir).unwrap();
        if relative == Path::new("main.rs") {
            continue;
        }
        let stem = file.file_stem().unwrap().to_string_lossy().to_string();
        // The parent module file: `main.rs` for top-level files, `a.rs` for `a/b.rs`.
        let parent = match relative.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(folder) => dir.join(format!("{}.rs", folder.display())),
            None => dir.join("main.rs"),
        };
        let declared = fs_err::read_to_string(&parent).is_ok_and(|text| {
            text.lines().any(|l| {
                let l = l.trim();
                l == format!("mod {stem};") || l == format!("pub mod {stem};")
            })
        });
        if !declared {
            forgotten.push(relative.display().to_string());
        }
    }
    assert!(forgotten.is_empty(), "test files that are not modules of tests/it: {forgotten:?}");
}
