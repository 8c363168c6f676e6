//! Flow jobs in the sandbox (`docs/src/sandbox.md`, "Flow jobs"): the
//! upload URL is the sandbox's own and refuses a token or a missing signed
//! header, as a storage service does; jobs go `Registered` → `Started` →
//! `Success` or `Failure` over the configured duration; failures carry one
//! message per problem, each naming its line; locks and system flows stop
//! imports; exports download without a token.

use std::time::Duration;

use gcctl::sandbox::SandboxConfig;
use reqwest::Method;
use serde_json::{Value, json};

use super::TestOrg;

const JOBS: &str = "/api/v2/flows/jobs";

/// Register an import job.
async fn register(org: &TestOrg) -> Value {
    let job = org.post(JOBS, json!({})).await;
    assert_eq!(job.status, 200, "{:?}", job.body);
    job.body
}

/// PUT `yaml` to the job's upload URL with its headers (`skip`: a header
/// left out) and, when given, a bearer token; returns status and body.
async fn upload(
    org: &TestOrg,
    job: &Value,
    yaml: &str,
    skip: Option<&str>,
    token: Option<&str>,
) -> (u16, String) {
    let mut put = org.http.put(job["presignedUrl"].as_str().unwrap()).body(yaml.to_string());
    for (name, value) in job["headers"].as_object().unwrap() {
        if Some(name.as_str()) != skip {
            put = put.header(name, value.as_str().unwrap());
        }
    }
    if let Some(token) = token {
        put = put.bearer_auth(token);
    }
    let answer = put.send().await.unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

async fn state(org: &TestOrg, job: &Value) -> Value {
    org.get(&format!("{JOBS}/{}?expand=messages", job["id"].as_str().unwrap())).await.body
}

/// Upload `yaml` to a new job and read the job once.
async fn run(org: &TestOrg, yaml: &str) -> Value {
    let job = register(org).await;
    assert_eq!(upload(org, &job, yaml, None, None).await.0, 200);
    state(org, &job).await
}

fn texts(state: &Value) -> Vec<String> {
    state["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect()
}

const FLOW: &str = "inboundShortMessage:
  name: Sandbox Flow
  startUpRef: \"/inboundShortMessage/states/state[S_1]\"
  states:
    - state:
        name: S
        refId: S_1
";

#[tokio::test]
async fn uploads_refuse_tokens_and_unsigned_headers_and_jobs_take_their_time() {
    let config =
        SandboxConfig { flow_job_duration: Duration::from_millis(300), ..SandboxConfig::default() };
    let org = TestOrg::start(config).await;
    let job = register(&org).await;
    let url = job["presignedUrl"].as_str().unwrap();
    assert!(url.contains("/uploads/architect/") && !url.contains("/api/v2"), "{url}");
    assert_eq!(state(&org, &job).await["status"], "Registered");
    let (status, body) = upload(&org, &job, FLOW, None, Some(&org.token)).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("<Code>InvalidArgument</Code>")
            && body.contains("Only one auth mechanism allowed"),
        "{body}"
    );
    let (status, body) = upload(&org, &job, FLOW, Some("x-amz-server-side-encryption"), None).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("SignatureDoesNotMatch"), "{body}");
    let forged = org
        .http
        .put(url.replace("X-Amz-Signature=", "X-Amz-Signature=x"))
        .body(FLOW)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(upload(&org, &job, FLOW, None, None).await.0, 200);
    assert_eq!(state(&org, &job).await["status"], "Started");
    assert_eq!(upload(&org, &job, FLOW, None, None).await.0, 403, "an upload URL is used once");
    tokio::time::sleep(Duration::from_millis(350)).await;
    let done = state(&org, &job).await;
    assert_eq!(done["status"], "Success", "{done}");
    assert_eq!(done["command"], "Publish");
    let flow =
        org.get(&format!("/api/v2/flows/{}", done["flow"]["id"].as_str().unwrap())).await.body;
    assert_eq!(
        (flow["name"].as_str(), flow["type"].as_str()),
        (Some("Sandbox Flow"), Some("INBOUNDSHORTMESSAGE"))
    );
    assert_eq!(flow["publishedVersion"]["id"], "1.0");

    // The export job takes its time too, then downloads without a token.
    let body = json!({"flows": [{"flow": {"id": flow["id"]}, "exportType": "Yaml"}]});
    let export = org.post("/api/v2/flows/export/jobs", body).await.body;
    let path = format!("/api/v2/flows/export/jobs/{}", export["id"].as_str().unwrap());
    assert_eq!(org.get(&path).await.body["status"], "Started");
    tokio::time::sleep(Duration::from_millis(350)).await;
    let exported = org.get(&path).await.body;
    assert_eq!(exported["status"], "Success", "{exported}");
    let download = org.http.get(exported["downloadUrl"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.text().await.unwrap(), FLOW);
}

#[tokio::test]
async fn failed_imports_name_each_problem_with_its_line() {
    let org = TestOrg::default().await;
    let broken = run(&org, "inboundShortMessage:\n  name: [\n").await;
    assert_eq!(broken["status"], "Failure");
    assert!(
        texts(&broken)[0].contains("(line 3, column 1)") || texts(&broken)[0].contains("(line 2"),
        "{broken}"
    );
    let wrong = run(&org, "outboundSms:\n  name: X\n").await;
    assert_eq!(texts(&wrong), ["'outboundSms' is not a supported flow type (line 1, column 1)"]);
    let missing = run(
        &org,
        "inboundShortMessage:
  name: Missing Things
  division: Nowhere
  startUpRef: \"/inboundShortMessage/states/state[Gone]\"
  states:
    - state:
        name: S
        refId: S_1
        actions:
          - findQueue:
              findName:
                lit: Absent Queue
",
    )
    .await;
    assert_eq!(missing["status"], "Failure");
    assert_eq!(
        texts(&missing),
        [
            "Unable to find a division named 'Nowhere' (line 3, column 13)",
            "Unable to find a queue named 'Absent Queue' (line 12, column 22)",
            "startUpRef '/inboundShortMessage/states/state[Gone]' does not resolve to a state or task (line 4, column 15)",
        ]
    );
    assert!(
        missing["messages"][0]["dateTime"].is_string() && missing["messages"][0]["type"] == "Error"
    );
    // A seeded (system) flow is not replaced by an import.
    let system = run(&org, "inboundShortMessage:\n  name: Bot Handover Inbound\n").await;
    assert!(texts(&system)[0].contains("is a system flow"), "{system}");
}

#[tokio::test]
async fn a_flow_locked_by_another_caller_refuses_imports_and_deletes_until_unlocked() {
    let org = TestOrg::default().await;
    let done = run(&org, FLOW).await;
    let flow = done["flow"]["id"].as_str().unwrap().to_string();
    // The admin user locks it; the admin client then tries.
    let user = org.sandbox.user_token().to_string();
    let checkout = format!("/api/v2/flows/actions/checkout?flow={flow}");
    let locked = org.call_as(&user, Method::POST, &checkout, None).await;
    assert_eq!(locked.status, 200, "{:?}", locked.body);
    assert_eq!(locked.body["lockedUser"]["id"], org.sandbox.user_id());
    let refused = run(&org, FLOW).await;
    assert_eq!(refused["status"], "Failure");
    assert!(texts(&refused)[0].contains("is locked by user"), "{refused}");
    assert_eq!(org.call(Method::POST, &checkout, None).await.status, 409);
    assert_eq!(org.delete(&format!("/api/v2/flows/{flow}")).await.status, 409);
    let unlock = format!("/api/v2/flows/actions/unlock?flow={flow}");
    assert_eq!(org.call(Method::POST, &unlock, None).await.status, 200);
    assert_eq!(run(&org, FLOW).await["status"], "Success");
    let versions = org.get(&format!("/api/v2/flows/{flow}/versions")).await.body;
    assert_eq!(versions["total"], 2, "{versions}");
    assert_eq!(org.delete(&format!("/api/v2/flows/{flow}")).await.status, 204);
}
