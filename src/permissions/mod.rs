//! Permissions: the catalog of `domain:entity:action` names, wildcard
//! patterns over it, and the permissions each API endpoint requires.
//!
//! [`Catalog::embedded`] is built into gcctl from `catalog.json` beside this
//! file. That file is generated, not written by hand: from the permission
//! list and the endpoint models that the project's API reference extracted
//! from the official Genesys Cloud SDKs (.NET SDK docs "Requires ANY|ALL
//! permissions" per operation, the gc CLI command table, the Terraform
//! provider's resource docs). Regenerate it with
//!
//! ```text
//! GCCTL_GENESYS_PERMISSIONS=/path/to/permissions.json \
//! GCCTL_GENESYS_MODELS=/path/to/models.json \
//!     cargo test --test it -- --ignored regenerate_the_permission_catalog
//! ```
//!
//! The list is a lower bound of a real org's catalog
//! (`GET /api/v2/authorization/permissions`): it holds every permission some
//! public operation requires, not those that gate only UI features. So
//! offline, an unknown permission is a warning with a suggestion; online the
//! org's own catalog decides.
//!
//! Wildcards: a pattern has `*` for a whole segment (`routing:queue:*`,
//! `routing:*:*`, `*`), as role policies write `entityName: "*"` and
//! `actionSet: ["*"]`. Since June 2026 the API expands wildcards into
//! explicit actions on read, so a declared wildcard is compared through
//! [`Catalog::expand`] (`crate::kinds::role::align_permissions`).
//!
//! Which catalog: the plan takes it from
//! [`Lookups::permission_catalog`](crate::kinds::org::Lookups::permission_catalog),
//! which is [`Catalog::embedded`] unless the `permission_catalog` field is
//! set. A reader that fetches the org's catalog (`GET
//! /api/v2/authorization/permissions`, all pages, one entity per domain
//! whose `permissionMap` lists the actions per entity) sets it with
//! [`Catalog::new`]; nothing else changes. The offline check of
//! `validate` always uses the embedded catalog.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use serde::Deserialize;

/// The embedded data (see the module docs).
const EMBEDDED: &str = include_str!("catalog.json");

/// How an endpoint's listed permissions combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Mode {
    /// Any one of them suffices.
    Any,
    /// All of them are needed.
    All,
    /// The endpoint "Requires NO permissions".
    None,
}

/// What one endpoint requires.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub method: String,
    /// The path template, e.g. `/api/v2/routing/queues/{queueId}`.
    pub path: String,
    pub mode: Mode,
    pub permissions: Vec<String>,
}

