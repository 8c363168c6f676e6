//! The scenarios: what the org holds, what is declared, which command runs,
//! what the API must minimally do for it, and how success is checked.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use gcctl::sandbox::Generate;

use crate::bounds::{ListRead, Work};

/// Largest page sizes the API accepts (the reference data in
/// `shared/genesys-api/README.md`, and what the sandbox enforces).
const QUEUE_PAGE: u64 = 500;
const INTEGRATION_PAGE: u64 = 100;
const RECIPIENT_PAGE: u64 = 100;
/// The Terraform provider lists with 500 for queues and 100 elsewhere.
const PROVIDER_QUEUE_PAGE: u64 = 500;
const PROVIDER_PAGE: u64 = 100;
/// Per-object reads of the provider: a queue is its GET plus members and
/// wrap-up codes; the others are one GET.
const QUEUE_READ_CALLS: u64 = 3;
/// Who the caller is and what it may do, and which org this is: three
/// calls a plan makes before it shows a change (`tokens/me`,
/// `authorization/subjects/me`, `organizations/me`).
const CALLER_READS: u64 = 3;
const OTHER_READ_CALLS: u64 = 1;

/// What a scenario runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Plan,
    Apply,
    Export,
    Validate,
    Version,
}

impl Command {
    pub fn name(self) -> &'static str {
        match self {
            Command::Plan => "plan",
            Command::Apply => "apply",
            Command::Export => "export",
            Command::Validate => "validate",
            Command::Version => "--version",
        }
    }

    /// Whether the command talks to an org.
    pub fn needs_org(self) -> bool {
        matches!(self, Command::Plan | Command::Apply | Command::Export)
    }
}

/// One scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Stable identifier (`plan-1000`), the key in the JSON output.
    pub id: String,
    pub command: Command,
    /// Objects declared (plan, apply, validate) or held by the org (export).
    pub objects: u64,
    /// Run against the realistic sandbox (latency and rate limit) or offline.
    pub online: bool,
    /// Objects the org holds before the run.
    pub generate: Generate,
    /// Queues declared in the manifests (`queue-00001` ...).
    pub declared_queues: u64,
    /// What the API must do, for the lower bound and the baseline.
    pub work: Option<Work>,
    /// Runs; every figure reported is a median over them. Latency jitter
    /// and a shared machine make single runs noisy.
    pub repeat: usize,
    /// `--max-tokens` (k): the tokens gcctl may mint, and the bound's k.
    pub max_tokens: u32,
}

/// gcctl's default `--max-tokens`.
pub const DEFAULT_MAX_TOKENS: u32 = 10;

fn queues_read(n: u64, baseline_lists: bool) -> ListRead {
    ListRead {
        what: "routing queues",
        objects: n,
        max_page_size: Some(QUEUE_PAGE),
        baseline_page_size: baseline_lists.then_some(PROVIDER_QUEUE_PAGE),
        baseline_calls_per_object: QUEUE_READ_CALLS,
    }
}

fn count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// `plan` of `n` declared queues against an org that holds them. The
/// queues name their division, so divisions are looked up (one page).
pub fn plan(n: u64) -> Scenario {
    Scenario {
        id: format!("plan-{n}"),
        command: Command::Plan,
        objects: n,
        online: true,
        generate: Generate { queues: count(n), ..Generate::default() },
        declared_queues: n,
        // Refreshing state needs no list: the provider knows the ids. The
        // divisions, and who the caller is and what it may do (tokens/me,
        // subjects/me) and which org this is (organizations/me), which a
        // plan checks before it shows a change.
        work: Some(Work {
            lists: vec![queues_read(n, false)],
            lookups: 1 + CALLER_READS,
            ..Work::default()
        }),
        // 50,000 queues take a while to generate and load: three runs.
        repeat: if n >= 50_000 { 3 } else { 5 },
        max_tokens: DEFAULT_MAX_TOKENS,
    }
}

/// `apply` of `n` queue creates into an org without them: the (empty)
/// queue list, the divisions, and one POST each.
pub fn apply(n: u64) -> Scenario {
    Scenario {
        id: format!("apply-{n}"),
        command: Command::Apply,
        objects: n,
        online: true,
        generate: Generate::default(),
        declared_queues: n,
        work: Some(Work {
            lists: vec![ListRead { baseline_calls_per_object: 0, ..queues_read(0, false) }],
            lookups: 1 + CALLER_READS,
            // The org, for its apply lock, before reading; a fresh list of the
            // queues before creating (a duplicate made meanwhile is found).
            serial_calls: 2,
            writes: n,
            // The provider reads every object back after creating it.
            baseline_calls_per_write: 1 + QUEUE_READ_CALLS,
        }),
        repeat: 3,
        max_tokens: DEFAULT_MAX_TOKENS,
    }
}

