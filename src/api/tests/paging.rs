//! Listing behavior: concurrent offset pages, `total`-only and cursor listings, odd pages.

use serde_json::{Value, json};

use super::{Seen, access_token, delayed, json, page_numbers, serve};

const QUEUES: &str = "/api/v2/routing/queues";

/// Page `number` of `total` entities (`q-0`, `q-1`, ...) in pages of `size`.
fn offset_page(total: usize, size: usize, number: usize, with_count: bool) -> Value {
    let start = (number - 1) * size;
    let entities: Vec<Value> =
        (start..total.min(start + size)).map(|i| json!({"id": format!("q-{i}")})).collect();
    let mut page =
        json!({"entities": entities, "pageSize": size, "pageNumber": number, "total": total});
    if with_count {
        page["pageCount"] = json!(total.div_ceil(size));
    }
    page
}

fn params(req: &Seen) -> (usize, usize) {
    (
        req.param("pageSize").unwrap().parse().unwrap(),
        req.param("pageNumber").unwrap().parse().unwrap(),
    )
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|v| v["id"].as_str().unwrap_or_default().to_owned()).collect()
}

fn expected(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("q-{i}")).collect()
}

#[tokio::test]
async fn pages_are_fetched_concurrently_and_returned_in_order() {
    let server = serve(|req, _| {
        let (size, number) = params(req);
        // Early pages answer last, so arrival order differs from page order.
        delayed(json(200, &offset_page(23, size, number, true)), 20 * (6 - number as u64))
    })
    .await;
    let client = server.client(access_token("t"));
    let all = client.list_all(QUEUES, &[("name", "q*".into())], 5).await.unwrap();
    assert_eq!(ids(&all), expected(23));
    let seen = server.seen();
    assert_eq!(seen.len(), 5);
    let counts = page_numbers(&seen, QUEUES);
    for page in 1..=5 {
        assert_eq!(counts[&page.to_string()], 1);
    }
    assert!(seen.iter().all(|s| s.param("pageSize").as_deref() == Some("5")));
    assert!(seen.iter().all(|s| s.param("name").as_deref() == Some("q*")));
    assert!(server.max_in_flight() >= 2, "pages 2..=5 were not fetched concurrently");
}

