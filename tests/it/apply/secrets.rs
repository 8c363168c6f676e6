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
/// leaves the client marked in the org (its description ends with
/// `[gcctl:secret-unrecorded]` until the secret is written), so any later run
/// sees it, on any machine. A plain `plan` (no `--secrets-dir`: a fresh CI
/// runner) plans the regeneration and says why, instead of "No changes";
/// `--no-restore-secrets` only reports it; apply regenerates the secret,
/// writes it and clears the mark; export shows neither the mark nor a
/// version 0. (The crash is staged: the client is made through the API with
/// the description gcctl's create sends.)
#[tokio::test]
async fn a_secret_a_crashed_create_left_unrecorded_is_regenerated_and_said_so() {
    let org = ApplyOrg::default().await;
    org.ctx.write(
        "set/client.yaml",
        "apiVersion: gcctl/v1\nkind: OAuthClient\nmetadata: {name: crash}\nspec:\n  name: Crash Client\n  description: Crash bot\n  authorizedGrantType: CLIENT-CREDENTIALS\n  roleDivisions: [{role: Master Admin, division: Home}]\n",
    );
    let master = org.one(super::ROLES, "Master Admin").await;
    let home = org.get("/api/v2/authorization/divisions/home").await.body;
    let created = org
        .org
        .post(
            "/api/v2/oauth/clients",
            json!({"name": "Crash Client", "description": "Crash bot [gcctl:secret-unrecorded]",
                "authorizedGrantType": "CLIENT-CREDENTIALS",
                "roleDivisions": [{"roleId": master["id"], "divisionId": home["id"]}]}),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    let warning = "OAuthClient/crash: a run did not record its secret";

    let planned = org.gcctl(&["plan", "--detailed-exitcode", "set"]).await;
    assert_exit(&planned, 2);
    let out = stdout(&planned);
    assert!(out.contains("its secret was never recorded: apply regenerates it"), "{out}");
    assert!(
        out.contains(
            "/secretVersion: (write-only) will be regenerated: no secret was recorded; version 1"
        ),
        "{out}"
    );
    assert!(stderr(&planned).contains(warning), "{}", stderr(&planned));
    let markdown = org.gcctl(&["plan", "-o", "markdown", "set"]).await;
    assert!(stdout(&markdown).contains("its secret was never recorded"), "{}", stdout(&markdown));
    let drift = org.gcctl(&["drift", "set"]).await;
    assert!(stdout(&drift).contains("its secret was never recorded"), "{}", stdout(&drift));
    assert!(stderr(&drift).contains(warning), "{}", stderr(&drift));

    let exported = org.gcctl(&["export", "--kinds", "oauthclient"]).await;
    assert_exit(&exported, 0);
    let yaml = stdout(&exported);
    assert!(
        yaml.contains("description: Crash bot\n") && yaml.contains("secretVersion: 1"),
        "{yaml}"
    );
    assert!(!yaml.contains("gcctl:secret"), "{yaml}");
    assert!(stderr(&exported).contains("its secret was never recorded"), "{}", stderr(&exported));

    let opted_out = org
        .gcctl(&["apply", "--auto-approve", "--secrets-dir", "s", "--no-restore-secrets", "set"])
        .await;
    assert_exit(&opted_out, 0);
    assert!(
        stderr(&opted_out).contains("left as is (--no-restore-secrets)"),
        "{}",
        stderr(&opted_out)
    );
    let live = org.one(super::CLIENTS, "Crash Client").await;
    assert_eq!(live["description"], "Crash bot [gcctl:secret-unrecorded]");

    // A reviewed saved plan includes the restoration, and applies with it.
    let saved = org.gcctl(&["plan", "--secrets-dir", "s", "--out", "p.json", "set"]).await;
    assert_exit(&saved, 0);
    let restored =
        org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "s", "--plan", "p.json"]).await;
    assert_exit(&restored, 0);
    let err = stderr(&restored);
    assert!(
        err.contains(warning) && err.contains("apply regenerates it and writes it to s"),
        "{err}"
    );
    let files = secret_files(&org.ctx.path().join("s"));
    assert_eq!(files.len(), 1, "{files:?}");
    let (file, _, mode) = &files[0];
    assert_eq!((file.as_str(), *mode), (format!("Crash_Client.{id}.json").as_str(), 0o600));
    assert!(super::has_working_secret(&org, &org.ctx.path().join("s"), &id).await);
    let live = org.one(super::CLIENTS, "Crash Client").await;
    assert_eq!(live["description"], "Crash bot", "the mark is cleared");
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}

