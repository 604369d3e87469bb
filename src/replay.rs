//! Replay: recorded JSON Lines feeds through the real pipeline, in virtual
//! time. The pipeline's clock follows the mentions' own timestamps, so
//! everything time-based behaves as it did when they were posted; `--speed N`
//! paces the replay at N times real time, `max` runs as fast as the machine
//! allows. It replays into a SQLite file or a PostgreSQL database (one no
//! `run` process is sharing: replay judges every brand itself).

use std::collections::BTreeMap;
use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::alert::delivery::{DeliveryStats, Dispatcher};
use crate::alert::service::{AlertService, TickReport};
use crate::clock::{Clock, VirtualClock};
use crate::config::Config;
use crate::mention::LineError;
use crate::pipeline::{IngestStats, Ingested, LabelCounts, Pipeline};
use crate::sources::feed::{Feed, FeedLine, FeedReader};
use crate::store::postgres::writer::PgWriter;
use crate::store::sql::PgBlocking;
use crate::store::writer::{Writer, WriterHandle, WriterStats};

/// Rejected lines reported one by one; after that they are only counted.
const REJECTIONS_REPORTED: u64 = 50;

/// How fast virtual time runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// As fast as the machine allows.
    Max,
    /// This many times real time.
    Factor(f64),
}

/// The slowest and fastest paced replay: slower would wait for years
/// between two mentions, faster is `max`.
pub const MIN_SPEED: f64 = 0.01;
pub const MAX_SPEED: f64 = 1_000_000.0;

impl FromStr for Speed {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("max") {
            return Ok(Speed::Max);
        }
        match s.parse::<f64>() {
            Ok(f) if (MIN_SPEED..=MAX_SPEED).contains(&f) => Ok(Speed::Factor(f)),
            _ => Err(format!(
                "{s:?} is not a speed: use `max` or a number from {MIN_SPEED} to {MAX_SPEED} (times real time)"
            )),
        }
    }
}

#[derive(Clone)]
pub struct ReplayOptions {
    pub feeds: Vec<PathBuf>,
    pub db: PathBuf,
    pub speed: Speed,
    /// Draw a progress bar on standard error if it is a terminal and the
    /// replay takes more than a second.
    pub progress: bool,
    /// Added to every mention's time: `run --demo` moves the demo feed so
    /// that it ends now. Zero for a faithful replay.
    pub time_shift: chrono::Duration,
    /// The clock alert delivery runs on: real time even in a replay, since
    /// receivers answer (and ask to be retried) in real time.
    pub delivery_clock: std::sync::Arc<dyn crate::clock::Clock>,
}

/// What a replay did, printed at its end.
#[derive(Debug, Clone, Serialize)]
pub struct ReplaySummary {
    pub feeds: usize,
    /// Non-blank lines read.
    pub lines: u64,
    /// Rejected lines by reason.
    pub rejected: BTreeMap<&'static str, u64>,
    pub unmatched: u64,
    /// New mentions stored.
    pub stored: u64,
    /// Mentions already stored under the same (source, id): skipped.
    pub duplicates: u64,
    /// Of the duplicates, those with changed text or rating, stored as revisions.
    pub revised: u64,
    /// Matched mentions per brand by label.
    pub per_brand: BTreeMap<String, LabelCounts>,
    /// Incidents the detector opened and resolved during the replay.
    pub incidents_opened: u64,
    pub incidents_resolved: u64,
    /// Notifications delivered, and those still pending when replay ended.
    pub notifications_sent: u64,
    pub notifications_failed: u64,
    pub elapsed_seconds: f64,
    pub lines_per_second: f64,
}

impl ReplaySummary {
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }
}

/// Longest time replay waits at its end for notifications to be delivered;
/// what is still pending then stays in the outbox for the service.
const DELIVERY_WAIT: Duration = Duration::from_secs(30);

