//! When to try a request again and how long to wait first: the one retry policy of lore's
//! network clients (the web fetcher, the chat client, the Qdrant server store).
//!
//! A [`RetryPolicy`] is exponential backoff with "equal jitter": before retry number `n` the
//! ceiling is `base_delay × 2^(n-1)`, capped at `max_delay`, and the wait a random point in the
//! upper half of it, so that clients failing together do not retry in step. A server's
//! `Retry-After` ([`parse_retry_after`]) is honoured, capped at `max_retry_after`. Each caller
//! keeps its own numbers and its own idea of what is worth retrying, as a value of this type:
//! `FETCH_RETRY` (`web/fetch.rs`), `CHAT_RETRY` (lore-agent's `retry.rs`) and the Qdrant store's
//! `RETRY` (lore-index's `vector/server.rs`).

use std::ops::RangeInclusive;
use std::time::{Duration, SystemTime};

/// How often to retry a request and how long to wait before each retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = no retry).
    pub max_retries: u32,
    /// The ceiling of the wait before the first retry; it doubles with each further retry.
    pub base_delay: Duration,
    /// Longest ceiling of a backoff wait.
    pub max_delay: Duration,
    /// Longest wait a server may ask for with `Retry-After`.
    pub max_retry_after: Duration,
    /// HTTP statuses worth another attempt (empty for a client that speaks no HTTP).
    pub retry_statuses: &'static [RangeInclusive<u16>],
}

impl RetryPolicy {
    /// Whether another attempt may follow when `retries` retries have been made already.
    pub fn allows_retry(&self, retries: u32) -> bool {
        retries < self.max_retries
    }

    /// Whether an answer with HTTP `status` is worth another attempt.
    pub fn retries_status(&self, status: u16) -> bool {
        self.retry_statuses.iter().any(|r| r.contains(&status))
    }

    /// The backoff wait before retry number `retry` (1 for the first retry), with a random
    /// jitter.
    pub fn backoff(&self, retry: u32) -> Duration {
        self.backoff_with(retry, fastrand::f64())
    }

    /// The backoff wait before retry number `retry` (1 for the first retry) for a given
    /// `jitter` in `[0, 1)` (clamped): the ceiling `base_delay × 2^(retry-1)`, capped at
    /// `max_delay`, less `jitter` times half of it.
    pub fn backoff_with(&self, retry: u32, jitter: f64) -> Duration {
        let doublings = retry.saturating_sub(1);
        let ceiling = self.base_delay.saturating_mul(2u32.saturating_pow(doublings)).min(self.max_delay);
        ceiling.mul_f64(1.0 - 0.5 * jitter.clamp(0.0, 1.0))
    }

    /// A server's `Retry-After` wait, capped at `max_retry_after`.
    pub fn retry_after(&self, wait: Duration) -> Duration {
        wait.min(self.max_retry_after)
    }

    /// The wait before retry number `retry` (1 for the first retry): the server's `Retry-After`
    /// when it sent one (capped), else the [`backoff`](Self::backoff).
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(wait) => self.retry_after(wait),
            None => self.backoff(retry),
        }
    }
}

/// The wait a `Retry-After` header value asks for, measured from `now`: delay-seconds (`120`,
/// also with a fraction, `1.5`) or an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`); a date in the
/// past means no wait. Not capped (see [`RetryPolicy::retry_after`]). `None` when the value is
/// none of these.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let when = SystemTime::from(when.with_timezone(&chrono::Utc));
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUSES: &[RangeInclusive<u16>] = &[408..=408, 429..=429, 500..=599];

    fn policy(base_ms: u64, max_ms: u64) -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(base_ms),
            max_delay: Duration::from_millis(max_ms),
            max_retry_after: Duration::from_secs(30),
            retry_statuses: STATUSES,
        }
    }

    #[test]
    fn backoff_doubles_within_the_upper_half_and_is_capped() {
        let p = policy(100, 5000);
        for retry in 1..40 {
            let ceiling = (p.base_delay * (1 << (retry - 1).min(16))).min(p.max_delay);
            for jitter in [0.0, 0.25, 0.5, 0.999_999] {
                let d = p.backoff_with(retry, jitter);
                assert!(d <= ceiling && d >= ceiling / 2, "retry {retry} jitter {jitter}: {d:?}");
            }
            for _ in 0..20 {
                let d = p.backoff(retry);
                assert!(d <= ceiling && d >= ceiling / 2, "retry {retry}: {d:?}");
            }
        }
        assert_eq!(p.backoff_with(1, 0.0), p.base_delay);
        assert_eq!(p.backoff_with(2, 0.0), p.base_delay * 2);
        assert_eq!(p.backoff_with(100, 0.0), p.max_delay);
        assert_eq!(p.backoff_with(u32::MAX, 0.0), p.max_delay);
        // Retry 0 is treated as the first.
        assert_eq!(p.backoff_with(0, 0.0), p.base_delay);
        // Out-of-range jitter is clamped.
        assert_eq!(p.backoff_with(1, 7.0), p.base_delay / 2);
        assert_eq!(p.backoff_with(1, -1.0), p.base_delay);
    }

    #[test]
    fn jitter_is_random() {
        let p = policy(100, 5000);
        let many: std::collections::HashSet<_> = (0..50).map(|_| p.backoff(4)).collect();
        assert!(many.len() > 1, "{many:?}");
    }

    #[test]
    fn retry_after_replaces_the_backoff_and_is_capped() {
        let p = RetryPolicy { max_retry_after: Duration::from_secs(5), ..policy(100, 1000) };
        assert_eq!(p.delay(1, Some(Duration::from_secs(2))), Duration::from_secs(2));
        assert_eq!(p.delay(1, Some(Duration::from_secs(600))), Duration::from_secs(5));
        assert_eq!(p.delay(1, Some(Duration::ZERO)), Duration::ZERO);
        assert_eq!(p.retry_after(Duration::MAX), Duration::from_secs(5));
        let d = p.delay(2, None);
        assert!(d >= Duration::from_millis(100) && d <= Duration::from_millis(200), "{d:?}");
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_400); // 2015-10-21 07:26:40 UTC
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("3600", now), Some(Duration::from_secs(3600)));
        assert_eq!(parse_retry_after("1.5", now), Some(Duration::from_millis(1500)));
        assert_eq!(parse_retry_after("1e300", now), Some(Duration::MAX));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(Duration::from_secs(80)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:26:50 GMT", now), Some(Duration::from_secs(10)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(Duration::ZERO));
        for bad in ["soon", "-5", "-0.5", "NaN", "inf", ""] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }

    #[test]
    fn attempts_and_statuses() {
        let p = policy(100, 1000);
        assert!(p.allows_retry(0) && p.allows_retry(2) && !p.allows_retry(3));
        assert!(!RetryPolicy { max_retries: 0, ..p.clone() }.allows_retry(0));
        for s in [408, 429, 500, 502, 503, 504, 599] {
            assert!(p.retries_status(s), "{s}");
        }
        for s in [200, 304, 400, 401, 403, 404, 410, 451, 600] {
            assert!(!p.retries_status(s), "{s}");
        }
        assert!(!RetryPolicy { retry_statuses: &[], ..p }.retries_status(503));
    }
}
