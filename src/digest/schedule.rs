//! Sending digests on schedule: after `send_at` local time, the digest of the
//! day just ended goes to each configured target (a directory of files, an
//! email channel) exactly once per brand, day and target, recorded in
//! `digest_deliveries`. A sender that was not running at digest time (the
//! service was down) catches up on the last `catch_up_days` days when it
//! runs again. Safe to run as often as you like: from the service, or cron.
//! On a shared PostgreSQL database each process sends the digests of the
//! brands it judges; a brand handed over between sending and recording may
//! be sent twice (an email keeps its idempotency key).

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::{compute, render, DigestConfig, DigestError};
use crate::alert::channels::email::Email;
use crate::alert::channels::slack::Slack;
use crate::alert::channels::{ChannelConfig, ChannelKind, SendError};
use crate::brand::BrandConfig;
use crate::sql_params;
use crate::store::sql::{PgBlocking, Sql};
use crate::store::{self, StoreError};

/// One digest delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub brand: String,
    pub date: NaiveDate,
    pub target: String,
}

/// The days whose digest is due at `now`: the most recent one once its
/// `send_at` has passed, and the `catch_up_days − 1` before it, but none
/// before the first stored mention.
pub fn due_days(d: &DigestConfig, db: &dyn Sql, now: DateTime<Utc>) -> Result<Vec<NaiveDate>, DigestError> {
    let tz: Tz = d.tz.parse().map_err(|_| DigestError::TimeZone(d.tz.clone()))?;
    let send_at = d
        .send_time()
        .ok_or_else(|| DigestError::Store(StoreError::Invalid(format!("digest.send_at {:?}", d.send_at))))?;
    let local = now.with_timezone(&tz);
    let today = local.date_naive();
    let latest = if local.time() >= send_at {
        today.pred_opt()
    } else {
        today.pred_opt().and_then(|d| d.pred_opt())
    };
    let first = db.int("SELECT min(created_at) FROM mention_brands", &[])?;
    let Some(first_day) = first
        .and_then(DateTime::from_timestamp_millis)
        .map(|t| t.with_timezone(&tz).date_naive())
    else {
        return Ok(Vec::new());
    };
    let mut days = Vec::new();
    let mut day = latest;
    for _ in 0..d.catch_up_days.max(1) {
        match day {
            Some(dd) if dd >= first_day => {
                days.push(dd);
                day = dd.pred_opt();
            }
            _ => break,
        }
    }
    days.reverse();
    Ok(days)
}

/// Where a digest goes.
enum Target {
    Directory(std::path::PathBuf),
    Email(String, Box<Email>),
    Slack(String, Slack),
}

impl Target {
    fn name(&self) -> &str {
        match self {
            Target::Directory(_) => "directory",
            Target::Email(name, _) | Target::Slack(name, _) => name,
        }
    }

    async fn deliver(
        &self,
        brand: &str,
        date: NaiveDate,
        digest: &super::Digest,
        now: DateTime<Utc>,
    ) -> Result<(), DigestError> {
        let failed = |what: &str, e: SendError| DigestError::Store(StoreError::Invalid(format!("{what}: {e}")));
        match self {
            Target::Directory(dir) => write_files(dir, brand, date, digest),
            Target::Email(_, email) => {
                let key = format!("digest-{}-{date}", slug(brand));
                let subject = format!("{brand}: mention digest for {date}");
                email
                    .send_html(&subject, &key, render::markdown(digest), render::html(digest))
                    .await
                    .map_err(|e| failed("emailing the digest", e))
            }
            Target::Slack(_, slack) => slack
                .send_text(&summary(digest), now)
                .await
                .map_err(|e| failed("posting the digest", e)),
        }
    }
}

fn invalid(message: String) -> DigestError {
    DigestError::Store(StoreError::Invalid(message))
}

