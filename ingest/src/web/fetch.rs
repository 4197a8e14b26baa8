//! Fetching over HTTP(S): a few concurrent requests per host, retries with backoff, conditional
//! GETs, a size cap checked on the decompressed body while it streams in, and a total time limit
//! per attempt that also covers a server that trickles its bytes.
//!
//! Addresses a document or a server chose (a feed item's link, a redirect to another host) are
//! refused when they are loopback, private, link-local or unspecified ([`super::address`]),
//! unless [`FetchOptions::allow_private`]. Redirects are followed here, hop by hop, so each hop
//! is judged: a hop to a host the user named goes through the open client; any other through
//! the guarded client, whose resolver hands reqwest only the addresses that passed (the
//! connection goes to the address checked, not to a second lookup), and an IP address in the
//! URL itself is checked before anything is sent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::header::{self, HeaderMap};
use tokio::sync::Semaphore;
use url::{Host, Url};

use super::address::{Refusal, Resolver, restricted};

use super::mime::{is_generic_mime, mime_of};
use super::url::parse_web_url;
use crate::error::{IngestError, Result};
use crate::load::LoadOptions;
use crate::retry::{RetryPolicy, parse_retry_after};

const MIB: u64 = 1024 * 1024;

/// The fetcher's retries: up to 3 attempts in all, waits from 500 ms doubling up to 30 s, a
/// `Retry-After` honoured up to 30 s, and the statuses 408, 429 and 5xx retried.
/// [`FetchOptions::retries`] and [`FetchOptions::backoff`] override the first two.
pub const FETCH_RETRY: RetryPolicy = RetryPolicy {
    max_retries: 2,
    base_delay: Duration::from_millis(500),
    max_delay: Duration::from_secs(30),
    max_retry_after: Duration::from_secs(30),
    retry_statuses: &[408..=408, 429..=429, 500..=599],
};

/// What the fetcher sends as `Accept`: pages, feeds and documents, HTML first.
const ACCEPT: &str = "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,\
application/feed+json,application/xml;q=0.9,application/pdf,application/epub+zip,*/*;q=0.8";

/// Limits and manners of the [`Fetcher`].
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Time limit for one attempt, from sending the request to the last byte of the body.
    pub timeout: Duration,
    /// Time limit for opening the connection (DNS, TCP and TLS).
    pub connect_timeout: Duration,
    /// Largest body accepted for pages, feeds and anything that is not a book, in bytes.
    pub max_bytes: u64,
    /// Largest body accepted for PDFs and EPUBs, in bytes (from [`LoadOptions::max_book_mb`]).
    pub max_book_bytes: u64,
    /// Most redirects followed for one request.
    pub max_redirects: usize,
    /// Most requests in flight to one host (host and port) at a time. The host is the one of
    /// the URL asked for; a redirect to another host is made under the same permit.
    pub per_host: usize,
    /// Attempts in all for one request (1 = no retry). Connection errors, timeouts and the
    /// statuses 408, 429 and 5xx are retried.
    pub retries: u32,
    /// The first wait between attempts; it doubles each time up to 30 s, and a random part of
    /// up to half of it is taken off ([`FETCH_RETRY`]). A `Retry-After` header replaces it
    /// (also capped at 30 s).
    pub backoff: Duration,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// Whether links and redirects that a document or a server chose may lead to loopback,
    /// private, link-local and unspecified addresses (`web.allow_private`). Addresses the user
    /// gave ([`Fetcher::get`]) are allowed either way.
    pub allow_private: bool,
    /// Most article pages fetched at once in one feed refresh, across its feeds and hosts
    /// (`web.item_fetches`); read by the library's feed refresh.
    pub item_fetches: usize,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_bytes: 10 * MIB,
            max_book_bytes: LoadOptions::default().max_book_mb * MIB,
            max_redirects: 10,
            per_host: 2,
            retries: FETCH_RETRY.max_retries + 1,
            backoff: FETCH_RETRY.base_delay,
            user_agent: format!(
                "lore/{} (personal knowledge agent; +https://github.com/lore)",
                env!("CARGO_PKG_VERSION")
            ),
            allow_private: false,
            item_fetches: 4,
        }
    }
}

