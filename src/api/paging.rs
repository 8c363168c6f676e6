//! Reading whole collections: offset listings fetched concurrently, cursor listings followed.
//!
//! [`Client::list_all`] reads page 1, learns the page count from `pageCount` (else from
//! `total`/`pageSize`), then fetches the remaining pages concurrently, bounded by the client's
//! concurrency and rate limiter, and returns the entities in page order. Listings with neither
//! (cursor listings, queue members) are followed through `nextUri`, one page after another.
//!
//! A listing is a snapshot taken while the org may change. Behavior then, by design:
//! - a page that comes back empty contributes nothing, and the other pages are still returned;
//! - if the last page announces a larger `pageCount` than page 1 did, the extra pages are read
//!   too, as long as that last page lists an object the pages before it did not (a count
//!   growing over empty or repeated pages is not followed); a smaller count simply leaves
//!   later pages empty;
//! - in an offset listing with a page count, a page after the first that lists only objects
//!   of the pages before it is an error (an object was not listed: the org changed while it
//!   was listed, or a server answers page numbers alike; a plan would create it); a listing
//!   read page by page (`nextUri`, or until an empty page) ends at such a page instead (a
//!   cursor of versions sharing an id, at a repeated link), and fails at a page of objects
//!   without ids, which could be read again and again;
//! - a first page that is empty yet announces more pages is an error, and so is a listing
//!   (read any way) that lists nothing while announcing a `total` above 0 (it contradicts
//!   itself: reading on could take hours, and stopping could hide objects, which a plan would
//!   then create);
//! - `nextUri` is followed until a page has no link, repeats a link, is empty, or lists only
//!   objects of the pages before it (a cursor handing out new links forever);
//! - objects that shift between pages while listing can appear twice: entities are de-duplicated
//!   by `id` (first occurrence wins); an object can also be missed, as with any offset listing,
//!   which is why apply re-reads live objects before it mutates them;
//! - at most [`MAX_PAGES`] pages are read, and a `nextUri` is only followed on the client's own
//!   API host (its path and query are re-joined onto the API base, so the token never leaves);
//!   one on another host is an error, not the end of the listing.

use std::collections::HashSet;

use futures::{StreamExt as _, TryStreamExt as _};
use serde_json::Value;

use super::client::Client;
use super::error::{ApiError, ApiErrorKind};
use super::lean::EntityKeys;

/// Upper bound on the pages one listing may announce (500 entities a page: 5
/// million objects); a listing announcing more is an error, never cut short.
pub const MAX_PAGES: u64 = 10_000;

/// Handed the entities of each page of an offset listing as the page
/// arrives, before the listing is complete, and handing them back (`gcctl
/// plan` compares what it declares while the other pages are in flight:
/// see `plan::early`). Pages arrive in any order; pages followed through
/// `nextUri` are not handed.
pub trait PageSink: Send + Sync {
    /// Work on a page's `entities` (the listing waits for this page only),
    /// then give them back unchanged.
    fn page(&self, entities: Vec<Value>) -> futures::future::BoxFuture<'_, Vec<Value>>;
}

/// How a listing takes its pages: which keys of each entity it decodes,
/// and who is handed each page of an offset listing as it arrives.
#[derive(Clone, Copy, Default)]
pub struct Pages<'a> {
    /// Decode of each entity only these keys ([`EntityKeys`]); `None`: all.
    pub keys: Option<&'a EntityKeys>,
    /// Handed each page of an offset listing as it arrives ([`PageSink`]).
    pub sink: Option<&'a dyn PageSink>,
}

/// `entities` through `sink`, if there is one.
async fn hand(sink: Option<&dyn PageSink>, entities: Vec<Value>) -> Vec<Value> {
    match sink {
        Some(sink) => sink.page(entities).await,
        None => entities,
    }
}

