//! Realism knobs, observability and persistence.

use std::time::Duration;

use gcctl::sandbox::{Generate, SandboxConfig, start};
use serde_json::{Value, json};

use super::{TestOrg, assert_error, eventually, mint};

const QUEUES: &str = "/api/v2/routing/queues";

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let config = SandboxConfig { rate_limit_per_minute: Some(3), ..SandboxConfig::default() };
    let org = TestOrg::start(config).await;
    for _ in 0..3 {
        assert_eq!(org.get(QUEUES).await.status, 200);
    }
    let limited = org.get(QUEUES).await;
    assert_error(&limited, 429, None);
    assert_eq!(limited.body["code"], "too.many.requests.retry.after");
    let seconds: u64 = limited.retry_after.as_deref().expect("Retry-After").parse().unwrap();
    assert!((1..=20).contains(&seconds), "Retry-After {seconds}");
    assert_eq!(
        limited.body["message"],
        format!("Rate limit exceeded the maximum. Retry the request in [{seconds}] seconds")
    );
    // The limit is per token: a fresh token has its own bucket; /oauth/token is not limited.
    let base = org.sandbox.base_url();
    let token =
        mint(&org.http, &base, org.sandbox.client_id(), org.sandbox.client_secret()).await.unwrap();
    let fresh = org.http.get(org.url(QUEUES)).bearer_auth(token).send().await.unwrap();
    assert_eq!(fresh.status().as_u16(), 200);
    assert_eq!(org.stats().await["status429"], 1);
}

#[tokio::test]
async fn an_org_wide_limit_counts_every_token_and_the_token_endpoint_has_its_own() {
    // 5 a minute for the org, 100 per token, 3 tokens a minute.
    let config = SandboxConfig {
        rate_limit_per_minute: Some(100),
        org_rate_limit_per_minute: Some(5),
        token_rate_limit_per_minute: Some(3),
        ..SandboxConfig::default()
    };
    let org = TestOrg::start(config).await;
    let base = org.sandbox.base_url();
    let (id, secret) = (org.sandbox.client_id(), org.sandbox.client_secret());
    let first = mint(&org.http, &base, id, secret).await.unwrap();
    let second = mint(&org.http, &base, id, secret).await.unwrap();
    let get = |token: &str| {
        let request = org.http.get(org.url(QUEUES)).bearer_auth(token.to_string());
        async move { super::answer(request.send().await.unwrap()).await.unwrap() }
    };
    for _ in 0..5 {
        assert_eq!(get(&first).await.status, 200);
    }
    // The second token has budget of its own, but the org has none left.
    let limited = get(&second).await;
    assert_error(&limited, 429, None);
    assert_eq!(limited.body["code"], "too.many.requests.retry.after");
    assert!(limited.retry_after.is_some());
    // The token endpoint: the test org's own token and these two are three this
    // minute; a fourth is refused.
    let refused = mint(&org.http, &base, id, secret).await.unwrap_err();
    assert_eq!(refused.status, 429);
    let seconds: u64 = refused.retry_after.as_deref().expect("Retry-After").parse().unwrap();
    assert!(seconds >= 1, "Retry-After {seconds}");
    let stats = org.stats().await;
    assert_eq!(stats["status429"], 2, "{stats}");
    assert_eq!(stats["byRoute"]["POST /oauth/token"], 4, "{stats}");
}

#[tokio::test]
async fn eventual_consistency_hides_new_objects_for_a_while() {
    let config =
        SandboxConfig { consistency_delay: Duration::from_millis(200), ..SandboxConfig::default() };
    let org = TestOrg::start(config).await;
    let created = org.post(QUEUES, json!({"name": "Fresh"})).await;
    assert_eq!(created.status, 200);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_error(&org.get(&format!("{QUEUES}/{id}")).await, 404, None);
    assert_eq!(org.get(QUEUES).await.body["total"], 0, "lists lag behind");
    eventually("queue visible", || async {
        org.get(&format!("{QUEUES}/{id}")).await.status == 200
    })
    .await;
    assert_eq!(org.get(QUEUES).await.body["total"], 1);
    // Seeded objects are visible at once.
    assert_eq!(org.get("/api/v2/authorization/divisions/home").await.status, 200);
}

