//! `RoutingWrapupCode`, `RoutingSkill` and `RoutingLanguage` end to end on a
//! fresh sandbox: apply, re-plan clean, a skill's division changed in place,
//! drift after an edit made through the API, soft-deleted skills that are no
//! longer live, a rename shown as a replacement, export and the round trip.

use serde_json::json;

use super::{connected, gcctl};
use crate::export::LiveSandbox;

const CODES: &str = "/api/v2/routing/wrapupcodes";
const SKILLS: &str = "/api/v2/routing/skills";
const LANGUAGES: &str = "/api/v2/routing/languages";

const MANIFESTS: &str = r"
apiVersion: gcctl/v1
kind: RoutingWrapupCode
metadata:
  name: resolved
spec:
  name: Resolved
  description: The customer's question was answered
---
apiVersion: gcctl/v1
kind: RoutingWrapupCode
metadata:
  name: escalated
spec:
  name: Escalated
  division: Operations
---
apiVersion: gcctl/v1
kind: RoutingSkill
metadata:
  name: billing
spec:
  name: Billing
  division: Home
---
apiVersion: gcctl/v1
kind: RoutingLanguage
metadata:
  name: german
spec:
  name: German
";

#[test]
fn wrapup_codes_skills_and_languages_apply_drift_and_round_trip() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    ctx.write("set/routing.yaml", MANIFESTS);

    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    for created in [
        "created RoutingWrapupCode/resolved \"Resolved\"",
        "created RoutingWrapupCode/escalated \"Escalated\"",
        "created RoutingSkill/billing \"Billing\"",
        "created RoutingLanguage/german \"German\"",
    ] {
        assert!(text.contains(created), "{created}: {text}");
    }
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 0, "a second plan is clean:\n{text}");

    // What the org holds.
    let org = &live.org;
    let (resolved, escalated, skill) = live.block_on(async {
        let resolved = org.id_named(CODES, "Resolved").await;
        let resolved = org.get(&format!("{CODES}/{resolved}")).await.body;
        let escalated = org.id_named(CODES, "Escalated").await;
        let escalated = org.get(&format!("{CODES}/{escalated}")).await.body;
        let skill = org.id_named(SKILLS, "Billing").await;
        let skill = org.get(&format!("{SKILLS}/{skill}")).await.body;
        (resolved, escalated, skill)
    });
    assert_eq!(resolved["division"]["id"], "*", "no division: all divisions: {resolved}");
    assert_eq!(escalated["division"]["name"], "Operations", "{escalated}");
    assert_eq!(skill["division"]["name"], "Home", "{skill}");
    assert_eq!(skill["state"], "active", "{skill}");

    // The skill moves division in place: one PATCH, nothing recreated.
    ctx.write("set/routing.yaml", &MANIFESTS.replace("  division: Home", "  division: Operations"));
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("~ RoutingSkill/billing \"Billing\" will be updated in place"), "{text}");
    assert!(text.contains("/division: \"Home\" -> \"Operations\""), "{text}");
    live.reset_stats();
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    let by_route = live.requests_by_route();
    assert_eq!(by_route.get(&format!("PATCH {SKILLS}/{{skillId}}")), Some(&1), "{by_route:?}");
    assert_eq!(by_route.get(&format!("POST {SKILLS}")), None, "{by_route:?}");
    assert_eq!(gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]).0, 0);

    // Edited in the admin UI: drift names the field.
    let id = resolved["id"].as_str().unwrap();
    let edit = json!({"name": "Resolved", "description": "edited", "division": {"id": "*"}});
    let answer = live.block_on(org.put(&format!("{CODES}/{id}"), edit));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let (code, text) = gcctl(&ctx, &["drift", "set"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("~ RoutingWrapupCode/resolved \"Resolved\" has drifted"), "{text}");
    assert!(
        text.contains(
            "/description: declared \"The customer's question was answered\", live \"edited\""
        ),
        "{text}"
    );
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");

    // A skill deleted behind gcctl's back stays listed as `state: deleted`:
    // it is not live, so the plan creates the skill again.
    let skill_id = skill["id"].as_str().unwrap();
    let answer = live.block_on(org.delete(&format!("{SKILLS}/{skill_id}")));
    assert_eq!(answer.status, 204, "{}", answer.body);
    let listed = live.block_on(org.get(SKILLS)).body;
    assert!(
        listed["entities"].as_array().unwrap().iter().any(|s| s["state"] == "deleted"),
        "the deleted skill is still listed: {listed}"
    );
    let (code, text) = gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("+ RoutingSkill/billing \"Billing\" will be created"), "{text}");
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]).0, 0);

    // A rename is a replacement: the new skill is created and, inside a
    // prune scope, the old one deleted.
    ctx.write(
        "set/project.yaml",
        "apiVersion: gcctl/v1\nkind: Project\nmetadata:\n  name: p\nspec:\n  prune:\n    - kind: RoutingSkill\n      names: [\"*\"]\n",
    );
    let renamed = MANIFESTS
        .replace("  name: Billing\n  division: Home", "  name: Invoices\n  division: Operations");
    ctx.write("set/routing.yaml", &renamed);
    let (code, text) = gcctl(&ctx, &["plan", "--prune", "--detailed-exitcode", "set"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("+ RoutingSkill/billing \"Invoices\" will be created"), "{text}");
    assert!(text.contains("- RoutingSkill \"Billing\" will be deleted (prune"), "{text}");
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "--prune", "set"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]).0, 0);

    // Export: names only, the all-divisions default left out, no deleted skill.
    let (code, text) = gcctl(&ctx, &["export", "--out", "exported"]);
    assert_eq!(code, 0, "{text}");
    let read = |file: &str| fs_err::read_to_string(ctx.path().join("exported").join(file)).unwrap();
    let codes = read("wrapup-codes.yaml");
    let resolved = codes.split("---\n").find(|d| d.contains("name: Resolved")).unwrap_or_default();
    assert!(!resolved.contains("division"), "{codes}");
    assert!(codes.contains("  division: Operations\n"), "{codes}");
    let skills = read("skills.yaml");
    assert!(skills.contains("name: Invoices") && !skills.contains("Billing"), "{skills}");
    assert!(!skills.contains("state"), "{skills}");
    assert!(read("languages.yaml").contains("  name: German\n"));

    // Round trip: the export applied to a fresh org plans clean.
    let target = LiveSandbox::new();
    let fresh = connected(&target);
    let dir = ctx.path().join("exported");
    let dir = dir.to_str().unwrap();
    let (code, text) = gcctl(&fresh, &["apply", "--auto-approve", "--secrets-dir", "s", dir]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = gcctl(&fresh, &["plan", "--detailed-exitcode", dir]);
    assert_eq!(code, 0, "the round trip plans clean:\n{text}");
    let languages = target.block_on(target.org.get(LANGUAGES)).body;
    assert!(languages["entities"].as_array().unwrap().iter().any(|l| l["name"] == "German"));
}