impl FetchOptions {
    /// The retry policy of these options: [`FETCH_RETRY`] with [`retries`](Self::retries) and
    /// [`backoff`](Self::backoff).
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy { max_retries: self.retries.max(1) - 1, base_delay: self.backoff, ..FETCH_RETRY }
    }

    /// The defaults with the book limit taken from `load` (`max_book_mb`).
    pub fn for_load_options(load: &LoadOptions) -> Self {
        FetchOptions { max_book_bytes: load.max_book_mb.saturating_mul(MIB), ..Default::default() }
    }
}

/// Cache validators from an earlier response, sent as `If-None-Match` / `If-Modified-Since`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The `ETag` the server gave.
    pub etag: Option<String>,
    /// The `Last-Modified` the server gave.
    pub last_modified: Option<String>,
}

/// A successful response with its whole body.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The URL after redirects.
    pub final_url: String,
    /// The status code (2xx).
    pub status: u16,
    /// The `Content-Type` header, when sent.
    pub content_type: Option<String>,
    /// The `ETag` header, when sent.
    pub etag: Option<String>,
    /// The `Last-Modified` header, when sent.
    pub last_modified: Option<String>,
    /// The body, decompressed.
    pub bytes: Vec<u8>,
}

impl Response {
    /// The validators to send next time for a conditional GET.
    pub fn validators(&self) -> Validators {
        Validators { etag: self.etag.clone(), last_modified: self.last_modified.clone() }
    }
}

/// The outcome of [`Fetcher::get`].
#[derive(Debug, Clone, PartialEq)]
pub enum Fetched {
    /// 304: the resource has not changed since the validators were issued; no body was read.
    NotModified {
        /// The URL after redirects.
        final_url: String,
    },
    /// A 2xx response and its body.
    Body(Response),
}

/// An HTTP client for pages and feeds. Cheap to clone; clones share the connection pool and the
/// per-host limits, so one fetcher serves all tasks of a run.
#[derive(Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

struct Inner {
    /// For hosts the user named: any address.
    open: reqwest::Client,
    /// For hosts a document or a server chose: restricted addresses refused.
    guarded: reqwest::Client,
    opts: FetchOptions,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher").field("opts", &self.inner.opts).finish_non_exhaustive()
    }
}

/// Why one attempt failed, before it is known whether it is retried.
#[derive(Debug)]
enum Failure {
    Status {
        status: u16,
        reason: String,
        retry_after: Option<Duration>,
    },
    Timeout,
    Connect(String),
    Broken(String),
    Redirect(String),
    TooLarge {
        size: Option<u64>,
        limit: u64,
        book: bool,
    },
    /// A restricted address; `redirect` is the hop's URL when a redirect led there.
    Private {
        redirect: Option<Url>,
        addr: std::net::IpAddr,
        kind: &'static str,
    },
    Other(String),
}

impl Failure {
    fn retryable(&self, policy: &RetryPolicy) -> bool {
        match self {
            Failure::Status { status, .. } => policy.retries_status(*status),
            Failure::Timeout | Failure::Connect(_) | Failure::Broken(_) => true,
            Failure::Redirect(_) | Failure::TooLarge { .. } | Failure::Private { .. } | Failure::Other(_) => {
                false
            }
        }
    }

    fn into_error(self, url: &str, opts: &FetchOptions) -> IngestError {
        let url = url.to_string();
        match self {
            Failure::Status { status, reason, .. } => IngestError::HttpStatus { url, status, reason },
            Failure::Timeout => IngestError::Timeout { url, secs: opts.timeout.as_secs_f64() },
            Failure::Connect(r) => IngestError::Network { url, reason: format!("cannot connect ({r})") },
            Failure::Broken(r) => {
                IngestError::Network { url, reason: format!("the connection broke off ({r})") }
            }
            Failure::Other(reason) => IngestError::Network { url, reason },
            Failure::Redirect(reason) => IngestError::Redirect { url, reason },
            Failure::Private { redirect, addr, kind } => IngestError::PrivateAddress {
                url,
                redirect: redirect.map(String::from),
                address: addr.to_string(),
                kind,
            },
            Failure::TooLarge { size, limit, book } => IngestError::DownloadTooLarge {
                url,
                size_mb: size.map(|s| s as f64 / MIB as f64),
                limit_mb: limit.div_ceil(MIB),
                setting: book.then_some("ingest.max_book_mb"),
            },
        }
    }
}

impl Fetcher {
    /// A fetcher with these options.
    pub fn new(opts: FetchOptions) -> Result<Fetcher> {
        Fetcher::build(opts, &[])
    }

