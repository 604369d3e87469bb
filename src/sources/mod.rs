//! Where mentions come from: recorded [`feed`]s, and live
//! connectors, one file each behind the small [`Connector`] trait. Everything
//! generic — HTTP, rate limits (client quota and the server's own signals),
//! retries, body caps, cursors stored with the mentions they cover, health —
//! lives once in [`poll`]; a connector only builds a request and parses a page.

pub mod appstore;
pub mod appstoreconnect;
pub mod auth;
pub mod bluesky;
pub mod facebook;
pub mod feed;
pub mod google_business;
pub mod google_places;
pub mod googleplay;
pub mod graph;
pub mod hackernews;
pub mod instagram;
pub mod json;
pub mod mastodon;
pub mod poll;
pub mod reddit;
pub mod reply;
pub mod rss;
pub mod state;
pub mod trustpilot;
pub mod x;
pub mod yelp;
pub mod youtube;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};

use crate::clock::Span;
use crate::mention::Mention;

/// One `[[sources]]` table: the settings every source has, and its
/// connector's own ([`SourceSpec`], one config struct in each connector's
/// file), documented in `config/example.toml` and `docs/sources.md`.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub name: String,
    /// The service's address (default: the real one); tests point it
    /// elsewhere. An RSS source's feed URL.
    pub base_url: Option<String>,
    /// A configured brand this source's query belongs to.
    pub brand: Option<String>,
    /// How often to poll.
    pub every: Span,
    /// Sources with the same credential share one client-side limiter.
    pub credential: Option<String>,
    /// Client-side quota: at most `requests` per `per`.
    pub rate_limit: Option<RateLimitConfig>,
    /// Author lookups (Reddit's `/user/{name}/about`, Bluesky's profiles)
    /// at most: `requests` per `per`, on top of the searches.
    pub author_lookups: RateLimitConfig,
    /// Pages walked at most in one poll (the backfill limit).
    pub max_pages: u32,
    /// Items asked for per page.
    pub page_size: u32,
    /// Largest response body read, in bytes.
    pub max_body_bytes: usize,
    /// Time allowed for one request.
    pub timeout: Span,
    /// What only this kind of source has.
    pub spec: SourceSpec,
}

/// Each connector's own settings, by `kind`.
#[derive(Debug, Clone)]
pub enum SourceSpec {
    Mastodon(mastodon::MastodonConfig),
    Bluesky(bluesky::BlueskyConfig),
    Hackernews(hackernews::HackerNewsConfig),
    X(x::XConfig),
    Youtube(youtube::YouTubeConfig),
    Reddit(reddit::RedditConfig),
    Appstore(appstore::AppStoreConfig),
    Rss(rss::RssConfig),
    Yelp(yelp::YelpConfig),
    Trustpilot(trustpilot::TrustpilotConfig),
    GooglePlaces(google_places::GooglePlacesConfig),
    Json(Box<json::JsonSourceConfig>),
    Googleplay(googleplay::GooglePlayConfig),
    Appstoreconnect(Box<appstoreconnect::AppStoreConnectConfig>),
    GoogleBusiness(Box<google_business::GoogleBusinessConfig>),
    Facebook(Box<facebook::FacebookConfig>),
    Instagram(Box<instagram::InstagramConfig>),
}

/// The keys of [`CommonConfig`]; every other key of a `[[sources]]` table
/// belongs to its connector's own config.
const COMMON_KEYS: [&str; 12] = [
    "name",
    "kind",
    "base_url",
    "brand",
    "every",
    "credential",
    "rate_limit",
    "author_lookups",
    "max_pages",
    "page_size",
    "max_body_bytes",
    "timeout",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommonConfig {
    name: String,
    kind: SourceKind,
    #[serde(default)]
    base_url: Option<String>,
    #[serde(default)]
    brand: Option<String>,
    #[serde(default = "default_every")]
    every: Span,
    #[serde(default)]
    credential: Option<String>,
    #[serde(default)]
    rate_limit: Option<RateLimitConfig>,
    #[serde(default = "default_author_lookups")]
    author_lookups: RateLimitConfig,
    #[serde(default = "default_max_pages")]
    max_pages: u32,
    #[serde(default = "default_page_size")]
    page_size: u32,
    #[serde(default = "default_max_body")]
    max_body_bytes: usize,
    #[serde(default = "default_timeout")]
    timeout: Span,
}

/// A structural problem in a `[[sources]]` table, with its key path
/// relative to the table.
pub type ReadError = serde_path_to_error::Error<toml::de::Error>;

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
    Googleplay,
    Appstoreconnect,
    GoogleBusiness,
    Facebook,
    Instagram,
}

