//! The fetcher against a local HTTP server: compression, conditional GETs, status errors,
//! retries, `Retry-After`, timeouts (silent and trickling servers), redirects, size caps,
//! refused addresses and per-host politeness.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::server::{Body, Reply, TestServer};
use lore_ingest::web::{FetchOptions, Fetched, Fetcher, Response, Validators};

/// Options for tests: short waits between attempts.
fn opts() -> FetchOptions {
    FetchOptions { backoff: Duration::from_millis(50), ..Default::default() }
}

fn fetcher(opts: FetchOptions) -> Fetcher {
    Fetcher::new(opts).unwrap()
}

fn body(f: Fetched) -> Response {
    match f {
        Fetched::Body(r) => r,
        other => panic!("expected a body, got {other:?}"),
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[tokio::test]
async fn gzip_body_is_decompressed_and_headers_are_sent() {
    let page = "<html><body><p>Hello from a compressed page.</p></body></html>".repeat(50);
    let compressed = gzip(page.as_bytes());
    assert!(compressed.len() < page.len());
    let server = TestServer::start(move |_| {
        Reply::ok("text/html; charset=utf-8", compressed.clone()).header("Content-Encoding", "gzip")
    })
    .await;
    let url = server.url("/page.html");
    let resp = body(fetcher(opts()).get(&url, None).await.unwrap());
    assert_eq!(resp.bytes, page.as_bytes());
    assert_eq!(resp.status, 200);
    assert_eq!(resp.final_url, url);
    assert_eq!(resp.content_type.as_deref(), Some("text/html; charset=utf-8"));
    let req = &server.requests()[0];
    assert!(req.header("accept-encoding").is_some_and(|e| e.contains("gzip") && e.contains("br")), "{req:?}");
    assert!(req.header("user-agent").is_some_and(|ua| ua.starts_with("lore/")), "{req:?}");
}

#[tokio::test]
async fn conditional_get_gives_not_modified_without_a_body() {
    let server = TestServer::start(|req| {
        if req.header("if-none-match") == Some("\"v1\"") {
            Reply::status(304)
        } else {
            Reply::ok("application/rss+xml", "<rss version=\"2.0\"><channel/></rss>")
                .header("ETag", "\"v1\"")
                .header("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT")
        }
    })
    .await;
    let url = server.url("/feed.xml");
    let f = fetcher(opts());
    let first = body(f.get(&url, None).await.unwrap());
    assert_eq!(first.etag.as_deref(), Some("\"v1\""));
    assert_eq!(first.last_modified.as_deref(), Some("Wed, 21 Oct 2015 07:28:00 GMT"));
    let validators = first.validators();
    assert_eq!(
        validators,
        Validators {
            etag: Some("\"v1\"".into()),
            last_modified: Some("Wed, 21 Oct 2015 07:28:00 GMT".into())
        }
    );
    let second = f.get(&url, Some(&validators)).await.unwrap();
    assert_eq!(second, Fetched::NotModified { final_url: url.clone() });
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].header("if-none-match"), None);
    assert_eq!(reqs[1].header("if-none-match"), Some("\"v1\""));
    assert_eq!(reqs[1].header("if-modified-since"), Some("Wed, 21 Oct 2015 07:28:00 GMT"));
}

