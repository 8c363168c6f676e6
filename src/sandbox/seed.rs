//! The contents of a new org, the admin client, and bulk generation.
//!
//! Every new org has (ids are random, names fixed): divisions `Home` (the
//! home division) and `Operations`; supported content profile `Default` (org
//! default, allowing `*/*` both ways); messaging setting `Default` (org
//! default); built-in roles `Master Admin`, `admin`, `employee`, `Developer`;
//! flows listed in [`FLOWS`]; the admin OAuth client `gcctl sandbox admin`
//! holding the credentials the sandbox was started with; and the admin user
//! [`ADMIN_USER_NAME`] ([`ADMIN_USER_EMAIL`], `active`). Both admins hold
//! `Master Admin` (every permission: its policy is `*:*:*`) in every
//! division. The org itself has an id (`orgId` in the defaults), served by
//! `GET /api/v2/organizations/me`.
//!
//! [`prepare`] ensures the admins on every start, like the org id: a state
//! file written before users and grants existed loads (the new collections
//! empty) and gets them, and an admin that lost its grants (or a division
//! added by a seed file) is granted `Master Admin` everywhere again.

use serde_json::{Value, json};

use super::common::{new_id, now, random_secret, self_uri, set_secret};
use super::config::SandboxConfig;
use super::error::SandboxError;
use super::routes::{oauth, open_messaging, queues};
use super::store::{Kind, Org, Store};

/// Name of the OAuth client holding the sandbox's own credentials.
pub const ADMIN_CLIENT_NAME: &str = "gcctl sandbox admin";
/// Name of the seeded admin user (the subject of `RunningSandbox::user_token`).
pub const ADMIN_USER_NAME: &str = "Sandbox Admin";
/// Email (and username) of the seeded admin user.
pub const ADMIN_USER_EMAIL: &str = "admin@sandbox.gcctl.example";
/// The built-in role that holds every permission.
pub const MASTER_ADMIN: &str = "Master Admin";

/// Seeded agents: (name, email, state). They hold no roles.
pub const AGENTS: &[(&str, &str, &str)] = &[
    ("Alice Agent", "alice@sandbox.gcctl.example", "active"),
    ("Bob Agent", "bob@sandbox.gcctl.example", "active"),
    ("Carol Agent", "carol@sandbox.gcctl.example", "active"),
    ("Dave Agent", "dave@sandbox.gcctl.example", "active"),
    ("Erin Agent", "erin@sandbox.gcctl.example", "inactive"),
];
/// The seeded group, with Carol and Dave as members.
pub const AGENTS_GROUP: &str = "Sandbox Agents";
/// Emails of the seeded group's members.
const AGENTS_GROUP_MEMBERS: &[&str] =
    &["carol@sandbox.gcctl.example", "dave@sandbox.gcctl.example"];
/// The seeded team, with Bob as its member.
pub const AGENTS_TEAM: &str = "Sandbox Team";
/// The seeded skill group, with Alice as its member.
pub const AGENTS_SKILL_GROUP: &str = "Sandbox Skill Group";

/// Seeded flows: (name, type). Names repeat across types, as on real orgs.
/// They stand for flows made elsewhere (in Architect) that manifests refer
/// to by name, and are marked `system` (the sandbox's choice), so that
/// drift, export and prune leave them alone and imports cannot replace them.
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

/// What [`prepare`] ensured: the admin client's credentials and the admin user.
pub struct Admins {
    pub client_id: String,
    pub client_secret: String,
    pub user_id: String,
}

/// Load or seed the org, ensure the admin client and user, generate bulk
/// objects.
pub fn prepare(config: &SandboxConfig) -> Result<(Store, Admins), SandboxError> {
    let initial = || match &config.seed_file {
        Some(path) => Org::load(path),
        None => Ok(new_org()),
    };
    let mut store = match &config.state_file {
        Some(path) => Store::open(path, config.consistency_delay, initial)?,
        None => Store::new(initial()?, config.consistency_delay),
    };
    super::routes::organization::ensure_org_id(&mut store);
    let master = ensure_master_admin(&mut store);
    let (client_id, client_secret) = ensure_admin(&mut store, config, &master);
    let user_id = ensure_admin_user(&mut store, &master);
    generate(&mut store, config);
    // Start from a full snapshot: the state file alone describes the org.
    store.compact()?;
    Ok((store, Admins { client_id, client_secret, user_id }))
}

/// The policy of `Master Admin`: every permission.
fn all_permissions() -> Value {
    json!([{"domain": "*", "entityName": "*", "actionSet": ["*"], "allowConditions": false}])
}

