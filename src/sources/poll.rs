//! The polling core, shared by every connector: one poll of one source walks
//! its pages (newest first) until it reaches what is already stored or its
//! backfill limit, under two rate limits — a client-side quota per credential
//! (`governor`) and the server's own signals (remaining/reset headers in each
//! network's format, `Retry-After`, 429, quota 403s) — with retries and
//! backoff for timeouts, connection errors and 5xx, a cap on body size, and
//! the new mentions stored in the same transaction as the source's cursor.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::http::Backoff;
use chrono::{DateTime, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use super::{connector, Connector, Cursor, RateLimitConfig, SourceConfig};
use crate::clock::Clock;
use crate::enrich::Enricher;
use crate::store::writer::WriterHandle;
use crate::store::{self, StoreError};

/// Attempts of one request before the poll fails.
const ATTEMPTS: u32 = 3;
/// The longest wait between two attempts at one page.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);

/// A source ready to poll.
pub struct Source {
    pub config: SourceConfig,
    connector: Box<dyn Connector>,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    /// The current OAuth token and when to stop using it.
    token: tokio::sync::Mutex<Option<(String, DateTime<Utc>)>>,
    /// Authors' audiences fetched earlier (bounded: cleared when full).
    audiences: tokio::sync::Mutex<HashMap<String, super::Audience>>,
    /// Author lookups this source may still make (`author_lookups`).
    author_budget: DefaultDirectRateLimiter,
}

/// Authors whose audience is remembered at most, per source.
const AUDIENCE_CACHE: usize = 20_000;

/// What one poll of one source did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    pub source: String,
    pub pages: u32,
    pub fetched: u64,
    pub stored: u64,
    pub duplicates: u64,
    /// Items seen before whose text or rating had changed (recorded as revisions).
    pub revised: u64,
    pub unmatched: u64,
    /// Items the source sent that could not be read, with the reason.
    pub rejected: Vec<String>,
    /// Set when the poll failed.
    pub error: Option<String>,
    /// The server asked us to wait until then.
    pub rate_limited_until: Option<DateTime<Utc>>,
}

pub struct Poller {
    http: reqwest::Client,
    enricher: Enricher,
    store: PollStore,
    clock: Arc<dyn Clock>,
    retry_base: Duration,
}

/// Where a poll reads its cursor and stores what it fetched.
enum PollStore {
    /// One process's SQLite file, written through its one writer.
    Sqlite { writer: WriterHandle, db: PathBuf },
    /// A PostgreSQL database shared with other processes: a source is
    /// polled by the process holding its lease, and each poll is stored
    /// only while that lease is still held ([`crate::store::postgres::lease::fence`]).
    Postgres {
        pool: deadpool_postgres::Pool,
        holder: String,
        spam: crate::spam::SpamConfig,
    },
}

#[derive(Debug)]
enum Failure {
    /// The server said wait (429, quota, no requests remaining).
    Wait(DateTime<Utc>, String),
    Error(String),
}

