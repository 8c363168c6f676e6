//! `WebMessagingDeployment`: a Messenger deployment
//! (`/api/v2/webdeployments/deployments`, API reference §j): which
//! configuration version a web page's Messenger loads, which inbound
//! message flow its conversations route to, the supported content profile,
//! and the domains allowed to load it.
//!
//! The configuration version policy (`configurationVersion`):
//! - `latest` (the default) follows the configuration: the deployment uses
//!   its latest published version, and when the plan publishes a new
//!   version of a declared configuration, the deployment is planned as
//!   repointed to it ([`OrgKind::follows`]). gcctl publishes every version
//!   of a declared configuration it manages (one published outside gcctl
//!   is drift of the configuration, republished), so "latest" is the latest
//!   version gcctl published;
//! - a number pins that published version.
//!
//! The version is settled at apply time, after the configuration's own
//! change, so the repoint uses the version just published: the version
//! that publish answered; when the run did not change the configuration,
//! the latest version the run's read found (the configuration's details,
//! or the deployment's); only when neither is known (a configuration that
//! is not declared, for a new deployment) is it listed (`GET …/versions`).
//! A plan or export that reads a configuration's details takes its
//! deployments' latest version from them ([`OrgKind::details_source`]);
//! otherwise it lists the versions once per deployment. Create and update
//! wait for the deployment to leave `Pending`.
//! The read-only `snippet` is never compared; apply prints it after a create.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::common::check_org_name;
use super::open_messaging::INBOUND_MESSAGE_FLOW;
use super::org::{
    ApiPaths, BodyError, Call, Details, Hook, IdResolver, Lookups, OrgKind, UpdateMethod, ref_name,
    require_id, typed,
};
use super::web_messaging_configuration::{
    LEARNED_VERSION, latest_of, latest_version, read_latest, wait_active,
};
use super::{Kind, KindDef, RefTarget, Reference, Spec, downcast, parse_spec, schema_of};
use crate::apply::ops::{Op, OpError};
use crate::export::ExportCx;
use crate::manifest::diag::Findings;
use crate::plan::{Action, Change, FieldChange};

/// A Messenger deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebMessagingDeploymentSpec {
    /// The deployment's name in the org (its natural key).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The `WebMessagingConfiguration`: a manifest name, or else the name of
    /// a configuration in the org.
    pub configuration: String,
    /// Which published version of the configuration: `latest` (the
    /// default: follow the configuration) or a version number to pin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration_version: Option<VersionPolicy>,
    /// The inbound message flow conversations route to: a `Flow` manifest
    /// name, or else the name of an `INBOUNDSHORTMESSAGE` flow in the org.
    pub flow: String,
    /// The `SupportedContentProfile`: a manifest name, or else the name of
    /// a profile in the org.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supported_content: Option<String>,
    /// Domains allowed to load the Messenger (added to CORS headers).
    /// Exactly one of `allowedDomains` and `allowAllDomains: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_domains: Option<Vec<String>>,
    /// Let every domain load the Messenger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_all_domains: Option<bool>,
}

/// `latest` or a pinned version number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum VersionPolicy {
    /// A published version, pinned.
    Pinned(u32),
    /// The latest published version.
    Latest(Latest),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Latest {
    #[serde(rename = "latest")]
    Latest,
}