    /// A fetcher whose clients resolve each of `fixed` names to its address without asking
    /// DNS or the guarded resolver (reqwest's overrides), so a test can stand a public host on
    /// a local server. Not in the library outside its own tests.
    fn build(opts: FetchOptions, fixed: &[(&str, std::net::SocketAddr)]) -> Result<Fetcher> {
        let client = |guarded: bool| {
            let mut builder = reqwest::Client::builder();
            for (name, addr) in fixed {
                builder = builder.resolve(name, *addr);
            }
            builder
                .user_agent(opts.user_agent.clone())
                .connect_timeout(opts.connect_timeout)
                .timeout(opts.timeout)
                // Redirects are followed in `attempt`, where each hop is judged.
                .redirect(reqwest::redirect::Policy::none())
                .dns_resolver(Resolver::new(guarded))
                .build()
                .map_err(|e| IngestError::HttpClient { reason: describe(&e) })
        };
        let (open, guarded) = (client(false)?, client(true)?);
        let hosts = Mutex::new(HashMap::new());
        Ok(Fetcher { inner: Arc::new(Inner { open, guarded, opts, hosts }) })
    }

    /// The options this fetcher was made with.
    pub fn options(&self) -> &FetchOptions {
        &self.inner.opts
    }

    /// GETs `url` (http or https only), following redirects, retrying transient failures, and
    /// reading the whole body up to the size limit. With `validators`, a 304 answer is
    /// [`Fetched::NotModified`]. Every error is one line naming `url`.
    ///
    /// `url` is one the user gave (`lore add URL`, a feed subscribed to): its host may be at any
    /// address, and so may a redirect to the same host and port. A redirect to another host was
    /// chosen by the server, not the user, and is refused at a restricted address (see
    /// [`Fetcher::get_linked`]), even when the user's own host is a private one.
    pub async fn get(&self, url: &str, validators: Option<&Validators>) -> Result<Fetched> {
        let parsed = parse_web_url(url)?;
        self.fetch(url, &parsed, validators, Some(parsed.clone())).await
    }

    /// GETs `url`, a link that a document at `from` chose (a feed item's link, `from` being the
    /// feed's URL, one the user gave), as [`Fetcher::get`] does, except that `url` and every
    /// redirect are refused with [`IngestError::PrivateAddress`] when they lead to a loopback,
    /// private, link-local or unspecified address, unless [`FetchOptions::allow_private`].
    ///
    /// One exception: a link to the very host and port of `from` when `from` names its host by
    /// an IP address or as `localhost` goes where the user's own URL went, so it is allowed.
    /// A host `from` names by another name is judged like any other, since its name may resolve
    /// elsewhere by the time the link is fetched.
    pub async fn get_linked(
        &self,
        url: &str,
        validators: Option<&Validators>,
        from: &str,
    ) -> Result<Fetched> {
        let parsed = parse_web_url(url)?;
        let trusted = parse_web_url(from).ok().filter(names_a_fixed_address);
        self.fetch(url, &parsed, validators, trusted).await
    }

    /// The fetch behind [`Fetcher::get`] and [`Fetcher::get_linked`]: hops to the host and port
    /// of `trusted` may go to any address.
    async fn fetch(
        &self,
        url: &str,
        parsed: &Url,
        validators: Option<&Validators>,
        trusted: Option<Url>,
    ) -> Result<Fetched> {
        let opts = &self.inner.opts;
        let gate = self.host_gate(parsed);
        let policy = opts.retry_policy();
        let mut retries = 0;
        loop {
            let outcome = {
                let _permit = gate.acquire().await.map_err(|_| IngestError::Network {
                    url: url.to_string(),
                    reason: "the fetcher was shut down".into(),
                })?;
                let attempt = self.attempt(parsed, validators, trusted.as_ref());
                match tokio::time::timeout(opts.timeout, attempt).await {
                    Ok(outcome) => outcome,
                    Err(_) => Err(Failure::Timeout),
                }
            };
            let failure = match outcome {
                Ok(fetched) => return Ok(fetched),
                Err(f) => f,
            };
            if !policy.allows_retry(retries) || !failure.retryable(&policy) {
                return Err(failure.into_error(url, opts));
            }
            retries += 1;
            let retry_after = match &failure {
                Failure::Status { retry_after, .. } => *retry_after,
                _ => None,
            };
            tokio::time::sleep(policy.delay(retries, retry_after)).await;
        }
    }