/// The create succeeds and writes the secret, then the step that clears the
/// org's mark fails: the run reports the client as created, with its id, and
/// fails. The next run, with the same `--secrets-dir`, finds the secret
/// recorded and only clears the mark: the secret is not rotated.
#[tokio::test]
async fn a_client_whose_later_step_failed_is_reported_created_and_its_secret_kept() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/client.yaml", APP_CLIENT);
    let route = "PUT /api/v2/oauth/clients/{clientId}";
    org.org.route_fault(json!({"route": route, "status": 400})).await;
    let apply = ["apply", "--auto-approve", "--secrets-dir", "s", "set"];
    let failed = org.gcctl(&apply).await;
    assert_exit(&failed, 1);
    let live = org.one(super::CLIENTS, "App Client").await;
    let id = live["id"].as_str().unwrap().to_string();
    let err = stderr(&failed);
    assert!(
        err.contains(&format!("OAuthClient/app was created (id {id}), but a later step failed")),
        "{err}"
    );
    assert!(err.contains("recording that the secret was written for OAuthClient/app"), "{err}");
    // Where the secret is, and what the mark left in the org means.
    assert!(
        err.contains(&format!("the secret (version 1) written to s/App_Client.{id}.json, and the org keeps its mark that no secret is recorded until an apply with the same --secrets-dir clears it")),
        "{err}"
    );
    assert!(err.contains(", 1 failed,"), "{err}");
    let dir = org.ctx.path().join("s");
    assert!(super::has_working_secret(&org, &dir, &id).await, "the secret was written");
    let secret_before = secret_files(&dir)[0].1["clientSecret"].clone();

    let planned = org.gcctl(&["plan", "--detailed-exitcode", "--secrets-dir", "s", "set"]).await;
    assert_exit(&planned, 2);
    assert!(
        stderr(&planned).contains(&format!("its secret is recorded in s/App_Client.{id}.json, but the run that wrote it did not clear the org's mark (it died, or the write that clears the mark failed)")),
        "{}",
        stderr(&planned)
    );
    assert_exit(&org.gcctl(&apply).await, 0);
    let files = secret_files(&dir);
    assert_eq!((files.len(), &files[0].1["clientSecret"]), (1, &secret_before), "not rotated");
    assert!(super::has_working_secret(&org, &dir, &id).await);
    let live = org.one(super::CLIENTS, "App Client").await;
    assert!(!live["description"].as_str().unwrap_or_default().contains("gcctl:"), "{live}");
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}

/// The create's answer is lost, the client is found by name and adopted, and
/// regenerating its secret (`POST …/secret`, harmless to repeat) answers 500
/// once: it is retried, and the client ends with a working recorded secret.
#[tokio::test]
async fn regenerating_a_secret_is_retried_on_a_500() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/client.yaml", APP_CLIENT);
    org.org.route_fault(json!({"route": "POST /api/v2/oauth/clients", "dropped": true})).await;
    let secret_route = "POST /api/v2/oauth/clients/{clientId}/secret";
    org.org.route_fault(json!({"route": secret_route, "status": 500})).await;
    let applied = org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "s", "set"]).await;
    assert_exit(&applied, 0);
    assert!(stderr(&applied).contains("adopted it"), "{}", stderr(&applied));
    assert_eq!(org.org.stats().await["byRoute"][secret_route], 2, "the 500 was retried");
    let live = org.one(super::CLIENTS, "App Client").await;
    let id = live["id"].as_str().unwrap();
    assert!(super::has_working_secret(&org, &org.ctx.path().join("s"), id).await);
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}

const APP_CLIENT: &str = "apiVersion: gcctl/v1\nkind: OAuthClient\nmetadata: {name: app}\nspec:\n  name: App Client\n  authorizedGrantType: CLIENT-CREDENTIALS\n  roleDivisions: [{role: Master Admin, division: Home}]\n";

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
    org.ctx.write("set/client.yaml", APP_CLIENT);
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

