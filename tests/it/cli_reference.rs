//! The CLI's own surface and how it ships: the generated Markdown reference
//! (checked in, tested for staleness), shell completions, man pages,
//! `--version`, and the release files that cannot run here (the composite
//! action and the release workflow are at least parsed and checked for their
//! required keys; `.ci/run` lints them with actionlint).

use std::collections::BTreeSet;

use clap::CommandFactory as _;
use serde_json::Value;

use crate::common::{TestContext, repo_root, stderr, stdout};

/// `build.rs`, compiled as a module so its date arithmetic can be tested.
#[allow(dead_code)]
#[path = "../../build.rs"]
mod build_script;

/// Every visible subcommand path below `gcctl`: `["plan"]`, `["sandbox", "serve"]`, …
fn subcommand_paths() -> Vec<Vec<String>> {
    fn walk(command: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_string());
            out.push(path.clone());
            walk(sub, &path, out);
        }
    }
    let mut out = Vec::new();
    walk(&gcctl::cli::Cli::command(), &[], &mut out);
    out
}

#[test]
fn checked_in_cli_reference_is_fresh() {
    let path = repo_root().join("docs/src/reference/cli.md");
    let rendered = gcctl::cli::reference::render();
    if std::env::var_os("GCCTL_UPDATE_DOCS").is_some_and(|v| v == "1") {
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(&path, &rendered).unwrap();
    }
    let checked_in = fs_err::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == rendered,
        "docs/src/reference/cli.md is stale: run `GCCTL_UPDATE_DOCS=1 cargo test --test it cli_reference`"
    );
    for path in subcommand_paths() {
        let heading = format!("\n## gcctl {}\n", path.join(" "));
        assert!(rendered.contains(&heading), "the reference lacks `{heading}`");
    }
    assert!(rendered.starts_with("<!-- Generated"), "the header says the file is generated");
}

