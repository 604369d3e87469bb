//! SQLite storage: opening a database (WAL, foreign keys, migrations), the
//! single [`writer`] that all ingestion goes through, and read queries, each
//! on its own connection.

pub mod postgres;
pub mod priority;
pub mod row;
pub mod schema;
pub mod sql;
pub mod writer;

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{params, params_from_iter, Connection, OpenFlags, Row};
use serde::Deserialize;

use crate::mention::scored::{Label, Reach, ReachInputs, ScoredMention, Sentiment};
use crate::mention::{Author, Mention, Metrics};

/// `[store]`: how the writer batches and how large the database may grow.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Mentions per write transaction.
    pub batch_size: usize,
    /// Batches that may wait for the writer before producers are slowed down.
    pub queue_batches: usize,
    /// Largest the database may grow, in MiB (none by default). At the limit
    /// writes fail as on a full disk: the writer retries and reports until
    /// space is freed (`prune`), and nothing is dropped.
    pub max_size_mb: Option<u64>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            batch_size: 2000,
            queue_batches: 4,
            max_size_mb: None,
        }
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError::Postgres(e)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Open { path: String, source: rusqlite::Error },
    #[error("database {path}: cannot apply schema migrations: {source}")]
    Migrate {
        path: String,
        source: rusqlite_migration::Error,
    },
    #[error("database query failed: {0}")]
    Sql(#[from] rusqlite::Error),
    /// Shown with its causes (tokio-postgres says only the kind of error
    /// itself: "db error", "error performing TLS handshake").
    #[error("PostgreSQL query failed: {}", postgres::with_causes(.0))]
    Postgres(tokio_postgres::Error),
    #[error("database holds a value it should not: {0}")]
    Corrupt(String),
    #[error("the database writer has stopped")]
    WriterStopped,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// Refused in the current state (a reply already on its way).
    #[error("{0}")]
    Conflict(String),
    #[error(
        "database {path} is being written by another process ({holder}); \
         wait for it to finish or stop it: one process writes a database (readers may run beside it)"
    )]
    Locked { path: String, holder: String },
    #[error("database {path}: lock file: {source}")]
    LockFile { path: String, source: std::io::Error },
}

/// The one process that writes a database's mentions, cursors and alerts
/// (`replay`, `run`, `poll-once`, `prune`) holds this for as long as it
/// writes: two writers would each run a detector over the other's
/// half-written data. An OS file lock beside the database (released by the
/// kernel when the process dies, even by SIGKILL), with the holder's pid and
/// command written in it for the message the next one gets.
#[derive(Debug)]
pub struct WriterLock {
    _file: std::fs::File,
}