/// Outcome class of each request under faults: 200, 500, 503 or dropped.
async fn fault_run(seed: u64) -> (Vec<String>, Value, Vec<String>) {
    let config = SandboxConfig {
        fault_rate: 0.5,
        fault_seed: seed,
        fault_slow: Duration::from_millis(10),
        ..SandboxConfig::default()
    };
    let org = TestOrg::start(config).await;
    let mut outcomes = Vec::new();
    let mut dropped = Vec::new();
    for n in 0..24 {
        let name = format!("q{n:02}");
        let body = Some(json!({"name": name}));
        if let Ok(answer) = org.try_call(reqwest::Method::POST, QUEUES, body).await {
            outcomes.push(answer.status.to_string());
        } else {
            dropped.push(name);
            outcomes.push("dropped".to_string());
        }
    }
    let stats = org.stats().await;
    // A dropped answer still committed the change.
    let mut present = Vec::new();
    for name in &dropped {
        // Reads may be faulted too: retry until a clean answer.
        for _ in 0..50 {
            if let Ok(answer) =
                org.try_call(reqwest::Method::GET, &format!("{QUEUES}?name={name}"), None).await
            {
                if answer.status == 200 {
                    if answer.body["total"] == 1 {
                        present.push(name.clone());
                    }
                    break;
                }
            }
        }
    }
    assert_eq!(present, dropped, "dropped requests were committed");
    (outcomes, stats, dropped)
}

#[tokio::test]
async fn faults_are_deterministic_for_a_seed() {
    let (first, stats, dropped) = fault_run(7).await;
    assert!(!dropped.is_empty(), "seed 7 drops at least one answer: {first:?}");
    let (second, _, _) = fault_run(7).await;
    assert_eq!(first, second, "same seed, same faults");
    let faults = &stats["faultsInjected"];
    let count = |what: &str| first.iter().filter(|o| *o == what).count() as u64;
    assert_eq!(faults["status500"].as_u64(), Some(count("500")));
    assert_eq!(faults["status503"].as_u64(), Some(count("503")));
    assert_eq!(faults["dropped"].as_u64(), Some(dropped.len() as u64));
    let injected: u64 = ["status500", "status503", "dropped", "slow"]
        .iter()
        .map(|k| faults[k].as_u64().unwrap())
        .sum();
    assert!(injected > 0 && injected < 24, "about half the requests are faulted: {faults}");
    let (other, _, _) = fault_run(8).await;
    assert_ne!(first, other, "another seed, other faults");
}

/// `/_sandbox/faults`: exactly the requests asked for fail, on that route only.
#[tokio::test]
async fn a_route_fault_fails_exactly_the_requests_asked_for() {
    let org = TestOrg::default().await;
    org.route_fault(json!({"route": "POST /api/v2/routing/queues", "status": 500, "times": 2}))
        .await;
    org.route_fault(json!({"route": "GET /api/v2/routing/queues/{queueId}", "dropped": true}))
        .await;
    let mut statuses = Vec::new();
    for n in 0..3 {
        statuses.push(org.post(QUEUES, json!({"name": format!("f{n}")})).await.status);
    }
    assert_eq!(statuses, [500, 500, 200]);
    let listed = org.get(QUEUES).await.body;
    assert_eq!(listed["total"], 1, "the faulted creates changed nothing: {listed}");
    let id = listed["entities"][0]["id"].as_str().unwrap().to_string();
    let item = format!("{QUEUES}/{id}");
    assert!(org.try_call(reqwest::Method::GET, &item, None).await.is_err(), "answer dropped");
    assert_eq!(org.get(&item).await.status, 200, "one fault only");
    let bad = org.http.post(org.url("/_sandbox/faults")).json(&json!({"route": "x"})).send();
    assert_eq!(bad.await.unwrap().status().as_u16(), 400);
}

