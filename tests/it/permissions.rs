//! The embedded permission catalog (`src/permissions/catalog.json`): how it
//! is regenerated from the API reference, and that it stays well-formed.

use std::collections::BTreeSet;

use gcctl::permissions::{Catalog, Mode, endpoints, required};
use serde_json::{Value, json};

const CATALOG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/permissions/catalog.json");

/// Every endpoint names permissions in `domain:entity:action` form that the
/// catalog holds, and the endpoints gcctl calls to plan are known.
#[test]
fn endpoint_requirements_are_in_the_catalog() {
    let catalog = Catalog::embedded();
    for requirement in endpoints() {
        assert_eq!(requirement.mode == Mode::None, requirement.permissions.is_empty());
        for permission in &requirement.permissions {
            assert_eq!(permission.split(':').count(), 3, "{permission}");
            assert!(catalog.contains(permission), "{permission} of {}", requirement.path);
        }
    }
    for (method, path) in [
        ("GET", "/api/v2/routing/queues"),
        ("PUT", "/api/v2/routing/queues/{queueId}"),
        ("GET", "/api/v2/oauth/clients"),
        ("POST", "/api/v2/authorization/roles"),
        ("GET", "/api/v2/organizations/me"),
    ] {
        assert!(required(method, path).is_some(), "{method} {path}");
    }
}

/// Rebuild `src/permissions/catalog.json` from the API reference:
///
/// ```text
/// GCCTL_GENESYS_PERMISSIONS=/path/to/steering/shared/genesys-api/permissions.json \
/// GCCTL_GENESYS_MODELS=/path/to/steering/shared/genesys-api/models.json \
///     cargo test --test it -- --ignored regenerate_the_permission_catalog
/// ```
///
/// The catalog is every permission of the list plus every permission an
/// endpoint requires; the endpoints are those of the models file with their
/// permissions (`ANY`, `ALL` or `NONE`). Same input, same bytes. Ignored
/// because the reference is not part of the repository.
#[test]
#[ignore = "needs the API reference: set GCCTL_GENESYS_PERMISSIONS and GCCTL_GENESYS_MODELS"]
fn regenerate_the_permission_catalog() {
    let read = |var: &str| -> Value {
        let path = std::env::var(var).unwrap_or_else(|_| panic!("set {var}"));
        serde_json::from_str(&fs_err::read_to_string(path).unwrap()).unwrap()
    };
    let (list, models) = (read("GCCTL_GENESYS_PERMISSIONS"), read("GCCTL_GENESYS_MODELS"));
    let mut permissions: BTreeSet<String> = list["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["permission"].as_str().unwrap().to_string())
        .collect();
    let mut endpoints = Vec::new();
    for endpoint in models["endpoints"].as_array().unwrap() {
        let needs = &endpoint["permissions"];
        let names: Vec<String> = needs["list"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| p.as_str().unwrap().to_string())
            .collect();
        permissions.extend(names.iter().cloned());
        endpoints.push(json!({
            "method": endpoint["method"],
            "path": endpoint["path"],
            "mode": needs["mode"].as_str().unwrap_or("NONE"),
            "permissions": names,
        }));
    }
    endpoints.sort_by_key(|e| (e["path"].to_string(), e["method"].to_string()));
    let data = json!({
        "note": "Generated; do not edit. Every permission that a public Genesys Cloud API \
            operation or Terraform provider resource documents (from the .NET SDK docs, the gc \
            CLI and the provider docs, as collected in the gcctl steering repository's API \
            reference), and the permissions each endpoint gcctl or its sandbox knows requires. \
            A lower bound of a real org's catalog. Regenerate: see src/permissions/mod.rs.",
        "permissions": permissions,
        "endpoints": endpoints,
    });
    let mut text = serde_json::to_string_pretty(&data).unwrap();
    text.push('\n');
    fs_err::write(CATALOG, text).unwrap();
}
