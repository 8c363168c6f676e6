//! Interruption: the `gcctl apply` process is killed at seeded-random
//! moments several times, then run to completion: the org converges with
//! zero duplicates, every OAuth client has a working recorded secret, and
//! the org plans clean.

use std::process::{Output, Stdio};
use std::time::Duration;

use gcctl::sandbox::SandboxConfig;
use rand::{Rng, SeedableRng};

use super::faults::{assert_no_duplicates, bulk_set};
use super::{ApplyOrg, assert_exit};
use crate::common::{stderr, stdout};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_applies_then_a_full_run_converge_without_duplicates() {
    let config = SandboxConfig {
        latency_ms: 40,
        latency_jitter_ms: 20,
        create_delay: Duration::from_millis(150),
        ..SandboxConfig::default()
    };
    let org = ApplyOrg::start(config).await;
    let (objects, manifests) = bulk_set(40, 6, 6, 4, 6);
    org.ctx.write("set/all.yaml", &manifests);
    let args = ["apply", "--auto-approve", "--secrets-dir", "secrets", "--parallelism", "2", "set"];
    let mut rng = rand::rngs::StdRng::seed_from_u64(20_240_611);
    let mut interrupted = 0;
    for _ in 0..4 {
        let mut command = tokio::process::Command::from(org.ctx.command());
        command.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        let mut child = command.kill_on_drop(true).spawn().expect("gcctl starts");
        let after = Duration::from_millis(rng.random_range(100..800));
        tokio::select! {
            // A late kill may find the run already done: that is a moment too.
            status = child.wait() => assert!(status.is_ok()),
            () = tokio::time::sleep(after) => {
                child.start_kill().expect("kill gcctl");
                child.wait().await.expect("gcctl exits");
                interrupted += 1;
            }
        }
    }
    assert!(interrupted >= 2, "only {interrupted} runs were interrupted; kill sooner");
    assert_exit(&org.gcctl(&args).await, 0);
    assert_no_duplicates(&org, &objects).await;
    let lost = super::lost_secrets(&org, &objects, &org.ctx.path().join("secrets")).await;
    assert!(lost.is_empty(), "clients without a working recorded secret: {lost:?}");
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}

/// SIGINT during an apply of 200 objects (with dependencies between
/// them): no further change starts, the changes running finish, the summary
/// says what was done and what was not, the exit code is 130, and the next
/// run converges without duplicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_stops_an_apply_gracefully_and_the_next_run_converges() {
    let config = SandboxConfig { latency_ms: 30, ..SandboxConfig::default() };
    let org = ApplyOrg::start(config).await;
    let (objects, manifests) = bulk_set(140, 25, 10, 10, 15);
    assert_eq!(objects.len(), 200);
    org.ctx.write("set/all.yaml", &manifests);
    let args = ["apply", "--auto-approve", "--secrets-dir", "secrets", "--parallelism", "2", "set"];
    let output = interrupt_apply(&org, &args, "-INT").await;
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(130), "{err}");
    assert!(err.contains("Interrupted: no further change starts"), "{err}");
    assert!(err.contains("Apply interrupted (run it again to converge):"), "{err}");
    let totals = totals(&err);
    assert!(totals["not started"] > 0, "changes kept starting after the interrupt: {err}");
    // Every planned change (200 objects, and roles granted to the caller
    // first) has exactly one outcome.
    let out = crate::common::stdout(&output);
    let planned = out.lines().find(|l| l.starts_with("Plan: ")).expect("the plan's totals");
    let words: Vec<&str> = planned.split(' ').collect();
    let changes: usize = words[1].parse::<usize>().unwrap() + words[4].parse::<usize>().unwrap();
    assert_eq!(totals.values().sum::<usize>(), changes, "each change counted once: {err}");
    // The next run converges, with no duplicate.
    assert_exit(&org.gcctl(&args).await, 0);
    assert_no_duplicates(&org, &objects).await;
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}

/// SIGTERM during an apply of 200 independent queues, two at a time: every
/// queue is ready at once, yet only those with a slot when the signal came
/// start; the rest are "not started" (none starts during the grace period),
/// each change has exactly one outcome, and `started` events are sent only
/// for changes that really started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_starts_no_queued_change_and_counts_the_rest_as_not_started() {
    let config = SandboxConfig { latency_ms: 30, ..SandboxConfig::default() };
    let org = ApplyOrg::start(config).await;
    let (objects, manifests) = bulk_set(200, 0, 0, 0, 0);
    org.ctx.write("set/all.yaml", &manifests);
    let args = ["apply", "--auto-approve", "--parallelism", "2", "--output", "json", "set"];
    let output = interrupt_apply(&org, &args, "-TERM").await;
    let out = crate::common::stdout(&output);
    assert_eq!(output.status.code(), Some(130), "{out}{}", stderr(&output));
    let events: Vec<serde_json::Value> =
        out.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let count = |kind: &str| events.iter().filter(|e| e["event"] == kind).count();
    let summary = &events.last().expect("a summary line")["summary"];
    assert_eq!(summary["not_started"], count("not-started"));
    assert!(count("not-started") > 100, "queued changes started after SIGTERM: {summary}");
    assert_eq!(count("created") + count("interrupted") + count("not-started"), 200, "{summary}");
    assert_eq!(count("started"), count("created") + count("interrupted"), "{summary}");
    // Never more than two at once: at most two were running when it came.
    assert!(count("interrupted") <= 2, "{summary}");
    let org_count = org.list(super::QUEUES).await.len();
    assert!(org_count <= count("created") + count("interrupted"), "{org_count} queues exist");
    assert_exit(&org.gcctl(&["apply", "--auto-approve", "set"]).await, 0);
    assert_no_duplicates(&org, &objects).await;
}

