//! The flow job API as gcctl uses it (API reference §h):
//!
//! - publish: register an import job (`POST /api/v2/flows/jobs`, no body:
//!   the provider sends none), PUT the YAML to the returned `presignedUrl`
//!   with exactly the returned `headers` and never the bearer token, poll
//!   `GET /api/v2/flows/jobs/{jobId}?expand=messages` with backoff until
//!   `Success` (the flow id is `flow.id`) or `Failure` (every message is
//!   reported), within `--flow-job-timeout`;
//! - download: an export job (`POST /api/v2/flows/export/jobs` with the
//!   flow and its published version, `exportType: Yaml`; poll until
//!   `downloadUrl`; a plain GET of it), to show what is live when it is not
//!   what gcctl published; as many jobs at once as requests may be in
//!   flight (no documented limit; see [`download`] for the retries);
//! - delete: refuse while dependency tracking lists a consumer;
//! - locks: before publishing over an existing flow and before deleting
//!   one, gcctl reads it; a flow locked by someone else (`lockedUser`,
//!   `lockedClient`: checked out in Architect, an edit in progress) refuses
//!   imports and deletes. gcctl unlocks it (`POST /api/v2/flows/actions/unlock`,
//!   as the provider's `force_unlock`) only with `--unlock-flows`; otherwise
//!   it fails naming who holds the lock and how to release it. Data safety
//!   first: what an unlock does to the holder's draft is UNVERIFIED (the
//!   provider says its force unlock publishes the draft), so it is never
//!   done unasked.
//!
//! Not used: the validate job (`POST /api/v2/flows/validate/jobs`, preview).
//! Its request names flows that already exist (`flows[].flow` is an
//! `ArchitectFlowReference{id, name, type, version}`, API reference §h): it
//! validates a version the org holds, not a YAML file, so it cannot tell a
//! plan whether a declared definition would import without importing it
//! first (which publishes). For an unchanged flow it would only add a job
//! per flow to every plan. Definitions are checked offline
//! ([`archy::check`]) and by the import job at apply, whose messages point
//! at the YAML's lines.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::archy::{self, FlowType};
use super::{FlowSpec, Source, source_of};
use crate::api::Client;
use crate::apply::ops::{Op, OpError, Unmade};
use crate::kinds::RefTarget;
use crate::manifest::Object;

const JOBS: &str = "/api/v2/flows/jobs";
const EXPORT_JOBS: &str = "/api/v2/flows/export/jobs";
/// How long a plan waits for an export job: the provider polls export jobs
/// every 2 s for up to 90 s (API reference §h).
const EXPORT_DEADLINE: Duration = Duration::from_secs(90);
/// The longest pause between two polls of a job.
const MAX_POLL: Duration = Duration::from_secs(5);

/// What a publish learned: the flow's id (from the import job's answer),
/// and the job and the version published before it, for the report.
pub struct Published {
    pub id: String,
    pub job_id: String,
    /// The published version the flow had before (an update reads the
    /// flow for its lock first); `None` for a create.
    pub replaced: Option<String>,
}

impl Published {
    /// The report's note. The import job's answer names the flow only
    /// (`ArchitectJobStateResponse.flow` is an `AddressableEntityRef{id,
    /// selfUri}`, API reference §h), so the new version's id is not known
    /// without reading the flow back; how a real org numbers it (the next
    /// `N.0`, or more when someone checked a version in meanwhile) is
    /// UNVERIFIED, so it is not guessed. The next plan shows it.
    pub fn note(&self) -> String {
        match &self.replaced {
            Some(version) => {
                format!("published through import job {} (replacing version {version})", self.job_id)
            }
            None => format!("published through import job {}", self.job_id),
        }
    }
}

