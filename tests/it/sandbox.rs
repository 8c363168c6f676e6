//! The sandbox org over real HTTP: every endpoint, pagination edges, auth
//! failures, the realism knobs, persistence and observability. The model
//! fidelity check lives in `fidelity`.

mod access;
mod fidelity;
mod flows;
mod knobs;
mod messaging_settings;
mod resources;
mod rules;
mod web_messaging;

use std::time::{Duration, Instant};

use gcctl::sandbox::{RunningSandbox, SandboxConfig, start};
use reqwest::Method;
use serde_json::{Value, json};

/// A running sandbox plus an HTTP client holding a token for it.
pub struct TestOrg {
    pub sandbox: RunningSandbox,
    pub http: reqwest::Client,
    pub token: String,
}

/// One answer: status, correlation header and JSON body (`Null` if empty).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub correlation: Option<String>,
    pub retry_after: Option<String>,
    pub body: Value,
}

impl TestOrg {
    pub async fn start(config: SandboxConfig) -> TestOrg {
        let sandbox = start(config).await.expect("sandbox starts");
        let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client");
        let token = mint(&http, &sandbox.base_url(), sandbox.client_id(), sandbox.client_secret())
            .await
            .expect("admin token");
        TestOrg { sandbox, http, token }
    }

    pub async fn default() -> TestOrg {
        TestOrg::start(SandboxConfig::default()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.try_call(method, path, body).await.expect("request answered")
    }

    pub async fn try_call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Result<Answer> {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request.send().await?).await
    }

    /// Call with another bearer token (the seeded user's, a created client's).
    pub async fn call_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request.send().await.expect("request answered")).await.expect("answer")
    }

    /// Give the admin OAuth client `role` in `division` the way a real org
    /// allows it: the seeded admin user grants the role to itself (granting
    /// to a user needs only `authorization:grant:add`), then to the client
    /// (granting to an OAuth client needs the granter to hold the role there).
    pub async fn grant_admin_client(&self, role: &str, division: &str) {
        let user = self.sandbox.user_id();
        let client = self.sandbox.client_id();
        let subjects = "/api/v2/authorization/subjects";
        for path in [
            format!("{subjects}/{user}/divisions/{division}/roles/{role}"),
            format!(
                "{subjects}/{client}/divisions/{division}/roles/{role}?subjectType=PC_OAUTH_CLIENT"
            ),
        ] {
            let answer = self.call_as(self.sandbox.user_token(), Method::POST, &path, None).await;
            assert_eq!(answer.status, 204, "{path}: {answer:?}");
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None).await
    }

    /// The id of the first object named `name` in a listing.
    pub async fn id_named(&self, list_path: &str, name: &str) -> String {
        let listing = self.get(list_path).await;
        listing.body["entities"]
            .as_array()
            .and_then(|e| e.iter().find(|x| x["name"] == name))
            .and_then(|x| x["id"].as_str())
            .unwrap_or_else(|| panic!("no {name} in {list_path}: {}", listing.body))
            .to_string()
    }

    /// Queue a fault on one route (`POST /_sandbox/faults`).
    pub async fn route_fault(&self, fault: Value) {
        let response =
            self.http.post(self.url("/_sandbox/faults")).json(&fault).send().await.expect("faults");
        assert_eq!(response.status().as_u16(), 200, "{fault}");
    }

    pub async fn stats(&self) -> Value {
        let response = self.http.get(self.url("/_sandbox/stats")).send().await.expect("stats");
        response.json().await.expect("stats json")
    }
}

pub async fn answer(response: reqwest::Response) -> reqwest::Result<Answer> {
    let status = response.status().as_u16();
    let header =
        |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let correlation = header("inin-correlation-id");
    let retry_after = header("retry-after");
    let text = response.text().await?;
    let body =
        if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("JSON body") };
    Ok(Answer { status, correlation, retry_after, body })
}

