//! Secret references and resolved secrets.
//!
//! Manifests never hold secret values: a secret field is `{fromEnv: VAR}` or
//! `{fromFile: PATH}` (relative to the manifest's directory). A literal string
//! is accepted by the parser only so that validation can point at it and show
//! the fix. Resolved values live in [`Secret`], whose `Debug`, `Display` and
//! `Serialize` never reveal them; the only way out is [`Secret::expose`],
//! called where a request body is built.

use std::fmt;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use secrecy::{ExposeSecret, SecretString};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where a secret comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum SecretRef {
    /// The name of an environment variable holding the secret.
    FromEnv(String),
    /// A file holding the secret (trailing newlines are trimmed); relative paths
    /// are resolved against the manifest file's directory.
    FromFile(PathBuf),
}

/// A secret field as written in a manifest: a reference, or (an error that
/// validation reports with its location) a literal value.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretInput {
    Ref(SecretRef),
    /// A literal secret in the manifest. Never printed: only its presence is reported.
    Literal(LiteralSecret),
}

/// The value of a literal secret found in a manifest, kept only so the
/// validator can report it; redacted everywhere.
#[derive(Clone, PartialEq, Eq)]
pub struct LiteralSecret(String);

impl LiteralSecret {
    pub fn len(&self) -> usize {
        self.0.chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretInput::Ref(r) => r.fmt(f),
            SecretInput::Literal(_) => f.write_str("Literal([redacted])"),
        }
    }
}

impl<'de> Deserialize<'de> for SecretInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        match value {
            serde_json::Value::String(s) => Ok(SecretInput::Literal(LiteralSecret(s))),
            serde_json::Value::Object(map) => {
                let known = ["fromEnv", "fromFile"];
                if let Some(other) = map.keys().find(|k| !known.contains(&k.as_str())) {
                    return Err(D::Error::custom(format!(
                        "unknown field `{}` in a secret reference: it has `fromEnv` or `fromFile`, nothing else",
                        crate::api::untrusted::visible(other)
                    )));
                }
                if map.len() != 1 {
                    return Err(D::Error::custom(
                        "a secret reference has exactly one of `fromEnv` or `fromFile`",
                    ));
                }
                // Not shown: a value pasted where the name goes is likely
                // the secret itself (a number too).
                if let Some(name) = map.get("fromEnv") {
                    if !name.as_str().is_some_and(is_variable_name) {
                        return Err(D::Error::custom(NOT_A_VARIABLE_NAME));
                    }
                }
                let reference = SecretRef::deserialize(serde_json::Value::Object(map))
                    .map_err(D::Error::custom)?;
                Ok(SecretInput::Ref(reference))
            }
            other => Err(D::Error::custom(format!(
                "expected a secret reference such as `{{fromEnv: VAR}}`, found {}",
                json_type(&other)
            ))),
        }
    }
}

impl Serialize for SecretInput {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            SecretInput::Ref(r) => r.serialize(serializer),
            SecretInput::Literal(_) => serializer.serialize_str(REDACTED),
        }
    }
}

impl JsonSchema for SecretInput {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SecretRef".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        SecretRef::json_schema(generator)
    }
}

/// Why a field naming an environment variable does not (never showing
/// what it holds).
const NOT_A_VARIABLE_NAME: &str = "this field holds the name of an environment variable (letters, digits and `_`, not starting with a digit), and what it holds is not one (not shown: it may be the secret itself)";

/// An optional field naming an environment variable (the Project's
/// `clientIdFromEnv`, ...): its name, checked, and never shown when it is
/// not one.
pub fn optional_variable_name<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(name) if is_variable_name(&name) => Ok(Some(name)),
        _ => Err(D::Error::custom(NOT_A_VARIABLE_NAME)),
    }
}

/// An environment variable's name as shells write one: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_variable_name(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a mapping",
    }
}

const REDACTED: &str = "[redacted]";

/// A resolved secret value. It cannot be printed, logged or serialized.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(SecretString::from(value))
    }

    /// The secret itself, for building a request body. Keep the result short-lived.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Length in characters, for validation messages that must not show the value.
    pub fn len(&self) -> usize {
        self.0.expose_secret().chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.expose_secret().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

/// Why a secret could not be resolved. Messages name the variable or file,
/// never a value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable `{0}` is not set")]
    MissingEnv(String),
    #[error("environment variable `{0}` is empty")]
    EmptyEnv(String),
    #[error("cannot read secret file {}: {source}", path.display())]
    File { path: PathBuf, source: std::io::Error },
    #[error("secret file {} is empty", .0.display())]
    EmptyFile(PathBuf),
    #[error("secret file {} is not a regular file (a directory, pipe, socket or device)", .0.display())]
    NotRegular(PathBuf),
    #[error("secret file {} has more than the {MAX_SECRET_FILE_BYTES} bytes a secret may have", .0.display())]
    TooLarge(PathBuf),
    #[error("secret file {} is not UTF-8 text", .0.display())]
    NotText(PathBuf),
    #[error("a literal secret cannot be resolved")]
    Literal,
}

/// The most a secret file may hold: secrets are tokens and keys, and a
/// file larger than this (`/dev/zero` named by mistake) is never read whole.
pub const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

impl SecretError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            SecretError::MissingEnv(_) | SecretError::EmptyEnv(_) => {
                "set the variable before running this command"
            }
            SecretError::Literal => "write `{fromEnv: VARIABLE}` or `{fromFile: PATH}`",
            _ => {
                "point `fromFile` at a regular file holding the secret (a path relative to the manifest)"
            }
        }
    }
}

