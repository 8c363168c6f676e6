//! Saved plans: `plan --out FILE` then `apply --plan FILE` applies exactly
//! that plan, and refuses it once the org or the manifests moved on.

use serde_json::{Value, json};

use super::{ApplyOrg, QUEUES, ROLES, assert_exit};
use crate::common::{stderr, stdout};

const SET: &str = r"
apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {name: support}
spec:
  name: Saved Support
  description: DESCRIPTION
  acwSettings: {wrapupPrompt: OPTIONAL, timeoutMs: 60000}
---
apiVersion: gcctl/v1
kind: Role
metadata: {name: reader}
spec:
  name: Saved Reader
  permissions: [routing:queue:view]
";

fn set(description: &str) -> String {
    SET.replace("DESCRIPTION", description)
}

/// An org where the set was applied once, and the manifests then changed the
/// queue's description: the next plan has one update.
async fn org_with_pending_update() -> ApplyOrg {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/all.yaml", &set("first"));
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    org.ctx.write("set/all.yaml", &set("second"));
    let plan = org.gcctl(&["plan", "--detailed-exitcode", "--out", "plan.json", "set"]).await;
    assert_exit(&plan, 2);
    org
}

#[tokio::test]
async fn a_fresh_saved_plan_applies_exactly() {
    let org = org_with_pending_update().await;
    // Named as manifests, the plan file is said to be a plan, not loaded.
    let apply = org.gcctl(&["apply", "--auto-approve", "plan.json"]).await;
    assert_exit(&apply, 1);
    let err = stderr(&apply);
    assert!(err.contains("plan.json is a saved plan, not manifests"), "{err}");
    assert!(err.contains("hint: apply it with `gcctl apply --plan plan.json`"), "{err}");
    // Under any name, and to `plan` too.
    fs_err::copy(org.ctx.path().join("plan.json"), org.ctx.path().join("plan.yaml")).unwrap();
    for command in ["apply", "plan"] {
        let out = org.gcctl(&[command, "plan.yaml"]).await;
        assert_exit(&out, 1);
        let err = stderr(&out);
        assert!(err.contains("plan.yaml is a saved plan, not manifests"), "{err}");
        assert!(err.contains("hint: apply it with `gcctl apply --plan plan.yaml`"), "{err}");
    }
    // Of another format, behind a byte-order mark: still a plan, and why it cannot apply.
    let text = fs_err::read_to_string(org.ctx.path().join("plan.json")).unwrap();
    let old = text.replacen("\"format_version\": \"", "\"format_version\": \"0", 1);
    org.ctx.write("old.yaml", &format!("\u{feff}{old}"));
    let out = org.gcctl(&["plan", "old.yaml"]).await;
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("old.yaml is a saved plan, not manifests"), "{err}");
    assert!(err.contains("hint: and this gcctl cannot apply it"), "{err}");
    let apply = org.gcctl(&["apply", "--auto-approve", "--plan", "plan.json"]).await;
    assert_exit(&apply, 0);
    assert!(stderr(&apply).contains("1 updated"), "{}", stderr(&apply));
    assert_eq!(org.one(QUEUES, "Saved Support").await["description"], "second");
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}

#[tokio::test]
async fn a_saved_plan_is_stale_once_an_object_changed_in_the_org() {
    let org = org_with_pending_update().await;
    // ClickOps: someone edits the role behind our back.
    let role = org.one(ROLES, "Saved Reader").await;
    let id = role["id"].as_str().unwrap();
    let mut edited = role.clone();
    edited["description"] = json!("edited in the UI");
    let put = org.org.put(&format!("/api/v2/authorization/roles/{id}"), edited).await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    let before = org.list(QUEUES).await;

    let apply = org.gcctl(&["apply", "--auto-approve", "--plan", "plan.json"]).await;
    assert_exit(&apply, 1);
    let err = stderr(&apply);
    assert!(err.contains("plan is stale"), "{err}");
    assert!(err.contains("Role/reader \"Saved Reader\" was changed in the org"), "{err}");
    assert!(err.contains("plan again with `gcctl plan --out plan.json set`"), "hint: {err}");
    assert!(!stdout(&apply).contains("updated"), "{}", stdout(&apply));
    assert_eq!(org.list(QUEUES).await, before, "nothing was changed");
}

