//! The detector run over stored history: `backtest --db`, the offline twin
//! of the alert service, reading the store's per-bucket counts and handing
//! them to the pure [`crate::detect::backtest`].

use chrono::{DateTime, Utc};

use crate::brand::BrandConfig;
use crate::detect::backtest::{self, AlertReport, MAX_BUCKETS};
use crate::detect::DetectConfig;
use crate::store::{self, StoreError};

/// Backtests every configured brand (or just `brand`) over the stored
/// mentions from `since` (by default, as far back as [`MAX_BUCKETS`]
/// reaches) up to a day past `now`, and per source too when `per_source` is
/// set. Rows outside that range (a broken date stored before times were
/// checked) are left out, never walked to.
pub fn run_db(
    conn: &rusqlite::Connection,
    brands: &[BrandConfig],
    detect: &DetectConfig,
    brand: Option<&str>,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Vec<AlertReport>, StoreError> {
    let mut reports = Vec::new();
    let until = now + crate::mention::MAX_AHEAD_OF_CLOCK;
    let longest = chrono::Duration::milliseconds(detect.bucket_ms().saturating_mul(MAX_BUCKETS));
    let from = since
        .unwrap_or(crate::mention::earliest_time())
        .max(crate::mention::earliest_time())
        .max(until - longest);
    for b in brands
        .iter()
        .filter(|b| brand.is_none_or(|n| n.eq_ignore_ascii_case(&b.name)))
    {
        let mut scopes = vec![String::new()];
        if detect.per_source {
            let mut stmt = conn.prepare(
                "SELECT DISTINCT m.source FROM mention_brands f JOIN mentions m ON m.id = f.mention_id \
                 WHERE f.brand = ?1 ORDER BY 1",
            )?;
            let sources = stmt.query_map([&b.name], |r| r.get::<_, String>(0))?;
            for s in sources {
                scopes.push(s?);
            }
        }
        for source in scopes {
            let series = store::bucket_counts(conn, detect, &b.name, &source, from, until)?;
            let source = (!source.is_empty()).then_some(source.as_str());
            reports.extend(backtest::run(detect, &b.name, source, series));
        }
    }
    reports.sort_by(|a, b| (&a.started_at, &a.brand).cmp(&(&b.started_at, &b.brand)));
    Ok(reports)
}
