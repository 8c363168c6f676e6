//! `gcctl sandbox serve`: run the sandbox org (a local emulation of the
//! Genesys Cloud API subset gcctl uses) until Ctrl-C or SIGTERM.
//!
//! stdout gets only the startup block (first line `listening on
//! http://HOST:PORT`, then the credentials and the environment to point gcctl
//! at it, then, commented out so that evaluating the block keeps the client
//! credentials in charge, the seeded admin user's access token as
//! `GENESYSCLOUD_ACCESS_TOKEN=...`); the request log goes to stderr.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Subcommand;

use super::Outcome;
use crate::printer::Printer;
use crate::sandbox::{Generate, SandboxConfig};

/// Run a local sandbox org that speaks the Genesys Cloud Platform API v2.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  gcctl sandbox serve --listen 127.0.0.1:8080 --state .gcctl/sandbox/org.json\n\nIt prints the GENESYSCLOUD_* variables that point gcctl at it; `gcctl --sandbox COMMAND` runs one in-process instead."
)]
pub struct SandboxArgs {
    #[command(subcommand)]
    pub command: SandboxCommand,
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Serve the sandbox org over HTTP until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
}

/// Options of `gcctl sandbox serve`; every realism knob is off by default.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  gcctl sandbox serve --state .gcctl/sandbox/org.json --latency-ms 100 --fault-rate 0.05"
)]
pub struct ServeArgs {
    /// Address to listen on (loopback only unless --allow-non-loopback).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,

    /// Permit a non-loopback --listen address (the sandbox has no TLS).
    #[arg(long)]
    pub allow_non_loopback: bool,

    /// Client id accepted at /oauth/token (default: reuse the persisted one, or generate).
    #[arg(long, env = "GCCTL_SANDBOX_CLIENT_ID")]
    pub client_id: Option<String>,

    /// Client secret accepted at /oauth/token (default: reuse or generate).
    #[arg(long, env = "GCCTL_SANDBOX_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,

    /// Lifetime of the tokens minted for those credentials, in seconds.
    #[arg(long, default_value_t = 86_400, value_name = "SECONDS")]
    pub token_lifetime_secs: u64,

    /// Requests per minute per token; over it: 429 with Retry-After.
    #[arg(long, value_name = "N")]
    pub rate_limit_per_minute: Option<u32>,

    /// Requests per minute for the whole org, whatever the token (on top of
    /// the per-token limit; Genesys Cloud documents none, so none by default).
    #[arg(long, value_name = "N")]
    pub org_rate_limit_per_minute: Option<u32>,

    /// Token requests (POST /oauth/token) per minute; over it: 429 with
    /// Retry-After.
    #[arg(long, value_name = "N")]
    pub token_rate_limit_per_minute: Option<u32>,

    /// Latency of every request, in milliseconds: the time from its arrival
    /// to its answer, the sandbox's own handling included (half of it passes
    /// before the request is handled, the rest after).
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,

    /// Jitter around --latency-ms (plus or minus), in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_jitter_ms: u64,

    /// Delay of every API answer after the request was handled, in
    /// milliseconds: the change is made, its answer is late.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub answer_delay_ms: u64,

    /// Read-after-write window: new objects answer 404 and are missing from lists for this long.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub consistency_delay_ms: u64,

    /// How long a new open messaging integration stays in createStatus Initiated.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub create_delay_ms: u64,

    /// How long a flow import job stays Started after its upload (and an
    /// export job after it is registered) before it ends; real jobs take
    /// seconds to minutes.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub flow_job_duration_ms: u64,
    /// How long a web messaging configuration draft or deployment stays
    /// Pending after each write before it is Active.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub web_deployment_delay_ms: u64,
    /// How long queue member adds and removes take to show in member
    /// listings (they are processed asynchronously).
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub membership_delay_ms: u64,

    /// How long a new or changed user stays out of user search results (the
    /// search index lags writes).
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub search_delay_ms: u64,

    /// Probability (0..=1) per API request of a fault: 500, 503, dropped connection or slow answer.
    #[arg(long, default_value_t = 0.0, value_name = "F", value_parser = parse_rate)]
    pub fault_rate: f64,

    /// Seed of the fault generator (same seed and request order, same faults).
    #[arg(long, default_value_t = 0, value_name = "SEED")]
    pub fault_seed: u64,

    /// Delay of a slow-answer fault, in milliseconds.
    #[arg(long, default_value_t = 2_000, value_name = "MS")]
    pub fault_slow_ms: u64,

