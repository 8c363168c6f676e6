//! A fast reader for the plain block subset of YAML, the YAML that manifests
//! and exports are written in: block mappings and sequences indented with
//! spaces, one scalar per line, plain or quoted on one line, comments and
//! `---` between documents.
//!
//! [`read`] gives the documents exactly as the full parser
//! ([`super::parse_with_lines_before`]) would (values, locations, plainness),
//! or `None` as soon as the text holds anything else: block scalars (`|`,
//! `>`), flow collections other than `[]`, `{}` and a one-line sequence of
//! simple scalars (`[en-us, fr-fr]`), anchors, aliases, tags, directives,
//! scalars over several lines, tabs, carriage returns other than in `\r\n`
//! line breaks, control characters,
//! an empty value, a duplicate key, an error of any kind. The caller then
//! parses the text with the full parser, which reads the rest of YAML and
//! words the errors. So this reader never decides whether a text is valid
//! YAML; it only reads quickly what it knows. The full parser spent most of
//! a large plan's or export's CPU on its tokens and events; this reader
//! walks each line once. A text it gives up on costs that walk (up to where
//! it gave up) on top of the full parse: a fraction of it.
//!
//! Invariant (tested against the full parser on generated and mutated
//! documents and on every YAML file of the repository, in `tests`):
//! `read(t) == Some(d)` implies `parse_with_full_parser(t) == Ok(d)`.

use super::{Key, Loc, MAX_DEPTH, Node, Seen, Text, Value, key_name, resolve_plain};

/// Keys longer than this are left to the full parser (the YAML spec limits
/// implicit keys to 1,024 characters).
const MAX_KEY: usize = 1000;

/// The documents of `text`, or `None` when it holds anything beyond the
/// subset (see the module documentation). `shift`: the lines before `text`
/// (a piece of a larger stream), its first line being number `shift + 1`.
pub(super) fn read(text: &str, shift: u32) -> Option<Vec<Node>> {
    let ascii = allowed_characters(text)?;
    let mut documents = Vec::new();
    // One reader for every document: its buffers (the lines, the entries
    // and items of the collections being read) are reused, not grown again
    // for each of an export's 10,000 manifests.
    let mut reader = Reader::default();
    let mut number = shift;
    // `text.split('\n')`, with `memchr` finding the breaks: `str`'s searcher
    // costs more per line than most manifest lines take to read.
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain([text.len()]);
    let mut start = 0;
    for end in ends {
        let raw = text.get(start..end)?;
        start = end + 1;
        number = number.checked_add(1)?;
        // A line break may be `\r\n` (a file saved on Windows); a lone `\r` was refused.
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let content = after_spaces(raw);
        let indent = raw.len() - content.len();
        if indent == 0 && (content.starts_with("---") || content.starts_with("...")) {
            if content != "---" {
                return None;
            }
            document(&mut reader, &mut documents)?;
            continue;
        }
        if indent == 0 && content.starts_with('%') {
            return None;
        }
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        reader.lines.push(Line { number, indent, text: content, raw, ascii });
    }
    document(&mut reader, &mut documents)?;
    Some(documents)
}

/// No tabs, carriage returns but in `\r\n` line breaks, other control
/// characters, byte order mark, Unicode line or paragraph separators: their
/// rules are the full parser's business. `Some(ascii)`: whether the text,
/// allowed, is all ASCII.
fn allowed_characters(text: &str) -> Option<bool> {
    let bytes = text.as_bytes();
    // Most texts hold no `\r`: one test per byte. With one, a `\r` is
    // allowed only before a `\n`.
    if has_control(bytes) {
        let allowed = |(i, b): (usize, &u8)| match *b {
            b'\n' => true,
            b'\r' => bytes.get(i + 1) == Some(&b'\n'),
            b => b >= 0x20 && b != 0x7f,
        };
        if !bytes.iter().enumerate().all(allowed) {
            return None;
        }
    }
    if text.is_ascii() {
        return Some(true);
    }
    let refused = text.chars().any(|c| {
        matches!(c, '\u{80}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}')
            || matches!(c, '\u{fffe}' | '\u{ffff}')
    });
    (!refused).then_some(false)
}

/// Whether `bytes` holds a control character other than `\n`, or DEL: a
/// test without branches per byte, in blocks the compiler vectorizes (an
/// export's check reads 16 MB).
// `|` and `&`, not `||` and `&&`: no branch to keep the loop from
// vectorizing.
#[allow(clippy::needless_bitwise_bool)]
fn has_control(bytes: &[u8]) -> bool {
    bytes.chunks(64).any(|block| {
        block.iter().fold(false, |seen, &b| seen | ((b < 0x20) & (b != b'\n')) | (b == 0x7f))
    })
}

