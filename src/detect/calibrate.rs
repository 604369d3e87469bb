//! Self-calibration: the surprise a bucket must reach to alert, learnt from
//! the distribution of surprise in the scope's own recent past.
//!
//! The baseline's tail probability is only as right as its noise model, and
//! real mention volume (bursty, heavy-tailed, news-driven) is far from the
//! negative binomial: on real series a fixed p-value fires several times a
//! week. So the decision is not "p below 1e-5" but "more surprising than this
//! scope usually gets". Every episode of surprise above the floor in the
//! last `calibration_days` is remembered by its peak; with the history's
//! length in weeks times `alerts_per_week` alerts allowed, the threshold is
//! the peak of the next episode down, so that, had it been in force, the
//! scope would have alerted as often as asked. It is an order statistic of
//! the scope's own history: no noise model is assumed, and one huge incident
//! moves it by one rank, not by its size. A user who asks for about one alert a week gets
//! about one a week on their data, whatever its noise. The configured
//! `p_value` stays a floor: nothing the model finds plausible alerts.

use std::collections::VecDeque;

use serde::Deserialize;

/// How many alerts a user wants on normal data, in the vocabulary of
/// listening tools' spike alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Sensitivity {
    /// About one alert every two weeks per brand on normal data.
    Fewer,
    /// About one alert a week per brand on normal data.
    #[default]
    Balanced,
    /// About three alerts a week per brand on normal data.
    More,
}

impl Sensitivity {
    pub const ALL: [Sensitivity; 3] = [Sensitivity::Fewer, Sensitivity::Balanced, Sensitivity::More];

    /// The expected number of alerts per scope and week on normal data.
    pub fn alerts_per_week(self) -> f64 {
        match self {
            Sensitivity::Fewer => 0.5,
            Sensitivity::Balanced => 1.0,
            Sensitivity::More => 3.0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sensitivity::Fewer => "fewer",
            Sensitivity::Balanced => "balanced",
            Sensitivity::More => "more",
        }
    }
}

impl std::str::FromStr for Sensitivity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fewer" => Ok(Sensitivity::Fewer),
            "balanced" => Ok(Sensitivity::Balanced),
            "more" => Ok(Sensitivity::More),
            _ => Err(format!("unknown sensitivity {s:?}: expected fewer, balanced or more")),
        }
    }
}

/// Blocks a day is cut into; each block's largest surprise is one sample
/// of the calibration. Six-hour blocks give four samples a day, so a few
/// days of history already say something.
pub const BLOCKS_PER_DAY: u32 = 4;
/// Days of history before the fitted threshold is used at all.
const MIN_DAYS: u32 = 2;
/// Median and MAD of the standard Gumbel distribution.
const GUMBEL_MEDIAN: f64 = 0.366_513;
const GUMBEL_MAD: f64 = 0.766_7;
/// The smallest Gumbel scale (in log z) the fit may take: a scope whose
/// blocks were all alike still needs some headroom above them.
const MIN_SCALE: f64 = 0.05;

/// The running calibration of one scope.
#[derive(Debug, Clone)]
pub struct Calibrator {
    buckets_per_block: u32,
    keep_blocks: usize,
    /// `−ln(−ln(1 − q))` for the per-block exceedance probability q.
    gumbel_quantile: f64,
    floor: f64,
    /// ln of the largest surprise of each finished block, oldest first.
    blocks: VecDeque<f64>,
    block_max: f64,
    block_buckets: u32,
    /// Episodes above the floor, as (last bucket, peak), oldest first, and
    /// the one under way: a cap on how often the scope alerts whatever the
    /// fit says (bursts frequent enough to be the bulk fool any fit).
    episodes: VecDeque<(u64, f64)>,
    current: Option<(u64, f64)>,
    seen: u64,
    merge_gap: u64,
    alerts_per_week: f64,
    buckets_per_week: f64,
    threshold: f64,
}

/// The cap lets at most this many times the asked rate of past episodes
/// through.
const CAP_FACTOR: f64 = 3.0;

