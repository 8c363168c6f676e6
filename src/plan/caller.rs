//! Who gcctl acts as, and what it holds: read once per plan so that the plan
//! can tell, before any change, which role grants the org would refuse and
//! which permissions the planned changes need that the caller lacks.
//!
//! The caller is the subject of the access token: the OAuth client of a
//! client-credentials token, or the user behind `GENESYSCLOUD_ACCESS_TOKEN`.
//! It is read with two calls that need no permission:
//!
//! - `GET /api/v2/tokens/me` (`TokenInfo`): the OAuth client the token was
//!   issued to (API reference §g, §m);
//! - `GET /api/v2/authorization/subjects/me` (`AuthzSubject`): the caller's
//!   grants, each a role (with its `policies`: `domain`, `entityName`,
//!   `actions`) in a division (Python SDK `apis/authorization_api.py`
//!   `get_authorization_subjects_me`, `models/authz_subject.py`,
//!   `authz_grant.py`, `authz_grant_role.py`, `authz_grant_policy.py`).
//!   When its id is the token's OAuth client, the caller is that client;
//!   otherwise a user. Whether a real org answers it for a
//!   client-credentials token is UNVERIFIED; when it does not, the client's
//!   `roleDivisions` from `tokens/me` give its grants, and its roles'
//!   policies come from `GET /api/v2/authorization/roles?id=…` (which needs
//!   `authorization:role:view`; without it, the permissions are unknown and
//!   not checked), and the Home division from
//!   `GET /api/v2/authorization/divisions/home` (no permission needed).
//!
//! Permissions are kept with the division of the grant that gives them: a
//! real org checks division-aware permissions (`permissions::DIVISION_AWARE`)
//! in the division of the object a request touches, so `routing:queue:add`
//! held in Home does not create a queue in another division. A grant in
//! `*` counts in every division.

use serde_json::Value;

use crate::api::Client;
use crate::permissions;

/// What kind of subject the caller is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    /// An OAuth client (client credentials).
    Client,
    /// A user (a user's access token).
    User,
}

/// A role held in a division.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role_id: String,
    pub role_name: String,
    pub division_id: String,
}

/// A permission pattern the caller holds, in the division of the grant
/// that gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldPermission {
    /// `domain:entity:action`, `*` segments allowed.
    pub pattern: String,
    /// The division id; `*` for a grant in every division.
    pub division_id: String,
}

/// The division id of a grant in every division.
pub const ALL_DIVISIONS: &str = "*";

/// The caller of this run.
#[derive(Debug, Clone)]
pub struct Caller {
    pub kind: SubjectKind,
    pub id: String,
    pub name: String,
    pub grants: Vec<Grant>,
    /// Permission patterns of the roles held, by division; `None` when they
    /// could not be read.
    pub permissions: Option<Vec<HeldPermission>>,
    /// The org's Home division, when the caller's read tells it (a grant's
    /// division flagged `homeDivision`, or `GET .../divisions/home`).
    pub home_division: Option<String>,
}

impl Caller {
    /// Whether the caller holds this role in this division.
    pub fn holds(&self, role_id: &str, division_id: &str) -> bool {
        self.grants.iter().any(|g| g.role_id == role_id && g.division_id == division_id)
    }

    /// Whether the caller holds the permission (in some division); `None`
    /// when its permissions are unknown.
    pub fn has_permission(&self, permission: &str) -> Option<bool> {
        let held = self.permissions.as_ref()?;
        Some(held.iter().any(|p| permissions::matches(&p.pattern, permission)))
    }

    /// Whether the caller holds the permission in the division (or in all
    /// divisions, `*`); `None` when its permissions are unknown.
    pub fn has_permission_in(&self, permission: &str, division_id: &str) -> Option<bool> {
        let held = self.permissions.as_ref()?;
        Some(held.iter().any(|p| {
            (p.division_id == division_id || p.division_id == ALL_DIVISIONS)
                && permissions::matches(&p.pattern, permission)
        }))
    }

    /// The division ids where the caller holds the permission.
    pub fn divisions_holding(&self, permission: &str) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .permissions
            .iter()
            .flatten()
            .filter(|p| permissions::matches(&p.pattern, permission))
            .map(|p| p.division_id.as_str())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// `OAuth client "gcctl" (id …)` or `user "Ann" (id …)`.
    pub fn describe(&self) -> String {
        let what = match self.kind {
            SubjectKind::Client => "OAuth client",
            SubjectKind::User => "user",
        };
        format!("{what} {} (id {})", crate::api::untrusted::quoted(&self.name), self.id)
    }