impl Poller {
    pub fn new(
        enricher: Enricher,
        db: &Path,
        writer: WriterHandle,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, crate::http::HttpError> {
        Poller::with_store(
            enricher,
            PollStore::Sqlite {
                writer,
                db: db.to_path_buf(),
            },
            clock,
        )
    }

    /// A poller storing into a PostgreSQL database shared with other
    /// processes, as lease holder `holder` (see [`crate::store::postgres::lease`]).
    pub fn on_postgres(
        enricher: Enricher,
        pool: deadpool_postgres::Pool,
        holder: &str,
        spam: &crate::spam::SpamConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, crate::http::HttpError> {
        let store = PollStore::Postgres {
            pool,
            holder: holder.to_string(),
            spam: spam.clone(),
        };
        Poller::with_store(enricher, store, clock)
    }

    fn with_store(enricher: Enricher, store: PollStore, clock: Arc<dyn Clock>) -> Result<Self, crate::http::HttpError> {
        Ok(Poller {
            http: crate::http::client()?,
            enricher,
            store,
            clock,
            retry_base: Duration::from_millis(500),
        })
    }

    /// Sets the first retry delay (tests use a short one).
    pub fn with_retry_base(mut self, base: Duration) -> Self {
        self.retry_base = base;
        self
    }

    /// Polls once: every page that is new, up to the backfill limit.
    pub async fn poll(&self, source: &Source) -> PollReport {
        let mut report = PollReport {
            source: source.config.name.clone(),
            ..PollReport::default()
        };
        let name = source.config.name.clone();
        let now = self.clock.now();
        let (cursor, waiting) = match self.state(&name).await {
            Ok(state) => state,
            Err(e) => {
                report.error = Some(e.to_string());
                return report;
            }
        };
        if let Some(until) = waiting.filter(|&u| u > now) {
            report.rate_limited_until = Some(until);
            return report;
        }
        let mut fetched = Vec::new();
        let mut page_token: Option<String> = None;
        let mut validators = None;
        let mut told_to_wait = None;
        let mut outcome = Ok(());
        // Items that can be edited go to the store whatever their age.
        let revisable = source.connector.revisable();
        while report.pages < source.config.max_pages {
            if let Some(limiter) = &source.limiter {
                limiter.until_ready().await;
            }
            let mut page = match self.fetch(source, &cursor, page_token.as_deref()).await {
                Ok(page) => page,
                Err(failure) => {
                    outcome = Err(failure);
                    break;
                }
            };
            report.pages += 1;
            report.rejected.extend(page.rejected);
            // Dated more than a day ahead of the clock: a broken date, not news.
            page.items
                .retain(|m| match crate::mention::check_time(m.created_at, Some(now)) {
                    Ok(()) => true,
                    Err(reason) => {
                        report.rejected.push(format!("item {}: {reason}", m.source_id));
                        false
                    }
                });
            if report.pages == 1 && (page.etag.is_some() || page.last_modified.is_some()) {
                validators = Some((page.etag, page.last_modified));
            }
            let exhausted = page.wait_until;
            // Stop as soon as the walk reaches what the last poll stored: an
            // older item, or the newest one stored itself (a page may hold
            // nothing else, and then the next page is all old).
            let reached_stored = source.connector.pages_by_time() && page.items.iter().any(|m| cursor.reached(m));
            fetched.extend(page.items.into_iter().filter(|m| revisable || !cursor.reached(m)));
            if let Some(until) = exhausted {
                told_to_wait = Some(until);
                break;
            }
            match page.next {
                Some(next) if !reached_stored => page_token = Some(next),
                _ => break,
            }
        }
        if outcome.is_ok() {
            self.fill_audiences(source, &mut fetched).await;
        }
        report.fetched = fetched.len() as u64;
        let (wait, error) = match &outcome {
            Ok(()) => (told_to_wait, None),
            Err(Failure::Wait(until, why)) => (Some(*until), Some(why.clone())),
            Err(Failure::Error(e)) => (None, Some(e.clone())),
        };
        report.rate_limited_until = wait;
        if wait.is_some() {
            metrics::counter!(crate::metrics::RATE_LIMIT_WAITS, "source" => name.clone()).increment(1);
        }
        if matches!(outcome, Err(Failure::Error(_))) {
            metrics::counter!(crate::metrics::POLL_ERRORS, "source" => name.clone()).increment(1);
            report.error = error.clone();
        }
        let mut cursor = cursor;
        if let Some((etag, last_modified)) = validators {
            cursor.etag = etag;
            cursor.last_modified = last_modified;
        }
        match self.store(source, &cursor, fetched, wait, error, &mut report).await {
            Ok(()) => {}
            Err(e) => report.error = Some(e.to_string()),
        }
        report
    }

    /// The stored cursor and the time the server asked us to wait until.
    async fn state(&self, name: &str) -> Result<(Cursor, Option<DateTime<Utc>>), StoreError> {
        match &self.store {
            PollStore::Sqlite { db, .. } => super::state::read(&store::open_read_only(db)?, name),
            PollStore::Postgres { pool, .. } => super::state::read_postgres(&**pool.get().await?, name).await,
        }
    }

    /// One page, with retries for transient failures.
    async fn fetch(&self, source: &Source, cursor: &Cursor, page: Option<&str>) -> Result<super::Page, Failure> {
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Backoff::new(self.retry_base, MAX_RETRY_WAIT).delay(attempt, None)).await;
            }
            let timeout = source.config.timeout.0.to_std().unwrap_or(Duration::from_secs(20));
            let mut request = source.connector.request(&self.http, cursor, page).timeout(timeout);
            metrics::counter!(crate::metrics::POLL_REQUESTS, "source" => source.config.name.clone()).increment(1);
            if let Some(oauth) = source.connector.oauth() {
                match self.token(source, oauth).await {
                    Ok(token) => request = request.bearer_auth(token),
                    Err(e) => {
                        last = e;
                        continue;
                    }
                }
            }
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) => {
                    last = crate::http::describe(e);
                    continue;
                }
            };
            let status = response.status();
            let headers = response.headers().clone();
            let body = match crate::http::read_capped(response, source.config.max_body_bytes).await {
                Ok(body) => body,
                Err(e) => {
                    last = e.to_string();
                    continue;
                }
            };
            let now = self.clock.now();
            let wait = source
                .connector
                .quota_reset(status, &headers, &body, now)
                .or_else(|| server_wait(status, &headers, &body, now, source.connector.rate_limit_headers()));
            if let Some(until) = wait.filter(|_| !status.is_success()) {
                return Err(Failure::Wait(
                    until,
                    format!("the server answered {status}: rate limited"),
                ));
            }
            if status == StatusCode::NOT_MODIFIED {
                // A conditional request: nothing changed since the last poll.
                return Ok(super::Page::default());
            }
            if status.is_server_error() {
                last = format!("the server answered {status}");
                continue;
            }
            if status == StatusCode::UNAUTHORIZED && source.connector.oauth().is_some() {
                // The token expired or was revoked: fetch a new one and retry.
                *source.token.lock().await = None;
                last = "the server refused the OAuth token".to_string();
                continue;
            }
            if !status.is_success() {
                return Err(Failure::Error(format!("the server answered {status}")));
            }
            let mut page = source
                .connector
                .parse(&body, &headers, cursor)
                .map_err(|e| Failure::Error(format!("unreadable response: {e}")))?;
            let validator = |name| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
            // A good answer that used the last request of the window: keep
            // it, and wait for the reset before the next.
            page.wait_until = wait;
            page.etag = validator(reqwest::header::ETAG);
            page.last_modified = validator(reqwest::header::LAST_MODIFIED);
            return Ok(page);
        }
        Err(Failure::Error(format!("{last} (after {ATTEMPTS} attempts)")))
    }

    /// Fills in what the results did not say of their authors (followers,
    /// karma), from the cache or in audience requests. Best effort: a
    /// failure leaves them unknown (reach then uses the default audience)
    /// and is logged once. Lookups spend the source's own author budget
    /// (`author_lookups`), never waiting for it: new mentions are never held
    /// back, and an author left over is looked up the next time they post
    /// (their post already stored keeps what the results said).
    async fn fill_audiences(&self, source: &Source, mentions: &mut [crate::mention::Mention]) {
        let connector = &source.connector;
        let mut cache = source.audiences.lock().await;
        let mut missing: Vec<String> = mentions
            .iter()
            .filter(|m| connector.wants_audience(m))
            .filter_map(|m| m.author.handle.clone())
            .filter(|h| !cache.contains_key(h))
            .collect();
        missing.sort();
        missing.dedup();
        let mut token = None;
        if let (Some(oauth), false) = (connector.oauth(), missing.is_empty()) {
            match self.token(source, oauth).await {
                Ok(t) => token = Some(t),
                Err(e) => {
                    tracing::warn!(source = %source.config.name, "could not fetch audiences: {e}");
                    missing.clear();
                }
            }
        }
        let timeout = source.config.timeout.0.to_std().unwrap_or(Duration::from_secs(20));
        for batch in missing.chunks(connector.audience_batch().clamp(1, super::AUDIENCE_BATCH)) {
            let Some(mut request) = connector.audience_request(&self.http, batch) else {
                continue;
            };
            if source.author_budget.check().is_err() {
                tracing::debug!(source = %source.config.name, "author lookups spent for now; the rest next poll");
                break;
            }
            if let Some(token) = &token {
                request = request.bearer_auth(token);
            }
            if let Some(limiter) = &source.limiter {
                limiter.until_ready().await;
            }
            let result = match request.timeout(timeout).send().await {
                Ok(r) if r.status().is_success() => crate::http::read_capped(r, source.config.max_body_bytes)
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|body| connector.parse_audiences(&body).map_err(|e| e.to_string())),
                // Deleted or suspended accounts: nothing to learn, nothing to ask again.
                Ok(r) if r.status() == StatusCode::NOT_FOUND => Ok(Vec::new()),
                Ok(r) => Err(format!("the server answered {}", r.status())),
                Err(e) => Err(crate::http::describe(e)),
            };
            match result {
                Ok(found) => {
                    if cache.len() + batch.len() > AUDIENCE_CACHE {
                        cache.clear();
                    }
                    // Keyed by the handle asked for (names can come back in
                    // another case); authors the service said nothing of are
                    // remembered as unknown, so they are not asked for again.
                    for handle in batch {
                        let audience = found
                            .iter()
                            .find(|(h, _)| h == handle)
                            .or_else(|| found.iter().find(|(h, _)| h.eq_ignore_ascii_case(handle)))
                            .map(|(_, a)| *a)
                            .unwrap_or_default();
                        cache.insert(handle.clone(), audience);
                    }
                }
                Err(e) => {
                    tracing::warn!(source = %source.config.name, "could not fetch audiences: {e}");
                    break;
                }
            }
        }
        for m in mentions.iter_mut().filter(|m| connector.wants_audience(m)) {
            if let Some(audience) = m.author.handle.as_ref().and_then(|h| cache.get(h)).copied() {
                connector.apply_audience(m, &audience);
            }
        }
    }

    /// A valid token for `source`, from the cache or fetched (signed) anew
    /// when there is none or it is about to expire.
    async fn token(&self, source: &Source, oauth: &super::OAuth) -> Result<String, String> {
        let mut cached = source.token.lock().await;
        let now = self.clock.now();
        if let Some((token, until)) = cached.as_ref() {
            if *until > now {
                return Ok(token.clone());
            }
        }
        let (token, until) = super::auth::fetch(&self.http, oauth, now).await?;
        *cached = Some((token.clone(), until));
        Ok(token)
    }

    /// Stores the new mentions, the advanced cursor and the source's health
    /// in one transaction: a crash can neither skip nor repeat items.
    async fn store(
        &self,
        source: &Source,
        old: &Cursor,
        fetched: Vec<crate::mention::Mention>,
        wait: Option<DateTime<Utc>>,
        error: Option<String>,
        report: &mut PollReport,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut cursor = old.clone();
        for m in &fetched {
            if cursor.time.is_none_or(|t| m.created_at > t) {
                cursor.time = Some(m.created_at);
                cursor.id = Some(m.source_id.clone());
            }
        }
        let mut batch = Vec::new();
        for mention in fetched {
            match crate::pipeline::prepare(&self.enricher, mention, now) {
                Ok(new) => batch.push(new),
                Err(_) => report.unmatched += 1,
            }
        }
        let cursor_json = serde_json::to_string(&cursor).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let name = source.config.name.clone();
        // A refused request (429, 503 with Retry-After, a quota 403) counts
        // as a failure for health, though the loop waits instead of backing off.
        let failed = error.is_some();
        let outcome = match &self.store {
            PollStore::Sqlite { writer, .. } => {
                writer
                    .ingest(move |ingest| {
                        let outcome = ingest.insert(&batch)?;
                        super::state::save_cursor(ingest.tx, &name, &cursor_json)?;
                        super::state::record_poll(ingest.tx, &name, now, failed, error.as_deref(), wait)?;
                        Ok(outcome)
                    })
                    .await?
            }
            PollStore::Postgres { pool, holder, spam } => {
                let mut client = pool.get().await?;
                let tx = client.transaction().await?;
                crate::store::postgres::lease::fence(&tx, &lease_name(&source.config), holder).await?;
                let outcome = crate::store::postgres::ingest::insert(&tx, &batch, spam).await?;
                super::state::save_poll_postgres(&tx, &name, &cursor_json, now, error.as_deref(), wait).await?;
                tx.commit().await?;
                outcome
            }
        };
        report.stored = outcome.stored;
        report.duplicates = outcome.duplicates;
        report.revised = outcome.revised;
        Ok(())
    }
}