impl Client {
    /// Every entity of an offset or cursor listing at `path`, in page order.
    pub async fn list_all(
        &self,
        path: &str,
        query: &[(&str, String)],
        page_size: u32,
    ) -> Result<Vec<Value>, ApiError> {
        self.list_all_seen(path, query, page_size, Pages::default()).await
    }

    /// [`Client::list_all`], taking its pages as `how` says.
    async fn list_all_seen(
        &self,
        path: &str,
        query: &[(&str, String)],
        page_size: u32,
        how: Pages<'_>,
    ) -> Result<Vec<Value>, ApiError> {
        let page_size = page_size.max(1);
        let mut first = self.get_page(path, &page_query(query, page_size, 1), how.keys).await?;
        let count = page_count(path, &first, page_size)?;
        let next = match count {
            Some(_) => None,
            None => self.next_link(path, &first)?,
        };
        let total = announced_total(&first);
        let mut pages = vec![take_entities(path, &mut first)?];
        drop(first);
        if count.is_some() {
            listed_what_it_counts(path, total, &pages)?;
        }
        match count {
            Some(count) if count > MAX_PAGES => return Err(too_many_pages(path, count)),
            Some(count) if count > 1 && pages[0].is_empty() => {
                return Err(untrustworthy(
                    path,
                    &format!("announces {count} pages, and its first page is empty"),
                ));
            }
            Some(count) => {
                // Page 1 is handed while the others are read: a sink may
                // hold it until they are in.
                let first = pages.pop().unwrap_or_default();
                let first = async { Ok(hand(how.sink, first).await) };
                let rest = self.fetch_pages(path, query, page_size, 1, count, &mut pages, how);
                let (first, ()) = futures::try_join!(first, rest)?;
                pages.insert(0, first);
            }
            None => {
                self.follow_next_uri(path, next, &mut pages, how.keys, true).await?;
                listed_what_it_counts(path, total, &pages)?;
            }
        }
        if pages.len() == 1 {
            // An object listed twice on its one page is one object (a
            // duplicate name planned from it would have a hint delete it).
            return Ok(dedupe_by_id(pages.pop().unwrap_or_default().into_iter()));
        }
        dedupe_pages(path, pages)
    }

    /// As [`Client::list_all`], for a caller that expects the listing to
    /// hold about `objects` entities (a list right after a run's creates):
    /// the pages that many fill are asked at once instead of page 1 first,
    /// one round trip instead of two; pages a larger `pageCount` announces
    /// follow as usual. An overestimate costs empty pages, not a wrong
    /// answer. A listing without a page count (followed by `nextUri`) is
    /// followed from page 1, the other pages read unused.
    pub async fn list_expecting(
        &self,
        path: &str,
        query: &[(&str, String)],
        page_size: u32,
        objects: u64,
    ) -> Result<Vec<Value>, ApiError> {
        self.list_expecting_seen(path, query, page_size, objects, Pages::default()).await
    }

