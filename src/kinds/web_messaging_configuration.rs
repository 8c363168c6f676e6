//! `WebMessagingConfiguration`: a Messenger configuration
//! (`/api/v2/webdeployments/configurations`, API reference §j).
//!
//! Configurations are versioned: every change is made to the draft (`PUT
//! …/versions/draft`, which replaces the whole object) and published as the
//! next integer version (`POST …/versions/draft/publish`). gcctl compares
//! the declared fields with the **latest published version**, so:
//!
//! - a change is planned as "update the draft, publish version N+1"; the
//!   draft PUT carries the published version's fields with the declared ones
//!   merged in, so fields the manifest leaves out keep their live values;
//!   nothing is published when nothing changed;
//! - a draft edited outside gcctl (in the UI) but never published is not
//!   drift: the plan and the drift report say the draft holds unpublished
//!   edits, and that a change gcctl applies replaces them;
//! - a version published outside gcctl is drift when it changes a declared
//!   field: gcctl records the version it publishes in a marker at the end
//!   of the description (`[gcctl version 4]`, written into the draft it
//!   publishes), so a later version whose marker names another number was
//!   published by someone else (`publishedBy` says who and when); when
//!   `publishedBy` is the only difference, nothing is published again and
//!   a note says who published it ([`OrgKind::provenance_pointer`]);
//! - apply waits for the draft to leave `Pending` before publishing
//!   (polling with backoff under the apply's deadline), and fails on
//!   `Error` naming the configuration and the call.
//!
//! Deployments that follow the configuration's latest version
//! ([`super::web_messaging_deployment`]) are repointed to what it publishes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::common::check_org_name;
use super::org::{
    ApiPaths, BodyError, Call, Details, Hook, IdResolver, Lookups, OrgKind, UpdateMethod, merge,
    project, writable,
};
use super::{Kind, KindDef, Spec, parse_spec, schema_of, spec_boilerplate};
use crate::apply::ops::{Op, OpError};
use crate::export::ExportCx;
use crate::manifest::diag::Findings;
use crate::plan::{Action, FieldChange};

mod settings;

pub use settings::*;

/// A Messenger (web messaging) configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebMessagingConfigurationSpec {
    /// The configuration's name in the org (its natural key), 1 to 100 characters.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Languages the Messenger offers (`en-us`, `de-de`, …); required when
    /// the messenger is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<String>>,
    /// One of `languages`; required when the messenger is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_language: Option<String>,
    /// Headless mode: no Messenger UI; the page drives the conversation
    /// through the Messenger SDK (headless guest messaging).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headless_mode: Option<Toggle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messenger: Option<Messenger>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// The knowledge portal (previously support center).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_center: Option<SupportCenter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cobrowse: Option<Cobrowse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journey_events: Option<JourneyEvents>,
    /// Labels of the home screen, launcher and push notifications per language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_i18n_labels: Option<Vec<CustomI18nLabels>>,
}

impl WebMessagingConfigurationSpec {
    /// `languages` once each, and what an enabled messenger needs of them.
    fn check_languages(&self, findings: &mut Findings) {
        let languages = self.languages.as_deref().unwrap_or_default();
        let enabled = self.messenger.as_ref().and_then(|m| m.enabled) == Some(true);
        if enabled && languages.is_empty() {
            findings.error_with_hint(
                "/spec/languages",
                "an enabled messenger needs `languages`",
                "list the languages it offers, for example [en-us]",
            );
        }
        for (i, language) in languages.iter().enumerate() {
            if languages[..i].contains(language) {
                findings.error(format!("/spec/languages/{i}"), format!("`{language}` is listed twice"));
            }
        }
        match &self.default_language {
            None if enabled => findings.error_with_hint(
                "/spec/defaultLanguage",
                "an enabled messenger needs `defaultLanguage`",
                "set it to one of `languages`",
            ),
            Some(default) if !languages.contains(default) => findings.error_with_hint(
                "/spec/defaultLanguage",
                format!("`{default}` is not one of `languages`"),
                "add it to `languages`, or choose one of them",
            ),
            _ => {}
        }
    }

