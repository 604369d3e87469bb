//! Incidents: one per scope at a time. Anomalous buckets open one or update
//! the open one; it resolves once counts have stayed near the baseline for
//! `resolve_after`. This is pure state, shared by the live alert service
//! (which persists it) and `backtest` (which prints it).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{BucketEval, DetectConfig, Trigger};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    /// Reach dominates: a small spike seen by two million people outranks a
    /// large one seen by five hundred.
    pub fn of(excess: f64, expected: f64, reach: u64, config: &DetectConfig) -> Severity {
        let ratio = (excess + expected) / expected.max(0.5);
        let big = excess >= config.critical_excess && ratio >= config.critical_ratio;
        if reach >= config.critical_reach || (big && reach >= config.critical_min_reach) {
            Severity::Critical
        } else {
            Severity::Warning
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "warning" => Ok(Severity::Warning),
            "critical" => Ok(Severity::Critical),
            _ => Err(format!("unknown severity {s:?}: expected warning or critical")),
        }
    }
}

/// The numbers of an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IncidentFigures {
    /// Start of the first anomalous bucket.
    pub started_at: DateTime<Utc>,
    /// Start of the bucket whose window was furthest above expected.
    pub peak_at: DateTime<Utc>,
    /// Start of the last anomalous bucket.
    pub last_anomalous_at: DateTime<Utc>,
    /// Negative mentions in the anomalous buckets, and their expectation.
    pub observed: u64,
    pub expected: f64,
    /// Observed and expected in the peak window.
    pub peak_observed: u64,
    pub peak_expected: f64,
    /// Negative share in the peak window, where known.
    pub negative_share: Option<f64>,
    pub usual_share: f64,
    /// Summed reach of the negative mentions in the anomalous buckets.
    pub reach: u64,
    pub severity: Severity,
    pub trigger: Trigger,
}

impl IncidentFigures {
    pub fn excess(&self) -> f64 {
        self.observed as f64 - self.expected
    }
}

/// What one bucket did to the scope's incident.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    Opened(IncidentFigures),
    /// Updated without a change of severity.
    Updated(IncidentFigures),
    /// Severity rose.
    Escalated(IncidentFigures),
    Resolved {
        figures: IncidentFigures,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone)]
pub struct IncidentTracker {
    config: DetectConfig,
    open: Option<IncidentFigures>,
    /// How long counts have been near the baseline, while an incident is open.
    quiet: Duration,
    /// The bucket still filling whose partial counts opened the open
    /// incident: when it closes, its full counts replace the partial ones.
    provisional: Option<DateTime<Utc>>,
}

impl IncidentTracker {
    pub fn new(config: &DetectConfig) -> Self {
        IncidentTracker {
            config: config.clone(),
            open: None,
            quiet: Duration::zero(),
            provisional: None,
        }
    }

    /// Restores a tracker with an incident already open (after a restart).
    pub fn resume(config: &DetectConfig, open: IncidentFigures) -> Self {
        IncidentTracker {
            open: Some(open),
            ..IncidentTracker::new(config)
        }
    }

    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    pub fn open_incident(&self) -> Option<&IncidentFigures> {
        self.open.as_ref()
    }

    /// Closes the open incident by hand (staff resolved it).
    pub fn close(&mut self) {
        self.open = None;
        self.quiet = Duration::zero();
        self.provisional = None;
    }

    /// Opens an incident from a bucket still filling, as soon as its
    /// partial counts are anomalous. Only opens: figures grow when buckets
    /// close, so late mentions and repeated looks never count twice, and a
    /// scope with an incident open gets no second one.
    pub fn observe_partial(&mut self, eval: &BucketEval) -> Option<Transition> {
        if self.open.is_some() || eval.trigger.is_none() {
            return None;
        }
        let opened = self.observe(eval);
        self.provisional = Some(eval.counts.start);
        opened
    }

    pub fn observe(&mut self, eval: &BucketEval) -> Option<Transition> {
        let bucket = self.config.bucket.0;
        let start = eval.counts.start;
        if let Some(trigger) = eval.trigger {
            self.quiet = Duration::zero();
            let window_excess = eval.window_observed as f64 - eval.window_expected;
            match &mut self.open {
                None => {
                    let reach = eval.counts.negative_reach;
                    let excess = eval.counts.negatives as f64 - eval.expected;
                    let figures = IncidentFigures {
                        started_at: start,
                        peak_at: start,
                        last_anomalous_at: start,
                        observed: eval.counts.negatives,
                        expected: eval.expected,
                        peak_observed: eval.window_observed,
                        peak_expected: eval.window_expected,
                        negative_share: eval.negative_share,
                        usual_share: eval.usual_share,
                        reach,
                        severity: Severity::of(excess.max(window_excess), eval.expected, reach, &self.config),
                        trigger,
                    };
                    self.open = Some(figures.clone());
                    Some(Transition::Opened(figures))
                }
                Some(f) => {
                    if self.provisional.take() == Some(start) {
                        // The bucket that opened it early has closed: its
                        // full counts replace the partial ones.
                        f.observed = 0;
                        f.expected = 0.0;
                        f.reach = 0;
                    }
                    f.last_anomalous_at = start;
                    f.observed += eval.counts.negatives;
                    f.expected += eval.expected;
                    f.reach = f.reach.saturating_add(eval.counts.negative_reach);
                    if window_excess > f.peak_observed as f64 - f.peak_expected {
                        f.peak_at = start;
                        f.peak_observed = eval.window_observed;
                        f.peak_expected = eval.window_expected;
                        f.negative_share = eval.negative_share;
                    }
                    let severity = Severity::of(f.excess(), f.expected, f.reach, &self.config);
                    if severity > f.severity {
                        f.severity = severity;
                        Some(Transition::Escalated(f.clone()))
                    } else {
                        Some(Transition::Updated(f.clone()))
                    }
                }
            }
        } else {
            let figures = self.open.as_mut()?;
            if self.provisional.take() == Some(start) {
                // Opened early, but the closed bucket is not anomalous after
                // all: keep the incident (it was notified) with the full
                // counts, and let it resolve as any other.
                figures.observed = eval.counts.negatives;
                figures.expected = eval.expected;
                figures.reach = eval.counts.negative_reach;
            }
            let figures = &*figures;
            let near_baseline = eval.counts.negatives as f64 <= 1.5 * eval.expected + 1.0;
            self.quiet = if near_baseline {
                self.quiet + bucket
            } else {
                Duration::zero()
            };
            if self.quiet >= self.config.resolve_after.0 {
                let figures = figures.clone();
                self.close();
                return Some(Transition::Resolved {
                    figures,
                    at: start + bucket,
                });
            }
            None
        }
    }
}
