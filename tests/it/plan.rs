//! `gcctl plan` end to end: the real binary against a sandbox org on
//! 127.0.0.1, with the org prepared directly through the Genesys API (as an
//! admin would through the UI), never through gcctl. Request costs are read
//! from the sandbox's own counters (`/_sandbox/stats`).

mod contract;
mod cost;
mod early;
mod errors;
mod examples;
mod lean;
mod scopes;
mod wildcards;

use std::process::Output;

use gcctl::sandbox::SandboxConfig;
use serde_json::{Value, json};

use crate::common::{TestContext, render, repo_root};
use crate::sandbox::TestOrg;

/// A sandbox org, an admin HTTP client for it, and a gcctl test context
/// whose environment points the binary at the org.
pub struct PlanOrg {
    pub org: TestOrg,
    pub ctx: TestContext,
}

impl PlanOrg {
    pub async fn start(config: SandboxConfig) -> PlanOrg {
        let org = TestOrg::start(config).await;
        let mut ctx = TestContext::new();
        ctx.env("GENESYSCLOUD_REGION", &org.sandbox.base_url())
            .env("GENESYSCLOUD_OAUTHCLIENT_ID", org.sandbox.client_id())
            .env("GENESYSCLOUD_OAUTHCLIENT_SECRET", org.sandbox.client_secret())
            // As the seeded admin user (the token wins): it may grant roles.
            .env("GENESYSCLOUD_ACCESS_TOKEN", org.sandbox.user_token());
        PlanOrg { org, ctx }
    }

    pub async fn default() -> PlanOrg {
        PlanOrg::start(SandboxConfig::default()).await
    }

    /// Run `gcctl ARGS` off the runtime's threads (the sandbox serves on them).
    pub async fn gcctl(&self, args: &[&str]) -> Output {
        let mut command = self.ctx.command();
        command.args(args);
        tokio::task::spawn_blocking(move || command.output().expect("run gcctl"))
            .await
            .expect("gcctl finished")
    }

    /// Run and render exit code, stdout and stderr with unstable parts replaced.
    pub async fn snapshot(&self, args: &[&str]) -> String {
        let output = self.gcctl(args).await;
        self.render(&output)
    }

    pub fn render(&self, output: &Output) -> String {
        let text = render(output, &[(self.ctx.path(), "[TEMP]"), (&repo_root(), "[REPO]")]);
        text.replace(&self.org.sandbox.base_url(), "[SANDBOX]")
    }

    /// Write a manifest file in the context's directory; returns its path as text.
    pub fn manifest(&self, relative: &str, yaml: &str) -> String {
        self.ctx.write(relative, yaml).display().to_string()
    }

    pub async fn reset_stats(&self) {
        let reset = self.org.http.post(self.org.url("/_sandbox/reset")).send().await.unwrap();
        assert!(reset.status().is_success());
    }

    /// POST an object and return its id, failing on anything but 200.
    pub async fn create(&self, path: &str, body: Value) -> Value {
        let answer = self.org.post(path, body).await;
        assert_eq!(answer.status, 200, "POST {path}: {:?}", answer.body);
        answer.body
    }

    pub async fn home(&self) -> String {
        let home = self.org.get("/api/v2/authorization/divisions/home").await;
        home.body["id"].as_str().expect("home division id").to_string()
    }

    /// The id of the flow with this name and type.
    pub async fn flow(&self, name: &str, flow_type: &str) -> String {
        let path = format!("/api/v2/flows?type={}&pageSize=500", flow_type.to_lowercase());
        self.org.id_named(&path, name).await
    }
}

/// Redactions for plan snapshots: GUIDs, timings and digests.
pub fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[ID]");
    settings.add_filter(r"in \d+\.\ds\.", "in [TIME].");
    settings.add_filter(r"sha256:[0-9a-f]+", "sha256:[DIGEST]");
    settings
}

/// `exit` code of a run.
pub fn code(output: &Output) -> Option<i32> {
    output.status.code()
}

/// A plan's JSON output.
pub fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("plan JSON: {e}\n{}", String::from_utf8_lossy(&output.stdout)))
}

/// The changes of a JSON plan that are not no-ops, as `(action, address)`.
pub fn actions(plan: &Value) -> Vec<(String, String)> {
    plan["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["action"] != "no-op")
        .map(|c| {
            let name = c["manifest_name"].as_str().or(c["org_name"].as_str()).unwrap_or_default();
            (c["action"].as_str().unwrap_or_default().to_string(), format!("{}/{name}", c["kind"]))
        })
        .map(|(a, n)| (a, n.replace('"', "")))
        .collect()
}

/// A role body with the permission policies the UI sends.
pub fn role_body(
    name: &str,
    description: Option<&str>,
    policies: &[(&str, &str, &[&str])],
) -> Value {
    let policies: Vec<Value> = policies
        .iter()
        .map(|(domain, entity, actions)| {
            json!({"domain": domain, "entityName": entity, "actionSet": actions})
        })
        .collect();
    let mut body = json!({"name": name, "permissionPolicies": policies});
    if let Some(description) = description {
        body["description"] = json!(description);
    }
    body
}