#[tokio::test]
async fn a_saved_plan_is_stale_once_the_manifests_changed() {
    let org = org_with_pending_update().await;
    // A renamed queue too: its old and new names are other keys, whose live
    // objects must not read as changed in the org.
    org.ctx.write("set/all.yaml", &set("third").replace("name: Saved Support", "name: Saved Desk"));
    let before = org.list(QUEUES).await;
    let apply = org.gcctl(&["apply", "--auto-approve", "--plan", "plan.json"]).await;
    assert_exit(&apply, 1);
    let err = stderr(&apply);
    assert!(err.contains("plan is stale") && err.contains("manifests"), "{err}");
    assert!(!err.contains("in the org"), "only the manifests changed: {err}");
    assert_eq!(org.list(QUEUES).await, before, "nothing was changed");
}

#[tokio::test]
async fn a_saved_plan_is_stale_once_a_planned_create_exists() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/all.yaml", &set("first"));
    assert_exit(&org.gcctl(&["plan", "--out", "plan.json", "set"]).await, 0);
    let made = org.org.post("/api/v2/routing/queues", json!({"name": "Saved Support"})).await;
    assert_eq!(made.status, 200, "{:?}", made.body);
    let apply = org.gcctl(&["apply", "--auto-approve", "--plan", "plan.json"]).await;
    assert_exit(&apply, 1);
    let err = stderr(&apply);
    assert!(
        err.contains("plan is stale")
            && err.contains("RoutingQueue/support \"Saved Support\" now exists"),
        "{err}"
    );
    assert_eq!(org.named(QUEUES, "Saved Support").await.len(), 1, "no duplicate");
    assert!(org.named(ROLES, "Saved Reader").await.is_empty(), "nothing was changed");
}

/// Edit the saved plan as a file, the way a person with an editor would.
fn edit_plan(org: &ApplyOrg, edit: impl FnOnce(&mut Value)) {
    let path = org.ctx.path().join("plan.json");
    let mut plan: Value = serde_json::from_str(&fs_err::read_to_string(&path).unwrap()).unwrap();
    edit(&mut plan);
    fs_err::write(&path, serde_json::to_string_pretty(&plan).unwrap()).unwrap();
}