impl<'de> Deserialize<'de> for VersionPolicy {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = VersionPolicy;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("`latest` or a published version number (1, 2, ...)")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<VersionPolicy, E> {
                u32::try_from(v).map(VersionPolicy::Pinned).map_err(|_| E::custom("the version number is too large"))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<VersionPolicy, E> {
                u64::try_from(v).map_err(|_| E::custom("versions are numbered from 1")).and_then(|v| self.visit_u64(v))
            }
            // No `visit_f64`: `3.0` is refused, as in every whole-number
            // field (`1.0000000000000001` would be read as 1).
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<VersionPolicy, E> {
                match v {
                    "latest" => Ok(VersionPolicy::Latest(Latest::Latest)),
                    other => other.parse::<u32>().map(VersionPolicy::Pinned).map_err(|_| {
                        E::custom(format!("`{other}` is not `latest` or a version number"))
                    }),
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl WebMessagingDeploymentSpec {
    fn follows_latest(&self) -> bool {
        !matches!(self.configuration_version, Some(VersionPolicy::Pinned(_)))
    }
}

impl Spec for WebMessagingDeploymentSpec {
    fn kind(&self) -> Kind {
        Kind::WebMessagingDeployment
    }

    fn org_name(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn references(&self) -> Vec<Reference> {
        let mut refs = vec![
            Reference {
                pointer: "/spec/configuration".into(),
                target: RefTarget::Kind(Kind::WebMessagingConfiguration),
                name: self.configuration.clone(),
            },
            Reference {
                pointer: "/spec/flow".into(),
                target: RefTarget::Flow(INBOUND_MESSAGE_FLOW),
                name: self.flow.clone(),
            },
        ];
        if let Some(name) = &self.supported_content {
            refs.push(Reference {
                pointer: "/spec/supportedContent".into(),
                target: RefTarget::Kind(Kind::SupportedContentProfile),
                name: name.clone(),
            });
        }
        refs
    }

    fn check(&self, findings: &mut Findings) {
        check_org_name(findings, "/spec/name", &self.name);
        if self.name.chars().count() > 100 {
            findings.error("/spec/name", "the name is longer than 100 characters");
        }
        let domains = self.allowed_domains.as_deref().unwrap_or_default();
        match (self.allow_all_domains == Some(true), domains.is_empty()) {
            (true, false) => findings.error_with_hint(
                "/spec/allowedDomains",
                "`allowedDomains` must be empty when `allowAllDomains` is true",
                "keep one: the domains, or `allowAllDomains: true`",
            ),
            (false, true) => findings.error_with_hint(
                "/spec",
                "the deployment allows no domain",
                "list the domains that load the Messenger under `allowedDomains`, or set `allowAllDomains: true`",
            ),
            _ => {}
        }
        for (i, domain) in domains.iter().enumerate() {
            if !is_domain(domain) {
                findings.error_with_hint(
                    format!("/spec/allowedDomains/{i}"),
                    format!("`{domain}` is not a domain name"),
                    "write the host only, without scheme, port or path: www.example.com",
                );
            } else if domains[..i].contains(domain) {
                findings.error(format!("/spec/allowedDomains/{i}"), format!("`{domain}` is listed twice"));
            }
        }
        if self.configuration_version == Some(VersionPolicy::Pinned(0)) {
            findings.error_with_hint(
                "/spec/configurationVersion",
                "versions are numbered from 1",
                "pin a published version, or write `latest`",
            );
        }
    }

    fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A host name (a leading `*.` allowed), as `allowedDomains` takes them.
fn is_domain(domain: &str) -> bool {
    let host = domain.strip_prefix("*.").unwrap_or(domain);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

pub const DEF: KindDef = KindDef {
    summary: "A Messenger deployment: the configuration version a page loads, its inbound flow and allowed domains.",
    // After the configurations, flows and supported content it names.
    order: 48,
    export_file: Some("web-messaging-deployments.yaml"),
    parse: parse_spec::<WebMessagingDeploymentSpec>,
    schema: schema_of::<WebMessagingDeploymentSpec>,
    org: Some(&Org),
};

/// The org side of `WebMessagingDeployment`.
pub struct Org;

const COLLECTION: &str = "/api/v2/webdeployments/deployments";
/// The latest published version of the deployment's configuration, added
/// by [`OrgKind::read_details`].
const LATEST: &str = "gcctl:configurationLatest";
/// The pinned version in the live spec (the comparison reads it; export
/// and the diff never see it).
const PINNED: &str = "gcctl:pinnedVersion";

/// The desired value: the spec with references as org names.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Desired {
    name: String,
    description: Option<String>,
    configuration: String,
    configuration_version: Option<Value>,
    flow: String,
    supported_content: Option<String>,
    #[serde(default)]
    allowed_domains: Vec<String>,
    #[serde(default)]
    allow_all_domains: bool,
}

impl OrgKind for Org {
    fn export_refers_to(&self) -> &'static [RefTarget] {
        &[
            // Also where its details come from (`details_source`).
            RefTarget::Kind(Kind::WebMessagingConfiguration),
            RefTarget::Kind(Kind::SupportedContentProfile),
            RefTarget::Flow(INBOUND_MESSAGE_FLOW),
        ]
    }


    fn api(&self) -> ApiPaths {
        // Cursor-paged; no name filter.
        ApiPaths::new(COLLECTION, UpdateMethod::Put).cursor_paged(100)
    }

    fn live_to_spec(&self, live: &Value, lookups: &Lookups) -> Value {
        let mut spec = json!({ "name": live.get("name") });
        if let Some(description) = live.get("description").filter(|d| d.is_string()) {
            spec["description"] = description.clone();
        }
        let configuration = RefTarget::Kind(Kind::WebMessagingConfiguration);
        if let Some(name) = ref_name(live, "configuration", lookups, configuration) {
            spec["configuration"] = name;
        }
        let pinned = live
            .pointer("/configuration/version")
            .and_then(Value::as_str)
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(pinned) = pinned {
            let latest = live.get(LATEST).and_then(Value::as_u64);
            spec["configurationVersion"] =
                if latest == Some(pinned) { json!("latest") } else { json!(pinned) };
            spec[PINNED] = json!(pinned);
        }
        if let Some(name) = ref_name(live, "flow", lookups, RefTarget::Flow(INBOUND_MESSAGE_FLOW)) {
            spec["flow"] = name;
        }
        let content = RefTarget::Kind(Kind::SupportedContentProfile);
        if let Some(name) = ref_name(live, "supportedContent", lookups, content) {
            spec["supportedContent"] = name;
        }
        spec["allowAllDomains"] = json!(live.get("allowAllDomains").and_then(Value::as_bool) == Some(true));
        spec["allowedDomains"] = live.get("allowedDomains").filter(|d| d.is_array()).cloned().unwrap_or(json!([]));
        spec
    }

    fn desired(
        &self,
        mut spec: Value,
        _object: &crate::manifest::Object,
        _manifests: &crate::manifest::check::SetIndex<'_>,
        _lookups: &Lookups,
    ) -> Value {
        // Both domain fields, so that switching from one to the other
        // shows (and sends) both.
        if let Some(map) = spec.as_object_mut() {
            let all = map.get("allowAllDomains").and_then(Value::as_bool) == Some(true);
            map.insert("allowAllDomains".into(), json!(all));
            map.entry("allowedDomains").or_insert(json!([]));
            map.entry("configurationVersion").or_insert(json!("latest"));
        }
        spec
    }

    fn align_live(&self, desired: &Value, live: &mut Value, _lookups: &Lookups) {
        // Host names name the same host in any case.
        super::common::align_case_insensitive(desired, live, "/allowedDomains", None);
        // A pinned number compares with the pinned number, even when it is
        // also the latest.
        if desired.get("configurationVersion").is_some_and(Value::is_number) {
            if let Some(pinned) = live.get(PINNED).cloned() {
                live["configurationVersion"] = pinned;
            }
        }
    }

    fn body(
        &self,
        desired: &Value,
        live: Option<&Value>,
        ids: &dyn IdResolver,
    ) -> Result<Value, BodyError> {
        let spec: Desired = typed(desired)?;
        let configuration = require_id(
            ids,
            RefTarget::Kind(Kind::WebMessagingConfiguration),
            &spec.configuration,
            "/spec/configuration",
        )?;
        let flow = require_id(ids, RefTarget::Flow(INBOUND_MESSAGE_FLOW), &spec.flow, "/spec/flow")?;
        // The whole object (PUT replaces it): what the manifest leaves out
        // keeps its live value, references as `{id}` only.
        let mut body = Map::new();
        body.insert("name".into(), json!(spec.name));
        let description = spec
            .description
            .map(Value::String)
            .or_else(|| live.and_then(|l| l.get("description")).cloned());
        if let Some(description) = description.filter(Value::is_string) {
            body.insert("description".into(), description);
        }
        let version = match spec.configuration_version {
            Some(Value::Number(n)) => json!(n.to_string()),
            // Filled in at apply time by the create and update steps.
            _ => live.and_then(|l| l.pointer("/configuration/version")).cloned().unwrap_or(Value::Null),
        };
        body.insert("configuration".into(), json!({ "id": configuration, "version": version }));
        body.insert("flow".into(), json!({ "id": flow }));
        let content = match &spec.supported_content {
            Some(name) => Some(require_id(
                ids,
                RefTarget::Kind(Kind::SupportedContentProfile),
                name,
                "/spec/supportedContent",
            )?),
            None => live
                .and_then(|l| l.pointer("/supportedContent/id"))
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        if let Some(content) = content {
            body.insert("supportedContent".into(), json!({ "id": content }));
        }
        body.insert("allowAllDomains".into(), json!(spec.allow_all_domains));
        body.insert("allowedDomains".into(), json!(spec.allowed_domains));
        if let Some(push) = live.and_then(|l| l.get("pushIntegrations")).filter(|p| p.is_array()) {
            let ids: Vec<Value> = push
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| json!({"id": p.get("id"), "provider": p.get("provider")}))
                .collect();
            body.insert("pushIntegrations".into(), Value::Array(ids));
        }
        Ok(Value::Object(body))
    }

    fn set_pointers(&self) -> &'static [&'static str] {
        &["/allowedDomains"]
    }

    /// The deployment's push notification integrations (`body` keeps them).
    fn unmanaged_pointers(&self) -> &'static [super::org::Unmanaged] {
        const PUSH: [super::org::Unmanaged; 1] = [super::org::Unmanaged::field("/pushIntegrations")];
        &PUSH
    }

    fn calls(&self, change: &Change, desired: &Value) -> Vec<Call> {
        const VERSIONS: &str = "/api/v2/webdeployments/configurations/{configurationId}/versions";
        const ITEM: &str = "/api/v2/webdeployments/deployments/{deploymentId}";
        match change.action {
            Action::Create => vec![("GET", VERSIONS), ("POST", COLLECTION), ("GET", ITEM)],
            Action::Update => vec![("GET", VERSIONS), ("GET", ITEM), ("PUT", ITEM)],
            _ => super::org::generic_calls(&self.api(), change, desired),
        }
    }

    fn export_reads_details(&self) -> bool {
        true
    }

    fn details_needed(&self, declared: Option<&dyn Spec>) -> bool {
        declared.and_then(downcast::<WebMessagingDeploymentSpec>).is_none_or(WebMessagingDeploymentSpec::follows_latest)
    }

    fn read_details<'a>(
        &'a self,
        client: &'a crate::api::Client,
        live: &'a Value,
        _declared: Option<&'a dyn Spec>,
        _lookups: &'a Lookups,
    ) -> Details<'a> {
        Box::pin(async move {
            let mut out = Map::new();
            let Some(config) = live.pointer("/configuration/id").and_then(Value::as_str) else {
                return Ok(out);
            };
            let name = live.get("name").and_then(Value::as_str).unwrap_or_default();
            let path = format!("/api/v2/webdeployments/configurations/{config}/versions");
            let versions = client.list_cursor(&path, &[], 100).await.map_err(|source| {
                crate::plan::ReadError {
                    what: format!("the configuration versions of web deployment `{name}`"),
                    source,
                }
            })?;
            if let Some(latest) = latest_of(&versions) {
                out.insert(LATEST.into(), json!(latest));
            }
            Ok(out)
        })
    }

