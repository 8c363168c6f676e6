//! Sandbox settings: every knob of the emulated org, with defaults that make
//! tests fast and exact (no latency, no rate limit, no faults, no consistency
//! window, immediate async completion, loopback on an ephemeral port).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// How many objects to generate in memory at start, for benchmarks. Names are
/// deterministic (`queue-00001`, `integration-00001`, `client-00001`, users
/// `Agent 00001` with email `agent-00001@sandbox.gcctl.example`) and
/// generation is idempotent: names that already exist are skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Generate {
    pub queues: usize,
    /// The generated queues carry the settings a configured org's queues
    /// do (media, after-call-work and routing settings): pages as large as
    /// real ones, to measure decoding.
    pub queue_settings: bool,
    pub open_messaging_integrations: usize,
    pub oauth_clients: usize,
    /// Active users (agents), to be queue members.
    pub users: usize,
}

/// Everything [`crate::sandbox::start`] needs.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Address to bind. Must be loopback unless `allow_non_loopback`.
    pub listen: SocketAddr,
    /// Client id accepted by `POST /oauth/token`. `None`: reuse the admin
    /// client of a persisted org, else generate one.
    pub client_id: Option<String>,
    /// Client secret paired with `client_id`. `None`: reuse or generate.
    pub client_secret: Option<String>,
    /// Lifetime of tokens minted for the admin client (clients created through
    /// the API use their own `accessTokenValiditySeconds`).
    pub token_lifetime: Duration,
    /// Requests per minute per token; `None` means unlimited.
    pub rate_limit_per_minute: Option<u32>,
    /// Requests per minute for the whole org, whatever the token, on top of
    /// the per-token limit; `None` (the default, as Genesys Cloud documents
    /// no org-wide cap) means none.
    pub org_rate_limit_per_minute: Option<u32>,
    /// Token requests (`POST /oauth/token`) per minute; `None` means unlimited.
    pub token_rate_limit_per_minute: Option<u32>,
    /// Latency of every API and token request: the time from its arrival to
    /// its answer, the handling included (see `middleware::draw_latency`).
    pub latency_ms: u64,
    /// Uniform jitter applied to `latency_ms` (plus or minus).
    pub latency_jitter_ms: u64,
    /// Added to every API answer after the request was handled: the change
    /// is made, and its answer is late (a client killed meanwhile never
    /// learns what was made, nor a secret that was issued).
    pub answer_delay: Duration,
    /// Read-after-write window: objects younger than this answer 404 by id and
    /// are left out of lists. Zero disables it.
    pub consistency_delay: Duration,
    /// Time an open messaging integration stays in `createStatus: Initiated`.
    pub create_delay: Duration,
    /// Time a flow import or export job stays `Started` after its upload
    /// (import) or registration (export) before it ends.
    pub flow_job_duration: Duration,
    /// Time queue member adds and removes take to show in member listings
    /// (`POST …/queues/{id}/members` is processed asynchronously).
    pub membership_delay: Duration,
    /// Time a web messaging configuration draft or deployment stays
    /// `Pending` after each write before it is `Active`.
    pub web_deployment_delay: Duration,
    /// Time a user created or changed (through `/_sandbox/users`) stays out
    /// of `POST /api/v2/users/search` results: the search index lags writes.
    pub search_delay: Duration,
    /// Probability, per `/api/v2` request, of injecting a fault.
    pub fault_rate: f64,
    /// Seed of the fault generator; a seed and a request order give the same faults.
    pub fault_seed: u64,
    /// Delay of a "slow answer" fault.
    pub fault_slow: Duration,
    /// Persist the org here (snapshot plus journal); `None` keeps it in memory.
    pub state_file: Option<PathBuf>,
    /// Initial org snapshot, used when there is no state to load.
    pub seed_file: Option<PathBuf>,
    /// Bulk objects to generate at start.
    pub generate: Generate,
    /// Emit one `tracing` info line per request.
    pub log_requests: bool,
    /// Permit binding a non-loopback address.
    pub allow_non_loopback: bool,
    /// Whether `GET /api/v2/authorization/subjects/me` answers a
    /// client-credentials token (the default: as the sandbox assumes; a real
    /// org's answer is UNVERIFIED). Off, it is 400, as `users/me` is for such
    /// a token, so a caller must read its grants another way (gcctl: the
    /// client's `roleDivisions` from `tokens/me` and its roles by id).
    pub client_subjects: bool,
    /// Permissions the org's catalog (`GET /api/v2/authorization/permissions`)
    /// leaves out, as an org without some product would (the catalog an org
    /// returns presumably depends on its products, UNVERIFIED): the served
    /// catalog is the embedded one without these. Role writes and wildcard
    /// expansion still use the embedded catalog (the provider notes that the
    /// role API does not reliably reject unknown permissions, AUTHZ-315).
    pub catalog_without: Vec<String>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            client_id: None,
            client_secret: None,
            token_lifetime: Duration::from_secs(86_400),
            rate_limit_per_minute: None,
            org_rate_limit_per_minute: None,
            token_rate_limit_per_minute: None,
            latency_ms: 0,
            latency_jitter_ms: 0,
            answer_delay: Duration::ZERO,
            consistency_delay: Duration::ZERO,
            create_delay: Duration::ZERO,
            flow_job_duration: Duration::ZERO,
            membership_delay: Duration::ZERO,
            web_deployment_delay: Duration::ZERO,
            search_delay: Duration::ZERO,
            fault_rate: 0.0,
            fault_seed: 0,
            fault_slow: Duration::from_secs(2),
            state_file: None,
            seed_file: None,
            generate: Generate::default(),
            log_requests: false,
            allow_non_loopback: false,
            client_subjects: true,
            catalog_without: Vec::new(),
        }
    }
}
