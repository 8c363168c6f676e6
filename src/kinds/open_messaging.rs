//! `OpenMessagingIntegration`: an open messaging integration
//! (`/api/v2/conversations/messaging/integrations/open`) with its webhook and
//! its message routing. Creation is asynchronous (`createStatus`); updates are
//! PATCH (with `name`). The integration's `recipient` is attached to an
//! inbound message flow with `PUT /api/v2/routing/message/recipients/{id}`:
//! that wiring is part of this kind's spec (`inboundFlow`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::check_org_name;
use super::{Kind, KindDef, RefTarget, Reference, Spec, parse_spec, schema_of, spec_boilerplate};
use crate::manifest::diag::Findings;

/// The Architect flow type that can receive messages from a recipient.
pub const INBOUND_MESSAGE_FLOW: &str = "INBOUNDSHORTMESSAGE";

/// An open messaging integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenMessagingIntegrationSpec {
    /// The integration's name in the org (its natural key).
    pub name: String,
    /// The `SupportedContentProfile` to use: a manifest name, or else the name
    /// of a profile in the org. Left out: the org default applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supported_content: Option<String>,
    /// The `MessagingSetting` to use: a manifest name, or else the name of a
    /// setting in the org. Left out: the org default applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_setting: Option<String>,
    /// The `Webhook` (manifest name) that receives outbound messages.
    pub webhook: String,
    /// The inbound message flow that handles messages to this integration's
    /// address (Admin > Message Routing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_flow: Option<FlowRef>,
}

/// An Architect flow, by name and type (flow names repeat across types).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlowRef {
    /// The flow's name in the org.
    pub name: String,
    /// The flow type; message routing needs an inbound message flow.
    #[serde(rename = "type", default = "default_inbound_type")]
    pub flow_type: InboundFlowType,
}

/// Flow types that can be attached to a message recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum InboundFlowType {
    /// An Architect inbound message flow.
    #[serde(rename = "INBOUNDSHORTMESSAGE")]
    InboundShortMessage,
}

fn default_inbound_type() -> InboundFlowType {
    InboundFlowType::InboundShortMessage
}

impl Spec for OpenMessagingIntegrationSpec {
    fn kind(&self) -> Kind {
        Kind::OpenMessagingIntegration
    }

    fn org_name(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn references(&self) -> Vec<Reference> {
        let mut refs = vec![Reference {
            pointer: "/spec/webhook".into(),
            target: RefTarget::Kind(Kind::Webhook),
            name: self.webhook.clone(),
        }];
        if let Some(name) = &self.supported_content {
            refs.push(Reference {
                pointer: "/spec/supportedContent".into(),
                target: RefTarget::Kind(Kind::SupportedContentProfile),
                name: name.clone(),
            });
        }
        if let Some(name) = &self.messaging_setting {
            refs.push(Reference {
                pointer: "/spec/messagingSetting".into(),
                target: RefTarget::Kind(Kind::MessagingSetting),
                name: name.clone(),
            });
        }
        if let Some(flow) = &self.inbound_flow {
            refs.push(Reference {
                pointer: "/spec/inboundFlow/name".into(),
                target: RefTarget::Flow(INBOUND_MESSAGE_FLOW),
                name: flow.name.clone(),
            });
        }
        refs
    }

    fn check(&self, findings: &mut Findings) {
        check_org_name(findings, "/spec/name", &self.name);
        if let Some(flow) = &self.inbound_flow {
            check_org_name(findings, "/spec/inboundFlow/name", &flow.name);
        }
    }

    spec_boilerplate!();
}

pub const DEF: KindDef = KindDef {
    summary: "An open messaging integration, its webhook and the inbound flow its address routes to.",
    order: 30,
    export_file: Some("open-messaging.yaml"),
    parse: parse_spec::<OpenMessagingIntegrationSpec>,
    schema: schema_of::<OpenMessagingIntegrationSpec>,
    org: Some(&Org),
};

/// The org side of `OpenMessagingIntegration`.
pub struct Org;

/// The desired value: the spec with references as org names and the
/// webhook inlined (see [`OrgKind::desired`]).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Desired {
    name: String,
    supported_content: Option<String>,
    messaging_setting: Option<String>,
    webhook: Option<InlineWebhook>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InlineWebhook {
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    signature_secret_version: u32,
}

/// The writable fields of `OpenIntegrationRequest` (POST) and
/// `OpenIntegrationUpdateRequest` (PATCH) that gcctl manages. The signature
/// secret is added by the executor when due.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    supported_content: Option<IdRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    messaging_setting: Option<IdRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outbound_notification_webhook_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    webhook_headers: Option<BTreeMap<String, String>>,
}

