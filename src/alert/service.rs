//! The alert service: on each tick of the pipeline clock it judges every
//! bucket that has closed (plus `grace` for late mentions) from the stored
//! counts, and records what the detector decides — incident rows, outbox
//! rows and the scope's progress in one writer transaction. Replay ticks it
//! in virtual time, the live service in wall time: the same code.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;

use super::{is_silenced, ms, notify, open_incident, AlertsConfig, Event, Incident, State};
use crate::brand::BrandConfig;
use crate::detect::incident::{IncidentFigures, IncidentTracker, Transition};
use crate::detect::{backtest, BucketCounts, DetectConfig, ScopeDetector};
use crate::sql_params;
use crate::store::sql::{PgBlocking, Sql};
use crate::store::writer::{Queued, WriterHandle};
use crate::store::{self, bucket_counts, StoreError};

/// History replayed into a scope's baseline when the service starts.
const REBUILD_HISTORY: i64 = 28;

struct Scope {
    brand: String,
    /// '' for the whole brand.
    source: String,
    detector: ScopeDetector,
    tracker: IncidentTracker,
    incident_id: Option<i64>,
    next_bucket: Option<DateTime<Utc>>,
}

/// What one tick decided for one scope, to be written with the others.
struct ScopeChange {
    scope: usize,
    brand: String,
    source: String,
    incident_id: Option<i64>,
    transitions: Vec<(DateTime<Utc>, Transition)>,
    progress: DateTime<Utc>,
}

/// What a tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    pub buckets: u64,
    pub opened: u64,
    pub escalated: u64,
    pub resolved: u64,
    pub repeats: u64,
}

pub struct AlertService {
    detect: DetectConfig,
    alerts: AlertsConfig,
    scopes: Vec<Scope>,
    store: Store,
    /// The last tick's progress, queued behind the mentions the writer has
    /// yet to commit and confirmed at the next tick (see `tick`).
    unconfirmed: Option<Queued<ScopeIds>>,
}

/// Where a service reads counts and records what it decides.
enum Store {
    /// A read-only connection of its own, and the one writer's queue.
    Sqlite { reader: Connection, writer: WriterHandle },
    /// A PostgreSQL database; in a shared `run` every write first checks
    /// that this process still holds `fence`'s lease (the brand's), so that
    /// a process that lost it never records an incident the new holder
    /// records too.
    Postgres {
        db: PgBlocking,
        fence: Option<(String, String)>,
    },
}

impl Store {
    fn reader(&self) -> &dyn Sql {
        match self {
            Store::Sqlite { reader, .. } => reader,
            Store::Postgres { db, .. } => db,
        }
    }

    /// Runs `job` in one transaction and waits for its outcome.
    fn transact<T: Send + 'static>(
        &mut self,
        mut job: impl FnMut(&dyn Sql) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        match self {
            Store::Sqlite { writer, .. } => writer.transact_blocking(move |tx| job(tx)),
            Store::Postgres { db, fence } => {
                let fence = fence.as_ref().map(|(lease, holder)| (lease.as_str(), holder.as_str()));
                db.transact(fence, &mut job)
            }
        }
    }
}

/// Each changed scope's incident after a tick's write.
type ScopeIds = Vec<(usize, Option<i64>)>;

impl AlertService {
    /// Loads each brand's progress and open incident, and rebuilds its
    /// baseline from stored history, so a restart resumes where it stopped.
    pub fn start(
        brands: &[BrandConfig],
        detect: &DetectConfig,
        alerts: &AlertsConfig,
        db: &Path,
        writer: WriterHandle,
    ) -> Result<Self, StoreError> {
        let reader = store::open_read_only(db)?;
        Self::with_store(brands, detect, alerts, Store::Sqlite { reader, writer })
    }

