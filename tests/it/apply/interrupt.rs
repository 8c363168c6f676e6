//! Interruption: the `gcctl apply` process is killed at seeded-random
//! moments several times, then run to completion: the org converges with
//! zero duplicates, every OAuth client has a working recorded secret, and
//! the org plans clean.

use std::process::Stdio;
use std::time::Duration;

use gcctl::sandbox::SandboxConfig;
use rand::{Rng, SeedableRng};

use super::faults::{assert_no_duplicates, bulk_set};
use super::{ApplyOrg, assert_exit};

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

/// SIGINT during an apply of 200 objects: no further change starts, the
/// changes running finish, the summary says what was done and what was not,
/// the exit code is 130, and the next run converges without duplicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_stops_an_apply_gracefully_and_the_next_run_converges() {
    let config = SandboxConfig { latency_ms: 30, ..SandboxConfig::default() };
    let org = ApplyOrg::start(config).await;
    let (objects, manifests) = bulk_set(140, 25, 10, 10, 15);
    assert_eq!(objects.len(), 200);
    org.ctx.write("set/all.yaml", &manifests);
    let args = ["apply", "--auto-approve", "--secrets-dir", "secrets", "--parallelism", "4", "set"];
    let mut command = tokio::process::Command::from(org.ctx.command());
    command.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    let child = command.kill_on_drop(true).spawn().expect("gcctl starts");
    let pid = child.id().expect("a pid").to_string();
    // Interrupt once the first objects exist.
    for _ in 0..400 {
        if org.list(super::QUEUES).await.len() > 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let sent = std::process::Command::new("kill").args(["-INT", &pid]).status().expect("kill");
    assert!(sent.success());
    let output = child.wait_with_output().await.expect("gcctl exits");
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(130), "{err}");
    assert!(err.contains("Interrupted: no further change starts"), "{err}");
    assert!(err.contains("Apply interrupted (run it again to converge):"), "{err}");
    assert!(err.contains(" not started."), "{err}");
    assert!(!err.contains(", 0 not started."), "the run stopped early: {err}");
    // The next run converges, with no duplicate.
    assert_exit(&org.gcctl(&args).await, 0);
    assert_no_duplicates(&org, &objects).await;
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}
