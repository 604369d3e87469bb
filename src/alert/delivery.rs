//! Delivers the outbox. Each channel has its own loop, so a dead receiver
//! delays only its own notifications; failed attempts are retried with
//! exponential backoff and jitter (or after the receiver's `Retry-After`),
//! until `give_up_after` has passed since the first attempt. Delivery runs on
//! wall time even in replay: it talks to real receivers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::channels::{Channel, ChannelError, SendError};
use super::{AlertsConfig, Notification};
use crate::clock::Clock;
use crate::sql_params;
use crate::store::sql::{numbered, pg_refs, Param, Sql};
use crate::store::writer::WriterHandle;
use crate::store::{self, Columns, StoreError};

/// First retry delay; each further failure doubles it, up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(600);

/// Counts from delivering.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryStats {
    pub sent: u64,
    pub failed_attempts: u64,
    pub gave_up: u64,
}

impl std::ops::AddAssign for DeliveryStats {
    fn add_assign(&mut self, o: Self) {
        self.sent += o.sent;
        self.failed_attempts += o.failed_attempts;
        self.gave_up += o.gave_up;
    }
}

struct Due {
    id: i64,
    key: String,
    payload: String,
    attempts: u32,
    first_attempt_at: Option<i64>,
}

/// Where the outbox is.
enum Outbox {
    /// Read on a connection of each channel's own, written by the one writer.
    Sqlite { db: PathBuf, writer: WriterHandle },
    /// Shared by every process: each notification is claimed before it is
    /// sent (its next attempt moved past the send's time limit), so only one
    /// process sends it, and one killed mid-send leaves it to be sent again,
    /// with the same `Idempotency-Key`, once the claim runs out.
    Postgres { pool: deadpool_postgres::Pool },
}

const DUE_SQL: &str = "SELECT id, idempotency_key, payload, attempts, first_attempt_at FROM outbox \
     WHERE status = 'pending' AND channel = ?1 AND next_attempt_at <= ?2 ORDER BY id LIMIT 100";
const NEXT_DUE_SQL: &str = "SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending' AND channel = ?1";
/// One notification due on a channel, claimed until `$3`.
const CLAIM_SQL: &str = "WITH due AS (SELECT id FROM outbox \
       WHERE status = 'pending' AND channel = $1 AND next_attempt_at <= $2 ORDER BY id LIMIT 1 \
       FOR UPDATE SKIP LOCKED) \
     UPDATE outbox o SET next_attempt_at = $3 FROM due WHERE o.id = due.id \
     RETURNING o.id, o.idempotency_key, o.payload, o.attempts, o.first_attempt_at";

/// How long past its send's time limit a claimed notification waits before
/// another process may send it (the claimer was killed, or cut off).
const CLAIM_MARGIN: Duration = Duration::from_secs(5);

fn due_from(r: &(impl Columns + ?Sized)) -> Result<Due, StoreError> {
    Ok(Due {
        id: r.required_int(0)?,
        key: r.required_text(1)?,
        payload: r.required_text(2)?,
        attempts: u32::try_from(r.required_int(3)?.max(0)).unwrap_or(u32::MAX),
        first_attempt_at: r.int(4)?,
    })
}

/// Where one channel's loop reads what is due.
enum DueReader {
    Sqlite(rusqlite::Connection),
    Postgres(deadpool_postgres::Pool),
}

pub struct Dispatcher {
    outbox: Outbox,
    channels: HashMap<String, Channel>,
    /// Each channel's claim time on a shared outbox: twice its send's limit,
    /// and a margin.
    claims: HashMap<String, Duration>,
    give_up_after: chrono::Duration,
    base_backoff: Duration,
    /// Real time in `run` and in replay alike: receivers answer in it.
    clock: Arc<dyn Clock>,
}

