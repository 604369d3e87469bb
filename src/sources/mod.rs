//! Where mentions come from: [`replay`] of recorded feeds, and live
//! connectors, one file each behind the small [`Connector`] trait. Everything
//! generic — HTTP, rate limits (client quota and the server's own signals),
//! retries, body caps, cursors stored with the mentions they cover, health —
//! lives once in [`poll`]; a connector only builds a request and parses a page.

pub mod appstore;
pub mod bluesky;
pub mod google_places;
pub mod hackernews;
pub mod json;
pub mod mastodon;
pub mod poll;
pub mod reddit;
pub mod replay;
pub mod rss;
pub mod trustpilot;
pub mod x;
pub mod yelp;
pub mod youtube;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};

use crate::alert::channels::Secret;
use crate::clock::Span;
use crate::mention::Mention;

/// One `[[sources]]` table. The keys common to all sources, then each
/// connector's own (documented in `config/example.toml` and `docs/sources.md`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub name: String,
    pub kind: SourceKind,
    /// The service's address (default: the real one); tests point it elsewhere.
    #[serde(default)]
    pub base_url: Option<String>,
    /// A configured brand this source's query belongs to.
    #[serde(default)]
    pub brand: Option<String>,
    /// How often to poll.
    #[serde(default = "default_every")]
    pub every: Span,
    /// Search text (Bluesky, Hacker News).
    #[serde(default)]
    pub query: Option<String>,
    /// Hashtag without `#` (Mastodon).
    #[serde(default)]
    pub hashtag: Option<String>,
    /// Bearer token, if the service wants one: use `${ENV_VAR}`.
    #[serde(default)]
    pub token: Option<Secret>,
    /// API key (YouTube): use `${ENV_VAR}`.
    #[serde(default)]
    pub api_key: Option<Secret>,
    /// OAuth client credentials (Reddit): use `${ENV_VAR}`.
    #[serde(default)]
    pub client_id: Option<Secret>,
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// Where to fetch OAuth tokens (default: the service's own).
    #[serde(default)]
    pub auth_url: Option<String>,
    /// Google Places: the place whose reviews to watch.
    #[serde(default)]
    pub place_id: Option<String>,
    /// Yelp, Trustpilot: the business whose reviews to watch.
    #[serde(default)]
    pub business_id: Option<String>,
    /// App Store: the app's numeric id, and the storefront country.
    #[serde(default)]
    pub app_id: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    /// Reddit: search one subreddit instead of all of Reddit.
    #[serde(default)]
    pub subreddit: Option<String>,
    /// YouTube: the video whose comments to watch, or a whole channel's.
    #[serde(default)]
    pub video_id: Option<String>,
    #[serde(default)]
    pub channel_id: Option<String>,
    /// Generic JSON API: where the items and each field are (see [`json`]).
    #[serde(default)]
    pub json: Option<json::JsonMapping>,
    /// Sources with the same credential share one client-side limiter.
    #[serde(default)]
    pub credential: Option<String>,
    /// Client-side quota: at most `requests` per `per`.
    #[serde(default)]
    pub rate_limit: Option<RateLimitConfig>,
    /// Author lookups (Reddit's `/user/{name}/about`, Bluesky's profiles)
    /// at most: `requests` per `per`, on top of the searches.
    #[serde(default = "default_author_lookups")]
    pub author_lookups: RateLimitConfig,
    /// Pages walked at most in one poll (the backfill limit).
    #[serde(default = "default_max_pages")]
    pub max_pages: u32,
    /// Items asked for per page.
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Largest response body read, in bytes.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Time allowed for one request.
    #[serde(default = "default_timeout")]
    pub timeout: Span,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    pub requests: u32,
    pub per: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Mastodon,
    Bluesky,
    Hackernews,
    X,
    Youtube,
    Reddit,
    Appstore,
    Rss,
    Yelp,
    Trustpilot,
    GooglePlaces,
    Json,
}

