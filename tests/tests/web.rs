//! Web pages and feeds through the real `lore` binary, served by a local HTTP server on
//! 127.0.0.1: `lore add URL`, `lore feed add/ls/rm/refresh` with new, changed and unchanged
//! items, conditional GET, full-article fetches for summary-only feeds, retention, and feeds
//! that fail in every way a server can fail — each one line, the rest going on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../ingest/tests/common/server.rs"]
#[allow(dead_code)]
mod server;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use lore_tests::{CHAT_MODEL_ENV, Lore, Run, chat_server, data};
use serde_json::Value;
use server::{Body, Reply, Request, TestServer};

/// A local web site whose pages can change while a test runs. A reply carrying an `ETag`
/// answers 304 to a request that sends the same tag back.
struct Site {
    server: TestServer,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    _rt: tokio::runtime::Runtime,
}

impl Site {
    fn new() -> Site {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let routes: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
        let r = routes.clone();
        let server = rt.block_on(TestServer::start(move |req: &Request| {
            let path = req.path.split('?').next().unwrap_or_default();
            let reply = r.lock().unwrap().get(path).cloned().unwrap_or_else(|| Reply::status(404));
            let etag = reply.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("etag")).map(|(_, v)| v);
            match (etag, req.header("if-none-match")) {
                (Some(tag), Some(sent)) if tag == sent => Reply::status(304).header("ETag", tag),
                _ => reply,
            }
        }));
        Site { server, routes, _rt: rt }
    }

    fn set(&self, path: &str, reply: Reply) {
        self.routes.lock().unwrap().insert(path.to_string(), reply);
    }

    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    fn requests_for(&self, path: &str) -> Vec<Request> {
        self.server.requests_for(path)
    }

    /// Serves a newspaper page from the shared data at `/news/{stem}.html`.
    fn news_page(&self, stem: &str) -> String {
        let path = data(&format!("docs/html/newspaper4k-0.9.6-tests-data/html/{stem}.html"));
        let route = format!("/news/{stem}.html");
        self.set(&route, Reply::file(&path, "text/html; charset=utf-8"));
        self.url(&route)
    }
}

/// An RSS 2.0 feed item: key, title, and text (paragraphs) carried as full content, or as a short
/// description with a link to the article when `link` is given and `text` is short.
struct Item {
    key: String,
    title: String,
    text: String,
    link: Option<String>,
    date: String,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn rss(title: &str, items: &[Item]) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\" \
         xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel><title>{}</title>\
         <link>http://example.org/</link><description>test feed</description>",
        escape(title)
    );
    for it in items {
        let html: String = it.text.split("\n\n").map(|p| format!("<p>{}</p>", escape(p))).collect();
        out.push_str(&format!(
            "<item><title>{}</title><guid isPermaLink=\"false\">{}</guid><pubDate>{}</pubDate>",
            escape(&it.title),
            escape(&it.key),
            it.date
        ));
        match &it.link {
            Some(link) => out.push_str(&format!(
                "<link>{}</link><description>{}</description>",
                escape(link),
                escape(&html)
            )),
            None => out.push_str(&format!("<content:encoded>{}</content:encoded>", escape(&html))),
        }
        out.push_str("</item>");
    }
    out.push_str("</channel></rss>");
    out
}

/// The first `paras` paragraphs of Moby-Dick chapter `n`: real prose for feed items.
fn chapter_text(n: usize, paras: usize) -> String {
    let text = std::fs::read_to_string(data(&format!("docs/text/moby-dick/chapter_{n}.txt"))).unwrap();
    text.split("\n\n").map(str::trim).filter(|p| p.len() > 40).take(paras).collect::<Vec<_>>().join("\n\n")
}

fn item(n: usize, paras: usize) -> Item {
    Item {
        key: format!("moby-{n}"),
        title: format!("Chapter {n}"),
        text: chapter_text(n, paras),
        link: None,
        date: format!("Sun, {:02} Nov 2026 10:00:00 GMT", 1 + n % 28),
    }
}

fn feed_reply(xml: &str, etag: &str) -> Reply {
    Reply::ok("application/rss+xml", xml.as_bytes().to_vec()).header("ETag", etag)
}