/// Publish the declared definition.
///
/// The flow is not read back after the job (`GET /flows/{id}`, which the
/// provider does to fill its state, retrying 404s): everything gcctl needs
/// is in the job's answer (the id) or was read before (the lock). Changes
/// that refer to the flow by id (an integration's routing, a queue's
/// in-queue flow, a deployment) come after the job succeeded; whether the
/// org's other services can trail a just-imported flow, so that such a
/// write answers 404 or 400 for a moment, is UNVERIFIED (the routing step
/// retries 404s; a refusal fails that change, and the next apply makes it).
///
/// `existing`: the flow to publish over, when the change's plan had none (a
/// create that found the flow an earlier run made): its lock is checked as
/// an update's is. A failure after the job was registered may have made the
/// flow (the upload or the job's answer lost), unless the job says it
/// failed.
pub async fn publish(op: &Op<'_>, existing: Option<&str>) -> Result<Published, Unmade> {
    let object = op.object.ok_or_else(|| op.fail("no manifest for the flow"))?;
    let (spec, source) =
        source_of(object).ok_or_else(|| op.fail("the definition was not loaded"))?;
    let marker = archy::marker(&archy::digest(&source.text), chrono::Utc::now().timestamp());
    // The division goes in the upload only when the YAML does not say it.
    let upload =
        archy::prepare_upload(&source.text, &source.inspection, &marker, spec.division.as_deref());
    let mut replaced = None;
    if let Some(id) = existing.or(op.change.id.as_deref()) {
        let flow = op.get(&format!("/api/v2/flows/{id}"), "reading the lock of").await?;
        ensure_unlocked(op, &flow, "publish over").await?;
        replaced = flow.pointer("/publishedVersion/id").and_then(Value::as_str).map(str::to_string);
    }
    let job = op.post(JOBS, None, "registering the flow import job for").await?;
    let maybe_made = |error: OpError| Unmade { error, nothing_made: false };
    // Server text, in messages and paths alike: a GUID passes unchanged,
    // an id with line breaks or escapes cannot forge output lines.
    let job_id = job.get("id").and_then(Value::as_str).map(crate::api::untrusted::sanitize).unwrap_or_default();
    let url = job
        .get("presignedUrl")
        .and_then(Value::as_str)
        .ok_or_else(|| maybe_made(op.fail(format!("the import job {job_id} has no presignedUrl"))))?;
    let headers: Vec<(String, String)> = job
        .get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect();
    op.upload(url, &headers, upload.text.clone(), &format!("uploading the definition (import job {job_id}) of"))
        .await
        .map_err(maybe_made)?;
    let state =
        poll(op, &format!("{JOBS}/{job_id}"), op.job_deadline(), &job_id).await.map_err(maybe_made)?;
    match state.get("status").and_then(Value::as_str) {
        Some("Success") => {}
        // A job that ended in failure made nothing (UNVERIFIED for a new
        // flow: if it did make one, the next import matches it by name, so
        // nothing is made twice either way).
        _ => {
            let error = op.fail(job_failure(spec, source, object, &job_id, &state, &upload));
            return Err(Unmade { error, nothing_made: true });
        }
    }
    let id = state
        .pointer("/flow/id")
        .and_then(Value::as_str)
        .ok_or_else(|| maybe_made(op.fail(format!("the import job {job_id} succeeded without a flow id"))))?
        .to_string();
    op.record(RefTarget::Flow(spec.flow_type.as_str()), &spec.name, &id);
    Ok(Published { id, job_id, replaced })
}

/// Poll a job until it ends (`Success` or `Failure`) or `deadline` passes.
async fn poll(op: &Op<'_>, path: &str, deadline: Duration, job_id: &str) -> Result<Value, OpError> {
    let why = format!(
        "waiting for the flow import job {job_id} to end (GET {path}; real jobs take minutes; --flow-job-timeout {}s)",
        deadline.as_secs()
    );
    let mut waiting = op.waiting(why, deadline, Duration::from_millis(200)).max_step(MAX_POLL);
    loop {
        let state = op.get_with(path, &[("expand", "messages".into())], "reading the import job of").await?;
        match state.get("status").and_then(Value::as_str) {
            Some("Success" | "Failure") => return Ok(state),
            Some("Registered" | "Started") | None => {}
            Some(other) => {
                let other = crate::api::untrusted::sanitize(other);
                return Err(op.fail(format!("the import job {job_id} has the unknown status {other}")));
            }
        }
        if waiting.is_over() {
            return Err(op.fail(format!(
                "the import job {job_id} did not end within {}s (GET {path}); raise --flow-job-timeout, or look at the job in the org",
                deadline.as_secs()
            )));
        }
        waiting.pause().await;
    }
}