/// `apply --plan plan.json` refuses cleanly (exit 1, never a panic), says
/// each of `expected`, tells how to plan again, and changes nothing.
async fn assert_refused(org: &ApplyOrg, expected: &[&str]) {
    let queues = org.list(QUEUES).await;
    let roles = org.list(ROLES).await;
    let apply = org.gcctl(&["apply", "--auto-approve", "--plan", "plan.json"]).await;
    assert_exit(&apply, 1);
    let err = stderr(&apply);
    for part in expected {
        assert!(err.contains(part), "`{part}` missing in:\n{err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("hint: nothing was changed; plan again with `gcctl plan --out plan.json set`"),
        "{err}"
    );
    assert_eq!(org.list(QUEUES).await, queues, "nothing was changed");
    assert_eq!(org.list(ROLES).await, roles, "nothing was changed");
}

fn change(kind: &str, name: &str, action: &str) -> Value {
    json!({"kind": kind, "manifest_name": name, "org_name": name, "id": null, "action": action,
           "prune": false, "fields": [], "depends_on": [], "live_fingerprint": null})
}

#[tokio::test]
async fn a_change_appended_by_hand_is_refused() {
    let org = org_with_pending_update().await;
    edit_plan(&org, |plan| {
        let changes = plan["plan"]["changes"].as_array_mut().unwrap();
        changes.push(change("RoutingQueue", "Hand Made", "create"));
    });
    assert_refused(
        &org,
        &[
            "plan.json differs from the plan computed now",
            "RoutingQueue/Hand Made \"Hand Made\" is in the saved plan but not in a fresh plan",
        ],
    )
    .await;
    assert!(org.named(QUEUES, "Hand Made").await.is_empty());
}

#[tokio::test]
async fn changes_of_kinds_that_are_not_org_objects_are_refused_without_a_panic() {
    let org = org_with_pending_update().await;
    for kind in ["Webhook", "Project"] {
        edit_plan(&org, |plan| {
            let changes = plan["plan"]["changes"].as_array_mut().unwrap();
            changes.insert(0, change(kind, "smuggled", "create"));
            changes.push(change(kind, "deleted", "delete"));
        });
        // A change's kind is an org kind by type: the file does not even load.
        let queues = org.list(QUEUES).await;
        let apply = org.gcctl(&["apply", "--auto-approve", "--plan", "plan.json"]).await;
        assert_exit(&apply, 1);
        let err = stderr(&apply);
        assert!(err.contains("plan.json is not a gcctl plan file"), "{err}");
        assert!(err.contains(&format!("{kind} objects do not live in the org")), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(org.list(QUEUES).await, queues, "nothing was changed");
        edit_plan(&org, |plan| {
            let changes = plan["plan"]["changes"].as_array_mut().unwrap();
            changes.retain(|c| c["kind"] != kind);
        });
    }
    // With the smuggled changes gone, the plan applies.
    let apply = org.gcctl(&["apply", "--auto-approve", "--plan", "plan.json"]).await;
    assert_exit(&apply, 0);
}

#[tokio::test]
async fn a_change_removed_by_hand_is_refused() {
    let org = org_with_pending_update().await;
    edit_plan(&org, |plan| {
        let changes = plan["plan"]["changes"].as_array_mut().unwrap();
        changes.retain(|c| c["kind"] != "Role");
    });
    assert_refused(
        &org,
        &["Role/reader \"Saved Reader\" (no-op) is in a fresh plan but not in the saved plan"],
    )
    .await;
}

#[tokio::test]
async fn a_field_edited_by_hand_is_refused() {
    let org = org_with_pending_update().await;
    edit_plan(&org, |plan| {
        let queue = plan["plan"]["changes"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|c| c["kind"] == "RoutingQueue")
            .unwrap();
        queue["fields"][0]["after"] = json!("smuggled");
    });
    assert_refused(
        &org,
        &["RoutingQueue/support \"Saved Support\": field /description differs from a fresh plan"],
    )
    .await;
    // An action edited, and the summary with it, is refused the same way.
    edit_plan(&org, |plan| {
        for change in plan["plan"]["changes"].as_array_mut().unwrap() {
            if change["kind"] == "Role" {
                change["action"] = json!("delete");
            }
        }
        plan["plan"]["summary"]["delete"] = json!(1);
    });
    assert_refused(
        &org,
        &["Role/reader \"Saved Reader\": the saved plan says delete, a fresh plan says no-op"],
    )
    .await;
}

#[tokio::test]
async fn other_hand_edits_are_refused_without_a_panic() {
    let org = org_with_pending_update().await;
    let original = fs_err::read_to_string(org.ctx.path().join("plan.json")).unwrap();
    let restore = || fs_err::write(org.ctx.path().join("plan.json"), &original).unwrap();
    // Another target.
    edit_plan(&org, |plan| plan["plan"]["target"]["org_id"] = json!("another-org"));
    assert_refused(
        &org,
        &[
            "plan.json was planned against org \"gcctl sandbox\" (id another-org)",
            "; this run targets org",
        ],
    )
    .await;
    restore();
    // Manifest paths not there from here (a plan made in another directory).
    edit_plan(&org, |plan| plan["paths"] = json!(["made/elsewhere"]));
    let out = org.gcctl(&["apply", "--auto-approve", "--plan", "plan.json"]).await;
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("plan.json names the manifests at made/elsewhere, which is not there from "),
        "{err}"
    );
    assert!(
        err.contains(
            "hint: a saved plan's manifest paths are read from the directory it was made in"
        ),
        "{err}"
    );
    restore();
    // The plan's own `select` edited apart from the file's.
    edit_plan(&org, |plan| plan["plan"]["select"] = json!(["Role/*"]));
    assert_refused(&org, &["the plan's `select` (Role/*) is not the file's ()"]).await;
    restore();
    // A change listed twice, and changes in another order.
    edit_plan(&org, |plan| {
        let changes = plan["plan"]["changes"].as_array_mut().unwrap();
        let first = changes[0].clone();
        changes.push(first);
    });
    assert_refused(&org, &["appears more than once in the saved plan"]).await;
    restore();
    edit_plan(&org, |plan| plan["plan"]["changes"].as_array_mut().unwrap().reverse());
    assert_refused(&org, &["the changes are in another order than a fresh plan's"]).await;
    restore();
    // A dependency cycle edited in.
    edit_plan(&org, |plan| {
        for change in plan["plan"]["changes"].as_array_mut().unwrap() {
            let other =
                if change["kind"] == "Role" { "RoutingQueue/support" } else { "Role/reader" };
            change["depends_on"] = json!([other]);
        }
    });
    assert_refused(&org, &["depends_on differs from a fresh plan"]).await;
    restore();
    // No manifest paths: nothing to plan from.
    edit_plan(&org, |plan| plan["paths"] = json!([]));
    let apply = org.gcctl(&["apply", "--auto-approve", "--plan", "plan.json"]).await;
    assert_exit(&apply, 1);
    assert!(stderr(&apply).contains("plan.json names no manifest paths"), "{}", stderr(&apply));
    restore();
    // An unknown kind or action is not a plan file.
    edit_plan(&org, |plan| plan["plan"]["changes"][0]["kind"] = json!("Nonsense"));
    let apply = org.gcctl(&["apply", "--auto-approve", "--plan", "plan.json"]).await;
    assert_exit(&apply, 1);
    assert!(stderr(&apply).contains("plan.json is not a gcctl plan file"), "{}", stderr(&apply));
    restore();
    let apply = org.gcctl(&["apply", "--auto-approve", "--plan", "plan.json"]).await;
    assert_exit(&apply, 0);
}

/// A plan is bound to the org it was made against (its id from
/// `GET /api/v2/organizations/me`): applied to another org, it is refused
/// naming both, and nothing is changed.
#[tokio::test]
async fn a_plan_saved_against_one_org_is_refused_against_another_naming_both() {
    let first = org_with_pending_update().await;
    let saved = fs_err::read_to_string(first.ctx.path().join("plan.json")).unwrap();
    let plan: Value = serde_json::from_str(&saved).unwrap();
    let first_id = plan["plan"]["target"]["org_id"].as_str().expect("the org id is recorded");
    assert_eq!(plan["plan"]["target"]["org_name"], "gcctl sandbox");

    // The same manifests and plan file, pointed at another org.
    let other = ApplyOrg::default().await;
    other.ctx.write("set/all.yaml", &set("second"));
    other.ctx.write("plan.json", &saved);
    let apply = other.gcctl(&["apply", "--auto-approve", "--plan", "plan.json"]).await;
    assert_exit(&apply, 1);
    let err = stderr(&apply);
    let other_id =
        other.get("/api/v2/organizations/me").await.body["id"].as_str().unwrap().to_string();
    assert_ne!(first_id, other_id);
    assert!(
        err.contains(&format!(
            "plan.json was planned against org \"gcctl sandbox\" (id {first_id})"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("this run targets org \"gcctl sandbox\" (id {other_id})")),
        "{err}"
    );
    assert!(err.contains("plan again with `gcctl plan --out plan.json set`"), "{err}");
    assert!(other.named(QUEUES, "Saved Support").await.is_empty(), "nothing was changed");
}

/// `--prune` cannot add deletes to a plan reviewed without them.
#[tokio::test]
async fn a_saved_plan_made_without_prune_refuses_prune() {
    let org = org_with_pending_update().await;
    let apply = org.gcctl(&["apply", "--auto-approve", "--prune", "--plan", "plan.json"]).await;
    assert_exit(&apply, 1);
    let err = stderr(&apply);
    assert!(err.contains("the saved plan was made without --prune"), "{err}");
    assert!(err.contains("gcctl plan --out plan.json set --prune"), "{err}");
    // A partial plan never prunes: planning it again with --prune would
    // not either, so the hint says to plan the whole set.
    let plan = ["plan", "--out", "partial.json", "--select", "RoutingQueue/*", "set"];
    assert_exit(&org.gcctl(&plan).await, 0);
    let apply = org.gcctl(&["apply", "--auto-approve", "--prune", "--plan", "partial.json"]).await;
    assert_exit(&apply, 1);
    let err = stderr(&apply);
    assert!(err.contains("the saved plan was made with --select, so it deletes nothing"), "{err}");
    assert!(err.contains("plan the whole set with --prune (without --select)"), "{err}");
}

/// A saved plan made without `--prune` lists its prunes without planning
/// them; edited by hand to prune, it is refused, and the prune it listed
/// is not made.
#[tokio::test]
async fn a_saved_plan_edited_to_prune_is_refused() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/all.yaml", &set("first"));
    org.ctx.write(
        "set/project.yaml",
        "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  prune:\n    - kind: RoutingQueue\n      names: [\"Saved *\"]\n",
    );
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    let stray = org.org.post(QUEUES, json!({"name": "Saved Stray"})).await;
    assert_eq!(stray.status, 200, "{:?}", stray.body);
    let plan = org.gcctl(&["plan", "--detailed-exitcode", "--out", "plan.json", "set"]).await;
    assert_exit(&plan, 0);
    assert!(stdout(&plan).contains("would be deleted with --prune"), "{}", stdout(&plan));
    edit_plan(&org, |plan| plan["plan"]["prune"] = json!(true));
    let apply = org.gcctl(&["apply", "--auto-approve", "--plan", "plan.json"]).await;
    assert_exit(&apply, 1);
    let err = stderr(&apply);
    assert!(
        err.contains("plan is stale: the plan was made without --prune and now says it prunes"),
        "{err}"
    );
    // To prune, plan with --prune and review that plan.
    assert!(err.contains("plan again with `gcctl plan --out plan.json set --prune`"), "{err}");
    assert_eq!(org.named(QUEUES, "Saved Stray").await.len(), 1, "not pruned");
}

/// An environment may name its org: `--env prod` connects with the
/// variables it names (not `GENESYSCLOUD_*`), and credentials that reach
/// another org than the one declared stop the run before any change (or,
/// for drift, before any report).
#[tokio::test]
async fn an_environment_connects_to_its_own_org_and_checks_it() {
    let mut org = ApplyOrg::default().await;
    let base = org.org.sandbox.base_url();
    let (id, secret) =
        (org.org.sandbox.client_id().to_string(), org.org.sandbox.client_secret().to_string());
    let me = org.get("/api/v2/organizations/me").await.body;
    let org_id = me["id"].as_str().unwrap().to_string();
    // The default variables point nowhere useful; prod's own ones work.
    org.as_client()
        .ctx
        .env("GENESYSCLOUD_REGION", "http://127.0.0.1:9")
        .env("GENESYSCLOUD_OAUTHCLIENT_ID", "not-this-one")
        .env("PROD_GC_CLIENT_ID", &id)
        .env("PROD_GC_CLIENT_SECRET", &secret);
    let project = |declared_id: &str| {
        format!(
            "apiVersion: gcctl/v1\nkind: Project\nmetadata: {{name: p}}\nspec:\n  environments:\n    prod:\n      org:\n        region: {base}\n        clientIdFromEnv: PROD_GC_CLIENT_ID\n        clientSecretFromEnv: PROD_GC_CLIENT_SECRET\n        id: {declared_id}\n        name: gcctl sandbox\n---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {{name: q}}\nspec: {{name: Env Queue}}\n"
        )
    };
    org.ctx.write("set/all.yaml", &project(&org_id));
    let plan = org.gcctl(&["plan", "--detailed-exitcode", "--env", "prod", "set"]).await;
    assert_exit(&plan, 2);
    assert!(stdout(&plan).contains(&format!("(id {org_id})")), "{}", stdout(&plan));

    org.ctx.write("set/all.yaml", &project("another-org"));
    let apply = org.gcctl(&["apply", "--auto-approve", "--env", "prod", "set"]).await;
    assert_exit(&apply, 1);
    let err = stderr(&apply);
    assert!(
        err.contains(&format!("environment `prod` declares org \"gcctl sandbox\" (id another-org), but the credentials reach org \"gcctl sandbox\" (id {org_id}); nothing was changed")),
        "{err}"
    );
    assert!(org.named(QUEUES, "Env Queue").await.is_empty());
    // Drift checks the org too: no report of another org than the one declared.
    let drift = org.gcctl(&["drift", "--env", "prod", "set"]).await;
    assert_exit(&drift, 1);
    let err = stderr(&drift);
    assert!(
        err.contains("environment `prod` declares org \"gcctl sandbox\" (id another-org)"),
        "{err}"
    );
    assert_eq!(stdout(&drift), "", "no report");

    // The org's name is compared as the org holds it: inner spacing
    // included (it was collapsed, and such a declared name never matched),
    // and a control character is an escape in the plan's header.
    let project =
        project(&org_id).replace("name: gcctl sandbox", "name: \"gcctl  sandbox\\u001b[2J\"");
    org.ctx.write("set/all.yaml", &project);
    let answer = json!({"id": org_id, "name": "gcctl  sandbox\u{1b}[2J"}).to_string();
    let route = "GET /api/v2/organizations/me";
    org.org.route_fault(json!({"route": route, "status": 200, "body": answer, "times": 5})).await;
    let plan = org.gcctl(&["plan", "--detailed-exitcode", "--env", "prod", "set"]).await;
    assert_exit(&plan, 2);
    let header = format!("org \"gcctl  sandbox\\u{{1b}}[2J\" (id {org_id})");
    assert!(stdout(&plan).contains(&header), "{}", stdout(&plan));
}

/// A run whose environment declares no org, or a run without `--env`,
/// must not reach an org another environment declares: the Project-wide
/// names (and prunes) would be applied to that environment's org.
#[tokio::test]
async fn a_run_without_the_environment_of_a_declared_org_is_refused() {
    let org = ApplyOrg::default().await;
    let me = org.get("/api/v2/organizations/me").await.body;
    let org_id = me["id"].as_str().unwrap().to_string();
    let set = format!(
        "apiVersion: gcctl/v1\nkind: Project\nmetadata: {{name: p}}\nspec:\n  variables: {{suffix: base}}\n  environments:\n    prod:\n      variables: {{suffix: prod}}\n      org: {{id: {org_id}}}\n    dev:\n      variables: {{suffix: dev}}\n---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {{name: q}}\nspec: {{name: \"Team ${{var.suffix}}\"}}\n"
    );
    org.ctx.write("set/all.yaml", &set);
    let apply = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    assert_exit(&apply, 1);
    let err = stderr(&apply);
    assert!(
        err.contains(&format!("the credentials reach org \"gcctl sandbox\" (id {org_id}), which the Project declares for environment `prod`, and this run has no --env")),
        "{err}"
    );
    assert!(err.contains("hint: run with --env NAME"), "{err}");
    let plan = org.gcctl(&["plan", "--env", "dev", "set"]).await;
    assert_exit(&plan, 1);
    let err = stderr(&plan);
    assert!(err.contains("this run is for environment `dev`, which declares no org"), "{err}");
    assert!(org.named(QUEUES, "Team base").await.is_empty());
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "--env", "prod", "set"]).await, 0);
    assert_eq!(org.named(QUEUES, "Team prod").await.len(), 1);
    // An id is a GUID: declared in capitals, it is the same org.
    org.ctx.write("set/all.yaml", &set.replace(&org_id, &org_id.to_uppercase()));
    assert_exit(&org.gcctl(&["plan", "--env", "prod", "set"]).await, 0);
    assert_exit(&org.gcctl(&["plan", "set"]).await, 1);
}

