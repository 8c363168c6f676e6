//! `RoutingQueue`: a routing queue (`/api/v2/routing/queues`). The spec is the
//! queue request surface of the API (`QueueRequest`) with references by name:
//! `division` (org division), `queueFlow` / `emailInQueueFlow` /
//! `messageInQueueFlow` (org flows of the matching in-queue type),
//! `outboundMessagingAddresses.openMessagingRecipient` (an
//! `OpenMessagingIntegration`) and `memberGroups` (groups, teams and skill
//! groups); plus what the queue's sub-resources hold: its direct `members`
//! (users by email) with the `membership` policy, and the `wrapupCodes` it
//! offers. Everything about membership (its types, reads, comparison and
//! writes) lives in [`membership`]. Every field but `name` is optional;
//! fields left out are not managed and keep their live values, because
//! updates are a PUT of the live queue merged with the declared fields.
//!
//! Not covered (they refer to objects gcctl does not manage yet; they are
//! preserved on update): conditional group routing and activation, prompts,
//! scripts, canned responses, email addresses, `directRouting.backupQueueId`,
//! callback flows, edge groups and sites.

pub mod membership;

pub use membership::{MemberGroup, MemberGroupType, MembershipPolicy, QueueMember};

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{check_min, check_org_name, check_range};
use super::{Kind, KindDef, RefTarget, Reference, Spec, parse_spec, schema_of, spec_boilerplate};
use crate::manifest::diag::Findings;

/// A routing queue.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoutingQueueSpec {
    /// The queue's name in the org (its natural key).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The division, by name (the Home division when created without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<String>,
    /// Per-media settings: alerting timeout, service level, auto answer.
    // Boxed: inline, it was more than half of the spec's 1,016 bytes, paid
    // by every queue (10 MB of 10,000 specs), and most queues leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_settings: Option<Box<QueueMediaSettings>>,
    /// Preferred agent routing rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_rules: Option<Vec<RoutingRule>>,
    /// Bullseye routing: 2 to 6 rings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bullseye: Option<Bullseye>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scoring_method: Option<ScoringMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_agent_routing_mode: Option<LastAgentRoutingMode>,
    /// After-call work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acw_settings: Option<AcwSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill_evaluation_method: Option<SkillEvaluationMethod>,
    /// In-queue flow for calls (an `INQUEUECALL` flow, by name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_flow: Option<String>,
    /// In-queue flow for emails (an `INQUEUEEMAIL` flow, by name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_in_queue_flow: Option<String>,
    /// In-queue flow for messages (an `INQUEUESHORTMESSAGE` flow, by name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_in_queue_flow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_answer_only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_transcription: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_audio_monitoring: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_manual_assignment: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppress_in_queue_call_recording: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_owned_routing: Option<AgentOwnedRouting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_routing: Option<DirectRouting>,
    /// Caller name for outbound calls from this queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calling_party_name: Option<String>,
    /// Caller number for outbound calls from this queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calling_party_number: Option<String>,
    /// Outbound messaging addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound_messaging_addresses: Option<QueueMessagingAddresses>,
    /// Direct members: agents by email, each with an optional ring number.
    /// Users are never created or changed: an unknown or inactive email is
    /// a plan error. Left out, gcctl does not manage membership at all and
    /// never adds or removes anyone. What happens to direct members not
    /// listed here is `membership`'s choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<QueueMember>>,
    /// How `members` is applied: `include` (the default) adds the declared
    /// members and never removes anyone; `exact` also removes direct members
    /// that are not declared. Members through `memberGroups` are never
    /// removed or added directly. Only with `members`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub membership: Option<MembershipPolicy>,
    /// Groups whose users are members of the queue, by name: exactly these
    /// (a declared list replaces the queue's member groups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_groups: Option<Vec<MemberGroup>>,
    /// The wrap-up codes the queue offers, by name (a `RoutingWrapupCode`
    /// manifest, or a code in the org): exactly these. Left out: not managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapup_codes: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QueueMediaSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<MediaSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<CallbackMediaSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<MediaSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<MediaSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageMediaSettings>,
}

