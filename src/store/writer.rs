//! The one writer. SQLite admits one writer at a time, so a single thread
//! owns the write connection, takes batches from a bounded queue, and commits
//! each batch (and whatever else is already queued behind it) in one
//! transaction: the hot path never commits per row, and a full queue slows
//! the producers down instead of growing memory.

use std::any::Any;
use std::path::Path;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::row::MentionRow;
use super::StoreError;
use crate::mention::scored::ScoredMention;
use crate::spam::Grouper;

/// Batches the writer folds into one transaction when they are already queued.
const MAX_BATCHES_PER_TRANSACTION: usize = 16;

/// A mention ready to store, with the pipeline-clock time it arrived.
#[derive(Debug, Clone)]
pub struct NewMention {
    pub scored: ScoredMention,
    pub ingested_at: DateTime<Utc>,
}

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    pub stored: u64,
    /// Already stored under the same (source, source id): skipped.
    pub duplicates: u64,
    /// Of the duplicates, those whose text or rating had changed (an edited
    /// review): the stored mention now holds the new version and the old one
    /// is kept in `mention_revisions`.
    pub revised: u64,
}

/// Totals over the writer's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    pub stored: u64,
    pub duplicates: u64,
    pub revised: u64,
    pub transactions: u64,
    /// Writes the database refused for a passing reason and that were retried.
    pub retries: u64,
}

/// A change other than mentions (alert state, outbox rows, a poll's
/// mentions with its cursor), run in a transaction of its own. It may run
/// again if the database refused the write for a passing reason (locked,
/// full), so it must not consume what it captures. Its value reaches the
/// caller only after the commit: a caller that reads right after sees it.
type Job = Box<dyn FnMut(&mut Ingest) -> JobResult + Send>;
type JobResult = Result<Box<dyn Any + Send>, StoreError>;
type Answer = oneshot::Sender<JobResult>;

/// A unit of work for the writer thread.
enum Work {
    Mentions {
        mentions: Vec<NewMention>,
        done: Option<oneshot::Sender<BatchOutcome>>,
    },
    /// Any other change, in a transaction of its own.
    Job(Job, Answer),
}

/// Sends work to the writer. Cheap to clone; the writer stops once every
/// handle is dropped and the queue is empty.
#[derive(Clone)]
pub struct WriterHandle {
    queue: mpsc::Sender<Work>,
}

/// Where a replay pipeline's batches are stored, in the order sent: this
/// writer, or PostgreSQL's ([`super::postgres::writer`]).
pub trait BatchSink: Send {
    /// Queues a batch, waiting while the queue is full, and returns a
    /// receiver answered once the batch is committed. For threads outside
    /// the async runtime.
    fn send_tracked_blocking(&self, mentions: Vec<NewMention>) -> Result<oneshot::Receiver<BatchOutcome>, WriterGone>;
}

impl BatchSink for WriterHandle {
    fn send_tracked_blocking(&self, mentions: Vec<NewMention>) -> Result<oneshot::Receiver<BatchOutcome>, WriterGone> {
        WriterHandle::send_tracked_blocking(self, mentions)
    }
}

/// The writer could not take the batch: it has stopped, and
/// [`Writer::finish`] says why.
#[derive(Debug, thiserror::Error)]
#[error("the database writer has stopped")]
pub struct WriterGone;

impl WriterHandle {
    /// Batches and jobs waiting in the queue.
    pub fn queue_depth(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }

    /// Queues a batch, waiting while the queue is full. For threads outside
    /// the async runtime (replay, tests).
    pub fn send_blocking(&self, mentions: Vec<NewMention>) -> Result<(), WriterGone> {
        let work = Work::Mentions { mentions, done: None };
        self.queue.blocking_send(work).map_err(|_| WriterGone)
    }

    /// Queues a batch, waiting while the queue is full, and returns a
    /// receiver that is answered once the batch is committed.
    pub fn send_tracked_blocking(
        &self,
        mentions: Vec<NewMention>,
    ) -> Result<oneshot::Receiver<BatchOutcome>, WriterGone> {
        let (done, committed) = oneshot::channel();
        let work = Work::Mentions {
            mentions,
            done: Some(done),
        };
        self.queue.blocking_send(work).map_err(|_| WriterGone)?;
        Ok(committed)
    }