/// The request field of the webhook signature secret (write-only).
const SECRET_FIELD: &str = "outboundNotificationWebhookSignatureSecretToken";

impl OrgKind for Org {
    fn export_refers_to(&self) -> &'static [RefTarget] {
        &[
            RefTarget::Kind(Kind::SupportedContentProfile),
            RefTarget::Kind(Kind::MessagingSetting),
            // The recipient's flow.
            RefTarget::Recipient,
            RefTarget::Flow(INBOUND_MESSAGE_FLOW),
        ]
    }


    fn api(&self) -> ApiPaths {
        // Max page size UNVERIFIED; 100 is what the Terraform provider uses.
        ApiPaths::new("/api/v2/conversations/messaging/integrations/open", UpdateMethod::Patch)
            .paged(100)
    }

    fn live_to_spec(&self, live: &Value, lookups: &Lookups) -> Value {
        let mut spec = json!({ "name": live.get("name") });
        if let Some(name) = ref_name(
            live,
            "supportedContent",
            lookups,
            RefTarget::Kind(Kind::SupportedContentProfile),
        ) {
            spec["supportedContent"] = name;
        }
        if let Some(name) =
            ref_name(live, "messagingSetting", lookups, RefTarget::Kind(Kind::MessagingSetting))
        {
            spec["messagingSetting"] = name;
        }
        let mut webhook = json!({});
        if let Some(url) = live.get("outboundNotificationWebhookUrl").filter(|u| !u.is_null()) {
            webhook["url"] = url.clone();
        }
        let mut headers =
            live.get("webhookHeaders").and_then(Value::as_object).cloned().unwrap_or_default();
        // gcctl's own header in every case the org holds it (set twice in
        // the UI, say): none is a header of the manifest's. The version is
        // the one written as gcctl writes it, else the first readable one.
        let variants: Vec<String> = headers
            .keys()
            .filter(|k| k.eq_ignore_ascii_case(SECRET_VERSION_HEADER))
            .cloned()
            .collect();
        let mut versions: Vec<(bool, u32)> = variants
            .iter()
            .filter_map(|k| {
                let version = headers.remove(k)?.as_str()?.parse::<u32>().ok()?;
                Some((k.as_str() == SECRET_VERSION_HEADER, version))
            })
            .collect();
        versions.sort_by_key(|(exact, _)| !exact);
        let version = versions.first().map(|(_, version)| *version);
        webhook["headers"] = Value::Object(headers);
        // Without the header (an integration made outside gcctl, then
        // adopted) the secret it holds counts as version 1: secrets are sent
        // on create and on explicit rotation only, never on adoption, so the
        // receiver's current secret is not replaced behind its back.
        webhook["signatureSecretVersion"] = version.unwrap_or(1).into();
        spec["webhook"] = webhook;
        let recipient = crate::json_pointer::get(live, "/recipient/id").and_then(Value::as_str);
        if let Some(flow_id) = recipient.and_then(|r| lookups.recipient_flow.get(r)) {
            let flow = match lookups.name_of(RefTarget::Flow(INBOUND_MESSAGE_FLOW), flow_id) {
                Some(name) => json!({ "name": name, "type": INBOUND_MESSAGE_FLOW }),
                None => match lookups.flow_name(flow_id) {
                    Some((flow_type, name)) => json!({ "name": name, "type": flow_type }),
                    None => json!({
                        "name": name_or_id(None, flow_id),
                        "type": INBOUND_MESSAGE_FLOW,
                    }),
                },
            };
            spec["inboundFlow"] = flow;
        }
        spec
    }

    fn desired(
        &self,
        mut spec: Value,
        object: &Object,
        manifests: &SetIndex<'_>,
        _lookups: &Lookups,
    ) -> Value {
        // The webhook is another manifest: inline what the org will hold.
        if let Some(webhook) = webhook_of(object, manifests) {
            spec["webhook"] = json!({
                "url": webhook.url,
                "headers": webhook.headers,
                "signatureSecretVersion": webhook.secret_version(),
            });
        }
        spec
    }

    fn body(
        &self,
        desired: &Value,
        _live: Option<&Value>,
        ids: &dyn IdResolver,
    ) -> Result<Value, BodyError> {
        // POST and PATCH: PATCH changes only what is sent, and needs `name`.
        let desired: Desired = typed(desired)?;
        let reference = |kind: Kind, name: Option<String>, pointer: &str| {
            name.map(|name| {
                require_id(ids, RefTarget::Kind(kind), &name, pointer).map(|id| IdRef { id })
            })
            .transpose()
        };
        let mut request = Request {
            name: desired.name,
            supported_content: reference(
                Kind::SupportedContentProfile,
                desired.supported_content,
                "/supportedContent",
            )?,
            messaging_setting: reference(
                Kind::MessagingSetting,
                desired.messaging_setting,
                "/messagingSetting",
            )?,
            outbound_notification_webhook_url: None,
            webhook_headers: None,
        };
        if let Some(webhook) = desired.webhook {
            // The org is the state: the applied secret version rides along.
            let mut headers = webhook.headers;
            headers.insert(SECRET_VERSION_HEADER.into(), webhook.signature_secret_version.to_string());
            request.outbound_notification_webhook_url = Some(webhook.url);
            request.webhook_headers = Some(headers);
        }
        request_body(&request)
    }

    /// HTTP header names are one in any case: a live header the manifest
    /// declares in another case (`x-env` set in the UI, `X-Env` declared)
    /// is compared as the declared one, so its value shows, and the PATCH
    /// replaces it rather than adding a second (`case_insensitive_maps`).
    fn align_live(&self, desired: &Value, live: &mut Value, _lookups: &Lookups) {
        let declared = desired.pointer("/webhook/headers").and_then(Value::as_object);
        let Some(declared) = declared else { return };
        let held = live.pointer_mut("/webhook/headers").and_then(Value::as_object_mut);
        let Some(held) = held else { return };
        for name in declared.keys() {
            let variants: Vec<String> =
                held.keys().filter(|k| k.eq_ignore_ascii_case(name)).cloned().collect();
            if variants.len() == 1 && variants[0] == *name {
                continue;
            }
            // Several live headers of that name in different cases: all of
            // their values, so that the plan shows the conflict and the
            // update replaces them with the declared one.
            let mut values: Vec<Value> = variants.iter().filter_map(|k| held.remove(k)).collect();
            match values.len() {
                0 => {}
                1 => {
                    held.insert(name.clone(), values.remove(0));
                }
                _ => {
                    held.insert(name.clone(), Value::Array(values));
                }
            }
        }
    }

    /// Webhook headers the org holds that the manifest does not declare are
    /// kept and not compared ("we own what we declare"), but said, by name
    /// (never a value): one added in the UI may carry a credential.
    fn notes(
        &self,
        desired: &Value,
        live: Option<&Value>,
        _fields: &[crate::plan::FieldChange],
        _lookups: &Lookups,
    ) -> Vec<String> {
        if desired.get("webhook").is_none() {
            return Vec::new();
        }
        let none = Map::new();
        let declared =
            desired.pointer("/webhook/headers").and_then(Value::as_object).unwrap_or(&none);
        let held = live.and_then(|l| l.get("webhookHeaders")).and_then(Value::as_object);
        let undeclared: Vec<String> = held
            .into_iter()
            .flatten()
            .map(|(name, _)| name)
            .filter(|name| !name.eq_ignore_ascii_case(SECRET_VERSION_HEADER))
            .filter(|name| !declared.keys().any(|d| d.eq_ignore_ascii_case(name)))
            .map(|name| crate::api::untrusted::quoted(name))
            .collect();
        match undeclared.len() {
            0 => Vec::new(),
            n => vec![format!(
                "the org's webhook sends {} {} that the manifest does not declare: kept and not compared (declare it under the webhook's `headers` to manage it)",
                if n == 1 { "the header" } else { "the headers" },
                undeclared.join(", ")
            )],
        }
    }

    fn case_insensitive_maps(&self) -> &'static [&'static str] {
        &["/webhookHeaders"]
    }

    fn case_insensitive_spec_maps(&self) -> &'static [&'static str] {
        &["/webhook/headers"]
    }

    fn write_only_pointers(&self) -> &'static [&'static str] {
        &["/webhook/signatureSecretVersion"]
    }

    fn record_live(&self, live: &Value, lookups: &mut Lookups) {
        if let Some(url) = live.get("outboundNotificationWebhookUrl").and_then(Value::as_str) {
            super::webhook::hide_url_credentials(url);
        }
        let headers = live.get("webhookHeaders").and_then(Value::as_object).into_iter().flatten();
        for (_, value) in headers.filter(|(name, _)| super::webhook::is_credential_header(name)) {
            if let Some(value) = value.as_str() {
                crate::api::untrusted::register_credential(value);
            }
        }
        let id = live.get("id").and_then(Value::as_str);
        let name = live.get("name").and_then(Value::as_str);
        let recipient = crate::json_pointer::get(live, "/recipient/id").and_then(Value::as_str);
        if let (Some(id), Some(recipient)) = (id, recipient) {
            lookups.recipient_integration.insert(recipient.to_string(), id.to_string());
            lookups.integration_recipient.insert(id.to_string(), recipient.to_string());
            if let Some(name) = name {
                // Queues refer to the recipient by the integration's name.
                lookups.insert(RefTarget::Recipient, recipient, name);
            }
        }
        for (field, kind) in [
            ("messagingSetting", Kind::MessagingSetting),
            ("supportedContent", Kind::SupportedContentProfile),
        ] {
            if let Some(reference) = live.get(field) {
                lookups.insert_named(RefTarget::Kind(kind), reference);
            }
        }
    }

    fn lookups_needed(&self, spec: &dyn Spec) -> &'static [Lookup] {
        // Recipients are only needed to show where integrations route.
        match downcast::<OpenMessagingIntegrationSpec>(spec) {
            Some(spec) if spec.inbound_flow.is_some() => &[Lookup::Recipients],
            _ => &[],
        }
    }

    fn live_problem(&self, live: &Value) -> Option<(String, String)> {
        // An integration whose asynchronous create ended in `Error` exists by
        // name but is broken: adopting it would hide that.
        if live.get("createStatus").and_then(Value::as_str) != Some("Error") {
            return None;
        }
        let reason = live
            .pointer("/createError/message")
            .and_then(Value::as_str)
            .map_or_else(|| "no reason given".to_string(), crate::api::untrusted::sanitize);
        let id = live.get("id").and_then(Value::as_str).map_or_else(|| "?".into(), crate::api::untrusted::visible);
        let name = live.get("name").and_then(Value::as_str).map(crate::api::untrusted::visible).unwrap_or_default();
        Some((
            format!(
                "the live integration `{name}` (id {id}) failed to be created (createStatus Error: {reason})"
            ),
            format!("delete it (DELETE {}) and apply again", self.api().item(&id)),
        ))
    }

    fn sent_secret_field(&self) -> Option<&'static str> {
        Some(SECRET_FIELD)
    }

    fn resolve_sent_secret(
        &self,
        object: &Object,
        manifests: &SetIndex<'_>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Secret, String> {
        let spec = downcast::<OpenMessagingIntegrationSpec>(object.spec.as_ref())
            .ok_or_else(|| format!("{}: not an integration", object.id()))?;
        let webhook = manifests.resolve(Kind::Webhook, &spec.webhook).ok_or_else(|| {
            format!("{}: webhook `{}` is not in the manifests", object.id(), spec.webhook)
        })?;
        let webhook_spec = downcast::<WebhookSpec>(webhook.spec.as_ref())
            .ok_or_else(|| format!("{}: not a webhook", webhook.id()))?;
        let base = webhook.file.parent().unwrap_or_else(|| std::path::Path::new("."));
        let pointer = "/spec/signatureSecret";
        let secret = webhook_spec.signature_secret.resolve(base, env).map_err(|err| {
            format!(
                "{} ({}): cannot resolve the signature secret: {err}",
                webhook.id(),
                webhook.location_of(pointer)
            )
        })?;
        match webhook_spec.check_secret(pointer, &secret) {
            Some((message, _hint)) => {
                Err(format!("{} ({}): {message}", webhook.id(), webhook.location_of(pointer)))
            }
            None => Ok(secret),
        }
    }

    fn after_create<'a>(
        &'a self,
        op: &'a Op<'a>,
        created: &'a Value,
        _adopted: bool,
    ) -> Hook<'a, Vec<String>> {
        Box::pin(async move {
            let id = created.get("id").and_then(Value::as_str).unwrap_or_default();
            let integration = wait_until_created(op, id).await?;
            let recipient = integration.pointer("/recipient/id").and_then(Value::as_str);
            if let Some(recipient) = recipient {
                op.record(RefTarget::Recipient, &op.change.org_name, recipient);
            }
            // Routing is the change's later step (`late`).
            Ok(Vec::new())
        })
    }

    fn write_adopted<'a>(&'a self, _op: &'a Op<'a>, _id: &'a str) -> Hook<'a, bool> {
        // The webhook's secret is sent on create and on rotation only, never
        // on adoption (see `live_to_spec`): a plan shows what differs.
        Box::pin(async { Ok(false) })
    }

    fn update<'a>(&'a self, op: &'a Op<'a>, id: &'a str) -> Hook<'a, Vec<String>> {
        Box::pin(async move {
            // An integration whose create has not ended (a run stopped
            // while waiting for it) is waited for as a create is: it may
            // yet end in Error, and a change must not report success first.
            let live = op.live(Kind::OpenMessagingIntegration, id);
            if live.and_then(|l| l.get("createStatus")).and_then(Value::as_str) == Some("Initiated") {
                wait_until_created(op, id).await?;
            }
            if op.changed_outside("/inboundFlow") {
                op.write(id, &op.patch_body(id)?).await?;
            }
            Ok(Vec::new())
        })
    }

    /// Message routing waits for the flow: a declared flow may transfer to
    /// a queue that sends through this integration, so the integration is
    /// created first, then the queue, the flow, and then the routing.
    fn late_pointers(&self) -> &'static [&'static str] {
        &["/inboundFlow"]
    }

    fn late<'a>(&'a self, op: &'a Op<'a>, id: &'a str) -> Hook<'a, Vec<String>> {
        Box::pin(async move {
            let recipient = op
                .lookups()
                .integration_recipient
                .get(id)
                .cloned()
                .or_else(|| op.ids().id(RefTarget::Recipient, &op.change.org_name));
            route(op, recipient.as_deref()).await?;
            Ok(Vec::new())
        })
    }

    fn export_refusal(&self, live: &Value) -> Option<String> {
        let url = live.get("outboundNotificationWebhookUrl").and_then(Value::as_str);
        let Some(url) = url else { return Some("it has no outbound webhook URL".into()) };
        if super::webhook::url_credentials(url).is_some() {
            return Some("its webhook URL holds credentials (`user:password@`), which gcctl never writes to a file; remove them in Genesys Cloud (the receiver can check the signature instead) and export again".to_string());
        }
        if let Some((name, _)) = super::webhook::url_query_credentials(url).first() {
            return Some(format!("its webhook URL's query parameter `{name}` carries a credential, which gcctl never writes to a file; declare the integration by hand (the value stays out of gcctl's output), or have the receiver check the signature instead"));
        }
        let headers = live.get("webhookHeaders").and_then(Value::as_object);
        let credential = headers.into_iter().flatten().map(|(name, _)| name).find(|name| super::webhook::is_credential_header(name));
        credential.map(|name| {
            format!("its webhook header `{name}` carries a credential, which gcctl never writes to a file; declare the integration by hand (the value stays out of gcctl's output), or have the receiver check the signature instead")
        })
    }

    fn export(&self, spec: &mut Value, cx: &mut ExportCx<'_>) -> Result<(), String> {
        // The inline webhook becomes a `Webhook` manifest whose secret is a
        // variable.
        let inline = spec.get("webhook").cloned().unwrap_or(Value::Null);
        // Checked before (`export_refusal`).
        let url =
            inline.get("url").and_then(Value::as_str).ok_or("it has no outbound webhook URL")?;
        let webhook_handle = format!("{}-webhook", cx.handle);
        let variable = cx.secret_variable(
            &webhook_handle,
            Kind::Webhook,
            format!("signature secret of the webhook of integration \"{}\"", cx.name),
        );
        let mut webhook = json!({ "url": url, "signatureSecret": { "fromEnv": variable } });
        if let Some(version) = inline.get("signatureSecretVersion") {
            webhook["signatureSecretVersion"] = version.clone();
        }
        // A version header gcctl cannot read (edited by hand) counts as 1
        // (`live_to_spec`): said, since the receiver's secret may be another.
        let headers = cx.live.get("webhookHeaders").and_then(Value::as_object);
        let held = headers
            .into_iter()
            .flatten()
            .find(|(k, _)| k.eq_ignore_ascii_case(SECRET_VERSION_HEADER))
            .map(|(_, v)| v.as_str().map_or_else(|| v.to_string(), str::to_string));
        if let Some(held) = held.filter(|h| h.parse::<u32>().map_or(true, |v| v == 0)) {
            webhook["signatureSecretVersion"] = 1.into();
            // Version 0 reads as a secret never recorded (a plan sends the
            // declared one); a version gcctl cannot read, as version 1.
            let then = if held == "0" {
                ", and a plan treats its secret as never recorded (an apply sends the declared secret)"
            } else {
                ""
            };
            cx.warn(format!(
                "its {SECRET_VERSION_HEADER} header holds `{}`, which is no secret version gcctl writes (edited by hand?): exported as signatureSecretVersion 1{then}",
                crate::api::untrusted::visible(&held)
            ));
        }
        let headers: Map<String, Value> = inline
            .get("headers")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                (k.clone(), Value::String(text))
            })
            .collect();
        // Headers whose names differ only in case are one HTTP header: the
        // first (in name order) is written; a plan of this org then shows
        // the others' removal (several variants are a change).
        let mut headers = headers;
        let names: Vec<String> = headers.keys().cloned().collect();
        for (i, name) in names.iter().enumerate() {
            let Some(first) = names[..i].iter().find(|n| n.eq_ignore_ascii_case(name)) else {
                continue;
            };
            headers.remove(name);
            cx.warn(format!(
                "its webhook headers `{first}` and `{name}` differ only in case, which HTTP reads as one header: only `{first}` is exported (applying the export to this org keeps `{first}` and removes `{name}`)"
            ));
        }
        if !headers.is_empty() {
            webhook["headers"] = Value::Object(headers);
        }
        cx.add_document(Kind::Webhook, &webhook_handle, &webhook);
        spec["webhook"] = Value::String(webhook_handle);
        // The messaging setting stays, even when it is the org default:
        // settings are exported too, and naming it orders the integration
        // after it (an integration created before its org default is made
        // would get another setting).
        Ok(())
    }
}