    /// The configuration's details hold its latest version: when the same
    /// read reads them (a declared configuration, or an export), they are
    /// not listed again for the deployment.
    fn details_source(&self, live: &Value) -> Option<(Kind, String)> {
        let config = live.pointer("/configuration/id").and_then(Value::as_str)?;
        Some((Kind::WebMessagingConfiguration, config.to_string()))
    }

    fn details_from(&self, _live: &Value, source: &Value) -> Option<Map<String, Value>> {
        let mut out = Map::new();
        if let Some(latest) = read_latest(source)? {
            out.insert(LATEST.into(), json!(latest));
        }
        Some(out)
    }

    fn notes(
        &self,
        _desired: &Value,
        live: Option<&Value>,
        _fields: &[FieldChange],
        _lookups: &Lookups,
    ) -> Vec<String> {
        match live {
            None => vec!["apply prints the snippet to paste into the web page once the deployment exists".into()],
            Some(_) => Vec::new(),
        }
    }

    fn follows(&self, spec: &dyn Spec) -> Vec<Reference> {
        let Some(spec) = downcast::<WebMessagingDeploymentSpec>(spec) else { return Vec::new() };
        if !spec.follows_latest() {
            return Vec::new();
        }
        spec.references().into_iter().filter(|r| r.pointer == "/spec/configuration").collect()
    }