/// Replays `options.feeds` into the database, returning the summary.
pub fn replay(config: &Config, options: &ReplayOptions) -> anyhow::Result<ReplaySummary> {
    let feeds: Vec<Feed> = options.feeds.iter().map(|p| Feed::File(p)).collect();
    replay_feeds(config, options, &feeds)
}

/// Replays `feeds` (instead of `options.feeds`) into the database.
pub fn replay_feeds(config: &Config, options: &ReplayOptions, feeds: &[Feed]) -> anyhow::Result<ReplaySummary> {
    let started = Instant::now();
    let clock = Arc::new(VirtualClock::default());
    let (target, mut pipeline) = Target::open(config, &options.db, clock.clone())?;
    let progress = Progress::new(options, feeds);
    let mut counts = LineCounts::default();
    let mut pacer = Pacer::new(options.speed);
    let mut detection = Detection::start(config, options, &target)?;

    let fed = (|| -> anyhow::Result<()> {
        for feed in feeds {
            replay_feed(
                *feed,
                options.time_shift,
                &mut pipeline,
                &clock,
                &mut pacer,
                &mut counts,
                &progress,
                &mut detection,
            )?;
        }
        detection.finish(&mut pipeline, &clock)?;
        Ok(())
    })();
    progress.bar.finish_and_clear();
    let delivered = match &fed {
        Ok(()) => target.deliver(config, options),
        Err(_) => Ok(DeliveryStats::default()),
    };
    let alerts = detection.report;
    drop(detection);
    // Whatever stopped the feed loop, let the writer commit what it has and
    // report its own error if it is the one that failed.
    let ingest = pipeline.finish();
    let written = target.finish().context("storing mentions")?;
    fed?;
    let delivered = delivered?;
    let ingest: IngestStats = ingest?;

    let elapsed = started.elapsed().as_secs_f64();
    let mut rejected = counts.rejected;
    if ingest.unknown_brand > 0 {
        rejected.insert("unknown_brand", ingest.unknown_brand);
    }
    Ok(ReplaySummary {
        feeds: feeds.len(),
        lines: counts.lines,
        rejected,
        unmatched: ingest.unmatched,
        stored: written.stored,
        duplicates: written.duplicates,
        revised: written.revised,
        per_brand: ingest.per_brand,
        incidents_opened: alerts.opened,
        incidents_resolved: alerts.resolved,
        notifications_sent: delivered.sent,
        notifications_failed: delivered.gave_up,
        elapsed_seconds: elapsed,
        lines_per_second: if elapsed > 0.0 {
            counts.lines as f64 / elapsed
        } else {
            0.0
        },
    })
}

/// Where a replay stores what it makes of the feeds.
enum Target {
    Sqlite {
        db: PathBuf,
        writer: Writer,
        handle: WriterHandle,
    },
    /// Driven by a runtime of the replay's own, whose workers answer while
    /// the replay's thread waits.
    Postgres {
        pool: deadpool_postgres::Pool,
        writer: PgWriter,
        runtime: tokio::runtime::Runtime,
    },
}

impl Target {
    /// Opens `db` (a SQLite path or a `postgres://` URL) and the pipeline
    /// that stores into it.
    fn open(config: &Config, db: &Path, clock: Arc<VirtualClock>) -> anyhow::Result<(Target, Pipeline)> {
        use crate::store::postgres;
        let enricher = config.enricher()?;
        let batch_size = config.store.batch_size;
        let url = db.to_string_lossy();
        if !postgres::is_url(&url) {
            let (writer, handle) = Writer::start_with(db, &config.store, config.grouper())?;
            let pipeline = Pipeline::new(enricher, batch_size, handle.clone(), clock);
            let db = db.to_path_buf();
            return Ok((Target::Sqlite { db, writer, handle }, pipeline));
        }
        let shown = postgres::redacted(&url);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let pool = runtime
            .block_on(postgres::pool(&url, 4))
            .with_context(|| format!("cannot open the database {shown}"))?;
        let held = runtime.block_on(async {
            let client = pool.get().await?;
            postgres::lease::held(&client).await
        })?;
        if let Some(lease) = held.first() {
            anyhow::bail!(
                "{shown} is shared by running `run` processes ({} on {}, pid {}, holds {}): replay judges every \
                 brand itself, so it replays only into a database no `run` is using",
                lease.holder,
                lease.host,
                lease.pid,
                lease.name
            );
        }
        let (writer, handle) = PgWriter::start(
            pool.clone(),
            config.spam.clone(),
            runtime.handle(),
            config.store.queue_batches,
        );
        let pipeline = Pipeline::new(enricher, batch_size, handle, clock);
        Ok((Target::Postgres { pool, writer, runtime }, pipeline))
    }

