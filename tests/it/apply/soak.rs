//! The soak (ignored by default; it takes minutes): `apply` against an org
//! that kills, fails and lags, trial after trial, counting what must stay
//! zero. Run it with
//!
//! ```text
//! cargo test --release --test it -- --ignored --nocapture soak
//! ```
//!
//! (`GCCTL_SOAK_TRIALS=N` sets the trials per scenario, default 5). Each
//! scenario prints one line of figures: trials, interrupted or faulted runs,
//! runs to converge, duplicates and lost secrets. The scenarios:
//!
//! - **kill**: every answer is delayed (400 ± 100 ms), new objects stay out
//!   of lists for 3 s, and `gcctl apply` is killed with SIGKILL at random
//!   moments, three times per trial (each next run starting at once), then
//!   run to completion;
//! - **faults**: 20 % of requests fail (500, 503, dropped connections after
//!   the change was made, slow answers) and new objects stay out of lists
//!   and GETs for 5 s (a read-after-write window); applies are re-run until
//!   one exits 0, with the default consistency window;
//! - **concurrent**: two applies of one set start together on one org, the
//!   second waiting for the first's lock (`--lock-timeout`).
//!
//! After each trial, once the read-after-write window has passed: every
//! declared name has exactly one live object (a duplicate counts each extra
//! object), and every declared OAuth client has a secret file for its live id
//! whose secret mints a token (a lost secret counts each one that does not).

use std::process::Stdio;
use std::time::{Duration, Instant};

use gcctl::sandbox::SandboxConfig;
use rand::{Rng, SeedableRng};

use super::ApplyOrg;
use super::faults::bulk_set;
use crate::common::stderr;

const ARGS: [&str; 5] = ["apply", "--auto-approve", "--secrets-dir", "secrets", "set"];

fn trials() -> usize {
    std::env::var("GCCTL_SOAK_TRIALS").ok().and_then(|t| t.parse().ok()).unwrap_or(5)
}

/// What one scenario counted over its trials.
#[derive(Debug, Default)]
struct Figures {
    trials: usize,
    /// Runs killed (kill) or that exited 1 and were re-run (faults).
    disturbed: usize,
    /// Runs it took each trial to converge, summed.
    runs: usize,
    duplicates: usize,
    lost_secrets: usize,
    seconds: f64,
}

impl Figures {
    // The figures are the soak's output (shown with --nocapture).
    #[allow(clippy::print_stdout, clippy::cast_precision_loss)]
    fn print(&self, scenario: &str) {
        println!(
            "soak {scenario:<10} trials {:>3}  disturbed runs {:>3}  runs to converge {:>4.1}/trial  duplicates {}  lost secrets {}  ({:.0} s)",
            self.trials,
            self.disturbed,
            self.runs as f64 / self.trials.max(1) as f64,
            self.duplicates,
            self.lost_secrets,
            self.seconds
        );
    }

    fn assert_clean(&self, scenario: &str) {
        self.print(scenario);
        assert_eq!((self.duplicates, self.lost_secrets), (0, 0), "{scenario}: {self:?}");
    }
}

