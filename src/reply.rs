//! Replies from the inbox, posted on the mention's own network through the
//! brand's account, exactly once.
//!
//! A reply is queued in the `replies` outbox in the transaction that asks
//! for it; the [`Sender`] posts it. The guarantee rests on three rules:
//! 1. the attempt is recorded (`sending`) and committed *before* the
//!    request goes out;
//! 2. a failure that certainly posted nothing sends the reply back to
//!    `queued`; one whose outcome is unknown (a timeout, a 5xx, the process
//!    killed mid-request) leaves it `sending`;
//! 3. a `sending` reply is never sent again before the network has been
//!    asked whether it is there ([`Replier::find`]: Mastodon's thread,
//!    Bluesky's record key, X's and Reddit's own recent posts, YouTube's
//!    thread; a Google Play reply replaces itself).
//!
//! When posted, the mention becomes `responded` by whoever wrote the reply,
//! at the time it was posted, with the reply's link in its history: the
//! response time is the network's, not what someone remembered to record.
//! Templates ("saved replies") per brand live here too.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

use crate::clock::Clock;
use crate::http::Backoff;
use crate::mention::format_time;
use crate::sources::poll::Limiters;
use crate::sources::reply::{Draft, Net, Posted, Replier, ReplyError, Target};
use crate::sources::SourceConfig;
use crate::store::writer::WriterHandle;
use crate::store::{self, from_ms, StoreError};

/// The longest reply or template accepted, in bytes, whatever the network.
pub const MAX_REPLY_BYTES: usize = 10_000;
const MAX_TEMPLATE_NAME_BYTES: usize = 100;
/// Retries of one reply stop this long after its first attempt.
const GIVE_UP_AFTER: chrono::Duration = chrono::Duration::hours(24);
const BACKOFF: Backoff = Backoff::new(Duration::from_secs(5), Duration::from_secs(900));

/// Where a reply stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReplyStatus {
    /// Waiting to be sent (again).
    Queued,
    /// An attempt is under way, or ended without a clear answer: the
    /// network is asked before it is sent again.
    Sending,
    Posted,
    /// Refused by the network, or given up after a day of retries.
    Failed,
}

impl ReplyStatus {
    fn parse(s: &str) -> Result<ReplyStatus, StoreError> {
        Ok(match s {
            "queued" => ReplyStatus::Queued,
            "sending" => ReplyStatus::Sending,
            "posted" => ReplyStatus::Posted,
            "failed" => ReplyStatus::Failed,
            other => return Err(StoreError::Corrupt(format!("reply status {other:?}"))),
        })
    }
}

/// A reply, as the mention's page and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Reply {
    pub id: i64,
    pub mention_id: i64,
    /// The `[[sources]]` entry whose account posts it.
    pub account: String,
    pub network: String,
    pub text: String,
    pub status: ReplyStatus,
    pub requested_by: String,
    pub requested_at: String,
    pub attempts: u32,
    /// The network's reason for the last failure.
    pub last_error: Option<String>,
    /// A failed reply that may nevertheless be on the network (its last
    /// attempt got no answer and the network could not be asked).
    pub in_doubt: bool,
    pub url: Option<String>,
    pub posted_at: Option<String>,
}

/// An account replies can be posted from: a source configured with one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Account {
    /// The source's name.
    pub name: String,
    pub network: String,
    /// The brand the source watches, if it is one brand's.
    pub brand: Option<String>,
    /// The longest reply the network takes, in characters.
    pub max_chars: usize,
}

/// Every source that can answer, in config order.
pub fn accounts(sources: &[SourceConfig]) -> Vec<Account> {
    sources
        .iter()
        .filter(|s| Replier::for_source(s).is_some())
        .map(|s| Account {
            name: s.name.clone(),
            network: s.kind().as_str().to_string(),
            brand: s.brand.clone(),
            max_chars: crate::sources::reply::max_chars(&s.spec),
        })
        .collect()
}

