//! Figures of a benchmark run, the targets they are held against, and their
//! two renderings: a Markdown table on stdout and a JSON file.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;

use crate::Stats;
use crate::bounds::{Cost, Limits, Work};
use crate::format::{seconds, thousands};
use crate::measure::{Measured, Usage};
use crate::scenarios::{Command, Scenario};

/// Version of the JSON layout.
const FORMAT_VERSION: u32 = 1;

/// The sandbox knobs of a scenario.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SandboxKnobs {
    pub latency_ms: u64,
    pub latency_jitter_ms: u64,
    pub rate_limit_per_minute: Option<u32>,
    /// The org-wide cap, if any (off: Genesys Cloud documents none).
    pub org_rate_limit_per_minute: Option<u32>,
}

impl SandboxKnobs {
    /// The limits a client with up to `tokens` tokens works within.
    fn limits(self, tokens: u32) -> Option<Limits> {
        self.rate_limit_per_minute.map(|per_minute| Limits {
            per_minute,
            tokens,
            org_per_minute: self.org_rate_limit_per_minute,
            #[allow(clippy::cast_precision_loss)]
            latency_ms: self.latency_ms as f64,
            #[allow(clippy::cast_precision_loss)]
            latency_jitter_ms: self.latency_jitter_ms as f64,
        })
    }
}

/// One target and whether the run met it.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub name: String,
    /// The measured ratio or value.
    pub value: f64,
    /// The limit it is held against.
    pub limit: f64,
    /// `value <= limit` for "at most" targets, `value >= limit` for "at least".
    pub at_least: bool,
    pub met: bool,
}

impl Target {
    fn at_most(name: &str, value: f64, limit: f64) -> Target {
        Target { name: name.into(), value, limit, at_least: false, met: value <= limit }
    }

    fn at_least(name: &str, value: f64, limit: f64) -> Target {
        Target { name: name.into(), value, limit, at_least: true, met: value >= limit }
    }
}

/// The figures of one measured run.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    pub usage: Usage,
    pub api_requests: Option<u64>,
    pub token_requests: Option<u64>,
    pub status_429: Option<u64>,
    pub by_route: BTreeMap<String, u64>,
    /// CPU time the sandbox process used during the run (it shares the cores
    /// when not pinned apart).
    pub sandbox_cpu_s: Option<f64>,
    /// From gcctl's start to the sandbox's last answer of the run.
    pub last_answer_s: Option<f64>,
}

impl Sample {
    pub fn offline(usage: Usage) -> Sample {
        Sample {
            usage,
            api_requests: None,
            token_requests: None,
            status_429: None,
            by_route: BTreeMap::new(),
            sandbox_cpu_s: None,
            last_answer_s: None,
        }
    }

    /// A run against an org, with the sandbox's counters before and after.
    pub fn online(run: Measured, before: &Stats, after: &Stats) -> Sample {
        let (api, tokens, by_route) = after.since(before);
        // The run's own last answer: one after the counters were read
        // before it, and after gcctl started.
        let last_answer_s = after
            .last_answer_unix_us
            .filter(|last| Some(*last) != before.last_answer_unix_us)
            .and_then(|last| last.checked_sub(run.started_unix_us))
            .map(|us| Duration::from_micros(us).as_secs_f64());
        Sample {
            usage: run.usage,
            api_requests: Some(api),
            token_requests: Some(tokens),
            status_429: Some(after.status_429 - before.status_429),
            by_route,
            sandbox_cpu_s: None,
            last_answer_s,
        }
    }
}

