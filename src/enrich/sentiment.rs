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

/// The language of a text the scorer cannot read, when that is why it
/// scored nothing: VADER reads English (and emoji), so a German complaint
/// with no English sentiment word comes out neutral, which is no answer at
/// all. Only a neutral text without a deciding star rating is in question
/// (stars read the same in every language; a text VADER found words in is
/// read, whatever else it holds). The language is the source's when it gives
/// one, else detected (`whatlang`, only when it is sure), as ISO 639-1 where
/// there is such a code.
pub fn unread_language(text: &Sentiment, rating: Option<u8>, source_lang: Option<&str>, words: &str) -> Option<String> {
    if text.label != Label::Neutral || matches!(rating, Some(1 | 2 | 4 | 5)) {
        return None;
    }
    let lang = match source_lang {
        Some(tag) => {
            let primary = tag.split(['-', '_']).next().unwrap_or("").trim().to_ascii_lowercase();
            if primary.is_empty() || primary == "und" || primary == "mul" {
                detect(words)?
            } else {
                primary
            }
        }
        None => detect(words)?,
    };
    (lang != "en" && lang != "eng").then_some(lang)
}

/// The language whatlang is sure of, as ISO 639-1 where one exists.
fn detect(words: &str) -> Option<String> {
    let info = whatlang::detect(words).filter(|i| i.is_reliable())?;
    let code = info.lang().code();
    Some(
        isolang::Language::from_639_3(code)
            .and_then(|l| l.to_639_1())
            .map_or_else(|| code.to_string(), str::to_string),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_neutral_text_in_another_language_is_not_scored() {
        let german = "ich hasse Acme Air, schrecklicher Service, nie wieder";
        let scored = score(german);
        assert_eq!(scored.label, Label::Neutral, "VADER reads no German");
        assert_eq!(unread_language(&scored, None, None, german).as_deref(), Some("de"));
        assert_eq!(
            unread_language(&scored, None, Some("pt-BR"), german).as_deref(),
            Some("pt")
        );
        // Stars decide whatever the language; a source saying English is believed.
        assert_eq!(unread_language(&scored, Some(1), None, german), None);
        assert_eq!(unread_language(&scored, None, Some("en"), german), None);
        let english = "The flight to Berlin leaves at nine from gate twelve today";
        assert_eq!(unread_language(&score(english), None, None, english), None);
        // Read when VADER found words, whatever the language around them.
        let mixed = "Acme Air est terrible";
        assert_eq!(unread_language(&score(mixed), None, Some("fr"), mixed), None);
    }

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
