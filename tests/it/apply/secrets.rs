//! The secret canary: a webhook signature secret and the OAuth client
//! secrets gcctl receives appear in no stdout, stderr, saved plan or JSON
//! event, whether the run succeeds or fails.

use std::process::Output;

use serde_json::json;

use super::{ApplyOrg, assert_exit, secret_files};
use crate::common::{stderr, stdout};

const CANARY: &str = "CANARY-7f3a9c1e5b2d48e6a0c4f8b1d9e2a7c3";

const SET: &str = r"
apiVersion: gcctl/v1
kind: Webhook
metadata: {name: hook}
spec:
  url: https://bot.example.com/hook
  signatureSecret: {fromEnv: CANARY_WEBHOOK_SECRET}
  signatureSecretVersion: VERSION
---
apiVersion: gcctl/v1
kind: OpenMessagingIntegration
metadata: {name: bot}
spec:
  name: Canary Bot
  webhook: hook
  inboundFlow: {name: Bot Handover Inbound}
---
apiVersion: gcctl/v1
kind: Role
metadata: {name: role}
spec:
  name: Canary Role
  permissions: [conversation:message:create]
---
apiVersion: gcctl/v1
kind: OAuthClient
metadata: {name: client}
spec:
  name: Canary Client
  authorizedGrantType: CLIENT-CREDENTIALS
  secretVersion: VERSION
  roleDivisions: [{role: role}]
";

/// A set that fails: the integration ends in `createStatus: Error`, and a
/// second one clashes with an existing name (409 on the POST carrying the secret).
const FAILING: &str = r"
apiVersion: gcctl/v1
kind: OpenMessagingIntegration
metadata: {name: broken}
spec:
  name: sandbox-create-error Canary
  webhook: hook
---
apiVersion: gcctl/v1
kind: OpenMessagingIntegration
metadata: {name: clash}
spec:
  name: Canary Clash
  webhook: hook
---
apiVersion: gcctl/v1
kind: OAuthClient
metadata: {name: second}
spec:
  name: Second Canary Client
  authorizedGrantType: CLIENT-CREDENTIALS
  roleDivisions: [{role: Master Admin}]
";

struct Transcript(String);

impl Transcript {
    fn add(&mut self, output: &Output) {
        self.0.push_str(&stdout(output));
        self.0.push_str(&stderr(output));
    }

    fn assert_clean(&self, secrets: &[String]) {
        assert!(!self.0.contains(CANARY), "the webhook secret leaked:\n{}", self.0);
        for secret in secrets {
            assert!(
                !self.0.contains(secret.as_str()),
                "an OAuth client secret leaked:\n{}",
                self.0
            );
        }
    }
}

fn client_secrets(org: &ApplyOrg) -> Vec<String> {
    secret_files(&org.ctx.path().join("secrets"))
        .into_iter()
        .map(|(_, v, _)| v["clientSecret"].as_str().unwrap().to_string())
        .collect()
}

async fn run(org: &ApplyOrg, transcript: &mut Transcript, args: &[&str]) -> Output {
    let output = org.gcctl(args).await;
    transcript.add(&output);
    output
}

