//! `Flow`: an Architect flow declared as Archy YAML and published through
//! the flow import job API (`POST /api/v2/flows/jobs`, API reference §h).
//!
//! The spec names the flow (`name` and `type`: flow names repeat across
//! types, so both are its natural key), its division, and its definition:
//! an Archy YAML `file` (relative to the manifest) or an inline
//! `definition`. `${var.NAME}` is substituted in either, so one file serves
//! every environment. The loader reads and checks the definition offline
//! ([`Spec::resolve_files`]): one top-level key naming the declared type,
//! `name` equal to `spec.name`, the division (when both say one) equal,
//! each problem at its `FILE:LINE:COLUMN` (in the flow file, or in the
//! manifest for an inline definition).
//!
//! Change detection (the org is the state): gcctl publishes the definition
//! with a marker at the end of the flow's description recording the
//! definition's digest and the upload time ([`archy`]). A plan reads the
//! flow list only: when the marker's digest is the declared one and the
//! published version dates from gcctl's upload, the flow is in sync and
//! nothing is downloaded or republished. Otherwise the plan downloads the
//! published YAML (an export job) and shows a line diff of the definition,
//! and `publishedBy` says who published what is live and when (`gcctl`, or
//! the user and date the API gives). When that is the only difference, the
//! definition is the declared one: nothing is republished, and a note says
//! who published it ([`OrgKind::provenance_pointer`]).
//!
//! Names inside the YAML that refer to queues, wrap-up codes and other
//! flows (`callCommonModule`, `transferToFlow`: [`archy::FlowRef`]) become
//! *soft* references ([`Spec::soft_references`]): one declared in the set is
//! applied first; any other is left to the org, whose import job says
//! whether it exists.

pub mod archy;
mod jobs;

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use archy::FlowType;
use archy::Inspection;

use super::common::check_org_name;
use super::org::{
    ApiPaths, BodyError, Call, Hook, IdResolver, Lookups, OrgKind, UpdateMethod, ref_name,
};
use super::{Kind, KindDef, RefTarget, Reference, Spec, downcast, parse_spec, schema_of};
use crate::apply::ops::Op;
use crate::export::ExportCx;
use crate::manifest::diag::{Diagnostic, Findings, locate};
use crate::manifest::yaml::Loc;
use crate::manifest::{FileContext, Object};

/// An Architect flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlowSpec {
    /// The flow's name in the org: with `type`, its natural key. It must be
    /// the `name` inside the definition, which is what the import job
    /// matches (renaming it creates another flow).
    pub name: String,
    /// The flow type. The definition's top-level key must name it
    /// (`INBOUNDSHORTMESSAGE` is `inboundShortMessage:`).
    #[serde(rename = "type")]
    pub flow_type: FlowType,
    /// The division, by name. When the definition has no `division`, gcctl
    /// adds this one to what it uploads; when it has one, both must agree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<String>,
    /// The definition: an Archy YAML file, relative to this manifest.
    /// Exactly one of `file` and `definition`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The definition: Archy YAML, inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
    /// The definition as loaded (set by [`Spec::resolve_files`]).
    #[serde(skip)]
    #[schemars(skip)]
    pub source: Option<Source>,
}

/// A definition as loaded: the text after substitution, what gcctl read in
/// it, and where its lines are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub text: String,
    pub inspection: Inspection,
    /// The file the text is in: the flow file, or the manifest.
    pub path: PathBuf,
    /// For an inline block scalar: where its first line is in the manifest.
    pub inline: Option<Inline>,
}

/// Where an inline definition's lines are in its manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inline {
    /// The manifest line before the definition's first line.
    pub line: u32,
    /// The columns before the definition's text on each line.
    pub indent: u32,
    /// Not a block scalar: everything is reported at the field.
    pub at: Loc,
    pub block: bool,
}

impl Source {
    /// The `file:line:column` of a location in the definition.
    pub fn location(&self, loc: Loc) -> String {
        let loc = match self.inline {
            Some(inline) if inline.block => {
                Loc { line: inline.line + loc.line, column: inline.indent + loc.column }
            }
            Some(inline) => inline.at,
            None => loc,
        };
        format!("{}:{loc}", self.path.display())
    }

