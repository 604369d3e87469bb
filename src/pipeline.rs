//! Ingestion, shared by every way mentions arrive: [`prepare`] is the one
//! step each mention takes before the store, from a feed or from a poll
//! (capped, matched to its brands, scored, given its reach, stamped with
//! the clock); the writer's `insert_batch` is the one way in (duplicates,
//! revisions). [`Pipeline`] batches a replay's mentions for a `BatchSink`
//! (SQLite's writer thread, or a PostgreSQL writer task); the poller sends
//! each poll's mentions with its cursor in one transaction.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use serde::Serialize;

use crate::clock::Clock;
use crate::enrich::sentiment::Label;
use crate::enrich::{Enriched, Enricher};
use crate::mention::Mention;
use crate::store::writer::{BatchOutcome, BatchSink, NewMention, WriterGone};

/// Counts by label, in the order negative, neutral, positive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LabelCounts {
    pub negative: u64,
    pub neutral: u64,
    pub positive: u64,
}

impl LabelCounts {
    pub fn add(&mut self, label: Label) {
        match label {
            Label::Negative => self.negative += 1,
            Label::Neutral => self.neutral += 1,
            Label::Positive => self.positive += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.negative + self.neutral + self.positive
    }
}

/// What the pipeline did with the mentions it was given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngestStats {
    /// Mentions handed to the pipeline.
    pub received: u64,
    /// About no configured brand: not stored.
    pub unmatched: u64,
    /// Named a brand that is not configured: not stored.
    pub unknown_brand: u64,
    /// Matched mentions per brand, by label (before duplicates are skipped).
    pub per_brand: BTreeMap<String, LabelCounts>,
}

/// What happened to one mention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    Queued,
    Unmatched,
    UnknownBrand(String),
}

/// The step every mention takes on its way to the store, whichever way it
/// came: capped to the stored limits, enriched (brands, sentiment, reach)
/// and stamped with `now`. `Err` says why it is not stored.
pub fn prepare(enricher: &Enricher, mention: Mention, now: DateTime<Utc>) -> Result<NewMention, Ingested> {
    match enricher.enrich(mention.capped()) {
        Enriched::Scored(scored) => Ok(NewMention {
            scored: *scored,
            ingested_at: now,
        }),
        Enriched::Unmatched => Err(Ingested::Unmatched),
        Enriched::UnknownBrand(name) => Err(Ingested::UnknownBrand(name)),
    }
}

pub struct Pipeline {
    enricher: Enricher,
    writer: Box<dyn BatchSink>,
    clock: Arc<dyn Clock>,
    batch: Vec<NewMention>,
    batch_size: usize,
    stats: IngestStats,
    /// Batches sent but maybe not committed yet, with the clock time when
    /// each was sent (every mention in it is older).
    in_flight: VecDeque<(DateTime<Utc>, oneshot::Receiver<BatchOutcome>)>,
    /// Clock time up to which every mention ingested is committed.
    committed_until: Option<DateTime<Utc>>,
}

impl Pipeline {
    /// A pipeline sending batches of `batch_size` mentions to `writer`.
    pub fn new(enricher: Enricher, batch_size: usize, writer: impl BatchSink + 'static, clock: Arc<dyn Clock>) -> Self {
        let batch_size = batch_size.max(1);
        Pipeline {
            enricher,
            writer: Box::new(writer),
            clock,
            batch: Vec::with_capacity(batch_size),
            batch_size,
            stats: IngestStats::default(),
            in_flight: VecDeque::new(),
            committed_until: None,
        }
    }

    /// Enriches `mention` and queues it for storage, sending a full batch to
    /// the writer (waiting while its queue is full).
    pub fn ingest(&mut self, mention: Mention) -> Result<Ingested, WriterGone> {
        self.stats.received += 1;
        let new = match prepare(&self.enricher, mention, self.clock.now()) {
            Ok(new) => new,
            Err(Ingested::UnknownBrand(name)) => {
                self.stats.unknown_brand += 1;
                return Ok(Ingested::UnknownBrand(name));
            }
            Err(not_stored) => {
                self.stats.unmatched += 1;
                return Ok(not_stored);
            }
        };
        let scored = &new.scored;
        for brand in &scored.brands {
            match self.stats.per_brand.get_mut(&**brand) {
                Some(counts) => counts.add(scored.label),
                None => {
                    let mut counts = LabelCounts::default();
                    counts.add(scored.label);
                    self.stats.per_brand.insert(brand.to_string(), counts);
                }
            }
        }
        self.batch.push(new);
        if self.batch.len() >= self.batch_size {
            self.flush()?;
        }
        Ok(Ingested::Queued)
    }

    /// Sends whatever is batched to the writer.
    pub fn flush(&mut self) -> Result<(), WriterGone> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(self.batch_size));
        let sent_at = self.clock.now();
        let committed = self.writer.send_tracked_blocking(batch)?;
        self.in_flight.push_back((sent_at, committed));
        Ok(())
    }

    /// The clock time up to which everything ingested is committed, without
    /// waiting: readers (the detector) may judge up to there.
    pub fn committed_until(&mut self) -> Option<DateTime<Utc>> {
        while let Some((sent_at, committed)) = self.in_flight.front_mut() {
            match committed.try_recv() {
                Ok(_) | Err(oneshot::error::TryRecvError::Closed) => {
                    self.committed_until = Some(*sent_at);
                    self.in_flight.pop_front();
                }
                Err(oneshot::error::TryRecvError::Empty) => break,
            }
        }
        self.committed_until
    }

    /// Sends whatever is batched and waits until everything sent so far is
    /// committed, so readers (the detector) see it.
    pub fn sync(&mut self) -> Result<(), WriterGone> {
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(self.batch_size));
        let now = self.clock.now();
        let committed = self.writer.send_tracked_blocking(batch)?;
        committed.blocking_recv().map_err(|_| WriterGone)?;
        // The writer commits in order: everything sent before is in too.
        self.in_flight.clear();
        self.committed_until = Some(now);
        Ok(())
    }

    /// Flushes, waits until the writer has committed everything ingested
    /// (a reader opened afterwards sees it all), and returns the counts; the
    /// writer handle is dropped. Called outside an async runtime.
    pub fn finish(mut self) -> Result<IngestStats, WriterGone> {
        self.flush()?;
        for (_, committed) in self.in_flight.drain(..) {
            // Closed: the writer stopped, and reports why when it is finished.
            let _ = committed.blocking_recv();
        }
        Ok(self.stats)
    }
}