/// A failed job in words: the flow, its manifest, the job id and every
/// message (redacted), each with the `file:line:column` it names.
fn job_failure(
    spec: &FlowSpec,
    source: &Source,
    object: &Object,
    job_id: &str,
    state: &Value,
    upload: &archy::Upload,
) -> String {
    let messages: Vec<String> = state
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|m| {
            let text = m.get("text").and_then(Value::as_str).unwrap_or_default();
            let text = crate::api::untrusted::sanitize(text);
            let kind = m.get("type").and_then(Value::as_str).unwrap_or("Error");
            match archy::message_location(&text) {
                Some((line, column)) => {
                    let loc = crate::manifest::yaml::Loc {
                        line: u32::try_from(upload.original_line(line)).unwrap_or(0),
                        column: column.and_then(|c| u32::try_from(c).ok()).unwrap_or(1),
                    };
                    format!("{kind}: {text} (at {})", source.location(loc))
                }
                None => format!("{kind}: {text}"),
            }
        })
        .collect();
    let status = state
        .get("status")
        .and_then(Value::as_str)
        .map_or_else(|| "no status".to_string(), crate::api::untrusted::sanitize);
    let said = if messages.is_empty() {
        "the job gave no message".to_string()
    } else {
        messages.join("; ")
    };
    format!(
        "the import job {job_id} of flow \"{}\" ({}, declared at {}) ended with {status}: {said}",
        spec.name,
        spec.flow_type.as_str(),
        object.location_of("/spec/name"),
    )
}

/// What a plan needs beyond the flow list: the published YAML, when the
/// marker does not say the declared definition is live (or for export,
/// always). Failures are kept as `definitionError`: a plan shows them and
/// goes on.
pub async fn read_details(
    client: &Client,
    declared: Option<&FlowSpec>,
    live: &Value,
) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(source) = declared.and_then(|d| d.source.as_ref()) {
        let description = live.get("description").and_then(Value::as_str).unwrap_or_default();
        let marker = archy::parse_marker(description);
        if let Some((digest, _)) = &marker {
            let published = super::published_by(live, marker.as_ref());
            if *digest == archy::digest(&source.text) && published == super::BY_GCCTL {
                return out;
            }
        }
    }
    let Some(id) = live.get("id").and_then(Value::as_str) else { return out };
    let Some(version) = live.pointer("/publishedVersion/id").and_then(Value::as_str) else {
        out.insert(DEFINITION_ERROR.into(), json!("the flow has no published version"));
        return out;
    };
    match download(client, id, version).await {
        Ok(text) => out.insert(DEFINITION.into(), json!(archy::strip_upload(&text))),
        Err(error) => out.insert(DEFINITION_ERROR.into(), json!(error)),
    };
    out
}

