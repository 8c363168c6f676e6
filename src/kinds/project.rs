//! `Project`: settings of a manifest set (at most one per set):
//! environments and their variables, prune scopes, and default
//! `ignoreDifferences` per kind. It is not an org object.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, KindDef, Spec, parse_spec, schema_of, spec_boilerplate};
use crate::manifest::diag::Findings;

/// Project settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProjectSpec {
    /// Variables for every environment (`${var.NAME}` in any string);
    /// an environment's own variables override these.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, VarValue>,
    /// Environments selected with `--env NAME`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environments: BTreeMap<String, Environment>,
    /// Where `--prune` may delete undeclared live objects. Nothing outside
    /// these scopes is ever deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prune: Vec<PruneScope>,
    /// Fields to ignore when diffing every object of a kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_differences: Vec<IgnoreRule>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Environment {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, VarValue>,
    /// The org this environment lives in: `--env NAME` then connects there
    /// (instead of the `GENESYSCLOUD_*` variables) and checks that the
    /// credentials reach it. Names of variables only, never credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<EnvironmentOrg>,
}

/// Where an environment's org is, and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvironmentOrg {
    /// The region (as `GENESYSCLOUD_REGION` takes it: `eu-central-1`,
    /// `mypurecloud.de`, or a base URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The environment variable holding the OAuth client id.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::secret::optional_variable_name"
    )]
    pub client_id_from_env: Option<String>,
    /// The environment variable holding the OAuth client secret.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::secret::optional_variable_name"
    )]
    pub client_secret_from_env: Option<String>,
    /// The environment variable holding an access token (instead of client
    /// credentials).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::secret::optional_variable_name"
    )]
    pub access_token_from_env: Option<String>,
    /// The org's id (`GET /api/v2/organizations/me`): a run whose
    /// credentials reach another org stops before any change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The org's name, checked like `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl EnvironmentOrg {
    /// The value of a `GENESYSCLOUD_*` setting for this environment, read
    /// through `env` from the variables it names; `None` for what it does
    /// not set (credentials it does not name are not read from
    /// `GENESYSCLOUD_*` either: one org per environment).
    pub fn setting(&self, key: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        let from = |var: &Option<String>| var.as_deref().and_then(env);
        match key {
            "GENESYSCLOUD_REGION" => self.region.clone(),
            "GENESYSCLOUD_OAUTHCLIENT_ID" => from(&self.client_id_from_env),
            "GENESYSCLOUD_OAUTHCLIENT_SECRET" => from(&self.client_secret_from_env),
            "GENESYSCLOUD_ACCESS_TOKEN" => from(&self.access_token_from_env),
            _ => env(key),
        }
    }

    /// What stands for the `GENESYSCLOUD_*` variable `key`, in words: the
    /// variable the Project names for it (`PROD_ID`, the Project's
    /// `clientIdFromEnv`), or the variable itself.
    pub fn source_of(&self, key: &str) -> String {
        let named = |var: &Option<String>, field: &str| match var {
            Some(var) => format!("{var} (the Project's `{field}`)"),
            None => format!("the variable the Project's `{field}` would name (it names none)"),
        };
        match key {
            "GENESYSCLOUD_REGION" => "the Project's `region`".to_string(),
            "GENESYSCLOUD_OAUTHCLIENT_ID" => named(&self.client_id_from_env, "clientIdFromEnv"),
            "GENESYSCLOUD_OAUTHCLIENT_SECRET" => {
                named(&self.client_secret_from_env, "clientSecretFromEnv")
            }
            "GENESYSCLOUD_ACCESS_TOKEN" => named(&self.access_token_from_env, "accessTokenFromEnv"),
            other => other.to_string(),
        }
    }

    /// Why no credentials were found, naming the variables the Project
    /// names for them.
    pub fn missing_credentials(&self) -> String {
        let mut ways = Vec::new();
        if self.client_id_from_env.is_some() || self.client_secret_from_env.is_some() {
            ways.push(format!(
                "set {} and {}",
                self.source_of("GENESYSCLOUD_OAUTHCLIENT_ID"),
                self.source_of("GENESYSCLOUD_OAUTHCLIENT_SECRET")
            ));
        }
        if self.access_token_from_env.is_some() {
            ways.push(format!("set {}", self.source_of("GENESYSCLOUD_ACCESS_TOKEN")));
        }
        if ways.is_empty() {
            ways.push("name the variables holding them (`clientIdFromEnv` and `clientSecretFromEnv`, or `accessTokenFromEnv`)".to_string());
        }
        format!("no credentials for it: {}", ways.join(", or "))
    }

    /// Whether it says how to connect (else the `GENESYSCLOUD_*` variables do).
    pub fn connects(&self) -> bool {
        self.region.is_some()
            || self.client_id_from_env.is_some()
            || self.client_secret_from_env.is_some()
            || self.access_token_from_env.is_some()
    }

    /// Credentials that could never reach the org, found offline: one half
    /// of a client's pair, or a region without any (an environment that
    /// says how to connect reads nothing from `GENESYSCLOUD_*`).
    fn check_credentials(&self, at: &str, findings: &mut Findings) {
        let pair = "an OAuth client is reached with its id and its secret: name the variables holding both";
        // With an access token named, the token connects (it wins), and a
        // half pair beside it is no reason to refuse.
        let token = self.access_token_from_env.is_some();
        match (&self.client_id_from_env, &self.client_secret_from_env) {
            (Some(_), None) if !token => findings.error_with_hint(
                format!("{at}/clientIdFromEnv"),
                "`clientIdFromEnv` is named without `clientSecretFromEnv`",
                pair,
            ),
            (None, Some(_)) if !token => findings.error_with_hint(
                format!("{at}/clientSecretFromEnv"),
                "`clientSecretFromEnv` is named without `clientIdFromEnv`",
                pair,
            ),
            (None, None) if self.region.is_some() && self.access_token_from_env.is_none() => {
                findings.error_with_hint(
                    format!("{at}/region"),
                    "the environment names its region but no credentials: gcctl reads none from GENESYSCLOUD_* for an environment that says how to connect",
                    "name the variables holding them (`clientIdFromEnv` and `clientSecretFromEnv`, or `accessTokenFromEnv`)",
                );
            }
            _ => {}
        }
    }
}