/// The accounts that can answer a mention from `network` about `brands`:
/// the network's own, a brand's source only for its brand's mentions.
pub fn accounts_for(sources: &[SourceConfig], network: &str, brands: &[String]) -> Vec<Account> {
    accounts(sources)
        .into_iter()
        .filter(|a| a.network == network && a.brand.as_ref().is_none_or(|b| brands.contains(b)))
        .collect()
}

/// Queues a reply to mention `id` from `account` (or the one account that
/// can answer it), in the caller's transaction. Refused while another reply
/// to the mention is still being posted (a second click is not a second
/// reply).
pub fn queue(
    tx: &Transaction,
    sources: &[SourceConfig],
    id: i64,
    account: Option<&str>,
    text: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<Reply, StoreError> {
    let by = by.trim();
    if by.is_empty() || by.len() > 100 {
        return Err(StoreError::Invalid(
            "say who writes the reply (by), at most 100 bytes".into(),
        ));
    }
    let mention = store::mention_by_id(tx, id)?;
    let network = mention.scored.mention.source.clone();
    let brands: Vec<String> = mention.scored.brands.iter().map(|b| b.to_string()).collect();
    let candidates = accounts_for(sources, &network, &brands);
    let chosen = match account.map(str::trim).filter(|a| !a.is_empty()) {
        Some(name) => candidates.iter().find(|a| a.name == name).ok_or_else(|| {
            StoreError::Invalid(format!(
                "{name:?} cannot answer this {network} mention; accounts that can: {}",
                names(&candidates)
            ))
        })?,
        None => match candidates.as_slice() {
            [one] => one,
            [] => {
                return Err(StoreError::Conflict(no_account(
                    &network,
                    mention.scored.mention.url.as_deref(),
                )))
            }
            more => {
                return Err(StoreError::Invalid(format!(
                    "choose the account to answer from (account): {}",
                    names(more)
                )))
            }
        },
    };
    let text = text.trim();
    check_text(text, chosen.max_chars, &network)?;
    let posted = posted_chars(&network, text, mention.scored.mention.author.handle.as_deref());
    if posted > chosen.max_chars {
        return Err(StoreError::Invalid(format!(
            "the reply has {posted} characters with the author's handle that leads it; {network} takes at most {}",
            chosen.max_chars
        )));
    }
    let busy: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM replies WHERE mention_id = ?1 AND status IN ('queued', 'sending'))",
        [id],
        |r| r.get(0),
    )?;
    if busy {
        return Err(StoreError::Conflict(format!(
            "a reply to mention {id} is still being posted; wait for it before sending another"
        )));
    }
    let at_ms = at.timestamp_millis();
    let mut key = crate::sources::reply::new_key(at, rand::random::<u16>());
    while tx.query_row("SELECT EXISTS (SELECT 1 FROM replies WHERE key = ?1)", [&key], |r| {
        r.get(0)
    })? {
        key = crate::sources::reply::new_key(at, rand::random::<u16>());
    }
    tx.execute(
        "INSERT INTO replies (mention_id, account, text, key, requested_by, requested_at, next_attempt_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![id, chosen.name, text, key, by, at_ms],
    )?;
    let reply_id = tx.last_insert_rowid();
    crate::inbox::record_change(tx, id)?;
    one(tx, reply_id)
}

/// The characters a reply takes on its network (a Mastodon reply leads
/// with the author's handle).
pub fn posted_chars(network: &str, text: &str, author: Option<&str>) -> usize {
    match network {
        "mastodon" => crate::sources::mastodon::posted_text(text, author).chars().count(),
        _ => text.chars().count(),
    }
}