    /// Queues a batch and waits until it is committed, from a thread outside
    /// the async runtime.
    pub fn write_blocking(&self, mentions: Vec<NewMention>) -> Result<BatchOutcome, WriterGone> {
        let (done, committed) = oneshot::channel();
        let work = Work::Mentions {
            mentions,
            done: Some(done),
        };
        self.queue.blocking_send(work).map_err(|_| WriterGone)?;
        committed.blocking_recv().map_err(|_| WriterGone)
    }

    /// Runs `job` in a transaction of its own on the writer thread and
    /// returns its result once committed (or rolled back, if it failed). For
    /// threads outside the async runtime.
    pub fn transact_blocking<T: Send + 'static>(
        &self,
        job: impl FnMut(&Transaction) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (work, result) = job_work(job);
        self.queue.blocking_send(work).map_err(|_| StoreError::WriterStopped)?;
        unpack(result.blocking_recv())
    }

    /// Queues `job` like [`WriterHandle::transact_blocking`] but returns at
    /// once: the caller confirms it later with [`Queued::confirm`], so that
    /// a thread producing work for the writer does not stall behind the
    /// batches queued ahead of its job.
    pub fn submit_blocking<T: Send + 'static>(
        &self,
        job: impl FnMut(&Transaction) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<Queued<T>, StoreError> {
        let (work, result) = job_work(job);
        self.queue.blocking_send(work).map_err(|_| StoreError::WriterStopped)?;
        Ok(Queued {
            result,
            value: std::marker::PhantomData,
        })
    }

    /// [`WriterHandle::transact_blocking`] for async callers.
    pub async fn transact<T: Send + 'static>(
        &self,
        mut job: impl FnMut(&Transaction) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.ingest(move |ingest| job(ingest.tx)).await
    }

    /// [`WriterHandle::transact`] for a job that stores mentions too.
    pub async fn ingest<T: Send + 'static>(
        &self,
        mut job: impl FnMut(&mut Ingest) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (answer, result) = oneshot::channel();
        let job: Job = Box::new(move |ingest| job(ingest).map(|value| Box::new(value) as Box<dyn Any + Send>));
        self.queue
            .send(Work::Job(job, answer))
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        unpack(result.await)
    }
}

/// The writer's transaction as a job sees it: changes of its own through
/// `tx`, and mentions through [`Ingest::insert`] (a poll's items with its
/// cursor, in one transaction).
pub struct Ingest<'a> {
    pub tx: &'a Transaction<'a>,
    grouper: &'a mut Grouper,
}

impl Ingest<'_> {
    /// Stores `mentions` as a batch would be: duplicates skipped, edits
    /// revised, campaigns and bursts grouped.
    pub fn insert(&mut self, mentions: &[NewMention]) -> Result<BatchOutcome, StoreError> {
        insert_batch(self.tx, self.grouper, mentions)
    }
}

/// A job queued by [`WriterHandle::submit_blocking`], not yet confirmed.
#[must_use = "a queued job's outcome must be confirmed"]
pub struct Queued<T> {
    result: oneshot::Receiver<JobResult>,
    value: std::marker::PhantomData<fn() -> T>,
}

impl<T: 'static> Queued<T> {
    /// Waits until the job is committed (or rolled back) and returns its result.
    pub fn confirm(self) -> Result<T, StoreError> {
        unpack(self.result.blocking_recv())
    }
}

fn job_work<T: Send + 'static>(
    mut job: impl FnMut(&Transaction) -> Result<T, StoreError> + Send + 'static,
) -> (Work, oneshot::Receiver<JobResult>) {
    let (answer, result) = oneshot::channel();
    let job: Job = Box::new(move |ingest| job(ingest.tx).map(|value| Box::new(value) as Box<dyn Any + Send>));
    (Work::Job(job, answer), result)
}

fn unpack<T: 'static>(answer: Result<JobResult, oneshot::error::RecvError>) -> Result<T, StoreError> {
    let value = answer.map_err(|_| StoreError::WriterStopped)??;
    value
        .downcast::<T>()
        .map(|v| *v)
        .map_err(|_| StoreError::Corrupt("a writer job answered with the wrong type".into()))
}

/// The running writer thread.
pub struct Writer {
    thread: JoinHandle<Result<WriterStats, StoreError>>,
}

