//! Plan problems: why a plan cannot be computed. Each problem is about one
//! declared object, points at its manifest (`file:line:column`) when the
//! field is known, and names the API call it was seen in when it comes from
//! the org. [`Problem`]'s `Display` is the one place that renders it, in the
//! form of `gcctl validate`'s diagnostics:
//!
//! ```text
//! manifests/client.yaml:6:9: error: OAuthClient/twin: 2 live OAuthClient objects are named `Twin` (ids 1, 2) (seen in GET /api/v2/oauth/clients)
//!   hint: keep one and delete the others in the org, e.g. keep 1 (created first) and DELETE /api/v2/oauth/clients/2; …
//! ```
//!
//! Invariants: the message does not repeat the object, the location, the
//! call or the hint; each is said once, by the renderer.

use std::fmt;
use std::path::PathBuf;

use crate::manifest::Object;
use crate::manifest::diag::locate;

/// One reason a plan cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `Kind/name` of the object the problem is about.
    pub object: String,
    /// Where in the manifests, when known.
    pub location: Option<Location>,
    /// What is wrong, without the object, location, call or hint.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// The API call the problem was seen in, when it comes from the org.
    pub call: Option<ApiCall>,
    /// Part of the fix is to apply some objects on their own first; the
    /// hint names the command, which the CLI completes with the run's own
    /// paths and options ([`Problem::complete_command`]).
    pub apply_first: Option<ApplyFirst>,
}

/// A role declared in the manifests that must exist, and be granted to the
/// OAuth client gcctl runs as, before the rest can be applied: the org lets
/// a caller grant only roles it holds, and a role that does not exist yet
/// cannot be held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyFirst {
    /// The `--select` pattern that applies the role alone (`Role/name`).
    pub select: String,
    /// The role's org name.
    pub role: String,
    /// The division the manifests grant it in.
    pub division: String,
}

impl ApplyFirst {
    /// The hint, with `command`: the `gcctl apply --select ...` that
    /// creates the role.
    pub fn hint(&self, command: &str) -> String {
        format!(
            "role `{role}` is declared in these manifests and does not exist yet, so the OAuth client gcctl runs as cannot hold it: create it first with `{command}`, grant it in `{division}` to that OAuth client (Admin > Integrations > OAuth), then run again (or run once as a user who holds authorization:grant:add, GENESYSCLOUD_ACCESS_TOKEN: gcctl then grants the role to that user first)",
            role = self.role,
            division = self.division,
        )
    }
}

/// A place in a manifest file (1-based; line 0 means the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: u32,
    pub column: u32,
}

/// An API call, for a problem seen in the org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCall {
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// Path without host or query.
    pub path: String,
    /// The server's correlation id, when the answer carried one.
    pub correlation_id: Option<String>,
}

impl Problem {
    /// A problem with the field at `pointer` (a JSON pointer into the
    /// document, e.g. `/spec/name`) of a declared object.
    pub fn at(object: &Object, pointer: &str, message: impl Into<String>) -> Self {
        let loc = locate(&object.doc, pointer);
        Problem {
            object: object.id(),
            location: Some(Location {
                file: object.file.clone(),
                line: loc.line,
                column: loc.column,
            }),
            message: message.into(),
            hint: None,
            call: None,
            apply_first: None,
        }
    }

    /// A problem with an object, at no particular place.
    pub fn new(object: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            object: object.into(),
            location: None,
            message: message.into(),
            hint: None,
            call: None,
            apply_first: None,
        }
    }

    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The fix starts with applying some objects alone (see [`ApplyFirst`]);
    /// the hint says so with a command naming `<manifest paths>`, until the
    /// CLI completes it.
    #[must_use]
    pub fn with_apply_first(mut self, first: ApplyFirst) -> Self {
        let command = format!("gcctl apply --select {} <manifest paths>", first.select);
        self.hint = Some(first.hint(&command));
        self.apply_first = Some(first);
        self
    }

    /// Name the exact command in the hint: `command` turns a `--select`
    /// pattern into this run's `gcctl apply --select ...`.
    pub fn complete_command(&mut self, command: impl Fn(&str) -> String) {
        if let Some(first) = &self.apply_first {
            self.hint = Some(first.hint(&command(&first.select)));
        }
    }

    /// The problem was seen in the answer to this call.
    #[must_use]
    pub fn seen_in(
        mut self,
        method: impl Into<String>,
        path: impl Into<String>,
        correlation_id: Option<String>,
    ) -> Self {
        self.call = Some(ApiCall { method: method.into(), path: path.into(), correlation_id });
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file.display())
        } else {
            write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
        }
    }
}

impl fmt::Display for Problem {
    /// `FILE:LINE:COLUMN: error: OBJECT: MESSAGE (seen in CALL)`, then
    /// `  hint: HINT` on the next line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        write!(f, "error: {}: {}", self.object, self.message)?;
        if let Some(call) = &self.call {
            write!(f, " (seen in {} {}", call.method, call.path)?;
            if let Some(id) = &call.correlation_id {
                write!(f, " [correlation id: {id}]")?;
            }
            f.write_str(")")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_a_validate_diagnostic() {
        let mut problem = Problem::new("Role/r", "it is broken").with_hint("fix it").seen_in(
            "GET",
            "/api/v2/authorization/roles",
            Some("c0ffee".into()),
        );
        assert_eq!(
            problem.to_string(),
            "error: Role/r: it is broken (seen in GET /api/v2/authorization/roles [correlation id: c0ffee])\n  hint: fix it"
        );
        problem.location = Some(Location { file: "a.yaml".into(), line: 3, column: 5 });
        problem.call = None;
        problem.hint = None;
        assert_eq!(problem.to_string(), "a.yaml:3:5: error: Role/r: it is broken");
    }
}