fn names(accounts: &[Account]) -> String {
    if accounts.is_empty() {
        return "none".into();
    }
    accounts.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// What to do when no account can answer a network's mention.
pub fn no_account(network: &str, url: Option<&str>) -> String {
    match url {
        Some(url) => format!("no account is configured to reply on {network}; reply there: {url}"),
        None => format!("no account is configured to reply on {network}"),
    }
}

fn check_text(text: &str, max_chars: usize, network: &str) -> Result<(), StoreError> {
    if text.is_empty() {
        return Err(StoreError::Invalid("the reply is empty (text)".into()));
    }
    if text.len() > MAX_REPLY_BYTES {
        return Err(StoreError::Invalid(format!(
            "the reply is longer than {MAX_REPLY_BYTES} bytes"
        )));
    }
    let chars = text.chars().count();
    if chars > max_chars {
        return Err(StoreError::Invalid(format!(
            "the reply has {chars} characters; {network} takes at most {max_chars}"
        )));
    }
    Ok(())
}

const REPLY_COLUMNS: &str = "r.id, r.mention_id, r.account, m.source, r.text, r.status, r.requested_by, \
     r.requested_at, r.attempts, r.last_error, r.in_doubt, r.remote_url, r.posted_at";

fn reply_row(r: &rusqlite::Row) -> rusqlite::Result<Result<Reply, StoreError>> {
    let time = |ms: i64| format_time(from_ms(ms));
    let status = match ReplyStatus::parse(&r.get::<_, String>(5)?) {
        Ok(status) => status,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(Reply {
        id: r.get(0)?,
        mention_id: r.get(1)?,
        account: r.get(2)?,
        network: r.get(3)?,
        text: r.get(4)?,
        status,
        requested_by: r.get(6)?,
        requested_at: time(r.get(7)?),
        attempts: r.get(8)?,
        last_error: r.get(9)?,
        in_doubt: r.get(10)?,
        url: r.get(11)?,
        posted_at: r.get::<_, Option<i64>>(12)?.map(time),
    }))
}

fn one(conn: &Connection, reply_id: i64) -> Result<Reply, StoreError> {
    conn.query_row(
        &format!("SELECT {REPLY_COLUMNS} FROM replies r JOIN mentions m ON m.id = r.mention_id WHERE r.id = ?1"),
        [reply_id],
        reply_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("no reply {reply_id}")))?
}

/// One reply by its id.
pub fn reply(conn: &Connection, reply_id: i64) -> Result<Reply, StoreError> {
    one(conn, reply_id)
}

/// The replies to a mention, oldest first.
pub fn for_mention(conn: &Connection, id: i64) -> Result<Vec<Reply>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {REPLY_COLUMNS} FROM replies r JOIN mentions m ON m.id = r.mention_id WHERE r.mention_id = ?1 ORDER BY r.id"
    ))?;
    let rows = stmt.query_map([id], reply_row)?;
    rows.map(|r| r?).collect()
}

/// Sends a failed reply again. One that may have been posted is checked
/// on the network first, as after a crash.
pub fn retry(tx: &Transaction, reply_id: i64, at: DateTime<Utc>) -> Result<Reply, StoreError> {
    let current = one(tx, reply_id)?;
    if current.status != ReplyStatus::Failed {
        return Err(StoreError::Conflict(format!(
            "reply {reply_id} has not failed (it is {:?})",
            current.status
        )));
    }
    tx.execute(
        "UPDATE replies SET status = CASE WHEN in_doubt = 1 THEN 'sending' ELSE 'queued' END, in_doubt = 0, \
         attempts = 0, first_attempt_at = NULL, next_attempt_at = ?2 WHERE id = ?1",
        params![reply_id, at.timestamp_millis()],
    )?;
    crate::inbox::record_change(tx, current.mention_id)?;
    one(tx, reply_id)
}

/// A saved reply: a brand's template, with `{author}` and `{brand}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Template {
    pub id: i64,
    pub brand: String,
    pub name: String,
    pub body: String,
    pub created_by: String,
}

