//! `RoutingQueue` membership end to end on a sandbox: members by email with
//! ring numbers, a member group, wrap-up codes; the `include` and `exact`
//! policies; group-derived members never touched; `members` left out
//! changing nothing; unknown and inactive emails as plan errors before any
//! change; drift; export and the round trip; asynchronous processing and
//! batches of 100.

use std::collections::BTreeSet;
use std::time::Duration;

use gcctl::sandbox::{Generate, SandboxConfig};
use serde_json::{Value, json};

use super::{connected, gcctl};
use crate::common::stdout;
use crate::export::LiveSandbox;

const QUEUES: &str = "/api/v2/routing/queues";
const CODES: &str = "/api/v2/routing/wrapupcodes";

fn queue(members: &str, policy: &str) -> String {
    format!(
        r"
apiVersion: gcctl/v1
kind: RoutingWrapupCode
metadata:
  name: resolved
spec:
  name: Resolved
---
apiVersion: gcctl/v1
kind: RoutingWrapupCode
metadata:
  name: escalated
spec:
  name: Escalated
---
apiVersion: gcctl/v1
kind: RoutingQueue
metadata:
  name: handover
spec:
  name: Handover
{policy}{members}  memberGroups:
    - name: Sandbox Agents
  wrapupCodes: [resolved, escalated]
"
    )
}

const MEMBERS: &str = "  members:\n    - email: Alice@sandbox.gcctl.example\n      ringNumber: 2\n    - email: bob@sandbox.gcctl.example\n";

