//! Archy YAML, the text a flow is published from: its flow types and their
//! top-level keys, what gcctl reads inside a definition (the flow's name,
//! division and description, and the queues it names), and the marker gcctl
//! records in the published flow's description. Pure functions: the loader,
//! the planner, the executor and the sandbox all use them.
//!
//! Facts (API reference §h, from the Genesys Terraform provider's examples
//! and Genesys blueprint repositories): an Archy file has one top-level key
//! naming the flow type (`inboundShortMessage`, `inboundCall`,
//! `commonModule`, `workflow`, ...), under which `name` is the flow's
//! identity ("changing the flow name will result in the creation of a new
//! flow", provider schema), `division` is a division *name* and objects are
//! referenced by name: `transferToAcd.targetQueue: {lit: {name: …}}`,
//! `findQueue.findName: {lit: …}`. The in-queue keys (`inqueueCall`,
//! `inqueueShortMessage`, `inqueueEmail`) follow Archy's `FLOW_TYPES`
//! constants (its SDK typings list `inqueueCall: 'inqueuecall'`); keys are
//! compared case-insensitively, so `inQueueCall` is accepted too
//! (UNVERIFIED which spelling Archy prefers).
//!
//! The marker: gcctl publishes the definition with
//! `[gcctl sha256:<16 hex> @<unix seconds>]` at the end of the flow's
//! `description` (appended to the YAML's own description, or as the whole
//! description when the YAML has none). The digest is of the definition as
//! declared (after `${var.NAME}` substitution, before gcctl adds anything);
//! the time is when gcctl uploaded it. A plan reads both from the flow list,
//! without downloading anything: the digest says whether the declared
//! definition is the one gcctl published, and a published version dated
//! well after the upload was published by someone else (see
//! [`published_by_gcctl`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::manifest::yaml::{Loc, Node, Value, YamlError, parse_documents};

/// The flow types a `Flow` manifest may declare: `Flow.type` (uppercase) as
/// the API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
pub enum FlowType {
    /// An inbound message flow (open messaging, web messaging, SMS).
    #[serde(rename = "INBOUNDSHORTMESSAGE")]
    InboundShortMessage,
    /// An in-queue message flow.
    #[serde(rename = "INQUEUESHORTMESSAGE")]
    InqueueShortMessage,
    /// An inbound call flow.
    #[serde(rename = "INBOUNDCALL")]
    InboundCall,
    /// An in-queue call flow.
    #[serde(rename = "INQUEUECALL")]
    InqueueCall,
    /// An inbound email flow.
    #[serde(rename = "INBOUNDEMAIL")]
    InboundEmail,
    /// An in-queue email flow.
    #[serde(rename = "INQUEUEEMAIL")]
    InqueueEmail,
    /// A common module (reusable tasks called from other flows).
    #[serde(rename = "COMMONMODULE")]
    CommonModule,
    /// A workflow (process automation).
    #[serde(rename = "WORKFLOW")]
    Workflow,
}

impl FlowType {
    /// Every type, in declaration order.
    pub const ALL: [FlowType; 8] = [
        FlowType::InboundShortMessage,
        FlowType::InqueueShortMessage,
        FlowType::InboundCall,
        FlowType::InqueueCall,
        FlowType::InboundEmail,
        FlowType::InqueueEmail,
        FlowType::CommonModule,
        FlowType::Workflow,
    ];

    /// `Flow.type` as the API spells it (`INBOUNDSHORTMESSAGE`).
    pub fn as_str(self) -> &'static str {
        match self {
            FlowType::InboundShortMessage => "INBOUNDSHORTMESSAGE",
            FlowType::InqueueShortMessage => "INQUEUESHORTMESSAGE",
            FlowType::InboundCall => "INBOUNDCALL",
            FlowType::InqueueCall => "INQUEUECALL",
            FlowType::InboundEmail => "INBOUNDEMAIL",
            FlowType::InqueueEmail => "INQUEUEEMAIL",
            FlowType::CommonModule => "COMMONMODULE",
            FlowType::Workflow => "WORKFLOW",
        }
    }

    /// The type with this `Flow.type` (any case).
    pub fn parse(text: &str) -> Option<FlowType> {
        FlowType::ALL.into_iter().find(|t| t.as_str().eq_ignore_ascii_case(text))
    }

    /// The Archy top-level key of a definition of this type.
    pub fn archy_key(self) -> &'static str {
        match self {
            FlowType::InboundShortMessage => "inboundShortMessage",
            FlowType::InqueueShortMessage => "inqueueShortMessage",
            FlowType::InboundCall => "inboundCall",
            FlowType::InqueueCall => "inqueueCall",
            FlowType::InboundEmail => "inboundEmail",
            FlowType::InqueueEmail => "inqueueEmail",
            FlowType::CommonModule => "commonModule",
            FlowType::Workflow => "workflow",
        }
    }

    /// The type whose Archy key this is (case-insensitively).
    pub fn of_archy_key(key: &str) -> Option<FlowType> {
        FlowType::ALL.into_iter().find(|t| t.archy_key().eq_ignore_ascii_case(key))
    }

    /// The dependency tracking `objectType` of a flow of this type: the type
    /// plus `FLOW`, except `WORKFLOW` (API reference §h, provider
    /// `dependent_consumers.go` `SetFlowTypeObjectMaps`).
    pub fn dependency_type(self) -> String {
        match self {
            FlowType::Workflow => "WORKFLOW".to_string(),
            other => format!("{}FLOW", other.as_str()),
        }
    }
}

