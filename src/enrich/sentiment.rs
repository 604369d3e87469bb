//! Sentiment of a mention: VADER scores of its text, and the label the rest
//! of the product works with. The scorer sits behind this module so it can
//! change without touching the pipeline.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

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

/// Scores a text.
pub fn score(text: &str) -> Sentiment {
    let s = vader_sentiment::polarity_scores(text);
    Sentiment {
        compound: s.compound,
        pos: s.pos,
        neu: s.neu,
        neg: s.neg,
        label: Label::from_compound(s.compound),
    }
}

/// The label a mention gets: a review's star rating outranks its text (1–2★
/// negative, 4–5★ positive); 3★ and unrated mentions go by the text.
pub fn mention_label(text: &Sentiment, rating: Option<u8>) -> Label {
    match rating {
        Some(1 | 2) => Label::Negative,
        Some(4 | 5) => Label::Positive,
        _ => text.label,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_vader_thresholds() {
        assert_eq!(score("This is terrible").label, Label::Negative);
        assert_eq!(score("This is great").label, Label::Positive);
        assert_eq!(score("The flight leaves at 9").label, Label::Neutral);
        assert_eq!(Label::from_compound(-0.05), Label::Negative);
        assert_eq!(Label::from_compound(0.05), Label::Positive);
        assert_eq!(Label::from_compound(0.0499), Label::Neutral);
    }

    #[test]
    fn star_ratings_outrank_the_text() {
        let glowing = score("Absolutely love it, best app ever!");
        let furious = score("Worst app ever, horrible, crashes all the time");
        assert_eq!(mention_label(&glowing, Some(1)), Label::Negative);
        assert_eq!(mention_label(&glowing, Some(2)), Label::Negative);
        assert_eq!(mention_label(&furious, Some(4)), Label::Positive);
        assert_eq!(mention_label(&furious, Some(5)), Label::Positive);
        assert_eq!(mention_label(&furious, Some(3)), Label::Negative);
        assert_eq!(mention_label(&glowing, Some(3)), Label::Positive);
        assert_eq!(mention_label(&glowing, None), Label::Positive);
    }
}
