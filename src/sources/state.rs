//! Where each source left off and how it is doing: the `source_cursors`
//! and `source_state` tables, which only this module reads and writes. A
//! poll saves its cursor and health in the same transaction as the mentions
//! it stored (see [`super::poll`]), so a crash can neither skip nor repeat.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::{Cursor, SourceConfig};
use crate::store::StoreError;

/// The stored cursor and the time the server asked us to wait until.
pub fn read(conn: &Connection, name: &str) -> Result<(Cursor, Option<DateTime<Utc>>), StoreError> {
    let cursor: Option<String> = conn
        .query_row("SELECT cursor FROM source_cursors WHERE source = ?1", [name], |r| {
            r.get(0)
        })
        .optional()?;
    let cursor = cursor.and_then(|c| serde_json::from_str(&c).ok()).unwrap_or_default();
    let waiting: Option<i64> = conn
        .query_row(
            "SELECT rate_limited_until FROM source_state WHERE source = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    Ok((cursor, waiting.and_then(DateTime::from_timestamp_millis)))
}

/// Saves `source`'s cursor (as JSON).
pub fn save_cursor(tx: &Transaction, source: &str, cursor_json: &str) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO source_cursors (source, cursor) VALUES (?1, ?2) \
         ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor",
        params![source, cursor_json],
    )?;
    Ok(())
}

/// Records how a poll of `name` went at `now`: a failure (with its error)
/// or a success, and the time the server asked us to wait until.
pub fn record_poll(
    tx: &Transaction,
    name: &str,
    now: DateTime<Utc>,
    failed: bool,
    error: Option<&str>,
    wait: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    tx.execute("INSERT OR IGNORE INTO source_state (source) VALUES (?1)", [name])?;
    if failed {
        tx.execute(
            "UPDATE source_state SET last_error = ?2, last_error_at = ?3, failures = failures + 1, \
             rate_limited_until = ?4 WHERE source = ?1",
            params![name, error, now.timestamp_millis(), wait.map(|w| w.timestamp_millis())],
        )?;
    } else {
        tx.execute(
            "UPDATE source_state SET last_success = ?2, failures = 0, rate_limited_until = ?3 WHERE source = ?1",
            params![name, now.timestamp_millis(), wait.map(|w| w.timestamp_millis())],
        )?;
    }
    Ok(())
}

/// [`read`] from PostgreSQL.
pub async fn read_postgres(
    client: &impl tokio_postgres::GenericClient,
    name: &str,
) -> Result<(Cursor, Option<DateTime<Utc>>), StoreError> {
    let row = client
        .query_opt(
            "SELECT c.cursor, s.rate_limited_until FROM (SELECT $1::text AS source) n \
             LEFT JOIN source_cursors c ON c.source = n.source LEFT JOIN source_state s ON s.source = n.source",
            &[&name],
        )
        .await?;
    let (cursor, waiting): (Option<String>, Option<i64>) = match row {
        Some(row) => (row.try_get(0)?, row.try_get(1)?),
        None => (None, None),
    };
    let cursor = cursor.and_then(|c| serde_json::from_str(&c).ok()).unwrap_or_default();
    Ok((cursor, waiting.and_then(DateTime::from_timestamp_millis)))
}

/// [`save_cursor`] and [`record_poll`] in a PostgreSQL transaction.
pub async fn save_poll_postgres(
    tx: &tokio_postgres::Transaction<'_>,
    name: &str,
    cursor_json: &str,
    now: DateTime<Utc>,
    error: Option<&str>,
    wait: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO source_cursors (source, cursor) VALUES ($1, $2) \
         ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor",
        &[&name, &cursor_json],
    )
    .await?;
    let (now, wait) = (now.timestamp_millis(), wait.map(|w| w.timestamp_millis()));
    match error {
        Some(error) => {
            tx.execute(
                "INSERT INTO source_state (source, last_error, last_error_at, failures, rate_limited_until) \
                 VALUES ($1, $2, $3, 1, $4) ON CONFLICT (source) DO UPDATE SET last_error = excluded.last_error, \
                 last_error_at = excluded.last_error_at, failures = source_state.failures + 1, \
                 rate_limited_until = excluded.rate_limited_until",
                &[&name, &error.replace('\0', "\u{fffd}"), &now, &wait],
            )
            .await?
        }
        None => {
            tx.execute(
                "INSERT INTO source_state (source, last_success, failures, rate_limited_until) VALUES ($1, $2, 0, $3) \
                 ON CONFLICT (source) DO UPDATE SET last_success = excluded.last_success, failures = 0, \
                 rate_limited_until = excluded.rate_limited_until",
                &[&name, &now, &wait],
            )
            .await?
        }
    };
    Ok(())
}