    fn followed(
        &self,
        live_spec: &Value,
        _reference: &Reference,
        followed: &Change,
    ) -> (Vec<FieldChange>, Vec<String>) {
        if followed.action != Action::Update {
            return (Vec::new(), Vec::new());
        }
        let field = FieldChange {
            pointer: "/configurationVersion".into(),
            before: live_spec.get(PINNED).cloned(),
            after: Some(json!("latest")),
            sensitive: false,
        };
        let note = format!(
            "apply repoints it to the version that {} publishes",
            followed.address()
        );
        (vec![field], vec![note])
    }

    fn create<'a>(&'a self, op: &'a Op<'a>) -> Option<Hook<'a, (Value, bool)>> {
        Some(Box::pin(async move {
            let mut body = op.body(None)?;
            fill_version(op, &mut body, None).await?;
            let (created, adopted) = op.create_with(&body).await?;
            let id = created.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
            // Made: a wait that fails says so, with the id.
            let waited = wait_active(op, &format!("{COLLECTION}/{id}"), "the deployment").await;
            let active = waited.map_err(|source| crate::apply::ops::OpError::AfterCreate {
                address: op.address(),
                id: id.clone(),
                source: Box::new(source),
            })?;
            Ok((active, adopted))
        }))
    }

    fn after_create<'a>(
        &'a self,
        _op: &'a Op<'a>,
        created: &'a Value,
        _adopted: bool,
    ) -> Hook<'a, Vec<String>> {
        Box::pin(async move {
            Ok(created
                .get("snippet")
                .and_then(Value::as_str)
                .map(|snippet| {
                    let snippet = crate::api::untrusted::sanitize_lines(snippet);
                    vec![format!("snippet to paste into the web page:\n{snippet}")]
                })
                .unwrap_or_default())
        })
    }

    fn write_adopted<'a>(&'a self, _op: &'a Op<'a>, _id: &'a str) -> Hook<'a, bool> {
        // `after_create` waits for it to be active; its configuration
        // pin is written by an update, which a plan shows.
        Box::pin(async { Ok(false) })
    }

    fn update<'a>(&'a self, op: &'a Op<'a>, id: &'a str) -> Hook<'a, Vec<String>> {
        Box::pin(async move {
            let live = op.read_live(id).await?;
            let mut body = op.body(Some(&live))?;
            let version = fill_version(op, &mut body, Some(id)).await?;
            let path = format!("{COLLECTION}/{id}");
            op.put(&path, &body, "updating").await?;
            wait_active(op, &path, "the deployment").await?;
            let before = live.pointer("/configuration/version").and_then(Value::as_str);
            Ok(match before {
                Some(before) if before != version => {
                    vec![format!("uses configuration version {version} (was {before})")]
                }
                _ => Vec::new(),
            })
        })
    }

    fn export(&self, spec: &mut Value, cx: &mut ExportCx<'_>) -> Result<(), String> {
        let Some(map) = spec.as_object_mut() else { return Err("not an object".into()) };
        map.remove(PINNED);
        // Following the latest version is the default.
        if map.get("configurationVersion") == Some(&json!("latest")) {
            map.remove("configurationVersion");
        }
        // Version numbers are the org's own: the export holds the
        // configuration's latest content, which another org publishes as
        // its version 1.
        if let Some(pinned) = map.get("configurationVersion").filter(|v| v.is_number()) {
            cx.warn(format!(
                "pinned to version {pinned} of its configuration, which is not the latest: version numbers are the org's own, so in another org this pin names whatever that org's version {pinned} is (an org made from this export publishes the configuration's latest content as its version 1, and holds no other version); set `configurationVersion: latest` to apply it elsewhere"
            ));
        }
        if map.get("allowAllDomains") == Some(&json!(false)) {
            map.remove("allowAllDomains");
        } else {
            map.remove("allowedDomains");
        }
        Ok(())
    }
}