    /// The service for `brands` on a PostgreSQL database; with a `fence`
    /// (lease, holder), only while that lease is held (one brand's, in a
    /// shared `run`). Runs on a blocking thread, as ticks do.
    pub fn on_postgres(
        brands: &[BrandConfig],
        detect: &DetectConfig,
        alerts: &AlertsConfig,
        db: PgBlocking,
        fence: Option<(&str, &str)>,
    ) -> Result<Self, StoreError> {
        let store = Store::Postgres {
            db,
            fence: fence.map(|(lease, holder)| (lease.to_string(), holder.to_string())),
        };
        Self::with_store(brands, detect, alerts, store)
    }

    fn with_store(
        brands: &[BrandConfig],
        detect: &DetectConfig,
        alerts: &AlertsConfig,
        store: Store,
    ) -> Result<Self, StoreError> {
        let mut service = AlertService {
            detect: detect.clone(),
            alerts: alerts.clone(),
            scopes: Vec::new(),
            store,
            unconfirmed: None,
        };
        service.warn_of_absurd_times()?;
        for brand in brands {
            service.add_scope(&brand.name, "")?;
        }
        Ok(service)
    }

    fn add_scope(&mut self, brand: &str, source: &str) -> Result<(), StoreError> {
        let mut scope = Scope {
            brand: brand.to_string(),
            source: source.to_string(),
            detector: ScopeDetector::new(&self.detect),
            tracker: IncidentTracker::new(&self.detect),
            incident_id: None,
            next_bucket: None,
        };
        let db = self.store.reader();
        let next = db.int(
            "SELECT next_bucket FROM detector_progress WHERE brand = ?1 AND source = ?2",
            &sql_params![brand, source],
        )?;
        // Judging the same history again gives the detector and the incident
        // tracker the very state they had: their decisions depend on the
        // counts alone. (Resuming the tracker from the stored figures would
        // lose, say, how long counts had already been quiet.)
        let mut rebuilt = IncidentTracker::new(&self.detect);
        if let Some(next) = next.and_then(DateTime::from_timestamp_millis) {
            let from = next - Duration::days(REBUILD_HISTORY);
            let first = self.first_bucket(brand, source)?.map_or(next, |f| f.max(from));
            let series = bucket_counts(db, &self.detect, brand, source, first, next)?;
            let mut history: Vec<BucketCounts> = backtest::fill_gaps(&self.detect, series).collect();
            pad_until(&mut history, first, next, self.detect.bucket.0);
            for counts in history {
                let eval = scope.detector.observe(counts);
                rebuilt.observe(&eval);
            }
            scope.next_bucket = Some(next);
        }
        match open_incident(db, brand, source)? {
            Some(open) => {
                let same = rebuilt.open_incident().map(|f| f.started_at) == Some(open.figures.started_at);
                // An incident older than the rebuilt history resumes from its figures.
                scope.tracker = if same {
                    rebuilt
                } else {
                    IncidentTracker::resume(&self.detect, open.figures.clone())
                };
                scope.incident_id = Some(open.id);
            }
            // Resolved meanwhile (by hand, or by the run that stopped).
            None => scope.tracker = IncidentTracker::new(&self.detect),
        }
        self.scopes.push(scope);
        Ok(())
    }

    /// Names the stored mentions whose time is outside what is accepted
    /// today (stored by an older version): detection passes them by.
    fn warn_of_absurd_times(&self) -> Result<(), StoreError> {
        let rows = self.store.reader().rows(
            "SELECT source, source_id, created_at FROM mentions WHERE created_at < ?1 OR created_at >= ?2 LIMIT 5",
            &sql_params![ms(crate::mention::earliest_time()), ms(crate::mention::latest_time())],
            |r| Ok((r.required_text(0)?, r.required_text(1)?, r.required_int(2)?)),
        )?;
        for (source, id, at) in rows {
            let at =
                DateTime::from_timestamp_millis(at).map_or_else(|| format!("{at} ms"), crate::mention::format_time);
            tracing::warn!(
                "stored mention {source}/{id} is dated {at}, outside 2000-01-01..2100-01-01: detection leaves it out"
            );
        }
        Ok(())
    }

