//! A replay's writer on PostgreSQL: one task stores the batches in the
//! order they are sent, each in a transaction of its own, while the replay
//! goes on reading and scoring the next ones (as SQLite's writer thread
//! does). A batch that fails stops the writer: the replay stops with the
//! error, and replaying again is safe (stored mentions are duplicates).

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::store::writer::{BatchOutcome, BatchSink, NewMention, WriterGone, WriterStats};
use crate::store::StoreError;

type Batch = (Vec<NewMention>, oneshot::Sender<BatchOutcome>);

/// The writer task; [`PgWriter::finish`] waits for it.
pub struct PgWriter {
    task: JoinHandle<Result<WriterStats, StoreError>>,
}

/// Sends batches to the writer task. The task stops once every handle is
/// dropped and the queue is empty.
#[derive(Clone)]
pub struct PgWriterHandle {
    queue: mpsc::Sender<Batch>,
}

impl PgWriter {
    /// Starts the task on `runtime`, with room for `queue_batches` batches
    /// waiting (the sender waits beyond that).
    pub fn start(
        pool: deadpool_postgres::Pool,
        spam: crate::spam::SpamConfig,
        runtime: &tokio::runtime::Handle,
        queue_batches: usize,
    ) -> (PgWriter, PgWriterHandle) {
        let (queue, mut batches) = mpsc::channel::<Batch>(queue_batches.max(1));
        let task = runtime.spawn(async move {
            let mut stats = WriterStats::default();
            while let Some((mentions, done)) = batches.recv().await {
                let mut client = pool.get().await?;
                let tx = client.transaction().await?;
                let outcome = super::ingest::insert(&tx, &mentions, &spam).await?;
                tx.commit().await?;
                stats.stored += outcome.stored;
                stats.duplicates += outcome.duplicates;
                stats.revised += outcome.revised;
                stats.transactions += 1;
                let _ = done.send(outcome);
            }
            Ok(stats)
        });
        (PgWriter { task }, PgWriterHandle { queue })
    }

    /// Waits until every batch sent is stored (every handle must be
    /// dropped first), and returns what was stored. Called outside the
    /// runtime.
    pub fn finish(self, runtime: &tokio::runtime::Handle) -> Result<WriterStats, StoreError> {
        runtime
            .block_on(self.task)
            .map_err(|e| StoreError::Invalid(format!("the PostgreSQL writer task failed: {e}")))?
    }
}

impl BatchSink for PgWriterHandle {
    fn send_tracked_blocking(&self, mentions: Vec<NewMention>) -> Result<oneshot::Receiver<BatchOutcome>, WriterGone> {
        let (done, committed) = oneshot::channel();
        self.queue.blocking_send((mentions, done)).map_err(|_| WriterGone)?;
        Ok(committed)
    }
}