    /// [`Client::list_expecting`], taking its pages as `how` says.
    pub async fn list_expecting_seen(
        &self,
        path: &str,
        query: &[(&str, String)],
        page_size: u32,
        objects: u64,
        how: Pages<'_>,
    ) -> Result<Vec<Value>, ApiError> {
        let page_size = page_size.max(1);
        let at_once = objects.div_ceil(u64::from(page_size)).clamp(1, MAX_PAGES);
        if at_once == 1 {
            return self.list_all_seen(path, query, page_size, how).await;
        }
        // Each page's entities are taken out of its body as it arrives; the
        // first page's link is kept in case the listing has no page count.
        let bodies: Vec<ExpectedPage> = futures::stream::iter(1..=at_once)
            .map(|number| {
                let q = page_query(query, page_size, number);
                async move {
                    let mut body = self.get_page(path, &q, how.keys).await?;
                    let count = page_count(path, &body, page_size)?;
                    let next = if number == 1 && count.is_none() {
                        self.next_link(path, &body)?
                    } else {
                        None
                    };
                    let total = if number == 1 { announced_total(&body) } else { None };
                    let page = take_entities(path, &mut body)?;
                    drop(body);
                    // Handed only when the listing has page numbers.
                    let page = if count.is_some() { hand(how.sink, page).await } else { page };
                    Ok::<_, ApiError>((page, count, next, total))
                }
            })
            .buffered(usize::try_from(at_once).unwrap_or(usize::MAX))
            .try_collect()
            .await?;
        let total = bodies.first().and_then(|(.., total)| *total);
        let Some(count) = bodies.first().and_then(|(_, count, ..)| *count) else {
            let (first, _, next, _) = bodies.into_iter().next().unwrap_or_default();
            let mut pages = vec![first];
            self.follow_next_uri(path, next, &mut pages, how.keys, true).await?;
            listed_what_it_counts(path, total, &pages)?;
            return dedupe_pages(path, pages);
        };
        let announced = bodies.iter().filter_map(|(_, count, ..)| *count).fold(count, u64::max);
        if announced > MAX_PAGES {
            return Err(too_many_pages(path, announced));
        }
        let mut pages: Vec<Vec<Value>> = bodies.into_iter().map(|(page, ..)| page).collect();
        // Pages past the count the listing announces are not part of it,
        // whatever they hold (a server may answer any page number past the
        // end with the last page again: not taken for a repeated page).
        pages.truncate(usize::try_from(announced.max(1)).unwrap_or(usize::MAX));
        self.fetch_pages(path, query, page_size, at_once, announced, &mut pages, how).await?;
        listed_what_it_counts(path, total, &pages)?;
        dedupe_pages(path, pages)
    }

    /// Every entity of a cursor listing (web deployments, API reference §j):
    /// the first page with `pageSize` only, then each `nextUri` (which
    /// carries the `after` cursor) until a page has no link. Such listings
    /// announce a `total` but take no page numbers, so the offset strategy
    /// of [`Client::list_all`] must not be used on them.
    pub async fn list_cursor(
        &self,
        path: &str,
        query: &[(&str, String)],
        page_size: u32,
    ) -> Result<Vec<Value>, ApiError> {
        let mut q: Vec<(&str, String)> =
            query.iter().filter(|(k, _)| *k != "pageSize").cloned().collect();
        q.push(("pageSize", page_size.max(1).to_string()));
        let mut first = self.get_page(path, &q, None).await?;
        let next = self.next_link(path, &first)?;
        let total = announced_total(&first);
        let mut pages = vec![take_entities(path, &mut first)?];
        // Not stopped at a page of ids already listed: the versions of one
        // configuration share its id (a repeated link still ends it).
        self.follow_next_uri(path, next, &mut pages, None, false).await?;
        listed_what_it_counts(path, total, &pages)?;
        // Not de-duplicated by id: a cursor does not shift like an offset,
        // and the versions of one configuration share its id.
        Ok(pages.into_iter().flatten().collect())
    }

    /// Every entity of a listing that announces neither `total` nor
    /// `pageCount` and whose pages may come back short before the end (queue
    /// members, API reference §i: "page by page until an empty page"): pages
    /// 1, 2, ... one after another until a page has no entities, at most
    /// [`MAX_PAGES`].
    pub async fn list_until_empty(
        &self,
        path: &str,
        query: &[(&str, String)],
        page_size: u32,
    ) -> Result<Vec<Value>, ApiError> {
        self.list_until_seen(path, query, page_size, None).await
    }

