//! Concurrent applies on one org do not interleave: the second waits for the
//! org's apply lock (`--lock-timeout`) or refuses at once, naming the holder.

use std::process::Stdio;
use std::time::Duration;

use gcctl::sandbox::SandboxConfig;

use super::faults::{assert_no_duplicates, bulk_set};
use super::{ApplyOrg, assert_exit};
use crate::common::stderr;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_apply_on_one_org_refuses_or_waits_and_nothing_is_duplicated() {
    let config = SandboxConfig { latency_ms: 60, ..SandboxConfig::default() };
    let org = ApplyOrg::start(config).await;
    let (objects, manifests) = bulk_set(30, 3, 3, 2, 3);
    org.ctx.write("set/all.yaml", &manifests);
    let args = ["apply", "--auto-approve", "--secrets-dir", "secrets", "set"];

    // The first run holds the lock for the whole run.
    let mut first = tokio::process::Command::from(org.ctx.command());
    first.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    let first = first.kill_on_drop(true).spawn().expect("gcctl starts");
    let lock_dir = org.ctx.path().join(".locks");
    for _ in 0..200 {
        let held = fs_err::read_dir(&lock_dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| fs_err::read_to_string(e.path()).is_ok_and(|t| t.contains("\"pid\"")));
        if held {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    let refused = org.gcctl(&args).await;
    assert_exit(&refused, 1);
    let err = stderr(&refused);
    assert!(err.contains("another gcctl apply is running against org \"gcctl sandbox\""), "{err}");
    assert!(err.contains(&format!("pid {}", first.id().unwrap())), "{err}");
    assert!(err.contains("--lock-timeout"), "{err}");
    assert!(!err.contains("created"), "the refused run changed nothing: {err}");

    // A waiting run starts once the first is done, and finds nothing to do.
    let waited = org.gcctl(&[&args[..], &["--lock-timeout", "120"]].concat()).await;
    let first = first.wait_with_output().await.expect("the first run ends");
    assert_exit(&first, 0);
    assert_exit(&waited, 0);
    assert!(stderr(&waited).contains("Nothing to apply."), "{}", stderr(&waited));
    assert_no_duplicates(&org, &objects).await;
}