    fn first_bucket(&self, brand: &str, source: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let db = self.store.reader();
        let first = if source.is_empty() {
            db.int(
                "SELECT min(created_at) FROM mention_brands WHERE brand = ?1",
                &sql_params![brand],
            )?
        } else {
            db.int(
                "SELECT min(f.created_at) FROM mention_brands f JOIN mentions m ON m.id = f.mention_id \
                 WHERE f.brand = ?1 AND m.source = ?2",
                &sql_params![brand, source],
            )?
        };
        Ok(first
            .and_then(DateTime::from_timestamp_millis)
            .map(|t| self.detect.bucket_start(t.max(crate::mention::earliest_time()))))
    }

    /// Judges every bucket closed by `now` and queues due repeat notices.
    /// Mentions up to `now` must already be committed.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Result<TickReport, StoreError> {
        self.confirm()?;
        let mut report = TickReport::default();
        if self.detect.per_source {
            self.discover_sources()?;
        }
        let bucket = self.detect.bucket.0;
        let closed_until = self.detect.bucket_start(now - self.detect.grace.0);
        let mut changes: Vec<ScopeChange> = Vec::new();
        for i in 0..self.scopes.len() {
            self.refresh_incident(i)?;
            let (brand, source) = (self.scopes[i].brand.clone(), self.scopes[i].source.clone());
            let from = match self.scopes[i].next_bucket {
                Some(next) => next,
                None => match self.first_bucket(&brand, &source)? {
                    Some(first) => first,
                    None => continue,
                },
            };
            // Work is bounded by the history detection keeps, never by the
            // oldest row: a mention dated 1970 (stored before times were
            // checked) must not make a tick walk half a century of buckets.
            let from = from.max(self.detect.bucket_start(closed_until - Duration::days(REBUILD_HISTORY)));
            // Closed buckets not judged yet (none on most ticks: a bucket
            // closes every few minutes, the service ticks every few seconds).
            let closing = from < closed_until;
            // One read per scope and tick: the closed buckets and the ones
            // still filling (a look is only needed while no incident is open).
            let looking = !self.scopes[i].tracker.is_open();
            let until = if looking { now } else { closed_until };
            let mut series = if closing || looking {
                bucket_counts(
                    self.store.reader(),
                    &self.detect,
                    &brand,
                    &source,
                    from.min(closed_until),
                    until,
                )?
            } else {
                Vec::new()
            };
            let pending = series.split_off(series.partition_point(|c| c.start < closed_until));
            // Each decision is stamped with the time live detection would
            // have made it (bucket end + grace), so that how often the
            // service ticks never changes what it records.
            let grace = self.detect.grace.0;
            let mut transitions = Vec::new();
            let scope = &mut self.scopes[i];
            let mut padded: Vec<BucketCounts> = backtest::fill_gaps(&self.detect, series).collect();
            if closing {
                pad_until(&mut padded, from, closed_until, bucket);
            }
            for counts in padded {
                report.buckets += 1;
                let eval = scope.detector.observe(counts);
                if let Some(t) = scope.tracker.observe(&eval) {
                    transitions.push((counts.start + bucket + grace, t));
                }
            }
            scope.next_bucket = Some(closed_until.max(from));
            // The buckets still open are judged too (without learning), so a
            // wave opens its incident within its bucket, not at close + grace.
            // An open incident grows only as buckets close: no look needed.
            if looking && !scope.tracker.is_open() {
                let filling = still_filling(&pending, closed_until, now, bucket);
                if let Some(t) = scope
                    .detector
                    .peek(&filling)
                    .and_then(|e| scope.tracker.observe_partial(&e))
                {
                    transitions.push((now, t));
                }
            }
            for (_, t) in &transitions {
                match t {
                    Transition::Opened(_) => report.opened += 1,
                    Transition::Escalated(_) => report.escalated += 1,
                    Transition::Resolved { .. } => report.resolved += 1,
                    Transition::Updated(_) => {}
                }
            }
            if !closing && transitions.is_empty() {
                continue;
            }
            changes.push(ScopeChange {
                scope: i,
                brand,
                source,
                incident_id: scope.incident_id,
                transitions,
                progress: closed_until.max(from),
            });
        }
        // Every scope's decisions in one writer transaction: a tick over a
        // thousand brands is one commit, not a thousand.
        if !changes.is_empty() {
            let alerts = self.alerts.clone();
            let progress_only = changes.iter().all(|c| c.transitions.is_empty());
            let write = move |tx: &dyn Sql| {
                let mut ids = Vec::with_capacity(changes.len());
                for change in &changes {
                    let mut id = change.incident_id;
                    for (at, t) in &change.transitions {
                        if let Some(open) = id {
                            queue_due_repeats(tx, &alerts, open, *at, bucket)?;
                        }
                        id = apply(tx, &alerts, &change.brand, &change.source, id, t.clone(), *at, bucket)?;
                    }
                    tx.execute(
                        "INSERT INTO detector_progress (brand, source, next_bucket) VALUES (?1, ?2, ?3) \
                         ON CONFLICT (brand, source) DO UPDATE SET next_bucket = excluded.next_bucket",
                        &sql_params![&change.brand, &change.source, ms(change.progress)],
                    )?;
                    ids.push((change.scope, id));
                }
                Ok(ids)
            };
            // A tick that only moves progress forward does not wait for its
            // commit: the writer may have a queue of mention batches ahead of
            // it, and replay would stall on every tick. Nothing reads that
            // progress before the next tick, which confirms it first. A tick
            // that changes incidents waits, so repeats and the next look
            // see them.
            match &self.store {
                Store::Sqlite { writer, .. } if progress_only => {
                    self.unconfirmed = Some(writer.submit_blocking(move |tx| write(tx))?);
                }
                _ => {
                    let ids = self.store.transact(write)?;
                    self.record_ids(ids);
                }
            }
        }
        report.repeats = self.queue_repeats(now)?;
        metrics::counter!(crate::metrics::ALERTS_OPENED).increment(report.opened);
        Ok(report)
    }

    /// Waits for the last tick's write, if it has not been confirmed yet.
    pub fn confirm(&mut self) -> Result<(), StoreError> {
        if let Some(queued) = self.unconfirmed.take() {
            let ids = queued.confirm()?;
            self.record_ids(ids);
        }
        Ok(())
    }

    fn record_ids(&mut self, ids: ScopeIds) {
        for (i, id) in ids {
            self.scopes[i].incident_id = id;
        }
    }

    /// Follows changes staff made (a resolve by hand closes the tracker's incident).
    fn refresh_incident(&mut self, i: usize) -> Result<(), StoreError> {
        let scope = &mut self.scopes[i];
        let Some(id) = scope.incident_id else {
            return Ok(());
        };
        let state = self
            .store
            .reader()
            .text("SELECT state FROM incidents WHERE id = ?1", &sql_params![id])?;
        if state.as_deref() != Some("firing") && state.as_deref() != Some("acknowledged") {
            scope.tracker.close();
            scope.incident_id = None;
        }
        Ok(())
    }

    fn discover_sources(&mut self) -> Result<(), StoreError> {
        let brands: Vec<String> = self
            .scopes
            .iter()
            .filter(|s| s.source.is_empty())
            .map(|s| s.brand.clone())
            .collect();
        for brand in brands {
            let sources = self.store.reader().rows(
                "SELECT DISTINCT m.source FROM mention_brands f JOIN mentions m ON m.id = f.mention_id \
                 WHERE f.brand = ?1",
                &sql_params![&brand],
                |r| r.required_text(0),
            )?;
            for source in sources {
                if !self.scopes.iter().any(|s| s.brand == brand && s.source == source) {
                    self.add_scope(&brand, &source)?;
                }
            }
        }
        Ok(())
    }

    /// Queues the repeat notices due by `now` for every incident still
    /// firing unacknowledged.
    fn queue_repeats(&mut self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let due_before = ms(now - self.alerts.repeat_every.0);
        // Only this service's brands: on a shared database the others'
        // incidents are another process's to repeat.
        let ids: Vec<i64> = self
            .store
            .reader()
            .rows(
                "SELECT id, brand FROM incidents WHERE state = 'firing' AND silenced = 0 AND last_notified_at <= ?1",
                &sql_params![due_before],
                |r| Ok((r.required_int(0)?, r.required_text(1)?)),
            )?
            .into_iter()
            .filter(|(_, brand)| self.scopes.iter().any(|s| s.brand == *brand))
            .map(|(id, _)| id)
            .collect();
        if ids.is_empty() {
            return Ok(0);
        }
        let alerts = self.alerts.clone();
        let bucket = self.detect.bucket.0;
        self.store.transact(move |tx| {
            let mut queued = 0;
            for &id in &ids {
                queued += queue_due_repeats(tx, &alerts, id, now, bucket)?;
            }
            Ok(queued)
        })
    }
}