/// The queue's members as (email, ringNumber, memberBy).
fn members_of(live: &LiveSandbox, queue: &str) -> BTreeSet<(String, i64, String)> {
    let body = live.block_on(live.org.get(&format!("{QUEUES}/{queue}/members?pageSize=100"))).body;
    body["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user"]["email"].as_str().unwrap().to_string(),
                m["ringNumber"].as_i64().unwrap(),
                m["memberBy"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn member(email: &str, ring: i64, by: &str) -> (String, i64, String) {
    (format!("{email}@sandbox.gcctl.example"), ring, by.to_string())
}

fn user_id(live: &LiveSandbox, email: &str) -> String {
    let body = json!({"query": [{"type": "EXACT", "fields": ["email"], "value": email}]});
    let found = live.block_on(live.org.post("/api/v2/users/search", body)).body;
    found["results"][0]["id"].as_str().unwrap_or_else(|| panic!("{email}: {found}")).to_string()
}

#[test]
fn members_groups_and_wrapup_codes_apply_with_both_policies() {
    let generate = Generate { users: 2, ..Generate::default() };
    let live = LiveSandbox::start(SandboxConfig { generate, ..SandboxConfig::default() });
    let ctx = connected(&live);
    ctx.write("set/queue.yaml", &queue(MEMBERS, ""));

    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("created RoutingQueue/handover \"Handover\""), "{text}");
    assert!(text.contains("added 2 members, set 1 ring number; added 2 wrap-up codes"), "{text}");
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 0, "a second plan is clean:\n{text}");

    let id = live.block_on(live.org.id_named(QUEUES, "Handover"));
    let expected: BTreeSet<_> = [
        member("alice", 2, "user"),
        member("bob", 1, "user"),
        member("carol", 1, "group"),
        member("dave", 1, "group"),
    ]
    .into();
    assert_eq!(members_of(&live, &id), expected);
    let codes = live.block_on(live.org.get(&format!("{QUEUES}/{id}/wrapupcodes"))).body;
    let names: BTreeSet<&str> =
        codes["entities"].as_array().unwrap().iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["Escalated", "Resolved"].into());
    let read = live.block_on(live.org.get(&format!("{QUEUES}/{id}"))).body;
    assert_eq!(read["memberGroups"][0]["name"], "Sandbox Agents", "{read}");
    assert_eq!(read["memberCount"], 4, "{read}");

    // Someone adds an agent in the UI: `include` never removes anyone.
    let extra = user_id(&live, "agent-00001@sandbox.gcctl.example");
    let path = format!("{QUEUES}/{id}/members");
    let answer = live.block_on(live.org.post(&path, json!([{"id": extra}])));
    assert_eq!(answer.status, 204, "{}", answer.body);
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 0, "include ignores undeclared members:\n{text}");

    // `exact` removes the undeclared direct member, and only it: the
    // members through the group stay.
    ctx.write("set/queue.yaml", &queue(MEMBERS, "  membership: exact\n"));
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("~ RoutingQueue/handover \"Handover\" will be updated in place"),
        "{text}"
    );
    assert!(
        text.contains("    ~ /members:\n        - {\"email\":\"agent-00001@sandbox.gcctl.example\",\"ringNumber\":1}\n          (2 unchanged)\n"),
        "{text}"
    );
    assert!(!text.contains("carol"), "group members are not direct members: {text}");
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("): removed 1 member\n"), "{text}");
    let by_route = live.requests_by_route();
    assert_eq!(by_route.get("PUT /api/v2/routing/queues/{queueId}"), None, "{by_route:?}");
    assert_eq!(by_route.get("POST /api/v2/routing/queues/{queueId}/members"), Some(&1));
    assert_eq!(members_of(&live, &id), expected);
    assert_eq!(gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]).0, 0);

    // A member through the group declared as a member counts as present:
    // never added directly (the API would refuse it).
    let with_carol = format!("{MEMBERS}    - email: carol@sandbox.gcctl.example\n");
    ctx.write("set/queue.yaml", &queue(&with_carol, "  membership: exact\n"));
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 0, "carol is a member through the group:\n{text}");
    assert!(!text.contains("ring numbers not set"), "{text}");
    // Her declared ring number is not set, and the clean plan says so.
    let carol_ring =
        format!("{MEMBERS}    - email: carol@sandbox.gcctl.example\n      ringNumber: 3\n");
    ctx.write("set/queue.yaml", &queue(&carol_ring, "  membership: exact\n"));
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("declared ring numbers not set: the agent carol@sandbox.gcctl.example (ringNumber 3) is a member of the queue only through a member group"),
        "{text}"
    );
    // So does the apply that makes a new queue with her through its group.
    let grouped = "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: grouped}\nspec:\n  name: Grouped\n  members:\n    - email: carol@sandbox.gcctl.example\n      ringNumber: 3\n  memberGroups:\n    - name: Sandbox Agents\n";
    ctx.write("set/grouped.yaml", grouped);
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("left 1 declared ring number unset: carol@sandbox.gcctl.example is a member of the queue only through a member group"),
        "{text}"
    );
    let grouped_id = live.block_on(live.org.id_named(QUEUES, "Grouped"));
    assert!(members_of(&live, &grouped_id).contains(&member("carol", 1, "group")));
    fs_err::remove_file(ctx.path().join("set/grouped.yaml")).unwrap();

    // Leaving `members` out changes nothing, even where the queue has other members.
    let answer = live.block_on(live.org.post(&path, json!([{"id": extra}])));
    assert_eq!(answer.status, 204, "{}", answer.body);
    ctx.write("set/queue.yaml", &queue("", ""));
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("0 to create, 0 to update") || text.contains("No changes"), "{text}");
    let by_route = live.requests_by_route();
    assert!(
        !by_route.keys().any(|route| route.contains("/members")),
        "members are neither read nor written: {by_route:?}"
    );
    assert_eq!(members_of(&live, &id).len(), 5);
}

#[test]
fn unknown_and_inactive_emails_are_plan_errors_before_any_change() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    let members = "  members:\n    - email: alice@sandbox.gcctl.example\n    - email: nobody@sandbox.gcctl.example\n    - email: erin@sandbox.gcctl.example\n";
    ctx.write("set/queue.yaml", &queue(members, "  membership: exact\n"));
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("RoutingQueue/handover"), "{text}");
    assert!(
        text.contains("no user in the org has the email `nobody@sandbox.gcctl.example`"),
        "{text}"
    );
    assert!(text.contains("the user `erin@sandbox.gcctl.example` is inactive"), "{text}");
    assert!(text.contains("queue.yaml:"), "the error points at the manifest: {text}");
    let by_route = live.requests_by_route();
    let writes: Vec<&String> = by_route
        .keys()
        .filter(|r| !r.starts_with("GET") && !r.contains("/search") && !r.contains("oauth/token"))
        .collect();
    assert!(writes.is_empty(), "nothing was changed: {by_route:?}");
    // One search for every email of the run.
    assert_eq!(by_route.get("POST /api/v2/users/search"), Some(&1), "{by_route:?}");
}