    /// The semaphore that limits requests to `url`'s host and port.
    fn host_gate(&self, url: &Url) -> Arc<Semaphore> {
        let key =
            format!("{}:{}", url.host_str().unwrap_or_default(), url.port_or_known_default().unwrap_or(0));
        let mut hosts = self.inner.hosts.lock().unwrap_or_else(|e| e.into_inner());
        hosts.entry(key).or_insert_with(|| Arc::new(Semaphore::new(self.inner.opts.per_host.max(1)))).clone()
    }

    /// Sends one request, no redirect followed. A URL whose host is the host and port of
    /// `trusted` (or any, with `allow_private`) goes through the open client; any other is
    /// refused when it names a restricted IP address, and goes through the guarded client,
    /// whose resolver refuses a name that resolves only to restricted addresses.
    async fn hop(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        trusted: Option<&Url>,
    ) -> std::result::Result<reqwest::Response, Failure> {
        let open = self.inner.opts.allow_private || trusted.is_some_and(|t| same_host(t, url));
        if !open
            && let Some(addr) = ip_of(url)
            && let Some(kind) = restricted(addr)
        {
            return Err(Failure::Private { redirect: None, addr, kind });
        }
        let client = if open { &self.inner.open } else { &self.inner.guarded };
        let mut req = client.get(url.clone()).header(header::ACCEPT, ACCEPT);
        if let Some(v) = validators {
            if let Some(etag) = v.etag.as_deref().filter(|e| !e.is_empty()) {
                req = req.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = v.last_modified.as_deref().filter(|l| !l.is_empty()) {
                req = req.header(header::IF_MODIFIED_SINCE, lm);
            }
        }
        req.send().await.map_err(|e| classify(&e))
    }

    /// One attempt: the request and its redirects, hop by hop, each judged by [`Fetcher::hop`].
    async fn attempt(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        trusted: Option<&Url>,
    ) -> std::result::Result<Fetched, Failure> {
        let opts = &self.inner.opts;
        let mut visited = vec![url.clone()];
        let mut resp = loop {
            let current = visited.last().unwrap_or(url).clone();
            let redirected = (visited.len() > 1).then(|| current.clone());
            let resp = self.hop(&current, validators, trusted).await.map_err(|f| match f {
                Failure::Private { addr, kind, .. } => Failure::Private { redirect: redirected, addr, kind },
                f => f,
            })?;
            let next = match resp.status().as_u16() {
                301 | 302 | 303 | 307 | 308 => {
                    header_str(resp.headers(), header::LOCATION).and_then(|loc| current.join(&loc).ok())
                }
                _ => None,
            };
            let Some(next) = next.filter(|n| matches!(n.scheme(), "http" | "https")) else { break resp };
            if visited.iter().any(|u| same_resource(u, &next)) {
                return Err(Failure::Redirect(format!("redirect loop at {next}")));
            }
            if visited.len() > opts.max_redirects {
                let max = opts.max_redirects;
                return Err(Failure::Redirect(format!("too many redirects (more than {max})")));
            }
            visited.push(next);
        };
        let final_url = resp.url().to_string();
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified { final_url });
        }
        if status.is_redirection() {
            // A redirect not followed: to another scheme, or without a usable location.
            let reason = match header_str(resp.headers(), header::LOCATION) {
                Some(loc) => match resp.url().join(&loc) {
                    Ok(next) if !matches!(next.scheme(), "http" | "https") => {
                        format!("redirected to {next}, which is not a web address")
                    }
                    _ => format!("redirect (HTTP {}) to {loc} not followed", status.as_u16()),
                },
                None => format!("redirect (HTTP {}) without a location", status.as_u16()),
            };
            return Err(Failure::Redirect(reason));
        }
        if !status.is_success() {
            let retry_after = header_str(resp.headers(), header::RETRY_AFTER)
                .and_then(|v| parse_retry_after(&v, SystemTime::now()));
            return Err(Failure::Status {
                status: status.as_u16(),
                reason: status.canonical_reason().unwrap_or_default().to_string(),
                retry_after,
            });
        }
        let headers = resp.headers();
        let content_type = header_str(headers, header::CONTENT_TYPE);
        let etag = header_str(headers, header::ETAG);
        let last_modified = header_str(headers, header::LAST_MODIFIED);
        let book = is_book(content_type.as_deref(), resp.url());
        let limit = if book { opts.max_book_bytes } else { opts.max_bytes };
        if let Some(len) = declared_length(headers)
            && len > limit
        {
            return Err(Failure::TooLarge { size: Some(len), limit, book });
        }
        // `chunk` yields the body decompressed, so the cap counts what a compressed body expands
        // to, and the buffer never grows past the cap.
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e))? {
            let needed = bytes.len() + chunk.len();
            if needed as u64 > limit {
                return Err(Failure::TooLarge { size: None, limit, book });
            }
            if needed > bytes.capacity() {
                let grown = (bytes.capacity() * 2).clamp(needed, usize::try_from(limit).unwrap_or(needed));
                bytes.reserve_exact(grown - bytes.len());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body(Response {
            final_url,
            status: status.as_u16(),
            content_type,
            etag,
            last_modified,
            bytes,
        }))
    }
}