impl Writer {
    /// Opens the database at `path` (migrating it) and starts the writer
    /// thread with room for `queue_batches` waiting batches, grouping
    /// campaigns and bursts by the default `[spam]` rules.
    pub fn start(path: &Path, queue_batches: usize) -> Result<(Writer, WriterHandle), StoreError> {
        Writer::start_with(
            path,
            &super::StoreConfig {
                queue_batches,
                ..super::StoreConfig::default()
            },
            Grouper::new(&crate::spam::SpamConfig::default(), &[]),
        )
    }

    /// [`Writer::start`] with the store's settings (queue, size limit) and
    /// the `[spam]` rules.
    pub fn start_with(
        path: &Path,
        store: &super::StoreConfig,
        mut grouper: Grouper,
    ) -> Result<(Writer, WriterHandle), StoreError> {
        let queue_batches = store.queue_batches;
        let lock = super::WriterLock::acquire(path)?;
        let conn = super::open(path)?;
        if let Some(mb) = store.max_size_mb {
            let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
            let pages = (mb.saturating_mul(1024 * 1024) / page_size.max(512) as u64).max(1);
            conn.pragma_update(None, "max_page_count", i64::try_from(pages).unwrap_or(i64::MAX))?;
        }
        // Index pages of a large table are touched at random by new keys; a
        // larger cache than SQLite's 2 MB default keeps more of them in memory.
        conn.pragma_update(None, "cache_size", -16 * 1024)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        grouper.load(&conn)?;
        let (queue, receiver) = mpsc::channel(queue_batches.max(1));
        let thread = std::thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || {
                let result = run(conn, grouper, receiver);
                drop(lock);
                result
            })
            .map_err(|e| StoreError::Corrupt(format!("cannot start the writer thread: {e}")))?;
        Ok((Writer { thread }, WriterHandle { queue }))
    }

    /// Waits for the writer to drain its queue (every handle must be dropped
    /// first) and returns its totals, or the error that stopped it.
    pub fn finish(self) -> Result<WriterStats, StoreError> {
        self.thread
            .join()
            .unwrap_or_else(|_| Err(StoreError::Corrupt("the writer thread panicked".into())))
    }
}

/// Waits between attempts of a write the database refused for a reason that
/// passes (locked, busy, full): doubling from the first to the last.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_LAST: Duration = Duration::from_secs(5);
/// After this long without a successful write the writer stops with the
/// error (the service then exits; replay can be run again).
const GIVE_UP_AFTER: Duration = Duration::from_secs(15 * 60);

/// Whether a write may succeed if tried again: another process holds the
/// lock, or the disk (or the configured size limit) is full until space is freed.
fn passing(e: &StoreError) -> bool {
    use rusqlite::ErrorCode;
    match e {
        StoreError::Sql(rusqlite::Error::SqliteFailure(f, _)) => matches!(
            f.code,
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::DiskFull
        ),
        _ => false,
    }
}

/// Reports a streak of refused writes once, and its end.
#[derive(Default)]
struct Retrying {
    since: Option<Instant>,
    attempts: u32,
}

impl Retrying {
    /// Logs, waits, and says whether to try again.
    fn wait(&mut self, error: &StoreError, stats: &mut WriterStats) -> bool {
        let since = *self.since.get_or_insert_with(Instant::now);
        if since.elapsed() > GIVE_UP_AFTER {
            tracing::error!("database writes failed for {GIVE_UP_AFTER:?}; stopping the writer: {error}");
            return false;
        }
        if self.attempts == 0 {
            tracing::error!(
                "database write refused ({error}); retrying with backoff. Ingestion waits, nothing is dropped; \
                 free space (`prune`) or release the lock"
            );
        }
        self.attempts += 1;
        stats.retries += 1;
        metrics::counter!(crate::metrics::WRITER_RETRIES).increment(1);
        std::thread::sleep(crate::http::Backoff::new(RETRY_FIRST, RETRY_LAST).delay(self.attempts, None));
        true
    }

    fn succeeded(&mut self) {
        if self.attempts > 0 {
            tracing::info!("database writes resumed after {} retries", self.attempts);
        }
        *self = Retrying::default();
    }
}