/// A saved plan refused while the run gives another `--secrets-dir` than the
/// plan was made with says so, and the plan to make again takes the run's
/// directory (the hint made the same mismatch again).
#[tokio::test]
async fn a_refusal_names_another_secrets_dir_and_replans_with_it() {
    let org = org_with_pending_update().await;
    edit_plan(&org, |plan| {
        let changes = plan["plan"]["changes"].as_array_mut().unwrap();
        let first = changes[0].clone();
        changes.push(first);
    });
    let out =
        org.gcctl(&["apply", "--auto-approve", "--plan", "plan.json", "--secrets-dir", "s"]).await;
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains(
            "; the plan was made without --secrets-dir, and this run gives --secrets-dir s"
        ),
        "{err}"
    );
    assert!(
        err.contains("plan again with `gcctl plan --out plan.json set --secrets-dir s`"),
        "{err}"
    );
}

/// An object as it was, whose plan notes changed because the org did around
/// it (another object now named like it but for case): stale, said as an org
/// change with the new note, not as a hand-edited file.
#[tokio::test]
async fn a_note_the_org_changed_makes_the_plan_stale_not_edited() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/all.yaml", &set("first"));
    assert_exit(&org.gcctl(&["plan", "--out", "plan.json", "set"]).await, 0);
    let role = org.org.post("/api/v2/authorization/roles", json!({"name": "saved reader"})).await;
    assert_eq!(role.status, 200, "{:?}", role.body);
    let out = org.gcctl(&["apply", "--auto-approve", "--plan", "plan.json"]).await;
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("plan is stale: Role/reader \"Saved Reader\": the org changed around it, and the plan now notes: the org holds Role \"saved reader\""), "{err}");
    assert!(!err.contains("differs from the plan computed now"), "{err}");
}

