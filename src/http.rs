//! HTTP plumbing written once for every part that talks to the outside:
//! the sources, the alert channels and the digest's Slack target. One
//! client builder (rustls, our User-Agent, a connect timeout), one way to
//! describe a failure without its URL (URLs carry keys), one `Retry-After`
//! reader, one capped body read and one retry policy ([`Backoff`]).

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Who we are, to every server (Reddit requires a descriptive one).
pub const USER_AGENT: &str = concat!(
    "complaint-monitor/",
    env!("CARGO_PKG_VERSION"),
    " (brand mention monitor; +https://github.com/complaint-monitor)"
);

/// The longest a server may make us wait with `Retry-After`.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(86_400);

/// What went wrong talking to a server, said without the URL (which may
/// carry a key or, for Slack, the webhook's secret path).
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    #[error("{what}: {source}")]
    Transport {
        what: &'static str,
        #[source]
        source: reqwest::Error,
    },
    #[error("response body larger than the {cap}-byte limit")]
    TooLarge { cap: usize },
}

impl From<reqwest::Error> for HttpError {
    fn from(e: reqwest::Error) -> Self {
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "could not connect"
        } else if e.is_body() || e.is_decode() {
            "the response broke off"
        } else {
            "request failed"
        };
        HttpError::Transport {
            what,
            source: e.without_url(),
        }
    }
}

/// The HTTP client: TLS through rustls with certificate checks, gzip, our
/// User-Agent, 10 seconds to connect (each request sets its own timeout).
pub fn client() -> Result<reqwest::Client, HttpError> {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .gzip(true)
        .build()
        .map_err(HttpError::Client)
}

/// A failed request, said without its URL.
pub fn describe(e: reqwest::Error) -> String {
    HttpError::from(e).to_string()
}

/// `Retry-After` as seconds or an HTTP date (against `now`), at most a day.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
    }
    let when = DateTime::parse_from_rfc2822(value).ok()?;
    let wait = when.with_timezone(&Utc) - now;
    Some(wait.to_std().unwrap_or_default().min(MAX_RETRY_AFTER))
}

/// Reads a body, refusing one larger than `cap` bytes (before reading it
/// when the server says its length, as it goes otherwise).
pub async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>, HttpError> {
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Err(HttpError::TooLarge { cap });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > cap {
            return Err(HttpError::TooLarge { cap });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The one retry policy for everything that retries over the network (a
/// poll's page fetch, a source's failure streak, an alert's delivery):
/// exponential from `base`, capped at `max`, with jitter of ±50 % so that
/// retries from many workers do not land together, and never sooner than
/// the server asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    pub const fn new(base: Duration, max: Duration) -> Self {
        Backoff { base, max }
    }

    /// The wait before retry number `retry` (1 for the first retry), before
    /// jitter: `base · 2^(retry-1)`, at most `max`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(30);
        self.base.saturating_mul(1u32 << doublings).min(self.max)
    }

    /// The wait before retry number `retry`, jittered, and at least what the
    /// server asked for in `Retry-After` (itself capped at a day).
    pub fn delay(&self, retry: u32, server_asked: Option<Duration>) -> Duration {
        let jittered = self
            .ceiling(retry)
            .mul_f64(rand::Rng::gen_range(&mut rand::thread_rng(), 0.5..1.5));
        match server_asked {
            Some(after) => jittered.max(after.min(MAX_RETRY_AFTER)),
            None => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap_with_jitter_and_honours_the_server() {
        let policy = Backoff::new(Duration::from_secs(2), Duration::from_secs(60));
        assert_eq!(policy.ceiling(1), Duration::from_secs(2));
        assert_eq!(policy.ceiling(2), Duration::from_secs(4));
        assert_eq!(policy.ceiling(5), Duration::from_secs(32));
        assert_eq!(policy.ceiling(6), Duration::from_secs(60));
        assert_eq!(policy.ceiling(u32::MAX), Duration::from_secs(60));
        for retry in 1..8 {
            let wait = policy.delay(retry, None);
            let ceiling = policy.ceiling(retry);
            assert!(
                wait >= ceiling.mul_f64(0.5) && wait <= ceiling.mul_f64(1.5),
                "{retry}: {wait:?}"
            );
        }
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(300))),
            Duration::from_secs(300)
        );
        assert_eq!(policy.delay(1, Some(Duration::from_secs(10 * 86_400))), MAX_RETRY_AFTER);
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z").unwrap().to_utc();
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("99999999999", now), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