fn run(mut conn: Connection, mut grouper: Grouper, mut queue: mpsc::Receiver<Work>) -> Result<WriterStats, StoreError> {
    let mut stats = WriterStats::default();
    let mut retrying = Retrying::default();
    let mut held: Option<Work> = None;
    while let Some(first) = held.take().or_else(|| queue.blocking_recv()) {
        let mut group = match first {
            Work::Job(mut job, answer) => {
                let result = loop {
                    let attempt = (|| {
                        let tx = conn.transaction()?;
                        let value = job(&mut Ingest {
                            tx: &tx,
                            grouper: &mut grouper,
                        })?;
                        tx.commit()?;
                        Ok(value)
                    })();
                    settle(&conn, &mut grouper, attempt.is_ok())?;
                    match attempt {
                        Err(e) if passing(&e) && retrying.wait(&e, &mut stats) => continue,
                        other => break other,
                    }
                };
                if result.is_ok() {
                    retrying.succeeded();
                    stats.transactions += 1;
                }
                // The caller may have stopped waiting; the outcome stands.
                let _ = answer.send(result);
                continue;
            }
            Work::Mentions { mentions, done } => vec![(mentions, done)],
        };
        while group.len() < MAX_BATCHES_PER_TRANSACTION {
            match queue.try_recv() {
                Ok(Work::Mentions { mentions, done }) => group.push((mentions, done)),
                Ok(job) => {
                    held = Some(job);
                    break;
                }
                Err(_) => break,
            }
        }
        // Batches are kept until committed, so a refused write is retried
        // with the same rows.
        let outcomes = loop {
            let attempt = write_group(&mut conn, &mut grouper, &group);
            settle(&conn, &mut grouper, attempt.is_ok())?;
            match attempt {
                Ok(outcomes) => break outcomes,
                Err(e) if passing(&e) && retrying.wait(&e, &mut stats) => continue,
                Err(e) => return Err(e),
            }
        };
        retrying.succeeded();
        stats.transactions += 1;
        for ((_, done), outcome) in group.into_iter().zip(outcomes) {
            stats.stored += outcome.stored;
            stats.duplicates += outcome.duplicates;
            stats.revised += outcome.revised;
            if let Some(done) = done {
                // The sender may have given up waiting; the data is committed either way.
                let _ = done.send(outcome);
            }
        }
    }
    Ok(stats)
}

/// After a transaction: the grouper keeps what was committed and forgets
/// what was rolled back.
fn settle(conn: &Connection, grouper: &mut Grouper, committed: bool) -> Result<(), StoreError> {
    if committed {
        grouper.committed();
    } else {
        grouper.rolled_back(conn)?;
    }
    Ok(())
}

fn write_group(
    conn: &mut Connection,
    grouper: &mut Grouper,
    group: &[(Vec<NewMention>, Option<oneshot::Sender<BatchOutcome>>)],
) -> Result<Vec<BatchOutcome>, StoreError> {
    let tx = conn.transaction()?;
    let mut outcomes = Vec::with_capacity(group.len());
    for (mentions, _) in group {
        outcomes.push(insert_batch(&tx, grouper, mentions)?);
    }
    tx.commit()?;
    Ok(outcomes)
}

