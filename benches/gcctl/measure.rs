//! Measuring one gcctl run: wall time, CPU time and peak memory of the gcctl
//! process alone.
//!
//! `getrusage(RUSAGE_CHILDREN)` sums CPU over every waited-for child and keeps
//! the largest peak RSS of them all, so the harness cannot call it for one
//! child among many. Instead it starts itself again as a *measurer*
//! (`--measure-child`), whose only child is gcctl: the measurer's
//! `RUSAGE_CHILDREN` is exactly gcctl's. The measurer writes gcctl's stdout
//! and stderr to files and prints one JSON line with the figures, and when
//! it started gcctl on the machine's clock (which the sandbox's last answer
//! is compared with).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use nix::sys::resource::{UsageWho, getrusage};
use serde::{Deserialize, Serialize};

/// The flag that turns the bench binary into a measurer.
pub const MEASURE_FLAG: &str = "--measure-child";

/// What one gcctl process cost.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Usage {
    /// Exit code (`None`: killed by a signal).
    pub exit_code: Option<i32>,
    pub wall_s: f64,
    /// User plus system CPU time.
    pub cpu_s: f64,
    /// Peak resident set size, in MiB.
    pub peak_rss_mib: f64,
}

/// What the measurer reports of one gcctl process.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Measured {
    pub usage: Usage,
    /// When gcctl was started, in microseconds since the Unix epoch.
    pub started_unix_us: u64,
}

/// One gcctl invocation to measure.
pub struct Run {
    pub args: Vec<String>,
    pub envs: Vec<(String, String)>,
    pub cwd: PathBuf,
    /// Where gcctl's stdout and stderr go (`NAME.stdout`, `NAME.stderr`).
    pub output: PathBuf,
}

impl Run {
    pub fn stdout_path(&self) -> PathBuf {
        self.output.with_extension("stdout")
    }

    pub fn stderr_path(&self) -> PathBuf {
        self.output.with_extension("stderr")
    }
}

/// Run gcctl under a measurer and return what it cost.
pub fn measure(gcctl: &Path, run: &Run) -> anyhow::Result<Measured> {
    let me = std::env::current_exe().context("cannot find the bench binary")?;
    let out = Command::new(me)
        .arg(MEASURE_FLAG)
        .arg(run.stdout_path())
        .arg(run.stderr_path())
        .arg(gcctl)
        .args(&run.args)
        .envs(run.envs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(&run.cwd)
        .stderr(Stdio::inherit())
        .output()
        .context("cannot start the measurer")?;
    if !out.status.success() {
        bail!("the measurer failed ({})", out.status);
    }
    serde_json::from_slice(&out.stdout).context("the measurer printed no figures")
}

/// The measurer's main: `--measure-child STDOUT STDERR PROGRAM ARGS...`.
pub fn measurer_main(args: &[String]) -> ExitCode {
    match run_measured(args) {
        Ok(measured) => {
            let line = serde_json::to_string(&measured).unwrap_or_default();
            #[allow(clippy::print_stdout)] // the figures go to the harness on stdout
            {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("measurer: {e:#}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run_measured(args: &[String]) -> anyhow::Result<Measured> {
    let [stdout, stderr, program, rest @ ..] = args else {
        bail!("usage: {MEASURE_FLAG} STDOUT STDERR PROGRAM [ARGS...]");
    };
    // Apply locks beside the run's output, not in the user's home.
    let locks = std::path::Path::new(stdout.as_str()).with_extension("locks");
    let stdout =
        std::fs::File::create(stdout).with_context(|| format!("cannot create {stdout}"))?;
    let stderr =
        std::fs::File::create(stderr).with_context(|| format!("cannot create {stderr}"))?;
    // Apart from the sandbox, where the machine has the cores for it.
    if crate::sandbox::pinned() {
        crate::sandbox::pin(0, false);
    }
    let started_unix_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    let started = Instant::now();
    let status = Command::new(program)
        .args(rest)
        .env("GCCTL_LOCK_DIR", locks)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .status()
        .with_context(|| format!("cannot run {program}"))?;
    let wall = started.elapsed();
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).context("getrusage")?;
    let cpu = timeval(usage.user_time()) + timeval(usage.system_time());
    // Linux reports ru_maxrss in KiB.
    #[allow(clippy::cast_precision_loss)]
    let peak_rss_mib = usage.max_rss() as f64 / 1024.0;
    let usage = Usage {
        exit_code: status.code(),
        wall_s: wall.as_secs_f64(),
        cpu_s: cpu.as_secs_f64(),
        peak_rss_mib,
    };
    Ok(Measured { usage, started_unix_us })
}

fn timeval(tv: nix::sys::time::TimeVal) -> Duration {
    let secs = u64::try_from(tv.tv_sec()).unwrap_or(0);
    let micros = u64::try_from(tv.tv_usec()).unwrap_or(0);
    Duration::from_secs(secs) + Duration::from_micros(micros)
}
