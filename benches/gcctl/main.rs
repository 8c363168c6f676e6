//! The gcctl benchmark: `cargo bench --bench gcctl`.
//!
//! Starts the sandbox org in its own process with realistic knobs (115 ± 35
//! ms per request, 300 requests per minute per token), seeds it, runs the
//! gcctl binary for each scenario (plan of 100 / 1,000 / 10,000 / 50,000
//! queues, apply of 100 / 1,000 creates with up to 10 tokens and of 1,000
//! with one, export of 10,000 and 50,000 objects, and apply, plan and export
//! of a mixed org: queues with members and wrap-up codes, flows, web
//! messaging, in `mixed.rs`), then the offline figures
//! (planning 10,000 objects with no latency, validating 10,000 objects,
//! start-up), and prints a Markdown table, writes the same figures as JSON
//! and draws them as an SVG chart.
//!
//! Options (after `--`): `--smoke` (tiny sizes and a fast sandbox, to check
//! the harness itself: CI runs it), `--only ID,ID` (only these scenarios:
//! `plan-100`, `apply-1000`, `offline-plan-10000`, `version` ...), `--json FILE` (default `target/gcctl-bench/results.json`),
//! `--svg FILE` (default `chart.svg` beside the JSON).
//!
//! Every scenario checks its outcome (a plan is clean, an apply sent exactly
//! one create per object and re-plans clean, an export validates and holds
//! every object) and the harness
//! fails when one does not. Targets are reported, never asserted: timings on
//! shared machines are noisy.

mod bounds;
mod chart;
mod format;
mod measure;
mod mixed;
mod report;
mod sandbox;
mod scenarios;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail, ensure};
use serde::Deserialize;

use crate::measure::{MEASURE_FLAG, Measured, Run};
use crate::report::{Outcome, Report, Sample, SandboxKnobs};
use crate::sandbox::Sandbox;
use crate::scenarios::{Command, Scenario};

/// The realistic knobs the issue asks for: 80 to 150 ms, 300 per minute.
const REALISTIC: SandboxKnobs = SandboxKnobs {
    latency_ms: 115,
    latency_jitter_ms: 35,
    rate_limit_per_minute: Some(300),
    org_rate_limit_per_minute: None,
};
/// Smoke runs keep some latency and a limit so that every code path runs
/// (the small per-token budget makes `apply-200` mint a second token).
const SMOKE: SandboxKnobs = SandboxKnobs {
    latency_ms: 5,
    latency_jitter_ms: 2,
    rate_limit_per_minute: Some(120),
    org_rate_limit_per_minute: None,
};
/// Offline runs: no latency, no limit.
const OFFLINE: SandboxKnobs = SandboxKnobs {
    latency_ms: 0,
    latency_jitter_ms: 0,
    rate_limit_per_minute: None,
    org_rate_limit_per_minute: None,
};

struct Options {
    smoke: bool,
    only: Option<Vec<String>>,
    json: PathBuf,
    svg: Option<PathBuf>,
    /// An org-wide cap for the online sandbox (`--org-rate-limit N`).
    org_rate_limit: Option<u32>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(MEASURE_FLAG) {
        return measure::measurer_main(&args[1..]);
    }
    match options(&args).and_then(|o| run(&o)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("gcctl bench: {e:#}");
            }
            ExitCode::FAILURE
        }
    }
}

fn options(args: &[String]) -> anyhow::Result<Options> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"), PathBuf::from);
    let mut options = Options {
        smoke: false,
        only: None,
        json: target.join("gcctl-bench/results.json"),
        svg: None,
        org_rate_limit: None,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // `cargo bench` passes `--bench`.
            "--bench" => {}
            "--smoke" => options.smoke = true,
            "--only" => {
                let ids = args.next().context("--only needs scenario ids")?;
                options.only = Some(ids.split(',').map(str::to_string).collect());
            }
            "--json" => options.json = args.next().context("--json needs a file")?.into(),
            "--svg" => options.svg = Some(args.next().context("--svg needs a file")?.into()),
            "--org-rate-limit" => {
                let n = args.next().context("--org-rate-limit needs a number")?;
                options.org_rate_limit =
                    Some(n.parse().context("--org-rate-limit needs a number")?);
            }
            other => {
                bail!(
                    "unknown argument `{other}` (expected --smoke, --only ID,ID, --json FILE, \
                     --svg FILE, --org-rate-limit N)"
                )
            }
        }
    }
    Ok(options)
}

