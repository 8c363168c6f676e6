//! Pruning: only with `--prune`, only inside a Project prune scope, never
//! built-ins or the org default, never a protected name.

use serde_json::{Value, json};

use super::{ApplyOrg, CONTENT, QUEUES, ROLES, WRAPUP_CODES, assert_exit};
use crate::common::{stderr, stdout};

const SET: &str = r#"
apiVersion: gcctl/v1
kind: Project
metadata: {name: pruning}
spec:
  prune:
    - kind: RoutingQueue
      names: ["Acme *"]
    - kind: Role
      names: ["*"]
    - kind: SupportedContentProfile
      names: ["*"]
---
apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {name: declared}
spec:
  name: Acme Declared
---
apiVersion: gcctl/v1
kind: Role
metadata: {name: declared}
spec:
  name: Declared Role
  permissions: [routing:queue:view]
"#;

async fn create(org: &ApplyOrg, path: &str, body: serde_json::Value) {
    let answer = org.org.post(path, body).await;
    assert_eq!(answer.status, 200, "POST {path}: {:?}", answer.body);
}

#[tokio::test]
async fn prunes_only_with_prune_inside_scopes_and_never_builtins() {
    let org = ApplyOrg::default().await;
    create(&org, "/api/v2/routing/queues", json!({"name": "Acme Stray"})).await;
    create(&org, "/api/v2/routing/queues", json!({"name": "Other Queue"})).await;
    create(&org, "/api/v2/authorization/roles", json!({"name": "Stray Role"})).await;
    create(
        &org,
        "/api/v2/conversations/messaging/supportedcontent",
        json!({"name": "Stray Content", "mediaTypes": {"allow": {"inbound": [{"type": "*/*"}]}}}),
    )
    .await;
    let builtin_roles: Vec<String> = org
        .list(ROLES)
        .await
        .into_iter()
        .filter(|r| r["default"] == true)
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert!(builtin_roles.len() >= 4, "{builtin_roles:?}");
    org.ctx.write("set/all.yaml", SET);

    // Without --prune: declared objects converge, prunes are announced, nothing is deleted.
    let apply = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    assert_exit(&apply, 0);
    assert!(
        stdout(&apply)
            .contains("3 undeclared objects inside prune scopes would be deleted with --prune."),
        "{}",
        stdout(&apply)
    );
    // Plan agrees: without --prune, prunes alone are no change (exit 0);
    // with it, they are (exit 2), as `apply --prune` will do.
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
    assert_exit(&org.gcctl(&["plan", "--prune", "--detailed-exitcode", "set"]).await, 2);
    assert_eq!(org.named(QUEUES, "Acme Stray").await.len(), 1);
    assert_eq!(org.named(ROLES, "Stray Role").await.len(), 1);
    assert_eq!(org.named(CONTENT, "Stray Content").await.len(), 1);
    // Prunes that will not run are nothing to apply: no confirmation needed.
    let again = org.gcctl(&["apply", "set"]).await;
    assert_exit(&again, 0);
    assert!(stderr(&again).contains("Nothing to apply."), "{}", stderr(&again));

    // With --prune: undeclared objects inside the scopes go, and only those.
    let apply = org.gcctl(&["apply", "--auto-approve", "--prune", "set"]).await;
    assert_exit(&apply, 0);
    assert!(stderr(&apply).contains("3 deleted"), "{}", stderr(&apply));
    assert!(org.named(QUEUES, "Acme Stray").await.is_empty());
    assert!(org.named(ROLES, "Stray Role").await.is_empty());
    assert!(org.named(CONTENT, "Stray Content").await.is_empty());
    assert_eq!(org.named(QUEUES, "Other Queue").await.len(), 1, "outside every scope");
    assert_exit(&org.gcctl(&["plan", "--prune", "--detailed-exitcode", "set"]).await, 0);
    assert_eq!(org.named(QUEUES, "Acme Declared").await.len(), 1);
    assert_eq!(org.named(ROLES, "Declared Role").await.len(), 1);
    for role in &builtin_roles {
        assert_eq!(org.named(ROLES, role).await.len(), 1, "built-in role {role} is kept");
    }
    let default = org.org.get("/api/v2/conversations/messaging/supportedcontent/default").await;
    assert_eq!(default.status, 200);
    assert_eq!(org.named(CONTENT, default.body["name"].as_str().unwrap()).await.len(), 1);
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}

const ENVIRONMENTS: &str = r#"
apiVersion: gcctl/v1
kind: Project
metadata: {name: shared-org}
spec:
  variables: {prefix: Base}
  environments:
    dev: {variables: {prefix: Dev}}
    staging: {variables: {prefix: Staging}}
  prune:
    - kind: RoutingQueue
      names: ["* Acme *"]
---
apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {name: support}
protect: true
spec:
  name: ${var.prefix} Acme Support
---
apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {name: scratch}
spec:
  name: ${var.prefix} Acme Scratch
"#;