impl Drop for AlertService {
    /// A service dropped right after a tick (replay's end, a test, shutdown)
    /// still learns whether its last write failed.
    fn drop(&mut self) {
        if let Err(e) = self.confirm() {
            tracing::error!("detection progress was not saved: {e}");
        }
    }
}

/// Most repeat notices queued for one incident at once (a service that was
/// down for days sends a few reminders, not hundreds).
const MAX_REPEATS_AT_ONCE: u64 = 3;

/// Queues each repeat notice of incident `id` that fell due by `until`, each
/// stamped `repeat_every` after the previous notice; stops once staff
/// acknowledged or resolved it.
fn queue_due_repeats(
    tx: &dyn Sql,
    alerts: &AlertsConfig,
    id: i64,
    until: DateTime<Utc>,
    bucket: Duration,
) -> Result<u64, StoreError> {
    let mut queued = 0;
    while queued < MAX_REPEATS_AT_ONCE {
        let incident = super::get_incident(tx, id)?;
        let Some(last) = incident.last_notified_at else {
            break;
        };
        let due = last + alerts.repeat_every.0;
        if incident.state != State::Firing || incident.silenced || due > until {
            break;
        }
        notify(tx, alerts, &incident, Event::Repeat, due, bucket)?;
        queued += 1;
    }
    Ok(queued)
}