    /// The messenger's color, file upload sizes and notification labels.
    fn check_messenger(&self, messenger: &Messenger, findings: &mut Findings) {
        let color = messenger.styles.as_ref().and_then(|s| s.primary_color.as_deref());
        if let Some(color) = color {
            let hex = color.strip_prefix('#').unwrap_or("");
            if !(hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit())) {
                findings.error_with_hint(
                    "/spec/messenger/styles/primaryColor",
                    format!("`{color}` is not a hexadecimal color"),
                    "write #rrggbb, for example #ff4f1f",
                );
            }
        }
        let modes = messenger.file_upload.as_ref().and_then(|f| f.modes.as_deref());
        for (i, mode) in modes.unwrap_or_default().iter().enumerate() {
            if mode.max_file_size_kb > 10_240 {
                findings.error(
                    format!("/spec/messenger/fileUpload/modes/{i}/maxFileSizeKB"),
                    format!("{} is out of range: must be between 0 and 10240 (10 MB)", mode.max_file_size_kb),
                );
            }
        }
        let conversations = messenger.apps.as_ref().and_then(|a| a.conversations.as_ref());
        let notifying = conversations
            .and_then(|c| c.notifications.as_ref())
            .is_some_and(|n| n.enabled);
        if notifying {
            let has = |key: LabelKey| {
                self.custom_i18n_labels
                    .iter()
                    .flatten()
                    .any(|l| l.localized_labels.iter().any(|label| label.key == key))
            };
            if !(has(LabelKey::PushNotificationTitle) && has(LabelKey::PushNotificationBody)) {
                findings.error_with_hint(
                    "/spec/messenger/apps/conversations/notifications/enabled",
                    "notifications need the PushNotificationTitle and PushNotificationBody labels",
                    "add both under customI18nLabels[].localizedLabels",
                );
            }
        }
    }
}

/// Where gcctl's marker starts in a description.
pub const MARKER_START: &str = "[gcctl version ";

impl Spec for WebMessagingConfigurationSpec {
    fn kind(&self) -> Kind {
        Kind::WebMessagingConfiguration
    }