/// The `Webhook` manifest an integration names.
fn webhook_of<'a>(object: &Object, manifests: &SetIndex<'a>) -> Option<&'a WebhookSpec> {
    let spec = downcast::<OpenMessagingIntegrationSpec>(object.spec.as_ref())?;
    let webhook = manifests.resolve(Kind::Webhook, &spec.webhook)?;
    downcast::<WebhookSpec>(webhook.spec.as_ref())
}

/// Poll an integration until its asynchronous create leaves `Initiated`.
/// A 404 right after the create is eventual consistency, not absence.
async fn wait_until_created(op: &Op<'_>, id: &str) -> Result<Value, OpError> {
    let path = Org.api().item(id);
    let why = format!(
        "waiting for its asynchronous create to end (GET {path}: createStatus Initiated or 404 until then; --wait-timeout {}s)",
        op.deadline().as_secs()
    );
    let mut waiting = op.waiting(why, op.deadline(), Duration::from_millis(50));
    loop {
        let found = op.get_optional(&path, "reading").await?;
        let status = found
            .as_ref()
            .and_then(|o| o.get("createStatus"))
            .and_then(Value::as_str)
            .map(str::to_string);
        match (status.as_deref(), found) {
            // Older integrations have no createStatus: they exist.
            (Some("Completed") | None, Some(found)) => return Ok(found),
            (Some("Error"), found) => {
                let reason = create_error(found.as_ref().and_then(|o| o.get("createError")));
                return Err(op.fail(format!(
                    "Genesys could not create the integration (GET {path}: createStatus Error): {reason}"
                )));
            }
            _ => {}
        }
        if waiting.is_over() {
            return Err(op.fail(format!(
                "the integration's createStatus did not reach Completed within {}s (GET {path})",
                op.deadline().as_secs()
            )));
        }
        waiting.pause().await;
    }
}

