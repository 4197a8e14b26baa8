//! Retries of chat requests: exponential backoff with jitter on connection errors, 429 (honouring
//! `Retry-After`) and 5xx, as the HTTP transport under async-openai's client. The policy is the
//! one every network client of lore shares ([`RetryPolicy`], from lore-ingest through
//! lore-index); the chat client's numbers are [`CHAT_RETRY`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
pub use lore_index::RetryPolicy;
use lore_index::{Redactor, parse_retry_after};

/// The chat client's retries: 3 after the first attempt, waits from 250 ms doubling up to 20 s,
/// a `Retry-After` honoured up to 20 s, and the statuses 408, 429, 500, 502, 503 and 504 retried
/// (connection errors and timeouts are retried too). [`ChatConfig::retry`](crate::chat::ChatConfig::retry)
/// starts from it.
pub const CHAT_RETRY: RetryPolicy = RetryPolicy {
    max_retries: 3,
    base_delay: Duration::from_millis(250),
    max_delay: Duration::from_secs(20),
    max_retry_after: Duration::from_secs(20),
    retry_statuses: &[408..=408, 429..=429, 500..=500, 502..=504],
};

/// The wait a response's `Retry-After` header asks for, in seconds or as an HTTP date (not
/// capped: [`RetryPolicy::delay`] caps it).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, SystemTime::now())
}

/// A failure of the transport after its retries, carried through async-openai's boxed error so
/// the caller can tell them apart.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The endpoint could not be reached.
    #[error("{0}")]
    Connect(String),
    /// The endpoint answered with an error status.
    #[error("status {status}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The body's error message, shortened.
        message: String,
    },
}

/// The HTTP transport for async-openai: executes each request with reqwest, retrying as
/// [`RetryPolicy`] says.
#[derive(Clone, Debug)]
pub struct RetryingTransport {
    client: reqwest::Client,
    policy: RetryPolicy,
    redactor: Redactor,
}

impl RetryingTransport {
    /// A transport over `client`.
    pub fn new(client: reqwest::Client, policy: RetryPolicy) -> Self {
        RetryingTransport { client, policy, redactor: Redactor::new() }
    }

    /// The transport, hiding what `redactor` hides (the API key, the endpoint's password) from
    /// its errors: an error body that echoes them is redacted before it is shortened, so no
    /// part of a secret is left at the cut.
    pub fn with_redactor(mut self, redactor: Redactor) -> Self {
        self.redactor = redactor;
        self
    }
}

/// Longest part of an error body kept in a message.
const MESSAGE_CHARS: usize = 300;

/// The `error.message` of an OpenAI-style error body, else the body itself, shortened.
pub fn error_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let from_json = serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|v| {
        let m = v.pointer("/error/message").or_else(|| v.get("error")).or_else(|| v.get("message"))?;
        Some(m.as_str().map(str::to_string).unwrap_or_else(|| m.to_string()))
    });
    let msg = from_json.unwrap_or_else(|| text.split_whitespace().collect::<Vec<_>>().join(" "));
    let msg = if msg.is_empty() { "(empty response)".to_string() } else { msg };
    if msg.chars().count() > MESSAGE_CHARS {
        format!("{}…", msg.chars().take(MESSAGE_CHARS).collect::<String>())
    } else {
        msg
    }
}

/// The reason of a reqwest error in a few words, without the URL (the caller names it).
fn connect_reason(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut reason = if e.is_timeout() { "timed out".to_string() } else { String::new() };
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() && !reason.contains(&text) {
            reason = text;
        }
        source = s.source();
    }
    if reason.is_empty() { e.to_string() } else { reason }
}

type ResponseFuture = Pin<Box<dyn Future<Output = Result<reqwest::Response, OpenAIError>> + Send>>;

impl tower::Service<HttpRequestFactory> for RetryingTransport {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Self::Future {
        let client = self.client.clone();
        let policy = self.policy.clone();
        let redactor = self.redactor.clone();
        Box::pin(async move {
            let mut retries = 0u32;
            loop {
                let request = factory.build().await?;
                let last = !policy.allows_retry(retries);
                match client.execute(request).await {
                    Ok(resp) if resp.status().is_success() => return Ok(resp),
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        if !last && policy.retries_status(status) {
                            retries += 1;
                            let wait = policy.delay(retries, retry_after(resp.headers()));
                            drop(resp);
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                        let body = resp.bytes().await.unwrap_or_default();
                        let message =
                            error_message(redactor.redact(&String::from_utf8_lossy(&body)).as_bytes());
                        return Err(OpenAIError::Boxed(Box::new(TransportError::Status { status, message })));
                    }
                    Err(e) if e.is_connect() || e.is_timeout() || e.is_request() => {
                        if last {
                            return Err(OpenAIError::Boxed(Box::new(TransportError::Connect(
                                redactor.redact(&connect_reason(&e)),
                            ))));
                        }
                        retries += 1;
                        tokio::time::sleep(policy.delay(retries, None)).await;
                    }
                    Err(e) => return Err(OpenAIError::Reqwest(e)),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_and_caps() {
        let p = RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            ..CHAT_RETRY
        };
        for _ in 0..50 {
            let d0 = p.delay(1, None);
            assert!(d0 >= Duration::from_millis(50) && d0 <= Duration::from_millis(100), "{d0:?}");
            let d2 = p.delay(3, None);
            assert!(d2 >= Duration::from_millis(200) && d2 <= Duration::from_millis(400), "{d2:?}");
            let d9 = p.delay(10, None);
            assert!(d9 >= Duration::from_millis(500) && d9 <= Duration::from_millis(1000), "{d9:?}");
        }
        // Jitter: not every delay is the same.
        let many: std::collections::HashSet<_> = (0..20).map(|_| p.delay(4, None)).collect();
        assert!(many.len() > 1);
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        // As before the policy was shared, the longest backoff also caps `Retry-After`.
        assert_eq!(CHAT_RETRY.max_retry_after, CHAT_RETRY.max_delay);
        let p = RetryPolicy {
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(5),
            ..CHAT_RETRY
        };
        assert_eq!(p.delay(1, Some(Duration::from_secs(2))), Duration::from_secs(2));
        assert_eq!(p.delay(1, Some(Duration::from_secs(600))), Duration::from_secs(5));
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        // The HTTP-date form is read too (the shared parser); a date in the past asks for no wait.
        h.insert(reqwest::header::RETRY_AFTER, "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(reqwest::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn statuses() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(CHAT_RETRY.retries_status(s), "{s}");
        }
        for s in [400, 401, 403, 404, 422, 501, 505] {
            assert!(!CHAT_RETRY.retries_status(s), "{s}");
        }
    }

    #[test]
    fn error_messages_are_short_and_plain() {
        assert_eq!(
            error_message(br#"{"error":{"message":"model not found","type":"x"}}"#),
            "model not found"
        );
        assert_eq!(error_message(br#"{"error":"bad key"}"#), "bad key");
        assert_eq!(error_message(b"<html>\n  Bad   Gateway </html>"), "<html> Bad Gateway </html>");
        assert_eq!(error_message(b""), "(empty response)");
        assert!(error_message("x".repeat(1000).as_bytes()).chars().count() <= MESSAGE_CHARS + 1);
    }
}