/// A rotation records in the org that a secret is in flight before it asks
/// for one: when the new secret cannot be written (here a directory stands
/// where its file goes), the org carries the mark, every later plan says
/// the secret was never recorded, and the next apply regenerates it. The
/// old file's secret (version 1) no longer counts as recorded.
#[tokio::test]
async fn a_rotation_whose_secret_is_not_written_leaves_the_mark() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/client.yaml", APP_CLIENT);
    let apply = ["apply", "--auto-approve", "--secrets-dir", "s", "set"];
    assert_exit(&org.gcctl(&apply).await, 0);
    let id = org.one(super::CLIENTS, "App Client").await["id"].as_str().unwrap().to_string();
    let file = org.ctx.path().join(format!("s/App_Client.{id}.json"));
    fs_err::remove_file(&file).unwrap();
    fs_err::create_dir(&file).unwrap();
    // Only after the failure is the old version's file back in place.
    org.ctx.write("set/client.yaml", &format!("{APP_CLIENT}  secretVersion: 2\n"));
    let failed = org.gcctl(&apply).await;
    assert_exit(&failed, 1);
    assert!(stderr(&failed).contains("cannot write the secret to s"), "{}", stderr(&failed));
    let live = org.one(super::CLIENTS, "App Client").await;
    assert_eq!(live["description"], "[gcctl:secret-version=2] [gcctl:secret-unrecorded]");
    fs_err::remove_dir(&file).unwrap();
    let old = json!({"name": "App Client", "clientId": id, "clientSecret": "old-secret-0123456789", "secretVersion": 1});
    fs_err::write(&file, old.to_string()).unwrap();

    let planned = org.gcctl(&["plan", "--secrets-dir", "s", "set"]).await;
    assert!(
        stdout(&planned).contains("its secret was never recorded: apply regenerates it"),
        "{}",
        stdout(&planned)
    );
    assert_exit(&org.gcctl(&apply).await, 0);
    let files = secret_files(&org.ctx.path().join("s"));
    assert_eq!((files.len(), &files[0].1["secretVersion"]), (1, &json!(2)), "{files:?}");
    assert!(super::has_working_secret(&org, &org.ctx.path().join("s"), &id).await);
    let live = org.one(super::CLIENTS, "App Client").await;
    assert_eq!(live["description"], "[gcctl:secret-version=2]");
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}

/// A declared secret version lower than the org's (a revert, a branch made
/// before a rotation) is no rotation: the plan changes nothing and says
/// why, and an update of another field keeps the org's version. It issued
/// a new secret, replacing the one in use.
#[tokio::test]
async fn a_lower_secret_version_rotates_nothing() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/client.yaml", &format!("{APP_CLIENT}  secretVersion: 2\n"));
    let apply = ["apply", "--auto-approve", "--secrets-dir", "s", "set"];
    assert_exit(&org.gcctl(&apply).await, 0);
    let before = secret_files(&org.ctx.path().join("s"));
    org.ctx.write("set/client.yaml", APP_CLIENT);
    let plan = org.gcctl(&["plan", "--detailed-exitcode", "set"]).await;
    assert_exit(&plan, 0);
    assert!(stdout(&plan).contains("the org's secret is version 2, newer than the declared `secretVersion: 1`: it is kept, not rotated"), "{}", stdout(&plan));
    org.ctx.write("set/client.yaml", &format!("{APP_CLIENT}  description: Bot\n"));
    assert_exit(&org.gcctl(&apply).await, 0);
    let live = org.one(super::CLIENTS, "App Client").await;
    assert_eq!(live["description"], "Bot [gcctl:secret-version=2]", "{live}");
    assert_eq!(secret_files(&org.ctx.path().join("s")), before, "no new secret");
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}