/// One source's cursor and health as stored, for `sources` and `/healthz`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SourceStatus {
    pub name: String,
    pub kind: super::SourceKind,
    /// Where the last poll left off; `None` before the first success.
    pub cursor: Option<Cursor>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// Polls failed (or refused) in a row; 0 after a success.
    pub consecutive_failures: i64,
    /// The server asked for no request before then.
    pub rate_limited_until: Option<DateTime<Utc>>,
    /// The process polling it, when several share the sources (PostgreSQL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_by: Option<LeaseHolder>,
}

/// Which process holds a source's lease, and until when.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LeaseHolder {
    pub host: String,
    pub pid: i64,
    pub until: DateTime<Utc>,
}

/// Each configured source's cursor and health, in config order.
pub fn status(conn: &Connection, sources: &[SourceConfig]) -> Result<Vec<SourceStatus>, StoreError> {
    let mut cursor_of = conn.prepare_cached("SELECT cursor FROM source_cursors WHERE source = ?1")?;
    let mut state_of = conn.prepare_cached(
        "SELECT last_success, last_error, last_error_at, failures, rate_limited_until FROM source_state \
         WHERE source = ?1",
    )?;
    let mut out = Vec::new();
    for s in sources {
        let cursor: Option<String> = cursor_of.query_row([&s.name], |r| r.get(0)).optional()?;
        let state = state_of
            .query_row([&s.name], |r| {
                Ok((
                    r.get::<_, Option<i64>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ))
            })
            .optional()?;
        out.push(status_of(s, cursor, state.unwrap_or_default(), None));
    }
    Ok(out)
}

/// A source's stored health: last success, last error and its time,
/// failures in a row, and the time the server asked us to wait until.
type Health = (Option<i64>, Option<String>, Option<i64>, i64, Option<i64>);

fn status_of(
    source: &SourceConfig,
    cursor: Option<String>,
    health: Health,
    held_by: Option<LeaseHolder>,
) -> SourceStatus {
    let time = |ms: Option<i64>| ms.and_then(DateTime::from_timestamp_millis);
    let (success, error, error_at, failures, limited) = health;
    SourceStatus {
        name: source.name.clone(),
        kind: source.kind(),
        cursor: cursor.and_then(|c| serde_json::from_str(&c).ok()),
        last_success: time(success),
        last_error: error,
        last_error_at: time(error_at),
        consecutive_failures: failures,
        rate_limited_until: time(limited),
        held_by,
    }
}

/// [`status`] from a PostgreSQL database, with each source's lease holder.
pub async fn status_postgres(
    client: &tokio_postgres::Client,
    sources: &[SourceConfig],
) -> Result<Vec<SourceStatus>, StoreError> {
    let cursor_of = client
        .prepare("SELECT cursor FROM source_cursors WHERE source = $1")
        .await?;
    let state_of = client
        .prepare(
            "SELECT last_success, last_error, last_error_at, failures, rate_limited_until FROM source_state \
             WHERE source = $1",
        )
        .await?;
    let held = crate::store::postgres::lease::held(client).await?;
    let mut out = Vec::new();
    for s in sources {
        let cursor: Option<String> = client.query_opt(&cursor_of, &[&s.name]).await?.map(|r| r.get(0));
        let health: Health = client
            .query_opt(&state_of, &[&s.name])
            .await?
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
            .unwrap_or_default();
        let lease = super::poll::lease_name(s);
        let held_by = held.iter().find(|l| l.name == lease).and_then(|l| {
            Some(LeaseHolder {
                host: l.host.clone(),
                pid: l.pid,
                until: DateTime::from_timestamp_millis(l.expires_at)?,
            })
        });
        out.push(status_of(s, cursor, health, held_by));
    }
    Ok(out)
}

/// Holds a source until `until` (or later, if it is held longer already):
/// the network asked its account to wait while answering (a reply's 429).
pub fn hold(tx: &Transaction, source: &str, until: DateTime<Utc>) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE source_state SET rate_limited_until = max(coalesce(rate_limited_until, 0), ?2) WHERE source = ?1",
    )?
    .execute(params![source, until.timestamp_millis()])?;
    Ok(())
}