/// The client-side quotas of a config's sources: one limiter per
/// credential, shared by every source that names it and by the replies
/// posted through those sources' accounts.
#[derive(Default)]
pub struct Limiters(HashMap<String, Arc<DefaultDirectRateLimiter>>);

impl Limiters {
    pub fn new(configs: &[SourceConfig]) -> Limiters {
        let mut limiters = Limiters::default();
        for c in configs {
            let Some(r) = c.rate_limit else { continue };
            // Evenly spaced, no burst: then no window of `per` ever
            // holds more than `requests`, however the server counts.
            let Some(period) = NonZeroU32::new(r.requests).and_then(|_| Some(r.per.0.to_std().ok()? / r.requests))
            else {
                continue;
            };
            let Some(quota) = Quota::with_period(period) else {
                continue;
            };
            limiters
                .0
                .entry(Self::key(c))
                .or_insert_with(|| Arc::new(RateLimiter::direct(quota)));
        }
        limiters
    }

    fn key(c: &SourceConfig) -> String {
        c.credential.clone().unwrap_or_else(|| format!("source:{}", c.name))
    }
}

/// The lease a source is polled under when processes share the sources
/// ([`crate::store::postgres::lease`]). Sources polling under one
/// client-side quota (a `credential` with a `rate_limit`) are one piece of
/// work: the process holding it holds the quota's whole budget, so several
/// processes never spend one credential's budget several times over.
pub fn lease_name(c: &SourceConfig) -> String {
    use crate::store::postgres::lease;
    match (&c.credential, c.rate_limit) {
        (Some(credential), Some(_)) => lease::credential_lease(credential),
        _ => lease::source_lease(&c.name),
    }
}