/// Whether two URLs are on the same host and port; `http://h` and `https://h`, both on their
/// scheme's default port, count as the same.
fn same_host(a: &Url, b: &Url) -> bool {
    a.host() == b.host()
        && (a.port_or_known_default() == b.port_or_known_default()
            || (a.port().is_none() && b.port().is_none()))
}

/// The IP address a URL names as its host, when it names one rather than a host name.
fn ip_of(url: &Url) -> Option<std::net::IpAddr> {
    match url.host()? {
        Host::Ipv4(ip) => Some(ip.into()),
        Host::Ipv6(ip) => Some(ip.into()),
        Host::Domain(_) => None,
    }
}

/// Whether a URL names its host by an address no lookup can change: an IP address or
/// `localhost`.
fn names_a_fixed_address(url: &Url) -> bool {
    ip_of(url).is_some() || url.host_str().is_some_and(|h| h.eq_ignore_ascii_case("localhost"))
}

/// Whether two URLs name the same resource (the fragment aside).
fn same_resource(a: &Url, b: &Url) -> bool {
    a.as_str().split('#').next() == b.as_str().split('#').next()
}

/// The body's length as the server declared it, when the body is not compressed (a compressed
/// body's length says nothing about what it expands to; the streamed count catches that).
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    if headers.contains_key(header::CONTENT_ENCODING) {
        return None;
    }
    header_str(headers, header::CONTENT_LENGTH)?.trim().parse().ok()
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    let v = headers.get(name)?.to_str().ok()?.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// Whether a response is a book (PDF or EPUB) by its content type, or, when the type says
/// nothing, by its URL's extension; books get the larger size limit.
fn is_book(content_type: Option<&str>, url: &Url) -> bool {
    let mime = content_type.map(mime_of).unwrap_or_default();
    match mime.as_str() {
        "application/pdf" | "application/x-pdf" | "application/epub+zip" => true,
        m if is_generic_mime(m) => {
            let path = url.path().to_ascii_lowercase();
            path.ends_with(".pdf") || path.ends_with(".epub")
        }
        _ => false,
    }
}

/// Turns a reqwest error into a failure with a short reason.
fn classify(e: &reqwest::Error) -> Failure {
    if let Some(refusal) = find_source::<Refusal>(e) {
        return Failure::Private { redirect: None, addr: refusal.addr, kind: refusal.kind };
    }
    if e.is_timeout() {
        return if e.is_connect() { Failure::Connect("timed out".into()) } else { Failure::Timeout };
    }
    if e.is_redirect() {
        return Failure::Redirect(describe(e));
    }
    if e.is_connect() {
        return Failure::Connect(describe(e));
    }
    if e.is_decode() {
        return Failure::Other(format!("cannot decode the body: {}", describe(e)));
    }
    if e.is_body() {
        return Failure::Broken(describe(e));
    }
    if e.is_request() {
        // Connecting worked (that is `is_connect`); the exchange itself failed.
        return Failure::Broken(describe(e));
    }
    Failure::Other(describe(e))
}

fn find_source<'a, T: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<T>() {
            return Some(t);
        }
        cur = err.source();
    }
    None
}

/// The innermost cause of an error, which names what actually happened (e.g. "Connection
/// refused (os error 111)"), on one line.
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    let msg = cur.to_string();
    let msg = msg.split_whitespace().collect::<Vec<_>>().join(" ");
    let lower = msg.to_ascii_lowercase();
    if lower.contains("connection refused") {
        "connection refused".into()
    } else if lower.contains("failed to lookup address") || lower.contains("name or service not known") {
        "host not found".into()
    } else {
        msg
    }
}

