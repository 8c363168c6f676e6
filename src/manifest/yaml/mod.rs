//! YAML → a located value tree.
//!
//! This is the one place that knows which YAML crate we use (`saphyr-parser`,
//! a maintained YAML 1.2 parser; `serde_yaml` is archived). Most manifests
//! are plain block YAML, which `block` reads several times faster than the
//! full parser and to the same tree (it leaves anything else, errors
//! included, to the full parser). We build our own
//! small tree instead of deserializing straight from YAML because every later
//! stage (environment substitution, typed deserialization, semantic checks)
//! needs to point at `file:line:column`, and a tree with a location on every
//! node and every key lets all of them do that the same way.
//!
//! Scalars are typed with the YAML 1.2 core schema and strict booleans: only
//! `true`/`false` are booleans, so `yes`, `no`, `on` and `off` stay strings and
//! a boolean field given `yes` is a type error rather than a silent `true`.
//!
//! Invariants: no input makes this module panic; aliases are expanded with a
//! budget so that "billion laughs" documents fail with an error instead of
//! exhausting memory; duplicate keys are errors.

mod block;
pub mod de;

use std::collections::HashMap;
use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// The text of a key or a string scalar. Up to 24 bytes are kept inline,
/// without an allocation of their own: nearly every key (field names) and
/// most values (names, enum values) of a manifest, whose tree has one per
/// key and per string. Ids (36 bytes), addresses and descriptions are
/// allocated as a `String` would be.
pub type Text = compact_str::CompactString;

/// The YAML indicator characters: a plain scalar may not start with one
/// (`-`, `?` and `:` may, when a non-space follows).
pub const INDICATORS: &str = "-?:,[]{}#&*!|>'\"%@`";

/// Whether `byte` is one of the [`INDICATORS`] (a `match`, not a search:
/// asked for every scalar read).
pub fn is_indicator(byte: u8) -> bool {
    matches!(
        byte,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

/// The byte offset of the first `pair` in `text`. Two-byte markers (`${`,
/// and `: ` or ` #` outside the block reader) are looked for in scalars a
/// few bytes long: a plain scan beats `str::find`'s searcher, whose setup
/// alone costs more than such a text (8 % of a validate's CPU, in a
/// profile). The block reader finds `: ` and ` #` in one pass over the
/// colons and hashes.
pub fn find_pair(text: &str, pair: [u8; 2]) -> Option<usize> {
    text.as_bytes().windows(2).position(|w| w == pair)
}

/// A 1-based line and column in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Loc {
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

impl Loc {
    fn from_span(span: Span) -> Self {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Loc { line: clamp(span.start.line()), column: clamp(span.start.col()).saturating_add(1) }
    }
}

/// A YAML node with its location.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub loc: Loc,
    /// For string scalars: whether the scalar was plain (unquoted). A plain
    /// scalar that is entirely one `${var.X}` is re-typed after substitution.
    pub plain: bool,
}

/// A mapping key with its location.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: Text,
    pub loc: Loc,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Text),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

impl Value {
    /// A short name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// The keys of a mapping node, in order; none for other nodes.
    pub fn keys(&self) -> impl Iterator<Item = &Text> {
        let entries = match &self.value {
            Value::Map(entries) => entries.as_slice(),
            _ => &[],
        };
        entries.iter().map(|(key, _)| &key.name)
    }

    /// The child of a mapping node by key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The key entry (with its location) of a mapping node.
    pub fn key(&self, key: &str) -> Option<&Key> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(k, _)| k),
            _ => None,
        }
    }

    /// The string value, if this is a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Follow a JSON pointer (`/spec/mediaSettings/0/name`) and return the
    /// deepest node reached together with whether the whole path resolved.
    /// Errors about fields that are absent point at their parent this way.
    pub fn locate(&self, pointer: &str) -> (&Node, bool) {
        let mut node = self;
        for token in pointer.split('/').skip(1) {
            let token = crate::json_pointer::unescape(token);
            let next = match &node.value {
                Value::Map(_) => node.get(&token),
                Value::Seq(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            match next {
                Some(child) => node = child,
                None => return (node, false),
            }
        }
        (node, true)
    }

    /// The location of the key named by the last token of `pointer`, if the
    /// parent is a mapping that has it: errors about a field point at its key.
    pub fn key_loc(&self, pointer: &str) -> Option<Loc> {
        let (parent, last) = pointer.rsplit_once('/')?;
        let last = crate::json_pointer::unescape(last);
        let (node, found) = self.locate(parent);
        if !found {
            return None;
        }
        node.key(&last).map(|k| k.loc)
    }

    /// Convert to JSON for typed deserialization.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            // Non-finite floats have no JSON form (a plain scalar never
            // reads as one: `plain_non_string`); null if one ever comes.
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::Str(s) => serde_json::Value::String(s.to_string()),
            Value::Seq(items) => items.iter().map(Node::to_json).collect(),
            Value::Map(entries) => {
                entries.iter().map(|(k, v)| (k.name.to_string(), v.to_json())).collect()
            }
        }
    }
}