#[test]
fn drift_export_and_round_trip() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    ctx.write("set/queue.yaml", &queue(MEMBERS, "  membership: exact\n"));
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");

    // A member removed and a wrap-up code added behind gcctl's back.
    let id = live.block_on(live.org.id_named(QUEUES, "Handover"));
    let bob = user_id(&live, "bob@sandbox.gcctl.example");
    let answer = live.block_on(live.org.delete(&format!("{QUEUES}/{id}/members/{bob}")));
    assert_eq!(answer.status, 204, "{}", answer.body);
    let code_body = json!({"name": "Callback Requested"});
    let extra = live.block_on(live.org.post(CODES, code_body)).body;
    let answer = live.block_on(
        live.org.post(&format!("{QUEUES}/{id}/wrapupcodes"), json!([{"id": extra["id"]}])),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let (code, text) = gcctl(&ctx, &["drift", "set"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("~ RoutingQueue/handover \"Handover\" has drifted"), "{text}");
    // Item by item: the member to add back, the code to take off.
    assert!(
        text.contains("~ /members: live (-) against declared (+):\n        + {\"email\":\"bob@sandbox.gcctl.example\"}\n          (1 unchanged)\n"),
        "{text}"
    );
    assert!(
        text.contains("~ /wrapupCodes: live (-) against declared (+):\n        - \"Callback Requested\"\n          (2 unchanged)\n"),
        "{text}"
    );
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("added 1 member; removed 1 wrap-up code"), "{text}");
    assert_eq!(gcctl(&ctx, &["drift", "set"]).0, 0);

    // Export writes members by email, the group and the codes by name.
    let (code, text) = gcctl(&ctx, &["export", "--queue-members", "--out", "exported"]);
    assert_eq!(code, 0, "{text}");
    let queues = fs_err::read_to_string(ctx.path().join("exported/queues.yaml")).unwrap();
    let handover = queues.split("---\n").find(|d| d.contains("name: Handover")).unwrap();
    assert!(
        handover.contains("- email: alice@sandbox.gcctl.example\n      ringNumber: 2\n"),
        "{handover}"
    );
    assert!(handover.contains("- email: bob@sandbox.gcctl.example\n"), "{handover}");
    assert!(!handover.contains("carol"), "members through groups are not direct: {handover}");
    assert!(handover.contains("membership: include"), "{handover}");
    assert!(handover.contains("- name: Sandbox Agents"), "{handover}");
    assert!(handover.contains("- escalated\n") && handover.contains("- resolved\n"), "{handover}");
    // With --name-glob, the reads of the queues it chooses only (they were
    // made for every queue of the org).
    let other = live.block_on(live.org.post(QUEUES, json!({"name": "Other Queue"})));
    assert_eq!(other.status, 200, "{}", other.body);
    assert_eq!(live_queue_count(&live), 2);
    live.reset_stats();
    let args = ["export", "--queue-members", "--name-glob", "Hand*", "--out", "glob"];
    let (code, text) = gcctl(&ctx, &args);
    assert_eq!(code, 0, "{text}");
    let by_route = live.requests_by_route();
    // Member pages until an empty one: two for the one queue.
    for (route, requests) in [("members", 2), ("wrapupcodes", 1)] {
        let route = format!("GET /api/v2/routing/queues/{{queueId}}/{route}");
        assert_eq!(by_route.get(route.as_str()), Some(&requests), "{by_route:?}");
    }
    let glob = fs_err::read_to_string(ctx.path().join("glob/queues.yaml")).unwrap();
    // The codes are not exported with it: named by their org names.
    assert_eq!(
        glob,
        handover.replace("- escalated\n", "- Escalated\n").replace("- resolved\n", "- Resolved\n")
    );
    // Without --queue-members, no per-queue reads and no members.
    let (code, text) = gcctl(&ctx, &["export", "--out", "plain"]);
    assert_eq!(code, 0, "{text}");
    let plain = fs_err::read_to_string(ctx.path().join("plain/queues.yaml")).unwrap();
    assert!(!plain.contains("members:\n") && !plain.contains("wrapupCodes"), "{plain}");

    // Round trip into a fresh org (which has the same seeded agents).
    let target = LiveSandbox::new();
    let fresh = connected(&target);
    let dir = ctx.path().join("exported");
    let dir = dir.to_str().unwrap();
    let (code, text) = gcctl(&fresh, &["apply", "--auto-approve", "--secrets-dir", "s", dir]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = gcctl(&fresh, &["plan", "--detailed-exitcode", dir]);
    assert_eq!(code, 0, "the round trip plans clean:\n{text}");
}

#[test]
fn asynchronous_processing_is_waited_for_and_batches_hold_100() {
    let config = SandboxConfig {
        membership_delay: Duration::from_millis(400),
        generate: Generate { users: 250, ..Generate::default() },
        ..SandboxConfig::default()
    };
    let live = LiveSandbox::start(config);
    let ctx = connected(&live);
    let mut members = String::from("  members:\n");
    for n in 1..=250 {
        members.push_str(&format!("    - email: agent-{n:05}@sandbox.gcctl.example\n"));
    }
    ctx.write("set/queue.yaml", &queue(&members, "  membership: exact\n"));
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    let by_route = live.requests_by_route();
    assert_eq!(
        by_route.get("POST /api/v2/users/search"),
        Some(&5),
        "250 emails, 50 a search: {by_route:?}"
    );
    assert_eq!(
        by_route.get("POST /api/v2/routing/queues/{queueId}/members"),
        Some(&3),
        "{by_route:?}"
    );
    let reads = by_route["GET /api/v2/routing/queues/{queueId}/members"];
    assert!(reads > 4, "the listing was polled until the adds showed: {by_route:?}");
    // Right after apply, the plan is clean: apply waited for the processing.
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 0, "{text}");

    // Removing 150 at once: two delete batches.
    let mut fewer = String::from("  members:\n");
    for n in 1..=100 {
        fewer.push_str(&format!("    - email: agent-{n:05}@sandbox.gcctl.example\n"));
    }
    ctx.write("set/queue.yaml", &queue(&fewer, "  membership: exact\n"));
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("): removed 150 members\n"), "{text}");
    let by_route = live.requests_by_route();
    assert_eq!(
        by_route.get("POST /api/v2/routing/queues/{queueId}/members"),
        Some(&2),
        "{by_route:?}"
    );
    assert_eq!(gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]).0, 0);
    let id = live.block_on(live.org.id_named(QUEUES, "Handover"));
    let all = live.block_on(live.org.get(&format!("{QUEUES}/{id}"))).body;
    assert_eq!(all["userMemberCount"], Value::from(100), "{all}");
}