#[tokio::test]
async fn a_single_page_listing_makes_one_request() {
    let server = serve(|req, _| {
        let (size, number) = params(req);
        json(200, &offset_page(3, size, number, true))
    })
    .await;
    let client = server.client(access_token("t"));
    assert_eq!(ids(&client.list_all(QUEUES, &[], 500).await.unwrap()), expected(3));
    assert_eq!(server.seen().len(), 1);
    let server =
        serve(|_, _| json(200, &json!({"entities": [], "pageCount": 0, "total": 0}))).await;
    let client = server.client(access_token("t"));
    assert!(client.list_all(QUEUES, &[], 500).await.unwrap().is_empty());
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn total_without_page_count_gives_the_page_count() {
    let server = serve(|req, _| {
        let (size, number) = params(req);
        json(200, &offset_page(10, size, number, false))
    })
    .await;
    let client = server.client(access_token("t"));
    assert_eq!(ids(&client.list_all(QUEUES, &[], 4).await.unwrap()), expected(10));
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn cursor_listings_follow_next_uri_on_the_same_host_only() {
    let server = serve(|req, _| match req.param("after").as_deref() {
        None => json(200, &json!({"entities": [{"id": "q-0"}], "nextUri": "/api/v2/routing/queues?after=c1&pageSize=1"})),
        Some("c1") => json(200, &json!({"entities": [{"id": "q-1"}], "nextUri": "http://127.0.0.1:1/api/v2/routing/queues?after=c2"})),
        Some(_) => json(200, &json!({"entities": [{"id": "never"}]})),
    })
    .await;
    let client = server.client(access_token("t"));
    // Not followed, and not taken for the end: the listing is incomplete.
    let err = client.list_all(QUEUES, &[], 1).await.unwrap_err();
    assert!(err.to_string().contains("links its next page to `http://127.0.0.1:1/"), "{err}");
    assert_eq!(server.seen().len(), 2);
    assert_eq!(server.seen()[1].param("after").as_deref(), Some("c1"));
}

#[tokio::test]
async fn a_repeated_next_uri_stops_the_listing() {
    let server = serve(|_, _| {
        json(
            200,
            &json!({"entities": [{"id": "q-0"}], "nextUri": "/api/v2/routing/queues?after=same"}),
        )
    })
    .await;
    let client = server.client(access_token("t"));
    assert_eq!(ids(&client.list_all(QUEUES, &[], 1).await.unwrap()), expected(1));
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn listings_that_change_while_read_return_what_was_read() {
    // Page 2 comes back empty, page 3 announces a fourth page, and q-4 shifted onto it too.
    let server = serve(|req, _| {
        let (size, number) = params(req);
        let mut page = offset_page(12, size, number, true);
        match number {
            2 => page["entities"] = json!([]),
            3 => {
                page["entities"] = json!([{"id": "q-4"}, {"id": "q-8"}]);
                page["pageCount"] = json!(4);
            }
            4 => page["entities"] = json!([{"id": "q-4"}, {"id": "q-9"}]),
            _ => {}
        }
        json(200, &page)
    })
    .await;
    let client = server.client(access_token("t"));
    let all = client.list_all(QUEUES, &[], 4).await.unwrap();
    assert_eq!(ids(&all), ["q-0", "q-1", "q-2", "q-3", "q-4", "q-8", "q-9"]);
    assert_eq!(server.seen().len(), 4);
}

/// Listings that contradict themselves end quickly (not after hours of
/// requests): a page count that grows over empty pages is not followed, a
/// first page that is empty yet announces more pages or objects is an error, and a
/// cursor ends at a page that lists nothing new.
#[tokio::test]
async fn listings_that_contradict_themselves_end_quickly() {
    // Every page announces one more page, and holds nothing after page 1.
    let server = serve(|req, _| {
        let (_, number) = params(req);
        let entities = if number == 1 { json!([{"id": "q-0"}]) } else { json!([]) };
        json(200, &json!({"entities": entities, "pageCount": number + 1}))
    })
    .await;
    let client = server.client(access_token("t"));
    assert_eq!(ids(&client.list_all(QUEUES, &[], 1).await.unwrap()), expected(1));
    assert_eq!(server.seen().len(), 2);

    let server = serve(|_, _| json(200, &json!({"entities": [], "pageCount": 9_999}))).await;
    let client = server.client(access_token("t"));
    let err = client.list_all(QUEUES, &[], 500).await.unwrap_err();
    assert!(err.to_string().contains("announces 9999 pages, and its first page is empty"), "{err}");
    assert!(err.hint().is_some_and(|h| h.starts_with("run again")), "{err:?}");
    assert_eq!(server.seen().len(), 1);

    // One page that lists nothing of the objects it counts (`entities`
    // empty or null): taken as an empty org, a plan would create them.
    // Whichever way the listing is read.
    for entities in [json!([]), json!(null)] {
        let body = json!({"entities": entities, "total": 2, "pageCount": 1});
        let server = serve(move |_, _| json(200, &body)).await;
        let client = server.client(access_token("t"));
        let said = "announces a total of 2 objects, and lists none";
        let err = client.list_all(QUEUES, &[], 500).await.unwrap_err();
        assert!(err.to_string().contains(said), "{err}");
        let err = client.list_expecting(QUEUES, &[], 500, 1_200).await.unwrap_err();
        assert!(err.to_string().contains(said), "{err}");
        let err = client.list_unpaged("/api/v2/oauth/clients").await.unwrap_err();
        assert!(err.to_string().contains(said), "{err}");
        let err = client.list_cursor("/api/v2/webdeployments/deployments", &[], 100).await;
        assert!(err.unwrap_err().to_string().contains(said));
    }
    // An empty org's listing is empty.
    let server =
        serve(|_, _| json(200, &json!({"entities": [], "total": 0, "pageCount": 0}))).await;
    let client = server.client(access_token("t"));
    assert!(client.list_all(QUEUES, &[], 500).await.unwrap().is_empty());

    // Each page links to a new cursor and lists the same object again.
    let server = serve(|req, _| {
        let after = req.param("after").unwrap_or_default();
        let next = format!("/api/v2/routing/queues?after={after}x");
        json(200, &json!({"entities": [{"id": "q-0"}], "nextUri": next}))
    })
    .await;
    let client = server.client(access_token("t"));
    assert_eq!(ids(&client.list_all(QUEUES, &[], 1).await.unwrap()), expected(1));
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn a_failed_page_fails_the_listing() {
    let server = serve(|req, _| {
        let (size, number) = params(req);
        if number == 2 {
            return json(
                403,
                &json!({"message": "Missing permission", "code": "missing.permissions"}),
            );
        }
        json(200, &offset_page(10, size, number, true))
    })
    .await;
    let client = server.client(access_token("t"));
    let err = client.list_all(QUEUES, &[], 5).await.unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert!(
        err.to_string()
            .starts_with("GET /api/v2/routing/queues: 403 Forbidden (missing.permissions)")
    );
}

#[tokio::test]
async fn unpaged_listings_make_one_plain_request() {
    let server =
        serve(|_, _| json(200, &json!({"entities": [{"id": "q-0"}, {"id": "q-1"}]}))).await;
    let client = server.client(access_token("t"));
    assert_eq!(ids(&client.list_unpaged("/api/v2/oauth/clients").await.unwrap()), expected(2));
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].path.as_str(), seen[0].query.as_str()), ("/api/v2/oauth/clients", ""));

    let server = serve(|_, _| json(200, &json!({"id": "not a listing"}))).await;
    let err = server.client(access_token("t")).list_unpaged("/api/v2/oauth/clients").await;
    let err = err.unwrap_err();
    assert!(err.to_string().contains("no `entities` array: an object without `entities`"), "{err}");
    // Read as a success gcctl cannot read: sent again, three times in all,
    // and the error names the status.
    assert_eq!(server.seen().len(), 3);
    assert_eq!(err.status(), Some(200));

    // An empty answer once (a proxy's), then the page: read again.
    let server = serve(|_, n| {
        let body = if n == 0 { Value::Null } else { json!({"entities": [{"id": "q-0"}]}) };
        json(200, &body)
    })
    .await;
    let listed = server.client(access_token("t")).list_unpaged("/api/v2/oauth/clients").await;
    assert_eq!(ids(&listed.unwrap()), expected(1));
    assert_eq!(server.seen().len(), 2);
}

/// A server that ignores the page number answers every page alike: an
/// offset listing fails (a page's objects were never listed), and a
/// listing read page by page until an empty one (queue members) ends at
/// the second page, which lists nothing new, instead of reading up to
/// `MAX_PAGES` (members added while it is read shift a page along alike:
/// a caller that waits for them reads again).
#[tokio::test]
async fn a_server_that_ignores_page_numbers_fails_the_listing_at_once() {
    let server = serve(|req, _| {
        let (size, _) = params(req);
        json(200, &offset_page(30, size, 1, true))
    })
    .await;
    let client = server.client(access_token("t"));
    let err = client.list_all(QUEUES, &[], 10).await.unwrap_err();
    assert!(
        err.to_string().contains("answers page 2 with objects of the pages before it only"),
        "{err}"
    );
    assert_eq!(server.seen().len(), 3);
    let listed = client.list_until_empty(QUEUES, &[], 10).await.unwrap();
    assert_eq!(ids(&listed), expected(10));
    assert_eq!(server.seen().len(), 5, "pages 1 and 2, no more");
}

/// A page count that grows with every filled page, pages past the end
/// answering with objects already listed: growth is followed only while
/// the last page lists new objects.
#[tokio::test]
async fn a_page_count_growing_over_repeated_objects_is_not_followed() {
    let server = serve(|req, _| {
        let (size, number) = params(req);
        let mut page = offset_page(20, size, number.min(2), true);
        page["pageCount"] = json!(number + 1);
        json(200, &page)
    })
    .await;
    let client = server.client(access_token("t"));
    let err = client.list_all(QUEUES, &[], 10).await.unwrap_err();
    assert!(err.to_string().contains("with objects of the pages before it only"), "{err}");
    assert!(server.seen().len() <= 4, "{} requests", server.seen().len());
}

/// Objects without ids on a page followed through `nextUri`: whether the
/// cursor moves on cannot be told, so the listing fails at that page. A
/// cursor listing of versions, which share their configuration's id, reads
/// on past a page of ids already listed.
#[tokio::test]
async fn a_cursor_page_of_objects_without_ids_fails_the_listing() {
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let server = serve(move |_, _| {
        let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        json(200, &json!({"entities": [{"name": "x"}], "nextUri": format!("/api/v2/routing/queues?after=c{n}")}))
    })
    .await;
    let client = server.client(access_token("t"));
    let err = client.list_all(QUEUES, &[], 1).await.unwrap_err();
    assert!(err.to_string().contains("lists objects without an id"), "{err}");
    assert_eq!(server.seen().len(), 2);
    let versions = serve(|req, _| match req.param("after").as_deref() {
        None => json(
            200,
            &json!({"entities": [{"id": "c", "version": "3"}], "nextUri": "/api/v2/v?after=2"}),
        ),
        Some("2") => json(
            200,
            &json!({"entities": [{"id": "c", "version": "2"}], "nextUri": "/api/v2/v?after=1"}),
        ),
        Some(_) => json(200, &json!({"entities": [{"id": "c", "version": "1"}]})),
    })
    .await;
    let client = versions.client(access_token("t"));
    let listed = client.list_cursor("/api/v2/v", &[], 1).await.unwrap();
    assert_eq!(listed.len(), 3, "{listed:?}");
}

/// Pages asked past the end by an expecting listing are not part of it,
/// even when a server answers them with its last page again.
#[tokio::test]
async fn pages_past_the_announced_count_are_dropped_whatever_they_hold() {
    let server = serve(|req, _| {
        let (size, number) = params(req);
        json(200, &offset_page(15, size, number.min(2), true))
    })
    .await;
    let client = server.client(access_token("t"));
    let listed = client.list_expecting(QUEUES, &[], 10, 40).await.unwrap();
    assert_eq!(ids(&listed), expected(15));
}

/// A count written as `2.0` or `"2"` is read as 2: the listing is not cut
/// at its first page (a plan then created what page 2 held).
#[tokio::test]
async fn counts_written_as_floats_or_strings_read_every_page() {
    for count in [json!(2.0), json!("2")] {
        let server = serve(move |req, _| {
            let (_, number) = params(req);
            let id = format!("q-{}", number - 1);
            json(200, &json!({"entities": [{"id": id}], "pageCount": count, "total": count}))
        })
        .await;
        let client = server.client(access_token("t"));
        let all = client.list_all(QUEUES, &[], 1).await.unwrap();
        assert_eq!(ids(&all), expected(2));
    }
}

/// An object listed twice on a listing's one page is one object: a plan
/// took it for two objects sharing a name, with a hint to delete "the
/// other", which was the same.
#[tokio::test]
async fn an_object_listed_twice_on_one_page_is_one() {
    let server = serve(|_, _| {
        json(
            200,
            &json!({"entities": [{"id": "q-0"}, {"id": "q-0"}, {"id": "q-1"}], "pageCount": 1}),
        )
    })
    .await;
    let client = server.client(access_token("t"));
    let all = client.list_all(QUEUES, &[], 25).await.unwrap();
    assert_eq!(ids(&all), expected(2));
}