/// A line with content (not blank, not only a comment).
#[derive(Clone, Copy)]
struct Line<'a> {
    /// 1-based.
    number: u32,
    /// Leading spaces; for the rest of a `- key: value` line, where the
    /// mapping starts.
    indent: usize,
    /// The line from `indent` on.
    text: &'a str,
    /// The whole line, for columns.
    raw: &'a str,
    /// Whether the whole text is ASCII: then a column is a byte offset.
    ascii: bool,
}

impl Line<'_> {
    /// The 1-based column of `text[offset..]`, in characters as the full
    /// parser counts them.
    fn column(&self, offset: usize) -> u32 {
        let start = self.raw.len() - self.text.len() + offset;
        let prefix = &self.raw[..start];
        let chars =
            if self.ascii || prefix.is_ascii() { prefix.len() } else { prefix.chars().count() };
        u32::try_from(chars + 1).unwrap_or(u32::MAX)
    }

    fn loc(&self, offset: usize) -> Loc {
        Loc { line: self.number, column: self.column(offset) }
    }

    fn is_item(&self) -> bool {
        self.text == "-" || self.text.starts_with("- ")
    }
}

/// Read the lines of one document gathered in `reader` (then clear them):
/// one block node that takes every line, or nothing.
fn document(reader: &mut Reader<'_>, documents: &mut Vec<Node>) -> Option<()> {
    let Some(first) = reader.lines.first() else { return Some(()) };
    reader.at = 0;
    let node = reader.block(first.indent, 0)?;
    if reader.at != reader.lines.len() {
        return None;
    }
    documents.push(node);
    // Empty for the next document (a mapping or sequence takes its own
    // entries or items when it ends), their room kept.
    reader.lines.clear();
    reader.entries.clear();
    reader.items.clear();
    Some(())
}

#[derive(Default)]
struct Reader<'a> {
    lines: Vec<Line<'a>>,
    at: usize,
    /// The entries of the mappings being read, innermost last: a mapping
    /// gathers its entries here and takes them in one allocation of their
    /// size when it ends, instead of growing its own list (a configured
    /// queue's manifest has some 60 mappings).
    entries: Vec<(Key, Node)>,
    /// The same for the items of the sequences being read.
    items: Vec<Node>,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<Line<'a>> {
        self.lines.get(self.at).copied()
    }

    /// The block (mapping or sequence) whose first line is the next one, at `indent`.
    fn block(&mut self, indent: usize, depth: usize) -> Option<Node> {
        let line = self.peek()?;
        if line.indent != indent {
            return None;
        }
        if line.is_item() {
            self.sequence(indent, depth, false)
        } else {
            self.mapping(indent, depth)
        }
    }

    /// The value that follows a `key:` or `-` with nothing after it on its
    /// line: a deeper block, or (after a key) a sequence at the key's own
    /// indent. An empty value (null) is left to the full parser.
    fn nested(&mut self, indent: usize, depth: usize, after_key: bool) -> Option<Node> {
        let next = self.peek()?;
        if next.indent > indent {
            self.block(next.indent, depth + 1)
        } else if after_key && next.indent == indent && next.is_item() {
            self.sequence(indent, depth + 1, true)
        } else {
            None
        }
    }

    /// After a scalar value: the next line must not be deeper (it would
    /// continue the scalar, or be an error).
    fn ends_scalar(&self, indent: usize) -> Option<()> {
        match self.peek() {
            Some(next) if next.indent > indent => None,
            _ => Some(()),
        }
    }

    /// A sequence; `indentless`: the value of a key at the key's own indent,
    /// which the full parser locates at its first item's value, not its dash.
    fn sequence(&mut self, indent: usize, depth: usize, indentless: bool) -> Option<Node> {
        too_deep(depth)?;
        let first = self.peek()?;
        let loc = if indentless {
            let value = after_spaces(&first.text[1..]);
            if value.is_empty() || value.starts_with('#') {
                return None;
            }
            first.loc(first.text.len() - value.len())
        } else {
            first.loc(0)
        };
        let start = self.items.len();
        while let Some(line) = self.peek() {
            if line.indent < indent || (line.indent == indent && !line.is_item()) {
                break;
            }
            if line.indent > indent {
                return None;
            }
            let after = after_spaces(&line.text[1..]);
            if after.is_empty() || after.starts_with('#') {
                self.at += 1;
                let item = self.nested(indent, depth, false)?;
                self.items.push(item);
                continue;
            }
            let offset = line.text.len() - after.len();
            if after == "-" || after.starts_with("- ") {
                return None;
            }
            if split_key(after).is_some() {
                // `- key: value`: a mapping that starts here, its further
                // keys on the next lines at this column.
                let inner = Line { indent: indent + offset, text: after, ..line };
                self.lines[self.at] = inner;
                let item = self.mapping(inner.indent, depth + 1)?;
                self.items.push(item);
                continue;
            }
            self.items.push(scalar(after, &line, offset)?);
            self.at += 1;
            self.ends_scalar(indent)?;
        }
        let items = self.items.drain(start..).collect();
        Some(Node { value: Value::Seq(items), loc, plain: false })
    }

    fn mapping(&mut self, indent: usize, depth: usize) -> Option<Node> {
        too_deep(depth)?;
        let first = self.peek()?;
        let loc = first.loc(0);
        let start = self.entries.len();
        let mut seen = Seen::default();
        while let Some(line) = self.peek() {
            if line.indent < indent || (line.indent == indent && line.is_item()) {
                break;
            }
            if line.indent > indent {
                return None;
            }
            let (key, rest) = split_key(line.text)?;
            let name = key_text(key, &line)?;
            // A repeated key is the full parser's to report.
            if seen.repeated(&self.entries[start..], &name).is_some() {
                return None;
            }
            let key = Key { name, loc: line.loc(0) };
            let value = if rest.is_empty() || rest.starts_with('#') {
                self.at += 1;
                self.nested(indent, depth, true)?
            } else {
                let value = scalar(rest, &line, line.text.len() - rest.len())?;
                self.at += 1;
                self.ends_scalar(indent)?;
                value
            };
            self.entries.push((key, value));
        }
        let entries = self.entries.drain(start..).collect();
        Some(Node { value: Value::Map(entries), loc, plain: false })
    }
}