/// The figures of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub id: String,
    pub command: &'static str,
    pub objects: u64,
    /// `None` for runs without an org (validate, --version).
    pub sandbox: Option<SandboxKnobs>,
    /// Tokens gcctl may mint (`--max-tokens`), the k of the bound.
    pub max_tokens: u32,
    /// Medians over the runs, each figure on its own.
    pub usage: Option<Usage>,
    pub api_requests: Option<u64>,
    pub token_requests: Option<u64>,
    /// 429 answers the sandbox gave (each retried by gcctl: the run succeeded).
    pub status_429: Option<u64>,
    /// Per route, from the run of median wall time.
    pub by_route: BTreeMap<String, u64>,
    /// Wall time of every run, in seconds (the figures above are medians).
    pub wall_s_runs: Vec<f64>,
    /// CPU time of every run, in seconds.
    pub cpu_s_runs: Vec<f64>,
    /// Median CPU time the sandbox process used during a run. On a machine
    /// where it shares gcctl's cores (`pinned: false`), `(CPU + sandbox
    /// CPU) / cores` is the least wall time the run's work takes there,
    /// however well it is overlapped: when it exceeds the network bound, the
    /// run is bound by CPU, not by waiting.
    pub sandbox_cpu_s: Option<f64>,
    /// Median time from gcctl's start to the sandbox's last answer of the
    /// run (`lastAnswerUnixUs` of its stats, on the machine's clock): how
    /// long the run waited on the org at the least. Held against the
    /// network bound, it says how close to it the requests went out.
    pub last_answer_s: Option<f64>,
    /// Median time gcctl ran after the org's last answer (each run's wall
    /// time less its `last_answer_s`): its own work that no request could
    /// overlap. Where a wall-time target is missed with `last_answer_s` near
    /// the bound, this is the cause.
    pub after_last_answer_s: Option<f64>,
    /// `last_answer_s` of every run.
    pub last_answer_s_runs: Vec<f64>,
    /// An unmeasured run of the same command against the same org came
    /// before each measured run ([`Scenario::warms_up`]).
    pub warmed_up: bool,
    pub work: Option<Work>,
    pub lower_bound: Option<Cost>,
    pub per_object_baseline: Option<Cost>,
    pub targets: Vec<Target>,
}

impl Outcome {
    pub fn new(scenario: &Scenario, knobs: SandboxKnobs) -> Outcome {
        let needs_org = !matches!(scenario.command, Command::Validate | Command::Version);
        let limits = knobs.limits(scenario.max_tokens);
        let cost = |f: fn(&Work, Limits) -> Cost| {
            scenario.work.as_ref().zip(limits).map(|(work, limits)| f(work, limits))
        };
        Outcome {
            id: scenario.id.clone(),
            command: scenario.command.name(),
            objects: scenario.objects,
            sandbox: needs_org.then_some(knobs),
            max_tokens: scenario.max_tokens,
            usage: None,
            api_requests: None,
            token_requests: None,
            status_429: None,
            by_route: BTreeMap::new(),
            wall_s_runs: Vec::new(),
            cpu_s_runs: Vec::new(),
            sandbox_cpu_s: None,
            last_answer_s: None,
            after_last_answer_s: None,
            last_answer_s_runs: Vec::new(),
            warmed_up: scenario.warms_up(knobs),
            work: scenario.work.clone(),
            lower_bound: cost(Work::lower_bound),
            per_object_baseline: cost(Work::per_object_baseline),
            targets: Vec::new(),
        }
    }