    fn org_name(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn check(&self, findings: &mut Findings) {
        check_org_name(findings, "/spec/name", &self.name);
        if self.name.chars().count() > 100 {
            findings.error("/spec/name", "the name is longer than 100 characters");
        }
        if self.description.as_deref().is_some_and(|d| d.contains(MARKER_START)) {
            findings.error_with_hint(
                "/spec/description",
                "the description holds gcctl's version marker",
                format!("remove the `{MARKER_START}…]` part: gcctl writes it when it publishes"),
            );
        }
        self.check_languages(findings);
        if let Some(messenger) = &self.messenger {
            self.check_messenger(messenger, findings);
        }
    }

    spec_boilerplate!();
}

pub const DEF: KindDef = KindDef {
    summary: "A Messenger (web messaging) configuration, published as a new version when it changes.",
    order: 20,
    export_file: Some("web-messaging-configurations.yaml"),
    parse: parse_spec::<WebMessagingConfigurationSpec>,
    schema: schema_of::<WebMessagingConfigurationSpec>,
    org: Some(&Org),
};

/// The org side of `WebMessagingConfiguration`.
pub struct Org;

const COLLECTION: &str = "/api/v2/webdeployments/configurations";
/// The latest published version (`GET …/versions/{n}`), added to the live
/// object by [`OrgKind::read_details`]; absent when nothing was published.
const PUBLISHED: &str = "gcctl:published";
/// The draft, as read.
const DRAFT: &str = "gcctl:draft";
/// Who published the live version, as the plan shows it.
const PUBLISHED_BY: &str = "publishedBy";
/// `publishedBy` when gcctl published the latest version.
pub const BY_GCCTL: &str = "gcctl";
/// The writable fields of `WebDeploymentConfigurationVersion`: what a draft
/// PUT carries (the API replaces the whole draft with it).
const WRITABLE: &[&str] = &[
    "name",
    "description",
    "headlessMode",
    "languages",
    "defaultLanguage",
    "customI18nLabels",
    "messenger",
    "position",
    "supportCenter",
    "cobrowse",
    "journeyEvents",
    "authenticationSettings",
    "video",
];

/// The writable fields the spec does not model (integrations, knowledge
/// bases and knowledge portal settings gcctl does not manage): a publish
/// keeps the live values (the draft starts from the live [`WRITABLE`]
/// fields, merged), and export warns of them.
/// (The knowledge app's `enabled: false` alone is a knowledge app nobody
/// set up; what a real org holds there when unset is UNVERIFIED.)
const UNMANAGED: [super::org::Unmanaged; 17] = {
    use super::org::Unmanaged;
    [
        Unmanaged::field("/authenticationSettings"),
        Unmanaged::field("/video"),
        // Journey event triggers (the SDK's `JourneyEventsSettings`; the
        // sandbox does not model them, a real org holds them).
        Unmanaged::field("/journeyEvents/clickEvents"),
        Unmanaged::field("/journeyEvents/formsTrackEvents"),
        Unmanaged::field("/journeyEvents/idleEvents"),
        Unmanaged::field("/journeyEvents/inViewportEvents"),
        Unmanaged::field("/journeyEvents/scrollDepthEvents"),
        Unmanaged::field("/journeyEvents/trackingSettings"),
        // When co-browsing pauses (the SDK's `CobrowseSettings.pauseCriteria`).
        Unmanaged::field("/cobrowse/pauseCriteria"),
        Unmanaged { pointer: "/messenger/apps/knowledge", unset: Some(r#"{"enabled": false}"#) },
        Unmanaged::field("/supportCenter/knowledgeBase"),
        Unmanaged::field("/supportCenter/customMessages"),
        Unmanaged::field("/supportCenter/screens"),
        Unmanaged::field("/supportCenter/enabledCategories"),
        Unmanaged::field("/supportCenter/labelFilter"),
        Unmanaged::field("/supportCenter/styleSetting"),
        Unmanaged::field("/supportCenter/feedback"),
    ]
};

/// The description without gcctl's marker, and the version the marker names.
pub fn split_marker(description: &str) -> (String, Option<u64>) {
    let Some(start) = description.rfind(MARKER_START) else {
        return (description.to_string(), None);
    };
    let rest = &description[start + MARKER_START.len()..];
    let Some(number) = rest.strip_suffix(']').and_then(|n| n.parse().ok()) else {
        return (description.to_string(), None);
    };
    (super::common::before_mark(&description[..start]).to_string(), Some(number))
}

/// A description with gcctl's marker for `version`, after the user's text as
/// written (its trailing spaces and line breaks too: [`split_marker`] gives
/// it back).
fn with_marker(description: Option<&str>, version: u64) -> String {
    match description.filter(|d| !d.is_empty()) {
        Some(text) => format!("{text} {MARKER_START}{version}]"),
        None => format!("{MARKER_START}{version}]"),
    }
}

/// What a configuration's change learns for the deployments that follow
/// it ([`Op::learn`]): the version its publish answered (`null` when the
/// answer did not say).
pub const LEARNED_VERSION: &str = "publishedVersion";

/// The latest published version as the configuration's details
/// ([`OrgKind::read_details`]) say: `None` when they were not read,
/// `Some(None)` when nothing is published.
pub fn read_latest(live: &Value) -> Option<Option<u64>> {
    live.get(DRAFT)?;
    Some(live.get(PUBLISHED).and_then(version_of))
}

/// The integer version of a published version object.
fn version_of(version: &Value) -> Option<u64> {
    version.get("version")?.as_str()?.parse().ok()
}

/// The latest published version in a `GET …/versions` listing (the draft is
/// `"DRAFT"`; the provider takes the highest integer the same way).
pub fn latest_of(versions: &[Value]) -> Option<u64> {
    versions.iter().filter_map(version_of).max()
}

/// The content of a version or draft in spec space: the spec's fields,
/// the description without the marker.
fn content(version: &Value) -> Value {
    let mut spec = project::<WebMessagingConfigurationSpec>(version);
    let description = version.get("description").and_then(Value::as_str).unwrap_or_default();
    match split_marker(description).0 {
        text if text.is_empty() => spec.as_object_mut().map(|m| m.remove("description")),
        text => spec.as_object_mut().map(|m| m.insert("description".into(), json!(text))),
    };
    normalize(&mut spec);
    spec
}

/// Put lists nested in set elements in one order, so that they compare as
/// sets too (an upload mode's `fileTypes`).
fn normalize(spec: &mut Value) {
    let modes = spec.pointer_mut("/messenger/fileUpload/modes").and_then(Value::as_array_mut);
    for mode in modes.into_iter().flatten() {
        if let Some(types) = mode.get_mut("fileTypes").and_then(Value::as_array_mut) {
            types.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        }
    }
}

/// Who published `published` (the latest version), as the plan shows it.
fn published_by(published: &Value) -> String {
    let number = version_of(published);
    let description = published.get("description").and_then(Value::as_str).unwrap_or_default();
    if number.is_some() && split_marker(description).1 == number {
        return BY_GCCTL.into();
    }
    // Server text: sanitized before it is shown.
    let clean = crate::api::untrusted::sanitize;
    let who = published.get("publishedUser").and_then(|u| {
        let id = clean(u.get("id")?.as_str()?);
        Some(match u.get("name").and_then(Value::as_str) {
            Some(name) => format!("{} (id {id})", clean(name)),
            None => format!("the user with id {id}"),
        })
    });
    let mut text = format!(
        "version {} published outside gcctl by {}",
        number.map_or("?".into(), |n| n.to_string()),
        who.unwrap_or_else(|| "an unknown publisher".into())
    );
    if let Some(when) = published.get("datePublished").and_then(Value::as_str) {
        text.push_str(&format!(" at {}", clean(when)));
    }
    text
}

/// The top-level fields in which `draft` differs from `published`.
fn unpublished_edits(draft: &Value, published: &Value) -> Vec<String> {
    let (draft, published) = (content(draft), content(published));
    let keys: std::collections::BTreeSet<&String> = draft
        .as_object()
        .into_iter()
        .chain(published.as_object())
        .flat_map(|m| m.keys())
        .collect();
    keys.into_iter()
        .filter(|k| !crate::plan::diff::equivalent(&draft[k.as_str()], &published[k.as_str()]))
        .cloned()
        .collect()
}

impl OrgKind for Org {
    fn export_refers_to(&self) -> &'static [super::RefTarget] {
        &[]
    }


    fn api(&self) -> ApiPaths {
        // Cursor-paged; 100 a page (the default is 300, the maximum UNVERIFIED).
        ApiPaths::new(COLLECTION, UpdateMethod::Put).cursor_paged(100)
    }

    fn live_to_spec(&self, live: &Value, _lookups: &Lookups) -> Value {
        let mut spec = content(self.exported_part(live));
        // Never published: no publisher, and a change (gcctl publishes a
        // declared configuration), not a provenance note.
        if let Some(published) = live.get(PUBLISHED).filter(|p| p.is_object()) {
            spec[PUBLISHED_BY] = json!(published_by(published));
        }
        spec
    }

    /// The version the spec is made of: the latest published one, else
    /// the draft (a configuration never published).
    fn exported_part<'a>(&self, live: &'a Value) -> &'a Value {
        let published = live.get(PUBLISHED).filter(|p| p.is_object());
        published.or_else(|| live.get(DRAFT).filter(|d| d.is_object())).unwrap_or(live)
    }