fn default_every() -> Span {
    Span(chrono::Duration::minutes(2))
}
fn default_author_lookups() -> RateLimitConfig {
    RateLimitConfig {
        requests: 30,
        per: Span(chrono::Duration::minutes(1)),
    }
}
fn default_max_pages() -> u32 {
    5
}
fn default_page_size() -> u32 {
    40
}
fn default_max_body() -> usize {
    4 * 1024 * 1024
}
fn default_timeout() -> Span {
    Span(chrono::Duration::seconds(20))
}

impl SourceConfig {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.name.trim().is_empty() {
            problems.push(("name", "must not be empty".to_string()));
        }
        if let Err(e) = self
            .timeout
            .check(chrono::Duration::seconds(1), chrono::Duration::minutes(10))
        {
            problems.push(("timeout", e));
        }
        if !(1..=10_000).contains(&self.author_lookups.requests) {
            problems.push(("author_lookups.requests", "must be from 1 to 10000".to_string()));
        }
        if let Err(e) = self
            .author_lookups
            .per
            .check(chrono::Duration::seconds(1), chrono::Duration::days(1))
        {
            problems.push(("author_lookups.per", e));
        }
        if !(1..=256 * 1024 * 1024).contains(&self.max_body_bytes) {
            problems.push(("max_body_bytes", "must be from 1 to 268435456 (256 MiB)".to_string()));
        }
        let needs = |key: &'static str, v: &Option<String>, problems: &mut Vec<(&'static str, String)>| {
            if v.as_deref().is_none_or(|s| s.trim().is_empty()) {
                problems.push((key, "is required for this kind".to_string()));
            }
        };
        match self.kind {
            SourceKind::Mastodon => needs("hashtag", &self.hashtag, &mut problems),
            SourceKind::Bluesky | SourceKind::Hackernews => needs("query", &self.query, &mut problems),
            SourceKind::X => {
                needs("query", &self.query, &mut problems);
                if self.token.is_none() {
                    problems.push(("token", "is required for X: an app-only bearer token".to_string()));
                }
            }
            SourceKind::Reddit => {
                needs("query", &self.query, &mut problems);
                if self.client_id.is_none() || self.client_secret.is_none() {
                    problems.push((
                        "client_id",
                        "Reddit needs client_id and client_secret (an OAuth app)".to_string(),
                    ));
                }
            }
            SourceKind::Appstore => needs("app_id", &self.app_id, &mut problems),
            SourceKind::Rss => needs("base_url", &self.base_url, &mut problems),
            SourceKind::Yelp | SourceKind::Trustpilot => {
                needs("business_id", &self.business_id, &mut problems);
                if self.api_key.is_none() {
                    problems.push(("api_key", "is required for this kind".to_string()));
                }
            }
            SourceKind::GooglePlaces => {
                needs("place_id", &self.place_id, &mut problems);
                if self.api_key.is_none() {
                    problems.push(("api_key", "is required for this kind".to_string()));
                }
            }
            SourceKind::Json => match &self.json {
                None => problems.push((
                    "json",
                    "a [sources.json] table is required for kind = \"json\"".to_string(),
                )),
                Some(mapping) => problems.extend(mapping.problems()),
            },
            SourceKind::Youtube => {
                if self.video_id.is_none() && self.channel_id.is_none() {
                    problems.push(("video_id", "YouTube needs video_id or channel_id".to_string()));
                }
                if self.api_key.is_none() {
                    problems.push(("api_key", "is required for YouTube".to_string()));
                }
            }
        }
        if let Some(url) = &self.base_url {
            if reqwest::Url::parse(url).map(|u| u.scheme().starts_with("http")) != Ok(true) {
                problems.push(("base_url", "is not an http(s) URL".to_string()));
            }
        }
        if self.every.0 < chrono::Duration::seconds(1) {
            problems.push(("every", "must be at least 1s".to_string()));
        }
        if let Some(r) = self.rate_limit {
            if r.requests == 0 || r.per.0 <= chrono::Duration::zero() {
                problems.push(("rate_limit", "needs requests > 0 per a positive span".to_string()));
            }
        }
        if self.max_pages == 0 || self.page_size == 0 {
            problems.push(("max_pages", "max_pages and page_size must be at least 1".to_string()));
        }
        problems
    }
}