    fn alert_service(&self, config: &Config) -> Result<AlertService, crate::store::StoreError> {
        let (brands, detect, alerts) = (&config.brands, &config.detect, &config.alerts);
        match self {
            Target::Sqlite { db, handle, .. } => AlertService::start(brands, detect, alerts, db, handle.clone()),
            Target::Postgres { pool, runtime, .. } => {
                let db = PgBlocking::new(pool.clone(), runtime.handle().clone());
                AlertService::on_postgres(brands, detect, alerts, db, None)
            }
        }
    }

    /// Delivers the notifications the replay queued (stdout, webhooks…).
    fn deliver(&self, config: &Config, options: &ReplayOptions) -> anyhow::Result<DeliveryStats> {
        if config.alerts.channels.is_empty() {
            return Ok(DeliveryStats::default());
        }
        let clock = options.delivery_clock.clone();
        let deadline = || tokio::time::Instant::now() + DELIVERY_WAIT;
        match self {
            Target::Sqlite { db, handle, .. } => {
                let dispatcher = Dispatcher::new(&config.alerts, db, handle.clone(), clock)?;
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                Ok(runtime.block_on(dispatcher.drain(deadline()))?)
            }
            Target::Postgres { pool, runtime, .. } => {
                let dispatcher = Dispatcher::on_postgres(&config.alerts, pool.clone(), clock)?;
                Ok(runtime.block_on(async { dispatcher.drain(deadline()).await })?)
            }
        }
    }

    /// Waits until everything sent is stored (the pipeline must be
    /// finished first) and returns what was.
    fn finish(self) -> Result<WriterStats, crate::store::StoreError> {
        match self {
            Target::Sqlite { writer, handle, .. } => {
                drop(handle);
                writer.finish()
            }
            Target::Postgres { writer, runtime, pool } => {
                let written = writer.finish(runtime.handle());
                drop(pool);
                written
            }
        }
    }
}

/// Spike detection driven by the replay's virtual clock. The detector may
/// only judge what is committed; at full speed it follows the writer's
/// progress without waiting for it (so ingestion stays pipelined) and ticks
/// once a virtual hour has been committed, judging every bucket closed since;
/// paced replays wait for the writer at every bucket. Decisions are stamped
/// with bucket times, so the cadence does not change what is recorded.
struct Detection {
    service: AlertService,
    bucket: chrono::Duration,
    grace: chrono::Duration,
    every_bucket: bool,
    judged_until: Option<DateTime<Utc>>,
    last_seen: Option<DateTime<Utc>>,
    report: TickReport,
}

impl Detection {
    fn start(config: &Config, options: &ReplayOptions, target: &Target) -> anyhow::Result<Self> {
        Ok(Detection {
            service: target.alert_service(config)?,
            bucket: config.detect.bucket.0,
            grace: config.detect.grace.0,
            every_bucket: options.speed != Speed::Max,
            judged_until: None,
            last_seen: None,
            report: TickReport::default(),
        })
    }

    fn closed_by(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let bucket_ms = self.bucket.num_milliseconds().max(1);
        let closed_ms = (now - self.grace).timestamp_millis().div_euclid(bucket_ms) * bucket_ms;
        DateTime::from_timestamp_millis(closed_ms).unwrap_or(now)
    }