/// The templates of `brands` (every brand's when empty), by brand and name.
pub fn templates(conn: &Connection, brands: &[String]) -> Result<Vec<Template>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT id, brand, name, body, created_by FROM reply_templates ORDER BY brand, name")?;
    let rows = stmt.query_map([], |r| {
        Ok(Template {
            id: r.get(0)?,
            brand: r.get(1)?,
            name: r.get(2)?,
            body: r.get(3)?,
            created_by: r.get(4)?,
        })
    })?;
    let all: Vec<Template> = rows.collect::<Result<_, _>>()?;
    Ok(all
        .into_iter()
        .filter(|t| brands.is_empty() || brands.contains(&t.brand))
        .collect())
}

/// Saves a template for `brand` (one of `known` brands), replacing one of
/// the same name.
pub fn save_template(
    tx: &Transaction,
    known: &[String],
    brand: &str,
    name: &str,
    body: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<Template, StoreError> {
    let (brand, name, body) = (brand.trim(), name.trim(), body.trim());
    if !known.iter().any(|b| b == brand) {
        return Err(StoreError::Invalid(format!("no brand {brand:?} is configured")));
    }
    if name.is_empty() || name.len() > MAX_TEMPLATE_NAME_BYTES {
        return Err(StoreError::Invalid(format!(
            "name the template (name), at most {MAX_TEMPLATE_NAME_BYTES} bytes"
        )));
    }
    if body.is_empty() || body.len() > MAX_REPLY_BYTES {
        return Err(StoreError::Invalid(format!(
            "the template's text (body) must be 1 to {MAX_REPLY_BYTES} bytes"
        )));
    }
    tx.execute(
        "INSERT INTO reply_templates (brand, name, body, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (brand, name) DO UPDATE SET body = excluded.body, created_by = excluded.created_by, \
         created_at = excluded.created_at",
        params![brand, name, body, by, at.timestamp_millis()],
    )?;
    let id = tx.query_row(
        "SELECT id FROM reply_templates WHERE brand = ?1 AND name = ?2",
        params![brand, name],
        |r| r.get(0),
    )?;
    Ok(Template {
        id,
        brand: brand.to_string(),
        name: name.to_string(),
        body: body.to_string(),
        created_by: by.to_string(),
    })
}

pub fn delete_template(tx: &Transaction, id: i64) -> Result<(), StoreError> {
    match tx.execute("DELETE FROM reply_templates WHERE id = ?1", [id])? {
        0 => Err(StoreError::NotFound(format!("no template {id}"))),
        _ => Ok(()),
    }
}

/// A template's text for one mention: `{author}` is the author's handle
/// (or "there" when the network gives none), `{brand}` the brand's name.
pub fn fill(body: &str, author: Option<&str>, brand: &str) -> String {
    let author = author.map(str::trim).filter(|a| !a.is_empty()).unwrap_or("there");
    body.replace("{author}", author).replace("{brand}", brand)
}

/// What one round of sending did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendStats {
    pub posted: u64,
    /// Found on the network after an attempt whose outcome was unknown.
    pub found: u64,
    pub retried: u64,
    pub failed: u64,
}

impl std::ops::AddAssign for SendStats {
    fn add_assign(&mut self, o: Self) {
        self.posted += o.posted;
        self.found += o.found;
        self.retried += o.retried;
        self.failed += o.failed;
    }
}

struct Due {
    id: i64,
    mention_id: i64,
    account: String,
    network: String,
    text: String,
    key: String,
    status: ReplyStatus,
    attempts: u32,
    first_attempt_at: Option<i64>,
    requested_by: String,
    target: Target,
}

struct Outlet {
    replier: Replier,
    net: Net,
}

/// Posts queued replies through each account's network.
pub struct Sender {
    db: PathBuf,
    writer: WriterHandle,
    outlets: HashMap<String, Outlet>,
    clock: Arc<dyn Clock>,
    backoff: Backoff,
}