/// The published YAML of a live flow, as its details add it.
pub const DEFINITION: &str = "gcctl:definition";
/// Why the published YAML could not be downloaded (shown by plan and export).
pub const DEFINITION_ERROR: &str = "gcctl:definitionError";
/// In a live flow's spec: the definition was downloaded (not only recorded
/// by the marker). Never compared: nothing declares it.
pub const DOWNLOADED: &str = "gcctl:downloaded";
/// The YAML of a published flow version, through an export job.
///
/// Export jobs run as many at once as the client's in-flight budget lets
/// requests go out: nothing documents a limit on concurrent export jobs
/// (API reference §h says only that creating them hits 429; the provider
/// runs them at its general export concurrency, 10 by default, with no
/// limit of their own). Whether an org limits concurrent jobs is
/// UNVERIFIED, so both ways an org is known to push back are retried:
/// a 429 on the job create is waited out by the client (`Retry-After`),
/// and a job that fails with what the provider takes for the side effect
/// of a 429 ([`rate_limited`]) is created again after 15 s × attempt (the
/// provider's backoff), within [`EXPORT_DEADLINE`].
pub async fn download(client: &Client, id: &str, version: &str) -> Result<String, String> {
    let started = Instant::now();
    let mut attempt = 1;
    loop {
        match export_once(client, id, version, started).await {
            Err(Failed::RateLimited(error)) => {
                let backoff = RATE_LIMITED_BACKOFF * attempt;
                if started.elapsed() + backoff >= EXPORT_DEADLINE {
                    return Err(format!(
                        "{error} (after {attempt} attempt{}: an org's answer to too many export jobs at once, or a flow version that is gone)",
                        if attempt == 1 { "" } else { "s" }
                    ));
                }
                tokio::time::sleep(backoff).await;
                attempt += 1;
            }
            Err(Failed::Other(error)) => return Err(error),
            Ok(text) => return Ok(text),
        }
    }
}

/// How long to wait before creating an export job again after a failure
/// that looks rate-limited, times the attempt: the provider's 15 s × attempt
/// (TF `generateDownloadUrlFn`).
const RATE_LIMITED_BACKOFF: Duration = Duration::from_secs(15);

/// Why an export job gave no YAML.
enum Failed {
    /// The job failed the way a rate-limited one does ([`rate_limited`]).
    RateLimited(String),
    Other(String),
}

/// Whether an export job's failure messages are the side effect of a 429:
/// the provider retries a failure whose text says "could not find the flow
/// with id" together with "exit code: 107" or "Archy failed" ("The Archy
/// backend surfaces 429-induced failures as …", TF
/// `isRetryableJobFailure`). The same words can mean the flow version is
/// really gone; retries are bounded by the export's deadline either way.
fn rate_limited(messages: &[String]) -> bool {
    messages.iter().any(|m| {
        m.contains("could not find the flow with id")
            && (m.contains("exit code: 107") || m.contains("Archy failed"))
    })
}

/// One export job: create it, poll it until it ends (within what is left
/// of [`EXPORT_DEADLINE`] since `started`), download its YAML.
async fn export_once(
    client: &Client,
    id: &str,
    version: &str,
    started: Instant,
) -> Result<String, Failed> {
    let other = |e: crate::api::ApiError| Failed::Other(e.to_string());
    let body = json!({"flows": [{"flow": {"id": id, "version": version}, "exportType": "Yaml"}]});
    let job = client.post(EXPORT_JOBS, Some(&body)).await.map_err(other)?;
    let job_id = job.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
    let path = format!("{EXPORT_JOBS}/{job_id}");
    let mut wait = Duration::from_millis(200);
    loop {
        let state = client.get(&path, &[("expand", "messages".into())]).await.map_err(other)?;
        match state.get("status").and_then(Value::as_str) {
            Some("Success") => {
                let url = state.get("downloadUrl").and_then(Value::as_str).ok_or_else(|| {
                    Failed::Other(format!("export job {job_id} succeeded without a downloadUrl"))
                })?;
                return client.download(url).await.map_err(other);
            }
            Some("Failure") => {
                let messages: Vec<String> = state
                    .get("messages")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m.get("text").and_then(Value::as_str))
                    .map(crate::api::untrusted::sanitize)
                    .collect();
                let error = format!("export job {job_id} failed: {}", messages.join("; "));
                return Err(if rate_limited(&messages) {
                    Failed::RateLimited(error)
                } else {
                    Failed::Other(error)
                });
            }
            _ => {}
        }
        if started.elapsed() >= EXPORT_DEADLINE {
            return Err(Failed::Other(format!(
                "export job {job_id} did not end within {}s",
                EXPORT_DEADLINE.as_secs()
            )));
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(MAX_POLL);
    }
}

