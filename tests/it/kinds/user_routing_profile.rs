//! `UserRoutingProfile` end to end on a sandbox: an existing agent's skills
//! and languages with proficiencies, by email; `include` keeps what else the
//! agent holds, `exact` removes it; a changed proficiency; drift after an
//! edit made through the API; an unknown email; reads only for declared
//! profiles (the users collection is never listed).

use serde_json::json;

use super::gcctl;
use crate::common::TestContext;
use crate::export::LiveSandbox;

fn manifests(policy: &str, billing: u32) -> String {
    format!(
        r"
apiVersion: gcctl/v1
kind: RoutingSkill
metadata:
  name: handover
spec:
  name: Bot Handover
---
apiVersion: gcctl/v1
kind: RoutingLanguage
metadata:
  name: english
spec:
  name: English
---
apiVersion: gcctl/v1
kind: UserRoutingProfile
metadata:
  name: alice
spec:
  email: Alice@sandbox.gcctl.example
{policy}  skills:
    - name: handover
      proficiency: 4
    - name: Billing
      proficiency: {billing}
  languages:
    - name: english
      proficiency: 5
"
    )
}

/// What the user holds: (name, proficiency) pairs, by name.
fn held(live: &LiveSandbox, user: &str, list: &str) -> Vec<(String, f64)> {
    let body =
        live.block_on(live.org.get(&format!("/api/v2/users/{user}/{list}?pageSize=100"))).body;
    let mut out: Vec<(String, f64)> = body["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_string(), e["proficiency"].as_f64().unwrap()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn pairs(items: &[(&str, f64)]) -> Vec<(String, f64)> {
    items.iter().map(|(n, p)| ((*n).to_string(), *p)).collect()
}

#[test]
fn an_agents_skills_and_languages_with_both_policies() {
    let live = LiveSandbox::new();
    let mut ctx = TestContext::new();
    live.connect(&mut ctx);
    let org = &live.org;
    // An org skill the manifest names, and one the agent already holds.
    let billing =
        live.block_on(org.post("/api/v2/routing/skills", json!({"name": "Billing"}))).body;
    let sales = live.block_on(org.post("/api/v2/routing/skills", json!({"name": "Sales"}))).body;
    let search = json!({"query": [{"type": "EXACT", "fields": ["email"], "value": "alice@sandbox.gcctl.example"}]});
    let alice = live.block_on(org.post("/api/v2/users/search", search)).body["results"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let bulk = format!("/api/v2/users/{alice}/routingskills/bulk");
    let answer = live.block_on(org.patch(&bulk, json!([{"id": sales["id"], "proficiency": 2}])));
    assert_eq!(answer.status, 200, "{}", answer.body);

    ctx.write("set/profile.yaml", &manifests("", 3));
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains(
            "~ UserRoutingProfile/alice \"Alice@sandbox.gcctl.example\" will be updated in place"
        ),
        "a profile is never created: {text}"
    );
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("assigned 2 skills; assigned 1 language"), "{text}");
    let by_route = live.requests_by_route();
    assert_eq!(by_route.get("GET /api/v2/users"), None, "users are never listed: {by_route:?}");
    assert_eq!(by_route.get("PATCH /api/v2/users/{userId}/routingskills/bulk"), Some(&1));
    assert_eq!(by_route.get("PATCH /api/v2/users/{userId}/routinglanguages/bulk"), Some(&1));
    // `include` kept Sales.
    assert_eq!(
        held(&live, &alice, "routingskills"),
        pairs(&[("Billing", 3.0), ("Bot Handover", 4.0), ("Sales", 2.0)])
    );
    assert_eq!(held(&live, &alice, "routinglanguages"), pairs(&[("English", 5.0)]));
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 0, "a second plan is clean:\n{text}");

    // Changed in the UI: drift names the field.
    let answer = live.block_on(org.patch(&bulk, json!([{"id": billing["id"], "proficiency": 1}])));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let (code, text) = gcctl(&ctx, &["drift", "set"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("~ UserRoutingProfile/alice"), "{text}");
    assert!(
        text.contains("~ /skills: live (-) against declared (+):\n        - {\"name\":\"Billing\",\"proficiency\":1}\n        + {\"name\":\"Billing\",\"proficiency\":3}\n"),
        "{text}"
    );

    // `exact`, with another proficiency: Sales goes, Billing changes.
    ctx.write("set/profile.yaml", &manifests("  assignment: exact\n", 5));
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("- {\"name\":\"Sales\",\"proficiency\":2}"), "{text}");
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("assigned 1 skill, removed 1 skill"), "{text}");
    assert_eq!(
        held(&live, &alice, "routingskills"),
        pairs(&[("Billing", 5.0), ("Bot Handover", 4.0)])
    );
    assert_eq!(gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]).0, 0);

    // A profile of nobody is a plan error naming the email.
    let nobody = manifests("", 3).replace("Alice@sandbox", "nobody@sandbox");
    ctx.write("set/profile.yaml", &nobody);
    let (code, text) = gcctl(&ctx, &["plan", "set"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("UserRoutingProfile/alice"), "{text}");
    assert!(
        text.contains("no user in the org has the email `nobody@sandbox.gcctl.example`"),
        "{text}"
    );

    // Export leaves profiles out.
    let (code, text) = gcctl(&ctx, &["export", "--out", "exported"]);
    assert_eq!(code, 0, "{text}");
    assert!(!ctx.path().join("exported/user-routing-profiles.yaml").exists());
}