// `protect: true` protects the object's org-side name in every environment
// of the Project, and in none (`ManifestSet::protected`).
#[tokio::test]
async fn protect_keeps_a_name_of_another_environment_from_pruning() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/all.yaml", ENVIRONMENTS);
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "--env", "staging", "set"]).await, 0);
    assert_eq!(org.named(QUEUES, "Staging Acme Support").await.len(), 1);
    assert_eq!(org.named(QUEUES, "Staging Acme Scratch").await.len(), 1);

    let apply = org.gcctl(&["apply", "--auto-approve", "--env", "dev", "--prune", "set"]).await;
    assert_exit(&apply, 0);
    assert_eq!(org.named(QUEUES, "Dev Acme Support").await.len(), 1);
    assert_eq!(org.named(QUEUES, "Staging Acme Support").await.len(), 1, "protected in staging");
    assert_eq!(org.named(QUEUES, "Base Acme Support").await.len(), 1, "protected without --env");
    assert!(org.named(QUEUES, "Base Acme Scratch").await.is_empty(), "unprotected: pruned");
    assert!(org.named(QUEUES, "Staging Acme Scratch").await.is_empty(), "unprotected: pruned");
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "--env", "dev", "set"]).await, 0);
}

/// `protect` set by a variable protects the object in the environment that
/// sets it true: a prune or a destroy in another environment, where it reads
/// false, keeps the name the protecting environment gives it.
#[tokio::test]
async fn protect_set_by_a_variable_keeps_the_object_in_every_environment() {
    let org = ApplyOrg::default().await;
    let set = "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: acme}\nspec:\n  variables: {tier: base, p: false}\n  environments:\n    dev:  {variables: {tier: Dev, p: false}}\n    prod: {variables: {tier: Prod, p: true}}\n  prune:\n    - kind: RoutingQueue\n      names: [\"Acme *\"]\n---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: support}\nprotect: ${var.p}\nspec:\n  name: Acme ${var.tier} Support\n---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: shared}\nprotect: ${var.p}\nspec:\n  name: Acme Shared Queue\n";
    org.ctx.write("set/all.yaml", set);
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "--env", "prod", "set"]).await, 0);
    let apply = org.gcctl(&["apply", "--auto-approve", "--env", "dev", "--prune", "set"]).await;
    assert_exit(&apply, 0);
    assert!(stderr(&apply).contains(", 0 deleted,"), "{}", stderr(&apply));
    assert_eq!(org.named(QUEUES, "Acme Prod Support").await.len(), 1, "kept");
    // Both environments hold the queue under their names; dev's destroy
    // deletes its own, never prod's.
    let destroy = org.gcctl(&["destroy", "--auto-approve", "--env", "dev", "set"]).await;
    assert_exit(&destroy, 0);
    assert_eq!(org.named(QUEUES, "Acme Prod Support").await.len(), 1, "kept");
    assert!(org.named(QUEUES, "Acme Dev Support").await.is_empty());
    // A name both environments share is prod's too: kept.
    assert_eq!(org.named(QUEUES, "Acme Shared Queue").await.len(), 1, "kept");
}

/// An environment whose manifests no longer load cannot tell under which
/// names it protects objects: a prune in another environment refuses every
/// delete (fail closed) and deletes nothing, and its plan says why. A load
/// without an environment that fails (the manifests need an environment's
/// variables) is not a reason.
#[tokio::test]
async fn a_prune_refuses_while_another_environment_does_not_load() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/all.yaml", ENVIRONMENTS);
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "--env", "staging", "set"]).await, 0);
    // Staging loses its variable; dev gets its own, so only dev loads.
    let broken = ENVIRONMENTS
        .replace("variables: {prefix: Base}", "variables: {}")
        .replace("staging: {variables: {prefix: Staging}}", "staging: {variables: {}}");
    org.ctx.write("set/all.yaml", &broken);
    assert_exit(&org.gcctl(&["validate", "--env", "staging", "set"]).await, 1);

    let plan = org.gcctl(&["plan", "--env", "dev", "--prune", "set"]).await;
    let out = stdout(&plan);
    assert!(out.contains("\"Staging Acme Scratch\" will be deleted"), "{out}");
    assert!(
        out.contains("Note: environment staging does not load (")
            && out.contains("an apply or destroy refuses to delete anything until it loads"),
        "{out}"
    );
    let apply = org.gcctl(&["apply", "--auto-approve", "--env", "dev", "--prune", "set"]).await;
    assert_exit(&apply, 1);
    let err = stderr(&apply);
    assert!(
        err.contains("nothing was changed: refusing 2 deletes: `protect: true` may cover them")
            && err.contains("environment staging does not load (")
            && err.contains("gcctl validate --env NAME"),
        "{err}"
    );
    assert_eq!(org.named(QUEUES, "Staging Acme Support").await.len(), 1);
    assert_eq!(org.named(QUEUES, "Staging Acme Scratch").await.len(), 1);
    assert!(org.named(QUEUES, "Dev Acme Support").await.is_empty(), "nothing was changed");

    // Without the prune nothing is deleted, so nothing is refused.
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "--env", "dev", "set"]).await, 0);
    assert_eq!(org.named(QUEUES, "Dev Acme Support").await.len(), 1);
    // A destroy deletes: refused the same way.
    let destroy = org.gcctl(&["destroy", "--auto-approve", "--env", "dev", "set"]).await;
    assert_exit(&destroy, 1);
    assert!(
        stderr(&destroy).contains("environment staging does not load ("),
        "{}",
        stderr(&destroy)
    );
    assert_eq!(org.named(QUEUES, "Dev Acme Scratch").await.len(), 1);
    // Staging loads again: the prune goes ahead, its protected queue kept.
    let fixed =
        broken.replace("staging: {variables: {}}", "staging: {variables: {prefix: Staging}}");
    org.ctx.write("set/all.yaml", &fixed);
    let apply = org.gcctl(&["apply", "--auto-approve", "--env", "dev", "--prune", "set"]).await;
    assert_exit(&apply, 0);
    assert_eq!(org.named(QUEUES, "Staging Acme Support").await.len(), 1, "protected in staging");
    assert!(org.named(QUEUES, "Staging Acme Scratch").await.is_empty());
}

