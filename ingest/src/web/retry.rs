//! When to try a request again and how long to wait first.

use std::time::{Duration, SystemTime};

/// The longest wait between two attempts, whatever the server asks for.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

/// Whether a response status is worth another attempt: request timeout, too many requests, and
/// server errors.
pub fn retryable_status(status: u16) -> bool {
    status == 408 || status == 429 || (500..=599).contains(&status)
}

/// The wait a `Retry-After` header asks for: delay-seconds (`120`) or an HTTP date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`), measured from `now`; a date in the past means no wait.
/// Capped at [`MAX_WAIT`]. `None` when the value is neither.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
        let when = SystemTime::from(when.with_timezone(&chrono::Utc));
        when.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_WAIT))
}

/// Exponential backoff with jitter before attempt `attempt + 1` (`attempt` counts from 1):
/// `base * 2^(attempt-1)`, scaled by a random factor in [0.5, 1.5), capped at [`MAX_WAIT`].
pub fn backoff(attempt: u32, base: Duration) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let jitter = 0.5 + fastrand::f64();
    exp.mul_f64(jitter).min(MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_400); // 2015-10-21 07:26:40 UTC
        assert_eq!(retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after("3600", now), Some(MAX_WAIT));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(MAX_WAIT.min(Duration::from_secs(80)))
        );
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:26:50 GMT", now), Some(Duration::from_secs(10)));
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("-5", now), None);
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let base = Duration::from_millis(100);
        for attempt in 1..=4 {
            let nominal = base * (1 << (attempt - 1));
            let w = backoff(attempt, base);
            assert!(w >= nominal / 2 && w < nominal * 3 / 2, "attempt {attempt}: {w:?}");
        }
        assert_eq!(backoff(40, Duration::from_secs(1)), MAX_WAIT);
    }

    #[test]
    fn which_statuses_are_retried() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(retryable_status(s), "{s}");
        }
        for s in [400, 401, 403, 404, 410, 451] {
            assert!(!retryable_status(s), "{s}");
        }
    }
}