/// A string in a definition, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub text: String,
    pub loc: Loc,
}

/// What gcctl reads in a definition.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inspection {
    /// The top-level key and its flow type, when it is one gcctl knows.
    pub top_key: Option<(Located, Option<FlowType>)>,
    /// More than one top-level key (every one after the first).
    pub extra_keys: Vec<Located>,
    /// `name` under the top-level key.
    pub name: Option<Located>,
    /// `division` (a division name).
    pub division: Option<Located>,
    /// `description`, and whether it is one line gcctl can append to.
    pub description: Option<(Located, bool)>,
    /// Queues the flow names (`targetQueue.lit.name`, `findQueue.findName.lit`).
    pub queues: Vec<Located>,
    /// Wrap-up codes the flow names (`wrapupCode.lit.name`: objects are
    /// referenced by name as `{lit: {name: …}}`, API reference §h, after the
    /// Terraform provider's `outboundcall_flow_example.yaml`).
    pub wrapup_codes: Vec<Located>,
    /// Other flows the flow names, with the type the action implies when it
    /// implies one (see [`FlowRef`]).
    pub flows: Vec<FlowRef>,
    /// Where `startUpRef` points, and the `refId`s of the states and tasks.
    pub startup_ref: Option<Located>,
    pub ref_ids: Vec<String>,
    /// Where the top-level key's mapping opens when it is written in flow
    /// style (`{`, a JSON-style file), and whether more of it follows on
    /// that line: gcctl's lines are inserted right after the `{`.
    pub flow_body: Option<(Loc, bool)>,
    /// The description's key does not start its line (`{"name": "X",
    /// "description": "d"}`), so gcctl cannot write its marker there.
    pub description_mid_line: bool,
}

/// Another flow named inside a definition.
///
/// Shapes read (UNVERIFIED beyond public Archy files: the API reference
/// quotes no flow-to-flow example; these follow Archy YAML found in public
/// repositories, with objects referenced by name as everywhere else):
///
/// - `callCommonModule: {commonModule: {<module name>: {ver_latestPublished: …}}}`:
///   a `COMMONMODULE` flow, named by the one key under `commonModule`;
/// - `transferToFlow: {targetFlow: {name: …}}` (or `{lit: {name: …}}`): a
///   flow of the inbound type of the referring flow's family (calls to
///   `INBOUNDCALL`, messages to `INBOUNDSHORTMESSAGE`, emails to
///   `INBOUNDEMAIL`, which is what Architect's "Transfer to Flow" offers;
///   UNVERIFIED for in-queue flows); in a common module or workflow the type
///   is left open (`None`: any flow with that name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRef {
    pub name: Located,
    pub flow_type: Option<FlowType>,
}

impl FlowType {
    /// The flow type "Transfer to Flow" targets from a flow of this type.
    pub fn transfer_target(self) -> Option<FlowType> {
        match self {
            FlowType::InboundCall | FlowType::InqueueCall => Some(FlowType::InboundCall),
            FlowType::InboundShortMessage | FlowType::InqueueShortMessage => {
                Some(FlowType::InboundShortMessage)
            }
            FlowType::InboundEmail | FlowType::InqueueEmail => Some(FlowType::InboundEmail),
            FlowType::CommonModule | FlowType::Workflow => None,
        }
    }
}

/// Why a definition cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub loc: Loc,
    pub message: String,
}

/// Parse a definition and read what gcctl needs from it.
pub fn inspect(text: &str) -> Result<Inspection, Unreadable> {
    let docs = parse_documents(text)
        .map_err(|YamlError { loc, message }| Unreadable { loc, message })?;
    let doc = match docs.as_slice() {
        [doc] => doc,
        [] => {
            return Err(Unreadable {
                loc: Loc { line: 1, column: 1 },
                message: "the definition is empty".into(),
            });
        }
        [_, second, ..] => {
            return Err(Unreadable {
                loc: second.loc,
                message: "a flow definition holds one YAML document; this is a second one".into(),
            });
        }
    };
    let Value::Map(entries) = &doc.value else {
        return Err(Unreadable {
            loc: doc.loc,
            message: format!(
                "a flow definition is a mapping with one key naming the flow type (such as `inboundShortMessage`); found {}",
                doc.value.type_name()
            ),
        });
    };
    let mut inspection = Inspection::default();
    let mut keys = entries.iter();
    if let Some((key, body)) = keys.next() {
        let located = Located { text: key.name.to_string(), loc: key.loc };
        let flow_type = FlowType::of_archy_key(&key.name);
        inspection.top_key = Some((located, flow_type));
        read_body(body, flow_type, &mut inspection);
        inspection.flow_body = flow_opening(text, body);
        if let Some((description, true)) = &inspection.description {
            let lines: Vec<String> = text.lines().map(str::to_string).collect();
            let value = (description.loc.line as usize).saturating_sub(1);
            inspection.description_mid_line = description_lines(&lines, value).is_none();
        }
    }
    inspection.extra_keys =
        keys.map(|(k, _)| Located { text: k.name.to_string(), loc: k.loc }).collect();
    Ok(inspection)
}