/// A variable's value: text, a number or a boolean, substituted as text.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum VarValue {
    Text(String),
    Integer(i64),
    Number(f64),
    Bool(bool),
}

impl<'de> Deserialize<'de> for VarValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = VarValue;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a variable's value: text, a number or a boolean (not a list, a map or null)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<VarValue, E> {
                Ok(VarValue::Text(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<VarValue, E> {
                Ok(VarValue::Integer(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<VarValue, E> {
                Ok(i64::try_from(v).map_or(VarValue::Text(v.to_string()), VarValue::Integer))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<VarValue, E> {
                Ok(VarValue::Number(v))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<VarValue, E> {
                Ok(VarValue::Bool(v))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl std::fmt::Display for VarValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VarValue::Text(s) => f.write_str(s),
            VarValue::Integer(i) => write!(f, "{i}"),
            VarValue::Number(n) => write!(f, "{n}"),
            VarValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// A prune scope: a kind and name patterns (`*` matches any run of
/// characters, `?` one character), matched against org-side names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PruneScope {
    pub kind: Kind,
    pub names: Vec<String>,
}

/// Fields (JSON pointers into the spec, such as `/description`) ignored when
/// diffing objects of a kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IgnoreRule {
    pub kind: Kind,
    pub json_pointers: Vec<String>,
}

impl ProjectSpec {
    /// The org an environment declares, if any.
    pub fn org_for(&self, env: Option<&str>) -> Option<&EnvironmentOrg> {
        env.and_then(|e| self.environments.get(e)).and_then(|e| e.org.as_ref())
    }

    /// The variables in effect for an environment (`None`: project defaults only).
    pub fn variables_for(&self, env: Option<&str>) -> BTreeMap<String, String> {
        let mut vars: BTreeMap<String, String> =
            self.variables.iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
        if let Some(env) = env.and_then(|e| self.environments.get(e)) {
            vars.extend(env.variables.iter().map(|(k, v)| (k.clone(), v.to_string())));
        }
        vars
    }

    /// Whether an org-side name of a kind falls inside a prune scope.
    pub fn in_prune_scope(&self, kind: Kind, name: &str) -> bool {
        self.prune
            .iter()
            .filter(|s| s.kind == kind)
            .any(|s| s.names.iter().any(|p| glob_match(p, name)))
    }
}

/// Match `*` (any run) and `?` (one character) against a whole name.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        // `*` first: it is a wildcard even where the name holds a `*`.
        if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Spec for ProjectSpec {
    fn kind(&self) -> Kind {
        Kind::Project
    }

    fn org_name(&self) -> Option<&str> {
        None
    }

    fn check(&self, findings: &mut Findings) {
        let env_vars = self.environments.iter().flat_map(|(e, env)| {
            env.variables.iter().map(move |(k, v)| (format!("/spec/environments/{e}/variables/{k}"), k, v))
        });
        let globals = self.variables.iter().map(|(k, v)| (format!("/spec/variables/{k}"), k, v));
        for (pointer, name, value) in globals.chain(env_vars) {
            if !is_variable_name(name) {
                findings.error(pointer, format!("`{name}` is not a valid variable name"));
            } else if matches!(value, VarValue::Text(text) if text.contains("${var.")) {
                // Substituted as written: `${var.b}` in a value would reach
                // the org as those characters. (Other `${` text is kept as
                // written, a value being no manifest text to escape.)
                findings.error_with_hint(
                    pointer,
                    format!("the value of `{name}` refers to a variable: variables are not expanded inside variables"),
                    "write the value out in full (one variable per environment, if it differs)",
                );
            }
        }
        // A region gcctl cannot reach is found here, not at `plan --env`.
        for (name, env) in &self.environments {
            let region = env.org.as_ref().and_then(|o| o.region.as_deref());
            if let Some(Err(err)) = region.map(crate::api::resolve_region) {
                findings.error(format!("/spec/environments/{name}/org/region"), err.to_string());
            }
            if let Some(org) = &env.org {
                org.check_credentials(&format!("/spec/environments/{name}/org"), findings);
                // An id is compared exactly: spaces around it would refuse
                // every run, naming two ids that look the same.
                if let Some(id) = org.id.as_deref().filter(|id| id.trim() != *id || id.is_empty()) {
                    findings.error_with_hint(
                        format!("/spec/environments/{name}/org/id"),
                        format!("the org id {} has spaces around it, or is empty", crate::api::untrusted::quoted(id)),
                        "write the id alone, as `GET /api/v2/organizations/me` gives it (a GUID such as 4441f035-…)",
                    );
                }
            }
        }
        for (i, scope) in self.prune.iter().enumerate() {
            if !scope.kind.is_org_object() {
                findings.error(
                    format!("/spec/prune/{i}/kind"),
                    format!("{} objects cannot be pruned", scope.kind),
                );
            }
            for (j, pattern) in scope.names.iter().enumerate() {
                if pattern.contains("${") {
                    // The Project is read before variables exist: the
                    // pattern would match its own characters, nothing.
                    findings.error_with_hint(
                        format!("/spec/prune/{i}/names/{j}"),
                        "variables are not substituted in the Project: this pattern would match nothing",
                        "write the pattern out (a prune scope is the same in every environment)",
                    );
                }
            }
            if scope.names.is_empty() {
                findings.error_with_hint(
                    format!("/spec/prune/{i}/names"),
                    "a prune scope needs at least one name pattern",
                    "use [\"*\"] to prune every undeclared object of the kind",
                );
            }
        }
        for (i, rule) in self.ignore_differences.iter().enumerate() {
            if !rule.kind.is_org_object() {
                findings.warning(
                    format!("/spec/ignoreDifferences/{i}/kind"),
                    format!("ignoreDifferences has no effect on {} objects: they are not objects of the org", rule.kind),
                    Some("their fields are compared where they are used: write the pointers for the kind that uses them (an integration's `/webhook/headers/NAME`)".into()),
                );
            }
            for (j, pointer) in rule.json_pointers.iter().enumerate() {
                let at = format!("/spec/ignoreDifferences/{i}/jsonPointers/{j}");
                if !pointer.starts_with('/') {
                    findings.error(at, format!("`{pointer}` is not a JSON pointer (it must start with /)"));
                } else if let Some((message, hint)) = rule.kind.pointer_ignores_nothing(pointer) {
                    findings.warning(at, message, Some(hint));
                }
            }
        }
    }

    spec_boilerplate!();
}

pub const DEF: KindDef = KindDef {
    summary: "Settings of a manifest set: environments, prune scopes, ignored differences.",
    order: 0,
    export_file: None,
    parse: parse_spec::<ProjectSpec>,
    schema: schema_of::<ProjectSpec>,
    org: None,
};

/// The Project spec of a loaded `Project` object.
pub fn project_spec(object: &crate::manifest::Object) -> Option<&ProjectSpec> {
    super::downcast::<ProjectSpec>(object.spec.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("bot-*", "bot-handover"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a?c", "abc"));
        assert!(glob_match("*-queue-*", "x-queue-y"));
        assert!(!glob_match("bot-*", "Bot-handover"));
        assert!(!glob_match("a?c", "ac"));
        // A `*` in the name is matched by the pattern's `*` as any other text.
        assert!(glob_match("*", "*Priority"));
        assert!(glob_match("a*", "a*b"));
        assert!(glob_match("*b*", "*a*b*"));
        assert!(!glob_match("*c", "*Priority"));
    }
}
