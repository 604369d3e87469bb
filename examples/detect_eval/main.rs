//! Evaluates the spike detector on real labelled mention-volume series and
//! on generated negative-mention count series with known incidents, side by
//! side for each sensitivity, and prints the figures in `docs/detection.md`.
//!
//! ```text
//! cargo run --release --example detect_eval [-- --series 120 --seed 1 --real-dir DIR
//!     --sensitivity balanced --alerts-json alerts.json --csv-dir DIR]
//! ```
//!
//! The real set is a NAB-style folder (`../shared/data/mention-volume` by
//! default): each series is run through `detect::backtest::run` exactly as
//! `complaint-monitor backtest --csv` runs it, each incident's first bucket
//! is an alert, and the alerts are scored with NAB's standard rules (`nab.rs`,
//! a port of the folder's `score.py`; `--alerts-json` writes them for it).
//!
//! Each series is five weeks of 5-minute buckets: a base rate from 0.2 to 40
//! negative mentions per bucket, daily seasonality, a weekend effect, a trend,
//! overdispersed noise (negative binomial), outages (runs of zero buckets) and
//! incidents after the first week of varied size, duration and shape (step,
//! ramp, spike with decay). The detector is the library's, through
//! `detect::backtest::run`, exactly as `complaint-monitor backtest` runs it.
//! With `--csv-dir`, each series is also written as a `timestamp,value` CSV.

mod nab;

use std::io::Write;
use std::path::PathBuf;

use chrono::{DateTime, Duration, TimeZone, Utc};
use complaint_monitor::detect::backtest;
use complaint_monitor::detect::calibrate::Sensitivity;
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

/// What the generated set says of one configuration.
#[derive(Default)]
struct GeneratedFigures {
    incidents: usize,
    found: usize,
    /// Minutes from each found incident's start to its first alert.
    delays: Vec<i64>,
    false_alerts: usize,
    weeks: f64,
    by_class: std::collections::BTreeMap<String, (usize, usize)>,
}