impl Limiters {
    /// The limiter `config` polls (and replies) under, if it has a quota.
    pub fn of(&self, config: &SourceConfig) -> Option<Arc<DefaultDirectRateLimiter>> {
        config.rate_limit?;
        self.0.get(&Self::key(config)).cloned()
    }
}

/// Builds the sources of a config, sharing one client-side limiter among
/// sources with the same credential.
pub fn sources(configs: &[SourceConfig]) -> Vec<Source> {
    sources_with(configs, &Limiters::new(configs))
}

/// [`sources`] under limiters that replies share too.
pub fn sources_with(configs: &[SourceConfig], limiters: &Limiters) -> Vec<Source> {
    configs
        .iter()
        .map(|c| Source {
            config: c.clone(),
            connector: connector(c),
            limiter: limiters.of(c),
            token: tokio::sync::Mutex::new(None),
            audiences: tokio::sync::Mutex::new(HashMap::new()),
            author_budget: RateLimiter::direct(author_quota(&c.author_lookups)),
        })
        .collect()
}

/// The author-lookup budget: `requests` at once, refilled evenly over `per`.
fn author_quota(budget: &RateLimitConfig) -> Quota {
    let requests = NonZeroU32::new(budget.requests).unwrap_or(NonZeroU32::MIN);
    let period = budget.per.0.to_std().unwrap_or(Duration::from_secs(60)) / requests.get();
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_minute(requests))
        .allow_burst(requests)
}

