//! Server-side request forgery through feeds, against local HTTP servers: links and redirects a
//! document or a server chose are refused at loopback, private, link-local and unspecified
//! addresses (no request reaches them), the user's own addresses stay allowed,
//! `allow_private` lets everything through, and a gzip bomb is cut at the size cap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::server::{Body, Reply, TestServer};
use lore_ingest::web::{FetchOptions, Fetched, Fetcher, fetch_linked_page};

fn opts() -> FetchOptions {
    FetchOptions { backoff: Duration::from_millis(50), ..Default::default() }
}

fn fetcher(opts: FetchOptions) -> Fetcher {
    Fetcher::new(opts).unwrap()
}

/// A server standing for a service on the user's machine that no feed may reach: it counts
/// the requests it gets.
async fn private_target() -> TestServer {
    TestServer::start(|_| Reply::ok("text/html", "<html><body><p>secret</p></body></html>")).await
}

/// The site of a feed the user subscribed to: a feed, an article and redirects to `target`.
async fn feed_site(target: &TestServer) -> TestServer {
    let (to_ip, to_name) = (target.url("/secret"), target.url_as_localhost("/secret"));
    TestServer::start(move |req| match req.path.as_str() {
        "/feed.xml" => Reply::ok("application/rss+xml", "<rss version=\"2.0\"><channel/></rss>"),
        "/article.html" => Reply::ok("text/html", "<html><body><p>An article.</p></body></html>"),
        "/old" => Reply::redirect("/article.html"),
        "/to-ip" => Reply::redirect(&to_ip),
        "/to-name" => Reply::redirect(&to_name),
        "/to-metadata" => Reply::redirect("http://169.254.169.254/latest/meta-data/"),
        _ => Reply::status(404),
    })
    .await
}

#[tokio::test]
async fn feed_item_links_to_private_addresses_are_refused_before_any_request() {
    let target = private_target().await;
    let site = feed_site(&target).await;
    let feed = site.url("/feed.xml");
    let port = target.addr().port();
    let f = fetcher(opts());
    let started = Instant::now();
    for (link, address, kind) in [
        (target.url("/secret"), "127.0.0.1", "loopback"),
        (format!("http://[::1]:{port}/secret"), "::1", "loopback"),
        (format!("http://[::ffff:127.0.0.1]:{port}/secret"), "::ffff:127.0.0.1", "loopback"),
        (format!("http://0.0.0.0:{port}/secret"), "0.0.0.0", "unspecified"),
        ("http://10.0.0.1/admin".into(), "10.0.0.1", "private"),
        ("http://192.168.1.1/".into(), "192.168.1.1", "private"),
        ("http://[fd00::1]/".into(), "fd00::1", "private"),
        ("http://100.64.0.1/".into(), "100.64.0.1", "shared (carrier-grade NAT)"),
        ("http://169.254.169.254/latest/meta-data/".into(), "169.254.169.254", "link-local"),
        ("http://[fe80::1]/".into(), "fe80::1", "link-local"),
        // A decimal IPv4 address is the same address.
        (format!("http://2130706433:{port}/secret"), "127.0.0.1", "loopback"),
    ] {
        let err = f.get_linked(&link, None, &feed).await.unwrap_err();
        assert_eq!(err.reason_code(), "private_address", "{link}: {err}");
        assert_eq!(
            err.to_string(),
            format!(
                "{link}: refused it: {address} is a {kind} address, chosen by a link, not by you \
                 (set web.allow_private = true to allow it)"
            )
        );
    }
    // A host name is resolved and judged on its addresses: localhost is loopback.
    let link = target.url_as_localhost("/secret");
    let err = f.get_linked(&link, None, &feed).await.unwrap_err();
    assert_eq!(err.reason_code(), "private_address", "{err}");
    let line = err.to_string();
    assert!(line.starts_with(&format!("{link}: refused it: ")), "{line}");
    assert!(line.contains("a loopback address") && line.contains("web.allow_private"), "{line}");
    // Nothing was sent anywhere, and nothing waited on an unroutable address.
    assert!(target.requests().is_empty(), "{:?}", target.requests());
    assert!(site.requests().is_empty(), "{:?}", site.requests());
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());

    // The page loader refuses the same way (what a feed refresh calls for an article).
    let load = lore_ingest::LoadOptions::default();
    let err = fetch_linked_page(&f, &target.url("/secret"), &feed, &load).await.unwrap_err();
    assert_eq!(err.reason_code(), "private_address");
    assert!(target.requests().is_empty());
}

#[tokio::test]
async fn links_to_the_feeds_own_address_are_fetched() {
    let target = private_target().await;
    let site = feed_site(&target).await;
    let f = fetcher(opts());
    // The user named this host by its IP address or as localhost: a link to the same host and
    // port goes where the user's own URL went.
    for (feed, link) in [
        (site.url("/feed.xml"), site.url("/article.html")),
        (site.url_as_localhost("/feed.xml"), site.url_as_localhost("/article.html")),
        (site.url("/feed.xml"), site.url("/old")),
    ] {
        let got = f.get_linked(&link, None, &feed).await.unwrap();
        assert!(matches!(got, Fetched::Body(ref r) if r.bytes.starts_with(b"<html>")), "{link}: {got:?}");
    }
    // The same server under another name, or another port of the same address, is another host.
    let err = f.get_linked(&site.url_as_localhost("/article.html"), None, &site.url("/feed.xml")).await;
    assert_eq!(err.unwrap_err().reason_code(), "private_address");
    assert!(target.requests().is_empty());
}

