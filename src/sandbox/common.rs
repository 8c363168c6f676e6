//! Small shared pieces: ids, timestamps, URIs, secrets and reference rendering.
//! Nothing here panics on stored data of an unexpected shape.

use base64::Engine as _;
use rand::RngCore as _;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use super::store::{Kind, Store};

/// A fresh server-assigned GUID.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The current time in the API's format (`2024-05-01T12:00:00.000Z`).
pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A random 43-character URL-safe secret (32 random bytes), like Genesys' secrets.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 hex of a secret; secrets are stored only in this form.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The key of a write-only value in `Kind::Secrets`.
pub fn secret_key(kind: Kind, id: &str) -> String {
    format!("{}:{id}", kind.name())
}

/// Whether `secret` is the current write-only value of an object.
pub fn secret_matches(store: &Store, kind: Kind, id: &str, secret: &str) -> bool {
    store
        .get(Kind::Secrets, &secret_key(kind, id))
        .and_then(Value::as_str)
        .is_some_and(|hash| constant_time_eq(hash.as_bytes(), hash_secret(secret).as_bytes()))
}

/// Store a write-only value (hashed).
pub fn set_secret(store: &mut Store, kind: Kind, id: &str, secret: &str) {
    store.put(Kind::Secrets, &secret_key(kind, id), Value::String(hash_secret(secret)));
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `selfUri` of an object: its resource's path and its id.
pub fn self_uri(kind: Kind, id: &str) -> String {
    let base = super::routes::spec_of(kind).map_or("/api/v2", |spec| spec.path);
    format!("{base}/{id}")
}

/// A reference `{id, name, selfUri}` to an object, with its current name.
pub fn entity_ref(store: &Store, kind: Kind, id: &str) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(id));
    if let Some(name) = store.get(kind, id).and_then(|o| o.get("name")).and_then(Value::as_str) {
        out.insert("name".into(), json!(name));
    }
    out.insert("selfUri".into(), json!(self_uri(kind, id)));
    Value::Object(out)
}

/// The id inside a stored `{"id": ...}` reference.
pub fn ref_id(value: Option<&Value>) -> Option<&str> {
    value?.get("id")?.as_str()
}

/// The `name` of a stored object.
pub fn name_of(value: &Value) -> &str {
    value.get("name").and_then(Value::as_str).unwrap_or_default()
}

/// Id of the Home division.
pub fn home_division(store: &Store) -> Option<String> {
    store
        .all(Kind::Divisions)
        .find(|d| d.get("homeDivision") == Some(&Value::Bool(true)))
        .and_then(|d| d.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string)
}
