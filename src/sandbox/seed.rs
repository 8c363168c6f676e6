//! The contents of a new org, the admin client, and bulk generation.
//!
//! Every new org has (ids are random, names fixed): divisions `Home` (the
//! home division) and `Operations`; supported content profile `Default` (org
//! default, allowing `*/*` both ways); messaging setting `Default` (org
//! default); built-in roles `Master Admin`, `admin`, `employee`, `Developer`;
//! flows listed in [`FLOWS`]; and the admin OAuth client `gcctl sandbox admin`
//! (`Master Admin` in Home) holding the credentials the sandbox was started with.
//! The org itself has an id (`orgId` in the defaults), served by
//! `GET /api/v2/organizations/me`.

use serde_json::{Value, json};

use super::common::{new_id, now, random_secret, self_uri, set_secret};
use super::config::SandboxConfig;
use super::error::SandboxError;
use super::routes::{oauth, open_messaging, queues};
use super::store::{Kind, Org, Store};

/// Name of the OAuth client holding the sandbox's own credentials.
pub const ADMIN_CLIENT_NAME: &str = "gcctl sandbox admin";

/// Seeded flows: (name, type). Names repeat across types, as on real orgs.
pub const FLOWS: &[(&str, &str)] = &[
    ("Bot Handover Inbound", "INBOUNDSHORTMESSAGE"),
    ("External Bot Inbound", "INBOUNDSHORTMESSAGE"),
    ("Guest Messaging Inbound", "INBOUNDSHORTMESSAGE"),
    ("Session Persistence Inbound", "INBOUNDSHORTMESSAGE"),
    ("Support", "INBOUNDSHORTMESSAGE"),
    ("Support", "INQUEUESHORTMESSAGE"),
    ("Default In-Queue Message Flow", "INQUEUESHORTMESSAGE"),
    ("Default In-Queue Call Flow", "INQUEUECALL"),
];

/// Built-in roles: (name, defaultRoleId, policy domain).
const ROLES: &[(&str, &str, &str)] = &[
    ("Master Admin", "masterAdmin", "*"),
    ("admin", "admin", "routing"),
    ("employee", "employee", "conversation"),
    ("Developer", "developer", "integrations"),
];

/// Load or seed the org, ensure the admin client, generate bulk objects.
/// Returns the store and the admin credentials `(client id, secret)`.
pub fn prepare(config: &SandboxConfig) -> Result<(Store, (String, String)), SandboxError> {
    let initial = || match &config.seed_file {
        Some(path) => Org::load(path),
        None => Ok(new_org()),
    };
    let mut store = match &config.state_file {
        Some(path) => Store::open(path, config.consistency_delay, initial)?,
        None => Store::new(initial()?, config.consistency_delay),
    };
    super::routes::organization::ensure_org_id(&mut store);
    let admin = ensure_admin(&mut store, config);
    generate(&mut store, config);
    // Start from a full snapshot: the state file alone describes the org.
    store.compact()?;
    Ok((store, admin))
}

/// A fresh org with the seeded objects.
pub fn new_org() -> Org {
    let mut store = Store::new(Org::new(), std::time::Duration::ZERO);
    let home = new_id();
    for (id, name, is_home) in [(home.clone(), "Home", true), (new_id(), "Operations", false)] {
        let division = json!({
            "id": id, "name": name, "description": format!("{name} division"),
            "homeDivision": is_home, "selfUri": self_uri(Kind::Divisions, &id),
        });
        store.put(Kind::Divisions, &id, division);
    }
    seed_messaging(&mut store);
    for (name, default_id, domain) in ROLES {
        let id = new_id();
        let role = json!({
            "id": id, "name": name, "description": format!("Built-in role {name}"),
            "defaultRoleId": default_id, "permissions": [],
            "permissionPolicies": [{
                "domain": domain, "entityName": "*", "actionSet": ["*"], "allowConditions": false,
            }],
            "userCount": 0, "default": true, "base": false,
            "selfUri": self_uri(Kind::Roles, &id),
        });
        store.put(Kind::Roles, &id, role);
    }
    for (name, kind) in FLOWS {
        let id = new_id();
        let flow = json!({
            "id": id, "name": name, "description": "", "type": kind,
            "division": {"id": home}, "active": true, "system": false, "deleted": false,
            "selfUri": self_uri(Kind::Flows, &id),
        });
        store.put(Kind::Flows, &id, flow);
    }
    store.org().clone()
}

