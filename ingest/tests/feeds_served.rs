//! Feeds served over HTTP, end to end at the library level: fetch, parse, fetch the full article
//! for teaser items, build news documents; the same feed twice gives the same keys and hashes,
//! an edited item a new hash; a 304 needs no parsing; an HTML page posing as a feed is named.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::data_dir;
use common::server::{Reply, TestServer};
use lore_ingest::web::{FetchOptions, Fetched, Fetcher, fetch_page, item_document, parse_feed};
use lore_ingest::{Kind, LoadOptions};

/// A feed of three items: a teaser that links to a real news page, an item with full content
/// and headings, and a teaser with a long summary. `edited` changes the second item's content.
fn feed_xml(base: &str, edited: bool) -> String {
    let budget = if edited { "six votes to one" } else { "five votes to two" };
    let long_summary = "The summary of the third item is long. ".repeat(20);
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>The Daily Test</title><link>{base}/</link><description>News for tests</description>
<item><title>Justice in the spotlight</title><link>{base}/articles/cnn_001.html?utm_source=rss</link>
<guid isPermaLink="false">daily-1</guid><description>A short teaser.</description>
<pubDate>Mon, 06 Nov 2023 10:00:00 GMT</pubDate></item>
<item><title>Council report</title><link>{base}/articles/council.html</link><guid>daily-2</guid>
<content:encoded><![CDATA[<h2>Budget</h2><p>The budget passed by {budget} after a long debate in the hall.</p>
<h2>Roads</h2><p>Two roads will be repaired this summer, the council said.</p>]]></content:encoded></item>
<item><title>Long summary</title><link>{base}/articles/long.html</link><guid>daily-3</guid>
<description>{long_summary}</description></item>
</channel></rss>"#
    )
}

struct Site {
    server: TestServer,
    edited: Arc<AtomicBool>,
}

async fn site() -> Site {
    let edited = Arc::new(AtomicBool::new(false));
    let e = edited.clone();
    let news = data_dir().join("docs/html/newspaper4k-0.9.6-tests-data/html");
    let base = Arc::new(std::sync::OnceLock::<String>::new());
    let b = base.clone();
    let server = TestServer::start(move |req| {
        let base = b.get().cloned().unwrap_or_default();
        match req.path.split('?').next().unwrap_or_default() {
            "/feed.xml" => {
                let edited = e.load(Ordering::SeqCst);
                let etag = if edited { "\"v2\"" } else { "\"v1\"" };
                if req.header("if-none-match") == Some(etag) {
                    return Reply::status(304);
                }
                Reply::ok("application/rss+xml", feed_xml(&base, edited)).header("ETag", etag)
            }
            "/posing.xml" => {
                Reply::ok("text/html", "<!DOCTYPE html><html><body><p>Subscribe!</p></body></html>")
            }
            "/articles/cnn_001.html" => Reply::file(&news.join("cnn_001.html"), "text/html"),
            _ => Reply::status(404),
        }
    })
    .await;
    base.set(server.url("")).unwrap();
    Site { server, edited }
}

#[tokio::test]
async fn teaser_items_get_the_full_article_and_content_items_keep_theirs() {
    let site = site().await;
    let fetcher = Fetcher::new(FetchOptions::default()).unwrap();
    let opts = LoadOptions::default();
    let feed_url = site.server.url("/feed.xml");
    let Fetched::Body(resp) = fetcher.get(&feed_url, None).await.unwrap() else { panic!("no body") };
    let feed = parse_feed(&resp.bytes, &resp.final_url).unwrap();
    assert_eq!(feed.title.as_deref(), Some("The Daily Test"));
    let needs: Vec<bool> = feed.items.iter().map(|i| i.needs_full_text()).collect();
    assert_eq!(needs, vec![true, false, false]);

    let teaser = &feed.items[0];
    let link = teaser.link.as_deref().unwrap();
    let page = fetch_page(&fetcher, link, &opts).await.unwrap();
    let page_text: Vec<String> = page.sections.iter().map(|s| s.text.clone()).collect();
    let page_hash = page.hash.clone();
    let doc = item_document(&feed, &feed_url, teaser, Some(page)).unwrap();
    assert_eq!(doc.kind, Kind::News);
    assert_eq!(doc.source, site.server.url("/articles/cnn_001.html"));
    assert_eq!(doc.url.as_deref(), Some(link));
    assert_eq!(doc.title, "Justice in the spotlight");
    assert_eq!(doc.site.as_deref(), Some("The Daily Test"));
    assert_eq!(doc.published.as_deref(), Some("2023-11-06T10:00:00Z"));
    assert_eq!(doc.authors, vec!["Joan Biskupic"], "authors from the page when the item has none");
    assert_eq!(doc.sections.iter().map(|s| s.text.clone()).collect::<Vec<_>>(), page_text);
    assert_ne!(doc.hash, page_hash);
    assert_ne!(doc.hash, teaser.hash);

    let bare = item_document(&feed, &feed_url, teaser, None).unwrap();
    assert_eq!(bare.sections[0].text, "A short teaser.");
    assert_eq!(bare.hash, teaser.hash);

    let content = item_document(&feed, &feed_url, &feed.items[1], None).unwrap();
    let paths: Vec<String> = content.sections.iter().map(|s| s.heading_path.join(" > ")).collect();
    assert_eq!(paths, vec!["Budget", "Roads"]);
    assert!(content.sections[0].text.contains("five votes to two"));
}

#[tokio::test]
async fn refetching_gives_stable_keys_and_hashes_and_edits_show() {
    let site = site().await;
    let fetcher = Fetcher::new(FetchOptions::default()).unwrap();
    let feed_url = site.server.url("/feed.xml");
    let get = |validators: Option<lore_ingest::web::Validators>| {
        let fetcher = fetcher.clone();
        let url = feed_url.clone();
        async move { fetcher.get(&url, validators.as_ref()).await.unwrap() }
    };
    let Fetched::Body(first) = get(None).await else { panic!("no body") };
    let a = parse_feed(&first.bytes, &feed_url).unwrap();
    let Fetched::Body(again) = get(None).await else { panic!("no body") };
    let b = parse_feed(&again.bytes, &feed_url).unwrap();
    assert_eq!(a, b);

    // Unchanged: a 304, nothing to parse.
    assert!(matches!(get(Some(first.validators())).await, Fetched::NotModified { .. }));

    site.edited.store(true, Ordering::SeqCst);
    let Fetched::Body(edited) = get(Some(first.validators())).await else { panic!("expected the new feed") };
    let c = parse_feed(&edited.bytes, &feed_url).unwrap();
    let keys = |f: &lore_ingest::web::ParsedFeed| f.items.iter().map(|i| i.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&a), keys(&c));
    assert_eq!(c.items[0].hash, a.items[0].hash);
    assert_ne!(c.items[1].hash, a.items[1].hash);
    assert_eq!(c.items[2].hash, a.items[2].hash);
}

#[tokio::test]
async fn an_html_page_posing_as_a_feed_is_named() {
    let site = site().await;
    let fetcher = Fetcher::new(FetchOptions::default()).unwrap();
    let url = site.server.url("/posing.xml");
    let Fetched::Body(resp) = fetcher.get(&url, None).await.unwrap() else { panic!("no body") };
    let err = parse_feed(&resp.bytes, &url).unwrap_err();
    assert_eq!(err.to_string(), format!("{url}: not a feed (the server sent an HTML page)"));
}