/// `plan --out` writes over nothing but an earlier plan (or an empty file):
/// naming a manifest or a secret's file by mistake replaced it, and the
/// next prune deleted what the manifest declared.
#[tokio::test]
async fn plan_out_writes_over_an_earlier_plan_only() {
    let org = org_with_pending_update().await;
    let manifest = fs_err::read_to_string(org.ctx.path().join("set/all.yaml")).unwrap();
    org.ctx.write("secret.json", "{\"clientSecret\": \"keep-me\"}");
    for target in ["set/all.yaml", "secret.json"] {
        let out = org.gcctl(&["plan", "--out", target, "set"]).await;
        assert_exit(&out, 1);
        let err = stderr(&out);
        assert!(err.contains("it exists and is not a saved plan (a manifest, a secret's file, …), and gcctl writes a plan over nothing but an earlier plan"), "{err}");
    }
    assert_eq!(fs_err::read_to_string(org.ctx.path().join("set/all.yaml")).unwrap(), manifest);
    let secret = fs_err::read_to_string(org.ctx.path().join("secret.json")).unwrap();
    assert_eq!(secret, "{\"clientSecret\": \"keep-me\"}");
    // An earlier plan, and an empty file, are written over.
    org.ctx.write("empty.json", "");
    for target in ["plan.json", "empty.json"] {
        assert_exit(&org.gcctl(&["plan", "--out", target, "set"]).await, 0);
    }
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "--plan", "empty.json"]).await, 0);
}