    fn diagnostic(&self, loc: Loc, message: String, hint: Option<String>) -> Diagnostic {
        let mut message = message;
        let (file, loc) = match self.inline {
            Some(inline) if inline.block => {
                message = lines_in_manifest(&message, inline.line);
                (
                    self.path.clone(),
                    Loc { line: inline.line + loc.line, column: inline.indent + loc.column },
                )
            }
            Some(inline) => {
                // Lines of a quoted or folded definition are not the
                // manifest's: a line it names is not said.
                message = lines_not_in_manifest(&message);
                (self.path.clone(), inline.at)
            }
            None => (self.path.clone(), loc),
        };
        let diagnostic = Diagnostic::new(&file, loc, message);
        match hint {
            Some(hint) => diagnostic.with_hint(hint),
            None => diagnostic,
        }
    }
}

/// A message about an inline definition with the line it names (`first
/// defined at line N`, counted in the definition) counted in the manifest:
/// `offset` lines before the definition's first.
fn lines_in_manifest(message: &str, offset: u32) -> String {
    const AT_LINE: &str = "(first defined at line ";
    let Some(start) = message.find(AT_LINE).map(|i| i + AT_LINE.len()) else {
        return message.to_string();
    };
    let digits = message[start..].bytes().take_while(u8::is_ascii_digit).count();
    match message[start..start + digits].parse::<u32>() {
        Ok(line) => format!("{}{}{}", &message[..start], line + offset, &message[start + digits..]),
        Err(_) => message.to_string(),
    }
}

/// A message about a quoted or folded inline definition, whose lines are
/// not the manifest's, without the line it names.
fn lines_not_in_manifest(message: &str) -> String {
    const AT_LINE: &str = " (first defined at line ";
    let Some(start) = message.find(AT_LINE) else { return message.to_string() };
    let end = message[start..].find(')').map_or(message.len(), |i| start + i + 1);
    format!("{} (defined before in the definition){}", &message[..start], &message[end..])
}

impl FlowSpec {
    /// The pointer of the field holding the definition.
    fn definition_pointer(&self) -> &'static str {
        if self.file.is_some() { "/spec/file" } else { "/spec/definition" }
    }

    /// The division the flow is published in: the manifest's, else the YAML's.
    pub fn effective_division(&self) -> Option<String> {
        self.division.clone().or_else(|| {
            self.source.as_ref().and_then(|s| s.inspection.division.as_ref()).map(|d| d.text.clone())
        })
    }
}