/// Where `body` opens when it is a flow-style mapping (`{` at its
/// location), and whether anything but a comment follows on that line.
fn flow_opening(text: &str, body: &Node) -> Option<(Loc, bool)> {
    if !matches!(body.value, Value::Map(_)) {
        return None;
    }
    let line = text.lines().nth((body.loc.line as usize).checked_sub(1)?)?;
    let start = line.char_indices().nth((body.loc.column as usize).checked_sub(1)?)?.0;
    let rest = line[start..].strip_prefix('{')?.trim_start();
    Some((body.loc, !rest.is_empty() && !rest.starts_with('#')))
}

fn read_body(body: &Node, flow_type: Option<FlowType>, inspection: &mut Inspection) {
    let string = |key: &str| {
        body.get(key).and_then(|n| n.as_str().map(|s| Located { text: s.to_string(), loc: n.loc }))
    };
    inspection.name = string("name");
    inspection.division = string("division");
    inspection.startup_ref = string("startUpRef");
    if let Some(node) = body.get("description") {
        if let Some(text) = node.as_str() {
            let one_line = !text.contains('\n');
            inspection.description = Some((Located { text: text.to_string(), loc: node.loc }, one_line));
        }
    }
    walk(body, flow_type, inspection);
}

/// Collect the queues, wrap-up codes and flows named anywhere in the flow,
/// and every `refId`.
fn walk(node: &Node, flow_type: Option<FlowType>, inspection: &mut Inspection) {
    match &node.value {
        Value::Map(entries) => {
            for (key, value) in entries {
                match key.name.as_str() {
                    "targetQueue" => {
                        if let Some(name) = lit_name(value) {
                            inspection.queues.push(name);
                        }
                    }
                    "wrapupCode" => {
                        if let Some(name) = lit_name(value) {
                            inspection.wrapup_codes.push(name);
                        }
                    }
                    "findQueue" => {
                        let lit = value.get("findName").and_then(|n| n.get("lit"));
                        if let Some(n) = lit {
                            if let Some(text) = n.as_str() {
                                inspection.queues.push(Located { text: text.into(), loc: n.loc });
                            }
                        }
                    }
                    "callCommonModule" => {
                        let modules = value.get("commonModule").map(|m| &m.value);
                        if let Some(Value::Map(modules)) = modules {
                            if let Some((module, _)) = modules.first() {
                                inspection.flows.push(FlowRef {
                                    name: Located { text: module.name.to_string(), loc: module.loc },
                                    flow_type: Some(FlowType::CommonModule),
                                });
                            }
                        }
                    }
                    "transferToFlow" => {
                        let target = value.get("targetFlow");
                        let name = target.and_then(|t| {
                            lit_name(t).or_else(|| {
                                let n = t.get("name")?;
                                Some(Located { text: n.as_str()?.to_string(), loc: n.loc })
                            })
                        });
                        if let Some(name) = name {
                            let flow_type = flow_type.and_then(FlowType::transfer_target);
                            inspection.flows.push(FlowRef { name, flow_type });
                        }
                    }
                    "refId" => {
                        if let Some(text) = value.as_str() {
                            inspection.ref_ids.push(text.to_string());
                        }
                    }
                    _ => {}
                }
                walk(value, flow_type, inspection);
            }
        }
        Value::Seq(items) => items.iter().for_each(|n| walk(n, flow_type, inspection)),
        _ => {}
    }
}

/// `{lit: {name: X}}`: an object referenced by name.
fn lit_name(node: &Node) -> Option<Located> {
    let name = node.get("lit")?.get("name")?;
    Some(Located { text: name.as_str()?.to_string(), loc: name.loc })
}

/// The refId a `startUpRef` points at (`/inboundShortMessage/states/state[Initial State_10]`).
pub fn startup_target(reference: &str) -> Option<&str> {
    let last = reference.rsplit('/').next()?;
    let open = last.find('[')?;
    last[open + 1..].strip_suffix(']')
}

/// A problem in a definition, at its location in the definition's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub loc: Loc,
    pub message: String,
    pub hint: Option<String>,
}