    /// Persist the org in this file (loaded at start, saved after each change).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Start from this org snapshot (same format as the state file) when there is no state.
    #[arg(long, value_name = "FILE")]
    pub seed_file: Option<PathBuf>,

    /// Generate N queues named queue-00001... (for benchmarks).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub generate_queues: usize,

    /// Give the generated queues media, after-call-work and routing settings
    /// (26 fields, about 2.2 KB each, plausible values, not verified as any real
    /// org's defaults), so that their pages are as large as a configured org's.
    #[arg(long)]
    pub generate_queue_settings: bool,

    /// Generate N open messaging integrations named integration-00001...
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub generate_integrations: usize,

    /// Generate N OAuth clients named client-00001...
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub generate_oauth_clients: usize,

    /// Generate N active users (agents) named Agent 00001... with emails
    /// agent-00001@sandbox.gcctl.example...
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub generate_users: usize,

    /// Do not log one line per request on stderr.
    #[arg(long)]
    pub no_request_log: bool,
}

fn parse_rate(raw: &str) -> Result<f64, String> {
    let rate: f64 = raw.parse().map_err(|_| format!("'{raw}' is not a number"))?;
    if (0.0..=1.0).contains(&rate) { Ok(rate) } else { Err("must be between 0 and 1".into()) }
}

impl ServeArgs {
    /// Resolve the arguments into the sandbox settings.
    pub fn to_config(&self) -> SandboxConfig {
        SandboxConfig {
            listen: self.listen,
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            token_lifetime: Duration::from_secs(self.token_lifetime_secs),
            rate_limit_per_minute: self.rate_limit_per_minute,
            org_rate_limit_per_minute: self.org_rate_limit_per_minute,
            token_rate_limit_per_minute: self.token_rate_limit_per_minute,
            latency_ms: self.latency_ms,
            latency_jitter_ms: self.latency_jitter_ms,
            answer_delay: Duration::from_millis(self.answer_delay_ms),
            consistency_delay: Duration::from_millis(self.consistency_delay_ms),
            create_delay: Duration::from_millis(self.create_delay_ms),
            flow_job_duration: Duration::from_millis(self.flow_job_duration_ms),
            membership_delay: Duration::from_millis(self.membership_delay_ms),
            web_deployment_delay: Duration::from_millis(self.web_deployment_delay_ms),
            search_delay: Duration::from_millis(self.search_delay_ms),
            fault_rate: self.fault_rate,
            fault_seed: self.fault_seed,
            fault_slow: Duration::from_millis(self.fault_slow_ms),
            state_file: self.state.clone(),
            seed_file: self.seed_file.clone(),
            generate: Generate {
                queues: self.generate_queues,
                queue_settings: self.generate_queue_settings,
                open_messaging_integrations: self.generate_integrations,
                oauth_clients: self.generate_oauth_clients,
                users: self.generate_users,
            },
            log_requests: !self.no_request_log,
            allow_non_loopback: self.allow_non_loopback,
            // Test knobs, not flags: see `SandboxConfig`.
            client_subjects: true,
            catalog_without: Vec::new(),
        }
    }
}

/// Run `gcctl sandbox ...`.
pub fn run(args: &SandboxArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let SandboxCommand::Serve(serve) = &args.command;
    let config = serve.to_config();
    if config.log_requests {
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .try_init();
    }
    let runtime = tokio::runtime::Runtime::new().context("failed to start the async runtime")?;
    runtime.block_on(async {
        let sandbox = crate::sandbox::start(config).await.context("failed to start the sandbox")?;
        let url = sandbox.base_url();
        let (id, secret) = (sandbox.client_id(), sandbox.client_secret());
        let (user, email, token) = (
            crate::sandbox::ADMIN_USER_NAME,
            crate::sandbox::ADMIN_USER_EMAIL,
            sandbox.user_token(),
        );
        printer.data(&format!(
            "listening on {url}\nclient id: {id}\nclient secret: {secret}\n\n\
             export GENESYSCLOUD_REGION={url}\n\
             export GENESYSCLOUD_OAUTHCLIENT_ID={id}\n\
             export GENESYSCLOUD_OAUTHCLIENT_SECRET={secret}\n\n\
             # To call as the user {user} <{email}> instead (a token wins over the\n\
             # client credentials; it does not survive a restart of the sandbox):\n\
             # export GENESYSCLOUD_ACCESS_TOKEN={token}\n"
        ))?;
        printer.status("sandbox running; stop it with Ctrl-C");
        crate::cli::wait_for_signal().await;
        printer.status("stopping the sandbox");
        sandbox.shutdown().await;
        Ok(Outcome::Success)
    })
}