impl SourceKind {
    pub const ALL: [SourceKind; 17] = [
        SourceKind::Mastodon,
        SourceKind::Bluesky,
        SourceKind::Hackernews,
        SourceKind::X,
        SourceKind::Youtube,
        SourceKind::Reddit,
        SourceKind::Appstore,
        SourceKind::Rss,
        SourceKind::Yelp,
        SourceKind::Trustpilot,
        SourceKind::GooglePlaces,
        SourceKind::Json,
        SourceKind::Googleplay,
        SourceKind::Appstoreconnect,
        SourceKind::GoogleBusiness,
        SourceKind::Facebook,
        SourceKind::Instagram,
    ];

    /// The kind's name in config and, for the networks, in every mention's
    /// `source`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Mastodon => "mastodon",
            SourceKind::Bluesky => "bluesky",
            SourceKind::Hackernews => "hackernews",
            SourceKind::X => "x",
            SourceKind::Youtube => "youtube",
            SourceKind::Reddit => "reddit",
            SourceKind::Appstore => "appstore",
            SourceKind::Rss => "rss",
            SourceKind::Yelp => "yelp",
            SourceKind::Trustpilot => "trustpilot",
            SourceKind::GooglePlaces => "google_places",
            SourceKind::Json => "json",
            SourceKind::Googleplay => "googleplay",
            SourceKind::Appstoreconnect => "appstoreconnect",
            SourceKind::GoogleBusiness => "google_business",
            SourceKind::Facebook => "facebook",
            SourceKind::Instagram => "instagram",
        }
    }
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

/// Reads a connector's own keys, each problem with its path.
fn own<T: serde::de::DeserializeOwned>(table: toml::Table) -> Result<T, ReadError> {
    serde_path_to_error::deserialize(toml::Value::Table(table))
}

impl SourceConfig {
    /// How often to poll, as a duration the timers take (`every` is
    /// validated to at least a second, so the fallback is for a config
    /// built by hand).
    pub fn interval(&self) -> std::time::Duration {
        self.every.0.to_std().unwrap_or(std::time::Duration::from_secs(120))
    }

    /// Reads one `[[sources]]` table: the common keys, then by `kind` the
    /// connector's own, which refuses keys it does not know (a Reddit
    /// source's `hashtag` is a mistake, not a setting) and requires the
    /// ones it cannot work without. Returns the first structural problem;
    /// `config` reads again without it to report them all.
    pub fn from_toml(table: toml::Value) -> Result<SourceConfig, ReadError> {
        let mut rest: toml::Table = serde_path_to_error::deserialize(table)?;
        let mut common = toml::Table::new();
        for key in COMMON_KEYS {
            if let Some(value) = rest.remove(key) {
                common.insert(key.to_string(), value);
            }
        }
        let c: CommonConfig = serde_path_to_error::deserialize(toml::Value::Table(common))?;
        let spec = match c.kind {
            SourceKind::Mastodon => SourceSpec::Mastodon(own(rest)?),
            SourceKind::Bluesky => SourceSpec::Bluesky(own(rest)?),
            SourceKind::Hackernews => SourceSpec::Hackernews(own(rest)?),
            SourceKind::X => SourceSpec::X(own(rest)?),
            SourceKind::Youtube => SourceSpec::Youtube(own(rest)?),
            SourceKind::Reddit => SourceSpec::Reddit(own(rest)?),
            SourceKind::Appstore => SourceSpec::Appstore(own(rest)?),
            SourceKind::Rss => SourceSpec::Rss(own(rest)?),
            SourceKind::Yelp => SourceSpec::Yelp(own(rest)?),
            SourceKind::Trustpilot => SourceSpec::Trustpilot(own(rest)?),
            SourceKind::GooglePlaces => SourceSpec::GooglePlaces(own(rest)?),
            SourceKind::Json => SourceSpec::Json(own(rest)?),
            SourceKind::Googleplay => SourceSpec::Googleplay(own(rest)?),
            SourceKind::Appstoreconnect => SourceSpec::Appstoreconnect(own(rest)?),
            SourceKind::GoogleBusiness => SourceSpec::GoogleBusiness(own(rest)?),
            SourceKind::Facebook => SourceSpec::Facebook(own(rest)?),
            SourceKind::Instagram => SourceSpec::Instagram(own(rest)?),
        };
        Ok(SourceConfig {
            name: c.name,
            base_url: c.base_url,
            brand: c.brand,
            every: c.every,
            credential: c.credential,
            rate_limit: c.rate_limit,
            author_lookups: c.author_lookups,
            max_pages: c.max_pages,
            page_size: c.page_size,
            max_body_bytes: c.max_body_bytes,
            timeout: c.timeout,
            spec,
        })
    }

