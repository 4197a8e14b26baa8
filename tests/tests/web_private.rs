//! Server-side request forgery through feeds, through the real `lore` binary: a feed served on
//! 127.0.0.1 whose items link to a second local server (standing for a service on the user's
//! machine), to cloud metadata and to private networks; none of those links is fetched unless
//! `web.allow_private`, while what the user types stays allowed. Also the cap on article pages
//! fetched at once in one refresh, whatever their hosts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../ingest/tests/common/server.rs"]
#[allow(dead_code)]
mod server;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lore_tests::{Lore, Run};
use serde_json::Value;
use server::{Reply, Request, TestServer};

/// Local servers: `site` serves the feeds and articles the user subscribes to (routes set with
/// [`Servers::set`]), `target` stands for a private service and counts the requests that reach
/// it.
struct Servers {
    site: TestServer,
    target: TestServer,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    rt: tokio::runtime::Runtime,
}

const ARTICLE: &str = "<html><head><title>Harbour article</title></head><body><article>\
    <p>The harbour master counted forty-one whaling ships returning before the winter storms.</p>\
    <p>Each ship carried barrels of oil, bone and the stories of a long voyage at sea.</p>\
    </article></body></html>";

impl Servers {
    fn start() -> Servers {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let target = rt.block_on(TestServer::start(|_| Reply::ok("text/html", ARTICLE)));
        let routes: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
        let r = routes.clone();
        let site = rt.block_on(TestServer::start(move |req: &Request| {
            r.lock().unwrap().get(req.path.as_str()).cloned().unwrap_or_else(|| Reply::status(404))
        }));
        Servers { site, target, routes, rt }
    }

    fn set(&self, path: &str, reply: Reply) {
        self.routes.lock().unwrap().insert(path.to_string(), reply);
    }
}

/// An RSS feed whose items each carry a one-line summary and a link to their article, so that
/// a refresh fetches the article.
fn rss(links: &[String]) -> Reply {
    let items: String = links
        .iter()
        .enumerate()
        .map(|(i, link)| {
            format!(
                "<item><title>Story {i}</title><guid isPermaLink=\"false\">story-{i}</guid>\
                 <link>{link}</link><description>A short summary of story {i}.</description></item>"
            )
        })
        .collect();
    let xml = format!("<rss version=\"2.0\"><channel><title>Harbour news</title>{items}</channel></rss>");
    Reply::ok("application/rss+xml", xml)
}