const USED_SCOPE: &str = r#"
apiVersion: gcctl/v1
kind: Project
metadata: {name: used}
spec:
  prune:
    - kind: RoutingWrapupCode
      names: ["*"]
---
apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {name: q1}
spec:
  name: Q1
  wrapupCodes: [Org Code]
"#;

/// An undeclared object inside a prune scope that a declared object refers
/// to is kept, and the plan says so: the apply never attaches it and
/// deletes it in one run. Others in the scope go.
#[tokio::test]
async fn a_prune_keeps_what_declared_objects_refer_to() {
    let org = ApplyOrg::default().await;
    create(&org, "/api/v2/routing/wrapupcodes", json!({"name": "Org Code"})).await;
    create(&org, "/api/v2/routing/wrapupcodes", json!({"name": "Stray Code"})).await;
    org.ctx.write("set/all.yaml", USED_SCOPE);
    let plan = org.gcctl(&["plan", "--prune", "set"]).await;
    let out = stdout(&plan);
    assert!(!out.contains("\"Org Code\" will be deleted"), "{out}");
    assert!(
        out.contains("RoutingWrapupCode \"Org Code\" is inside a prune scope and not declared, but RoutingQueue/q1 refers to it: it is kept"),
        "{out}"
    );
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "--prune", "set"]).await, 0);
    let codes = super::WRAPUP_CODES;
    assert_eq!(org.named(codes, "Org Code").await.len(), 1);
    assert!(org.named(codes, "Stray Code").await.is_empty());
    assert_exit(&org.gcctl(&["plan", "--prune", "--detailed-exitcode", "set"]).await, 0);
}

const CLIENT_SCOPE: &str = r#"
apiVersion: gcctl/v1
kind: Project
metadata: {name: clients}
spec:
  prune:
    - kind: OAuthClient
      names: ["*"]
---
apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {name: queue}
spec:
  name: Client Scope Queue
"#;

#[tokio::test]
async fn the_client_gcctl_runs_as_is_never_pruned_and_does_not_block_the_prune() {
    // As the admin OAuth client: the client gcctl runs as is known.
    let mut org = ApplyOrg::default().await;
    org.as_client();
    let master = org.one(super::ROLES, "Master Admin").await;
    let home = org.get("/api/v2/authorization/divisions/home").await.body;
    let grant = json!([{"roleId": master["id"], "divisionId": home["id"]}]);
    let stray = json!({"name": "Stray Client", "authorizedGrantType": "CLIENT-CREDENTIALS",
        "roleDivisions": grant});
    create(&org, "/api/v2/oauth/clients", stray).await;
    org.ctx.write("set/all.yaml", CLIENT_SCOPE);
    let apply = org.gcctl(&["apply", "--auto-approve", "--prune", "set"]).await;
    assert_exit(&apply, 0);
    assert!(org.named(super::CLIENTS, "Stray Client").await.is_empty());
    let admin = gcctl::sandbox::ADMIN_CLIENT_NAME;
    assert_eq!(org.named(super::CLIENTS, admin).await.len(), 1);
    assert_eq!(org.named(QUEUES, "Client Scope Queue").await.len(), 1);
}