/// Settings common to every media type.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MediaSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_auto_answer: Option<bool>,
    /// Seconds an interaction alerts an agent; at least 7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 7))]
    pub alerting_timeout_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_level: Option<ServiceLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_answer_alert_tone_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_answer_alert_tone_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallbackMediaSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_auto_answer: Option<bool>,
    /// Seconds a callback alerts an agent; at least 7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 7))]
    pub alerting_timeout_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_level: Option<ServiceLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_answer_alert_tone_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_answer_alert_tone_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<CallbackMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_auto_dial_and_end: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub auto_dial_delay_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub auto_end_delay_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pacing_modifier: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub max_retry_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub retry_delay_seconds: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageMediaSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_auto_answer: Option<bool>,
    /// Seconds a message alerts an agent; at least 7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 7))]
    pub alerting_timeout_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_level: Option<ServiceLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_answer_alert_tone_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_answer_alert_tone_seconds: Option<f64>,
    /// Per message subtype (`open`, `sms`, `whatsapp`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_type_settings: Option<BTreeMap<String, MessageSubtypeSettings>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_inactivity_timeout: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactivity_timeout_settings: Option<InactivityTimeoutSettings>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageSubtypeSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_auto_answer: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_inactivity_timeout: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InactivityTimeoutSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_type: Option<InactivityAction>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceLevel {
    /// Target fraction answered in time, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub percentage: Option<f64>,
    /// Target answer time in milliseconds, at least 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1000))]
    pub duration_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoutingRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<RoutingRuleOperator>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<i64>,
    /// Seconds to wait before applying the next rule, 2 to 259200.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2.0, max = 259_200.0))]
    pub wait_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Bullseye {
    /// 2 to 6 rings.
    pub rings: Vec<Ring>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ring {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expansion_criteria: Option<Vec<ExpansionCriterium>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpansionCriterium {
    #[serde(rename = "type")]
    pub criterium_type: ExpansionType,
    pub threshold: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AcwSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapup_prompt: Option<WrapupPrompt>,
    /// After-call work timeout in milliseconds, 0 to 86400000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 86_400_000))]
    pub timeout_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentOwnedRouting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_agent_owned_callbacks: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_owned_callback_hours: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_owned_callback_delay_hours: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectRouting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_media_settings: Option<DirectRoutingMediaSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_media_settings: Option<DirectRoutingMediaSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_media_settings: Option<DirectRoutingMediaSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_for_agent: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_wait_seconds: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectRoutingMediaSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_agent_address_outbound: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QueueMessagingAddresses {
    /// The `OpenMessagingIntegration` whose address the queue sends from: a
    /// manifest name, or else an integration name in the org.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_messaging_recipient: Option<String>,
}

macro_rules! api_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }
    };
}

api_enum!(ScoringMethod { TimestampAndPriority = "TimestampAndPriority", PriorityOnly = "PriorityOnly" });
api_enum!(LastAgentRoutingMode { Disabled = "Disabled", QueueMembersOnly = "QueueMembersOnly", AnyAgent = "AnyAgent" });
api_enum!(SkillEvaluationMethod { None = "NONE", Best = "BEST", All = "ALL" });
api_enum!(RoutingRuleOperator { MeetsThreshold = "MEETS_THRESHOLD", Any = "ANY" });
api_enum!(ExpansionType { TimeoutSeconds = "TIMEOUT_SECONDS" });
api_enum!(CallbackMode { AgentFirst = "AgentFirst", CustomerFirst = "CustomerFirst" });
api_enum!(InactivityAction { Disconnect = "DISCONNECT", SendToArchitectFlow = "SEND_TO_ARCHITECT_FLOW" });
api_enum!(WrapupPrompt {
    Mandatory = "MANDATORY",
    Optional = "OPTIONAL",
    MandatoryTimeout = "MANDATORY_TIMEOUT",
    MandatoryForcedTimeout = "MANDATORY_FORCED_TIMEOUT",
    AgentRequested = "AGENT_REQUESTED",
});

/// Flow reference fields and the flow type each needs.
pub const FLOW_FIELDS: [(&str, &str); 3] = [
    ("queueFlow", "INQUEUECALL"),
    ("emailInQueueFlow", "INQUEUEEMAIL"),
    ("messageInQueueFlow", "INQUEUESHORTMESSAGE"),
];

impl RoutingQueueSpec {
    fn flow_fields(&self) -> [(&'static str, &'static str, Option<&String>); 3] {
        [
            (FLOW_FIELDS[0].0, FLOW_FIELDS[0].1, self.queue_flow.as_ref()),
            (FLOW_FIELDS[1].0, FLOW_FIELDS[1].1, self.email_in_queue_flow.as_ref()),
            (FLOW_FIELDS[2].0, FLOW_FIELDS[2].1, self.message_in_queue_flow.as_ref()),
        ]
    }