fn evaluate_generated(
    config: &DetectConfig,
    series_count: usize,
    seed: u64,
    csv_dir: Option<&str>,
    explain: bool,
) -> GeneratedFigures {
    let t0: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).single().expect("valid date");
    let bucket = Duration::minutes(BUCKET_MIN);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fig = GeneratedFigures::default();
    let per_day = 24 * 60 / BUCKET_MIN;
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
        if let Some(dir) = csv_dir {
            let path = format!("{dir}/series-{s:03}.csv");
            if let Ok(mut f) = std::fs::File::create(&path) {
                let _ = writeln!(f, "timestamp,value");
                for c in &counts {
                    let _ = writeln!(f, "{},{}", c.start.format("%Y-%m-%dT%H:%M:%SZ"), c.negatives);
                }
            }
        }
        let alerts = backtest::run(config, "eval", None, counts);
        let starts: Vec<i64> = alerts
            .iter()
            .filter_map(|a| DateTime::parse_from_rfc3339(&a.started_at).ok())
            .map(|t| (t.with_timezone(&Utc) - t0).num_minutes() / BUCKET_MIN)
            .collect();
        fig.weeks += (series.counts.len() as f64 - (per_day as f64)) / (per_day as f64 * 7.0);
        for inc in &series.incidents {
            fig.incidents += 1;
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
            let entry = fig.by_class.entry(class).or_default();
            entry.0 += 1;
            if let Some(a) = hit {
                fig.found += 1;
                entry.1 += 1;
                // Known when the bucket closes.
                fig.delays.push((a - lo + 1) * BUCKET_MIN);
            }
        }
        for (k, &a) in starts.iter().enumerate() {
            let explained = series
                .incidents
                .iter()
                .any(|i| a >= i.start as i64 && a <= (i.start + i.len) as i64 + 6);
            if !explained {
                fig.false_alerts += 1;
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
    fig.delays.sort_unstable();
    fig
}

/// What the real labelled set says of one configuration.
struct RealFigures {
    scores: Vec<nab::FileScore>,
    alerts: serde_json::Map<String, serde_json::Value>,
}

fn evaluate_real(config: &DetectConfig, set: &[nab::LabelledSeries]) -> RealFigures {
    let mut scores = Vec::new();
    let mut alerts_json = serde_json::Map::new();
    for series in set {
        let counts: Vec<BucketCounts> = series
            .times
            .iter()
            .zip(&series.values)
            .map(|(t, &v)| BucketCounts {
                start: config.bucket_start(t.and_utc()),
                negatives: v,
                total: None,
                negative_reach: 0,
            })
            .collect();
        let alerts = backtest::run(config, "eval", None, counts);
        let mut rows = Vec::new();
        let mut times = Vec::new();
        for a in &alerts {
            let Ok(start) = DateTime::parse_from_rfc3339(&a.started_at) else {
                continue;
            };
            // The alert belongs to the data row inside its first bucket.
            let known = (start.with_timezone(&Utc) + config.bucket.0 - Duration::seconds(1)).naive_utc();
            let row = series.times.partition_point(|&t| t <= known);
            if row > 0 {
                rows.push(row - 1);
                times.push(serde_json::Value::from(
                    series.times[row - 1].format("%Y-%m-%d %H:%M:%S").to_string(),
                ));
            }
        }
        let base = series.name.rsplit('/').next().unwrap_or(&series.name).to_string();
        alerts_json.insert(base, serde_json::Value::Array(times));
        scores.push(nab::score(series, &rows));
    }
    RealFigures {
        scores,
        alerts: alerts_json,
    }
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut series_count = 120usize;
    let mut seed = 1u64;
    let mut csv_dir: Option<String> = None;
    let mut explain = false;
    let mut p_value: Option<f64> = None;
    let mut min_ratio: Option<f64> = None;
    let mut windows: Option<Vec<u32>> = None;
    let mut sensitivities: Vec<Sensitivity> = Sensitivity::ALL.to_vec();
    let mut real_dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/mention-volume"));
    let mut alerts_json: Option<String> = None;
    let mut per_file = false;
    let mut skip_generated = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--series" => series_count = args.next().and_then(|v| v.parse().ok()).unwrap_or(series_count),
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).unwrap_or(seed),
            "--csv-dir" => csv_dir = args.next(),
            "--explain" => explain = true,
            "--p-value" => p_value = args.next().and_then(|v| v.parse().ok()),
            "--min-ratio" => min_ratio = args.next().and_then(|v| v.parse().ok()),
            "--windows" => {
                windows = args
                    .next()
                    .map(|v| v.split(',').filter_map(|w| w.trim().parse().ok()).collect())
            }
            "--sensitivity" => match args.next().map(|v| v.parse::<Sensitivity>()) {
                Some(Ok(s)) => sensitivities = vec![s],
                _ => {
                    eprintln!("--sensitivity takes fewer, balanced or more");
                    std::process::exit(2);
                }
            },
            "--real-dir" => real_dir = args.next().map(PathBuf::from).unwrap_or(real_dir),
            "--alerts-json" => alerts_json = args.next(),
            "--per-file" => per_file = true,
            "--skip-generated" => skip_generated = true,
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    let real_set = match nab::load(&real_dir) {
        Ok(set) => set,
        Err(e) => {
            eprintln!("no real labelled set ({e}); evaluating on generated series only");
            Vec::new()
        }
    };
    if let Ok(name) = std::env::var("DETECT_TRACE") {
        trace(&DetectConfig::default(), &real_set, &name);
        return;
    }
    println!(
        "real set: {} series from {}; generated set: {series_count} x {WEEKS} weeks of {BUCKET_MIN}-minute buckets (seed {seed})",
        real_set.len(),
        real_dir.display()
    );
    println!(
        "| sensitivity | real: NAB standard | window recall | alerts / brand-week | outside windows / brand-week | precision | median delay from window start | generated: recall | false alerts / week | median delay |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut classes = None;
    for sensitivity in &sensitivities {
        let mut config = DetectConfig {
            sensitivity: *sensitivity,
            ..DetectConfig::default()
        };
        config.p_value = p_value.unwrap_or(config.p_value);
        config.min_ratio = min_ratio.unwrap_or(config.min_ratio);
        if let Some(windows) = &windows {
            config.windows = windows.clone();
        }
        let real = evaluate_real(&config, &real_set);
        let rows: usize = real.scores.iter().map(|s| s.scored_rows).sum();
        let weeks = rows as f64 * BUCKET_MIN as f64 / (60.0 * 24.0 * 7.0);
        let alerts: usize = real.scores.iter().map(|s| s.alerts).sum();
        let inside: usize = real.scores.iter().map(|s| s.in_window).sum();
        let windows: usize = real.scores.iter().map(|s| s.windows).sum();
        let hit: usize = real.scores.iter().map(|s| s.hit).sum();
        let mut delays: Vec<f64> = real.scores.iter().flat_map(|s| s.delays_from_start.clone()).collect();
        let generated = if skip_generated {
            GeneratedFigures::default()
        } else {
            evaluate_generated(&config, series_count, seed, csv_dir.as_deref(), explain)
        };
        println!(
            "| {} | {:.1} | {hit}/{windows} | {:.2} | {:.2} | {:.2} | {:.1} h | {:.1}% | {:.2} | {} min |",
            sensitivity.as_str(),
            nab::normalised(&real.scores),
            alerts as f64 / weeks.max(1e-9),
            (alerts - inside) as f64 / weeks.max(1e-9),
            inside as f64 / alerts.max(1) as f64,
            median(&mut delays) / 60.0,
            100.0 * generated.found as f64 / generated.incidents.max(1) as f64,
            generated.false_alerts as f64 / generated.weeks.max(1.0),
            generated.delays.get(generated.delays.len() / 2).copied().unwrap_or(-1),
        );
        if per_file {
            for (series, score) in real_set.iter().zip(&real.scores) {
                println!(
                    "    {:<40} raw {:>7.3} windows {}/{} alerts {} (in windows {})",
                    series.name, score.raw, score.hit, score.windows, score.alerts, score.in_window
                );
            }
        }
        if let (Some(path), Sensitivity::Balanced) = (&alerts_json, sensitivity) {
            let text = serde_json::Value::Object(real.alerts).to_string();
            if let Err(e) = std::fs::write(path, text) {
                eprintln!("{path}: {e}");
            }
        }
        if *sensitivity == Sensitivity::Balanced {
            classes = Some(generated.by_class);
        }
    }
    if let Some(classes) = classes.filter(|c| !c.is_empty()) {
        println!("generated recall by shape and size (balanced):");
        for (class, (n, hit)) in classes {
            println!(
                "  {class}  {hit:>4}/{n:<4} {:.0}%",
                100.0 * hit as f64 / n.max(1) as f64
            );
        }
    }
}

/// `DETECT_TRACE=AAPL`: each day's largest surprise and threshold for one real series.
pub fn trace(config: &DetectConfig, set: &[nab::LabelledSeries], name: &str) {
    use complaint_monitor::detect::ScopeDetector;
    for series in set.iter().filter(|s| s.name.contains(name)) {
        let mut d = ScopeDetector::new(config);
        let mut day_max = (0.0f64, String::new(), 0u64, 0.0f64);
        for (i, (t, &v)) in series.times.iter().zip(&series.values).enumerate() {
            let e = d.observe(BucketCounts {
                start: config.bucket_start(t.and_utc()),
                negatives: v,
                total: None,
                negative_reach: 0,
            });
            if e.surprise > day_max.0 {
                day_max = (e.surprise, t.to_string(), v, e.window_expected);
            }
            if e.is_anomalous() {
                eprintln!(
                    "  fire {t} v {v} surprise {:.1} thr {:.1} w {} obs {} exp {:.1}",
                    e.surprise, e.threshold, e.window, e.window_observed, e.window_expected
                );
            }
            if i % 72 == 71 {
                eprintln!(
                    "day {} max {:.1} at {} (v {} exp {:.1}) threshold {:.1} days {}",
                    i / 72,
                    day_max.0,
                    day_max.1,
                    day_max.2,
                    day_max.3,
                    d.calibration().0,
                    d.calibration().1
                );
                day_max = (0.0, String::new(), 0, 0.0);
            }
        }
    }
}