/// `gcctl destroy` deletes every declared object the org has, dependents
/// first, except those declared with `protect: true` and what they refer to
/// (the role the protected client holds); planning the same manifests
/// afterwards creates the others again.
#[tokio::test]
async fn destroy_removes_every_declared_object_but_the_protected_ones() {
    let org = ApplyOrg::default().await;
    let manifests = crate::common::repo_root().join("manifests");
    super::copy_tree(&manifests, &org.ctx.path().join("set"));
    let args = ["apply", "--auto-approve", "--secrets-dir", "s", "--parallelism", "1", "set"];
    let applied = org.gcctl(&args).await;
    assert_exit(&applied, 0);
    let base = org.org.sandbox.base_url();
    let shown = |output: &std::process::Output| {
        crate::common::render(output, &[(org.ctx.path(), "[TEMP]")]).replace(&base, "[SANDBOX]")
    };
    // What users see of apply and destroy, reviewed like the plan's output.
    crate::plan::settings().bind(|| insta::assert_snapshot!("apply_sample_text", shown(&applied)));

    let planned = org.gcctl(&["plan", "--destroy", "--detailed-exitcode", "set"]).await;
    assert_exit(&planned, 2);
    let out = stdout(&planned);
    assert!(out.starts_with("gcctl destroy plan for org"), "{out}");
    assert!(!out.contains("- OAuthClient/acme-bot-connector"), "protected: {out}");
    assert!(
        out.contains("not deleted: Role/acme-bot-handover, OAuthClient/acme-bot-connector"),
        "{out}"
    );
    let refused = org.gcctl(&["destroy", "set"]).await;
    assert_exit(&refused, 1);
    let err = stderr(&refused);
    assert!(err.contains("error: refusing to destroy without confirmation"), "{err}");
    assert!(err.contains("then run `gcctl destroy set --auto-approve`"), "{err}");

    // One at a time, so that the order of the lines is the snapshot's.
    let destroyed = org.gcctl(&["destroy", "--auto-approve", "--parallelism", "1", "set"]).await;
    assert_exit(&destroyed, 0);
    crate::plan::settings()
        .bind(|| insta::assert_snapshot!("destroy_sample_text", shown(&destroyed)));
    let err = stderr(&destroyed);
    assert!(err.contains("8 deleted"), "{err}");
    assert_eq!(org.named(QUEUES, "Acme Support").await.len(), 0);
    assert_eq!(
        org.named(ROLES, "Acme Bot Handover").await.len(),
        1,
        "the protected client holds it"
    );
    assert_eq!(org.named(CONTENT, "Acme Bot Content").await.len(), 0);
    assert_eq!(org.named(super::CLIENTS, "Acme Bot Connector").await.len(), 1, "protected");

    // Everything but the protected client is planned as a create again.
    let again = org.gcctl(&["plan", "--output", "json", "set"]).await;
    assert_exit(&again, 0);
    let plan: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    let creates = plan["changes"].as_array().unwrap().iter().filter(|c| c["action"] == "create");
    assert_eq!(creates.count(), 8, "{plan}");
    // And a second destroy has nothing left to do.
    let nothing = org.gcctl(&["destroy", "--auto-approve", "set"]).await;
    assert_exit(&nothing, 0);
    assert!(stderr(&nothing).contains("Nothing to destroy."), "{}", stderr(&nothing));
    assert!(
        stdout(&nothing).contains("Nothing to destroy: the org holds none of the declared objects that may be deleted (objects with protect: true and what they refer to, org defaults, built-ins and the OAuth client gcctl runs as are kept)."),
        "{}",
        stdout(&nothing)
    );
    // And says which declared objects it kept, and why.
    assert!(
        stdout(&nothing).contains("not deleted: Role/acme-bot-handover, OAuthClient/acme-bot-connector: `protect: true` on them or on their org name in another environment, or an object so protected refers to them"),
        "{}",
        stdout(&nothing)
    );
}

/// A declared messaging setting or supported content profile that an admin
/// made the org's default since is kept by a destroy, as a prune keeps the
/// default: the plan does not list it (it listed both, and only the org's
/// refusal stopped the delete).
#[tokio::test]
async fn destroy_keeps_declared_objects_that_became_the_org_defaults() {
    const SETTINGS: &str = "/api/v2/conversations/messaging/settings?pageSize=100";
    let org = ApplyOrg::default().await;
    org.ctx.write(
        "set/all.yaml",
        "apiVersion: gcctl/v1\nkind: MessagingSetting\nmetadata: {name: ms}\nspec: {name: Team Setting}\n---\napiVersion: gcctl/v1\nkind: SupportedContentProfile\nmetadata: {name: sc}\nspec:\n  name: Team Content\n  mediaTypes: {allow: {inbound: [{type: \"image/*\"}]}}\n",
    );
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    let setting = org.one(SETTINGS, "Team Setting").await;
    let content = org.one(CONTENT, "Team Content").await;
    let made = org
        .org
        .put(
            "/api/v2/conversations/messaging/settings/default",
            json!({"settingId": setting["id"]}),
        )
        .await;
    assert_eq!(made.status, 200, "{:?}", made.body);
    let made = org
        .org
        .put(
            "/api/v2/conversations/messaging/supportedcontent/default",
            json!({"id": content["id"]}),
        )
        .await;
    assert_eq!(made.status, 200, "{:?}", made.body);

    let planned = org.gcctl(&["plan", "--destroy", "--detailed-exitcode", "set"]).await;
    assert_exit(&planned, 0);
    // Kept, and said so: the plan named neither.
    assert!(
        stdout(&planned).contains("not deleted: MessagingSetting/ms, SupportedContentProfile/sc: the org default of its kind (make another the default in Genesys Cloud, then destroy again)"),
        "{}",
        stdout(&planned)
    );
    let destroyed = org.gcctl(&["destroy", "--auto-approve", "set"]).await;
    assert_exit(&destroyed, 0);
    assert!(stderr(&destroyed).contains("Nothing to destroy."), "{}", stderr(&destroyed));
    assert_eq!(org.named(SETTINGS, "Team Setting").await.len(), 1);
    assert_eq!(org.named(CONTENT, "Team Content").await.len(), 1);
}

