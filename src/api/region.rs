//! Where the API lives: turning `GENESYSCLOUD_REGION` into the API and login base URLs.
//!
//! Accepted forms, in the order they are tried:
//!
//! 1. a base URL (`https://api.mypurecloud.de`, `http://127.0.0.1:8080`). `https://` may name any
//!    host; plain `http://` only a loopback address (127.0.0.0/8, `::1`, `localhost`), so a
//!    token is never sent in clear text over a network. A URL with `api.` or `login.` in front of
//!    a public Genesys domain gets the matching login or API host; any other URL (a sandbox, a
//!    proxy) serves both the API and `/oauth/token` itself;
//! 2. an AWS region id from [`REGIONS`] (`eu-central-1`), case-insensitive;
//! 3. a Genesys domain from [`REGIONS`], bare or prefixed with `api.` or `login.`
//!    (`mypurecloud.de`, `api.mypurecloud.de`).
//!
//! Invariant: a [`Target`]'s base URLs have no path, query, fragment or credentials, so
//! joining an `/api/v2/...` path onto them is exact, and its label is safe to print.

use std::net::IpAddr;

use reqwest::Url;

/// The 18 public Genesys Cloud regions: AWS region id and domain. The API host is
/// `api.<domain>`, the login host `login.<domain>` (the official SDKs and the Terraform
/// provider agree on this table).
pub const REGIONS: &[(&str, &str)] = &[
    ("us-east-1", "mypurecloud.com"),
    ("us-east-2", "use2.us-gov-pure.cloud"),
    ("us-west-2", "usw2.pure.cloud"),
    ("ca-central-1", "cac1.pure.cloud"),
    ("sa-east-1", "sae1.pure.cloud"),
    ("mx-central-1", "mxc1.pure.cloud"),
    ("eu-west-1", "mypurecloud.ie"),
    ("eu-west-2", "euw2.pure.cloud"),
    ("eu-central-1", "mypurecloud.de"),
    ("eu-central-2", "euc2.pure.cloud"),
    ("eusc-de-east-1", "edee1.eusc-pure.cloud"),
    ("me-central-1", "mec1.pure.cloud"),
    ("ap-south-1", "aps1.pure.cloud"),
    ("ap-southeast-1", "apse1.pure.cloud"),
    ("ap-southeast-2", "mypurecloud.com.au"),
    ("ap-northeast-1", "mypurecloud.jp"),
    ("ap-northeast-2", "apne2.pure.cloud"),
    ("ap-northeast-3", "apne3.pure.cloud"),
];

/// The region used when `GENESYSCLOUD_REGION` is not set (as in the SDKs and the provider).
pub const DEFAULT_REGION: &str = "us-east-1";

/// A resolved API target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Base of every `/api/v2/...` path, e.g. `https://api.mypurecloud.de/`.
    pub api_base: Url,
    /// Base of `/oauth/token`, e.g. `https://login.mypurecloud.de/`. Equal to `api_base` for
    /// URLs that are not a public Genesys host (sandbox, loopback, proxy).
    pub login_base: Url,
    /// Human label: `eu-central-1 (mypurecloud.de)`, or the base URL as given.
    pub label: String,
}

/// Why a `GENESYSCLOUD_REGION` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionError {
    /// Neither a known region id, a known domain nor a URL.
    #[error(
        "unknown Genesys Cloud region `{input}`; valid regions are {}; also accepted: \
         a domain prefixed with `api.` or `login.`, or a base URL such as \
         `https://api.mypurecloud.de` (plain `http://` only for loopback addresses)",
        valid_regions()
    )]
    Unknown { input: String },
    /// Looked like a URL but is not a usable base URL.
    #[error("`{input}` is not a usable base URL: {reason}")]
    InvalidUrl { input: String, reason: String },
    /// `http://` to a host that is not loopback.
    #[error(
        "`{input}` uses plain http:// to `{host}`, which is not a loopback address; \
         use https://, or http:// only with 127.0.0.0/8, [::1] or localhost"
    )]
    InsecureHttp { input: String, host: String },
}

