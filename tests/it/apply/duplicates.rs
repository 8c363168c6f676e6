//! After apply, no declared name has two live objects: a duplicate made
//! beside the run (another tool or run creating the same name while the plan
//! was computed) fails the run, naming every id and the one the run created,
//! and the next plan refuses to choose between them.

use std::time::Duration;

use gcctl::apply::{ApplySettings, EventKind};
use gcctl::manifest::{self, LoadOptions};
use gcctl::plan::{self, ReadScope};
use gcctl::sandbox::SandboxConfig;
use serde_json::json;

use super::props::{client_for, execute, settings, target};

#[tokio::test]
async fn a_duplicate_made_beside_the_run_fails_it_and_the_next_plan() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("client.yaml");
    fs_err::write(
        &manifest,
        "apiVersion: gcctl/v1\nkind: OAuthClient\nmetadata: {name: twin}\nspec:\n  name: Twin Client\n  authorizedGrantType: CODE\n  scope: [routing]\n  registeredRedirectUri: [\"https://app.example.com/callback\"]\n",
    )
    .unwrap();
    let set = manifest::load(&[manifest], &LoadOptions::default()).expect("valid set");
    let sandbox = gcctl::sandbox::start(SandboxConfig::default()).await.expect("sandbox");
    let client = client_for(&sandbox);
    let live = plan::read(&client, &set, &ReadScope::default()).await.expect("read");
    let plan = plan::build(&set, &live, target()).expect("plan");
    assert_eq!(plan.summary.create, 1);

    // Another run creates the same name after this plan read the org.
    let other = client
        .post(
            "/api/v2/oauth/clients",
            Some(&json!({"name": "Twin Client", "authorizedGrantType": "CODE",
                "scope": ["routing"], "registeredRedirectUri": ["https://app.example.com/callback"]})),
        )
        .await
        .expect("the other run's create");
    let other_id = other["id"].as_str().unwrap().to_string();

    let settings = ApplySettings {
        plan_command: Some("gcctl plan twins/".into()),
        ..settings(&dir.path().join("secrets"))
    };
    let (summary, events) = execute(&plan, &set, &live, &client, &settings, &|_| None).await;
    let created = events.iter().find(|e| e.event == EventKind::Created).expect("created");
    let ours = created.id.clone().expect("created id");
    // The change was made; the check after the run failed: counted apart,
    // so that the change is not counted twice.
    assert_eq!((summary.created, summary.failed, summary.checks_failed), (1, 0, 1), "{events:#?}");
    assert!(!summary.converged());
    let failed = events.iter().find(|e| e.event == EventKind::Failed).expect("a failure");
    let message = failed.message.as_deref().unwrap();
    assert!(
        message.contains("after this run 2 live OAuthClient objects are named `Twin Client`"),
        "{message}"
    );
    assert!(message.contains(&other_id) && message.contains(&format!("this run created {ours}")));
    assert_eq!(failed.id.as_deref(), Some(ours.as_str()));
    let hint = failed.error.as_ref().and_then(|e| e.hint.as_deref()).unwrap();
    assert!(
        hint.contains(
            "DELETE /api/v2/oauth/clients/ID; set a client inactive first (a PUT with `state: inactive`)"
        ),
        "{hint}"
    );
    // The command it names is the run's own (paths, --env, --sandbox, --select).
    assert!(hint.contains("until then `gcctl plan twins/` refuses"), "{hint}");

    // The next plan refuses to choose, and says how to fix it.
    let live = plan::read(&client, &set, &ReadScope::default()).await.expect("read");
    let problems = plan::build(&set, &live, target()).expect_err("duplicates").problems;
    let text = problems[0].to_string();
    assert!(text.contains("2 live OAuthClient objects are named `Twin Client`"), "{text}");
    assert!(text.contains(&other_id) && text.contains(&ours), "{text}");
}