impl WriterLock {
    pub fn acquire(db: &Path) -> Result<WriterLock, StoreError> {
        use std::io::{Read, Seek, Write};
        let path = lock_path(db, "writer");
        let lock_err = |source| StoreError::LockFile {
            path: path.display().to_string(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(lock_err)?;
        match file.try_lock() {
            Ok(()) => {
                let command: Vec<String> = std::env::args().take(4).collect();
                file.set_len(0).map_err(lock_err)?;
                file.rewind().map_err(lock_err)?;
                writeln!(file, "pid {} ({})", std::process::id(), command.join(" ")).map_err(lock_err)?;
                Ok(WriterLock { _file: file })
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.take(512).read_to_string(&mut holder);
                Err(StoreError::Locked {
                    path: db.display().to_string(),
                    holder: holder.trim().to_string(),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => Err(lock_err(e)),
        }
    }
}

/// `x.db` → `x.db.NAME.lock`, beside the database.
fn lock_path(db: &Path, name: &str) -> std::path::PathBuf {
    let mut file = db.as_os_str().to_owned();
    file.push(format!(".{name}.lock"));
    std::path::PathBuf::from(file)
}

/// Opens (creating if needed) the database at `path` and brings its schema
/// up to date.
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    let path_text = path.display().to_string();
    let open_err = |source| StoreError::Open {
        path: path_text.clone(),
        source,
    };
    let mut conn = Connection::open(path).map_err(open_err)?;
    configure(&conn).map_err(open_err)?;
    // Processes that start at once must not both apply the same migration
    // ("table mentions already exists"): they take turns on a lock file.
    let migrate_lock = lock_path(path, "migrate");
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&migrate_lock)
        .and_then(|f| f.lock().map(|()| f))
        .map_err(|source| StoreError::LockFile {
            path: migrate_lock.display().to_string(),
            source,
        })?;
    schema::migrations()
        .to_latest(&mut conn)
        .map_err(|source| StoreError::Migrate {
            path: path_text.clone(),
            source,
        })?;
    drop(lock);
    Ok(conn)
}

/// Opens an existing database for reading only.
pub fn open_read_only(path: &Path) -> Result<Connection, StoreError> {
    let path_text = path.display().to_string();
    let open_err = |source| StoreError::Open {
        path: path_text.clone(),
        source,
    };
    if !path.exists() {
        return Err(open_err(rusqlite::Error::InvalidPath(path.to_path_buf())));
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(open_err)?;
    conn.busy_timeout(BUSY_WAIT).map_err(open_err)?;
    Ok(conn)
}

/// Read-only connections kept open between requests: each keeps its page
/// cache and prepared statements, and a burst of requests shares a few
/// connections instead of opening one each.
pub type ReadPool = r2d2::Pool<r2d2_sqlite::SqliteConnectionManager>;

/// A pool of at most `size` read-only connections to the database at
/// `path`, opened as they are first needed.
pub fn read_pool(path: &Path, size: u32) -> Result<ReadPool, StoreError> {
    if !path.exists() {
        return Err(StoreError::Open {
            path: path.display().to_string(),
            source: rusqlite::Error::InvalidPath(path.to_path_buf()),
        });
    }
    let manager = r2d2_sqlite::SqliteConnectionManager::file(path)
        .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .with_init(|conn| conn.busy_timeout(BUSY_WAIT));
    Ok(r2d2::Pool::builder()
        .max_size(size.max(1))
        .min_idle(Some(0))
        // Connections idle for a while are closed: memory goes back down
        // after a burst.
        .idle_timeout(Some(std::time::Duration::from_secs(300)))
        .connection_timeout(std::time::Duration::from_secs(10))
        .build_unchecked(manager))
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_WAIT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // In WAL mode NORMAL keeps the database consistent after a crash; only
    // the last commits before a power loss may be rolled back.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Copies the database at `db` to `target` with SQLite's online backup API:
/// a consistent snapshot, taken in small steps so that the writer is never
/// held up for long. Returns the pages copied.
pub fn backup(db: &Path, target: &Path) -> Result<i32, StoreError> {
    if target.exists() {
        return Err(StoreError::Invalid(format!(
            "{} exists already; choose a new file",
            target.display()
        )));
    }
    let source = open_read_only(db)?;
    let mut destination = Connection::open(target).map_err(|source| StoreError::Open {
        path: target.display().to_string(),
        source,
    })?;
    let backup = rusqlite::backup::Backup::new(&source, &mut destination)?;
    backup.run_to_completion(256, std::time::Duration::from_millis(5), None)?;
    Ok(backup.progress().pagecount)
}

/// Deletes the mentions created before `before` (and their brand links),
/// `batch` at a time, each batch its own short transaction so ingestion is
/// never blocked for long. Incidents and notifications are kept. Returns how
/// many mentions were deleted.
///
/// Pruning is what frees a full database, and then the writer is retrying
/// a large batch over and over: each batch takes the write lock at its
/// start and waits up to [`PRUNE_LOCK_WAIT`] for it, not the usual 5 s.
pub fn prune(conn: &mut Connection, before: DateTime<Utc>, batch: usize) -> Result<u64, StoreError> {
    conn.busy_timeout(PRUNE_LOCK_WAIT)?;
    let result = prune_batches(conn, before, batch);
    conn.busy_timeout(BUSY_WAIT)?;
    result
}

/// How long one prune batch waits for the write lock.
pub const PRUNE_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// How long a statement waits for a lock another connection holds.
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

fn prune_batches(conn: &mut Connection, before: DateTime<Utc>, batch: usize) -> Result<u64, StoreError> {
    let mut deleted = 0u64;
    loop {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // mention_brands rows go with their mention (ON DELETE CASCADE).
        let n = tx.execute(
            "DELETE FROM mentions WHERE id IN (SELECT id FROM mentions WHERE created_at < ?1 ORDER BY created_at LIMIT ?2)",
            params![before.timestamp_millis(), batch as i64],
        )?;
        // A group lives as long as one of its mentions.
        tx.execute(
            "DELETE FROM spam_groups WHERE NOT EXISTS (SELECT 1 FROM mention_brands b WHERE b.group_id = spam_groups.id)",
            [],
        )?;
        tx.commit()?;
        deleted += n as u64;
        if n < batch {
            return Ok(deleted);
        }
    }
}

/// A mention as stored, with its row id.
#[derive(Debug, Clone)]
pub struct StoredMention {
    pub id: i64,
    pub scored: ScoredMention,
    pub ingested_at: DateTime<Utc>,
}

/// Which mentions a query returns.
#[derive(Debug, Clone, Default)]
pub struct MentionFilter {
    pub brand: Option<String>,
    pub label: Option<Label>,
    pub since: Option<DateTime<Utc>>,
    pub limit: Option<u64>,
}

/// The columns of a stored mention, as [`mention_from_columns`] reads them
/// (PostgreSQL reads the same, with its own aggregate for the brands).
pub const MENTION_COLUMNS: &str = "m.id, m.source, m.source_id, m.created_at, m.author, m.followers, m.text, \
     m.text_chars, m.url, m.likes, m.reposts, m.replies, m.views, m.rating, m.lang, m.brand_hint, \
     m.compound, m.pos, m.neu, m.neg, m.label, m.reach, m.reach_inputs, m.ingested_at, \
     (SELECT group_concat(brand, char(31)) FROM mention_brands b WHERE b.mention_id = m.id), m.author_karma, m.time_estimated, m.reply_text, m.reply_at, m.not_scored";

/// Mentions matching `filter`, newest first.
pub fn recent_mentions(conn: &Connection, filter: &MentionFilter) -> Result<Vec<StoredMention>, StoreError> {
    let (sql, params) = filtered_query(filter, "DESC");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(params.iter()), row_to_mention)?;
    rows.map(|r| r?).collect()
}

/// One stored mention by its row id.
pub fn mention_by_id(conn: &Connection, id: i64) -> Result<StoredMention, StoreError> {
    use rusqlite::OptionalExtension;
    conn.query_row(
        &format!("SELECT {MENTION_COLUMNS} FROM mentions m WHERE m.id = ?1"),
        [id],
        row_to_mention,
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("no mention {id}")))?
}

/// Calls `each` for every mention matching `filter`, oldest first, without
/// holding them all in memory.
pub fn for_each_mention(
    conn: &Connection,
    filter: &MentionFilter,
    mut each: impl FnMut(StoredMention) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let (sql, params) = filtered_query(filter, "ASC");
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(params.iter()))?;
    while let Some(row) = rows.next()? {
        each(row_to_mention(row)??)?;
    }
    Ok(())
}

fn filtered_query(filter: &MentionFilter, order: &str) -> (String, Vec<rusqlite::types::Value>) {
    filtered_query_selecting(MENTION_COLUMNS, filter, order)
}

/// The query for the mentions matching `filter` in time order, selecting
/// `columns` (`m` is the mention), with `?` placeholders and their values.
pub fn filtered_query_selecting(
    columns: &str,
    filter: &MentionFilter,
    order: &str,
) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut params = Vec::new();
    let mut sql = format!("SELECT {columns} FROM ");
    let time_column;
    if let Some(brand) = &filter.brand {
        // Drive the query from the per-brand index.
        sql.push_str("mention_brands f JOIN mentions m ON m.id = f.mention_id WHERE f.brand = ?");
        params.push(Value::Text(brand.clone()));
        if let Some(label) = filter.label {
            sql.push_str(" AND f.label = ?");
            params.push(Value::Text(label.as_str().into()));
        }
        time_column = "f.created_at";
    } else {
        sql.push_str("mentions m WHERE 1 = 1");
        if let Some(label) = filter.label {
            sql.push_str(" AND m.label = ?");
            params.push(Value::Text(label.as_str().into()));
        }
        time_column = "m.created_at";
    }
    if let Some(since) = filter.since {
        sql.push_str(&format!(" AND {time_column} >= ?"));
        params.push(Value::Integer(since.timestamp_millis()));
    }
    sql.push_str(&format!(" ORDER BY {time_column} {order}, m.id {order}"));
    if let Some(limit) = filter.limit {
        sql.push_str(" LIMIT ?");
        params.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
    }
    (sql, params)
}

fn millis(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| StoreError::Corrupt(format!("time {ms} ms is out of range")))
}

