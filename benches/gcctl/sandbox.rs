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
