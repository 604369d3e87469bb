//! Time as the pipeline sees it.
//!
//! Everything below the CLI asks a [`Clock`] for the time instead of calling
//! `SystemTime::now()`, so the same code runs live ([`WallClock`]) and in
//! replay or backtest ([`VirtualClock`], driven by the mentions' own
//! timestamps), and tests are deterministic.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeZone, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// Real time, for the live service.
#[derive(Debug, Default, Clone, Copy)]
pub struct WallClock;

impl Clock for WallClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Virtual time that only moves when told to, and never backwards: a feed
/// with a few lines out of order does not rewind the pipeline's notion of now.
#[derive(Debug)]
pub struct VirtualClock {
    now_ms: AtomicI64,
}

impl VirtualClock {
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        VirtualClock {
            now_ms: AtomicI64::new(start.timestamp_millis()),
        }
    }

    /// Moves the clock to `t` if that is later than its current time.
    pub fn advance_to(&self, t: DateTime<Utc>) {
        self.now_ms.fetch_max(t.timestamp_millis(), Ordering::Relaxed);
    }
}

impl Default for VirtualClock {
    fn default() -> Self {
        VirtualClock {
            now_ms: AtomicI64::new(0),
        }
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> DateTime<Utc> {
        let ms = self.now_ms.load(Ordering::Relaxed);
        Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
    }
}

/// The longest duration accepted anywhere (config, flags, API): longer
/// would only overflow the time arithmetic it feeds.
pub const MAX_DURATION: chrono::Duration = chrono::Duration::days(100 * 366);

/// Parses a span such as `30s`, `5m`, `2h`, `1d` or `2w`, at most
/// [`MAX_DURATION`].
pub fn parse_duration(value: &str) -> Result<chrono::Duration, String> {
    let span = parse_duration_unbounded(value)?;
    if span > MAX_DURATION {
        return Err(format!(
            "{:?} is longer than the 100 years any duration may be",
            value.trim()
        ));
    }
    Ok(span)
}

/// Parses a duration that must lie within `min..=max` (e.g. a silence from
/// a minute to a year); the message names the range.
pub fn parse_duration_within(
    value: &str,
    min: chrono::Duration,
    max: chrono::Duration,
) -> Result<chrono::Duration, String> {
    let span = parse_duration(value)?;
    Span(span).check(min, max).map(|()| span)
}

fn parse_duration_unbounded(value: &str) -> Result<chrono::Duration, String> {
    let value = value.trim();
    let bad = || format!("{value:?} is not a duration: use a whole number with ms, s, m, h, d or w (e.g. 5m, 24h, 7d)");
    let split = value.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = value.split_at(split);
    let n: i64 = number.parse().map_err(|_| bad())?;
    match unit {
        "ms" => chrono::Duration::try_milliseconds(n),
        "s" => chrono::Duration::try_seconds(n),
        "m" | "min" => chrono::Duration::try_minutes(n),
        "h" => chrono::Duration::try_hours(n),
        "d" => chrono::Duration::try_days(n),
        "w" => chrono::Duration::try_weeks(n),
        _ => None,
    }
    .ok_or_else(bad)
}

/// A configured duration, written in config files as `5m`, `2h`, `1d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(pub chrono::Duration);

impl Span {
    /// Whether this span lies within `min..=max`, or why not.
    pub fn check(self, min: chrono::Duration, max: chrono::Duration) -> Result<(), String> {
        if self.0 < min || self.0 > max {
            return Err(format!("must be from {} to {}", describe(min), describe(max)));
        }
        Ok(())
    }
}

/// A duration as it would be written in config (`90s`, `5m`, `2h`, `7d`).
pub fn describe(d: chrono::Duration) -> String {
    let ms = d.num_milliseconds();
    for (unit, size) in [
        ("w", 604_800_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
    ] {
        if ms != 0 && ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

impl<'de> serde::Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_duration(&text).map(Span).map_err(serde::de::Error::custom)
    }
}

/// Parses a `since` value (flags and the API): a duration back from `now`
/// (`90m`, `24h`, `7d`, `2w`), an RFC 3339 time, or a date (midnight UTC).
pub fn parse_since(value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let value = value.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    let span = parse_duration(value).map_err(|_| {
        format!("{value:?} is not a time: use a duration like 24h, 7d, 90m, 2w, a date, or an RFC 3339 time")
    })?;
    now.checked_sub_signed(span)
        .ok_or_else(|| format!("{value:?} reaches back before the earliest representable time"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn since_accepts_durations_dates_and_times() {
        use chrono::{Duration, TimeZone};
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
        assert_eq!(parse_since("24h", now).unwrap(), now - Duration::hours(24));
        assert_eq!(parse_since("7d", now).unwrap(), now - Duration::days(7));
        assert_eq!(parse_since("90m", now).unwrap(), now - Duration::minutes(90));
        assert_eq!(
            parse_since("2026-11-20", now).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap()
        );
        assert_eq!(
            parse_since("2026-11-20T10:00:00+01:00", now).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
        );
        for bad in ["", "h", "24", "24y", "-3h", "99999999999999999999d"] {
            assert!(parse_since(bad, now).is_err(), "{bad}");
        }
    }

    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("5m").unwrap(), chrono::Duration::minutes(5));
        assert_eq!(parse_duration("2w").unwrap(), chrono::Duration::weeks(2));
        for bad in ["", "5", "m", "5y", "-5m", "1.5h", "99999999d", "9223372036854775807ms"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_duration_within("0s", chrono::Duration::seconds(1), chrono::Duration::days(1)).is_err());
        assert_eq!(
            parse_duration_within("2h", chrono::Duration::minutes(1), chrono::Duration::days(365)),
            Ok(chrono::Duration::hours(2))
        );
        assert_eq!(describe(chrono::Duration::days(7)), "1w");
        assert_eq!(describe(chrono::Duration::minutes(90)), "90m");
    }

    #[test]
    fn virtual_clock_never_goes_back() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
        let clock = VirtualClock::starting_at(t0);
        clock.advance_to(t0 + chrono::Duration::minutes(5));
        clock.advance_to(t0 + chrono::Duration::minutes(1));
        assert_eq!(clock.now(), t0 + chrono::Duration::minutes(5));
    }
}
