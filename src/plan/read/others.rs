//! The reads a set needs besides its kinds' lists ([`Needs`]): the org
//! defaults, divisions, open messaging recipients, flows a declared object
//! names, the permission catalog, member groups (groups, teams, skill
//! groups) and users by email, all at once, made into the [`Lookups`] the
//! kinds' lists then add to ([`OtherReads`]).

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::future::try_join_all;
use serde_json::Value;

use super::calls::{
    find_flows, list, list_recipients, optional, read_catalog, read_default, record_recipient,
    record_user, search_users, static_flow_type,
};
use super::{
    DIVISIONS, ReadError, ReadScope, Task, USER_BATCH, declared_references, export_targets, take,
};
use crate::api::Client;
use crate::kinds::org::{Lookup, Lookups};
use crate::kinds::{LiveKind, RefTarget};
use crate::manifest::ManifestSet;

const GROUPS: &str = "/api/v2/groups";
/// Teams and skill groups: cursor listings (followed through `nextUri`),
/// read only when a declared queue names one as a member group.
const TEAMS: &str = "/api/v2/teams";
const SKILL_GROUPS: &str = "/api/v2/routing/skillgroups";

/// What the reads other than the kinds' lists found.
pub(super) struct OtherReads {
    /// The org default of each kind of `Needs::defaults`, in that order.
    defaults: Vec<Option<Value>>,
    divisions: Option<Vec<Value>>,
    recipients: Option<Vec<Value>>,
    flows: Vec<Vec<Value>>,
    catalog: Option<crate::permissions::Catalog>,
    groups: Option<Vec<Value>>,
    teams: Option<Vec<Value>>,
    skill_groups: Option<Vec<Value>>,
    users: Vec<Vec<Value>>,
}

impl OtherReads {
    /// Make every read of `needs` at once (the divisions from `divisions`
    /// when a read started before the set was loaded).
    pub(super) async fn read(
        client: &Client,
        needs: &Needs,
        divisions: Option<Task<Vec<Value>>>,
    ) -> Result<Self, ReadError> {
        let defaults = try_join_all(needs.defaults.iter().map(|kind| read_default(client, *kind)));
        let divisions = optional(
            needs.lookups.contains(&Lookup::Divisions),
            take(divisions, list(client, DIVISIONS, Some(100), "divisions")),
        );
        let recipients =
            optional(needs.lookups.contains(&Lookup::Recipients), list_recipients(client));
        let flows = try_join_all(
            needs.flows.iter().map(|(name, flow_type)| find_flows(client, name, flow_type)),
        );
        let catalog =
            optional(needs.lookups.contains(&Lookup::PermissionCatalog), read_catalog(client));
        let groups = optional(
            needs.lookups.contains(&Lookup::Groups),
            list(client, GROUPS, Some(500), "groups"),
        );
        // Cursor listings (no page numbers); 100: the largest page size asked
        // for (the SDK docs give no maximum).
        let cursor = |path, what: &'static str| async move {
            client
                .list_cursor(path, &[], 100)
                .await
                .map_err(|source| ReadError { what: what.to_string(), source })
        };
        let teams = optional(needs.lookups.contains(&Lookup::Teams), cursor(TEAMS, "teams"));
        let skill_groups = optional(
            needs.lookups.contains(&Lookup::SkillGroups),
            cursor(SKILL_GROUPS, "skill groups"),
        );
        // Boxed: the three lists would make this future large.
        let member_groups = Box::pin(async { futures::try_join!(groups, teams, skill_groups) });
        let emails: Vec<&String> = needs.users.iter().collect();
        let users =
            try_join_all(emails.chunks(USER_BATCH).map(|batch| search_users(client, batch)));
        let (defaults, divisions, recipients, flows, catalog, member_groups, users) = futures::try_join!(
            defaults,
            divisions,
            recipients,
            flows,
            Box::pin(catalog),
            member_groups,
            users
        )?;
        let (groups, teams, skill_groups) = member_groups;
        Ok(OtherReads {
            defaults,
            divisions,
            recipients,
            flows,
            catalog,
            groups,
            teams,
            skill_groups,
            users,
        })
    }

    /// The lookups they make, which the kinds' lists then add to.
    pub(super) fn lookups(self, client: &Client, needs: &Needs) -> Lookups {
        let mut lookups = Lookups::default();
        lookups.permission_catalog = self.catalog.map(Arc::new);
        lookups.own_client_id = client.own_client_id();
        for division in self.divisions.iter().flatten() {
            lookups.insert_named(RefTarget::Division, division);
            if division.get("homeDivision").and_then(Value::as_bool) == Some(true) {
                lookups.home_division =
                    division.get("id").and_then(Value::as_str).map(str::to_string);
            }
        }
        for flow in self.flows.iter().flatten() {
            if let Some(flow_type) =
                flow.get("type").and_then(Value::as_str).and_then(static_flow_type)
            {
                lookups.insert_flow(flow_type, flow);
            }
        }
        for recipient in self.recipients.iter().flatten() {
            record_recipient(&mut lookups, recipient);
        }
        for group in self.groups.iter().flatten() {
            lookups.insert_named(RefTarget::Group, group);
        }
        for team in self.teams.iter().flatten() {
            lookups.insert_named(RefTarget::Team, team);
        }
        for skill_group in self.skill_groups.iter().flatten() {
            lookups.insert_named(RefTarget::SkillGroup, skill_group);
        }
        for user in self.users.iter().flatten() {
            record_user(&mut lookups, user);
        }
        for (kind, default) in needs.defaults.iter().zip(self.defaults) {
            if let Some(id) = default.as_ref().and_then(|d| d.get("id")).and_then(Value::as_str) {
                lookups.defaults.insert(kind.kind(), id.to_string());
            }
        }
        lookups
    }
}