/// `None` for a node at `depth`, which deep documents reach: they are the
/// full parser's to refuse (with a margin for a flow sequence inside). Asked
/// by every mapping and sequence, since they nest without a block between
/// them (a key's indentless sequence of `- key:` mappings, two levels per
/// two columns), and the reader recurses once per level.
fn too_deep(depth: usize) -> Option<()> {
    (depth + 2 < MAX_DEPTH).then_some(())
}

/// `text` from its first character other than a space on (a loop over
/// bytes: `trim_start_matches(' ')` searches with a pattern, at some cost
/// per call on every line).
fn after_spaces(text: &str) -> &str {
    let spaces = text.bytes().take_while(|&b| b == b' ').count();
    &text[spaces..]
}

/// `text` up to its last character other than a space.
fn before_spaces(text: &str) -> &str {
    let spaces = text.bytes().rev().take_while(|&b| b == b' ').count();
    &text[..text.len() - spaces]
}

/// The name of the mapping key `key` (as [`split_key`] gives it) on `line`.
fn key_text(key: &str, line: &Line<'_>) -> Option<Text> {
    let first = *key.as_bytes().first()?;
    if matches!(first, b'"' | b'\'' | b'[' | b'{') {
        return key_name(scalar(key, line, 0)?.value).ok();
    }
    // A plain key, which holds no `: ` and no ` #` and does not end in a
    // space (`split_key`): `plain_text(key, first) == Some(key)` but for
    // its first character and a final colon, which are tested here
    // without its scan.
    // A merge key (`<<`) is the full parser's to refuse.
    if !plain_start(first, key.as_bytes().get(1).copied()) || key.ends_with(':') || key == "<<" {
        return None;
    }
    key_name(resolve_plain(key)).ok()
}

/// Whether a plain scalar may start with `first`, `second` following it:
/// not with an indicator, but for `-` before a non-space (`-1`, `-x`; `?`
/// and `:` may too, which no manifest uses).
fn plain_start(first: u8, second: Option<u8>) -> bool {
    !super::is_indicator(first) || (first == b'-' && second.is_some_and(|b| b != b' '))
}

/// The first `:` or `#` of `bytes` from `from` on. Most keys and values
/// are a few to some 30 bytes, where `memchr2`'s setup costs more than its
/// search: they are read eight bytes at a time ([`colon_or_hash_in`]), and
/// `memchr2` searches longer texts.
fn colon_or_hash(bytes: &[u8], from: usize) -> Option<usize> {
    let rest = bytes.get(from..)?;
    let found = if rest.len() < 64 {
        let mut words = rest.chunks_exact(8);
        let mut at = 0;
        let mut found = None;
        for word in &mut words {
            let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
            if let Some(offset) = colon_or_hash_in(word) {
                found = Some(at + offset);
                break;
            }
            at += 8;
        }
        found.or_else(|| {
            let tail = words.remainder();
            tail.iter().position(|&b| b == b':' || b == b'#').map(|offset| at + offset)
        })
    } else {
        memchr::memchr2(b':', b'#', rest)
    };
    found.map(|at| from + at)
}