fn count(v: Option<i64>) -> Option<u64> {
    v.map(|n| u64::try_from(n).unwrap_or(0))
}

fn row_to_mention(row: &Row) -> rusqlite::Result<Result<StoredMention, StoreError>> {
    Ok(mention_from_columns(row))
}

/// One row of stored columns, whichever database it came from: a stored
/// mention is read by the same code from SQLite and from PostgreSQL.
pub trait Columns {
    fn int(&self, i: usize) -> Result<Option<i64>, StoreError>;
    fn real(&self, i: usize) -> Result<Option<f64>, StoreError>;
    fn text(&self, i: usize) -> Result<Option<String>, StoreError>;

    /// Column `i` of a `NOT NULL` column: NULL there is a corrupt row.
    fn required_int(&self, i: usize) -> Result<i64, StoreError> {
        self.int(i)?.ok_or_else(|| null_in(i))
    }
    fn required_real(&self, i: usize) -> Result<f64, StoreError> {
        self.real(i)?.ok_or_else(|| null_in(i))
    }
    fn required_text(&self, i: usize) -> Result<String, StoreError> {
        self.text(i)?.ok_or_else(|| null_in(i))
    }
}

fn null_in(column: usize) -> StoreError {
    StoreError::Corrupt(format!("column {column} is NULL where the schema requires a value"))
}