/// `--no-restore-secrets` leaves a secret nobody recorded as it is, and
/// the client's other changes keep the org's mark that says so (they
/// cleared it: nobody would have known the secret was lost). A directory
/// gcctl cannot write is refused before any change, and a client whose
/// name is as long as the org allows gets its secret file.
#[tokio::test]
async fn other_changes_keep_the_mark_and_the_secrets_dir_must_take_files() {
    let org = ApplyOrg::default().await;
    let long = "L".repeat(250);
    let client = |extra: &str| {
        format!(
            "apiVersion: gcctl/v1\nkind: OAuthClient\nmetadata: {{name: app}}\nspec:\n  name: {long}\n  description: Bot\n  authorizedGrantType: CLIENT-CREDENTIALS\n  roleDivisions: [{{role: Master Admin, division: Home}}]\n{extra}"
        )
    };
    org.ctx.write("set/client.yaml", &client(""));
    org.ctx.write("not-a-dir", "");
    let refused =
        org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "not-a-dir", "set"]).await;
    assert_exit(&refused, 1);
    assert!(
        stderr(&refused).contains("--secrets-dir not-a-dir is not a directory"),
        "{}",
        stderr(&refused)
    );
    // A private directory gcctl cannot write in (a read-only mount, say).
    let locked = org.ctx.path().join("locked");
    fs_err::create_dir(&locked).unwrap();
    set_mode(&locked, 0o500);
    // Root writes anywhere: there is then nothing to refuse.
    if fs_err::write(locked.join("probe"), "").is_err() {
        let refused =
            org.gcctl(&["apply", "--auto-approve", "--secrets-dir", "locked", "set"]).await;
        assert_exit(&refused, 1);
        assert!(
            stderr(&refused).contains("--secrets-dir locked: gcctl cannot write secrets there"),
            "{}",
            stderr(&refused)
        );
        assert!(org.named(super::CLIENTS, &long).await.is_empty(), "nothing was changed");
    }
    set_mode(&locked, 0o700);

    let apply = ["apply", "--auto-approve", "--secrets-dir", "s", "set"];
    assert_exit(&org.gcctl(&apply).await, 0);
    let live = org.one(super::CLIENTS, &long).await;
    let id = live["id"].as_str().unwrap().to_string();
    assert!(super::has_working_secret(&org, &org.ctx.path().join("s"), &id).await);

    // A run that died before recording the secret left the mark.
    let mut marked = live.clone();
    marked["description"] = json!("Bot [gcctl:secret-unrecorded]");
    let put = org.org.put(&format!("/api/v2/oauth/clients/{id}"), marked).await;
    assert_eq!(put.status, 200, "{}", put.body);
    org.ctx.write("set/client.yaml", &client("  accessTokenValiditySeconds: 900\n"));
    let opted_out = org
        .gcctl(&[
            "apply",
            "--auto-approve",
            "--select",
            "OAuthClient/app",
            "--no-restore-secrets",
            "set",
        ])
        .await;
    assert_exit(&opted_out, 0);
    let live = org.one(super::CLIENTS, &long).await;
    assert_eq!(live["accessTokenValiditySeconds"], 900, "{live}");
    assert_eq!(live["description"], "Bot [gcctl:secret-unrecorded]", "the mark stays");

    // The commands hints give keep --no-restore-secrets (without it they
    // would issue a new secret the reviewed plan left alone), and a plan
    // saved with it is applied with it.
    org.ctx.write(
        "set/client.yaml",
        &client(
            "  accessTokenValiditySeconds: 1200
",
        ),
    );
    let asked = org.gcctl(&["apply", "--secrets-dir", "s", "--no-restore-secrets", "set"]).await;
    assert_exit(&asked, 1);
    assert!(
        stderr(&asked).contains(
            "then run `gcctl apply set --secrets-dir s --no-restore-secrets --auto-approve`"
        ),
        "{}",
        stderr(&asked)
    );
    // (`s` holds the secret the first apply wrote: there it is recorded.)
    let other = org.ctx.path().join("s2");
    fs_err::create_dir(&other).unwrap();
    set_mode(&other, 0o700);
    let saved = org
        .gcctl(&["plan", "--out", "p.json", "--secrets-dir", "s2", "--no-restore-secrets", "set"])
        .await;
    assert_exit(&saved, 0);
    assert!(
        stderr(&saved).contains(
            "apply it with `gcctl apply --plan p.json --secrets-dir s2 --no-restore-secrets`"
        ),
        "{}",
        stderr(&saved)
    );
    let applied =
        org.gcctl(&["apply", "--plan", "p.json", "--secrets-dir", "s2", "--auto-approve"]).await;
    assert_exit(&applied, 0);
    let live = org.one(super::CLIENTS, &long).await;
    assert_eq!(live["accessTokenValiditySeconds"], 1200, "{live}");
    assert_eq!(live["description"], "Bot [gcctl:secret-unrecorded]", "the mark stays");

    let planned = org.gcctl(&["plan", "--secrets-dir", "elsewhere", "set"]).await;
    assert!(stdout(&planned).contains("its secret was never recorded"), "{}", stdout(&planned));
}

