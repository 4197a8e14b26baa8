//! Retries of chat requests: exponential backoff with jitter on connection errors, 429 (honouring
//! `Retry-After`) and 5xx, as the HTTP transport under async-openai's client.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;

/// When and how often to retry.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Delay before the first retry; each further retry doubles it.
    pub base_delay: Duration,
    /// Longest delay between attempts, also the cap on a server's `Retry-After`.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (0 for the first retry): the server's
    /// `Retry-After` when it sent one (capped), else `base × 2^attempt` capped, with "equal
    /// jitter" (a random point in the upper half) so that many clients do not retry in step.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_delay);
        }
        let exp = self.base_delay.saturating_mul(2u32.saturating_pow(attempt)).min(self.max_delay);
        let half = exp / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// True for the statuses worth retrying: 429 and the server errors that are usually passing.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// The wait a `Retry-After` header asks for, in its seconds form. (The HTTP-date form is rare
/// from chat endpoints and falls back to the backoff.)
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    value.parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0).map(Duration::from_secs_f64)
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
}

impl RetryingTransport {
    /// A transport over `client`.
    pub fn new(client: reqwest::Client, policy: RetryPolicy) -> Self {
        RetryingTransport { client, policy }
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
        Box::pin(async move {
            let mut attempt = 0u32;
            loop {
                let request = factory.build().await?;
                let last = attempt >= policy.max_retries;
                match client.execute(request).await {
                    Ok(resp) if resp.status().is_success() => return Ok(resp),
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        if !last && is_retryable_status(status) {
                            let wait = policy.delay(attempt, retry_after(resp.headers()));
                            drop(resp);
                            tokio::time::sleep(wait).await;
                            attempt += 1;
                            continue;
                        }
                        let body = resp.bytes().await.unwrap_or_default();
                        let message = error_message(&body);
                        return Err(OpenAIError::Boxed(Box::new(TransportError::Status { status, message })));
                    }
                    Err(e) if e.is_connect() || e.is_timeout() || e.is_request() => {
                        if last {
                            return Err(OpenAIError::Boxed(Box::new(TransportError::Connect(
                                connect_reason(&e),
                            ))));
                        }
                        tokio::time::sleep(policy.delay(attempt, None)).await;
                        attempt += 1;
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
        };
        for _ in 0..50 {
            let d0 = p.delay(0, None);
            assert!(d0 >= Duration::from_millis(50) && d0 <= Duration::from_millis(100), "{d0:?}");
            let d2 = p.delay(2, None);
            assert!(d2 >= Duration::from_millis(200) && d2 <= Duration::from_millis(400), "{d2:?}");
            let d9 = p.delay(9, None);
            assert!(d9 >= Duration::from_millis(500) && d9 <= Duration::from_millis(1000), "{d9:?}");
        }
        // Jitter: not every delay is the same.
        let many: std::collections::HashSet<_> = (0..20).map(|_| p.delay(3, None)).collect();
        assert!(many.len() > 1);
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let p = RetryPolicy { max_delay: Duration::from_secs(5), ..RetryPolicy::default() };
        assert_eq!(p.delay(0, Some(Duration::from_secs(2))), Duration::from_secs(2));
        assert_eq!(p.delay(0, Some(Duration::from_secs(600))), Duration::from_secs(5));
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(reqwest::header::RETRY_AFTER, "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn statuses() {
        for s in [429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s), "{s}");
        }
        for s in [400, 401, 403, 404, 422] {
            assert!(!is_retryable_status(s), "{s}");
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