/// A run killed after sending a create leaves a journal entry. The object it
/// made is not listed yet when the next run plans (a read-after-write
/// window): that run looks it up by name before creating, finds it, adopts
/// it (issuing a secret the dead run never recorded) and makes no duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_a_dead_run_left_unfinished_is_adopted_not_duplicated() {
    let config = SandboxConfig {
        consistency_delay: Duration::from_millis(1_500),
        ..SandboxConfig::default()
    };
    let org = super::ApplyOrg::start(config).await;
    org.ctx.write(
        "set/client.yaml",
        "apiVersion: gcctl/v1\nkind: OAuthClient\nmetadata: {name: ghost}\nspec:\n  name: Ghost Client\n  authorizedGrantType: CODE\n  scope: [routing]\n  registeredRedirectUri: [\"https://app.example.com/callback\"]\n",
    );
    // What the dead run did: the journal entry, then the create.
    let journal = org.journal().await;
    let kind = gcctl::kinds::Kind::parse("OAuthClient").unwrap();
    journal.begin(kind, "Ghost Client").unwrap();
    let made = org
        .org
        .post(
            "/api/v2/oauth/clients",
            json!({"name": "Ghost Client", "authorizedGrantType": "CODE", "scope": ["routing"],
                "registeredRedirectUri": ["https://app.example.com/callback"]}),
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);

    let output = org
        .gcctl(&[
            "apply",
            "--auto-approve",
            "--secrets-dir",
            "s",
            "--consistency-window",
            "5",
            "set",
        ])
        .await;
    super::assert_exit(&output, 0);
    let err = crate::common::stderr(&output);
    assert!(err.contains("found the object by name and adopted it"), "{err}");
    assert!(!journal.unfinished(kind, "Ghost Client"), "the entry is cleared");
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    let live = org.named(super::CLIENTS, "Ghost Client").await;
    assert_eq!(live.len(), 1, "{live:#?}");
    assert_eq!(live[0]["id"], made.body["id"]);
}

/// A create a dead run left unfinished was sent from another version of
/// the manifest: the run that adopts it writes the declared fields, so
/// that the org holds what this manifest says and plans clean after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adopted_object_gets_the_declared_fields() {
    let config = SandboxConfig {
        consistency_delay: Duration::from_millis(1_500),
        ..SandboxConfig::default()
    };
    let org = super::ApplyOrg::start(config).await;
    org.ctx.write(
        "set/q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec: {name: Ghost Queue, description: as declared now, skillEvaluationMethod: ALL, division: Operations}\n",
    );
    // What the dead run did, from the manifest as it was then.
    let journal = org.journal().await;
    let kind = gcctl::kinds::Kind::parse("RoutingQueue").unwrap();
    journal.begin(kind, "Ghost Queue").unwrap();
    let made = org
        .org
        .post(
            "/api/v2/routing/queues",
            json!({"name": "Ghost Queue", "description": "as declared then", "skillEvaluationMethod": "BEST"}),
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);

    let output = org.gcctl(&["apply", "--auto-approve", "--consistency-window", "5", "set"]).await;
    super::assert_exit(&output, 0);
    let err = crate::common::stderr(&output);
    assert!(
        err.contains("found the object by name and adopted it, then wrote the declared fields"),
        "{err}"
    );
    let id = made.body["id"].as_str().unwrap();
    let live = org.org.get(&format!("/api/v2/routing/queues/{id}")).await.body;
    assert_eq!(live["description"], "as declared now", "{live}");
    assert_eq!(live["skillEvaluationMethod"], "ALL", "{live}");
    // Made in Home; a division is moved, never written by the PUT.
    assert_eq!(live["division"]["name"], "Operations", "{live}");
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    assert_eq!(org.named(super::QUEUES, "Ghost Queue").await.len(), 1);
    let plan = org.gcctl(&["plan", "--detailed-exitcode", "set"]).await;
    super::assert_exit(&plan, 0);
}

/// After a lost create answer, gcctl looks the object up by name for the
/// consistency window before creating it again. On a terminal, a look that
/// lasts 2 s or more says what it waits for, why, and for how long more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_lookup_after_a_lost_answer_is_told_on_a_terminal() {
    let config =
        SandboxConfig { consistency_delay: Duration::from_secs(3), ..SandboxConfig::default() };
    let org = super::ApplyOrg::start(config).await;
    org.ctx.write(
        "set/q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: lag}\nspec: {name: Lagging Queue}\n",
    );
    org.org.route_fault(json!({"route": "POST /api/v2/routing/queues", "dropped": true})).await;
    let Some(mut command) = org.ctx.on_a_terminal("apply --auto-approve set") else {
        return; // No `script` here: nothing to check.
    };
    let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n");
    assert!(output.status.success(), "{text}");
    let told = "gcctl: RoutingQueue/lag: the create's outcome is unknown (its answer was lost); \
                looking for it by name in GET /api/v2/routing/queues before creating it again, \
                since the org's lists can lag a create (--consistency-window 15s); for up to ";
    assert_eq!(text.matches(told).count(), 1, "told once: {text}");
    assert!(text.contains("found the object by name and adopted it"), "{text}");
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    assert_eq!(org.named(super::QUEUES, "Lagging Queue").await.len(), 1);
}