fn seed_messaging(store: &mut Store) {
    let stamp = now();
    let content = new_id();
    let profile = json!({
        "id": content, "name": "Default", "version": 1,
        "mediaTypes": {"allow": {"inbound": [{"type": "*/*"}], "outbound": [{"type": "*/*"}]}},
        "dateCreated": stamp, "dateModified": stamp,
        "selfUri": self_uri(Kind::SupportedContent, &content),
    });
    store.put(Kind::SupportedContent, &content, profile);
    store.put(Kind::Defaults, "supportedContent", json!(content));
    let setting = new_id();
    let enabled = json!({"inbound": "Enabled"});
    let messaging = json!({
        "id": setting, "name": "Default", "version": "1",
        "content": {"story": {"mention": enabled, "reply": enabled}},
        "event": {"typing": {"on": {"inbound": "Enabled", "outbound": "Enabled"}}},
        "dateCreated": stamp, "dateModified": stamp,
        "selfUri": self_uri(Kind::MessagingSettings, &setting),
    });
    store.put(Kind::MessagingSettings, &setting, messaging);
    store.put(Kind::Defaults, "messagingSetting", json!(setting));
}

/// Make sure the admin client exists with the configured (or persisted, or
/// generated) credentials, and is usable.
fn ensure_admin(store: &mut Store, config: &SandboxConfig) -> (String, String) {
    let stored_id = store.org().default_str("adminClientId").map(str::to_string);
    let stored_secret = store.org().default_str("adminClientSecret").map(str::to_string);
    let id = config.client_id.clone().or_else(|| stored_id.clone()).unwrap_or_else(new_id);
    let reuse = (stored_id.as_deref() == Some(id.as_str())).then_some(stored_secret).flatten();
    let secret = config.client_secret.clone().or(reuse).unwrap_or_else(random_secret);
    let client = match store.get(Kind::OauthClients, &id) {
        Some(existing) => {
            let mut client = existing.clone();
            client["state"] = json!("active");
            client["authorizedGrantType"] = json!("CLIENT-CREDENTIALS");
            client
        }
        None => oauth::build(store, &id, ADMIN_CLIENT_NAME, "Master Admin", 86_400),
    };
    if store.get(Kind::OauthClients, &id) != Some(&client) {
        store.put(Kind::OauthClients, &id, client);
    }
    set_secret(store, Kind::OauthClients, &id, &secret);
    store.put(Kind::Defaults, "adminClientId", json!(id));
    store.put(Kind::Defaults, "adminClientSecret", json!(secret));
    (id, secret)
}

/// Bulk objects with deterministic names; existing names are skipped.
fn generate(store: &mut Store, config: &SandboxConfig) {
    let generate = config.generate;
    let names = |store: &Store, kind: Kind| -> std::collections::HashSet<String> {
        store
            .all(kind)
            .filter_map(|v| v.get("name").and_then(Value::as_str))
            .map(str::to_string)
            .collect()
    };
    let existing = names(store, Kind::Queues);
    for n in 1..=generate.queues {
        let name = format!("queue-{n:05}");
        if !existing.contains(&name) {
            let (id, queue) = queues::generated(store, &name);
            store.put(Kind::Queues, &id, queue);
        }
    }
    let existing = names(store, Kind::OpenIntegrations);
    for n in 1..=generate.open_messaging_integrations {
        let name = format!("integration-{n:05}");
        if !existing.contains(&name) {
            let url = format!("https://example.invalid/webhooks/{n:05}");
            let (id, item) = open_messaging::generated(store, &name, &url, &random_secret());
            store.put(Kind::OpenIntegrations, &id, item);
        }
    }
    let existing = names(store, Kind::OauthClients);
    for n in 1..=generate.oauth_clients {
        let name = format!("client-{n:05}");
        if !existing.contains(&name) {
            let id = new_id();
            let client = oauth::build(store, &id, &name, "employee", 86_400);
            set_secret(store, Kind::OauthClients, &id, &random_secret());
            store.put(Kind::OauthClients, &id, client);
        }
    }
}