    fn check_media(&self, findings: &mut Findings) {
        let Some(media) = &self.media_settings else { return };
        let tones = [
            ("call", media.call.as_ref().map(|m| (m.auto_answer_alert_tone_seconds, m.manual_answer_alert_tone_seconds))),
            ("callback", media.callback.as_ref().map(|m| (m.auto_answer_alert_tone_seconds, m.manual_answer_alert_tone_seconds))),
            ("chat", media.chat.as_ref().map(|m| (m.auto_answer_alert_tone_seconds, m.manual_answer_alert_tone_seconds))),
            ("email", media.email.as_ref().map(|m| (m.auto_answer_alert_tone_seconds, m.manual_answer_alert_tone_seconds))),
            ("message", media.message.as_ref().map(|m| (m.auto_answer_alert_tone_seconds, m.manual_answer_alert_tone_seconds))),
        ];
        for (medium, tones) in tones {
            let Some((auto, manual)) = tones else { continue };
            for (field, value) in [("autoAnswerAlertToneSeconds", auto), ("manualAnswerAlertToneSeconds", manual)] {
                if let Some(seconds) = value.filter(|s| *s < 0.0) {
                    findings.error(
                        format!("/spec/mediaSettings/{medium}/{field}"),
                        format!("{seconds} is too small: must be at least 0"),
                    );
                }
            }
        }
        let common = [
            ("call", media.call.as_ref().map(|m| (m.alerting_timeout_seconds, &m.service_level))),
            (
                "callback",
                media.callback.as_ref().map(|m| (m.alerting_timeout_seconds, &m.service_level)),
            ),
            ("chat", media.chat.as_ref().map(|m| (m.alerting_timeout_seconds, &m.service_level))),
            ("email", media.email.as_ref().map(|m| (m.alerting_timeout_seconds, &m.service_level))),
            (
                "message",
                media.message.as_ref().map(|m| (m.alerting_timeout_seconds, &m.service_level)),
            ),
        ];
        // Counts and delays: none is negative (the API's own bounds are
        // UNVERIFIED; a negative one was applied and exported back).
        if let Some(callback) = &media.callback {
            if let Some(pacing) = callback.pacing_modifier.filter(|p| *p < 0.0) {
                findings.error(
                    "/spec/mediaSettings/callback/pacingModifier",
                    format!("{pacing} is too small: must be at least 0"),
                );
            }
            for (field, value) in [
                ("autoDialDelaySeconds", callback.auto_dial_delay_seconds),
                ("autoEndDelaySeconds", callback.auto_end_delay_seconds),
                ("maxRetryCount", callback.max_retry_count),
                ("retryDelaySeconds", callback.retry_delay_seconds),
            ] {
                check_min(findings, format_args!("/spec/mediaSettings/callback/{field}"), value, 0);
            }
        }
        for (medium, settings) in common {
            let Some((timeout, service_level)) = settings else { continue };
            let base = "/spec/mediaSettings";
            check_min(findings, format_args!("{base}/{medium}/alertingTimeoutSeconds"), timeout, 7);
            if let Some(sl) = service_level {
                let percentage = format_args!("{base}/{medium}/serviceLevel/percentage");
                check_range(findings, percentage, sl.percentage, 0.0, 1.0);
                let duration = format_args!("{base}/{medium}/serviceLevel/durationMs");
                check_min(findings, duration, sl.duration_ms, 1000);
            }
        }
    }
}

impl Spec for RoutingQueueSpec {
    fn kind(&self) -> Kind {
        Kind::RoutingQueue
    }