/// A YAML syntax or structure error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub loc: Loc,
    pub message: String,
}

/// How many nodes alias expansion may create in one stream (in each piece
/// of a large one: see [`parse_documents`]), each [`BYTES_PER_NODE`] bytes
/// of text (a key's or a string's) counting as a node more: an alias of a
/// long string repeated is as much of a bomb as one of a large list.
const ALIAS_BUDGET: usize = 100_000;
/// Text that counts as one node of [`ALIAS_BUDGET`]: the budget allows
/// some 6 MB of text copied by aliases, more than a manifest needs.
const BYTES_PER_NODE: usize = 64;
/// How deep nesting may go; deeper input is rejected rather than risking the stack.
const MAX_DEPTH: usize = 128;

/// Streams at least this large are parsed in pieces side by side (see
/// [`parse_documents`]); a piece is at least half this large.
const SPLIT_FROM: usize = 256 * 1024;

/// Pieces per core: the cores take the next piece left as they finish one,
/// so that they end together (two halves on two cores ended up to 10 ms
/// apart: one core idle while the other parsed).
const PIECES_PER_CORE: usize = 4;

/// At most this many pieces, whatever the cores: the alias budget applies to
/// each piece, so a stream may expand to this many budgets (8 x 100,000
/// nodes, some 40 MB), not one per core.
const MAX_PIECES: usize = 8;

/// Parse a YAML stream into its documents. Empty documents are skipped.
///
/// A large stream (an export's one file per kind) is cut at document
/// markers into pieces of about the same size, parsed on every core: a line
/// that starts with `---` and a space or the line's end starts a document
/// wherever it is (YAML 1.2 `c-forbidden`: no scalar, block or quoted, may
/// hold such a line), and anchors do not cross documents, so the pieces
/// parse as the whole would, with each piece's lines shifted to the
/// whole's. The alias budget then applies to each piece (at most eight).
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    parse_split(text, SPLIT_FROM)
}

fn parse_split(text: &str, split_from: usize) -> Result<Vec<Node>, YamlError> {
    let cores = crate::manifest::parallel::cores();
    if text.len() < split_from || cores < 2 {
        return parse_stream(text);
    }
    let pieces =
        (cores * PIECES_PER_CORE).min(MAX_PIECES).min(text.len() / (split_from / 2).max(1)).max(2);
    let cuts = cuts(text, pieces);
    if cuts.is_empty() {
        return parse_stream(text);
    }
    // (start, end, lines before start) of each piece.
    let mut ranges = Vec::with_capacity(cuts.len() + 1);
    let mut from = (0, 0);
    for &(start, line) in cuts.iter().chain([&(text.len(), 0)]) {
        ranges.push((from.0, start, from.1));
        from = (start, line);
    }
    let parsed = crate::manifest::parallel::map_large(ranges, |(start, end, shift)| {
        parse_stream_at(&text[start..end], shift)
    });
    let mut documents = Vec::new();
    for piece in parsed {
        // The first error in the stream's order, as parsing it whole finds.
        documents.append(&mut piece?);
    }
    Ok(documents)
}

/// Where to cut `text` into `pieces` of about the same size: the byte
/// offset and the count of lines before it of the `---` line nearest after
/// each `k / pieces` of the text (else the last one before it), in order,
/// never the first line. None in a stream with directives (`%YAML`, `%TAG`):
/// a directive belongs to the document after it, across a cut.
fn cuts(text: &str, pieces: usize) -> Vec<(usize, u32)> {
    // Searched for with `memchr`'s searchers, not read line by line (nor with
    // `str`'s, some 3 instructions a byte): the cuts are found on one core
    // before the pieces are parsed on every core (an export's check cuts
    // 16 MB of YAML).
    let bytes = text.as_bytes();
    if text.starts_with('%') || memchr::memmem::find(bytes, b"\n%").is_some() {
        return Vec::new();
    }
    let mut markers = Vec::new();
    let (mut counted, mut lines) = (0, 0usize);
    for newline in memchr::memmem::find_iter(bytes, b"\n---") {
        let start = newline + 1;
        let after = bytes.get(start + 3);
        if !after.is_none_or(|b| matches!(b, b'\n' | b' ' | b'\t' | b'\r')) {
            continue;
        }
        let between = bytes.get(counted..start).unwrap_or_default();
        let newlines = memchr::memchr_iter(b'\n', between).count();
        lines += newlines;
        counted = start;
        markers.push((start, u32::try_from(lines).unwrap_or(u32::MAX)));
    }
    let mut cuts: Vec<(usize, u32)> = (1..pieces)
        .filter_map(|k| {
            let target = text.len() / pieces * k;
            let after = markers.partition_point(|(start, _)| *start < target);
            markers.get(after).or_else(|| after.checked_sub(1).and_then(|i| markers.get(i)))
        })
        .copied()
        .collect();
    cuts.dedup();
    cuts
}