impl Dispatcher {
    pub fn new(
        config: &AlertsConfig,
        db: &Path,
        writer: WriterHandle,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ChannelError> {
        let outbox = Outbox::Sqlite {
            db: db.to_path_buf(),
            writer,
        };
        Self::with_outbox(config, outbox, clock)
    }

    /// Delivers the outbox of a shared PostgreSQL database, alongside any
    /// other process doing the same.
    pub fn on_postgres(
        config: &AlertsConfig,
        pool: deadpool_postgres::Pool,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ChannelError> {
        Self::with_outbox(config, Outbox::Postgres { pool }, clock)
    }

    fn with_outbox(config: &AlertsConfig, outbox: Outbox, clock: Arc<dyn Clock>) -> Result<Self, ChannelError> {
        let http = crate::http::client()?;
        let mut channels = HashMap::new();
        let mut claims = HashMap::new();
        for c in &config.channels {
            channels.insert(c.name.clone(), Channel::new(c, &http)?);
            let limit = c.timeout.0.to_std().unwrap_or(Duration::from_secs(10));
            claims.insert(c.name.clone(), limit * 2 + CLAIM_MARGIN);
        }
        Ok(Dispatcher {
            outbox,
            channels,
            claims,
            give_up_after: config.give_up_after.0,
            base_backoff: BASE_BACKOFF,
            clock,
        })
    }

    /// Sets the first retry delay (tests use a short one).
    pub fn with_base_backoff(mut self, base: Duration) -> Self {
        self.base_backoff = base;
        self
    }

    /// Delivers what is due, channel by channel concurrently, until nothing
    /// is pending or `deadline` passes. Returns what it did.
    pub async fn drain(&self, deadline: tokio::time::Instant) -> Result<DeliveryStats, StoreError> {
        let loops = self
            .channels
            .iter()
            .map(|(name, channel)| self.channel_loop(name, channel, Some(deadline)));
        let mut total = DeliveryStats::default();
        for result in futures::future::join_all(loops).await {
            total += result?;
        }
        Ok(total)
    }

    /// Delivers forever (until the task is dropped).
    pub async fn run(&self) -> Result<(), StoreError> {
        let loops = self
            .channels
            .iter()
            .map(|(name, channel)| self.channel_loop(name, channel, None));
        for result in futures::future::join_all(loops).await {
            result?;
        }
        Ok(())
    }

    async fn channel_loop(
        &self,
        name: &str,
        channel: &Channel,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<DeliveryStats, StoreError> {
        let reader = match &self.outbox {
            Outbox::Sqlite { db, .. } => DueReader::Sqlite(store::open_read_only(db)?),
            Outbox::Postgres { pool } => DueReader::Postgres(pool.clone()),
        };
        let claim = self.claims.get(name).copied().unwrap_or(CLAIM_MARGIN);
        let mut stats = DeliveryStats::default();
        loop {
            let now_ms = self.clock.now().timestamp_millis();
            let (due, next_due) = match &reader {
                DueReader::Sqlite(conn) => {
                    let db: &dyn Sql = conn;
                    let due = db.rows(DUE_SQL, &sql_params![name, now_ms], |r| due_from(r))?;
                    (due, db.int(NEXT_DUE_SQL, &sql_params![name])?)
                }
                DueReader::Postgres(pool) => {
                    let client = pool.get().await?;
                    let until = now_ms.saturating_add(claim.as_millis() as i64);
                    let due: Vec<Due> = client
                        .query(CLAIM_SQL, &[&name, &now_ms, &until])
                        .await?
                        .iter()
                        .map(due_from)
                        .collect::<Result<_, _>>()?;
                    let next: Option<i64> = client.query_one(&numbered(NEXT_DUE_SQL), &[&name]).await?.get(0);
                    (due, next)
                }
            };
            if due.is_empty() {
                let wait = match next_due {
                    Some(at) => Duration::from_millis((at - now_ms).clamp(10, 1000) as u64),
                    None if deadline.is_some() => return Ok(stats),
                    None => Duration::from_secs(1),
                };
                if deadline.is_some_and(|d| tokio::time::Instant::now() + wait > d) {
                    return Ok(stats);
                }
                tokio::time::sleep(wait).await;
                continue;
            }
            for item in due {
                stats += self.attempt(name, channel, item).await?;
                if deadline.is_some_and(|d| tokio::time::Instant::now() > d) {
                    return Ok(stats);
                }
            }
        }
    }

    async fn attempt(&self, name: &str, channel: &Channel, item: Due) -> Result<DeliveryStats, StoreError> {
        let mut stats = DeliveryStats::default();
        let notification: Notification = match serde_json::from_str(&item.payload) {
            Ok(n) => n,
            Err(e) => {
                self.record(
                    item.id,
                    Outcome::GaveUp(format!("unreadable payload: {e}")),
                    item.first_attempt_at,
                )
                .await?;
                stats.gave_up += 1;
                return Ok(stats);
            }
        };
        let started = self.clock.now().timestamp_millis();
        let first = item.first_attempt_at.unwrap_or(started);
        match channel
            .send(&notification, &item.payload, &item.key, self.clock.now())
            .await
        {
            Ok(()) => {
                self.record(item.id, Outcome::Sent, Some(first)).await?;
                metrics::counter!(crate::metrics::DELIVERIES, "channel" => name.to_string(), "outcome" => "sent")
                    .increment(1);
                stats.sent += 1;
            }
            Err(error) => {
                stats.failed_attempts += 1;
                metrics::counter!(crate::metrics::DELIVERIES, "channel" => name.to_string(), "outcome" => "failed")
                    .increment(1);
                let give_up_at = first + self.give_up_after.num_milliseconds();
                let permanent = matches!(error, SendError::Permanent(_));
                if permanent || self.clock.now().timestamp_millis() >= give_up_at {
                    tracing::error!(
                        channel = name,
                        outbox = item.id,
                        attempts = item.attempts + 1,
                        "gave up delivering {}: {error}",
                        item.key
                    );
                    self.record(item.id, Outcome::GaveUp(error.to_string()), Some(first))
                        .await?;
                    stats.gave_up += 1;
                } else {
                    let backoff = self.backoff(item.attempts, &error);
                    if item.attempts == 0 {
                        // One clear line per notification; further retries log at debug.
                        tracing::warn!(channel = name, outbox = item.id, "delivery failed, will retry: {error}");
                    } else {
                        tracing::debug!(channel = name, outbox = item.id, "retry failed: {error}");
                    }
                    let next = self.clock.now().timestamp_millis() + backoff.as_millis() as i64;
                    self.record(item.id, Outcome::Retry(error.to_string(), next), Some(first))
                        .await?;
                }
            }
        }
        Ok(stats)
    }

    fn backoff(&self, attempts: u32, error: &SendError) -> Duration {
        let server_asked = match error {
            SendError::Retry { after, .. } => *after,
            _ => None,
        };
        crate::http::Backoff::new(self.base_backoff, MAX_BACKOFF).delay(attempts.saturating_add(1), server_asked)
    }

    async fn record(&self, id: i64, outcome: Outcome, first_attempt_at: Option<i64>) -> Result<(), StoreError> {
        let now = self.clock.now().timestamp_millis();
        // A notification another process has meanwhile sent (this one's
        // claim ran out) stays sent: only a pending row changes.
        let (sql, params): (&'static str, Vec<Param>) = match outcome {
            Outcome::Sent => (
                "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?2, \
                 first_attempt_at = ?3, last_error = NULL WHERE id = ?1 AND status = 'pending'",
                sql_params![id, now, first_attempt_at].into(),
            ),
            Outcome::Retry(error, next) => (
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, first_attempt_at = ?3, \
                 last_error = ?4 WHERE id = ?1 AND status = 'pending'",
                sql_params![id, next, first_attempt_at, error].into(),
            ),
            Outcome::GaveUp(error) => (
                "UPDATE outbox SET status = 'gave_up', attempts = attempts + 1, first_attempt_at = ?2, \
                 last_error = ?3 WHERE id = ?1 AND status = 'pending'",
                sql_params![id, first_attempt_at, error].into(),
            ),
        };
        match &self.outbox {
            Outbox::Sqlite { writer, .. } => {
                writer
                    .transact(move |tx| {
                        Sql::execute(tx, sql, &params)?;
                        Ok(())
                    })
                    .await
            }
            Outbox::Postgres { pool } => {
                let client = pool.get().await?;
                client.execute(&numbered(sql), &pg_refs(&params)).await?;
                Ok(())
            }
        }
    }
}

enum Outcome {
    Sent,
    Retry(String, i64),
    GaveUp(String),
}