/// A create is sent at most four times, each after the one before lost its
/// answer and the look-up by name found nothing; the fourth's lost answer is
/// looked up too, so a create that happened is adopted, not reported failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_create_attempts_lost_answer_is_looked_up_too() {
    let org = super::ApplyOrg::start(SandboxConfig::default()).await;
    org.ctx.write(
        "set/q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: last}\nspec: {name: Last Try}\n",
    );
    let route = "POST /api/v2/routing/queues";
    // Three creates answered 500 before doing anything, then one done and
    // its answer lost.
    org.org.route_fault(json!({"route": route, "status": 500, "times": 3})).await;
    org.org.route_fault(json!({"route": route, "dropped": true})).await;
    org.reset_stats().await;
    let out = org.gcctl(&["apply", "--auto-approve", "--consistency-window", "1", "set"]).await;
    let err = crate::common::stderr(&out);
    super::assert_exit(&out, 0);
    assert!(err.contains("found the object by name and adopted it"), "{err}");
    let stats = org.org.stats().await;
    assert_eq!(stats["byRoute"][route], 4, "{stats}");
    // Found after its own lost answer: nothing was made twice, nor said.
    assert!(!err.contains("the create was sent"), "{err}");

    // Made by the second create, after a server error that made nothing:
    // said, since a server that commits late would make a second one.
    org.ctx.write(
        "set/q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: last}\nspec: {name: Second Try}\n",
    );
    org.org.route_fault(json!({"route": route, "status": 500})).await;
    let out = org.gcctl(&["apply", "--auto-approve", "--consistency-window", "1", "set"]).await;
    let err = crate::common::stderr(&out);
    super::assert_exit(&out, 0);
    assert!(err.contains("the create was sent 2 times: the answers before the last were lost or server errors, and the org did not list the object within the consistency window (--consistency-window 1s)"), "{err}");
    assert_eq!(org.named(super::QUEUES, "Second Try").await.len(), 1);
    assert_eq!(org.named(super::QUEUES, "Last Try").await.len(), 1);
}

/// A create whose four answers are all lost, with the object nowhere in the
/// org, fails with what to do: apply again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_answers_are_all_lost_says_to_apply_again() {
    let org = super::ApplyOrg::start(SandboxConfig::default()).await;
    org.ctx.write(
        "set/q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: lost}\nspec: {name: Lost Queue}\n",
    );
    let route = "POST /api/v2/routing/queues";
    org.org.route_fault(json!({"route": route, "status": 500, "times": 4})).await;
    org.reset_stats().await;
    let args = ["apply", "--auto-approve", "--consistency-window", "1", "set"];
    let out = org.gcctl(&args).await;
    let err = crate::common::stderr(&out);
    super::assert_exit(&out, 1);
    assert!(err.contains("error: creating RoutingQueue/lost"), "{err}");
    assert!(err.contains("500 Internal Server Error") && err.contains("correlation id"), "{err}");
    let hint = err.lines().find_map(|l| l.trim().strip_prefix("hint: ")).expect(&err);
    assert!(hint.contains("sent 4 times") && hint.contains("run the apply again"), "{hint}");
    assert_eq!(org.org.stats().await["byRoute"][route], 4);
    // As the hint says: the next run makes it, once.
    super::assert_exit(&org.gcctl(&args).await, 0);
    assert_eq!(org.named(super::QUEUES, "Lost Queue").await.len(), 1);
}

/// A create that was answered, in a run that then failed (or died), is not
/// made again by a run that follows at once while the org's list does not
/// show the object yet: its journal entry stays until a list has shown it,
/// so the next run looks it up by name and adopts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_made_by_a_failed_run_and_not_listed_yet_is_not_made_again() {
    let config =
        SandboxConfig { consistency_delay: Duration::from_secs(2), ..SandboxConfig::default() };
    let org = super::ApplyOrg::start(config).await;
    org.ctx.write(
        "set/client.yaml",
        "apiVersion: gcctl/v1\nkind: OAuthClient\nmetadata: {name: app}\nspec:\n  name: App Client\n  authorizedGrantType: CLIENT-CREDENTIALS\n  roleDivisions: [{role: Master Admin, division: Home}]\n",
    );
    // The step after the create fails: the run ends at once, unsettled.
    let route = "PUT /api/v2/oauth/clients/{clientId}";
    org.org.route_fault(json!({"route": route, "status": 400})).await;
    let args =
        ["apply", "--auto-approve", "--secrets-dir", "s", "--consistency-window", "5", "set"];
    super::assert_exit(&org.gcctl(&args).await, 1);
    let next = org.gcctl(&args).await;
    super::assert_exit(&next, 0);
    let err = crate::common::stderr(&next);
    assert!(err.contains("found the object by name and adopted it"), "{err}");
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let live = org.named(super::CLIENTS, "App Client").await;
    assert_eq!(live.len(), 1, "made once: {live:#?}");
    let id = live[0]["id"].as_str().unwrap();
    assert!(super::has_working_secret(&org, &org.ctx.path().join("s"), id).await);
}

