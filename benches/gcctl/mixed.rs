//! The mixed org (issue 17, point 4): queues of which one in ten declares
//! members and wrap-up codes, the wrap-up codes they offer, minimal inbound
//! message flows, and web messaging configurations with a deployment each
//! routing to one of the flows. Writes the manifests; the scenarios and their
//! bounds are in `scenarios.rs`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;

/// Sizes of a mixed org.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mixed {
    pub queues: u64,
    /// Every `MEMBERS_EVERY`-th queue declares members and wrap-up codes.
    pub codes: u64,
    pub flows: u64,
    /// Configuration and deployment pairs (at most `flows`: each deployment
    /// routes to its own flow).
    pub web: u64,
    /// Agents the sandbox generates (`agent-00001@sandbox.gcctl.example` ...),
    /// the members the queues declare.
    pub agents: u64,
}

/// One queue in ten declares members and wrap-up codes.
pub const MEMBERS_EVERY: u64 = 10;
/// Members each of those queues declares, by email.
pub const MEMBERS_PER_QUEUE: u64 = 3;
/// Wrap-up codes each of those queues offers.
pub const CODES_PER_QUEUE: u64 = 2;

impl Mixed {
    /// The org: 1,000 queues (100 with members and codes), 20 codes,
    /// 50 flows, 3 web messaging deployments, 50 agents.
    pub const FULL: Mixed = Mixed { queues: 1_000, codes: 20, flows: 50, web: 3, agents: 50 };
    /// Tiny, for `--smoke`: every kind and every kind of write still runs.
    pub const SMOKE: Mixed = Mixed { queues: 20, codes: 4, flows: 3, web: 1, agents: 5 };

    /// Queues that declare members and wrap-up codes.
    pub fn queues_with_members(self) -> u64 {
        self.queues / MEMBERS_EVERY
    }

    /// Every declared object.
    pub fn objects(self) -> u64 {
        self.queues + self.codes + self.flows + 2 * self.web
    }

    /// Distinct member emails the queues declare.
    pub fn member_emails(self) -> u64 {
        let emails: std::collections::BTreeSet<u64> = (1..=self.queues_with_members())
            .flat_map(|n| (0..MEMBERS_PER_QUEUE).map(move |m| (n + m) % self.agents.max(1)))
            .collect();
        u64::try_from(emails.len()).unwrap_or(u64::MAX)
    }

    /// Manifests declared, per kind, as `validate` counts them.
    pub fn kinds(self) -> [(&'static str, u64); 5] {
        [
            ("RoutingQueue", self.queues),
            ("RoutingWrapupCode", self.codes),
            ("Flow", self.flows),
            ("WebMessagingConfiguration", self.web),
            ("WebMessagingDeployment", self.web),
        ]
    }
}

fn agent(n: u64, agents: u64) -> String {
    format!("agent-{:05}@sandbox.gcctl.example", n % agents.max(1) + 1)
}

fn write(dir: &Path, name: &str, text: &str) -> anyhow::Result<()> {
    let file = dir.join(name);
    std::fs::write(&file, text).with_context(|| format!("cannot write {}", file.display()))
}

fn queue(text: &mut String, i: u64, mixed: Mixed) {
    let _ = write!(
        text,
        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata:\n  name: queue-{i:05}\n\
         spec:\n  name: queue-{i:05}\n  description: mixed org queue\n  division: Home\n"
    );
    if i % MEMBERS_EVERY == 0 {
        text.push_str("  members:\n");
        for m in 0..MEMBERS_PER_QUEUE {
            let _ = writeln!(text, "    - email: {}", agent(i / MEMBERS_EVERY + m, mixed.agents));
        }
        text.push_str("  wrapupCodes:\n");
        for c in 0..CODES_PER_QUEUE {
            let _ = writeln!(text, "    - wrapup-{:02}", (i / MEMBERS_EVERY + c) % mixed.codes + 1);
        }
    }
}

fn flow(text: &mut String, i: u64) {
    let _ = write!(
        text,
        "apiVersion: gcctl/v1\nkind: Flow\nmetadata:\n  name: flow-{i:02}\nspec:\n  \
         name: Mixed Inbound {i:02}\n  type: INBOUNDSHORTMESSAGE\n  division: Home\n  \
         definition: |\n    inboundShortMessage:\n      name: Mixed Inbound {i:02}\n      \
         description: Answers and disconnects\n      defaultLanguage: en-us\n      \
         startUpRef: \"/inboundShortMessage/states/state[Start_1]\"\n      states:\n        \
         - state:\n            name: Start\n            refId: Start_1\n            \
         actions:\n              - disconnect:\n                  name: Disconnect\n"
    );
}

fn web(text: &mut String, i: u64) {
    let _ = write!(
        text,
        "apiVersion: gcctl/v1\nkind: WebMessagingConfiguration\nmetadata:\n  name: web-{i}\n\
         spec:\n  name: Mixed Messenger {i}\n  languages: [en-us]\n  defaultLanguage: en-us\n  \
         headlessMode:\n    enabled: false\n  messenger:\n    enabled: true\n    apps:\n      \
         conversations:\n        enabled: true\n---\n\
         apiVersion: gcctl/v1\nkind: WebMessagingDeployment\nmetadata:\n  name: web-{i}\n\
         spec:\n  name: Mixed Messenger {i}\n  configuration: web-{i}\n  flow: flow-{i:02}\n  \
         allowedDomains: [www{i}.example.com]\n"
    );
}

fn documents(
    range: std::ops::RangeInclusive<u64>,
    mut one: impl FnMut(&mut String, u64),
) -> String {
    let mut text = String::new();
    for i in range {
        if !text.is_empty() {
            text.push_str("---\n");
        }
        one(&mut text, i);
    }
    text
}

/// Write the mixed org's manifests into `dir`: queues 100 per file, then one
/// file each for the codes, the flows (inline Archy YAML) and web messaging.
pub fn write_manifests(dir: &Path, mixed: Mixed) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut first = 1;
    while first <= mixed.queues {
        let last = (first + 99).min(mixed.queues);
        let text = documents(first..=last, |text, i| queue(text, i, mixed));
        write(dir, &format!("queues-{first:05}.yaml"), &text)?;
        first = last + 1;
    }
    let codes = documents(1..=mixed.codes, |text, i| {
        let _ = write!(
            text,
            "apiVersion: gcctl/v1\nkind: RoutingWrapupCode\nmetadata:\n  name: wrapup-{i:02}\n\
             spec:\n  name: wrapup-{i:02}\n"
        );
    });
    write(dir, "wrapup-codes.yaml", &codes)?;
    write(dir, "flows.yaml", &documents(1..=mixed.flows, flow))?;
    write(dir, "web-messaging.yaml", &documents(1..=mixed.web, web))
}

/// The creates an apply of the mixed org sends, by sandbox route: one each.
pub fn creates(mixed: Mixed) -> Vec<(&'static str, u64)> {
    vec![
        ("POST /api/v2/routing/queues", mixed.queues),
        ("POST /api/v2/routing/wrapupcodes", mixed.codes),
        ("POST /api/v2/flows/jobs", mixed.flows),
        ("POST /api/v2/webdeployments/configurations", mixed.web),
        ("POST /api/v2/webdeployments/deployments", mixed.web),
    ]
}