/// A second signal exits at once, without waiting for the changes running
/// to finish (here, an integration that stays `Initiated` for a minute).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_exits_at_once() {
    let config = SandboxConfig { create_delay: Duration::from_secs(60), ..Default::default() };
    let org = ApplyOrg::start(config).await;
    let (_, manifests) = bulk_set(0, 0, 0, 0, 1);
    org.ctx.write("set/all.yaml", &manifests);
    let mut command = tokio::process::Command::from(org.ctx.command());
    command.args(["apply", "--auto-approve", "set"]);
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    let child = command.kill_on_drop(true).spawn().expect("gcctl starts");
    let pid = child.id().expect("a pid").to_string();
    // Once the integration is created, gcctl waits for it to be active.
    until_listed(&org, super::INTEGRATIONS, 1).await;
    signal(&pid, "-INT");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let second = std::time::Instant::now();
    signal(&pid, "-INT");
    let output = child.wait_with_output().await.expect("gcctl exits");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(130), "{err}");
    assert!(second.elapsed() < Duration::from_secs(5), "it waited {:?}: {err}", second.elapsed());
    assert!(err.contains("Interrupted: no further change starts"), "{err}");
    assert!(err.contains("Interrupted again: exiting now"), "{err}");
}

/// `gcctl ARGS` as a shell starts a background job in a script (`cmd &`):
/// with interrupts ignored, which gcctl inherits.
fn with_interrupts_ignored(org: &ApplyOrg, args: &[&str]) -> tokio::process::Command {
    let gcctl = org.ctx.command();
    let mut command = std::process::Command::new("sh");
    command.arg("-c").arg("trap '' INT; exec \"$0\" \"$@\"").arg(gcctl.get_program()).args(args);
    command.current_dir(gcctl.get_current_dir().expect("a directory"));
    for (key, value) in gcctl.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    tokio::process::Command::from(command)
}

/// An interrupt before any change (here while the org is read) ends the run
/// at once with 130 and changes nothing, also when gcctl was started with
/// interrupts ignored (a background job of a script).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupt_before_any_change_stops_the_run_even_if_inherited_as_ignored() {
    let config = SandboxConfig { latency_ms: 1_500, ..SandboxConfig::default() };
    let org = ApplyOrg::start(config).await;
    let (_, manifests) = bulk_set(5, 0, 0, 0, 0);
    org.ctx.write("set/all.yaml", &manifests);
    let child = with_interrupts_ignored(&org, &["apply", "--auto-approve", "set"])
        .kill_on_drop(true)
        .spawn()
        .expect("gcctl starts");
    // The token alone takes 1.5 s to come.
    tokio::time::sleep(Duration::from_millis(700)).await;
    signal(&child.id().expect("a pid").to_string(), "-INT");
    let output = child.wait_with_output().await.expect("gcctl exits");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(130), "{err}");
    assert!(err.contains("Interrupted before any change: nothing was changed."), "{err}");
    assert!(org.list(super::QUEUES).await.is_empty(), "{err}");
}