/// A secret file's text: a regular file (a pipe would block forever and a
/// device could fill memory), at most [`MAX_SECRET_FILE_BYTES`], in UTF-8.
fn read_secret_file(path: &Path) -> Result<String, SecretError> {
    use std::io::Read as _;
    let file_error = |source| SecretError::File { path: path.to_path_buf(), source };
    // `metadata` follows links: a link to a regular file is fine.
    if !std::fs::metadata(path).map_err(file_error)?.is_file() {
        return Err(SecretError::NotRegular(path.to_path_buf()));
    }
    let mut bytes = Vec::new();
    let opened = std::fs::File::open(path).map_err(file_error)?;
    // The file may grow after `metadata`: never read more than the cap.
    opened.take(MAX_SECRET_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(file_error)?;
    if bytes.len() as u64 > MAX_SECRET_FILE_BYTES {
        return Err(SecretError::TooLarge(path.to_path_buf()));
    }
    String::from_utf8(bytes).map_err(|_| SecretError::NotText(path.to_path_buf()))
}

impl SecretRef {
    /// Resolve the reference. `base_dir` is the directory of the manifest that
    /// holds it; `env` looks up environment variables (injectable for tests).
    pub fn resolve(
        &self,
        base_dir: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Secret, SecretError> {
        match self {
            SecretRef::FromEnv(var) => match env(var) {
                None => Err(SecretError::MissingEnv(var.clone())),
                Some(v) if v.is_empty() => Err(SecretError::EmptyEnv(var.clone())),
                Some(v) => Ok(Secret::new(v)),
            },
            SecretRef::FromFile(path) => {
                let path = base_dir.join(path);
                let text = read_secret_file(&path)?;
                let value = text.trim_end_matches(['\n', '\r']).to_string();
                if value.is_empty() {
                    return Err(SecretError::EmptyFile(path));
                }
                Ok(Secret::new(value))
            }
        }
    }

    /// A human description (`env GCCTL_X`, `file ./secret.txt`), safe to print.
    pub fn describe(&self) -> String {
        match self {
            SecretRef::FromEnv(var) => format!("env {var}"),
            SecretRef::FromFile(path) => format!("file {}", path.display()),
        }
    }
}

impl SecretInput {
    pub fn resolve(
        &self,
        base_dir: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Secret, SecretError> {
        match self {
            SecretInput::Ref(r) => r.resolve(base_dir, env),
            SecretInput::Literal(_) => Err(SecretError::Literal),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANARY: &str = "canary-Zq8vT3-never-print";

    /// A secret file is read only when it is a regular file of sane size:
    /// a pipe would block the run forever and `/dev/zero` fill its memory.
    /// Each refusal says why and what to do.
    #[test]
    fn secret_files_that_are_not_small_regular_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let env = |_: &str| None;
        let resolve = |path: &str| SecretRef::FromFile(path.into()).resolve(dir.path(), &env);
        std::fs::create_dir(dir.path().join("a-dir")).unwrap();
        std::fs::write(dir.path().join("big"), vec![b'x'; 64 * 1024 + 1]).unwrap();
        std::fs::write(dir.path().join("ok"), "s3cret-in-a-file\n").unwrap();
        let fifo = dir.path().join("fifo");
        let made_fifo =
            std::process::Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success());
        assert!(matches!(resolve("a-dir"), Err(SecretError::NotRegular(_))));
        assert!(matches!(resolve("/dev/zero"), Err(SecretError::NotRegular(_))));
        if made_fifo {
            assert!(matches!(resolve("fifo"), Err(SecretError::NotRegular(_))));
        }
        assert!(matches!(resolve("big"), Err(SecretError::TooLarge(_))));
        let missing = resolve("missing").unwrap_err();
        assert!(missing.to_string().contains("missing: No such file"), "{missing}");
        assert!(missing.hint().contains("regular file"), "{}", missing.hint());
        assert_eq!(resolve("ok").unwrap().expose(), "s3cret-in-a-file");
    }

    #[test]
    fn resolved_secrets_never_show_their_value() {
        let secret = Secret::new(CANARY.to_string());
        assert!(!format!("{secret:?}").contains(CANARY));
        assert!(!format!("{secret}").contains(CANARY));
        assert!(!serde_json::to_string(&secret).unwrap().contains(CANARY));
        assert_eq!(secret.expose(), CANARY);
    }

    #[test]
    fn literal_secrets_are_parsed_but_redacted() {
        let input: SecretInput = serde_json::from_value(serde_json::json!(CANARY)).unwrap();
        assert!(matches!(input, SecretInput::Literal(_)));
        assert!(!format!("{input:?}").contains(CANARY));
        assert!(!serde_json::to_string(&input).unwrap().contains(CANARY));
    }

    #[test]
    fn references_parse_and_resolve() {
        let input: SecretInput =
            serde_json::from_value(serde_json::json!({"fromEnv": "HOOK"})).unwrap();
        let env = |k: &str| (k == "HOOK").then(|| CANARY.to_string());
        assert_eq!(input.resolve(Path::new("."), &env).unwrap().expose(), CANARY);
        let err = serde_json::from_value::<SecretInput>(
            serde_json::json!({"fromEnv": "A", "fromFile": "b"}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("exactly one"), "{err}");
        let missing = SecretRef::FromEnv("NOPE".into()).resolve(Path::new("."), &|_| None);
        assert!(matches!(missing, Err(SecretError::MissingEnv(_))));
    }
}