#[tokio::test]
async fn not_found_is_one_line_naming_the_url_and_not_retried() {
    let server = TestServer::start(|_| Reply::status(404)).await;
    let url = server.url("/feed.xml");
    let err = fetcher(opts()).get(&url, None).await.unwrap_err();
    assert_eq!(err.to_string(), format!("{url}: HTTP 404 Not Found"));
    assert_eq!(err.reason_code(), "http_status");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_until_success() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let server = TestServer::start(move |_| {
        if c.fetch_add(1, Ordering::SeqCst) < 2 {
            Reply::status(500)
        } else {
            Reply::ok("text/plain", "fine")
        }
    })
    .await;
    let resp = body(fetcher(opts()).get(&server.url("/flaky"), None).await.unwrap());
    assert_eq!(resp.bytes, b"fine");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn retries_stop_after_the_last_attempt() {
    let server = TestServer::start(|_| Reply::status(503)).await;
    let url = server.url("/down");
    let err = fetcher(FetchOptions { retries: 3, ..opts() }).get(&url, None).await.unwrap_err();
    assert_eq!(err.to_string(), format!("{url}: HTTP 503 Service Unavailable"));
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn too_many_requests_waits_for_retry_after() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let server = TestServer::start(move |_| {
        if c.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::status(429).header("Retry-After", "1")
        } else {
            Reply::ok("text/plain", "now")
        }
    })
    .await;
    let resp = body(fetcher(opts()).get(&server.url("/busy"), None).await.unwrap());
    assert_eq!(resp.bytes, b"now");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    // The client waited the second the server asked for (a lower bound, not a speed claim).
    let gap = reqs[1].at.duration_since(reqs[0].at);
    assert!(gap >= Duration::from_millis(950), "retried after {gap:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = TestServer::start(|_| Reply::hang()).await;
    let url = server.url("/silent");
    let f = fetcher(FetchOptions { timeout: Duration::from_secs(1), retries: 2, ..opts() });
    let err = f.get(&url, None).await.unwrap_err();
    assert_eq!(err.to_string(), format!("{url}: no response within 1 s"));
    assert_eq!(err.reason_code(), "timeout");
    // Timeouts are retried like other transient failures.
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_server_that_trickles_bytes_times_out() {
    let server = TestServer::start(|_| {
        Reply::status(200)
            .header("Content-Type", "text/html")
            .with_body(Body::Trickle { len: 10_000, every: Duration::from_millis(50) })
    })
    .await;
    let url = server.url("/slow");
    let f = fetcher(FetchOptions { timeout: Duration::from_secs(1), retries: 1, ..opts() });
    let err = f.get(&url, None).await.unwrap_err();
    assert_eq!(err.to_string(), format!("{url}: no response within 1 s"));
    assert!(server.bytes_sent() < 10_000);
}

#[tokio::test]
async fn redirects_are_followed_and_loops_refused() {
    let server = TestServer::start(|req| match req.path.as_str() {
        "/old" => Reply::redirect("/new"),
        "/new" => Reply::ok("text/plain", "moved here"),
        "/a" => Reply::redirect("/b"),
        "/b" => Reply::redirect("/a"),
        "/file" => Reply::redirect("file:///etc/passwd"),
        p if p.starts_with("/r/") => {
            let n: u32 = p[3..].parse().unwrap_or(0);
            Reply::redirect(&format!("/r/{}", n + 1))
        }
        _ => Reply::status(404),
    })
    .await;
    let f = fetcher(opts());
    let resp = body(f.get(&server.url("/old"), None).await.unwrap());
    assert_eq!(resp.final_url, server.url("/new"));
    assert_eq!(resp.bytes, b"moved here");

    let url = server.url("/a");
    let err = f.get(&url, None).await.unwrap_err();
    assert_eq!(err.to_string(), format!("{url}: redirect loop at {}", server.url("/a")));
    assert_eq!(err.reason_code(), "redirect");

    let url = server.url("/r/0");
    let err = f.get(&url, None).await.unwrap_err();
    assert_eq!(err.to_string(), format!("{url}: too many redirects (more than 10)"));
    assert_eq!(server.requests_for("/r/10").len(), 1);
    assert!(server.requests_for("/r/11").is_empty());

    let err = f.get(&server.url("/file"), None).await.unwrap_err();
    assert_eq!(err.reason_code(), "redirect");
    assert!(err.to_string().contains("not a web address"), "{err}");
}

#[tokio::test]
async fn a_20_mb_response_is_refused_without_reading_it() {
    let big = vec![b'a'; 20 * 1024 * 1024];
    let server = TestServer::start(move |req| match req.path.as_str() {
        "/declared" => Reply::ok("text/html", big.clone()),
        // 100 MiB in 64 KiB chunks, no Content-Length.
        _ => Reply::status(200)
            .header("Content-Type", "text/html")
            .with_body(Body::Chunked { chunk: vec![b'b'; 64 * 1024], count: 1600 }),
    })
    .await;
    let f = fetcher(opts());
    let url = server.url("/declared");
    let err = f.get(&url, None).await.unwrap_err();
    assert_eq!(err.to_string(), format!("{url}: too large (20.0 MB, the limit is 10 MB)"));
    assert_eq!(err.reason_code(), "too_large");
    println!("declared 20 MiB: the server sent {} bytes before the client hung up", server.bytes_sent());
    assert!(server.bytes_sent() < 20 * 1024 * 1024, "sent {}", server.bytes_sent());

    let url = server.url("/chunked");
    let sent_before = server.bytes_sent();
    let err = f.get(&url, None).await.unwrap_err();
    assert_eq!(err.to_string(), format!("{url}: too large (over the 10 MB limit)"));
    let sent = server.bytes_sent() - sent_before;
    println!("chunked 100 MiB: the server sent {sent} bytes before the client hung up");
    assert!(sent < 100 * 1024 * 1024, "sent {sent}");
    // Not retried: the same answer would come again.
    assert_eq!(server.requests_for("/chunked").len(), 1);
}

#[tokio::test]
async fn books_get_the_book_limit() {
    let server = TestServer::start(|req| {
        let ct = if req.path.ends_with(".pdf") { "application/pdf" } else { "text/html" };
        Reply::ok(ct, vec![b'x'; 5000])
    })
    .await;
    let f = fetcher(FetchOptions { max_bytes: 1000, max_book_bytes: 1024 * 1024, ..opts() });
    let resp = body(f.get(&server.url("/book.pdf"), None).await.unwrap());
    assert_eq!(resp.bytes.len(), 5000);
    let err = f.get(&server.url("/page.html"), None).await.unwrap_err();
    assert_eq!(err.reason_code(), "too_large");
}

#[tokio::test]
async fn non_web_addresses_are_refused() {
    let f = fetcher(opts());
    for bad in ["file:///etc/passwd", "ftp://example.org/x", "example.org", "notes.txt"] {
        let err = f.get(bad, None).await.unwrap_err();
        assert_eq!(err.to_string(), format!("not a web address: {bad} (lore adds http and https URLs)"));
    }
}

#[tokio::test]
async fn a_refused_connection_is_named() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}/feed.xml");
    let err = fetcher(FetchOptions { retries: 2, ..opts() }).get(&url, None).await.unwrap_err();
    assert_eq!(err.to_string(), format!("{url}: cannot connect (connection refused)"));
    assert_eq!(err.reason_code(), "network");
}