    /// Called after each mention; `now` is the clock.
    fn after_mention(&mut self, pipeline: &mut Pipeline, now: DateTime<Utc>) -> anyhow::Result<()> {
        self.last_seen = Some(now);
        let Some(judged) = self.judged_until else {
            self.judged_until = Some(self.closed_by(now));
            return Ok(());
        };
        if self.every_bucket {
            if self.closed_by(now) > judged {
                pipeline.sync()?;
                self.tick(now)?;
            }
            return Ok(());
        }
        if let Some(committed) = pipeline.committed_until() {
            if self.closed_by(committed) >= judged + chrono::Duration::hours(1) {
                self.tick(committed)?;
            }
        }
        Ok(())
    }

    /// Judges everything: the replay's end closes the last bucket.
    fn finish(&mut self, pipeline: &mut Pipeline, clock: &VirtualClock) -> anyhow::Result<()> {
        if let Some(last) = self.last_seen {
            clock.advance_to(last + self.bucket + self.grace);
            pipeline.sync()?;
            self.tick(clock.now())?;
        }
        self.service.confirm()?;
        Ok(())
    }

    fn tick(&mut self, now: DateTime<Utc>) -> anyhow::Result<()> {
        self.judged_until = Some(self.closed_by(now));
        let r = self.service.tick(now)?;
        self.report.buckets += r.buckets;
        self.report.opened += r.opened;
        self.report.escalated += r.escalated;
        self.report.resolved += r.resolved;
        self.report.repeats += r.repeats;
        Ok(())
    }
}

#[derive(Default)]
struct LineCounts {
    lines: u64,
    rejected: BTreeMap<&'static str, u64>,
}

impl LineCounts {
    fn reject(&mut self, feed: Feed, line: u64, reason: &dyn fmt::Display, kind: &'static str) {
        let total: u64 = self.rejected.values().sum();
        if total < REJECTIONS_REPORTED {
            tracing::warn!("{}:{line}: rejected: {reason}", feed.name());
        } else if total == REJECTIONS_REPORTED {
            tracing::warn!("further rejected lines are counted but not reported one by one");
        }
        *self.rejected.entry(kind).or_default() += 1;
    }
}

#[allow(clippy::too_many_arguments)]
fn replay_feed(
    feed: Feed,
    time_shift: chrono::Duration,
    pipeline: &mut Pipeline,
    clock: &VirtualClock,
    pacer: &mut Pacer,
    counts: &mut LineCounts,
    progress: &Progress,
    detection: &mut Detection,
) -> anyhow::Result<()> {
    let mut lines = FeedReader::open(feed)?;
    loop {
        let read = lines
            .next_line()
            .with_context(|| format!("reading feed {}", feed.name()))?;
        let Some(FeedLine {
            line_no,
            bytes_consumed,
            parsed,
        }) = read
        else {
            break;
        };
        progress.advance(bytes_consumed);
        let Some(parsed) = parsed else { continue };
        counts.lines += 1;
        let shifted = parsed.and_then(|mut mention| {
            let t = mention
                .created_at
                .checked_add_signed(time_shift)
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            crate::mention::check_time(t, None).map_err(LineError::TimeOutOfRange)?;
            mention.created_at = t;
            Ok(mention)
        });
        let mention = match shifted {
            Ok(mention) => mention,
            Err(e) => {
                counts.reject(feed, line_no, &e, e.kind());
                continue;
            }
        };
        clock.advance_to(mention.created_at);
        detection.after_mention(pipeline, clock.now())?;
        if pacer.wait_for(mention.created_at) {
            pipeline.flush()?;
        }
        if let Ingested::UnknownBrand(name) = pipeline.ingest(mention)? {
            let total: u64 = counts.rejected.values().sum();
            if total < REJECTIONS_REPORTED {
                tracing::warn!("{}:{line_no}: rejected: brand {name:?} is not configured", feed.name());
            }
        }
    }
    Ok(())
}