    /// As [`Client::list_until_empty`], but stops as soon as every id in
    /// `wanted` has shown (when given): a caller that only needs to find
    /// some entities (the declared members of an `include` membership, the
    /// members just added) reads no further page than the one that shows
    /// the last of them. The entities returned are then only those of the
    /// pages read, and a caller must not treat an id it did not want as
    /// absent. With `wanted` empty, nothing is read.
    pub async fn list_until_seen(
        &self,
        path: &str,
        query: &[(&str, String)],
        page_size: u32,
        wanted: Option<&HashSet<&str>>,
    ) -> Result<Vec<Value>, ApiError> {
        let page_size = page_size.max(1);
        let mut pages: Vec<Vec<Value>> = Vec::new();
        let mut missing: Option<HashSet<&str>> = wanted.cloned();
        // Ids listed so far: a page that lists only them ends the listing
        // (members added meanwhile shift a whole page along, as a server
        // that ignores the page number repeats it: either way nothing new
        // follows it, and reading on could take up to MAX_PAGES requests,
        // one after another); a page of objects without ids is an error.
        let mut ids: HashSet<String> = HashSet::new();
        for number in 1..=MAX_PAGES {
            if missing.as_ref().is_some_and(HashSet::is_empty) {
                return Ok(dedupe_by_id(pages.into_iter().flatten()));
            }
            let mut body = self.get(path, &page_query(query, page_size, number)).await?;
            let page = take_entities(path, &mut body)?;
            if page.is_empty() {
                return Ok(dedupe_by_id(pages.into_iter().flatten()));
            }
            let before = ids.len();
            ids.extend(page.iter().filter_map(entity_id).map(str::to_string));
            if ids.len() == before {
                if page.iter().any(|e| entity_id(e).is_some()) {
                    return Ok(dedupe_by_id(pages.into_iter().flatten()));
                }
                let what = format!("lists objects without an id on page {number}");
                return Err(untrustworthy(path, &what));
            }
            if let Some(missing) = missing.as_mut() {
                for id in page.iter().filter_map(entity_id) {
                    missing.remove(id);
                }
            }
            pages.push(page);
        }
        Err(too_many_pages(path, MAX_PAGES + 1))
    }

    /// The `entities` of a listing that takes no paging parameters (e.g. `/api/v2/oauth/clients`).
    pub async fn list_unpaged(&self, path: &str) -> Result<Vec<Value>, ApiError> {
        let mut body = self.get_page(path, &[], None).await?;
        let total = announced_total(&body);
        let entities = take_entities(path, &mut body)?;
        listed_what_it_counts(path, total, std::slice::from_ref(&entities))?;
        Ok(entities)
    }

    /// Pages `fetched + 1..=count` concurrently, then any pages a growing
    /// `pageCount` announces, each taken as `how` says.
    #[allow(clippy::too_many_arguments)]
    async fn fetch_pages(
        &self,
        path: &str,
        query: &[(&str, String)],
        page_size: u32,
        fetched: u64,
        count: u64,
        pages: &mut Vec<Vec<Value>>,
        how: Pages<'_>,
    ) -> Result<(), ApiError> {
        let mut fetched = fetched;
        let mut wanted = count;
        while fetched < wanted {
            // Every page at once: the client bounds what is in flight (per token of its
            // pool) and paces each token; each page's entities are taken out of its body
            // as it arrives (no copy), and only the page count of the last is kept.
            let remaining = usize::try_from(wanted - fetched).unwrap_or(usize::MAX);
            let bodies: Vec<(Vec<Value>, Option<u64>)> =
                futures::stream::iter(fetched + 1..=wanted)
                    .map(|number| {
                        let q = page_query(query, page_size, number);
                        async move {
                            let mut body = self.get_page(path, &q, how.keys).await?;
                            let announced = page_count(path, &body, page_size)?;
                            let page = take_entities(path, &mut body)?;
                            drop(body);
                            Ok::<_, ApiError>((hand(how.sink, page).await, announced))
                        }
                    })
                    .buffered(remaining.max(1))
                    .try_collect()
                    .await?;
            fetched = wanted;
            let announced = bodies.last().and_then(|(_, count)| *count).unwrap_or(0);
            // A listing grows while its objects are being listed only if
            // its last page is filled: a larger count with an empty last
            // page announces pages that hold nothing (or a server that
            // counts up forever), and is not followed.
            let filled = bodies.last().is_some_and(|(page, _)| !page.is_empty());
            pages.extend(bodies.into_iter().map(|(page, _)| page));
            if announced > MAX_PAGES {
                return Err(too_many_pages(path, announced));
            }
            // Nor when the last page lists only objects of the pages before
            // it (a server answering every page number with data, counting
            // up forever).
            if filled && announced > wanted && lists_new(pages) {
                wanted = announced;
            }
        }
        Ok(())
    }