fn shift_lines(node: &mut Node, shift: u32) {
    node.loc.line = node.loc.line.saturating_add(shift);
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|item| shift_lines(item, shift)),
        Value::Map(entries) => {
            for (key, value) in entries {
                key.loc.line = key.loc.line.saturating_add(shift);
                shift_lines(value, shift);
            }
        }
        _ => {}
    }
}

/// The documents of one stream: read by [`block::read`] when the text is in
/// the plain block subset it knows (manifests and exports are), else by the
/// full parser, which reads all of YAML and words the errors.
fn parse_stream(text: &str) -> Result<Vec<Node>, YamlError> {
    parse_stream_at(text, 0)
}

/// [`parse_stream`] of a piece of a stream that has `shift` lines before
/// it, with lines counted in the whole: the block reader counts from there,
/// the full parser's documents and errors are shifted after.
fn parse_stream_at(text: &str, shift: u32) -> Result<Vec<Node>, YamlError> {
    if let Some(documents) = block::read(text, shift) {
        return Ok(documents);
    }
    let shifted = |mut loc: Loc| {
        loc.line = loc.line.saturating_add(shift);
        loc
    };
    let mut documents =
        parse_with_lines_before(text, shift).map_err(|e| YamlError { loc: shifted(e.loc), ..e })?;
    if shift > 0 {
        for document in &mut documents {
            shift_lines(document, shift);
        }
    }
    Ok(documents)
}

#[cfg(test)]
fn parse_with_full_parser(text: &str) -> Result<Vec<Node>, YamlError> {
    parse_with_lines_before(text, 0)
}

/// The full parser's reading of a piece of a stream with `shift` lines
/// before it: the locations its messages name count them (its nodes' and
/// its error's own location are shifted by the caller).
fn parse_with_lines_before(text: &str, shift: u32) -> Result<Vec<Node>, YamlError> {
    let mut builder = Builder::default();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            let line = u32::try_from(e.marker().line()).unwrap_or(u32::MAX);
            let column = u32::try_from(e.marker().col()).unwrap_or(u32::MAX).saturating_add(1);
            let tab = e.info().contains("tab").then(|| indenting_tab(text, line)).flatten();
            match tab {
                Some(loc) => YamlError {
                    loc,
                    message: "invalid YAML: a tab indents this line; YAML indents with spaces only"
                        .into(),
                },
                // YAML 1.2 allows a tab there; the parser does not.
                None if e.info().contains("':' must be followed by") => {
                    match tab_after_colon(text, line) {
                        Some(loc) => YamlError {
                            loc,
                            message:
                                "invalid YAML: a tab follows a key's `:`; write a space instead"
                                    .into(),
                        },
                        None => YamlError {
                            loc: Loc { line, column },
                            message: format!("invalid YAML: {}", e.info()),
                        },
                    }
                }
                None => YamlError {
                    loc: Loc { line, column },
                    message: format!(
                        "invalid YAML: {}{}",
                        e.info(),
                        unclosed(&builder, text, shift)
                    ),
                },
            }
        })?;
        builder.event(event, span)?;
    }
    Ok(builder.documents)
}

/// When the parser failed inside a flow collection (`[` or `{`) that is
/// still open, where it opened: an unclosed `[` is reported where the
/// parser gave up (the next key's `:`, the end of the file), which says
/// nothing of the cause.
fn unclosed(builder: &Builder, text: &str, shift: u32) -> String {
    let opened = builder.stack.iter().rev().find_map(|frame| {
        let loc = match frame {
            Frame::Seq { loc, .. } | Frame::Map { loc, .. } => *loc,
        };
        let line = text.lines().nth(usize::try_from(loc.line).ok()?.checked_sub(1)?)?;
        let column = usize::try_from(loc.column).ok()?.checked_sub(1)?;
        let open = line.chars().nth(column).filter(|c| matches!(c, '[' | '{'))?;
        // An unquoted reference after it: its own `{` and `}` are what
        // ended the collection early, not a missing close.
        let after: String = line.chars().skip(column + 1).collect();
        let reference = after.contains("${") && !after.contains("\"${") && !after.contains("'${");
        Some((open, Loc { line: loc.line.saturating_add(shift), ..loc }, reference))
    });
    match opened {
        Some((open, loc, true)) => format!(
            " (an unquoted `${{…}}` inside the flow {} that opens at {loc}: its braces end it there; quote the reference, which makes it text, or write the {} in block style, where a reference may also stand for a number or a boolean)",
            if open == '[' { "list" } else { "mapping" },
            if open == '[' { "list" } else { "mapping" },
        ),
        Some(('[', loc, _)) => {
            format!(" (the `[` at {loc} is not closed: a flow list ends with `]`)")
        }
        Some((_, loc, _)) => {
            format!(" (the `{{` at {loc} is not closed: a flow mapping ends with `}}`)")
        }
        None => String::new(),
    }
}