/// A live object inside a prune scope whose name differs from a declared
/// (or protected) one only in letter case, spacing or look-alike characters
/// (Unicode compatibility forms, invisible format characters) is kept,
/// with a note: it is the declared object renamed in the UI, or one whose
/// create the org refuses as a duplicate. It was pruned, so an apply whose
/// create failed as a duplicate left the org with neither.
#[tokio::test]
async fn a_prune_keeps_objects_named_like_declared_ones_but_for_case_spaces_or_look_alikes() {
    let org = ApplyOrg::default().await;
    let set = "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  prune: [{kind: RoutingQueue, names: [\"*\"]}]\n---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: support}\nspec: {name: Acme Support}\n---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: vip}\nprotect: true\nspec: {name: Acme VIP}\n";
    org.ctx.write("set/all.yaml", set);
    create(&org, "/api/v2/routing/queues", json!({"name": "acme support"})).await;
    create(&org, "/api/v2/routing/queues", json!({"name": "ACME VIP "})).await;
    // Look-alikes: an inner double space with a zero-width one, full-width letters.
    create(&org, "/api/v2/routing/queues", json!({"name": "Acme \u{200B} VIP"})).await;
    create(&org, "/api/v2/routing/queues", json!({"name": "\u{FF21}cme VIP"})).await;
    create(&org, "/api/v2/routing/queues", json!({"name": "Acme Stray"})).await;
    let planned = org.gcctl(&["plan", "--prune", "set"]).await;
    let out = stdout(&planned);
    assert!(out.contains("RoutingQueue \"acme support\" is inside a prune scope and not declared, but its name differs from the declared \"Acme Support\" only in letter case, spacing or look-alike characters: it is kept"), "{out}");
    assert!(out.contains("RoutingQueue \"ACME VIP \" is inside a prune scope"), "{out}");
    assert!(out.contains("RoutingQueue \"Acme \\u{200b} VIP\" is inside a prune scope"), "{out}");
    assert!(out.contains("RoutingQueue \"\u{FF21}cme VIP\" is inside a prune scope"), "{out}");
    assert!(out.contains("- RoutingQueue \"Acme Stray\" will be deleted"), "{out}");
    assert!(!out.contains("\"acme support\" will be deleted"), "{out}");

    let applied = org.gcctl(&["apply", "--auto-approve", "--prune", "set"]).await;
    assert_exit(&applied, 1);
    assert_eq!(org.named(QUEUES, "acme support").await.len(), 1, "kept");
    assert_eq!(org.named(QUEUES, "ACME VIP ").await.len(), 1, "kept");
    assert_eq!(org.named(QUEUES, "Acme \u{200B} VIP").await.len(), 1, "kept");
    assert_eq!(org.named(QUEUES, "\u{FF21}cme VIP").await.len(), 1, "kept");
    // The create of `Acme Support` fails as a duplicate of `acme support`:
    // the prunes of its kind wait (`a_prune_waits_for_the_creates_of_its_kind`).
    assert_eq!(org.named(QUEUES, "Acme Stray").await.len(), 1, "{}", stderr(&applied));

    // Beside a declared object the org holds by its exact name, a variant
    // is another object, and pruned (cleaning such duplicates up is what a
    // prune is for): `acme support` renamed `Acme Support` in the UI, and
    // another team's `ACME SUPPORT`.
    let id = org.one(QUEUES, "acme support").await["id"].as_str().unwrap().to_string();
    let renamed =
        org.org.put(&format!("/api/v2/routing/queues/{id}"), json!({"name": "Acme Support"})).await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    create(&org, "/api/v2/routing/queues", json!({"name": "Acme Support "})).await;
    let planned = org.gcctl(&["plan", "--prune", "set"]).await;
    let out = stdout(&planned);
    assert!(out.contains("- RoutingQueue \"Acme Support \" will be deleted"), "{out}");
}

/// A declared name changed (a rename is a create of the new name and a
/// prune of the old): when the create fails, the prune of its kind waits,
/// and the old object stays, instead of the org keeping neither.
#[tokio::test]
async fn a_prune_waits_for_the_creates_of_its_kind() {
    let org = ApplyOrg::default().await;
    let set = |name: &str| {
        format!(
            "apiVersion: gcctl/v1\nkind: Project\nmetadata: {{name: p}}\nspec:\n  prune: [{{kind: RoutingQueue, names: [\"Acme *\"]}}]\n---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {{name: q}}\nspec: {{name: {name}}}\n---\napiVersion: gcctl/v1\nkind: RoutingSkill\nmetadata: {{name: s}}\nspec: {{name: Skill}}\n"
        )
    };
    org.ctx.write("set/all.yaml", &set("Acme Old"));
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    create(&org, "/api/v2/routing/queues", json!({"name": "Acme Other"})).await;
    org.ctx.write("set/all.yaml", &set("Acme New"));
    org.org.route_fault(json!({"route": "POST /api/v2/routing/queues", "status": 400})).await;
    let applied = org.gcctl(&["apply", "--auto-approve", "--prune", "set"]).await;
    assert_exit(&applied, 1);
    let err = stderr(&applied);
    assert!(err.contains("skipped RoutingQueue \"Acme Old\": not pruned: the create of RoutingQueue/q did not succeed"), "{err}");
    assert!(err.contains("2 skipped"), "{err}");
    assert_eq!(org.named(QUEUES, "Acme Old").await.len(), 1, "kept while the create failed");
    assert_eq!(org.named(QUEUES, "Acme Other").await.len(), 1, "kept too");

    // Once the create succeeds, the prune goes on.
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "--prune", "set"]).await, 0);
    assert_eq!(org.named(QUEUES, "Acme Old").await.len(), 0);
    assert_eq!(org.named(QUEUES, "Acme New").await.len(), 1);
}

