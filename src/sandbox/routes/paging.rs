//! The offset pagination envelope of Genesys listings: `entities`, `pageSize`,
//! `pageNumber`, `total`, `pageCount`, and path-plus-query URIs (`selfUri`,
//! `firstUri`, `lastUri`, and `nextUri`/`previousUri` only when such a page
//! exists). A page past the last one is an empty page with correct totals.

use serde_json::{Map, Value, json};

use super::input::Params;
use crate::sandbox::error::{ApiError, ApiResult};

/// Default page size of every offset listing in scope.
pub const DEFAULT_PAGE_SIZE: u64 = 25;

/// A requested page, validated.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub size: u64,
    pub number: u64,
}

/// Read `pageSize` (1..=max) and `pageNumber` (>= 1).
pub fn page(params: &Params, max: u64) -> ApiResult<Page> {
    let size = params.uint("pageSize", DEFAULT_PAGE_SIZE)?;
    if size == 0 || size > max {
        return Err(ApiError::bad_field(
            "pageSize",
            format!("The query parameter 'pageSize' must be between 1 and {max}, not {size}."),
        ));
    }
    let number = params.uint("pageNumber", 1)?;
    if number == 0 {
        return Err(ApiError::bad_field(
            "pageNumber",
            "The query parameter 'pageNumber' must be at least 1.",
        ));
    }
    Ok(Page { size, number })
}

/// Render only the requested page of `matched` (already in name order, see
/// `Store::list_by_name`; `desc` reverses it): large lists (thousands of
/// queues) cost one page of rendering per request, like a real server's, not
/// the whole collection.
pub fn render_page(
    path: &str,
    params: &Params,
    page: Page,
    desc: bool,
    mut matched: Vec<&Value>,
    render: impl Fn(&Value) -> Value,
) -> Value {
    if desc {
        matched.reverse();
    }
    let (skip, take) = bounds(page);
    let entities = matched.iter().skip(skip).take(take).map(|v| render(v)).collect();
    envelope_of_page(path, params, page, matched.len(), entities)
}