/// The set every trial applies: 40 objects, 8 of them OAuth clients.
fn soak_set() -> (Vec<(&'static str, String)>, String) {
    bulk_set(16, 4, 8, 4, 8)
}

/// Duplicates (extra live objects per declared name) and lost secrets.
async fn count(org: &ApplyOrg, objects: &[(&'static str, String)]) -> (usize, usize) {
    let mut duplicates = 0;
    let mut collections: Vec<&str> = objects.iter().map(|(c, _)| *c).collect();
    collections.sort_unstable();
    collections.dedup();
    for collection in collections {
        let live = org.list(collection).await;
        for (_, name) in objects.iter().filter(|(c, _)| *c == collection) {
            duplicates +=
                live.iter().filter(|o| o["name"] == name.as_str()).count().saturating_sub(1);
        }
    }
    let lost = super::lost_secrets(org, objects, &org.ctx.path().join("secrets")).await;
    (duplicates, lost.len())
}

/// Run `gcctl apply` until it exits 0; the number of runs (at most 10).
async fn converge(org: &ApplyOrg) -> usize {
    for run in 1..=10 {
        let output = org.gcctl(&ARGS).await;
        match output.status.code() {
            Some(0) => return run,
            Some(1) => {}
            other => panic!("apply exited {other:?}: {}", stderr(&output)),
        }
    }
    panic!("apply did not converge in 10 runs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "soak: minutes long; run with --ignored soak (see the module docs)"]
async fn soak_kill() {
    let started = Instant::now();
    let mut figures = Figures::default();
    let mut rng = rand::rngs::StdRng::seed_from_u64(13);
    for _ in 0..trials() {
        let config = SandboxConfig {
            latency_ms: 400,
            latency_jitter_ms: 100,
            create_delay: Duration::from_millis(300),
            consistency_delay: Duration::from_secs(3),
            ..SandboxConfig::default()
        };
        let org = ApplyOrg::start(config).await;
        let (objects, manifests) = soak_set();
        org.ctx.write("set/all.yaml", &manifests);
        for _ in 0..3 {
            let mut command = tokio::process::Command::from(org.ctx.command());
            command.args(ARGS).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
            let mut child = command.kill_on_drop(true).spawn().expect("gcctl starts");
            let after = Duration::from_millis(rng.random_range(300..4_000));
            tokio::select! {
                status = child.wait() => assert!(status.is_ok()),
                () = tokio::time::sleep(after) => {
                    child.start_kill().expect("SIGKILL gcctl");
                    child.wait().await.expect("gcctl exits");
                    figures.disturbed += 1;
                }
            }
        }
        figures.runs += converge(&org).await;
        tokio::time::sleep(Duration::from_millis(3_500)).await;
        let (duplicates, lost) = count(&org, &objects).await;
        figures.duplicates += duplicates;
        figures.lost_secrets += lost;
        figures.trials += 1;
    }
    figures.seconds = started.elapsed().as_secs_f64();
    figures.assert_clean("kill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "soak: minutes long; run with --ignored soak (see the module docs)"]
async fn soak_faults() {
    let started = Instant::now();
    let mut figures = Figures::default();
    for trial in 0..trials() {
        let config = SandboxConfig {
            fault_rate: 0.2,
            fault_seed: 100 + u64::try_from(trial).unwrap(),
            fault_slow: Duration::from_millis(300),
            consistency_delay: Duration::from_secs(5),
            ..SandboxConfig::default()
        };
        let org = ApplyOrg::start(config).await;
        let (objects, manifests) = soak_set();
        org.ctx.write("set/all.yaml", &manifests);
        let runs = converge(&org).await;
        figures.runs += runs;
        figures.disturbed += runs - 1;
        // Count once nothing is hidden by the read-after-write window.
        tokio::time::sleep(Duration::from_millis(5_500)).await;
        let (duplicates, lost) = count(&org, &objects).await;
        figures.duplicates += duplicates;
        figures.lost_secrets += lost;
        figures.trials += 1;
    }
    figures.seconds = started.elapsed().as_secs_f64();
    figures.assert_clean("faults");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "soak: minutes long; run with --ignored soak (see the module docs)"]
async fn soak_concurrent() {
    let started = Instant::now();
    let mut figures = Figures::default();
    let waiting: Vec<&str> = ARGS.iter().copied().chain(["--lock-timeout", "600"]).collect();
    for _ in 0..trials() {
        let config = SandboxConfig { latency_ms: 50, ..SandboxConfig::default() };
        let org = ApplyOrg::start(config).await;
        let (objects, manifests) = soak_set();
        org.ctx.write("set/all.yaml", &manifests);
        let (a, b) = tokio::join!(org.gcctl(&waiting), org.gcctl(&waiting));
        for output in [&a, &b] {
            assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
        }
        figures.runs += 2;
        let (duplicates, lost) = count(&org, &objects).await;
        figures.duplicates += duplicates;
        figures.lost_secrets += lost;
        figures.trials += 1;
    }
    figures.seconds = started.elapsed().as_secs_f64();
    figures.assert_clean("concurrent");
}