/// The duplicate check after the creates expects what the plan read plus
/// what the run created (1,100 + 3 queues: 3 pages of 500), so it asks for
/// all three pages at once: one round trip where the plan's own read, which
/// learns the page count from page 1, takes two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_after_the_creates_reads_its_pages_at_once() {
    let config = SandboxConfig {
        // Long enough that requests sent together are served together.
        latency_ms: 300,
        generate: gcctl::sandbox::Generate { queues: 1_100, ..Default::default() },
        ..SandboxConfig::default()
    };
    let org = super::ApplyOrg::start(config).await;
    let mut yaml = String::new();
    for i in 1..=3 {
        yaml.push_str(&format!(
            "---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {{name: new{i}}}\nspec: {{name: New {i}}}\n"
        ));
    }
    org.ctx.write("set/queues.yaml", &yaml);
    org.reset_stats().await;
    let out = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    super::assert_exit(&out, 0);
    let stats = org.org.stats().await;
    let lists = "GET /api/v2/routing/queues";
    // The plan's 3 pages, then the check's 3.
    assert_eq!(stats["byRoute"][lists], 6, "{stats}");
    assert_eq!(stats["peakInFlight"][lists], 3, "{stats}");
}

/// A create that cannot be recorded in the journal is not sent: the run
/// fails that change, naming the journal and what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_that_cannot_be_journaled_is_not_sent() {
    let org = super::ApplyOrg::default().await;
    org.ctx.write(
        "set/queue.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec: {name: Unjournaled}\n",
    );
    // The journal's place is taken by a directory: no record can be written.
    let me = org.get("/api/v2/organizations/me").await.body;
    let lock =
        gcctl::apply::lock::lock_path(&org.ctx.path().join(".locks"), me["id"].as_str().unwrap());
    std::fs::create_dir_all(lock.with_extension("journal")).unwrap();
    let out = org.gcctl(&["apply", "--auto-approve", "set"]).await;
    super::assert_exit(&out, 1);
    let err = crate::common::stderr(&out);
    assert!(err.contains("RoutingQueue/q: cannot record the create in the journal"), "{err}");
    assert!(err.contains("nothing was sent for this object"), "{err}");
    assert!(org.named(super::QUEUES, "Unjournaled").await.is_empty());
}

/// The duplicate check lists only the kinds whose creates started: a
/// client create skipped because its role's create failed made nothing, so
/// the clients are not listed again (when the org was unreachable, the
/// check's failure was reported on the skipped client too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_lists_only_kinds_whose_creates_started() {
    let org = super::ApplyOrg::default().await;
    org.ctx.write(
        "set/all.yaml",
        "apiVersion: gcctl/v1\nkind: Role\nmetadata: {name: r}\nspec: {name: Checked Role, permissions: [routing:queue:view]}\n---\napiVersion: gcctl/v1\nkind: OAuthClient\nmetadata: {name: app}\nspec:\n  name: Checked Client\n  authorizedGrantType: CLIENT-CREDENTIALS\n  roleDivisions: [{role: r, division: Home}]\n",
    );
    org.org.route_fault(json!({"route": "POST /api/v2/authorization/roles", "status": 400})).await;
    let reset = org.org.http.post(org.org.url("/_sandbox/reset")).send().await.unwrap();
    assert!(reset.status().is_success());
    let applied = org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "s", "set"]).await;
    super::assert_exit(&applied, 1);
    let err = crate::common::stderr(&applied);
    assert!(err.contains("skipped OAuthClient/app"), "{err}");
    let stats = org.org.stats().await;
    // The plan's read of each kind; the check lists the roles again, not the clients.
    assert_eq!(stats["byRoute"]["GET /api/v2/oauth/clients"], 1, "{stats}");
    assert_eq!(stats["byRoute"]["GET /api/v2/authorization/roles"], 2, "{stats}");
}

/// A create the org answers with a server error each time it is sent ends
/// with a hint that says so; it said each answer was lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_refused_with_server_errors_says_so() {
    let org = super::ApplyOrg::default().await;
    org.ctx.write("set/q.yaml", "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec: {name: Erring Queue}\n");
    let route = "POST /api/v2/routing/queues";
    org.org.route_fault(json!({"route": route, "status": 500, "times": 4})).await;
    let args = ["apply", "--auto-approve", "--consistency-window", "0", "set"];
    let applied = org.gcctl(&args).await;
    super::assert_exit(&applied, 1);
    let err = crate::common::stderr(&applied);
    assert!(err.contains("hint: the create was sent 4 times, each time the org answered with a server error, which does not say whether it made the object"), "{err}");
    assert_eq!(org.org.stats().await["byRoute"][route], 4);
}
