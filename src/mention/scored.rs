//! A mention as enrichment leaves it: its sentiment, label and reach. These
//! are data types only, so that the store and the readers above it depend on
//! them and not on the enrichment code that computes them.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Mention;

/// A mention with everything the later stages need.
#[derive(Debug, Clone)]
pub struct ScoredMention {
    pub mention: Mention,
    /// Names of the brands it is about, in configuration order.
    pub brands: Vec<Arc<str>>,
    /// Scores of the text alone.
    pub sentiment: Sentiment,
    /// The label used everywhere else: the text's, unless a star rating decides.
    pub label: Label,
    pub reach: Reach,
    /// The text is in a language the scorer does not read (`mention.lang`)
    /// and it found nothing: the neutral label is no answer, and the mention
    /// is counted as "not scored", not as neutral
    /// (`enrich::sentiment::unread_language`).
    pub not_scored: bool,
}

/// Compound score at or below which a text is negative (VADER's published threshold).
pub const NEGATIVE_THRESHOLD: f64 = -0.05;
/// Compound score at or above which a text is positive.
pub const POSITIVE_THRESHOLD: f64 = 0.05;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Negative,
    Neutral,
    Positive,
}

impl Label {
    pub const ALL: [Label; 3] = [Label::Negative, Label::Neutral, Label::Positive];

    pub fn as_str(self) -> &'static str {
        match self {
            Label::Negative => "negative",
            Label::Neutral => "neutral",
            Label::Positive => "positive",
        }
    }

    /// The label of a text by its compound score alone.
    pub fn from_compound(compound: f64) -> Label {
        if compound <= NEGATIVE_THRESHOLD {
            Label::Negative
        } else if compound >= POSITIVE_THRESHOLD {
            Label::Positive
        } else {
            Label::Neutral
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Label {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "negative" => Ok(Label::Negative),
            "neutral" => Ok(Label::Neutral),
            "positive" => Ok(Label::Positive),
            _ => Err(format!("unknown label {s:?}: expected negative, neutral or positive")),
        }
    }
}

/// VADER scores of a text and the label they give.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sentiment {
    pub compound: f64,
    pub pos: f64,
    pub neu: f64,
    pub neg: f64,
    pub label: Label,
}

/// Largest reach stored: more than everyone online, and far below `i64::MAX`,
/// so sums over many mentions cannot overflow either.
pub const MAX_REACH: u64 = 1 << 40;

/// A reach estimate and the inputs it was computed from (stored with the
/// mention, so a figure can always be explained).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reach {
    pub people: u64,
    pub inputs: ReachInputs,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum ReachInputs {
    /// `audience + reposts × reposter_audience + (likes + replies) × engagement_reach`,
    /// or the view count when the network reports a larger one.
    Social {
        audience: f64,
        audience_known: bool,
        reposts: u64,
        reposter_audience: f64,
        engagements: u64,
        engagement_reach: f64,
        views: Option<u64>,
    },
    /// `readership × (1 + helpful_votes × helpful_vote_factor)`.
    Review {
        site: String,
        readership: f64,
        helpful_votes: u64,
        helpful_vote_factor: f64,
    },
}