/// What a declared definition must agree with its manifest on: one
/// top-level key naming the declared type, `name` equal to the manifest's
/// `spec.name`, `division` (when both say one) equal to `spec.division`, a
/// one-line description without gcctl's marker.
pub fn check(
    inspection: &Inspection,
    name: &str,
    flow_type: FlowType,
    division: Option<&str>,
) -> Vec<Problem> {
    let mut problems = check_keys(inspection, flow_type);
    problems.extend(check_name(inspection, name, flow_type));
    let at = |loc: Loc, message: String, hint: Option<String>| Problem { loc, message, hint };
    if let (Some(found), Some(declared)) = (&inspection.division, division) {
        if found.text != declared {
            problems.push(at(
                found.loc,
                format!("the definition puts the flow in division `{}`, the manifest in `{declared}`", found.text),
                Some("say the division in one place: spec.division, or the YAML's `division`".into()),
            ));
        }
    }
    if let Some((description, one_line)) = &inspection.description {
        if !one_line && !description.text.trim_end_matches('\n').contains('\n') {
            problems.push(at(
                description.loc,
                "the description ends with a line break (a `|` or `>` block keeps one at its end)".into(),
                Some("gcctl appends its change marker to the description's one line: write `>-` or `|-`, which keep none".into()),
            ));
        } else if !one_line {
            problems.push(at(
                description.loc,
                "the description spans several lines".into(),
                Some("gcctl appends its change marker to the description: keep it on one line".into()),
            ));
        } else if description.text.contains(MARKER_START) {
            problems.push(at(
                description.loc,
                "the description holds gcctl's change marker".into(),
                Some(format!("remove the `{MARKER_START}…]` part: gcctl writes it when it publishes")),
            ));
        } else if inspection.description_mid_line {
            problems.push(at(
                description.loc,
                "the description's key does not start its line, and gcctl writes its change marker on the description's line".into(),
                Some("put `description` on a line of its own".into()),
            ));
        }
    }
    // Lines gcctl inserts after the mapping's `{`: the description with
    // its marker, the division the manifest says.
    let inserts = inspection.description.is_none() || (division.is_some() && inspection.division.is_none());
    if let Some((loc, true)) = inspection.flow_body.filter(|_| inserts) {
        problems.push(at(
            loc,
            "the flow's mapping goes on after its `{` on this line, and gcctl inserts lines after the `{` (the description with its change marker, or the division)".into(),
            Some("break the line after `{`, or write the definition in block style, as Architect exports it".into()),
        ));
    }
    if let Some(reference) = &inspection.startup_ref {
        let target = startup_target(&reference.text);
        if target.is_some_and(|t| !inspection.ref_ids.iter().any(|r| r == t)) {
            problems.push(at(
                reference.loc,
                format!("startUpRef points at `{}`, which no state or task has as refId", target.unwrap_or_default()),
                None,
            ));
        }
    }
    problems
}

/// One top-level key, naming the declared type.
fn check_keys(inspection: &Inspection, flow_type: FlowType) -> Vec<Problem> {
    let mut problems = Vec::new();
    let at = |loc: Loc, message: String, hint: Option<String>| Problem { loc, message, hint };
    match &inspection.top_key {
        Some((key, found)) if *found != Some(flow_type) => problems.push(at(
            key.loc,
            format!(
                "the top-level key `{}` does not match the flow type {}",
                key.text,
                flow_type.as_str()
            ),
            Some(format!(
                "a {} flow starts with `{}:`; or change spec.type",
                flow_type.as_str(),
                flow_type.archy_key()
            )),
        )),
        Some(_) => {}
        None => problems.push(at(
            Loc { line: 1, column: 1 },
            "the definition has no top-level key".into(),
            Some(format!("start it with `{}:`", flow_type.archy_key())),
        )),
    }
    for extra in &inspection.extra_keys {
        problems.push(at(
            extra.loc,
            format!("a second top-level key `{}`: a flow definition has exactly one", extra.text),
            None,
        ));
    }
    problems
}

/// A `name`, the manifest's `spec.name`.
fn check_name(inspection: &Inspection, name: &str, flow_type: FlowType) -> Option<Problem> {
    let at = |loc: Loc, message: String, hint: Option<String>| Problem { loc, message, hint };
    let top_loc = inspection.top_key.as_ref().map_or(Loc { line: 1, column: 1 }, |(k, _)| k.loc);
    match &inspection.name {
        Some(found) if found.text != name => Some(at(
            found.loc,
            format!("the definition names the flow `{}`, the manifest `{name}`", found.text),
            Some("the name inside the YAML is the flow's identity in the org: make spec.name and the YAML's `name` the same".into()),
        )),
        Some(_) => None,
        None => Some(at(
            top_loc,
            "the definition has no `name`".into(),
            Some(format!("add `name: {name}` under `{}`", flow_type.archy_key())),
        )),
    }
}

/// Where gcctl's marker starts in a description.
pub const MARKER_START: &str = "[gcctl sha256:";

/// The digest of a definition: SHA-256 of its text, the first 16 hex digits
/// (64 bits: a change detector, not a signature).
pub fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))[..16].to_string()
}

/// The marker for a definition with this digest uploaded at `at` (unix seconds).
pub fn marker(digest: &str, at: i64) -> String {
    format!("{MARKER_START}{digest} @{at}]")
}

/// The digest and upload time a description's marker records.
pub fn parse_marker(description: &str) -> Option<(String, i64)> {
    let start = description.rfind(MARKER_START)?;
    let rest = description[start + MARKER_START.len()..].strip_suffix(']')?;
    let (digest, at) = rest.split_once(" @")?;
    let valid = digest.len() == 16 && digest.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then(|| Some((digest.to_string(), at.parse().ok()?))).flatten()
}

/// A published version dated more than this after the upload its marker
/// records was not published by that upload: jobs end within gcctl's
/// `--flow-job-timeout` (16 minutes by default, the provider's limit), and
/// this leaves room for clock skew. A publish made elsewhere within this
/// window of gcctl's is not told apart (documented limitation).
pub const PUBLISH_WINDOW_SECONDS: i64 = 60 * 60;
/// How far before the recorded upload a version may be dated (clock skew).
pub const SKEW_SECONDS: i64 = 10 * 60;

/// Whether a version published at `published` (unix seconds) is the one
/// whose upload the marker dated `uploaded` records.
pub fn published_by_gcctl(uploaded: i64, published: i64) -> bool {
    // `uploaded` is read from the org's text: any integer, the extremes too.
    let window = uploaded.saturating_sub(SKEW_SECONDS)..=uploaded.saturating_add(PUBLISH_WINDOW_SECONDS);
    window.contains(&published)
}