/// Member changes the org does not process within the wait say what is
/// left undone: the members not showing, and the steps after them.
#[test]
fn member_changes_not_processed_in_time_say_what_is_left() {
    let config =
        SandboxConfig { membership_delay: Duration::from_secs(600), ..SandboxConfig::default() };
    let live = LiveSandbox::start(config);
    let ctx = connected(&live);
    let members = "  members:\n    - email: alice@sandbox.gcctl.example\n      ringNumber: 2\n    - email: bob@sandbox.gcctl.example\n";
    ctx.write("set/queue.yaml", &queue(members, ""));
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "--wait-timeout", "1", "set"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("the member changes were not processed within 1 s (the API processes them asynchronously): 2 of 2 members added do not show yet; the ring numbers and wrap-up codes declared after them were not written; run apply again to finish"), "{text}");
}

#[test]
fn a_user_just_created_is_found_once_the_search_index_caught_up() {
    let config =
        SandboxConfig { search_delay: Duration::from_millis(1500), ..SandboxConfig::default() };
    let live = LiveSandbox::start(config);
    let ctx = connected(&live);
    let url = live.org.url("/_sandbox/users");
    let body = json!({"name": "New Hire", "email": "new.hire@sandbox.gcctl.example"});
    let created = live.block_on(async {
        live.org.http.post(url).json(&body).send().await.unwrap().json::<Value>().await.unwrap()
    });
    assert_eq!(created["state"], "active", "{created}");
    // Found by id at once...
    let answer =
        live.block_on(live.org.get(&format!("/api/v2/users/{}", created["id"].as_str().unwrap())));
    assert_eq!(answer.status, 200);
    // ...but not by the search yet: a plan error whose hint says why.
    let members = "  members:\n    - email: New.Hire@sandbox.gcctl.example\n";
    ctx.write("set/queue.yaml", &queue(members, ""));
    let (code, text) = gcctl(&ctx, &["plan", "set"]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("no user in the org has the email `New.Hire@sandbox.gcctl.example`"),
        "{text}"
    );
    assert!(text.contains("the users search index lags behind"), "{text}");
    std::thread::sleep(Duration::from_millis(1600));
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    let id = live.block_on(live.org.id_named(QUEUES, "Handover"));
    let found = members_of(&live, &id);
    assert!(found.contains(&member("new.hire", 1, "user")), "{found:?}");
}

