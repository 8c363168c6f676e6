//! Server text is untrusted. A server (a real org, a proxy, a misconfigured
//! region URL, a hostile host) decides what error messages, codes and
//! bodies say and how long they are. Before any of it reaches a message:
//!
//! - every secret value gcctl knows in this process is replaced by
//!   `[redacted]` (the OAuth client secret and its Basic credentials,
//!   access tokens, the secrets resolved from manifests), so a server that
//!   echoes the request cannot make gcctl print them;
//! - control characters (ANSI escapes, CR/LF, NUL, …) become spaces, so
//!   server text cannot move the cursor, recolor the terminal or forge an
//!   `error:` line;
//! - the text is cut to a sane length.
//!
//! Response bodies are read up to [`MAX_BODY_BYTES`]; a longer answer is an
//! error, never a memory blow-up.
//!
//! The set of known secrets is process-wide on purpose: an `ApiError` is
//! built deep in the client, far from the run that knows the manifests'
//! secrets, and a secret must be redacted wherever it shows up.

use std::borrow::Cow;
use std::sync::RwLock;

/// Longest server-supplied text kept in one message field, in characters.
pub const MAX_TEXT_CHARS: usize = 500;

/// Largest response body gcctl reads. The largest real answers are list
/// pages (500 queues are well under 2 MiB).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Secrets shorter than this are not registered: replacing a three-letter
/// value everywhere would garble messages and protect nothing.
const MIN_SECRET_CHARS: usize = 6;

/// The registered secrets, in every form [`register_secret`] lists.
static SECRETS: RwLock<Registry> = RwLock::new(Registry::new(false));

/// The registered secrets as decoded text holds them: as written, and
/// percent-encoded (a URL). What [`secret_finder`] looks for: the other
/// forms are escapes only raw JSON text holds. Found in any letter case
/// (ASCII): an export must not write a secret upper- or lowercased either
/// (a handle is a name lowercased), while output is redacted as written.
static DECODED_FORMS: RwLock<Registry> = RwLock::new(Registry::new(true));

/// Secret forms, each once, and the automaton that finds them all in one
/// pass over a text, made again (with the forms sorted longest first) on
/// the first search after a registration: an org of thousands of webhook
/// URLs with keys registers tens of thousands of forms, which a search
/// form by form (and a sort per registration) made minutes of work.
struct Registry {
    forms: Vec<String>,
    seen: Option<std::collections::HashSet<String>>,
    automaton: Option<std::sync::Arc<aho_corasick::AhoCorasick>>,
    /// Whether the forms are found in any ASCII letter case.
    any_case: bool,
}

impl Registry {
    const fn new(any_case: bool) -> Self {
        Registry { forms: Vec::new(), seen: None, automaton: None, any_case }
    }

    fn insert(&mut self, form: String) {
        if self.seen.get_or_insert_with(Default::default).insert(form.clone()) {
            self.forms.push(form);
            self.automaton = None;
        }
    }

    /// The automaton, made (and the forms sorted) if a registration came
    /// since; `None` when nothing is registered.
    fn ready(&mut self) -> Option<std::sync::Arc<aho_corasick::AhoCorasick>> {
        if self.forms.is_empty() {
            return None;
        }
        if self.automaton.is_none() {
            // Longest first, so a secret containing another is replaced whole.
            self.forms.sort_by_key(|s| std::cmp::Reverse(s.len()));
            let built = aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .ascii_case_insensitive(self.any_case)
                .build(&self.forms)
                .ok()?;
            self.automaton = Some(std::sync::Arc::new(built));
        }
        self.automaton.clone()
    }
}

/// The automaton of `registry`, made if needed.
fn automaton_of(registry: &RwLock<Registry>) -> Option<std::sync::Arc<aho_corasick::AhoCorasick>> {
    if let Ok(read) = registry.read() {
        if read.forms.is_empty() {
            return None;
        }
        if let Some(automaton) = &read.automaton {
            return Some(automaton.clone());
        }
    }
    registry.write().ok()?.ready()
}