/// The text gcctl uploads: the definition with the marker in its
/// description and, when the manifest says the division and the YAML does
/// not, the division. Lines are replaced or inserted right after the
/// top-level key, so the YAML's own layout is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub text: String,
    /// Line (1-based) of the top-level key.
    top_line: usize,
    /// Lines inserted after it.
    inserted: usize,
    /// The line (1-based, of the declared definition) of the `description`
    /// key, and how many lines after it its value also took (a folded or
    /// quoted text written over several lines), which the upload writes on
    /// that one line.
    joined: Option<(usize, usize)>,
}

impl Upload {
    /// The line of the declared definition that line `line` of the upload
    /// came from (inserted lines map to the top-level key).
    pub fn original_line(&self, line: usize) -> usize {
        if line <= self.top_line {
            line
        } else if line <= self.top_line + self.inserted {
            self.top_line
        } else {
            let line = line - self.inserted;
            match self.joined {
                Some((key, taken)) if line > key => line + taken,
                _ => line,
            }
        }
    }
}

/// The line (0-based) of the `description` key whose value starts on line
/// `value` (0-based: the key's own line, or one after it), and how many
/// lines after the key the value takes: those more indented than the key,
/// and blank lines between them.
fn description_lines(lines: &[String], value: usize) -> Option<(usize, usize)> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let key = (0..=value.min(lines.len().checked_sub(1)?))
        .rev()
        .find(|&i| description_key(&lines[i]).is_some())?;
    let depth = indent(&lines[key]);
    let mut taken = 0;
    for (offset, line) in lines[key + 1..].iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if indent(line) <= depth {
            break;
        }
        taken = offset + 1;
    }
    Some((key, taken))
}

/// The `description` key as a line writes it (plain, or quoted as in a
/// JSON-style file), with its colon.
fn description_key(line: &str) -> Option<&str> {
    let text = line.trim_start();
    ["description:", "\"description\":", "'description':"]
        .into_iter()
        .find(|key| text.starts_with(key))
        .map(|key| &text[..key.len()])
}

/// Build the upload of `text` (already inspected: `inspection`).
pub fn prepare_upload(
    text: &str,
    inspection: &Inspection,
    marker: &str,
    division: Option<&str>,
) -> Upload {
    let lines: Vec<&str> = text.lines().collect();
    let top_line = inspection.top_key.as_ref().map_or(1, |(k, _)| k.loc.line as usize);
    let indent = child_indent(&lines, top_line);
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    let mut out: Vec<String> = lines.iter().map(|l| (*l).to_string()).collect();
    let mut insert = Vec::new();
    let mut joined = None;
    let value_line = |d: &Located| (d.loc.line as usize).saturating_sub(1);
    match &inspection.description {
        Some((description, true)) => {
            // The marked description takes the key's line, and the lines
            // its value took after it (a folded or quoted text written
            // over several) are left out.
            if let Some((key, taken)) = description_lines(&out, value_line(description)) {
                let line = &out[key];
                let key_indent = &line[..line.len() - line.trim_start().len()];
                let written = description_key(line).unwrap_or("description:");
                // In a JSON-style (flow) mapping a comma after the value
                // ends the entry: after a closing quote, or after a text
                // that does not end with one itself (in a block mapping a
                // plain text's own trailing comma is text).
                let end = out[key + taken].trim_end();
                let separated = end.ends_with("\",")
                    || end.ends_with("',")
                    || (end.ends_with(',') && !description.text.ends_with(','));
                let comma = if separated { "," } else { "" };
                out[key] = format!(
                    "{key_indent}{written} {}{comma}",
                    quote(&format!("{} {marker}", description.text))
                );
                out.drain(key + 1..=key + taken);
                joined = (taken > 0).then_some((key + 1, taken));
            }
        }
        // A flow-style (JSON-style) mapping takes entries ending with a comma.
        _ if inspection.flow_body.is_some() => {
            insert.push(format!("{indent}\"description\": {},", quote(marker)));
        }
        _ => insert.push(format!("{indent}description: {}", quote(marker))),
    }
    if let (Some(division), None) = (division, &inspection.division) {
        let (key, comma) = if inspection.flow_body.is_some() { ("\"division\":", ",") } else { ("division:", "") };
        insert.push(format!("{indent}{key} {}{comma}{INSERTED}", quote(division)));
    }
    let inserted = insert.len();
    let at = top_line.min(out.len());
    out.splice(at..at, insert);
    let mut text = out.join("\n");
    text.push('\n');
    Upload { text, top_line, inserted, joined }
}

/// The indentation of the top-level key's children.
fn child_indent(lines: &[&str], top_line: usize) -> String {
    lines
        .iter()
        .skip(top_line)
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map_or_else(|| "  ".to_string(), |l| l[..l.len() - l.trim_start().len()].to_string())
}