/// The latest published version of configuration `config` (named `name`)
/// as this run knows it without a request: what the configuration's publish
/// answered in this run (its change runs first); else, when this run did
/// not change it, what this run's read found, in the configuration's
/// details (a declared configuration) or this deployment's (`id`). `None`:
/// not known, list the versions.
fn known_latest(op: &Op<'_>, config: &str, name: &str, id: Option<&str>) -> Option<u64> {
    let configuration = Kind::WebMessagingConfiguration;
    if let Some(answered) = op.learned(configuration, name, LEARNED_VERSION) {
        return answered.as_u64();
    }
    let read = op.live(configuration, config).and_then(read_latest).flatten();
    read.or_else(|| {
        op.live(Kind::WebMessagingDeployment, id?)
            .filter(|d| d.pointer("/configuration/id").and_then(Value::as_str) == Some(config))?
            .get(LATEST)?
            .as_u64()
    })
}

/// Set `configuration.version` of a create or PUT body (of the deployment
/// `id`, for a PUT): the pinned version, or the configuration's latest
/// published one after the configuration's own change in this apply (see
/// [`known_latest`]; listed when the run does not know it). Returns it.
async fn fill_version(op: &Op<'_>, body: &mut Value, id: Option<&str>) -> Result<String, OpError> {
    let pinned = op.desired.get("configurationVersion").and_then(Value::as_u64);
    let config = body.pointer("/configuration/id").and_then(Value::as_str).unwrap_or_default();
    let name = op.desired.get("configuration").and_then(Value::as_str).unwrap_or_default();
    let version = match pinned {
        Some(n) => {
            // A version past the latest the run knows of does not exist
            // (an export pinned to the source org's version 3, applied to
            // an org that just published its version 1): said here, with
            // the fix, rather than as the API's 400. Unknown: sent as is.
            match known_latest(op, config, name, id) {
                Some(latest) if n > latest => {
                    return Err(op.fail(format!(
                        "configurationVersion {n}: configuration `{name}` has no version {n} (its latest published version is {latest}); pin a version it has, or set `configurationVersion: latest`"
                    )));
                }
                _ => n.to_string(),
            }
        }
        None => {
            let latest = match known_latest(op, config, name, id) {
                Some(latest) => Some(latest),
                None => latest_version(op, config).await?,
            };
            latest
                .ok_or_else(|| {
                    op.fail(format!(
                        "configuration `{}` has no published version to use: declare it in the set (gcctl publishes it) or publish it in the admin UI",
                        op.desired.get("configuration").and_then(Value::as_str).unwrap_or_default()
                    ))
                })?
                .to_string()
        }
    };
    body["configuration"]["version"] = json!(version);
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_host_names() {
        for good in ["example.com", "www.example.com", "*.example.com", "a-b.example.co.uk", "localhost"] {
            assert!(is_domain(good), "{good}");
        }
        for bad in ["https://example.com", "example.com/path", "example.com:443", "", "a..b", "-a.com", "*."] {
            assert!(!is_domain(bad), "{bad}");
        }
    }

    #[test]
    fn the_version_policy_reads_latest_or_a_number() {
        let latest: VersionPolicy = serde_json::from_value(json!("latest")).unwrap();
        assert_eq!(latest, VersionPolicy::Latest(Latest::Latest));
        let pinned: VersionPolicy = serde_json::from_value(json!(3)).unwrap();
        assert_eq!(pinned, VersionPolicy::Pinned(3));
        assert!(serde_json::from_value::<VersionPolicy>(json!("newest")).is_err());
    }
}
