//! The one writer. SQLite admits one writer at a time, so a single thread
//! owns the write connection, takes batches from a bounded queue, and commits
//! each batch (and whatever else is already queued behind it) in one
//! transaction: the hot path never commits per row, and a full queue slows
//! the producers down instead of growing memory.

use std::path::Path;
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::StoreError;
use crate::enrich::ScoredMention;

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
}

/// Totals over the writer's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    pub stored: u64,
    pub duplicates: u64,
    pub transactions: u64,
}

struct Batch {
    mentions: Vec<NewMention>,
    done: Option<oneshot::Sender<BatchOutcome>>,
}

/// Sends batches to the writer. Cheap to clone; the writer stops once every
/// handle is dropped and the queue is empty.
#[derive(Clone)]
pub struct WriterHandle {
    queue: mpsc::Sender<Batch>,
}

/// The writer could not take the batch: it has stopped, and
/// [`Writer::finish`] says why.
#[derive(Debug, thiserror::Error)]
#[error("the database writer has stopped")]
pub struct WriterGone;

impl WriterHandle {
    /// Queues a batch, waiting while the queue is full. For threads outside
    /// the async runtime (replay, tests).
    pub fn send_blocking(&self, mentions: Vec<NewMention>) -> Result<(), WriterGone> {
        self.queue
            .blocking_send(Batch {
                mentions,
                done: None,
            })
            .map_err(|_| WriterGone)
    }

    /// Queues a batch and waits until it is committed.
    pub async fn write(&self, mentions: Vec<NewMention>) -> Result<BatchOutcome, WriterGone> {
        let (done, committed) = oneshot::channel();
        self.queue
            .send(Batch {
                mentions,
                done: Some(done),
            })
            .await
            .map_err(|_| WriterGone)?;
        committed.await.map_err(|_| WriterGone)
    }
}

/// The running writer thread.
pub struct Writer {
    thread: JoinHandle<Result<WriterStats, StoreError>>,
}

impl Writer {
    /// Opens the database at `path` (migrating it) and starts the writer
    /// thread with room for `queue_batches` waiting batches.
    pub fn start(path: &Path, queue_batches: usize) -> Result<(Writer, WriterHandle), StoreError> {
        let conn = super::open(path)?;
        // Index pages of a large table are touched at random by new keys; a
        // larger cache than SQLite's 2 MB default keeps them in memory.
        conn.pragma_update(None, "cache_size", -16 * 1024)?;
        let (queue, batches) = mpsc::channel(queue_batches.max(1));
        let thread = std::thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || run(conn, batches))
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

fn run(
    mut conn: Connection,
    mut batches: mpsc::Receiver<Batch>,
) -> Result<WriterStats, StoreError> {
    let mut stats = WriterStats::default();
    while let Some(first) = batches.blocking_recv() {
        let mut group = vec![first];
        while group.len() < MAX_BATCHES_PER_TRANSACTION {
            match batches.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let tx = conn.transaction()?;
        let mut outcomes = Vec::with_capacity(group.len());
        for batch in &group {
            outcomes.push(insert_batch(&tx, &batch.mentions)?);
        }
        tx.commit()?;
        stats.transactions += 1;
        for (batch, outcome) in group.into_iter().zip(outcomes) {
            stats.stored += outcome.stored;
            stats.duplicates += outcome.duplicates;
            if let Some(done) = batch.done {
                // The sender may have given up waiting; the data is committed either way.
                let _ = done.send(outcome);
            }
        }
    }
    Ok(stats)
}

fn insert_batch(tx: &Transaction, mentions: &[NewMention]) -> Result<BatchOutcome, StoreError> {
    let mut insert_mention = tx.prepare_cached(
        "INSERT INTO mentions (source, source_id, created_at, author, followers, text, text_chars, url, \
         likes, reposts, replies, views, rating, lang, brand_hint, compound, pos, neu, neg, label, reach, \
         reach_inputs, ingested_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, \
         ?21, ?22, ?23) ON CONFLICT (source, source_id) DO NOTHING",
    )?;
    let mut insert_brand = tx.prepare_cached(
        "INSERT OR IGNORE INTO mention_brands (brand, created_at, mention_id, label, reach) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut outcome = BatchOutcome::default();
    for new in mentions {
        let s = &new.scored;
        let m = &s.mention;
        let created_at = m.created_at.timestamp_millis();
        let reach = i64::try_from(s.reach.people).unwrap_or(i64::MAX);
        let reach_inputs = serde_json::to_string(&s.reach.inputs)
            .map_err(|e| StoreError::Corrupt(format!("reach inputs: {e}")))?;
        let as_sql = |v: Option<u64>| v.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        let inserted = insert_mention.execute(params![
            m.source,
            m.source_id,
            created_at,
            m.author.handle,
            as_sql(m.author.followers),
            m.text,
            as_sql(Some(m.text_chars)),
            m.url,
            as_sql(m.metrics.likes),
            as_sql(m.metrics.reposts),
            as_sql(m.metrics.replies),
            as_sql(m.metrics.views),
            m.rating,
            m.lang,
            m.brand,
            s.sentiment.compound,
            s.sentiment.pos,
            s.sentiment.neu,
            s.sentiment.neg,
            s.label.as_str(),
            reach,
            reach_inputs,
            new.ingested_at.timestamp_millis(),
        ])?;
        if inserted == 0 {
            outcome.duplicates += 1;
            continue;
        }
        let id = tx.last_insert_rowid();
        for brand in &s.brands {
            insert_brand.execute(params![&**brand, created_at, id, s.label.as_str(), reach])?;
        }
        outcome.stored += 1;
    }
    Ok(outcome)
}