/// A held route answers only once its release route has been asked for.
#[tokio::test]
async fn a_held_route_answers_once_the_route_it_waits_for_is_asked_for() {
    let org = TestOrg::default().await;
    org.route_fault(
        json!({"route": "GET /api/v2/routing/queues", "until": "GET /api/v2/flows", "status": 400}),
    )
    .await;
    let held = org.get(QUEUES);
    tokio::pin!(held);
    // Not answered while the route it waits for is not asked for.
    tokio::select! {
        answer = &mut held => panic!("answered while held: {}", answer.status),
        () = tokio::time::sleep(Duration::from_millis(300)) => {}
    }
    assert_eq!(org.get("/api/v2/flows").await.status, 200);
    assert_eq!(held.await.status, 200, "released, then handled as usual");
    assert_eq!(org.get(QUEUES).await.status, 200, "one request held only");
    let bad = org.http.post(org.url("/_sandbox/faults"));
    let bad = bad.json(&json!({"route": "GET /api/v2/flows", "until": "GET /x"})).send();
    assert_eq!(bad.await.unwrap().status().as_u16(), 400, "a hold names the status of its timeout");
}

#[tokio::test]
async fn stats_count_routes_and_reset() {
    let org = TestOrg::default().await;
    let unix_us = || {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        u64::try_from(since.unwrap().as_micros()).unwrap()
    };
    org.get(QUEUES).await;
    org.get(QUEUES).await;
    let before_last = unix_us();
    org.get(&format!("{QUEUES}/nope")).await;
    let after_last = unix_us();
    let stats = org.stats().await;
    // When the last answer left, on the machine's clock (the sandbox runs in
    // this process here; the benchmark reads it from another).
    let last = stats["lastAnswerUnixUs"].as_u64().expect("a last answer");
    assert!((before_last..=after_last).contains(&last), "{before_last} <= {last} <= {after_last}");
    assert_eq!(stats["byRoute"]["GET /api/v2/routing/queues"], 2);
    assert_eq!(stats["byRoute"]["GET /api/v2/routing/queues/{queueId}"], 1);
    assert_eq!(stats["byRoute"]["POST /oauth/token"], 1);
    assert_eq!(stats["totalRequests"], 4, "stats calls are not counted: {stats}");
    let reset = org.http.post(org.url("/_sandbox/reset")).send().await.unwrap();
    assert_eq!(reset.status().as_u16(), 200);
    let stats = org.stats().await;
    assert_eq!(stats["totalRequests"], 0);
    assert_eq!(stats["byRoute"], json!({}));
    assert_eq!(stats["lastAnswerUnixUs"], Value::Null, "{stats}");
    assert_eq!(
        stats["faultsInjected"],
        json!({"status500": 0, "status503": 0, "dropped": 0, "slow": 0})
    );
    // Reset empties the counters, not the org.
    assert_eq!(org.get("/api/v2/flows").await.body["total"], 8);
}

#[tokio::test]
async fn latency_delays_answers() {
    let config =
        SandboxConfig { latency_ms: 60, latency_jitter_ms: 10, ..SandboxConfig::default() };
    let org = TestOrg::start(config).await;
    let started = std::time::Instant::now();
    org.get(QUEUES).await;
    assert!(started.elapsed() >= Duration::from_millis(50), "{:?}", started.elapsed());
}

/// A request's latency includes its handling, as a real org's does: half of
/// it passes before the request is handled, and the answer leaves once the
/// whole latency has passed or, when handling takes longer than the other
/// half, once handled. Here handling takes 300 ms (a "slow" fault, the only
/// fault seed 1 draws first): 200 + 300 ms, not 400 + 300 as when the
/// whole latency passed first. On the runtime's paused clock, so that the
/// times are exact whatever the machine's load.
#[tokio::test(start_paused = true)]
async fn latency_includes_the_handling() {
    let config = SandboxConfig {
        latency_ms: 400,
        fault_rate: 1.0,
        fault_seed: 1,
        fault_slow: Duration::from_millis(300),
        ..SandboxConfig::default()
    };
    let org = TestOrg::start(config).await;
    let started = tokio::time::Instant::now();
    let answer = org.get(QUEUES).await;
    let elapsed = started.elapsed();
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(org.stats().await["faultsInjected"]["slow"], 1);
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed < Duration::from_millis(550),
        "{elapsed:?}"
    );
}