impl Sender {
    /// A sender for every source that has an account to answer with, each
    /// under the rate limiter its polling uses.
    pub fn new(
        sources: &[SourceConfig],
        limiters: &Limiters,
        db: &Path,
        writer: WriterHandle,
        clock: Arc<dyn Clock>,
    ) -> Result<Sender, crate::http::HttpError> {
        let http = crate::http::client()?;
        let outlets = sources
            .iter()
            .filter_map(|s| {
                let replier = Replier::for_source(s)?;
                let net = Net::new(http.clone(), s, limiters.of(s), clock.clone());
                Some((s.name.clone(), Outlet { replier, net }))
            })
            .collect();
        Ok(Sender {
            db: db.to_path_buf(),
            writer,
            outlets,
            clock,
            backoff: BACKOFF,
        })
    }

    /// Sets the first retry delay (tests use a short one).
    pub fn with_backoff(mut self, base: Duration) -> Self {
        self.backoff = Backoff::new(base, base * 8);
        self
    }

    /// Sends every reply that is due, accounts side by side, one reply at a
    /// time per account.
    pub async fn send_due(&self) -> Result<SendStats, StoreError> {
        let due = self.due()?;
        let mut by_account: HashMap<String, Vec<Due>> = HashMap::new();
        for d in due {
            by_account.entry(d.account.clone()).or_default().push(d);
        }
        let rounds = by_account.into_values().map(|jobs| async move {
            let mut stats = SendStats::default();
            for job in jobs {
                stats += self.attempt(job).await?;
            }
            Ok::<_, StoreError>(stats)
        });
        let mut total = SendStats::default();
        for result in futures::future::join_all(rounds).await {
            total += result?;
        }
        Ok(total)
    }

