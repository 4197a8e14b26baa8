//! Qdrant servers owned by a test: a node of the upstream server (the binary
//! `scripts/qdrant.sh` unpacks) on free ports with its storage in a temporary directory, killed
//! with SIGKILL when dropped; its REST API for what a test checks or changes behind lore's back;
//! and a TCP proxy that stalls the traffic between lore and a node on demand.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The Qdrant binary `scripts/qdrant.sh` installs (`$LORE_QDRANT_DIR`, else
/// `$XDG_CACHE_HOME/lore-qdrant`, else `~/.cache/lore-qdrant`), when it is there.
pub fn binary() -> Option<PathBuf> {
    let dir = match std::env::var_os("LORE_QDRANT_DIR") {
        Some(d) => PathBuf::from(d),
        None => match std::env::var_os("XDG_CACHE_HOME") {
            Some(c) => PathBuf::from(c).join("lore-qdrant"),
            None => PathBuf::from(std::env::var_os("HOME")?).join(".cache/lore-qdrant"),
        },
    };
    let bin = dir.join("qdrant");
    bin.is_file().then_some(bin)
}

/// A port on 127.0.0.1 that nothing listened on a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A Qdrant node run by the test (see the module docs).
pub struct Node {
    bin: PathBuf,
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// gRPC port (lore's).
    pub grpc: u16,
    /// REST port.
    pub http: u16,
    api_key: Option<String>,
}

impl Node {
    /// Starts a node requiring `api_key` (when given) and waits until it is ready; `None`
    /// when there is no Qdrant binary, after [`crate::skip`] said so (it fails instead under
    /// `LORE_REQUIRE=qdrant`).
    pub fn start(api_key: Option<&str>) -> Option<Node> {
        let Some(bin) = binary() else {
            crate::skip("qdrant", "no Qdrant binary: `scripts/qdrant.sh start` installs it");
            return None;
        };
        let mut node = Node {
            bin,
            dir: tempfile::tempdir().unwrap(),
            child: None,
            grpc: free_port(),
            http: free_port(),
            api_key: api_key.map(str::to_string),
        };
        node.restart();
        Some(node)
    }

    /// The URL lore is given (`qdrant.url`).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc)
    }

    /// The process id of the running server.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Starts the server (again, on the same ports and storage) and waits until it is ready.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the node is running");
        let storage = self.dir.path().join("storage");
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(self.dir.path().join("log")).unwrap();
        let mut cmd = Command::new(&self.bin);
        cmd.current_dir(self.dir.path())
            .env("QDRANT__STORAGE__STORAGE_PATH", &storage)
            .env("QDRANT__STORAGE__SNAPSHOTS_PATH", self.dir.path().join("snapshots"))
            .env("QDRANT__SERVICE__HOST", "127.0.0.1")
            .env("QDRANT__SERVICE__HTTP_PORT", self.http.to_string())
            .env("QDRANT__SERVICE__GRPC_PORT", self.grpc.to_string())
            .env("QDRANT__TELEMETRY_DISABLED", "true")
            .env("QDRANT__LOG_LEVEL", "WARN")
            .env_remove("QDRANT__SERVICE__API_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log));
        if let Some(key) = &self.api_key {
            cmd.env("QDRANT__SERVICE__API_KEY", key);
        }
        self.child = Some(cmd.spawn().expect("start the Qdrant server"));
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if let Ok((200, _)) = self.try_rest("GET", "/readyz", None) {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("the Qdrant server exited ({status}):\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the Qdrant server was not ready within 60 s:\n{}", self.log());
    }

    /// Kills the server with SIGKILL and waits for it to be gone.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The server's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// A REST request (`body` as JSON) with the node's API key: the status and the body.
    pub fn rest(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        self.try_rest(method, path, body).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    fn try_rest(&self, method: &str, path: &str, body: Option<&str>) -> std::io::Result<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.http))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let body = body.unwrap_or("");
        let key = self.api_key.as_ref().map(|k| format!("api-key: {k}\r\n")).unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{key}\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response)?;
        let text = String::from_utf8_lossy(&response).into_owned();
        let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
            dechunk(rest)
        } else {
            rest.to_string()
        };
        Ok((status, body))
    }

    /// The exact number of points in `collection` (0 while there is no such collection).
    pub fn count(&self, collection: &str) -> u64 {
        let (status, body) =
            self.rest("POST", &format!("/collections/{collection}/points/count"), Some(r#"{"exact":true}"#));
        if status == 404 {
            return 0;
        }
        assert_eq!(status, 200, "{body}");
        let value: serde_json::Value = serde_json::from_str(&body).unwrap();
        value["result"]["count"].as_u64().unwrap()
    }

    /// Deletes `collection` and creates it again with `vectors` (the `vectors` object of
    /// Qdrant's create-collection request), as another program sharing the server might.
    pub fn recreate(&self, collection: &str, vectors: &str) {
        let (status, body) = self.rest("DELETE", &format!("/collections/{collection}"), None);
        assert_eq!(status, 200, "{body}");
        let (status, body) = self.rest(
            "PUT",
            &format!("/collections/{collection}"),
            Some(&format!(r#"{{"vectors":{vectors}}}"#)),
        );
        assert_eq!(status, 200, "{body}");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A body sent in chunks, joined.
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

/// What the proxy does with the traffic.
#[derive(Default)]
struct ProxyState {
    /// While set, nothing is passed on in either direction: bytes wait in the socket buffers
    /// (and the sender is held) until it is cleared, then go through in order.
    stalled: AtomicBool,
    /// Reads that arrived while stalled.
    held: AtomicU64,
    /// Connections accepted.
    connections: AtomicU64,
    stop: AtomicBool,
}

/// A TCP proxy on 127.0.0.1 in front of a server, which passes traffic through until told to
/// stall it: a server that stops answering for a while (a long pause, a saturated link) without
/// closing a connection.
pub struct StallProxy {
    /// The port lore connects to.
    pub port: u16,
    state: Arc<ProxyState>,
}

impl StallProxy {
    /// A proxy to `127.0.0.1:upstream`.
    pub fn start(upstream: u16) -> StallProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(ProxyState::default());
        let shared = state.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                shared.connections.fetch_add(1, Ordering::SeqCst);
                for (from, to) in [(&client, &server), (&server, &client)] {
                    let (from, to) = (from.try_clone().unwrap(), to.try_clone().unwrap());
                    let state = shared.clone();
                    std::thread::spawn(move || pump(from, to, &state));
                }
            }
        });
        StallProxy { port, state }
    }

    /// The URL lore is given.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stalls the traffic (`true`) or lets it through again.
    pub fn stall(&self, on: bool) {
        self.state.stalled.store(on, Ordering::SeqCst);
    }

    /// How many reads were held by a stall so far.
    pub fn held(&self) -> u64 {
        self.state.held.load(Ordering::SeqCst)
    }

    /// How many connections were made through the proxy.
    pub fn connections(&self) -> u64 {
        self.state.connections.load(Ordering::SeqCst)
    }
}

impl Drop for StallProxy {
    fn drop(&mut self) {
        self.state.stalled.store(false, Ordering::SeqCst);
        self.state.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread so that it sees the stop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Copies `from` to `to` until either closes, holding what it read while the proxy is stalled.
fn pump(mut from: TcpStream, mut to: TcpStream, state: &ProxyState) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if state.stalled.load(Ordering::SeqCst) {
            state.held.fetch_add(1, Ordering::SeqCst);
            while state.stalled.load(Ordering::SeqCst) && !state.stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