/// The targets `[digest]` names, checked against `[[alerts.channels]]`.
fn targets(d: &DigestConfig, channels: &[ChannelConfig]) -> Result<Vec<Target>, DigestError> {
    let channel = |name: &str, kind: ChannelKind| {
        channels
            .iter()
            .find(|c| c.name == name && c.kind == kind)
            .ok_or_else(|| {
                invalid(format!(
                    "digest: {name:?} names no {kind:?} channel in [[alerts.channels]]"
                ))
            })
    };
    let mut targets = Vec::new();
    if let Some(dir) = &d.directory {
        targets.push(Target::Directory(dir.clone()));
    }
    if let Some(name) = &d.email_channel {
        let c = channel(name, ChannelKind::Email)?;
        let email = Email::new(c, c.timeout.0.to_std().unwrap_or_default())?;
        targets.push(Target::Email(name.clone(), Box::new(email)));
    }
    if let Some(name) = &d.slack_channel {
        let c = channel(name, ChannelKind::Slack)?;
        let url = c.url.as_ref().map(|u| u.expose().to_string()).unwrap_or_default();
        let http = crate::http::client().map_err(crate::alert::channels::ChannelError::from)?;
        targets.push(Target::Slack(
            name.clone(),
            Slack::new(http, url, c.timeout.0.to_std().unwrap_or_default()),
        ));
    }
    Ok(targets)
}

/// The database digests are read from and recorded in.
#[derive(Clone)]
pub enum DigestDb {
    Sqlite(PathBuf),
    Postgres(PgBlocking),
}

impl From<&Path> for DigestDb {
    fn from(path: &Path) -> Self {
        DigestDb::Sqlite(path.to_path_buf())
    }
}

impl From<&PathBuf> for DigestDb {
    fn from(path: &PathBuf) -> Self {
        DigestDb::Sqlite(path.clone())
    }
}

impl DigestDb {
    /// Runs `job` on a blocking thread (reading a day of mentions takes a
    /// while, and PostgreSQL is driven from there).
    async fn read<T: Send + 'static>(
        &self,
        job: impl FnOnce(&dyn Sql) -> Result<T, DigestError> + Send + 'static,
    ) -> Result<T, DigestError> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || match &db {
            DigestDb::Sqlite(path) => job(&store::open(path)?),
            DigestDb::Postgres(pg) => job(pg),
        })
        .await
        .map_err(|e| invalid(format!("the digest task failed: {e}")))?
    }
}

/// Sends every due digest of `brands` not sent yet; returns what it sent.
pub async fn send_due(
    brands: &[BrandConfig],
    inbox: &crate::inbox::InboxConfig,
    digest_config: &DigestConfig,
    channels: &[ChannelConfig],
    db: impl Into<DigestDb>,
    now: DateTime<Utc>,
) -> Result<Vec<Sent>, DigestError> {
    let db = db.into();
    let targets = targets(digest_config, channels)?;
    let mut sent = Vec::new();
    let due = {
        let d = digest_config.clone();
        db.read(move |db| due_days(&d, db, now)).await?
    };
    for date in due {
        for brand in brands {
            let names: Vec<String> = targets.iter().map(|t| t.name().to_string()).collect();
            let pending = {
                let name = brand.name.clone();
                db.read(move |db| {
                    let mut pending = Vec::new();
                    for target in names {
                        if !delivered(db, &name, date, &target)? {
                            pending.push(target);
                        }
                    }
                    Ok(pending)
                })
                .await?
            };
            if pending.is_empty() {
                continue;
            }
            let digest = {
                let (brand, inbox, tz) = (brand.clone(), inbox.clone(), digest_config.tz.clone());
                db.read(move |db| compute(db, std::slice::from_ref(&brand), &inbox, Some(&brand.name), date, &tz))
                    .await?
            };
            for target in targets.iter().filter(|t| pending.iter().any(|p| p == t.name())) {
                target.deliver(&brand.name, date, &digest, now).await?;
                let (name, target_name) = (brand.name.clone(), target.name().to_string());
                db.read(move |db| record(db, &name, date, &target_name, now)).await?;
                sent.push(Sent {
                    brand: brand.name.clone(),
                    date,
                    target: target.name().to_string(),
                });
            }
        }
    }
    Ok(sent)
}

