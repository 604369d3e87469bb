//! Evaluates the spike detector on generated negative-mention count series
//! with known incidents, and prints the figures in `docs/detection.md`.
//!
//! ```text
//! cargo run --release --example detect_eval [-- --series 120 --seed 1 --csv-dir DIR]
//! ```
//!
//! Each series is five weeks of 5-minute buckets: a base rate from 0.2 to 40
//! negative mentions per bucket, daily seasonality, a weekend effect, a trend,
//! overdispersed noise (negative binomial), outages (runs of zero buckets) and
//! incidents after the first week of varied size, duration and shape (step,
//! ramp, spike with decay). The detector is the library's, through
//! `detect::backtest::run`, exactly as `complaint-monitor backtest` runs it.
//! With `--csv-dir`, each series is also written as a `timestamp,value` CSV.

use std::io::Write;

use chrono::{DateTime, Duration, TimeZone, Utc};
use complaint_monitor::detect::backtest;
use complaint_monitor::detect::{BucketCounts, DetectConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, Poisson};

const BUCKET_MIN: i64 = 5;
const WEEKS: i64 = 5;

#[derive(Clone, Copy, Debug)]
enum Shape {
    Step,
    Ramp,
    SpikeDecay,
}

struct Incident {
    start: usize,
    len: usize,
    /// Extra negatives per bucket at full strength.
    extra: f64,
    shape: Shape,
}

struct Series {
    counts: Vec<u64>,
    incidents: Vec<Incident>,
    base: f64,
}

fn generate(rng: &mut ChaCha8Rng) -> Series {
    let per_day = (24 * 60 / BUCKET_MIN) as usize;
    let n = per_day * 7 * WEEKS as usize;
    let base = 10f64.powf(rng.gen_range(-0.7..1.6)); // 0.2 .. 40 per bucket
    let daily_amp = rng.gen_range(0.3..0.85);
    let weekend = rng.gen_range(0.6..1.3);
    let trend = rng.gen_range(-0.2..0.6);
    let phi = rng.gen_range(0.02..0.3);
    let peak_hour = rng.gen_range(11.0..20.0);
    let mut mean: Vec<f64> = (0..n)
        .map(|i| {
            let day = i / per_day;
            let hour = (i % per_day) as f64 * BUCKET_MIN as f64 / 60.0;
            let season = 1.0 + daily_amp * ((hour - peak_hour) / 24.0 * std::f64::consts::TAU).cos();
            let week = if day % 7 >= 5 { weekend } else { 1.0 };
            base * season * week * (1.0 + trend * i as f64 / n as f64)
        })
        .collect();
    let mut incidents = Vec::new();
    let mut at = per_day * 7 + rng.gen_range(0..per_day);
    while at < n - per_day {
        let len = rng.gen_range(2..36); // 10 minutes to 3 hours
        let relative = rng.gen_range(1.0..8.0);
        let extra = (mean[at] * relative).max(rng.gen_range(3.0..15.0));
        let shape = match rng.gen_range(0..3) {
            0 => Shape::Step,
            1 => Shape::Ramp,
            _ => Shape::SpikeDecay,
        };
        for k in 0..len {
            let strength = match shape {
                Shape::Step => 1.0,
                Shape::Ramp => (k + 1) as f64 / len as f64,
                Shape::SpikeDecay => (-(k as f64) / (len as f64 / 3.0).max(1.0)).exp(),
            };
            mean[at + k] += extra * strength;
        }
        incidents.push(Incident {
            start: at,
            len,
            extra,
            shape,
        });
        at += len + rng.gen_range(per_day..4 * per_day);
    }
    let mut counts: Vec<u64> = mean
        .iter()
        .map(|&m| {
            let lambda = Gamma::new(1.0 / phi, m * phi).map(|g| g.sample(rng)).unwrap_or(m);
            if lambda <= 0.0 {
                0
            } else {
                Poisson::new(lambda).map(|p| p.sample(rng) as u64).unwrap_or(0)
            }
        })
        .collect();
    // Outages: a source stops answering, the counts drop to zero.
    for _ in 0..rng.gen_range(1..4) {
        let start = rng.gen_range(per_day..n - 40);
        let len = rng.gen_range(6..36);
        if incidents
            .iter()
            .any(|i| start < i.start + i.len + 12 && i.start < start + len + 12)
        {
            continue;
        }
        for c in &mut counts[start..start + len] {
            *c = 0;
        }
    }
    Series {
        counts,
        incidents,
        base,
    }
}

