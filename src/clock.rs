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

/// Parses a span such as `30s`, `5m`, `2h`, `1d` or `2w`.
pub fn parse_duration(value: &str) -> Result<chrono::Duration, String> {
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

impl<'de> serde::Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_duration(&text).map(Span).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("5m").unwrap(), chrono::Duration::minutes(5));
        assert_eq!(parse_duration("2w").unwrap(), chrono::Duration::weeks(2));
        for bad in ["", "5", "m", "5y", "-5m", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
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
