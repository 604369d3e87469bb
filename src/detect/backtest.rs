//! `backtest`: the live detector run over history, printing every incident it
//! would have raised, over a count series (`--csv`, header
//! `timestamp,value`, or the store's counts through
//! `alert::backtest::run_db`), through the same [`ScopeDetector`] and
//! [`IncidentTracker`] as the live service. Pure: it reads no store.

use std::io::BufRead;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

use super::incident::{IncidentTracker, Severity, Transition};
use super::{BucketCounts, DetectConfig, ScopeDetector, Trigger};
use crate::mention::format_time;

/// Longest CSV line read; longer ones are rejected.
const MAX_CSV_LINE: usize = 4096;
/// Most buckets one series may span (ten years of 5-minute buckets).
pub const MAX_BUCKETS: i64 = 10 * 366 * 288;

/// One incident, as `backtest` prints it (one JSON object per line).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertReport {
    pub brand: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub started_at: String,
    pub peak_at: String,
    pub observed: u64,
    pub expected: f64,
    pub peak_observed: u64,
    pub peak_expected: f64,
    pub severity: Severity,
    pub trigger: Trigger,
    pub reach: u64,
    /// When counts were back near the baseline; absent if still open at the end.
    pub resolved_at: Option<String>,
}

/// Runs the detector over one scope's series (oldest first; missing buckets
/// count as zero) and returns its incidents in order.
pub fn run(
    config: &DetectConfig,
    brand: &str,
    source: Option<&str>,
    series: impl IntoIterator<Item = BucketCounts>,
) -> Vec<AlertReport> {
    let mut detector = ScopeDetector::new(config);
    let mut tracker = IncidentTracker::new(config);
    let mut reports = Vec::new();
    let report = |f: &super::incident::IncidentFigures, resolved: Option<DateTime<Utc>>| AlertReport {
        brand: brand.to_string(),
        source: source.map(str::to_string),
        started_at: format_time(f.started_at),
        peak_at: format_time(f.peak_at),
        observed: f.observed,
        expected: round2(f.expected),
        peak_observed: f.peak_observed,
        peak_expected: round2(f.peak_expected),
        severity: f.severity,
        trigger: f.trigger,
        reach: f.reach,
        resolved_at: resolved.map(format_time),
    };
    for counts in fill_gaps(config, series) {
        let eval = detector.observe(counts);
        if let Some(Transition::Resolved { figures, at }) = tracker.observe(&eval) {
            reports.push(report(&figures, Some(at)));
        }
    }
    if let Some(open) = tracker.open_incident() {
        reports.push(report(open, None));
    }
    reports
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Yields `series` with zero buckets where it has none, on the bucket grid.
pub fn fill_gaps<'a>(
    config: &'a DetectConfig,
    series: impl IntoIterator<Item = BucketCounts> + 'a,
) -> impl Iterator<Item = BucketCounts> + 'a {
    let bucket = config.bucket.0;
    let mut next: Option<DateTime<Utc>> = None;
    let mut pending = std::collections::VecDeque::new();
    let mut series = series.into_iter();
    std::iter::from_fn(move || loop {
        if let Some(c) = pending.pop_front() {
            return Some(c);
        }
        let mut counts = series.next()?;
        counts.start = config.bucket_start(counts.start);
        match next {
            Some(expected) if counts.start < expected => {
                // Out of order or a repeated bucket: fold it into nothing new.
                continue;
            }
            Some(mut expected) => {
                while expected < counts.start {
                    pending.push_back(BucketCounts {
                        start: expected,
                        negatives: 0,
                        total: counts.total.map(|_| 0),
                        negative_reach: 0,
                    });
                    expected += bucket;
                }
            }
            None => {}
        }
        next = Some(counts.start + bucket);
        pending.push_back(counts);
    })
}

/// A CSV row that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRejection {
    pub line: u64,
    pub reason: String,
}