/// When the server tells us to wait: a 429, a quota 403, a 503 with
/// `Retry-After`, or no requests remaining. Reset times come as seconds from now (Reddit), epoch seconds
/// (Bluesky, X) or ISO times (Mastodon); `Retry-After` as seconds or a date.
pub fn server_wait(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
    custom: Option<&super::json::RateLimitHeaders>,
) -> Option<DateTime<Utc>> {
    let header = |custom: Option<&str>, names: &[&str]| {
        custom.into_iter().chain(names.iter().copied()).find_map(|n| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
        })
    };
    let reset = header(
        custom.map(|c| c.reset.as_str()),
        &[
            "x-ratelimit-reset",
            "ratelimit-reset",
            "x-rate-limit-reset",
            "ratelimit-resettime",
        ],
    )
    .and_then(|v| parse_reset(&v, now));
    let retry_after = header(None, &["retry-after"])
        .and_then(|v| crate::http::parse_retry_after(&v, now))
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .map(|d| now + d);
    let remaining = header(
        custom.map(|c| c.remaining.as_str()),
        &["x-ratelimit-remaining", "ratelimit-remaining", "x-rate-limit-remaining"],
    )
    .and_then(|v| v.parse::<f64>().ok());
    let quota_403 = status == StatusCode::FORBIDDEN && {
        let text = String::from_utf8_lossy(&body[..body.len().min(4096)]).to_ascii_lowercase();
        text.contains("quota") || text.contains("rate limit") || text.contains("ratelimit")
    };
    let fallback = now + chrono::Duration::seconds(60);
    // Meta's Graph API says how much of its budget is used, in headers of
    // every answer, and throttles with a 400 or 403 whose body has code 4,
    // 17, 32 or 613 rather than a 429.
    let graph = graph_usage_wait(headers, now);
    if graph.is_some() || graph_throttled(status, body) {
        return Some(graph.unwrap_or(now + GRAPH_THROTTLE_WAIT));
    }
    if status == StatusCode::TOO_MANY_REQUESTS || quota_403 {
        return Some(retry_after.or(reset).unwrap_or(fallback));
    }
    // Down for maintenance, back at a stated time: wait rather than retry.
    if status == StatusCode::SERVICE_UNAVAILABLE {
        if let Some(at) = retry_after {
            return Some(at);
        }
    }
    if remaining.is_some_and(|r| r <= 0.0) {
        return Some(reset.unwrap_or(fallback));
    }
    None
}