fn insert_batch(tx: &Transaction, grouper: &mut Grouper, mentions: &[NewMention]) -> Result<BatchOutcome, StoreError> {
    let mut insert_mention = tx.prepare_cached(&format!(
        "INSERT INTO mentions ({}) VALUES ({}) ON CONFLICT (source, source_id) DO NOTHING",
        super::row::INSERT_COLUMNS,
        (1..=super::row::INSERT_COLUMN_COUNT)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))?;
    let mut insert_brand = tx.prepare_cached(
        "INSERT OR IGNORE INTO mention_brands (brand, created_at, mention_id, label, reach) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut outcome = BatchOutcome::default();
    let mut unindexed: Vec<i64> = Vec::new();
    // Counted per (source, label) here and added to the metrics once per batch.
    let mut ingested: Vec<(&str, &'static str, u64)> = Vec::new();
    for new in mentions {
        let s = &new.scored;
        let m = &s.mention;
        let fingerprint = crate::spam::fingerprint(&m.text, grouper.min_words());
        let row = MentionRow::of(new, fingerprint)?;
        let (created_at, reach) = (row.created_at, row.reach);
        let inserted = insert_mention.execute(params![
            row.source,
            row.source_id,
            row.created_at,
            row.author,
            row.followers,
            row.text,
            row.text_chars,
            row.url,
            row.likes,
            row.reposts,
            row.replies,
            row.views,
            row.rating,
            row.lang,
            row.brand_hint,
            row.compound,
            row.pos,
            row.neu,
            row.neg,
            row.label,
            row.reach,
            row.reach_inputs,
            row.ingested_at,
            row.author_karma,
            row.time_estimated,
            row.reply_text,
            row.reply_at,
            row.priority_key,
            row.not_scored,
            row.fingerprint,
        ])?;
        if inserted == 0 {
            outcome.duplicates += 1;
            // An edit updates the full-text index by trigger, which needs
            // the first version indexed already (it may be in this batch).
            index_new(tx, &mut unindexed)?;
            if revise(tx, &row)? {
                outcome.revised += 1;
            }
            continue;
        }
        let id = tx.last_insert_rowid();
        unindexed.push(id);
        for brand in &s.brands {
            insert_brand.execute(params![&**brand, created_at, id, s.label.as_str(), reach])?;
        }
        let post = crate::spam::Post {
            id,
            created_at,
            source: &m.source,
            author: m.author.handle.as_deref(),
            text: &m.text,
            url: m.url.as_deref(),
            fingerprint,
        };
        grouper.place(tx, &post, &s.brands)?;
        outcome.stored += 1;
        let key = (m.source.as_str(), s.label.as_str());
        match ingested.iter_mut().find(|(source, label, _)| (*source, *label) == key) {
            Some(entry) => entry.2 += 1,
            None => ingested.push((key.0, key.1, 1)),
        }
    }
    index_new(tx, &mut unindexed)?;
    for (source, label, n) in ingested {
        metrics::counter!(crate::metrics::MENTIONS_INGESTED, "source" => source.to_string(), "label" => label)
            .increment(n);
    }
    Ok(outcome)
}

/// Adds the mentions just stored to the full-text index, in one statement
/// (migration 20 says why not by trigger).
fn index_new(tx: &Transaction, ids: &mut Vec<i64>) -> Result<(), StoreError> {
    let (Some(&first), Some(&last)) = (ids.first(), ids.last()) else {
        return Ok(());
    };
    // Rowids of new rows only grow, and nothing else writes inside this
    // transaction, so the batch's rows are exactly those between its first and last.
    tx.prepare_cached(
        "INSERT INTO mentions_fts (rowid, text, author) \
         SELECT id, text, author FROM mentions WHERE id BETWEEN ?1 AND ?2",
    )?
    .execute(params![first, last])?;
    ids.clear();
    Ok(())
}

/// Records an edit: when `new` (already stored under its source id) differs
/// from the stored version in text or rating, the stored version moves to
/// `mention_revisions` and the mention takes the new text, rating, score and
/// reach. Its time and brands stay those of the first version, so the edit
/// never counts as a second mention. Returns whether anything changed.
fn revise(tx: &Transaction, new: &MentionRow) -> Result<bool, StoreError> {
    let mut find = tx.prepare_cached(
        "SELECT id, text, rating, compound, label FROM mentions WHERE source = ?1 AND source_id = ?2",
    )?;
    let (id, text, rating, compound, label): (i64, String, Option<i64>, f64, String) = find
        .query_row(params![new.source, new.source_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
    // The brand's answer on the network is not a revision of what the
    // author wrote: it is kept up to date on its own.
    if let (Some(reply_text), Some(reply_at)) = (&new.reply_text, new.reply_at) {
        tx.prepare_cached(
            "UPDATE mentions SET reply_text = ?2, reply_at = ?3 \
             WHERE id = ?1 AND (reply_at IS NOT ?3 OR reply_text IS NOT ?2)",
        )?
        .execute(params![id, reply_text, reply_at])?;
    }
    if text == new.text && rating == new.rating {
        return Ok(false);
    }
    tx.prepare_cached(
        "INSERT INTO mention_revisions (mention_id, replaced_at, text, rating, compound, label) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![id, new.ingested_at, text, rating, compound, label])?;
    tx.prepare_cached(
        "UPDATE mentions SET text = ?2, text_chars = ?3, rating = ?4, compound = ?5, pos = ?6, neu = ?7, \
         neg = ?8, label = ?9, reach = ?10, reach_inputs = ?11, likes = ?12, priority_key = ?13, not_scored = ?14 WHERE id = ?1",
    )?
    .execute(params![
        id,
        new.text,
        new.text_chars,
        new.rating,
        new.compound,
        new.pos,
        new.neu,
        new.neg,
        new.label,
        new.reach,
        new.reach_inputs,
        new.likes,
        new.priority_key,
        new.not_scored,
    ])?;
    tx.prepare_cached("UPDATE mention_brands SET label = ?2, reach = ?3 WHERE mention_id = ?1")?
        .execute(params![id, new.label, new.reach])?;
    Ok(true)
}