    /// Follow `nextUri` one page at a time, stopping at a repeated or foreign link or an empty
    /// page, and with `by_id` at a page that lists only objects already listed, failing there
    /// at a page of objects without ids (whether it moves on cannot be told); of each entity,
    /// only `keys` are decoded when given.
    async fn follow_next_uri(
        &self,
        path: &str,
        mut next: Option<NextLink>,
        pages: &mut Vec<Vec<Value>>,
        keys: Option<&EntityKeys>,
        by_id: bool,
    ) -> Result<(), ApiError> {
        let mut seen = HashSet::new();
        // Ids listed so far: a page that lists none but them does not move
        // the listing on (a cursor that hands out new links forever).
        let mut ids: HashSet<String> =
            pages.iter().flatten().filter_map(entity_id).map(str::to_string).collect();
        while let Some((next_path, next_query)) = next.take() {
            let read = u64::try_from(pages.len()).unwrap_or(u64::MAX);
            if read >= MAX_PAGES {
                return Err(too_many_pages(path, read + 1));
            }
            if !seen.insert((next_path.clone(), next_query.clone())) {
                break;
            }
            let query: Vec<(&str, String)> =
                next_query.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            let mut body = self.get_page(&next_path, &query, keys).await?;
            next = self.next_link(path, &body)?;
            let page = take_entities(path, &mut body)?;
            if page.is_empty() {
                break;
            }
            // As a repeated link: a page that lists nothing new ends it.
            let before = ids.len();
            ids.extend(page.iter().filter_map(entity_id).map(str::to_string));
            if by_id && ids.len() == before {
                if page.iter().any(|e| entity_id(e).is_some()) {
                    break;
                }
                return Err(untrustworthy(path, "lists objects without an id"));
            }
            pages.push(page);
        }
        Ok(())
    }

    /// Path and query of a body's `nextUri` (none when it has none). One
    /// that points at another host is never followed (the token would go
    /// with it), and is an error: the listing would be incomplete, and a
    /// plan would create what it did not see.
    fn next_link(&self, path: &str, body: &Value) -> Result<Option<NextLink>, ApiError> {
        let Some(next) = body.get("nextUri").and_then(Value::as_str).filter(|s| !s.is_empty())
        else {
            return Ok(None);
        };
        let base = &self.target().api_base;
        let foreign = || {
            let shown = super::untrusted::visible(next);
            untrustworthy(
                path,
                &format!(
                    "links its next page to `{shown}`, not on the API host {}, which gcctl does not follow (the token would go with it)",
                    base.origin().ascii_serialization()
                ),
            )
        };
        let url = base.join(next).map_err(|_| foreign())?;
        if url.origin() != base.origin() {
            return Err(foreign());
        }
        let query = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        Ok(Some((url.path().to_owned(), query)))
    }
}

/// The path and query of a `nextUri`.
type NextLink = (String, Vec<(String, String)>);

/// A listing that announces more pages than any org holds: reading it would
/// take hours, and stopping early would hide objects (a plan would then
/// create duplicates), so it is an error.
fn too_many_pages(path: &str, count: u64) -> ApiError {
    let message = format!(
        "the listing announces {count} pages, more than the {MAX_PAGES} gcctl reads; the answer cannot be trusted"
    );
    ApiError::new("GET", path, ApiErrorKind::Decode, message)
}