/// `apply` of `n` creates with `--max-tokens 1`: one token, as before the
/// pool (minutes at the rate limit: once is enough).
pub fn apply_one_token(n: u64) -> Scenario {
    Scenario { id: format!("apply-{n}-1-token"), repeat: 1, max_tokens: 1, ..apply(n) }
}

/// `export` of an org holding `n` objects: 80 % queues, 10 % open messaging
/// integrations, 10 % OAuth clients.
pub fn export(n: u64) -> Scenario {
    let integrations = n / 10;
    let clients = n / 10;
    let queues = n - integrations - clients;
    let other = |what, objects, max_page_size| ListRead {
        what,
        objects,
        max_page_size,
        baseline_page_size: Some(PROVIDER_PAGE),
        baseline_calls_per_object: OTHER_READ_CALLS,
    };
    Scenario {
        id: format!("export-{n}"),
        command: Command::Export,
        objects: n,
        online: true,
        generate: Generate {
            queues: count(queues),
            open_messaging_integrations: count(integrations),
            oauth_clients: count(clients),
            ..Generate::default()
        },
        declared_queues: 0,
        work: Some(Work {
            lists: vec![
                queues_read(queues, true),
                other("open messaging integrations", integrations, Some(INTEGRATION_PAGE)),
                // The OAuth client list is unpaged; +1: the sandbox's admin client.
                ListRead { baseline_page_size: None, ..other("OAuth clients", clients + 1, None) },
                // Recipients name the inbound flow of each integration's address.
                ListRead {
                    baseline_calls_per_object: 0,
                    ..other("message recipients", integrations, Some(RECIPIENT_PAGE))
                },
            ],
            // One call each: the supported content profiles, roles,
            // divisions, messaging settings, wrap-up codes, skills,
            // languages, groups, flows, web messaging configurations and
            // deployments (one page each, the last two cursor-paged), and
            // the default profile and default messaging setting (never
            // exported).
            lookups: 13,
            ..Work::default()
        }),
        repeat: 3,
        max_tokens: DEFAULT_MAX_TOKENS,
    }
}

/// Planning `n` queues with no latency and no rate limit: gcctl's own cost.
pub fn offline_plan(n: u64) -> Scenario {
    Scenario { id: format!("offline-plan-{n}"), online: false, work: None, ..plan(n) }
}

/// `validate` of `n` declared queues (no org).
pub fn validate(n: u64) -> Scenario {
    Scenario {
        id: format!("validate-{n}"),
        command: Command::Validate,
        objects: n,
        online: false,
        generate: Generate::default(),
        declared_queues: n,
        work: None,
        repeat: 5,
        max_tokens: DEFAULT_MAX_TOKENS,
    }
}

/// `gcctl --version`: start-up time.
pub fn version() -> Scenario {
    Scenario {
        id: "version".into(),
        command: Command::Version,
        objects: 0,
        online: false,
        generate: Generate::default(),
        declared_queues: 0,
        work: None,
        repeat: 21,
        max_tokens: DEFAULT_MAX_TOKENS,
    }
}

/// Write `n` queue manifests, 100 per file, matching the sandbox's generated
/// queues (`queue-00001` ..., description and Home division), so that a plan
/// against an org holding them is clean.
pub fn write_queue_manifests(dir: &Path, n: u64) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut first = 1;
    while first <= n {
        let last = (first + 99).min(n);
        let mut text = String::new();
        for i in first..=last {
            if i > first {
                text.push_str("---\n");
            }
            let _ = write!(
                text,
                "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata:\n  name: queue-{i:05}\n\
                 spec:\n  name: queue-{i:05}\n  description: generated by gcctl sandbox\n  \
                 division: Home\n"
            );
        }
        let file = dir.join(format!("queues-{first:05}.yaml"));
        std::fs::write(&file, text).with_context(|| format!("cannot write {}", file.display()))?;
        first = last + 1;
    }
    Ok(())
}