    /// A configuration never published (a draft only, saved in the UI and
    /// left unpublished) is left out: a manifest declares what is
    /// published, so applying the export to its own org would publish the
    /// draft someone chose not to.
    fn export_refusal(&self, live: &Value) -> Option<String> {
        let published = live.get(PUBLISHED).is_some_and(Value::is_object);
        (!published).then(|| {
            "it was never published (a draft only), and a manifest declares what is published: applying the export would publish the draft (publish it in Genesys Cloud to export it)".to_string()
        })
    }

    fn unmanaged_pointers(&self) -> &'static [super::org::Unmanaged] {
        &UNMANAGED
    }

    fn provenance_pointer(&self) -> Option<&'static str> {
        Some("/publishedBy")
    }

    fn align_live(&self, desired: &Value, live: &mut Value, _lookups: &Lookups) {
        super::common::align_empty_text(desired, live, "description");
    }

    fn desired(
        &self,
        mut spec: Value,
        _object: &crate::manifest::Object,
        _manifests: &crate::manifest::check::SetIndex<'_>,
        _lookups: &Lookups,
    ) -> Value {
        spec[PUBLISHED_BY] = json!(BY_GCCTL);
        normalize(&mut spec);
        spec
    }

    fn body(
        &self,
        desired: &Value,
        live: Option<&Value>,
        _ids: &dyn IdResolver,
    ) -> Result<Value, BodyError> {
        // The draft PUT replaces the whole object: start from the live
        // version's writable fields, so what the manifest leaves out stays.
        let mut body = live.map_or_else(|| json!({}), |l| writable(l, WRITABLE));
        let mut declared = desired.clone();
        if let Some(map) = declared.as_object_mut() {
            map.remove(PUBLISHED_BY);
        }
        merge(&mut body, &declared);
        // References copied from the live version go back as `{id}` (a
        // support center category keeps its `image`).
        super::org::id_references(&mut body, &["image"]);
        if live.is_none() {
            // A new configuration is published as version 1 (see `after_create`).
            let description = declared.get("description").and_then(Value::as_str);
            body["description"] = json!(with_marker(description, 1));
        }
        Ok(body)
    }

    fn set_pointers(&self) -> &'static [&'static str] {
        &[
            "/languages",
            "/customI18nLabels",
            "/messenger/fileUpload/modes",
            "/cobrowse/maskSelectors",
            "/cobrowse/channels",
            "/cobrowse/readonlySelectors",
        ]
    }

    fn calls(&self, change: &crate::plan::Change, desired: &Value) -> Vec<Call> {
        const DRAFT_PATH: &str = "/api/v2/webdeployments/configurations/{configurationId}/versions/draft";
        const VERSIONS: &str = "/api/v2/webdeployments/configurations/{configurationId}/versions";
        const VERSION: &str =
            "/api/v2/webdeployments/configurations/{configurationId}/versions/{versionId}";
        const PUBLISH: &str =
            "/api/v2/webdeployments/configurations/{configurationId}/versions/draft/publish";
        match change.action {
            Action::Create => vec![
                ("POST", COLLECTION),
                ("GET", VERSIONS),
                ("GET", DRAFT_PATH),
                ("POST", PUBLISH),
            ],
            Action::Update => vec![
                ("GET", VERSIONS),
                ("GET", VERSION),
                ("PUT", DRAFT_PATH),
                ("GET", DRAFT_PATH),
                ("POST", PUBLISH),
            ],
            // A prune reads the draft first (`item_read`).
            Action::Delete if change.prune => vec![
                ("GET", DRAFT_PATH),
                ("DELETE", "/api/v2/webdeployments/configurations/{configurationId}"),
            ],
            _ => super::org::generic_calls(&self.api(), change, desired),
        }
    }

    /// No GET reads a configuration itself (API reference §j): its draft
    /// is read. The list is taken to show each configuration's draft, as the
    /// sandbox's does (UNVERIFIED); were it to show the latest published
    /// version, a draft renamed and not published would make the prune fail
    /// and delete nothing, which is the safe side.
    fn item_read(&self, id: &str) -> Option<String> {
        Some(draft_path(id))
    }

    fn export_reads_details(&self) -> bool {
        true
    }

    fn details_needed(&self, _declared: Option<&dyn Spec>) -> bool {
        true
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
            let Some(id) = live.get("id").and_then(Value::as_str) else { return Ok(out) };
            let name = live.get("name").and_then(Value::as_str).unwrap_or(id);
            let failed = |what: &str| {
                let what = format!("the {what} of web messaging configuration `{name}`");
                move |source| crate::plan::ReadError { what, source }
            };
            let versions = client
                .list_cursor(&format!("{COLLECTION}/{id}/versions"), &[], 100)
                .await
                .map_err(failed("versions"))?;
            if let Some(latest) = latest_of(&versions) {
                let path = format!("{COLLECTION}/{id}/versions/{latest}");
                let published = client.get(&path, &[]).await.map_err(failed("latest version"))?;
                out.insert(PUBLISHED.into(), published);
            }
            // The draft: in the versions list (the real list's entities are
            // full versions; UNVERIFIED), else read.
            let listed = versions
                .iter()
                .find(|v| v.get("version").and_then(Value::as_str) == Some("DRAFT"))
                .filter(|v| v.get("name").is_some());
            let draft = match listed {
                Some(draft) => draft.clone(),
                None => client
                    .get(&draft_path(id), &[])
                    .await
                    .map_err(failed("draft"))?,
            };
            out.insert(DRAFT.into(), draft);
            Ok(out)
        })
    }

    fn notes(
        &self,
        _desired: &Value,
        live: Option<&Value>,
        fields: &[FieldChange],
        _lookups: &Lookups,
    ) -> Vec<String> {
        let Some(live) = live else {
            return vec!["apply creates the configuration and publishes it as version 1".into()];
        };
        let published = live.get(PUBLISHED).filter(|p| p.is_object());
        let mut notes = Vec::new();
        if !fields.is_empty() {
            // The org's version number, any `u64`: the last one has no next.
            let next = published.and_then(version_of).map_or(Some(1), |n| n.checked_add(1));
            notes.push(match next {
                Some(next) => format!("apply updates the draft, then publishes it as version {next}"),
                None => "apply updates the draft, then publishes it as the next version".into(),
            });
        }
        let draft = live.get(DRAFT).filter(|d| d.is_object());
        if let (Some(draft), Some(published)) = (draft, published) {
            let edits = unpublished_edits(draft, published);
            if !edits.is_empty() {
                let what = if fields.is_empty() {
                    "they are not drift of the published configuration, and gcctl leaves them alone until it publishes a change"
                } else {
                    "this change replaces them"
                };
                notes.push(format!(
                    "the draft holds edits nobody published ({}); {what}",
                    edits.join(", ")
                ));
            }
        }
        notes
    }

    fn after_create<'a>(
        &'a self,
        op: &'a Op<'a>,
        created: &'a Value,
        adopted: bool,
    ) -> Hook<'a, Vec<String>> {
        Box::pin(async move {
            let id = created.get("id").and_then(Value::as_str).unwrap_or_default();
            // An adopted configuration (a lost create answer) may have been
            // published already; one this create made has no version yet.
            if adopted {
                if let Some(latest) = latest_version(op, id).await? {
                    op.learn(LEARNED_VERSION, json!(latest));
                    return Ok(Vec::new());
                }
            }
            publish(op, id, 1).await
        })
    }

    fn write_adopted<'a>(&'a self, _op: &'a Op<'a>, _id: &'a str) -> Hook<'a, bool> {
        // Fields are written as a new version, published (`update`): a
        // plan shows what differs, without a publish for nothing here.
        Box::pin(async { Ok(false) })
    }

    fn update<'a>(&'a self, op: &'a Op<'a>, id: &'a str) -> Hook<'a, Vec<String>> {
        Box::pin(async move {
            let latest = latest_version(op, id).await?;
            let base = match latest {
                Some(n) => {
                    let path = format!("{COLLECTION}/{id}/versions/{n}");
                    op.read_object(&path, None, "reading the latest version of").await?
                }
                None => op.read_object(&draft_path(id), None, "reading the draft of").await?,
            };
            let next = match latest {
                None => 1,
                Some(n) => n.checked_add(1).ok_or_else(|| {
                    OpError::Failed(format!(
                        "the org numbers the configuration's latest version {n}, after which no version number is left; check the configuration in the Genesys Cloud admin UI"
                    ))
                })?,
            };
            let mut body = self.body(&op.desired, Some(&base), &op.ids())?;
            let declared = op.desired.get("description").and_then(Value::as_str);
            let kept = base.get("description").and_then(Value::as_str).map(|d| split_marker(d).0);
            let description = declared.map(str::to_string).or(kept);
            body["description"] = json!(with_marker(description.as_deref(), next));
            op.put(&draft_path(id), &body, "writing the draft of").await?;
            publish(op, id, next).await
        })
    }

    fn export(&self, spec: &mut Value, _cx: &mut ExportCx<'_>) -> Result<(), String> {
        if let Some(map) = spec.as_object_mut() {
            map.remove(PUBLISHED_BY);
        }
        Ok(())
    }
}