/// `POST /oauth/token` with HTTP Basic credentials.
pub async fn mint(
    http: &reqwest::Client,
    base: &str,
    id: &str,
    secret: &str,
) -> Result<String, Answer> {
    let response = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token endpoint answers");
    let answer = answer(response).await.expect("token body");
    match answer.body["access_token"].as_str() {
        Some(token) if answer.status == 200 => Ok(token.to_string()),
        _ => Err(answer),
    }
}

/// Poll `check` until it returns true or the deadline passes.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(5);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Assert an `ErrorBody` with the given status, the correlation id echoed,
/// and (if given) a detail naming `field`.
pub fn assert_error(answer: &Answer, status: u16, field: Option<&str>) {
    assert_eq!(answer.status, status, "unexpected answer: {answer:?}");
    let body = &answer.body;
    assert_eq!(body["status"], json!(status), "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(body["code"].is_string(), "{body}");
    assert!(body["details"].is_array() && body["errors"].is_array(), "{body}");
    assert_eq!(
        body["contextId"].as_str(),
        answer.correlation.as_deref(),
        "contextId must match the header"
    );
    if let Some(field) = field {
        let named =
            body["details"].as_array().into_iter().flatten().any(|d| d["fieldName"] == field);
        assert!(named, "error should name field {field}: {body}");
    }
}

#[tokio::test]
async fn token_endpoint_and_auth_failures() {
    let org = TestOrg::default().await;
    let base = org.sandbox.base_url();
    // No token, bad token.
    let missing = answer(org.http.get(org.url("/api/v2/routing/queues")).send().await.unwrap())
        .await
        .unwrap();
    assert_error(&missing, 401, None);
    assert_eq!(missing.body["code"], "authentication.required");
    let bad = answer(
        org.http.get(org.url("/api/v2/routing/queues")).bearer_auth("nope").send().await.unwrap(),
    )
    .await
    .unwrap();
    assert_error(&bad, 401, None);
    assert_eq!(bad.body["code"], "bad.credentials");
    // Bad secret, unknown client, wrong grant.
    let refused = mint(&org.http, &base, org.sandbox.client_id(), "wrong").await.unwrap_err();
    assert_eq!(refused.status, 401);
    assert_eq!(refused.body["error"], "invalid_client");
    assert_eq!(mint(&org.http, &base, "unknown", "x").await.unwrap_err().status, 401);
    let grant = org
        .http
        .post(format!("{base}/oauth/token"))
        .basic_auth(org.sandbox.client_id(), Some(org.sandbox.client_secret()))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(grant.status().as_u16(), 400);
    // The good token works and the token answer has the real shape.
    let ok = org
        .http
        .post(format!("{base}/oauth/token"))
        .basic_auth(org.sandbox.client_id(), Some(org.sandbox.client_secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 86_400);
    assert_eq!(org.get("/api/v2/routing/queues").await.status, 200);
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let config =
        SandboxConfig { token_lifetime: Duration::from_millis(150), ..SandboxConfig::default() };
    let org = TestOrg::start(config).await;
    assert_eq!(org.get("/api/v2/authorization/divisions/home").await.status, 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let expired = org.get("/api/v2/authorization/divisions/home").await;
    assert_error(&expired, 401, None);
    assert_eq!(expired.body["code"], "bad.credentials");
}

#[tokio::test]
async fn non_loopback_listen_is_refused() {
    let config = SandboxConfig { listen: "0.0.0.0:0".parse().unwrap(), ..SandboxConfig::default() };
    let err = start(config).await.unwrap_err();
    assert!(err.to_string().contains("non-loopback"), "{err}");
}

#[tokio::test]
async fn errors_have_error_bodies_and_correlation_ids() {
    let org = TestOrg::default().await;
    let ok = org.get("/api/v2/flows").await;
    assert!(ok.correlation.as_deref().is_some_and(|c| c.len() == 36), "{ok:?}");
    assert_error(
        &org.get("/api/v2/routing/queues/00000000-0000-0000-0000-000000000000").await,
        404,
        None,
    );
    assert_error(&org.get("/api/v2/no/such/route").await, 404, None);
    assert_error(&org.call(Method::PATCH, "/api/v2/routing/queues", None).await, 405, None);
    // Malformed JSON, a non-object body, wrong types, huge numbers.
    let raw = org
        .http
        .post(org.url("/api/v2/routing/queues"))
        .bearer_auth(&org.token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    let malformed = answer(raw).await.unwrap();
    assert_error(&malformed, 400, None);
    assert_eq!(malformed.body["code"], "bad.request");
    assert_error(&org.post("/api/v2/routing/queues", json!([1, 2])).await, 400, None);
    assert_error(&org.post("/api/v2/routing/queues", json!({"name": 5})).await, 400, Some("name"));
    let types = org
        .post("/api/v2/routing/queues", json!({"name": "q", "enableTranscription": "yes"}))
        .await;
    assert_error(&types, 400, Some("enableTranscription"));
    let huge = org
        .post("/api/v2/oauth/clients", json!({"name": "c", "authorizedGrantType": "CLIENT-CREDENTIALS", "accessTokenValiditySeconds": 1e300}))
        .await;
    assert_error(&huge, 400, Some("accessTokenValiditySeconds"));
    let size = org.get("/api/v2/routing/queues?pageSize=99999999999999999999999").await;
    assert_error(&size, 400, Some("pageSize"));
}

#[tokio::test]
async fn serve_prints_the_address_and_credentials_first() {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gcctl"))
        .args([
            "sandbox",
            "serve",
            "--no-request-log",
            "--client-id",
            "cli-test",
            "--client-secret",
            "s3cret",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("gcctl runs");
    let stdout = child.stdout.take().expect("stdout");
    let lines: Vec<String> =
        std::io::BufReader::new(stdout).lines().take(11).map(Result::unwrap).collect();
    let url = lines[0]
        .strip_prefix("listening on http://127.0.0.1:")
        .map(|port| format!("http://127.0.0.1:{port}"));
    assert!(url.as_deref().is_some_and(|u| u.len() > "http://127.0.0.1:".len()), "{lines:?}");
    assert_eq!(lines[1..3], ["client id: cli-test", "client secret: s3cret"]);
    let http = reqwest::Client::new();
    let token = mint(&http, url.as_deref().unwrap(), "cli-test", "s3cret").await;
    // The seeded user's token, commented out so that evaluating the block
    // keeps the client credentials in charge.
    let user_token = lines
        .iter()
        .find_map(|line| line.strip_prefix("# export GENESYSCLOUD_ACCESS_TOKEN="))
        .map(str::to_string);
    let me = match &user_token {
        Some(token) => {
            let me = http
                .get(format!("{}/api/v2/users/me", url.as_deref().unwrap()))
                .bearer_auth(token)
                .send()
                .await
                .expect("users/me answers");
            Some(me.json::<Value>().await.expect("JSON"))
        }
        None => None,
    };
    child.kill().expect("stop the child");
    child.wait().expect("child exits");
    assert!(token.is_ok(), "the printed credentials work");
    assert!(lines.iter().all(|l| !l.starts_with("export GENESYSCLOUD_ACCESS_TOKEN")), "{lines:?}");
    let me = me.unwrap_or_else(|| panic!("no user token in {lines:?}"));
    assert_eq!(me["name"], gcctl::sandbox::ADMIN_USER_NAME, "the printed user token works");
}

/// The binary turns transparent huge pages off for itself (`src/main.rs`):
/// the kernel reports it in `/proc/PID/status` (`THP_enabled`, Linux 5.0+).
#[cfg(target_os = "linux")]
#[test]
fn the_binary_runs_without_transparent_huge_pages() {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gcctl"))
        .args(["sandbox", "serve", "--no-request-log"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("gcctl runs");
    let stdout = child.stdout.take().expect("stdout");
    // Its first line: `main` has run.
    let first = std::io::BufReader::new(stdout).lines().next();
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id()));
    child.kill().expect("stop the child");
    child.wait().expect("child exits");
    assert!(first.is_some_and(|l| l.is_ok_and(|l| l.starts_with("listening on"))));
    let status = status.expect("/proc/PID/status");
    let thp = status.lines().find_map(|l| l.strip_prefix("THP_enabled:")).map(str::trim);
    assert_eq!(thp, Some("0"), "{status}");
}