/// A published definition as declared: what [`prepare_upload`] added is
/// taken out again (an inserted description or division line, the marker
/// appended to the description). Only the lines gcctl writes are touched;
/// for YAML exported by a real org, whose layout may differ from what was
/// uploaded (UNVERIFIED), this removes the marker and little else.
pub fn strip_upload(text: &str) -> String {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.ends_with(INSERTED) {
            continue;
        }
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        // The key as written: plain, or quoted in a JSON-style file, whose
        // entry ends with a comma.
        let described = ["description: ", "\"description\": ", "'description': "]
            .into_iter()
            .find_map(|key| Some((key, trimmed.strip_prefix(key)?)))
            .and_then(|(key, value)| {
                let (value, comma) = match value.strip_suffix(',') {
                    Some(v) if key != "description: " => (v, ","),
                    _ => (value, ""),
                };
                let description = serde_json::from_str::<String>(value).ok()?;
                parse_marker(&description).is_some().then_some((key, description, comma))
            });
        match described {
            Some((key, description, comma)) => {
                // The declared text as written: only the one space gcctl
                // writes before the marker goes.
                // A description gcctl inserted is the marker alone; a
                // declared one, empty included, has the space before it.
                let start = description.rfind(MARKER_START).unwrap_or(0);
                if start == 0 {
                    continue;
                }
                let kept = crate::kinds::common::before_mark(&description[..start]);
                let value = if comma.is_empty() {
                    plain_or_quoted(kept)
                } else {
                    serde_json::to_string(kept).unwrap_or_default()
                };
                out.push(format!("{indent}{key}{value}{comma}"));
            }
            None => out.push(line.to_string()),
        }
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

/// The comment that ends a line gcctl inserted (the division).
const INSERTED: &str = "  # set by gcctl from spec.division";

/// A description as a plain YAML scalar when that reads the same, else quoted.
fn plain_or_quoted(text: &str) -> String {
    let plain = !text.is_empty()
        && !text.starts_with(|c: char| crate::manifest::yaml::INDICATORS.contains(c) || c.is_whitespace())
        && !text.contains(": ")
        && !text.contains(" #")
        && !text.ends_with([':', ' '])
        && matches!(crate::manifest::yaml::resolve_plain(text), Value::Str(_));
    if plain { text.to_string() } else { serde_json::to_string(text).unwrap_or_default() }
}

/// A `line N` (and `column M`) that a job message names, if it names one.
pub fn message_location(text: &str) -> Option<(usize, Option<usize>)> {
    let number_after = |word: &str| -> Option<usize> {
        let start = text.find(word)? + word.len();
        let digits: String = text[start..].chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    let line = number_after("line ")?;
    Some((line, number_after("column ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLOW: &str = "\
inboundShortMessage:
  name: Bot Inbound
  description: Routes the bot's hand-overs
  division: Home
  startUpRef: \"/inboundShortMessage/states/state[Initial State_10]\"
  states:
    - state:
        name: Initial State
        refId: Initial State_10
        actions:
          - transferToAcd:
              name: Transfer
              targetQueue:
                lit:
                  name: Support
          - findQueue:
              name: Find
              findName:
                lit: Overflow
          - setWrapupCode:
              name: Code it
              wrapupCode:
                lit:
                  name: Bot Resolved
";

    #[test]
    fn reads_name_division_queues_and_refs() {
        let found = inspect(FLOW).unwrap();
        let (key, flow_type) = found.top_key.clone().unwrap();
        assert_eq!((key.text.as_str(), flow_type), ("inboundShortMessage", Some(FlowType::InboundShortMessage)));
        assert_eq!(found.name.as_ref().map(|n| n.text.as_str()), Some("Bot Inbound"));
        assert_eq!(found.division.as_ref().map(|n| n.loc), Some(Loc { line: 4, column: 13 }));
        let queues: Vec<&str> = found.queues.iter().map(|q| q.text.as_str()).collect();
        assert_eq!(queues, ["Support", "Overflow"]);
        let codes: Vec<&str> = found.wrapup_codes.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(codes, ["Bot Resolved"]);
        assert_eq!(found.wrapup_codes[0].loc, Loc { line: 24, column: 25 });
        assert!(check(&found, "Bot Inbound", FlowType::InboundShortMessage, Some("Home")).is_empty());
    }

    #[test]
    fn reads_the_flows_a_flow_names_with_the_type_the_action_implies() {
        let text = "\
inboundCall:
  name: Main Line
  tasks:
    - task:
        name: Main
        refId: Main_1
        actions:
          - callCommonModule:
              name: Greet
              commonModule:
                Greeting Module:
                  ver_latestPublished: {}
          - transferToFlow:
              name: Onward
              targetFlow:
                name: Second Line
          - transferToFlow:
              name: Literal
              targetFlow:
                lit:
                  name: Third Line
";
        let found = inspect(text).unwrap();
        let flows: Vec<(&str, Option<FlowType>, Loc)> =
            found.flows.iter().map(|f| (f.name.text.as_str(), f.flow_type, f.name.loc)).collect();
        assert_eq!(
            flows,
            [
                ("Greeting Module", Some(FlowType::CommonModule), Loc { line: 11, column: 17 }),
                ("Second Line", Some(FlowType::InboundCall), Loc { line: 16, column: 23 }),
                ("Third Line", Some(FlowType::InboundCall), Loc { line: 21, column: 25 }),
            ]
        );
        let module = text.replace("inboundCall:", "commonModule:");
        let found = inspect(&module).unwrap();
        assert_eq!(found.flows[1].flow_type, None, "a module may transfer to any type");
        assert_eq!(FlowType::InqueueShortMessage.transfer_target(), Some(FlowType::InboundShortMessage));
    }

    #[test]
    fn names_types_and_divisions_must_agree_with_the_manifest() {
        let found = inspect(FLOW).unwrap();
        let problems = check(&found, "Other", FlowType::InqueueCall, Some("Operations"));
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert_eq!(problems[0].loc, Loc { line: 1, column: 1 });
        assert_eq!(problems[1].loc, Loc { line: 2, column: 9 });
        assert!(inspect("a: 1\n---\nb: 2\n").is_err());
        assert!(inspect("- x\n").is_err());
        let clipped = FLOW.replace("description: Routes the bot's hand-overs", "description: >\n    Routes them");
        let problems = check(&inspect(&clipped).unwrap(), "Bot Inbound", FlowType::InboundShortMessage, None);
        assert!(problems[0].message.starts_with("the description ends with a line break"), "{problems:?}");
        let broken = inspect("inboundShortMessage:\n  name: [\n").unwrap_err();
        assert!(broken.message.contains("invalid YAML"), "{broken:?}");
    }

    #[test]
    fn uploads_carry_the_marker_and_strip_back_to_the_declared_text() {
        let found = inspect(FLOW).unwrap();
        let mark = marker(&digest(FLOW), 1_700_000_000);
        let upload = prepare_upload(FLOW, &found, &mark, None);
        assert!(upload.text.contains(&format!("description: \"Routes the bot's hand-overs {mark}\"")));
        assert_eq!(upload.text.lines().count(), FLOW.lines().count());
        assert_eq!(strip_upload(&upload.text), FLOW);
        let bare = FLOW.replace("  description: Routes the bot's hand-overs\n", "").replace("  division: Home\n", "");
        let found = inspect(&bare).unwrap();
        let upload = prepare_upload(&bare, &found, &mark, Some("Home"));
        let lines: Vec<&str> = upload.text.lines().collect();
        assert_eq!(lines[1], format!("  description: \"{mark}\""));
        assert_eq!(lines[2], format!("  division: \"Home\"{INSERTED}"));
        assert_eq!(upload.original_line(4), 2);
        assert_eq!(upload.original_line(2), 1);
        assert_eq!(strip_upload(&upload.text), bare);
        let uploaded = inspect(&upload.text).unwrap();
        let description = uploaded.description.unwrap().0.text;
        assert_eq!(parse_marker(&description), Some((digest(FLOW), 1_700_000_000)));
    }

    /// A declared empty description is not one gcctl inserted: it comes
    /// back as `description: ""`, so a flow published from an export
    /// downloads as the same text.
    #[test]
    fn an_empty_declared_description_strips_back_to_itself() {
        let mark = marker(&digest(FLOW), 1_700_000_000);
        for empty in ["  description: \"\"\n", "  description: ''\n"] {
            let declared = FLOW.replace("  description: Routes the bot's hand-overs\n", empty);
            let upload = prepare_upload(&declared, &inspect(&declared).unwrap(), &mark, None);
            let stripped = strip_upload(&upload.text);
            assert_eq!(
                stripped,
                FLOW.replace("  description: Routes the bot's hand-overs\n", "  description: \"\"\n"),
                "{}",
                upload.text
            );
        }
    }

    /// A description written over several lines (folded, or quoted and
    /// wrapped) becomes one line in the upload, which stays valid YAML; the
    /// lines after it keep their place for the import's messages; the text
    /// comes back as written, trailing spaces too.
    #[test]
    fn descriptions_over_several_lines_upload_on_one() {
        let mark = marker(&digest(FLOW), 1_700_000_000);
        for (written, text) in [
            ("  description: >-\n    Routes the bot's\n\n    hand-overs\n", "Routes the bot's\nhand-overs"),
            ("  description: >-\n    Routes the bot's\n    hand-overs   \n", "Routes the bot's hand-overs   "),
            ("  description: \"Routes the\n    hand-overs  \"\n", "Routes the hand-overs  "),
            ("  description:\n    Routes the hand-overs\n", "Routes the hand-overs"),
        ] {
            let declared = FLOW.replace("  description: Routes the bot's hand-overs\n", written);
            let found = inspect(&declared).unwrap();
            let Some((description, one_line)) = &found.description else { panic!("{declared}") };
            if !one_line {
                assert_eq!(description.text, text);
                continue;
            }
            let upload = prepare_upload(&declared, &found, &mark, None);
            let uploaded = inspect(&upload.text).unwrap_or_else(|e| panic!("{e:?}\n{}", upload.text));
            assert_eq!(uploaded.description.unwrap().0.text, format!("{text} {mark}"));
            assert_eq!(uploaded.name.as_ref().map(|n| n.text.as_str()), found.name.as_ref().map(|n| n.text.as_str()));
            // The line after the description is the same line of the declared text.
            let taken = written.lines().count() - 1;
            let after = declared.lines().position(|l| l.starts_with("  description:")).unwrap() + 2;
            assert_eq!(upload.original_line(after), after + taken);
            assert_eq!(
                upload.text.lines().nth(after - 1),
                declared.lines().nth(after + taken - 1),
                "{}",
                upload.text
            );
            let stripped = strip_upload(&upload.text);
            let back = inspect(&stripped).unwrap().description.unwrap().0.text;
            assert_eq!(back, text);
        }
    }

    /// A quoted `description` key (a JSON-style file) gets the marker too,
    /// its key and the comma that ends its entry kept.
    #[test]
    fn a_quoted_description_key_gets_the_marker() {
        let mark = marker(&digest(FLOW), 1_700_000_000);
        for (written, expected) in [
            ("  \"description\": Routes it\n", format!("  \"description\": \"Routes it {mark}\"")),
            ("  'description': Routes, it,\n", format!("  'description': \"Routes, it, {mark}\"")),
        ] {
            let declared = FLOW.replace("  description: Routes the bot's hand-overs\n", written);
            let found = inspect(&declared).unwrap();
            let upload = prepare_upload(&declared, &found, &mark, None);
            assert!(upload.text.lines().any(|l| l == expected), "{}", upload.text);
            assert!(inspect(&upload.text).is_ok(), "{}", upload.text);
        }
        let json = "{\"inboundShortMessage\": {\n  \"name\": \"Bot Inbound\",\n  \"description\": \"Routes it\",\n  \"startUpRef\": \"x\"\n}}\n";
        let found = inspect(json).unwrap();
        let upload = prepare_upload(json, &found, &mark, None);
        let expected = format!("  \"description\": \"Routes it {mark}\",");
        assert!(upload.text.lines().any(|l| l == expected), "{}", upload.text);
        let uploaded = inspect(&upload.text).unwrap();
        assert_eq!(uploaded.description.unwrap().0.text, format!("Routes it {mark}"));
    }

    /// A JSON-style definition without a description gets JSON-style
    /// entries (with their commas) after its mapping's `{`, and strips back
    /// to the declared text; its quoted description strips back too. One
    /// written where gcctl cannot insert or mark is a problem at its place.
    #[test]
    fn a_json_style_definition_gets_json_style_entries() {
        let mark = marker(&digest(FLOW), 1_700_000_000);
        let json = "{\"inboundShortMessage\": {\n  \"name\": \"Bot Inbound\",\n  \"startUpRef\": \"x\"\n}}\n";
        let found = inspect(json).unwrap();
        assert_eq!(found.flow_body.map(|(_, rest)| rest), Some(false));
        assert!(check(&found, "Bot Inbound", FlowType::InboundShortMessage, Some("Home"))
            .iter()
            .all(|p| !p.message.contains("`{`")));
        let upload = prepare_upload(json, &found, &mark, Some("Home"));
        let uploaded = inspect(&upload.text).unwrap_or_else(|e| panic!("{e:?}\n{}", upload.text));
        assert_eq!(uploaded.description.unwrap().0.text, mark);
        assert_eq!(uploaded.division.unwrap().text, "Home");
        assert_eq!(upload.original_line(4), 2, "{}", upload.text);
        assert_eq!(strip_upload(&upload.text), json);

        let described = json.replace("\"startUpRef\"", "\"description\": \"Routes it\",\n  \"startUpRef\"");
        let upload = prepare_upload(&described, &inspect(&described).unwrap(), &mark, None);
        assert_eq!(strip_upload(&upload.text), described);

        let one_line = "{\"inboundShortMessage\": {\"name\": \"Bot Inbound\", \"startUpRef\": \"x\"}}\n";
        let problems = check(&inspect(one_line).unwrap(), "Bot Inbound", FlowType::InboundShortMessage, None);
        let opening = problems.iter().find(|p| p.message.contains("goes on after its `{`")).unwrap();
        assert_eq!(opening.loc, Loc { line: 1, column: 25 });
        let mid = "{\"inboundShortMessage\": {\n  \"name\": \"Bot Inbound\", \"description\": \"d\",\n  \"startUpRef\": \"x\"\n}}\n";
        let problems = check(&inspect(mid).unwrap(), "Bot Inbound", FlowType::InboundShortMessage, None);
        assert!(problems.iter().any(|p| p.message.contains("the description's key does not start its line")), "{problems:?}");
        // Block style: nothing of the kind.
        let problems = check(&inspect(FLOW).unwrap(), "Bot Inbound", FlowType::InboundShortMessage, Some("Home"));
        assert!(problems.iter().all(|p| !p.message.contains('{') && !p.message.contains("its line")), "{problems:?}");
    }

    #[test]
    fn markers_parse_and_date_their_publish() {
        assert_eq!(parse_marker("x [gcctl sha256:0123456789abcdef @12]"), Some(("0123456789abcdef".into(), 12)));
        assert_eq!(parse_marker("[gcctl sha256:0123 @12]"), None);
        assert_eq!(parse_marker("no marker"), None);
        assert!(published_by_gcctl(1000, 1000 + 120));
        assert!(!published_by_gcctl(1000, 1000 + 2 * 3600));
        // The marker's time is the org's text: any integer, without overflow.
        let max = parse_marker("[gcctl sha256:0123456789abcdef @9223372036854775807]").unwrap().1;
        assert!(published_by_gcctl(max, max) && !published_by_gcctl(max, 1_700_000_000));
        assert!(published_by_gcctl(i64::MIN, i64::MIN) && !published_by_gcctl(i64::MIN, 0));
        assert_eq!(message_location("Unable to find queue 'X' (line 14, column 23)"), Some((14, Some(23))));
        assert_eq!(startup_target("/inboundShortMessage/states/state[Initial State_10]"), Some("Initial State_10"));
    }
}
