//! The daily digest for managers: one calendar day in the configured time
//! zone, per brand, compared with the day before and the trailing 7-day
//! average. Computing ([`compute`]) is separate from rendering
//! ([`render`]: Markdown, HTML, JSON); `docs/digest.md` documents the JSON
//! shape, which is stable.

pub mod render;
pub mod schedule;
pub mod terms;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::brand::BrandConfig;
use crate::sql_params;
use crate::store::sql::Sql;
use crate::store::StoreError;

/// The `[digest]` config table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DigestConfig {
    /// IANA time zone whose calendar days the digest covers.
    pub tz: String,
    /// Local time of day after which yesterday's digest is sent (HH:MM).
    pub send_at: String,
    /// Write each digest here as HTML, Markdown and JSON files.
    pub directory: Option<std::path::PathBuf>,
    /// Email each digest through this `[[alerts.channels]]` email channel.
    pub email_channel: Option<String>,
    /// Post a short summary of each digest to this `[[alerts.channels]]` Slack channel.
    pub slack_channel: Option<String>,
    /// Days back a late sender catches up on (a service that was down).
    pub catch_up_days: u32,
}

impl Default for DigestConfig {
    fn default() -> Self {
        DigestConfig {
            tz: "UTC".into(),
            send_at: "08:00".into(),
            directory: None,
            email_channel: None,
            slack_channel: None,
            catch_up_days: 3,
        }
    }
}

impl DigestConfig {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.tz.parse::<Tz>().is_err() {
            problems.push((
                "tz",
                format!("{:?} is not an IANA time zone (e.g. Europe/London)", self.tz),
            ));
        }
        if self.send_time().is_none() {
            problems.push(("send_at", format!("{:?} is not a time of day (HH:MM)", self.send_at)));
        }
        problems
    }

    pub fn send_time(&self) -> Option<chrono::NaiveTime> {
        chrono::NaiveTime::parse_from_str(&self.send_at, "%H:%M").ok()
    }
}

/// How star ratings map to NPS classes, stated in every digest.
pub const RATING_MAPPING: &str = "5 stars promoter, 4 stars passive, 1-3 stars detractor";

/// Mentions a day, by label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Counts {
    pub total: f64,
    pub negative: f64,
    /// Neutral by the scorer only because it does not read the language
    /// (counted here, not in `neutral`).
    pub not_scored: f64,
    pub neutral: f64,
    pub positive: f64,
}

impl Counts {
    fn scaled(self, k: f64) -> Counts {
        Counts {
            total: self.total * k,
            negative: self.negative * k,
            neutral: self.neutral * k,
            not_scored: self.not_scored * k,
            positive: self.positive * k,
        }
    }

    fn add(&mut self, o: Counts) {
        self.total += o.total;
        self.negative += o.negative;
        self.neutral += o.neutral;
        self.not_scored += o.not_scored;
        self.positive += o.positive;
    }

    /// (positive − negative) / (positive + negative) × 100.
    pub fn net_sentiment(&self) -> Option<f64> {
        let decided = self.positive + self.negative;
        (decided > 0.0).then(|| (self.positive - self.negative) / decided * 100.0)
    }

    pub fn share(&self, part: f64) -> Option<f64> {
        (self.total > 0.0).then(|| part / self.total * 100.0)
    }
}

/// Star ratings of the day's reviews.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Ratings {
    pub count: f64,
    pub sum: f64,
    pub promoters: f64,
    pub passives: f64,
    pub detractors: f64,
}

impl Ratings {
    fn add_stars(&mut self, stars: i64, n: f64) {
        self.count += n;
        self.sum += stars as f64 * n;
        match stars {
            5 => self.promoters += n,
            4 => self.passives += n,
            _ => self.detractors += n,
        }
    }

    fn add(&mut self, o: Ratings) {
        self.count += o.count;
        self.sum += o.sum;
        self.promoters += o.promoters;
        self.passives += o.passives;
        self.detractors += o.detractors;
    }

    fn scaled(self, k: f64) -> Ratings {
        Ratings {
            count: self.count * k,
            sum: self.sum * k,
            promoters: self.promoters * k,
            passives: self.passives * k,
            detractors: self.detractors * k,
        }
    }

