//! The Numenta Anomaly Benchmark's scoring rules for binary alerts, ported
//! from `../shared/data/mention-volume/score.py` (which itself re-implements
//! NAB's SCORING.md), so that the evaluation prints the same figures the
//! scorer does. `real_set` cross-checks a run against `score.py` when it is
//! there.

use std::path::Path;

use chrono::NaiveDateTime;

/// The standard profile: a hit is worth 1, a miss costs 1, a false alert 0.11.
const FP_WEIGHT: f64 = 0.11;
const FN_WEIGHT: f64 = 1.0;
const PROBATION_FRACTION: f64 = 0.15;
const PROBATION_CAP_ROWS: f64 = 750.0;

pub struct LabelledSeries {
    /// The name in the labels file, e.g. `realTweets/Twitter_volume_AAPL.csv`.
    pub name: String,
    pub times: Vec<NaiveDateTime>,
    pub values: Vec<u64>,
    /// Inclusive row ranges of the labelled windows.
    pub windows: Vec<(usize, usize)>,
    pub labels: Vec<NaiveDateTime>,
}

fn parse_time(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S"))
        .ok()
}

/// Reads every labelled series under `dir` (a NAB-style folder with
/// `labels/combined_windows.json`).
pub fn load(dir: &Path) -> Result<Vec<LabelledSeries>, String> {
    let read_json = |name: &str| -> Result<serde_json::Value, String> {
        let path = dir.join("labels").join(name);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    };
    let windows = read_json("combined_windows.json")?;
    let labels = read_json("combined_labels.json").unwrap_or(serde_json::Value::Null);
    let mut out = Vec::new();
    let Some(files) = windows.as_object() else {
        return Err("combined_windows.json is not an object".into());
    };
    for (name, spans) in files {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut times = Vec::new();
        let mut values = Vec::new();
        for line in text.lines().skip(1) {
            let mut fields = line.split(',');
            let (Some(t), Some(v)) = (fields.next(), fields.next()) else {
                continue;
            };
            let (Some(t), Ok(v)) = (parse_time(t), v.trim().parse::<f64>()) else {
                continue;
            };
            times.push(t);
            values.push(v.max(0.0).round() as u64);
        }
        let row_of = |t: NaiveDateTime| times.iter().position(|&x| x == t);
        let mut rows = Vec::new();
        for span in spans.as_array().into_iter().flatten() {
            let a = span
                .get(0)
                .and_then(|v| v.as_str())
                .and_then(parse_time)
                .and_then(row_of);
            let b = span
                .get(1)
                .and_then(|v| v.as_str())
                .and_then(parse_time)
                .and_then(row_of);
            match (a, b) {
                (Some(a), Some(b)) => rows.push((a, b)),
                _ => return Err(format!("{name}: a window edge is not on the data grid")),
            }
        }
        rows.sort_unstable();
        let labels = labels
            .get(name)
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().and_then(parse_time))
            .collect();
        out.push(LabelledSeries {
            name: name.clone(),
            times,
            values,
            windows: rows,
            labels,
        });
    }
    Ok(out)
}

fn sigmoid(y: f64) -> f64 {
    if y > 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * y).exp()) - 1.0
    }
}

/// The score of one series' alerts, and what went into it.
#[derive(Debug, Default, Clone)]
pub struct FileScore {
    pub raw: f64,
    pub windows: usize,
    pub hit: usize,
    pub alerts: usize,
    pub in_window: usize,
    /// Minutes from each hit window's start, and from its label, to its first alert.
    pub delays_from_start: Vec<f64>,
    pub delays_from_label: Vec<f64>,
    /// Rows judged (after probation), for rates.
    pub scored_rows: usize,
}

/// Scores alert rows (indices into `series.times`).
pub fn score(series: &LabelledSeries, alert_rows: &[usize]) -> FileScore {
    let n = series.times.len();
    let probation = (PROBATION_FRACTION * n as f64).floor().min(PROBATION_CAP_ROWS) as usize;
    let mut alerts: Vec<usize> = alert_rows
        .iter()
        .copied()
        .filter(|&i| i < n && i >= probation)
        .collect();
    alerts.sort_unstable();
    alerts.dedup();
    let scored: Vec<(usize, usize)> = series
        .windows
        .iter()
        .copied()
        .filter(|&(_, b)| b >= probation)
        .collect();
    let tp_normaliser = sigmoid(-1.0);
    let mut best = vec![None::<f64>; scored.len()];
    let mut first = vec![None::<usize>; scored.len()];
    let mut result = FileScore {
        windows: scored.len(),
        alerts: alerts.len(),
        scored_rows: n.saturating_sub(probation),
        ..FileScore::default()
    };
    for &i in &alerts {
        let k = scored.iter().rposition(|&(a, _)| a <= i);
        match k.filter(|&k| i <= scored[k].1) {
            Some(k) => {
                let (a, b) = scored[k];
                let y = -((b - i + 1) as f64) / (b - a + 1) as f64;
                let credit = sigmoid(y) / tp_normaliser;
                best[k] = Some(best[k].map_or(credit, |c: f64| c.max(credit)));
                first[k].get_or_insert(i);
                result.in_window += 1;
            }
            None => {
                let previous = series.windows.iter().rev().find(|&&(_, b)| b < i);
                let unweighted = match previous {
                    None => -1.0,
                    Some(&(a, b)) => sigmoid((i - b) as f64 / (b - a) as f64),
                };
                result.raw += FP_WEIGHT * unweighted;
            }
        }
    }
    for (k, &(a, b)) in scored.iter().enumerate() {
        result.raw += best[k].unwrap_or(-FN_WEIGHT);
        if let Some(i) = first[k] {
            result.hit += 1;
            result
                .delays_from_start
                .push((series.times[i] - series.times[a]).num_seconds() as f64 / 60.0);
            let label = series
                .labels
                .iter()
                .filter(|&&t| series.times[a] <= t && t <= series.times[b])
                .min();
            if let Some(&label) = label {
                result
                    .delays_from_label
                    .push((series.times[i] - label).num_seconds() as f64 / 60.0);
            }
        }
    }
    result
}

/// The normalised score over several files: 0 for no alerts, 100 for one
/// alert at the start of every window.
pub fn normalised(scores: &[FileScore]) -> f64 {
    let raw: f64 = scores.iter().map(|s| s.raw).sum();
    let windows: usize = scores.iter().map(|s| s.windows).sum();
    let null = -FN_WEIGHT * windows as f64;
    let perfect = windows as f64;
    if perfect == null {
        return f64::NAN;
    }
    100.0 * (raw - null) / (perfect - null)
}