/// The news documents of the library, by source.
fn news(lore: &Lore) -> HashMap<String, Value> {
    lore.docs()
        .into_iter()
        .filter(|d| d["kind"] == "news")
        .map(|d| (d["source"].as_str().unwrap().into(), d))
        .collect()
}

fn keyword_sources(lore: &Lore, query: &str) -> Vec<String> {
    let run = lore.run(&["search", "--json", "--mode", "keyword", query]).ok();
    run.json().as_array().unwrap().iter().map(|h| h["source"].as_str().unwrap().to_string()).collect()
}

/// Lines of stderr that report an error.
fn error_lines(run: &Run) -> Vec<String> {
    run.stderr.lines().filter(|l| l.starts_with("error")).map(str::to_string).collect()
}

#[test]
fn web_pages_are_added_found_and_cited_by_their_url() {
    let site = Site::new();
    let pages: Vec<String> = ["cnn_001", "time_001", "wired_001"].iter().map(|s| site.news_page(s)).collect();
    let lore = Lore::new();
    let mut args = vec!["add", "--json"];
    args.extend(pages.iter().map(String::as_str));
    let report = lore.run(&args).ok().json();
    assert_eq!(report["added"], 3, "{report}");

    let docs = lore.docs();
    for url in &pages {
        let d = docs.iter().find(|d| d["url"] == url.as_str()).unwrap_or_else(|| panic!("{url} not listed"));
        assert_eq!(d["kind"], "web");
        assert_eq!(d["source"], url.as_str());
        assert!(d["chunks"].as_u64().unwrap() > 0);
        assert!(d["site"].as_str().is_some_and(|s| !s.is_empty()), "site of {url}: {d}");
    }
    let cnn = docs.iter().find(|d| d["url"] == pages[0].as_str()).unwrap();
    assert!(cnn["title"].as_str().unwrap().contains("sparring match"), "title: {}", cnn["title"]);

    // Adding the same pages again changes nothing.
    let again = lore.run(&args).ok().json();
    assert_eq!((again["added"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(3)), "{again}");

    // Search finds each page by words from its text and gives its URL.
    for (query, url) in [
        ("Solicitor General Elizabeth Prelogar Alito", &pages[0]),
        ("James Hansen geoengineering warming", &pages[1]),
        ("Ahmed Azza checkpoint surveillance camera", &pages[2]),
    ] {
        let hits = lore.run(&["search", "--json", query]).ok().json();
        assert_eq!(hits[0]["url"], url.as_str(), "{query}: {hits}");
    }

    // Answers cite the page by its URL: quoted passages, then the local chat model.
    let answer =
        lore.run(&["ask", "--json", "--no-llm", "What did James Hansen warn Congress about?"]).ok().json();
    assert!(
        answer["citations"].as_array().unwrap().iter().any(|c| c["url"] == pages[1].as_str()),
        "extractive answer does not cite {}: {answer}",
        pages[1]
    );
    let out = lore
        .cmd(&["ask", "--json", "What did James Hansen warn Congress about in 1988?"])
        .env("LORE_LLM_BASE_URL", chat_server())
        .envs(CHAT_MODEL_ENV)
        .env("LORE_LLM_MAX_ANSWER_TOKENS", "120")
        .env("LORE_ASK_BUDGET_TOKENS", "700")
        .env("LORE_ASK_MAX_PASSAGES", "3")
        .output()
        .unwrap();
    let run = Run::from_output(out).ok();
    let answer = run.json();
    assert_eq!(answer["mode"], "llm", "{answer}");
    assert!(!answer["answer"].as_str().unwrap().trim().is_empty());
    assert!(
        answer["citations"].as_array().unwrap().iter().any(|c| c["url"] == pages[1].as_str()),
        "the model's answer does not cite {}: {answer}",
        pages[1]
    );

    // Only web addresses are fetched; a missing page is one line; the rest goes on.
    let run = lore.run(&["add", "ftp://example.org/file.txt", &site.url("/missing.html"), &pages[0]]);
    assert_eq!(run.code, 0, "{run:?}");
    let errors = error_lines(&run);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("ftp://example.org/file.txt") && errors[0].contains("not a web address"));
    assert!(errors[1].contains("/missing.html") && errors[1].contains("404"), "{errors:?}");
}