/// The integration tests' local HTTP server, for the tests below.
#[cfg(test)]
#[path = "../../tests/common/server.rs"]
#[allow(dead_code, clippy::unwrap_used, clippy::expect_used)]
mod test_server;

#[cfg(test)]
mod tests {
    use super::*;

    use super::test_server::{Reply, TestServer};

    /// A redirect from a public host to a private one: the test server stands for a public
    /// host, `public.test`, resolved to it by a fixed name (`Fetcher::build`, test-only).
    #[tokio::test]
    async fn a_public_host_redirecting_to_a_private_one_is_refused() {
        let target = TestServer::start(|_| Reply::ok("text/html", "<p>secret</p>")).await;
        let (to_ip, to_name) = (target.url("/secret"), target.url_as_localhost("/secret"));
        let public = TestServer::start(move |req| match req.path.as_str() {
            "/article.html" => Reply::ok("text/html", "<p>An article.</p>"),
            "/to-ip" => Reply::redirect(&to_ip),
            "/to-name" => Reply::redirect(&to_name),
            _ => Reply::status(404),
        })
        .await;
        let port = public.addr().port();
        let f = Fetcher::build(FetchOptions::default(), &[("public.test", public.addr())]).unwrap();
        let feed = "https://feeds.example.org/feed.xml";
        let link = format!("http://public.test:{port}/article.html");
        let got = f.get_linked(&link, None, feed).await.unwrap();
        assert!(matches!(got, Fetched::Body(ref r) if r.bytes == b"<p>An article.</p>"), "{got:?}");
        let link = format!("http://public.test:{port}/to-ip");
        let err = f.get_linked(&link, None, feed).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{link}: refused the redirect to {}: 127.0.0.1 is a loopback address, chosen by the \
                 server, not by you (set web.allow_private = true to allow it)",
                target.url("/secret")
            )
        );
        let link = format!("http://public.test:{port}/to-name");
        let err = f.get_linked(&link, None, feed).await.unwrap_err();
        assert_eq!(err.reason_code(), "private_address", "{err}");
        assert!(err.to_string().contains("loopback address, chosen by the server"), "{err}");
        // The same from a URL the user typed: the server chose the second host, not the user.
        let err = f.get(&format!("http://public.test:{port}/to-ip"), None).await.unwrap_err();
        assert_eq!(err.reason_code(), "private_address", "{err}");
        assert!(target.requests().is_empty(), "{:?}", target.requests());
        assert_eq!(public.requests().len(), 4);
    }

    #[test]
    fn books_by_type_or_extension() {
        let u = Url::parse("https://x.org/a/b.PDF").unwrap();
        assert!(is_book(Some("application/pdf"), &Url::parse("https://x.org/a").unwrap()));
        assert!(is_book(Some("application/epub+zip; charset=binary"), &u));
        assert!(is_book(None, &u));
        assert!(is_book(Some("application/octet-stream"), &u));
        assert!(!is_book(Some("text/html"), &u));
        assert!(!is_book(None, &Url::parse("https://x.org/feed.xml").unwrap()));
    }

    #[test]
    fn errors_are_one_line_naming_the_url() {
        let opts = FetchOptions { timeout: Duration::from_millis(1500), ..Default::default() };
        let e = Failure::Timeout.into_error("https://x/feed.xml", &opts);
        assert_eq!(e.to_string(), "https://x/feed.xml: no response within 1.5 s");
        let e = Failure::Status { status: 404, reason: "Not Found".into(), retry_after: None }
            .into_error("https://x/feed.xml", &opts);
        assert_eq!(e.to_string(), "https://x/feed.xml: HTTP 404 Not Found");
        assert_eq!(e.reason_code(), "http_status");
        let e =
            Failure::TooLarge { size: Some(20 * MIB), limit: 10 * MIB, book: false }.into_error("u", &opts);
        assert_eq!(e.to_string(), "u: too large (20.0 MB, the limit is 10 MB)");
        let e = Failure::TooLarge { size: None, limit: 512 * MIB, book: true }.into_error("u", &opts);
        assert_eq!(e.to_string(), "u: too large (over the 512 MB limit; raise ingest.max_book_mb)");
    }
}