    pub fn kind(&self) -> SourceKind {
        match self.spec {
            SourceSpec::Mastodon(_) => SourceKind::Mastodon,
            SourceSpec::Bluesky(_) => SourceKind::Bluesky,
            SourceSpec::Hackernews(_) => SourceKind::Hackernews,
            SourceSpec::X(_) => SourceKind::X,
            SourceSpec::Youtube(_) => SourceKind::Youtube,
            SourceSpec::Reddit(_) => SourceKind::Reddit,
            SourceSpec::Appstore(_) => SourceKind::Appstore,
            SourceSpec::Rss(_) => SourceKind::Rss,
            SourceSpec::Yelp(_) => SourceKind::Yelp,
            SourceSpec::Trustpilot(_) => SourceKind::Trustpilot,
            SourceSpec::GooglePlaces(_) => SourceKind::GooglePlaces,
            SourceSpec::Json(_) => SourceKind::Json,
            SourceSpec::Googleplay(_) => SourceKind::Googleplay,
            SourceSpec::Appstoreconnect(_) => SourceKind::Appstoreconnect,
            SourceSpec::GoogleBusiness(_) => SourceKind::GoogleBusiness,
            SourceSpec::Facebook(_) => SourceKind::Facebook,
            SourceSpec::Instagram(_) => SourceKind::Instagram,
        }
    }

    /// Value problems, as (key, message): the common keys here, each
    /// connector's in its own config.
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
        match &self.base_url {
            Some(url) if reqwest::Url::parse(url).map(|u| u.scheme().starts_with("http")) != Ok(true) => {
                problems.push(("base_url", "is not an http(s) URL".to_string()));
            }
            Some(_) => {}
            None if matches!(self.spec, SourceSpec::Rss(_)) => {
                problems.push(("base_url", "is required for kind = \"rss\": the feed's URL".to_string()));
            }
            None => {}
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
        problems.extend(match &self.spec {
            SourceSpec::Mastodon(c) => c.problems(),
            SourceSpec::Bluesky(c) => not_blank("query", &c.query),
            SourceSpec::Hackernews(c) => not_blank("query", &c.query),
            SourceSpec::X(c) => not_blank("query", &c.query),
            SourceSpec::Youtube(c) => c.problems(),
            SourceSpec::Reddit(c) => not_blank("query", &c.query),
            SourceSpec::Appstore(c) => not_blank("app_id", &c.app_id),
            SourceSpec::Rss(_) => Vec::new(),
            SourceSpec::Yelp(c) => not_blank("business_id", &c.business_id),
            SourceSpec::Trustpilot(c) => not_blank("business_id", &c.business_id),
            SourceSpec::GooglePlaces(c) => not_blank("place_id", &c.place_id),
            SourceSpec::Json(c) => c.json.problems(),
            SourceSpec::Googleplay(c) => c.problems(),
            SourceSpec::Appstoreconnect(c) => c.problems(),
            SourceSpec::GoogleBusiness(c) => c.problems(),
            SourceSpec::Facebook(c) => c.problems(),
            SourceSpec::Instagram(c) => c.problems(),
        });
        problems
    }
}

/// An id that must be all digits (it becomes part of a request path).
pub(crate) fn numeric_id(key: &'static str, value: &str, what: &str) -> Vec<(&'static str, String)> {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        Vec::new()
    } else {
        vec![(key, format!("is {what}"))]
    }
}

