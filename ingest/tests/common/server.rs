//! A small HTTP/1.1 server for tests, on 127.0.0.1 and a free port, written on plain tokio so
//! that it can also misbehave on purpose: hang, trickle bytes, send endless bodies.
//!
//! Each test starts its own server with a handler that maps a [`Request`] to a [`Reply`]:
//!
//! ```ignore
//! let server = TestServer::start(|req| match req.path.as_str() {
//!     "/feed.xml" => Reply::ok("application/rss+xml", FEED),
//!     "/gone" => Reply::status(404),
//!     _ => Reply::status(404),
//! })
//! .await;
//! let url = server.url("/feed.xml"); // http://127.0.0.1:PORT/feed.xml
//! ```
//!
//! The server records every request (method, path, headers, arrival time), counts the requests
//! being handled at once per `Host` header, and the body bytes it managed to send. Every
//! response carries `Connection: close`, so one connection is one request. Hanging and
//! trickling replies stop by themselves after a bounded time, and dropping the server stops
//! everything it runs. Only the loopback address is ever used.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// The longest a hanging or trickling reply keeps its connection open.
const MAX_HOLD: Duration = Duration::from_secs(60);

/// A request as the server read it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `HEAD`, ...
    pub method: String,
    /// The path and query, e.g. `/feed.xml?x=1`.
    pub path: String,
    /// Header names (lowercase) and values, in order.
    pub headers: Vec<(String, String)>,
    /// When the request was read.
    pub at: Instant,
}

impl Request {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }
}

/// How the body of a reply is sent.
#[derive(Debug, Clone)]
pub enum Body {
    /// All at once, with `Content-Length`.
    Bytes(Vec<u8>),
    /// `Transfer-Encoding: chunked`, `count` chunks of `chunk`, no `Content-Length`.
    Chunked {
        /// One chunk's bytes.
        chunk: Vec<u8>,
        /// How many times it is sent.
        count: usize,
    },
    /// With `Content-Length`: `head`, then `count` times `chunk`, then `tail` (a large body
    /// made of one repeated part, never held in memory whole).
    Repeated {
        /// Sent first.
        head: Vec<u8>,
        /// Sent `count` times.
        chunk: Vec<u8>,
        /// How many times.
        count: usize,
        /// Sent last.
        tail: Vec<u8>,
    },
    /// `Content-Length: len`, then one byte every `every` (bounded by [`MAX_HOLD`]).
    Trickle {
        /// The declared length.
        len: usize,
        /// The pause between bytes.
        every: Duration,
    },
}

/// What the server answers.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Extra headers (`Content-Length`, `Transfer-Encoding` and `Connection` are added).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Body,
    /// A pause before answering.
    pub delay: Duration,
    /// Never answer; the connection is held open (bounded by [`MAX_HOLD`]).
    pub hang: bool,
    /// Close the connection without answering.
    pub close: bool,
}