fn draft_path(id: &str) -> String {
    format!("{COLLECTION}/{id}/versions/draft")
}

/// The highest published version of configuration `id` (`GET …/versions`).
pub async fn latest_version(op: &Op<'_>, id: &str) -> Result<Option<u64>, OpError> {
    let path = format!("{COLLECTION}/{id}/versions");
    let versions = op.list_cursor(&path, "reading the versions of").await?;
    Ok(latest_of(&versions))
}

/// Wait until the draft is `Active`, publish it, and check that the new
/// version is the one the marker names.
async fn publish(op: &Op<'_>, id: &str, expected: u64) -> Result<Vec<String>, OpError> {
    wait_active(op, &draft_path(id), "the draft").await?;
    let path = format!("{}/publish", draft_path(id));
    let published = op.post(&path, None, "publishing the draft of").await?;
    let number = version_of(&published);
    // The deployments that follow it use this version (see
    // `web_messaging_deployment`), without listing the versions again.
    op.learn(LEARNED_VERSION, json!(number));
    let mut notes = vec![format!(
        "published version {}",
        number.map_or_else(|| "?".into(), |n| n.to_string())
    )];
    if number != Some(expected) {
        notes.push(format!(
            "expected version {expected}: someone else published meanwhile, so the next plan reports this version as published outside gcctl"
        ));
    }
    Ok(notes)
}