#[test]
fn completion_scripts_mention_every_subcommand() {
    let ctx = TestContext::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = ctx.run(&["completion", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        assert!(out.stderr.is_empty(), "{shell}: nothing on stderr");
        let script = stdout(&out);
        assert!(script.len() > 1000, "{shell}: a real script");
        for path in subcommand_paths() {
            let name = path.last().unwrap();
            assert!(script.contains(name.as_str()), "{shell} completion lacks `{name}`");
        }
        assert!(script.contains("rate-limit"), "{shell} completes options too");
    }
    let out = ctx.run(&["completion", "tcsh"]);
    assert_eq!(out.status.code(), Some(1), "an unknown shell is a usage error");
}

#[test]
fn man_pages_are_roff_one_per_subcommand() {
    let ctx = TestContext::new();
    let out = ctx.run(&["man", "--out", "man/man1"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "stdout carries data only");
    let dir = ctx.path().join("man/man1");
    let written: BTreeSet<String> = fs_err::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut expected: BTreeSet<String> = BTreeSet::from(["gcctl.1".to_string()]);
    for path in subcommand_paths() {
        expected.insert(format!("gcctl-{}.1", path.join("-")));
    }
    assert_eq!(written, expected);
    for name in &written {
        let page = fs_err::read_to_string(dir.join(name)).unwrap();
        let title = name.trim_end_matches(".1");
        let th = page.lines().find(|line| line.starts_with(".TH ")).unwrap_or_default();
        assert!(th.starts_with(&format!(".TH {title} 1 ")), "{name}: `{th}`");
        assert!(page.contains("\n.SH NAME\n") && page.contains("\n.SH SYNOPSIS\n"), "{name}");
    }
    let plan = fs_err::read_to_string(dir.join("gcctl-plan.1")).unwrap();
    assert!(plan.contains("\\-\\-env"), "options are documented: {plan}");
}

#[test]
fn version_names_the_commit_and_the_build_date() {
    let out = TestContext::new().run(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let rest = text
        .strip_prefix(&format!("gcctl {} (", env!("CARGO_PKG_VERSION")))
        .and_then(|rest| rest.strip_suffix(")\n"))
        .unwrap_or_else(|| panic!("unexpected --version: {text:?}"));
    let (commit, date) = rest.split_once(' ').unwrap();
    assert!(
        commit == "unknown" || (commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{commit:?}"
    );
    let is_date = date.len() == 10
        && date
            .char_indices()
            .all(|(i, c)| if i == 4 || i == 7 { c == '-' } else { c.is_ascii_digit() });
    assert!(is_date, "{date:?}");
    // In a checkout, the commit is HEAD's (build.rs reruns when HEAD moves).
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repo_root())
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string());
    if let Some(head) = head.filter(|_| commit != "unknown") {
        assert!(head.starts_with(commit), "--version says {commit}, HEAD is {head}");
    }
}

#[test]
fn build_script_dates_are_utc_calendar_days() {
    for (epoch, date) in [
        (0, "1970-01-01"),
        (86_399, "1970-01-01"),
        (951_782_400, "2000-02-29"),
        (1_798_761_599, "2026-12-31"),
        (1_798_761_600, "2027-01-01"),
        (-1, "1969-12-31"),
    ] {
        assert_eq!(build_script::civil_date(epoch), date, "{epoch}");
    }
}

fn yaml_file(relative: &str) -> Value {
    let text = fs_err::read_to_string(repo_root().join(relative)).unwrap();
    let docs = gcctl::manifest::yaml::parse_documents(&text).expect(relative);
    assert_eq!(docs.len(), 1, "{relative}");
    docs[0].to_json()
}

#[test]
fn setup_action_is_a_composite_action_that_verifies_checksums() {
    let action = yaml_file("action.yml");
    for key in ["name", "description", "inputs", "outputs", "runs"] {
        assert!(action.get(key).is_some(), "action.yml lacks `{key}`");
    }
    assert_eq!(action["inputs"]["version"]["default"], "latest");
    assert_eq!(action["inputs"]["version"]["required"], false);
    assert_eq!(action["runs"]["using"], "composite");
    let steps = action["runs"]["steps"].as_array().expect("runs.steps");
    assert!(!steps.is_empty());
    for step in steps {
        // A composite action's run step must name its shell.
        if step.get("run").is_some() {
            assert!(step["shell"].is_string(), "a run step without shell: {step}");
        }
    }
    let text = fs_err::read_to_string(repo_root().join("action.yml")).unwrap();
    for expected in ["sha256", "GITHUB_PATH", "RUNNER_OS", "RUNNER_ARCH"] {
        assert!(text.contains(expected), "action.yml lacks `{expected}`");
    }
}

#[test]
fn release_workflow_builds_every_target_on_version_tags() {
    let workflow = yaml_file(".github/workflows/release.yml");
    assert_eq!(workflow["on"]["push"]["tags"], serde_json::json!(["v*"]));
    let text = fs_err::read_to_string(repo_root().join(".github/workflows/release.yml")).unwrap();
    for target in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ] {
        assert!(text.contains(target), "release.yml does not build {target}");
    }
    // The archive names the action downloads are the ones the workflow makes.
    let action = fs_err::read_to_string(repo_root().join("action.yml")).unwrap();
    assert!(text.contains("SHA256SUMS") && action.contains("SHA256SUMS"));
}

/// What users see in `gcctl --help` and every subcommand's `--help`,
/// snapshotted so that any change is reviewed (`cargo insta review`). Each
/// subcommand's help has an example, every example on one line that can be
/// pasted (never wrapped); only the subcommands that talk to an org take
/// `--sandbox` and `--rate-limit`, and their help names the
/// `GENESYSCLOUD_*` variables.
/// `-v` is accepted by the offline commands, on either side of the command
/// name, as before their help said what it does there.
#[test]
fn offline_commands_accept_verbose() {
    let ctx = TestContext::new();
    for args in [&["-v", "schema"][..], &["schema", "-vv"], &["completion", "-v", "bash"]] {
        let output = ctx.run(args);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {}", stderr(&output));
    }
}

#[test]
fn every_subcommand_help_is_reviewed() {
    let ctx = TestContext::new();
    insta::assert_snapshot!("help_gcctl", stdout(&ctx.run(&["--help"])));
    let connecting = ["plan", "apply", "destroy", "drift", "export"];
    for path in subcommand_paths() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = stdout(&ctx.run(&args));
        let name = format!("help_{}", path.join("_"));
        insta::assert_snapshot!(name.clone(), help);
        let leaf = path.last().map(String::as_str).unwrap_or_default();
        let examples = help.split_once("\nExample").map(|(_, rest)| rest).unwrap_or_default();
        assert!(!examples.is_empty(), "{name} has an example:\n{help}");
        let block = examples.split_once(":\n").map(|(_, rest)| rest).unwrap_or_default();
        for line in block.lines().take_while(|l| !l.is_empty()) {
            assert!(line.starts_with("  gcctl "), "{name}: an example wraps at `{line}`");
        }
        let connects = connecting.contains(&leaf);
        let option = |flag: &str| {
            help.lines().any(|l| l.trim_start().split([' ', '=']).next() == Some(flag))
        };
        assert_eq!(option("--sandbox"), connects, "{name}:\n{help}");
        assert_eq!(option("--rate-limit"), connects, "{name}:\n{help}");
        if connects {
            assert!(help.contains("GENESYSCLOUD_OAUTHCLIENT_ID"), "{name}:\n{help}");
        }
        // Commands that talk to no org say so of -v, rather than promise API logs.
        if ["validate", "schema", "man", "completion"].contains(&leaf) {
            assert!(!help.contains("every API request"), "{name}:\n{help}");
            assert!(help.contains("sends no API request"), "{name}:\n{help}");
        }
    }
}