impl Calibrator {
    /// `floor` is the least surprise that may ever alert.
    pub fn new(buckets_per_day: u32, keep_days: u32, alerts_per_week: f64, floor: f64, merge_gap: u32) -> Self {
        let q = (alerts_per_week / (7.0 * f64::from(BLOCKS_PER_DAY))).clamp(1e-6, 0.99);
        Calibrator {
            buckets_per_block: (buckets_per_day / BLOCKS_PER_DAY).max(1),
            keep_blocks: (keep_days.max(MIN_DAYS) * BLOCKS_PER_DAY) as usize,
            gumbel_quantile: -(-(1.0 - q).ln()).ln(),
            floor,
            blocks: VecDeque::new(),
            block_max: 0.0,
            block_buckets: 0,
            episodes: VecDeque::new(),
            current: None,
            seen: 0,
            merge_gap: u64::from(merge_gap.max(1)),
            alerts_per_week,
            buckets_per_week: 7.0 * f64::from(buckets_per_day.max(1)),
            threshold: floor,
        }
    }

    /// The surprise a window must exceed to alert now.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Days of history the threshold rests on.
    pub fn days(&self) -> f64 {
        self.blocks.len() as f64 / f64::from(BLOCKS_PER_DAY)
    }

    /// Records one judged bucket's surprise (before any floor on counts).
    pub fn record(&mut self, surprise: f64) {
        let now = self.seen;
        self.seen += 1;
        if surprise.is_finite() && surprise >= self.floor {
            let peak = self.current.map_or(surprise, |(_, p)| p.max(surprise));
            self.current = Some((now, peak));
        } else if let Some((last, peak)) = self.current {
            if now - last >= self.merge_gap {
                self.episodes.push_back((last, peak));
                self.current = None;
            }
        }
        let keep = self.keep_blocks as u64 * u64::from(self.buckets_per_block);
        while self.episodes.front().is_some_and(|&(last, _)| last + keep < now) {
            self.episodes.pop_front();
        }
        if surprise.is_finite() {
            self.block_max = self.block_max.max(surprise);
        }
        self.block_buckets += 1;
        if self.block_buckets >= self.buckets_per_block {
            self.blocks.push_back(self.block_max.max(0.5).ln());
            while self.blocks.len() > self.keep_blocks {
                self.blocks.pop_front();
            }
            self.block_max = 0.0;
            self.block_buckets = 0;
            self.threshold = self.fit();
        }
    }

    /// A Gumbel law fitted to the log block maxima by their median and
    /// median absolute deviation (so incidents, a minority of blocks, hardly
    /// move it), read at the wanted exceedance rate.
    fn fit(&self) -> f64 {
        if self.blocks.len() < (MIN_DAYS * BLOCKS_PER_DAY) as usize {
            return self.floor;
        }
        let mut sorted: Vec<f64> = self.blocks.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let median = quantile_sorted(&sorted, 0.5);
        let mut deviations: Vec<f64> = sorted.iter().map(|x| (x - median).abs()).collect();
        deviations.sort_by(f64::total_cmp);
        let scale = (quantile_sorted(&deviations, 0.5) / GUMBEL_MAD).max(MIN_SCALE);
        let location = median - GUMBEL_MEDIAN * scale;
        let fitted = (location + scale * self.gumbel_quantile).exp();
        fitted.max(self.cap()).max(self.floor)
    }

    /// The least surprise above which no more than `CAP_FACTOR` times the
    /// asked number of past episodes would have alerted.
    fn cap(&self) -> f64 {
        let weeks = self
            .seen
            .min(self.keep_blocks as u64 * u64::from(self.buckets_per_block)) as f64
            / self.buckets_per_week;
        let allowed = (CAP_FACTOR * self.alerts_per_week * weeks).floor() as usize;
        let mut peaks: Vec<f64> = self.episodes.iter().map(|&(_, p)| p).collect();
        if allowed >= peaks.len() {
            return self.floor;
        }
        peaks.sort_by(|a, b| b.total_cmp(a));
        peaks[allowed]
    }
}

fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = p * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}