/// Reads a `timestamp,value` series: timestamps RFC 3339 or
/// `YYYY-MM-DD HH:MM:SS` (UTC), values whole counts of negative mentions.
/// Bad rows are returned with their reason; the rest is used.
pub fn read_csv(
    mut input: &mut dyn BufRead,
    config: &DetectConfig,
) -> std::io::Result<(Vec<BucketCounts>, Vec<CsvRejection>)> {
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = std::io::Read::take(&mut input, MAX_CSV_LINE as u64 + 1).read_until(b'\n', &mut buf)?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if buf.len() > MAX_CSV_LINE && buf.last() != Some(&b'\n') {
            // Skip the rest of an overlong line.
            let mut rest = Vec::new();
            input.read_until(b'\n', &mut rest)?;
            rejected.push(CsvRejection {
                line: line_no,
                reason: format!("line longer than {MAX_CSV_LINE} bytes"),
            });
            continue;
        }
        let Ok(text) = std::str::from_utf8(&buf) else {
            rejected.push(CsvRejection {
                line: line_no,
                reason: "not valid UTF-8".into(),
            });
            continue;
        };
        let text = text.trim();
        if text.is_empty() || (line_no == 1 && text.to_ascii_lowercase().starts_with("timestamp")) {
            continue;
        }
        match parse_row(text) {
            Ok((t, value)) => rows.push(BucketCounts {
                start: config.bucket_start(t),
                negatives: value,
                total: None,
                negative_reach: 0,
            }),
            Err(reason) => rejected.push(CsvRejection { line: line_no, reason }),
        }
    }
    rows.sort_by_key(|r| r.start);
    // Rows that fall into the same bucket add up.
    let mut merged: Vec<BucketCounts> = Vec::with_capacity(rows.len());
    for row in rows {
        match merged.last_mut() {
            Some(last) if last.start == row.start => last.negatives = last.negatives.saturating_add(row.negatives),
            _ => merged.push(row),
        }
    }
    if let (Some(first), Some(last)) = (merged.first(), merged.last()) {
        if (last.start - first.start).num_milliseconds() / config.bucket_ms() > MAX_BUCKETS {
            rejected.push(CsvRejection {
                line: 0,
                reason: format!("the series spans more than {MAX_BUCKETS} buckets"),
            });
            merged.clear();
        }
    }
    Ok((merged, rejected))
}

fn parse_row(text: &str) -> Result<(DateTime<Utc>, u64), String> {
    let mut fields = text.split(',');
    let (Some(time), Some(value), None) = (fields.next(), fields.next(), fields.next()) else {
        return Err("expected two fields: timestamp,value".into());
    };
    let time = time.trim().trim_matches('"');
    let t = DateTime::parse_from_rfc3339(time)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(time, "%Y-%m-%d %H:%M:%S").map(|t| t.and_utc()))
        .map_err(|_| format!("timestamp {time:?} is neither RFC 3339 nor YYYY-MM-DD HH:MM:SS"))?;
    let value = value.trim().trim_matches('"');
    let count = value
        .parse::<u64>()
        .or_else(|_| match value.parse::<f64>() {
            Ok(f) if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 1e15 => Ok(f as u64),
            _ => Err(()),
        })
        .map_err(|_| format!("value {value:?} is not a whole count zero or more"))?;
    Ok((t, count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn csv_rows_are_read_and_bad_ones_named() {
        let config = DetectConfig::default();
        let text = "timestamp,value\n2026-11-20T10:00:00Z,3\n2026-11-20 10:05:00,4\nnoon,1\n2026-11-20T10:10:00Z,-2\n2026-11-20T10:10:00Z,2.0\n";
        let (rows, rejected) = read_csv(&mut text.as_bytes(), &config).unwrap();
        assert_eq!(rows.iter().map(|r| r.negatives).collect::<Vec<_>>(), [3, 4, 2]);
        assert_eq!(rejected.iter().map(|r| r.line).collect::<Vec<_>>(), [4, 5]);
    }

    #[test]
    fn gaps_become_zero_buckets() {
        let config = DetectConfig::default();
        let t0 = DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let counts = |m: i64, n| BucketCounts {
            start: t0 + chrono::Duration::minutes(m),
            negatives: n,
            total: None,
            negative_reach: 0,
        };
        let filled: Vec<u64> = fill_gaps(&config, vec![counts(0, 1), counts(15, 2), counts(21, 3)])
            .map(|c| c.negatives)
            .collect();
        assert_eq!(filled, [1, 0, 0, 2, 3]);
    }

    proptest! {
        #[test]
        fn the_csv_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let config = DetectConfig::default();
            let _ = read_csv(&mut &bytes[..], &config);
        }
    }
}
