//! `Webhook`: the outbound notification webhook of open messaging
//! integrations. Genesys has no webhook object of its own; a `Webhook` is
//! declared once and realized inside every `OpenMessagingIntegration` that
//! references it (`outboundNotificationWebhookUrl`,
//! `outboundNotificationWebhookSignatureSecretToken`, `webhookHeaders`).
//! It exists only in manifests, so references to it must resolve in the set.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, KindDef, Spec, parse_spec, schema_of, spec_boilerplate};
use crate::manifest::diag::Findings;
use crate::manifest::secret::{Secret, SecretInput};

/// Header that carries the applied signature secret version inside the
/// integration's `webhookHeaders`: the org is the state, so this is where the
/// rotation counter lives. Receivers may use it to pick the verifying secret.
pub const SECRET_VERSION_HEADER: &str = "X-Gcctl-Secret-Version";

/// An outbound webhook with an HMAC signature secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookSpec {
    /// The HTTPS URL Genesys posts outbound messages to. Only port 443 works.
    pub url: String,
    /// Reference to the signature secret (`{fromEnv: VAR}` or `{fromFile: PATH}`),
    /// at least 16 characters. Genesys signs each request with
    /// `X-Hub-Signature-256: sha256=<base64(HMAC-SHA256(secret, body))>`.
    pub signature_secret: SecretInput,
    /// Rotation counter: the secret is sent when an integration is created and
    /// again whenever this number changes. Defaults to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub signature_secret_version: Option<u32>,
    /// Extra HTTP headers Genesys sends with each request.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

impl WebhookSpec {
    pub fn secret_version(&self) -> u32 {
        self.signature_secret_version.unwrap_or(1)
    }
}

impl Spec for WebhookSpec {
    fn kind(&self) -> Kind {
        Kind::Webhook
    }

    fn org_name(&self) -> Option<&str> {
        None
    }

    fn secrets(&self) -> Vec<(String, &SecretInput)> {
        vec![("/spec/signatureSecret".to_string(), &self.signature_secret)]
    }

    fn check(&self, findings: &mut Findings) {
        check_webhook_url(findings, "/spec/url", &self.url);
        if self.signature_secret_version == Some(0) {
            findings.error("/spec/signatureSecretVersion", "the version starts at 1");
        }
        for (i, name) in self.headers.keys().enumerate() {
            let pointer = format!("/spec/headers/{}", crate::json_pointer::escape(name));
            let earlier = self.headers.keys().take(i).find(|k| k.eq_ignore_ascii_case(name));
            if let Some(earlier) = earlier {
                findings.error_with_hint(
                    pointer,
                    format!("`{name}` and `{earlier}` are one HTTP header (names are the same in any case)"),
                    "declare it once",
                );
            } else if name.is_empty() || !name.bytes().all(is_header_char) {
                findings.error(pointer, format!("`{name}` is not a valid HTTP header name"));
            } else if name.eq_ignore_ascii_case(SECRET_VERSION_HEADER) {
                findings.error_with_hint(
                    pointer,
                    format!("`{name}` is managed by gcctl"),
                    "use signatureSecretVersion to rotate the secret",
                );
            } else if is_credential_header(name) {
                findings.warning(
                    pointer,
                    format!("the header `{name}` looks like it carries a credential, and a manifest holds it in clear text"),
                    Some("gcctl never prints it (plan, drift and errors show [redacted]), but the file holds it: keep such a manifest out of shared version control, or have the receiver verify the signature secret (signatureSecret) instead".into()),
                );
            }
        }
    }

    fn register_credentials(&self) {
        let headers = self.headers.iter().filter(|(name, _)| is_credential_header(name));
        for (_, value) in headers {
            crate::api::untrusted::register_credential(value);
        }
        hide_query_credentials(&self.url);
    }

    fn check_secret(&self, _pointer: &str, secret: &Secret) -> Option<(String, String)> {
        (secret.len() < MIN_SECRET_LEN).then(|| {
            (
                format!(
                    "the signature secret has {} characters; Genesys needs at least {MIN_SECRET_LEN}",
                    secret.len()
                ),
                "generate a longer random secret, for example with `openssl rand -hex 32`".into(),
            )
        })
    }

    spec_boilerplate!();
}

/// Genesys requires open messaging signature secrets longer than 15 characters.
pub const MIN_SECRET_LEN: usize = 16;

fn is_header_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Genesys only delivers to HTTPS on port 443.
/// The credentials a URL carries (`user:password` before the host's `@`),
/// as written.
pub fn url_credentials(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    authority.rfind('@').map(|at| &authority[..at])
}