/// Where a source's last poll left off: the newest item seen, and the
/// validators of the last response for conditional requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub time: Option<DateTime<Utc>>,
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

impl Cursor {
    /// Whether `m` is one the cursor has already passed: older than the
    /// newest stored item, or that item itself. Items of the same second
    /// but another id are still new (two posts can share a second).
    pub fn reached(&self, m: &Mention) -> bool {
        self.time.is_some_and(|t| {
            m.created_at < t || (m.created_at == t && self.id.as_deref() == Some(m.source_id.as_str()))
        })
    }
}

/// One parsed page of results, newest first.
#[derive(Debug, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// What to ask for to get the next page, if any.
    pub next: Option<String>,
    /// Items that could not be read, with the reason.
    pub rejected: Vec<String>,
    /// The server's reset time when this answer used its last request.
    pub wait_until: Option<DateTime<Utc>>,
    /// The response's validators, kept for the next conditional request.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// One result, normalised.
pub type Item = Mention;

/// OAuth client credentials for app-only access: the core fetches a token,
/// caches it until shortly before it expires, and fetches a new one on 401.
#[derive(Debug, Clone)]
pub struct OAuth {
    pub token_url: String,
    pub client_id: Secret,
    pub client_secret: Secret,
}

/// Most authors asked for in one audience request.
pub const AUDIENCE_BATCH: usize = 25;

/// What a network tells of an author beyond the post: followers, and a
/// standing (Reddit karma) where it keeps one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Audience {
    pub followers: Option<u64>,
    pub karma: Option<u64>,
}

/// What a connector knows about one service.
pub trait Connector: Send + Sync {
    /// App-only OAuth the service needs, if any.
    fn oauth(&self) -> Option<&OAuth> {
        None
    }

    /// The request for a page: the first when `page` is `None`, else the
    /// one `page` (a previous page's `next`) names.
    fn request(&self, http: &reqwest::Client, cursor: &Cursor, page: Option<&str>) -> reqwest::RequestBuilder;

    /// Authors asked for in one audience request: [`AUDIENCE_BATCH`] where
    /// the service looks up many at once (Bluesky's `getProfiles`), 1 where
    /// each is a request of its own (Reddit's `/user/{name}/about`).
    fn audience_batch(&self) -> usize {
        AUDIENCE_BATCH
    }

    /// Whether the poller should look up `m`'s author (by default: when
    /// the results carried no follower count).
    fn wants_audience(&self, m: &Mention) -> bool {
        m.author.followers.is_none()
    }

    /// A request for the audiences of up to [`Connector::audience_batch`]
    /// authors, if the service has one.
    fn audience_request(&self, _http: &reqwest::Client, _handles: &[String]) -> Option<reqwest::RequestBuilder> {
        None
    }

    /// Parses an audience response into handle → audience.
    fn parse_audiences(&self, _body: &[u8]) -> Result<Vec<(String, Audience)>, String> {
        Ok(Vec::new())
    }

    /// Puts a looked-up audience on a mention (by default: followers where
    /// the results had none, and the karma).
    fn apply_audience(&self, m: &mut Mention, audience: &Audience) {
        m.author.followers = m.author.followers.or(audience.followers);
        m.author.karma = m.author.karma.or(audience.karma);
    }

    /// Whether items already seen can come back changed (reviews are edited
    /// and re-rated): then every item fetched goes to the store, which records
    /// a changed one as a revision, instead of only those newer than the cursor.
    fn revisable(&self) -> bool {
        false
    }

    /// Rate-limit header names the service uses beyond the usual families
    /// (which [`poll::server_wait`] always reads).
    fn rate_limit_headers(&self) -> Option<&json::RateLimitHeaders> {
        None
    }

    /// When a refusal is a quota that resets at a time the network states
    /// in its documentation rather than in headers (YouTube's daily quota,
    /// at midnight US Pacific), that time. Otherwise the shared rules of
    /// [`poll::server_wait`] decide.
    fn quota_reset(&self, _status: reqwest::StatusCode, _body: &[u8], _now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        None
    }

