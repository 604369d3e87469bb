//! Sending digests on schedule: after `send_at` local time, the digest of the
//! day just ended goes to each configured target (a directory of files, an
//! email channel) exactly once per brand, day and target, recorded in
//! `digest_deliveries`. A sender that was not running at digest time (the
//! service was down) catches up on the last `catch_up_days` days when it
//! runs again. Safe to run as often as you like: from the service, or cron.

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rusqlite::{params, Connection, OptionalExtension};

use super::{compute, render, DigestError};
use crate::alert::channels::email::Email;
use crate::alert::channels::ChannelKind;
use crate::config::Config;
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
pub fn due_days(config: &Config, conn: &Connection, now: DateTime<Utc>) -> Result<Vec<NaiveDate>, DigestError> {
    let d = &config.digest;
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
    let first: Option<i64> = conn.query_row("SELECT min(created_at) FROM mention_brands", [], |r| r.get(0))?;
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

/// Sends every due digest not sent yet; returns what it sent.
pub async fn send_due(config: &Config, db: &Path, now: DateTime<Utc>) -> Result<Vec<Sent>, DigestError> {
    let d = &config.digest;
    let email = match &d.email_channel {
        Some(name) => {
            let channel = config
                .alerts
                .channels
                .iter()
                .find(|c| &c.name == name && c.kind == ChannelKind::Email)
                .ok_or_else(|| {
                    DigestError::Store(StoreError::Invalid(format!(
                        "digest.email_channel {name:?} names no email channel in [[alerts.channels]]"
                    )))
                })?;
            let timeout = channel.timeout.0.to_std().unwrap_or_default();
            let email = Email::new(channel, timeout).map_err(|e| DigestError::Store(StoreError::Invalid(e)))?;
            Some((name.clone(), email))
        }
        None => None,
    };
    let conn = store::open(db)?;
    let mut sent = Vec::new();
    for date in due_days(config, &conn, now)? {
        for brand in &config.brands {
            let mut digest = None;
            if let Some(dir) = &d.directory {
                if !delivered(&conn, &brand.name, date, "directory")? {
                    let digest = match &digest {
                        Some(x) => x,
                        None => digest.insert(compute(&conn, config, Some(&brand.name), date, &d.tz)?),
                    };
                    write_files(dir, &brand.name, date, digest)?;
                    record(&conn, &brand.name, date, "directory", now)?;
                    sent.push(Sent {
                        brand: brand.name.clone(),
                        date,
                        target: "directory".into(),
                    });
                }
            }
            if let Some((name, email)) = &email {
                if !delivered(&conn, &brand.name, date, name)? {
                    let digest = match &digest {
                        Some(x) => x,
                        None => digest.insert(compute(&conn, config, Some(&brand.name), date, &d.tz)?),
                    };
                    let key = format!("digest-{}-{date}", slug(&brand.name));
                    let subject = format!("{}: mention digest for {date}", brand.name);
                    email
                        .send_html(&subject, &key, render::markdown(digest), render::html(digest))
                        .await
                        .map_err(|e| DigestError::Store(StoreError::Invalid(format!("emailing the digest: {e}"))))?;
                    record(&conn, &brand.name, date, name, now)?;
                    sent.push(Sent {
                        brand: brand.name.clone(),
                        date,
                        target: name.to_string(),
                    });
                }
            }
        }
    }
    Ok(sent)
}

fn delivered(conn: &Connection, brand: &str, date: NaiveDate, target: &str) -> Result<bool, DigestError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM digest_deliveries WHERE brand = ?1 AND date = ?2 AND target = ?3",
            params![brand, date.to_string(), target],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

fn record(
    conn: &Connection,
    brand: &str,
    date: NaiveDate,
    target: &str,
    now: DateTime<Utc>,
) -> Result<(), DigestError> {
    conn.execute(
        "INSERT OR IGNORE INTO digest_deliveries (brand, date, target, sent_at) VALUES (?1, ?2, ?3, ?4)",
        params![brand, date.to_string(), target, now.timestamp_millis()],
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
