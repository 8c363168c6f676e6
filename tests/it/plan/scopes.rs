//! Prune preview: undeclared live objects inside a Project prune scope are
//! planned as deletes marked as prunes; objects outside every scope, and
//! built-ins, never are.

use serde_json::json;

use super::{PlanOrg, actions, code, json_of, role_body, settings};

const MANIFESTS: &str = "\
apiVersion: gcctl/v1
kind: Project
metadata:
  name: bots
spec:
  prune:
    - kind: RoutingQueue
      names: [\"bot-*\"]
    - kind: Role
      names: [\"*\"]
---
apiVersion: gcctl/v1
kind: RoutingQueue
metadata:
  name: bot-a
spec:
  name: bot-a
---
apiVersion: gcctl/v1
kind: Role
metadata:
  name: bot-role
spec:
  name: Bot Role
  permissions: [routing:queue:view]
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undeclared_objects_in_a_prune_scope_are_planned_as_prunes() {
    let org = PlanOrg::default().await;
    for name in ["bot-a", "bot-b", "bot-c", "other-queue", "Bot-Upper"] {
        org.create("/api/v2/routing/queues", json!({"name": name})).await;
    }
    org.create(
        "/api/v2/authorization/roles",
        role_body("Bot Role", None, &[("routing", "queue", &["view"])]),
    )
    .await;
    org.create("/api/v2/authorization/roles", role_body("Stray Role", None, &[])).await;
    let path = org.manifest("bots.yaml", MANIFESTS);

    // Without --prune the prunes are listed, not planned: exit 0.
    let out = org.gcctl(&["plan", &path, "--detailed-exitcode"]).await;
    assert_eq!(code(&out), Some(0), "{}", org.render(&out));
    let text = org.render(&out);
    settings().bind(|| insta::assert_snapshot!("prunes_listed_without_prune", text));
    // The Markdown plan says as much as the text one.
    let markdown = org.gcctl(&["plan", &path, "--output", "markdown"]).await;
    let markdown = org.render(&markdown);
    assert!(
        markdown
            .contains("3 undeclared objects inside prune scopes would be deleted with `--prune`."),
        "{markdown}"
    );

    let out = org.gcctl(&["plan", &path, "--prune", "--detailed-exitcode"]).await;
    assert_eq!(code(&out), Some(2), "{}", org.render(&out));
    let text = org.render(&out);
    settings().bind(|| insta::assert_snapshot!(text));

    let plan = json_of(&org.gcctl(&["plan", &path, "--prune", "--output", "json"]).await);
    assert_eq!(plan["prune"], json!(true));
    assert_eq!(
        actions(&plan),
        [
            ("delete".to_string(), "Role/Stray Role".to_string()),
            ("delete".to_string(), "RoutingQueue/bot-b".to_string()),
            ("delete".to_string(), "RoutingQueue/bot-c".to_string()),
        ],
        "outside the scopes (other-queue, Bot-Upper) and built-in roles are never pruned"
    );
    for change in plan["changes"].as_array().unwrap() {
        let is_delete = change["action"] == "delete";
        assert_eq!(change["prune"], json!(is_delete), "{change}");
        if is_delete {
            assert!(change["manifest_name"].is_null() && change["id"].is_string(), "{change}");
        }
    }
}

/// A name holding `"` cannot close its quotes in a plan line and have the
/// rest read as gcctl's: the quote inside is written `\"`, in text and in
/// the `JUnit` report alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quote_in_an_orgs_name_cannot_end_its_quotes_in_a_plan_line() {
    let org = PlanOrg::default().await;
    let name = "bot-x\" unchanged; nothing happens to \"Prod";
    org.create("/api/v2/routing/queues", json!({"name": name})).await;
    let path = org.manifest("bots.yaml", MANIFESTS);
    let out = org.gcctl(&["plan", &path, "--prune"]).await;
    let text = org.render(&out);
    assert!(
        text.contains(
            r#"- RoutingQueue "bot-x\" unchanged; nothing happens to \"Prod" will be deleted"#
        ),
        "{text}"
    );
    let drift = org.gcctl(&["drift", "--include-unmanaged", "--output", "junit", &path]).await;
    let junit = org.render(&drift);
    assert!(
        junit.contains(r"RoutingQueue &quot;bot-x\&quot; unchanged; nothing happens to \&quot;Prod&quot; is not declared"),
        "{junit}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_prune_scope_nothing_is_ever_deleted() {
    let org = PlanOrg::default().await;
    org.create("/api/v2/routing/queues", json!({"name": "bot-b"})).await;
    let path = org.manifest(
        "queue.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata:\n  name: bot-a\nspec:\n  name: bot-a\n",
    );
    let plan = json_of(&org.gcctl(&["plan", &path, "--output", "json"]).await);
    assert_eq!(actions(&plan), [("create".to_string(), "RoutingQueue/bot-a".to_string())]);
}

/// `--select` plans exactly the selected objects and what they refer to,
/// says the plan is partial, leaves prunes out, and names a pattern that
/// matches nothing with a suggestion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_plans_the_selected_objects_and_their_dependencies() {
    let org = PlanOrg::default().await;
    let manifests = crate::common::repo_root().join("manifests").display().to_string();
    let args = ["plan", &manifests, "--select", "RoutingQueue/acme-*", "--output", "json"];
    let out = org.gcctl(&args).await;
    assert_eq!(code(&out), Some(0), "{}", org.render(&out));
    let mut planned: Vec<String> = actions(&json_of(&out)).into_iter().map(|(_, a)| a).collect();
    planned.sort();
    assert_eq!(
        planned,
        [
            "MessagingSetting/acme-bot-settings",
            "OpenMessagingIntegration/acme-bot",
            "RoutingQueue/acme-support",
            "RoutingWrapupCode/acme-escalated",
            "RoutingWrapupCode/acme-resolved",
            "SupportedContentProfile/acme-bot-content",
        ],
        "the queue, the integration it replies through, its wrap-up codes, and what those use; not the role or client"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Selected 6 of"), "{err}");
    assert!(err.contains("a partial plan, without prunes"), "{err}");

    let out = org.gcctl(&["plan", &manifests, "--select", "RoutingQueue/acme-suport"]).await;
    assert_eq!(code(&out), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--select RoutingQueue/acme-suport matches no declared object"), "{err}");
    assert!(err.contains("did you mean RoutingQueue/acme-support?"), "{err}");
    // A kind alone is a name: the hint says how to select the kind.
    let out = org.gcctl(&["plan", &manifests, "--select", "routingqueue"]).await;
    assert_eq!(code(&out), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("did you mean RoutingQueue/* (a pattern without `/` is a name, of any kind)?"),
        "{err}"
    );
}

/// The org listing a declared object's id a second time, under a name
/// inside a prune scope (an object renamed while it was read, or a broken
/// answer), is a problem at the declared object: never a delete, which
/// would land on the declared object itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_objects_id_listed_under_another_name_is_never_pruned() {
    use crate::apply::props::{client_for, target};
    use gcctl::kinds::Kind;
    use gcctl::manifest::{self, LoadOptions};
    use gcctl::plan::{self, ReadScope};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bots.yaml");
    fs_err::write(&path, MANIFESTS).unwrap();
    let set = manifest::load(&[path], &LoadOptions::default()).expect("valid set");
    let sandbox = gcctl::sandbox::start(gcctl::sandbox::SandboxConfig::default()).await.unwrap();
    let client = client_for(&sandbox);
    let queue =
        client.post("/api/v2/routing/queues", Some(&json!({"name": "bot-a"}))).await.unwrap();
    let mut live = plan::read(&client, &set, &ReadScope::default()).await.expect("read");
    assert!(plan::build(&set, &live, target()).is_ok(), "sound without the second listing");

    let queues = live.objects.get_mut(&Kind::RoutingQueue).expect("queues listed");
    queues.push(json!({"id": queue["id"], "name": "bot-old", "division": queue["division"]}));
    let problems = plan::build(&set, &live, target()).expect_err("refused").problems;
    let text = format!("{problems:?}");
    assert_eq!(problems.len(), 1, "{text}");
    assert_eq!(problems[0].object, "RoutingQueue/bot-a", "{text}");
    assert!(problems[0].message.contains(queue["id"].as_str().unwrap()), "{text}");
    assert!(problems[0].message.contains("\"bot-old\""), "{text}");
}

/// A queue's in-queue flow set in the UI to the inbound flow that shares a
/// name with an in-queue one shows as an object naming it, never as the
/// name alone, which would read as the in-queue flow of that name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_queue_flow_of_another_type_is_never_shown_as_its_name_alone() {
    let org = PlanOrg::default().await;
    let inbound = org.flow("Support", "INBOUNDSHORTMESSAGE").await;
    org.create(
        "/api/v2/routing/queues",
        json!({"name": "Flowing", "messageInQueueFlow": {"id": inbound}}),
    )
    .await;
    let path = org.manifest(
        "queue.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec: {name: Flowing, messageInQueueFlow: Default In-Queue Message Flow}\n",
    );
    let plan = json_of(&org.gcctl(&["plan", &path, "--output", "json"]).await);
    let field = &plan["changes"][0]["fields"][0];
    assert_eq!(field["pointer"], "/messageInQueueFlow", "{plan}");
    let before = &field["before"];
    assert!(before.is_object() && before["name"] == "Support", "{field}");
    let text = org.render(&org.gcctl(&["plan", &path]).await);
    assert!(!text.contains("/messageInQueueFlow: \"Support\""), "{text}");
}