fn scenarios(smoke: bool) -> Vec<Scenario> {
    let (plans, applies, one_token, exports, offline): (&[u64], &[u64], u64, &[u64], u64) = if smoke
    {
        (&[10, 600], &[10, 200], 10, &[100], 200)
    } else {
        (&[100, 1_000, 10_000, 50_000], &[100, 1_000], 1_000, &[10_000, 50_000], 10_000)
    };
    let mut all: Vec<Scenario> = plans.iter().map(|n| scenarios::plan(*n)).collect();
    all.extend(applies.iter().map(|n| scenarios::apply(*n)));
    all.push(scenarios::apply_one_token(one_token));
    all.extend(exports.iter().map(|n| scenarios::export(*n)));
    let mixed = if smoke { mixed::Mixed::SMOKE } else { mixed::Mixed::FULL };
    all.push(scenarios::apply_mixed(mixed));
    all.push(scenarios::plan_mixed(mixed));
    all.push(scenarios::export_mixed(mixed));
    all.push(scenarios::offline_plan(offline));
    all.push(scenarios::validate(offline));
    all.push(scenarios::version());
    all
}

fn run(options: &Options) -> anyhow::Result<()> {
    let gcctl = PathBuf::from(env!("CARGO_BIN_EXE_gcctl"));
    let work = tempfile::Builder::new().prefix("gcctl-bench-").tempdir()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut online = if options.smoke { SMOKE } else { REALISTIC };
    online.org_rate_limit_per_minute = options.org_rate_limit;
    let mut report = Report::new(options.smoke, online);
    let selected = scenarios(options.smoke)
        .into_iter()
        .filter(|s| options.only.as_ref().is_none_or(|ids| ids.contains(&s.id)));
    for scenario in selected {
        let knobs = if scenario.online { online } else { OFFLINE };
        report::progress(&format!("{} ...", scenario.id));
        let dir = work.path().join(&scenario.id);
        let outcome = runtime
            .block_on(run_scenario(&gcctl, &scenario, knobs, &dir))
            .with_context(|| format!("scenario {}", scenario.id))?;
        report::progress(&report::one_line(&outcome));
        report.outcomes.push(outcome);
    }
    let svg = options.svg.clone().unwrap_or_else(|| options.json.with_file_name("chart.svg"));
    report.finish(&options.json, &svg)
}

/// `/_sandbox/stats`, the parts the harness reads.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    total_requests: u64,
    by_route: BTreeMap<String, u64>,
    #[serde(rename = "status429")]
    pub status_429: u64,
    /// When the sandbox last answered, in microseconds since the Unix epoch.
    pub last_answer_unix_us: Option<u64>,
}

impl Stats {
    pub fn route(&self, key: &str) -> u64 {
        self.by_route.get(key).copied().unwrap_or(0)
    }

    /// API requests and per-route counts since `before`; token requests apart.
    pub fn since(&self, before: &Stats) -> (u64, u64, BTreeMap<String, u64>) {
        let tokens = self.route(TOKEN_ROUTE) - before.route(TOKEN_ROUTE);
        let api = self.total_requests - before.total_requests - tokens;
        let routes = self
            .by_route
            .iter()
            .filter(|(k, _)| k.as_str() != TOKEN_ROUTE)
            .map(|(k, v)| (k.clone(), v - before.route(k)))
            .filter(|(_, v)| *v > 0)
            .collect();
        (api, tokens, routes)
    }
}

const TOKEN_ROUTE: &str = "POST /oauth/token";

async fn stats(sandbox: &Sandbox) -> anyhow::Result<Stats> {
    let url = format!("{}/_sandbox/stats", sandbox.base_url());
    let response = reqwest::get(&url).await.context("cannot read the sandbox stats")?;
    response.json().await.context("the sandbox stats are not JSON")
}

/// gcctl as the sandbox's OAuth client (client credentials, so that it can
/// pool tokens), pacing each token at the sandbox's per-token budget.
fn env_for(sandbox: &Sandbox, knobs: SandboxKnobs) -> Vec<(String, String)> {
    let mut env = vec![
        ("GENESYSCLOUD_REGION".into(), sandbox.base_url().into()),
        ("GENESYSCLOUD_OAUTHCLIENT_ID".into(), sandbox.client_id().into()),
        ("GENESYSCLOUD_OAUTHCLIENT_SECRET".into(), sandbox.client_secret().into()),
        ("GENESYSCLOUD_ACCESS_TOKEN".into(), String::new()),
        ("NO_COLOR".into(), "1".into()),
    ];
    let rate = knobs.rate_limit_per_minute.unwrap_or(0);
    env.push(("GCCTL_RATE_LIMIT".into(), rate.to_string()));
    env
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_string()).collect()
}