#[test]
fn feed_refresh_adds_new_items_updates_changed_ones_and_touches_nothing_else() {
    let site = Site::new();
    let mut items: Vec<Item> = (1..=5).map(|n| item(n, 3)).collect();
    site.set("/feed.xml", feed_reply(&rss("Moby News", &items), "\"v1\""));
    let lore = Lore::new();
    let feed = site.url("/feed.xml");

    let report = lore.run(&["feed", "add", "--json", "--tag", "moby", &feed]).ok().json();
    assert_eq!((report["added"].as_u64(), report["updated"].as_u64()), (Some(5), Some(0)), "{report}");
    let before = news(&lore);
    assert_eq!(before.len(), 5);
    for d in before.values() {
        assert_eq!(d["tags"], serde_json::json!(["moby"]));
        assert_eq!(d["site"], "Moby News");
    }

    // The feed gains two items and changes one.
    items[2].text = format!("{}\n\nA postscript about the zeppelin harbour.", items[2].text);
    items.push(item(6, 3));
    items.push(item(7, 3));
    site.set("/feed.xml", feed_reply(&rss("Moby News", &items), "\"v2\""));
    let report = lore.run(&["feed", "refresh", "--json"]).ok().json();
    let f = &report["feeds"][0];
    assert_eq!(f["status"], "ok", "{report}");
    assert_eq!(
        (f["added"].as_u64(), f["updated"].as_u64(), f["unchanged"].as_u64(), f["listed"].as_u64()),
        (Some(2), Some(1), Some(4), Some(7)),
        "{report}"
    );
    // The conditional GET carried the first fetch's tag.
    let reqs = site.requests_for("/feed.xml");
    assert_eq!(reqs.last().unwrap().header("if-none-match"), Some("\"v1\""));

    let after = news(&lore);
    assert_eq!(after.len(), 7);
    let changed_source = format!("{feed}#moby-3");
    for (source, d) in &before {
        let now = &after[source];
        if *source == changed_source {
            assert_ne!(now["hash"], d["hash"], "the changed item was not updated");
            assert_eq!(now["id"], d["id"], "an updated item keeps its id");
        } else {
            assert_eq!(
                (&now["hash"], &now["updated_at"]),
                (&d["hash"], &d["updated_at"]),
                "{source} was touched"
            );
        }
    }
    assert_eq!(keyword_sources(&lore, "zeppelin harbour").first(), Some(&changed_source));

    // Nothing changed: the server answers 304 and nothing is parsed or written.
    let report = lore.run(&["feed", "refresh", "--json"]).ok().json();
    assert_eq!(report["feeds"][0]["status"], "not-modified", "{report}");
    assert_eq!(news(&lore).len(), 7);

    let ls = lore.run(&["feed", "ls", "--json"]).ok().json();
    assert_eq!(ls[0]["items"], 7);
    assert_eq!(ls[0]["unread"], 7);
    assert_eq!(ls[0]["last_status"], "not-modified");
    assert_eq!(ls[0]["title"], "Moby News");

    // Unsubscribing removes the items.
    let run = lore.run(&["feed", "rm", "Moby"]).ok();
    assert!(run.stdout.contains("removed 7"), "{}", run.stdout);
    assert!(news(&lore).is_empty());
    assert_eq!(lore.run(&["feed", "ls", "--json"]).ok().json(), serde_json::json!([]));
}

#[test]
fn summary_only_items_bring_their_article_and_a_missing_article_keeps_the_summary() {
    let site = Site::new();
    let article = site.news_page("time_001");
    let items = vec![
        Item {
            key: "hansen".into(),
            title: "Hansen's new warning".into(),
            text: "A climate scientist says warming is faster than thought.".into(),
            link: Some(article.clone()),
            date: "Sun, 01 Nov 2026 10:00:00 GMT".into(),
        },
        Item {
            key: "gone".into(),
            title: "A vanished story about lighthouse keepers".into(),
            text: "Lighthouse keepers on remote islands describe their winters.".into(),
            link: Some(site.url("/news/gone.html")),
            date: "Sun, 02 Nov 2026 10:00:00 GMT".into(),
        },
    ];
    site.set("/teasers.xml", feed_reply(&rss("Teasers", &items), "\"t1\""));
    let lore = Lore::new();
    let run = lore.run(&["feed", "add", &site.url("/teasers.xml")]).ok();
    assert!(run.stderr.contains("/news/gone.html") && run.stderr.contains("404"), "{}", run.stderr);
    assert!(run.stdout.contains("2 new"), "{}", run.stdout);

    // Words only the article has find the item; the item keeps the feed's title and its link.
    let hits = lore.run(&["search", "--json", "--mode", "keyword", "Oxford Open Climate Change"]).ok().json();
    assert_eq!(hits[0]["url"], article.as_str(), "{hits}");
    let answer =
        lore.run(&["ask", "--json", "--no-llm", "What did James Hansen warn Congress about?"]).ok().json();
    let cited = &answer["citations"][0];
    assert_eq!(
        (&cited["url"], &cited["kind"]),
        (&Value::from(article.as_str()), &Value::from("news")),
        "{answer}"
    );
    let docs = news(&lore);
    let hansen = &docs[&article];
    assert_eq!(hansen["title"], "Hansen's new warning");
    assert!(hansen["chunks"].as_u64().unwrap() > 2, "the article, not the one-line summary: {hansen}");
    // The item whose article is gone is kept with the feed's summary.
    let gone =
        docs.values().find(|d| d["title"] == "A vanished story about lighthouse keepers").expect("kept");
    assert_eq!(gone["chunks"], 1);
}