/// A prune that fails is named as the plan names it, the kind and the
/// quoted org name, with a line break in the name escaped: the org's text
/// cannot start a line of its own in the error (it printed
/// `error: deleting RoutingQueue/Prune one` and then `two` on a line).
#[tokio::test]
async fn a_failed_prune_is_named_on_one_line() {
    let org = ApplyOrg::default().await;
    let set = "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  prune: [{kind: RoutingQueue, names: [\"Prune*\"]}]\n";
    org.ctx.write("set/all.yaml", set);
    create(&org, "/api/v2/routing/queues", json!({"name": "Prune one\ntwo"})).await;
    let route = "DELETE /api/v2/routing/queues/{queueId}";
    org.org.route_fault(json!({"route": route, "status": 400})).await;
    let applied = org.gcctl(&["apply", "--auto-approve", "--prune", "set"]).await;
    assert_exit(&applied, 1);
    let err = stderr(&applied);
    assert!(err.contains("error: deleting RoutingQueue \"Prune one\\ntwo\"\n"), "{err}");
    assert!(!err.lines().any(|l| l.starts_with("two")), "{err}");
}

/// An OAuth client is set inactive before its DELETE (as the Terraform
/// provider does); when the DELETE then fails, it is set as it was again,
/// and the error says so (it stayed inactive, refusing tokens, while every
/// later plan said the org matched). A client the org holds inactive
/// without a declared `state` is said in the plan.
#[tokio::test]
async fn a_client_whose_delete_fails_is_set_as_it_was_and_an_inactive_one_is_said() {
    let org = ApplyOrg::default().await;
    let set = "apiVersion: gcctl/v1\nkind: Role\nmetadata: {name: r}\nspec: {name: Injector, permissions: [conversation:message:view]}\n---\napiVersion: gcctl/v1\nkind: OAuthClient\nmetadata: {name: c}\nspec:\n  name: Injector Client\n  authorizedGrantType: CLIENT-CREDENTIALS\n  roleDivisions: [{role: r, division: Home}]\n";
    org.ctx.write("set/all.yaml", set);
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "s", "set"]).await, 0);
    let route = "DELETE /api/v2/oauth/clients/{clientId}";
    org.org.route_fault(json!({"route": route, "status": 403})).await;
    let args = ["destroy", "--auto-approve", "--select", "OAuthClient/c", "set"];
    let destroyed = org.gcctl(&args).await;
    assert_exit(&destroyed, 1);
    let err = stderr(&destroyed);
    assert!(
        err.contains(
            "error: deleting OAuthClient/c (it was set inactive first, and is set as it was again)"
        ),
        "{err}"
    );
    let client = org.one(super::CLIENTS, "Injector Client").await;
    assert_eq!(client["state"], "active", "{client}");
    let plan = org.gcctl(&["plan", "--detailed-exitcode", "set"]).await;
    assert_exit(&plan, 0);
    assert!(!stdout(&plan).contains("inactive"), "{}", stdout(&plan));

    // Left inactive (a run killed between the two requests, an admin):
    // no change, since `state` is not declared, but the plan says it.
    let path = format!("/api/v2/oauth/clients/{}", client["id"].as_str().unwrap());
    let mut body = org.org.get(&path).await.body;
    body["state"] = json!("inactive");
    assert_eq!(org.org.put(&path, body).await.status, 200);
    let plan = org.gcctl(&["plan", "--detailed-exitcode", "set"]).await;
    assert_exit(&plan, 0);
    assert!(
        stdout(&plan).contains("the org holds it inactive, so it gets no tokens"),
        "{}",
        stdout(&plan)
    );
}