fn main() {
    let mut series_count = 120usize;
    let mut seed = 1u64;
    let mut csv_dir: Option<String> = None;
    let mut explain = false;
    let mut p_value: Option<f64> = None;
    let mut min_ratio: Option<f64> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--series" => series_count = args.next().and_then(|v| v.parse().ok()).unwrap_or(series_count),
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).unwrap_or(seed),
            "--csv-dir" => csv_dir = args.next(),
            "--explain" => explain = true,
            "--p-value" => p_value = args.next().and_then(|v| v.parse().ok()),
            "--min-ratio" => min_ratio = args.next().and_then(|v| v.parse().ok()),
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    let mut config = DetectConfig::default();
    config.p_value = p_value.unwrap_or(config.p_value);
    config.min_ratio = min_ratio.unwrap_or(config.min_ratio);
    let t0: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).single().expect("valid date");
    let bucket = Duration::minutes(BUCKET_MIN);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);

    let mut total_incidents = 0usize;
    let mut found = 0usize;
    let mut delays: Vec<i64> = Vec::new();
    let mut false_alerts = 0usize;
    let mut weeks = 0.0;
    // By size: extra per bucket relative to the expected count, and by shape.
    let mut by_class: std::collections::BTreeMap<String, (usize, usize)> = Default::default();

    for s in 0..series_count {
        let series = generate(&mut rng);
        let counts: Vec<BucketCounts> = series
            .counts
            .iter()
            .enumerate()
            .map(|(i, &n)| BucketCounts {
                start: t0 + bucket * i as i32,
                negatives: n,
                total: None,
                negative_reach: 0,
            })
            .collect();
        if let Some(dir) = &csv_dir {
            let path = format!("{dir}/series-{s:03}.csv");
            if let Ok(mut f) = std::fs::File::create(&path) {
                let _ = writeln!(f, "timestamp,value");
                for c in &counts {
                    let _ = writeln!(f, "{},{}", c.start.format("%Y-%m-%dT%H:%M:%SZ"), c.negatives);
                }
            }
        }
        let alerts = backtest::run(&config, "eval", None, counts);
        let starts: Vec<i64> = alerts
            .iter()
            .filter_map(|a| DateTime::parse_from_rfc3339(&a.started_at).ok())
            .map(|t| (t.with_timezone(&Utc) - t0).num_minutes() / BUCKET_MIN)
            .collect();
        let per_day = 24 * 60 / BUCKET_MIN;
        weeks += (series.counts.len() as f64 - (per_day as f64)) / (per_day as f64 * 7.0);
        for inc in &series.incidents {
            total_incidents += 1;
            let (lo, hi) = (inc.start as i64, (inc.start + inc.len) as i64 + 3);
            let hit = starts.iter().copied().filter(|&a| a >= lo && a <= hi).min();
            let relative = inc.extra / series.base.max(0.1);
            let class = format!(
                "{:<10} extra {:<9}",
                format!("{:?}", inc.shape),
                if inc.extra < 5.0 {
                    "< 5/bucket"
                } else if relative < 2.0 {
                    "< 2x base"
                } else {
                    ">= 2x base"
                }
            );
            let entry = by_class.entry(class).or_default();
            entry.0 += 1;
            if let Some(a) = hit {
                found += 1;
                entry.1 += 1;
                delays.push(a - lo);
            }
        }
        for (k, &a) in starts.iter().enumerate() {
            let explained = series
                .incidents
                .iter()
                .any(|i| a >= i.start as i64 && a <= (i.start + i.len) as i64 + 6);
            if !explained {
                false_alerts += 1;
                if explain {
                    let day = a / per_day;
                    let r = &alerts[k];
                    eprintln!(
                        "false alert: base {:.2} day {day} ({}) hour {} observed {} expected {:.1} peak {}/{:.1}",
                        series.base,
                        if day % 7 >= 5 { "weekend" } else { "weekday" },
                        (a % per_day) / 12,
                        r.observed,
                        r.expected,
                        r.peak_observed,
                        r.peak_expected
                    );
                }
            }
        }
    }
    delays.sort_unstable();
    let median = delays.get(delays.len() / 2).copied().unwrap_or(-1);
    let p90 = delays.get(delays.len() * 9 / 10).copied().unwrap_or(-1);
    let within_two = delays.iter().filter(|&&d| d <= 1).count();
    println!(
        "series: {series_count} x {WEEKS} weeks of {BUCKET_MIN}-minute buckets (seed {seed}); p_value {}, min_ratio {}",
        config.p_value, config.min_ratio
    );
    println!(
        "incidents: {total_incidents}, found {found} (recall {:.1}%), found within two buckets {:.1}%",
        100.0 * found as f64 / total_incidents.max(1) as f64,
        100.0 * within_two as f64 / total_incidents.max(1) as f64
    );
    println!(
        "false alerts: {false_alerts} in {weeks:.0} series-weeks after warm-up = {:.2} per week",
        false_alerts as f64 / weeks.max(1.0)
    );
    println!("detection delay in buckets after the incident's first bucket: median {median}, 90th percentile {p90}");
    println!("recall by shape and size:");
    for (class, (n, hit)) in by_class {
        println!(
            "  {class}  {hit:>4}/{n:<4} {:.0}%",
            100.0 * hit as f64 / n.max(1) as f64
        );
    }
}