impl Columns for Row<'_> {
    fn int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        Ok(self.get(i)?)
    }
    fn real(&self, i: usize) -> Result<Option<f64>, StoreError> {
        Ok(self.get(i)?)
    }
    fn text(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.get(i)?)
    }
}

/// A mention from the columns of [`MENTION_COLUMNS`], in that order.
pub fn mention_from_columns(row: &(impl Columns + ?Sized)) -> Result<StoredMention, StoreError> {
    let int = |i| row.required_int(i);
    let real = |i| row.required_real(i);
    let text = |i| row.required_text(i);
    let label: Label = text(20)?.parse().map_err(StoreError::Corrupt)?;
    let compound = real(16)?;
    let sentiment = Sentiment {
        compound,
        pos: real(17)?,
        neu: real(18)?,
        neg: real(19)?,
        label: Label::from_compound(compound),
    };
    let mention = Mention {
        source: text(1)?,
        source_id: text(2)?,
        created_at: millis(int(3)?)?,
        author: Author {
            handle: row.text(4)?,
            followers: count(row.int(5)?),
            karma: count(row.int(25)?),
        },
        text: text(6)?,
        text_chars: count(Some(int(7)?)).unwrap_or(0),
        url: row.text(8)?,
        metrics: Metrics {
            likes: count(row.int(9)?),
            reposts: count(row.int(10)?),
            replies: count(row.int(11)?),
            views: count(row.int(12)?),
        },
        rating: row.int(13)?.and_then(|r| u8::try_from(r).ok()),
        lang: row.text(14)?,
        brand: row.text(15)?,
        time_estimated: int(26)? != 0,
        reply: match (row.text(27)?, row.int(28)?) {
            (Some(text), Some(at)) => {
                DateTime::from_timestamp_millis(at).map(|at| crate::mention::OwnerReply { text, at })
            }
            _ => None,
        },
    };
    let inputs: ReachInputs =
        serde_json::from_str(&text(22)?).map_err(|e| StoreError::Corrupt(format!("reach_inputs: {e}")))?;
    let reach = Reach {
        people: count(Some(int(21)?)).unwrap_or(0),
        inputs,
    };
    let mut brands: Vec<Arc<str>> = row
        .text(24)?
        .map(|b| b.split('\u{1f}').map(Arc::from).collect())
        .unwrap_or_default();
    brands.sort();
    Ok(StoredMention {
        id: int(0)?,
        scored: ScoredMention {
            mention,
            brands,
            sentiment,
            label,
            reach,
            not_scored: int(29)? != 0,
        },
        ingested_at: millis(int(23)?)?,
    })
}

