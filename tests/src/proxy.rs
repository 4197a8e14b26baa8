//! A recording proxy on 127.0.0.1 in front of the chat server: the end-to-end tests give lore
//! its URL and read back every chat request lore sent (prompt injection, map-reduce call counts).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// A proxy on 127.0.0.1 in front of the chat server that keeps the body of every request.
pub struct RecordingProxy {
    /// The proxy's base URL, to give lore as `llm.base_url`.
    pub url: String,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl RecordingProxy {
    /// Starts a proxy forwarding to `upstream` (`http://host:port/v1`).
    pub fn start(upstream: &str) -> RecordingProxy {
        let rest = upstream.strip_prefix("http://").expect("an http chat server URL");
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let authority = authority.to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let bodies: Arc<Mutex<Vec<String>>> = Arc::default();
        let kept = bodies.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let authority = authority.clone();
                let kept = kept.clone();
                std::thread::spawn(move || forward(client, &authority, &kept));
            }
        });
        RecordingProxy { url: format!("http://127.0.0.1:{port}/{path}"), bodies }
    }

    /// The chat completion requests seen so far, parsed.
    pub fn requests(&self) -> Vec<Value> {
        let bodies = self.bodies.lock().unwrap();
        bodies.iter().filter_map(|b| serde_json::from_str::<Value>(b).ok()).collect()
    }
}

/// Reads one request from `client`, keeps its body, sends it on to `authority` with
/// `Connection: close`, and copies the reply back until the server closes.
fn forward(mut client: TcpStream, authority: &str, kept: &Mutex<Vec<String>>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let mut length = 0usize;
    let mut lines = Vec::new();
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("connection:") || lower.starts_with("host:") {
            continue;
        }
        lines.push(line.to_string());
    }
    let mut body = vec![0u8; length];
    if client.read_exact(&mut body).is_err() {
        return;
    }
    kept.lock().unwrap().push(String::from_utf8_lossy(&body).to_string());
    let Ok(mut upstream) = TcpStream::connect(authority) else { return };
    let mut out = lines.join("\r\n");
    out.push_str(&format!("\r\nHost: {authority}\r\nConnection: close\r\n\r\n"));
    if upstream.write_all(out.as_bytes()).and_then(|()| upstream.write_all(&body)).is_err() {
        return;
    }
    let _ = std::io::copy(&mut upstream, &mut client);
    let _ = client.shutdown(std::net::Shutdown::Both);
}

/// The text of the last user message of a recorded chat request (the sources and the question).
pub fn last_user_message(request: &Value) -> String {
    request["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_string()
}