/// Where a tab indents a line near `line` (the line before it, itself or
/// the next: the parser reports a tab at the scalar it was reading, often
/// on the line before): the likely cause of an error about a tab.
/// Where line `line` (1-based) has a tab right after a `:`.
fn tab_after_colon(text: &str, line: u32) -> Option<Loc> {
    let content = text.lines().nth(usize::try_from(line).ok()?.checked_sub(1)?)?;
    let colon = content.find(":\t")?;
    let column = content[..=colon].chars().count() + 1;
    Some(Loc { line, column: u32::try_from(column).ok()? })
}

fn indenting_tab(text: &str, line: u32) -> Option<Loc> {
    let first = usize::try_from(line).ok()?.saturating_sub(2);
    text.lines().enumerate().skip(first).take(3).find_map(|(index, content)| {
        let indent = content.len() - content.trim_start_matches([' ', '\t']).len();
        let tab = content[..indent].find('\t')?;
        Some(Loc { line: u32::try_from(index + 1).ok()?, column: u32::try_from(tab + 1).ok()? })
    })
}

enum Frame {
    Seq { items: Vec<Node>, loc: Loc, anchor: usize },
    Map { entries: Vec<(Key, Node)>, pending_key: Option<Key>, seen: Seen, loc: Loc, anchor: usize },
}

/// The keys of a mapping being read, to find a repeated one: its entries
/// are scanned while they are few (a manifest's mappings hold a handful),
/// and looked up in a map of their names from [`Seen::HASHED_FROM`] on (a
/// scan per key made a mapping of 40,000 keys take half a minute).
#[derive(Default)]
pub(super) struct Seen(Option<crate::FastMap<Text, usize>>);

impl Seen {
    const HASHED_FROM: usize = 32;

    /// The key of `entries` (the mapping's, in order) named `name`, if
    /// any; otherwise `name` is taken as the key of the next entry.
    #[inline]
    pub(super) fn repeated<'e>(
        &mut self,
        entries: &'e [(Key, Node)],
        name: &Text,
    ) -> Option<&'e Key> {
        // The common case, inline where a reader loops over a mapping's keys.
        if self.0.is_none() && entries.len() < Self::HASHED_FROM {
            return entries.iter().find(|(key, _)| key.name == *name).map(|(key, _)| key);
        }
        self.hashed(entries, name)
    }

    #[inline(never)]
    fn hashed<'e>(&mut self, entries: &'e [(Key, Node)], name: &Text) -> Option<&'e Key> {
        let names = self.0.get_or_insert_with(|| {
            entries.iter().enumerate().map(|(i, (key, _))| (key.name.clone(), i)).collect()
        });
        match names.get(name) {
            Some(&index) => entries.get(index).map(|(key, _)| key),
            None => {
                names.insert(name.clone(), entries.len());
                None
            }
        }
    }
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    documents: Vec<Node>,
    expanded: usize,
}

