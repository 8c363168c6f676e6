//! The soak (ignored by default; it takes minutes): `apply` against an org
//! that kills, fails and lags, trial after trial, counting what must stay
//! zero. Run it with
//!
//! ```text
//! cargo test --release --test it -- --ignored --nocapture soak
//! ```
//!
//! (`GCCTL_SOAK_TRIALS=N` sets the trials per scenario, default 5). Each
//! scenario prints one line of figures: trials, disturbed runs (killed, or
//! failed and re-run), runs to converge, what the runs had to recover
//! (creates adopted after a lost answer, client secrets issued again because
//! a run that died may not have recorded them, org marks cleared for secrets
//! that were recorded after all), duplicates and lost secrets. Non-zero recoveries show
//! that the disturbances landed where secrets are at risk. The scenarios:
//!
//! - **kill**: every answer is delayed (400 ± 100 ms, 300 ms of it after the
//!   change is made), new objects stay out of lists for 3 s, and `gcctl
//!   apply` is killed with SIGKILL at random
//!   moments, three times per trial (each next run starting at once), then
//!   run to completion;
//! - **faults**: 20 % of requests fail (500, 503, dropped connections after
//!   the change was made, slow answers) and new objects stay out of lists
//!   and GETs for 5 s (a read-after-write window); on top of that, in each
//!   trial two OAuth client creates lose their answer and two clients cannot
//!   have their mark cleared after their secret is written (a 400 on that
//!   PUT), so the first run fails; applies are re-run until one exits 0,
//!   with the default consistency window;
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
use serde_json::json;

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
    /// Creates whose answer was lost (a killed run, a dropped connection)
    /// whose object a later look-up found and adopted.
    adopted: usize,
    /// OAuth client secrets a later run issued again because a run that
    /// died or failed may not have recorded them: clients adopted after a
    /// lost create answer, and clients the org marks as unrecorded.
    restored: usize,
    /// Secrets recorded by a run that died (or failed) before clearing the
    /// org's mark: the mark cleared later, without a rotation.
    marks_cleared: usize,
    duplicates: usize,
    lost_secrets: usize,
    seconds: f64,
}

impl Figures {
    /// Count what one run's stderr says it recovered.
    fn tally(&mut self, stderr: &str) {
        self.adopted += stderr.matches("found the object by name and adopted it").count();
        for line in stderr.lines() {
            let issued = line.contains("secret (version");
            if line.starts_with("updated OAuthClient/") {
                // A restoration issues a secret; clearing a mark does not.
                *(if issued { &mut self.restored } else { &mut self.marks_cleared }) += 1;
            } else if line.starts_with("created OAuthClient/") && line.contains("adopted it") {
                self.restored += usize::from(issued);
            }
        }
    }

    // The figures are the soak's output (shown with --nocapture).
    #[allow(clippy::print_stdout, clippy::cast_precision_loss)]
    fn print(&self, scenario: &str) {
        println!(
            "soak {scenario:<10} trials {:>3}  disturbed runs {:>3}  runs to converge {:>4.1}/trial  adopted {}  secrets re-issued {}  marks cleared {}  duplicates {}  lost secrets {}  ({:.0} s)",
            self.trials,
            self.disturbed,
            self.runs as f64 / self.trials.max(1) as f64,
            self.adopted,
            self.restored,
            self.marks_cleared,
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
async fn converge(org: &ApplyOrg, figures: &mut Figures) -> usize {
    let mut last = String::new();
    for run in 1..=10 {
        let output = org.gcctl(&ARGS).await;
        last = stderr(&output);
        figures.tally(&last);
        match output.status.code() {
            Some(0) => return run,
            Some(1) => {}
            other => panic!("apply exited {other:?}: {last}"),
        }
    }
    panic!("apply did not converge in 10 runs; the last said:\n{last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "soak: minutes long; run with --ignored soak (see the module docs)"]
async fn soak_kill() {
    let started = Instant::now();
    let mut figures = Figures::default();
    let mut rng = rand::rngs::StdRng::seed_from_u64(13);
    for _ in 0..trials() {
        let config = SandboxConfig {
            // Answers come 400 ± 100 ms late, 300 ms of it after the change
            // is made: a kill in between loses the answer of a create that
            // happened (and the secret it issued).
            latency_ms: 100,
            latency_jitter_ms: 100,
            answer_delay: Duration::from_millis(300),
            create_delay: Duration::from_millis(300),
            consistency_delay: Duration::from_secs(3),
            ..SandboxConfig::default()
        };
        let org = ApplyOrg::start(config).await;
        let (objects, manifests) = soak_set();
        org.ctx.write("set/all.yaml", &manifests);
        for attempt in 0..3 {
            // What the killed run said before it died counts too.
            let log = org.ctx.path().join(format!("killed-{attempt}.log"));
            let file = fs_err::File::create(&log).expect("a log file").into_parts().0;
            let mut command = tokio::process::Command::from(org.ctx.command());
            command.args(ARGS).stdin(Stdio::null()).stdout(Stdio::null()).stderr(file);
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
            figures.tally(&fs_err::read_to_string(&log).unwrap_or_default());
        }
        let runs = converge(&org, &mut figures).await;
        figures.runs += runs;
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
        // Where a client's secret is at risk: lost create answers, and a
        // step failing after the secret is written (the run fails).
        let create = json!({"route": "POST /api/v2/oauth/clients", "dropped": true, "times": 2});
        let clear =
            json!({"route": "PUT /api/v2/oauth/clients/{clientId}", "status": 400, "times": 2});
        org.org.route_fault(create).await;
        org.org.route_fault(clear).await;
        let runs = converge(&org, &mut figures).await;
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
            figures.tally(&stderr(output));
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