/// Run a scenario `scenario.repeat` times; every figure is then the median
/// of its values over the runs.
async fn run_scenario(
    gcctl: &Path,
    scenario: &Scenario,
    knobs: SandboxKnobs,
    dir: &Path,
) -> anyhow::Result<Outcome> {
    let manifests = dir.join("manifests");
    match scenario.mixed {
        Some(mixed) => mixed::write_manifests(&manifests, mixed)?,
        None => scenarios::write_queue_manifests(&manifests, scenario.declared_queues)?,
    }
    let mut samples = Vec::with_capacity(scenario.repeat);
    for run in 0..scenario.repeat {
        let run_dir = dir.join(format!("run-{run}"));
        std::fs::create_dir_all(&run_dir)?;
        let sample = if scenario.command.needs_org() {
            run_against_org(gcctl, scenario, knobs, &manifests, &run_dir).await?
        } else {
            run_offline(gcctl, scenario, &manifests, &run_dir)?
        };
        samples.push(sample);
    }
    let mut outcome = Outcome::new(scenario, knobs);
    outcome.record(&samples);
    Ok(outcome)
}

/// `validate` or `--version`: no org.
fn run_offline(
    gcctl: &Path,
    scenario: &Scenario,
    manifests: &Path,
    dir: &Path,
) -> anyhow::Result<Sample> {
    let command_args = match scenario.command {
        Command::Validate => args(&["validate", &manifests.to_string_lossy()]),
        _ => args(&["--version"]),
    };
    let run = Run { args: command_args, envs: vec![], cwd: dir.into(), output: dir.join("run") };
    let usage = checked(gcctl, &run, &[0])?.usage;
    if scenario.command == Command::Validate {
        expect_counts(&run.stdout_path(), &[("RoutingQueue", scenario.objects)])?;
    }
    Ok(Sample::offline(usage))
}

/// `plan`, `apply` or `export` against a new sandbox org, then a check of
/// the result outside the measurement.
async fn run_against_org(
    gcctl: &Path,
    scenario: &Scenario,
    knobs: SandboxKnobs,
    manifests: &Path,
    dir: &Path,
) -> anyhow::Result<Sample> {
    let sandbox = {
        let gcctl = gcctl.to_path_buf();
        let generate = scenario.generate;
        tokio::task::spawn_blocking(move || Sandbox::start(&gcctl, knobs, generate)).await??
    };
    let envs = env_for(&sandbox, knobs);
    let manifests = manifests.to_string_lossy().to_string();
    let export_dir = dir.join("export");
    let max_tokens = scenario.max_tokens.to_string();
    let command_args = |export_dir: &Path| {
        let mut command_args = match scenario.command {
            Command::Plan => args(&["plan", "--detailed-exitcode", &manifests]),
            Command::Apply => args(&["apply", "--auto-approve", &manifests]),
            Command::Export => args(&["export", "--out", &export_dir.to_string_lossy()]),
            Command::Validate | Command::Version => bail!("{} needs no org", scenario.id),
        };
        command_args.extend(args(&["--max-tokens", &max_tokens]));
        Ok(command_args)
    };
    if scenario.mixed.is_some() && scenario.command != Command::Apply {
        // Plans and exports of the mixed org run against the org after its
        // apply, which is not measured.
        let args = args(&["apply", "--auto-approve", &manifests]);
        let setup = Run { args, envs: envs.clone(), cwd: dir.into(), output: dir.join("setup") };
        measured(gcctl, setup).await.context("the mixed org's apply failed")?;
    }
    if scenario.warms_up(knobs) {
        let args = command_args(&dir.join("warm-up-export"))?;
        let warm_up =
            Run { args, envs: envs.clone(), cwd: dir.into(), output: dir.join("warm-up") };
        measured(gcctl, warm_up).await.context("the warm-up run failed")?;
    }
    let before = stats(&sandbox).await?;
    let sandbox_cpu_before = sandbox.cpu_s();
    let run = Run {
        args: command_args(&export_dir)?,
        envs: envs.clone(),
        cwd: dir.into(),
        output: dir.join("run"),
    };
    let this_run = measured(gcctl, run).await?;
    let sandbox_cpu = sandbox.cpu_s().zip(sandbox_cpu_before).map(|(after, before)| after - before);
    let after = stats(&sandbox).await?;
    match scenario.command {
        Command::Apply => {
            let creates = match scenario.mixed {
                Some(mixed) => mixed::creates(mixed),
                None => vec![("POST /api/v2/routing/queues", scenario.objects)],
            };
            for (route, expected) in creates {
                let sent = after.route(route) - before.route(route);
                ensure!(sent == expected, "apply sent {sent} `{route}`, expected {expected}");
            }
            let args = args(&["plan", "--detailed-exitcode", &manifests]);
            let replan = Run { args, envs, cwd: dir.into(), output: dir.join("replan") };
            measured(gcctl, replan).await.context("the plan after apply is not clean")?;
        }
        Command::Export => {
            let args = args(&["validate", &export_dir.to_string_lossy()]);
            let run = Run { args, envs: vec![], cwd: dir.into(), output: dir.join("validate") };
            let stdout = run.stdout_path();
            measured(gcctl, run).await.context("the export does not validate")?;
            let g = scenario.generate;
            let n = |count: usize| u64::try_from(count).unwrap_or(u64::MAX);
            match scenario.mixed {
                Some(mixed) => expect_counts(&stdout, &mixed.kinds())?,
                None => expect_counts(
                    &stdout,
                    &[
                        ("RoutingQueue", n(g.queues)),
                        ("OpenMessagingIntegration", n(g.open_messaging_integrations)),
                        ("OAuthClient", n(g.oauth_clients)),
                    ],
                )?,
            }
        }
        Command::Plan | Command::Validate | Command::Version => {}
    }
    drop(sandbox);
    let mut sample = Sample::online(this_run, &before, &after);
    sample.sandbox_cpu_s = sandbox_cpu;
    // The org answered during the run, and before gcctl ended (both clocks
    // are the machine's; 50 ms allows for their readings, not for a fault).
    let wall = sample.usage.wall_s;
    let last = sample.last_answer_s;
    ensure!(
        last.is_some_and(|last| last <= wall + 0.05),
        "{}: the sandbox's last answer ({last:?} s after gcctl started) is not within the run ({wall} s)",
        scenario.id
    );
    Ok(sample)
}