/// Make sure the built-in `Master Admin` role exists and grants every
/// permission; returns its id.
fn ensure_master_admin(store: &mut Store) -> String {
    let found = store
        .all(Kind::Roles)
        .find(|r| r.get("defaultRoleId").and_then(Value::as_str) == Some("masterAdmin"))
        .cloned();
    let mut role = found.unwrap_or_else(|| {
        let id = new_id();
        json!({
            "id": id, "name": MASTER_ADMIN, "description": format!("Built-in role {MASTER_ADMIN}"),
            "defaultRoleId": "masterAdmin", "permissions": [],
            "userCount": 0, "default": true, "base": false,
            "selfUri": self_uri(Kind::Roles, &id),
        })
    });
    let id = role.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
    let before = store.get(Kind::Roles, &id).cloned();
    role["permissionPolicies"] = all_permissions();
    if before.as_ref() != Some(&role) {
        store.put(Kind::Roles, &id, role);
    }
    id
}

/// `role` in every division, added to `grants` where missing.
fn grant_everywhere(store: &Store, grants: &mut Vec<Value>, role: &str, stamp: Option<&str>) {
    let divisions: Vec<String> = store
        .all(Kind::Divisions)
        .filter_map(|d| d.get("id").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    for division in divisions {
        let held = grants.iter().any(|g| g["roleId"] == role && g["divisionId"] == division);
        if !held {
            let mut grant = json!({"roleId": role, "divisionId": division});
            if let Some(stamp) = stamp {
                grant["grantMadeAt"] = json!(stamp);
            }
            grants.push(grant);
        }
    }
}

/// Make sure the admin user exists, is `active` and holds `Master Admin` in
/// every division; returns its id.
fn ensure_admin_user(store: &mut Store, master: &str) -> String {
    let stored = store.org().default_str("adminUserId").map(str::to_string);
    let id = stored.filter(|id| store.get(Kind::Users, id).is_some()).unwrap_or_else(new_id);
    let mut user = store.get(Kind::Users, &id).cloned().unwrap_or_else(|| {
        json!({
            "id": id, "name": ADMIN_USER_NAME, "email": ADMIN_USER_EMAIL,
            "username": ADMIN_USER_EMAIL, "version": 1,
            "division": {"id": crate::sandbox::common::home_division(store).unwrap_or_default()},
            "selfUri": self_uri(Kind::Users, &id),
        })
    });
    user["state"] = json!("active");
    if store.get(Kind::Users, &id) != Some(&user) {
        store.put(Kind::Users, &id, user);
    }
    let before = store.get(Kind::Grants, &id).cloned();
    let mut grants: Vec<Value> = before
        .as_ref()
        .and_then(|g| g.get("grants"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    grant_everywhere(store, &mut grants, master, Some(&now()));
    let after = json!({"subjectId": id, "grants": grants});
    if before.as_ref() != Some(&after) {
        store.put(Kind::Grants, &id, after);
    }
    store.put(Kind::Defaults, "adminUserId", json!(id));
    id
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
    seed_agents(&mut store, &home);
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
            "division": {"id": home}, "active": true, "system": true, "deleted": false,
            "selfUri": self_uri(Kind::Flows, &id),
        });
        store.put(Kind::Flows, &id, flow);
    }
    store.org().clone()
}

/// A user as the sandbox stores it (`User` fields only).
pub fn user(id: &str, name: &str, email: &str, state: &str, division: &str) -> Value {
    json!({
        "id": id, "name": name, "email": email, "username": email, "state": state,
        "version": 1, "division": {"id": division},
        "selfUri": self_uri(Kind::Users, id),
    })
}

