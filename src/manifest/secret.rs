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
                if map.len() != 1 {
                    return Err(D::Error::custom(
                        "a secret reference has exactly one of `fromEnv` or `fromFile`",
                    ));
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
    #[error("cannot read secret file {path}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("secret file {0} is empty")]
    EmptyFile(PathBuf),
    #[error("a literal secret cannot be resolved")]
    Literal,
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
                let text = fs_err::read_to_string(&path)
                    .map_err(|source| SecretError::File { path: path.clone(), source })?;
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