#[test]
fn a_saved_plan_goes_stale_when_a_member_changes() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    ctx.write("set/queue.yaml", &queue(MEMBERS, "  membership: exact\n"));
    assert_eq!(gcctl(&ctx, &["apply", "--auto-approve", "set"]).0, 0);
    // A planned change, saved.
    let edited = queue(MEMBERS, "  membership: exact\n").replace("ringNumber: 2", "ringNumber: 3");
    ctx.write("set/queue.yaml", &edited);
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "--out", "plan.json", "set"]);
    assert_eq!(code, 2, "{text}");
    // Someone removes a member before it is applied.
    let id = live.block_on(live.org.id_named(QUEUES, "Handover"));
    let bob = user_id(&live, "bob@sandbox.gcctl.example");
    let answer = live.block_on(live.org.delete(&format!("{QUEUES}/{id}/members/{bob}")));
    assert_eq!(answer.status, 204, "{}", answer.body);
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "--plan", "plan.json"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("plan is stale") && text.contains("RoutingQueue/handover"), "{text}");
}

/// A declared queue that leaves `members` out while the org shows direct
/// members on it gets one note in the plan, in every format, naming it;
/// queues that declare members or have none are not named, and nothing
/// changes.
#[test]
fn the_plan_notes_once_where_membership_is_not_managed() {
    let generate = Generate { users: 2, ..Generate::default() };
    let live = LiveSandbox::start(SandboxConfig { generate, ..SandboxConfig::default() });
    let ctx = connected(&live);
    let queue = |handle: &str, name: &str, members: &str| {
        format!(
            "---\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {{name: {handle}}}\nspec:\n  name: {name}\n{members}"
        )
    };
    let set = [
        queue("noted", "Noted", ""),
        queue("quiet", "Quiet", ""),
        queue("managed", "Managed", "  members:\n    - email: bob@sandbox.gcctl.example\n"),
    ]
    .concat();
    ctx.write("set/queues.yaml", &set);
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("Note:"), "no queue has undeclared members yet: {text}");
    let noted = live.block_on(live.org.id_named(QUEUES, "Noted"));
    let alice = user_id(&live, "alice@sandbox.gcctl.example");
    let answer =
        live.block_on(live.org.post(&format!("{QUEUES}/{noted}/members"), json!([{"id": alice}])));
    assert_eq!(answer.status, 204, "{}", answer.body);

    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 0, "a note is not a change:\n{text}");
    assert_eq!(text.matches("Note:").count(), 1, "{text}");
    assert!(
        text.contains("Note: queue membership is not managed for 1 queue with direct members in the org whose manifest leaves `members` out: Noted (1 agent); gcctl neither adds nor removes their agents"),
        "{text}"
    );
    assert!(!text.contains("Quiet (") && !text.contains("Managed ("), "{text}");

    let output = ctx.run(&["plan", "--output", "json", "set"]);
    let plan: Value = serde_json::from_str(&stdout(&output)).expect("a JSON plan");
    assert_eq!(plan["notes"].as_array().map(Vec::len), Some(1), "{plan}");
    assert_eq!(plan["notes"][0]["objects"], json!(["RoutingQueue/noted"]), "{plan}");
    let output = ctx.run(&["plan", "--output", "markdown", "set"]);
    let markdown = stdout(&output);
    assert_eq!(
        markdown.matches("> **Note:** queue membership is not managed").count(),
        1,
        "{markdown}"
    );

    // Apply changes nothing: the agent stays.
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    let members = members_of(&live, &noted);
    assert_eq!(members, [member("alice", 1, "user")].into());
}