    fn org_name(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn references(&self) -> Vec<Reference> {
        let mut refs = Vec::new();
        if let Some(name) = &self.division {
            refs.push(Reference {
                pointer: "/spec/division".into(),
                target: RefTarget::Division,
                name: name.clone(),
            });
        }
        for (field, flow_type, name) in self.flow_fields() {
            if let Some(name) = name {
                refs.push(Reference {
                    pointer: format!("/spec/{field}"),
                    target: RefTarget::Flow(flow_type),
                    name: name.clone(),
                });
            }
        }
        if let Some(name) = self
            .outbound_messaging_addresses
            .as_ref()
            .and_then(|a| a.open_messaging_recipient.as_ref())
        {
            refs.push(Reference {
                pointer: "/spec/outboundMessagingAddresses/openMessagingRecipient".into(),
                target: RefTarget::Kind(Kind::OpenMessagingIntegration),
                name: name.clone(),
            });
        }
        refs.extend(membership::references(self));
        refs
    }

    fn check(&self, findings: &mut Findings) {
        check_org_name(findings, "/spec/name", &self.name);
        self.check_media(findings);
        for (i, rule) in self.routing_rules.iter().flatten().enumerate() {
            let pointer = format_args!("/spec/routingRules/{i}/waitSeconds");
            check_range(findings, pointer, rule.wait_seconds, 2.0, 259_200.0);
        }
        if let Some(bullseye) = &self.bullseye {
            let n = bullseye.rings.len();
            if !(2..=6).contains(&n) {
                findings.error(
                    "/spec/bullseye/rings",
                    format!("bullseye needs 2 to 6 rings, found {n}"),
                );
            }
        }
        if let Some(acw) = &self.acw_settings {
            check_range(findings, "/spec/acwSettings/timeoutMs", acw.timeout_ms, 0, 86_400_000);
        }
        membership::check(self, findings);
    }

    spec_boilerplate!();
}

pub const DEF: KindDef = KindDef {
    summary: "A routing queue, with its media, ACW, routing and messaging-address settings.",
    order: 40,
    export_file: Some("queues.yaml"),
    parse: parse_spec::<RoutingQueueSpec>,
    schema: schema_of::<RoutingQueueSpec>,
    org: Some(&Org),
};

/// The org side of `RoutingQueue`.
pub struct Org;

/// Fields of the `Queue` response that `QueueRequest` accepts back on PUT
/// (everything except the server's read-only ones).
const QUEUE_WRITABLE: [&str; 33] = [
    "name",
    "division",
    "description",
    "mediaSettings",
    "routingRules",
    "conditionalGroupRouting",
    "conditionalGroupActivation",
    "bullseye",
    "scoringMethod",
    "lastAgentRoutingMode",
    "acwSettings",
    "skillEvaluationMethod",
    "memberGroups",
    "queueFlow",
    "emailInQueueFlow",
    "messageInQueueFlow",
    "whisperPrompt",
    "onHoldPrompt",
    "defaultMediaLanguage",
    "autoAnswerOnly",
    "cannedResponseLibraries",
    "enableTranscription",
    "enableAudioMonitoring",
    "enableManualAssignment",
    "agentOwnedRouting",
    "directRouting",
    "callingPartyName",
    "callingPartyNumber",
    "defaultScripts",
    "outboundMessagingAddresses",
    "outboundEmailAddress",
    "peerId",
    "suppressInQueueCallRecording",
];

/// What the queue's hooks read of a listed queue besides its declared
/// fields and what the generic stages read (its id, name, division...:
/// [`super::org::ApiPaths::listed_keys`]): the flows it embeds (recorded as
/// lookups for every queue: `record_live`), the recipient it names
/// (`live_to_spec`), its member groups and member counts (membership and
/// its note). A plan of configured queues then skips their media,
/// after-call-work and routing settings unless a manifest declares them; a
/// PUT reads the whole queue again (`Op::write_declared`).
const LISTED_KEYS: [&str; 8] = [
    FLOW_FIELDS[0].0,
    FLOW_FIELDS[1].0,
    FLOW_FIELDS[2].0,
    "outboundMessagingAddresses",
    "memberGroups",
    "memberCount",
    "userMemberCount",
    "joinedMemberCount",
];

/// Writable fields of a queue the spec does not model (the
/// [`super::org::OrgKind::unmanaged_pointers`]; "not covered yet" in the
/// kinds docs): a PUT sends them back as the org holds them.
const UNMANAGED: [super::org::Unmanaged; 22] = [
    super::org::Unmanaged::field("/conditionalGroupRouting"),
    // Reply addresses of other channels: kept by every write (the declared
    // addresses are merged into the org's), not exported.
    super::org::Unmanaged::field("/outboundMessagingAddresses/smsAddress"),
    super::org::Unmanaged::field("/outboundMessagingAddresses/whatsAppRecipient"),
    // The flow an inactivity action starts, and the email reply addresses
    // (the SDK's `InactivityTimeoutSettings.flowId`,
    // `EmailMediaSettings.allOutboundEmailAddresses`).
    super::org::Unmanaged::field("/mediaSettings/message/inactivityTimeoutSettings/flowId"),
    super::org::Unmanaged::field("/mediaSettings/email/allOutboundEmailAddresses"),
    super::org::Unmanaged::field("/conditionalGroupActivation"),
    super::org::Unmanaged::field("/whisperPrompt"),
    super::org::Unmanaged::field("/onHoldPrompt"),
    super::org::Unmanaged::field("/defaultMediaLanguage"),
    // What a queue holds when nobody set it (the sandbox's queue defaults;
    // UNVERIFIED for a real org, which would then warn of it too).
    super::org::Unmanaged {
        pointer: "/cannedResponseLibraries",
        unset: Some(r#"{"mode": "All", "libraryIds": []}"#),
    },
    super::org::Unmanaged::field("/defaultScripts"),
    super::org::Unmanaged::field("/outboundEmailAddress"),
    super::org::Unmanaged::field("/peerId"),
    super::org::Unmanaged::field("/directRouting/backupQueueId"),
    super::org::Unmanaged::field("/mediaSettings/callback/liveVoiceReactionType"),
    super::org::Unmanaged::field("/mediaSettings/callback/liveVoiceFlow"),
    super::org::Unmanaged::field("/mediaSettings/callback/answeringMachineReactionType"),
    super::org::Unmanaged::field("/mediaSettings/callback/answeringMachineFlow"),
    super::org::Unmanaged::field("/mediaSettings/callback/edgeGroup"),
    super::org::Unmanaged::field("/mediaSettings/callback/site"),
    super::org::Unmanaged::field("/bullseye/rings/*/memberGroups"),
    super::org::Unmanaged::field("/bullseye/rings/*/actions"),
];

/// The flow a live queue's `field` (for flows of `flow_type`) names, as
/// the spec shows it: the flow's name when it is a flow of that type the
/// run read (every flow a manifest names is), else an object: with its type
/// when the run read it as a flow of another type (the org may take one; a
/// UI edit can make it), else with its id. Never the name alone, which
/// would read as the flow of the field's type that has it.
fn flow_in_field(
    live: &serde_json::Value,
    field: &str,
    flow_type: &'static str,
    lookups: &super::org::Lookups,
) -> Option<serde_json::Value> {
    use serde_json::json;
    let reference = live.get(field)?;
    let Some(id) = reference.get("id").and_then(serde_json::Value::as_str) else {
        return Some(reference.clone());
    };
    if let Some(name) = lookups.name_of(RefTarget::Flow(flow_type), id) {
        return Some(json!(name));
    }
    if let Some((other, name)) = lookups.flow_name(id) {
        return Some(json!({"name": name, "type": other}));
    }
    // Not a flow of the field's type that the run read: its name alone
    // would read as the flow of that type so named, which it may not be
    // (a UI edit to the inbound flow that shares the declared name).
    let embedded = reference.get("name").and_then(serde_json::Value::as_str);
    let Some(name) = embedded.or_else(|| lookups.referenced_flow_name(id)) else {
        return Some(json!({ "id": id }));
    };
    Some(json!({"name": name, "id": id}))
}

/// Fields of a bullseye ring (`Ring`) that the spec does not model: the
/// ring's own member groups and the skills it removes (`actions`).
const RING_KEPT: [&str; 2] = ["memberGroups", "actions"];

/// Declared rings replace the live ones in a PUT (a list replaces whole in
/// [`super::org::merge`]); ring *i* keeps the live ring *i*'s [`RING_KEPT`]
/// fields, which no manifest can declare: without this, any update of a
/// queue (a description) would remove the member groups of its rings.
fn keep_ring_fields(body: &mut serde_json::Value, live: &serde_json::Value) {
    let Some(serde_json::Value::Array(live_rings)) =
        crate::json_pointer::get(live, "/bullseye/rings")
    else {
        return;
    };
    let Some(serde_json::Value::Array(rings)) =
        crate::json_pointer::get_mut(body, "/bullseye/rings")
    else {
        return;
    };
    for (ring, live_ring) in rings.iter_mut().zip(live_rings) {
        let (Some(ring), Some(live_ring)) = (ring.as_object_mut(), live_ring.as_object()) else {
            continue;
        };
        for key in RING_KEPT {
            if let (false, Some(value)) = (ring.contains_key(key), live_ring.get(key)) {
                ring.insert(key.to_string(), value.clone());
            }
        }
    }
}

impl super::org::OrgKind for Org {
    fn export_refers_to(&self) -> &'static [RefTarget] {
        &[
            RefTarget::Division,
            RefTarget::Flow(FLOW_FIELDS[0].1),
            RefTarget::Flow(FLOW_FIELDS[1].1),
            RefTarget::Flow(FLOW_FIELDS[2].1),
            // Named through its recipient, which the integration's list holds.
            RefTarget::Kind(Kind::OpenMessagingIntegration),
            // Member groups; teams and skill groups by the names the queue
            // carries.
            RefTarget::Group,
        ]
    }

    fn export_details_flag(&self) -> Option<&'static str> {
        Some("--queue-members")
    }