/// Whether `text` holds a registered secret, in any form.
fn holds_secret(text: &str) -> bool {
    text.len() >= MIN_SECRET_CHARS && automaton_of(&SECRETS).is_some_and(|a| a.is_match(text))
}

/// Remember a secret value, so that it is redacted from every server text
/// from now on.
///
/// A server that echoes a request (an error quoting the body gcctl sent)
/// quotes it as JSON text: the secret's escaped forms are redacted too
/// (`"` as `\"`, a line break as `\n`, `/` as `\/`, every character
/// beyond ASCII as `\uXXXX`, and `<>&='` as `\u003c` and so on, as some
/// servers write them); and percent-encoded, as a URL the org holds
/// carries it.
pub fn register_secret(secret: &str) {
    if secret.chars().count() < MIN_SECRET_CHARS {
        return;
    }
    if let Ok(mut secrets) = SECRETS.write() {
        for form in escaped_forms(secret) {
            secrets.insert(form);
        }
    }
    if let Ok(mut decoded) = DECODED_FORMS.write() {
        for form in
            [secret.to_string(), percent_encoded(secret, true), percent_encoded(secret, false)]
        {
            decoded.insert(form);
        }
    }
}

/// `secret` percent-encoded, as a URL carries it (a base64 secret's `+ /
/// =` as `%2B %2F %3D`; some encoders write the hex in lowercase).
fn percent_encoded(secret: &str, upper: bool) -> String {
    let mut out = String::with_capacity(secret.len() * 3);
    for byte in secret.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else if upper {
            out.push_str(&format!("%{byte:02X}"));
        } else {
            out.push_str(&format!("%{byte:02x}"));
        }
    }
    out
}

/// Register a credential written as text among other text (an HTTP header's
/// value: `Bearer abc…`, `sid=abc…; Secure`): the whole value; and, where
/// they look like keys, each of its lines (a diff shows a text line by
/// line), each value of its `name=value` parts between `;` and `,` (a
/// server may echo a cookie's value alone), and each word of the other
/// parts (the token after `Bearer`). A part looks like a key when it holds
/// a digit or a sign, or is long (16 characters): `Secure`, `HttpOnly`,
/// `Strict` or a cookie's name are words, which registering would redact
/// everywhere (a queue named "Secure session queue"). Parts shorter than a
/// secret is ([`register_secret`]) are not registered either.
/// Whether a part of a credential looks like a key rather than a word: it
/// holds a digit or a sign, or is long (16 characters). See
/// [`register_credential`].
pub fn key_like(text: &str) -> bool {
    text.chars().count() >= 16 || text.chars().any(|c| !c.is_alphabetic())
}

pub fn register_credential(value: &str) {
    let register = |text: &str| {
        let text = text.trim();
        if key_like(text) {
            register_secret(text);
        }
    };
    register_secret(value);
    for line in value.lines() {
        register(line);
    }
    for part in value.split([';', ',']) {
        if let Some((_, value)) = part.split_once('=') {
            register(value);
        }
        part.split(|c: char| c.is_whitespace() || c == '=').for_each(register);
    }
}