/// How long to hold off a throttled Graph API app when it says nothing of
/// when access comes back (its windows are a rolling hour).
const GRAPH_THROTTLE_WAIT: chrono::Duration = chrono::Duration::minutes(10);

/// Meta's usage headers: `X-App-Usage` and `X-Page-Usage` (percentages of
/// the app's or page's hourly budget) and `X-Business-Use-Case-Usage` (per
/// business, with `estimated_time_to_regain_access` in minutes). A wait
/// once any share reaches 100% or access is being regained.
fn graph_usage_wait(headers: &HeaderMap, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let json = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| serde_json::from_str::<serde_json::Value>(v).ok())
    };
    let spent = |usage: &serde_json::Value| {
        ["call_count", "total_time", "total_cputime"].iter().any(|k| {
            usage
                .get(*k)
                .and_then(serde_json::Value::as_f64)
                .is_some_and(|p| p >= 100.0)
        })
    };
    let mut wait: Option<DateTime<Utc>> = None;
    let mut later = |until: DateTime<Utc>| wait = Some(wait.map_or(until, |w| w.max(until)));
    for name in ["x-app-usage", "x-page-usage", "x-ad-account-usage"] {
        if json(name).is_some_and(|u| spent(&u)) {
            later(now + GRAPH_THROTTLE_WAIT);
        }
    }
    if let Some(serde_json::Value::Object(businesses)) = json("x-business-use-case-usage") {
        for usage in businesses.values().filter_map(serde_json::Value::as_array).flatten() {
            let minutes = usage
                .get("estimated_time_to_regain_access")
                .and_then(serde_json::Value::as_f64)
                .filter(|m| m.is_finite() && *m > 0.0);
            match minutes {
                Some(m) => later(now + chrono::Duration::seconds((m.min(24.0 * 60.0) * 60.0) as i64)),
                None if spent(usage) => later(now + GRAPH_THROTTLE_WAIT),
                None => {}
            }
        }
    }
    wait
}

/// A Graph API error body with one of its rate-limit codes (4 app, 17 user,
/// 32 page, 613 custom, 80001–80014 business use case).
fn graph_throttled(status: StatusCode, body: &[u8]) -> bool {
    if !(status == StatusCode::BAD_REQUEST || status == StatusCode::FORBIDDEN) {
        return false;
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&body[..body.len().min(16 * 1024)]) else {
        return false;
    };
    value["error"]["code"]
        .as_i64()
        .is_some_and(|c| matches!(c, 4 | 17 | 32 | 613 | 80001..=80014))
}

fn parse_reset(value: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&Utc));
    }
    let n: f64 = value.parse().ok().filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
    if n > 1e9 {
        DateTime::from_timestamp(n as i64, 0)
    } else {
        Some(now + chrono::Duration::milliseconds((n.min(86_400.0) * 1000.0) as i64))
    }
}