impl Requirement {
    /// Whether a caller holding what `holds` says may call the endpoint.
    pub fn satisfied_by(&self, holds: impl Fn(&str) -> bool) -> bool {
        match self.mode {
            Mode::None => true,
            Mode::Any => self.permissions.iter().any(|p| holds(p)),
            Mode::All => self.permissions.iter().all(|p| holds(p)),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Data {
    #[allow(dead_code)]
    note: String,
    permissions: Vec<String>,
    endpoints: Vec<Requirement>,
}

/// A set of permission names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    permissions: BTreeSet<String>,
}

static EMBEDDED_DATA: LazyLock<(Catalog, Vec<Requirement>)> = LazyLock::new(|| {
    // The file is checked in and tested; a parse failure is a build defect.
    let data: Data = serde_json::from_str(EMBEDDED).unwrap_or_else(|err| {
        debug_assert!(false, "permissions/catalog.json: {err}");
        Data { note: String::new(), permissions: Vec::new(), endpoints: Vec::new() }
    });
    (Catalog::new(data.permissions), data.endpoints)
});

impl Catalog {
    pub fn new(permissions: impl IntoIterator<Item = String>) -> Catalog {
        Catalog { permissions: permissions.into_iter().collect() }
    }

    /// The catalog built into gcctl (see the module docs).
    pub fn embedded() -> &'static Catalog {
        &EMBEDDED_DATA.0
    }

    pub fn len(&self) -> usize {
        self.permissions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.permissions.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.permissions.iter().map(String::as_str)
    }

    pub fn contains(&self, permission: &str) -> bool {
        self.permissions.contains(permission)
    }

    /// The domains, sorted.
    pub fn domains(&self) -> BTreeSet<&str> {
        self.iter().filter_map(|p| p.split(':').next()).collect()
    }

    /// The permissions a pattern stands for, sorted: itself when it has no
    /// wildcard (whether or not it is in the catalog), else every catalog
    /// permission it matches (possibly none).
    pub fn expand<'a>(&'a self, pattern: &'a str) -> Vec<&'a str> {
        if !pattern.contains('*') {
            return vec![pattern];
        }
        self.iter().filter(|p| matches(pattern, p)).collect()
    }

    /// The closest catalog permission to a misspelled one.
    pub fn suggest(&self, permission: &str) -> Option<&str> {
        crate::suggest::closest(permission, self.iter())
    }

    /// Why `pattern` names nothing in the catalog, or `None` when it does: a
    /// permission the catalog holds, or a wildcard pattern that matches at
    /// least one of its permissions.
    ///
    /// A plain permission that is missing is [`Part::Permission`], with the
    /// closest catalog permission as the suggestion. A wildcard is checked
    /// segment by segment: the first segment that no catalog permission
    /// (matching the segments before it) has is the unknown part, and the
    /// suggestion is the pattern with each unknown segment replaced by the
    /// closest one there (`routng:queue:*` → `routing:queue:*`), when that
    /// pattern matches something.
    pub fn unknown(&self, pattern: &str) -> Option<Unknown> {
        if !pattern.contains('*') {
            return (!self.contains(pattern)).then(|| Unknown {
                part: Part::Permission,
                suggestion: self.suggest(pattern).map(str::to_string),
            });
        }
        let segments: Vec<&str> = pattern.split(':').collect();
        // The pattern with each unknown segment replaced by its closest
        // known value, given the (fixed) segments before it.
        let mut fixed = segments.clone();
        let mut part = None;
        for index in 0..segments.len() {
            // The values at `index` of the permissions that match so far.
            let known: BTreeSet<&str> = self
                .iter()
                .filter(|p| p.split(':').zip(&fixed[..index]).all(|(s, w)| *w == "*" || s == *w))
                .filter_map(|p| p.split(':').nth(index))
                .collect();
            if segments[index] == "*" || known.contains(segments[index]) {
                continue;
            }
            let first = *part.get_or_insert(Part::segment(index));
            match crate::suggest::closest(segments[index], known.iter().copied()) {
                Some(close) => fixed[index] = close,
                None => return Some(Unknown { part: first, suggestion: None }),
            }
        }
        if let Some(part) = part {
            let suggestion = fixed.join(":");
            let suggestion = (!self.expand(&suggestion).is_empty()).then_some(suggestion);
            return Some(Unknown { part, suggestion });
        }
        // Every segment is known, yet nothing matches (a pattern longer or
        // shorter than the catalog's names).
        self.expand(pattern)
            .is_empty()
            .then_some(Unknown { part: Part::Permission, suggestion: None })
    }
}

/// What [`Catalog::unknown`] found missing, and the likely fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    pub part: Part,
    /// The pattern with its unknown parts replaced by close known ones.
    pub suggestion: Option<String>,
}

/// The part of a permission or pattern that the catalog does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The permission as a whole.
    Permission,
    /// The first segment (`routing`).
    Domain,
    /// The second segment (`queue`).
    Entity,
    /// The third segment (`view`).
    Action,
}

impl Part {
    fn segment(index: usize) -> Part {
        match index {
            0 => Part::Domain,
            1 => Part::Entity,
            2 => Part::Action,
            _ => Part::Permission,
        }
    }
}

/// Whether `permission` is one of those `pattern` stands for: segment by
/// segment equal, or `*`. A pattern with fewer segments ends in `*` for the
/// rest (`*` alone matches everything; `routing:*` all of `routing`).
pub fn matches(pattern: &str, permission: &str) -> bool {
    let mut wanted = pattern.split(':');
    let mut segments = permission.split(':');
    loop {
        match (wanted.next(), segments.next()) {
            (None, None) => return true,
            (Some("*"), Some(_)) => {
                // A trailing `*` covers the remaining segments.
                if wanted.clone().next().is_none() {
                    return true;
                }
            }
            (Some(w), Some(s)) if w == s => {}
            _ => return false,
        }
    }
}