/// Sleeps so that virtual time runs at the requested multiple of real time.
struct Pacer {
    speed: Speed,
    origin: Option<(DateTime<Utc>, Instant)>,
}

impl Pacer {
    fn new(speed: Speed) -> Self {
        Pacer { speed, origin: None }
    }

    /// Waits until the mention at `t` is due; returns whether it waited.
    fn wait_for(&mut self, t: DateTime<Utc>) -> bool {
        let Speed::Factor(factor) = self.speed else {
            return false;
        };
        let (start, real_start) = *self.origin.get_or_insert((t, Instant::now()));
        let virtual_elapsed = (t - start).to_std().unwrap_or_default();
        let due = real_start + virtual_elapsed.div_f64(factor);
        let now = Instant::now();
        if due > now + Duration::from_millis(1) {
            std::thread::sleep(due - now);
            true
        } else {
            false
        }
    }
}

struct Progress {
    bar: ProgressBar,
    started: Instant,
    wanted: bool,
}

impl Progress {
    fn new(options: &ReplayOptions, feeds: &[Feed]) -> Self {
        let total: u64 = feeds.iter().filter_map(Feed::size).sum();
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}") {
            bar.set_style(style);
        }
        Progress {
            bar,
            started: Instant::now(),
            wanted: options.progress && std::io::stderr().is_terminal(),
        }
    }

    fn advance(&self, bytes: usize) {
        self.bar.inc(bytes as u64);
        if self.wanted && self.bar.is_hidden() && self.started.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }
}

impl fmt::Display for ReplaySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "replayed {} feed{} in {:.2} s: {} lines ({:.0} lines/s)",
            self.feeds,
            if self.feeds == 1 { "" } else { "s" },
            self.elapsed_seconds,
            self.lines,
            self.lines_per_second
        )?;
        let reasons: Vec<String> = self.rejected.iter().map(|(k, v)| format!("{k} {v}")).collect();
        if reasons.is_empty() {
            writeln!(f, "  rejected     0")?;
        } else {
            writeln!(f, "  rejected     {} ({})", self.rejected_total(), reasons.join(", "))?;
        }
        writeln!(
            f,
            "  unmatched    {} (about no configured brand, not stored)",
            self.unmatched
        )?;
        writeln!(f, "  stored       {} new", self.stored)?;
        writeln!(f, "  duplicates   {} (already stored, skipped)", self.duplicates)?;
        if self.revised > 0 {
            writeln!(
                f,
                "  revised      {} (duplicates whose text or rating changed: kept as revisions)",
                self.revised
            )?;
        }
        writeln!(
            f,
            "  incidents    {} opened, {} resolved; notifications {} delivered, {} failed",
            self.incidents_opened, self.incidents_resolved, self.notifications_sent, self.notifications_failed
        )?;
        if !self.per_brand.is_empty() {
            let width = self
                .per_brand
                .keys()
                .map(|b| b.chars().count())
                .max()
                .unwrap_or(5)
                .max(5);
            writeln!(f, "matched mentions by brand and label:")?;
            writeln!(
                f,
                "  {:width$}  {:>8}  {:>8}  {:>8}  {:>8}",
                "brand", "negative", "neutral", "positive", "total"
            )?;
            for (brand, c) in &self.per_brand {
                writeln!(
                    f,
                    "  {brand:width$}  {:>8}  {:>8}  {:>8}  {:>8}",
                    c.negative,
                    c.neutral,
                    c.positive,
                    c.total()
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_parse() {
        assert_eq!("max".parse::<Speed>(), Ok(Speed::Max));
        assert_eq!("60".parse::<Speed>(), Ok(Speed::Factor(60.0)));
        assert!("0".parse::<Speed>().is_err());
        assert!("fast".parse::<Speed>().is_err());
    }
}