/// Run and measure on a blocking thread, so that the sandbox keeps serving.
async fn measured(gcctl: &Path, run: Run) -> anyhow::Result<Measured> {
    let gcctl = gcctl.to_path_buf();
    tokio::task::spawn_blocking(move || checked(&gcctl, &run, &[0])).await?
}

/// Measure a run and fail unless it exited with one of `codes`.
fn checked(gcctl: &Path, run: &Run, codes: &[i32]) -> anyhow::Result<Measured> {
    let measured = measure::measure(gcctl, run)?;
    let usage = measured.usage;
    if usage.exit_code.is_none_or(|c| !codes.contains(&c)) {
        let stderr = std::fs::read_to_string(run.stderr_path()).unwrap_or_default();
        let stdout = std::fs::read_to_string(run.stdout_path()).unwrap_or_default();
        let tail: Vec<&str> = last_lines(&stdout).chain(last_lines(&stderr)).collect();
        bail!(
            "`gcctl {}` exited with {:?}, expected {codes:?}:\n{}",
            run.args.join(" "),
            usage.exit_code,
            tail.join("\n")
        );
    }
    Ok(measured)
}

fn last_lines(text: &str) -> impl Iterator<Item = &str> {
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(15);
    lines.into_iter().skip(from)
}

/// Check `validate`'s summary (`valid: N objects in F files (A Kind, B Kind)`).
fn expect_counts(stdout: &Path, expected: &[(&str, u64)]) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(stdout)?;
    let line = text.lines().find(|l| l.starts_with("valid:")).context("no validate summary")?;
    // `(20 RoutingQueue, 4 RoutingWrapupCode)`: counts by kind, compared whole.
    let counts: BTreeMap<&str, u64> = line
        .split_once(" (")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(list, _)| list)
        .unwrap_or_default()
        .split(", ")
        .filter_map(|c| {
            let (n, kind) = c.split_once(' ')?;
            Some((kind, n.parse().ok()?))
        })
        .collect();
    for (kind, n) in expected {
        let found = counts.get(kind).copied().unwrap_or(0);
        ensure!(found == *n, "expected {n} {kind} in `{line}`, found {found}");
    }
    Ok(())
}