#[tokio::test]
async fn redirects_to_private_addresses_are_refused() {
    let target = private_target().await;
    let site = feed_site(&target).await;
    let f = fetcher(opts());
    let secret_ip = target.url("/secret");
    // A URL the user gave may be on a private address, and so may a redirect to the same host;
    // a redirect to another host was the server's choice, judged as if the first host were
    // public (the rule looks only at the hop's own address): refused.
    for (path, to, address, kind) in [
        ("/to-ip", secret_ip.clone(), "127.0.0.1".to_string(), "loopback"),
        (
            "/to-metadata",
            "http://169.254.169.254/latest/meta-data/".into(),
            "169.254.169.254".into(),
            "link-local",
        ),
    ] {
        let url = site.url(path);
        let err = f.get(&url, None).await.unwrap_err();
        assert_eq!(err.reason_code(), "private_address", "{err}");
        assert_eq!(
            err.to_string(),
            format!(
                "{url}: refused the redirect to {to}: {address} is a {kind} address, chosen by the \
                 server, not by you (set web.allow_private = true to allow it)"
            )
        );
        // A link to the feed's own host that redirects elsewhere: the same.
        let err = f.get_linked(&url, None, &site.url("/feed.xml")).await.unwrap_err();
        assert_eq!(err.reason_code(), "private_address", "{err}");
    }
    // A redirect to a host name is resolved and judged on its addresses.
    let url = site.url("/to-name");
    let err = f.get(&url, None).await.unwrap_err();
    let line = err.to_string();
    assert!(
        line.starts_with(&format!("{url}: refused the redirect to {}: ", target.url_as_localhost("/secret"))),
        "{line}"
    );
    assert!(target.requests().is_empty(), "{:?}", target.requests());
    // Redirects within the user's host are followed.
    let got = f.get(&site.url("/old"), None).await.unwrap();
    assert!(matches!(got, Fetched::Body(ref r) if r.final_url == site.url("/article.html")), "{got:?}");
}

#[tokio::test]
async fn allow_private_lets_links_and_redirects_through() {
    let target = private_target().await;
    let site = feed_site(&target).await;
    let feed = site.url("/feed.xml");
    let f = fetcher(FetchOptions { allow_private: true, ..opts() });
    for link in [target.url("/secret"), target.url_as_localhost("/secret"), site.url("/to-ip")] {
        let got = f.get_linked(&link, None, &feed).await.unwrap();
        assert!(matches!(got, Fetched::Body(ref r) if r.final_url.ends_with("/secret")), "{link}: {got:?}");
    }
    f.get(&site.url("/to-name"), None).await.unwrap();
    assert_eq!(target.requests_for("/secret").len(), 4);
}

/// A gzip body of about 10 MB that inflates to 10 GiB of zeros: one deflate block of 8 MiB of
/// zeros (about 8 KB compressed), repeated, between a gzip header and a trailer whose CRC and
/// size are those of the whole. Returns (header, block, count, trailer).
fn gzip_bomb() -> (Vec<u8>, Vec<u8>, usize, Vec<u8>) {
    use flate2::{Compress, Compression, Crc, FlushCompress};
    const BLOCK: usize = 8 << 20;
    const COUNT: usize = 1280; // 10 GiB
    let zeros = vec![0u8; BLOCK];
    let mut deflate = Compress::new(Compression::best(), false);
    let mut block = Vec::with_capacity(BLOCK / 500);
    deflate.compress_vec(&zeros, &mut block, FlushCompress::Sync).unwrap();
    assert_eq!(deflate.total_in(), BLOCK as u64, "the whole block went in");
    let mut last = Vec::with_capacity(64);
    deflate.compress_vec(&[], &mut last, FlushCompress::Finish).unwrap();
    let mut one = Crc::new();
    one.update(&zeros);
    let mut crc = Crc::new();
    for _ in 0..COUNT {
        crc.combine(&one);
    }
    let head = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut tail = last;
    tail.extend_from_slice(&crc.sum().to_le_bytes());
    tail.extend_from_slice(&((BLOCK * COUNT) as u32).to_le_bytes());
    (head, block, COUNT, tail)
}

#[tokio::test]
async fn a_gzip_bomb_is_cut_at_the_size_cap() {
    let (head, chunk, count, tail) = gzip_bomb();
    let compressed = head.len() + chunk.len() * count + tail.len();
    let inflated = (8u64 << 20) * count as u64;
    println!(
        "gzip bomb: {:.1} MB compressed, {} GiB inflated (ratio {}:1)",
        compressed as f64 / 1e6,
        inflated >> 30,
        inflated / compressed as u64
    );
    assert!(compressed < 12_000_000 && inflated >= 10 << 30);
    let body = Body::Repeated { head, chunk, count, tail };
    let server = TestServer::start(move |_| {
        Reply::status(200)
            .header("Content-Type", "text/html")
            .header("Content-Encoding", "gzip")
            .with_body(body.clone())
    })
    .await;
    let url = server.url("/bomb.html");
    let started = Instant::now();
    let err = fetcher(opts()).get(&url, None).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.to_string(), format!("{url}: too large (over the 10 MB limit)"));
    println!(
        "cut after {:.2} s; the server sent {} KB before the client hung up",
        took.as_secs_f64(),
        server.bytes_sent() / 1000
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
    // The client stopped once 10 MB had come out of the decompressor: about 10 KB of the
    // compressed body, plus what the sockets buffered.
    assert!(server.bytes_sent() < compressed as u64 / 2, "sent {}", server.bytes_sent());
    assert_eq!(server.requests().len(), 1, "not retried");
}