impl Spec for FlowSpec {
    /// A flow in a cycle transfers to a queue that names it as its
    /// in-queue flow, or names (calls, transfers to) a flow that names it
    /// back (an integration's routing to a flow is a later step, never a
    /// cycle).
    fn cycle_hint(&self) -> Option<&'static str> {
        Some(
            "a flow's import job needs every queue and flow it names to exist: a queue whose in-queue flow transfers back to that queue, or flows that call or transfer to each other, cannot be created in any order; transfer to another queue in the flow, or leave the queue's in-queue flow (`messageInQueueFlow`, `queueFlow`, `emailInQueueFlow`) out, or leave one flow's reference to the other out, apply, then add it back and apply again",
        )
    }

    fn kind(&self) -> Kind {
        Kind::Flow
    }

    fn org_name(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn answers_to(&self, target: RefTarget) -> bool {
        target == RefTarget::Kind(Kind::Flow) || target == RefTarget::Flow(self.flow_type.as_str())
    }

    fn key_beyond_name(&self) -> &'static str {
        self.flow_type.as_str()
    }

    fn references(&self) -> Vec<Reference> {
        self.division
            .iter()
            .map(|name| Reference {
                pointer: "/spec/division".into(),
                target: RefTarget::Division,
                name: name.clone(),
            })
            .collect()
    }

    fn soft_references(&self) -> Vec<Reference> {
        let Some(source) = &self.source else { return Vec::new() };
        let base = self.definition_pointer();
        let inspection = &source.inspection;
        let queues = inspection.queues.iter().enumerate().map(|(i, queue)| Reference {
            // Not a field of the spec: the reference is inside the YAML.
            pointer: format!("{base}/queues/{i}"),
            target: RefTarget::Kind(Kind::RoutingQueue),
            name: queue.text.clone(),
        });
        let codes = inspection.wrapup_codes.iter().enumerate().map(|(i, code)| Reference {
            pointer: format!("{base}/wrapupCodes/{i}"),
            target: RefTarget::Kind(Kind::RoutingWrapupCode),
            name: code.text.clone(),
        });
        // A flow that names itself (a transfer back to its own start) is
        // not a dependency.
        let own = |f: &&archy::FlowRef| {
            f.name.text == self.name && f.flow_type.is_none_or(|t| t == self.flow_type)
        };
        let flows =
            inspection.flows.iter().enumerate().filter(|(_, f)| !own(f)).map(|(i, flow)| Reference {
                pointer: format!("{base}/flows/{i}"),
                target: flow
                    .flow_type
                    .map_or(RefTarget::Kind(Kind::Flow), |t| RefTarget::Flow(t.as_str())),
                name: flow.name.text.clone(),
            });
        queues.chain(codes).chain(flows).collect()
    }

    fn check(&self, findings: &mut Findings) {
        check_org_name(findings, "/spec/name", &self.name);
        match (&self.file, &self.definition) {
            (Some(_), Some(_)) => findings.error_with_hint(
                "/spec/definition",
                "both `file` and `definition` are given",
                "keep one: the definition is a file or inline, not both",
            ),
            (None, None) => findings.error_with_hint(
                "/spec",
                "the flow has no definition",
                "add `file: <path to Archy YAML>` or an inline `definition: |`",
            ),
            (Some(file), None) if file.trim().is_empty() => {
                findings.error("/spec/file", "the file path is empty");
            }
            _ => {}
        }
    }

    fn resolve_files(&mut self, cx: &FileContext<'_>) -> Vec<Diagnostic> {
        // Warnings about the file's variables, said beside what follows.
        let mut warnings = Vec::new();
        let (text, path, inline) = match (&self.file, &self.definition) {
            (Some(file), None) => {
                let path = cx.manifest.parent().unwrap_or_else(|| Path::new(".")).join(file);
                let raw = match cx.read(&path) {
                    Ok(raw) => raw,
                    Err(diagnostic) => {
                        let mut diagnostic = *diagnostic;
                        diagnostic.message = format!(
                            "{} (the flow file of {} at {}:{})",
                            diagnostic.message,
                            self.name,
                            cx.manifest.display(),
                            locate(cx.doc, "/spec/file")
                        );
                        return vec![diagnostic];
                    }
                };
                let (text, unknown) = crate::manifest::vars::substitute_text(&raw, cx.vars);
                let (warned, failed): (Vec<_>, Vec<_>) = unknown
                    .into_iter()
                    .map(|var| {
                        let hint = var.special_hint().unwrap_or(
                            "define it under spec.variables or spec.environments.<env>.variables of the Project",
                        );
                        let diagnostic = Diagnostic::new(&path, var.loc, var.message()).with_hint(hint);
                        if var.problem.is_warning() {
                            diagnostic.as_warning()
                        } else {
                            diagnostic
                        }
                    })
                    .partition(|d| d.severity == crate::manifest::diag::Severity::Warning);
                if !failed.is_empty() {
                    return failed.into_iter().chain(warned).collect();
                }
                warnings = warned;
                (text, path, None)
            }
            (None, Some(text)) => {
                let at = locate(cx.doc, "/spec/definition");
                let manifest = cx.read(cx.manifest).unwrap_or_default();
                (text.clone(), cx.manifest.to_path_buf(), Some(inline_origin(&manifest, at)))
            }
            _ => return Vec::new(),
        };
        let mut source = Source { text, inspection: Inspection::default(), path, inline };
        match archy::inspect(&source.text) {
            Ok(inspection) => source.inspection = inspection,
            Err(unreadable) => {
                warnings.push(source.diagnostic(unreadable.loc, unreadable.message, None));
                return warnings;
            }
        }
        let problems = archy::check(
            &source.inspection,
            &self.name,
            self.flow_type,
            self.division.as_deref(),
        );
        warnings.extend(problems.into_iter().map(|p| source.diagnostic(p.loc, p.message, p.hint)));
        self.source = Some(source);
        warnings
    }

    fn named_files(&self) -> Vec<PathBuf> {
        match (&self.file, &self.source) {
            (Some(_), Some(source)) => vec![source.path.clone()],
            _ => Vec::new(),
        }
    }

    fn to_json(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        // The digest of the set covers the definition a file holds.
        if let (Some(source), Some(map)) = (&self.source, value.as_object_mut()) {
            map.insert("definition".into(), Value::String(source.text.clone()));
        }
        value
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Where an inline definition's text starts in the manifest: for a literal
/// block scalar (`|`, `|-`, `|+`, `|2`), the line of its indicator, and its
/// first content line's indentation. The parser places the scalar at its
/// indicator or at its first content line; either is found. Other scalars
/// (quoted, folded `>`, whose lines the parser joins) are reported at the
/// field.
fn inline_origin(text: &str, at: Loc) -> Inline {
    let lines: Vec<&str> = text.lines().collect();
    let line_at = |n: usize| n.checked_sub(1).and_then(|i| lines.get(i)).copied();
    let row = at.line as usize;
    let column = (at.column as usize).saturating_sub(1);
    let here = line_at(row).unwrap_or_default();
    let field = Inline { line: at.line, indent: 0, at, block: false };
    let indent_after = |indicator_row: usize| {
        lines
            .iter()
            .skip(indicator_row)
            .find(|l| !l.trim().is_empty())
            .map_or(0, |l| l.len() - l.trim_start().len())
    };
    let (indicator_row, indent) = if here.get(column..).is_some_and(literal_indicator) {
        (row, indent_after(row))
    } else if here.get(..column).is_some_and(|before| before.trim().is_empty()) {
        // At the first content line: the indicator ends the line above
        // (blank lines between are the text's own).
        let above = (1..row).rev().find(|n| line_at(*n).is_some_and(|l| !l.trim().is_empty()));
        match above.filter(|n| line_at(*n).is_some_and(ends_with_literal_indicator)) {
            Some(n) => (n, column),
            None => return field,
        }
    } else {
        return field;
    };
    Inline {
        line: u32::try_from(indicator_row).unwrap_or(at.line),
        indent: u32::try_from(indent).unwrap_or(0),
        at,
        block: true,
    }
}

/// Whether `text` (from a value's place to the end of its line) is a
/// literal block indicator: `|`, with a chomping and an indentation
/// indicator at most, then nothing but a comment.
fn literal_indicator(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('|') else { return false };
    let code = rest.split(" #").next().unwrap_or_default().trim_end();
    code.len() <= 2 && code.bytes().all(|b| matches!(b, b'+' | b'-' | b'1'..=b'9'))
}

/// Whether a line ends with a literal block indicator (`definition: |-`,
/// a comment after it allowed).
fn ends_with_literal_indicator(line: &str) -> bool {
    let code = line.split(" #").next().unwrap_or_default();
    code.rfind('|').is_some_and(|at| {
        literal_indicator(&code[at..]) && code[..at].ends_with([' ', ':'])
    })
}

pub const DEF: KindDef = KindDef {
    summary: "An Architect flow, declared as Archy YAML and published through the flow import job API.",
    // After queues, which flows transfer to; integrations route to flows in
    // a later step of their own change (see `OrgKind::late_pointers`).
    order: 45,
    export_file: Some("flows.yaml"),
    parse: parse_spec::<FlowSpec>,
    schema: schema_of::<FlowSpec>,
    org: Some(&Org),
};

/// The org side of `Flow`.
pub struct Org;

/// In what `create` answers: the note to report (see [`jobs::Published::note`]).
const NOTE: &str = "gcctl:note";

/// `publishedBy` when the live definition is the one gcctl published.
pub const BY_GCCTL: &str = "gcctl";

/// The flow types a live flow may have, as `&'static str`.
fn static_type(text: &str) -> Option<&'static str> {
    super::common::FLOW_TYPES.iter().copied().find(|t| t.eq_ignore_ascii_case(text))
}