impl Builder {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), YamlError> {
        let loc = Loc::from_span(span);
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                let node = scalar(&text, style, tag.as_deref(), loc)?;
                self.finish(node, anchor)
            }
            Event::SequenceStart(anchor, _) => {
                self.push(Frame::Seq { items: Vec::new(), loc, anchor }, loc)
            }
            Event::MappingStart(anchor, _) => {
                let seen = Seen::default();
                self.push(
                    Frame::Map { entries: Vec::new(), pending_key: None, seen, loc, anchor },
                    loc,
                )
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Err(YamlError { loc, message: "unbalanced YAML structure".into() });
                };
                let (node, anchor) = match frame {
                    Frame::Seq { items, loc, anchor } => {
                        (Node { value: Value::Seq(items), loc, plain: false }, anchor)
                    }
                    Frame::Map { entries, loc, anchor, .. } => {
                        (Node { value: Value::Map(entries), loc, plain: false }, anchor)
                    }
                };
                self.finish(node, anchor)
            }
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id).cloned() else {
                    return Err(YamlError { loc, message: "alias to an unknown anchor".into() });
                };
                self.expanded = self.expanded.saturating_add(count_nodes(&node));
                if self.expanded > ALIAS_BUDGET {
                    return Err(YamlError {
                        loc,
                        message: format!(
                            "aliases expand to more than {ALIAS_BUDGET} nodes (or {BYTES_PER_NODE} bytes of text each); refusing to expand"
                        ),
                    });
                }
                self.finish(Node { loc, ..node }, 0)
            }
            Event::DocumentStart(_) => {
                self.anchors.clear();
                Ok(())
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => Ok(()),
        }
    }

    fn push(&mut self, frame: Frame, loc: Loc) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError { loc, message: format!("nesting deeper than {MAX_DEPTH}") });
        }
        self.stack.push(frame);
        Ok(())
    }

    /// Attach a completed node to its parent, or end a document.
    fn finish(&mut self, node: Node, anchor: usize) -> Result<(), YamlError> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                if node.value != Value::Null {
                    self.documents.push(node);
                }
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map { entries, pending_key, seen, .. }) => match pending_key.take() {
                None => {
                    if node.plain && matches!(&node.value, Value::Str(key) if &**key == "<<") {
                        return Err(YamlError {
                            loc: node.loc,
                            message: "merge keys (`<<`) are not supported: write the fields out (an alias `*name` may stand for a whole value)".into(),
                        });
                    }
                    let name = key_name(node.value).map_err(|message| YamlError {
                        loc: node.loc,
                        message: message.to_string(),
                    })?;
                    if let Some(first) = seen.repeated(entries, &name) {
                        return Err(YamlError {
                            loc: node.loc,
                            message: format!(
                                "duplicate key `{name}` (first defined at line {})",
                                first.loc.line
                            ),
                        });
                    }
                    *pending_key = Some(Key { name, loc: node.loc });
                    Ok(())
                }
                Some(key) => {
                    entries.push((key, node));
                    Ok(())
                }
            },
        }
    }
}

/// A mapping key's name from its value: scalars as written, collections refused.
fn key_name(value: Value) -> Result<Text, &'static str> {
    Ok(match value {
        Value::Str(s) => s,
        Value::Null => Text::const_new("null"),
        Value::Bool(b) => Text::const_new(if b { "true" } else { "false" }),
        Value::Int(i) => Text::from(i.to_string()),
        Value::Float(f) => Text::from(f.to_string()),
        Value::Seq(_) | Value::Map(_) => {
            return Err("a mapping key must be a plain value, not a list or mapping");
        }
    })
}

/// What expanding `node` again costs of [`ALIAS_BUDGET`]: its nodes, and a
/// node per [`BYTES_PER_NODE`] bytes of its keys and strings.
fn count_nodes(node: &Node) -> usize {
    let text = |text: &Text| text.len() / BYTES_PER_NODE;
    match &node.value {
        Value::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Value::Map(entries) => {
            1 + entries.iter().map(|(k, v)| text(&k.name) + count_nodes(v)).sum::<usize>()
        }
        Value::Str(s) => 1 + text(s),
        _ => 1,
    }
}

fn scalar(text: &str, style: ScalarStyle, tag: Option<&str>, loc: Loc) -> Result<Node, YamlError> {
    let plain = style == ScalarStyle::Plain;
    let value = match tag {
        None if plain => resolve_plain(text),
        None | Some("!!str" | "tag:yaml.org,2002:str") => Value::Str(Text::new(text)),
        Some(other) => {
            return Err(YamlError {
                loc,
                message: format!("YAML tags are not supported here (found `{other}`)"),
            });
        }
    };
    Ok(Node { value, loc, plain })
}

/// Type a plain scalar with the YAML 1.2 core schema, strict booleans.
pub fn resolve_plain(text: &str) -> Value {
    plain_non_string(text).unwrap_or_else(|| Value::Str(Text::new(text)))
}

/// Whether a plain scalar `text` is read as a string ([`resolve_plain`]),
/// without building the value.
pub fn plain_is_string(text: &str) -> bool {
    plain_non_string(text).is_none()
}

/// What a plain scalar other than a string resolves to; `None`: a string.
fn plain_non_string(text: &str) -> Option<Value> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        // YAML's infinities and NaN (and numbers too large for a double,
        // below) have no JSON form, which the API speaks: read as text, so
        // that a number field holding one is an error at its place and a
        // text field keeps what it says, never a null that drops the field.
        _ => {}
    }
    // Numbers start with a digit, a sign or a dot: most text (names,
    // descriptions) is known to be a string from its first letter.
    if text.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    if let Some(int) = parse_int(text) {
        return Some(Value::Int(int));
    }
    // A whole number beyond 64 bits would be a double that is not the
    // number written: text, as a number too large for a double is.
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if is_float(text) {
        if let Ok(f) = text.parse::<f64>().map(|f| f.is_finite().then_some(f)) {
            // A number too small for a double (`1e-400`) would be 0: text,
            // as one too large is.
            let underflow = f == Some(0.0)
                && text
                    .bytes()
                    .take_while(|b| !matches!(b, b'e' | b'E'))
                    .any(|b| matches!(b, b'1'..=b'9'));
            return if underflow { None } else { f.map(Value::Float) };
        }
    }
    None
}