/// `secret` as written, and as JSON strings write it (without the quotes).
fn escaped_forms(secret: &str) -> Vec<String> {
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json.get(1..json.len().saturating_sub(1)).unwrap_or_default().to_string();
    let ascii = |upper: bool| {
        let mut out = String::with_capacity(json.len());
        for c in json.chars() {
            if c.is_ascii() {
                out.push(c);
                continue;
            }
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&if upper {
                    format!("\\u{unit:04X}")
                } else {
                    format!("\\u{unit:04x}")
                });
            }
        }
        out
    };
    // Gson (Java) writes these as escapes by default (`html safe`): a
    // base64 secret's `=` padding echoed as `\u003d`.
    let html_safe = |form: &str, upper: bool| {
        let mut out = String::with_capacity(form.len());
        for c in form.chars() {
            match c {
                '<' | '>' | '&' | '=' | '\'' if upper => {
                    out.push_str(&format!("\\u{:04X}", c as u32));
                }
                '<' | '>' | '&' | '=' | '\'' => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out
    };
    let mut forms = vec![secret.to_string(), json.clone(), ascii(false), ascii(true)];
    let html: Vec<String> = [(json.clone(), false), (ascii(false), false), (ascii(true), true)]
        .iter()
        .flat_map(|(form, upper)| [html_safe(form, *upper), html_safe(form, !*upper)])
        .collect();
    forms.extend(html);
    let slashed: Vec<String> = forms.iter().map(|f| f.replace('/', "\\/")).collect();
    forms.extend(slashed);
    forms.extend([percent_encoded(secret, true), percent_encoded(secret, false)]);
    forms.sort();
    forms.dedup();
    forms
}

/// Server text made safe to show: known secrets redacted, control
/// characters replaced, whitespace runs collapsed, cut to [`MAX_TEXT_CHARS`].
pub fn sanitize(text: &str) -> String {
    let text = redact(text);
    let visible: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let one_line = visible.split_whitespace().collect::<Vec<_>>().join(" ");
    let count = one_line.chars().count();
    if count <= MAX_TEXT_CHARS {
        return one_line;
    }
    let cut: String = one_line.chars().take(MAX_TEXT_CHARS).collect();
    format!("{cut}… ({} more characters)", count - MAX_TEXT_CHARS)
}

/// Text from the org (a name, an id, a line of a description) made safe to
/// show whole in a line of output: known secrets redacted, and control
/// characters (ANSI escapes, CR, LF, NUL, ...) and the
/// [invisible format characters](is_invisible_format) shown as escapes
/// (`\u{1b}`, `\r`, `\u{200b}`), so that they neither act on the terminal
/// (move the cursor, recolor, forge an `error:` line, reorder what is read)
/// nor vanish: a name holding one reads as what it is. Tabs
/// stay. Unlike [`sanitize`], nothing is cut and spacing is kept: plans and
/// drift reports show values as they are.
pub fn visible(text: &str) -> Cow<'_, str> {
    let secret = holds_secret(text);
    if !secret && !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let text = if secret { redact(text) } else { text.to_string() };
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// What [`visible`] shows as an escape: control characters but tab, and
/// invisible format characters (bidirectional controls among them).
fn hidden(c: char) -> bool {
    (c.is_control() && c != '\t') || is_invisible_format(c)
}

/// A character that shows as nothing and carries no text of its own: a
/// [bidirectional control](is_bidi_control), a zero-width space, a direction
/// mark (left-to-right, right-to-left, Arabic letter), a word joiner or
/// invisible operator, a deprecated format control (U+206A–U+206F), a soft
/// hyphen, the combining grapheme joiner, a Hangul filler, the Mongolian
/// vowel separator or a byte-order mark. Output shows it as an escape, so
/// that two names differing only by one read apart. (Zero-width joiners and
/// non-joiners, variation selectors and tags shape visible text, emoji and
/// Persian among it: output keeps them; [`is_ignorable_in_names`] drops them
/// too.)
pub fn is_invisible_format(c: char) -> bool {
    is_bidi_control(c)
        || matches!(
            c,
            '\u{00ad}'
                | '\u{034f}'
                | '\u{061c}'
                | '\u{115f}'
                | '\u{1160}'
                | '\u{180e}'
                | '\u{200b}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2060}'..='\u{2064}'
                | '\u{206a}'..='\u{206f}'
                | '\u{3164}'
                | '\u{feff}'
                | '\u{ffa0}'
        )
}

/// What a comparison of names for look-alikes leaves out: every
/// [`is_invisible_format`] character, and the zero-width joiners,
/// variation selectors and tags that output keeps.
pub fn is_ignorable_in_names(c: char) -> bool {
    is_invisible_format(c)
        || matches!(c, '\u{200c}' | '\u{200d}' | '\u{fe00}'..='\u{fe0f}' | '\u{e0000}'..='\u{e007f}')
}

/// `text` between double quotes, as output quotes an org's name: as
/// [`visible`] shows it (known secrets redacted, control characters and
/// invisible format characters as escapes), with a `"` inside written `\"` and a
/// backslash `\\`, so that a name cannot close its quotes and have the rest
/// of the line read as gcctl's (`Old" unchanged; "Prod`, or `Old\"…`), and
/// an escape reads as one.
pub fn quoted(text: &str) -> String {
    let text = if holds_secret(text) { Cow::Owned(redact(text)) } else { Cow::Borrowed(text) };
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if hidden(c) => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Unicode bidirectional embedding, override or isolate (U+202A–U+202E,
/// U+2066–U+2069): invisible, and it reorders how the text after it reads
/// (a "Trojan Source" name). Terminal output, JSON output and exported YAML
/// show it as an escape; the data stays the same.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// JSON text with every [`is_bidi_control`] character written as a `\uXXXX`
/// escape: the same JSON value, read as it is. (Outside strings, JSON text
/// holds only ASCII, so every such character is inside a string.)
pub fn escape_bidi_in_json(text: String) -> String {
    if !text.chars().any(is_bidi_control) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_bidi_control(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// [`visible`], line by line: text of several lines (a diagnostic and its
/// hint, an apply message with a snippet) keeps its line breaks, and every
/// other control character shows as an escape.
pub fn visible_lines(text: &str) -> Cow<'_, str> {
    if !text.contains('\n') {
        return visible(text);
    }
    let lines: Vec<Cow<'_, str>> = text.split('\n').map(visible).collect();
    if lines.iter().all(|line| matches!(line, Cow::Borrowed(_))) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(lines.join("\n"))
}

/// `text` with every known secret replaced by `[redacted]`.
/// JSON `text` with every secret known in this process replaced by
/// `[redacted]` inside its strings (in the forms [`register_secret`]
/// lists), never in its numbers, keys' structure or punctuation (a short
/// secret of digits must not break a number): what JSON output and saved
/// plans get, whose other values stay as the org holds them.
pub fn redact_json(text: &str) -> String {
    if !holds_secret(text) {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut at, mut copied) = (0, 0);
    while let Some(open) = memchr::memchr(b'"', &bytes[at..]).map(|i| at + i) {
        // The closing quote: the next one not escaped by a backslash.
        let mut close = open + 1;
        while close < bytes.len() && bytes[close] != b'"' {
            close += if bytes[close] == b'\\' { 2 } else { 1 };
        }
        let close = close.min(bytes.len());
        out.push_str(&text[copied..=open]);
        out.push_str(&redact_escaped(&text[open + 1..close]));
        copied = close;
        at = close + 1;
        if at >= bytes.len() {
            break;
        }
    }
    out.push_str(&text[copied.min(text.len())..]);
    out
}

/// [`redact`] of the inside of a JSON string, which keeps it a JSON string:
/// a secret found right after the backslash of an escape (`\n` before a
/// secret starting with `n`) takes the backslash with it, so that no lone
/// `\[` is left behind.
const REDACTED: &str = "[redacted]";

fn redact_escaped(inner: &str) -> String {
    if !holds_secret(inner) {
        return inner.to_string();
    }
    let Ok(secrets) = SECRETS.read() else { return inner.to_string() };
    // Longest first (a registration since the search may have added
    // unsorted ones), so a secret containing another is replaced whole.
    let mut found: Vec<&String> =
        secrets.forms.iter().filter(|s| inner.contains(s.as_str())).collect();
    found.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut text = inner.to_string();
    for secret in found {
        // From after each replacement on: `[redacted]` may hold a secret.
        let mut from = 0;
        while let Some(at) = text[from..].find(secret.as_str()).map(|i| from + i) {
            let escapes = text[..at].bytes().rev().take_while(|b| *b == b'\\').count();
            let start = if escapes % 2 == 1 { at - 1 } else { at };
            text.replace_range(start..at + secret.len(), REDACTED);
            from = start + REDACTED.len();
        }
    }
    text
}

/// What finds the registered secrets in text, each text read once.
pub struct SecretFinder(aho_corasick::AhoCorasick);

impl SecretFinder {
    /// Whether `text` holds a registered secret (in any of its forms).
    pub fn holds(&self, text: &str) -> bool {
        text.len() >= MIN_SECRET_CHARS && self.0.is_match(text)
    }
}

/// A finder of the secrets registered so far ([`register_secret`]) in
/// decoded text (a value of a parsed JSON answer); `None` when there are
/// none (or they cannot be read).
pub fn secret_finder() -> Option<SecretFinder> {
    automaton_of(&DECODED_FORMS).map(|a| SecretFinder((*a).clone()))
}

fn redact(text: &str) -> String {
    match automaton_of(&SECRETS) {
        Some(automaton) => {
            let mut out = String::with_capacity(text.len());
            automaton.replace_all_with(text, &mut out, |_, _, out| {
                out.push_str(REDACTED);
                true
            });
            out
        }
        None => text.to_string(),
    }
}

/// Multi-line server text made safe to show (a web deployment's snippet):
/// as [`sanitize`], line by line, keeping the lines and their indentation;
/// at most 200 lines.
pub fn sanitize_lines(text: &str) -> String {
    const MAX_LINES: usize = 200;
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = lines
        .iter()
        .take(MAX_LINES)
        .map(|line| {
            let indent: String = line.chars().take_while(|c| *c == ' ').collect();
            format!("{indent}{}", sanitize(line))
        })
        .collect();
    if lines.len() > MAX_LINES {
        out.push(format!("… ({} more lines)", lines.len() - MAX_LINES));
    }
    out.join("\n")
}

/// Read a response body, refusing more than [`MAX_BODY_BYTES`].
pub async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(BodyError::TooLarge);
    }
    // Sized once from the announced length (bounded above), not grown and
    // copied chunk by chunk: a page of 500 configured queues is a megabyte.
    // An announced length is only a hint: at most 16 MiB is reserved ahead.
    let announced = response.content_length().and_then(|n| usize::try_from(n).ok());
    let mut body = Vec::with_capacity(announced.unwrap_or(0).min(16 * 1024 * 1024));
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    Transport(reqwest::Error),
    TooLarge,
}

impl BodyError {
    /// The message for a body over the cap.
    pub fn too_large_message() -> String {
        format!(
            "the answer is larger than {} MiB; gcctl stopped reading it (is the region a Genesys Cloud API?)",
            MAX_BODY_BYTES / (1024 * 1024)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names differing only by an invisible character read apart.
    #[test]
    fn invisible_format_characters_show_as_escapes() {
        assert_eq!(quoted("Acme\u{200b}VIP"), "\"Acme\\u{200b}VIP\"");
        assert_eq!(visible("a\u{feff}b\u{ad}c\u{2060}"), "a\\u{feff}b\\u{ad}c\\u{2060}");
        assert_eq!(
            visible("Caf\u{e9} \u{1f600}\tA"),
            "Caf\u{e9} \u{1f600}\tA",
            "visible text stays"
        );
        // Joiners shape emoji and Persian: kept.
        let shaped = "\u{1f468}\u{200d}\u{1f469} \u{645}\u{200c}\u{6cc}";
        assert_eq!(visible(shaped), shaped);
        assert_eq!(visible("a\u{61c}b\u{3164}"), "a\\u{61c}b\\u{3164}");
    }

    /// Thousands of secrets (an org of webhook URLs with keys) are found in
    /// one pass: the first and the last registered are both redacted.
    #[test]
    fn many_secrets_are_all_redacted() {
        let secret = |i: usize| format!("many-secrets-{i:05}-c0ffee");
        for i in 0..5_000 {
            register_secret(&secret(i));
        }
        let text = format!("a {} b {} c", secret(0), secret(4_999));
        assert_eq!(visible(&text), "a [redacted] b [redacted] c");
        assert_eq!(redact_json(&format!("{{\"k\":\"{}\"}}", secret(17))), "{\"k\":\"[redacted]\"}");
        assert!(secret_finder().is_some_and(|f| f.holds(&secret(2_500))));
        // An export's finder finds it in any case, a handle's too.
        assert!(secret_finder().is_some_and(|f| f.holds(&secret(2_500).to_uppercase())));
    }

    /// A header's credential is hidden whole, line by line (a diff shows
    /// it so), and part by part (a server may echo a cookie's value alone);
    /// parts too short to be secrets are left alone.
    #[test]
    fn a_credential_is_hidden_whole_by_line_and_by_part() {
        register_credential(
            "Bearer\ttok-part-one-51a\nline-two-token-9c; sid=cookie-part-77e; x=1",
        );
        for shown in ["tok-part-one-51a", "line-two-token-9c; more", "sid=cookie-part-77e"] {
            assert!(visible(shown).contains("[redacted]"), "{shown}: {}", visible(shown));
            assert!(
                !visible(shown).contains("part-one-51a") && !visible(shown).contains("cookie-part"),
                "{}",
                visible(shown)
            );
        }
        assert_eq!(visible("x=1 Bearer sid"), "x=1 Bearer sid");
        // Words of a cookie are no secrets: its attributes and names stay.
        register_credential("session=c00kie-value-31f; Secure; HttpOnly; SameSite=Strict");
        assert_eq!(
            visible("Secure session queue, HttpOnly, Strict"),
            "Secure session queue, HttpOnly, Strict"
        );
        assert_eq!(visible("echo c00kie-value-31f"), "echo [redacted]");
        // A base64 token with its padding, echoed without the scheme.
        register_credential("Basic dXNlcjpwYXNzd29yZA9x==");
        assert_eq!(visible("token dXNlcjpwYXNzd29yZA9x"), "token [redacted]");
    }

    #[test]
    fn secrets_control_characters_and_length_are_handled() {
        register_secret("s3cr3t-value-for-the-redaction-test");
        register_secret("abc");
        let text = "echo: s3cr3t-value-for-the-redaction-test\r\n\x1b[31merror: forged\x1b[0m abc";
        let clean = sanitize(text);
        assert_eq!(clean, "echo: [redacted] [31merror: forged [0m abc");
        assert!(!clean.contains('\x1b') && !clean.contains('\n'));
        let long = "x".repeat(MAX_TEXT_CHARS + 10);
        assert!(sanitize(&long).ends_with("… (10 more characters)"));
    }

    /// A server echoing the JSON request quotes a secret escaped: each
    /// form is redacted.
    #[test]
    fn a_secret_echoed_as_json_text_is_redacted() {
        let secret = "CANARY-7f3a9-\"q'\\back/slash\nline-ü😀";
        register_secret(secret);
        let request = serde_json::to_string(&serde_json::json!({ "token": secret })).unwrap();
        assert_eq!(sanitize(&request), "{\"token\":\"[redacted]\"}");
        let ascii = request.replace('ü', "\\u00fc").replace('😀', "\\ud83d\\ude00");
        assert_eq!(sanitize(&ascii), "{\"token\":\"[redacted]\"}", "{ascii}");
        assert_eq!(
            sanitize(&ascii.replace("u00fc", "u00FC").replace("ud83d\\ude00", "uD83D\\uDE00")),
            "{\"token\":\"[redacted]\"}"
        );
        assert_eq!(sanitize(&request.replace('/', "\\/")), "{\"token\":\"[redacted]\"}");
        // Gson's default escapes of `<>&='`: a base64 secret's padding.
        let padded = "CANARY-b64+secret/value<&>'==";
        register_secret(padded);
        let gson = serde_json::to_string(padded)
            .unwrap()
            .replace('=', "\\u003d")
            .replace('\'', "\\u0027")
            .replace('<', "\\u003c")
            .replace('&', "\\u0026")
            .replace('>', "\\u003e");
        assert_eq!(sanitize(&gson), "\"[redacted]\"", "{gson}");
        let upper =
            gson.replace("u003d", "u003D").replace("u003c", "u003C").replace("u003e", "u003E");
        assert_eq!(sanitize(&upper), "\"[redacted]\"");
        // Percent-encoded in a URL, in either case of hex.
        let url = "https://x.example/h?k=CANARY-b64%2Bsecret%2Fvalue%3C%26%3E%27%3D%3D";
        assert_eq!(sanitize(url), "https://x.example/h?k=[redacted]");
        assert_eq!(
            sanitize(&url.to_lowercase().replace("canary", "CANARY")),
            "https://x.example/h?k=[redacted]"
        );
        assert_eq!(sanitize(secret), "[redacted]");
    }

    /// In JSON, secrets are redacted inside strings only: a secret of
    /// digits leaves numbers (and the document) whole.
    #[test]
    fn json_is_redacted_inside_its_strings_only() {
        register_secret("json-canary-4711-secret");
        register_secret("918273");
        let doc = serde_json::json!({
            "url": "https://x.example/hook?s=json-canary-4711-secret",
            "count": 9_182_734,
            "quoted": "say \"918273\" \\ done",
            "918273": "key kept",
        });
        let text = serde_json::to_string_pretty(&doc).unwrap();
        let out = redact_json(&text);
        let read: serde_json::Value = serde_json::from_str(&out).expect("still JSON");
        assert_eq!(read["url"], "https://x.example/hook?s=[redacted]");
        assert_eq!(read["count"], 9_182_734);
        assert_eq!(read["quoted"], "say \"[redacted]\" \\ done");
        assert!(!out.contains("json-canary-4711"), "{out}");
        // A secret right after an escape's backslash takes it along.
        register_secret("nbcdef-after-escape");
        let escaped =
            serde_json::to_string(&serde_json::json!({"s": "x\nbcdef-after-escape y"})).unwrap();
        let read: serde_json::Value =
            serde_json::from_str(&redact_json(&escaped)).expect("still JSON");
        assert_eq!(read["s"], "x[redacted] y");
        // Nothing known in it: the text as it was.
        assert_eq!(redact_json("{\"a\": 1}"), "{\"a\": 1}");
    }

    #[test]
    fn visible_text_shows_control_characters_as_escapes_and_redacts_secrets() {
        register_secret("v1s1ble-secret-for-the-redaction-test");
        assert!(matches!(visible("Support\tqueue é"), Cow::Borrowed("Support\tqueue é")));
        assert_eq!(
            visible("Evil\u{1b}[2J\u{1b}[31m\rerror: forged\nX\u{0}\u{7f}\u{9b}"),
            "Evil\\u{1b}[2J\\u{1b}[31m\\rerror: forged\\nX\\u{0}\\u{7f}\\u{9b}"
        );
        assert_eq!(visible("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(visible("x v1s1ble-secret-for-the-redaction-test y"), "x [redacted] y");
        assert!(matches!(visible_lines("a\n  hint: b"), Cow::Borrowed("a\n  hint: b")));
        assert_eq!(visible_lines("a\u{1b}[2J\n  hint: \rb"), "a\\u{1b}[2J\n  hint: \\rb");
    }

    #[test]
    fn multi_line_text_keeps_its_lines_and_loses_control_characters() {
        let text = "<script>\n  go(\u{1b}[31m'x')\n</script>";
        assert_eq!(sanitize_lines(text), "<script>\n  go( [31m'x')\n</script>");
        let long = "a\n".repeat(300);
        assert!(sanitize_lines(&long).ends_with("… (100 more lines)"));
    }

    /// A quoted name cannot end its quotes early, with `"` or with `\"`:
    /// both are escaped, as control characters and overrides are.
    #[test]
    fn a_quoted_name_cannot_close_its_quotes() {
        assert_eq!(quoted(r#"Old" unchanged; "Prod"#), r#""Old\" unchanged; \"Prod""#);
        assert_eq!(quoted(r#"Old\" unchanged"#), r#""Old\\\" unchanged""#);
        assert_eq!(quoted("a\u{1b}b\u{202e}"), r#""a\u{1b}b\u{202e}""#);
        assert_eq!(quoted("plain"), "\"plain\"");
    }
}