impl OrgKind for Org {
    fn export_refers_to(&self) -> &'static [RefTarget] {
        &[RefTarget::Division]
    }


    fn division_scope(&self) -> Option<super::org::DivisionScope> {
        Some(super::org::DivisionScope {
            entity: "architect:flow",
            default: super::org::DefaultDivision::Home,
        })
    }

    fn api(&self) -> ApiPaths {
        // 500: the provider's page size for flows (API reference summary 16).
        ApiPaths::new("/api/v2/flows", UpdateMethod::Put).paged(500).name_filter()
    }

    fn live_to_spec(&self, live: &Value, lookups: &Lookups) -> Value {
        let mut spec = json!({ "name": live.get("name"), "type": live.get("type") });
        if let Some(name) = ref_name(live, "division", lookups, RefTarget::Division) {
            spec["division"] = name;
        }
        let description = live.get("description").and_then(Value::as_str).unwrap_or_default();
        let marker = archy::parse_marker(description);
        if let Some((digest, _)) = &marker {
            spec["definitionDigest"] = json!(digest);
        }
        spec["definition"] = match live.get(jobs::DEFINITION) {
            Some(text) => {
                spec[jobs::DOWNLOADED] = json!(true);
                text.clone()
            }
            None => json!(not_downloaded(
                marker.as_ref(),
                live.get(jobs::DEFINITION_ERROR).and_then(Value::as_str)
            )),
        };
        spec["publishedBy"] = json!(published_by(live, marker.as_ref()));
        spec
    }

    fn provenance_pointer(&self) -> Option<&'static str> {
        Some("/publishedBy")
    }

    fn align_live(&self, desired: &Value, live: &mut Value, _lookups: &Lookups) {
        // The marker says the declared definition is what gcctl published:
        // no need to have downloaded it.
        let declared = desired.get("definition").and_then(Value::as_str);
        let recorded = live.get("definitionDigest").and_then(Value::as_str);
        let downloaded = live.get(jobs::DOWNLOADED).is_some();
        if let (Some(declared), Some(recorded), false) = (declared, recorded, downloaded) {
            if archy::digest(declared) == recorded {
                live["definition"] = json!(declared);
            }
        }
    }

    fn desired(
        &self,
        mut spec: Value,
        object: &Object,
        _manifests: &crate::manifest::check::SetIndex<'_>,
        _lookups: &Lookups,
    ) -> Value {
        let Some(flow) = downcast::<FlowSpec>(object.spec.as_ref()) else { return spec };
        if let Some(map) = spec.as_object_mut() {
            map.remove("file");
            if let Some(division) = flow.effective_division() {
                map.insert("division".into(), json!(division));
            }
            map.insert("publishedBy".into(), json!(BY_GCCTL));
        }
        spec
    }

    fn body(
        &self,
        desired: &Value,
        _live: Option<&Value>,
        _ids: &dyn IdResolver,
    ) -> Result<Value, BodyError> {
        // Flows are written by the import job, never by POST or PUT.
        Ok(json!({ "name": desired.get("name"), "type": desired.get("type") }))
    }

    fn matches(&self, spec: &dyn Spec, live: &Value) -> bool {
        let live_type = live.get("type").and_then(Value::as_str).unwrap_or_default();
        downcast::<FlowSpec>(spec).is_some_and(|s| s.flow_type.as_str().eq_ignore_ascii_case(live_type))
    }

    fn key_beyond_name<'v>(&self, live: &'v Value) -> &'v str {
        live.get("type").and_then(Value::as_str).unwrap_or_default()
    }

    fn record_live(&self, live: &Value, lookups: &mut Lookups) {
        if let Some(flow_type) = live.get("type").and_then(Value::as_str).and_then(static_type) {
            lookups.insert_flow(flow_type, live);
        }
    }

    fn is_builtin(&self, live: &Value) -> bool {
        live.get("system").and_then(Value::as_bool) == Some(true)
    }

    /// Flows of the types `Flow` manifests do not take (bot flows, chat,
    /// voice, survey, …: what an org made in Architect for other channels).
    fn undeclarable(&self, live: &Value) -> Option<String> {
        let flow_type = live.get("type").and_then(Value::as_str).unwrap_or_default();
        if archy::FlowType::parse(flow_type).is_some() {
            return None;
        }
        let shown = crate::api::untrusted::visible(flow_type);
        Some(format!("of type {shown}, which Flow manifests do not take"))
    }

    fn calls(&self, change: &crate::plan::Change, _desired: &Value) -> Vec<Call> {
        use crate::plan::Action;
        match change.action {
            Action::Create => {
                vec![("POST", "/api/v2/flows/jobs"), ("GET", "/api/v2/flows/jobs/{jobId}")]
            }
            // The flow is read first, for its lock.
            Action::Update => vec![
                ("GET", "/api/v2/flows/{flowId}"),
                ("POST", "/api/v2/flows/jobs"),
                ("GET", "/api/v2/flows/jobs/{jobId}"),
            ],
            Action::Delete => vec![
                ("GET", "/api/v2/flows/{flowId}"),
                ("GET", "/api/v2/architect/dependencytracking/consumingresources"),
                ("DELETE", "/api/v2/flows/{flowId}"),
            ],
            Action::NoOp | Action::Grant => Vec::new(),
        }
    }

    /// The published YAML, unless the marker says the declared definition
    /// is live (then nothing is read).
    fn details_needed(&self, _declared: Option<&dyn Spec>) -> bool {
        true
    }

    fn export_reads_details(&self) -> bool {
        true
    }

    fn read_details<'a>(
        &'a self,
        client: &'a crate::api::Client,
        live: &'a Value,
        declared: Option<&'a dyn Spec>,
        _lookups: &'a Lookups,
    ) -> super::org::Details<'a> {
        let declared = declared.and_then(downcast::<FlowSpec>);
        Box::pin(async move { Ok(jobs::read_details(client, declared, live).await) })
    }

    /// Journaled like a POST: a flow an earlier run published that the
    /// flow list did not show yet is found by name and type, and adopted
    /// without publishing again when its marker says the declared
    /// definition is what gcctl published; otherwise it is published (an
    /// import matches the flow by name, so it never makes a second one).
    fn create<'a>(&'a self, op: &'a Op<'a>) -> Option<Hook<'a, (Value, bool)>> {
        Some(Box::pin(async move {
            let declared = op.object.and_then(source_of).map(|(_, source)| source.text.as_str());
            let adopt = |found: &Value| declared.is_some_and(|text| publishes(found, text));
            let make = |found: Option<Value>| async move {
                let over = found.as_ref().and_then(|f| f.get("id")).and_then(Value::as_str);
                let published = jobs::publish(op, over).await?;
                // What `after_create` reports: the job's answer, not a read
                // of the flow (see `jobs::publish`).
                Ok(json!({ "id": published.id, NOTE: published.note() }))
            };
            let (flow, adopted) = op.create_made_by(adopt, make).await?;
            if adopted {
                if let (Some((spec, _)), Some(id)) =
                    (op.object.and_then(source_of), flow.get("id").and_then(Value::as_str))
                {
                    op.record(RefTarget::Flow(spec.flow_type.as_str()), &spec.name, id);
                }
            }
            Ok((flow, adopted))
        }))
    }

    fn write_adopted<'a>(&'a self, _op: &'a Op<'a>, _id: &'a str) -> Hook<'a, bool> {
        // Adopted only when its published definition is the declared one
        // (`create`): nothing to write.
        Box::pin(async { Ok(false) })
    }

    fn update<'a>(&'a self, op: &'a Op<'a>, _id: &'a str) -> Hook<'a, Vec<String>> {
        Box::pin(async move { Ok(vec![jobs::publish(op, None).await.map_err(|u| u.error)?.note()]) })
    }

    fn after_create<'a>(
        &'a self,
        _op: &'a Op<'a>,
        created: &'a Value,
        _adopted: bool,
    ) -> Hook<'a, Vec<String>> {
        Box::pin(async move {
            Ok(created.get(NOTE).and_then(Value::as_str).map(|n| vec![n.to_string()]).unwrap_or_default())
        })
    }

    fn before_delete<'a>(
        &'a self,
        op: &'a Op<'a>,
        id: &'a str,
    ) -> Hook<'a, Option<super::org::Undo>> {
        // Checks only: nothing to undo.
        Box::pin(async move { jobs::before_delete(op, id).await.map(|()| None) })
    }

    /// One note naming the declared flows someone holds locked (the flow
    /// list shows `lockedUser` / `lockedClient`: no extra request), so the
    /// plan warns before an apply refuses to publish over them.
    fn plan_notes(&self, declared: &[(&Object, &Value)]) -> Vec<crate::plan::PlanNote> {
        let locked: Vec<(String, String)> = declared
            .iter()
            .filter_map(|(object, live)| {
                let holder = jobs::lock_holder(live, None)?;
                let name = live.get("name").and_then(Value::as_str).unwrap_or(&object.name);
                Some((object.id(), format!("{} by {holder}", crate::api::untrusted::quoted(name))))
            })
            .collect();
        if locked.is_empty() {
            return Vec::new();
        }
        let (count, noun) = match locked.len() {
            1 => (1, "flow is"),
            n => (n, "flows are"),
        };
        let named: Vec<&str> = locked.iter().map(|(_, text)| text.as_str()).collect();
        vec![crate::plan::PlanNote {
            message: format!(
                "{count} declared {noun} locked in Architect: {}; an apply that must publish over or delete a flow someone else holds refuses unless --unlock-flows",
                named.join(", ")
            ),
            objects: locked.into_iter().map(|(id, _)| id).collect(),
        }]
    }

    fn delete_retry_conflicts(&self) -> bool {
        // "The provider retries 409 for up to 30 s" (API reference §h).
        true
    }

    /// A flow that was never published has no YAML to export: it is left
    /// out before any manifest is made, and a queue naming it as its
    /// in-queue flow names it by org name.
    fn export_refusal(&self, live: &Value) -> Option<String> {
        let published = live.pointer("/publishedVersion/id").is_some_and(Value::is_string);
        (!published).then(|| "it has no published version, so no YAML to export".to_string())
    }

    /// A published flow whose YAML did not download (an export job that
    /// failed, a download refused) fails the export.
    fn export_failure(&self, live: &Value) -> Option<String> {
        if live.get(jobs::DEFINITION).is_some_and(Value::is_string) {
            return None;
        }
        let why = live
            .get(jobs::DEFINITION_ERROR)
            .and_then(Value::as_str)
            .unwrap_or("its definition was not downloaded");
        Some(format!("its published YAML could not be downloaded: {why}"))
    }

    fn export(&self, spec: &mut Value, cx: &mut ExportCx<'_>) -> Result<(), String> {
        let Some(map) = spec.as_object_mut() else { return Err("not an object".into()) };
        map.remove("definitionDigest");
        map.remove("publishedBy");
        map.remove(jobs::DOWNLOADED);
        // Checked before (`export_refusal`).
        let Some(text) = cx.live.get(jobs::DEFINITION).and_then(Value::as_str) else {
            return Err("its published YAML was not downloaded".into());
        };
        map.remove("definition");
        let file = format!("flows/{}.yaml", file_stem(cx.handle));
        map.insert("file".into(), json!(file));
        cx.add_file(&file, text);
        Ok(())
    }
}