/// A secret the org also holds in a plain field (an integration's webhook
/// URL carrying it as a query parameter, edited in the UI) is redacted in
/// JSON output and saved plans as in text, and nothing is on disk; `apply
/// --plan` compares a fresh plan as it would be written (redacted too), so
/// the saved plan applies, and the fresh plan runs.
#[tokio::test]
async fn a_secret_the_org_holds_in_a_plain_field_is_in_no_json_or_saved_plan() {
    let mut org = ApplyOrg::default().await;
    org.ctx.env("CANARY_WEBHOOK_SECRET", CANARY);
    let set = SET.replace("VERSION", "1");
    org.ctx.write("set/all.yaml", &set);
    let apply = ["apply", "--auto-approve", "--secrets-dir", "secrets", "set"];
    assert_exit(&org.gcctl(&apply).await, 0);
    let path = "/api/v2/conversations/messaging/integrations/open";
    let id = org.org.id_named(path, "Canary Bot").await;
    let url = format!("https://bot.example.com/hook?s={CANARY}");
    let patched = org
        .org
        .patch(
            &format!("{path}/{id}"),
            json!({"name": "Canary Bot", "outboundNotificationWebhookUrl": url}),
        )
        .await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    let mut transcript = Transcript(String::new());
    for args in [
        &["plan", "-o", "json", "set"][..],
        &["drift", "-o", "json", "set"],
        &["plan", "--out", "plan.json", "set"],
    ] {
        run(&org, &mut transcript, args).await;
    }
    let saved = fs_err::read_to_string(org.ctx.path().join("plan.json")).unwrap();
    transcript.0.push_str(&saved);
    assert!(saved.contains("https://bot.example.com/hook?s=[redacted]"), "{saved}");
    transcript.assert_clean(&[]);
    let applied =
        run(&org, &mut transcript, &["apply", "--auto-approve", "--plan", "plan.json"]).await;
    assert_exit(&applied, 0);
    transcript.assert_clean(&[]);
    let live = org.org.get(&format!("{path}/{id}")).await.body;
    assert_eq!(live["outboundNotificationWebhookUrl"], "https://bot.example.com/hook", "{live}");
}

/// An admin edits a rotated client's description in the UI, and the mark of
/// its secret version goes with the old text: the org then reads as
/// version 1, and the declared version 2 as a rotation that would replace
/// the working secret. With the secrets directory that holds the client's
/// secret at version 2, apply puts the mark back and issues no secret.
#[tokio::test]
async fn a_version_mark_edited_out_in_the_ui_is_put_back_not_rotated_when_the_secret_is_recorded() {
    let org = ApplyOrg::default().await;
    org.ctx.write("set/client.yaml", &format!("{APP_CLIENT}  secretVersion: 2\n"));
    let apply = ["apply", "--auto-approve", "--secrets-dir", "s", "set"];
    assert_exit(&org.gcctl(&apply).await, 0);
    let dir = org.ctx.path().join("s");
    let before = super::secret_files(&dir);
    assert_eq!((before.len(), &before[0].1["secretVersion"]), (1, &json!(2)));
    let live = org.one(super::CLIENTS, "App Client").await;
    let id = live["id"].as_str().unwrap().to_string();
    assert!(
        live["description"].as_str().unwrap_or_default().contains("secret-version=2"),
        "{live}"
    );
    // The UI edit: the description replaced, the mark with it.
    let mut edited = serde_json::Map::new();
    for key in ["name", "authorizedGrantType", "roleDivisions", "state"] {
        if let Some(value) = live.get(key) {
            edited.insert(key.into(), value.clone());
        }
    }
    edited.insert("description".into(), json!("Owner: team B"));
    let mut body = serde_json::Value::Object(edited);
    for grant in body["roleDivisions"].as_array_mut().into_iter().flatten() {
        *grant = json!({"roleId": grant["roleId"], "divisionId": grant["divisionId"]});
    }
    let put = org.org.put(&format!("{}/{id}", super::CLIENTS), body).await;
    assert_eq!(put.status, 200, "{:?}", put.body);

    let plan = org.gcctl(&["plan", "--secrets-dir", "s", "set"]).await;
    let said = format!("{}{}", stdout(&plan), stderr(&plan));
    assert!(!said.contains("will be rotated"), "{said}");
    assert!(said.contains("apply puts the mark back instead of issuing a new secret"), "{said}");
    let applied = org.gcctl(&apply).await;
    assert_exit(&applied, 0);
    let after = super::secret_files(&dir);
    assert_eq!(after[0].1["clientSecret"], before[0].1["clientSecret"], "not rotated");
    assert!(super::has_working_secret(&org, &dir, &id).await);
    let live = org.one(super::CLIENTS, "App Client").await;
    assert!(
        live["description"].as_str().unwrap_or_default().contains("secret-version=2"),
        "{live}"
    );
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}