pub use super::state::{status, SourceStatus};

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    #[test]
    fn sources_spending_one_quota_are_leased_together() {
        let source = |table: &str| SourceConfig::from_toml(toml::from_str(table).unwrap()).unwrap();
        let limited = r#"kind = "rss"
base_url = "https://example.com/feed"
credential = "app"
rate_limit = { requests = 10, per = "1m" }"#;
        let sources = [
            source(&format!("name = \"x-1\"\n{limited}")),
            source(&format!("name = \"x-2\"\n{limited}")),
            source("name = \"unlimited\"\nkind = \"rss\"\nbase_url = \"https://example.com/3\"\ncredential = \"app\""),
        ];
        let leases: Vec<String> = sources.iter().map(lease_name).collect();
        assert_eq!(leases, ["credential:app", "credential:app", "source:unlimited"]);
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn graph_api_usage_headers_and_throttling_codes_mean_wait() {
        let now = DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z").unwrap().to_utc();
        let ok = StatusCode::OK;
        let fine = headers(&[("x-app-usage", r#"{"call_count":28,"total_time":25,"total_cputime":25}"#)]);
        assert_eq!(server_wait(ok, &fine, b"", now, None), None);
        let spent = headers(&[(
            "x-app-usage",
            r#"{"call_count":100,"total_time":25,"total_cputime":25}"#,
        )]);
        assert_eq!(server_wait(ok, &spent, b"", now, None), Some(now + GRAPH_THROTTLE_WAIT));
        let business = headers(&[(
            "x-business-use-case-usage",
            r#"{"112233":[{"type":"pages","call_count":100,"total_cputime":40,"total_time":40,"estimated_time_to_regain_access":15}]}"#,
        )]);
        assert_eq!(
            server_wait(ok, &business, b"", now, None),
            Some(now + chrono::Duration::minutes(15))
        );
        let limited = br#"{"error":{"message":"(#32) Page request limit reached","type":"OAuthException","code":32,"fbtrace_id":"A1"}}"#;
        assert_eq!(
            server_wait(StatusCode::BAD_REQUEST, &HeaderMap::new(), limited, now, None),
            Some(now + GRAPH_THROTTLE_WAIT)
        );
        let other = br#"{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190}}"#;
        assert_eq!(
            server_wait(StatusCode::BAD_REQUEST, &HeaderMap::new(), other, now, None),
            None
        );
        let junk = headers(&[("x-app-usage", "not json"), ("x-business-use-case-usage", "[]")]);
        assert_eq!(server_wait(ok, &junk, b"", now, None), None);
    }

    #[test]
    fn reset_times_in_every_network_format() {
        let now = DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z").unwrap().to_utc();
        let ok = StatusCode::OK;
        // Reddit: a float string of seconds from now.
        let reddit = headers(&[("x-ratelimit-remaining", "0.0"), ("x-ratelimit-reset", "42")]);
        assert_eq!(
            server_wait(ok, &reddit, b"", now, None),
            Some(now + chrono::Duration::seconds(42))
        );
        // Mastodon: an ISO time.
        let mastodon = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "2026-11-23T10:05:00.000Z"),
        ]);
        assert_eq!(
            server_wait(ok, &mastodon, b"", now, None),
            Some(now + chrono::Duration::minutes(5))
        );
        // Bluesky and X: epoch seconds.
        let epoch = (now + chrono::Duration::minutes(15)).timestamp().to_string();
        let x = headers(&[("x-rate-limit-remaining", "0"), ("x-rate-limit-reset", &epoch)]);
        assert_eq!(
            server_wait(ok, &x, b"", now, None),
            Some(now + chrono::Duration::minutes(15))
        );
        // Requests left: no wait.
        let fine = headers(&[("ratelimit-remaining", "12"), ("ratelimit-reset", &epoch)]);
        assert_eq!(server_wait(ok, &fine, b"", now, None), None);
        // 429 with Retry-After, and a quota 403.
        let retry = headers(&[("retry-after", "30")]);
        assert_eq!(
            server_wait(StatusCode::TOO_MANY_REQUESTS, &retry, b"", now, None),
            Some(now + chrono::Duration::seconds(30))
        );
        assert!(server_wait(
            StatusCode::FORBIDDEN,
            &HeaderMap::new(),
            b"{\"reason\":\"quotaExceeded\"}",
            now,
            None
        )
        .is_some());
        assert!(server_wait(StatusCode::FORBIDDEN, &HeaderMap::new(), b"forbidden", now, None).is_none());
        // An API's own header names, when configured.
        let custom = super::super::json::RateLimitHeaders {
            remaining: "x-quota-left".into(),
            reset: "x-quota-reset".into(),
        };
        let own = headers(&[("x-quota-left", "0"), ("x-quota-reset", "90")]);
        assert_eq!(server_wait(ok, &own, b"", now, None), None);
        assert_eq!(
            server_wait(ok, &own, b"", now, Some(&custom)),
            Some(now + chrono::Duration::seconds(90))
        );
    }
}
