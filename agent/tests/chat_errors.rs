//! The chat client against a scripted local HTTP server: retries on 429 (honouring Retry-After)
//! and 5xx, no retry on client errors, idle timeouts on a stalled stream, malformed streams,
//! refused connections and cancellation. Nothing here may hang.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lore_agent::retry::RetryPolicy;
use lore_agent::{AgentError, ChatConfig, ChatModel, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One scripted response.
#[derive(Clone)]
enum Reply {
    /// A plain response with a status, extra headers and a body.
    Status(u16, Vec<(&'static str, String)>, String),
    /// A 200 event stream: these `data:` payloads, then `[DONE]` unless it stalls.
    Sse { data: Vec<String>, stall: bool, gap: Duration },
    /// Accept the request and never answer.
    Silent,
    /// Tokens forever, one every 20 ms, until the client goes away.
    Endless,
}

struct Server {
    url: String,
    requests: Arc<AtomicUsize>,
    client_left: Arc<AtomicBool>,
}

fn chunk(text: &str) -> String {
    serde_json::json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
    .to_string()
}

async fn read_request(sock: &mut TcpStream) {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        let Ok(n) = sock.read(&mut tmp).await else { return };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return;
            }
        }
    }
}

async fn serve(script: Vec<Reply>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let queue = Arc::new(Mutex::new(VecDeque::from(script)));
    let requests = Arc::new(AtomicUsize::new(0));
    let client_left = Arc::new(AtomicBool::new(false));
    let (r, left) = (requests.clone(), client_left.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let reply = queue.lock().unwrap().pop_front();
            let (r, left) = (r.clone(), left.clone());
            tokio::spawn(async move {
                read_request(&mut sock).await;
                r.fetch_add(1, Ordering::SeqCst);
                let Some(reply) = reply else { return };
                match reply {
                    Reply::Status(code, headers, body) => {
                        let mut head = format!(
                            "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                            body.len()
                        );
                        for (k, v) in headers {
                            head.push_str(&format!("{k}: {v}\r\n"));
                        }
                        head.push_str("\r\n");
                        let _ = sock.write_all(head.as_bytes()).await;
                        let _ = sock.write_all(body.as_bytes()).await;
                    }
                    Reply::Sse { data, stall, gap } => {
                        let head =
                            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
                        let _ = sock.write_all(head.as_bytes()).await;
                        for d in data {
                            let _ = sock.write_all(format!("data: {d}\n\n").as_bytes()).await;
                            tokio::time::sleep(gap).await;
                        }
                        if stall {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                        }
                        let _ = sock.write_all(b"data: [DONE]\n\n").await;
                    }
                    Reply::Silent => tokio::time::sleep(Duration::from_secs(3600)).await,
                    Reply::Endless => {
                        let head =
                            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
                        let _ = sock.write_all(head.as_bytes()).await;
                        loop {
                            if sock
                                .write_all(format!("data: {}\n\n", chunk("tok ")).as_bytes())
                                .await
                                .is_err()
                                || sock.flush().await.is_err()
                            {
                                left.store(true, Ordering::SeqCst);
                                return;
                            }
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
            });
        }
    });
    Server { url, requests, client_left }
}

fn model(url: &str) -> ChatModel {
    let mut cfg = ChatConfig::new(url, "test-model");
    cfg.api_key = Some("sk-test-secret-123".into());
    cfg.connect_timeout = Duration::from_secs(2);
    cfg.idle_timeout = Duration::from_millis(800);
    cfg.retry = RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_secs(2),
        max_retry_after: Duration::from_secs(2),
        ..lore_agent::retry::CHAT_RETRY
    };
    ChatModel::new(cfg).unwrap()
}

fn ok_stream(words: &[&str]) -> Reply {
    Reply::Sse { data: words.iter().map(|w| chunk(w)).collect(), stall: false, gap: Duration::ZERO }
}

async fn collect(chat: &ChatModel) -> (String, Option<AgentError>) {
    let mut text = String::new();
    let mut stream = match chat.stream(&[Message::user("hi")]).await {
        Ok(s) => s,
        Err(e) => return (text, Some(e)),
    };
    while let Some(piece) = stream.next().await {
        match piece {
            Ok(p) => text.push_str(&p),
            Err(e) => return (text, Some(e)),
        }
    }
    (text, None)
}

/// Every error must be one line and must not leak the API key.
fn check_message(e: &AgentError) {
    let m = e.to_string();
    assert!(!m.contains("sk-test-secret-123"), "{m}");
    assert!(!m.contains('\n'), "{m}");
}

