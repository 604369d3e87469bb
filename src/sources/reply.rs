//! Answering a mention on its own network, through the brand's account.
//! Each network's request shapes live in its connector's file (a
//! `…Replier` beside the `Connector`); what every reply needs is here once:
//! sending under the source's rate limit (shared with its polling), token
//! caching, capped bodies, errors that carry the network's reason but no
//! secret or URL, and the one distinction exactly-once delivery rests on:
//! a failure that certainly posted nothing ([`ReplyError::NotPosted`],
//! [`ReplyError::Refused`]) against one whose outcome is unknown
//! ([`ReplyError::Unknown`]), after which the network is asked before
//! anything is sent again ([`Replier::find`]). The outbox that drives this
//! is the `reply` module, above this one.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use governor::DefaultDirectRateLimiter;
use reqwest::{RequestBuilder, StatusCode};

use super::auth::OAuth;
use super::{SourceConfig, SourceSpec};
use crate::clock::Clock;

/// The mention being answered, as stored.
#[derive(Debug, Clone)]
pub struct Target {
    /// The network's id of the post or review (the store's `source_id`).
    pub source_id: String,
    pub url: Option<String>,
    pub author: Option<String>,
}

/// One reply to post.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Unique per reply, fixed when it is queued: the idempotency key where
    /// the network takes one, the record key on Bluesky.
    pub key: String,
    pub text: String,
    pub target: Target,
    /// When the first attempt began: a reply found on the network from
    /// before then is not this one.
    pub since: DateTime<Utc>,
}

/// A reply the network accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// The network's id of the reply.
    pub id: String,
    /// Where people see it.
    pub url: Option<String>,
}

/// Why a reply is not (known to be) posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyError {
    /// Certainly not posted (a 429, a refused connection, a failed check):
    /// try again, not before `after` when the network said so.
    NotPosted { reason: String, after: Option<Duration> },
    /// Perhaps posted: the request went out and no clear answer came back
    /// (a timeout, a broken response, a 5xx). Look before sending again.
    Unknown(String),
    /// The network refused it (a 4xx): trying again will not help.
    Refused(String),
}

impl ReplyError {
    pub fn reason(&self) -> &str {
        match self {
            ReplyError::NotPosted { reason, .. } | ReplyError::Unknown(reason) | ReplyError::Refused(reason) => reason,
        }
    }

    pub(crate) fn not_posted(reason: impl Into<String>) -> ReplyError {
        ReplyError::NotPosted {
            reason: reason.into(),
            after: None,
        }
    }
}

/// A network's answer that does not read as documented: the request was
/// answered, so nothing tells whether it posted.
pub(crate) fn unreadable(what: &str, e: impl std::fmt::Display) -> ReplyError {
    ReplyError::Unknown(format!("unreadable answer to {what}: {e}"))
}

/// The longest reply each network takes, in characters (Bluesky counts
/// graphemes, X weighs some characters double: characters are the
/// conservative reading for both).
pub fn max_chars(spec: &SourceSpec) -> usize {
    match spec {
        SourceSpec::Mastodon(_) => 500,
        SourceSpec::Bluesky(_) => 300,
        SourceSpec::X(_) => 280,
        SourceSpec::Reddit(_) => 10_000,
        SourceSpec::Youtube(_) => 10_000,
        SourceSpec::Googleplay(_) => 350,
        SourceSpec::Appstoreconnect(_) => 5970,
        SourceSpec::GoogleBusiness(_) => 4096,
        SourceSpec::Facebook(_) => 8000,
        SourceSpec::Instagram(_) => 2200,
        _ => 0,
    }
}

/// A source's way to answer, when it is configured with the brand's
/// account. Dispatch is a plain `match`: each variant is one connector
/// file's replier.
pub enum Replier {
    Mastodon(super::mastodon::MastodonReplier),
    Bluesky(super::bluesky::BlueskyReplier),
    X(super::x::XReplier),
    Reddit(super::reddit::RedditReplier),
    Youtube(super::youtube::YouTubeReplier),
    Googleplay(super::googleplay::GooglePlayReplier),
    Appstoreconnect(super::appstoreconnect::AppStoreConnectReplier),
    GoogleBusiness(super::google_business::GoogleBusinessReplier),
    /// Facebook and Instagram comments.
    Graph(super::graph::GraphReplier),
}