/// A version conflict (409: the user changed concurrently) on the bulk
/// PATCH and on a per-item DELETE is retried, as the provider does, and the
/// profile converges.
#[test]
fn version_conflicts_on_a_users_skills_and_languages_are_retried() {
    let live = LiveSandbox::new();
    let mut ctx = TestContext::new();
    live.connect(&mut ctx);
    let org = &live.org;
    let sales = live.block_on(org.post("/api/v2/routing/skills", json!({"name": "Sales"}))).body;
    live.block_on(org.post("/api/v2/routing/skills", json!({"name": "Billing"})));
    let search = json!({"query": [{"type": "EXACT", "fields": ["email"], "value": "alice@sandbox.gcctl.example"}]});
    let alice = live.block_on(org.post("/api/v2/users/search", search)).body["results"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let bulk = format!("/api/v2/users/{alice}/routingskills/bulk");
    let answer = live.block_on(org.patch(&bulk, json!([{"id": sales["id"], "proficiency": 2}])));
    assert_eq!(answer.status, 200, "{}", answer.body);

    // The knob is real: a write now meets the conflict the API answers.
    let conflicts = |writes: u32| {
        let url = org.url("/_sandbox/conflicts");
        let body = json!({"userId": alice, "writes": writes});
        let sent = live.block_on(org.http.post(url).json(&body).send()).expect("knob");
        assert_eq!(sent.status(), 200);
    };
    conflicts(1);
    let refused = live.block_on(org.patch(&bulk, json!([{"id": sales["id"], "proficiency": 3}])));
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused.body["message"].as_str().unwrap().contains("does not match the current version")
    );

    // Three conflicts in a row: the first write (the removal of Sales,
    // `exact` removes before it assigns) is retried until it passes.
    ctx.write("set/profile.yaml", &manifests("  assignment: exact\n", 3));
    conflicts(3);
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    let by_route = live.requests_by_route();
    let sent = |route: &str| by_route.get(route).copied().unwrap_or(0);
    assert_eq!(sent("DELETE /api/v2/users/{userId}/routingskills/{skillId}"), 4, "{by_route:?}");
    assert_eq!(sent("PATCH /api/v2/users/{userId}/routingskills/bulk"), 1, "{by_route:?}");
    assert_eq!(sent("PATCH /api/v2/users/{userId}/routinglanguages/bulk"), 1, "{by_route:?}");
    assert_eq!(
        held(&live, &alice, "routingskills"),
        pairs(&[("Billing", 3.0), ("Bot Handover", 4.0)])
    );
    assert_eq!(held(&live, &alice, "routinglanguages"), pairs(&[("English", 5.0)]));

    // A changed proficiency: the bulk PATCH meets one conflict and is retried.
    ctx.write("set/profile.yaml", &manifests("  assignment: exact\n", 4));
    conflicts(1);
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    let by_route = live.requests_by_route();
    assert_eq!(by_route.get("PATCH /api/v2/users/{userId}/routingskills/bulk"), Some(&2));
    assert_eq!(
        held(&live, &alice, "routingskills"),
        pairs(&[("Billing", 4.0), ("Bot Handover", 4.0)])
    );
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 0, "converged:\n{text}");
}