/// A few lines for chat: the headline numbers of each brand.
pub fn summary(digest: &super::Digest) -> String {
    let mut lines = Vec::new();
    for b in &digest.brands {
        let c = b.day.counts;
        let usual = b.average_7d.counts.total;
        let change = if usual > 0.0 {
            format!(" ({:+.0}% vs the 7-day average)", (c.total - usual) / usual * 100.0)
        } else {
            String::new()
        };
        let words: Vec<&str> = b.complaints.iter().take(3).map(|t| t.term.as_str()).collect();
        lines.push(format!(
            "{} on {}: {} mentions{change}, {} negative ({}), net sentiment {}, NPS {}{}, {} spike incident{}{}",
            b.brand,
            digest.date,
            c.total,
            c.negative,
            c.share(c.negative).map_or("–".into(), |s| format!("{s:.0}%")),
            b.day.net_sentiment.map_or("–".into(), |v| format!("{v:.0}")),
            b.day.nps.map_or("–".into(), |v| format!("{v:.0}")),
            if b.day.ratings.count > 0.0 {
                format!(" from {} reviews", b.day.ratings.count)
            } else {
                String::new()
            },
            b.incidents.len(),
            if b.incidents.len() == 1 { "" } else { "s" },
            if words.is_empty() {
                String::new()
            } else {
                format!("; complaints: {}", words.join(", "))
            },
        ));
        let answered = &b.closed_loop.total;
        if answered.responded > 0 {
            lines.push(format!(
                "  won back: {} of {} detractors answered in the last {} days ({} lost, {} waiting){}",
                answered.recovered,
                answered.responded,
                b.closed_loop.follow_up_days,
                answered.lost,
                answered.waiting,
                answered
                    .recovery_rate
                    .map_or(String::new(), |r| format!(", recovery rate {:.0}%", r * 100.0))
            ));
        }
        if !b.gaps.is_empty() {
            let gaps: Vec<&str> = b.gaps.iter().map(|g| g.source.as_str()).collect();
            lines.push(format!("  no data from {}: a gap, not a quiet day", gaps.join(", ")));
        }
    }
    lines.join("\n")
}

fn delivered(db: &dyn Sql, brand: &str, date: NaiveDate, target: &str) -> Result<bool, DigestError> {
    Ok(db
        .int(
            "SELECT 1 FROM digest_deliveries WHERE brand = ?1 AND date = ?2 AND target = ?3",
            &sql_params![brand, date.to_string(), target],
        )?
        .is_some())
}

fn record(db: &dyn Sql, brand: &str, date: NaiveDate, target: &str, now: DateTime<Utc>) -> Result<(), DigestError> {
    db.execute(
        "INSERT INTO digest_deliveries (brand, date, target, sent_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
        &sql_params![brand, date.to_string(), target, now.timestamp_millis()],
    )?;
    Ok(())
}

/// A file-name-safe form of a brand name.
fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Writes `<slug>-<date>.{html,md,json}`, each through a temporary file and a
/// rename, so a reader never sees half a digest.
fn write_files(dir: &Path, brand: &str, date: NaiveDate, digest: &super::Digest) -> Result<(), DigestError> {
    let io = |e: std::io::Error| DigestError::Store(StoreError::Invalid(format!("writing to {}: {e}", dir.display())));
    std::fs::create_dir_all(dir).map_err(io)?;
    for (ext, text) in [
        ("html", render::html(digest)),
        ("md", render::markdown(digest)),
        ("json", render::json(digest)),
    ] {
        let path = dir.join(format!("{}-{date}.{ext}", slug(brand)));
        let tmp = path.with_extension(format!("{ext}.tmp"));
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
    }
    Ok(())
}