/// The name of an exported flow's file: its handle, or, for a handle that
/// Windows reserves as a device name in any file name (`con`, `nul`,
/// `com1`: such a file cannot be checked out there), the handle after `_`,
/// which no other handle can be (handles hold letters, digits and `-`).
fn file_stem(handle: &str) -> std::borrow::Cow<'_, str> {
    let reserved = matches!(handle, "con" | "prn" | "aux" | "nul")
        || (handle.len() == 4
            && (handle.starts_with("com") || handle.starts_with("lpt"))
            && handle.as_bytes()[3].is_ascii_digit());
    if reserved { format!("_{handle}").into() } else { handle.into() }
}

/// Whether `live`'s published version is `declared`, as gcctl published it:
/// its marker records the declared definition's digest, and the published
/// version dates from that upload (the plan's test for a flow in sync, which
/// then downloads nothing).
fn publishes(live: &Value, declared: &str) -> bool {
    let description = live.get("description").and_then(Value::as_str).unwrap_or_default();
    let marker = archy::parse_marker(description);
    marker.as_ref().is_some_and(|(digest, _)| *digest == archy::digest(declared))
        && published_by(live, marker.as_ref()) == BY_GCCTL
}

/// `definition` of a live flow whose YAML was not downloaded.
fn not_downloaded(marker: Option<&(String, i64)>, error: Option<&str>) -> String {
    let recorded = match marker {
        Some((digest, _)) => format!("published definition sha256:{digest}"),
        None => "published definition without a gcctl marker".to_string(),
    };
    match error {
        Some(error) => format!("({recorded}; its YAML could not be downloaded: {error})"),
        None => format!("({recorded}; not downloaded)"),
    }
}