/// Per-bucket counts of a scope in `[from, until)`, from the per-brand index.
/// Detection's query, run on every tick for every brand: per-bucket counts
/// (public so that a test checks the plan of this very text). Each mention
/// counts its weight: a campaign's or a burst's copies after the first,
/// and blocked mentions, count less or nothing (`src/spam.rs`).
pub const BUCKET_COUNTS_SQL: &str = "SELECT created_at / ?4, coalesce(sum(weight), 0.0), \
     coalesce(sum(CASE WHEN label = 'negative' THEN weight END), 0.0), \
     coalesce(sum(CASE WHEN label = 'negative' THEN reach * weight END), 0.0) \
     FROM mention_brands WHERE brand = ?1 AND created_at >= ?2 AND created_at < ?3 AND ?5 = '' \
     GROUP BY 1 ORDER BY 1";
/// The same per brand × source.
pub const SOURCE_BUCKET_COUNTS_SQL: &str = "SELECT f.created_at / ?4, coalesce(sum(f.weight), 0.0), \
     coalesce(sum(CASE WHEN f.label = 'negative' THEN f.weight END), 0.0), \
     coalesce(sum(CASE WHEN f.label = 'negative' THEN f.reach * f.weight END), 0.0) \
     FROM mention_brands f JOIN mentions m ON m.id = f.mention_id \
     WHERE f.brand = ?1 AND f.created_at >= ?2 AND f.created_at < ?3 AND m.source = ?5 \
     GROUP BY 1 ORDER BY 1";

pub fn bucket_counts(
    db: &dyn sql::Sql,
    detect: &crate::detect::DetectConfig,
    brand: &str,
    source: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<crate::detect::BucketCounts>, StoreError> {
    let bucket_ms = detect.bucket_ms();
    let sql = if source.is_empty() {
        BUCKET_COUNTS_SQL
    } else {
        SOURCE_BUCKET_COUNTS_SQL
    };
    // Weighted sums, to whole mentions (the detector's model counts).
    let whole = |x: f64| x.round().max(0.0) as u64;
    let mut out = Vec::new();
    db.for_each(
        sql,
        &crate::sql_params![
            brand,
            from.timestamp_millis(),
            until.timestamp_millis(),
            bucket_ms,
            source
        ],
        &mut |r| {
            let Some(start) = r
                .required_int(0)?
                .checked_mul(bucket_ms)
                .and_then(DateTime::from_timestamp_millis)
            else {
                return Ok(());
            };
            out.push(crate::detect::BucketCounts {
                start,
                negatives: whole(r.required_real(2)?),
                total: Some(whole(r.required_real(1)?)),
                negative_reach: whole(r.required_real(3)?),
            });
            Ok(())
        },
    )?;
    Ok(out)
}
/// A stored Unix-millisecond time. Out of range only if the file was edited
/// by hand: read as the epoch rather than failing the whole query.
pub fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Whether any stored mention came from `source` (one probe of the unique
/// index on `(source, source_id)`).
pub fn has_source(conn: &Connection, source: &str) -> Result<bool, StoreError> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM mentions WHERE source = ?1)",
        [source],
        |r| r.get(0),
    )?)
}
