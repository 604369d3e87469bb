//! The expected number of negative mentions in a bucket, learnt from the
//! scope's own history. `docs/detection.md` explains the model and the
//! evaluation behind its constants.
//!
//! * Seasonality: an estimate per hour of the day (used after one day of
//!   history) and per hour of the week (after two weeks), each a running mean
//!   that turns into an exponentially weighted one (about a week of memory
//!   for the daily profile, four weeks for the weekly one).
//! * Trend: a level factor, the recent ratio of observed to seasonal counts
//!   (about half a day of memory), so a brand that grows is not always "spiking".
//! * Robustness: buckets that belong to an incident teach the model nothing,
//!   and every other value is clipped to a plausible range before it is
//!   learnt, so a spike cannot inflate the baseline.
//! * Before the seasonal profile exists, the expectation is the recent
//!   average (about three hours of memory).

use chrono::{DateTime, Datelike, Timelike, Utc};

/// The smallest expectation used: a bucket with no history still needs a
/// non-zero rate for the tail test.
const FLOOR: f64 = 0.05;

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    rate: f64,
    n: u32,
}

impl Slot {
    fn learn(&mut self, x: f64, min_alpha: f64) {
        self.n = self.n.saturating_add(1);
        let alpha = (1.0 / f64::from(self.n)).max(min_alpha);
        self.rate += alpha * (x - self.rate);
    }
}

#[derive(Debug, Clone)]
pub struct Baseline {
    buckets_per_hour: f64,
    daily: [Slot; 24],
    weekly: Vec<Slot>,
    recent: Slot,
    level: f64,
    /// Overdispersion: variance = mean + phi × mean².
    phi: f64,
    negatives: f64,
    totals: f64,
}

/// What the baseline expects of one bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Expectation {
    pub mean: f64,
    pub phi: f64,
}

impl Baseline {
    pub fn new(bucket_seconds: i64) -> Self {
        Baseline {
            buckets_per_hour: 3600.0 / bucket_seconds.max(1) as f64,
            daily: [Slot::default(); 24],
            weekly: vec![Slot::default(); 168],
            recent: Slot::default(),
            level: 1.0,
            phi: 0.1,
            negatives: 0.0,
            totals: 0.0,
        }
    }

    fn seasonal(&self, t: DateTime<Utc>) -> Option<f64> {
        let hour = t.hour() as usize;
        let week_hour = t.weekday().num_days_from_monday() as usize * 24 + hour;
        let weekly = self.weekly[week_hour];
        let daily = self.daily[hour];
        if f64::from(weekly.n) >= 2.0 * self.buckets_per_hour {
            Some(weekly.rate)
        } else if f64::from(daily.n) >= self.buckets_per_hour {
            Some(daily.rate)
        } else {
            None
        }
    }

    /// The expected count of the bucket starting at `t`.
    pub fn expect(&self, t: DateTime<Utc>) -> Expectation {
        let mean = match self.seasonal(t) {
            Some(seasonal) => seasonal * self.level,
            None => self.recent.rate,
        };
        Expectation {
            mean: mean.max(FLOOR),
            phi: self.phi,
        }
    }

    /// The usual share of negative mentions among all, with a weak prior of
    /// one in four so that a new scope is not judged on a handful.
    pub fn negative_share(&self) -> f64 {
        (self.negatives + 5.0) / (self.totals + 20.0)
    }

    /// Learns from the bucket starting at `t`. `anomalous` buckets only
    /// move time forward: what happens during an incident is not "usual".
    pub fn learn(&mut self, t: DateTime<Utc>, negatives: u64, total: Option<u64>, anomalous: bool) {
        let expected = self.expect(t);
        let x = if anomalous {
            expected.mean
        } else {
            let sd = (expected.mean + expected.phi * expected.mean * expected.mean).sqrt();
            (negatives as f64).min(expected.mean + 3.0 * sd + 2.0)
        };
        let per_day = 24.0 * self.buckets_per_hour;
        if !anomalous {
            // Dispersion is estimated from the raw count (clipping it would
            // hide exactly the spread being measured); one bucket's say is capped.
            let mu = expected.mean.max(1.0);
            let raw = negatives as f64;
            let excess = ((raw - expected.mean).powi(2) - expected.mean) / (mu * mu);
            self.phi += (excess.clamp(0.0, 3.0) - self.phi) / per_day;
            if let Some(total) = total {
                let decay = 1.0 - 1.0 / (7.0 * per_day);
                self.negatives = self.negatives * decay + x.min(total as f64);
                self.totals = self.totals * decay + total as f64;
            }
        }
        if let Some(seasonal) = self.seasonal(t) {
            let ratio = ((x + 0.5) / (seasonal + 0.5)).clamp(0.2, 5.0);
            self.level += (ratio - self.level) / (0.5 * per_day);
        }
        let hour = t.hour() as usize;
        let week_hour = t.weekday().num_days_from_monday() as usize * 24 + hour;
        // Seasonal slots learn level-free values, so the level is not counted twice.
        let deseasoned = x / self.level.max(0.2);
        self.daily[hour].learn(deseasoned, 1.0 / (7.0 * self.buckets_per_hour));
        self.weekly[week_hour].learn(deseasoned, 1.0 / (4.0 * self.buckets_per_hour));
        self.recent.learn(x, 1.0 / (3.0 * self.buckets_per_hour));
    }
}