/// Whether a header by this name carries a credential: its name, in
/// lowercase and without `-`, `_` and `.`, holds `authorization`,
/// `authentication`, `cookie`, `token`, `secret`, `password`, `passwd`,
/// `apikey`, `accesskey`, `authkey`, `credential` or `sessionid`, or one of
/// its words (between `-`, `_` and `.`) is `key`, `keys`, `auth`, `pass` or
/// `pwd` (`X-Api-Key`, `X-SecretKey`, `Ocp-Apim-Subscription-Key`,
/// `X-Session-Id`; not `X-Session-Affinity`); or it holds `signature`,
/// `passphrase`, `bearer`, `jwt` or `hmac`, or one of its words is `sig`,
/// and it does not only describe one (it holds none of `method`, `version`,
/// `alg`, `type` and `kind`: `X-Hub-Signature-256` and `X-Passphrase` are
/// credentials, `X-Signature-Method` and `X-Hmac-Algorithm` are not). Its
/// value is kept out of every output and out of exported files. gcctl's own
/// secret-version header is no credential.
pub fn is_credential_header(name: &str) -> bool {
    const HELD: [&str; 12] = [
        "authorization", "authentication", "cookie", "token", "secret", "password", "passwd",
        "apikey", "accesskey", "authkey", "credential", "sessionid",
    ];
    const WORDS: [&str; 5] = ["key", "keys", "auth", "pass", "pwd"];
    const SIGNING: [&str; 5] = ["signature", "passphrase", "bearer", "jwt", "hmac"];
    if name.eq_ignore_ascii_case(SECRET_VERSION_HEADER) {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    let joined: String = lower.chars().filter(|c| !matches!(c, '-' | '_' | '.')).collect();
    let words = || lower.split(['-', '_', '.']);
    HELD.iter().any(|held| joined.contains(held))
        || words().any(|word| WORDS.contains(&word))
        || ((SIGNING.iter().any(|held| joined.contains(held)) || words().any(|w| w == "sig"))
            && !describes_a_credential(&lower))
}

/// Whether a name (in lowercase) describes a credential rather than
/// carries one (`signatureMethod`, `token_type`, `keyVersion`,
/// `X-Jwt-Issuer`, `X-Bearer-Realm`, `X-Signature-Header`).
fn describes_a_credential(lower: &str) -> bool {
    ["method", "version", "alg", "type", "kind", "issuer", "audience", "realm", "header", "name"]
        .iter()
        .any(|w| lower.contains(w))
}

/// Query parameters whose names say they carry a credential, as written
/// in the URL (name, value; percent-encoded as they are). A name is read
/// percent-decoded, in any case, and counts when [`is_credential_header`]
/// would take it (`access_token`, `apiKey`, `client_secret`, `key`, `sig`
/// as a Logic Apps / Power Automate trigger's signature or a shared access
/// signature's, `jwt`, `hmac`, `X-Amz-Signature`, `sharedAccessSignature`)
/// or is `code` (an Azure Functions key), and does not only describe one.
/// Parameters are parted by `&` and by `;` (which some servers take as
/// `&`). Empty values carry nothing and are not listed. The fragment (after
/// `#`) is not sent, and not searched.
pub fn url_query_credentials(url: &str) -> Vec<(&str, &str)> {
    let Some((_, query)) = url.split_once('?') else { return Vec::new() };
    let query = query.split_once('#').map_or(query, |(query, _)| query);
    query
        .split(['&', ';'])
        .filter_map(|pair| pair.split_once('='))
        .filter(|(name, value)| {
            let name = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
            // What describes a credential is none (`signatureMethod=HMAC-SHA256`,
            // `token_type=bearer`, `keyVersion=2`).
            !value.is_empty()
                && !describes_a_credential(&name.to_ascii_lowercase())
                && (is_credential_header(&name) || name.eq_ignore_ascii_case("code"))
        })
        .collect()
}

/// `text` as written and, where they differ, percent-decoded with `+` as a
/// space (as forms write it) and with `+` kept (as a URI's query is
/// decoded): a server may echo any of them.
fn decoded_forms(text: &str) -> Vec<String> {
    let decode = |t: &str| percent_encoding::percent_decode_str(t).decode_utf8_lossy().into_owned();
    let mut forms = vec![text.to_string()];
    for form in [decode(&text.replace('+', " ")), decode(text)] {
        if !forms.contains(&form) {
            forms.push(form);
        }
    }
    forms
}

/// Register the query credentials of a webhook URL
/// ([`url_query_credentials`]) for redaction: each `name=value` as written
/// and decoded, so that the URL reads `…?env=dev&[redacted]` whatever the
/// value's length; and the value alone, in each form, where it is as long
/// as a key is (16 characters), since a server may echo it alone. A shorter
/// value (`auth_type=signature`, `sig=HMAC-SHA256`) is not registered alone:
/// that would hide the word in every text.
pub fn hide_query_credentials(url: &str) {
    for (name, value) in url_query_credentials(url) {
        for pair in decoded_forms(&format!("{name}={value}")) {
            crate::api::untrusted::register_secret(&pair);
        }
        for form in decoded_forms(value) {
            if form.chars().count() >= KEY_CHARS {
                crate::api::untrusted::register_secret(&form);
            }
        }
    }
}

/// The length from which a query credential's value is hidden on its own:
/// keys are longer (an Azure Functions key has 56 characters, a shared
/// access signature 44), words and algorithm names shorter.
const KEY_CHARS: usize = 16;

/// Keep the credentials of a webhook URL the org holds out of every output:
/// `user:password` and the password are registered as secrets (a short
/// `user:password` with the `//` and `@` around it, so that it is redacted
/// too). A user name alone is no secret, and is not registered: every
/// text holding the word would be redacted. Query parameters that carry
/// a credential are registered too ([`hide_query_credentials`]).
pub fn hide_url_credentials(url: &str) {
    hide_query_credentials(url);
    let Some(credentials) = url_credentials(url) else { return };
    let Some((_, password)) = credentials.split_once(':') else { return };
    if credentials.chars().count() >= 6 {
        // `https://[redacted]@host`.
        crate::api::untrusted::register_secret(credentials);
    } else {
        crate::api::untrusted::register_secret(&format!("//{credentials}@"));
    }
    // Too short ones are not registered (`register_secret`).
    crate::api::untrusted::register_secret(password);
}

fn check_webhook_url(findings: &mut Findings, pointer: &str, url: &str) {
    let hint = "Genesys only delivers to https:// URLs on port 443";
    if url_credentials(url).is_some() {
        findings.error_with_hint(
            pointer,
            "the URL holds credentials (`user:password@`), which a manifest must not: they would be in files, plans and logs",
            "remove them: Genesys signs every request with the signature secret, which the receiver checks",
        );
        return;
    }
    if let Some((name, _)) = url_query_credentials(url).first() {
        findings.warning(
            pointer,
            format!("the URL's query parameter `{name}` looks like it carries a credential, and a manifest holds it in clear text"),
            Some("gcctl never prints it (plan, drift and errors show [redacted]), but the file holds it: keep such a manifest out of shared version control, or have the receiver verify the signature secret (signatureSecret) instead".into()),
        );
    }
    let Ok(parsed) = reqwest::Url::parse(url) else {
        // Not shown when it may hold credentials (`a:b/c@host`, `?code=`).
        let hides = url.contains('@') || !url_query_credentials(url).is_empty();
        let shown = if hides { "the URL".to_string() } else { format!("`{url}`") };
        findings.error_with_hint(pointer, format!("{shown} is not a valid URL"), hint);
        return;
    };
    if parsed.scheme() != "https" {
        findings.error_with_hint(
            pointer,
            format!("the URL must use https, not {}", parsed.scheme()),
            hint,
        );
    } else if parsed.port().is_some_and(|p| p != 443) {
        findings.error_with_hint(
            pointer,
            format!("port {} is not allowed", parsed.port().unwrap_or_default()),
            hint,
        );
    } else if parsed.host_str().is_none_or(str::is_empty) {
        findings.error(pointer, "the URL has no host");
    }
}

pub const DEF: KindDef = KindDef {
    summary: "An outbound HTTPS webhook with a signature secret, realized inside open messaging integrations.",
    // Realized inside the integrations that refer to it: it orders just
    // before them. Export writes the webhooks it takes out of integrations
    // to their own file.
    order: 25,
    export_file: Some("webhooks.yaml"),
    parse: parse_spec::<WebhookSpec>,
    schema: schema_of::<WebhookSpec>,
    org: None,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_headers_are_told_by_the_words_of_their_names() {
        for name in ["Authorization", "Cookie", "X-Api-Key", "x-functions-key", "Ocp-Apim-Subscription-Key",
            "X-Auth-Token", "X-AuthToken", "X-Auth", "X-Auth-Pass", "X-Client-Secret", "api_key", "X-ApiKey",
            "X-SecretKey", "X-TokenAuth", "X-Api-Keys", "X-Cookies", "X-Passwords", "X-ClientSecretValue",
            "X-Session-Id", "X-AccessKey", "X-AuthKey", "Authentication", "X-Signature",
            "X-Hub-Signature-256", "X-Passphrase", "X-Bearer", "X-JWT", "X-Hmac", "X-Sig", "X-Request-Sig"] {
            assert!(is_credential_header(name), "{name}");
        }
        for name in ["X-Gcctl-Secret-Version", "X-Session-Affinity", "X-Sticky-Session", "X-Acme-Environment",
            "X-Bot-Engine-Tenant", "Content-Type", "X-Monkey-Business", "X-Signature-Method",
            "X-Hmac-Algorithm", "X-Signature-Version", "X-Design", "X-Signal", "X-Jwt-Issuer",
            "X-Bearer-Realm", "X-Signature-Header"] {
            assert!(!is_credential_header(name), "{name}");
        }
    }

    /// Query parameters are told by their names, in any case, with the
    /// header names' words and `code`, `sig` and `signature`; empty values
    /// and the fragment are not taken.
    #[test]
    fn query_credentials_are_told_by_their_parameters_names() {
        let found = |url| url_query_credentials(url);
        assert_eq!(
            found("https://f.example/api/h?code=k3y%2F9==&clientId=default"),
            [("code", "k3y%2F9==")]
        );
        assert_eq!(
            found("https://l.example/w?api-version=2016-06-01&sp=%2Ftriggers&sv=1.0&SIG=abc#x=1"),
            [("SIG", "abc")]
        );
        assert_eq!(
            found("https://h.example/w?access_token=t0k&apiKey=a1&X-Api-Key=b2&signature=s&token="),
            [("access_token", "t0k"), ("apiKey", "a1"), ("X-Api-Key", "b2"), ("signature", "s")]
        );
        for url in ["https://h.example/w", "https://h.example/w?env=dev&tenant=acme", "https://h.example/w#code=1", "https://h.example/w?keyboard=1&codec=opus"] {
            assert!(found(url).is_empty(), "{url}");
        }
        assert_eq!(
            found("https://s.example/o?X-Amz-Credential=AKIA&X-Amz-Signature=ab12;co%64e=k1&x=jwt&jwt=e30"),
            [("X-Amz-Credential", "AKIA"), ("X-Amz-Signature", "ab12"), ("co%64e", "k1"), ("jwt", "e30")]
        );
        assert_eq!(decoded_forms("a%2Bb+c"), ["a%2Bb+c", "a+b c", "a+b+c"]);
        assert_eq!(decoded_forms("plain"), ["plain"]);
    }

    /// A query credential is hidden as `name=value` whatever its length, and
    /// its value alone where it looks like a key; a value that is a word is
    /// not hidden elsewhere.
    #[test]
    fn query_credentials_are_hidden_as_pairs_and_key_like_values() {
        let visible = crate::api::untrusted::visible;
        hide_query_credentials("https://h.example/w?auth_word=signatures&code=ab1&api_key=k3y%2Bqv9+x");
        assert_eq!(
            visible("https://h.example/w?auth_word=signatures&code=ab1&api_key=k3y%2Bqv9+x"),
            "https://h.example/w?[redacted]&[redacted]&[redacted]"
        );
        // A value as long as a key is hidden alone too, decoded either way.
        hide_query_credentials("https://h.example/w?code=Zm9vYmFyYmF6cXV4%2Bk3y+qv9");
        assert_eq!(
            visible("got Zm9vYmFyYmF6cXV4+k3y qv9 and Zm9vYmFyYmF6cXV4+k3y+qv9"),
            "got [redacted] and [redacted]"
        );
        // Not a short one, which would hide a word everywhere.
        assert_eq!(visible("got k3y+qv9 x"), "got k3y+qv9 x");
        hide_query_credentials("https://h.example/w?signatureMethod=HMAC-SHA256&sig=HMAC-SHA1x");
        assert_eq!(visible("verified with HMAC-SHA256 and HMAC-SHA1x"), "verified with HMAC-SHA256 and HMAC-SHA1x");
        assert!(url_query_credentials("https://h.example/w?signatureMethod=HMAC-SHA256&token_type=bearer&keyVersion=2").is_empty());
        assert_eq!(visible("Signatures review queue"), "Signatures review queue");
    }

    /// A URL's `user:password` and password are hidden from every output;
    /// a user name alone is no secret (hiding it would redact the word
    /// everywhere).
    #[test]
    fn credentials_are_hidden_and_a_user_name_alone_is_not() {
        let visible = crate::api::untrusted::visible;
        assert_eq!(url_credentials("https://u:p@h.example/x?a=b@c"), Some("u:p"));
        assert_eq!(url_credentials("https://h.example/x@y"), None);
        hide_url_credentials("https://hookuser-3b9f:hookpass-7c2e@h.example/x");
        assert_eq!(visible("https://hookuser-3b9f:hookpass-7c2e@h.example/x"), "https://[redacted]@h.example/x");
        assert_eq!(visible("echoed hookpass-7c2e"), "echoed [redacted]");
        hide_url_credentials("https://lonelyuser-5d1a@h.example/x");
        assert_eq!(visible("lonelyuser-5d1a"), "lonelyuser-5d1a");
    }
}