/// An answer delay holds the answer, not the change: a read sent while a
/// create's answer is on its way already sees the object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_delay_makes_the_change_before_the_late_answer() {
    let config =
        SandboxConfig { answer_delay: Duration::from_millis(600), ..SandboxConfig::default() };
    let org = TestOrg::start(config).await;
    let started = std::time::Instant::now();
    let create = org.post(QUEUES, json!({"name": "Late Answer"}));
    let read = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        org.get(&format!("{QUEUES}?name=Late%20Answer")).await
    };
    let (created, listed) = tokio::join!(create, read);
    assert_eq!(created.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(600), "{:?}", started.elapsed());
    assert_eq!(listed.body["total"], 1, "made before its answer: {}", listed.body);
}

#[tokio::test]
async fn state_persists_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("nested/dir/org.json");
    let config = || SandboxConfig { state_file: Some(state.clone()), ..SandboxConfig::default() };
    // Start, create, shut down cleanly.
    let org = TestOrg::start(config()).await;
    let (admin_id, admin_secret) =
        (org.sandbox.client_id().to_string(), org.sandbox.client_secret().to_string());
    let queue = org.post(QUEUES, json!({"name": "Persisted", "description": "kept"})).await.body;
    let master = org.id_named("/api/v2/authorization/roles?name=master", "Master Admin").await;
    let home = org.get("/api/v2/authorization/divisions/home").await.body["id"].clone();
    let client = org
        .post(
            "/api/v2/oauth/clients",
            json!({"name": "p", "authorizedGrantType": "CLIENT-CREDENTIALS",
                "roleDivisions": [{"roleId": master, "divisionId": home}]}),
        )
        .await
        .body;
    org.sandbox.shutdown().await;
    assert!(state.exists());
    // Start again: same objects, same generated admin credentials, secrets still work.
    let org = TestOrg::start(config()).await;
    assert_eq!(org.sandbox.client_id(), admin_id);
    assert_eq!(org.sandbox.client_secret(), admin_secret);
    let id = queue["id"].as_str().unwrap();
    assert_eq!(org.get(&format!("{QUEUES}/{id}")).await.body, queue);
    let base = org.sandbox.base_url();
    mint(&org.http, &base, client["id"].as_str().unwrap(), client["secret"].as_str().unwrap())
        .await
        .unwrap();
    // A kill (drop without shutdown) loses nothing that was answered.
    let killed = org.post(QUEUES, json!({"name": "After kill"})).await.body;
    drop(org);
    let org = TestOrg::start(config()).await;
    let id = killed["id"].as_str().unwrap();
    assert_eq!(org.get(&format!("{QUEUES}/{id}")).await.body["name"], "After kill");
    assert_eq!(org.get(QUEUES).await.body["total"], 2);
    org.sandbox.shutdown().await;
    // The state file is a full snapshot usable as a seed file.
    let seeded = TestOrg::start(SandboxConfig {
        seed_file: Some(state.clone()),
        ..SandboxConfig::default()
    })
    .await;
    assert_eq!(seeded.get(QUEUES).await.body["total"], 2);
}

#[tokio::test]
async fn corrupt_state_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("org.json");
    fs_err::write(&state, "{not json").unwrap();
    let err = start(SandboxConfig { state_file: Some(state.clone()), ..SandboxConfig::default() })
        .await
        .unwrap_err();
    assert!(err.to_string().contains(&state.display().to_string()), "{err}");
    assert_eq!(fs_err::read_to_string(&state).unwrap(), "{not json", "never silently reset");
}

#[tokio::test]
async fn generation_creates_named_objects() {
    let generate = Generate {
        queues: 3,
        open_messaging_integrations: 2,
        oauth_clients: 2,
        ..Generate::default()
    };
    let org = TestOrg::start(SandboxConfig { generate, ..SandboxConfig::default() }).await;
    assert_eq!(org.get(QUEUES).await.body["entities"][2]["name"], "queue-00003");
    let open = org.get("/api/v2/conversations/messaging/integrations/open").await;
    assert_eq!(open.body["total"], 2);
    assert_eq!(open.body["entities"][0]["createStatus"], "Completed");
    assert_eq!(org.get("/api/v2/routing/message/recipients").await.body["total"], 2);
    assert_eq!(
        org.get("/api/v2/oauth/clients").await.body["total"],
        3,
        "two generated plus the admin"
    );
}