    /// Every figure is the median of its own values over the runs (wall,
    /// CPU, memory, request counts); the per-route counts are the median-wall
    /// run's.
    pub fn record(&mut self, samples: &[Sample]) {
        self.wall_s_runs = samples.iter().map(|s| s.usage.wall_s).collect();
        self.cpu_s_runs = samples.iter().map(|s| s.usage.cpu_s).collect();
        let median_f = |f: fn(&Sample) -> f64| median_f64(samples.iter().map(f).collect());
        let median_u = |f: fn(&Sample) -> Option<u64>| {
            let mut values: Vec<u64> = samples.iter().filter_map(f).collect();
            values.sort_unstable();
            values.get(values.len() / 2).copied()
        };
        let Some(first) = samples.first() else { return };
        let exit_code = first.usage.exit_code;
        self.usage = Some(Usage {
            exit_code,
            wall_s: median_f(|s| s.usage.wall_s),
            cpu_s: median_f(|s| s.usage.cpu_s),
            peak_rss_mib: median_f(|s| s.usage.peak_rss_mib),
        });
        let sandbox_cpu: Vec<f64> = samples.iter().filter_map(|s| s.sandbox_cpu_s).collect();
        self.sandbox_cpu_s = (!sandbox_cpu.is_empty()).then(|| median_f64(sandbox_cpu));
        self.last_answer_s_runs = samples.iter().filter_map(|s| s.last_answer_s).collect();
        if self.last_answer_s_runs.len() == samples.len() {
            self.last_answer_s = Some(median_f64(self.last_answer_s_runs.clone()));
            let after = samples.iter().filter_map(|s| Some(s.usage.wall_s - s.last_answer_s?));
            self.after_last_answer_s = Some(median_f64(after.collect()));
        }
        self.api_requests = median_u(|s| s.api_requests);
        self.token_requests = median_u(|s| s.token_requests);
        self.status_429 = median_u(|s| s.status_429);
        let mut by_wall: Vec<&Sample> = samples.iter().collect();
        by_wall.sort_by(|a, b| a.usage.wall_s.total_cmp(&b.usage.wall_s));
        if let Some(median) = by_wall.get(by_wall.len() / 2) {
            self.by_route.clone_from(&median.by_route);
        }
    }

    /// Hold the figures against the targets.
    fn evaluate(&mut self) {
        let (Some(usage), requests) = (self.usage, self.api_requests) else { return };
        #[allow(clippy::cast_precision_loss)]
        let requests = requests.map(|r| r as f64);
        let mut targets = Vec::new();
        if let (Some(bound), Some(requests)) = (self.lower_bound, requests) {
            #[allow(clippy::cast_precision_loss)]
            let bound_requests = bound.requests as f64;
            let wall = usage.wall_s / bound.wall_s;
            match self.command {
                "plan" => {
                    targets.push(Target::at_most(
                        "requests / bound",
                        requests / bound_requests,
                        1.1,
                    ));
                    let limit = if self.objects >= 50_000 { 1.3 } else { 1.2 };
                    targets.push(Target::at_most("wall / bound", wall, limit));
                }
                "apply" if self.objects >= 1_000 => {
                    targets.push(Target::at_most("wall / bound", wall, 1.15));
                    targets.push(Target::at_most(
                        "requests / bound",
                        requests / bound_requests,
                        1.1,
                    ));
                }
                "export" => {
                    let limit = if self.objects >= 50_000 { 1.3 } else { 1.2 };
                    targets.push(Target::at_most(
                        "requests / bound",
                        requests / bound_requests,
                        1.1,
                    ));
                    targets.push(Target::at_most("wall / bound", wall, limit));
                }
                _ => {}
            }
            if let Some(baseline) = self.per_object_baseline.filter(|_| self.objects >= 10_000) {
                #[allow(clippy::cast_precision_loss)]
                let fewer = baseline.requests as f64 / requests;
                if self.command == "plan" {
                    targets.push(Target::at_least("baseline requests / requests", fewer, 50.0));
                }
            }
        }
        if self.command == "apply" && self.objects >= 1_000 {
            #[allow(clippy::cast_precision_loss)]
            let throttled = self.status_429.unwrap_or(0) as f64;
            targets.push(Target::at_most("429 answers", throttled, 0.0));
        }
        if self.id.starts_with("offline-plan") && self.objects >= 10_000 {
            targets.push(Target::at_most("CPU s", usage.cpu_s, 1.0));
            targets.push(Target::at_most("peak MiB", usage.peak_rss_mib, 200.0));
        }
        self.targets = targets;
    }
}

/// The machine the figures were taken on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub kernel: String,
    pub rustc: String,
}