/// Requirements of endpoints that gcctl calls (and the sandbox serves) but
/// that the generated table lacks, because the API reference's endpoint
/// filter left them out; each with its source (.NET SDK
/// `build/docs/*Api.md`, "Requires ... permissions"). One table for gcctl's
/// plan check and the sandbox's enforcement, through [`required`].
static EXTRA: LazyLock<Vec<Requirement>> = LazyLock::new(|| {
    let requirement = |method: &str, path: &str, mode, permissions: &[&str]| Requirement {
        method: method.into(),
        path: path.into(),
        mode,
        permissions: permissions.iter().map(|p| (*p).to_string()).collect(),
    };
    vec![
        // UsersApi.md GetUsersMe: "Requires NO permissions" ("This request is
        // not valid when using the Client Credentials OAuth grant").
        requirement("GET", "/api/v2/users/me", Mode::None, &[]),
        // AuthorizationApi.md GetAuthorizationSubjectsMe: "Requires NO permissions".
        requirement("GET", "/api/v2/authorization/subjects/me", Mode::None, &[]),
        // AuthorizationApi.md GetAuthorizationSubject: ANY authorization:grant:view.
        requirement(
            "GET",
            "/api/v2/authorization/subjects/{subjectId}",
            Mode::Any,
            &["authorization:grant:view"],
        ),
        // AuthorizationApi.md PostAuthorizationSubjectDivisionRole: ANY authorization:grant:add.
        requirement("POST", SUBJECT_GRANT, Mode::Any, &["authorization:grant:add"]),
        // AuthorizationApi.md DeleteAuthorizationSubjectDivisionRole: ANY authorization:grant:delete.
        requirement("DELETE", SUBJECT_GRANT, Mode::Any, &["authorization:grant:delete"]),
        // TeamsApi.md GetTeams and GetTeam: ANY groups:team:view.
        requirement("GET", "/api/v2/teams", Mode::Any, &["groups:team:view"]),
        requirement("GET", "/api/v2/teams/{teamId}", Mode::Any, &["groups:team:view"]),
        // RoutingApi.md GetRoutingSkillgroups and GetRoutingSkillgroup: ANY routing:skillGroup:view.
        requirement("GET", "/api/v2/routing/skillgroups", Mode::Any, &["routing:skillGroup:view"]),
        requirement(
            "GET",
            "/api/v2/routing/skillgroups/{skillGroupId}",
            Mode::Any,
            &["routing:skillGroup:view"],
        ),
    ]
});

/// The endpoint that grants a role to a subject (a user, or an OAuth client)
/// in a division (`POST`; `DELETE` revokes).
pub const SUBJECT_GRANT: &str =
    "/api/v2/authorization/subjects/{subjectId}/divisions/{divisionId}/roles/{roleId}";

/// What the endpoint `method path_template` requires, when known: the
/// generated table, then `EXTRA`.
pub fn required(method: &str, path_template: &str) -> Option<&'static Requirement> {
    REQUIRED.get(&(method, path_template)).copied()
}

/// [`required`]'s table, by method and path template: a plan asks it for
/// every call of every change (the first entry of a method and path wins).
static REQUIRED: LazyLock<crate::FastMap<(&'static str, &'static str), &'static Requirement>> =
    LazyLock::new(|| {
        let mut table = crate::FastMap::default();
        for requirement in EMBEDDED_DATA.1.iter().chain(EXTRA.iter()) {
            table
                .entry((requirement.method.as_str(), requirement.path.as_str()))
                .or_insert(requirement);
        }
        table
    });

