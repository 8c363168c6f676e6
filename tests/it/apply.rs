//! `gcctl apply` end to end: the acceptance scenarios. Each test
//! starts its own sandbox org in the test process (`gcctl::sandbox::start`),
//! runs the real binary against it (or the library, for property tests) and
//! checks the org through the API with reqwest.

mod access;
mod cli;
mod contract;
mod duplicates;
mod examples;
mod faults;
mod hints;
mod interrupt;
mod lock;
mod owned;
mod pool;
pub mod props;
mod prune;
mod rules;
mod saved;
mod secrets;
mod select;
mod soak;

use std::path::Path;
use std::process::Output;

use gcctl::sandbox::SandboxConfig;
use serde_json::Value;

use crate::common::TestContext;
use crate::sandbox::TestOrg;

/// Webhook secret variables used by the sample repo and the examples.
pub const WEBHOOK_SECRET_VARS: [&str; 4] = [
    "ACME_BOT_WEBHOOK_SECRET",
    "COGNIGY_WEBHOOK_SECRET",
    "BOT_ENGINE_HMAC_SECRET",
    "SESSION_STORE_WEBHOOK_SECRET",
];

/// A sandbox org plus a test context whose `gcctl` points at it.
pub struct ApplyOrg {
    pub org: TestOrg,
    pub ctx: TestContext,
}

impl ApplyOrg {
    pub async fn start(config: SandboxConfig) -> ApplyOrg {
        let org = TestOrg::start(config).await;
        let mut ctx = TestContext::new();
        ctx.env("GENESYSCLOUD_REGION", &org.sandbox.base_url())
            .env("GENESYSCLOUD_OAUTHCLIENT_ID", org.sandbox.client_id())
            .env("GENESYSCLOUD_OAUTHCLIENT_SECRET", org.sandbox.client_secret())
            // As the seeded admin user (the token wins over the client
            // credentials): a user who may grant roles, so that a new role
            // can be granted to a new OAuth client in one run. Tests of the
            // client-credentials path call `as_client`.
            .env("GENESYSCLOUD_ACCESS_TOKEN", org.sandbox.user_token())
            // No client-side pacing: the sandbox's own limit (if any) is under test.
            .env("GCCTL_RATE_LIMIT", "0");
        for var in WEBHOOK_SECRET_VARS {
            ctx.env(var, &format!("{}-webhook-secret-0123456789", var.to_ascii_lowercase()));
        }
        ApplyOrg { org, ctx }
    }

    /// Run gcctl as the sandbox's admin OAuth client (client credentials)
    /// instead of its admin user.
    pub fn as_client(&mut self) -> &mut Self {
        self.ctx.env("GENESYSCLOUD_ACCESS_TOKEN", "");
        self
    }

    /// Run gcctl as a new OAuth client (client credentials) holding a new
    /// role of these policies in the Home division.
    pub async fn run_as_client_with(&mut self, name: &str, policies: Value) {
        let role = self
            .org
            .post(ROLES, serde_json::json!({"name": name, "permissionPolicies": policies}))
            .await;
        assert_eq!(role.status, 200, "{:?}", role.body);
        let home = self.get("/api/v2/authorization/divisions/home").await.body;
        let (role_id, home_id) = (role.body["id"].as_str().unwrap(), home["id"].as_str().unwrap());
        self.org.grant_admin_client(role_id, home_id).await;
        let client = self
            .org
            .post(
                CLIENTS,
                serde_json::json!({"name": name, "authorizedGrantType": "CLIENT-CREDENTIALS",
                    "roleDivisions": [{"roleId": role_id, "divisionId": home_id}]}),
            )
            .await;
        assert_eq!(client.status, 200, "{:?}", client.body);
        self.as_client()
            .ctx
            .env("GENESYSCLOUD_OAUTHCLIENT_ID", client.body["id"].as_str().unwrap())
            .env("GENESYSCLOUD_OAUTHCLIENT_SECRET", client.body["secret"].as_str().unwrap());
    }

    /// Clear the sandbox's request counters.
    pub async fn reset_stats(&self) {
        let reset = self.org.http.post(self.org.url("/_sandbox/reset")).send().await.unwrap();
        assert!(reset.status().is_success());
    }

    pub async fn default() -> ApplyOrg {
        ApplyOrg::start(SandboxConfig::default()).await
    }

    /// Run `gcctl ARGS` in the context's directory without blocking the
    /// runtime that serves the sandbox.
    pub async fn gcctl(&self, args: &[&str]) -> Output {
        let mut command = tokio::process::Command::from(self.ctx.command());
        command.args(args).stdin(std::process::Stdio::null());
        command.output().await.expect("gcctl runs")
    }

    /// Every object of a collection (all pages).
    pub async fn list(&self, path: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let separator = if path.contains('?') { '&' } else { '?' };
        for page in 1.. {
            let answer = self.get(&format!("{path}{separator}pageNumber={page}")).await;
            all.extend(answer.body["entities"].as_array().cloned().unwrap_or_default());
            let page_count = answer.body["pageCount"].as_u64().unwrap_or(1);
            if u64::try_from(page).unwrap() >= page_count {
                break;
            }
        }
        all
    }