fn parse_int(text: &str) -> Option<i64> {
    // Digits only: `from_str_radix` would take a sign too, and `0x-1` is a
    // string in YAML 1.2's core schema, not -1.
    if let Some(hex) = text.strip_prefix("0x") {
        let digits = !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
        return digits.then(|| i64::from_str_radix(hex, 16).ok()).flatten();
    }
    if let Some(oct) = text.strip_prefix("0o") {
        let digits = !oct.is_empty() && oct.bytes().all(|b| matches!(b, b'0'..=b'7'));
        return digits.then(|| i64::from_str_radix(oct, 8).ok()).flatten();
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    None
}

fn is_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (!int.is_empty() || !frac.is_empty())
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_large_stream_parses_in_pieces_as_it_does_whole() {
        let doc = |i: usize| {
            format!(
                "kind: K\nmetadata:\n  name: n{i}\nspec:\n  text: |\n    a\n    --- not a marker\n  list: [1, 2]\n  q: \"x\n    y\"\n"
            )
        };
        let mut text = String::new();
        for i in 0..40 {
            text.push_str(&doc(i));
            text.push_str(if i % 3 == 0 { "--- # next\n" } else { "---\n" });
        }
        let whole = parse_stream(&text).unwrap();
        assert_eq!(whole.len(), 40);
        for pieces in [2, 3, 8, 39, 41, 200] {
            let cut = cuts(&text, pieces);
            assert!(!cut.is_empty() && cut.len() < pieces, "{pieces}: {cut:?}");
            assert!(cut.windows(2).all(|w| w[0].0 < w[1].0), "in order, once each");
            for (start, line) in &cut {
                assert!(text[*start..].starts_with("---"));
                assert_eq!(*line as usize, text[..*start].matches('\n').count());
            }
        }
        assert_eq!(parse_split(&text, 1).unwrap(), whole, "same documents, same lines");
        // The same of a stream the block reader reads (it counts each
        // piece's lines from the piece's place in the whole).
        let plain = "---\nkind: K\nmetadata:\n  name: n\n".repeat(40);
        let whole_plain = parse_stream(&plain).unwrap();
        assert!(block::read(&plain, 0).is_some());
        assert_eq!(parse_split(&plain, 1).unwrap(), whole_plain, "same documents, same lines");
        // The 40th document's `name: n` is on line 4 × 39 + 4.
        assert_eq!(whole_plain[39].get("metadata").unwrap().loc.line, 160);
        // An error in a later piece is reported at its line in the whole,
        // and the first error in the stream is the one reported.
        let bad = format!("{text}kind: [\n");
        assert_eq!(parse_split(&bad, 1).unwrap_err(), parse_stream(&bad).unwrap_err());
        let twice = format!("a: [\n---\n{text}kind: [\n");
        assert_eq!(parse_split(&twice, 1).unwrap_err(), parse_stream(&twice).unwrap_err());
        // No marker past the first line: parsed whole.
        assert_eq!(cuts("---\na: 1\n", 2), vec![]);
        // Directives: parsed whole.
        assert_eq!(cuts("a: 1\n%YAML 1.2\n---\nb: 2\n", 2), vec![]);
        let directive = format!("{text}%TAG !x! tag:example.com,2000:\n---\nkind: !x!K\n");
        assert_eq!(parse_split(&directive, 1), parse_stream(&directive));
        // The marker before the target when none follows it.
        assert_eq!(cuts("a: 1\n---\nb: 2222222222222222\n", 2), vec![(5, 1)]);
    }

    use super::*;

    #[test]
    fn indicators_are_matched_as_listed() {
        for byte in 0..=u8::MAX {
            assert_eq!(is_indicator(byte), INDICATORS.as_bytes().contains(&byte), "{byte}");
        }
    }

    #[test]
    fn find_pair_finds_the_first_pair() {
        for (text, pair) in [
            ("a: b: c", *b": "),
            ("a #b", *b" #"),
            ("x ${A} ${B}", *b"${"),
            ("::", *b": "),
            ("", *b": "),
            ("é: x", *b": "),
            (":", *b": "),
            ("a:", *b": "),
        ] {
            let pattern = std::str::from_utf8(&pair).unwrap();
            assert_eq!(find_pair(text, pair), text.find(pattern), "{text:?} {pattern:?}");
        }
    }

    fn one(text: &str) -> Node {
        let mut docs = parse_documents(text).expect("parses");
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    #[test]
    fn types_scalars_with_strict_booleans() {
        let doc = one("a: yes\nb: true\nc: 12\nd: 1.5\ne: ~\nf: '12'\ng: on\nh: 0x1F\n");
        assert_eq!(doc.get("a").unwrap().value, Value::Str("yes".into()));
        assert_eq!(doc.get("b").unwrap().value, Value::Bool(true));
        assert_eq!(doc.get("c").unwrap().value, Value::Int(12));
        assert_eq!(doc.get("d").unwrap().value, Value::Float(1.5));
        assert_eq!(doc.get("e").unwrap().value, Value::Null);
        assert_eq!(doc.get("f").unwrap().value, Value::Str("12".into()));
        assert_eq!(doc.get("g").unwrap().value, Value::Str("on".into()));
        assert_eq!(doc.get("h").unwrap().value, Value::Int(31));
        // A sign after the prefix is no number (`from_str_radix` took it).
        let doc = one("a: 0x-1\nb: 0x+1F\nc: 0o-7\nd: 0o17\ne: 0x\nf: 0o8\n");
        for (key, text) in [("a", "0x-1"), ("b", "0x+1F"), ("c", "0o-7"), ("e", "0x"), ("f", "0o8")]
        {
            assert_eq!(doc.get(key).unwrap().value, Value::Str(text.into()), "{key}");
        }
        assert_eq!(doc.get("d").unwrap().value, Value::Int(15));
    }

    proptest::proptest! {
        /// The shortcut of `plain_non_string`: text that starts with a
        /// letter is never a number, whatever follows (`e5`, `inf`, `x1`).
        #[test]
        fn text_starting_with_a_letter_is_no_number(text in "[A-Za-z][0-9A-Za-z.+_eExXoO-]{0,8}") {
            proptest::prop_assert!(super::parse_int(&text).is_none());
            proptest::prop_assert!(!super::is_float(&text));
        }
    }

    #[test]
    fn records_locations_of_keys_and_values() {
        let doc = one("spec:\n  name: x\n  list:\n    - a\n    - b\n");
        assert_eq!(doc.key_loc("/spec/name"), Some(Loc { line: 2, column: 3 }));
        let (node, found) = doc.locate("/spec/list/1");
        assert!(found);
        assert_eq!(node.loc, Loc { line: 5, column: 7 });
        let (node, found) = doc.locate("/spec/missing/deeper");
        assert!(!found);
        assert_eq!(node.loc, Loc { line: 2, column: 3 });
    }

    #[test]
    fn splits_documents_and_skips_empty_ones() {
        let docs = parse_documents("a: 1\n---\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].loc.line, 4);
    }

    #[test]
    fn rejects_duplicate_keys_at_the_second_key() {
        let err = parse_documents("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.loc, Loc { line: 3, column: 1 });
        assert!(err.message.contains("duplicate key `a`"), "{}", err.message);
    }

    /// Large mappings find a repeated key through a map of their names: at
    /// its place, naming the first, in block and flow style and whichever
    /// reader reads them; without one, both readers read the same.
    #[test]
    fn repeated_keys_of_large_mappings_are_found_at_their_place() {
        use std::fmt::Write as _;
        let lines = |n: usize, indent: &str| {
            (0..n).fold(String::new(), |mut text, i| {
                let _ = writeln!(text, "{indent}k{i}: v{i}");
                text
            })
        };
        let keys = |n: usize| lines(n, "");
        for n in [Seen::HASHED_FROM - 1, Seen::HASHED_FROM, Seen::HASHED_FROM + 1, 5_000] {
            let text = format!("top:\n{}", lines(n, "  "));
            assert_eq!(block::read(&text, 0), Some(parse_with_full_parser(&text).unwrap()));
            for repeated in [0, n / 2, n - 1] {
                let text = format!("{}k{repeated}: again\n", keys(n));
                let err = parse_documents(&text).unwrap_err();
                assert_eq!(err.loc, Loc { line: u32::try_from(n + 1).unwrap(), column: 1 });
                let first =
                    format!("duplicate key `k{repeated}` (first defined at line {})", repeated + 1);
                assert!(err.message.contains(&first), "{}", err.message);
                assert!(block::read(&text, 0).is_none());
                let flow = format!(
                    "{{{}, k{repeated}: again}}",
                    (0..n).map(|i| format!("k{i}: v")).collect::<Vec<_>>().join(", ")
                );
                let err = parse_documents(&flow).unwrap_err();
                assert!(
                    err.message.contains(&format!("duplicate key `k{repeated}`")),
                    "{}",
                    err.message
                );
            }
        }
    }

    /// A tab in a line's indentation is reported where it is, saying so,
    /// not at the scalar the parser was reading (often the line before).
    #[test]
    fn a_tab_in_the_indentation_is_reported_where_it_is() {
        let err = parse_documents("a: 1\n\tb: 2\n").unwrap_err();
        assert_eq!(err.loc, Loc { line: 2, column: 1 }, "{}", err.message);
        assert!(err.message.contains("a tab indents this line"), "{}", err.message);
        let err = parse_documents("spec:\n  name: Q\n  \tdescription: x\n").unwrap_err();
        assert_eq!(err.loc, Loc { line: 3, column: 3 }, "{}", err.message);
    }

    /// Numbers JSON cannot hold (too large or, `1e-400`, too small for a
    /// double) are text: a number field holding one is an error, a text
    /// field keeps it; neither becomes a null that drops it, nor a 0.
    #[test]
    fn infinities_nan_and_huge_numbers_read_as_text() {
        for text in [
            ".nan",
            ".NaN",
            ".inf",
            "-.Inf",
            "+.INF",
            "1e400",
            "-1e400",
            "1e-400",
            "-2.5e-999",
            "9223372036854775808",
            "-99999999999999999999",
        ] {
            assert_eq!(resolve_plain(text), Value::Str(Text::new(text)), "{text}");
        }
        assert_eq!(resolve_plain("1.5e3"), Value::Float(1500.0));
        for zero in ["0.0", "0e-400", "-0.0", "0.000e5"] {
            assert_eq!(
                resolve_plain(zero),
                Value::Float(if zero.starts_with('-') { -0.0 } else { 0.0 }),
                "{zero}"
            );
        }
        let docs = parse_documents("a: .nan\nb: 1e400\n").unwrap();
        assert_eq!(docs[0].to_json(), serde_json::json!({"a": ".nan", "b": "1e400"}));
    }

    /// A flow collection left open is reported where the parser gave up
    /// (the next key, the end of the file), and the message says where it
    /// opened.
    #[test]
    fn an_unclosed_flow_collection_says_where_it_opened() {
        let err = parse_documents("spec:\n  codes: [a, b\n  name: Q\n").unwrap_err();
        assert!(
            err.message.ends_with("(the `[` at 2:10 is not closed: a flow list ends with `]`)"),
            "{}",
            err.message
        );
        let err = parse_documents("a: {b: 1\n").unwrap_err();
        assert!(
            err.message.ends_with("(the `{` at 1:4 is not closed: a flow mapping ends with `}`)"),
            "{}",
            err.message
        );
        let err = parse_documents("a: [1]]\n").unwrap_err();
        assert!(!err.message.contains("not closed"), "{}", err.message);
        // A reference's own braces end a flow mapping: said so, with what
        // to write instead (quoted, the reference is text).
        let err = parse_documents("s: {percentage: ${var.f}, durationMs: 1000}\n").unwrap_err();
        assert!(
            err.message.contains("(an unquoted `${…}` inside the flow mapping that opens at 1:4: its braces end it there; quote the reference, which makes it text, or write the mapping in block style"),
            "{}",
            err.message
        );
    }

    /// A tab after a key's `:` (YAML 1.2 allows it, the parser does not)
    /// is reported at the tab, saying what to write instead.
    #[test]
    fn a_tab_after_a_colon_is_reported_at_the_tab() {
        let err = parse_documents("spec:\n  name:\tQ\n").unwrap_err();
        assert_eq!(err.loc, Loc { line: 2, column: 8 }, "{}", err.message);
        assert!(err.message.contains("a tab follows a key's `:`"), "{}", err.message);
        let err = parse_documents("spec:\n  näme:\tQ\n").unwrap_err();
        assert_eq!(err.loc, Loc { line: 2, column: 8 }, "columns count characters");
    }

    #[test]
    fn reports_syntax_errors_with_location() {
        let err = parse_documents("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.message.starts_with("invalid YAML"), "{}", err.message);
        assert!(err.loc.line >= 1);
    }

    #[test]
    fn expands_aliases_within_budget_and_refuses_bombs() {
        let doc = one("base: &b {x: 1}\ncopy: *b\n");
        assert_eq!(doc.get("copy").unwrap().get("x").unwrap().value, Value::Int(1));
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for name in ['b', 'c', 'd', 'e', 'f', 'g'] {
            bomb.push_str(&format!(
                "{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
            prev = name;
        }
        let err = parse_documents(&bomb).unwrap_err();
        assert!(err.message.contains("aliases expand"), "{}", err.message);
        // A long string repeated by aliases: 10 KB, 99,000 times, in 400 KB.
        let copies = vec!["*d"; 99_000].join(",");
        let text = format!("d: &d {}\nx: [{copies}]\n", "a".repeat(10_000));
        let err = parse_documents(&text).unwrap_err();
        assert!(err.message.contains("aliases expand"), "{}", err.message);
        // Text within the budget expands.
        let copies = vec!["*d"; 50].join(",");
        let doc = one(&format!("d: &d {}\nx: [{copies}]\n", "a".repeat(10_000)));
        assert!(matches!(&doc.get("x").unwrap().value, Value::Seq(items) if items.len() == 50));
    }

    #[test]
    fn refuses_deep_nesting_without_overflowing() {
        let text = "[".repeat(10_000);
        assert!(parse_documents(&text).is_err());
    }
}