/// The permission entities (`domain:entity`) whose permissions a real org
/// checks in the division of the object a request touches, not in any
/// division: the catalog's `divisionAware` permissions for the objects that
/// gcctl and the sandbox know to carry a division (queues, flows, wrap-up
/// codes, skills, users, teams, skill groups; the division move's object
/// types, API reference §m, and the `division` fields of their models).
/// A role granted in Home then lets a caller create, change, delete or see
/// a queue in Home only ("If the role of your OAuth Client only has the
/// home division assigned to it ... that will be the only division you
/// should be able to see", a Genesys maintainer in Terraform provider issue
/// #389). Which permissions the live catalog marks `divisionAware` is
/// UNVERIFIED: this list is the reading gcctl and the sandbox share.
/// `authorization:grant` is here too: granting a role in a division needs
/// the grant permission in that division (UNVERIFIED; the stricter reading).
pub const DIVISION_AWARE: &[&str] = &[
    "routing:queue",
    "architect:flow",
    "routing:wrapupCode",
    "routing:skill",
    "directory:user",
    "groups:team",
    "routing:skillGroup",
    "authorization:grant",
];

/// The endpoint that moves objects into a division. It "Requires NO
/// permissions" on paper (API reference §m), but moving needs "the
/// appropriate configuration object permissions" on the objects
/// (help.mypurecloud.com, "Access control permissions overview"): gcctl and
/// the sandbox take the edit permission of the object's entity
/// ([`move_permission`]), in the target division and in the object's own
/// (which permission exactly is UNVERIFIED for queues).
pub const DIVISION_MOVE: &str = "/api/v2/authorization/divisions/{divisionId}/objects/{objectType}";

/// The permission moving an object of `entity` (`routing:queue`) needs.
pub fn move_permission(entity: &str) -> String {
    format!("{entity}:edit")
}

/// Whether a permission is checked in the division of the object it is
/// used on (see [`DIVISION_AWARE`]).
pub fn division_aware(permission: &str) -> bool {
    let mut parts = permission.splitn(3, ':');
    let (Some(domain), Some(entity)) = (parts.next(), parts.next()) else { return false };
    DIVISION_AWARE.iter().any(|e| e.split_once(':') == Some((domain, entity)))
}

/// The item route of a collection: the known endpoint `{collection}/{xId}`
/// (e.g. `/api/v2/routing/queues/{queueId}`), when there is one.
pub fn item_template(collection: &str) -> Option<&'static str> {
    EMBEDDED_DATA.1.iter().map(|r| r.path.as_str()).find(|path| {
        path.strip_prefix(collection)
            .and_then(|rest| rest.strip_prefix("/{"))
            .is_some_and(|rest| rest.ends_with('}') && !rest.contains('/'))
    })
}