/// An integration's `createError` (an `ErrorBody`) as one line: message,
/// code and the correlation id to quote in a support case.
fn create_error(error: Option<&Value>) -> String {
    // Server text: sanitized (secrets redacted, control characters removed).
    let field = |key: &str| {
        error.and_then(|e| e.get(key)).and_then(Value::as_str).map(crate::api::untrusted::sanitize)
    };
    let mut text = field("message").unwrap_or_else(|| "no reason given".to_string());
    if let Some(code) = field("code") {
        text.push_str(&format!(" ({code})"));
    }
    if let Some(id) = field("contextId") {
        text.push_str(&format!(" [correlation id: {id}]"));
    }
    text
}

/// Attach the integration's recipient to the declared inbound flow.
async fn route(op: &Op<'_>, recipient: Option<&str>) -> Result<(), OpError> {
    let Some(flow_name) = op.desired.pointer("/inboundFlow/name").and_then(Value::as_str) else {
        return Ok(());
    };
    let recipient = recipient.ok_or_else(|| op.fail("the integration has no recipient to route"))?;
    let flow = op
        .ids()
        .id(RefTarget::Flow(INBOUND_MESSAGE_FLOW), flow_name)
        .ok_or_else(|| op.fail(format!("inbound message flow `{flow_name}` does not exist")))?;
    let path = format!("/api/v2/routing/message/recipients/{recipient}");
    // A recipient can trail its integration: wait for it.
    op.put_when_found(&path, &json!({ "flow": { "id": flow } }), &format!("routing to flow `{flow_name}`"))
        .await?;
    Ok(())
}

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::downcast;
use super::org::{
    ApiPaths, BodyError, Hook, IdRef, IdResolver, Lookup, Lookups, OrgKind, UpdateMethod,
    name_or_id, ref_name, require_id, request_body, typed,
};
use super::webhook::{SECRET_VERSION_HEADER, WebhookSpec};
use crate::apply::ops::{Op, OpError};
use crate::export::ExportCx;
use crate::manifest::Object;
use crate::manifest::check::SetIndex;
use crate::manifest::secret::Secret;