    pub fn average(&self) -> Option<f64> {
        (self.count > 0.0).then(|| self.sum / self.count)
    }

    /// % promoters − % detractors, from −100 to 100.
    pub fn nps(&self) -> Option<f64> {
        (self.count > 0.0).then(|| (self.promoters - self.detractors) / self.count * 100.0)
    }
}

/// One day's figures for a brand (or a 7-day average of them).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DayFigures {
    pub counts: Counts,
    pub net_sentiment: Option<f64>,
    pub ratings: Ratings,
    pub average_rating: Option<f64>,
    pub nps: Option<f64>,
    /// Estimated reach of the negative mentions.
    pub negative_reach: f64,
    /// All and negative mentions per source.
    pub sources: BTreeMap<String, (f64, f64)>,
}

impl DayFigures {
    fn finish(mut self) -> Self {
        self.net_sentiment = self.counts.net_sentiment();
        self.average_rating = self.ratings.average();
        self.nps = self.ratings.nps();
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hour {
    /// Local start of the hour, RFC 3339 with offset.
    pub start: String,
    pub all: u64,
    pub negative: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentLine {
    pub id: i64,
    pub started_at: String,
    pub resolved_at: Option<String>,
    pub state: String,
    pub severity: String,
    pub observed: u64,
    pub expected: f64,
    pub reach: u64,
    pub acknowledged_by: Option<String>,
    pub minutes_to_acknowledge: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NegativeMention {
    pub source: String,
    pub author: Option<String>,
    pub audience: Option<u64>,
    pub created_at: String,
    pub text: String,
    pub url: Option<String>,
    pub reach: u64,
    /// Its state in the response inbox when the digest was made: new,
    /// assigned, responded or ignored.
    pub state: String,
}

/// Whether the team closed the loop on the day's negative mentions (their
/// inbox states when the digest was made).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Responses {
    pub negative: u64,
    pub responded: u64,
    pub assigned: u64,
    pub ignored: u64,
    /// Not touched yet.
    pub new: u64,
    /// Responded or ignored, as a share of the negative mentions.
    pub handled_share: Option<f64>,
    /// Median minutes from a mention to its (not undone) response.
    pub median_minutes_to_respond: Option<f64>,
    /// 90th percentile of the same.
    pub p90_minutes_to_respond: Option<f64>,
    /// Answered within `[inbox] response_target`, as a share of the day's
    /// negative mentions old enough to have been.
    pub answered_within_target_share: Option<f64>,
    /// Per person who answered: median and 90th percentile, within target.
    pub by_agent: Vec<crate::inbox::ResponseTimes>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Term {
    pub term: String,
    pub count: u64,
    pub average_7d: f64,
}

/// A source that usually brings this brand's mentions but brought none:
/// a gap in the data, not a quiet day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceGap {
    pub source: String,
    pub usual_per_day: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BrandDigest {
    pub brand: String,
    pub day: DayFigures,
    pub previous_day: DayFigures,
    pub average_7d: DayFigures,
    pub hourly: Vec<Hour>,
    pub incidents: Vec<IncidentLine>,
    pub top_negative: Vec<NegativeMention>,
    pub responses: Responses,
    /// Most frequent words and two-word phrases in the day's negative mentions.
    pub complaints: Vec<Term>,
    pub gaps: Vec<SourceGap>,
    /// The detractors answered in the follow-up window up to the day's
    /// end, and how many were won back by then.
    pub closed_loop: crate::closed_loop::Summary,
    /// The day's mentions in campaigns and bursts, and blocked ones: stored
    /// and in the counts above, but weighed less or not at all by detection.
    pub spam: SpamFigures,
}

/// A day's campaigns, bursts and blocked mentions of one brand.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SpamFigures {
    pub campaigns: u64,
    pub campaign_mentions: u64,
    pub bursts: u64,
    pub burst_mentions: u64,
    pub blocked_mentions: u64,
}

fn spam_figures(
    db: &dyn Sql,
    brand: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<SpamFigures, StoreError> {
    let range = sql_params![brand, start.timestamp_millis(), end.timestamp_millis()];
    let mut figures = SpamFigures::default();
    let kinds = db.rows(
        "SELECT g.kind, count(DISTINCT g.id), count(*) FROM mention_brands b JOIN spam_groups g ON g.id = b.group_id \
         WHERE b.brand = ?1 AND b.created_at >= ?2 AND b.created_at < ?3 GROUP BY g.kind",
        &range,
        |r| Ok((r.required_text(0)?, r.required_int(1)?, r.required_int(2)?)),
    )?;
    for (kind, groups, mentions) in kinds {
        let (groups, mentions) = (groups.max(0) as u64, mentions.max(0) as u64);
        match crate::spam::Kind::parse(&kind) {
            Some(crate::spam::Kind::Campaign) => (figures.campaigns, figures.campaign_mentions) = (groups, mentions),
            Some(crate::spam::Kind::Burst) => (figures.bursts, figures.burst_mentions) = (groups, mentions),
            None => return Err(StoreError::Corrupt(format!("group kind {kind:?}"))),
        }
    }
    let blocked = db.int(
        "SELECT count(*) FROM mention_brands WHERE brand = ?1 AND created_at >= ?2 AND created_at < ?3 \
         AND blocked IS NOT NULL",
        &range,
    )?;
    figures.blocked_mentions = blocked.unwrap_or(0).max(0) as u64;
    Ok(figures)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Digest {
    /// The calendar day, in `time_zone`.
    pub date: NaiveDate,
    pub time_zone: String,
    /// 24, or 23 / 25 on a daylight-saving change.
    pub hours: usize,
    pub from: String,
    pub until: String,
    pub rating_mapping: &'static str,
    pub brands: Vec<BrandDigest>,
}

#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("{0:?} is not an IANA time zone (e.g. Europe/London)")]
    TimeZone(String),
    #[error("{0} does not exist in {1}")]
    NoSuchDay(NaiveDate, String),
    #[error("no brand named {0:?} in the config")]
    UnknownBrand(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Channel(#[from] crate::alert::channels::ChannelError),
}

impl From<rusqlite::Error> for DigestError {
    fn from(e: rusqlite::Error) -> Self {
        DigestError::Store(StoreError::Sql(e))
    }
}

/// The UTC instants where local day `date` starts and ends in `tz`.
pub fn day_bounds(date: NaiveDate, tz: Tz) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let start_of = |d: NaiveDate| {
        // Midnight may not exist (a DST jump at 00:00): take the first instant of the day.
        (0..24).find_map(|h| tz.from_local_datetime(&d.and_hms_opt(h, 0, 0)?).earliest())
    };
    let start = start_of(date)?.with_timezone(&Utc);
    let end = start_of(date.succ_opt()?)?.with_timezone(&Utc);
    Some((start, end))
}

/// Yesterday in `tz`, seen from `now`.
pub fn yesterday(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    let today = now.with_timezone(&tz).date_naive();
    today.pred_opt().unwrap_or(today)
}

/// Computes the digest of `date` (in `tz_name`) for every configured brand,
/// or only `brand`.
pub fn compute(
    db: &dyn Sql,
    brands: &[BrandConfig],
    inbox: &crate::inbox::InboxConfig,
    brand: Option<&str>,
    date: NaiveDate,
    tz_name: &str,
) -> Result<Digest, DigestError> {
    let tz: Tz = tz_name
        .parse()
        .map_err(|_| DigestError::TimeZone(tz_name.to_string()))?;
    let (start, end) = day_bounds(date, tz).ok_or_else(|| DigestError::NoSuchDay(date, tz_name.to_string()))?;
    let brands: Vec<&BrandConfig> = match brand {
        Some(name) => vec![brands
            .iter()
            .find(|b| b.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| DigestError::UnknownBrand(name.to_string()))?],
        None => brands.iter().collect(),
    };
    let mut out = Vec::new();
    for b in brands {
        out.push(brand_digest(db, b, inbox, date, tz)?);
    }
    Ok(Digest {
        date,
        time_zone: tz_name.to_string(),
        hours: ((end - start).num_minutes() / 60) as usize,
        from: start.with_timezone(&tz).to_rfc3339(),
        until: end.with_timezone(&tz).to_rfc3339(),
        rating_mapping: RATING_MAPPING,
        brands: out,
    })
}

fn brand_digest(
    db: &dyn Sql,
    brand: &BrandConfig,
    inbox: &crate::inbox::InboxConfig,
    date: NaiveDate,
    tz: Tz,
) -> Result<BrandDigest, DigestError> {
    let bounds = |d: NaiveDate| day_bounds(d, tz).ok_or_else(|| DigestError::NoSuchDay(d, tz.name().to_string()));
    let (start, end) = bounds(date)?;
    let day = day_figures(db, &brand.name, start, end)?;
    let previous = date
        .pred_opt()
        .ok_or_else(|| DigestError::NoSuchDay(date, tz.name().into()))?;
    let (p_start, p_end) = bounds(previous)?;
    let previous_day = day_figures(db, &brand.name, p_start, p_end)?;
    let mut week = DayFigures::default();
    let mut d = date;
    for _ in 0..7 {
        d = d
            .pred_opt()
            .ok_or_else(|| DigestError::NoSuchDay(d, tz.name().into()))?;
        let (s, e) = bounds(d)?;
        let f = day_figures(db, &brand.name, s, e)?;
        week.counts.add(f.counts);
        week.ratings.add(f.ratings);
        week.negative_reach += f.negative_reach;
        for (source, (all, neg)) in f.sources {
            let entry = week.sources.entry(source).or_default();
            entry.0 += all;
            entry.1 += neg;
        }
    }
    let average_7d = DayFigures {
        counts: week.counts.scaled(1.0 / 7.0),
        ratings: week.ratings.scaled(1.0 / 7.0),
        negative_reach: week.negative_reach / 7.0,
        sources: week
            .sources
            .into_iter()
            .map(|(s, (a, n))| (s, (a / 7.0, n / 7.0)))
            .collect(),
        ..DayFigures::default()
    }
    .finish();
    let gaps = average_7d
        .sources
        .iter()
        .filter(|(source, (usual, _))| *usual >= 5.0 && !day.sources.contains_key(*source))
        .map(|(source, (usual, _))| SourceGap {
            source: source.clone(),
            usual_per_day: (usual * 10.0).round() / 10.0,
        })
        .collect();
    let week_start = bounds(date - Duration::days(7))?.0;
    Ok(BrandDigest {
        brand: brand.name.clone(),
        hourly: hourly(db, &brand.name, start, end, tz)?,
        incidents: incidents(db, &brand.name, start, end, tz)?,
        top_negative: top_negative(db, &brand.name, start, end, tz)?,
        responses: responses(db, &brand.name, start, end, inbox.response_target.0)?,
        closed_loop: crate::closed_loop::summary(
            db,
            &brand.name,
            crate::closed_loop::Period {
                since: end - inbox.follow_up.0,
                until: end,
                follow_up: inbox.follow_up.0,
                now: end,
            },
        )?,
        complaints: terms::complaints(db, brand, week_start, start, end)?,
        spam: spam_figures(db, &brand.name, start, end)?,
        gaps,
        day,
        previous_day,
        average_7d,
    })
}

/// Counts, ratings, reach and sources of a brand's day.
pub(crate) const DAY_FIGURES_SQL: &str = "SELECT m.source, m.rating, f.label, count(*), \
         CAST(coalesce(sum(f.reach), 0) AS BIGINT), CASE WHEN f.label = 'neutral' AND m.not_scored <> 0 THEN 1 ELSE 0 END \
         FROM mention_brands f JOIN mentions m ON m.id = f.mention_id \
         WHERE f.brand = ?1 AND f.created_at >= ?2 AND f.created_at < ?3 \
         GROUP BY m.source, m.rating, f.label, 6";

/// Every mention time of a brand's day, from the index alone.
pub(crate) const HOURLY_SQL: &str =
    "SELECT created_at, CASE WHEN label = 'negative' THEN 1 ELSE 0 END FROM mention_brands \
         WHERE brand = ?1 AND created_at >= ?2 AND created_at < ?3";

/// The negative mentions with the largest reach of a brand's day.
pub(crate) const TOP_NEGATIVE_SQL: &str =
    "SELECT m.source, m.author, m.followers, m.created_at, m.text, m.url, f.reach, \
         coalesce((SELECT s.state FROM mention_states s WHERE s.mention_id = m.id), 'new') \
         FROM mention_brands f JOIN mentions m ON m.id = f.mention_id \
         WHERE f.brand = ?1 AND f.label = 'negative' AND f.created_at >= ?2 AND f.created_at < ?3 \
         ORDER BY f.reach DESC, f.created_at, f.mention_id LIMIT 10";

fn day_figures(db: &dyn Sql, brand: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<DayFigures, DigestError> {
    let mut f = DayFigures::default();
    db.for_each(
        DAY_FIGURES_SQL,
        &sql_params![brand, start.timestamp_millis(), end.timestamp_millis()],
        &mut |row| {
            let source = row.required_text(0)?;
            let rating = row.int(1)?;
            let label = row.required_text(2)?;
            let n = row.required_int(3)? as f64;
            let reach = row.required_int(4)? as f64;
            let not_scored = row.required_int(5)? != 0;
            f.counts.total += n;
            let negative = label == "negative";
            match label.as_str() {
                "negative" => {
                    f.counts.negative += n;
                    f.negative_reach += reach;
                }
                "positive" => f.counts.positive += n,
                _ if not_scored => f.counts.not_scored += n,
                _ => f.counts.neutral += n,
            }
            if let Some(stars) = rating {
                f.ratings.add_stars(stars, n);
            }
            let entry = f.sources.entry(source).or_default();
            entry.0 += n;
            if negative {
                entry.1 += n;
            }
            Ok(())
        },
    )?;
    Ok(f.finish())
}

/// All and negative mentions per local hour; a DST day has 23 or 25.
fn hourly(
    db: &dyn Sql,
    brand: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    tz: Tz,
) -> Result<Vec<Hour>, DigestError> {
    let hours = ((end - start).num_minutes() / 60).max(0) as usize;
    let mut all = vec![0u64; hours];
    let mut negative = vec![0u64; hours];
    db.for_each(
        HOURLY_SQL,
        &sql_params![brand, start.timestamp_millis(), end.timestamp_millis()],
        &mut |row| {
            let at = row.required_int(0)?;
            let index = ((at - start.timestamp_millis()) / 3_600_000) as usize;
            if index < hours {
                all[index] += 1;
                if row.required_int(1)? != 0 {
                    negative[index] += 1;
                }
            }
            Ok(())
        },
    )?;
    Ok((0..hours)
        .map(|i| Hour {
            start: (start + Duration::hours(i as i64)).with_timezone(&tz).to_rfc3339(),
            all: all[i],
            negative: negative[i],
        })
        .collect())
}

fn incidents(
    db: &dyn Sql,
    brand: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    tz: Tz,
) -> Result<Vec<IncidentLine>, DigestError> {
    let local = |ms: i64| DateTime::from_timestamp_millis(ms).map(|t| t.with_timezone(&tz).to_rfc3339());
    Ok(db.rows(
        "SELECT id, started_at, resolved_at, state, severity, observed, expected, reach, acknowledged_by, \
         acknowledged_at FROM incidents WHERE brand = ?1 AND started_at < ?3 \
         AND (resolved_at IS NULL OR resolved_at >= ?2) ORDER BY started_at, id",
        &sql_params![brand, start.timestamp_millis(), end.timestamp_millis()],
        |r| {
            let started = r.required_int(1)?;
            let acked = r.int(9)?;
            Ok(IncidentLine {
                id: r.required_int(0)?,
                started_at: local(started).unwrap_or_default(),
                resolved_at: r.int(2)?.and_then(local),
                state: r.required_text(3)?,
                severity: r.required_text(4)?,
                observed: r.required_int(5)?.max(0) as u64,
                expected: (r.required_real(6)? * 10.0).round() / 10.0,
                reach: r.required_int(7)?.max(0) as u64,
                acknowledged_by: r.text(8)?,
                minutes_to_acknowledge: acked.map(|a| (a - started) / 60_000),
            })
        },
    )?)
}

fn top_negative(
    db: &dyn Sql,
    brand: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    tz: Tz,
) -> Result<Vec<NegativeMention>, DigestError> {
    Ok(db.rows(
        TOP_NEGATIVE_SQL,
        &sql_params![brand, start.timestamp_millis(), end.timestamp_millis()],
        |r| {
            let text = r.required_text(4)?;
            Ok(NegativeMention {
                source: r.required_text(0)?,
                author: r.text(1)?,
                audience: r.int(2)?.map(|v| v.max(0) as u64),
                created_at: DateTime::from_timestamp_millis(r.required_int(3)?)
                    .map(|t| t.with_timezone(&tz).to_rfc3339())
                    .unwrap_or_default(),
                text: crate::mention::snippet(&text, 200),
                url: r.text(5)?,
                reach: r.required_int(6)?.max(0) as u64,
                state: r.required_text(7)?,
            })
        },
    )?)
}

fn responses(
    db: &dyn Sql,
    brand: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    target: chrono::Duration,
) -> Result<Responses, DigestError> {
    let range = sql_params![brand, start.timestamp_millis(), end.timestamp_millis()];
    let mut out = Responses::default();
    let states = db.rows(
        "SELECT coalesce(s.state, 'new'), count(*) FROM mention_brands f \
         LEFT JOIN mention_states s ON s.mention_id = f.mention_id \
         WHERE f.brand = ?1 AND f.label = 'negative' AND f.created_at >= ?2 AND f.created_at < ?3 GROUP BY 1",
        &range,
        |r| Ok((r.required_text(0)?, r.required_int(1)?)),
    )?;
    for (state, n) in states {
        let n = n.max(0) as u64;
        out.negative += n;
        match state.as_str() {
            "responded" => out.responded += n,
            "assigned" => out.assigned += n,
            "ignored" => out.ignored += n,
            _ => out.new += n,
        }
    }
    out.handled_share = (out.negative > 0).then(|| (out.responded + out.ignored) as f64 / out.negative as f64);
    let mut delays: Vec<f64> = db
        .rows(
            "SELECT (SELECT min(a.at) FROM mention_actions a WHERE a.mention_id = f.mention_id \
                     AND a.action = 'respond' AND a.undone_at IS NULL) - f.created_at \
             FROM mention_brands f JOIN mention_states s ON s.mention_id = f.mention_id \
             WHERE f.brand = ?1 AND f.label = 'negative' AND f.created_at >= ?2 AND f.created_at < ?3 \
               AND s.state = 'responded'",
            &range,
            |r| r.int(0),
        )?
        .into_iter()
        .flatten()
        .map(|ms| ms.max(0) as f64 / 60_000.0)
        .collect();
    delays.sort_by(f64::total_cmp);
    out.median_minutes_to_respond = match delays.len() {
        0 => None,
        n if n % 2 == 1 => Some(delays[n / 2]),
        n => Some((delays[n / 2 - 1] + delays[n / 2]) / 2.0),
    };
    // As of the day's end, so that a day's digest always says the same.
    let (by_brand, by_agent) = crate::inbox::response_times(db, &[brand.to_string()], start, end, target, end)?;
    if let Some(times) = by_brand.into_iter().next() {
        out.p90_minutes_to_respond = times.p90_minutes;
        out.answered_within_target_share = times.within_target_share;
    }
    out.by_agent = by_agent;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every digest query reads a brand's day through an index, never a
    /// scan of all mentions: that is what keeps a digest fast on a year of data.
    #[test]
    fn digest_queries_use_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(&dir.path().join("plan.db")).unwrap();
        for sql in [DAY_FIGURES_SQL, HOURLY_SQL, TOP_NEGATIVE_SQL, terms::NEGATIVE_TEXTS_SQL] {
            let plan: Vec<String> = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map(rusqlite::params!["Acme Air", 0, 1], |r| r.get::<_, String>(3))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let plan = plan.join("\n");
            assert!(
                plan.contains("SEARCH f USING") || plan.contains("SEARCH mention_brands USING"),
                "{sql}\n{plan}"
            );
            assert!(
                !plan.contains("SCAN m") && !plan.contains("SCAN f") && !plan.contains("SCAN mention"),
                "{sql}\n{plan}"
            );
        }
    }
}