/// The objects of one page already taken out of `total` matches (see
/// `Store::window`), rendered in an envelope like [`render_page`]'s, as
/// JSON text: each object written from the store, not copied, where its
/// resource allows ([`super::view`]).
pub fn render_window<'a>(
    path: &str,
    params: &Params,
    page: Page,
    total: usize,
    items: &[&'a Value],
    render: impl Fn(&'a Value) -> super::view::Rendered<'a>,
) -> Vec<u8> {
    let entities: Vec<super::view::Rendered<'a>> = items.iter().map(|v| render(v)).collect();
    let Value::Object(fields) = envelope_of_page(path, params, page, total, Vec::new()) else {
        return Vec::new();
    };
    let mut fields = fields;
    fields.remove("entities");
    super::view::page_json(&fields, &entities)
}

/// How many matches a page skips, and how many it takes.
pub fn bounds(page: Page) -> (usize, usize) {
    let skip = usize::try_from(page.number.saturating_sub(1).saturating_mul(page.size))
        .unwrap_or(usize::MAX);
    (skip, usize::try_from(page.size).unwrap_or(usize::MAX))
}

/// The envelope of one page of `total` items.
fn envelope_of_page(
    path: &str,
    params: &Params,
    page: Page,
    total: usize,
    entities: Vec<Value>,
) -> Value {
    let total = total as u64;
    let page_count = total.div_ceil(page.size);
    let uri = |number: u64| page_uri(path, params, page.size, number);
    let mut out = Map::new();
    out.insert("entities".into(), Value::Array(entities));
    out.insert("pageSize".into(), json!(page.size));
    out.insert("pageNumber".into(), json!(page.number));
    out.insert("total".into(), json!(total));
    out.insert("pageCount".into(), json!(page_count));
    out.insert("firstUri".into(), json!(uri(1)));
    out.insert("selfUri".into(), json!(uri(page.number)));
    out.insert("lastUri".into(), json!(uri(page_count.max(1))));
    if page.number < page_count {
        out.insert("nextUri".into(), json!(uri(page.number + 1)));
    }
    if page.number > 1 && page_count > 0 {
        out.insert("previousUri".into(), json!(uri((page.number - 1).min(page_count))));
    }
    Value::Object(out)
}

/// One envelope holding every item, for the unpaged OAuth client list.
pub fn unpaged(path: &str, items: Vec<Value>) -> Value {
    let total = items.len() as u64;
    json!({
        "entities": Value::Array(items),
        "pageSize": total,
        "pageNumber": 1,
        "total": total,
        "pageCount": 1,
        "firstUri": path,
        "selfUri": path,
        "lastUri": path,
    })
}

/// The path and query of page `number` of a listing, the other parameters kept.
pub fn page_uri(path: &str, params: &Params, size: u64, number: u64) -> String {
    let mut uri = format!("{path}?pageSize={size}&pageNumber={number}");
    for (key, value) in &params.0 {
        if key != "pageSize" && key != "pageNumber" {
            uri.push('&');
            uri.push_str(&encode(key));
            uri.push('=');
            uri.push_str(&encode(value));
        }
    }
    uri
}

/// Percent-encode a query component (unreserved characters and `*` stay).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~*".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The paging of one cursor listing: its default and largest `pageSize`,
/// and whether its envelope carries `total`.
#[derive(Debug, Clone, Copy)]
pub struct Cursor {
    pub default_size: u64,
    pub max_size: u64,
    pub total: bool,
}

/// Web deployments' lists (API reference §j): "Defaults to 300"; the real
/// maximum is UNVERIFIED; their listings carry `total`.
pub const WEB_DEPLOYMENTS: Cursor = Cursor { default_size: 300, max_size: 500, total: true };

/// One page of a cursor listing: `pageSize` and the opaque `after` cursor of
/// the previous page's `nextUri`; the envelope is `{entities, nextUri,
/// selfUri, previousUri}` (plus `total` where the listing has it), with
/// `nextUri` only while more items follow, the other query parameters kept.
/// An unknown cursor is 400 naming `after`. `matched` is in listing order;
/// only the page is rendered.
pub fn render_cursor<T>(
    path: &str,
    params: &Params,
    cursor: Cursor,
    matched: &[T],
    render: impl Fn(&T) -> Value,
) -> ApiResult<Value> {
    let size = params.uint("pageSize", cursor.default_size)?;
    if size == 0 || size > cursor.max_size {
        return Err(ApiError::bad_field(
            "pageSize",
            format!(
                "The query parameter 'pageSize' must be between 1 and {}, not {size}.",
                cursor.max_size
            ),
        ));
    }
    let total = matched.len();
    let start = match params.get("after") {
        None | Some("") => 0,
        Some(after) => after
            .strip_prefix("c")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= total)
            .ok_or_else(|| {
                ApiError::bad_field("after", format!("The cursor '{after}' is not valid."))
            })?,
    };
    let take = usize::try_from(size).unwrap_or(usize::MAX);
    let end = start.saturating_add(take).min(total);
    let uri = |after: Option<usize>| {
        let mut uri = format!("{path}?pageSize={size}");
        if let Some(after) = after {
            uri.push_str(&format!("&after=c{after}"));
        }
        for (key, value) in &params.0 {
            if key != "pageSize" && key != "after" && key != "before" {
                uri.push('&');
                uri.push_str(&encode(key));
                uri.push('=');
                uri.push_str(&encode(value));
            }
        }
        uri
    };
    let entities: Vec<Value> = matched[start..end].iter().map(render).collect();
    let mut out = Map::new();
    out.insert("entities".into(), Value::Array(entities));
    out.insert("selfUri".into(), json!(uri((start > 0).then_some(start))));
    if cursor.total {
        out.insert("total".into(), json!(total as u64));
    }
    if end < total {
        out.insert("nextUri".into(), json!(uri(Some(end))));
    }
    if start > 0 {
        out.insert("previousUri".into(), json!(uri(start.checked_sub(take).filter(|s| *s > 0))));
    }
    Ok(Value::Object(out))
}

/// Case-insensitive substring match, the "search term" filters.
pub fn contains_ci(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

/// Read `sortOrder` (`asc` or `desc`); true means descending.
pub fn descending(params: &Params) -> ApiResult<bool> {
    match params.get("sortOrder").map(str::to_ascii_lowercase).as_deref() {
        None | Some("" | "asc" | "ascending") => Ok(false),
        Some("desc" | "descending") => Ok(true),
        Some(_) => Err(ApiError::bad_field(
            "sortOrder",
            "The query parameter 'sortOrder' must be asc or desc.",
        )),
    }
}