/// Who published the live version, as the plan shows it: `gcctl` when the
/// marker's upload dates it, else the user (or client) and date the API
/// gives.
fn published_by(live: &Value, marker: Option<&(String, i64)>) -> String {
    let Some(version) = live.get("publishedVersion").filter(|v| v.is_object()) else {
        return "nobody (the flow has no published version)".into();
    };
    let published = version
        .get("datePublished")
        .and_then(Value::as_str)
        .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
        .map(|d| d.timestamp())
        .or_else(|| version.get("dateCreated").and_then(Value::as_i64).map(|ms| ms / 1000));
    if let (Some((_, uploaded)), Some(published)) = (marker, published) {
        if archy::published_by_gcctl(*uploaded, published) {
            return BY_GCCTL.into();
        }
    }
    let who = [live.get("publishedBy"), version.get("createdBy"), version.get("createdByClient")]
        .into_iter()
        .flatten()
        .find(|p| p.get("id").is_some())
        .map(|p| {
            let id = p.get("id").and_then(Value::as_str).unwrap_or_default();
            match p.get("name").and_then(Value::as_str) {
                Some(name) => format!("{name} (id {id})"),
                None => format!("id {id}"),
            }
        });
    let when = published
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    let version_id = version.get("id").and_then(Value::as_str).unwrap_or("?");
    let mut text = format!(
        "version {version_id} published outside gcctl by {}",
        who.unwrap_or_else(|| "an unknown publisher".into())
    );
    if let Some(when) = when {
        text.push_str(&format!(" at {when}"));
    }
    text
}