    /// A user who may grant roles (to itself first).
    pub fn can_grant_to_self(&self) -> bool {
        self.kind == SubjectKind::User
            && self.has_permission("authorization:grant:add") == Some(true)
    }
}

/// Read the caller (see the module docs); `None` when the org tells
/// neither (then nothing about the caller is checked).
pub async fn read(client: &Client) -> Result<Option<Caller>, super::ReadError> {
    // Both at once: neither needs the other's answer to be asked (a plan
    // waited one round trip more when they went one after the other).
    let (token, subject) = futures::join!(
        client.get("/api/v2/tokens/me", &[]),
        client.get_optional("/api/v2/authorization/subjects/me", &[])
    );
    let token = token.map_err(|source| super::ReadError {
        what: "the caller's token (GET /api/v2/tokens/me)".into(),
        source,
    })?;
    let oauth = &token["OAuthClient"];
    let client_id = text(oauth, "id");
    let subject = match subject {
        Ok(subject) => subject,
        // Refused for this token (UNVERIFIED for client credentials): fall
        // back to the client's own grants below.
        Err(err) if err.status.is_some_and(|s| (400..500).contains(&s)) => None,
        Err(source) => {
            return Err(super::ReadError {
                what: "the caller's grants (GET /api/v2/authorization/subjects/me)".into(),
                source,
            });
        }
    };
    if let Some(subject) = subject {
        // An answer that is no subject (`null`, `{}`) would read as a
        // caller holding nothing, and the plan would report missing
        // permissions: it is an error of the answer, named.
        if text(&subject, "id").is_empty() {
            let path = "/api/v2/authorization/subjects/me";
            return Err(super::ReadError {
                what: format!("the caller's grants (GET {path})"),
                source: crate::api::ApiError::new(
                    "GET",
                    path,
                    crate::api::ApiErrorKind::Decode,
                    "the answer is not a subject (it has no id)",
                ),
            });
        }
        return Ok(Some(from_subject(&subject, oauth, &client_id)));
    }
    if client_id.is_empty() {
        return Ok(None);
    }
    let grants: Vec<Grant> = oauth["roleDivisions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| Grant {
            role_id: text(g, "roleId"),
            role_name: String::new(),
            division_id: text(g, "divisionId"),
        })
        .collect();
    // `roleDivisions` carry ids only: which one is Home comes from its own
    // call ("Requires NO permissions", API reference §d).
    let home = client.get_optional("/api/v2/authorization/divisions/home", &[]).await;
    let home_division = home.ok().flatten().map(|d| text(&d, "id")).filter(|id| !id.is_empty());
    let permissions = role_patterns(client, &grants).await;
    Ok(Some(Caller {
        kind: SubjectKind::Client,
        id: client_id,
        name: text(oauth, "name"),
        grants,
        permissions,
        home_division,
    }))
}

/// The caller as `GET /api/v2/authorization/subjects/me` shows it: its
/// grants, the permissions their roles hold in each division, and its Home
/// division. A subject whose id is the token's OAuth client is that client.
fn from_subject(subject: &Value, oauth: &Value, client_id: &str) -> Caller {
    let id = text(subject, "id");
    let kind = if id == client_id { SubjectKind::Client } else { SubjectKind::User };
    let mut grants = Vec::new();
    let mut held = Vec::new();
    let mut home_division = None;
    for grant in subject["grants"].as_array().into_iter().flatten() {
        let role = &grant["role"];
        let division_id = text(&grant["division"], "id");
        if grant["division"]["homeDivision"] == Value::Bool(true) {
            home_division = Some(division_id.clone());
        }
        for policy in role["policies"].as_array().into_iter().flatten() {
            held.extend(in_division(policy_patterns(policy, "actions"), &division_id));
        }
        grants.push(Grant {
            role_id: text(role, "id"),
            role_name: text(role, "name"),
            division_id,
        });
    }
    let name = match text(subject, "name") {
        n if n.is_empty() && kind == SubjectKind::Client => text(oauth, "name"),
        n => n,
    };
    let permissions = Some(held);
    Caller { kind, id, name, grants, permissions, home_division }
}

