//! The sandbox org in its own process (`gcctl sandbox serve`), so that its
//! work (rendering pages, counting buckets) never lands in the measured
//! gcctl process, and the harness's own threads stay out of its way. On a
//! machine with four cores or more it is pinned to the last core and gcctl
//! to the others (`sched_setaffinity`); on fewer, pinning would take a core
//! from gcctl, so neither is pinned (the JSON says which).

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context as _, bail};
use gcctl::sandbox::Generate;

use crate::report::SandboxKnobs;

/// Pin the sandbox apart from gcctl when the machine has this many cores.
pub const PIN_FROM_CORES: usize = 4;

/// A running `gcctl sandbox serve`; killed when dropped (its org is in memory).
pub struct Sandbox {
    child: Child,
    base_url: String,
    client_id: String,
    client_secret: String,
}

/// Whether this machine pins the sandbox and gcctl apart.
pub fn pinned() -> bool {
    std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get) >= PIN_FROM_CORES
}

impl Sandbox {
    /// Start `gcctl sandbox serve` with `knobs` and `generate`, and wait for
    /// its startup block (address and credentials).
    pub fn start(gcctl: &Path, knobs: SandboxKnobs, generate: Generate) -> anyhow::Result<Sandbox> {
        let mut command = Command::new(gcctl);
        command.args(["sandbox", "serve", "--listen", "127.0.0.1:0", "--no-request-log"]);
        let mut flag = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                command.arg(name).arg(value);
            }
        };
        let nonzero = |n: usize| (n > 0).then(|| n.to_string());
        flag("--latency-ms", Some(knobs.latency_ms.to_string()));
        flag("--latency-jitter-ms", Some(knobs.latency_jitter_ms.to_string()));
        flag("--rate-limit-per-minute", knobs.rate_limit_per_minute.map(|n| n.to_string()));
        flag("--org-rate-limit-per-minute", knobs.org_rate_limit_per_minute.map(|n| n.to_string()));
        flag("--generate-queues", nonzero(generate.queues));
        flag("--generate-integrations", nonzero(generate.open_messaging_integrations));
        flag("--generate-oauth-clients", nonzero(generate.oauth_clients));
        flag("--generate-users", nonzero(generate.users));
        if generate.queue_settings {
            command.arg("--generate-queue-settings");
        }
        for var in ["GCCTL_SANDBOX_CLIENT_ID", "GCCTL_SANDBOX_CLIENT_SECRET"] {
            command.env_remove(var);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start `gcctl sandbox serve`")?;
        if pinned() {
            pin(child.id(), true);
        }
        let stdout = child.stdout.take().context("no stdout")?;
        let (mut base_url, mut client_id, mut client_secret) = (None, None, None);
        for line in BufReader::new(stdout).lines() {
            let line = line.context("cannot read the sandbox's startup block")?;
            if let Some(v) = line.strip_prefix("listening on ") {
                base_url = Some(v.trim().to_string());
            } else if let Some(v) = line.strip_prefix("client id: ") {
                client_id = Some(v.trim().to_string());
            } else if let Some(v) = line.strip_prefix("client secret: ") {
                client_secret = Some(v.trim().to_string());
            }
            if base_url.is_some() && client_id.is_some() && client_secret.is_some() {
                break;
            }
        }
        let (Some(base_url), Some(client_id), Some(client_secret)) =
            (base_url, client_id, client_secret)
        else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the sandbox exited before printing its address and credentials");
        };
        Ok(Sandbox { child, base_url, client_id, client_secret })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn client_secret(&self) -> &str {
        &self.client_secret
    }

    /// The CPU time (user + system) the sandbox process has used so far, from
    /// `/proc/<pid>/stat` (Linux only; `None` elsewhere). Its difference over
    /// a run is the CPU the server's side took from the machine's cores.
    pub fn cpu_s(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // Fields after the parenthesised command name: state is field 3, so
        // utime (14) and stime (15) are the 12th and 13th after it.
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 =
            fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
        // USER_HZ: 100 on every Linux the harness runs on (sysconf is not
        // in the harness's nix features).
        Some(ticks / 100.0)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Pin process `pid` (0: this one) to the last core (`sandbox`) or to the
/// others. Best effort: a failure leaves it unpinned.
pub fn pin(pid: u32, sandbox: bool) {
    use nix::sched::{CpuSet, sched_setaffinity};
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let mut set = CpuSet::new();
    let chosen: Vec<usize> = if sandbox { vec![cores - 1] } else { (0..cores - 1).collect() };
    for core in chosen {
        let _ = set.set(core);
    }
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap_or(0));
    let _ = sched_setaffinity(pid, &set);
}