/// A destroy deletes what refers to an object before the object: when the
/// delete of a referrer fails (an OAuth client), the object it refers to
/// (its role) is still in use, and its delete is skipped as upstream
/// failed, not sent to be refused; the next destroy finishes, removing
/// the grant of the role that apply gave the caller for the client first.
#[tokio::test]
async fn a_destroy_skips_the_delete_of_what_a_failed_delete_refers_to() {
    let org = ApplyOrg::default().await;
    let set = "apiVersion: gcctl/v1\nkind: Role\nmetadata: {name: r}\nspec: {name: Injector, permissions: [conversation:message:view]}\n---\napiVersion: gcctl/v1\nkind: OAuthClient\nmetadata: {name: c}\nspec:\n  name: Injector Client\n  authorizedGrantType: CLIENT-CREDENTIALS\n  roleDivisions: [{role: r, division: Home}]\n---\napiVersion: gcctl/v1\nkind: RoutingSkill\nmetadata: {name: s}\nspec: {name: Unrelated Skill}\n";
    org.ctx.write("set/all.yaml", set);
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "s", "set"]).await, 0);
    let route = "DELETE /api/v2/oauth/clients/{clientId}";
    org.org.route_fault(json!({"route": route, "status": 400})).await;
    org.reset_stats().await;
    let destroyed = org.gcctl(&["destroy", "--auto-approve", "set"]).await;
    assert_exit(&destroyed, 1);
    let err = stderr(&destroyed);
    assert!(err.contains("skipped Role/r \"Injector\": upstream failed: OAuthClient/c"), "{err}");
    let stats = org.org.stats().await;
    assert!(stats["byRoute"]["DELETE /api/v2/authorization/roles/{roleId}"].is_null(), "{stats}");
    // What does not depend on the client is deleted.
    assert!(err.contains("deleted RoutingSkill/s \"Unrelated Skill\""), "{err}");

    // The role is granted to the caller too (apply granted it, for the
    // client): that grant is removed before the role's DELETE, and given
    // back when the DELETE fails.
    // gcctl runs as the sandbox's admin user.
    let users = org.org.get("/api/v2/users?pageSize=100").await.body;
    let admin = users["entities"].as_array().and_then(|users| {
        users.iter().find(|u| u["name"] == "Sandbox Admin").and_then(|u| u["id"].as_str())
    });
    let grants = format!("/api/v2/authorization/subjects/{}", admin.expect("the admin user"));
    let grants = grants.as_str();
    let role = org.org.id_named(ROLES, "Injector").await;
    let holds = |subject: Value| {
        subject["grants"].as_array().is_some_and(|g| g.iter().any(|g| g["role"]["id"] == role))
    };
    let subject = org.org.get(grants).await.body;
    assert!(holds(subject.clone()), "{subject}");
    let route = "DELETE /api/v2/authorization/roles/{roleId}";
    org.org.route_fault(json!({"route": route, "status": 400})).await;
    let destroyed = org.gcctl(&["destroy", "--auto-approve", "set"]).await;
    assert_exit(&destroyed, 1);
    let err = stderr(&destroyed);
    assert!(
        err.contains(
            "deleting Role/r (the caller's grants of it were removed first, and were given back)"
        ),
        "{err}"
    );
    assert!(holds(org.org.get(grants).await.body));
    // A removal the org refuses leaves the grant, and the DELETE answers:
    // its 409 says what to do.
    let removal =
        "DELETE /api/v2/authorization/subjects/{subjectId}/divisions/{divisionId}/roles/{roleId}";
    org.org.route_fault(json!({"route": removal, "status": 403})).await;
    let destroyed = org.gcctl(&["destroy", "--auto-approve", "set"]).await;
    assert_exit(&destroyed, 1);
    let err = stderr(&destroyed);
    assert!(err.contains("409 Conflict"), "{err}");
    assert!(err.contains("hint: the org refuses to delete a role granted to users or OAuth clients: remove those grants in Genesys Cloud"), "{err}");
    assert!(holds(org.org.get(grants).await.body));
    assert_exit(&org.gcctl(&["destroy", "--auto-approve", "set"]).await, 0);
    assert!(org.named(super::CLIENTS, "Injector Client").await.is_empty());
    assert!(org.named(ROLES, "Injector").await.is_empty());
}

/// `destroy --select` takes what refers to the selected object, to free it;
/// when protection keeps the selected object (a protected queue uses the
/// wrap-up code), what came along only for it is not deleted either: it
/// would free nothing. The plan says why.
#[tokio::test]
async fn a_selected_object_that_is_kept_takes_nothing_with_it() {
    let org = ApplyOrg::default().await;
    org.ctx.write(
        "set/all.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingWrapupCode\nmetadata: {name: code}\nspec: {name: Acme Code}\n---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nprotect: true\nspec: {name: Acme Q, wrapupCodes: [code]}\n---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q2}\nspec: {name: Acme Q2, wrapupCodes: [code]}\n",
    );
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    let args = ["destroy", "--auto-approve", "--select", "RoutingWrapupCode/code", "set"];
    let destroy = org.gcctl(&args).await;
    assert_exit(&destroy, 0);
    let said = format!("{}{}", stdout(&destroy), stderr(&destroy));
    assert!(said.contains("Nothing to destroy"), "{said}");
    assert!(
        said.contains(
            "not deleted: RoutingQueue/q2: --select reached them only through objects that are kept"
        ),
        "{said}"
    );
    for name in ["Acme Q", "Acme Q2"] {
        assert_eq!(org.named(QUEUES, name).await.len(), 1, "{name} kept: {said}");
    }
    // Selected directly, it is deleted as before.
    let args = ["destroy", "--auto-approve", "--select", "RoutingQueue/q2", "set"];
    assert_exit(&org.gcctl(&args).await, 0);
    assert!(org.named(QUEUES, "Acme Q2").await.is_empty());
}