/// A queue's in-queue flow set (through the API) to the org's inbound flow
/// that shares the declared flow's name: drift shows it with its type (the
/// name alone would read as in sync, and the plan failed with a false
/// "2 flows named `Support`"), export leaves it out with a warning, and
/// apply puts the declared flow back.
#[test]
fn a_queue_pointing_at_a_same_named_flow_of_another_type_is_drift() {
    let live = LiveSandbox::new();
    let ctx = connected(&live);
    ctx.write(
        "set/q.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: q}\nspec:\n  name: Flowed\n  messageInQueueFlow: Support\n",
    );
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    let (queue_path, declared_flow) = live.block_on(async {
        let id = live.org.id_named("/api/v2/routing/queues", "Flowed").await;
        let path = format!("/api/v2/routing/queues/{id}");
        let queue = live.org.get(&path).await.body;
        (path, queue["messageInQueueFlow"]["id"].clone())
    });
    let inbound = live.block_on(async {
        let flows = live.org.get("/api/v2/flows?type=inboundshortmessage&name=Support").await.body;
        flows["entities"][0]["id"].clone()
    });
    assert_ne!(inbound, declared_flow);
    let queue = json!({"name": "Flowed", "messageInQueueFlow": {"id": inbound}});
    let put = live.block_on(live.org.put(&queue_path, queue));
    assert_eq!(put.status, 200, "{}", put.body);

    let (code, text) = gcctl(&ctx, &["drift", "set"]);
    assert_eq!(code, 2, "{text}");
    // A plan finds the flows it needs by name and type: the live one is
    // not the in-queue flow named so, and shows with its id.
    let shown = format!(
        r#"/messageInQueueFlow: declared "Support", live {{"id":{inbound},"name":"Support"}}"#
    );
    assert!(text.contains(&shown), "{shown}\n{text}");
    let (code, text) = gcctl(&ctx, &["export", "--kinds", "RoutingQueue", "--out", "exported"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("RoutingQueue/flowed: /messageInQueueFlow not exported: it names the INBOUNDSHORTMESSAGE flow `Support`"),
        "{text}"
    );
    let (code, text) = gcctl(&ctx, &["apply", "--auto-approve", "set"]);
    assert_eq!(code, 0, "{text}");
    let after = live.block_on(live.org.get(&queue_path)).body;
    assert_eq!(after["messageInQueueFlow"]["id"], declared_flow, "{after}");
    assert_eq!(gcctl(&ctx, &["plan", "--detailed-exitcode", "set"]).0, 0);
}