/// `plan --out` writes over a regular file only: a symbolic link, a
/// directory or a device is refused (a rename would replace it), and a
/// failed write leaves no temporary file. `apply --plan` reads a regular
/// file only (`/dev/zero` would fill memory). A manifest path that is not
/// UTF-8 cannot be saved in a plan: refused, not an empty plan over the
/// old one; and `apply` with such a path runs (its lock record shows it).
#[cfg(unix)]
#[tokio::test]
async fn plan_files_are_regular_files_and_never_written_empty() {
    use std::os::unix::ffi::OsStrExt as _;
    let org = org_with_pending_update().await;
    let saved = fs_err::read_to_string(org.ctx.path().join("plan.json")).unwrap();
    std::os::unix::fs::symlink(org.ctx.path().join("plan.json"), org.ctx.path().join("link.json"))
        .unwrap();
    fs_err::create_dir(org.ctx.path().join("dir.json")).unwrap();
    for target in ["link.json", "dir.json"] {
        let out = org.gcctl(&["plan", "--out", target, "set"]).await;
        assert_exit(&out, 1);
        assert!(stderr(&out).contains("it is not a regular file"), "{}", stderr(&out));
    }
    // No refused write left a temporary file behind.
    let left = |org: &ApplyOrg| -> Vec<String> {
        fs_err::read_dir(org.ctx.path())
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".tmp-gcctl"))
            .collect()
    };
    assert!(left(&org).is_empty(), "{:?}", left(&org));
    assert_eq!(fs_err::read_to_string(org.ctx.path().join("plan.json")).unwrap(), saved);
    let zero = org.gcctl(&["apply", "--plan", "/dev/zero"]).await;
    assert_exit(&zero, 1);
    assert!(stderr(&zero).contains("cannot read the plan file /dev/zero"), "{}", stderr(&zero));

    let odd = std::ffi::OsStr::from_bytes(b"set\xff");
    fs_err::create_dir(org.ctx.path().join(odd)).unwrap();
    fs_err::copy(org.ctx.path().join("set/all.yaml"), org.ctx.path().join(odd).join("all.yaml"))
        .unwrap();
    let mut command = tokio::process::Command::from(org.ctx.command());
    command.args(["plan", "--out", "plan.json"]).arg(odd);
    let out = command.output().await.unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("not UTF-8 cannot be saved in a plan"), "{}", stderr(&out));
    assert_eq!(fs_err::read_to_string(org.ctx.path().join("plan.json")).unwrap(), saved);
    let mut command = tokio::process::Command::from(org.ctx.command());
    command.args(["apply", "--auto-approve"]).arg(odd);
    let out = command.output().await.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// The hint for a plan named as manifests runs as shown: the plan's own
/// target (`--sandbox`) included.
#[test]
fn the_hint_for_a_plan_named_as_manifests_keeps_its_target() {
    let ctx = crate::common::TestContext::new();
    ctx.write(
        "set/q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec: {name: Q}\n",
    );
    let plan = ctx.run(&["--sandbox", "plan", "--out", "plan.json", "set"]);
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let apply = ctx.run(&["--sandbox", "apply", "plan.json"]);
    assert_eq!(apply.status.code(), Some(1));
    let err = stderr(&apply);
    assert!(err.contains("hint: apply it with `gcctl --sandbox apply --plan plan.json`"), "{err}");
}