/// Member groups of every type: a group, a team and a skill group, by name.
/// Their users are members through them; the names are looked up only for
/// the types declared; a name the org does not have is a plan error.
#[test]
fn teams_and_skill_groups_are_member_groups_too() {
    let live = LiveSandbox::start(SandboxConfig::default());
    let ctx = connected(&live);
    let queue = |groups: &str| {
        format!(
            "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {{name: mixed}}\nspec:\n  name: Mixed\n  memberGroups:\n{groups}"
        )
    };
    let all = "    - name: Sandbox Agents\n    - {name: Sandbox Team, type: TEAM}\n    - {name: Sandbox Skill Group, type: SKILLGROUP}\n";
    ctx.write("set/queue.yaml", &queue(all));
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    let by_route = live.requests_by_route();
    assert_eq!(by_route.get("GET /api/v2/teams"), Some(&1), "{by_route:?}");
    assert_eq!(by_route.get("GET /api/v2/routing/skillgroups"), Some(&1), "{by_route:?}");
    let id = live.block_on(live.org.id_named(QUEUES, "Mixed"));
    let read = live.block_on(live.org.get(&format!("{QUEUES}/{id}"))).body;
    let types: BTreeSet<(&str, &str)> = read["memberGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["name"].as_str().unwrap(), g["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        types,
        [
            ("Sandbox Agents", "GROUP"),
            ("Sandbox Skill Group", "SKILLGROUP"),
            ("Sandbox Team", "TEAM")
        ]
        .into()
    );
    let expected: BTreeSet<_> = [
        member("alice", 1, "group"),
        member("bob", 1, "group"),
        member("carol", 1, "group"),
        member("dave", 1, "group"),
    ]
    .into();
    assert_eq!(members_of(&live, &id), expected);
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 0, "a second plan is clean:\n{text}");

    // Export writes them by name and type; the round trip plans clean.
    let (code, text) = gcctl(&ctx, &["export", "--kinds", "RoutingQueue", "--out", "exported"]);
    assert_eq!(code, 0, "{text}");
    let exported = fs_err::read_to_string(ctx.path().join("exported/queues.yaml")).unwrap();
    assert!(exported.contains("type: TEAM") && exported.contains("type: SKILLGROUP"), "{exported}");
    let fresh_org = LiveSandbox::new();
    let fresh = connected(&fresh_org);
    let dir = ctx.path().join("exported");
    let dir = dir.to_str().unwrap();
    let (code, text) = gcctl(&fresh, &["apply", "--auto-approve", dir]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = gcctl(&fresh, &["plan", "--detailed-exitcode", dir]);
    assert_eq!(code, 0, "the round trip plans clean:\n{text}");

    // A team the org does not have, and no group lookups for absent types.
    ctx.write("set/queue.yaml", &queue("    - {name: No Such Team, type: TEAM}\n"));
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["plan", "set"]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(
            "team `No Such Team` is neither declared in the manifests nor present in the org"
        ),
        "{text}"
    );
    assert!(text.contains("set/queue.yaml:"), "{text}");
    let by_route = live.requests_by_route();
    assert_eq!(by_route.get("GET /api/v2/groups"), None, "{by_route:?}");
    assert_eq!(by_route.get("GET /api/v2/routing/skillgroups"), None, "{by_route:?}");
}

const FRESH: &str = r"
apiVersion: gcctl/v1
kind: RoutingWrapupCode
metadata: {name: resolved}
spec: {name: Resolved}
---
apiVersion: gcctl/v1
kind: RoutingWrapupCode
metadata: {name: escalated}
spec: {name: Escalated}
---
apiVersion: gcctl/v1
kind: RoutingQueue
metadata: {name: fresh}
spec:
  name: Fresh
  members:
    - {email: alice@sandbox.gcctl.example, ringNumber: 2}
    - email: bob@sandbox.gcctl.example
  wrapupCodes: [resolved, escalated]
";

const MEMBER_READS: &str = "GET /api/v2/routing/queues/{queueId}/members";
const CODE_READS: &str = "GET /api/v2/routing/queues/{queueId}/wrapupcodes";