/// The buckets from `from` to the one holding `now`, each with the share of
/// it that has elapsed; buckets without mentions count as empty.
fn still_filling(
    pending: &[BucketCounts],
    from: DateTime<Utc>,
    now: DateTime<Utc>,
    bucket: Duration,
) -> Vec<(BucketCounts, f64)> {
    let mut filling = Vec::new();
    let mut start = from;
    while start <= now {
        let counts = pending
            .iter()
            .find(|c| c.start == start)
            .copied()
            .unwrap_or(BucketCounts {
                start,
                negatives: 0,
                total: Some(0),
                negative_reach: 0,
            });
        let elapsed = (now - start).num_milliseconds() as f64 / bucket.num_milliseconds().max(1) as f64;
        filling.push((counts, elapsed.min(1.0)));
        start += bucket;
    }
    filling
}

/// Appends zero buckets so the series reaches `until` (a quiet stretch at
/// the end has no rows, but its buckets are judged all the same).
fn pad_until(series: &mut Vec<BucketCounts>, from: DateTime<Utc>, until: DateTime<Utc>, bucket: Duration) {
    let mut next = series.last().map_or(from, |c| c.start + bucket);
    while next < until {
        series.push(BucketCounts {
            start: next,
            negatives: 0,
            total: Some(0),
            negative_reach: 0,
        });
        next += bucket;
    }
}