impl Replier {
    /// The source's replier, if its config gives it an account to answer
    /// with.
    pub fn for_source(config: &SourceConfig) -> Option<Replier> {
        Some(match &config.spec {
            SourceSpec::Mastodon(own) => Replier::Mastodon(super::mastodon::MastodonReplier::new(config, own)?),
            SourceSpec::Bluesky(own) => Replier::Bluesky(super::bluesky::BlueskyReplier::new(own)?),
            SourceSpec::X(own) => Replier::X(super::x::XReplier::new(config, own)?),
            SourceSpec::Reddit(own) => Replier::Reddit(super::reddit::RedditReplier::new(config, own)?),
            SourceSpec::Youtube(own) => Replier::Youtube(super::youtube::YouTubeReplier::new(config, own)?),
            SourceSpec::Googleplay(own) => Replier::Googleplay(super::googleplay::GooglePlayReplier::new(config, own)?),
            SourceSpec::Appstoreconnect(own) => {
                Replier::Appstoreconnect(super::appstoreconnect::AppStoreConnectReplier::new(config, own)?)
            }
            SourceSpec::GoogleBusiness(own) => {
                Replier::GoogleBusiness(super::google_business::GoogleBusinessReplier::new(config, own)?)
            }
            SourceSpec::Facebook(own) => Replier::Graph(super::facebook::replier(config, own)?),
            SourceSpec::Instagram(own) => Replier::Graph(super::instagram::replier(config, own)?),
            _ => return None,
        })
    }

    /// Posts `draft` as a threaded reply to its target.
    pub async fn post(&self, net: &Net, draft: &Draft) -> Result<Posted, ReplyError> {
        match self {
            Replier::Mastodon(r) => r.post(net, draft).await,
            Replier::Bluesky(r) => r.post(net, draft).await,
            Replier::X(r) => r.post(net, draft).await,
            Replier::Reddit(r) => r.post(net, draft).await,
            Replier::Youtube(r) => r.post(net, draft).await,
            Replier::Googleplay(r) => r.post(net, draft).await,
            Replier::Appstoreconnect(r) => r.post(net, draft).await,
            Replier::GoogleBusiness(r) => r.post(net, draft).await,
            Replier::Graph(r) => r.post(net, draft).await,
        }
    }

    /// After an attempt whose outcome is unknown: the reply, if the network
    /// shows that it was posted; `None` when it was not, so that sending it
    /// again cannot make a second one. (Where posting again replaces the
    /// one reply a review has, `None` is always the answer.)
    pub async fn find(&self, net: &Net, draft: &Draft) -> Result<Option<Posted>, ReplyError> {
        match self {
            Replier::Mastodon(r) => r.find(net, draft).await,
            Replier::Bluesky(r) => r.find(net, draft).await,
            Replier::X(r) => r.find(net, draft).await,
            Replier::Reddit(r) => r.find(net, draft).await,
            Replier::Youtube(r) => r.find(net, draft).await,
            Replier::Appstoreconnect(r) => r.find(net, draft).await,
            Replier::Graph(r) => r.find(net, draft).await,
            Replier::Googleplay(_) | Replier::GoogleBusiness(_) => Ok(None),
        }
    }
}

/// How one source's replies reach its network: the shared HTTP client, the
/// rate limiter its polling uses too, its timeout and body cap, and the
/// OAuth token once fetched.
pub struct Net {
    http: reqwest::Client,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    timeout: Duration,
    max_body: usize,
    token: tokio::sync::Mutex<Option<(String, DateTime<Utc>)>>,
    clock: Arc<dyn Clock>,
}

/// Largest error message kept from a network's answer.
const MAX_REASON_CHARS: usize = 300;

impl Net {
    pub fn new(
        http: reqwest::Client,
        config: &SourceConfig,
        limiter: Option<Arc<DefaultDirectRateLimiter>>,
        clock: Arc<dyn Clock>,
    ) -> Net {
        Net {
            http,
            limiter,
            timeout: config.timeout.0.to_std().unwrap_or(Duration::from_secs(20)),
            max_body: config.max_body_bytes,
            token: tokio::sync::Mutex::new(None),
            clock,
        }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Sends a request that may post (`writes`) or only reads, and returns
    /// a 2xx answer's body. Any other answer is an error, classified.
    pub async fn send(&self, request: RequestBuilder, writes: bool) -> Result<Vec<u8>, ReplyError> {
        let (status, body) = self.exchange(request, writes).await?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(ReplyError::Refused(refusal(status, &body)))
        }
    }