/// A queue the run creates holds no members and no codes: they are added
/// without reading them first, and the one read that waits for the adds
/// stops at the page that shows them. A plan of an `include` membership
/// reads the page that shows the declared members and no further.
#[test]
fn a_new_queue_gets_its_members_and_codes_without_reads_before_the_adds() {
    let generate = Generate { users: 2, ..Generate::default() };
    let live = LiveSandbox::start(SandboxConfig { generate, ..SandboxConfig::default() });
    let ctx = connected(&live);
    ctx.write("set/queue.yaml", FRESH);
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("added 2 members, set 1 ring number; added 2 wrap-up codes"), "{text}");
    let by_route = live.requests_by_route();
    assert_eq!(by_route.get(MEMBER_READS), Some(&1), "one read shows both adds: {by_route:?}");
    assert_eq!(by_route.get(CODE_READS), None, "{by_route:?}");
    let id = live.block_on(live.org.id_named(QUEUES, "Fresh"));
    let expected: BTreeSet<_> = [member("alice", 2, "user"), member("bob", 1, "user")].into();
    assert_eq!(members_of(&live, &id), expected);

    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 0, "{text}");
    let by_route = live.requests_by_route();
    assert_eq!(by_route.get(MEMBER_READS), Some(&1), "one page shows both: {by_route:?}");
    assert_eq!(by_route.get(CODE_READS), Some(&1), "{by_route:?}");

    // `exact` must know every direct member: the listing is read to its end.
    ctx.write(
        "set/queue.yaml",
        &FRESH.replace("  members:\n", "  membership: exact\n  members:\n"),
    );
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(live.requests_by_route().get(MEMBER_READS), Some(&2), "to the empty page");
}

/// A queue the run has just created answers 404 until the org's reads catch
/// up: its member and code adds are retried until they find it (once they
/// have, the read that waits for the adds to show finds it too).
#[test]
fn a_new_queue_that_trails_in_reads_gets_its_members_and_codes() {
    let generate = Generate { users: 2, ..Generate::default() };
    let consistency_delay = Duration::from_millis(600);
    let live = LiveSandbox::start(SandboxConfig {
        generate,
        consistency_delay,
        ..SandboxConfig::default()
    });
    let ctx = connected(&live);
    ctx.write("set/queue.yaml", FRESH);
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("added 2 members, set 1 ring number; added 2 wrap-up codes"), "{text}");
    std::thread::sleep(consistency_delay);
    let id = live.block_on(live.org.id_named(QUEUES, "Fresh"));
    let expected: BTreeSet<_> = [member("alice", 2, "user"), member("bob", 1, "user")].into();
    assert_eq!(members_of(&live, &id), expected);
}

/// A queue found by name after its create's answer was lost may already
/// hold members and codes (an earlier attempt's): they are read before
/// anything is added, and the run converges.
#[test]
fn an_adopted_queue_is_read_before_its_members_and_codes_are_added() {
    let generate = Generate { users: 2, ..Generate::default() };
    let live = LiveSandbox::start(SandboxConfig { generate, ..SandboxConfig::default() });
    let ctx = connected(&live);
    ctx.write("set/queue.yaml", FRESH);
    let lost = json!({"route": "POST /api/v2/routing/queues", "dropped": true});
    live.block_on(live.org.route_fault(lost));
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("found the object by name and adopted it"), "{text}");
    let by_route = live.requests_by_route();
    assert_eq!(by_route.get("POST /api/v2/routing/queues"), Some(&1), "{by_route:?}");
    assert_eq!(by_route.get(CODE_READS), Some(&1), "{by_route:?}");
    assert!(by_route.get(MEMBER_READS) >= Some(&2), "read, then the adds shown: {by_route:?}");
    let id = live.block_on(live.org.id_named(QUEUES, "Fresh"));
    let expected: BTreeSet<_> = [member("alice", 2, "user"), member("bob", 1, "user")].into();
    assert_eq!(members_of(&live, &id), expected);
    assert_eq!(gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]).0, 0);
}