#[test]
fn failing_feeds_each_give_one_line_and_the_others_go_on() {
    let site = Site::new();
    site.set("/ok.xml", feed_reply(&rss("Good feed", &[item(10, 2), item(11, 2)]), "\"ok\""));
    site.set("/hang.xml", Reply::hang());
    site.set("/loop.xml", Reply::redirect("/loop.xml"));
    let page = std::fs::read(data("docs/html/python3.11-faq/general.html")).unwrap();
    site.set("/page.xml", Reply::ok("application/rss+xml", page));
    site.set("/big.xml", Reply::ok("application/rss+xml", vec![b' '; 20 * 1024 * 1024]));
    site.set(
        "/endless.xml",
        Reply::ok("application/rss+xml", Vec::new())
            .with_body(Body::Chunked { chunk: vec![b'<'; 65536], count: 400 }),
    );
    site.set(
        "/broken.xml",
        Reply::ok("application/rss+xml", b"<rss version=\"2.0\"><channel><item><title>x".to_vec()),
    );
    let lore = Lore::new();
    let bad =
        ["/missing.xml", "/hang.xml", "/loop.xml", "/page.xml", "/big.xml", "/endless.xml", "/broken.xml"];
    let mut args = vec!["feed".to_string(), "add".into(), "--no-refresh".into(), site.url("/ok.xml")];
    args.extend(bad.iter().map(|p| site.url(p)));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    lore.run(&args).ok();

    let started = Instant::now();
    let run = lore
        .cmd(&["feed", "refresh"])
        .env("LORE_WEB_TIMEOUT_SECS", "3")
        .env("LORE_WEB_RETRIES", "1")
        .output()
        .map(Run::from_output)
        .unwrap();
    let took = started.elapsed();
    assert_eq!(run.code, 0, "one feed worked: {run:?}");
    let errors = error_lines(&run);
    assert_eq!(errors.len(), bad.len(), "one line per failing feed: {errors:#?}");
    for path in bad {
        let line = errors
            .iter()
            .find(|l| l.contains(&site.url(path)))
            .unwrap_or_else(|| panic!("{path}: {errors:#?}"));
        let expect = match path {
            "/missing.xml" => "404",
            "/hang.xml" => "no response within",
            "/loop.xml" => "redirect",
            "/page.xml" => "not a feed",
            "/big.xml" | "/endless.xml" => "too large",
            _ => "malformed feed",
        };
        assert!(line.contains(expect), "{path}: {line:?} lacks {expect:?}");
    }
    assert!(run.stdout.contains("Good feed: 2 new"), "{}", run.stdout);
    println!("refresh of 8 feeds, 7 failing, took {:.1}s", took.as_secs_f64());

    let ls = lore.run(&["feed", "ls", "--json"]).ok().json();
    let feeds = ls.as_array().unwrap();
    assert_eq!(feeds.iter().filter(|f| f["last_status"] == "error").count(), bad.len());
    assert!(feeds.iter().filter(|f| f["last_status"] == "error").all(|f| f["last_error"].is_string()));
    assert_eq!(news(&lore).len(), 2);
}

