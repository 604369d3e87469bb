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
        self.now_ms
            .fetch_max(t.timestamp_millis(), Ordering::Relaxed);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_clock_never_goes_back() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
        let clock = VirtualClock::starting_at(t0);
        clock.advance_to(t0 + chrono::Duration::minutes(5));
        clock.advance_to(t0 + chrono::Duration::minutes(1));
        assert_eq!(clock.now(), t0 + chrono::Duration::minutes(5));
    }
}