/// `POST /_sandbox/users` `{name, email, state?, groups?}`: create a user, or
/// change the one with that email (what an admin does in the UI; the API
/// has no endpoint gcctl may use for it). `state` is `active` (default),
/// `inactive` or `deleted`; `groups` names groups to add the user to. The
/// write restarts the user's search lag (`--search-delay-ms`).
pub async fn put_user(
    axum::extract::State(state): axum::extract::State<super::server::Shared>,
    super::routes::input::Body(body): super::routes::input::Body,
) -> Result<axum::Json<Value>, super::error::ApiError> {
    use super::error::ApiError;
    use super::routes::input::{optional_str, required_str};
    let name = required_str(&body, "name")?;
    let email = required_str(&body, "email")?;
    let user_state = optional_str(&body, "state")?.unwrap_or_else(|| "active".into());
    if !["active", "inactive", "deleted"].contains(&user_state.as_str()) {
        return Err(super::routes::input::bad_enum(
            "state",
            &user_state,
            &["active", "inactive", "deleted"],
        ));
    }
    let mut store = state.store();
    let group_names: Vec<&str> = body
        .get("groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut groups = Vec::new();
    for group in &group_names {
        let id = store
            .all(Kind::Groups)
            .find(|g| g.get("name").and_then(Value::as_str) == Some(group))
            .and_then(|g| g.get("id")?.as_str().map(str::to_string))
            .ok_or_else(|| {
                ApiError::bad_field("groups", format!("No group is named '{group}'."))
            })?;
        groups.push(id);
    }
    let existing = store
        .all(Kind::Users)
        .find(|u| {
            u.get("email").and_then(Value::as_str).is_some_and(|e| e.eq_ignore_ascii_case(&email))
        })
        .cloned();
    let home = super::common::home_division(&store).unwrap_or_default();
    let id = existing
        .as_ref()
        .and_then(|u| u.get("id")?.as_str().map(str::to_string))
        .unwrap_or_else(new_id);
    let mut created = user(&id, &name, &email, &user_state, &home);
    if let Some(version) = existing.as_ref().and_then(|u| u.get("version")).and_then(Value::as_u64)
    {
        created["version"] = json!(version + 1);
    }
    store.remove(Kind::Users, &id);
    store.insert(Kind::Users, &id, created.clone());
    for group in groups {
        let mut members = super::routes::groups::members(&store, &group);
        if !members.contains(&id) {
            members.push(id.clone());
        }
        store.put(Kind::GroupMembers, &group, json!({"groupId": group, "userIds": members}));
    }
    store.commit()?;
    Ok(axum::Json(created))
}

fn seed_agents(store: &mut Store, home: &str) {
    let mut members = Vec::new();
    for (name, email, state) in AGENTS {
        let id = new_id();
        store.put(Kind::Users, &id, user(&id, name, email, state, home));
        if AGENTS_GROUP_MEMBERS.contains(email) {
            members.push(id);
        }
    }
    let group = new_id();
    store.put(
        Kind::Groups,
        &group,
        json!({
            "id": group, "name": AGENTS_GROUP, "description": "Agents of the sandbox org",
            "dateModified": now(), "state": "active", "version": 1, "type": "official",
            "rulesVisible": true, "visibility": "public",
            "selfUri": self_uri(Kind::Groups, &group),
        }),
    );
    store.put(Kind::GroupMembers, &group, json!({"groupId": group, "userIds": members}));
    let member = |email: &str| {
        store
            .all(Kind::Users)
            .find(|u| u.get("email").and_then(Value::as_str) == Some(email))
            .and_then(|u| u.get("id"))
            .cloned()
    };
    let (bob, alice) = (member("bob@sandbox.gcctl.example"), member("alice@sandbox.gcctl.example"));
    let team = new_id();
    store.put(
        Kind::Teams,
        &team,
        json!({"id": team, "name": AGENTS_TEAM, "description": "A team of the sandbox org",
            "division": {"id": home}, "dateCreated": now(), "dateModified": now()}),
    );
    store.put(Kind::GroupMembers, &team, json!({"groupId": team, "userIds": [bob]}));
    let skill_group = new_id();
    store.put(
        Kind::SkillGroups,
        &skill_group,
        json!({"id": skill_group, "name": AGENTS_SKILL_GROUP, "description": "A skill group of the sandbox org",
            "division": {"id": home}, "status": "Complete",
            "dateCreated": now(), "dateModified": now()}),
    );
    store.put(
        Kind::GroupMembers,
        &skill_group,
        json!({"groupId": skill_group, "userIds": [alice]}),
    );
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
/// generated) credentials, is usable, and holds `Master Admin` in every
/// division.
fn ensure_admin(store: &mut Store, config: &SandboxConfig, master: &str) -> (String, String) {
    let stored_id = store.org().default_str("adminClientId").map(str::to_string);
    let stored_secret = store.org().default_str("adminClientSecret").map(str::to_string);
    let id = config.client_id.clone().or_else(|| stored_id.clone()).unwrap_or_else(new_id);
    let reuse = (stored_id.as_deref() == Some(id.as_str())).then_some(stored_secret).flatten();
    let secret = config.client_secret.clone().or(reuse).unwrap_or_else(random_secret);
    let mut client = match store.get(Kind::OauthClients, &id) {
        Some(existing) => {
            let mut client = existing.clone();
            client["state"] = json!("active");
            client["authorizedGrantType"] = json!("CLIENT-CREDENTIALS");
            client
        }
        None => oauth::build(store, &id, ADMIN_CLIENT_NAME, MASTER_ADMIN, 86_400),
    };
    let mut grants: Vec<Value> =
        client.get("roleDivisions").and_then(Value::as_array).cloned().unwrap_or_default();
    grant_everywhere(store, &mut grants, master, None);
    client["roleDivisions"] = Value::Array(grants);
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
            let (id, queue) = queues::generated(store, &name, generate.queue_settings);
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
    let existing = names(store, Kind::Users);
    let home = super::common::home_division(store).unwrap_or_default();
    for n in 1..=generate.users {
        let name = format!("Agent {n:05}");
        if !existing.contains(&name) {
            let id = new_id();
            let email = format!("agent-{n:05}@sandbox.gcctl.example");
            store.put(Kind::Users, &id, user(&id, &name, &email, "active", &home));
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