/// The offset of the first `:` or `#` among the eight bytes of `word`
/// (little-endian: the first byte lowest). A byte equal to the one looked
/// for is a zero byte of `word ^ repeated`; `(x - 0x01..) & !x & 0x80..`
/// marks the lowest zero byte of `x` exactly (a borrow marks only bytes
/// above it), so the lowest mark of either search is the first match.
fn colon_or_hash_in(word: u64) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_bytes = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let marks =
        zero_bytes(word ^ (ONES * u64::from(b':'))) | zero_bytes(word ^ (ONES * u64::from(b'#')));
    (marks != 0).then(|| marks.trailing_zeros() as usize / 8)
}

/// `key: rest` (or `key:` at the end): the key's text and what follows the
/// colon and its spaces; `None` if the line is not a mapping entry this
/// reader knows.
fn split_key(text: &str) -> Option<(&str, &str)> {
    let end = match text.as_bytes().first()? {
        b'"' => quoted_end(text, b'"')?,
        b'\'' => quoted_end(text, b'\'')?,
        _ => {
            // A plain key ends at the first `: ` (or a final `:`); a ` #`
            // before it starts a comment, and the line is no entry.
            let colon = plain_key_end(text.as_bytes())?;
            if text[..colon].ends_with(' ') {
                return None;
            }
            colon
        }
    };
    if end == 0 || end > MAX_KEY {
        return None;
    }
    let after = text[end..].strip_prefix(':')?;
    if !(after.is_empty() || after.starts_with(' ')) {
        return None;
    }
    Some((&text[..end], after_spaces(after)))
}