/// Every endpoint requirement known: the generated table, then `EXTRA`.
pub fn endpoints() -> impl Iterator<Item = &'static Requirement> {
    EMBEDDED_DATA.1.iter().chain(EXTRA.iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalog_loads_and_names_what_hand_over_needs() {
        let catalog = Catalog::embedded();
        assert!(catalog.len() > 1_000, "{}", catalog.len());
        assert!(catalog.contains("conversation:message:receive"));
        assert!(catalog.contains("routing:queue:view"));
        assert!(!catalog.contains("conversations:message:receive"));
        assert_eq!(
            catalog.suggest("conversations:message:receive"),
            Some("conversation:message:receive")
        );
        let queues = required("GET", "/api/v2/routing/queues").expect("known endpoint");
        assert_eq!(
            (queues.mode, queues.permissions.as_slice()),
            (Mode::Any, &["routing:queue:view".to_string()][..])
        );
    }

    #[test]
    fn the_extra_table_adds_what_the_generated_one_lacks() {
        for requirement in EXTRA.iter() {
            let generated = EMBEDDED_DATA.1.iter();
            assert!(
                !generated
                    .clone()
                    .any(|r| r.method == requirement.method && r.path == requirement.path),
                "{} {} is generated already",
                requirement.method,
                requirement.path
            );
            for permission in &requirement.permissions {
                assert!(Catalog::embedded().contains(permission), "{permission}");
            }
        }
        let grant = required("POST", SUBJECT_GRANT).expect("the grant endpoint is known");
        assert_eq!(grant.permissions, ["authorization:grant:add"]);
        assert!(required("GET", "/api/v2/users/me").is_some());
        assert!(required("GET", "/api/v2/nothing").is_none());
    }

    #[test]
    fn division_aware_permissions_are_those_of_objects_with_a_division() {
        assert!(division_aware("routing:queue:add"));
        assert!(division_aware("routing:wrapupCode:edit"));
        assert!(division_aware("authorization:grant:add"));
        assert!(!division_aware("routing:queueX:add"));
        assert!(!division_aware("oauth:client:add"));
        assert!(!division_aware("authorization:role:add"));
        assert!(!division_aware("routing"));
    }

    #[test]
    fn item_templates_come_from_the_endpoint_table() {
        assert_eq!(
            item_template("/api/v2/routing/queues"),
            Some("/api/v2/routing/queues/{queueId}")
        );
        assert_eq!(
            item_template("/api/v2/oauth/clients"),
            Some("/api/v2/oauth/clients/{clientId}")
        );
        assert_eq!(item_template("/api/v2/nothing"), None);
    }

    #[test]
    fn wildcards_match_whole_segments() {
        assert!(matches("routing:queue:*", "routing:queue:view"));
        assert!(matches("routing:*:*", "routing:queue:view"));
        assert!(matches("routing:*:view", "routing:queue:view"));
        assert!(matches("*", "routing:queue:view"));
        assert!(matches("*:*:*", "routing:queue:view"));
        assert!(matches("routing:queue:view", "routing:queue:view"));
        assert!(!matches("routing:queue:*", "routing:queueX:view"));
        assert!(!matches("routing:queue:*", "routing:skill:view"));
        assert!(!matches("routing:queue:view", "routing:queue:edit"));
        assert!(!matches("routing:queue", "routing:queue:view"));
    }

    #[test]
    fn expansion_goes_through_the_catalog() {
        let catalog = Catalog::new(
            ["routing:queue:view", "routing:queue:edit", "routing:skill:view", "oauth:client:view"]
                .map(String::from),
        );
        assert_eq!(catalog.expand("routing:queue:*"), ["routing:queue:edit", "routing:queue:view"]);
        assert_eq!(catalog.expand("routing:*:*").len(), 3);
        assert_eq!(catalog.expand("routing:queue:delete"), ["routing:queue:delete"]);
        assert!(catalog.expand("billing:*:*").is_empty());
        assert_eq!(catalog.domains().into_iter().collect::<Vec<_>>(), ["oauth", "routing"]);
    }

    #[test]
    fn unknown_names_the_part_and_suggests_a_fix() {
        let catalog = Catalog::embedded();
        for known in
            ["conversation:message:receive", "routing:queue:*", "routing:*:*", "routing:*:view"]
        {
            assert_eq!(catalog.unknown(known), None, "{known}");
        }
        let unknown = |pattern| catalog.unknown(pattern).expect(pattern);
        let misspelled = unknown("conversations:message:receive");
        assert_eq!(misspelled.part, Part::Permission);
        assert_eq!(misspelled.suggestion.as_deref(), Some("conversation:message:receive"));
        let domain = unknown("routng:queue:*");
        assert_eq!(
            (domain.part, domain.suggestion.as_deref()),
            (Part::Domain, Some("routing:queue:*"))
        );
        let entity = unknown("routing:queues:*");
        assert_eq!(
            (entity.part, entity.suggestion.as_deref()),
            (Part::Entity, Some("routing:queue:*"))
        );
        let action = unknown("routing:*:vieww");
        assert_eq!(action.part, Part::Action);
        assert_eq!(action.suggestion.as_deref(), Some("routing:*:view"));
        let both = unknown("routng:queues:*");
        assert_eq!(
            (both.part, both.suggestion.as_deref()),
            (Part::Domain, Some("routing:queue:*"))
        );
        let far = unknown("zzzzzzzz:*:*");
        assert_eq!((far.part, far.suggestion), (Part::Domain, None));
        assert_eq!(unknown("routing:queue:view:*").part, Part::Permission);
    }

    #[test]
    fn requirements_combine_by_mode() {
        let requirement = |mode| Requirement {
            method: "GET".into(),
            path: "/x".into(),
            mode,
            permissions: vec!["a:b:c".into(), "a:b:d".into()],
        };
        let holds = |p: &str| p == "a:b:c";
        assert!(requirement(Mode::Any).satisfied_by(holds));
        assert!(!requirement(Mode::All).satisfied_by(holds));
        assert!(requirement(Mode::None).satisfied_by(|_| false));
    }
}