/// The lookups a read of every kind makes (an export of everything, drift
/// with `--include-unmanaged`): those the kinds' exports need
/// ([`export_lookup`]; a test checks that they are the same).
const ALL_KINDS_LOOKUPS: [Lookup; 3] = [Lookup::Divisions, Lookup::Recipients, Lookup::Groups];

/// The lookup that names a reference to `target` in an export; `None` for
/// kinds (their lists) and for what a kind's own reads name (teams, skill
/// groups and users: by the names a queue's members and groups carry).
fn export_lookup(target: RefTarget) -> Option<Lookup> {
    match target {
        RefTarget::Division => Some(Lookup::Divisions),
        RefTarget::Recipient => Some(Lookup::Recipients),
        RefTarget::Group => Some(Lookup::Groups),
        RefTarget::Kind(_)
        | RefTarget::Flow(_)
        | RefTarget::User
        | RefTarget::Team
        | RefTarget::SkillGroup => None,
    }
}

/// Lookups the set needs, each made once.
#[derive(Debug, Default)]
pub(super) struct Needs {
    lookups: BTreeSet<Lookup>,
    /// Kinds whose org default is read: where an object declares
    /// `orgDefault` (it is compared) or the kind is pruned (the default is
    /// never pruned), or all when reading everything.
    defaults: Vec<LiveKind>,
    flows: BTreeSet<(String, &'static str)>,
    /// Declared users' emails, lowercase.
    users: BTreeSet<String>,
}

impl Needs {
    pub(super) fn of(set: &ManifestSet, scope: &ReadScope) -> Self {
        let mut needs = Needs::default();
        // The default is read where it is compared (a declared `orgDefault`)
        // or must be protected (a prune scope, an unmanaged-objects report,
        // a destroy of the declared objects: one may be the default now).
        let mut with_default: BTreeSet<LiveKind> = if scope.all_kinds {
            LiveKind::all().collect()
        } else {
            set.project.prune.iter().filter_map(|p| LiveKind::new(p.kind)).collect()
        };
        let declaring =
            set.objects.iter().filter(|o| scope.destroy || o.spec.org_default().is_some());
        with_default.extend(declaring.filter_map(|o| LiveKind::new(o.kind)));
        // An export writes which of its objects is the default.
        with_default.extend(scope.export.iter().flatten().filter_map(|k| LiveKind::new(*k)));
        needs.defaults =
            with_default.into_iter().filter(|k| k.org().api().default.is_some()).collect();
        if scope.all_kinds {
            needs.lookups.extend(ALL_KINDS_LOOKUPS);
        }
        needs.lookups.extend(export_targets(scope).filter_map(export_lookup));
        for object in &set.objects {
            if let Some(org) = object.kind.org() {
                needs.lookups.extend(org.lookups_needed(object.spec.as_ref()));
            }
        }
        let index = crate::manifest::check::SetIndex::new(&set.objects);
        for reference in declared_references(set) {
            match reference.target {
                // A declared flow is read with its kind's list.
                RefTarget::Flow(_)
                    if index.resolve_ref(reference.target, &reference.name).is_some() => {}
                RefTarget::Flow(flow_type) => {
                    needs.flows.insert((reference.name.clone(), flow_type));
                }
                RefTarget::Division => {
                    needs.lookups.insert(Lookup::Divisions);
                }
                RefTarget::Group => {
                    needs.lookups.insert(Lookup::Groups);
                }
                RefTarget::Team => {
                    needs.lookups.insert(Lookup::Teams);
                }
                RefTarget::SkillGroup => {
                    needs.lookups.insert(Lookup::SkillGroups);
                }
                RefTarget::User => {
                    needs.users.insert(reference.name.to_lowercase());
                }
                _ => {}
            }
        }
        needs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read of every kind looks up what an export of every kind needs,
    /// and nothing more.
    #[test]
    fn the_lookups_of_all_kinds_are_those_the_kinds_exports_need() {
        let scope = ReadScope {
            export: Some(crate::kinds::Kind::in_org().to_vec()),
            ..ReadScope::default()
        };
        let needed: BTreeSet<Lookup> = export_targets(&scope).filter_map(export_lookup).collect();
        assert_eq!(needed, ALL_KINDS_LOOKUPS.into_iter().collect());
    }
}
