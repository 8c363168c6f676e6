//! Request input: extractors whose rejections are Genesys `ErrorBody`s, and
//! field checks that name the offending field. Nothing here panics on input.

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use serde_json::{Map, Value};

use crate::sandbox::error::{ApiError, ApiResult};

/// The query string as ordered pairs (keys may repeat, e.g. `divisionId`).
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|Query(pairs)| Params(pairs))
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
    }
}

impl Params {
    /// The first value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value of a repeatable parameter (also comma-separated values).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// A non-negative integer parameter.
    pub fn uint(&self, name: &str, default: u64) -> ApiResult<u64> {
        match self.get(name) {
            None | Some("") => Ok(default),
            Some(raw) => raw.parse().map_err(|_| {
                ApiError::bad_field(
                    name,
                    format!(
                        "The query parameter '{name}' must be a non-negative integer, not '{raw}'."
                    ),
                )
            }),
        }
    }

    /// A boolean parameter (`true`/`false`).
    pub fn bool(&self, name: &str) -> ApiResult<Option<bool>> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(raw) => match raw.to_ascii_lowercase().as_str() {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                _ => Err(ApiError::bad_field(
                    name,
                    format!("The query parameter '{name}' must be true or false."),
                )),
            },
        }
    }

    /// Whether `expand` lists `what`.
    pub fn expands(&self, what: &str) -> bool {
        self.all("expand").iter().any(|v| v.eq_ignore_ascii_case(what))
    }
}

/// The single path parameter (an object id).
#[derive(Debug, Clone)]
pub struct Id(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| Id(id))
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
    }
}

/// A JSON request body that must be an object. Below its top level it must
/// carry no `selfUri`: the field is read-only in every model (NET
/// `Model/*.cs`, e.g. `WritableDivision.cs`, `DomainEntityRef.cs`), and a
/// reference is written as `{"id": ...}`. A nested `selfUri` is 400 naming
/// it (`queueFlow.selfUri`, `memberGroups[0].division.selfUri`): whether a
/// real org refuses or ignores it is UNVERIFIED; the sandbox refuses, so
/// that a client copying stale references from a read into a write fails
/// here rather than passing silently.
#[derive(Debug, Clone)]
pub struct Body(pub Map<String, Value>);

/// Refuse `selfUri` in `value`, found at `at` in a write body, and in
/// everything below it (see [`Body`]).
fn read_only_uris(at: &str, value: &Value) -> ApiResult<()> {
    match value {
        Value::Object(map) => {
            if map.contains_key("selfUri") {
                let name = format!("{at}.selfUri");
                return Err(ApiError::bad_field(
                    &name,
                    format!(
                        "The field '{name}' is read-only: a reference is written as {{\"id\": ...}} only."
                    ),
                ));
            }
            for (key, inner) in map {
                read_only_uris(&format!("{at}.{key}"), inner)?;
            }
            Ok(())
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                read_only_uris(&format!("{at}[{index}]"), item)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<Value>::from_request(req, state)
            .await
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
        match value {
            Value::Object(map) => {
                for (key, inner) in &map {
                    read_only_uris(key, inner)?;
                }
                Ok(Body(map))
            }
            other => Err(ApiError::bad_request(format!(
                "The request body must be a JSON object, not {}.",
                type_name(&other)
            ))),
        }
    }
}

/// A JSON request body that must be an array (division moves).
#[derive(Debug, Clone)]
pub struct List(pub Vec<Value>);

impl<S: Send + Sync> FromRequest<S> for List {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<Value>::from_request(req, state)
            .await
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
        match value {
            Value::Array(items) => Ok(List(items)),
            other => Err(ApiError::bad_request(format!(
                "The request body must be a JSON array of object ids, not {}.",
                type_name(&other)
            ))),
        }
    }
}

/// The JSON type of a value, for messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The shape a field must have.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    Str,
    Bool,
    Int,
    Object,
    Array,
    StrList,
    Enum(&'static [&'static str]),
}

/// A non-null field value, checked against `shape`.
pub fn field<'a>(
    body: &'a Map<String, Value>,
    name: &str,
    shape: Shape,
) -> ApiResult<Option<&'a Value>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => check(name, value, shape).map(|()| Some(value)),
    }
}