    /// Sends a request and returns any answer below 500 other than 429,
    /// for a caller that reads a 404 as "not there".
    pub async fn exchange(&self, request: RequestBuilder, writes: bool) -> Result<(StatusCode, Vec<u8>), ReplyError> {
        if let Some(limiter) = &self.limiter {
            limiter.until_ready().await;
        }
        let failed = |reason: String| {
            if writes {
                ReplyError::Unknown(reason)
            } else {
                ReplyError::not_posted(reason)
            }
        };
        let response = match request.timeout(self.timeout).send().await {
            Ok(r) => r,
            // Nothing reached the network: certainly not posted.
            Err(e) if e.is_connect() => return Err(ReplyError::not_posted(crate::http::describe(e))),
            Err(e) => return Err(failed(crate::http::describe(e))),
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = crate::http::read_capped(response, self.max_body)
            .await
            .map_err(|e| failed(e.to_string()))?;
        if status == StatusCode::TOO_MANY_REQUESTS {
            let after = headers
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| crate::http::parse_retry_after(v, self.now()));
            return Err(ReplyError::NotPosted {
                reason: format!("rate limited: {}", refusal(status, &body)),
                after,
            });
        }
        if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
            return Err(failed(refusal(status, &body)));
        }
        Ok((status, body))
    }

    /// A bearer token for `oauth`, fetched once and kept until shortly
    /// before it expires.
    pub async fn bearer(&self, oauth: &OAuth) -> Result<String, ReplyError> {
        let mut cached = self.token.lock().await;
        let now = self.now();
        if let Some((token, until)) = cached.as_ref() {
            if *until > now {
                return Ok(token.clone());
            }
        }
        let (token, until) = super::auth::fetch(&self.http, oauth, now)
            .await
            .map_err(ReplyError::not_posted)?;
        *cached = Some((token.clone(), until));
        Ok(token)
    }

    /// Forgets the token (the network refused it).
    pub async fn forget_token(&self) {
        *self.token.lock().await = None;
    }
}

/// A network's refusal in a line: the status and the message its error
/// body carries (the fields the networks use: `error`, `message`,
/// `error_description`, `detail`, `errors[0].message`…), never the URL.
pub fn refusal(status: StatusCode, body: &[u8]) -> String {
    let message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| error_message(&v))
        .unwrap_or_default();
    let message: String = message.chars().take(MAX_REASON_CHARS).collect();
    if message.is_empty() {
        format!("the network answered {status}")
    } else {
        format!("the network answered {status}: {message}")
    }
}

fn error_message(v: &serde_json::Value) -> Option<String> {
    let text = |v: &serde_json::Value| v.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    for key in ["error_description", "message", "detail", "error"] {
        match v.get(key) {
            Some(inner @ serde_json::Value::Object(_)) => {
                if let Some(m) = error_message(inner) {
                    return Some(m);
                }
            }
            Some(value) => {
                if let Some(m) = text(value) {
                    return Some(m);
                }
            }
            None => {}
        }
    }
    let first = v.get("errors")?.get(0)?;
    error_message(first).or_else(|| text(first))
}

/// A record key for Bluesky and an idempotency key for the rest: an AT
/// Protocol TID (microseconds since 1970 and a 10-bit clock id in 13
/// sortable base-32 characters), so that one key serves every network.
pub fn new_key(at: DateTime<Utc>, clock_id: u16) -> String {
    const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";
    let micros = at.timestamp_micros().max(0) as u64 & ((1 << 53) - 1);
    let value = (micros << 10) | u64::from(clock_id & 0x3ff);
    (0..13)
        .rev()
        .map(|i| ALPHABET[((value >> (i * 5)) & 31) as usize] as char)
        .collect()
}

/// `Some` when the text is blank-free, for optional config strings.
pub(crate) fn given(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_13_sortable_characters() {
        let early = new_key(DateTime::from_timestamp(1_700_000_000, 0).unwrap(), 7);
        let late = new_key(DateTime::from_timestamp(1_700_000_001, 0).unwrap(), 7);
        assert_eq!(early.len(), 13);
        assert!(early < late);
        assert!(early.starts_with(|c: char| "234567abcdefghij".contains(c)));
    }

    #[test]
    fn refusals_carry_the_networks_message() {
        let body = br#"{"errors":[{"message":"You are not allowed to reply"}]}"#;
        assert_eq!(
            refusal(StatusCode::FORBIDDEN, body),
            "the network answered 403 Forbidden: You are not allowed to reply"
        );
        assert_eq!(
            refusal(
                StatusCode::BAD_REQUEST,
                br#"{"error":"InvalidRequest","message":"bad parent"}"#
            ),
            "the network answered 400 Bad Request: bad parent"
        );
        assert_eq!(
            refusal(StatusCode::NOT_FOUND, b"<html>"),
            "the network answered 404 Not Found"
        );
    }
}