#[tokio::test]
async fn secrets_appear_in_no_output_plan_or_event() {
    let mut org = ApplyOrg::default().await;
    org.ctx.env("CANARY_WEBHOOK_SECRET", CANARY);
    let mut transcript = Transcript(String::new());
    org.ctx.write("set/all.yaml", &SET.replace("VERSION", "1"));
    let apply = ["apply", "--auto-approve", "--secrets-dir", "secrets", "set"];
    assert_exit(&run(&org, &mut transcript, &apply).await, 0);

    // Rotation: both secrets are sent or regenerated again.
    org.ctx.write("set/all.yaml", &SET.replace("VERSION", "2"));
    let plan = ["plan", "--out", "plan.json", "-o", "json", "set"];
    assert_exit(&run(&org, &mut transcript, &plan).await, 0);
    transcript.0.push_str(&fs_err::read_to_string(org.ctx.path().join("plan.json")).unwrap());
    let json = [
        "apply",
        "--auto-approve",
        "--secrets-dir",
        "secrets",
        "-o",
        "json",
        "--plan",
        "plan.json",
    ];
    assert_exit(&run(&org, &mut transcript, &json).await, 0);
    let secrets = client_secrets(&org);
    assert_eq!(secrets.len(), 1);
    transcript.assert_clean(&secrets);

    // Failures: createStatus Error, a 409 on the POST carrying the secret.
    let clash = org
        .org
        .post(
            "/api/v2/conversations/messaging/integrations/open",
            json!({"name": "CANARY CLASH", "outboundNotificationWebhookUrl": "https://x.example.com/h",
                   "outboundNotificationWebhookSignatureSecretToken": "another-secret-0123456789"}),
        )
        .await;
    assert_eq!(clash.status, 200, "{:?}", clash.body);
    org.ctx.write("set/failing.yaml", FAILING);
    for output in ["text", "json"] {
        let args = ["apply", "--auto-approve", "--secrets-dir", "secrets", "-o", output, "set"];
        let failed = run(&org, &mut transcript, &args).await;
        assert_exit(&failed, 1);
    }
    assert!(
        transcript.0.contains("Canary Clash") && transcript.0.contains("409"),
        "{}",
        transcript.0
    );
    let secrets = client_secrets(&org);
    assert_eq!(secrets.len(), 2, "the second client's secret was saved");
    transcript.assert_clean(&secrets);

    // A run refused before any change.
    fs_err::remove_file(org.ctx.path().join("set/failing.yaml")).unwrap();
    org.ctx.env("CANARY_WEBHOOK_SECRET", "tiny-canary-9");
    org.ctx.write("set/all.yaml", &SET.replace("VERSION", "3"));
    let refused =
        run(&org, &mut transcript, &["apply", "--auto-approve", "--secrets-dir", "secrets", "set"])
            .await;
    assert_exit(&refused, 1);
    assert!(stderr(&refused).contains("at least 16"), "{}", stderr(&refused));
    assert!(!stderr(&refused).contains("tiny-canary-9"), "{}", stderr(&refused));
    transcript.assert_clean(&secrets);
}