    /// GET, retried through the sandbox's faults and rate limit (the org
    /// under test may be a hostile one).
    /// The create journal gcctl keeps for this org (beside its apply lock,
    /// under the context's `.locks`).
    pub async fn journal(&self) -> gcctl::apply::journal::CreateJournal {
        let me = self.get("/api/v2/organizations/me").await.body;
        let org_id = me["id"].as_str().expect("the org's id");
        let lock = gcctl::apply::lock::lock_path(&self.ctx.path().join(".locks"), org_id);
        gcctl::apply::journal::CreateJournal::new(lock.with_extension("journal"))
    }

    pub async fn get(&self, path: &str) -> crate::sandbox::Answer {
        let mut last = String::new();
        for attempt in 1..=20_u32 {
            match self.org.try_call(reqwest::Method::GET, path, None).await {
                Ok(answer) if answer.status == 200 => return answer,
                Ok(answer) if answer.status == 429 || answer.status >= 500 => {
                    last = format!("{}: {}", answer.status, answer.body);
                }
                Ok(answer) => panic!("GET {path}: {} {}", answer.status, answer.body),
                Err(err) => last = err.to_string(),
            }
            tokio::time::sleep(std::time::Duration::from_millis(100 * u64::from(attempt))).await;
        }
        panic!("GET {path} kept failing: {last}");
    }

    /// The objects of a collection with exactly this name.
    pub async fn named(&self, path: &str, name: &str) -> Vec<Value> {
        self.list(path).await.into_iter().filter(|o| o["name"] == name).collect()
    }

    /// The single object with this name (panics on none or several).
    pub async fn one(&self, path: &str, name: &str) -> Value {
        let found = self.named(path, name).await;
        assert_eq!(found.len(), 1, "exactly one {name} in {path}: {found:?}");
        found.into_iter().next().unwrap()
    }
}

pub const QUEUES: &str = "/api/v2/routing/queues?pageSize=500";
pub const ROLES: &str = "/api/v2/authorization/roles?pageSize=100";
pub const CLIENTS: &str = "/api/v2/oauth/clients";
pub const INTEGRATIONS: &str = "/api/v2/conversations/messaging/integrations/open?pageSize=100";
pub const CONTENT: &str = "/api/v2/conversations/messaging/supportedcontent?pageSize=100";
pub const WRAPUP_CODES: &str = "/api/v2/routing/wrapupcodes?pageSize=100";

/// Assert an exit code, showing the output when it differs.
#[track_caller]
pub fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Copy a directory tree (manifests, examples) into a test directory.
pub fn copy_tree(from: &Path, to: &Path) {
    fs_err::create_dir_all(to).expect("create dir");
    for entry in fs_err::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs_err::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// The secret files in a secrets directory: (file name, parsed JSON, mode).
pub fn secret_files(dir: &Path) -> Vec<(String, Value, u32)> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut files: Vec<(String, Value, u32)> = fs_err::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.expect("dir entry").path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .map(|p| {
                    let text = fs_err::read_to_string(&p).expect("read secret file");
                    let mode = fs_err::metadata(&p).expect("metadata").permissions().mode();
                    let name = p.file_name().unwrap().to_string_lossy().into_owned();
                    (name, serde_json::from_str(&text).expect("secret file is JSON"), mode & 0o777)
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

/// A secret file for this client id whose secret mints a token (retried
/// through the sandbox's faults).
pub async fn has_working_secret(org: &ApplyOrg, dir: &Path, id: &str) -> bool {
    let Some(secret) = fs_err::read_dir(dir).into_iter().flatten().flatten().find_map(|entry| {
        let text = fs_err::read_to_string(entry.path()).ok()?;
        let value: Value = serde_json::from_str(&text).ok()?;
        (value["clientId"] == id).then(|| value["clientSecret"].as_str().map(str::to_string))?
    }) else {
        return false;
    };
    let base = org.org.sandbox.base_url();
    for _ in 0..20 {
        let answer = org
            .org
            .http
            .post(format!("{base}/oauth/token"))
            .basic_auth(id, Some(&secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await;
        match answer.map(|a| a.status().as_u16()) {
            Ok(200) => return true,
            Ok(401 | 400) => return false,
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    false
}

/// The live OAuth clients of the declared names in `objects` (every one, if
/// a name has several) without a working secret in `dir`, by name and id.
pub async fn lost_secrets(
    org: &ApplyOrg,
    objects: &[(&'static str, String)],
    dir: &Path,
) -> Vec<String> {
    let live = org.list(CLIENTS).await;
    let mut lost = Vec::new();
    for (_, name) in objects.iter().filter(|(c, _)| *c == CLIENTS) {
        for client in live.iter().filter(|o| o["name"] == name.as_str()) {
            let id = client["id"].as_str().unwrap_or_default();
            if !has_working_secret(org, dir, id).await {
                lost.push(format!("{name} ({id})"));
            }
        }
    }
    lost
}
