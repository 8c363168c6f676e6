//! Client settings, read from the environment variables the Genesys ecosystem already uses.
//!
//! `GENESYSCLOUD_OAUTHCLIENT_ID` + `GENESYSCLOUD_OAUTHCLIENT_SECRET` (client credentials) or
//! `GENESYSCLOUD_ACCESS_TOKEN` (a ready token, which wins when both are set), and
//! `GENESYSCLOUD_REGION` (defaults to `us-east-1`, as the SDKs and the Terraform provider do).
//! Empty values count as unset. Invariant: secrets live in [`SecretString`]s and the `Debug`
//! output of every type here redacts them.

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;

use super::region::{DEFAULT_REGION, RegionError, Target, resolve_region};

/// Environment variable with the OAuth client id.
pub const ENV_CLIENT_ID: &str = "GENESYSCLOUD_OAUTHCLIENT_ID";
/// Environment variable with the OAuth client secret.
pub const ENV_CLIENT_SECRET: &str = "GENESYSCLOUD_OAUTHCLIENT_SECRET";
/// Environment variable with the region, domain or base URL.
pub const ENV_REGION: &str = "GENESYSCLOUD_REGION";
/// Environment variable with a ready access token.
pub const ENV_ACCESS_TOKEN: &str = "GENESYSCLOUD_ACCESS_TOKEN";

/// How the client authenticates.
#[derive(Clone)]
pub enum Auth {
    /// OAuth client credentials: tokens are minted, cached and refreshed by the client.
    ClientCredentials { client_id: String, client_secret: SecretString },
    /// A token obtained elsewhere; it is never refreshed.
    AccessToken(SecretString),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::ClientCredentials { client_id, .. } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("client_secret", &"[redacted]")
                .finish(),
            Auth::AccessToken(_) => f.debug_tuple("AccessToken").field(&"[redacted]").finish(),
        }
    }
}

/// Everything a [`super::Client`] needs.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Where the API and the token endpoint live.
    pub target: Target,
    /// Credentials.
    pub auth: Auth,
    /// Client-side rate limit of each token (its budget); 0 disables it, and with it the
    /// pool's growth (which is decided by budgets).
    pub rate_limit_per_minute: u32,
    /// Most access tokens minted at once with client credentials (the token pool); 1 turns
    /// pooling off. A ready access token is always one token.
    pub max_tokens: usize,
    /// Most requests in flight at once per token of the pool; `None`: as many as a token's
    /// budget allows at once (see [`ClientConfig::DEFAULT_TOKEN_IN_FLIGHT`]). A client that
    /// cannot pool (one token) keeps at most 20 in flight, as before pooling.
    pub max_concurrency: Option<usize>,
    /// How long one call may keep retrying (429, 502/503/504, connection failures).
    pub retry_deadline: Duration,
    /// Timeout of one HTTP attempt.
    pub request_timeout: Duration,
    /// `User-Agent` header of every request.
    pub user_agent: String,
    /// Told before every retry wait of [`Wait::NOTICE_AFTER`] or more (the
    /// CLI shows it on a terminal); `None`: waits are silent.
    pub on_wait: Option<WaitHook>,
    /// What the settings are called where they were read, for the hints of
    /// refused credentials.
    pub setting_names: SettingNames,
}

/// What each connection setting is called where the user set it, as a hint
/// names it: the `GENESYSCLOUD_*` variables, or, for an environment whose
/// `org` in the Project names its own variables, those (`PROD_ID (the
/// Project's clientIdFromEnv)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingNames {
    pub region: String,
    pub client_id: String,
    pub client_secret: String,
    pub access_token: String,
}

impl Default for SettingNames {
    fn default() -> Self {
        SettingNames {
            region: ENV_REGION.to_string(),
            client_id: ENV_CLIENT_ID.to_string(),
            client_secret: ENV_CLIENT_SECRET.to_string(),
            access_token: ENV_ACCESS_TOKEN.to_string(),
        }
    }
}

/// A wait worth telling: what is waited for, why, and until when.
#[derive(Debug, Clone)]
pub struct Wait {
    /// A retry: `METHOD /path` of the call. A poll: the object it is for
    /// (`Kind/name`).
    pub call: String,
    /// A retry: why (the status or the transport failure, one line). A
    /// poll: what is awaited and why, in words.
    pub reason: String,
    /// The sleep about to start.
    pub wait: Duration,
    /// Attempts made so far (retries).
    pub attempt: u32,
    /// Time left before gcctl gives up.
    pub gives_up_in: Duration,
    pub kind: WaitKind,
}

/// What a [`Wait`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitKind {
    /// The client retrying one call (429, 5xx, a connection failure).
    Retry,
    /// Apply polling until the org settles (a list shows a create, a 409
    /// passes, an asynchronous status ends).
    Poll,
}

