//! Plans that cannot be made: no credentials, an unknown region, a name that
//! matches several live objects. Each error says what and what to do.

use serde_json::json;

use super::{PlanOrg, code, settings};
use crate::common::{TestContext, repo_root};

fn examples() -> String {
    repo_root().join("examples/bot-handover-cognigy").display().to_string()
}

#[test]
fn without_credentials_or_sandbox_the_error_names_the_variables() {
    let ctx = TestContext::new();
    let out = ctx.snapshot(&["plan", &examples()]);
    insta::assert_snapshot!(out);
    for variable in [
        "GENESYSCLOUD_OAUTHCLIENT_ID",
        "GENESYSCLOUD_OAUTHCLIENT_SECRET",
        "GENESYSCLOUD_ACCESS_TOKEN",
    ] {
        assert!(out.contains(variable), "{out}");
    }
    assert!(out.contains("hint:") && out.contains("--sandbox"), "{out}");
}

#[test]
fn an_unknown_region_lists_the_valid_ones() {
    let mut ctx = TestContext::new();
    ctx.env("GENESYSCLOUD_REGION", "mars-north-1").env("GENESYSCLOUD_ACCESS_TOKEN", "t0ken-value");
    let out = ctx.snapshot(&["plan", &examples()]);
    insta::assert_snapshot!(out);
    for region in gcctl::api::REGIONS {
        assert!(out.contains(region.0) && out.contains(region.1), "{region:?} missing: {out}");
    }
    assert!(!out.contains("t0ken-value"), "{out}");
}

/// Nothing listens at the region: the plan gives up after the short
/// budget for unreachable hosts (10 s, see `api::retry`), not the whole
/// retry deadline, and says which URL and which setting to check. The
/// issue's bound is 15 s; the run is timed against it (the budget leaves
/// 5 s for starting the binary and loading the manifests).
#[test]
fn a_region_where_nothing_listens_fails_fast_naming_the_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let mut ctx = TestContext::new();
    ctx.env("GENESYSCLOUD_REGION", &base)
        .env("GENESYSCLOUD_OAUTHCLIENT_ID", "id")
        .env("GENESYSCLOUD_OAUTHCLIENT_SECRET", "secret-0123456789");
    let started = std::time::Instant::now();
    let out = ctx.run(&["plan", &examples()]);
    let took = started.elapsed();
    let err = crate::common::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(took < std::time::Duration::from_secs(15), "took {took:?}, not under 15 s: {err}");
    assert!(err.contains("gave up after"), "{err}");
    assert!(err.contains(&format!("hint: nothing answered at {base}")), "{err}");
    assert!(err.contains("GENESYSCLOUD_REGION"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_matching_several_live_objects_is_an_error_listing_their_ids() {
    let org = PlanOrg::default().await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let client = org
            .create(
                "/api/v2/oauth/clients",
                json!({"name": "Twin Client", "authorizedGrantType": "CODE", "scope": ["routing"]}),
            )
            .await;
        ids.push(client["id"].as_str().unwrap().to_string());
    }
    let path = org.manifest(
        "client.yaml",
        "apiVersion: gcctl/v1\nkind: OAuthClient\nmetadata:\n  name: twin\n\
         spec:\n  name: Twin Client\n  authorizedGrantType: CODE\n  scope: [routing]\n",
    );
    let out = org.gcctl(&["plan", &path, "--detailed-exitcode"]).await;
    assert_eq!(code(&out), Some(1));
    let text = org.render(&out);
    for id in &ids {
        assert!(text.contains(id.as_str()), "{id} not named: {text}");
    }
    assert!(out.stdout.is_empty(), "no plan on stdout when planning fails");
    settings().bind(|| insta::assert_snapshot!(text));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unresolved_references_are_reported_each_at_its_field() {
    let org = PlanOrg::default().await;
    let path = org.manifest(
        "queues.yaml",
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: a}\n\
         spec:\n  name: Queue A\n  division: Nowhere\n---\n\
         apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata: {name: b}\n\
         spec:\n  name: Queue B\n  division: Elsewhere\n",
    );
    let out = org.gcctl(&["plan", &path]).await;
    assert_eq!(code(&out), Some(1));
    let text = org.render(&out);
    for expected in [
        "[TEMP]/queues.yaml:6:13: error: RoutingQueue/a: division `Nowhere` is neither declared in the manifests nor present in the org\n",
        "[TEMP]/queues.yaml:13:13: error: RoutingQueue/b: division `Elsewhere` is neither declared",
        "error: cannot plan: 2 problems found\n",
    ] {
        assert!(text.contains(expected), "`{expected}` missing in:\n{text}");
    }
    assert!(out.stdout.is_empty(), "no plan on stdout when planning fails");
}