    fn export_details_refer_to(&self) -> &'static [RefTarget] {
        // Members by the emails, and codes by the names, their reads
        // return; the codes' list tells names several codes share.
        &[RefTarget::Kind(Kind::RoutingWrapupCode)]
    }


    fn api(&self) -> super::org::ApiPaths {
        // `forceDelete` deletes a queue that still has members.
        super::org::ApiPaths::new("/api/v2/routing/queues", super::org::UpdateMethod::Put)
            .paged(500)
            .name_filter()
            .delete_query(&[("forceDelete", "true")])
            .lean(&LISTED_KEYS)
    }

    fn division_scope(&self) -> Option<super::org::DivisionScope> {
        Some(super::org::DivisionScope {
            entity: "routing:queue",
            default: super::org::DefaultDivision::Home,
        })
    }

    fn record_live(&self, live: &serde_json::Value, lookups: &mut super::org::Lookups) {
        for (field, _) in FLOW_FIELDS {
            if let Some(flow) = live.get(field) {
                lookups.insert_flow_reference(flow);
            }
        }
    }

    fn live_to_spec(
        &self,
        live: &serde_json::Value,
        lookups: &super::org::Lookups,
    ) -> serde_json::Value {
        use super::org::{compared, ref_name};
        // The fields translated below are not projected: a live division or
        // flow is an object where the spec has a name.
        let translated = [
            "division",
            FLOW_FIELDS[0].0,
            FLOW_FIELDS[1].0,
            FLOW_FIELDS[2].0,
            "outboundMessagingAddresses",
        ];
        let mut spec = super::org::project_skipping::<RoutingQueueSpec>(live, &translated);
        let Some(map) = spec.as_object_mut() else { return spec };
        // The projection left these out; a plan compares only the declared
        // ones, so only those are translated (`compared`).
        if compared("division") {
            if let Some(name) = ref_name(live, "division", lookups, RefTarget::Division) {
                map.insert("division".into(), name);
            }
        }
        for (field, flow_type) in FLOW_FIELDS.into_iter().filter(|(field, _)| compared(field)) {
            if let Some(flow) = flow_in_field(live, field, flow_type, lookups) {
                map.insert(field.into(), flow);
            }
        }
        let recipient = compared("outboundMessagingAddresses")
            .then(|| {
                crate::json_pointer::get(
                    live,
                    "/outboundMessagingAddresses/openMessagingRecipient/id",
                )
            })
            .flatten()
            .and_then(|v| v.as_str());
        if let Some(recipient) = recipient {
            // The queue points at the integration's recipient; the spec names the integration.
            let name = lookups.recipient_integration.get(recipient).and_then(|id| {
                lookups.name_of(RefTarget::Kind(Kind::OpenMessagingIntegration), id)
            });
            let name = super::org::name_or_id(name, recipient);
            map.insert(
                "outboundMessagingAddresses".into(),
                serde_json::json!({ "openMessagingRecipient": name }),
            );
        }
        membership::to_spec(live, lookups, map);
        spec
    }

    fn desired(
        &self,
        mut spec: serde_json::Value,
        _object: &crate::manifest::Object,
        _manifests: &crate::manifest::check::SetIndex<'_>,
        _lookups: &super::org::Lookups,
    ) -> serde_json::Value {
        membership::normalize_desired(&mut spec);
        spec
    }

    fn align_live(
        &self,
        desired: &serde_json::Value,
        live: &mut serde_json::Value,
        _lookups: &super::org::Lookups,
    ) {
        membership::align(desired, live);
    }

    fn set_pointers(&self) -> &'static [&'static str] {
        &["/members", "/memberGroups", "/wrapupCodes"]
    }

    fn unmanaged_pointers(&self) -> &'static [super::org::Unmanaged] {
        &UNMANAGED
    }

    fn notes(
        &self,
        desired: &serde_json::Value,
        live: Option<&serde_json::Value>,
        _fields: &[crate::plan::FieldChange],
        lookups: &super::org::Lookups,
    ) -> Vec<String> {
        live.map(|live| membership::rings_through_groups(desired, live, lookups)).unwrap_or_default()
    }

    fn plan_notes(
        &self,
        declared: &[(&crate::manifest::Object, &serde_json::Value)],
    ) -> Vec<crate::plan::PlanNote> {
        membership::unmanaged_note(declared).into_iter().collect()
    }

    fn details_needed(&self, declared: Option<&dyn Spec>) -> bool {
        match declared {
            Some(spec) => super::downcast::<RoutingQueueSpec>(spec)
                .is_some_and(|s| membership::details_needed(Some(s))),
            None => membership::details_needed(None),
        }
    }

    fn read_details<'a>(
        &'a self,
        client: &'a crate::api::Client,
        live: &'a serde_json::Value,
        declared: Option<&'a dyn Spec>,
        lookups: &'a super::org::Lookups,
    ) -> super::org::Details<'a> {
        let declared = declared.and_then(super::downcast::<RoutingQueueSpec>);
        Box::pin(membership::read(client, live, declared, lookups))
    }

    /// Members and wrap-up codes are added once the queue exists.
    fn after_create<'a>(
        &'a self,
        op: &'a crate::apply::ops::Op<'a>,
        created: &'a serde_json::Value,
        adopted: bool,
    ) -> super::org::Hook<'a, Vec<String>> {
        Box::pin(async move {
            let id = created
                .get("id")
                .and_then(serde_json::Value::as_str)
                .ok_or_else(|| op.fail("the created queue has no id"))?;
            let made = if adopted { membership::Made::Adopted } else { membership::Made::Created };
            membership::apply_sub_resources(op, id, made).await
        })
    }

    fn export(
        &self,
        spec: &mut serde_json::Value,
        cx: &mut crate::export::ExportCx<'_>,
    ) -> Result<(), String> {
        membership::export(spec, cx.live, &mut |warning| cx.warn(warning));
        // A flow of another type than its field's (see `live_to_spec`): a
        // manifest names the field's type only.
        for (field, flow_type) in FLOW_FIELDS {
            let held = spec.get(field).filter(|v| v.is_object()).cloned();
            let Some(held) = held else { continue };
            spec.as_object_mut().map(|m| m.remove(field));
            let text = |key: &str| held.get(key).and_then(serde_json::Value::as_str);
            let what = match (text("name"), text("type"), text("id")) {
                (Some(name), Some(other), _) => format!("the {other} flow `{name}`"),
                (Some(name), None, Some(id)) => {
                    format!("a flow `{name}` (id {id}) that is not the {flow_type} flow so named")
                }
                (_, _, Some(id)) => format!("a flow gcctl cannot name (id {id})"),
                _ => "a flow gcctl cannot name".to_string(),
            };
            let a = if flow_type.starts_with(['A', 'E', 'I', 'O', 'U']) { "an" } else { "a" };
            cx.warn(format!(
                "/{field} not exported: it names {}, and a manifest names {a} {flow_type} flow there (set {a} {flow_type} flow in Genesys Cloud, or declare one)",
                crate::api::untrusted::visible(&what)
            ));
        }
        Ok(())
    }

    fn body(
        &self,
        desired: &serde_json::Value,
        live: Option<&serde_json::Value>,
        ids: &dyn super::org::IdResolver,
    ) -> Result<serde_json::Value, super::org::BodyError> {
        use super::org::{id_ref, require_id};
        let mut declared = desired.clone();
        if let Some(map) = declared.as_object_mut() {
            // Written through the queue's sub-resources, not its PUT.
            for key in ["members", "membership", "wrapupCodes"] {
                map.remove(key);
            }
        }
        if let Some(groups) = membership::member_group_refs(desired, ids)? {
            declared["memberGroups"] = groups;
        }
        if let Some(name) = desired.get("division").and_then(|v| v.as_str()) {
            declared["division"] =
                id_ref(&require_id(ids, RefTarget::Division, name, "/division")?);
        }
        for (field, flow_type) in FLOW_FIELDS {
            if let Some(name) = desired.get(field).and_then(|v| v.as_str()) {
                declared[field] = id_ref(&require_id(
                    ids,
                    RefTarget::Flow(flow_type),
                    name,
                    &format!("/{field}"),
                )?);
            }
        }
        let pointer = "/outboundMessagingAddresses/openMessagingRecipient";
        if let Some(name) = crate::json_pointer::get(desired, pointer).and_then(|v| v.as_str()) {
            // The queue points at the integration's recipient, not the integration.
            let recipient = require_id(ids, RefTarget::Recipient, name, pointer)?;
            declared["outboundMessagingAddresses"]["openMessagingRecipient"] = id_ref(&recipient);
        }
        let mut body = live
            .map_or_else(|| serde_json::json!({}), |l| super::org::writable(l, &QUEUE_WRITABLE));
        membership::live_member_groups(&mut body);
        super::org::merge(&mut body, &declared);
        if let Some(live) = live {
            keep_ring_fields(&mut body, live);
        }
        if live.is_some() {
            // A PUT keeps the queue's division; a move is its own call (see
            // `update`), as the Terraform provider does (API reference §m).
            body.as_object_mut().map(|b| b.remove("division"));
        }
        // What the PUT copies from the live queue (flows, prompts, scripts,
        // recipients, member groups, email routes...) goes back as `{id}`
        // (a member group keeps its `type`).
        super::org::id_references(&mut body, &["type"]);
        Ok(body)
    }

    /// A division change moves the queue with
    /// `POST /api/v2/authorization/divisions/{divisionId}/objects/QUEUE`
    /// (`[queueId]`; the provider's `UpdateObjectDivision`, API reference
    /// §m), never with PUT; the other declared fields are then written.
    fn update<'a>(
        &'a self,
        op: &'a crate::apply::ops::Op<'a>,
        id: &'a str,
    ) -> super::org::Hook<'a, Vec<String>> {
        Box::pin(async move {
            let mut notes = Vec::new();
            if op.changed("/division") {
                notes.extend(move_to_declared_division(op, id).await?);
            }
            if membership::changes_queue_itself(op.change, &["/division"]) {
                op.write_declared(id).await?;
            }
            notes.extend(membership::apply_sub_resources(op, id, membership::Made::Before).await?);
            Ok(notes)
        })
    }

    /// An adopted queue (made by an earlier run's create, from another
    /// version of the manifest, maybe) is moved to the declared division,
    /// which a PUT never changes, then written as the default does.
    fn write_adopted<'a>(
        &'a self,
        op: &'a crate::apply::ops::Op<'a>,
        id: &'a str,
    ) -> super::org::Hook<'a, bool> {
        Box::pin(async move {
            let held = op.read_live(id).await?;
            let division = held.pointer("/division/name").and_then(serde_json::Value::as_str);
            let declared = op.desired.get("division").and_then(serde_json::Value::as_str);
            if declared.is_some() && declared != division {
                move_to_declared_division(op, id).await?;
            }
            op.write_fields(id).await?;
            Ok(true)
        })
    }

    fn calls(&self, change: &crate::plan::Change, desired: &serde_json::Value) -> Vec<super::org::Call> {
        let mut calls = super::org::generic_calls(&self.api(), change, desired);
        if change.action == crate::plan::Action::Update {
            // Only the division or sub-resources change: no PUT.
            if !membership::changes_queue_itself(change, &["/division"]) {
                calls.retain(|(method, _)| *method != "PUT");
            }
            if change.fields.iter().any(|f| f.pointer == "/division") {
                calls.push((
                    "POST",
                    "/api/v2/authorization/divisions/{divisionId}/objects/{objectType}",
                ));
            }
        }
        calls.extend(membership::calls(change));
        calls
    }
}