impl Wait {
    /// Shorter waits are not worth a line.
    pub const NOTICE_AFTER: Duration = Duration::from_secs(2);
}

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            WaitKind::Retry => write!(
                f,
                "waiting {:.1}s to retry {} (attempt {}: {}); giving up in {}s",
                self.wait.as_secs_f64(),
                self.call,
                self.attempt,
                self.reason,
                self.gives_up_in.as_secs()
            ),
            WaitKind::Poll => write!(
                f,
                "{}: {}; for up to {}s more",
                self.call,
                self.reason,
                self.gives_up_in.as_secs()
            ),
        }
    }
}

/// The callback of [`ClientConfig::on_wait`].
#[derive(Clone)]
pub struct WaitHook(pub std::sync::Arc<dyn Fn(&Wait) + Send + Sync>);

impl fmt::Debug for WaitHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WaitHook")
    }
}

impl ClientConfig {
    /// The default per-token limit of a client-credentials token.
    pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 300;
    /// The least bound on requests in flight per token of a pool when none is set: a token
    /// may have as many in flight as its budget allows at once (its burst: 295 at 300 a
    /// minute), and at least this many (without a rate limit, this many); a client that
    /// cannot pool keeps 20.
    pub const DEFAULT_TOKEN_IN_FLIGHT: usize = 100;
    /// Default size of the token pool (as the Terraform provider's `token_pool_size`).
    pub const DEFAULT_MAX_TOKENS: usize = 10;
    /// Default retry deadline per call.
    pub const DEFAULT_RETRY_DEADLINE: Duration = Duration::from_secs(300);
    /// Default timeout of one attempt.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

    /// A configuration with the defaults.
    pub fn new(target: Target, auth: Auth) -> Self {
        ClientConfig {
            target,
            auth,
            rate_limit_per_minute: Self::DEFAULT_RATE_LIMIT_PER_MINUTE,
            max_tokens: Self::DEFAULT_MAX_TOKENS,
            max_concurrency: None,
            retry_deadline: Self::DEFAULT_RETRY_DEADLINE,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            user_agent: default_user_agent(),
            on_wait: None,
            setting_names: SettingNames::default(),
        }
    }

    /// Read the configuration through `lookup` (pass `|k| std::env::var(k).ok()` for the
    /// process environment; tests pass a map).
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<ClientConfig, ConfigError> {
        let get = |key: &str| lookup(key).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let region = get(ENV_REGION);
        let target = resolve_region(region.as_deref().unwrap_or(DEFAULT_REGION))
            .map_err(ConfigError::Region)?;
        let auth = match (get(ENV_ACCESS_TOKEN), get(ENV_CLIENT_ID), get(ENV_CLIENT_SECRET)) {
            (Some(token), _, _) => Auth::AccessToken(SecretString::from(token)),
            (None, Some(client_id), Some(secret)) => {
                Auth::ClientCredentials { client_id, client_secret: SecretString::from(secret) }
            }
            (None, Some(_), None) => {
                return Err(ConfigError::IncompleteCredentials {
                    present: ENV_CLIENT_ID,
                    missing: ENV_CLIENT_SECRET,
                });
            }
            (None, None, Some(_)) => {
                return Err(ConfigError::IncompleteCredentials {
                    present: ENV_CLIENT_SECRET,
                    missing: ENV_CLIENT_ID,
                });
            }
            (None, None, None) => return Err(ConfigError::MissingCredentials),
        };
        Ok(ClientConfig::new(target, auth))
    }
}

/// `gcctl/<version>`.
pub fn default_user_agent() -> String {
    format!("gcctl/{}", env!("CARGO_PKG_VERSION"))
}

/// Why no client configuration could be built.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No credentials at all.
    #[error(
        "no Genesys Cloud credentials: set {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET} \
         (OAuth client credentials), or {ENV_ACCESS_TOKEN}"
    )]
    MissingCredentials,
    /// One half of the client credentials.
    #[error("{present} is set but {missing} is not; both are needed for OAuth client credentials")]
    IncompleteCredentials { present: &'static str, missing: &'static str },
    /// `GENESYSCLOUD_REGION` is not a region, domain or usable base URL.
    #[error("invalid {ENV_REGION}")]
    Region(#[source] RegionError),
}