#[tokio::test]
async fn a_connection_closed_without_an_answer_is_retried_then_named() {
    let server = TestServer::start(|_| Reply::close()).await;
    let url = server.url("/feed.xml");
    let err = fetcher(FetchOptions { retries: 2, ..opts() }).get(&url, None).await.unwrap_err();
    assert_eq!(err.reason_code(), "network");
    let line = err.to_string();
    assert!(line.starts_with(&format!("{url}: the connection broke off (")), "{line}");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_two_requests_per_host_at_once() {
    let server =
        TestServer::start(|_| Reply::ok("text/plain", "slow").delay(Duration::from_millis(300))).await;
    let f = fetcher(opts());
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..6 {
        for url in [server.url(&format!("/p{i}")), server.url_as_localhost(&format!("/p{i}"))] {
            let f = f.clone();
            tasks.spawn(async move { f.get(&url, None).await.map(|r| matches!(r, Fetched::Body(_))) });
        }
    }
    let mut ok = 0;
    while let Some(r) = tasks.join_next().await {
        assert!(r.unwrap().unwrap());
        ok += 1;
    }
    assert_eq!(ok, 12);
    let port = server.addr().port();
    // Each host name is its own host: two at once for each, never more.
    assert_eq!(server.max_in_flight(&format!("127.0.0.1:{port}")), 2);
    assert_eq!(server.max_in_flight(&format!("localhost:{port}")), 2);
}