/// Where a plain key ends in `bytes`: the first `: `, or a final `:`;
/// `None` when neither comes before a ` #` (a comment). One pass over the
/// colons and hashes.
fn plain_key_end(bytes: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = colon_or_hash(bytes, from) {
        if bytes[at] == b'#' {
            if at > 0 && bytes[at - 1] == b' ' {
                return None;
            }
        } else if matches!(bytes.get(at + 1), None | Some(b' ')) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The end (past the closing quote) of the quoted scalar `text` starts with,
/// on this line.
fn quoted_end(text: &str, quote: u8) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// A scalar (or a one-line flow sequence of scalars) that is the rest of its
/// line (a trailing comment aside): `text`, at `offset` in `line.text`.
fn scalar(text: &str, line: &Line<'_>, offset: usize) -> Option<Node> {
    let loc = line.loc(offset);
    let (value, plain, end) = match text.as_bytes().first()? {
        b'"' | b'\'' => {
            let (value, end) = quoted(text)?;
            (Value::Str(value), false, end)
        }
        b'[' => {
            let (items, end) = flow_sequence(text, line, offset)?;
            (Value::Seq(items), false, end)
        }
        b'{' if text.starts_with("{}") => (Value::Map(Vec::new()), false, 2),
        first => {
            let plain = plain_text(text, *first)?;
            (resolve_plain(plain), true, plain.len())
        }
    };
    // After a quoted scalar or a flow sequence: spaces, then nothing or a comment.
    let rest = &text[end..];
    let trimmed = after_spaces(rest);
    if !(trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len())) {
        return None;
    }
    Some(Node { value, loc, plain })
}

/// The value of the quoted scalar `text` starts with, and its end.
fn quoted(text: &str) -> Option<(Text, usize)> {
    if text.starts_with('"') {
        let end = quoted_end(text, b'"')?;
        Some((double_quoted(&text[1..end - 1])?, end))
    } else {
        let end = quoted_end(text, b'\'')?;
        let body = &text[1..end - 1];
        let value =
            if body.contains("''") { Text::from(body.replace("''", "'")) } else { Text::new(body) };
        Some((value, end))
    }
}

/// `[a, "b", c]` on one line, of scalars only: the items and the end (past
/// `]`). Plain items holding anything a flow context may give a meaning
/// (`:`, `#`, brackets, braces, spaces: the full parser reads `[a -]` as two
/// tokens) and empty items are left to the full parser.
fn flow_sequence(text: &str, line: &Line<'_>, offset: usize) -> Option<(Vec<Node>, usize)> {
    let bytes = text.as_bytes();
    let mut items = Vec::new();
    let mut at = 1;
    let skip_spaces = |mut at: usize| {
        while bytes.get(at) == Some(&b' ') {
            at += 1;
        }
        at
    };
    at = skip_spaces(at);
    if bytes.get(at) == Some(&b']') {
        return Some((items, at + 1));
    }
    loop {
        let rest = &text[at..];
        let (value, plain, len) = match rest.as_bytes().first()? {
            b'"' | b'\'' => {
                let (value, len) = quoted(rest)?;
                (Value::Str(value), false, len)
            }
            first => {
                let len = rest.find([',', ']'])?;
                let item = before_spaces(&rest[..len]);
                let starts_plain = item.len() > 1 || *first != b'-';
                if item.is_empty()
                    || plain_text(item, *first) != Some(item)
                    || !starts_plain
                    || item.bytes().any(|b| b"#:[]{} ".contains(&b))
                {
                    return None;
                }
                (resolve_plain(item), true, item.len())
            }
        };
        items.push(Node { value, loc: line.loc(offset + at), plain });
        at = skip_spaces(at + len);
        match bytes.get(at)? {
            b',' => at = skip_spaces(at + 1),
            b']' => return Some((items, at + 1)),
            _ => return None,
        }
        if matches!(bytes.get(at), Some(b']' | b',')) {
            return None;
        }
    }
}

/// The text of a one-line plain scalar (up to a comment, trailing spaces
/// trimmed), if it is one the full parser reads as such.
fn plain_text(text: &str, first: u8) -> Option<&str> {
    let bytes = text.as_bytes();
    if !plain_start(first, bytes.get(1).copied()) {
        return None;
    }
    // One pass over the colons and hashes: a `: ` before any ` #` is a
    // mapping inside the scalar; the first ` #` starts a comment.
    let mut end = bytes.len();
    let mut from = 0;
    while let Some(at) = colon_or_hash(bytes, from) {
        if bytes[at] == b'#' {
            if at > 0 && bytes[at - 1] == b' ' {
                end = at - 1;
                break;
            }
        } else if bytes.get(at + 1) == Some(&b' ') {
            return None;
        }
        from = at + 1;
    }
    let body = before_spaces(&text[..end]);
    if body.is_empty() || body.ends_with(':') {
        return None;
    }
    Some(body)
}

/// The value of a double-quoted scalar's body (between the quotes), for the
/// escapes JSON has; `None` for any other escape.
fn double_quoted(body: &str) -> Option<Text> {
    if !body.contains('\\') {
        return Some(Text::new(body));
    }
    let mut out = Text::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            '/' => out.push('/'),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                if hex.len() != 4 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                // A surrogate half is not a character: the full parser's business.
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::super::parse_with_full_parser;
    use super::*;
    use proptest::prelude::*;

    /// What the invariant says: whatever this reader reads, the full parser
    /// reads the same (values, locations, plainness).
    fn agrees(text: &str) -> Result<bool, TestCaseError> {
        let Some(fast) = read(text, 0) else { return Ok(false) };
        match parse_with_full_parser(text) {
            Ok(full) => {
                prop_assert_eq!(&fast, &full, "in\n{}", text);
                Ok(true)
            }
            Err(e) => Err(TestCaseError::fail(format!(
                "read what the full parser rejects ({e}, at {}):\n{text}",
                e.loc
            ))),
        }
    }

    fn reads(text: &str) {
        match agrees(text) {
            Ok(true) => {}
            Ok(false) => panic!("not read by the block reader:\n{text}"),
            Err(e) => panic!("{e}"),
        }
    }

    fn declines(text: &str) {
        assert!(read(text, 0).is_none(), "read, but should be left to the full parser:\n{text}");
    }

    #[test]
    fn reads_manifests_as_the_full_parser_does() {
        reads(
            "# a comment\napiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata:\n  name: support\n\nspec:\n  name: Support   # trailing comment\n  description: \"A \\\"quoted\\\" \\u00e9 text\"\n  other: 'it''s'\n  n: 12\n  f: -1.5\n  t: true\n  e: []\n  m: {}\n  fl: [ a, \"b c\" , 'd',-1 ]\n  list:\n    - a\n    - key: v\n      k2: 2\n    -\n      deep: x\n  indentless:\n  - x\n  - y\n  after: z\n---\n---\n- top\n- 'level'\n",
        );
        reads("clé: café\nnext: é # x\n\"quoted key\": 1\n'single': 2\n3: three\n");
        reads("a:\n    b:\n        - c: 1\n          d:\n            - e\n");
        reads("a: 1\n---\nb: 2");
        reads("a: 1\r\nb:\r\n  - x # c\r\n---\r\nc: \"q\"\r\n");
    }

    /// Keys and strings are kept inline up to 24 bytes ([`Text`]) and
    /// allocated beyond: on either side of the limit, in every quoting,
    /// escaped or not, both readers read the same text.
    #[test]
    fn texts_read_the_same_on_either_side_of_the_inline_limit() {
        for len in [0, 1, 22, 23, 24, 25, 26, 40] {
            let word = "k".repeat(len.max(1));
            let mut text = format!("{word}: {}\n", "v".repeat(len.max(1)));
            text.push_str(&format!("\"q{word}\": \"{}\"\n", "é".repeat(len / 2)));
            text.push_str(&format!("s{word}: '{}''{}'\n", "a".repeat(len), "b".repeat(len)));
            text.push_str(&format!("e{word}: \"{}\\n\\u00e9\"\n", "c".repeat(len)));
            reads(&text);
            let documents = read(&text, 0).expect("read");
            let node = &documents[0];
            let quoted = node.get(&format!("s{word}")).and_then(Node::as_str);
            assert_eq!(quoted, Some(format!("{}'{}", "a".repeat(len), "b".repeat(len)).as_str()));
            let escaped = node.get(&format!("e{word}")).and_then(Node::as_str);
            assert_eq!(escaped, Some(format!("{}\n\u{e9}", "c".repeat(len)).as_str()));
        }
    }

    #[test]
    fn leaves_everything_else_to_the_full_parser() {
        for text in [
            "a: |\n  text\n",
            "a: >\n  text\n",
            "a: [1, [2]]\n",
            "a: [1, b: 2]\n",
            "a: [1, 2,]\n",
            "a: [1,\n  2]\n",
            "a: {b: 1}\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: one\n  two\n",
            "a: \"one\n  two\"\n",
            "a:\tb\n",
            "a: b\rc: d\n",
            "a:\n",
            "- \n",
            "a: 1\na: 2\n",
            // A merge key, which the full parser refuses (a proptest found it).
            "<<: a\r\n",
            "b:\n  <<: a\n",
            "a: b: c\n",
            "- - a\n",
            "? a\n: b\n",
            "--- a\n",
            "a: 1\n...\n",
            "plain\n",
            "a:\n  b: 1\n c: 2\n",
            "a: \"\\x41\"\n",
            "\u{feff}a: 1\n",
        ] {
            declines(text);
        }
    }

    #[test]
    fn reads_what_gcctl_writes() {
        // An export's documents, as the export writer makes them.
        let spec = serde_json::json!({
            "apiVersion": "gcctl/v1", "kind": "OAuthClient", "metadata": {"name": "client-1"},
            "spec": {"name": "Client: one", "roleDivisions": [{"division": "Home", "role": "employee"}],
                     "secretVersion": 1, "description": "yes", "scope": [], "note": "a #b", "e": "é"}
        });
        let doc = crate::export::yaml::emit(&spec);
        reads(&format!("# yaml-language-server: $schema=gcctl.schema.json\n{doc}---\n{doc}"));
    }

    #[test]
    fn deep_documents_are_left_to_the_full_parser() {
        for depth in [MAX_DEPTH - 3, MAX_DEPTH - 2, MAX_DEPTH, MAX_DEPTH + 1] {
            let mut text = String::new();
            for level in 0..depth {
                text.push_str(&" ".repeat(level));
                text.push_str("k:\n");
            }
            text.push_str(&" ".repeat(depth));
            text.push_str("k: [v]\n");
            agrees(&text).unwrap();
        }
    }

    /// Indentless sequences of `- key:` mappings nest two levels per two
    /// columns without a block between them: left to the full parser from
    /// its depth limit on, and thousands of levels (an 8 MB file) are
    /// declined at that limit instead of taking the thread's stack.
    #[test]
    fn deep_indentless_sequences_are_left_to_the_full_parser() {
        fn chain(levels: usize) -> String {
            let mut text = String::from("a:\n");
            for level in 0..levels {
                text.push_str(&" ".repeat(2 * level));
                text.push_str("- a:\n");
            }
            text.push_str(&" ".repeat(2 * levels));
            text.push_str("- x\n");
            text
        }
        fn depth(node: &Node) -> usize {
            1 + match &node.value {
                Value::Seq(items) => items.iter().map(depth).max().unwrap_or(0),
                Value::Map(entries) => entries.iter().map(|(_, v)| depth(v)).max().unwrap_or(0),
                _ => 0,
            }
        }
        let levels = MAX_DEPTH / 2 - 3;
        let documents = read(&chain(levels), 0).expect("read");
        assert!(depth(&documents[0]) > MAX_DEPTH - 8, "{}", depth(&documents[0]));
        for levels in [MAX_DEPTH / 2 - 1, MAX_DEPTH / 2, MAX_DEPTH / 2 + 1, 300] {
            agrees(&chain(levels)).unwrap();
        }
        // On a thread of the loader's large-file workers' size.
        let deep = chain(4_000);
        let declined = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || read(&deep, 0).is_none())
            .unwrap()
            .join()
            .unwrap();
        assert!(declined);
    }

    /// Every YAML file of the repository (manifests, examples, fixtures, CI):
    /// read alike, and the manifests and examples read by this reader.
    #[test]
    fn agrees_with_the_full_parser_on_the_repository() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut read_count = 0;
        let mut todo = vec![root.join("manifests"), root.join("examples"), root.join("tests")];
        while let Some(dir) = todo.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
                let path = entry.path();
                if path.is_dir() {
                    todo.push(path);
                    continue;
                }
                if !path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let is_read = agrees(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let manifest = !path.components().any(|c| c.as_os_str() == "tests");
                if manifest && text.contains("apiVersion: gcctl/") {
                    assert!(is_read, "{} is not read by the block reader", path.display());
                }
                read_count += usize::from(is_read);
            }
        }
        assert!(read_count >= 10, "{read_count}");
    }

    /// Scalars, keys and layouts the generators draw from: the awkward cases
    /// of plain YAML (indicators, `: `, ` #`, quotes, numbers, non-ASCII).
    fn scalar_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z][a-z0-9 _.-]{0,10}",
            "[-+.0-9eExo]{1,6}",
            prop::sample::select(vec![
                "true", "false", "null", "~", "yes", "-", "-x", ".inf", "a: b", "a #b", "a#b",
                "a:", ":a", "'q'", "\"q\"", "é", "x y ", "[]", "{}", "&a", "*a", "!t", "|", ">",
                "%", "@", "`", "? x", "0x1F", "0o17", "1e3", "-.5", "a,b", "\\", "it's",
            ])
            .prop_map(str::to_string),
            "[ -~]{0,8}",
        ]
    }

    #[derive(Debug, Clone)]
    enum Tree {
        Scalar(String, u8),
        Seq(Vec<Tree>),
        Map(Vec<(String, Tree)>),
    }

    fn tree() -> impl Strategy<Value = Tree> {
        let leaf = (scalar_text(), 0u8..4).prop_map(|(s, style)| Tree::Scalar(s, style));
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..4).prop_map(Tree::Seq),
                prop::collection::vec((scalar_text(), inner), 1..4).prop_map(Tree::Map),
            ]
        })
    }

    /// Style choices: indent step, indentless sequences, comments.
    #[derive(Debug, Clone, Copy)]
    struct Style {
        step: usize,
        indentless: bool,
        comments: bool,
        /// Sequences of scalars as `[a, b]`.
        flow: bool,
    }

    fn write_scalar(out: &mut String, text: &str, style: u8) {
        match style {
            0 | 1 => out.push_str(text),
            2 => {
                out.push('"');
                for c in text.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        c => out.push(c),
                    }
                }
                out.push('"');
            }
            _ => {
                out.push('\'');
                out.push_str(&text.replace('\'', "''"));
                out.push('\'');
            }
        }
    }

    fn write(out: &mut String, tree: &Tree, indent: usize, style: Style) {
        let pad = |out: &mut String, n: usize| out.extend(std::iter::repeat_n(' ', n));
        match tree {
            Tree::Scalar(text, s) => {
                write_scalar(out, text, *s);
                if style.comments && *s == 1 {
                    out.push_str(" # note");
                }
                out.push('\n');
            }
            Tree::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 || !out.ends_with("- ") {
                        pad(out, indent);
                    }
                    out.push('-');
                    match item {
                        Tree::Scalar(..) => {
                            out.push(' ');
                            write(out, item, indent + style.step, style);
                        }
                        Tree::Map(_) if i % 2 == 0 => {
                            out.push(' ');
                            write_inline_map(out, item, indent + 2, style);
                        }
                        _ => {
                            out.push('\n');
                            write(out, item, indent + style.step, style);
                        }
                    }
                }
            }
            Tree::Map(entries) => {
                for (key, value) in entries {
                    pad(out, indent);
                    out.push_str(key);
                    out.push(':');
                    match value {
                        Tree::Scalar(..) => {
                            out.push(' ');
                            write(out, value, indent + style.step, style);
                        }
                        Tree::Seq(items)
                            if style.flow
                                && items.iter().all(|i| matches!(i, Tree::Scalar(..))) =>
                        {
                            out.push_str(" [");
                            for (i, item) in items.iter().enumerate() {
                                if let Tree::Scalar(text, s) = item {
                                    if i > 0 {
                                        out.push_str(if *s == 0 { "," } else { ", " });
                                    }
                                    write_scalar(out, text, *s);
                                }
                            }
                            out.push_str("]\n");
                        }
                        Tree::Seq(_) if style.indentless => {
                            out.push('\n');
                            write(out, value, indent, style);
                        }
                        _ => {
                            if style.comments {
                                out.push_str("  # nested");
                            }
                            out.push('\n');
                            write(out, value, indent + style.step, style);
                        }
                    }
                }
            }
        }
    }

    /// A mapping after `- `: its first key on the dash's line.
    fn write_inline_map(out: &mut String, tree: &Tree, indent: usize, style: Style) {
        let mut nested = String::new();
        write(&mut nested, tree, indent, style);
        out.push_str(nested.trim_start_matches(' '));
    }

    fn document() -> impl Strategy<Value = String> {
        (tree(), 2usize..5, any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>(), 0u8..4)
            .prop_map(|(tree, step, indentless, comments, blank, flow, crlf)| {
                let mut out = String::new();
                if blank {
                    out.push_str("# head\n\n");
                }
                write(&mut out, &tree, 0, Style { step, indentless, comments, flow });
                // One document in four saved with Windows line breaks.
                if crlf == 0 { out.replace('\n', "\r\n") } else { out }
            })
    }

    proptest! {
        /// The vectorized test finds what a test of each byte finds.
        #[test]
        fn control_characters_are_found_in_blocks(bytes in prop::collection::vec(
            prop::sample::select(&b"a \n\r\t\x00\x1f\x20\x7f\x80\xff"[..]), 0..200)
        ) {
            let each = bytes.iter().any(|&b| (b < 0x20 && b != b'\n') || b == 0x7f);
            prop_assert_eq!(has_control(&bytes), each);
        }

        /// The one-pass scans for `: ` and ` #` find what two searches for
        /// each pair (the reader before `memchr`) found.
        #[test]
        // Up to 80 bytes: the short texts `colon_or_hash` reads by words
        // and the longer ones it gives `memchr2`.
        fn one_pass_scans_agree_with_a_search_per_pair(text in "[a:# -]{0,80}") {
            let pair = super::super::find_pair;
            let key_end = pair(&text, *b": ")
                .or_else(|| text.ends_with(':').then(|| text.len() - 1))
                .filter(|&colon| pair(&text[..colon], *b" #").is_none());
            prop_assert_eq!(plain_key_end(text.as_bytes()), key_end);
            if let Some(&first) = text.as_bytes().first().filter(|b| !super::super::is_indicator(**b)) {
                let body = pair(&text, *b" #").map_or(text.as_str(), |c| &text[..c]);
                let body = body.trim_end_matches(' ');
                let plain = !body.is_empty() && pair(body, *b": ").is_none() && !body.ends_with(':');
                prop_assert_eq!(plain_text(&text, first), plain.then_some(body));
            }
        }
    }

    proptest! {
        /// The search by words finds what a search byte by byte finds, in
        /// any bytes (`\u{80}`-`\u{ff}` included, whose high bit the
        /// marks use).
        #[test]
        fn colon_or_hash_finds_the_first(
            bytes in prop::collection::vec(prop_oneof![any::<u8>(), Just(b':'), Just(b'#'), Just(0xba), Just(0xa3)], 0..80),
            from in 0usize..90,
        ) {
            let expected = bytes.get(from..).and_then(|rest| {
                rest.iter().position(|&b| b == b':' || b == b'#').map(|at| from + at)
            });
            prop_assert_eq!(colon_or_hash(&bytes, from), expected);
        }

        /// A key's name is what reading it as a scalar gives.
        #[test]
        fn keys_are_named_as_their_scalars(text in "[a-zA-Z0-9:#.'\"\\[\\]{}?~ -]{1,40}") {
            let line = Line { number: 1, indent: 0, text: &text, raw: &text, ascii: true };
            if let Some((key, _)) = split_key(&text) {
                let as_scalar = scalar(key, &line, 0).and_then(|node| key_name(node.value).ok());
                prop_assert_eq!(key_text(key, &line), as_scalar);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Generated documents: whatever is read, the full parser reads alike.
        #[test]
        fn agrees_with_the_full_parser_on_generated_documents(
            docs in prop::collection::vec(document(), 1..3),
        ) {
            let text = docs.join("---\n");
            agrees(&text)?;
        }

        /// The same documents with characters inserted, replaced or removed.
        #[test]
        fn agrees_with_the_full_parser_on_mutated_documents(
            doc in document(),
            edits in prop::collection::vec(
                (any::<prop::sample::Index>(), 0u8..3, prop::sample::select(vec![
                    " ", "  ", ":", ": ", "-", "- ", "#", " #", "\"", "'", "\n", "\\", "[", "{",
                    "&", "*", "!", "|", ">", "?", "é", "---\n", "\t", "\r", ",", "%", "x",
                ])),
                1..4,
            ),
        ) {
            let mut text = doc;
            for (at, op, piece) in edits {
                let mut at = at.index(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                match op {
                    0 => text.insert_str(at, piece),
                    1 => {
                        let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
                        text.replace_range(at..end, piece);
                    }
                    _ => {
                        let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
                        text.replace_range(at..end, "");
                    }
                }
            }
            agrees(&text)?;
        }
    }
}