impl ConfigError {
    /// A suggestion for the user.
    pub fn hint(&self) -> Option<String> {
        match self {
            ConfigError::MissingCredentials => Some(
                "to try gcctl without a Genesys Cloud org, pass --sandbox to use the built-in \
                 sandbox org"
                    .to_owned(),
            ),
            ConfigError::IncompleteCredentials { missing, .. } => {
                Some(format!("set {missing} too, or set {ENV_ACCESS_TOKEN} instead"))
            }
            ConfigError::Region(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<ClientConfig, ConfigError> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        ClientConfig::from_env(|k| map.get(k).cloned())
    }

    #[test]
    fn client_credentials_with_default_region() {
        let c = from(&[(ENV_CLIENT_ID, "id-1"), (ENV_CLIENT_SECRET, "s3cret")]).unwrap();
        assert_eq!(c.target.label, "us-east-1 (mypurecloud.com)");
        let Auth::ClientCredentials { client_id, client_secret } = &c.auth else { panic!() };
        assert_eq!((client_id.as_str(), client_secret.expose_secret()), ("id-1", "s3cret"));
        assert_eq!(c.rate_limit_per_minute, 300);
        assert_eq!((c.max_tokens, c.max_concurrency), (10, None));
        assert_eq!(c.user_agent, format!("gcctl/{}", env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn access_token_takes_precedence() {
        let c = from(&[
            (ENV_CLIENT_ID, "id-1"),
            (ENV_CLIENT_SECRET, "s3cret"),
            (ENV_ACCESS_TOKEN, " tok \n"),
            (ENV_REGION, "eu-central-1"),
        ])
        .unwrap();
        let Auth::AccessToken(token) = &c.auth else { panic!() };
        assert_eq!(token.expose_secret(), "tok");
        assert_eq!(c.target.api_base.as_str(), "https://api.mypurecloud.de/");
        let c = from(&[(ENV_ACCESS_TOKEN, "tok"), (ENV_REGION, "http://127.0.0.1:9")]).unwrap();
        assert!(matches!(c.auth, Auth::AccessToken(_)));
        assert_eq!(c.target.login_base.as_str(), "http://127.0.0.1:9/");
    }

    #[test]
    fn each_region_form_is_read() {
        for region in
            ["mypurecloud.ie", "api.mypurecloud.ie", "eu-west-1", "https://api.mypurecloud.ie"]
        {
            let c = from(&[(ENV_ACCESS_TOKEN, "t"), (ENV_REGION, region)]).unwrap();
            assert_eq!(c.target.login_base.as_str(), "https://login.mypurecloud.ie/", "{region}");
        }
        let c = from(&[(ENV_ACCESS_TOKEN, "t"), (ENV_REGION, "  ")]).unwrap();
        assert_eq!(c.target.api_base.as_str(), "https://api.mypurecloud.com/");
    }

    #[test]
    fn missing_credentials_name_the_variables_and_the_flag() {
        for pairs in [
            &[][..],
            &[(ENV_REGION, "eu-central-1")][..],
            &[(ENV_CLIENT_ID, ""), (ENV_CLIENT_SECRET, " "), (ENV_ACCESS_TOKEN, "")][..],
        ] {
            let err = from(pairs).unwrap_err();
            assert!(matches!(err, ConfigError::MissingCredentials));
            let msg = err.to_string();
            for var in [ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_ACCESS_TOKEN] {
                assert!(msg.contains(var), "{msg}");
            }
            assert!(err.hint().unwrap().contains("--sandbox"));
        }
    }

    #[test]
    fn half_credentials_say_what_is_missing() {
        let err = from(&[(ENV_CLIENT_ID, "id")]).unwrap_err();
        assert!(err.to_string().starts_with(
            "GENESYSCLOUD_OAUTHCLIENT_ID is set but GENESYSCLOUD_OAUTHCLIENT_SECRET is not"
        ));
        assert!(err.hint().unwrap().contains(ENV_CLIENT_SECRET));
        let err = from(&[(ENV_CLIENT_SECRET, "s3cret")]).unwrap_err();
        assert!(err.to_string().contains("GENESYSCLOUD_OAUTHCLIENT_ID is not"));
        assert!(!format!("{err} {err:?}").contains("s3cret"));
    }

    #[test]
    fn bad_region_is_an_error_with_its_cause() {
        let err = from(&[(ENV_ACCESS_TOKEN, "t"), (ENV_REGION, "mars-1")]).unwrap_err();
        assert_eq!(err.to_string(), "invalid GENESYSCLOUD_REGION");
        let cause = std::error::Error::source(&err).unwrap().to_string();
        assert!(cause.contains("mars-1") && cause.contains("eu-central-1"), "{cause}");
        assert!(err.hint().is_none());
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let c = from(&[(ENV_CLIENT_ID, "id-1"), (ENV_CLIENT_SECRET, "CANARY-S")]).unwrap();
        let t = from(&[(ENV_ACCESS_TOKEN, "CANARY-T")]).unwrap();
        let out = format!("{c:?} {:?} {t:?} {:?}", c.auth, t.auth);
        assert!(!out.contains("CANARY"), "{out}");
        assert!(out.contains("id-1") && out.contains("[redacted]"));
    }
}
