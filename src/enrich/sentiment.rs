//! Sentiment of a mention: VADER scores of its text, and the label the rest
//! of the product works with. The scorer sits behind this module so it can
//! change without touching the pipeline.

pub use crate::mention::scored::{Label, Sentiment, NEGATIVE_THRESHOLD, POSITIVE_THRESHOLD};

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