/// The definition text of a declared flow (for jobs and read details).
pub(crate) fn source_of(object: &Object) -> Option<(&FlowSpec, &Source)> {
    let spec = downcast::<FlowSpec>(object.spec.as_ref())?;
    Some((spec, spec.source.as_ref()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Handles Windows reserves as device names get files it can hold.
    #[test]
    fn reserved_device_names_are_no_file_names() {
        for handle in ["con", "prn", "aux", "nul", "com1", "lpt9", "com0"] {
            assert_eq!(file_stem(handle), format!("_{handle}"));
        }
        for handle in ["console", "com", "com10", "comx", "lpt", "null", "con-2", "support"] {
            assert_eq!(file_stem(handle), handle);
        }
    }

    /// A literal block indicator is found with a comment after it, one
    /// holding a `|` too; a folded one or a `|` inside text is not one.
    #[test]
    fn literal_block_indicators_are_found_before_comments() {
        assert!(ends_with_literal_indicator("  definition: |"));
        assert!(ends_with_literal_indicator("  definition: |-   # a|b"));
        assert!(ends_with_literal_indicator("  definition: |2"));
        assert!(!ends_with_literal_indicator("  definition: >"));
        assert!(!ends_with_literal_indicator("  name: a|b"));
    }

    #[test]
    fn who_published_is_gcctl_only_near_its_upload() {
        let marker = ("0123456789abcdef".to_string(), 1_700_000_000);
        let live = json!({"publishedVersion": {"id": "2.0", "datePublished": "2023-11-14T22:15:00Z"},
            "publishedBy": {"id": "u1", "name": "Ann"}});
        assert_eq!(published_by(&live, Some(&marker)), BY_GCCTL);
        let later = json!({"publishedVersion": {"id": "3.0", "datePublished": "2023-11-15T22:15:00Z"},
            "publishedBy": {"id": "u1", "name": "Ann"}});
        assert_eq!(
            published_by(&later, Some(&marker)),
            "version 3.0 published outside gcctl by Ann (id u1) at 2023-11-15T22:15:00Z"
        );
        assert_eq!(published_by(&json!({}), None), "nobody (the flow has no published version)");
    }
}