/// The org may change between the plan and a prune's DELETE: apply reads
/// each object it prunes first. One renamed since the plan (here out of the
/// prune scope) is not deleted, and the run fails saying so; one deleted by
/// someone else is done (its DELETE answers 404); the rest go.
#[tokio::test]
async fn a_prune_deletes_nothing_renamed_since_the_plan() {
    use gcctl::apply::{ApplySettings, EventKind};
    use gcctl::manifest::{self, LoadOptions};
    use gcctl::plan::{self, ReadScope};

    use super::props::{client_for, execute, settings, target};

    let org = ApplyOrg::default().await;
    let mut ids = std::collections::BTreeMap::new();
    for name in ["Acme Renamed", "Acme Gone", "Acme Stray"] {
        let made = org.org.post("/api/v2/routing/queues", json!({"name": name})).await;
        assert_eq!(made.status, 200, "{:?}", made.body);
        ids.insert(name, made.body["id"].as_str().unwrap().to_string());
    }
    org.ctx.write("set/all.yaml", SET);
    let set =
        manifest::load(&[org.ctx.path().join("set")], &LoadOptions::default()).expect("valid set");
    let client = client_for(&org.org.sandbox);
    let live = plan::read(&client, &set, &ReadScope::default()).await.expect("read");
    let plan = plan::build(&set, &live, target()).expect("plan");
    let pruned: Vec<&str> = plan.changes.iter().filter(|c| c.prune).map(|c| &*c.org_name).collect();
    assert_eq!(pruned, ["Acme Gone", "Acme Renamed", "Acme Stray"]);

    // After the plan: one queue renamed out of the scope in the UI, one deleted.
    let path = format!("/api/v2/routing/queues/{}", ids["Acme Renamed"]);
    let renamed = org.org.put(&path, json!({"name": "Kept Elsewhere"})).await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    let gone = org.org.delete(&format!("/api/v2/routing/queues/{}", ids["Acme Gone"])).await;
    assert_eq!(gone.status, 204);

    let settings = ApplySettings { prune: true, ..settings(&org.ctx.path().join("secrets")) };
    let (summary, events) = execute(&plan, &set, &live, &client, &settings, &|_| None).await;
    assert_eq!((summary.deleted, summary.failed), (2, 1), "{summary:?}: {events:#?}");
    let failed = events.iter().find(|e| e.event == EventKind::Failed).expect("a failure");
    assert_eq!(failed.org_name, "Acme Renamed");
    let message = failed.message.as_deref().unwrap();
    assert!(
        message.contains("not deleted: it is named \"Kept Elsewhere\" in the org now, renamed since the plan, which pruned it as \"Acme Renamed\"; run `gcctl plan` again"),
        "{message}"
    );
    assert_eq!(org.named(QUEUES, "Kept Elsewhere").await.len(), 1, "the renamed queue is kept");
    assert!(org.named(QUEUES, "Acme Stray").await.is_empty());
    // The renamed queue was read and never deleted; the gone one was read only.
    let stats = org.org.get("/_sandbox/stats").await.body;
    let calls = |method: &str| {
        stats["byRoute"][format!("{method} /api/v2/routing/queues/{{queueId}}")].clone()
    };
    // This test's DELETE of `Acme Gone`, then the run's (a 404: done) and `Acme Stray`'s.
    assert_eq!((calls("GET"), calls("DELETE")), (json!(3), json!(1 + 2)), "{stats:#}");
}

/// Pruning a wrap-up code changes queues no manifest declares: the org takes
/// it off every queue that offers it. The plan says so before `--prune`.
#[tokio::test]
async fn a_prune_says_a_wrapup_code_goes_off_undeclared_queues() {
    let org = ApplyOrg::default().await;
    let code =
        org.org.post("/api/v2/routing/wrapupcodes", json!({"name": "Acme Stray Code"})).await;
    assert_eq!(code.status, 200, "{:?}", code.body);
    let queue = org.org.post("/api/v2/routing/queues", json!({"name": "Other Queue"})).await;
    let offers =
        format!("/api/v2/routing/queues/{}/wrapupcodes", queue.body["id"].as_str().unwrap());
    let added = org.org.post(&offers, json!([{"id": code.body["id"]}])).await;
    assert!(added.status < 300, "{:?}", added.body);
    org.ctx.write(
        "set/all.yaml",
        "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: codes}\nspec:\n  prune:\n    - kind: RoutingWrapupCode\n      names: [\"Acme *\"]\n",
    );

    let plan = org.gcctl(&["plan", "set"]).await;
    assert_exit(&plan, 0);
    assert!(
        stdout(&plan).contains("Note: deleting RoutingWrapupCode \"Acme Stray Code\" takes it off every queue that offers it, queues no manifest declares included"),
        "{}",
        stdout(&plan)
    );
    assert_eq!(org.list(&offers).await.len(), 1);
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "--prune", "set"]).await, 0);
    assert!(org.named(WRAPUP_CODES, "Acme Stray Code").await.is_empty());
    assert_eq!(org.list(&offers).await, Vec::<serde_json::Value>::new(), "as the note said");
}
