//! The scenarios: what the org holds, what is declared, which command runs,
//! what the API must minimally do for it, and how success is checked.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use gcctl::sandbox::Generate;

use crate::bounds::{ListRead, Work};
use crate::mixed::Mixed;
use crate::report::SandboxKnobs;

/// Largest page sizes the API accepts (the reference data in
/// `shared/genesys-api/README.md`, and what the sandbox enforces).
const QUEUE_PAGE: u64 = 500;
const INTEGRATION_PAGE: u64 = 100;
const RECIPIENT_PAGE: u64 = 100;
/// Wrap-up codes, flows, web messaging configurations and deployments.
const OTHER_PAGE: u64 = 100;
/// Emails per user search (`POST /api/v2/users/search`).
const USER_SEARCH_PAGE: u64 = 50;
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

impl Scenario {
    /// Whether each measured run comes after an unmeasured run of the same
    /// command against the same org: for the commands that only read (plan,
    /// export), so that the sandbox answers the measured run's list pages
    /// from the bytes it kept (`docs/src/sandbox.md`, "Pages kept as
    /// written") instead of rendering them on the cores gcctl runs on, as a
    /// real org renders them on its own servers. Not under an org-wide cap:
    /// the warm-up's requests would count against the measured run's.
    pub fn warms_up(&self, knobs: SandboxKnobs) -> bool {
        matches!(self.command, Command::Plan | Command::Export)
            && knobs.org_rate_limit_per_minute.is_none()
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
    /// The mixed org's manifests instead of `declared_queues` queues; plans
    /// and exports run against the org after an (unmeasured) apply of them.
    pub mixed: Option<Mixed>,
}

/// gcctl's default `--max-tokens`.
pub const DEFAULT_MAX_TOKENS: u32 = 10;

/// Runs of a network-bound scenario small enough to repeat. Its single runs
/// spread over 50–90 ms (the token's latency alone is ±35 ms, and the slowest
/// page of a wave decides it), more than a change being measured: five runs
/// moved the median by that much from run to run.
const RUNS: usize = 9;

fn queues_read(n: u64, baseline_lists: bool) -> ListRead {
    ListRead {
        what: "routing queues",
        objects: n,
        max_page_size: Some(QUEUE_PAGE),
        baseline_page_size: baseline_lists.then_some(PROVIDER_QUEUE_PAGE),
        baseline_calls_per_object: QUEUE_READ_CALLS,
        expected: false,
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
        // Queues as a configured org's are listed: with their settings.
        generate: Generate { queues: count(n), queue_settings: true, ..Generate::default() },
        declared_queues: n,
        // Refreshing state needs no list: the provider knows the ids. The
        // divisions, and who the caller is and what it may do (tokens/me,
        // subjects/me) and which org this is (organizations/me), which a
        // plan checks before it shows a change.
        // The plan expects the queues its manifests declare: every page at once.
        work: Some(Work {
            lists: vec![ListRead { expected: true, ..queues_read(n, false) }],
            lookups: 1 + CALLER_READS,
            ..Work::default()
        }),
        // 50,000 queues take a while to generate and load: three runs.
        repeat: if n >= 50_000 { 3 } else { RUNS },
        max_tokens: DEFAULT_MAX_TOKENS,
        mixed: None,
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
            ..Work::default()
        }),
        // As the plans: an apply of 1,000 creates ends within a few round
        // trips, so one slow wave moves a median of three.
        repeat: RUNS,
        max_tokens: DEFAULT_MAX_TOKENS,
        mixed: None,
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
        expected: false,
    };
    Scenario {
        id: format!("export-{n}"),
        command: Command::Export,
        objects: n,
        online: true,
        generate: Generate {
            queues: count(queues),
            queue_settings: true,
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
        // 50,000 objects take a while to generate and load: three runs.
        repeat: if n >= 50_000 { 3 } else { RUNS },
        max_tokens: DEFAULT_MAX_TOKENS,
        mixed: None,
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
        mixed: None,
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
        mixed: None,
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

/// Who the caller is and what it may do, the org, and the divisions (the
/// queues name theirs), and one user search per 50 member emails.
fn mixed_lookups(mixed: Mixed) -> u64 {
    1 + CALLER_READS + mixed.member_emails().div_ceil(USER_SEARCH_PAGE)
}

/// The five kinds of the mixed org, as lists of `objects` each; `expected`:
/// the client knows their sizes from its manifests (a plan).
fn mixed_lists(mixed: Mixed, objects: impl Fn(u64) -> u64, expected: bool) -> Vec<ListRead> {
    let other = |what, n| ListRead {
        what,
        objects: objects(n),
        max_page_size: Some(OTHER_PAGE),
        baseline_page_size: None,
        baseline_calls_per_object: OTHER_READ_CALLS,
        expected,
    };
    vec![
        ListRead { objects: objects(mixed.queues), expected, ..queues_read(mixed.queues, false) },
        other("wrap-up codes", mixed.codes),
        other("flows", mixed.flows),
        other("web messaging configurations", mixed.web),
        other("web messaging deployments", mixed.web),
    ]
}

/// `apply` of the mixed org's manifests into an org that holds only its
/// agents. The minimal chain, after the token, the org (for the lock), the
/// five empty lists with the lookups, and a fresh list of each kind:
/// 1. every create: queues, wrap-up codes, flow import jobs (`POST
///    /flows/jobs`), configurations (their draft);
/// 2. each flow's upload (`PUT` to the job's URL), each configuration's draft
///    read until it leaves `Pending` (one read: the least a wait takes), and
///    each member-declaring queue's member add and code add (they need the
///    queue's and the codes' ids);
/// 3. each import job's status (one read), each configuration's publish, and
///    one read of each queue's members showing the adds (processed
///    asynchronously; with `include`, one page that shows every declared
///    member settles it);
/// 4. the deployments (they need the flow's id and the published version);
/// 5. each deployment read until it leaves `Pending` (one read).
///
/// gcctl sends exactly this plus one list page: the bound counts one fresh
/// list of the (nearly empty) queues before the creates, and gcctl's
/// duplicate check lists them after the creates, when they fill two pages. Until 2026-12-02 it also read a new queue's
/// members and codes before adding, read the members until an empty page,
/// read each published flow back and listed each configuration's versions
/// twice (`docs/src/benchmarks.md`).
pub fn apply_mixed(mixed: Mixed) -> Scenario {
    let (q, f, w) = (mixed.queues_with_members(), mixed.flows, mixed.web);
    Scenario {
        id: "apply-mixed".into(),
        command: Command::Apply,
        objects: mixed.objects(),
        online: true,
        generate: Generate { users: count(mixed.agents), ..Generate::default() },
        declared_queues: 0,
        work: Some(Work {
            lists: mixed_lists(mixed, |_| 0, false),
            lookups: mixed_lookups(mixed),
            serial_calls: 1,
            fresh_lists: 5,
            writes: mixed.queues + mixed.codes + f + w,
            then: vec![f + w + 2 * q, f + w + q, w, w],
            // The provider reads every object back (as for a queue: 3 calls).
            baseline_calls_per_write: 1 + QUEUE_READ_CALLS,
        }),
        repeat: 3,
        max_tokens: DEFAULT_MAX_TOKENS,
        mixed: Some(mixed),
    }
}

/// `plan` of the mixed org's manifests against the org after their apply:
/// the five lists, every page at once (the manifests tell how many objects
/// to expect), with the lookups, then the members and codes of each
/// member-declaring queue and each configuration's versions, then the latest
/// version of each configuration. One page of members is the least
/// (`include`: the declared members show on it). (gcctl also listed a
/// configuration's versions again for each deployment when measured on
/// 2026-12-02; no longer.)
pub fn plan_mixed(mixed: Mixed) -> Scenario {
    let with_members = mixed.queues_with_members();
    Scenario {
        id: "plan-mixed".into(),
        command: Command::Plan,
        work: Some(Work {
            lists: mixed_lists(mixed, |n| n, true),
            lookups: mixed_lookups(mixed),
            then: vec![2 * with_members + mixed.web, mixed.web],
            ..Work::default()
        }),
        repeat: 3,
        ..apply_mixed(mixed)
    }
}

/// `export` of the org after the mixed org's apply: the lists and lookups
/// of `export-N` (no integrations, clients or recipients but the admin
/// client), then per flow an export job (`POST`, its status read once, the
/// download: three steps) and per configuration its versions and latest
/// version. (gcctl also listed a configuration's versions for each
/// deployment when measured, and ran at most 4 export jobs at once; no
/// longer.)
pub fn export_mixed(mixed: Mixed) -> Scenario {
    let (f, w) = (mixed.flows, mixed.web);
    let Some(mut work) = export(mixed.queues).work else { unreachable!("export has work") };
    for list in &mut work.lists {
        list.objects = match list.what {
            "routing queues" => mixed.queues,
            "OAuth clients" => 1,
            _ => 0,
        };
    }
    work.then = vec![f + w, f + w, f];
    Scenario {
        id: "export-mixed".into(),
        command: Command::Export,
        work: Some(work),
        repeat: 3,
        ..apply_mixed(mixed)
    }
}