/// A bullseye ring's own member groups and actions are not in the spec:
/// an update of the queue keeps them (the declared rings replace the live
/// ones in the PUT, ring by ring), and export says it leaves them out.
#[test]
fn a_rings_member_groups_survive_an_update_and_export_warns_of_them() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    let groups = live.block_on(live.org.get("/api/v2/groups?pageSize=100")).body;
    let group = groups["entities"][0]["id"].as_str().expect("a seeded group").to_string();
    let ring_groups = json!([{"id": group, "type": "GROUP"}]);
    let body = json!({
        "name": "Bullseye",
        "bullseye": {"rings": [
            {"expansionCriteria": [{"type": "TIMEOUT_SECONDS", "threshold": 5.0}], "memberGroups": ring_groups},
            {}
        ]}
    });
    let answer = live.block_on(live.org.post(QUEUES, body));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let id = answer.body["id"].as_str().unwrap().to_string();
    let rings = |live: &LiveSandbox| {
        live.block_on(live.org.get(&format!("{QUEUES}/{id}"))).body["bullseye"]["rings"].clone()
    };

    let (code, text) = gcctl(&ctx, &["export", "--kinds", "RoutingQueue", "--out", "exported"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("RoutingQueue/bullseye: /bullseye/rings/0/memberGroups not exported: gcctl does not manage it (applying to this org keeps it, an org made from this export will not have it)"),
        "{text}"
    );
    // The exported rings declared, and the description changed: the PUT
    // keeps ring 1's member groups.
    let queues = fs_err::read_to_string(ctx.path().join("exported/queues.yaml")).unwrap();
    assert!(queues.contains("bullseye:"), "{queues}");
    ctx.write(
        "set/queues.yaml",
        &queues.replace("name: Bullseye\n", "name: Bullseye\n  description: edited\n"),
    );
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("~ /description"), "{text}");
    let after = rings(&live);
    assert_eq!(after[0]["memberGroups"][0]["id"], json!(group), "{after}");
    assert_eq!(after[0]["expansionCriteria"][0]["threshold"].as_f64(), Some(5.0), "{after}");
    assert_eq!(gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]).0, 0);
}

/// A listing of objects without ids cannot be matched (a plan would add a
/// wrap-up code the queue already offers): the plan fails naming the call.
#[test]
fn a_sub_resource_listed_without_ids_fails_the_plan() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    ctx.write("set/queue.yaml", &queue("", ""));
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    let body = json!({"entities": [{"name": "Resolved"}, {"name": "Escalated"}], "pageCount": 1})
        .to_string();
    let fault = json!({"route": "GET /api/v2/routing/queues/{queueId}/wrapupcodes", "status": 200, "body": body});
    live.block_on(live.org.route_fault(fault));
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("/wrapupcodes")
            && text.contains("lists an object without an id (object 1 of 2)"),
        "{text}"
    );
    assert_eq!(gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]).0, 0);
}

/// A member whose user is no longer active stays a member in the org, and
/// a manifest cannot name it (only active users can be members): export
/// leaves it out with a warning, so the export plans, here and elsewhere.
#[test]
fn export_leaves_members_whose_users_are_not_active_out() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    let url = live.org.url("/_sandbox/users");
    let user = |state: &str| json!({"name": "Leaving Agent", "email": "leaving@sandbox.gcctl.example", "state": state});
    let post = |body: Value| {
        live.block_on(async {
            live.org.http.post(url.clone()).json(&body).send().await.unwrap().status()
        })
    };
    assert!(post(user("active")).is_success());
    let members = "  members:\n    - email: alice@sandbox.gcctl.example\n    - email: leaving@sandbox.gcctl.example\n";
    ctx.write("set/queue.yaml", &queue(members, ""));
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(post(user("inactive")).is_success());

    let (code, text) = gcctl(
        &ctx,
        &[
            "export",
            "--kinds",
            "RoutingQueue,RoutingWrapupCode",
            "--queue-members",
            "--out",
            "exported",
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(
            "members `leaving@sandbox.gcctl.example` left out: their users are not active"
        ),
        "{text}"
    );
    let queues = fs_err::read_to_string(ctx.path().join("exported/queues.yaml")).unwrap();
    assert!(queues.contains("- email: alice@sandbox.gcctl.example\n"), "{queues}");
    assert!(!queues.contains("leaving@"), "{queues}");
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "exported"]);
    assert_eq!(code, 0, "the export plans clean in its org:\n{text}");
}

/// How many queues the org lists.
fn live_queue_count(live: &LiveSandbox) -> usize {
    let listing = live.block_on(live.org.get(&format!("{QUEUES}?pageSize=500"))).body;
    listing["entities"].as_array().map_or(0, Vec::len)
}