/// Records one transition; returns the scope's open incident id afterwards.
#[allow(clippy::too_many_arguments)]
fn apply(
    tx: &dyn Sql,
    alerts: &AlertsConfig,
    brand: &str,
    source: &str,
    incident_id: Option<i64>,
    transition: Transition,
    now: DateTime<Utc>,
    bucket: Duration,
) -> Result<Option<i64>, StoreError> {
    match transition {
        Transition::Opened(f) => {
            let silenced = is_silenced(tx, brand, source, f.started_at)?;
            let inserted = tx.execute(
                "INSERT INTO incidents (brand, source, state, severity, trigger, started_at, peak_at, \
                 last_anomalous_at, observed, expected, peak_observed, peak_expected, negative_share, \
                 usual_share, reach, silenced) VALUES (?1, ?2, 'firing', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, \
                 ?11, ?12, ?13, ?14, ?15) ON CONFLICT (brand, source, started_at) DO NOTHING",
                &sql_params![
                    brand,
                    source,
                    f.severity.as_str(),
                    f.trigger.as_str(),
                    ms(f.started_at),
                    ms(f.peak_at),
                    ms(f.last_anomalous_at),
                    f.observed as i64,
                    f.expected,
                    f.peak_observed as i64,
                    f.peak_expected,
                    f.negative_share,
                    f.usual_share,
                    f.reach.min(i64::MAX as u64) as i64,
                    silenced,
                ],
            )?;
            let id = tx
                .int(
                    "SELECT id FROM incidents WHERE brand = ?1 AND source = ?2 AND started_at = ?3",
                    &sql_params![brand, source, ms(f.started_at)],
                )?
                .ok_or_else(|| StoreError::NotFound(format!("the incident of {brand} just recorded")))?;
            if inserted == 1 {
                let incident = super::get_incident(tx, id)?;
                notify(tx, alerts, &incident, Event::Opened, now, bucket)?;
            }
            Ok(Some(id))
        }
        Transition::Updated(f) | Transition::Escalated(f) if incident_id.is_none() => {
            // The incident was resolved by hand meanwhile; nothing to update.
            let _ = f;
            Ok(None)
        }
        Transition::Updated(f) => {
            let id = incident_id.unwrap_or_default();
            update_figures(tx, id, &f)?;
            Ok(Some(id))
        }
        Transition::Escalated(f) => {
            let id = incident_id.unwrap_or_default();
            update_figures(tx, id, &f)?;
            let incident: Incident = super::get_incident(tx, id)?;
            notify(tx, alerts, &incident, Event::Escalated, now, bucket)?;
            Ok(Some(id))
        }
        Transition::Resolved { figures, at } => {
            let Some(id) = incident_id else {
                return Ok(None);
            };
            update_figures(tx, id, &figures)?;
            let changed = tx.execute(
                "UPDATE incidents SET state = 'resolved', resolved_at = ?2 WHERE id = ?1 AND state != 'resolved'",
                &sql_params![id, ms(at)],
            )?;
            if changed == 1 {
                let incident = super::get_incident(tx, id)?;
                notify(tx, alerts, &incident, Event::Resolved, now, bucket)?;
            }
            Ok(None)
        }
    }
}

fn update_figures(tx: &dyn Sql, id: i64, f: &IncidentFigures) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE incidents SET severity = ?2, peak_at = ?3, last_anomalous_at = ?4, observed = ?5, expected = ?6, \
         peak_observed = ?7, peak_expected = ?8, negative_share = ?9, reach = ?10 WHERE id = ?1",
        &sql_params![
            id,
            f.severity.as_str(),
            ms(f.peak_at),
            ms(f.last_anomalous_at),
            f.observed as i64,
            f.expected,
            f.peak_observed as i64,
            f.peak_expected,
            f.negative_share,
            f.reach.min(i64::MAX as u64) as i64,
        ],
    )?;
    Ok(())
}