impl Reply {
    /// 200 with a content type and body.
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply::status(200).header("Content-Type", content_type).body(body)
    }

    /// A status with an empty body.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Body::Bytes(Vec::new()),
            delay: Duration::ZERO,
            hang: false,
            close: false,
        }
    }

    /// A 302 redirect to `location`.
    pub fn redirect(location: &str) -> Reply {
        Reply::status(302).header("Location", location)
    }

    /// A reply that never comes.
    pub fn hang() -> Reply {
        Reply { hang: true, ..Reply::status(200) }
    }

    /// The connection closed without an answer.
    pub fn close() -> Reply {
        Reply { close: true, ..Reply::status(200) }
    }

    /// The file at `path` with a content type.
    pub fn file(path: &std::path::Path, content_type: &str) -> Reply {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Reply::ok(content_type, bytes)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets the body, sent with `Content-Length`.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Reply {
        self.body = Body::Bytes(body.into());
        self
    }

    /// Sets the body kind.
    pub fn with_body(mut self, body: Body) -> Reply {
        self.body = body;
        self
    }

    /// Waits `delay` before answering.
    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

#[derive(Default)]
struct State {
    requests: Mutex<Vec<Request>>,
    /// Per `Host` header: (in flight now, most in flight at once).
    in_flight: Mutex<HashMap<String, (usize, usize)>>,
    /// Across hosts: (in flight now, most in flight at once).
    total_in_flight: Mutex<(usize, usize)>,
    bytes_sent: AtomicU64,
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running test server; dropping it stops it.
pub struct TestServer {
    addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// Starts a server on 127.0.0.1 and a free port that answers with `handler`.
    pub async fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(State::default());
        let handler: Arc<Handler> = Arc::new(handler);
        let st = state.clone();
        let task = tokio::spawn(async move {
            let mut conns = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else { break };
                conns.spawn(serve(stream, handler.clone(), st.clone()));
                while conns.try_join_next().is_some() {}
            }
        });
        TestServer { addr, state, task }
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `http://localhost:PORT{path}`: the same server under a second host name.
    pub fn url_as_localhost(&self, path: &str) -> String {
        format!("http://localhost:{}{path}", self.addr.port())
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The requests so far for `path`.
    pub fn requests_for(&self, path: &str) -> Vec<Request> {
        self.requests().into_iter().filter(|r| r.path == path).collect()
    }

    /// The most requests handled at once for one `Host` header value.
    pub fn max_in_flight(&self, host: &str) -> usize {
        self.state.in_flight.lock().unwrap().get(host).map(|(_, max)| *max).unwrap_or(0)
    }

    /// The most requests handled at once for any one host.
    pub fn max_in_flight_any_host(&self) -> usize {
        self.state.in_flight.lock().unwrap().values().map(|(_, max)| *max).max().unwrap_or(0)
    }

    /// The most requests handled at once, whatever their hosts.
    pub fn max_in_flight_total(&self) -> usize {
        self.state.total_in_flight.lock().unwrap().1
    }

    /// Body bytes written to clients so far (what a client that stopped reading cut short).
    pub fn bytes_sent(&self) -> u64 {
        self.state.bytes_sent.load(Ordering::SeqCst)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Marks a request in flight for its host; the mark is removed with [`InFlight::done`] (just
/// before the answer is written, so that a client can never see the answer before the count
/// went down) or on drop.
struct InFlight {
    state: Arc<State>,
    host: String,
    done: bool,
}

impl InFlight {
    fn enter(state: Arc<State>, host: String) -> InFlight {
        let mut map = state.in_flight.lock().unwrap();
        let e = map.entry(host.clone()).or_insert((0, 0));
        e.0 += 1;
        e.1 = e.1.max(e.0);
        drop(map);
        let mut total = state.total_in_flight.lock().unwrap();
        total.0 += 1;
        total.1 = total.1.max(total.0);
        drop(total);
        InFlight { state, host, done: false }
    }

    fn done(&mut self) {
        if !self.done {
            self.done = true;
            if let Some(e) = self.state.in_flight.lock().unwrap().get_mut(&self.host) {
                e.0 -= 1;
            }
            self.state.total_in_flight.lock().unwrap().0 -= 1;
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.done();
    }
}

async fn serve(mut stream: TcpStream, handler: Arc<Handler>, state: Arc<State>) {
    let Some(req) = read_request(&mut stream).await else { return };
    state.requests.lock().unwrap().push(req.clone());
    let mut flight = InFlight::enter(state.clone(), req.header("host").unwrap_or_default().to_string());
    let reply = handler(&req);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    if reply.hang {
        let mut sink = [0u8; 1024];
        let _ = tokio::time::timeout(MAX_HOLD, async {
            while let Ok(n) = stream.read(&mut sink).await
                && n > 0
            {}
        })
        .await;
        return;
    }
    flight.done();
    if reply.close {
        return;
    }
    let _ = write_reply(&mut stream, &reply, &state).await;
    let _ = stream.shutdown().await;
}

async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split_whitespace();
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(Request { method, path, headers, at: Instant::now() })
}

async fn write_reply(stream: &mut TcpStream, reply: &Reply, state: &State) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\nConnection: close\r\n", reply.status, reason(reply.status));
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    match &reply.body {
        Body::Bytes(b) => head.push_str(&format!("Content-Length: {}\r\n", b.len())),
        Body::Chunked { .. } => head.push_str("Transfer-Encoding: chunked\r\n"),
        Body::Trickle { len, .. } => head.push_str(&format!("Content-Length: {len}\r\n")),
        Body::Repeated { head: h, chunk, count, tail } => {
            let len = h.len() + chunk.len() * count + tail.len();
            head.push_str(&format!("Content-Length: {len}\r\n"))
        }
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    match &reply.body {
        Body::Bytes(b) => {
            for part in b.chunks(64 * 1024) {
                stream.write_all(part).await?;
                state.bytes_sent.fetch_add(part.len() as u64, Ordering::SeqCst);
            }
        }
        Body::Chunked { chunk, count } => {
            for _ in 0..*count {
                stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await?;
                stream.write_all(chunk).await?;
                stream.write_all(b"\r\n").await?;
                state.bytes_sent.fetch_add(chunk.len() as u64, Ordering::SeqCst);
            }
            stream.write_all(b"0\r\n\r\n").await?;
        }
        Body::Repeated { head, chunk, count, tail } => {
            let parts = std::iter::once(head).chain(std::iter::repeat_n(chunk, *count)).chain([tail]);
            for part in parts {
                stream.write_all(part).await?;
                state.bytes_sent.fetch_add(part.len() as u64, Ordering::SeqCst);
            }
        }
        Body::Trickle { len, every } => {
            let started = Instant::now();
            for _ in 0..*len {
                if started.elapsed() > MAX_HOLD {
                    break;
                }
                stream.write_all(b"x").await?;
                stream.flush().await?;
                state.bytes_sent.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(*every).await;
            }
        }
    }
    stream.flush().await
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        404 => "Not Found",
        408 => "Request Timeout",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