/// Poll `path` until its `status` is `Active` (with backoff, under the
/// apply's deadline); `Error` fails at once. A 404 is polled through too:
/// what was made moments ago can trail in reads.
pub async fn wait_active(op: &Op<'_>, path: &str, what: &str) -> Result<Value, OpError> {
    let why = format!(
        "waiting for {what} to be Active (GET {path}: Pending until the org has processed it; --wait-timeout {}s)",
        op.deadline().as_secs()
    );
    let mut waiting = op.waiting(why, op.deadline(), std::time::Duration::from_millis(100));
    loop {
        let object = op.get_when_found(path, &format!("waiting for {what} of")).await?;
        match object.get("status").and_then(Value::as_str) {
            Some("Active") | None => return Ok(object),
            Some("Error") => {
                return Err(op.fail(format!(
                    "{what} is in status Error (GET {path}); read it in the admin UI or the API for the cause"
                )));
            }
            Some(status) if waiting.is_over() => {
                let status = crate::api::untrusted::sanitize(status);
                return Err(op.fail(format!(
                    "{what} is still {status} after {}s (GET {path}); raise --wait-timeout, or apply again once it is Active",
                    op.deadline().as_secs()
                )));
            }
            Some(_) => waiting.pause().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Export writes the published version (else the draft), so what it
    /// warns of is looked for there: a knowledge base only in the draft is
    /// not exported anyway, and not warned of.
    #[test]
    fn unmanaged_fields_are_looked_for_in_the_version_exported() {
        let kb = json!({"enabled": true, "knowledgeBase": {"id": "kb"}});
        let draft = json!({"name": "C", "messenger": {"apps": {"knowledge": kb}}});
        let published = json!({"name": "C", "version": "1"});
        let live = json!({"name": "C", "messenger": {"apps": {"knowledge": kb}},
            PUBLISHED: published, DRAFT: draft});
        assert_eq!(Org.exported_part(&live), &published);
        let never = json!({"name": "C", DRAFT: draft});
        assert_eq!(Org.exported_part(&never), &draft);
        // Every top-level writable field the spec lacks is unmanaged.
        let compared = Kind::WebMessagingConfiguration.compared_fields();
        for field in WRITABLE.iter().filter(|f| !compared.iter().any(|c| c == *f)) {
            let pointer = format!("/{field}");
            assert!(UNMANAGED.iter().any(|u| u.pointer == pointer), "{field}");
        }
    }

    #[test]
    fn the_marker_is_split_from_the_description() {
        assert_eq!(split_marker("Web chat [gcctl version 4]"), ("Web chat".into(), Some(4)));
        assert_eq!(split_marker("[gcctl version 12]"), (String::new(), Some(12)));
        assert_eq!(split_marker("no marker"), ("no marker".into(), None));
        assert_eq!(split_marker("[gcctl version x]"), ("[gcctl version x]".into(), None));
        assert_eq!(with_marker(Some("Web chat"), 5), "Web chat [gcctl version 5]");
        assert_eq!(with_marker(None, 1), "[gcctl version 1]");
    }

    /// The version number is the org's text: the largest one has no next,
    /// which a plan says without numbering it (and without overflowing).
    #[test]
    fn the_largest_version_number_has_no_next() {
        let field = FieldChange {
            pointer: "/description".into(),
            before: None,
            after: Some(json!("x")),
            sensitive: false,
        };
        let notes = |version: &str| {
            Org.notes(&json!({}), Some(&json!({PUBLISHED: {"version": version}})), std::slice::from_ref(&field), &Lookups::default())
        };
        assert_eq!(notes("7"), ["apply updates the draft, then publishes it as version 8"]);
        assert_eq!(
            notes("18446744073709551615"),
            ["apply updates the draft, then publishes it as the next version"]
        );
    }

    #[test]
    fn a_version_gcctl_did_not_mark_is_published_outside_gcctl() {
        let mine = json!({"version": "3", "description": "x [gcctl version 3]"});
        assert_eq!(published_by(&mine), BY_GCCTL);
        let theirs = json!({"version": "4", "description": "x [gcctl version 3]",
            "publishedUser": {"id": "u1", "name": "Ann"}, "datePublished": "2026-01-02T03:04:05Z"});
        assert_eq!(
            published_by(&theirs),
            "version 4 published outside gcctl by Ann (id u1) at 2026-01-02T03:04:05Z"
        );
    }

    #[test]
    fn unpublished_edits_name_the_fields() {
        let published = json!({"name": "W", "description": "d [gcctl version 2]", "languages": ["en-us"]});
        let draft = json!({"name": "W", "description": "d [gcctl version 2]", "languages": ["en-us", "de-de"],
            "position": {"alignment": "Left"}});
        assert_eq!(unpublished_edits(&draft, &published), ["languages", "position"]);
        assert!(unpublished_edits(&published, &published).is_empty());
    }
}