#[test]
fn retention_keeps_the_newest_items_and_does_not_bring_old_ones_back() {
    let site = Site::new();
    let mut items: Vec<Item> = (20..25).map(|n| item(n, 1)).collect();
    site.set("/feed.xml", feed_reply(&rss("Kept", &items), "\"a\""));
    let lore = Lore::new();
    let report = lore.run(&["feed", "add", "--json", "--keep", "3", &site.url("/feed.xml")]).ok().json();
    assert_eq!(report["feeds"][0]["expired"], 2, "{report}");
    let titles = |lore: &Lore| {
        let mut t: Vec<String> =
            news(lore).values().map(|d| d["title"].as_str().unwrap().to_string()).collect();
        t.sort();
        t
    };
    // Dates grow with the chapter number, so the newest three are 22, 23 and 24.
    assert_eq!(titles(&lore), ["Chapter 22", "Chapter 23", "Chapter 24"]);
    items.push(item(25, 1));
    site.set("/feed.xml", feed_reply(&rss("Kept", &items), "\"b\""));
    let report = lore.run(&["feed", "refresh", "--json"]).ok().json();
    assert_eq!((report["added"].as_u64(), report["feeds"][0]["expired"].as_u64()), (Some(1), Some(1)));
    assert_eq!(titles(&lore), ["Chapter 23", "Chapter 24", "Chapter 25"]);
}

/// Refresh time for 20 feeds of `LORE_FEED_ITEMS` items each (10 by default, which keeps CI
/// quick; the README's figure is for 50), served locally: the first refresh (every item new), one
/// where every feed answers in full with nothing new, and one of 304s. Figures are printed, not
/// asserted; the counts are.
#[test]
fn twenty_feeds_of_fifty_items() {
    let per_feed: usize = std::env::var("LORE_FEED_ITEMS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let site = Site::new();
    let chapters: Vec<String> = (1..=50).map(|n| chapter_text(n, 1)).collect();
    let mut urls = Vec::new();
    for f in 0..20 {
        let items: Vec<Item> = (0..per_feed)
            .map(|i| Item {
                key: format!("f{f}-i{i}"),
                title: format!("Feed {f} item {i}"),
                text: chapters[(f + i) % 50].clone(),
                link: None,
                date: format!("Sun, {:02} Nov 2026 {:02}:00:00 GMT", 1 + i % 28, f),
            })
            .collect();
        let xml = rss(&format!("Feed {f}"), &items);
        site.set(
            &format!("/f{f}.xml"),
            Reply::ok("application/rss+xml", xml.into_bytes())
                .header("Last-Modified", "Sun, 01 Nov 2026 00:00:00 GMT"),
        );
        urls.push(site.url(&format!("/f{f}.xml")));
    }
    let lore = Lore::new();
    let mut args = vec!["feed", "add", "--no-refresh"];
    args.extend(urls.iter().map(String::as_str));
    lore.run(&args).ok();

    let timed = |what: &str| {
        let t = Instant::now();
        let report = lore.run(&["feed", "refresh", "--json"]).ok().json();
        println!("{what}: {:.2}s", t.elapsed().as_secs_f64());
        report
    };
    let first = timed(&format!("first refresh, 20 feeds x {per_feed} items, all new"));
    assert_eq!(
        (first["added"].as_u64(), first["failed_feeds"].as_u64()),
        (Some(20 * per_feed as u64), Some(0))
    );
    // The server ignores If-Modified-Since here: every feed comes back in full, nothing is new.
    let full = timed("refresh, every feed sent in full, nothing new");
    assert_eq!(full["added"], 0);
    assert!(
        full["feeds"].as_array().unwrap().iter().all(|f| f["unchanged"] == per_feed && f["status"] == "ok")
    );
    // Now with ETags: one refresh to learn them, then 304s.
    for (f, url) in urls.iter().enumerate() {
        let path = url.rsplit_once('/').map(|(_, p)| format!("/{p}")).unwrap();
        let reply = site.routes.lock().unwrap()[&path].clone().header("ETag", &format!("\"f{f}\""));
        site.set(&path, reply);
    }
    timed("refresh that learns the ETags");
    let cached = timed("refresh, every feed 304 Not Modified");
    assert!(cached["feeds"].as_array().unwrap().iter().all(|f| f["status"] == "not-modified"), "{cached}");
    assert_eq!(news(&lore).len(), 20 * per_feed);
}
