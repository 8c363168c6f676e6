//! Interruption: the `gcctl apply` process is killed at seeded-random
//! moments several times, then run to completion: the org converges with
//! zero duplicates and plans clean.

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
    assert_exit(&org.gcctl(&["plan", "--detailed-exitcode", "set"]).await, 0);
}