    /// Parses a response body into items; `cursor` is the one the request
    /// was built with (it tells a walk towards newer items from a backfill).
    fn parse(&self, body: &[u8], headers: &HeaderMap, cursor: &Cursor) -> Result<Page, String>;
}

/// Builds the connector a source config asks for.
pub fn connector(config: &SourceConfig) -> Box<dyn Connector> {
    match config.kind {
        SourceKind::Mastodon => Box::new(mastodon::Mastodon::new(config)),
        SourceKind::Bluesky => Box::new(bluesky::Bluesky::new(config)),
        SourceKind::Hackernews => Box::new(hackernews::HackerNews::new(config)),
        SourceKind::X => Box::new(x::X::new(config)),
        SourceKind::Youtube => Box::new(youtube::YouTube::new(config)),
        SourceKind::Reddit => Box::new(reddit::Reddit::new(config)),
        SourceKind::Appstore => Box::new(appstore::AppStore::new(config)),
        SourceKind::Rss => Box::new(rss::Feed::new(config)),
        SourceKind::Yelp => Box::new(yelp::Yelp::new(config)),
        SourceKind::Trustpilot => Box::new(trustpilot::Trustpilot::new(config)),
        SourceKind::GooglePlaces => Box::new(google_places::GooglePlaces::new(config)),
        SourceKind::Json => Box::new(json::Json::new(config)),
    }
}

impl Page {
    /// Reads each of an API's JSON items as `T` and then into a mention with
    /// `read`; items that fail either step are rejected with the reason.
    pub(crate) fn read<T: serde::de::DeserializeOwned>(
        &mut self,
        values: Vec<serde_json::Value>,
        read: impl Fn(T) -> Result<Mention, String>,
    ) {
        for value in values {
            self.add(
                serde_json::from_value::<T>(value)
                    .map_err(|e| e.to_string())
                    .and_then(&read),
            );
        }
    }

    /// Adds a parsed item, or its reason for being rejected.
    pub fn add(&mut self, item: Result<Mention, String>) {
        match item.and_then(|m| match crate::mention::check_time(m.created_at, None) {
            Ok(()) => Ok(m),
            Err(reason) => Err(format!("item {}: {reason}", m.source_id)),
        }) {
            Ok(m) => self.items.push(m.capped()),
            Err(reason) => self.rejected.push(reason),
        }
    }
}

/// Adds `Authorization: Bearer` when there is a token.
pub(crate) fn with_bearer(request: reqwest::RequestBuilder, token: &Option<String>) -> reqwest::RequestBuilder {
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

/// A required string field of an API item, or why the item is rejected.
pub(crate) fn required<'a>(value: &'a Option<String>, what: &str) -> Result<&'a str, String> {
    value
        .as_deref()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| format!("item without {what}"))
}

/// An RFC 3339 time of an API item.
pub(crate) fn time_of(value: &Option<String>, what: &str) -> Result<DateTime<Utc>, String> {
    let text = required(value, what)?;
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            format!(
                "{what} {:?} is not an RFC 3339 time",
                crate::mention::truncate(text, 40)
            )
        })
}

/// Strips tags from HTML and decodes its entities (Mastodon posts are HTML).
pub fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    let mut tag = String::new();
    for c in html.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                tag.clear();
            }
            (true, '>') => {
                in_tag = false;
                let name = tag
                    .trim_start_matches('/')
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                if matches!(name.as_str(), "br" | "br/" | "p" | "div" | "li")
                    && !text.ends_with(' ')
                    && !text.is_empty()
                {
                    text.push(' ');
                }
            }
            (true, c) => tag.push(c),
            (false, c) => text.push(c),
        }
    }
    html_escape::decode_html_entities(text.trim()).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_becomes_text() {
        assert_eq!(
            super::html_to_text("<p>Lost my bag &amp; nobody cares</p><p><a href=\"x\">#<span>acmeair</span></a></p>"),
            "Lost my bag & nobody cares #acmeair"
        );
        assert_eq!(super::html_to_text("a<br>b &lt;script&gt;"), "a b <script>");
    }
}