/// A listing whose pages contradict themselves (`what`): reading on could
/// take hours, and stopping could hide objects, so it is an error.
fn untrustworthy(path: &str, what: &str) -> ApiError {
    let message = format!("the listing {what}; the answer cannot be trusted");
    let mut error = ApiError::new("GET", path, ApiErrorKind::Decode, message);
    error.hint = Some(
        "run again (a listing read while the org changes can disagree with itself once); if it persists, check the API host (GENESYSCLOUD_REGION) and report the call to Genesys support".to_string(),
    );
    error
}

/// `entities` of the listing at `path`, each with an `id` as text: an
/// object of the org without one cannot be matched, read again or written
/// (a plan would add a wrap-up code the queue already offers, or update an
/// object it cannot address), so such a listing is an error naming the call.
pub fn with_ids(path: &str, entities: Vec<Value>) -> Result<Vec<Value>, ApiError> {
    match entities.iter().position(|e| entity_id(e).is_none()) {
        None => Ok(entities),
        Some(at) => Err(untrustworthy(
            path,
            &format!("lists an object without an id (object {} of {})", at + 1, entities.len()),
        )),
    }
}

/// An entity's `id`, when it has one.
fn entity_id(entity: &Value) -> Option<&str> {
    entity.get("id").and_then(Value::as_str)
}

/// The caller's query plus `pageSize` and `pageNumber` (replacing any the caller gave).
fn page_query<'a>(
    query: &[(&'a str, String)],
    page_size: u32,
    number: u64,
) -> Vec<(&'a str, String)> {
    let mut q: Vec<(&str, String)> =
        query.iter().filter(|(k, _)| *k != "pageSize" && *k != "pageNumber").cloned().collect();
    q.push(("pageSize", page_size.to_string()));
    q.push(("pageNumber", number.to_string()));
    q
}

/// The number of pages an offset listing announces: `pageCount`, else `ceil(total/pageSize)`;
/// `None` when it announces neither (follow `nextUri` instead). A count
/// that is there but is no whole number is an error: read as none, it
/// would end the listing at its first page, and a plan would then create
/// what the later pages hold.
fn page_count(path: &str, body: &Value, requested_size: u32) -> Result<Option<u64>, ApiError> {
    let count = |field: &str| match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => count_of(value).map(Some).ok_or_else(|| {
            let shown = crate::api::untrusted::sanitize(&value.to_string());
            untrustworthy(path, &format!("announces `{field}: {shown}`, which is no count"))
        }),
    };
    if let Some(pages) = count("pageCount")? {
        return Ok(Some(pages));
    }
    let Some(total) = count("total")? else { return Ok(None) };
    let size = count("pageSize")?.filter(|s| *s > 0).unwrap_or(u64::from(requested_size));
    Ok(Some(total.div_ceil(size)))
}