/// Resolve a region id, a domain or a base URL into a [`Target`].
pub fn resolve_region(input: &str) -> Result<Target, RegionError> {
    let trimmed = input.trim();
    if trimmed.contains("://") {
        return resolve_url(trimmed);
    }
    let lower = trimmed.to_ascii_lowercase();
    let domain = lower.trim_end_matches('.');
    let bare =
        domain.strip_prefix("api.").or_else(|| domain.strip_prefix("login.")).unwrap_or(domain);
    REGIONS
        .iter()
        .find(|(id, dom)| *id == domain || *dom == bare)
        .map(|&(id, dom)| public_target(id, dom))
        .ok_or_else(|| RegionError::Unknown { input: trimmed.to_owned() })
}

/// `region (domain), ...` for messages.
fn valid_regions() -> String {
    REGIONS.iter().map(|(id, dom)| format!("{id} ({dom})")).collect::<Vec<_>>().join(", ")
}

fn public_target(id: &str, domain: &str) -> Target {
    Target {
        api_base: host_url(&format!("api.{domain}")),
        login_base: host_url(&format!("login.{domain}")),
        label: format!("{id} ({domain})"),
    }
}

/// `https://{host}/` for a host built from the static table.
fn host_url(host: &str) -> Url {
    Url::parse(&format!("https://{host}/")).expect("region table hosts are valid URL hosts")
}

