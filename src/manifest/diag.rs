//! Diagnostics: problems found in manifests, each pointing at
//! `file:line:column`, with an optional hint. Validation collects all of them
//! in one run instead of stopping at the first.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::manifest::yaml::{Loc, Node};

/// One problem in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub loc: Loc,
    pub message: String,
    pub hint: Option<String>,
    /// An error fails the load; a warning is reported and the load goes on.
    pub severity: Severity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Diagnostic {
    pub fn new(file: &Path, loc: Loc, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            loc,
            message: message.into(),
            hint: None,
            severity: Severity::Error,
        }
    }

    /// The same problem, reported as a warning.
    #[must_use]
    pub fn as_warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        // The file's name, the message and the hint may quote what a file
        // holds (a value, a name) or a secret resolved into it: one line
        // each, control characters and bidirectional overrides shown as
        // escapes, known secrets redacted.
        let file = self.file.display().to_string();
        let visible = crate::api::untrusted::visible;
        // Cut before escaping, so that no escape is cut in two.
        let message = cut(&self.message);
        let (file, message) = (visible(&file), visible(&message));
        if self.loc.line == 0 {
            write!(f, "{file}: {label}: {message}")?;
        } else {
            write!(f, "{file}:{}: {label}: {message}", self.loc)?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {}", visible(hint))?;
        }
        Ok(())
    }
}

/// The most characters of a message shown: a message quoting a value a
/// variable made 60 KB long, a thousand times, would print megabytes.
const MAX_MESSAGE_CHARS: usize = 2_000;

/// `message` cut to 2,000 characters, saying how much was left out
/// (text and JSON output alike).
pub fn cut(message: &str) -> std::borrow::Cow<'_, str> {
    match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        None => std::borrow::Cow::Borrowed(message),
        Some((at, _)) => {
            let more = message[at..].chars().count();
            std::borrow::Cow::Owned(format!("{}… ({more} more characters)", &message[..at]))
        }
    }
}

/// A problem found by a semantic check, addressed by JSON pointer into the
/// document (`/spec/mediaSettings/call/alertingTimeoutSeconds`). The loader
/// turns it into a [`Diagnostic`] with the location of that field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub pointer: String,
    pub message: String,
    pub hint: Option<String>,
    /// An error drops the object and fails the load; a warning does neither.
    pub severity: Severity,
}

/// Collects findings from a kind's checks.
#[derive(Debug, Default)]
pub struct Findings {
    items: Vec<Finding>,
}

impl Findings {
    pub fn error(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.push(pointer.into(), message.into(), None, Severity::Error);
    }

    pub fn error_with_hint(
        &mut self,
        pointer: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.push(pointer.into(), message.into(), Some(hint.into()), Severity::Error);
    }

    /// Something likely wrong that gcctl cannot be sure of offline (a
    /// permission its catalog does not list): reported, never fatal.
    pub fn warning(
        &mut self,
        pointer: impl Into<String>,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.push(pointer.into(), message.into(), hint, Severity::Warning);
    }

    fn push(&mut self, pointer: String, message: String, hint: Option<String>, severity: Severity) {
        self.items.push(Finding { pointer, message, hint, severity });
    }

    pub fn into_vec(self) -> Vec<Finding> {
        self.items
    }
}

/// Where a field lives: the location of its value when present, else of the
/// nearest ancestor that exists (errors about a missing field point at the
/// mapping that should hold it).
pub fn locate(doc: &Node, pointer: &str) -> Loc {
    doc.locate(pointer).0.loc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message is one line, escaped, and cut to a readable length.
    #[test]
    fn a_long_message_is_cut_and_says_how_much() {
        let d = Diagnostic::new(Path::new("a.yaml"), Loc { line: 1, column: 1 }, "x".repeat(5_000));
        let shown = d.to_string();
        assert!(shown.ends_with("… (3000 more characters)"), "{}", &shown[shown.len() - 40..]);
        assert!(shown.len() < 2_100, "{}", shown.len());
        // Cut before it is escaped: an escape is never cut in two.
        let long = format!("{}\u{1b}", "x".repeat(1_999));
        let d = Diagnostic::new(Path::new("a.yaml"), Loc { line: 1, column: 1 }, long);
        assert!(d.to_string().ends_with("x\\u{1b}"), "{d}");
        let d = Diagnostic::new(Path::new("a\nb.yaml"), Loc { line: 1, column: 1 }, "a\nb\u{1b}");
        assert_eq!(d.to_string(), "a\\nb.yaml:1:1: error: a\\nb\\u{1b}");
    }
}