/// An interrupt that comes once every change has started lets them finish,
/// says so, and still ends with 130: the run was interrupted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupt_after_every_change_started_still_ends_with_130() {
    let config = SandboxConfig { answer_delay: Duration::from_secs(2), ..SandboxConfig::default() };
    let org = ApplyOrg::start(config).await;
    let (_, manifests) = bulk_set(3, 0, 0, 0, 0);
    org.ctx.write("set/all.yaml", &manifests);
    let mut command = tokio::process::Command::from(org.ctx.command());
    command.args(["apply", "--auto-approve", "set"]);
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = command.kill_on_drop(true).spawn().expect("gcctl starts");
    // The three creates are sent, and their answers are 2 s late (the
    // sandbox's counters answer at once; its API would be 2 s late too).
    for _ in 0..400 {
        let stats = org.org.stats().await;
        if stats["byRoute"]["POST /api/v2/routing/queues"].as_u64() == Some(3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    signal(&child.id().expect("a pid").to_string(), "-INT");
    let output = child.wait_with_output().await.expect("gcctl exits");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(130), "{err}");
    assert!(
        err.contains("Interrupted after every change had started; all of them finished: 3 created"),
        "{err}"
    );

    // With `--output json` the summary line says so: it converged, and it
    // was signalled (exit code 130).
    let (_, manifests) = bulk_set(6, 0, 0, 0, 0);
    org.ctx.write("set/all.yaml", &manifests);
    let mut command = tokio::process::Command::from(org.ctx.command());
    command.args(["apply", "--auto-approve", "--output", "json", "set"]);
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = command.kill_on_drop(true).spawn().expect("gcctl starts");
    for _ in 0..400 {
        let stats = org.org.stats().await;
        if stats["byRoute"]["POST /api/v2/routing/queues"].as_u64() == Some(6) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    signal(&child.id().expect("a pid").to_string(), "-INT");
    let output = child.wait_with_output().await.expect("gcctl exits");
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    let run = super::contract::parse(&stdout(&output));
    assert!(run.summary.converged && run.summary.signalled, "{}", stdout(&output));
    assert_eq!(run.summary.summary.created, 3, "{}", stdout(&output));
}

/// Start `gcctl ARGS` and send it `signal_name` once a few queues exist.
async fn interrupt_apply(org: &ApplyOrg, args: &[&str], signal_name: &str) -> Output {
    let mut command = tokio::process::Command::from(org.ctx.command());
    command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = command.kill_on_drop(true).spawn().expect("gcctl starts");
    let pid = child.id().expect("a pid").to_string();
    until_listed(org, super::QUEUES, 6).await;
    signal(&pid, signal_name);
    child.wait_with_output().await.expect("gcctl exits")
}

/// Wait (up to 10 s) until the org lists at least `count` objects at
/// `path`: the moment a test signals gcctl.
async fn until_listed(org: &ApplyOrg, path: &str, count: usize) {
    for _ in 0..400 {
        if org.list(path).await.len() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn signal(pid: &str, name: &str) {
    let sent = std::process::Command::new("kill").args([name, pid]).status().expect("kill");
    assert!(sent.success());
}

/// The counts of an interrupted run's summary line (`12 created, …, 3
/// interrupted, 185 not started.`), by what they count.
fn totals(stderr: &str) -> std::collections::BTreeMap<String, usize> {
    let line = stderr.lines().find(|l| l.starts_with("Apply interrupted")).expect("summary");
    let counts = line.split_once(": ").expect("counts").1.trim_end_matches('.');
    counts
        .split(", ")
        .map(|part| {
            let (n, what) = part.split_once(' ').expect("N what");
            (what.to_string(), n.parse().expect("a count"))
        })
        .collect()
}

/// An interrupt between an integration's create and its later step (routing
/// its address to a flow declared in the same run, whose import job is
/// still running) reports the integration as made, with its id, and its
/// later step as not done: it was `not-started`, without an id, as if the
/// org did not hold it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupt_before_a_later_step_reports_the_object_made_with_its_id() {
    let config = SandboxConfig { flow_job_duration: Duration::from_secs(3), ..Default::default() };
    let mut org = ApplyOrg::start(config).await;
    let flow = crate::kinds::flow::flow_doc(
        "late-inbound",
        "Late Inbound",
        "INBOUNDSHORTMESSAGE",
        "inboundShortMessage",
        "",
    );
    let set = format!(
        "{flow}---\napiVersion: gcctl/v1\nkind: Webhook\nmetadata: {{name: hook}}\nspec:\n  url: https://bot.example/hook\n  signatureSecret: {{fromEnv: LATE_HOOK_SECRET}}\n---\napiVersion: gcctl/v1\nkind: OpenMessagingIntegration\nmetadata: {{name: late-bot}}\nspec:\n  name: Late Bot\n  webhook: hook\n  inboundFlow: {{name: Late Inbound, type: INBOUNDSHORTMESSAGE}}\n"
    );
    org.ctx.write("set/all.yaml", &set);
    org.ctx.env("LATE_HOOK_SECRET", "late-hook-secret-0123456789");
    let mut command = tokio::process::Command::from(org.ctx.command());
    command.args(["apply", "--auto-approve", "--output", "json", "set"]);
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = command.kill_on_drop(true).spawn().expect("gcctl starts");
    let pid = child.id().expect("a pid").to_string();
    until_listed(&org, super::INTEGRATIONS, 1).await;
    signal(&pid, "-INT");
    let output = child.wait_with_output().await.expect("gcctl exits");
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    let made = org.list(super::INTEGRATIONS).await;
    assert_eq!(made.len(), 1, "{made:?}");
    let id = made[0]["id"].as_str().unwrap();
    let out = stdout(&output);
    let event = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["object"] == "OpenMessagingIntegration/late-bot" && e["event"] != "started")
        .unwrap_or_else(|| panic!("no outcome for the integration: {out}"));
    assert_eq!(event["event"], "interrupted", "{event}");
    assert_eq!(event["id"], id, "{event}");
    let message = event["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(&format!("created (id {id}), but its later step did not start")),
        "{event}"
    );
}