/// Check one value against a shape; the error names `name`.
pub fn check(name: &str, value: &Value, shape: Shape) -> ApiResult<()> {
    let ok = match shape {
        Shape::Str => value.is_string(),
        Shape::Bool => value.is_boolean(),
        Shape::Int => value.is_i64() || value.is_u64(),
        Shape::Object => value.is_object(),
        Shape::Array => value.is_array(),
        Shape::StrList => value.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
        Shape::Enum(allowed) => {
            let Some(s) = value.as_str() else {
                return Err(ApiError::bad_field(
                    name,
                    format!("The field '{name}' must be a string."),
                ));
            };
            if allowed.contains(&s) {
                true
            } else {
                return Err(bad_enum(name, s, allowed));
            }
        }
    };
    if ok {
        Ok(())
    } else {
        let want = match shape {
            Shape::Str | Shape::Enum(_) => "a string",
            Shape::Bool => "a boolean",
            Shape::Int => "an integer",
            Shape::Object => "an object",
            Shape::Array => "an array",
            Shape::StrList => "an array of strings",
        };
        Err(ApiError::bad_field(
            name,
            format!("The field '{name}' must be {want}, not {}.", type_name(value)),
        ))
    }
}

/// 400 for a value outside an enum, in the real API's words: "Value []
/// is not valid for field type \[Mode\]. Allowable values are: `AgentFirst`,
/// `CustomerFirst`" for `mediaSettings.callback.mode` (Genesys Terraform
/// provider issue #1578). The type name is the field's last segment,
/// capitalized (the real one is the server's enum type, which matches for
/// `Mode`; UNVERIFIED for the others).
pub fn bad_enum(name: &str, value: &str, allowed: &[&str]) -> ApiError {
    let last = name.rsplit('.').next().unwrap_or(name);
    let last = last.split('[').next().unwrap_or(last);
    let mut chars = last.chars();
    let type_name: String =
        chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
    ApiError::bad_field(
        name,
        format!(
            "Value [{value}] is not valid for field type [{type_name}]. Allowable values are: {}",
            allowed.join(", ")
        ),
    )
}

/// An enum field somewhere in a body: a dotted path whose segments may end
/// in `[]` (every element of that array), and its allowable values.
pub type EnumField = (&'static str, &'static [&'static str]);

/// Check every enum field of `table` present in `body` (null or absent is
/// fine; intermediate values of another shape are left to other checks).
/// Errors name the concrete field (`routingRules[0].operator`).
pub fn check_enums(body: &Map<String, Value>, table: &[EnumField]) -> ApiResult<()> {
    fn walk(
        at: &str,
        value: &Value,
        rest: &[&str],
        allowed: &'static [&'static str],
    ) -> ApiResult<()> {
        let Some((segment, rest)) = rest.split_first() else {
            return match value {
                Value::Null => Ok(()),
                other => check(at, other, Shape::Enum(allowed)),
            };
        };
        let (key, each) = segment.strip_suffix("[]").map_or((*segment, false), |key| (key, true));
        let Some(inner) = value.get(key) else { return Ok(()) };
        let at = if at.is_empty() { key.to_string() } else { format!("{at}.{key}") };
        if each {
            for (index, item) in inner.as_array().into_iter().flatten().enumerate() {
                walk(&format!("{at}[{index}]"), item, rest, allowed)?;
            }
            Ok(())
        } else {
            walk(&at, inner, rest, allowed)
        }
    }
    let root = Value::Object(body.clone());
    for (path, allowed) in table {
        let segments: Vec<&str> = path.split('.').collect();
        walk("", &root, &segments, allowed)?;
    }
    Ok(())
}

/// A required, non-blank string field.
pub fn required_str(body: &Map<String, Value>, name: &str) -> ApiResult<String> {
    match field(body, name, Shape::Str)? {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        _ => Err(ApiError::missing_field(name)),
    }
}

/// An optional string field.
pub fn optional_str(body: &Map<String, Value>, name: &str) -> ApiResult<Option<String>> {
    Ok(field(body, name, Shape::Str)?.and_then(Value::as_str).map(str::to_string))
}

/// An optional reference `{"id": "..."}`; errors name `<name>.id`.
pub fn optional_ref(body: &Map<String, Value>, name: &str) -> ApiResult<Option<String>> {
    let Some(value) = field(body, name, Shape::Object)? else { return Ok(None) };
    match value.get("id") {
        Some(Value::String(id)) if !id.is_empty() => Ok(Some(id.clone())),
        _ => Err(ApiError::missing_field(&format!("{name}.id"))),
    }
}