/// A count as a listing writes it: a whole number, also as `2.0` or
/// `"2"` (a server's serializer may write either). A count read as none
/// would end the listing at its first page, and a plan would then create
/// what the later pages hold.
fn count_of(value: &Value) -> Option<u64> {
    match value {
        // `2.0` as written (no float arithmetic: a count is a whole number).
        Value::Number(n) => {
            n.as_u64().or_else(|| n.to_string().strip_suffix(".0").and_then(|s| s.parse().ok()))
        }
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A page read by [`Client::list_expecting_seen`]: its entities, the page
/// count it announces, the first page's link (a listing without a count)
/// and the first page's [`announced_total`].
type ExpectedPage = (Vec<Value>, Option<u64>, Option<NextLink>, Option<u64>);

/// The `total` a listing's page announces, when above 0.
fn announced_total(body: &Value) -> Option<u64> {
    body.get("total").and_then(Value::as_u64).filter(|total| *total > 0)
}

/// A listing whose pages list nothing while its first page announces a
/// `total` above 0 contradicts itself: taken for an empty org, it would
/// have a plan create what the org holds (an OAuth client, whose names may
/// repeat, twice).
fn listed_what_it_counts(
    path: &str,
    total: Option<u64>,
    pages: &[Vec<Value>],
) -> Result<(), ApiError> {
    match total {
        Some(total) if pages.iter().all(Vec::is_empty) => Err(untrustworthy(
            path,
            &format!("announces a total of {total} objects, and lists none"),
        )),
        _ => Ok(()),
    }
}

/// The `entities` array of a listing, moved out of its body (no copy).
fn take_entities(path: &str, body: &mut Value) -> Result<Vec<Value>, ApiError> {
    match body.get_mut("entities").map(Value::take) {
        Some(Value::Array(items)) => Ok(items),
        Some(Value::Null) => Ok(Vec::new()),
        _ => Err(ApiError::new(
            "GET",
            path,
            ApiErrorKind::Decode,
            "the response is not a listing (no `entities` array)",
        )),
    }
}

/// Whether the last of `pages` lists an object (by id) that none of the
/// pages before it does.
fn lists_new(pages: &[Vec<Value>]) -> bool {
    let Some((last, before)) = pages.split_last() else { return false };
    let seen: HashSet<&str> = before.iter().flatten().filter_map(entity_id).collect();
    last.iter().filter_map(entity_id).any(|id| !seen.contains(id))
}

/// The entities of an offset listing's pages, in page order, later copies
/// of an id dropped ([`dedupe_by_id`]). A page after the first that lists
/// only objects of the pages before it is an error, not a page to drop:
/// objects shifting while the org changes repeat a few, while a page
/// repeated whole (a server answering two page numbers alike) means the
/// objects of one page were never listed, and a plan would create them.
fn dedupe_pages(path: &str, pages: Vec<Vec<Value>>) -> Result<Vec<Value>, ApiError> {
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    let items: Vec<Value> = pages.into_iter().flatten().collect();
    let keep = first_of_each_id(&items);
    let mut start = 0;
    for (number, size) in sizes.iter().enumerate() {
        let page = start..start + size;
        start += size;
        let all_seen = || {
            items[page.clone()].iter().all(|e| entity_id(e).is_some())
                && keep[page.clone()].iter().all(|first| !first)
        };
        if number > 0 && *size > 0 && all_seen() {
            return Err(untrustworthy(
                path,
                &format!(
                    "answers page {} with objects of the pages before it only, so some object was not listed (the org changed while it was listed, or the server ignores page numbers)",
                    number + 1
                ),
            ));
        }
    }
    Ok(items.into_iter().zip(keep).filter_map(|(item, keep)| keep.then_some(item)).collect())
}

/// Drop later copies of an entity with the same `id` (objects shifting between pages).
fn dedupe_by_id(items: impl Iterator<Item = Value>) -> Vec<Value> {
    let items: Vec<Value> = items.collect();
    let keep = first_of_each_id(&items);
    items.into_iter().zip(keep).filter_map(|(item, keep)| keep.then_some(item)).collect()
}

/// Whether each item is the first with its `id` (items without one are
/// kept). Reading each item's id (and hashing it) touches every object
/// once the last page is in, long after it was decoded: a large listing
/// does that in two halves on two cores, and the set of seen ids then works
/// on the hashes alone, comparing the ids themselves only when two hashes
/// are equal (10,000 queues: 2.7 ms on one core, in profiles of 2026-12-05).
fn first_of_each_id(items: &[Value]) -> Vec<bool> {
    fn hashed<'a>(state: &impl std::hash::BuildHasher, part: &'a [Value]) -> Vec<Option<Id<'a>>> {
        let id = |item: &'a Value| item.get("id").and_then(Value::as_str);
        part.iter().map(|item| id(item).map(|id| Id { hash: state.hash_one(id), id })).collect()
    }
    let state = foldhash::fast::RandomState::default();
    let large = items.len() >= crate::manifest::parallel::JOIN_FROM;
    let (first, second) = items.split_at(items.len() / 2);
    let (mut ids, rest) =
        crate::manifest::parallel::join(large, || hashed(&state, first), || hashed(&state, second));
    ids.extend(rest);
    let mut seen = crate::FastSet::with_capacity_and_hasher(ids.len(), state);
    ids.into_iter().map(|id| id.is_none_or(|id| seen.insert(id))).collect()
}