#[tokio::test]
async fn snapshot_format_is_stable() {
    let dir = tempfile::tempdir().unwrap();
    // A seed file of format 1 as gcctl has always written it, minus most
    // collections (missing ones are empty).
    let seed = dir.path().join("seed.json");
    let queue = json!({"id": "q1", "name": "Seeded", "division": {"id": "d1"},
        "dateCreated": "2024-05-01T12:00:00.000Z", "dateModified": "2024-05-01T12:00:00.000Z",
        "memberCount": 0, "userMemberCount": 0, "joinedMemberCount": 0,
        "selfUri": "/api/v2/routing/queues/q1"});
    let org = json!({"formatVersion": 1,
        "divisions": {"d1": {"id": "d1", "name": "Home", "homeDivision": true,
            "selfUri": "/api/v2/authorization/divisions/d1"}},
        "queues": {"q1": queue}, "defaults": {}});
    fs_err::write(&seed, org.to_string()).unwrap();
    let state = dir.path().join("org.json");
    let config = SandboxConfig {
        seed_file: Some(seed.clone()),
        state_file: Some(state.clone()),
        ..SandboxConfig::default()
    };
    let sandbox = TestOrg::start(config).await;
    assert_eq!(sandbox.get(&format!("{QUEUES}/q1")).await.body["name"], "Seeded");
    sandbox.sandbox.shutdown().await;
    // The state file has every collection, in the order it always had.
    let text = fs_err::read_to_string(&state).unwrap();
    let order = [
        "formatVersion",
        "divisions",
        "roles",
        "flows",
        "queues",
        "openIntegrations",
        "supportedContent",
        "messagingSettings",
        "recipients",
        "oauthClients",
        "wrapupCodes",
        "skills",
        "languages",
        "users",
        "groups",
        "teams",
        "skillGroups",
        "groupMembers",
        "queueMembers",
        "queueWrapupCodes",
        "userSkills",
        "userLanguages",
        "grants",
        "flowJobs",
        "flowExportJobs",
        "flowVersions",
        "webConfigurations",
        "webConfigurationVersions",
        "webDeployments",
        "secrets",
        "defaults",
    ];
    let top: serde_json::Map<String, Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(top.len(), order.len(), "{:?}", top.keys());
    let positions: Vec<Option<usize>> =
        order.iter().map(|key| text.find(&format!("\n  \"{key}\":"))).collect();
    assert!(positions.windows(2).all(|w| w[0].is_some() && w[0] < w[1]), "{positions:?}");
    // Unknown collections, a missing or unknown version, a non-object entry
    // are errors naming the file.
    for bad in [
        json!({"formatVersion": 1, "widgets": {}}),
        json!({"queues": {}}),
        json!({"formatVersion": 2}),
        json!({"formatVersion": 1, "queues": {"q1": 3}}),
    ] {
        fs_err::write(&seed, bad.to_string()).unwrap();
        let config = SandboxConfig { seed_file: Some(seed.clone()), ..SandboxConfig::default() };
        let err = start(config).await.unwrap_err();
        assert!(err.to_string().contains(&seed.display().to_string()), "{bad}: {err}");
    }
}

/// One writer per state file: a second sandbox on the same file (a second
/// `--sandbox` run, or `sandbox serve --state` beside one) is refused with
/// the holder's pid instead of losing the first one's writes; the files are
/// private (the state holds the admin secret).
#[tokio::test]
async fn a_state_file_has_one_writer_and_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("sandbox/org.json");
    let config = || SandboxConfig { state_file: Some(state.clone()), ..SandboxConfig::default() };
    let first = TestOrg::start(config()).await;
    let second = gcctl::sandbox::start(config()).await;
    let Err(err) = second else { panic!("a second writer was accepted") };
    let text = err.to_string();
    assert!(text.contains("is in use by another gcctl process"), "{text}");
    assert!(text.contains(&format!("(pid {})", std::process::id())), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| fs_err::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&state), 0o600);
        assert_eq!(mode(state.parent().unwrap()), 0o700);
    }
    first.sandbox.shutdown().await;
    // Once the first is gone, the file is free again.
    let again = TestOrg::start(config()).await;
    again.sandbox.shutdown().await;
}
