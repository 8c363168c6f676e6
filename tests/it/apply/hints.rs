//! Hints that tell the user to run a command give one that runs as shown:
//! each test takes the command out of a hint, runs it, and checks that it
//! does what the hint says (same org, manifests, environment, selection and
//! secrets directory).

use super::{ApplyOrg, CLIENTS, QUEUES, ROLES, assert_exit};
use crate::common::{TestContext, stderr};

const SET: &str = r"
apiVersion: gcctl/v1
kind: Project
metadata: {name: hints}
spec:
  environments:
    dev: {variables: {suffix: Dev}}
---
apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {name: q}
spec: {name: 'Hint Queue ${var.suffix}'}
---
apiVersion: gcctl/v1
kind: Role
metadata: {name: reader}
spec: {name: 'Hint Reader ${var.suffix}', permissions: [routing:queue:view]}
---
apiVersion: gcctl/v1
kind: OAuthClient
metadata: {name: bot}
spec:
  name: 'Hint Client ${var.suffix}'
  authorizedGrantType: CLIENT-CREDENTIALS
  roleDivisions: [{role: reader}]
";

/// The commands in backticks in `text`, as words without the leading `gcctl`
/// (the paths here need no quoting).
fn commands(text: &str) -> Vec<Vec<String>> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|c| c.starts_with("gcctl "))
        .map(|c| c.split(' ').skip(1).map(str::to_string).collect())
        .collect()
}

fn hint(stderr: &str) -> &str {
    stderr.lines().find_map(|l| l.strip_prefix("hint: ")).unwrap_or_else(|| panic!("{stderr}"))
}

/// With --sandbox: the saved plan's command carries --sandbox and the
/// --secrets-dir the plan was made with (its OAuth client's secret goes
/// there); without a terminal it asks for --auto-approve, with a command
/// that runs.
#[test]
fn the_saved_plan_command_runs_as_shown() {
    let ctx = TestContext::new();
    ctx.write("set/all.yaml", SET);
    let args =
        ["--sandbox", "plan", "--out", "p.json", "--secrets-dir", "s", "set", "--env", "dev"];
    let plan = ctx.run(&args);
    assert_exit(&plan, 0);
    let err = stderr(&plan);
    let saved = commands(&err);
    assert_eq!(saved, [["--sandbox", "apply", "--plan", "p.json", "--secrets-dir", "s"]], "{err}");
    let refused = ctx.run(&saved[0].iter().map(String::as_str).collect::<Vec<_>>());
    assert_exit(&refused, 1);
    let err = stderr(&refused);
    let approve = commands(hint(&err));
    assert_eq!(
        approve,
        [["--sandbox", "apply", "--plan", "p.json", "--secrets-dir", "s", "--auto-approve"]],
        "{err}"
    );
    let applied = ctx.run(&approve[0].iter().map(String::as_str).collect::<Vec<_>>());
    assert_exit(&applied, 0);
    let secrets = crate::apply::secret_files(&ctx.path().join("s"));
    assert_eq!(secrets.len(), 1, "the client's secret is in the plan's --secrets-dir");

    // A plan that issues a secret without --secrets-dir says that apply needs one.
    ctx.write("set/all.yaml", &SET.replace("Hint Client", "Other Client"));
    let plan = ctx.run(&["--sandbox", "plan", "--out", "q.json", "set", "--env", "dev"]);
    assert_exit(&plan, 0);
    let err = stderr(&plan);
    assert!(
        err.contains("apply it with `gcctl --sandbox apply --plan q.json --secrets-dir DIR`, DIR being where the OAuth client secret it issues is written"),
        "{err}"
    );
}

/// Without a terminal, apply refuses to go on unasked, and both commands of
/// its hint run: the apply as given (environment and selection kept), and
/// the saved-plan route for CI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_confirmation_hint_runs_as_shown() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/all.yaml", SET);
    let refused = org.gcctl(&["apply", "set", "--env", "dev", "--select", "Role/reader"]).await;
    assert_exit(&refused, 1);
    let err = stderr(&refused);
    let hinted = commands(hint(&err));
    assert_eq!(
        hinted,
        [
            vec!["apply", "set", "--env", "dev", "--select", "Role/reader", "--auto-approve"],
            vec!["plan", "--out", "plan.json", "set", "--env", "dev", "--select", "Role/reader"],
            vec!["apply", "--plan", "plan.json", "--auto-approve"],
        ],
        "{err}"
    );
    let run = |words: &[String]| {
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        org.ctx.command().args(&words).output().expect("gcctl runs")
    };
    assert_exit(&tokio::task::block_in_place(|| run(&hinted[0])), 0);
    assert_eq!(org.named(ROLES, "Hint Reader Dev").await.len(), 1);
    assert!(org.named(QUEUES, "Hint Queue Dev").await.is_empty(), "not selected");
    assert!(org.named(CLIENTS, "Hint Client Dev").await.is_empty(), "not selected");

    // The saved-plan route: nothing left to do for the selection.
    assert_exit(&tokio::task::block_in_place(|| run(&hinted[1])), 0);
    let applied = tokio::task::block_in_place(|| run(&hinted[2]));
    assert_exit(&applied, 0);
    assert!(stderr(&applied).contains("Nothing to apply."), "{}", stderr(&applied));
}

/// A queue renamed in the UI to another case of its declared name: the
/// plan's create names the live queue, so that the 409 that follows
/// (the sandbox refuses names that differ only in case) is not a mystery.
/// So does a queue whose name looks like the declared one.
#[tokio::test]
async fn a_create_whose_name_the_org_holds_in_another_case_names_it() {
    let org = ApplyOrg::default().await;
    let made =
        org.org.post("/api/v2/routing/queues", serde_json::json!({"name": "acme support"})).await;
    assert_eq!(made.status, 200, "{:?}", made.body);
    // A look-alike: inner spacing and an invisible character.
    let alike = org
        .org
        .post("/api/v2/routing/queues", serde_json::json!({"name": "Acme  Help\u{200b}"}))
        .await;
    assert_eq!(alike.status, 200, "{:?}", alike.body);
    org.ctx.write(
        "set/q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec: {name: Acme Support}\n---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: h}\nspec: {name: Acme Help}\n",
    );
    let plan = org.gcctl(&["plan", "set"]).await;
    let out = crate::common::stdout(&plan);
    let id = made.body["id"].as_str().unwrap();
    assert!(
        out.contains(&format!(
            "the org holds RoutingQueue \"acme support\" (id {id}), whose name differs only in case"
        )),
        "{out}"
    );
    let id = alike.body["id"].as_str().unwrap();
    assert!(
        out.contains(&format!(
            "the org holds RoutingQueue \"Acme  Help\\u{{200b}}\" (id {id}), whose name differs only in case, spacing or look-alike characters"
        )),
        "{out}"
    );
    assert_eq!(org.named(QUEUES, "acme support").await.len(), 1);
}