impl Machine {
    fn probe() -> Machine {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split(':').nth(1)))
            .map_or_else(|| "unknown".into(), |m| m.trim().to_string());
        let meminfo = read("/proc/meminfo");
        let kib: f64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|r| r.split_whitespace().next()?.parse().ok())
            .unwrap_or(0.0);
        let rustc = std::process::Command::new("rustc")
            .arg("--version")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map_or_else(|| "unknown".into(), |v| v.trim().to_string());
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get),
            memory_gib: (kib / 1024.0 / 1024.0 * 10.0).round() / 10.0,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
            rustc,
        }
    }
}

/// A whole run.
#[derive(Debug, Serialize)]
pub struct Report {
    pub format_version: u32,
    pub date: String,
    pub gcctl_version: &'static str,
    pub git_commit: Option<String>,
    pub smoke: bool,
    pub machine: Machine,
    /// Knobs of the online scenarios.
    pub online_sandbox: SandboxKnobs,
    /// The sandbox runs in its own process (`gcctl sandbox serve`).
    pub sandbox_process: bool,
    /// The sandbox and gcctl are pinned to different cores (four or more).
    pub pinned: bool,
    pub outcomes: Vec<Outcome>,
}

impl Report {
    pub fn new(smoke: bool, online_sandbox: SandboxKnobs) -> Report {
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .args(args)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .output()
                .ok()
                .filter(|o| o.status.success())
                .and_then(|o| String::from_utf8(o.stdout).ok())
                .map(|s| s.trim().to_string())
        };
        // A run from a working tree with uncommitted changes to tracked files
        // says so: its figures are not those of the commit alone.
        let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
            .is_some_and(|status| !status.is_empty());
        let git_commit = git(&["rev-parse", "--short=12", "HEAD"])
            .map(|commit| if dirty { format!("{commit}-dirty") } else { commit });
        Report {
            format_version: FORMAT_VERSION,
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            gcctl_version: env!("CARGO_PKG_VERSION"),
            git_commit,
            smoke,
            machine: Machine::probe(),
            online_sandbox,
            sandbox_process: true,
            pinned: crate::sandbox::pinned(),
            outcomes: Vec::new(),
        }
    }

    /// Evaluate the targets, print the table, write the JSON and the chart.
    pub fn finish(mut self, json: &Path, svg: &Path) -> anyhow::Result<()> {
        for outcome in &mut self.outcomes {
            outcome.evaluate();
        }
        let table = self.markdown();
        #[allow(clippy::print_stdout)]
        {
            println!("{table}");
        }
        if let Some(parent) = json.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let text = serde_json::to_string_pretty(&self)? + "\n";
        std::fs::write(json, text).with_context(|| format!("cannot write {}", json.display()))?;
        progress(&format!("figures written to {}", json.display()));
        let chart = crate::chart::svg(&self);
        std::fs::write(svg, chart).with_context(|| format!("cannot write {}", svg.display()))?;
        progress(&format!("chart written to {}", svg.display()));
        Ok(())
    }

    fn markdown(&self) -> String {
        let m = &self.machine;
        let knobs = self.online_sandbox;
        let mut out = format!(
            "gcctl {} ({}) on {}, {} cores, {} GiB, Linux {}, {}; {}\n\
             Online sandbox (its own process): {} ± {} ms per request, {} requests per minute per token{}.\n\n",
            self.gcctl_version,
            self.git_commit.as_deref().unwrap_or("unknown commit"),
            m.cpu,
            m.cores,
            m.memory_gib,
            m.kernel,
            m.rustc,
            self.date,
            knobs.latency_ms,
            knobs.latency_jitter_ms,
            knobs.rate_limit_per_minute.map_or_else(|| "unlimited".into(), |n| n.to_string()),
            knobs
                .org_rate_limit_per_minute
                .map_or_else(String::new, |n| format!(", {n} per minute for the org")),
        );
        out.push_str(
            "| scenario | k | API requests | tokens | lower bound | per-object baseline | wall | \
             bound wall | last answer | after it | baseline wall | CPU | sandbox CPU | CPU floor | \
             peak RSS | 429s |\n\
             |---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
        );
        // Shared cores: the run's CPU work, gcctl's and the sandbox's, over them.
        #[allow(clippy::cast_precision_loss)]
        let cores = self.machine.cores.max(1) as f64;
        for o in &self.outcomes {
            let usage = o.usage.as_ref();
            let ratio = |value: f64, bound: f64| format!(" ({:.2}×)", value / bound);
            let requests = o.api_requests.map_or_else(|| "–".into(), thousands);
            let (bound_requests, bound_wall) = match (o.lower_bound, o.api_requests, usage) {
                (Some(b), Some(r), Some(u)) => {
                    #[allow(clippy::cast_precision_loss)]
                    let requests_ratio = ratio(r as f64, b.requests as f64);
                    (
                        format!("{}{requests_ratio}", thousands(b.requests)),
                        format!("{}{}", seconds(b.wall_s), ratio(u.wall_s, b.wall_s)),
                    )
                }
                _ => ("–".into(), "–".into()),
            };
            let floor = match (usage, o.sandbox_cpu_s) {
                (Some(u), Some(sandbox)) if !self.pinned => {
                    let floor = (u.cpu_s + sandbox) / cores;
                    format!("{}{}", seconds(floor), ratio(u.wall_s, floor))
                }
                _ => "–".into(),
            };
            let last_answer = match (o.last_answer_s, o.lower_bound) {
                (Some(last), Some(b)) => format!("{}{}", seconds(last), ratio(last, b.wall_s)),
                (Some(last), None) => seconds(last),
                (None, _) => "–".into(),
            };
            let after_it = o.after_last_answer_s.map_or_else(|| "–".into(), seconds);
            let baseline = o.per_object_baseline.map_or_else(
                || ("–".into(), "–".into()),
                |b| (thousands(b.requests), seconds(b.wall_s)),
            );
            let _ = writeln!(
                out,
                "| {} | {} | {requests} | {} | {bound_requests} | {} | {} | {bound_wall} | {last_answer} | {after_it} | {} | {} | {} | {floor} | {} | {} |",
                o.id,
                if o.sandbox.is_some() { o.max_tokens.to_string() } else { "–".into() },
                o.token_requests.map_or_else(|| "–".into(), |n| n.to_string()),
                baseline.0,
                usage.map_or_else(|| "–".into(), |u| seconds(u.wall_s)),
                baseline.1,
                usage.map_or_else(|| "–".into(), |u| seconds(u.cpu_s)),
                o.sandbox_cpu_s.map_or_else(|| "–".into(), seconds),
                usage.map_or_else(|| "–".into(), |u| format!("{:.0} MiB", u.peak_rss_mib)),
                o.status_429.map_or_else(|| "–".into(), |n| n.to_string()),
            );
        }
        out.push_str("\nTargets:\n\n");
        for o in &self.outcomes {
            for t in &o.targets {
                let op = if t.at_least { "≥" } else { "≤" };
                let _ = writeln!(
                    out,
                    "- {} {}: {:.2} {op} {} {}",
                    o.id,
                    t.name,
                    t.value,
                    t.limit,
                    if t.met { "met" } else { "MISSED" }
                );
            }
        }
        out
    }
}

/// The median of `values` (the mean of the middle two for an even count).
fn median_f64(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => values[n / 2],
        _ => f64::midpoint(values[n / 2 - 1], values[n / 2]),
    }
}

/// A progress line on stderr.
pub fn progress(line: &str) {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("{line}");
    }
}

/// One line for the progress log.
pub fn one_line(o: &Outcome) -> String {
    let usage = o.usage.map_or_else(String::new, |u| {
        format!("wall {} cpu {} rss {:.0} MiB", seconds(u.wall_s), seconds(u.cpu_s), u.peak_rss_mib)
    });
    let requests = o.api_requests.map_or_else(String::new, |r| format!(", {r} API requests"));
    let last =
        o.last_answer_s.map_or_else(String::new, |s| format!(", last answer {}", seconds(s)));
    format!("  {} done: {usage}{requests}{last}", o.id)
}