    /// Sends until the task is dropped (or the writer stops). A failed
    /// round (the database busy a moment) is logged and tried again.
    pub async fn run(&self) -> Result<(), StoreError> {
        loop {
            match self.send_due().await {
                Err(StoreError::WriterStopped) => return Err(StoreError::WriterStopped),
                Err(e) => tracing::error!("posting replies: {e}"),
                Ok(_) => {}
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Sends until reply `reply_id` is posted or failed, or `deadline`
    /// passes (the `mentions reply` command, when no service runs).
    pub async fn send_until_settled(&self, reply_id: i64, deadline: tokio::time::Instant) -> Result<Reply, StoreError> {
        loop {
            self.send_due().await?;
            let reply = one(&store::open_read_only(&self.db)?, reply_id)?;
            let settled = matches!(reply.status, ReplyStatus::Posted | ReplyStatus::Failed);
            if settled || tokio::time::Instant::now() >= deadline {
                return Ok(reply);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn due(&self) -> Result<Vec<Due>, StoreError> {
        let conn = store::open_read_only(&self.db)?;
        let mut stmt = conn.prepare_cached(
            "SELECT r.id, r.mention_id, r.account, m.source, r.text, r.key, r.status, r.attempts, \
             r.first_attempt_at, r.requested_by, m.source_id, m.url, m.author \
             FROM replies r JOIN mentions m ON m.id = r.mention_id \
             WHERE r.status IN ('queued', 'sending') AND r.next_attempt_at <= ?1 \
             ORDER BY r.next_attempt_at, r.id LIMIT 100",
        )?;
        let rows = stmt.query_map([self.clock.now().timestamp_millis()], |r| {
            Ok((
                Due {
                    id: r.get(0)?,
                    mention_id: r.get(1)?,
                    account: r.get(2)?,
                    network: r.get(3)?,
                    text: r.get(4)?,
                    key: r.get(5)?,
                    status: ReplyStatus::Queued,
                    attempts: r.get(7)?,
                    first_attempt_at: r.get(8)?,
                    requested_by: r.get(9)?,
                    target: Target {
                        source_id: r.get(10)?,
                        url: r.get(11)?,
                        author: r.get(12)?,
                    },
                },
                r.get::<_, String>(6)?,
            ))
        })?;
        rows.map(|row| {
            let (mut due, status) = row?;
            due.status = ReplyStatus::parse(&status)?;
            Ok(due)
        })
        .collect()
    }

    async fn attempt(&self, job: Due) -> Result<SendStats, StoreError> {
        let now = self.clock.now();
        let mut stats = SendStats::default();
        let in_doubt = job.status == ReplyStatus::Sending;
        let Some(outlet) = self.outlets.get(&job.account) else {
            let reason = format!("the account {:?} is no longer configured to reply", job.account);
            self.fail(&job, reason, in_doubt).await?;
            stats.failed += 1;
            return Ok(stats);
        };
        // The network told this source's polling to wait: so do its replies.
        let (_, waiting) = crate::sources::state::read(&store::open_read_only(&self.db)?, &job.account)?;
        if let Some(until) = waiting.filter(|until| *until > now) {
            let reason = format!(
                "{} asked {} to wait until {}",
                job.network,
                job.account,
                format_time(until)
            );
            let wait = (until - now).to_std().unwrap_or_default();
            self.later(&job, job.status, reason, Some(wait)).await?;
            stats.retried += 1;
            return Ok(stats);
        }
        let draft = Draft {
            key: job.key.clone(),
            text: job.text.clone(),
            target: job.target.clone(),
            since: job.first_attempt_at.map(from_ms).unwrap_or(now),
        };
        if in_doubt {
            match outlet.replier.find(&outlet.net, &draft).await {
                Ok(Some(posted)) => {
                    self.posted(&job, posted).await?;
                    stats.found += 1;
                    return Ok(stats);
                }
                Ok(None) => {}
                Err(ReplyError::Refused(reason)) => {
                    let reason = format!(
                        "could not check whether the earlier attempt was posted ({reason}); \
                         look at the thread on {} before sending it again",
                        job.network
                    );
                    self.fail(&job, reason, true).await?;
                    stats.failed += 1;
                    return Ok(stats);
                }
                Err(e) => {
                    let reason = format!("checking whether it was posted: {}", e.reason());
                    self.later(&job, ReplyStatus::Sending, reason, None).await?;
                    stats.retried += 1;
                    return Ok(stats);
                }
            }
        }
        if job
            .first_attempt_at
            .is_some_and(|first| now - from_ms(first) > GIVE_UP_AFTER)
        {
            let reason = format!("gave up after {} attempts over a day", job.attempts);
            self.fail(&job, reason, false).await?;
            stats.failed += 1;
            return Ok(stats);
        }
        // Rule 1: the attempt is on disk before the request leaves.
        let (id, at) = (job.id, now.timestamp_millis());
        self.writer
            .transact(move |tx| {
                tx.execute(
                    "UPDATE replies SET status = 'sending', attempts = attempts + 1, \
                     first_attempt_at = coalesce(first_attempt_at, ?2) WHERE id = ?1",
                    params![id, at],
                )?;
                Ok(())
            })
            .await?;
        let draft = Draft {
            since: job.first_attempt_at.map(from_ms).unwrap_or(now),
            ..draft
        };
        let attempts = job.attempts + 1;
        match outlet.replier.post(&outlet.net, &draft).await {
            Ok(posted) => {
                self.posted(&job, posted).await?;
                stats.posted += 1;
            }
            Err(ReplyError::NotPosted { reason, after }) => {
                if let Some(after) = after {
                    self.hold_source(&job.account, now, after).await?;
                }
                let wait = self.backoff.delay(attempts, after);
                self.later(&job, ReplyStatus::Queued, reason, Some(wait)).await?;
                stats.retried += 1;
            }
            Err(ReplyError::Unknown(reason)) => {
                let reason = format!("{reason} (it may have been posted: the network is asked before trying again)");
                let wait = self.backoff.delay(attempts, None);
                self.later(&job, ReplyStatus::Sending, reason, Some(wait)).await?;
                stats.retried += 1;
            }
            Err(ReplyError::Refused(reason)) => {
                self.fail(&job, reason, false).await?;
                stats.failed += 1;
            }
        }
        Ok(stats)
    }

    /// The network asked a reply to wait: the source's polling waits too
    /// (its limit is the account's).
    async fn hold_source(&self, account: &str, now: DateTime<Utc>, after: Duration) -> Result<(), StoreError> {
        let until = now + chrono::Duration::from_std(after).unwrap_or(chrono::Duration::days(1));
        let account = account.to_string();
        self.writer
            .transact(move |tx| crate::sources::state::hold(tx, &account, until))
            .await
    }

    /// Records the reply as posted and the mention as answered, together.
    async fn posted(&self, job: &Due, posted: Posted) -> Result<(), StoreError> {
        let at = self.clock.now();
        let (id, mention_id, by) = (job.id, job.mention_id, job.requested_by.clone());
        let url = posted
            .url
            .filter(|u| reqwest::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https")));
        let note = format!("Replied on {}: {}", job.network, job.text);
        let remote_id = posted.id;
        self.writer
            .transact(move |tx| {
                let changed = tx.execute(
                    "UPDATE replies SET status = 'posted', remote_id = ?2, remote_url = ?3, posted_at = ?4, \
                     last_error = NULL, in_doubt = 0 WHERE id = ?1 AND status != 'posted'",
                    params![id, remote_id, url, at.timestamp_millis()],
                )?;
                if changed > 0 {
                    crate::inbox::record_reply(tx, mention_id, url.clone(), &note, &by, at)?;
                }
                Ok(())
            })
            .await?;
        metrics::counter!(crate::metrics::REPLIES, "network" => job.network.clone(), "outcome" => "posted")
            .increment(1);
        tracing::info!(reply = job.id, mention = job.mention_id, network = %job.network, "posted a reply");
        Ok(())
    }

    /// Schedules another try (`queued`) or check (`sending`).
    async fn later(
        &self,
        job: &Due,
        status: ReplyStatus,
        reason: String,
        wait: Option<Duration>,
    ) -> Result<(), StoreError> {
        let wait = wait.unwrap_or_else(|| self.backoff.delay(job.attempts.max(1), None));
        let next = self.clock.now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::minutes(15));
        let status = if status == ReplyStatus::Sending {
            "sending"
        } else {
            "queued"
        };
        let (id, mention_id, logged) = (job.id, job.mention_id, reason.clone());
        self.writer
            .transact(move |tx| {
                tx.execute(
                    "UPDATE replies SET status = ?2, last_error = ?3, next_attempt_at = ?4 WHERE id = ?1",
                    params![id, status, reason, next.timestamp_millis()],
                )?;
                crate::inbox::record_change(tx, mention_id)
            })
            .await?;
        metrics::counter!(crate::metrics::REPLIES, "network" => job.network.clone(), "outcome" => "retried")
            .increment(1);
        tracing::warn!(reply = job.id, network = %job.network, "reply not posted yet: {logged}");
        Ok(())
    }

    async fn fail(&self, job: &Due, reason: String, in_doubt: bool) -> Result<(), StoreError> {
        let (id, mention_id, logged) = (job.id, job.mention_id, reason.clone());
        self.writer
            .transact(move |tx| {
                tx.execute(
                    "UPDATE replies SET status = 'failed', last_error = ?2, in_doubt = ?3 WHERE id = ?1",
                    params![id, reason, in_doubt],
                )?;
                crate::inbox::record_change(tx, mention_id)
            })
            .await?;
        metrics::counter!(crate::metrics::REPLIES, "network" => job.network.clone(), "outcome" => "failed")
            .increment(1);
        tracing::warn!(reply = job.id, network = %job.network, "reply failed: {logged}");
        Ok(())
    }
}