/// Before a flow is deleted: refuse while another object uses it
/// (dependency tracking's `consumingresources`; a queue that is pruned in
/// the same run is deleted before it, as kinds delete in reverse order; a
/// flow that calls it and is pruned in the same run may not be, since flows
/// are deleted in one wave: the refusal names it, and a second run deletes
/// this one), and while someone else holds its lock (see
/// [`ensure_unlocked`]).
pub async fn before_delete(op: &Op<'_>, id: &str) -> Result<(), OpError> {
    let flow = op.get(&format!("/api/v2/flows/{id}"), "reading").await?;
    let flow_type = flow
        .get("type")
        .and_then(Value::as_str)
        .and_then(FlowType::parse)
        .map_or_else(|| "INBOUNDSHORTMESSAGEFLOW".to_string(), FlowType::dependency_type);
    let query = [("id", id.to_string()), ("objectType", flow_type)];
    let consumers = op
        .get_with(
            "/api/v2/architect/dependencytracking/consumingresources",
            &query,
            "reading what uses",
        )
        .await?;
    let users: Vec<String> = consumers
        .get("entities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|d| {
            let kind = d.get("type").and_then(Value::as_str).unwrap_or("object");
            let name = d.get("name").and_then(Value::as_str).unwrap_or("?");
            format!("{kind} {}", crate::api::untrusted::quoted(name))
        })
        .collect();
    if !users.is_empty() {
        return Err(op.fail(format!(
            "refusing to delete the flow: {} still use{} it (dependency tracking); change {} first, or protect the flow",
            users.join(", "),
            if users.len() == 1 { "s" } else { "" },
            if users.len() == 1 { "it" } else { "them" }
        )));
    }
    ensure_unlocked(op, &flow, "delete").await
}

/// Who holds a flow's lock, in words, unless it is nobody or the caller
/// itself (a lock's holder may publish and delete).
pub(super) fn lock_holder(flow: &Value, caller: Option<&crate::plan::caller::Caller>) -> Option<String> {
    let (kind, holder) = [("user", "lockedUser"), ("OAuth client", "lockedClient")]
        .into_iter()
        .find_map(|(kind, key)| Some((kind, flow.get(key).filter(|h| h.get("id").is_some())?)))?;
    let id = holder.get("id").and_then(Value::as_str).unwrap_or_default();
    if caller.is_some_and(|c| c.id == id) {
        return None;
    }
    // Names and ids come from the org: printed only once made safe.
    let id = crate::api::untrusted::sanitize(id);
    Some(match holder.get("name").and_then(Value::as_str) {
        Some(name) => format!("{kind} {} (id {id})", crate::api::untrusted::sanitize(name)),
        None => format!("{kind} id {id}"),
    })
}

/// A flow locked by someone else is someone's edit in progress: unlock it
/// only when the run allows it (`--unlock-flows`), else refuse, naming the
/// holder and the ways to release the lock.
async fn ensure_unlocked(op: &Op<'_>, flow: &Value, doing: &str) -> Result<(), OpError> {
    let Some(holder) = lock_holder(flow, op.caller()) else { return Ok(()) };
    let id = flow.get("id").and_then(Value::as_str).unwrap_or_default();
    if op.unlock_flows() {
        let query = [("flow", id.to_string())];
        op.post_action("/api/v2/flows/actions/unlock", &query, "unlocking (--unlock-flows)").await?;
        return Ok(());
    }
    Err(op.fail(format!(
        "refusing to {doing} the flow: it is locked by {holder} (checked out in Architect, an edit in progress); ask them to publish or check it in, or unlock it (Architect's Unlock, or POST /api/v2/flows/actions/unlock?flow={id}; both need architect:flow:unlock), or re-run with --unlock-flows to let gcctl unlock it (their unsaved changes may be lost)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_providers_rate_limit_side_effect_is_retried() {
        let text = |t: &str| vec![t.to_string()];
        assert!(rate_limited(&text("Archy failed: could not find the flow with id f1 (or its version)")));
        assert!(rate_limited(&text("could not find the flow with id f1; exit code: 107")));
        assert!(!rate_limited(&text("could not find the flow with id f1")));
        assert!(!rate_limited(&text("Archy failed: the YAML does not parse")));
        assert!(!rate_limited(&[]));
    }
}