/// Move the queue `id` to its declared division with
/// `POST /api/v2/authorization/divisions/{divisionId}/objects/QUEUE`
/// (`[queueId]`; the provider's `UpdateObjectDivision`, API reference §m),
/// never with PUT; the note says so. Nothing without a declared division.
async fn move_to_declared_division(
    op: &crate::apply::ops::Op<'_>,
    id: &str,
) -> Result<Option<String>, crate::apply::ops::OpError> {
    use super::org::IdResolver as _;
    let Some(name) = op.desired.get("division").and_then(|v| v.as_str()) else { return Ok(None) };
    let division = op
        .ids()
        .id(RefTarget::Division, name)
        .ok_or_else(|| op.fail(format!("division `{name}` has no id")))?;
    let path = format!("/api/v2/authorization/divisions/{division}/objects/QUEUE");
    op.post_repeatable_with(&path, &serde_json::json!([id]), "moving to another division").await?;
    Ok(Some(format!("moved to division {name}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The unmanaged pointers are complete at the top level: every field a
    /// PUT accepts that the spec lacks (that they name no field of the spec
    /// is checked for every kind in `kinds::org`).
    #[test]
    fn unmanaged_fields_are_every_writable_field_the_spec_lacks_and_only_those() {
        let compared = Kind::RoutingQueue.compared_fields();
        for field in QUEUE_WRITABLE {
            let listed = UNMANAGED.iter().any(|u| u.pointer == format!("/{field}"));
            assert_eq!(listed, !compared.iter().any(|c| c == field), "{field}");
        }
    }
}