fn warnings(report: &Value) -> Vec<String> {
    report["feeds"][0]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn feed_links_to_private_addresses_are_not_fetched_unless_allowed() {
    let servers = Servers::start();
    let (site, target) = (&servers.site, &servers.target);
    let port = target.addr().port();
    let hostile = [
        target.url("/by-ip"),
        target.url_as_localhost("/by-name"),
        format!("http://[::1]:{port}/by-ipv6"),
        format!("http://[::ffff:127.0.0.1]:{port}/by-mapped"),
        "http://169.254.169.254/latest/meta-data/iam".to_string(),
        "http://10.0.0.1/admin".to_string(),
        // The feed's own host and port, named by the user as an IP address: fetched as usual.
        site.url("/article.html"),
    ];
    servers.set("/hostile.xml", rss(&hostile));
    servers.set("/reachable.xml", rss(&[target.url("/by-ip"), target.url_as_localhost("/by-name")]));
    servers.set("/article.html", Reply::ok("text/html", ARTICLE));
    servers.set("/redirect", Reply::redirect(&target.url("/by-redirect")));
    let lore = Lore::new();
    let report = lore.run(&["feed", "add", "--json", &site.url("/hostile.xml")]).ok().json();
    let feed = &report["feeds"][0];
    assert_eq!(feed["status"], "ok", "{report}");
    assert_eq!(feed["added"], 7, "every item is kept, with the feed's summary: {report}");
    assert_eq!(site.requests_for("/article.html").len(), 1);
    let warned = warnings(&report);
    assert_eq!(warned.len(), 6, "{warned:#?}");
    for w in &warned {
        assert!(w.contains(": refused it: ") && w.contains("set web.allow_private = true"), "{w}");
        assert!(w.ends_with("(kept the feed's summary)"), "{w}");
    }
    let mut refused: Vec<&str> = warned.iter().map(|w| w.split(": refused").next().unwrap()).collect();
    refused.sort();
    // Named as the feed's links are stored: `[::ffff:127.0.0.1]` is `[::ffff:7f00:1]`.
    let mut expected: Vec<String> =
        hostile[..6].iter().map(|l| lore_ingest::web::normalise_url(l).unwrap()).collect();
    expected.sort();
    assert_eq!(refused, expected);
    assert!(
        warned.iter().any(|w| w.contains("169.254.169.254 is a link-local address, chosen by a link")),
        "{warned:#?}"
    );
    assert!(target.requests().is_empty(), "a private service was reached: {:?}", target.requests());

    // What the user types is allowed: a localhost name and an IP address.
    let typed = site.url_as_localhost("/article.html");
    let added = lore.run(&["add", "--json", &typed]).ok().json();
    assert_eq!(added["added"], 1, "{added}");
    // A redirect from there to another host is the server's choice, not the user's.
    let redirect = site.url("/redirect");
    let run = lore.run(&["add", &redirect]);
    let line = run.stderr.lines().find(|l| l.starts_with("error")).unwrap_or_default().to_string();
    assert_eq!(
        line,
        format!(
            "error: {redirect}: refused the redirect to {}: 127.0.0.1 is a loopback address, chosen by \
             the server, not by you (set web.allow_private = true to allow it)",
            target.url("/by-redirect")
        ),
        "{run:?}"
    );
    assert!(target.requests().is_empty(), "{:?}", target.requests());

    // `web.allow_private = true` lets a feed reach private addresses.
    let lore = Lore::new();
    let out = lore
        .cmd(&["feed", "add", "--json", &site.url("/reachable.xml")])
        .env("LORE_WEB_ALLOW_PRIVATE", "true")
        .output()
        .unwrap();
    let report = Run::from_output(out).ok().json();
    assert!(warnings(&report).is_empty(), "{report}");
    assert_eq!(report["feeds"][0]["added"], 2, "{report}");
    let out = lore.cmd(&["add", &redirect]).env("LORE_WEB_ALLOW_PRIVATE", "true").output().unwrap();
    Run::from_output(out).ok();
    let mut reached: Vec<String> = target.requests().into_iter().map(|r| r.path).collect();
    reached.sort();
    assert_eq!(reached, ["/by-ip", "/by-name", "/by-redirect"]);
}

#[test]
fn article_fetches_in_a_refresh_are_capped_whatever_their_hosts() {
    // Twelve items whose articles are on two host names of one slow server, four requests per
    // host allowed: without a cap on the refresh, eight would be in flight at once.
    let max_in_flight = |extra: &[(&str, &str)]| {
        let servers = Servers::start();
        let pages = servers.rt.block_on(TestServer::start(|_| {
            Reply::ok("text/html", ARTICLE).delay(Duration::from_millis(400))
        }));
        let links: Vec<String> = (0..12)
            .map(|i| {
                let path = format!("/article-{i}.html");
                if i % 2 == 0 { pages.url(&path) } else { pages.url_as_localhost(&path) }
            })
            .collect();
        servers.set("/feed.xml", rss(&links));
        let lore = Lore::new();
        let out = lore
            .cmd(&["feed", "add", "--json", &servers.site.url("/feed.xml")])
            .env("LORE_WEB_ALLOW_PRIVATE", "true")
            .env("LORE_WEB_PER_HOST", "4")
            .envs(extra.iter().copied())
            .output()
            .unwrap();
        let report = Run::from_output(out).ok().json();
        assert!(warnings(&report).is_empty(), "{report}");
        assert_eq!(pages.requests().len(), 12);
        pages.max_in_flight_total()
    };
    let capped = max_in_flight(&[("LORE_WEB_ITEM_FETCHES", "3")]);
    let default = max_in_flight(&[]);
    println!("article pages in flight at once: {capped} with web.item_fetches = 3, {default} by default (4)");
    assert_eq!(capped, 3);
    assert_eq!(default, 4);
}