/// The permission patterns of the roles granted, each in the division of
/// its grant, or `None` when the roles cannot be read.
async fn role_patterns(client: &Client, grants: &[Grant]) -> Option<Vec<HeldPermission>> {
    if grants.is_empty() {
        return Some(Vec::new());
    }
    let query: Vec<(&str, String)> = grants.iter().map(|g| ("id", g.role_id.clone())).collect();
    let roles = client.list_all("/api/v2/authorization/roles", &query, 100).await.ok()?;
    let mut held = Vec::new();
    for role in &roles {
        let mut patterns = Vec::new();
        for policy in role["permissionPolicies"].as_array().into_iter().flatten() {
            patterns.extend(policy_patterns(policy, "actionSet"));
        }
        for permission in role["permissions"].as_array().into_iter().flatten() {
            if let Some(p) = permission.as_str() {
                patterns.push(p.to_string());
            }
        }
        let id = text(role, "id");
        for grant in grants.iter().filter(|g| g.role_id == id) {
            held.extend(in_division(patterns.clone(), &grant.division_id));
        }
    }
    Some(held)
}

fn in_division(patterns: Vec<String>, division_id: &str) -> impl Iterator<Item = HeldPermission> {
    let division_id = division_id.to_string();
    patterns
        .into_iter()
        .map(move |pattern| HeldPermission { pattern, division_id: division_id.clone() })
}

/// `domain:entity:action` for each action of a policy (`*` kept).
fn policy_patterns(policy: &Value, actions_key: &str) -> Vec<String> {
    let domain = text(policy, "domain");
    let entity = text(policy, "entityName");
    policy[actions_key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|action| format!("{domain}:{entity}:{action}"))
        .collect()
}

fn text(value: &Value, key: &str) -> String {
    value.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn caller(kind: SubjectKind, permissions: &[&str]) -> Caller {
        Caller {
            kind,
            id: "me".into(),
            name: "Me".into(),
            grants: vec![Grant {
                role_id: "r".into(),
                role_name: "R".into(),
                division_id: "d".into(),
            }],
            permissions: Some(
                in_division(permissions.iter().map(|p| (*p).to_string()).collect(), "d").collect(),
            ),
            home_division: Some("d".into()),
        }
    }

    #[test]
    fn permissions_count_in_their_division_or_everywhere_from_a_star_grant() {
        let mut user = caller(SubjectKind::User, &["routing:queue:add"]);
        assert_eq!(user.has_permission_in("routing:queue:add", "d"), Some(true));
        assert_eq!(user.has_permission_in("routing:queue:add", "other"), Some(false));
        assert_eq!(user.divisions_holding("routing:queue:add"), ["d"]);
        user.permissions.as_mut().unwrap().push(HeldPermission {
            pattern: "routing:*:*".into(),
            division_id: ALL_DIVISIONS.into(),
        });
        assert_eq!(user.has_permission_in("routing:queue:add", "other"), Some(true));
        user.permissions = None;
        assert_eq!(user.has_permission_in("routing:queue:add", "d"), None);
    }

    #[test]
    fn holds_roles_per_division_and_matches_permission_patterns() {
        let user = caller(SubjectKind::User, &["routing:*:*", "authorization:grant:add"]);
        assert!(user.holds("r", "d"));
        assert!(!user.holds("r", "other"));
        assert_eq!(user.has_permission("routing:queue:add"), Some(true));
        assert_eq!(user.has_permission("oauth:client:add"), Some(false));
        assert!(user.can_grant_to_self());
        assert!(!caller(SubjectKind::Client, &["*"]).can_grant_to_self());
        assert!(!caller(SubjectKind::User, &["routing:*:*"]).can_grant_to_self());
        let unknown = Caller { permissions: None, ..user };
        assert_eq!(unknown.has_permission("routing:queue:add"), None);
        assert_eq!(unknown.describe(), "user \"Me\" (id me)");
    }

    #[test]
    fn policies_become_patterns() {
        let policy = json!({"domain": "routing", "entityName": "queue", "actions": ["add", "*"]});
        assert_eq!(policy_patterns(&policy, "actions"), ["routing:queue:add", "routing:queue:*"]);
    }
}