/// A run that dies between creating an OAuth client and writing its secret
/// leaves `NAME.pending.json`. The next apply regenerates the secret, says
/// why, writes it, and then plans clean; with `--no-restore-secrets` it only
/// says so. (The crash is staged: the client is made through the API and the
/// record written as the dying run would have left it.)
#[tokio::test]
async fn a_secret_a_crashed_create_left_unrecorded_is_regenerated_and_said_so() {
    let org = ApplyOrg::default().await;
    org.ctx.write(
        "set/client.yaml",
        "apiVersion: gcctl/v1\nkind: OAuthClient\nmetadata: {name: crash}\nspec:\n  name: Crash Client\n  authorizedGrantType: CLIENT-CREDENTIALS\n  roleDivisions: [{role: Master Admin, division: Home}]\n",
    );
    let master = org.one(super::ROLES, "Master Admin").await;
    let home = org.get("/api/v2/authorization/divisions/home").await.body;
    let created = org
        .org
        .post(
            "/api/v2/oauth/clients",
            json!({"name": "Crash Client", "authorizedGrantType": "CLIENT-CREDENTIALS",
                "roleDivisions": [{"roleId": master["id"], "divisionId": home["id"]}]}),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    let pending = org.ctx.path().join("s/Crash_20Client.pending.json");
    org.ctx.write("s/Crash_20Client.pending.json", "{\"name\": \"Crash Client\"}\n");

    let opted_out = org
        .gcctl(&["apply", "--auto-approve", "--secrets-dir", "s", "--no-restore-secrets", "set"])
        .await;
    assert_exit(&opted_out, 0);
    assert!(stderr(&opted_out).contains("did not record its secret"), "{}", stderr(&opted_out));
    assert!(stderr(&opted_out).contains("left as is"), "{}", stderr(&opted_out));
    assert!(pending.exists(), "the record stays until the secret is restored");

    // The plan shows the restoration when it knows where secrets go, and a
    // saved plan made so applies with it.
    let planned = org
        .gcctl(&["plan", "--detailed-exitcode", "--secrets-dir", "s", "--out", "p.json", "set"])
        .await;
    assert_exit(&planned, 2);
    assert!(stderr(&planned).contains("it will be regenerated"), "{}", stderr(&planned));
    assert!(stdout(&planned).contains("secretVersion"), "{}", stdout(&planned));
    let without_dir = org.gcctl(&["plan", "--detailed-exitcode", "set"]).await;
    assert_exit(&without_dir, 0);
    let saved = fs_err::read_to_string(org.ctx.path().join("p.json")).unwrap();
    assert!(saved.contains("\"secrets_dir\": \"s\""), "{saved}");

    let restored =
        org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "s", "--plan", "p.json"]).await;
    assert_exit(&restored, 0);
    let err = stderr(&restored);
    assert!(
        err.contains("OAuthClient/crash: the run that created it did not record its secret"),
        "{err}"
    );
    assert!(err.contains("it will be regenerated"), "{err}");
    assert!(!pending.exists(), "the record is cleared once the secret is written");
    let files = secret_files(&org.ctx.path().join("s"));
    assert_eq!(files.len(), 1, "{files:?}");
    let (file, secret, mode) = &files[0];
    assert_eq!((file.as_str(), *mode), (format!("Crash_Client.{id}.json").as_str(), 0o600));
    // The written secret is the client's working secret.
    let base = org.org.sandbox.base_url();
    let secret = secret["clientSecret"].as_str().unwrap();
    crate::sandbox::mint(&org.org.http, &base, &id, secret)
        .await
        .expect("the restored secret works");
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}

const CODE_CLIENT: &str = "apiVersion: gcctl/v1\nkind: OAuthClient\nmetadata: {name: app}\nspec:\n  name: App Client\n  authorizedGrantType: CODE\n  scope: [routing]\n  registeredRedirectUri: [\"https://app.example.com/callback\"]\n";

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    fs_err::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// gcctl changes the permissions only of directories it creates:
/// `--secrets-dir .` (the project directory, 0755) is refused before any
/// change rather than made 0700, and a shared lock directory is warned
/// about and left as it is. A directory gcctl creates is 0700.
#[tokio::test]
async fn directories_gcctl_did_not_create_keep_their_permissions() {
    let mut org = ApplyOrg::default().await;
    org.ctx.write("set/client.yaml", CODE_CLIENT);
    let project = org.ctx.path().to_path_buf();
    set_mode(&project, 0o755);
    let shared = project.join("shared-locks");
    fs_err::create_dir(&shared).unwrap();
    set_mode(&shared, 0o777);
    org.ctx.env("GCCTL_LOCK_DIR", &shared.display().to_string());

    let refused = org.gcctl(&["apply", "--auto-approve", "--secrets-dir", ".", "set"]).await;
    assert_exit(&refused, 1);
    let err = stderr(&refused);
    assert!(err.contains("--secrets-dir . is open to other users (mode 0755)"), "{err}");
    assert!(err.contains("chmod 700 ."), "{err}");
    assert!(
        err.contains(&format!(
            "warning: the apply lock directory {} is open to other users (mode 0777)",
            shared.display()
        )),
        "{err}"
    );
    assert!(org.named(super::CLIENTS, "App Client").await.is_empty(), "nothing was created");
    assert_eq!((mode(&project), mode(&shared)), (0o755, 0o777));

    let applied =
        org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "new/secrets", "set"]).await;
    assert_exit(&applied, 0);
    assert_eq!((mode(&project.join("new")), mode(&project.join("new/secrets"))), (0o700, 0o700));
    assert_eq!((mode(&project), mode(&shared)), (0o755, 0o777));
}