/// An id with its hash, computed once: equal ids have equal hashes, so two
/// ids are compared only when their hashes are equal.
#[derive(Clone, Copy)]
struct Id<'a> {
    hash: u64,
    id: &'a str,
}

impl PartialEq for Id<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.id == other.id
    }
}

impl Eq for Id<'_> {}

impl std::hash::Hash for Id<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn page_count_prefers_page_count_then_total() {
        let count = |body: Value, size| page_count("/p", &body, size).ok().flatten();
        assert_eq!(count(json!({"pageCount": 4, "total": 1}), 25), Some(4));
        assert_eq!(count(json!({"total": 101, "pageSize": 25}), 100), Some(5));
        assert_eq!(count(json!({"total": 101}), 100), Some(2));
        assert_eq!(count(json!({"total": 0}), 100), Some(0));
        assert_eq!(count(json!({"entities": [], "nextUri": "/x"}), 100), None);
        assert_eq!(count(json!({"pageCount": null, "nextUri": "/x"}), 100), None);
        // Whole numbers however written; anything else is an error, never
        // a listing cut at its first page.
        assert_eq!(count(json!({"pageCount": 2.0}), 100), Some(2));
        assert_eq!(count(json!({"pageCount": "2", "total": "2"}), 100), Some(2));
        assert_eq!(count(json!({"total": 2.0, "pageSize": "1"}), 100), Some(2));
        for bad in [
            json!({"pageCount": 2.5}),
            json!({"pageCount": "two"}),
            json!({"total": -1}),
            json!({"total": true}),
        ] {
            let err = page_count("/p", &bad, 100).unwrap_err().to_string();
            assert!(
                err.contains("which is no count; the answer cannot be trusted"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn page_query_replaces_paging_parameters() {
        let q = page_query(&[("name", "a*".into()), ("pageSize", "9".into())], 500, 3);
        assert_eq!(
            q,
            [
                ("name", "a*".to_owned()),
                ("pageSize", "500".to_owned()),
                ("pageNumber", "3".to_owned())
            ]
        );
    }

    #[test]
    fn entities_must_be_a_listing() {
        assert_eq!(take_entities("/p", &mut json!({"entities": [1, 2]})).unwrap().len(), 2);
        assert!(take_entities("/p", &mut json!({"entities": null})).unwrap().is_empty());
        let e = take_entities("/p", &mut json!({"id": "x"})).unwrap_err();
        assert_eq!(e.kind, ApiErrorKind::Decode);
        assert!(take_entities("/p", &mut Value::Null).is_err());
    }

    /// A large listing is read in two halves: a copy in the second half of
    /// an object of the first is dropped, and so is one within a half.
    #[test]
    fn duplicates_across_halves_of_a_large_listing_are_dropped_in_order() {
        let n = crate::manifest::parallel::JOIN_FROM * 2;
        let mut items: Vec<Value> = (0..n).map(|i| json!({"id": format!("id-{i}")})).collect();
        items[n - 1] = json!({"id": "id-3"});
        items[5] = json!({"id": "id-4"});
        items[7] = json!({});
        let out = dedupe_by_id(items.clone().into_iter());
        let expected: Vec<Value> = items
            .into_iter()
            .enumerate()
            .filter(|(i, _)| *i != n - 1 && *i != 5)
            .map(|(_, v)| v)
            .collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn duplicates_by_id_are_dropped_in_order() {
        let items = vec![json!({"id": "a"}), json!({"id": "b"}), json!({"id": "a"}), json!({})];
        let out = dedupe_by_id(items.into_iter());
        assert_eq!(out, [json!({"id": "a"}), json!({"id": "b"}), json!({})]);
    }
}