#[tokio::test]
async fn streams_tokens() {
    let s = serve(vec![ok_stream(&["Tail ", "calls ", "[1]."])]).await;
    let (text, err) = collect(&model(&s.url)).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(text, "Tail calls [1].");
    assert_eq!(s.requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn rate_limit_is_retried_after_the_servers_wait() {
    let s = serve(vec![
        Reply::Status(429, vec![("Retry-After", "1".into())], r#"{"error":{"message":"slow down"}}"#.into()),
        ok_stream(&["ok"]),
    ])
    .await;
    let started = Instant::now();
    let (text, err) = collect(&model(&s.url)).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(text, "ok");
    assert_eq!(s.requests.load(Ordering::SeqCst), 2);
    // The backoff alone would wait ~20 ms; Retry-After asked for a second.
    assert!(started.elapsed() >= Duration::from_millis(950), "{:?}", started.elapsed());
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let s = serve(vec![
        Reply::Status(500, vec![], "oops".into()),
        Reply::Status(503, vec![], "busy".into()),
        ok_stream(&["fine"]),
    ])
    .await;
    let (text, err) = collect(&model(&s.url)).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(text, "fine");
    assert_eq!(s.requests.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn persistent_server_errors_end_in_one_clear_error() {
    let s = serve(vec![Reply::Status(502, vec![], "<html>Bad Gateway</html>".into()); 5]).await;
    let (_, err) = collect(&model(&s.url)).await;
    let err = err.expect("an error");
    check_message(&err);
    assert!(matches!(err, AgentError::Status { status: 502, .. }), "{err:?}");
    assert!(err.to_string().contains("Bad Gateway"), "{err}");
    assert_eq!(s.requests.load(Ordering::SeqCst), 4, "first attempt and three retries");
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let s =
        serve(vec![Reply::Status(401, vec![], r#"{"error":{"message":"invalid api key"}}"#.into())]).await;
    let (_, err) = collect(&model(&s.url)).await;
    let err = err.expect("an error");
    check_message(&err);
    assert!(matches!(err, AgentError::Status { status: 401, .. }), "{err:?}");
    assert!(err.to_string().contains("invalid api key"));
    assert_eq!(s.requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_stalled_stream_times_out_keeping_what_arrived() {
    let s = serve(vec![Reply::Sse { data: vec![chunk("partial")], stall: true, gap: Duration::ZERO }]).await;
    let (text, err) =
        tokio::time::timeout(Duration::from_secs(10), collect(&model(&s.url))).await.expect("no hang");
    assert_eq!(text, "partial");
    let err = err.expect("an error");
    check_message(&err);
    assert!(matches!(err, AgentError::Stalled { .. }), "{err:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let s = serve(vec![Reply::Silent]).await;
    let (_, err) =
        tokio::time::timeout(Duration::from_secs(15), collect(&model(&s.url))).await.expect("no hang");
    let err = err.expect("an error");
    check_message(&err);
    assert!(matches!(err, AgentError::Stalled { .. }), "{err:?}");
}

#[tokio::test]
async fn a_malformed_event_is_a_clear_error() {
    let s = serve(vec![Reply::Sse {
        data: vec![chunk("fine "), "{this is not json".into(), chunk("never")],
        stall: false,
        gap: Duration::ZERO,
    }])
    .await;
    let (text, err) = collect(&model(&s.url)).await;
    assert_eq!(text, "fine ");
    let err = err.expect("an error");
    check_message(&err);
    assert!(matches!(err, AgentError::Malformed { .. }), "{err:?}");
}

#[tokio::test]
async fn a_refused_connection_is_unreachable_after_retries() {
    // A port that was just free: nothing listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let chat = model(&format!("http://127.0.0.1:{port}/v1"));
    let (_, err) = tokio::time::timeout(Duration::from_secs(15), collect(&chat)).await.expect("no hang");
    let err = err.expect("an error");
    check_message(&err);
    assert!(err.is_unreachable(), "{err:?}");
    assert!(err.to_string().contains(&port.to_string()), "names the endpoint: {err}");
}

#[tokio::test]
async fn dropping_the_stream_stops_the_server_sending() {
    let s = serve(vec![Reply::Endless]).await;
    let chat = model(&s.url);
    let mut stream = chat.stream(&[Message::user("go on forever")]).await.unwrap();
    for _ in 0..3 {
        stream.next().await.unwrap().unwrap();
    }
    drop(stream);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !s.client_left.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "the server kept streaming to a cancelled client");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn complete_returns_the_whole_answer() {
    let body = serde_json::json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": " GIL python "}}]});
    let s = serve(vec![Reply::Status(200, vec![], body.to_string())]).await;
    let text = model(&s.url).complete(&[Message::user("rewrite")], 16).await.unwrap();
    assert_eq!(text, "GIL python");
}

#[tokio::test]
async fn keys_and_passwords_a_server_echoes_are_hidden_even_at_the_cut() {
    let key = "sk-test-secret-123";
    // The key where the message is cut (300 characters), so a shortening before hiding would
    // leave its first part; then the key and the password in a body that is not a chat chunk.
    let padding = "x".repeat(295);
    let echo = format!(r#"{{"error":{{"message":"{padding} Bearer {key} (user me, password pa55-w0rd)"}}}}"#);
    let malformed =
        Reply::Sse { data: vec![format!("{{\"auth\": \"{key}\"")], stall: false, gap: Duration::ZERO };
    for reply in [Reply::Status(401, vec![], echo), malformed] {
        let s = serve(vec![reply]).await;
        let url = s.url.replace("http://", "http://me:pa55-w0rd@");
        let mut cfg = model(&url).config().clone();
        cfg.retry.max_retries = 0;
        assert!(!format!("{cfg:?}").contains("pa55-w0rd"));
        let (_, err) = collect(&ChatModel::new(cfg).unwrap()).await;
        let m = err.expect("an error").to_string();
        check_message(&AgentError::Config(m.clone()));
        for secret in ["pa55-w0rd", "sk-tes", "sk-test-secret"] {
            assert!(!m.contains(secret), "{secret} in {m}");
        }
        assert!(m.contains("http://<hidden>@127.0.0.1:"), "{m}");
    }
}

#[tokio::test]
async fn the_token_counts_at_the_end_of_a_stream_are_kept() {
    let usage = serde_json::json!({"id": "c", "choices": [], "usage": {"prompt_tokens": 2083,
        "completion_tokens": 58, "total_tokens": 2141, "prompt_tokens_details": {"cached_tokens": 100}}})
    .to_string();
    let s =
        serve(vec![Reply::Sse { data: vec![chunk("Yes."), usage], stall: false, gap: Duration::ZERO }]).await;
    let chat = model(&s.url);
    let mut stream = chat.stream(&[Message::user("hi")]).await.unwrap();
    let mut text = String::new();
    while let Some(piece) = stream.next().await {
        text.push_str(&piece.unwrap());
    }
    assert_eq!(text, "Yes.");
    let u = stream.usage.expect("usage");
    assert_eq!((u.prompt_tokens, u.completion_tokens, u.cached_tokens), (Some(2083), Some(58), Some(100)));
}

#[tokio::test]
async fn an_endpoint_refusing_stream_options_is_asked_again_without_them() {
    let s = serve(vec![
        Reply::Status(
            400,
            vec![],
            r#"{"error":{"message":"Unrecognized request argument supplied: stream_options"}}"#.into(),
        ),
        ok_stream(&["Tail ", "calls."]),
    ])
    .await;
    let (text, err) = collect(&model(&s.url)).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(text, "Tail calls.");
    assert_eq!(s.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_model_writing_the_same_line_over_and_over_is_stopped_at_the_loop() {
    let mut data = vec![chunk("Run this:\n")];
    for i in 1..=40 {
        data.push(chunk(&format!("{i}. Use apt-mark showmanual to list the packages [1].\n")));
    }
    let s = serve(vec![Reply::Sse { data, stall: false, gap: Duration::from_millis(5) }]).await;
    let chat = model(&s.url);
    let mut stream = chat.stream(&[Message::user("hi")]).await.unwrap();
    let attributor =
        lore_agent::cite::Attributor::new(&["apt-mark showmanual lists the manually installed packages."]);
    let mut shown = String::new();
    let (text, cited) =
        lore_agent::cite::read_cited(&mut stream, 1, attributor, &mut || {}, &mut |t| shown.push_str(t))
            .await
            .unwrap();
    assert_eq!(text, "Run this:\n1. Use apt-mark showmanual to list the packages [1].");
    assert_eq!(cited, vec![1]);
    assert_eq!(stream.finish_reason.as_deref(), Some(lore_agent::repeat::FINISH_REASON));
    // A few copies were shown before the loop was seen (the third, and what followed it in the
    // same piece), not forty.
    assert!(shown.matches("apt-mark").count() <= 4, "{shown}");
}