fn resolve_url(input: &str) -> Result<Target, RegionError> {
    let invalid = |reason: &str| RegionError::InvalidUrl {
        input: redact_userinfo(input),
        reason: reason.to_owned(),
    };
    let url = Url::parse(input).map_err(|e| invalid(&e.to_string()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("credentials in the URL are not accepted"));
    }
    if url.path() != "/" && !url.path().is_empty() {
        return Err(invalid("a base URL has no path (the client adds /api/v2/...)"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a base URL has no query or fragment"));
    }
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| invalid("no host"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" => {
            return Err(RegionError::InsecureHttp {
                input: input.to_owned(),
                host: host.to_owned(),
            });
        }
        _ => return Err(invalid("the scheme must be https:// (or http:// for loopback)")),
    }
    let label = url.as_str().trim_end_matches('/').to_owned();
    let (api_base, login_base) = match url.scheme() {
        "https" => paired_public_hosts(&url, host),
        _ => (url.clone(), url.clone()),
    };
    Ok(Target { api_base, login_base, label })
}

/// For `https://api.<public domain>` or `https://login.<public domain>`, the API and login
/// URLs (same scheme and port); for any other host, that URL for both.
fn paired_public_hosts(url: &Url, host: &str) -> (Url, Url) {
    let host = host.to_ascii_lowercase();
    let bare = host.strip_prefix("api.").or_else(|| host.strip_prefix("login."));
    let Some(domain) = bare.filter(|d| REGIONS.iter().any(|(_, dom)| dom == d)) else {
        return (url.clone(), url.clone());
    };
    let with_host = |h: String| {
        let mut u = url.clone();
        // A known public domain is always a valid host; keep the original URL if not.
        if u.set_host(Some(&h)).is_err() {
            return url.clone();
        }
        u
    };
    (with_host(format!("api.{domain}")), with_host(format!("login.{domain}")))
}

/// `scheme://user:password@host` with the credentials replaced, so an error can echo it.
fn redact_userinfo(input: &str) -> String {
    let Some((scheme, rest)) = input.split_once("://") else { return input.to_owned() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => input.to_owned(),
    }
}

/// `localhost`, 127.0.0.0/8 or `::1` (a URL host writes IPv6 in brackets).
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> Target {
        resolve_region(input).unwrap_or_else(|e| panic!("{input}: {e}"))
    }

    #[test]
    fn there_are_eighteen_distinct_regions() {
        assert_eq!(REGIONS.len(), 18);
        let mut ids: Vec<_> = REGIONS.iter().map(|r| r.0).collect();
        let mut domains: Vec<_> = REGIONS.iter().map(|r| r.1).collect();
        ids.sort_unstable();
        ids.dedup();
        domains.sort_unstable();
        domains.dedup();
        assert_eq!((ids.len(), domains.len()), (18, 18));
    }

    #[test]
    fn every_region_id_and_domain_form_resolves() {
        for &(id, domain) in REGIONS {
            let api = format!("https://api.{domain}/");
            let login = format!("https://login.{domain}/");
            let label = format!("{id} ({domain})");
            for input in [
                id.to_owned(),
                id.to_uppercase(),
                format!("  {id} "),
                domain.to_owned(),
                format!("{domain}."),
                format!("api.{domain}"),
                format!("login.{domain}"),
                domain.to_uppercase(),
            ] {
                let t = ok(&input);
                assert_eq!(t.api_base.as_str(), api, "{input}");
                assert_eq!(t.login_base.as_str(), login, "{input}");
                assert_eq!(t.label, label, "{input}");
            }
        }
    }

    #[test]
    fn https_public_base_urls_pair_api_and_login() {
        for &(_, domain) in REGIONS {
            for prefix in ["api", "login"] {
                for suffix in ["", "/"] {
                    let input = format!("https://{prefix}.{domain}{suffix}");
                    let t = ok(&input);
                    assert_eq!(t.api_base.as_str(), format!("https://api.{domain}/"));
                    assert_eq!(t.login_base.as_str(), format!("https://login.{domain}/"));
                    assert_eq!(t.label, format!("https://{prefix}.{domain}"));
                }
            }
        }
    }

    #[test]
    fn https_other_hosts_serve_login_themselves() {
        let t = ok("https://gateway.example.com:8443");
        assert_eq!(t.api_base.as_str(), "https://gateway.example.com:8443/");
        assert_eq!(t.login_base, t.api_base);
        assert_eq!(t.label, "https://gateway.example.com:8443");
        let t = ok("https://api.inindca.com");
        assert_eq!(t.login_base, t.api_base);
    }

    #[test]
    fn http_is_accepted_for_loopback_only() {
        for input in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://localhost:3000/",
            "http://LOCALHOST",
            "http://[::1]:9000",
        ] {
            let t = ok(input);
            assert_eq!(t.api_base.scheme(), "http");
            assert_eq!(t.login_base, t.api_base, "{input}");
            assert!(t.label.eq_ignore_ascii_case(input.trim_end_matches('/')), "{}", t.label);
        }
        for input in [
            "http://api.mypurecloud.de",
            "http://10.0.0.1:8080",
            "http://[::2]",
            "http://localhost.example.com",
        ] {
            let err = resolve_region(input).expect_err(input);
            assert!(matches!(err, RegionError::InsecureHttp { .. }), "{input}: {err}");
            assert!(err.to_string().contains("loopback"), "{err}");
        }
    }

    #[test]
    fn unusable_urls_are_refused() {
        for input in [
            "https://api.mypurecloud.de/api/v2",
            "https://api.mypurecloud.de/?x=1",
            "https://user:pw@api.mypurecloud.de",
            "ftp://api.mypurecloud.de",
            "https://",
        ] {
            let err = resolve_region(input).expect_err(input);
            assert!(matches!(err, RegionError::InvalidUrl { .. }), "{input}: {err}");
        }
        let err = resolve_region("https://user:hunter2@example.com/x").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(err.to_string().contains("https://***@example.com/x"), "{err}");
    }

    #[test]
    fn unknown_region_lists_every_valid_one() {
        for input in ["eu-central-9", "mypurecloud.fr", "", "api.example.com"] {
            let err = resolve_region(input).expect_err(input);
            assert!(matches!(err, RegionError::Unknown { .. }));
            let msg = err.to_string();
            for &(id, domain) in REGIONS {
                assert!(msg.contains(id) && msg.contains(domain), "{msg}");
            }
            assert!(msg.contains("https://") && msg.contains("loopback"), "{msg}");
        }
    }
}