/// A required text setting that is there but empty.
pub(crate) fn not_blank(key: &'static str, value: &str) -> Vec<(&'static str, String)> {
    if value.trim().is_empty() {
        vec![(key, "must not be empty".to_string())]
    } else {
        Vec::new()
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

/// Why a whole response could not be read as a page (a bad item is not
/// this: it is rejected on its own, with its reason, in `Page::rejected`).
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The body is not the JSON document the API documents.
    #[error("not {expected}: {source}")]
    Json {
        expected: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// The body is not a syndication feed.
    #[error("not an RSS or Atom feed: {0}")]
    Feed(#[from] feed_rs::parser::ParseFeedError),
    /// The body parsed, but says something the connector cannot go on from
    /// (an error object in a 200, a missing required part).
    #[error("{0}")]
    Refused(String),
}

/// Reads a response body as `T`, or says which document was expected.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(body: &[u8], expected: &'static str) -> Result<T, ParseError> {
    serde_json::from_slice(body).map_err(|source| ParseError::Json { expected, source })
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

pub use auth::OAuth;

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
    /// How the service lets the source in, if it needs more than a key in
    /// the request ([`auth`] fetches, caches and renews the token).
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

    /// Whether the poller should look up `m`'s author: never, unless the
    /// service has an audience request (then, say, when the results carried
    /// no follower count).
    fn wants_audience(&self, _m: &Mention) -> bool {
        false
    }

    /// A request for the audiences of up to [`Connector::audience_batch`]
    /// authors, if the service has one.
    fn audience_request(&self, _http: &reqwest::Client, _handles: &[String]) -> Option<reqwest::RequestBuilder> {
        None
    }

    /// Parses an audience response into handle → audience.
    fn parse_audiences(&self, _body: &[u8]) -> Result<Vec<(String, Audience)>, ParseError> {
        Ok(Vec::new())
    }

    /// Puts a looked-up audience on a mention (by default: followers where
    /// the results had none, and the karma).
    fn apply_audience(&self, m: &mut Mention, audience: &Audience) {
        m.author.followers = m.author.followers.or(audience.followers);
        m.author.karma = m.author.karma.or(audience.karma);
    }

    /// Whether pages come newest item first, so that reaching a stored item
    /// means the rest is stored too and the walk can stop there. Not so
    /// where pages are posts and the items their comments (Facebook,
    /// Instagram): then every poll walks its `max_pages`.
    fn pages_by_time(&self) -> bool {
        true
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

    /// When an answer says to wait in a way only this network uses: a quota
    /// that resets at a time its documentation states (YouTube's daily
    /// quota, at midnight US Pacific), or a rate-limit header of its own
    /// format (App Store Connect's `X-Rate-Limit`). Otherwise the shared
    /// rules of [`poll::server_wait`] decide.
    fn quota_reset(
        &self,
        _status: reqwest::StatusCode,
        _headers: &HeaderMap,
        _body: &[u8],
        _now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        None
    }

    /// Parses a response body into items; `cursor` is the one the request
    /// was built with (it tells a walk towards newer items from a backfill).
    fn parse(&self, body: &[u8], headers: &HeaderMap, cursor: &Cursor) -> Result<Page, ParseError>;
}

/// Builds the connector a source config asks for.
pub fn connector(config: &SourceConfig) -> Box<dyn Connector> {
    match &config.spec {
        SourceSpec::Mastodon(own) => Box::new(mastodon::Mastodon::new(config, own)),
        SourceSpec::Bluesky(own) => Box::new(bluesky::Bluesky::new(config, own)),
        SourceSpec::Hackernews(own) => Box::new(hackernews::HackerNews::new(config, own)),
        SourceSpec::X(own) => Box::new(x::X::new(config, own)),
        SourceSpec::Youtube(own) => Box::new(youtube::YouTube::new(config, own)),
        SourceSpec::Reddit(own) => Box::new(reddit::Reddit::new(config, own)),
        SourceSpec::Appstore(own) => Box::new(appstore::AppStore::new(config, own)),
        SourceSpec::Rss(_) => Box::new(rss::Feed::new(config)),
        SourceSpec::Yelp(own) => Box::new(yelp::Yelp::new(config, own)),
        SourceSpec::Trustpilot(own) => Box::new(trustpilot::Trustpilot::new(config, own)),
        SourceSpec::GooglePlaces(own) => Box::new(google_places::GooglePlaces::new(config, own)),
        SourceSpec::Json(own) => Box::new(json::Json::new(config, own)),
        SourceSpec::Googleplay(own) => Box::new(googleplay::GooglePlay::new(config, own)),
        SourceSpec::Appstoreconnect(own) => Box::new(appstoreconnect::AppStoreConnect::new(config, own)),
        SourceSpec::GoogleBusiness(own) => Box::new(google_business::GoogleBusiness::new(config, own)),
        SourceSpec::Facebook(own) => Box::new(facebook::Facebook::new(config, own)),
        SourceSpec::Instagram(own) => Box::new(instagram::Instagram::new(config, own)),
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
